"""Diagnostics of training: how large the gradients are, and how noisy.

A network trains only if every layer receives a usable gradient. These helpers build deep test
networks and measure the gradient each weight matrix gets (chapter 11 and its explorer), how
far a mini-batch gradient falls from the full one (chapter 7), and how the activations spread
layer by layer (chapter 5).
"""

import copy

import numpy as np

from nnlab import activations, initializers, losses
from nnlab._checks import as_float_array, as_rng, check_bool, check_number
from nnlab.layer_base import walk_layers
from nnlab.layers import Activation, Dense, Residual, inside_network
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
    n_in, n_out : int
        Sizes of the input and of the output (the last, linear ``Dense`` layer).
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
    >>> model = nl.diagnostics.deep_mlp(3, width=8, rng=0)
    >>> len(model.layers)
    7
    """
    check_number(depth, "depth", low=1, integer=True)
    check_number(width, "width", low=1, integer=True)
    check_number(init_scale, "init_scale", low=0, low_open=True)
    check_bool(batchnorm, "batchnorm")   # "no" would add the layers
    check_bool(residual, "residual")
    activations.get(activation)
    initializers.get(init)
    rng = as_rng(rng)
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
    """Every Dense layer of ``model``, in order, inside Residual blocks (nested ones too)."""
    return [layer for layer in walk_layers(model.layers) if isinstance(layer, Dense)]


def gradient_norms(model, X, y, loss="mse"):
    """The norm of dL/dW of every Dense layer, first layer first, after one backward pass.

    A copy of the model is run in training mode on (X, y) with ``loss``: the model itself is
    left as it was (batch norm's running statistics, dropout's random generator included).

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(16, 2))
    >>> model = nl.diagnostics.deep_mlp(10, width=16, rng=0)
    >>> norms = nl.diagnostics.gradient_norms(model, X, np.zeros((16, 1)))
    >>> bool(norms[0] < norms[-1])
    True
    """
    X = as_float_array(X, "X")   # images too: the model's first layer checks the shape
    model = copy.deepcopy(model)
    _backward(model, losses.get(loss), X, y)
    return np.array([np.linalg.norm(layer.grads["W"]) for layer in dense_layers(model)])


GRADIENT_LIMIT = 1e3


def gradient_warning(norms, residual=False, without_blocks=None):
    """What a network's gradient norms, layer by layer, say: vanishing, exploding or neither.

    ``norms`` holds the gradient norm of each weight matrix, first layer first and the output
    layer last (``gradient_norms``). Both their ratio and their size count, since gradients
    that are all huge (or all tiny) can have a ratio near one. They explode when a norm
    overflows, when the largest is above ``GRADIENT_LIMIT`` (1000) or when the first layer's
    is more than 1000 times the output layer's; they vanish when even the largest is below
    1/1000 or when the first layer's is less than 1/1000 of the output layer's. The answer
    is a sentence, or "" when the gradients do neither. For ``deep_mlp(..., residual=True)``
    (``residual``), one hidden layer comes with the note that it has no block (the first
    layer, which changes the width, is never wrapped), and exploding gradients with whether
    the blocks are the cause, when the norms of the same network ``without_blocks`` are given.

    Examples
    --------
    >>> nl.diagnostics.gradient_warning([0.5, 1.2, 0.9])
    ''
    >>> nl.diagnostics.gradient_warning([3e-7, 5e-7, 8e-7])
    'Vanishing gradients: even the largest is 8e-07, below 0.001.'
    """
    norms = _per_layer(norms, "norms")
    plain = None if without_blocks is None else _per_layer(without_blocks, "without_blocks")
    if plain is not None and not (residual and plain.shape == norms.shape):
        raise ValueError(f"without_blocks: one norm per layer of norms ({len(norms)}), given "
                         f"with residual=True; got {len(plain)} with residual={residual!r}")
    warning = _gradient_warning(norms, GRADIENT_LIMIT)
    if residual and len(norms) == 2:   # one hidden layer, and the output layer
        return ("No residual block: the one hidden layer changes the width, so y = x + f(x) "
                "cannot add its input. " + warning).strip()
    if plain is not None and warning.startswith("Exploding"):
        if _gradient_warning(plain, GRADIENT_LIMIT).startswith("Exploding"):
            return warning + " Without the blocks they explode too."
        warning += (f" Without the blocks the largest is {plain.max():.3g}: each block adds "
                    "its branch's output to the signal, unscaled, and the gradients grow "
                    "block after block.")
    return warning


def _gradient_warning(norms, limit):
    if not np.all(np.isfinite(norms)):
        return "Exploding gradients: some overflow to infinity."
    largest, ratio = norms.max(), norms[0] / norms[-1] if norms[-1] else np.nan
    if largest > limit:
        return f"Exploding gradients: the largest is {largest:.3g}, above {limit:g}."
    if largest < 1 / limit:   # before the ratio: 1e-5 over 1e-9 is no explosion
        return f"Vanishing gradients: even the largest is {largest:.3g}, below {1 / limit:g}."
    if ratio > limit:
        return (f"Exploding gradients: the first layer's is {ratio:.3g} times the output "
                "layer's.")
    if ratio < 1 / limit:
        return (f"Vanishing gradients: the first layer's is {ratio:.3g} times the output "
                "layer's; the early layers barely learn.")
    return ""


def gradient_parts(model, X, y, loss="mse"):
    """Each Dense layer's weight gradient dL/dW = x^T delta taken apart, first layer first.

    The gradient sums, over the batch, each sample's input ``x`` (a row) times the signal
    ``delta = dL/dz`` at the layer's output. Its norm is at most ``||x|| ||delta||``, reached
    only when the samples' products line up; ``"kept"`` is the share of that bound the sum
    keeps (about 1/sqrt(N) for N products of random signs). Returns a dict of arrays,
    ``"input"`` (the norms of x), ``"signal"`` (of delta) and ``"kept"``, whose product is
    :func:`gradient_norms`. The model is a plain stack of layers (no Residual block) and,
    as there, a copy of it is run.

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(16, 2))
    >>> model = nl.diagnostics.deep_mlp(3, width=8, rng=0)
    >>> parts = nl.diagnostics.gradient_parts(model, X, np.zeros((16, 1)))
    >>> product = parts["input"] * parts["signal"] * parts["kept"]
    >>> bool(np.allclose(product, nl.diagnostics.gradient_norms(model, X, np.zeros((16, 1)))))
    True
    """
    if any(isinstance(layer, Residual) for layer in model.layers):
        raise ValueError("gradient_parts takes a plain stack of layers: a Residual block's "
                         "layers receive the signal of the identity path too")
    model = copy.deepcopy(model)
    signal, _ = _output_signal(model, losses.get(loss), as_float_array(X, "X"), y)
    parts = []
    with np.errstate(all="ignore"), inside_network():
        for layer in reversed(model.layers):
            if isinstance(layer, Dense):   # the signal its output receives, before backward
                size_x, size_delta = np.linalg.norm(layer.x), np.linalg.norm(signal)
                gradient = np.linalg.norm(layer.x.T @ signal)   # a zero one keeps 0, not 0/0
                parts.append((size_x, size_delta, gradient / (size_x * size_delta) if gradient
                              else 0.0))
            signal = layer.backward(signal)
    columns = np.array(parts[::-1]).reshape(-1, 3).T   # (3, layers): no Dense, no columns
    return dict(zip(("input", "signal", "kept"), columns, strict=True))


def _output_signal(model, loss, X, y):
    """A forward pass on (X, y) in training mode: dL/d(output), and the checked targets."""
    with np.errstate(over="ignore", invalid="ignore"):
        y_pred = model.forward(X, training=True)
        # An overflowed y_pred fails check's test of its values; the targets alone still
        # need the shape and encoding of the output, or backward fails deep in a matmul.
        if np.all(np.isfinite(y_pred)):
            y_pred, y = loss.check(y_pred, y)
        else:
            y = loss.check_targets(y, y_pred.shape[1])
        y = np.asarray(y, dtype=y_pred.dtype)
        return loss.backward(y_pred, y), y


def _backward(model, loss, X, y):
    """One forward and backward pass on (X, y) in training mode; returns the checked targets."""
    dy, y = _output_signal(model, loss, X, y)
    # A diverged network's dy holds inf or NaN, which backward would refuse: here they
    # are the answer (gradient norms that explode), so they are passed on.
    with np.errstate(over="ignore", invalid="ignore"), inside_network():
        model.backward(dy)
    return y


def gradient_noise(model, X, y, batch_sizes, loss="mse", draws=100, seed=None):
    r"""How far a mini-batch gradient falls from the gradient on all the data, per batch size.

    For each batch size :math:`B` in the list ``batch_sizes``, ``draws`` batches of
    :math:`B` different examples are drawn at random and their gradients :math:`g_B`
    compared with the full gradient :math:`g` on all :math:`n` examples, every parameter of
    the model in one vector:

    .. math::
        \text{noise}(B) = \sqrt{\operatorname{mean}\, \lVert g_B - g \rVert^2}
        \,/\, \lVert g \rVert.

    Sampling theory predicts :math:`\text{noise}(B)^2 = \text{noise}(1)^2 \,
    \frac{n - B}{B\,(n - 1)}`: the error of the estimate falls like :math:`1/\sqrt{B}`
    while its cost grows like :math:`B`, and the full batch (:math:`B = n`) has none.

    The passes run in training mode at the model's current weights, on a copy of the model:
    the model itself is left as it was (batch norm's running statistics included). Dropout,
    active in training, adds noise of its own: even the full batch then has some.

    Returns
    -------
    numpy.ndarray
        ``noise(B)`` for each of ``batch_sizes``, in that order.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(100, 3)), rng.normal(size=100)
    >>> model = nl.Sequential([nl.Dense(3, 1, rng=0)])
    >>> noise = nl.diagnostics.gradient_noise(model, X, y, [1, 10, 100], draws=2000, seed=0)
    >>> noise.round(2)                                    # the full batch has no noise
    array([2.57, 0.79, 0.  ])
    >>> print(f"measured {noise[1] / noise[0]:.2f}, predicted {np.sqrt(90 / (10 * 99)):.2f}")
    measured 0.31, predicted 0.30
    """
    X = as_float_array(X, "X")
    loss = losses.get(loss)
    if np.ndim(batch_sizes) != 1:
        raise ValueError(f"batch_sizes must be a list of batch sizes, e.g. [10] or "
                         f"[1, 10, 100]; got {batch_sizes!r}")
    sizes = [check_number(b, "batch size", low=1, high=len(X), integer=True)
             for b in batch_sizes]
    check_number(draws, "draws", low=1, integer=True)
    rng = as_rng(seed, "seed")
    model = copy.deepcopy(model)
    targets = _backward(model, loss, X, y)
    full = _flat_gradient(model)
    if not np.linalg.norm(full) > 0:
        raise ValueError("the full gradient is zero (or not finite) at these weights, so "
                         "the noise relative to it is undefined")
    noise = []
    for size in sizes:
        squared = 0.0
        for _ in range(draws):
            batch = rng.choice(len(X), size=size, replace=False)
            _backward(model, loss, X[batch], targets[batch])
            squared += np.sum((_flat_gradient(model) - full) ** 2)
        noise.append(np.sqrt(squared / draws) / np.linalg.norm(full))
    return np.array(noise)


def _flat_gradient(model):
    return np.concatenate([g.ravel() for g in model.grads])


def activation_stds(model, X):
    """The standard deviation of the output of every layer, in evaluation mode.

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(256, 2))
    >>> model = nl.diagnostics.deep_mlp(4, width=32, activation="tanh", rng=0)
    >>> stds = nl.diagnostics.activation_stds(model, X)
    >>> len(stds)
    9
    """
    x = as_float_array(X, "X")
    stds = []
    # Inside a network, a layer passes on what overflowed instead of refusing it: the
    # spread of exploding activations is inf, and the chapter shows that.
    with np.errstate(over="ignore", invalid="ignore"), inside_network():
        for layer in model.layers:
            x = layer.forward(x)
            stds.append(float(np.std(x)))
    return np.array(stds)


def spread_warning(stds):
    """What the spread of a network's activations, layer by layer, says of its initial weights.

    ``stds``: the std of each hidden layer's activations, first layer first (of
    ``activation_stds``, the Activation layers' entries). The answer is a sentence, or ""
    if the spread neither explodes (past 1e6, or inf), vanishes (below 1e-4), nor grows or
    shrinks a hundredfold from the first layer to the last: a trend more layers continue.

    Examples
    --------
    >>> nl.diagnostics.spread_warning([0.6, 0.5, 0.45])
    ''
    >>> nl.diagnostics.spread_warning([3.3, 36.0, 400.0])[:52]
    'The activations grow layer by layer, 121 times from '
    """
    stds = _per_layer(stds, "stds")
    if not np.all(np.isfinite(stds)) or max(stds) > 1e6:
        return "The activations explode: the weights are far too large."
    if min(stds) < 1e-4:
        return "The activations vanish: the weights are far too small."
    growth = stds[-1] / stds[0]
    if growth > 100:
        return (f"The activations grow layer by layer, {growth:,.0f} times from the first "
                "to the last: the weights are too large.")
    if growth < 0.01:
        return (f"The activations shrink layer by layer, {1 / growth:,.0f} times from the "
                "first to the last: the weights are too small.")
    return ""


def layer_spreads(values):
    """Two spreads of each layer's activations ``values`` (arrays of samples x units): the
    standard deviation over all of them, and each unit's across the samples (the inputs),
    averaged over the units. Two lists of floats, ``(stds, input_stds)``; an exploded
    layer's are inf or NaN, without a warning (``spread_warning`` says what they mean).

    Examples
    --------
    >>> a = np.array([[0.0, 2.0], [0.0, 2.0]])   # each unit a constant of its own
    >>> nl.diagnostics.layer_spreads([a])
    ([1.0], [0.0])
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return ([float(np.std(v)) for v in values],
                [float(np.mean(np.std(v, axis=0))) for v in values])


