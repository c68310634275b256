"""Tests of Keras's other activation functions, in nnlab.keras_activations and found
by nnlab.activations.get."""

import numpy as np
import pytest

import nnlab as nl
from nnlab import activations as A
from tests.helpers import numeric_grad, rel_error

# -- Keras's other functions (nnlab.keras_activations), found by get --------------------------

KERAS_TORCH = {"hard_tanh": "hardtanh", "log_sigmoid": "logsigmoid", "celu": "celu",
               "tanh_shrink": "tanhshrink", "soft_shrink": "softshrink",
               "hard_shrink": "hardshrink", "log_softmax": "log_softmax"}
KERAS_KINKS = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])


def test_keras_names_are_found_but_kept_out_of_the_chapters_names():
    assert set(A.KERAS_NAMES) == {*KERAS_TORCH, "squareplus", "sparse_plus", "sparse_sigmoid",
                                  "sparsemax"}
    assert not set(A.KERAS_NAMES) & set(A.NAMES)
    for name in A.KERAS_NAMES:
        assert A.get(name).name == name
    assert A.get("LogSoftmax").name == "log_softmax" and A.get("HardTanh").name == "hard_tanh"


def test_keras_functions_and_their_kinks_against_torch():
    torch = pytest.importorskip("torch")
    x = np.concatenate([KERAS_KINKS, KERAS_KINKS - 1e-9, KERAS_KINKS + 1e-9,
                        np.linspace(-8, 8, 33) + 0.1, [-1e4, -800.0, -40.0, 40.0, 800.0, 1e4]])
    dy = np.random.default_rng(0).normal(size=x.shape)
    for name, torch_name in KERAS_TORCH.items():
        t = torch.tensor(x, requires_grad=True)
        fn = getattr(torch.nn.functional, torch_name)
        out = fn(t, dim=-1) if name == "log_softmax" else fn(t)
        out.backward(torch.tensor(dy))
        f = A.get(name)
        np.testing.assert_allclose(f(x), out.detach().numpy(), rtol=1e-12, atol=1e-300,
                                   err_msg=name)
        # (tanh_shrink's slope tanh^2 at 1e-9 is 1e-18; PyTorch's 1 - (1 - tanh^2) gives 0)
        np.testing.assert_allclose(f.backward(x, f(x), dy), t.grad.numpy(), rtol=1e-10,
                                   atol=1e-15, err_msg=name)


def test_celu_with_another_alpha_against_torch_and_by_name():
    torch = pytest.importorskip("torch")
    x = np.linspace(-6, 3, 37) + 0.05
    t = torch.tensor(x, requires_grad=True)
    out = torch.nn.functional.celu(t, alpha=2.5)
    out.sum().backward()
    layer = nl.Activation("celu", alpha=2.5)
    np.testing.assert_allclose(layer.forward(x[None])[0], out.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.fn.derivative(x), t.grad.numpy(), rtol=1e-12)


def test_elu_with_another_alpha_by_its_formula_and_by_name():
    # The definition written out: a numerical gradient would also pass an alpha ignored in
    # both the value and the slope.
    x = np.linspace(-6, 3, 37) + 0.05
    value = np.where(x > 0, x, 0.5 * np.expm1(x))
    slope = np.where(x > 0, 1.0, 0.5 * np.exp(x))
    layer = nl.Activation("elu", alpha=0.5)
    np.testing.assert_allclose(layer.forward(x[None])[0], value, rtol=1e-15)
    np.testing.assert_allclose(layer.backward(np.ones((1, x.size)))[0], slope, rtol=1e-15)
    np.testing.assert_allclose(A.ELU(0.5).derivative(x), slope, rtol=1e-15)


def test_squareplus_and_sparse_plus_by_their_formulas():
    x = np.array([-1e4, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 1e4])
    sq = A.get("squareplus")
    # far below 0 the textbook form cancels; b / (2 (s - x)) is the same number, exactly
    np.testing.assert_allclose(sq(x), np.where(x < 0, 4 / (2 * (np.sqrt(x * x + 4) - x)),
                                                (x + np.sqrt(x * x + 4)) / 2), rtol=1e-15)
    s = np.sqrt(x * x + 4)   # the slope (1 + x / s) / 2, and (s + x) / (2 s) rewritten:
    np.testing.assert_allclose(sq.derivative(x), np.where(x < 0, 4 / (2 * s * (s - x)),
                                                           (1 + x / s) / 2), rtol=1e-12)
    assert sq(np.float32(-1e4)) == pytest.approx(1e-4, rel=1e-6)   # not 0: no cancellation
    sp = A.get("sparse_plus")
    np.testing.assert_array_equal(sp(x), np.where(x <= -1, 0, np.where(x >= 1, x,
                                                                        (x + 1) ** 2 / 4)))
    np.testing.assert_array_equal(sp.derivative(x), np.clip((x + 1) / 2, 0, 1))


