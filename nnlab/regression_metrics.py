"""Regression metrics: how far the predicted numbers are from the true ones.

Every function takes ``(y_true, y_pred)``, as scikit-learn and Keras do, of one shape
(``(N,)`` and ``(N, 1)`` count as the same), and returns a float averaged over every
element (``r2_score``: over the columns, each column's score its own). Those named after
a loss compute that loss's value (``nnlab.regression_losses``), so that a model can log,
say, its percentage error while it trains on the squared error:
``compile(loss="mse", metrics=["mape"])``.
"""

import numpy as np

from nnlab._checks import as_float_array
from nnlab.regression_losses import (
    LogCosh,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    Poisson,
)

__all__ = ["log_cosh_error", "mean_absolute_error", "mean_absolute_percentage_error",
           "mean_squared_error", "mean_squared_logarithmic_error", "poisson", "r2_score",
           "root_mean_squared_error"]


def _same_shape(y_true, y_pred, func):
    """Both arrays in one shape; ``(N,)`` and ``(N, 1)`` count as the same."""
    y_true = as_float_array(y_true, name=f"{func}: y_true")
    y_pred = as_float_array(y_pred, name=f"{func}: y_pred")
    if y_true.shape != y_pred.shape:
        flat, column = sorted([y_true.shape, y_pred.shape], key=len)
        if len(flat) != 1 or column != (*flat, 1):
            raise ValueError(f"{func}: y_true has shape {y_true.shape} but y_pred has shape "
                             f"{y_pred.shape}; they must match")
        y_true = y_true.reshape(y_pred.shape)
    if y_pred.size == 0:
        raise ValueError(f"{func}: y_true and y_pred must not be empty")
    return y_true, y_pred


def mean_squared_error(y_true, y_pred):
    """Mean of the squared differences over every element (the :class:`~nnlab.losses.MSE` value).

    Examples
    --------
    >>> nl.metrics.mean_squared_error([1.0, 2.0], [1.5, 4.0])
    2.125
    """
    y_true, y_pred = _same_shape(y_true, y_pred, "mean_squared_error")
    return float(np.mean((y_true - y_pred) ** 2))


def mean_absolute_error(y_true, y_pred):
    """Mean of the absolute differences over every element.

    Examples
    --------
    >>> nl.metrics.mean_absolute_error([1.0, 2.0], [1.5, 4.0])
    1.25
    """
    y_true, y_pred = _same_shape(y_true, y_pred, "mean_absolute_error")
    return float(np.mean(np.abs(y_true - y_pred)))


def root_mean_squared_error(y_true, y_pred):
    """The square root of the mean squared error: an error in the units of the targets.

    The root of the mean over every element, as Keras's ``RootMeanSquaredError``;
    scikit-learn's ``root_mean_squared_error`` averages the roots of each column's.

    Examples
    --------
    >>> nl.metrics.root_mean_squared_error([1.0, 2.0], [1.5, 4.0])
    1.4577379737113252
    """
    y_true, y_pred = _same_shape(y_true, y_pred, "root_mean_squared_error")
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def mean_absolute_percentage_error(y_true, y_pred):
    """Each absolute error as a percentage of its target, averaged (Keras's ``mape``).

    The :class:`~nnlab.regression_losses.MeanAbsolutePercentageError` value: a target
    smaller than ``EPSILON`` in size (0, say) is divided by ``EPSILON`` instead.
    scikit-learn's function gives fractions, not percentages.

    Examples
    --------
    >>> nl.metrics.mean_absolute_percentage_error([100.0, 50.0], [110.0, 45.0])
    10.0
    """
    y_true, y_pred = _same_shape(y_true, y_pred, "mean_absolute_percentage_error")
    return float(MeanAbsolutePercentageError().forward(y_pred, y_true))


def mean_squared_logarithmic_error(y_true, y_pred):
    """The mean squared difference of log(1 + y) (Keras's ``msle``; both clipped at
    ``EPSILON`` below, as the loss clips them).

    Examples
    --------
    >>> round(nl.metrics.mean_squared_logarithmic_error([1.0], [3.0]), 4)
    0.4805
    """
    y_true, y_pred = _same_shape(y_true, y_pred, "mean_squared_logarithmic_error")
    return float(MeanSquaredLogarithmicError().forward(y_pred, y_true))


def log_cosh_error(y_true, y_pred):
    """The mean of log(cosh(error)) (Keras's ``LogCoshError``).

    Examples
    --------
    >>> round(nl.metrics.log_cosh_error([0.0, 0.0], [0.5, 3.0]), 4)
    1.2147
    """
    y_true, y_pred = _same_shape(y_true, y_pred, "log_cosh_error")
    return float(LogCosh().forward(y_pred, y_true))


def poisson(y_true, y_pred):
    """The Poisson loss of rates ``y_pred`` for counts ``y_true`` (Keras's ``Poisson``
    metric): the mean of y_pred - y_true log(y_pred + EPSILON).

    A rate below ``-EPSILON`` makes it NaN, as in Keras: the metric of a model that is not
    trained on it (``compile(loss="mse", metrics=["poisson"])``) may predict one, and a
    metric reports rather than stops ``fit``. The loss refuses such rates.

    Examples
    --------
    >>> round(nl.metrics.poisson([0.0, 4.0], [1.0, 2.0]), 4)
    0.1137
    """
    y_true, y_pred = _same_shape(y_true, y_pred, "poisson")
    with np.errstate(invalid="ignore"):   # the logarithm of a negative rate: NaN
        return float(Poisson().forward(y_pred, y_true))


def r2_score(y_true, y_pred):
    """The coefficient of determination, 1 - (squared error) / (variance of the targets).

    1 for a perfect fit, 0 for always predicting the mean of the targets, below 0 for
    worse. With several outputs (columns), the mean of their scores, as scikit-learn's
    ``r2_score`` and Keras's ``R2Score`` compute by default. A column whose targets are
    all equal scores 1 if predicted exactly, else 0: scikit-learn's ``r2_score`` with its
    default ``force_finite=True``, which applies the rule only when the targets' mean is
    exact (else a tiny variance makes a huge negative score). Keras's ``R2Score`` replaces
    only an infinite score, by 0: where its variance of the targets comes out exactly 0,
    an imperfect prediction scores 0, but an exact one NaN. Trailing axes of a 3-D array
    count as more columns.

    Examples
    --------
    >>> nl.metrics.r2_score([1.0, 2.0, 3.0], [1.0, 2.5, 3.0])
    0.875
    """
    y_true, y_pred = _same_shape(y_true, y_pred, "r2_score")
    n = y_true.shape[0] if y_true.ndim else 1
    y_true, y_pred = y_true.reshape(n, -1), y_pred.reshape(n, -1)
    residual = np.sum((y_true - y_pred) ** 2, axis=0)
    total = np.sum((y_true - y_true.mean(axis=0)) ** 2, axis=0)
    # Equal targets, tested as such: their mean can round, leaving a tiny total (1e-33)
    # that would turn a small error into a score of -1e31.
    constant = np.ptp(y_true, axis=0) == 0
    scores = np.where(constant, (residual == 0).astype(float),
                      1 - residual / np.where(constant, 1, total))
    return float(np.mean(scores))
