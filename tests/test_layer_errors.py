"""Checks shared by the layers: bad names, seeds, dtypes and ranges; backward's checks of
dy; no layer changes the arrays it is given or caches."""

import re

import numpy as np
import pytest

import nnlab as nl

# --- bad identifiers and seeds: ValueError naming the argument -------------------------


@pytest.mark.parametrize("make", [
    lambda bad: nl.Activation(bad),
    lambda bad: nl.losses.get(bad),
    lambda bad: nl.optimizers.get(bad),
    lambda bad: nl.Dense(2, 2, init=bad),
])
def test_a_name_that_is_not_a_string_is_a_value_error_listing_the_valid_names(make):
    for bad in (None, 5):
        with pytest.raises(ValueError, match=r"given by name \(a str\), one of: .*; got"):
            make(bad)


@pytest.mark.parametrize("make", [
    lambda bad: nl.Dense(2, 2, rng=bad),
    lambda bad: nl.Conv2D(1, 1, 3, rng=bad),
    lambda bad: nl.Dropout(0.5, rng=bad),
    lambda bad: nl.datasets.moons(10, seed=bad),
    lambda bad: nl.Perceptron(2).fit(np.eye(2), [0, 1], seed=bad),
])
def test_a_bad_seed_is_a_value_error_naming_the_argument(make):
    for bad in ("x", 1.5, -1, True):
        with pytest.raises(ValueError, match=r"(rng|seed) must be"):
            make(bad)
    generator = np.random.default_rng(0)
    make(generator)
    make(np.int64(3))


def test_fit_rejects_a_bad_seed_before_touching_the_model():
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.compile("mse", "sgd")
    X, y = np.ones((4, 2)), np.ones(4)
    last = model.fit(X, y, seed=0)
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match="seed must be"):
        model.fit(X, y, seed="x")
    assert model.history is last and model.optimizer.iterations == 1
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("make", [
    lambda dtype: nl.Dense(2, 2, dtype=dtype),
    lambda dtype: nl.Conv2D(1, 1, 3, dtype=dtype),
    lambda dtype: nl.BatchNorm(2, dtype=dtype),
])
def test_layers_are_stored_in_float32_or_float64_only(make):
    for bad in ("int64", np.float16, "complex128", "banana"):
        with pytest.raises(ValueError, match="dtype must be float32 or float64"):
            make(bad)
    assert make("float32").params[next(iter(make("float32").params))].dtype == np.float32


def test_an_unbounded_range_is_written_open_at_infinity():
    with pytest.raises(ValueError, match=r"lr must be in \(0, inf\); got -1"):
        nl.optimizers.SGD(-1)
    with pytest.raises(ValueError, match=r"rng must be in \[0, inf\); got -1"):
        nl.Dense(2, 2, rng=-1)


# --- backward's own checks -------------------------------------------------------------

BACKWARD_CASES = [  # a layer, an input batch, and a dy of the wrong shape that broadcasts
    (lambda: nl.Dense(3, 2, rng=0), (4, 3), (1, 2)),
    (lambda: nl.Activation("relu"), (4, 3), (3,)),
    (lambda: nl.Dropout(0.5, rng=0), (4, 3), (4, 1)),
    (lambda: nl.BatchNorm(3), (4, 3), (1, 3)),
    (lambda: nl.Flatten(), (4, 3, 2), (2, 12)),
    (lambda: nl.Residual(nl.Dense(3, 3, rng=0)), (4, 3), (1, 3)),
    (lambda: nl.Conv2D(1, 2, 3, rng=0), (2, 1, 5, 5), (2, 2, 1, 1)),
    (lambda: nl.MaxPool2D(2), (2, 1, 4, 4), (2, 1, 1, 1)),
    (lambda: nl.AvgPool2D(2), (2, 1, 5, 5), (2, 1, 1, 1)),
    (lambda: nl.layers.GlobalMaxPool1D(), (2, 3, 5), (1, 3)),
]


@pytest.mark.parametrize("make, x_shape, bad", BACKWARD_CASES)
def test_backward_checks_dy_against_the_last_output(make, x_shape, bad):
    # A dy that broadcast against the cached arrays gave a plausible, wrong gradient.
    layer = make()
    with pytest.raises(ValueError, match="call forward first"):
        layer.backward(np.ones(bad))
    y = layer.forward(np.random.default_rng(0).normal(size=x_shape), training=True)
    with pytest.raises(ValueError, match=rf"expected dy of shape {re.escape(str(y.shape))}.*"
                                         rf"got {re.escape(str(bad))}"):
        layer.backward(np.ones(bad))
    with pytest.raises(ValueError, match="NaN"):
        layer.backward(np.full(y.shape, np.nan))
    assert layer.backward(np.ones(y.shape).tolist()).shape == x_shape   # array_like is fine


