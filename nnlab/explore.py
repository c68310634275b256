"""The computations behind the interactive explorers, as plain functions.

Each function takes the values of an explorer's controls and returns a dict of the numbers it
shows (the explorer's ``state``). ``nnlab.widgets`` only wires controls to these functions and
draws the result; the tests and the static pages of the book call them directly.
"""

import functools
from copy import deepcopy

import numpy as np

from nnlab import activations, datasets, diagnostics, examples, initializers, losses, surfaces
from nnlab._checks import as_float_array, as_rng, check_number, lookup
from nnlab.layers import Activation, Conv2D, MaxPool2D, inside_network
from nnlab.optimizers import SGD
from nnlab.perceptron import Perceptron
from nnlab.surfaces import regression_problem

GATES = ("and", "or", "nand", "xor")


def perceptron(w1=1.0, w2=1.0, bias=-1.5, gate="and"):
    """A two-input perceptron with the given weights on a logic gate's truth table.

    The decision line is ``w1 x1 + w2 x2 + bias = 0``, i.e. ``x2 = slope x1 + intercept``.

    Examples
    --------
    >>> s = nl.explore.perceptron(1.0, 1.0, -1.5, "and")
    >>> s["predictions"], s["errors"], s["intercept"]
    ([0, 0, 0, 1], 0, 1.5)
    """
    X, y = datasets.logic_gate(lookup(gate, {g: g for g in GATES}, "gate"))
    unit = Perceptron.from_weights([w1, w2], bias=bias)
    # Sliders move in tenths, which binary floating point does not hold (0.1 + 0.2 - 0.3 is
    # 5.6e-17: a point on the line would fire): rounded to 9 decimals, z = 0 does not fire.
    fires = np.round(unit.net_input(X), 9) > unit.threshold
    predictions = np.where(fires, *unit.labels_[::-1])
    vertical = w2 == 0
    return {"w1": float(w1), "w2": float(w2), "bias": float(bias), "gate": gate,
            "inputs": X.astype(int).tolist(), "targets": y.tolist(),
            "predictions": predictions.tolist(), "errors": int(np.sum(predictions != y)),
            "slope": None if vertical else -w1 / w2,
            "intercept": None if vertical else -bias / w2}


def forward(w00=0.2, w01=-0.4, w10=0.6, w11=0.1):
    """The 2-2-1 worked example with the hidden weights (lecture layout) replaced.

    Examples
    --------
    >>> round(nl.explore.forward()["output"], 4)
    0.5694
    """
    model = examples.two_two_one(w1=[[w00, w01], [w10, w11]])
    hidden = model.layers[1].forward(model.layers[0].forward(examples.X))[0]
    output = float(model.predict(examples.X)[0, 0])
    return {"w1": [[w00, w01], [w10, w11]], "x": examples.X[0].tolist(),
            "hidden": hidden.tolist(), "output": output,
            "loss": float(losses.MSE()(model.predict(examples.X), examples.Y)),
            "weights": [layer.params["W"].tolist() for layer in model.layers[::2]],
            "biases": [layer.params["b"].tolist() for layer in model.layers[::2]]}


#: The lecture's activations, the only ones the static explorer offers (frames cost page size).
LECTURE_ACTIVATIONS = ("linear", "step", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu",
                       "softplus", "softsign", "exponential", "softmax")


def activation(name="sigmoid", weight=1.0, bias=0.0, x=None):
    """One neuron ``a = g(w x + b)`` over a range of inputs, and its slope da/dx = w g'(wx+b).

    Examples
    --------
    >>> s = nl.explore.activation("relu", weight=2.0, bias=-1.0, x=np.array([0.0, 1.0]))
    >>> s["output"], s["derivative"]
    ([0.0, 1.0], [0.0, 2.0])
    """
    fn = activations.get(name)
    x = np.linspace(-5, 5, 201) if x is None else as_float_array(x, "x", dtype=np.float64)
    z = weight * x + bias
    fn = activations.sigmoid if fn.name == "softmax" else fn   # one unit's softmax over (z, 0)
    with np.errstate(over="ignore"):   # exponential's slope at 1e4 is inf: drawn, not warned
        slope = weight * fn.derivative(z)
    return {"name": name, "weight": float(weight), "bias": float(bias), "x": x.tolist(),
            "output": fn(z).tolist(), "derivative": slope.tolist()}


