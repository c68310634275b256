"""Two-parameter loss surfaces and the paths optimizers take on them.

The surfaces are small enough to draw and hard in the ways real losses are:
an ill-conditioned bowl (one direction much steeper than the other), the
Rosenbrock valley (long, curved, flat-bottomed) and a saddle (a point where
the gradient vanishes but which is no minimum). ``descend`` runs any nnlab
optimizer on them, so the chapters and explorers show the real update rules.
"""

from collections.abc import Iterable

import numpy as np

from nnlab import optimizers
from nnlab._checks import as_float_array, as_rng, check_number, did_you_mean, lookup


class Surface:
    """A differentiable function of two parameters, with a start point and a view box.

    ``f`` and ``grad`` take an array whose last axis holds the two parameters.
    """

    def __init__(self, name, f, grad, start, xlim, ylim, minimum):
        self.name, self.f, self.grad = name, f, grad
        self.start, self.xlim, self.ylim, self.minimum = start, xlim, ylim, minimum

    def __repr__(self):
        return f"<surface {self.name}>"

    def climbing(self, values):
        """Whether a run whose value per step was ``values`` diverges though ``descend`` did
        not stop it: its last value is its highest, and over ten times as far above the
        minimum as the start's (SGD at lr=0.1 on the bowl: 4e4 after 10 steps, from 20.5).

        Examples
        --------
        >>> bowl = nl.surfaces.get("bowl")
        >>> bowl.climbing([20.5, 300.0, 4e4]), bowl.climbing([20.5, 4e4, 300.0])
        (True, False)
        """
        start, last = self.f(np.array(self.start)) - self.minimum, values[-1]
        return not (last - self.minimum <= 10 * start or last < max(values))


# Elementwise arithmetic only, no matrix products: chapter 8 prints values that are down to
# float64's last digits (1e-16 on Rosenbrock), and a product's rounding, which differs
# between BLAS kernels, would make them differ from one CPU to the next. For the same
# reason the saddle's powers are written as products: NumPy computes y ** 3 and y ** 4 with
# a pow function (its own SIMD one or the C library's), whose last bit differs from one
# machine to another, while every machine rounds a product alike (y ** 2 is y * y in NumPy).
SURFACES = {
    "bowl": Surface(
        "bowl",
        lambda p: 0.5 * (p[..., 0] ** 2 + 25 * p[..., 1] ** 2),
        lambda p: np.stack([p[..., 0], 25 * p[..., 1]], axis=-1),
        (-4.0, 1.0), (-5, 5), (-1.5, 1.5), 0.0),
    "rosenbrock": Surface(
        "rosenbrock",
        lambda p: (1 - p[..., 0]) ** 2 + 100 * (p[..., 1] - p[..., 0] ** 2) ** 2,
        lambda p: np.stack([-2 * (1 - p[..., 0]) - 400 * p[..., 0] * (p[..., 1] - p[..., 0] ** 2),
                            200 * (p[..., 1] - p[..., 0] ** 2)], axis=-1),
        (-1.5, 2.0), (-2, 2), (-1, 3), 0.0),
    "saddle": Surface(
        "saddle",
        lambda p: p[..., 0] ** 2 - p[..., 1] ** 2 + 0.25 * (p[..., 1] ** 2) ** 2,
        lambda p: np.stack([2 * p[..., 0], -2 * p[..., 1] + p[..., 1] ** 2 * p[..., 1]],
                           axis=-1),
        (1.0, 1e-3), (-1.5, 1.5), (-2, 2), -1.0),
}
#: The surfaces by name: ``"bowl"``, ``"rosenbrock"``, ``"saddle"``.
NAMES = tuple(SURFACES)

#: Adaptive methods divide by the gradient's own scale, so their learning rate is a step
#: length in parameter units; these factors put every family on a comparable footing for
#: one shared learning-rate slider.
LR_FACTORS = {"SGD": 1, "momentum": 1, "Nesterov": 1, "AdaGrad": 50, "RMSprop": 5, "Adam": 50}
#: The six classic optimizers by display name, as the race shows them.
OPTIMIZERS = tuple(LR_FACTORS)


