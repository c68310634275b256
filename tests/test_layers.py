"""Flatten, Dropout, BatchNorm and Residual: gradients, modes, formulas, views and errors.

Also: every layer in one model through summary, save and load.
"""

import inspect
import json
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nnlab as nl
from nnlab.layer_base import check_distinct
from tests.helpers import away_from_kinks
from tests.test_conv import grad_error

# --- Flatten -------------------------------------------------------------------------


def test_flatten_gradient_config_and_errors():
    layer = nl.Flatten()
    x = np.random.default_rng(0).normal(size=(3, 2, 2, 3))
    assert grad_error(layer, x) < 1e-6
    assert layer.output_shape((2, 2, 3)) == (12,)
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


# --- BatchNorm -----------------------------------------------------------------------


def test_batchnorm_running_statistics_follow_the_stated_formula():
    rng = np.random.default_rng(0)
    m = 0.8
    bn = nl.BatchNorm(2, momentum=m)
    mean, var = np.zeros(2), np.ones(2)
    for _ in range(3):
        x = rng.normal(size=(5, 2, 3)) * [[[2.0], [0.5]]] + [[[1.0], [-3.0]]]
        bn.forward(x, training=True)
        # running = momentum * running + (1 - momentum) * batch, batch variance biased (ddof 0)
        mean = m * mean + (1 - m) * x.mean(axis=(0, 2))
        var = m * var + (1 - m) * x.var(axis=(0, 2))
    np.testing.assert_allclose(bn.buffers["running_mean"], mean, rtol=1e-12)
    np.testing.assert_allclose(bn.buffers["running_var"], var, rtol=1e-12)
    before = {k: v.copy() for k, v in bn.buffers.items()}
    x = rng.normal(size=(4, 2, 3))
    y = bn.forward(x)  # evaluation: the running statistics, untouched
    np.testing.assert_allclose(y, (x - mean[:, None]) / np.sqrt(var[:, None] + 1e-5))
    for k, v in bn.buffers.items():
        assert np.array_equal(v, before[k])


def test_batchnorm_running_statistics_converge_per_channel_on_images():
    rng = np.random.default_rng(1)
    bn = nl.BatchNorm(2, momentum=0.9)
    mu, sigma = np.array([2.0, -1.0]), np.array([3.0, 0.5])
    for _ in range(150):
        bn.forward(rng.normal(size=(16, 2, 4, 4)) * sigma[:, None, None] + mu[:, None, None],
                   training=True)
    np.testing.assert_allclose(bn.buffers["running_mean"], mu, atol=0.1)
    np.testing.assert_allclose(bn.buffers["running_var"], sigma**2, rtol=0.1)


@given(st.sampled_from([(5, 3), (4, 3, 2), (3, 3, 2, 2)]), st.booleans(), st.integers(0, 99))
def test_batchnorm_gradients(shape, training, seed):
    rng = np.random.default_rng(seed)
    bn = nl.BatchNorm(3)
    bn.params["gamma"][:] = rng.normal(size=3)
    bn.params["beta"][:] = rng.normal(size=3)
    bn.buffers["running_mean"][:] = rng.normal(size=3)
    bn.buffers["running_var"][:] = rng.uniform(0.5, 2, size=3)
    assert grad_error(bn, rng.normal(size=shape) * 3 + 1, training=training) < 1e-6


