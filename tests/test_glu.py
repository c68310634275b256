"""Tests of the gated linear unit (nnlab.gated_activations.glu, Keras's "glu"): its values and
slopes against PyTorch and Keras and, far from 0, against the exact formula, numerical
gradients, its extremes, and in the Activation layer, which takes its output shape (the last
axis halved) from the function."""

import math
import re
import warnings

import numpy as np
import pytest

import nnlab as nl
from nnlab import activations as A
from nnlab.gated_activations import GLU, glu
from tests.helpers import numeric_grad, rel_error


def test_get_finds_glu_by_keras_s_names_but_keeps_it_out_of_keras_names():
    assert A.get("glu") is A.get("GLU") is glu and isinstance(glu, A.ActivationFunction)
    assert "glu" not in A.KERAS_NAMES and "glu" not in A.NAMES   # they keep their shape
    assert nl.Activation("glu").fn is glu and nl.Activation("glu").get_config() == {"name": "glu"}
    assert GLU().get_config() == {}


def test_glu_gates_the_first_half_with_the_sigmoid_of_the_second():
    x = np.array([[1.0, -2.0, 0.0, 3.0], [4.0, 5.0, -1e4, 1e4]])
    np.testing.assert_allclose(glu(x), [[0.5, -2 / (1 + np.exp(-3.0))], [0.0, 5.0]],
                               rtol=1e-15)
    assert glu(np.ones((2, 3, 8))).shape == (2, 3, 4) and glu(np.ones(6)).shape == (3,)
    assert glu(np.ones((5, 0))).shape == (5, 0)
    assert glu.output_shape((7, 10)) == (7, 5) and glu.output_shape([4]) == (2,)


def test_glu_against_torch_value_and_gradient():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, dy = rng.normal(size=(4, 4, 6)) * 4, rng.normal(size=(4, 4, 3))
    t = torch.tensor(x, requires_grad=True)
    out = torch.nn.functional.glu(t, dim=-1)
    out.backward(torch.tensor(dy))
    np.testing.assert_allclose(glu(x), out.detach().numpy(), rtol=1e-14)
    # torch's slope sigma(b) (1 - sigma(b)) loses digits as b grows: 1e-13 of itself here,
    # where b < 9, 4e-8 at b = 20, all of them from b = 37 on (measured). The test below
    # checks nnlab's where they are lost.
    np.testing.assert_allclose(glu.backward(x, glu(x), dy), t.grad.numpy(), rtol=1e-11)


def test_glu_s_slope_is_exact_far_from_0():
    # d(a sigma(b))/db = a sigma(b) sigma(-b) = a e^-|b| / (1 + e^-|b|)^2, here in Python
    # floats. With 1 - sigma(b) for sigma(-b), it would be 0 at b = 40 (sigma(40) rounds to
    # 1) and 4e-8 of itself off at b = 20: no absolute tolerance, which would hide both.
    b = np.array([-700.0, -100.0, -40.0, -20.0, -3.0, 3.0, 20.0, 40.0, 100.0, 700.0])
    x = np.stack([np.full_like(b, 1.5), b], axis=-1)     # a = 1.5
    exact = [1.5 * math.exp(-abs(v)) / (1 + math.exp(-abs(v))) ** 2 for v in b]
    np.testing.assert_allclose(glu.derivative(x)[:, 1], exact, rtol=1e-14, atol=0)
    np.testing.assert_allclose(glu.backward(x, glu(x), np.full((len(b), 1), 2.0))[:, 1],
                               2 * np.array(exact), rtol=1e-14, atol=0)
    np.testing.assert_allclose(glu(x)[:, 0], [1.5 / (1 + math.exp(-v)) for v in b],
                               rtol=1e-15, atol=0)


def test_glu_against_keras():
    keras = pytest.importorskip("keras")
    x = np.random.default_rng(1).normal(size=(5, 8)) * 3
    theirs = keras.ops.convert_to_numpy(keras.activations.get("glu")(x))
    assert theirs.dtype == np.float64
    np.testing.assert_allclose(glu(x), theirs, rtol=1e-14)


def test_glu_backward_and_derivative_match_numerical_gradients():
    rng = np.random.default_rng(2)
    x, dy = rng.normal(size=(4, 10)) * 2, rng.normal(size=(4, 5))
    numeric = numeric_grad(lambda: float(np.sum(glu(x) * dy)), x)
    assert rel_error(glu.backward(x, glu(x), dy), numeric) < 1e-6
    # derivative: each output's slopes by its own a and b, in x's shape (dy of ones)
    ones = numeric_grad(lambda: float(np.sum(glu(x))), x)
    assert rel_error(glu.derivative(x), ones) < 1e-6