def initialization(scheme="glorot_uniform", scale=1.0, depth=6, activation="tanh", width=128,
                   seed=0):
    """Activations of every hidden layer of a deep MLP fed standard-normal input.

    ``stds``, ``input_stds``: each layer's two spreads (``diagnostics.layer_spreads``);
    ``saturated``: each layer's share where the activation is flat (``FLAT``; else None).

    Examples
    --------
    >>> s = nl.explore.initialization("normal", depth=3, width=32)
    >>> len(s["stds"]), s["stds"][0] > 0.5
    (3, True)
    """
    rng = as_rng(seed, "seed")   # the input, then the weights: independent draws
    x = rng.normal(size=(256, width))
    model = diagnostics.deep_mlp(depth, width, n_in=width, activation=activation, init=scheme,
                                 init_scale=scale, rng=rng)
    values = []
    with np.errstate(over="ignore", invalid="ignore"), inside_network():
        for layer in model.layers[:-1]:
            x = layer.forward(x)
            if isinstance(layer, Activation):
                values.append(x)
    stds, input_stds = diagnostics.layer_spreads(values)
    flat = FLAT.get(activation)
    saturated = [float(np.mean(flat(v))) for v in values] if flat else None
    warning = diagnostics.initialization_warning(stds, input_stds, saturated, activation)
    return {"scheme": scheme, "scale": float(scale), "depth": depth, "activation": activation,
            "values": values, "stds": stds, "input_stds": input_stds, "saturated": saturated,
            "warning": warning}


#: Where each activation is flat, its slope near 0 (a ReLU at 0 passes no gradient).
FLAT = {"tanh": lambda a: np.abs(a) > 0.99, "sigmoid": lambda a: (a < 0.01) | (a > 0.99),
        "relu": lambda a: a == 0, "linear": lambda a: np.zeros(a.shape, dtype=bool)}


#: The loss explorer's losses, each with the range of its slider (class 1's value, as ``loss``
#: takes it) and the two labels of its true-class control: (another class, the slider's class).
LOSSES = {
    "binary cross-entropy": (losses.BinaryCrossEntropy(), (0.001, 0.999), (0, 1)),
    "squared error": (losses.MSE(), (-2.0, 3.0), (0, 1)),
    "hinge": (losses.Hinge(), (-3.0, 3.0), (-1, 1)),
    "categorical cross-entropy": (losses.CategoricalCrossEntropy(from_logits=True),
                                  (-3.0, 3.0), (0, 1)),
    "multiclass hinge": (losses.MulticlassHinge(), (-3.0, 3.0), (0, 1)),
}
#: The scores of classes 0 and 2 in the three-class losses (the slider sets class 1's). Class 0
#: leads with 1, which class 1 must pass to win; when class 0 is the true class, class 2 trails
#: it by the hinge's margin of 1 exactly: its hinge term is 0, and the loss is class 1's alone.
FIXED_SCORES = (1.0, 0.0)


def loss(name="binary cross-entropy", prediction=0.7, label=1):
    """The loss and its gradient for one prediction, and both as curves over the prediction.

    The prediction, inside the loss's range in ``LOSSES``, is class 1's probability for
    binary cross-entropy, a number for the squared error, a score for the other losses.
    The three-class losses get the scores ``(1, prediction, 0)`` (``FIXED_SCORES``) and
    the true class ``label``; their gradient is the one of class 1's score. At a kink (the
    hinge's at y s = 1) the gradient is one side's slope; ``sides`` has the slopes just left
    and right of the prediction.

    Examples
    --------
    >>> s = nl.explore.loss("binary cross-entropy", 0.5, 1)
    >>> round(s["loss"], 4), round(s["gradient"], 4)
    (0.6931, -2.0)
    >>> s = nl.explore.loss("categorical cross-entropy", 0.0, 1)
    >>> s["y_pred"], round(s["loss"], 4), round(s["gradient"], 4)
    ([1.0, 0.0, 0.0], 1.5514, -0.7881)
    """
    fn, (lo, hi), labels = lookup(name, LOSSES, "loss")
    if label not in labels:
        raise ValueError(f"{name} takes labels {labels}; got {label!r}")
    prediction = float(check_number(prediction, f"the prediction of {name}", low=lo, high=hi))
    column = 1 if fn.rowwise else 0   # where the prediction sits in a sample's row
    y_pred, y_true = _samples(fn, [prediction], label)
    grid, targets = _samples(fn, np.linspace(lo, hi, 300), label)
    sides = _samples(fn, [prediction - 1e-9, prediction + 1e-9], label)
    # backward averages over its samples: times their number, each one's gradient.
    return {"name": name, "prediction": prediction, "label": label,
            "y_pred": y_pred[0].tolist(), "loss": fn(y_pred, y_true),
            "gradient": float(fn.gradient(y_pred, y_true)[0, column]),
            "sides": (fn.backward(*sides) * 2)[:, column].tolist(),
            "grid": grid[:, column].tolist(),
            "curve": [fn.forward(x[None], t[None]) for x, t in zip(grid, targets, strict=True)],
            "slope": (fn.backward(grid, targets) * len(grid))[:, column].tolist()}


