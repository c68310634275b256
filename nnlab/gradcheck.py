r"""Gradient checking: does a hand-written backward pass compute the true gradient?

The derivative of a scalar function f at x is approximated by central
differences, one coordinate at a time:

.. math:: \frac{\partial f}{\partial x_i} \approx
          \frac{f(x + h_i e_i) - f(x - h_i e_i)}{2 h_i},
          \qquad h_i = \epsilon \max(1, |x_i|),

whose error shrinks like :math:`h_i^2`. In float64 with :math:`\epsilon = 10^{-6}` a
correct backward pass agrees to a relative error far below :math:`10^{-6}`; a bug shows
up as an error near 1. (Away from kinks: at the corner of ReLU or hinge, or at a tie of
max pooling, the two sides disagree and so do the methods; see :func:`check`.)
Float32 is far less precise: :func:`check` therefore runs in float64, and
:func:`numerical_gradient` takes a larger step for float32 input.

Examples
--------
>>> error = nl.gradcheck.check(nl.Dense(3, 2, rng=0), np.random.default_rng(0).normal(size=(4, 3)))
>>> error < 1e-8
True
"""

import copy
import math
import numbers

import numpy as np

from nnlab._checks import as_float_array, check_bool, check_number
from nnlab.layer_base import cast_layer
from nnlab.layers import Layer
from nnlab.losses import Loss
from nnlab.model import Sequential
from nnlab.training import check_data


