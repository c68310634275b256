r"""Gradient checking: does a hand-written backward pass compute the true gradient?

The derivative of a scalar function f at x is approximated by central
differences, one coordinate at a time:

.. math:: \frac{\partial f}{\partial x_i} \approx
          \frac{f(x + \epsilon e_i) - f(x - \epsilon e_i)}{2\epsilon},

whose error shrinks like :math:`\epsilon^2`. In float64 with
:math:`\epsilon = 10^{-6}` a correct backward pass agrees to a relative error
far below :math:`10^{-6}`; a bug shows up as an error near 1.

Examples
--------
>>> import nnlab as nl
>>> error = check(nl.Dense(3, 2, rng=0), np.random.default_rng(0).normal(size=(4, 3)))
>>> error < 1e-8
True
"""

import numpy as np

from nnlab.losses import Loss


def numerical_gradient(f, x, eps=1e-6):
    """Central-difference gradient of the scalar function ``f`` at the array ``x``.

    ``x`` is perturbed in place, one entry at a time, and restored exactly;
    ``f(x)`` must return a float. A loop over entries is the point here: this
    is the slow, obviously-correct reference that the fast code is checked against.

    Examples
    --------
    >>> numerical_gradient(lambda v: float(np.sum(v ** 2)), np.array([1.0, -2.0]))
    array([ 2., -4.])
    """
    grad = np.zeros_like(x, dtype=np.float64)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + eps
        f_plus = f(x)
        x[i] = original - eps
        f_minus = f(x)
        x[i] = original
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(a, b):
    """``||a - b|| / (||a|| + ||b||)``: 0 for equal arrays, about 1 for unrelated ones.

    Examples
    --------
    >>> relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    0.0
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - b) / max(denom, 1e-12))


def _require_float64(arrays, what):
    for name, arr in arrays.items():
        if arr.dtype != np.float64:
            raise ValueError(f"gradient checks need float64; {what} {name!r} is {arr.dtype} "
                             "(build it with dtype='float64')")


def check(obj, x, y=None, seed=0, eps=1e-6, training=False):
    """Largest relative error between analytic and numerical gradients.

    Parameters
    ----------
    obj : Layer, Sequential or Loss
        A layer or model is checked through the scalar ``sum(output * r)`` for a
        fixed random ``r`` (or through its compiled loss when ``y`` is given); a
        loss is checked as ``loss(x, y)`` with ``x`` the predictions.
    x : array_like
        The input (for a loss: the predictions).
    y : array_like, optional
        Targets, for a loss or a compiled model.
    seed : int
        Seed of the random projection ``r``.
    eps : float
        Finite-difference step.
    training : bool
        Forward mode for layers whose behaviour depends on it (batch norm).

    Returns
    -------
    float
        The maximum over the input gradient and every parameter gradient.
    """
    x = np.array(x, dtype=np.float64)
    if isinstance(obj, Loss):
        analytic = obj.gradient(x, y)
        return relative_error(analytic, numerical_gradient(lambda v: obj(v, y), x, eps))

    _require_float64(_all_params(obj), "parameter")
    if y is not None and getattr(obj, "loss", None) is not None:
        y_pred, y_true = obj.loss.check(obj.forward(x, training=training), y)

        def objective(v):
            return float(obj.loss.forward(obj.forward(v, training=training), y_true))

        upstream = obj.loss.backward(y_pred, y_true)
    else:
        out = obj.forward(x, training=training)
        r = np.random.default_rng(seed).standard_normal(out.shape)

        def objective(v):
            return float(np.sum(obj.forward(v, training=training) * r))

        upstream = r
    obj.forward(x, training=training)
    dx = obj.backward(upstream)
    analytic = {name: g.copy() for name, g in _all_grads(obj).items()}
    errors = [relative_error(dx, numerical_gradient(objective, x, eps))]
    for name, p in _all_params(obj).items():
        errors.append(relative_error(analytic[name],
                                     numerical_gradient(lambda _: objective(x), p, eps)))
    return max(errors)


def _all_params(obj):
    layers = getattr(obj, "layers", None)
    if layers is None or not hasattr(obj, "compile"):
        return dict(obj.params)
    return {f"{i}.{k}": v for i, layer in enumerate(layers) for k, v in layer.params.items()}


def _all_grads(obj):
    layers = getattr(obj, "layers", None)
    if layers is None or not hasattr(obj, "compile"):
        return dict(obj.grads)
    return {f"{i}.{k}": layer.grads[k] for i, layer in enumerate(layers) for k in layer.params}
