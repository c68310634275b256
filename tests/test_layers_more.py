"""Flatten, Dropout, BatchNorm and Residual: gradients, modes and errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nnlab as nl
from tests.test_conv_layers import check_layer


def test_flatten_round_trip():
    layer = nl.Flatten()
    x = np.arange(24.0).reshape(2, 3, 4)
    assert layer.forward(x).shape == (2, 12)
    assert np.array_equal(layer.backward(layer.forward(x)), x)
    assert layer.output_shape((3, 4)) == (12,)


@given(st.floats(0.1, 0.9), st.integers(0, 99))
def test_dropout_statistics(rate, seed):
    layer = nl.Dropout(rate, rng=seed)
    x = np.ones((200, 100))
    y = layer.forward(x, training=True)
    assert abs((y == 0).mean() - rate) < 0.03
    assert abs(y.mean() - 1.0) < 0.08
    dy = np.full_like(x, 2.0)
    np.testing.assert_array_equal(layer.backward(dy), dy * (y != 0) / (1 - rate))
    assert np.array_equal(layer.forward(x), x)


def test_dropout_seed_and_rate_checks():
    a = nl.Dropout(0.5, rng=3).forward(np.ones((4, 4)), training=True)
    b = nl.Dropout(0.5, rng=3).forward(np.ones((4, 4)), training=True)
    assert np.array_equal(a, b)
    for rate in (-0.1, 1.0):
        with pytest.raises(ValueError, match="rate"):
            nl.Dropout(rate)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (3, 3, 2, 4)])
def test_batchnorm_gradients_in_both_modes(shape):
    rng = np.random.default_rng(0)
    layer = nl.BatchNorm(3)
    layer.params["gamma"][:] = rng.normal(size=3)
    layer.params["beta"][:] = rng.normal(size=3)
    x = rng.normal(size=shape) * 2 + 1
    for training in (True, False):
        assert check_layer(layer, x, training=training) < 1e-6


def test_batchnorm_normalizes_per_channel_in_training():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, size=(8, 2, 4, 4))
    y = nl.BatchNorm(2).forward(x, training=True)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=(0, 2, 3)), 1, atol=1e-3)


def test_batchnorm_uses_running_statistics_in_evaluation():
    layer = nl.BatchNorm(1, momentum=0.5)
    layer.forward(np.array([[1.0], [3.0]]), training=True)
    assert layer.buffers["running_mean"][0] == pytest.approx(1.0)
    assert layer.buffers["running_var"][0] == pytest.approx(0.5 * 1 + 0.5 * 1.0)
    y = layer.forward(np.array([[1.0]]))
    assert y[0, 0] == pytest.approx(0.0, abs=1e-5)


def test_residual_gradient_and_shape_error():
    block = nl.Residual(nl.Dense(4, 4, rng=0), nl.Activation("tanh"), nl.Dense(4, 4, rng=1))
    x = np.random.default_rng(0).normal(size=(3, 4))
    assert check_layer(block, x) < 1e-6
    assert set(block.params) == {"0.W", "0.b", "2.W", "2.b"}
    with pytest.raises(ValueError, match=r"changes the shape from \(3, 4\) to \(3, 2\)"):
        nl.Residual(nl.Dense(4, 2)).forward(x)


def test_residual_parameters_are_the_inner_arrays():
    inner = nl.Dense(2, 2, rng=0)
    block = nl.Residual(inner)
    assert block.params["0.W"] is inner.params["W"]
    model = nl.Sequential([block])
    model.compile("mse", nl.optimizers.SGD(0.1))
    before = inner.params["W"].copy()
    model.train_step(np.ones((4, 2)), np.zeros((4, 2)))
    assert not np.array_equal(before, inner.params["W"])


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
