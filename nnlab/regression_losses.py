r"""Regression losses beyond the squared error: robust, relative and count losses.

``MSE`` (in ``nnlab.losses``) is the regression loss of the lecture. The losses here
change what an error costs: ``MAE``, ``Huber`` and ``LogCosh`` let a large error (an
outlier) pull no harder than a moderate one; ``MeanSquaredLogarithmicError`` and
``MeanAbsolutePercentageError`` measure errors relative to the size of the target;
``Poisson`` is the negative log-likelihood of counts. Each averages over every element,
as Keras's losses of the same names (``"mae"``, ``"huber"``, ``"log_cosh"``,
``"msle"``, ``"mape"``, ``"poisson"``) do, and ``y_pred`` and ``y_true`` have the same
shape (or ``(N,)`` for ``(N, 1)``), as MSE's.
"""

import math

import numpy as np

from nnlab._checks import check_number
from nnlab.activation_base import _exp
from nnlab.loss_base import EPSILON, Loss, PredictionDomainError, _mean

__all__ = ["MAE", "Huber", "LogCosh", "MeanAbsolutePercentageError",
           "MeanSquaredLogarithmicError", "Poisson"]


class MAE(Loss):
    r"""Mean absolute error: a regression loss that large errors sway less than MSE's.

    .. math::

        L = \frac{1}{n} \sum_i |\hat y_i - y_i|, \qquad
        \frac{\partial L}{\partial \hat y_i} = \frac{1}{n} \operatorname{sign}(\hat y_i - y_i)

    (0 where the two are equal, as PyTorch's ``L1Loss`` takes the kink). Shapes as MSE's.

    Examples
    --------
    >>> nl.losses.MAE()([[1.0], [3.0]], [0.0, 1.0])
    1.5
    """

    name = "mean_absolute_error"

    def forward(self, y_pred, y_true):
        return _mean(np.abs(y_pred - y_true))

    def backward(self, y_pred, y_true):
        return np.sign(y_pred - y_true) / y_pred.size


class Huber(Loss):
    r"""Huber loss: squared error for small errors, absolute error for large ones.

    With the error :math:`e_i = \hat y_i - y_i` and a threshold :math:`\delta > 0`:

    .. math::

        L = \frac{1}{n} \sum_i h(e_i), \qquad
        h(e) = \begin{cases} \tfrac12 e^2 & |e| \le \delta \\
                              \delta \, (|e| - \tfrac12 \delta) & |e| > \delta
               \end{cases}, \qquad
        \frac{\partial L}{\partial \hat y_i} = \frac{1}{n} \operatorname{clip}(e_i, -\delta, \delta)

    The two pieces meet at :math:`|e| = \delta` with the same value and slope, so the
    gradient is continuous: half of MSE's while :math:`|e| \le \delta`, then
    :math:`\delta` times MAE's. An outlier pulls no harder than an error of size
    :math:`\delta` (Huber, 1964). The reduction is that of ``torch.nn.HuberLoss(delta)``
    and Keras's ``Huber(delta)``: the mean over every element. Shapes as MSE's.

    Examples
    --------
    >>> nl.losses.Huber()([0.5, 3.0], [0.0, 0.0])
    1.3125
    >>> nl.losses.Huber(delta=2.0).gradient([0.5, 3.0], [0.0, 0.0])
    array([0.25, 1.  ])
    """

    name = "huber"

    def __init__(self, delta=1.0):
        self.delta = float(check_number(delta, "Huber delta", low=0, low_open=True))

    def get_config(self):
        return {"delta": self.delta}

    def forward(self, y_pred, y_true):
        magnitude = np.abs(y_pred - y_true)
        # One expression for both pieces, with s = min(|e|, delta): s (|e| - s / 2) is
        # e^2 / 2 below delta and delta (|e| - delta / 2) above it. Squaring only s, never
        # a large error, keeps each term finite in float32 even for errors of 1e30.
        small = np.minimum(magnitude, self.delta)
        return _mean(small * (magnitude - small / 2))

    def backward(self, y_pred, y_true):
        return np.clip(y_pred - y_true, -self.delta, self.delta) / y_pred.size


class LogCosh(Loss):
    r"""Log-cosh loss: the logarithm of the hyperbolic cosine of each error.

    .. math::

        L = \frac{1}{n} \sum_i \log\cosh(e_i), \qquad
        \frac{\partial L}{\partial \hat y_i} = \frac{1}{n} \tanh(e_i), \qquad
        e_i = \hat y_i - y_i

    About :math:`e^2 / 2` for small errors and :math:`|e| - \log 2` for large ones: a
    smooth Huber loss with :math:`\delta = 1`, whose gradient :math:`\tanh e` never
    exceeds 1 in size. :math:`\cosh e` overflows for :math:`|e| > 710` (float64), so
    beyond :math:`|e| = 1` it is computed as :math:`|e| + \log(1 + e^{-2|e|}) - \log 2`,
    Keras's form. Below, that form would subtract :math:`\log 2` from a number close to it
    and lose the small result (negative values, in float32, for errors near
    :math:`10^{-4}`); there :math:`\log\cosh e` is computed as
    :math:`\log(1 + 2 \sinh^2(e/2))`, which keeps every digit.

    Examples
    --------
    >>> round(nl.losses.LogCosh()([0.5, 3.0], [0.0, 0.0]), 4)
    1.2147
    """

    name = "log_cosh"

    def forward(self, y_pred, y_true):
        size = np.abs(y_pred - y_true)
        near = np.log1p(2 * np.sinh(np.minimum(size, 1) / 2) ** 2)
        # (an error beyond 1e4 adds nothing to log1p's e^-2e; capping it keeps -2e finite)
        far = size + np.log1p(_exp(-2 * np.minimum(size, 1e4))) - math.log(2)
        return _mean(np.where(size <= 1, near, far))

    def backward(self, y_pred, y_true):
        return np.tanh(y_pred - y_true) / y_pred.size