def _samples(fn, predictions, label):
    """``(y_pred, y_true)``, one sample per prediction, in the shapes ``fn`` takes.

    A three-class loss gets rows of scores ``(1, prediction, 0)`` and one-hot rows of the
    class ``label``; the other losses a column of predictions and a column of labels."""
    p = np.asarray(predictions, dtype=float)[:, None]
    if not fn.rowwise:
        return p, np.full_like(p, label)
    first, last = (np.full_like(p, score) for score in FIXED_SCORES)
    return np.hstack([first, p, last]), np.eye(3)[np.full(len(p), label)]


#: The most steps ``learning_rate`` takes (its slider goes to 100; a million took a minute).
MAX_STEPS = 1000


def learning_rate(lr=0.1, steps=30, start=-4.0, batch_size=200, seed=0):
    """Gradient descent on the squared error of ``y = w x + b``, from ``(w, b) = (start, start)``.

    ``batch_size`` below the data size (200) gives stochastic mini-batch steps.
    Divergence is reported in the state, never raised: parameters beyond ``surfaces.LIMIT``,
    a rate above ``stable_below`` (2 over the loss's largest curvature, chapter 7's bound in
    2-D) for full batches, or a loss ending above its start (for mini-batches, whose first
    steps may rise by chance: after 10 steps, or ten times as far above the least loss as at
    the start, or above the bound); at the bound the path neither grows nor converges.

    Examples
    --------
    >>> nl.explore.learning_rate(lr=0.1, steps=50)["diverged"]
    False
    >>> nl.explore.learning_rate(lr=3.0)["diverged"]
    True
    """
    check_number(batch_size, "batch_size", low=1, integer=True)
    check_number(steps, "steps", low=1, high=MAX_STEPS, integer=True)
    check_number(lr, "lr", low=0, low_open=True)
    x, y = regression_problem(seed=seed)
    rng = as_rng(seed, "seed")
    # The data's moments give the loss anywhere (the bowl the path descends) in a 3x3 form.
    features = np.stack([x, np.ones_like(x), y])
    moments = features @ features.T / len(x)

    def grad(p):
        idx = rng.choice(len(x), size=min(batch_size, len(x)), replace=False)
        r = p[0] * x[idx] + p[1] - y[idx]
        return np.array([2 * np.mean(r * x[idx]), 2 * np.mean(r)])

    path = surfaces.descend(grad, [start, start], SGD(lr), steps)
    with np.errstate(over="ignore", invalid="ignore"):
        curve = surfaces.line_fit_loss(path, moments).tolist()
    stable_below, full = 2 / float(np.linalg.eigvalsh(2 * moments[:2, :2]).max()), len(x)
    # At the bound itself the steepest direction's steps keep their size: neither growth
    # nor convergence (isclose: within MAX_STEPS, a rate 1e-5 off the bound looks the same).
    edge = batch_size >= full and bool(np.isclose(lr, stable_below))
    least = float(surfaces.line_fit_loss(surfaces.line_fit_best(moments), moments))
    grew = not curve[-1] <= curve[0] and (batch_size >= full or steps >= 10 or lr > stable_below
                                          or not curve[-1] - least <= 10 * (curve[0] - least))
    diverged = (surfaces.diverged(path, steps) or grew
                or (batch_size >= full and lr > stable_below and not edge))
    bound = f"full-batch steps are stable below 2 / (largest curvature) = {stable_below:.4g}"
    warning = (f"Diverged: with learning rate {lr:.3g} each step overshoots the minimum "
               f"further than the last ({bound})." if batch_size >= full else
               f"Diverged: with learning rate {lr:.3g} and batches of {batch_size} the steps "
               f"overshoot and the loss grows ({bound}; a small batch's noisy slope, often "
               "steeper, overshoots sooner).") if diverged else ""
    if edge:
        warning = (f"No convergence: learning rate {lr:.4g} is 2 / (largest curvature) itself: "
                   "each step overshoots the minimum by as much as it moved, forever.")
    return {"lr": float(lr), "steps": steps, "start": float(start), "batch_size": batch_size,
            "path": path.tolist(), "losses": curve, "final_loss": curve[-1], "seed": seed,
            "diverged": bool(diverged), "stable_below": stable_below, "moments": moments.tolist(),
            "warning": warning}