def numerical_gradient(f, x, eps=None, name="x"):
    r"""Central-difference gradient of the scalar function ``f`` at the array ``x``.

    ``x`` (a writeable floating ndarray) is perturbed in place, one entry at a
    time, and each entry is restored exactly, even if ``f`` raises; ``f(x)`` must
    return a real number. The loop over entries is the point: this is the slow,
    obviously correct reference that the fast vectorized code is checked against.

    Entry :math:`x_i` moves by :math:`h_i = \epsilon \max(1, |x_i|)` either side: a step
    relative to the value, since float numbers are spaced relative to their size (a
    step of 1e-6 is eight spacings of float64 numbers at 1e9, less than one from
    :math:`2^{33}` (8.6e9) on, and from :math:`2^{34}` (1.72e10) on :math:`x_i \pm 10^{-6}`
    rounds back to :math:`x_i` itself), and an absolute
    one near 0, where a relative step would vanish. The quotient divides by the
    distance actually stored, :math:`(x_i + h_i) - (x_i - h_i)` in ``x``'s dtype, not by
    :math:`2 h_i`: both points are rounded, which in float32 changes the step by up to
    1e-5 of itself.

    The step trades two errors: the truncation error of central differences shrinks
    like :math:`h^2`, the rounding error of :math:`f(x \pm h)` grows like
    :math:`u / h`, where :math:`u` is the machine epsilon of ``x``'s dtype. Their
    sum is smallest near :math:`h \approx u^{1/3}` times the scale on which ``f``
    varies, the rule of thumb for central differences (Numerical Recipes, section 5.7;
    ``scipy.optimize.approx_derivative`` takes :math:`u^{1/3} \max(1, |x_i|)` too).

    Parameters
    ----------
    f : callable
        The scalar function: ``f(x)`` returns a real number.
    x : ndarray
        The point, a writeable floating array (float32 or float64; it is perturbed in
        place and put back).
    eps : float, optional
        The relative step :math:`\epsilon`. By default it is chosen by dtype:

        - float64: ``1e-6``, the customary step. Truncation (about 1e-12) and rounding
          (about 1e-10) stay far below the relative error of 1e-6 that :func:`check`
          accepts.
        - float32 (:math:`u = 1.2 \cdot 10^{-7}`): :math:`u^{1/3}`, about ``5e-3``.
          Rounding then costs about :math:`u^{2/3} |f(x)| / \max(1, |x_i|)`, some 2e-5
          times :math:`|f(x)|`. A step of ``1e-6`` would be about eight spacings of
          float32 numbers near 1, and the rounding of :math:`f` would dominate: the
          gradient of :math:`\sum x^2` at 1.3 comes out as 2.591 instead of 2.6.
    name : str
        How the error messages call ``x``.

    Returns
    -------
    ndarray of float64
        The gradient, of ``x``'s shape; every entry finite.

    Raises
    ------
    ValueError
        If a difference quotient is NaN or infinite (``f`` is NaN or infinite a step
        from ``x``, or the two values are too far apart for their difference to fit in
        a float): no finite gradient can be read from it, as :func:`check` refuses a
        gradient that is not finite. Also if ``f(x)`` is not a real number, if ``x``
        itself holds NaN or infinity, if ``x`` is not a writeable floating ndarray, or
        if ``eps`` is not positive or too small to move an entry of ``x`` in its dtype.

    Examples
    --------
    >>> nl.gradcheck.numerical_gradient(lambda v: float(np.sum(v ** 2)), np.array([1.0, -2.0]))
    array([ 2., -4.])
    >>> x = np.array([1.0], dtype=np.float32)
    >>> g = nl.gradcheck.numerical_gradient(lambda v: np.sum(v ** 2), x)
    >>> bool(abs(g[0] - 2) < 1e-4)
    True
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f" or not x.flags.writeable:
        got = type(x).__name__
        if isinstance(x, np.ndarray):
            got = f"{'a read-only' if not x.flags.writeable else 'an'} {x.dtype} ndarray"
        raise ValueError("numerical_gradient perturbs x in place, so x must be a writeable "
                         f"floating ndarray; got {got}")
    _require_finite(x, name, "numerical_gradient", "a gradient needs a finite point")
    if eps is None:
        eps = 1e-6 if x.dtype == np.float64 else float(np.finfo(x.dtype).eps) ** (1 / 3)
    steps = float(check_number(eps, "eps", low=0, low_open=True)) * np.maximum(
        1.0, np.abs(x.astype(np.float64)))
    grad = np.zeros(x.shape, dtype=np.float64)
    for i in np.ndindex(x.shape):
        original, h = x[i], float(steps[i])
        try:
            x[i] = original + h
            upper, f_plus = x[i], _value(f, x)
            x[i] = original - h
            lower, f_minus = x[i], _value(f, x)
        finally:
            x[i] = original
        step = float(upper - lower)   # the distance between the two points f was given
        if step == 0:
            raise ValueError(f"numerical_gradient: eps={eps!r} is too small for "
                             f"{_entry(name, i)} = {original}: a step of {h:g} leaves it "
                             f"unchanged in {x.dtype}")
        grad[i] = (f_plus - f_minus) / step
        if not math.isfinite(grad[i]):
            raise ValueError(
                f"numerical_gradient: the central difference at {_entry(name, i)} = "
                f"{original} is {grad[i]}, from f = {f_plus!r} a step of {h:g} above and "
                f"f = {f_minus!r} below; a gradient needs finite values of f, and a finite "
                "difference of them")
    return grad


def _entry(name, index):
    """How an error message calls entry ``index`` of the array called ``name``."""
    return f"{name}[{', '.join(map(str, index))}]" if index else name


def _value(f, x):
    """``f(x)`` as a Python float: the difference of two float32 values, divided by the
    step, would otherwise be rounded to float32 once more."""
    value = f(x)
    if isinstance(value, np.ndarray):
        value = value[()]    # a 0-d array becomes its scalar; any other stays, rejected
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        shape = f" of shape {value.shape}" if isinstance(value, np.ndarray) else ""
        raise ValueError("numerical_gradient: f(x) must return a real number; got "
                         f"{type(value).__name__}{shape}")
    return float(value)


def relative_error(a, b, floor=1e-12):
    """``||a - b|| / max(||a|| + ||b||, floor)``: 0 for equal arrays, near 1 for unrelated ones.

    ``floor`` keeps two arrays of (near) zeros from being compared by the ratio of
    their rounding noise; :func:`check` sets it from the whole gradient. An array that
    holds NaN or infinity is refused (ValueError), as :func:`check` refuses such a
    gradient: no ratio can say how far it is from the other.

    Examples
    --------
    >>> nl.gradcheck.relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    0.0
    >>> nl.gradcheck.relative_error(np.array([1.0]), np.array([-1.0]))
    1.0
    """
    a = as_float_array(a, "a", dtype=np.float64, allow_nonfinite=True)
    b = as_float_array(b, "b", dtype=np.float64, allow_nonfinite=True)
    check_number(floor, "floor", low=0, low_open=True)   # 0 would turn 0 / 0 into NaN
    if a.shape != b.shape:
        raise ValueError(f"relative_error needs arrays of one shape; got {a.shape} and {b.shape}")
    for name, arr in (("a", a), ("b", b)):
        _require_finite(arr, name, "relative_error", "the relative error has no meaning")
    scale = max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0))
    if scale == 0:
        return 0.0
    # The ratio is the same in units of the largest entry, where no square overflows
    # (a diverged model's gradients of 1e200 do) and a - b stays finite.
    a, b = a / scale, b / scale
    denom = max(np.linalg.norm(a) + np.linalg.norm(b), floor / scale)
    return float(np.linalg.norm(a - b) / denom)


def check(layer_or_model, x, y=None, seed=0, eps=None, training=False):
    """Largest relative error between the analytic and the numerical gradients.

    The check runs on a float64 copy of ``layer_or_model``: the object itself is never
    changed (its parameters, buffers and random generator stay as they were).
    In training mode every evaluation starts from a fresh copy, so dropout draws
    the same mask and batch norm sees the same running statistics each time.

    Parameters
    ----------
    layer_or_model : Layer, Sequential or Loss
        A layer or model is checked through the scalar ``sum(output * r)``
        with ``r`` a fixed random array, or through its compiled loss when
        ``y`` is given; a loss is checked as ``loss(x, y)``, ``x`` being the predictions.
    x : array_like
        The input batch (for a loss: the predictions).
    y : array_like, optional
        Targets, for a loss or a compiled model.
    seed : int
        Seed of the random projection ``r`` (an integer >= 0).
    eps : float, optional
        Relative finite-difference step; by default that of :func:`numerical_gradient`
        in float64.
    training : bool
        The ``training`` flag of the forward passes (dropout, batch norm).

    Returns
    -------
    float
        The maximum over the input gradient and every parameter gradient;
        :func:`errors` gives each one by name, to find the array that is wrong.

    Raises
    ------
    ValueError
        If a gradient, analytic or numerical, holds NaN or infinity; the message names it.

    Notes
    -----
    Central differences are a reference only where the function is smooth. At a kink
    the slopes on the two sides differ and the difference averages them, while the
    backward pass takes one of them: at an input of exactly 0 to a ReLU (0.5 against
    the convention relu'(0) = 0), at the corner of a hinge loss, and at a tie of max
    pooling (two equal values in one window share the numerical gradient; backward
    gives all of it to one). Correct layers then fail with errors of 0.1 and more, and
    images are full of such points: a digit's background is exactly 0, so its pooling
    windows tie and its ReLUs sit on the kink. Check on random continuous input
    (``rng.normal(size=shape)``), or nudge the data off the ties
    (``x + 0.1 * rng.normal(size=x.shape)``): a value within a step (1e-6) of a kink
    is then rare.

    Each array is compared relative to its own size, but never to less than a
    thousandth of the whole gradient (every array together). A gradient that is
    zero in truth, such as the bias of a layer followed by batch norm (which
    subtracts it again), is then finite-difference noise of about 1e-11 of the
    whole gradient, reported as an error near 1e-8 (that noise over the floor),
    not noise against the rounding error of a computed zero (a ratio near 1). A
    wrong gradient still shows an error above 1e-6 unless its size is below a
    billionth of the whole, too small to matter.

    Examples
    --------
    >>> nl.gradcheck.check(nl.losses.MSE(), [[0.5], [2.0]], [1.0, 1.0]) < 1e-8
    True
    """
    return max(errors(layer_or_model, x, y, seed, eps, training).values())


def errors(layer_or_model, x, y=None, seed=0, eps=None, training=False):
    """The relative error of each gradient that :func:`check` compares, by name.

    The arguments are those of :func:`check`, whose result is the largest of these
    errors. The names are ``"x"`` for the input (a loss's predictions), then the
    parameters': a layer's own (``"W"``, ``"b"``), ``"params[i]"`` for entry ``i`` of
    a Sequential's ``params``.

    Examples
    --------
    >>> found = nl.gradcheck.errors(nl.Dense(3, 2, rng=0), np.ones((4, 3)))
    >>> list(found), max(found.values()) < 1e-8
    (['x', 'W', 'b'], True)
    """
    x = as_float_array(x, "x", dtype=np.float64).copy()
    if x.ndim == 0 or len(x) == 0:   # no sample, no gradient: the check would pass anything
        raise ValueError(f"check needs a batch of one or more samples; got x of shape {x.shape}")
    check_number(seed, "seed", low=0, integer=True)
    check_bool(training, "training")
    if isinstance(layer_or_model, Loss):
        if y is None:
            raise ValueError("checking a loss needs the targets y")
        analytic = layer_or_model.gradient(x, y)
        _require_finite(analytic, "the analytic gradient with respect to the predictions x",
                        "check", "the relative error has no meaning")
        numerical = numerical_gradient(lambda v: layer_or_model(v, y), x, eps)
        return {"x": relative_error(analytic, numerical)}
    if not isinstance(layer_or_model, Layer | Sequential):
        raise ValueError("check takes a Layer, a Sequential or a Loss; "
                         f"got {type(layer_or_model).__name__}")
    template = copy.deepcopy(layer_or_model)
    if isinstance(template, Sequential):
        template.astype("float64")
    else:
        cast_layer(template, np.float64)

    def run(v):
        # A forward pass in training may change state (batch norm's running statistics,
        # dropout's generator): each evaluation starts from a copy of the template. In
        # evaluation mode a layer changes nothing but its cache, and the copy (as long as
        # the forward pass itself) is saved.
        net = copy.deepcopy(template) if training else template
        return net, net.forward(v, training=training)

    if y is not None:
        if getattr(template, "loss", None) is None:
            raise ValueError("targets y need a compiled Sequential (its loss) or a Loss")
        targets = check_data(template, x, y)[1]

        def value(out):
            return float(template.loss.forward(out, targets))

        def upstream(out):
            return template.loss.backward(out, targets)
    else:
        # A stream spawned from the seed, not default_rng(seed) itself: an x drawn
        # with the same seed would make r = x, a projection whose gradient nearly cancels.
        stream = np.random.SeedSequence(seed).spawn(1)[0]
        r = np.random.default_rng(stream).standard_normal(run(x)[1].shape)

        def value(out):
            return float(np.sum(out * r))

        def upstream(out):
            return r

    net, out = run(x)
    names = ["x", *([f"params[{i}]" for i in range(len(net.params))]
                    if isinstance(net, Sequential) else list(net.params))]
    analytic = [net.backward(upstream(out)), *_grads(net)]
    for name, grad in zip(names, analytic, strict=True):
        _require_finite(grad, f"the analytic gradient with respect to {name}", "check",
                        "the relative error has no meaning")
    numerical = [numerical_gradient(lambda v: value(run(v)[1]), x, eps)]
    for name, p in zip(names[1:], _params(template), strict=True):
        # numerical_gradient moves p's entries in place, and run reads them from the layers
        numerical.append(numerical_gradient(lambda _: value(run(x)[1]), p, eps, name))
    floor = 1e-3 * (_whole_norm(analytic) + _whole_norm(numerical))
    return {name: relative_error(a, n, max(floor, 1e-12))
            for name, a, n in zip(names, analytic, numerical, strict=True)}


def _require_finite(arr, what, caller, why):
    """Raise ValueError if ``arr`` holds NaN or inf, saying how many and why that is fatal."""
    bad = arr.size - np.count_nonzero(np.isfinite(arr))
    if bad:
        raise ValueError(f"{caller}: {what} holds {bad} NaN or inf of {arr.size} values; {why}")


def _whole_norm(arrays):
    """The Euclidean norm of all the arrays' entries together (in units of the largest
    entry, as in ``relative_error``, so that no square overflows)."""
    scale = max((np.max(np.abs(a), initial=0.0) for a in arrays), default=0.0)
    if scale == 0:
        return 0.0
    return float(scale * np.sqrt(sum(np.sum(np.square(a / scale)) for a in arrays)))


def _params(obj):
    return obj.params if isinstance(obj, Sequential) else list(obj.params.values())


def _grads(obj):
    return obj.grads if isinstance(obj, Sequential) else [obj.grads[k] for k in obj.params]