def initialization_warning(stds, input_stds, saturated, activation):
    """The first of ``spread_warning``, ``input_warning`` and ``saturation_warning`` that has
    something to say of a network's initial activations (a spread that explodes saturates
    the units too: one warning names the cause), or "". ``saturated`` may be None."""
    return (spread_warning(stds) or input_warning(input_stds, stds, activation)
            or (saturation_warning(saturated, activation) if saturated is not None else ""))


def input_warning(input_stds, stds, activation):
    """Whether a network's layers still tell one input from another.

    ``stds`` holds each hidden layer's spread over all its activations (``spread_warning``),
    ``input_stds`` the part of it that comes from the input: each unit's standard deviation
    across the inputs, averaged over the units. A layer whose units each settle on a value
    of their own, whatever the input, keeps a healthy ``std`` (the units differ) while its
    ``input_std`` vanishes: the histogram of all its activations looks fine, and the network
    has forgotten its input. The answer is a sentence when the input's share of the spread,
    ``input_std / std``, falls a hundredfold from the first layer to the last, else "".

    Examples
    --------
    >>> nl.diagnostics.input_warning([0.2, 0.2], [0.21, 0.2], "tanh")
    ''
    >>> nl.diagnostics.input_warning([0.21, 2.6e-8], [0.21, 0.13], "sigmoid")[:42]
    'The layers forget their input: in layer 2,'
    """
    input_stds, stds = _per_layer(input_stds, "input_stds"), _per_layer(stds, "stds")
    if input_stds.shape != stds.shape:
        raise ValueError(f"input_warning takes one input std per std, got {input_stds.size} "
                         f"and {stds.size}")
    with np.errstate(divide="ignore", invalid="ignore"):
        share = input_stds / stds
    if not np.all(np.isfinite(share)) or share[-1] >= 0.01 * share[0]:
        return ""   # a layer of constant 0 is spread_warning's to explain
    why = (" Sigmoid's outputs average about 0.5, which the next layer's weights turn into a "
           "fixed offset per unit, while its slope, at most 1/4, shrinks what the input adds."
           if activation == "sigmoid" else "")
    return (f"The layers forget their input: in layer {stds.size}, each unit's output varies "
            f"{input_stds[-1]:.2g} across the inputs against {stds[-1]:.2g} across the units, "
            f"so every input gives nearly the same activations.{why}")


