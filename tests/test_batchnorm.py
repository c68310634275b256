"""BatchNorm: running statistics, gradients, float32 accuracy and agreement with PyTorch;
a batch it cannot train on is refused before any running statistic is updated."""

import json
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nnlab as nl
from tests.helpers import grad_error

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


# --- refused before any update of the running statistics -----------------------------


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


# --- float32 data: statistics summed in float64 --------------------------------------


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


def test_a_float32_spread_whose_squares_overflow_is_normalized_not_zeroed():
    # Squared in float32, deviations of 2e19 were inf: variance inf, x_hat 0, every output
    # beta, and the running variance inf for good.
    x = np.array([[2e19], [-2e19], [0.0]], np.float32)
    bn = nl.BatchNorm(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = bn.forward(x, training=True)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.ravel(), [1.5**0.5, -(1.5**0.5), 0.0], rtol=1e-6)
    np.testing.assert_allclose(bn.buffers["running_var"], 0.1 * 8e38 / 3, rtol=1e-6)


@pytest.mark.parametrize(("dtype", "scale"), [("float32", 1e20), ("float64", 1e160)])
def test_a_batch_variance_beyond_the_running_variance_s_dtype_is_refused(dtype, scale):
    # Stored, it was inf: every later output in evaluation was beta, in silence.
    bn = nl.BatchNorm(2, dtype=dtype)
    x = np.array([[1.0, 2.0], [-1.0, 0.5], [0.3, -2.0]], dtype)
    y = bn.forward(x, training=True)
    before = {k: v.copy() for k, v in bn.buffers.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=f"beyond its {dtype} running variance's range"):
            bn.forward(x[:2] * scale, training=True)
    for name, value in before.items():
        np.testing.assert_array_equal(bn.buffers[name], value)
    assert bn.backward(np.ones_like(y)).shape == x.shape   # the last forward's cache stands


@pytest.mark.parametrize("make", [lambda bn: nl.Sequential([bn, nl.Dense(2, 1, rng=0)]),
                                  nl.Residual])
def test_a_network_outside_fit_refuses_such_a_batch_too(make):
    # Only fit's training step lets it through, to stop the run as diverged (test_mistakes
    # _caught); a forward by hand left the running variance inf, in silence.
    bn = nl.BatchNorm(2)
    x = np.random.default_rng(0).normal(size=(8, 2)) * 1e160
    with pytest.raises(ValueError, match="beyond its float64 running variance's range"):
        make(bn).forward(x, training=True)
    np.testing.assert_array_equal(bn.buffers["running_var"], [1.0, 1.0])