def test_batchnorm_float32_large_inputs_and_errors():
    bn = nl.BatchNorm(3)
    x = np.random.default_rng(0).choice([-1e4, 1e4], size=(8, 3, 2)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = bn.forward(x, training=True)
        dx = bn.backward(np.ones_like(y))
    assert y.dtype == dx.dtype == np.float32 and np.all(np.isfinite(y))
    assert bn.buffers["running_mean"].dtype == np.float64
    before = bn.buffers["running_mean"].copy()
    with pytest.raises(ValueError, match=r"BatchNorm\(n_features=3.*\(batch, 3, \.\.\.\); got "
                                         r"shape \(8, 2\)"):
        bn.forward(np.zeros((8, 2)), training=True)
    assert np.array_equal(bn.buffers["running_mean"], before)
    for kwargs, name in (({"momentum": 1.0}, "momentum"), ({"eps": 0.0}, "eps"),
                         ({"n_features": 0}, "n_features")):
        with pytest.raises(ValueError, match=f"BatchNorm {name}"):
            nl.BatchNorm(**{"n_features": 2, **kwargs})
    config = json.loads(json.dumps(nl.BatchNorm(4, 0.5, 1e-3, dtype="float32").get_config()))
    clone = nl.BatchNorm.from_config(config)
    assert (clone.momentum, clone.eps, clone.params["gamma"].dtype) == (0.5, 1e-3, np.float32)


def test_batchnorm_float32_statistics_of_a_large_batch_with_an_offset():
    # float32 sums taken row after row over 60000 rows of values near 1e4 drifted: the
    # normalized output had mean 0.87 and std 0.5. The sums are now float64's, and the
    # mean, rounded to float32 (by 1e-3 here), is taken out in two steps: once rounded
    # only, the output's mean was 4e-4 and gamma's gradient 11-39 % off.
    rng = np.random.default_rng(0)
    x = (1e4 + rng.normal(size=(60000, 2))).astype(np.float32)
    bn = nl.BatchNorm(2, momentum=0.0, dtype="float32")
    y = bn.forward(x, training=True)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.mean(axis=0, dtype=np.float64), 0, atol=1e-6)
    np.testing.assert_allclose(y.std(axis=0, dtype=np.float64), 1, atol=1e-5)
    exact = x.astype(np.float64)
    np.testing.assert_allclose(bn.buffers["running_mean"], exact.mean(axis=0), rtol=1e-7)
    np.testing.assert_allclose(bn.buffers["running_var"], exact.var(axis=0), rtol=1e-5)
    dy = (rng.normal(size=x.shape) + 3).astype(np.float32)
    bn.backward(dy)
    x_hat = (exact - exact.mean(axis=0)) / np.sqrt(exact.var(axis=0) + bn.eps)
    np.testing.assert_allclose(bn.grads["gamma"], (dy * x_hat).sum(axis=0), rtol=1e-4)