def saturation_warning(shares, activation):
    """What the share of saturated units, layer by layer, says of a tanh or sigmoid network.

    ``shares`` holds, for each hidden layer, the fraction of its activations on the flat
    ends of ``activation`` (``nnlab.explore.FLAT``: beyond 0.99 of the way to a limit), where
    the slope is nearly 0 and a unit barely learns. The answer is a sentence when more
    than half of some layer's units are saturated, else "" (and always "" for other
    activations: half of a ReLU layer's units at 0 is what a ReLU does).

    Examples
    --------
    >>> nl.diagnostics.saturation_warning([0.82, 0.8], "tanh")[:46]
    "Saturated: 82 % of layer 1's units sit on tanh"
    """
    shares = _per_layer(shares, "shares")
    layer = int(np.argmax(shares))
    if activation not in ("tanh", "sigmoid") or shares[layer] <= 0.5:
        return ""
    return (f"Saturated: {100 * shares[layer]:.0f} % of layer {layer + 1}'s units sit on "
            f"{activation}'s flat ends, where its slope is nearly 0: the weights are too large.")


def _per_layer(values, name):
    """``values`` as a 1-D float array of one number per layer, at least one."""
    values = as_float_array(values, name, ndim=1, dtype=np.float64, allow_nonfinite=True)
    if values.size == 0:
        raise ValueError(f"{name} must hold one number per layer; got none")
    return values