def line_fit_loss(p, moments):
    """The mean squared error of the line ``y = w x + b`` at each ``p = (w, b)`` (last axis).

    ``moments`` is the 3x3 mean of (x, 1, y)(x, 1, y)^T over the data. The error
    mean((w x + b - y)^2) is the quadratic form u^T M u of u = (w, b, -1) in these moments:
    one 3x3 form per point of a surface instead of a residual per data point.

    Examples
    --------
    >>> x, y = np.array([0.0, 1.0]), np.array([1.0, 3.0])    # the line y = 2 x + 1
    >>> features = np.stack([x, np.ones(2), y])
    >>> nl.surfaces.line_fit_loss([[2.0, 1.0], [2.0, 0.0]], features @ features.T / 2).tolist()
    [0.0, 1.0]
    """
    # NaN and inf are let through: the loss along a diverged path is inf or NaN there.
    p = as_float_array(p, "p", dtype=np.float64, allow_nonfinite=True)
    if p.ndim == 0 or p.shape[-1] != 2:
        raise ValueError(f"line_fit_loss: p must hold (w, b) on its last axis, of length 2; "
                         f"got shape {p.shape}")
    moments = as_float_array(moments, "moments", dtype=np.float64)
    if moments.shape != (3, 3):
        raise ValueError(f"line_fit_loss: moments must be the 3x3 moments of (x, 1, y); got "
                         f"shape {moments.shape}")
    u = np.concatenate([p, -np.ones((*p.shape[:-1], 1))], axis=-1)
    return np.einsum("...i,ij,...j->...", u, moments, u)


def line_fit_best(moments):
    """The least-squares line ``(w, b)`` for these ``moments`` (``line_fit_loss``'s): where
    the loss's gradient is 0, the solution of the normal equations.

    Examples
    --------
    >>> x, y = np.array([0.0, 1.0]), np.array([1.0, 3.0])    # the line y = 2 x + 1
    >>> features = np.stack([x, np.ones(2), y])
    >>> nl.surfaces.line_fit_best(features @ features.T / 2).round(12).tolist()
    [2.0, 1.0]
    """
    m = as_float_array(moments, "moments", dtype=np.float64)
    return np.linalg.solve(m[:2, :2], m[:2, 2])


def regression_problem(n=200, seed=0):
    """Data for a two-parameter model ``y = w x + b``: the learning-rate explorer's
    problem, whose loss ``line_fit_loss`` gives."""
    rng = as_rng(seed, "seed")
    x = rng.uniform(-1, 1, n)
    return x, 3.0 * x + 1.0 + 0.5 * rng.normal(size=n)


def get(name):
    """The surface called ``name`` (one of ``NAMES``)."""
    return lookup(name, SURFACES, "surface")


def display_name(name):
    """The display name (a key of ``LR_FACTORS``) of an optimizer named in any case.

    Examples
    --------
    >>> nl.surfaces.display_name("rmsprop")
    'RMSprop'
    """
    shown = {k.lower(): k for k in LR_FACTORS}
    if not isinstance(name, str) or name.lower() not in shown:
        raise ValueError(f"unknown optimizer {name!r}; valid names are: {', '.join(LR_FACTORS)}"
                         + did_you_mean(str(name).lower(), shown))
    return shown[name.lower()]


def race_names(names):
    """One optimizer name or several, in any case, as the display names ``race`` keys its
    paths by; each optimizer races once, so ``"Adam"`` and ``"adam"`` together are an error.

    Examples
    --------
    >>> nl.surfaces.race_names(["adam", "SGD"])
    ['Adam', 'SGD']
    """
    if not isinstance(names, str | Iterable):
        raise ValueError(f"race: names must be an optimizer's name or a list of names; got "
                         f"{names!r}")
    names = [names] if isinstance(names, str) else list(names)   # one name, not its letters
    shown = [display_name(name) for name in names]
    if len(set(shown)) < len(shown):   # the race has one path per optimizer
        raise ValueError(f"race: each optimizer races once; got {names}")
    return shown


def make_optimizer(name, lr):
    """One of the six classic optimizers, by display name, at the family-scaled rate.

    Examples
    --------
    >>> nl.surfaces.make_optimizer("Nesterov", 0.01)  # doctest: +NORMALIZE_WHITESPACE
    SGD(weight_decay=0.0, clipnorm=None, clipvalue=None, global_clipnorm=None, momentum=0.9,
        nesterov=True, lr=0.01)
    """
    name = display_name(name)
    lr = check_number(lr, "lr", low=0, low_open=True) * LR_FACTORS[name]
    return optimizers.get(name.lower(), lr=lr)   # "momentum": SGD with momentum 0.9, ...


#: How far from the origin a path may go before ``descend`` stops it as diverged.
LIMIT = 1e6