class Poisson(Loss):
    r"""Poisson loss: the negative log-likelihood of counts :math:`y` at predicted rates.

    .. math::

        L = \frac{1}{n} \sum_i \big(\hat y_i - y_i \log(\hat y_i + \epsilon)\big), \qquad
        \frac{\partial L}{\partial \hat y_i}
            = \frac{1}{n}\Big(1 - \frac{y_i}{\hat y_i + \epsilon}\Big)

    with :math:`\epsilon = 10^{-7}` (``EPSILON``), as Keras's ``poisson``, and as PyTorch's
    ``PoissonNLLLoss(log_input=False)`` with ``eps=1e-7`` (its default is ``1e-8``); the
    term :math:`\log y_i!`, which does not depend on the prediction, is left out. It is
    least where :math:`\hat y = y`. The predicted rates must not be negative: end the model
    with ``Activation("exponential")`` or ``"softplus"``. The targets are counts, or any
    values at least 0.

    Examples
    --------
    >>> round(nl.losses.Poisson()([[1.0], [2.0]], [0.0, 4.0]), 4)
    0.1137
    """

    name = "poisson"
    diverged_hint = ("With the poisson loss, a predicted rate below 0 does it too (its "
                     "logarithm is NaN): end the model with Activation('softplus') or "
                     "'exponential'.")

    def forward(self, y_pred, y_true):
        return _mean(y_pred - y_true * np.log(y_pred + EPSILON))

    def backward(self, y_pred, y_true):
        return (1 - y_true / (y_pred + EPSILON)) / y_pred.size

    def _check_predictions(self, y_pred):
        if y_pred.min() < 0:
            raise PredictionDomainError(
                f"{self!r}: y_pred must be rates, at least 0; got {y_pred.min():g} (end the "
                "model with Activation('exponential') or 'softplus')")

    def _check_target_values(self, y_true):
        if y_true.min() < 0:
            raise ValueError(f"{self!r}: y_true must be counts, at least 0; "
                             f"got {y_true.min():g}")


class MeanSquaredLogarithmicError(Loss):
    r"""Mean squared logarithmic error: the squared error of :math:`\log(1 + y)`.

    .. math::

        L = \frac{1}{n} \sum_i \big(\log(1 + \hat y_i) - \log(1 + y_i)\big)^2

    with both clipped below at :math:`\epsilon = 10^{-7}`, as Keras's ``msle``, so a
    negative prediction counts as (almost) 0 and gets no gradient. For targets much larger
    than 1, a prediction twice too large costs about as much as one half too small,
    :math:`(\log 2)^2`, whatever the target's size: errors count as ratios. A loss for
    positive quantities spread over orders of magnitude (prices, counts).

    Examples
    --------
    >>> round(nl.losses.MeanSquaredLogarithmicError()([3.0], [1.0]), 4)
    0.4805
    """

    name = "mean_squared_logarithmic_error"

    def forward(self, y_pred, y_true):
        return _mean((np.log1p(np.maximum(y_pred, EPSILON))
                        - np.log1p(np.maximum(y_true, EPSILON))) ** 2)

    def backward(self, y_pred, y_true):
        p = np.maximum(y_pred, EPSILON)
        gap = np.log1p(p) - np.log1p(np.maximum(y_true, EPSILON))
        return 2 * gap / (1 + p) * (y_pred >= EPSILON) / y_pred.size


class MeanAbsolutePercentageError(Loss):
    r"""Mean absolute percentage error: each error as a percentage of its target.

    .. math::

        L = \frac{100}{n} \sum_i \frac{|\hat y_i - y_i|}{\max(|y_i|, \epsilon)}, \qquad
        \frac{\partial L}{\partial \hat y_i} = \frac{100}{n}\,
            \frac{\operatorname{sign}(\hat y_i - y_i)}{\max(|y_i|, \epsilon)}

    as Keras's ``mape`` (:math:`\epsilon = 10^{-7}`). Easy to read, but a target near 0
    makes its term huge: a loss for targets well away from 0.

    Examples
    --------
    >>> nl.losses.MeanAbsolutePercentageError()([110.0, 45.0], [100.0, 50.0])
    10.0
    """

    name = "mean_absolute_percentage_error"

    def forward(self, y_pred, y_true):
        return 100 * _mean(np.abs(y_pred - y_true) / np.maximum(np.abs(y_true), EPSILON))

    def backward(self, y_pred, y_true):
        scale = np.maximum(np.abs(y_true), EPSILON)
        return 100 * np.sign(y_pred - y_true) / scale / y_pred.size