@pytest.mark.parametrize("name", A.KERAS_NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_keras_functions_are_quiet_at_extremes_and_keep_the_dtype(name, dtype):
    f = A.get(name)
    x = np.concatenate([[-1e4], np.linspace(-800, 800, 1601), [1e4]]).astype(dtype)[None]
    with np.errstate(all="raise"):
        y, d = f(x), f.derivative(x)
        b = f.backward(x, y, np.ones_like(x))
    assert y.dtype == d.dtype == b.dtype == dtype
    assert np.isfinite(y).all() and np.isfinite(d).all() and np.isfinite(b).all()


@pytest.mark.parametrize("name", A.KERAS_NAMES)
def test_keras_functions_backward_matches_numerical_gradient(name):
    f = A.get(name)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 5)) * 2
    x = np.where(np.min(np.abs(x[..., None] - KERAS_KINKS), axis=-1) < 1e-3, x + 0.1, x)
    dy = rng.normal(size=x.shape)
    numeric = numeric_grad(lambda: float(np.sum(f(x) * dy)), x)
    assert rel_error(f.backward(x, f(x), dy), numeric) < 1e-6


@pytest.mark.parametrize("name", A.KERAS_NAMES)
def test_a_model_with_a_keras_activation_is_saved_and_loaded(name, tmp_path):
    model = nl.Sequential([nl.Dense(3, 4, rng=0), nl.Activation(name), nl.Dense(4, 2, rng=1)])
    loaded = nl.load_model(model.save(tmp_path / "m"))
    x = np.random.default_rng(0).normal(size=(5, 3)) * 4
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


@pytest.mark.parametrize("make, match", [
    (lambda: nl.Activation("celu", alpha=0.0), "celu alpha"),
    (lambda: nl.Activation("soft_shrink", threshold=-0.5), "soft_shrink threshold"),
    (lambda: nl.Activation("hard_shrink", threshold=float("nan")), "hard_shrink threshold"),
    (lambda: nl.Activation("squareplus", b=0.0), "squareplus b"),
    (lambda: nl.Activation("hard_tanh", alpha=1.0), "takes no parameters; got alpha"),
])
def test_keras_functions_check_their_parameters(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("name", A.KERAS_NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_keras_functions_are_quiet_to_the_ends_of_the_dtype(name, dtype):
    # Beyond +-1e4: the largest numbers, 1e19 and 1e30, and tiny ones (tanh_shrink's
    # slope tanh(x)^2 underflows there, squareplus' value far below 0, celu's x / alpha).
    big = np.finfo(dtype).max
    x = np.array([[-big, -1e30, -1e19, -1e-30, 0.0, 1e-30, 1e19, 1e30, big]], dtype)
    f = A.get(name) if name != "celu" else A.get(name).__class__(alpha=0.3)
    if name in ("log_softmax", "sparsemax"):   # one value a row: a row from -max to max
        x = x.T                                  # spans more than max
    with np.errstate(all="raise"):
        y, d = f(x), f.derivative(x)
    assert np.isfinite(y).all() and np.isfinite(d).all() and y.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_plus_is_exactly_x_above_one(dtype):
    x = (2.0 ** np.finfo(dtype).nmant + np.arange(2, 200, 2)).astype(dtype)
    np.testing.assert_array_equal(A.get("sparse_plus")(x), x)


def test_sparsemax_projects_onto_the_simplex_as_the_paper_defines():
    f = A.get("sparsemax")
    # keras-team/keras#23425 and #23469: Keras 3.15 gives [0, 0, 0.25] and zeros here
    np.testing.assert_allclose(f(np.array([0.0, 0.5, 1.0])), [0, 0.25, 0.75])
    np.testing.assert_allclose(f(np.array([0.1, 0.2, 0.3, 0.4, 0.5])), [0, 0.1, 0.2, 0.3, 0.4],
                               atol=1e-15)
    np.testing.assert_array_equal(f(np.array([[3.0, 1.0, -2.0], [2.0, 2.0, 2.0]])),
                                  [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]])
    x = np.random.default_rng(0).normal(size=(200, 6)) * np.array([[0.1], [1.0], [10.0]]
                                                                  ).repeat(67, 0)[:200]
    y = f(x)
    np.testing.assert_allclose(y.sum(axis=1), 1, rtol=1e-12)
    assert (y >= 0).all()
    # the closest point of the simplex: no other distribution is nearer (random ones)
    others = np.random.default_rng(1).dirichlet(np.ones(6), size=(200, 50))
    assert (np.sum((x - y) ** 2, axis=1) <= np.min(np.sum((x[:, None] - others) ** 2,
                                                          axis=2), axis=1) + 1e-12).all()
    # two classes: the first probability is the sparse sigmoid of the difference
    z = np.random.default_rng(2).normal(size=(50, 2)) * 2
    np.testing.assert_allclose(f(z)[:, 0], A.get("sparse_sigmoid")(z[:, 0] - z[:, 1]),
                               atol=1e-15)
    assert f(np.ones((2, 3), np.float32)).dtype == np.float32


@pytest.mark.parametrize("x", [np.float64(1.0), np.array(2.0), np.float32(-1e4), 3])
def test_sparsemax_takes_a_single_number_as_one_class_as_softmax_does(x):
    # It raised NumPy's AxisError: sort and take_along_axis need the axis of the classes.
    f, y = A.get("sparsemax"), A.get("sparsemax")(x)
    assert np.shape(y) == () and y == A.softmax(x) == 1
    assert y.dtype == A.softmax(x).dtype
    assert f.derivative(x) == 0 and f.backward(np.asarray(x), y, np.ones_like(y)) == 0
