"""Dense and Activation layers: closed forms, gradient checks, shape errors, dtypes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nnlab as nl
from nnlab.gradcheck import check
from nnlab.layers import Activation, Dense, Layer
from tests.helpers import away_from_kinks


def test_dense_forward_and_backward_closed_form():
    layer = Dense(3, 2, rng=0)
    W, b = layer.params["W"], layer.params["b"]
    b[...] = [0.5, -1.0]
    x = np.arange(12.0).reshape(4, 3)
    np.testing.assert_allclose(layer.forward(x), x @ W + b)
    dy = np.arange(8.0).reshape(4, 2)
    dx = layer.backward(dy)
    np.testing.assert_allclose(layer.grads["W"], x.T @ dy)
    np.testing.assert_allclose(layer.grads["b"], dy.sum(axis=0))
    np.testing.assert_allclose(dx, dy @ W.T)


def test_dense_hand_computed_numbers():
    layer = Dense(2, 1, init="zeros")
    layer.params["W"][...] = [[2.0], [3.0]]
    layer.params["b"][...] = [1.0]
    assert layer.forward(np.array([[1.0, 1.0], [0.0, 2.0]])).tolist() == [[6.0], [7.0]]
    layer.backward(np.array([[1.0], [-1.0]]))
    assert layer.grads["W"].tolist() == [[1.0], [-1.0]]
    assert layer.grads["b"].tolist() == [0.0]


@settings(max_examples=30, deadline=None)
@given(batch=st.integers(1, 5), n_in=st.integers(1, 5), n_out=st.integers(1, 4),
       seed=st.integers(0, 2**16))
def test_dense_gradcheck_over_shapes(batch, n_in, n_out, seed):
    rng = np.random.default_rng(seed)
    layer = Dense(n_in, n_out, rng=rng)
    layer.params["b"][...] = rng.normal(size=n_out)
    x = rng.normal(size=(batch, n_in))
    assert check(layer, x, seed=seed) < 1e-6
    assert layer.forward(x).shape == (batch, n_out)
    assert layer.output_shape((n_in,)) == (n_out,)


@pytest.mark.parametrize("name", nl.activations.NAMES)
def test_activation_gradcheck_every_name(name):
    x = away_from_kinks(np.random.default_rng(1).normal(size=(4, 5)) * 2)
    assert check(Activation(name), x) < 1e-6


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softmax", "relu"])
def test_dense_activation_stack_gradcheck(name):
    model = nl.Sequential([Dense(3, 4, rng=0), Activation(name), Dense(4, 2, rng=1)])
    x = np.random.default_rng(2).normal(size=(5, 3))
    assert check(model, x) < 1e-6


def test_activation_layer_matches_function_and_keeps_shape():
    x = np.linspace(-3, 3, 12).reshape(2, 2, 3)
    layer = Activation("tanh")
    np.testing.assert_allclose(layer.forward(x), np.tanh(x))
    np.testing.assert_allclose(layer.backward(np.ones_like(x)), 1 - np.tanh(x) ** 2)
    assert layer.output_shape((2, 3)) == (2, 3)
    assert layer.params == {}


def test_softmax_layer_rows_sum_to_one():
    y = Activation("softmax").forward(np.array([[1.0, 2.0, 3.0], [1e4, 0.0, -1e4]]))
    np.testing.assert_allclose(y.sum(axis=1), 1.0)


@pytest.mark.parametrize("bad_shape, fragment", [
    ((4, 5), "got shape (4, 5)"),
    ((3,), "got shape (3,)"),
    ((2, 3, 1), "got shape (2, 3, 1)"),
])
def test_dense_shape_error_names_layer_expected_and_received(bad_shape, fragment):
    layer = Dense(3, 2, rng=0)
    with pytest.raises(ValueError) as info:
        layer.forward(np.zeros(bad_shape))
    message = str(info.value)
    assert "Dense(n_in=3, n_out=2" in message
    assert "(batch, 3)" in message
    assert fragment in message


@pytest.mark.parametrize("x", [
    np.array([[np.nan, 0.0, 1.0]]),
    np.array([[np.inf, 0.0, 1.0]]),
    np.array([["a", "b", "c"]]),
    [[1.0, 2.0, 3.0], [1.0]],   # ragged rows: NumPy cannot make an array of them
])
def test_dense_rejects_nonfinite_and_non_numeric_input(x):
    with pytest.raises(ValueError, match="Dense"):
        Dense(3, 2).forward(x)


@pytest.mark.parametrize("kwargs, match", [
    ({"n_in": 0, "n_out": 2}, r"^Dense n_in must be in \[1, inf\); got 0$"),
    ({"n_in": 2.5, "n_out": 2}, r"^Dense n_in must be an integer; got 2.5$"),
    ({"n_in": True, "n_out": 2}, r"^Dense n_in must be an integer; got True$"),
    ({"n_in": 2, "n_out": -1}, r"^Dense n_out must be in \[1, inf\); got -1$"),
    ({"n_in": 2, "n_out": 2, "init": "nope"}, r"^unknown initializer 'nope'; valid names are"),
])
def test_dense_rejects_bad_constructor_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Dense(**kwargs)


def test_activation_unknown_name_lists_valid_ones():
    with pytest.raises(ValueError, match="sigmoid"):
        Activation("sigmoidal")


def test_dense_dtype_float32_params_stay_float32():
    layer = Dense(3, 2, rng=0, dtype="float32")
    assert layer.params["W"].dtype == np.float32
    x = np.ones((4, 3), dtype=np.float32)
    y = layer.forward(x)
    dx = layer.backward(np.ones_like(y))
    assert y.dtype == dx.dtype == np.float32
    assert layer.grads["W"].dtype == layer.grads["b"].dtype == np.float32


def test_dense_computes_in_input_dtype_without_upcast():
    layer = Dense(3, 2, rng=0)  # float64 parameters
    y = layer.forward(np.ones((2, 3), dtype=np.float32))
    assert y.dtype == np.float32
    layer.backward(np.ones_like(y))
    assert layer.grads["W"].dtype == np.float64  # stored in the parameter's dtype


def test_integer_and_bool_input_become_float64():
    assert Dense(2, 2).forward(np.array([[1, 2]])).dtype == np.float64
    assert Activation("relu").forward(np.array([[True, False]])).dtype == np.float64


@pytest.mark.parametrize("name", nl.activations.NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_layer_keeps_dtype_and_is_stable(name, dtype):
    x = np.array([[-1e4, -1.0, 0.5, 1e4]], dtype=dtype)
    layer = Activation(name)
    y = layer.forward(x)  # RuntimeWarnings are errors under pytest's configuration
    dx = layer.backward(np.ones_like(y))
    assert y.dtype == dx.dtype == dtype
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dx))


def test_config_round_trip_and_registry():
    layer = Dense(4, 3, init="he_normal", dtype="float32")
    config = layer.get_config()
    assert config == {"n_in": 4, "n_out": 3, "init": "he_normal", "dtype": "float32"}
    clone = Dense.from_config(config)
    assert clone.params["W"].shape == (4, 3) and clone.dtype == np.float32
    assert Activation.from_config(Activation("elu").get_config()).name == "elu"
    assert Layer.registry["Dense"] is Dense and Layer.registry["Activation"] is Activation


def test_dense_seeded_initialisation_is_reproducible():
    a, b = Dense(5, 4, rng=3), Dense(5, 4, rng=3)
    np.testing.assert_array_equal(a.params["W"], b.params["W"])
    assert not np.array_equal(a.params["W"], Dense(5, 4, rng=4).params["W"])


def test_numpy_integer_sizes_give_a_json_config():
    import json

    layer = nl.Dense(np.int64(3), np.int64(2))
    assert json.loads(json.dumps(layer.get_config()))["n_in"] == 3