def optimizer_race(names=surfaces.OPTIMIZERS, lr=0.01, surface="bowl", steps=200):
    """The chosen optimizers (named in any case) racing on a surface: paths and value curves.

    A run has diverged when ``surfaces.descend`` stopped it, or it is ``Surface.climbing``.

    Examples
    --------
    >>> s = nl.explore.optimizer_race(["SGD", "Adam"], lr=0.02, surface="bowl", steps=50)
    >>> s["final"]["Adam"] < s["final"]["SGD"]
    True
    """
    names = surfaces.race_names(names)   # display names: the figure's keys
    s = surfaces.get(surface)
    paths = surfaces.race(surface, names, lr, steps)
    with np.errstate(over="ignore", invalid="ignore"):
        curves = {k: s.f(p).tolist() for k, p in paths.items()}
    diverged = [k for k, p in paths.items() if surfaces.diverged(p, steps) or s.climbing(curves[k])]
    return {"names": names, "lr": float(lr), "surface": surface, "steps": steps, "paths": paths,
            "curves": curves, "final": {k: c[-1] for k, c in curves.items()}, "diverged": diverged,
            "warning": f"Diverged: {', '.join(diverged)}." if diverged else ""}


BACKPROP_WEIGHTS = ("w2_00", "w2_01", "w1_00", "w1_01", "w1_10", "w1_11")
#: A weight's values in the backprop explorer (slider, loss curve), the same for every weight.
BACKPROP_RANGE = (-3.0, 3.0)


def backprop(weight="w2_00", value=None, window=BACKPROP_RANGE):
    """The 2-2-1 example's loss as one weight varies, and backprop's slope at ``value``.

    ``weight`` names a weight in the lecture's notation (``w2_01``: layer 2, unit 0, input 1).
    ``value`` defaults to its value in the worked example (``"lecture"`` in the result),
    where the gradient is chapter 9's; the loss curve covers ``window`` whatever the value.

    Examples
    --------
    >>> s = nl.explore.backprop("w2_00")
    >>> round(s["gradient"], 5), round(s["numerical"], 5)
    (-0.11086, -0.11086)
    >>> s = nl.explore.backprop("w2_01")
    >>> s["value"] == s["lecture"] == -0.3, round(s["gradient"], 5)
    (True, -0.12895)
    """
    layer, j, k = _weight_index(weight)
    lecture = lecture_weight(weight)
    value = lecture if value is None else float(check_number(value, weight))
    if np.shape(window) != (2,) or not (check_number(window[0], "window start")
                                        < check_number(window[1], "window end")):
        raise ValueError(f"backprop: window must be a pair (low, high), low < high; got {window!r}")
    w1, w2 = examples.W1_LECTURE.copy(), examples.W2_LECTURE.copy()
    (w1 if layer == 1 else w2)[j, k] = value
    model = examples.two_two_one(w1=w1, w2=w2)
    y_pred = model.forward(examples.X, training=True)
    model.backward(losses.MSE().gradient(y_pred, examples.Y))
    gradient = float(model.layers[0 if layer == 1 else 2].grads["W"][k, j])
    a1, y_hat = model.layers[1].y[0], float(y_pred[0, 0])
    factors = {"dC/dy_hat": 2 * (y_hat - float(examples.Y[0, 0])),
               "dy_hat/dz2": y_hat * (1 - y_hat),
               **({"dz2/dw": float(a1[k])} if layer == 2 else
                  {"dz2/da1": float(examples.W2_LECTURE[0, j]),
                   "da1/dz1": float(a1[j] * (1 - a1[j])), "dz1/dw": float(examples.X[0, k])})}
    grid = np.linspace(*window, 121)
    return {"weight": weight, "value": value, "lecture": lecture, "loss": _loss(weight, value),
            "gradient": gradient, "numerical": (_loss(weight, value + 1e-6)
                                                - _loss(weight, value - 1e-6)) / 2e-6,
            "factors": factors, "product": float(np.prod(list(factors.values()))),
            "grid": grid.tolist(), "curve": [_loss(weight, v) for v in grid]}


@functools.lru_cache(maxsize=1024)
def _loss(weight, value):
    """The example's loss with ``weight`` (lecture notation) set to ``value``. Cached: every
    move of the value slider redraws the same 121 points of the weight's loss curve."""
    layer, j, k = _weight_index(weight)
    w1, w2 = examples.W1_LECTURE.copy(), examples.W2_LECTURE.copy()
    (w1 if layer == 1 else w2)[j, k] = value
    return losses.MSE()(examples.two_two_one(w1=w1, w2=w2).predict(examples.X), examples.Y)