def test_glu_inside_a_model_passes_the_gradient_check():
    # Dense(3, 8) -> glu -> Dense(4, 2): the gradient of every weight through the gate.
    model = nl.Sequential([nl.Dense(3, 8, rng=0), nl.Activation("glu"), nl.Dense(4, 2, rng=1)])
    x = np.random.default_rng(3).normal(size=(6, 3))
    assert nl.gradcheck.check(model, x) < 1e-6
    assert nl.gradcheck.check(nl.Sequential([nl.Activation("glu")]), x @ np.ones((3, 6))) < 1e-6


def test_a_model_with_glu_trains():
    X, y = nl.datasets.moons(80, noise=0.1, seed=0)
    model = nl.Sequential([nl.Dense(2, 16, rng=0), nl.Activation("glu"), nl.Dense(8, 1, rng=1),
                           nl.Activation("sigmoid")])
    model.compile("binary_crossentropy", nl.optimizers.Adam(0.05), metrics=["accuracy"])
    history = model.fit(X, y, epochs=30, batch_size=16, seed=0).history
    assert history["loss"][-1] < 0.5 * history["loss"][0] and history["accuracy"][-1] > 0.85
    assert model.predict(X[:3]).shape == (3, 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_glu_keeps_the_dtype_and_is_quiet_at_extremes(dtype):
    big = np.finfo(dtype).max
    values = np.array([-big, -1e30, -1e4, -800.0, -1e-30, 0.0, 1e-30, 800.0, 1e4, 1e30, big])
    x = np.stack(np.meshgrid(values, values), axis=-1).reshape(-1, 2).astype(dtype)
    dy = np.where(x[:, :1] > 0, 0.3, -0.7).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            y, d, b = glu(x), glu.derivative(x), glu.backward(x, glu(x), dy)
    for arr, shape in ((y, (len(x), 1)), (d, x.shape), (b, x.shape)):
        assert arr.dtype == dtype and arr.shape == shape and np.all(np.isfinite(arr))
    # the gate shut far below 0, open far above: 0 and a exactly
    assert glu(np.array([[3.0, -1e4], [3.0, 1e4]], dtype)).ravel().tolist() == [0.0, 3.0]
    assert glu(np.array([1, 0])).dtype == np.float64   # integers become float64


@pytest.mark.parametrize("x, got", [(np.ones((2, 5)), "a last axis of 5 (shape (2, 5))"),
                                    (np.float64(2.0), "a single number (shape ())")])
def test_glu_refuses_a_last_axis_of_odd_length(x, got):
    for call in (glu, glu.derivative):
        with pytest.raises(ValueError, match=rf"glu splits the last axis into two halves.*"
                                             rf"even length; got {re.escape(got)}"):
            call(x)
    with pytest.raises(ValueError, match="even length"):
        nl.Activation("glu").forward(np.ones((3, 7)))
    with pytest.raises(ValueError, match="takes no parameters"):
        nl.Activation("glu", axis=-1)


def test_glu_refuses_what_other_activations_refuse():
    for bad in (None, ["1", "2"], np.array([1 + 1j, 2.0])):
        with pytest.raises(ValueError, match="real numbers"):
            glu(bad)
    with pytest.raises(ValueError, match="float32 or float64"):
        glu(np.ones(4, np.float16))


def test_the_activation_layer_knows_glu_s_output_shape(tmp_path):
    # Activation.output_shape returned the input's shape: backward refused a dy of (5, 3).
    x = np.random.default_rng(4).normal(size=(5, 6))
    layer = nl.Activation("glu")
    layer.forward(x)
    assert layer.backward(np.ones((5, 3))).shape == x.shape
    assert nl.gradcheck.check(nl.Activation("glu"), x) < 1e-6
    model = nl.Sequential([nl.Dense(3, 8, rng=0), nl.Activation("glu"), nl.Dense(4, 2, rng=1)])
    assert "(None, 4)" in nl.summary.summary_table(model.layers)
    outputs = model.predict(x[:, :3])   # the input shape it ran on: a file checks it on load
    np.testing.assert_array_equal(nl.load_model(model.save(tmp_path / "glu")).predict(x[:, :3]),
                                  outputs)
