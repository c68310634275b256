"""Flatten, Dropout and Residual: gradients, modes, views, configs and errors; every layer
in one trained model, through summary, save and load; the layers module's contents."""

import inspect
import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nnlab as nl
from nnlab.layer_base import check_distinct
from tests.helpers import away_from_kinks, grad_error

# --- Flatten -------------------------------------------------------------------------


def test_flatten_gradient_config_and_errors():
    layer = nl.Flatten()
    x = np.random.default_rng(0).normal(size=(3, 2, 2, 3))
    assert grad_error(layer, x) < 1e-6
    assert layer.output_shape((2, 2, 3)) == (12,)
    with pytest.raises(ValueError, match=r"^Flatten\(\) expected samples of at least one axis "
                                         r"\(a batch \(N, \.\.\.\)\); got samples of shape \(\)$"):
        layer.output_shape(())
    assert layer.get_config() == {} and layer.params == {}
    assert layer.forward(x.astype(np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match=r"Flatten\(\) expected a batch \(N, \.\.\.\); got "
                                         r"shape \(5,\)"):
        layer.forward(np.zeros(5))


@pytest.mark.parametrize("make, x", [
    (lambda: nl.BatchNorm(2), np.ones((2, 2))),
    (nl.Flatten, np.ones((2, 2, 1))),
    (lambda: nl.Dense(2, 2, rng=0), np.ones((2, 2))),   # the message the others now give
])
@pytest.mark.parametrize("training", [False, True])
def test_a_ragged_list_is_refused_as_not_a_numeric_array(make, x, training):
    # BatchNorm and Flatten took np.shape of it before converting it: NumPy's "setting an
    # array element with a sequence... inhomogeneous shape", naming no layer.
    layer = make()
    y = layer.forward(x, training=training)
    dx = layer.backward(np.ones_like(y))
    with pytest.raises(ValueError, match=rf"^input of {re.escape(repr(layer))} must be a "
                                         r"numeric array; got list$"):
        layer.forward([[1, 2], [3]], training=training)
    np.testing.assert_array_equal(layer.backward(np.ones_like(y)), dx)


def test_complex_input_is_refused_as_not_real():
    # "must be a numeric array" alone read wrong for complex numbers, which are numeric.
    layer = nl.Dense(2, 2, rng=0)
    with pytest.raises(ValueError, match=rf"^input of {re.escape(repr(layer))} must be a "
                                         r"numeric array of real numbers; got dtype complex128$"):
        layer.forward(np.ones((1, 2)) * 1j)


# --- Dropout -------------------------------------------------------------------------


@given(st.sampled_from([0.1, 0.25, 0.5, 0.8]), st.integers(0, 99))
def test_dropout_zeroes_a_fraction_rate_and_preserves_the_expectation(rate, seed):
    x = np.random.default_rng(seed).normal(size=(1, 50))
    samples = np.stack([nl.Dropout(rate, rng=seed * 1000 + i).forward(np.repeat(x, 400, 0),
                                                                       training=True)
                        for i in range(5)])
    assert abs((samples == 0).mean() - rate) < 0.02
    kept = samples[samples != 0]
    np.testing.assert_allclose(np.unique(np.round(kept / np.broadcast_to(
        x, samples.shape)[samples != 0], 9)), [1 / (1 - rate)])
    # Inverted dropout keeps E[y] = x, feature by feature (2000 draws each).
    np.testing.assert_allclose(samples.mean(axis=(0, 1)), x[0],
                               atol=5 * np.sqrt(rate / (1 - rate) / 2000) * np.abs(x[0]).max())


def test_dropout_backward_reuses_the_mask_and_passes_a_gradient_check():
    layer = nl.Dropout(0.4, rng=0)
    x = np.random.default_rng(1).normal(size=(4, 5))
    y = layer.forward(x, training=True)
    mask = y / x
    dy = np.random.default_rng(2).normal(size=x.shape)
    np.testing.assert_allclose(layer.backward(dy), dy * mask)
    np.testing.assert_allclose(layer.backward(dy), dy * mask)

    def replay():
        layer.rng = np.random.default_rng(5)

    assert grad_error(layer, x, training=True, before_forward=replay) < 1e-6


def test_dropout_is_the_identity_in_evaluation_and_at_rate_zero():
    x = np.random.default_rng(0).normal(size=(3, 4))
    layer = nl.Dropout(0.9, rng=0)
    assert np.array_equal(layer.forward(x), x)
    dy = np.ones_like(x)
    assert np.array_equal(layer.backward(dy), dy)
    assert np.array_equal(nl.Dropout(0.0, rng=0).forward(x, training=True), x)
    assert layer.output_shape((4,)) == (4,)


def test_dropout_seeds_and_generators():
    x = np.ones((8, 8))

    def mask(rng):
        return nl.Dropout(0.5, rng=rng).forward(x, training=True)

    assert np.array_equal(mask(7), mask(7))
    assert np.array_equal(mask(np.random.default_rng(7)), mask(7))
    assert not np.array_equal(mask(7), mask(8))
    layer = nl.Dropout(0.5, rng=7)
    assert not np.array_equal(layer.forward(x, training=True), layer.forward(x, training=True))


def test_dropout_float32_and_rate_validation():
    y = nl.Dropout(0.3, rng=0).forward(np.ones((4, 4), np.float32), training=True)
    assert y.dtype == np.float32
    assert set(np.unique(y)) <= {np.float32(0), np.float32(1 / 0.7)}
    for rate in (-0.1, 1.0, float("nan"), "0.5", None):
        with pytest.raises(ValueError, match="Dropout rate"):
            nl.Dropout(rate)
    assert nl.Dropout.from_config(json.loads(json.dumps(nl.Dropout(0.3).get_config()))).rate == 0.3


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_draws_its_uniform_numbers_in_the_input_dtype(dtype):
    x = np.ones((50, 40), dtype)
    kept = nl.Dropout(0.3, rng=5).forward(x, training=True) > 0
    np.testing.assert_array_equal(kept, np.random.default_rng(5).random(x.shape, dtype) >= 0.3)


# --- Residual ------------------------------------------------------------------------


def test_residual_gradient_through_a_dense_block():
    block = nl.Residual(nl.Dense(4, 4, rng=0), nl.Activation("tanh"), nl.Dense(4, 4, rng=1))
    x = np.random.default_rng(0).normal(size=(3, 4))
    assert grad_error(block, x) < 1e-6
    assert set(block.params) == {"0.W", "0.b", "2.W", "2.b"}


def test_residual_views_are_live_and_writable():
    dense, bn = nl.Dense(3, 3, rng=0), nl.BatchNorm(3)
    block = nl.Residual(dense, bn)
    assert list(block.params) == ["0.W", "0.b", "1.gamma", "1.beta"]
    assert list(block.buffers) == ["1.running_mean", "1.running_var"]
    assert block.params["0.W"] is dense.params["W"] and len(block.params) == 4
    block.params["0.b"] = np.full(3, 2.0)
    assert np.array_equal(dense.params["b"], [2.0, 2.0, 2.0])
    spare = nl.Dense(3, 3, rng=0)
    del nl.Residual(spare).params["0.b"]   # deleted from the layer too
    assert list(spare.params) == ["W"]
    for key in ("2.W", "W", "0.", "x.W", 0):
        assert key not in block.params
    snapshot = block.params.copy()   # as dict.copy: a plain dict, the same arrays
    assert type(snapshot) is dict and snapshot["0.W"] is dense.params["W"]
    block.forward(np.random.default_rng(0).normal(size=(4, 3)), training=True)
    assert block.buffers["1.running_mean"] is bn.buffers["running_mean"]
    assert not np.array_equal(bn.buffers["running_mean"], np.zeros(3))
    block.backward(np.ones((4, 3)))
    for key, g in block.grads.items():
        index, name = key.split(".")
        assert g is block.layers[int(index)].grads[name]


def test_nested_residual_keys_and_optimizer_updates_in_place():
    inner = nl.Dense(2, 2, rng=0)
    block = nl.Residual(nl.Residual(inner), nl.Activation("tanh"))
    assert list(block.params) == ["0.0.W", "0.0.b"]
    x = np.random.default_rng(0).normal(size=(5, 2))
    block.forward(x)
    block.backward(np.ones((5, 2)))
    before = inner.params["W"].copy()
    nl.optimizers.SGD(0.1).step(list(block.params.values()), list(block.grads.values()))
    np.testing.assert_allclose(inner.params["W"], before - 0.1 * inner.grads["W"])


def test_residual_gradient_through_a_convolutional_block():
    block = nl.Residual(nl.Conv2D(2, 2, 3, padding=1, rng=0), nl.Activation("tanh"),
                        nl.Conv2D(2, 2, (1, 3), padding=(0, 1), rng=1))
    x = np.random.default_rng(0).normal(size=(2, 2, 4, 4))
    assert block.output_shape((2, 4, 4)) == (2, 4, 4)
    assert grad_error(block, x) < 1e-6


def test_residual_passes_the_training_flag_to_its_block():
    block = nl.Residual(nl.Dropout(0.5, rng=0))
    x = np.ones((4, 50))
    assert np.array_equal(block.forward(x), 2 * x)
    assert set(np.unique(block.forward(x, training=True))) == {1.0, 3.0}


def test_residual_errors_name_both_shapes():
    block = nl.Residual(nl.Conv2D(1, 2, 3, rng=0))
    with pytest.raises(ValueError, match=r"from \(2, 1, 5, 5\) to \(2, 2, 3, 3\)"):
        block.forward(np.zeros((2, 1, 5, 5)))
    with pytest.raises(ValueError, match=r"maps shape \(1, 5, 5\) to \(2, 3, 3\)"):
        block.output_shape((1, 5, 5))
    for args in ((), (nl.Dense(2, 2), "relu")):
        with pytest.raises(ValueError, match="one or more nnlab layers"):
            nl.Residual(*args)


@pytest.mark.parametrize("training", [False, True])
def test_a_residual_block_refusing_its_input_keeps_the_last_good_pass(training):
    # The refused batch's shape was recorded, then every cache forgotten: backward said
    # "call forward first", where a bare Dense gives the last good pass's gradient.
    rng = np.random.default_rng(0)
    block = nl.Residual(nl.Residual(nl.Dense(3, 3, rng=0)), nl.Dense(3, 3, rng=1))
    x, dy = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    block.forward(x, training=True)
    dx = block.backward(dy)
    grads = {name: g.copy() for name, g in block.grads.items()}
    for bad in (np.ones((2, 4)), np.ones((2, 3, 1)), np.ones(3)):
        with pytest.raises(ValueError, match=r"Dense\(n_in=3.* expected .*3.*; got "):
            block.forward(bad, training=training)
    np.testing.assert_array_equal(block.backward(dy), dx)
    for name, g in block.grads.items():
        np.testing.assert_array_equal(g, grads[name])


def test_a_layer_object_used_twice_in_a_residual_block_is_refused():
    # The second use overwrote the first one's cached x and y: gradients 8% off.
    act = nl.Activation("tanh")
    with pytest.raises(ValueError, match=r"Residual: the same layer object Activation\("
                                         r"name='tanh'\) appears twice.*use a new "
                                         r"Activation\(name='tanh'\) at each place"):
        nl.Residual(nl.Dense(3, 3, rng=0), act, nl.Dense(3, 3, rng=1), act)
    dense = nl.Dense(3, 3, rng=0)
    with pytest.raises(ValueError, match=r"the same layer object Dense\(n_in=3"):
        nl.Residual(dense, nl.Residual(nl.Activation("tanh"), dense))   # nested too
    block = nl.Residual(nl.Dense(3, 3, rng=0), nl.Activation("tanh"), nl.Dense(3, 3, rng=1),
                        nl.Activation("tanh"))   # a new layer at each place
    assert nl.gradcheck.check(block, np.random.default_rng(0).normal(size=(4, 3))) < 1e-6


def test_check_distinct_names_the_owner_and_accepts_equal_but_distinct_layers():
    check_distinct([nl.Activation("relu"), nl.Activation("relu")], "Sequential")
    act = nl.Activation("relu")
    with pytest.raises(ValueError, match=r"^Sequential: the same layer object"):
        check_distinct([nl.Dense(2, 2), nl.Residual(act), act], "Sequential")


def test_residual_config_is_nested_and_round_trips():
    block = nl.Residual(nl.Dense(3, 3, rng=0), nl.Activation("relu"),
                        nl.Residual(nl.BatchNorm(3, momentum=0.5)))
    config = json.loads(json.dumps(block.get_config()))
    assert [item["class"] for item in config["layers"]] == ["Dense", "Activation", "Residual"]
    assert config["layers"][1]["config"] == {"name": "relu"}
    assert config["layers"][2]["config"]["layers"][0] == {
        "class": "BatchNorm",
        "config": {"n_features": 3, "momentum": 0.5, "eps": 1e-5, "dtype": "float64"}}
    clone = nl.Residual.from_config(config)
    assert clone.get_config() == block.get_config()
    for key, value in block.params.items():
        clone.params[key] = value.copy()
    x = np.random.default_rng(0).normal(size=(4, 3))
    np.testing.assert_array_equal(clone.forward(x), block.forward(x))
    with pytest.raises(ValueError, match="unknown layer class 'Nope'"):
        nl.Residual.from_config({"layers": [{"class": "Nope", "config": {}}]})


# --- all of them in one trained network ----------------------------------------------


@pytest.mark.slow
def test_cnn_with_batchnorm_residual_and_dropout_learns_digits():
    X, y = nl.datasets.load_digits(as_images=True)
    Xtr, Xte, ytr, yte = nl.datasets.train_test_split(X / 16.0, y, 0.25, seed=0, stratify=True)
    inner_bn = nl.BatchNorm(8)
    model = nl.Sequential([
        nl.Conv2D(1, 8, 3, padding=1, rng=0), nl.BatchNorm(8), nl.Activation("relu"),
        nl.Residual(nl.Conv2D(8, 8, 3, padding=1, rng=1), inner_bn, nl.Activation("relu")),
        nl.MaxPool2D(2), nl.Flatten(), nl.Dropout(0.2, rng=0), nl.Dense(128, 10, rng=2)])
    model.compile(nl.losses.CategoricalCrossEntropy(from_logits=True),
                  nl.optimizers.Adam(0.01), ["accuracy"])
    history = model.fit(Xtr, ytr, epochs=8, batch_size=32, validation_data=(Xte, yte), seed=0)
    assert history.history["val_accuracy"][-1] > 0.93
    # The optimizer trained the block's own arrays and fit updated its running statistics;
    # evaluation mode (no dropout, running statistics) makes predictions repeatable.
    assert not np.allclose(inner_bn.params["gamma"], 1.0)
    assert not np.allclose(inner_bn.buffers["running_var"], 1.0)
    assert np.array_equal(model.predict(Xte[:20]), model.predict(Xte[:20]))


def test_summary_and_save_load_with_every_layer(tmp_path, capsys):
    model = nl.Sequential([
        nl.Conv2D(1, 4, 3, padding=1, rng=0), nl.BatchNorm(4), nl.Activation("relu"),
        nl.MaxPool2D(2), nl.AvgPool2D(2, 1), nl.Flatten(), nl.Dropout(0.3, rng=0),
        nl.Residual(nl.Dense(36, 36, rng=1), nl.Activation("relu")), nl.Dense(36, 3, rng=2)])
    model.summary(input_shape=(1, 8, 8))
    out = capsys.readouterr().out
    assert "(None, 4, 8, 8)" in out and "(None, 4, 3, 3)" in out and "(None, 36)" in out
    x = np.random.default_rng(0).normal(size=(5, 1, 8, 8))
    model.forward(x, training=True)
    model.save(tmp_path / "m.npz")
    loaded = nl.load_model(tmp_path / "m.npz")
    np.testing.assert_array_equal(model.predict(x), loaded.predict(x))


# --- the layers module: its contents, docstrings and defaults ------------------------


def test_every_layer_is_also_in_the_layers_module():
    for name in ("Dense", "Activation", "Dropout", "BatchNorm", "Flatten", "Conv2D",
                 "MaxPool2D", "AvgPool2D", "Residual"):
        assert getattr(nl.layers, name) is getattr(nl, name)


def test_every_layer_documents_its_forward_and_backward():
    # The API page lists a method only if it has a docstring: its own, or the protocol's,
    # Layer's, which autodoc shows for an override without one.
    layers = [getattr(nl.layers, name) for name in nl.layers.__all__]
    for layer in [c for c in layers if isinstance(c, type) and issubclass(c, nl.Layer)]:
        for method in ("forward", "backward"):
            assert inspect.getdoc(getattr(layer, method)), f"{layer.__name__}.{method}"
    for method in (nl.Layer.forward, nl.Layer.backward):
        assert all(f"\n{section}\n" in inspect.getdoc(method) for section in
                   ("Parameters", "Returns", "Raises")), method.__name__


def test_dense_s_default_init_is_glorot_uniform():
    # Glorot's, as Keras's Dense (the convolutions' He's is tested in test_conv.py).
    layer = nl.Dense(3, 5, rng=0)
    np.testing.assert_array_equal(layer.params["W"],
                                  nl.initializers.glorot_uniform((3, 5), rng=0))
    np.testing.assert_array_equal(layer.params["b"], np.zeros(5))
    assert layer.get_config()["init"] == "glorot_uniform"


# --- gradient checks of blocks, and over random shapes -------------------------------


def test_residual_block_with_batch_norm_in_training_passes_the_gradient_check():
    # Batch norm first: a Dense bias just before it has a zero gradient, which the relative
    # error cannot judge (see nnlab.gradcheck.check).
    block = nl.Residual(nl.BatchNorm(4), nl.Dense(4, 4, rng=0), nl.Activation("tanh"))
    x = np.random.default_rng(1).normal(size=(6, 4))
    assert nl.gradcheck.check(block, x, training=True) < 1e-6


@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from([n for n in nl.activations.NAMES if n != "step"]),
       batch=st.integers(1, 4), width=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_activation_layer_gradients_over_shapes_and_values(name, batch, width, seed):
    x = away_from_kinks(np.random.default_rng(seed).normal(scale=2.0, size=(batch, width)))
    assert nl.gradcheck.check(nl.Activation(name), x) < 1e-6


@settings(max_examples=20, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=2, max_size=4),
       rate=st.sampled_from([0.0, 0.3, 0.7]), seed=st.integers(0, 2**16))
def test_dropout_and_flatten_gradients_over_shapes(shape, rate, seed):
    x = np.random.default_rng(seed).normal(size=shape)
    assert nl.gradcheck.check(nl.Dropout(rate, rng=seed), x, training=True) < 1e-6
    assert nl.gradcheck.check(nl.Flatten(), x) < 1e-6


@settings(max_examples=20, deadline=None)
@given(batch=st.integers(1, 4), width=st.integers(1, 5), depth=st.integers(1, 3),
       seed=st.integers(0, 2**16))
def test_residual_gradients_over_shapes(batch, width, depth, seed):
    inner = []
    for i in range(depth):
        inner += [nl.Dense(width, width, rng=seed + i), nl.Activation("tanh")]
    x = np.random.default_rng(seed).normal(size=(batch, width))
    assert nl.gradcheck.check(nl.Residual(*inner), x) < 1e-6
