"""Shared test helpers: the peak memory of a call, a central-difference gradient independent of
nnlab.gradcheck and a layer's backward checked with it, the definition of a convolution one
output position at a time, the kinks of the activations, where no gradient can be checked, the
check that training resumed from a model file takes the steps it would have taken, Keras's
optimizers run on the same gradients and its metrics on the same data (when Keras is
importable), a static explorer page's frames, the small models and data of the model tests, and
a layer of one's own that refuses to train on a small batch."""

import json
import re
import tracemalloc

import numpy as np
import pytest

import nnlab as nl
from nnlab.layers import Activation, Dense


def peak_bytes(call):
    """``call()``'s result and the most memory it held at once, in bytes (tracemalloc)."""
    tracemalloc.start()
    try:
        result = call()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def numeric_grad(f, x, eps=1e-6):
    """Central differences of the scalar f at x (x perturbed in place and restored)."""
    g = np.zeros_like(x, dtype=np.float64)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        fp = f()
        x[i] = old - eps
        fm = f()
        x[i] = old
        g[i] = (fp - fm) / (2 * eps)
    return g


def numerical_gradient(f, x, h=1e-6):
    """``numeric_grad`` of ``f(x)``, a function of its argument, at a float64 copy of x."""
    x = np.array(x, dtype=np.float64)
    return numeric_grad(lambda: f(x), x, eps=h)


def rel_error(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - b) / denom)


#: Where relu and its kin (step, leaky ReLU, ELU, SELU, ReLU6, the hard sigmoid and hard
#: SiLU) have no derivative: a central difference across one measures a jump, not a slope.
KINKS = (-3.0, 0.0, 3.0, 6.0)


def grad_error(layer, x, training=False, before_forward=None):
    """Max relative error of ``layer``'s backward (input and parameters) vs central differences.

    ``before_forward`` runs before every forward pass (to replay a random mask).
    """
    dy = np.random.default_rng(1).normal(size=layer.forward(x, training=training).shape)

    def f():
        if before_forward is not None:
            before_forward()
        return float(np.sum(layer.forward(x, training=training) * dy))

    f()
    errors = [rel_error(layer.backward(dy), numeric_grad(f, x))]
    for name, p in layer.params.items():
        f()
        layer.backward(dy)
        errors.append(rel_error(layer.grads[name], numeric_grad(f, p)))
    return max(errors)