def lecture_weight(weight):
    """The value of ``weight`` (lecture notation, e.g. ``"w2_01"``) in the worked example.

    Examples
    --------
    >>> nl.explore.lecture_weight("w2_01"), nl.explore.lecture_weight("w1_10")
    (-0.3, 0.6)
    """
    layer, j, k = _weight_index(weight)
    return float((examples.W1_LECTURE if layer == 1 else examples.W2_LECTURE)[j, k])


def _weight_index(weight):
    lookup(weight, {w: w for w in BACKPROP_WEIGHTS}, "weight")
    return int(weight[1]), int(weight[3]), int(weight[4])


def gradient_flow(depth=10, activation="sigmoid", init_scale=1.0, batchnorm=False,
                  residual=False, width=32, seed=0):
    """Per-layer gradient norms of a deep MLP after one backward pass.

    ``norms`` has ``depth + 1`` entries: the hidden layers from the first, then the output
    layer. ``ratio`` is the first layer's norm over the output layer's; ``smallest`` and
    ``largest`` are the extremes of the finite norms: a ratio near one can hide gradients that
    all explode or all vanish, so the warning (``diagnostics.gradient_warning``) looks at both.

    Examples
    --------
    >>> s = nl.explore.gradient_flow(depth=12, activation="sigmoid")
    >>> len(s["norms"]), s["ratio"] < 1e-4, s["warning"].startswith("Vanishing")
    (13, True, True)
    """
    init = initializers.suited_to(activation)
    rng = as_rng(seed, "seed")   # the data, then the weights: independent draws
    X = rng.normal(size=(64, 2))
    y = (X[:, :1] * X[:, 1:] > 0).astype(float)
    build = functools.partial(diagnostics.deep_mlp, depth, width, activation=activation,
                              init=init, init_scale=init_scale, batchnorm=batchnorm)
    twin = deepcopy(rng)   # the same weights again, for the network without its blocks
    norms = diagnostics.gradient_norms(build(rng=rng, residual=residual), X, y)
    plain = diagnostics.gradient_norms(build(rng=twin), X, y) if residual else None
    warning = diagnostics.gradient_warning(norms, residual=residual, without_blocks=plain)
    finite = norms[np.isfinite(norms)]
    ratio = float(norms[0] / norms[-1]) if np.all(np.isfinite(norms)) and norms[-1] else np.nan
    return {"depth": depth, "activation": activation, "init_scale": float(init_scale),
            "batchnorm": batchnorm, "residual": residual, "norms": norms.tolist(),
            "ratio": ratio, "smallest": float(finite.min()) if finite.size else np.nan,
            "largest": float(finite.max()) if finite.size else np.nan, "warning": warning}


KERNELS = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "vertical edges": [[1, 0, -1], [1, 0, -1], [1, 0, -1]],
    "horizontal edges": [[1, 1, 1], [0, 0, 0], [-1, -1, -1]],
    "blur": [[1 / 9] * 3] * 3,
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "outline": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
}


def kernel(kernel="vertical edges", digit=0, pool=2):
    """A 3x3 kernel (a preset name or a 3x3 array) on the digit of index ``digit``: the
    feature map (padding 1: the image's size), and that map max-pooled in ``pool`` windows.

    Examples
    --------
    >>> s = nl.explore.kernel("identity", digit=0)
    >>> np.array_equal(s["feature_map"], s["image"])
    True
    """
    k = np.asarray(lookup(kernel, KERNELS, "kernel") if isinstance(kernel, str) else kernel,
                   dtype=float)
    if k.shape != (3, 3):
        raise ValueError(f"the kernel must be 3x3; got shape {k.shape}")
    images, labels = _digits()
    index = check_number(digit, "digit", low=0, high=len(images) - 1, integer=True)
    image = images[index] / 16.0
    conv = Conv2D(1, 1, kernel_size=3, padding=1)
    conv.params["W"][0, 0] = k
    feature = conv.forward(image[None])[0, 0]
    pooled = MaxPool2D(pool).forward(feature[None, None])[0, 0]
    return {"kernel": k.tolist(), "digit": index, "label": int(labels[index]),
            "image": image[0], "feature_map": feature, "pooled": pooled}


@functools.lru_cache(maxsize=1)
def _digits():
    return datasets.load_digits(as_images=True)