def test_sequential_backward_checks_dy_and_not_each_layer():
    model = nl.Sequential([nl.Dense(3, 4, rng=0), nl.Activation("tanh"), nl.Dense(4, 2, rng=1)])
    with pytest.raises(ValueError, match="call forward first"):
        model.backward(np.ones((5, 2)))
    model.forward(np.ones((5, 3)))
    with pytest.raises(ValueError, match=r"expected dy of shape \(5, 2\).*got \(1, 2\)"):
        model.backward(np.ones((1, 2)))
    assert model.backward(np.ones((5, 2)).tolist()).shape == (5, 3)


@pytest.mark.parametrize("make, shape", [
    (lambda: nl.Dense(3, 2, rng=0), (4, 3)),
    *[((lambda name=name: nl.Activation(name)), (4, 3)) for name in nl.activations.NAMES],
    (lambda: nl.Flatten(), (2, 2, 3)),
    (lambda: nl.Dropout(0.5, rng=0), (4, 3)),
    (lambda: nl.Residual(nl.Dense(3, 3, rng=0), nl.Activation("relu")), (4, 3)),
    (lambda: nl.BatchNorm(3), (4, 3)),
    (lambda: nl.Conv2D(2, 3, 3, padding=1, rng=0), (2, 2, 4, 4)),
    (lambda: nl.Conv1D(2, 3, 3, rng=0), (2, 2, 6)),
    (lambda: nl.MaxPool2D(2), (2, 2, 4, 4)),
    (lambda: nl.AvgPool2D(2), (2, 2, 4, 4)),
    (lambda: nl.MaxPool1D(2), (2, 2, 6)),
    (lambda: nl.GlobalMaxPool1D(), (2, 2, 6)),
])
@pytest.mark.parametrize("training", [False, True])
def test_no_layer_changes_the_arrays_it_is_given_or_caches(make, shape, training):
    # Layers cache their input or output for backward, without copying (layer_base): a
    # layer that changed its input, its upstream gradient or its cache in place would
    # change another layer's gradient, or its own at a second backward.
    rng = np.random.default_rng(1)
    layer, x = make(), rng.normal(size=shape)
    x_seen = x.copy()
    y = layer.forward(x, training=training)
    y_seen, dy = y.copy(), rng.normal(size=y.shape)
    dy_seen = dy.copy()
    dx = layer.backward(dy)
    grads = {name: g.copy() for name, g in layer.grads.items()}
    for array, seen in ((x, x_seen), (y, y_seen), (dy, dy_seen)):
        np.testing.assert_array_equal(array, seen)
    np.testing.assert_array_equal(layer.backward(dy), dx)   # a second backward: the same
    for name, g in layer.grads.items():
        np.testing.assert_array_equal(g, grads[name])


# --- inputs of float16 or longdouble -------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float16, np.longdouble])
def test_float16_and_longdouble_are_refused_as_the_activations_refuse_them(dtype):
    # They became float64 in silence: a layer of float32 weights handed back float64.
    # A model casts its data to its own dtype, as it casts integers.
    if np.dtype(dtype) == np.float64:
        pytest.skip("longdouble is float64 on this platform")
    x = np.ones((2, 3), dtype)
    for call in (lambda: nl.Dense(3, 2, rng=0).forward(x),
                 lambda: nl.Activation("relu").forward(x),
                 lambda: nl.losses.get("mse")(x, np.ones((2, 3)))):
        with pytest.raises(ValueError, match=rf"must be float32 or float64 .*got "
                                             rf"{np.dtype(dtype)}: cast it with "):
            call()
    assert nl.Dense(3, 2, rng=0).forward(x.astype(np.float32)).dtype == np.float32
    model = nl.Sequential([nl.Dense(3, 2, rng=0, dtype=np.float32)])
    assert model.predict(x).dtype == np.float32


@pytest.mark.parametrize("x_dtype, dy_dtype", [(np.float32, np.float64),
                                               (np.float64, np.float32)])
@pytest.mark.parametrize("make, shape", [
    (lambda: nl.Dense(3, 2, rng=0), (4, 3)),
    (lambda: nl.Activation("tanh"), (4, 3)),
    (lambda: nl.Activation("softmax"), (4, 3)),
    (lambda: nl.BatchNorm(3), (4, 3)),
    (lambda: nl.Conv2D(1, 2, 3, rng=0), (2, 1, 5, 5)),
    (lambda: nl.MaxPool2D(2), (2, 1, 4, 4)),
    (lambda: nl.AvgPool2D(2), (2, 1, 4, 4)),
    (lambda: nl.Flatten(), (2, 3, 2)),
    (lambda: nl.Dropout(0.5, rng=0), (4, 3)),
    (lambda: nl.Residual(nl.Dense(3, 3, rng=0), nl.Activation("relu")), (4, 3)),
])
def test_backward_gives_dx_in_the_dtype_of_the_forward_input(make, shape, x_dtype, dy_dtype):
    # Activation and BatchNorm gave float64 for a float32 x and a float64 dy, Dense and
    # the rest dy's dtype: PyTorch's autograd gives x's, whatever dy's is.
    layer = make()
    x = np.random.default_rng(0).normal(size=shape).astype(x_dtype)
    dy = np.ones_like(layer.forward(x, training=True), dtype=dy_dtype)
    assert layer.backward(dy).dtype == x_dtype