@pytest.mark.parametrize("shape", [(6, 3), (5, 3, 4), (4, 3, 3, 2)])
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_against_torch(shape, training):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    m = 0.7
    bn = nl.BatchNorm(3, momentum=m)
    bn.params["gamma"][:], bn.params["beta"][:] = rng.normal(size=(2, 3))
    bn.buffers["running_mean"][:] = rng.normal(size=3)
    bn.buffers["running_var"][:] = rng.uniform(0.5, 2.0, size=3)
    run_mean, run_var = (torch.tensor(bn.buffers[k].copy()) for k in ("running_mean",
                                                                      "running_var"))
    x = rng.normal(size=shape) * 2 + 1
    tx, tg, tb = (torch.tensor(a, requires_grad=True)
                  for a in (x, bn.params["gamma"], bn.params["beta"]))
    # PyTorch's momentum is the weight of the new batch: 1 - ours.
    ty = torch.nn.functional.batch_norm(tx, run_mean, run_var, tg, tb, training=training,
                                        momentum=1 - m, eps=1e-5)
    dy = rng.normal(size=shape)
    ty.backward(torch.tensor(dy))
    old_var = bn.buffers["running_var"].copy()
    np.testing.assert_allclose(bn.forward(x, training=training), ty.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(bn.backward(dy), tx.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(bn.grads["gamma"], tg.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(bn.grads["beta"], tb.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(bn.buffers["running_mean"], run_mean.numpy(), atol=1e-12)
    if not training:
        np.testing.assert_array_equal(bn.buffers["running_var"], old_var)
        np.testing.assert_array_equal(run_var.numpy(), old_var)
        return
    # The one documented difference: PyTorch averages the unbiased batch variance.
    n = x.size / 3
    ours = (bn.buffers["running_var"] - m * old_var) / (1 - m)
    theirs = (run_var.numpy() - m * old_var) / (1 - m)
    np.testing.assert_allclose(theirs, ours * n / (n - 1), rtol=1e-10)


def test_batchnorm_normalizes_per_channel_in_training():
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(8, 2, 4, 4))
    y = nl.BatchNorm(2).forward(x, training=True)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=(0, 2, 3)), 1, atol=1e-3)


def test_batchnorm_uses_running_statistics_in_evaluation():
    layer = nl.BatchNorm(1, momentum=0.5)
    layer.forward(np.array([[1.0], [3.0]]), training=True)
    assert layer.buffers["running_mean"][0] == pytest.approx(1.0)
    assert layer.buffers["running_var"][0] == pytest.approx(0.5 * 1 + 0.5 * 1.0)
    # A batch whose own statistics (mean 2, variance 4) are not the running ones (1, 1):
    # normalized with its own, it would give (-1, 1); with the running ones, (-1, 3).
    y = layer.forward(np.array([[0.0], [4.0]]))
    np.testing.assert_allclose(y[:, 0], np.array([-1.0, 3.0]) / np.sqrt(1 + 1e-5), rtol=1e-15)
    assert layer.buffers["running_mean"][0] == pytest.approx(1.0)   # and left as they were
    assert layer.buffers["running_var"][0] == pytest.approx(1.0)


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_adds_its_own_eps_to_the_variance(training):
    # Values of variance about 1e-4, beside which eps = 1e-2 (not the default 1e-5) counts.
    x = np.random.default_rng(0).normal(size=(6, 2, 3)) * 0.01
    layer = nl.BatchNorm(2, eps=1e-2)
    layer.buffers["running_mean"][:] = [0.001, -0.002]
    layer.buffers["running_var"][:] = [2e-4, 5e-5]
    mean, var = ((x.mean(axis=(0, 2)), x.var(axis=(0, 2))) if training else
                 (layer.buffers["running_mean"].copy(), layer.buffers["running_var"].copy()))
    expected = (x - mean[:, None]) / np.sqrt(var[:, None] + 1e-2)
    np.testing.assert_allclose(layer.forward(x, training=training), expected, rtol=1e-12)


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


@pytest.mark.parametrize("make", [
    lambda: nl.Sequential([nl.BatchNorm(3), nl.Dense(4, 1)]),
    lambda: nl.Residual(nl.BatchNorm(3), nl.Dense(3, 4)),
])
def test_a_shape_error_comes_before_batch_norm_updates_its_statistics(make):
    net = make()
    batch_norm = net.layers[0]
    x = np.random.default_rng(0).normal(size=(8, 3)) + 3
    with pytest.raises(ValueError, match=r"\(8, 3\)"):   # reported for the whole batch
        net.forward(x, training=True)
    np.testing.assert_array_equal(batch_norm.buffers["running_mean"], np.zeros(3))
    np.testing.assert_array_equal(batch_norm.buffers["running_var"], np.ones(3))


@pytest.mark.parametrize("make, x_shape", [
    (lambda: nl.Sequential([nl.Conv2D(1, 2, 3, padding=1, rng=0), nl.BatchNorm(2),
                            nl.Flatten(), nl.Dense(32, 3, rng=0), nl.BatchNorm(3)]),
     (1, 1, 4, 4)),
    (lambda: nl.Sequential([nl.BatchNorm(2), nl.Flatten(),
                            nl.Residual(nl.Dense(18, 18, rng=0), nl.BatchNorm(18))]),
     (1, 2, 3, 3)),
    (lambda: nl.Residual(nl.BatchNorm(2), nl.Conv2D(2, 2, 3, rng=0), nl.BatchNorm(2),
                         nl.Conv2D(2, 2, 1, padding=1, rng=0)),   # 3x3 -> 1x1 -> 3x3
     (1, 2, 3, 3)),
])
def test_a_later_batch_norm_with_one_value_per_feature_is_refused_before_any_update(
        make, x_shape):
    # Only training needs 2 or more values per feature: the trial pass, in evaluation,
    # did not see it, and the first batch norm had updated its statistics.
    net = make()
    x = np.random.default_rng(0).normal(size=x_shape) + 5
    with pytest.raises(ValueError, match=r"2 or more values per feature.*got input of shape "
                                         r"\(1, (3|18|2, 1, 1)\)"):
        net.forward(x, training=True)
    first = net.layers[0] if isinstance(net.layers[0], nl.BatchNorm) else net.layers[1]
    np.testing.assert_array_equal(first.buffers["running_mean"], np.zeros(2))
    np.testing.assert_array_equal(first.buffers["running_var"], np.ones(2))
    assert net.forward(np.concatenate([x, x + 1]), training=True).shape[0] == 2


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


def test_dense_s_default_init_is_glorot_uniform():
    # Glorot's, as Keras's Dense (the convolutions' He's is tested in test_conv.py).
    layer = nl.Dense(3, 5, rng=0)
    np.testing.assert_array_equal(layer.params["W"],
                                  nl.initializers.glorot_uniform((3, 5), rng=0))
    np.testing.assert_array_equal(layer.params["b"], np.zeros(5))
    assert layer.get_config()["init"] == "glorot_uniform"


def test_an_unbounded_range_is_written_open_at_infinity():
    with pytest.raises(ValueError, match=r"lr must be in \(0, inf\); got -1"):
        nl.optimizers.SGD(-1)
    with pytest.raises(ValueError, match=r"rng must be in \[0, inf\); got -1"):
        nl.Dense(2, 2, rng=-1)


def test_residual_block_with_batch_norm_in_training_passes_the_gradient_check():
    # Batch norm first: a Dense bias just before it has a zero gradient, which the relative
    # error cannot judge (see nnlab.gradcheck.check).
    block = nl.Residual(nl.BatchNorm(4), nl.Dense(4, 4, rng=0), nl.Activation("tanh"))
    x = np.random.default_rng(1).normal(size=(6, 4))
    assert nl.gradcheck.check(block, x, training=True) < 1e-6


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


def test_sequential_backward_checks_dout_and_not_each_layer():
    model = nl.Sequential([nl.Dense(3, 4, rng=0), nl.Activation("tanh"), nl.Dense(4, 2, rng=1)])
    with pytest.raises(ValueError, match="call forward first"):
        model.backward(np.ones((5, 2)))
    model.forward(np.ones((5, 3)))
    with pytest.raises(ValueError, match=r"expected dout of shape \(5, 2\).*got \(1, 2\)"):
        model.backward(np.ones((1, 2)))
    assert model.backward(np.ones((5, 2)).tolist()).shape == (5, 3)


def test_batch_norm_refuses_to_train_on_one_value_per_feature():
    # One sample: every value normalized to 0, y = beta, and no gradient reaches x.
    layer = nl.BatchNorm(3)
    for x in (np.ones((1, 3)), np.zeros((0, 3))):
        with pytest.raises(ValueError, match="2 or more values per feature"):
            layer.forward(x, training=True)
    np.testing.assert_array_equal(layer.buffers["running_var"], np.ones(3))
    assert layer.forward(np.ones((1, 3))).shape == (1, 3)              # evaluation: fine
    assert nl.BatchNorm(2).forward(np.ones((1, 2, 2, 1)), training=True).shape == (1, 2, 2, 1)


@pytest.mark.parametrize("n, batch_size", [(33, 32), (10, 1)])
def test_fit_refuses_batch_norm_batches_of_one_sample_before_training(n, batch_size):
    X, y = np.random.default_rng(0).normal(size=(n, 2)), np.arange(n) % 2
    model = nl.Sequential([nl.Dense(2, 3, rng=0),
                           nl.Residual(nl.BatchNorm(3), nl.Activation("relu")),
                           nl.Dense(3, 1, rng=1)])
    model.compile(nl.losses.BinaryCrossEntropy(from_logits=True), "sgd")
    weights = [p.copy() for p in model.params]
    with pytest.raises(ValueError, match=rf"BatchNorm.*2 or more values per feature.*got input "
                                         rf"of shape \(1, 3\): batch_size={batch_size} over "
                                         rf"{n} samples makes a batch of 1;"):
        model.fit(X, y, batch_size=batch_size)
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.params, strict=True))
    model.fit(X, y, batch_size=batch_size + 1)   # no batch of one


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