def descend(grad, start, optimizer, steps, limit=LIMIT):
    """Run ``steps`` optimizer steps from ``start``; return the visited points.

    A run whose parameters leave ``(-limit, limit)`` (or stop being finite), or
    whose gradient is not finite, is cut short there: divergence ends the path
    instead of overflowing.

    Parameters
    ----------
    grad : callable
        The gradient at a point: ``grad(p)`` returns an array of ``p``'s shape.
    start : array_like
        The first point, a finite 1-D array of the parameters (two on a ``Surface``).
    optimizer : nnlab.optimizers.Optimizer
        Its update rule takes the steps; it keeps its state (moments, step count).
    steps : int
        How many steps to take, at most (an integer >= 0).
    limit : float
        How far from the origin a parameter may go (a positive number).

    Returns
    -------
    ndarray
        The points, one row each: ``steps + 1`` rows, fewer if the run diverged.

    Examples
    --------
    >>> path = nl.surfaces.descend(lambda p: 2 * p, [1.0], nl.optimizers.SGD(0.25), steps=3)
    >>> path[:, 0].tolist()
    [1.0, 0.5, 0.25, 0.125]
    """
    if not callable(grad):
        raise ValueError(f"descend: grad must be a function of the point; got {grad!r}")
    if not isinstance(optimizer, optimizers.Optimizer):
        raise ValueError("descend: optimizer must be an nnlab optimizer, such as "
                         f"nl.optimizers.SGD(0.1); got {optimizer!r}")
    check_number(steps, "steps", low=0, integer=True)
    check_number(limit, "limit", low=0, low_open=True)   # else every point is past it
    # A copy, stepped in place by the optimizer: the caller's start stays as it was.
    p = as_float_array(start, "start", ndim=1, dtype=np.float64, allow_nonfinite=True).copy()
    if not np.isfinite(p).all():   # the path would end at once, "diverged" where it began
        raise ValueError(f"descend: start must be finite; got {p.tolist()}")
    path = [p.copy()]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            g = np.asarray(grad(p), dtype=float)
            if g.shape != p.shape:
                raise ValueError(f"descend: the gradient has shape {g.shape}, "
                                 f"the point has shape {p.shape}")
            if not np.isfinite(g).all():
                break
            optimizer.apply_gradients([p], [g])  # step's checks, made just above
            path.append(p.copy())
            if not (np.abs(p) < limit).all():
                break
    return np.array(path)


def diverged(path, steps, limit=LIMIT):
    """Whether ``descend`` stopped this path: cut short, or its last step went past ``limit``.

    ``steps`` and ``limit`` are those the path was run with.

    Examples
    --------
    >>> path = nl.surfaces.descend(lambda p: 2 * p, [1.0], nl.optimizers.SGD(2.0), steps=30)
    >>> nl.surfaces.diverged(path, 30)
    True
    """
    path = as_float_array(path, "path", allow_nonfinite=True)   # its last point may be inf
    if path.ndim != 2 or len(path) == 0:
        raise ValueError(f"diverged: path must be the points of descend, one row each; got "
                         f"shape {path.shape}")
    check_number(steps, "steps", low=0, integer=True)
    check_number(limit, "limit", low=0, low_open=True)
    return len(path) < steps + 1 or not (np.abs(path[-1]) < limit).all()


#: ``shown``'s nudge: a rate times 1 + NUDGE, a change about as small as the rounding by
#: which one processor's arithmetic can differ from another's.
NUDGE = 1e-12


def shown(value, nudged, spec=".4g"):
    """``value`` formatted with ``spec``, or "chaotic" if ``nudged``, the same number from a
    run at the rate times 1 + ``NUDGE``, differs from it by more than a millionth of it.

    A path that bounces around a minimum, or along a valley's floor, can turn a difference
    in the last bit into another final point: its digits would then differ on another
    computer, or at a rate a hair's breadth away, and printing them would claim what the
    run cannot support.

    Examples
    --------
    >>> nl.surfaces.shown(0.123456, 0.123456), nl.surfaces.shown(0.0123, 0.0125)
    ('0.1235', 'chaotic')
    """
    if abs(nudged - value) > 1e-6 * abs(value):
        return "chaotic"
    return format(value, spec)


def race(surface, names=OPTIMIZERS, lr=0.01, steps=200):
    """Every optimizer in ``names`` from the surface's start: ``{display name: path}``.

    ``names`` as ``race_names`` takes them: one or several, in any case, each once.

    Examples
    --------
    >>> paths = nl.surfaces.race("bowl", ["SGD", "Adam"], lr=0.02, steps=10)
    >>> sorted(paths), paths["SGD"].shape
    (['Adam', 'SGD'], (11, 2))
    """
    s = get(surface)
    return {name: descend(s.grad, s.start, make_optimizer(name, lr), steps)
            for name in race_names(names)}
