"""Diagnostics of training: how large the gradients are, layer by layer.

A network trains only if every layer receives a usable gradient. These helpers
build deep test networks and measure the gradient each weight matrix gets, the
numbers behind the vanishing- and exploding-gradient chapter and its explorer.
"""

import numpy as np

from nnlab import activations, initializers
from nnlab._checks import as_float_array, check_number
from nnlab.layers import Activation, Dense, Residual
from nnlab.model import Sequential
from nnlab.normalization import BatchNorm


def deep_mlp(depth, width=64, n_in=2, n_out=1, activation="sigmoid", init="glorot_uniform",
             init_scale=1.0, batchnorm=False, residual=False, rng=None):
    """A deep MLP of ``depth`` hidden blocks, each ``Dense -> [BatchNorm] -> activation``.

    Parameters
    ----------
    depth : int
        Number of hidden blocks (>= 1).
    width : int
        Units per hidden layer.
    activation : str
        Hidden activation (a name from ``nnlab.activations.NAMES``).
    init : str
        Initializer of every weight matrix; ``init_scale`` multiplies the drawn weights,
        so 1.0 is the scheme itself and values far from 1 make signals shrink or grow.
    batchnorm : bool
        Insert batch normalization before every hidden activation.
    residual : bool
        Wrap every hidden block after the first in ``Residual`` (y = x + block(x)).
    rng : int or numpy.random.Generator, optional

    Examples
    --------
    >>> model = deep_mlp(3, width=8, rng=0)
    >>> len(model.layers)
    7
    """
    check_number(depth, "depth", low=1, integer=True)
    check_number(width, "width", low=1, integer=True)
    check_number(init_scale, "init_scale", low=0, low_open=True)
    activations.get(activation)
    initializers.get(init)
    rng = np.random.default_rng(rng)
    layers = []
    for i in range(depth):
        dense = Dense(n_in if i == 0 else width, width, init=init, rng=rng)
        dense.params["W"] *= init_scale
        block = [dense, *([BatchNorm(width)] if batchnorm else []), Activation(activation)]
        layers.extend([Residual(*block)] if residual and i > 0 else block)
    out = Dense(width, n_out, init=init, rng=rng)
    out.params["W"] *= init_scale
    layers.append(out)
    return Sequential(layers)


def dense_layers(model):
    """Every Dense layer of ``model``, in order, looking inside Residual blocks."""
    found = []
    for layer in model.layers:
        inner = layer.layers if isinstance(layer, Residual) else [layer]
        found.extend(x for x in inner if isinstance(x, Dense))
    return found


def gradient_norms(model, X, y, loss="mse"):
    """The norm of dL/dW of every Dense layer, first layer first, after one backward pass.

    The model is run in training mode on (X, y) with ``loss``; nothing is updated.

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(16, 2))
    >>> norms = gradient_norms(deep_mlp(10, width=16, rng=0), X, np.zeros((16, 1)))
    >>> bool(norms[0] < norms[-1])
    True
    """
    from nnlab import losses

    X = as_float_array(X, "X", ndim=2)
    loss = losses.get(loss)
    with np.errstate(over="ignore", invalid="ignore"):
        y_pred = model.forward(X, training=True)
        y_pred, y = loss.check(y_pred, y) if np.all(np.isfinite(y_pred)) else (y_pred, y)
        model.backward(loss.backward(y_pred, np.asarray(y, dtype=y_pred.dtype)))
    return np.array([np.linalg.norm(layer.grads["W"]) for layer in dense_layers(model)])


def activation_stds(model, X):
    """The standard deviation of the output of every layer, in evaluation mode.

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(256, 2))
    >>> stds = activation_stds(deep_mlp(4, width=32, activation="tanh", rng=0), X)
    >>> len(stds)
    9
    """
    x = as_float_array(X, "X")
    stds = []
    with np.errstate(over="ignore", invalid="ignore"):
        for layer in model.layers:
            x = layer.forward(x)
            stds.append(float(np.std(x)))
    return np.array(stds)