def test_batchnorm_float32_variance_is_summed_in_float64():
    # Float32 sums of 60000 squares drift by up to 7e-6 here; float64's hold 1e-7.
    rng = np.random.default_rng(0)
    x = (1e4 + rng.normal(size=(60000, 2))).astype(np.float32)
    bn = nl.BatchNorm(2, momentum=0.0)   # float64 statistics of float32 data
    bn.forward(x, training=True)
    np.testing.assert_allclose(bn.buffers["running_var"], x.astype(np.float64).var(axis=0),
                               rtol=1e-7)


def test_batchnorm_float32_batch_whose_sum_is_beyond_float32():
    # Four float32 rows of 1e38 sum to 4e38, beyond float32's 3.4e38: summed in float32,
    # the mean was inf and the output NaN.
    x = np.full((4, 2), 1e38, np.float32)
    y = nl.BatchNorm(2).forward(x, training=True)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, 0.0)


def test_batchnorm_running_mean_of_float32_data_is_the_batch_mean():
    # The mean rounded to float32 (off by up to 5e-4 near 1e4) plus what the second
    # centring finds is the batch's mean; added to the float64 mean, that rounding counted
    # twice.
    rng = np.random.default_rng(0)
    x = (1e4 + rng.normal(size=(60000, 2))).astype(np.float32)
    bn = nl.BatchNorm(2, momentum=0.0)   # float64 running statistics
    bn.forward(x, training=True)
    np.testing.assert_allclose(bn.buffers["running_mean"], x.astype(np.float64).mean(axis=0),
                               rtol=1e-10)


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