def naive_conv(x, W, b, stride, pad):
    """The definition: one output position at a time, for 1 or 2 spatial axes."""
    nd = x.ndim - 2
    x = np.pad(x, [(0, 0), (0, 0), *((p, p) for p in pad)])
    kernel = W.shape[2:]
    out = [(n - k) // s + 1 for n, k, s in zip(x.shape[2:], kernel, stride, strict=True)]
    y = np.zeros((len(x), len(W), *out))
    for pos in np.ndindex(*out):
        box = tuple(slice(i * s, i * s + k) for i, s, k in zip(pos, stride, kernel, strict=True))
        patch = x[(slice(None), slice(None), *box)]
        axes = list(range(1, 2 + nd))
        y[(slice(None), slice(None), *pos)] = np.tensordot(patch, W, axes=(axes, axes)) + b
    return y


def away_from_kinks(x, margin=1e-3):
    """A copy of x in which every value closer than ``margin`` to a kink is moved 0.5 right."""
    x = np.asarray(x)
    near = np.min(np.abs(x[..., None] - np.array(KINKS)), axis=-1) < margin
    return np.where(near, x + 0.5, x)


def resumed_training(make_optimizer, dtype, tmp_path):
    """Train a small CNN (Conv2D, Dense, BatchNorm: biases, a kernel, matrices; Dropout)
    for two epochs with ``make_optimizer()``, save it and load it; assert that the file kept
    the optimizer's settings, step count and state arrays (in ``dtype``), and that two more
    epochs of each (the same dropout masks too) give the same weights, bit for bit.
    Returns ``(model, saved file)``."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 1, 4, 4))
    y = (X.mean(axis=(1, 2, 3)) > 0).astype(float)[:, None]
    model = nl.Sequential([nl.Conv2D(1, 3, 3, padding=1, rng=0, dtype=dtype),
                           nl.Activation("relu"), nl.Flatten(), nl.Dropout(0.25, rng=3),
                           nl.Dense(3 * 4 * 4, 4, rng=1, dtype=dtype),
                           nl.BatchNorm(4, dtype=dtype), nl.Activation("tanh"),
                           nl.Dense(4, 1, rng=2, dtype=dtype)])
    model.compile(nl.losses.BinaryCrossEntropy(from_logits=True), make_optimizer())
    model.fit(X, y, epochs=2, batch_size=8, seed=0)
    path = model.save(tmp_path / "paused")
    loaded = nl.load_model(path)
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.optimizer.iterations == model.optimizer.iterations == 6
    for ours, theirs in zip(model.optimizer.state, loaded.optimizer.state, strict=True):
        assert ours.keys() == theirs.keys()
        for key in ours:
            if key != "param" and not key.startswith("scratch"):
                np.testing.assert_array_equal(ours[key], theirs[key])
                assert theirs[key].dtype == dtype
    for m in (model, loaded):
        m.fit(X, y, epochs=2, batch_size=8, seed=1)
    for a, b in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
        assert b.dtype == dtype
    return model, path


def keras_steps(name, params, grads, **settings):
    """The weights Keras's optimizer ``name`` ends with after the steps ``grads`` (a list of
    lists of gradients) from ``params``, in float64; the test is skipped without Keras."""
    keras = pytest.importorskip("keras")
    if not hasattr(keras.optimizers, name):
        pytest.skip(f"this Keras has no {name}")
    weights = [keras.Variable(p, dtype="float64") for p in params]
    opt = getattr(keras.optimizers, name)(**settings)
    for gs in grads:
        opt.apply_gradients([(keras.ops.convert_to_tensor(g, dtype="float64"), w)
                             for g, w in zip(gs, weights, strict=True)])
    return [keras.ops.convert_to_numpy(w) for w in weights]


def keras_metric(name, y_true, y_pred, **settings):
    """The result of ``keras.metrics.<name>(**settings)`` after one update on (y_true,
    y_pred), as a NumPy array; the test is skipped without Keras."""
    keras = pytest.importorskip("keras")
    metric = getattr(keras.metrics, name)(**settings)
    metric.update_state(np.asarray(y_true, float), np.asarray(y_pred, float))
    return keras.ops.convert_to_numpy(metric.result())


def static_page_data(page):
    """The JSON a static explorer page holds: its controls, images and frames by key."""
    return json.loads(re.search(r'class="nnlab-frames">(.*?)</script>', page).group(1))


def mlp(n_in=2, hidden=8, n_out=1, out="sigmoid", seed=0):
    return nl.Sequential([Dense(n_in, hidden, rng=seed), Activation("tanh"),
                          Dense(hidden, n_out, rng=seed + 1), Activation(out)])


def regression_data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, X @ np.array([1.0, -2.0, 0.5]) + 0.3


def snapshot(model):
    return [w.copy() for w in model.get_weights()]


def assert_same_weights(model, weights):
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), weights, strict=True))


class TrainsOnRows(nl.layers.Layer):
    """A layer of one's own with a rule of training alone (``rows`` or more per batch),
    which it declares nowhere: a trial pass in evaluation mode cannot foresee it."""

    def __init__(self, rows):
        super().__init__()
        self.rows = rows

    def forward(self, x, training=False):
        if training and len(x) < self.rows:
            raise ValueError(f"TrainsOnRows trains on {self.rows} or more rows")
        self._check_input(x)
        return 2 * x

    def backward(self, dy):
        return 2 * self._check_grad(dy)
