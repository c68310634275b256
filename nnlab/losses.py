r"""Loss functions: how wrong the predictions are, and the gradient of that number.

Every loss has the same protocol: ``value = loss(y_pred, y_true)`` (a float)
and ``grad = loss.gradient(y_pred, y_true)`` (d value / d y_pred, shaped like
``y_pred``). Mind the order: Keras's losses and ``nnlab.metrics`` take ``(y_true,
y_pred)``, and two arrays swapped, both valid, give a wrong number without an error
(binary cross-entropy of labels [0, 1, 1, 0] and predictions [0.1, 0.8, 0.6, 0.3]: 0.30,
and 4.03 with the two swapped).
Both validate with ``check``, then call the unchecked ``forward``
/ ``backward``, which sit next to each other in every class. The protocol and the
checks live in the base class, :class:`nnlab.loss_base.Loss`. This module holds the
mathematics of the lecture's losses, MSE, the cross-entropies and the KL divergence,
and ``get``, which finds any loss by its Keras name; the other regression losses are in
``nnlab.regression_losses``, the hinge losses in ``nnlab.hinge_losses``, the focal losses
in ``nnlab.focal_losses``, cosine similarity, Dice and Tversky in
``nnlab.similarity_losses``, and the circle loss of embeddings in
``nnlab.embedding_losses``; all are importable from here.

Reductions: MSE, BinaryCrossEntropy, the other regression losses and the binary hinge
losses average over every element; CategoricalCrossEntropy, KLDivergence and the
multiclass hinge losses sum over the classes of a row (the last axis), then average over
the rows. Keras reduces each of them so, and PyTorch all but two by default: its
``kl_div`` needs ``reduction="batchmean"`` for this value, and its ``multi_margin_loss``
also divides each row by the number of classes.

A logarithm never sees a probability outside ``[EPSILON, 1 - EPSILON]`` (KL divergence's
``q``: ``[EPSILON, 1]``; both as in Keras), so a certain wrong prediction costs
``-log(1e-7) = 16.1``, not infinity; the gradient is that of the clipped value (zero where
the clip is active).
With ``from_logits=True`` the losses take raw scores and need no clipping.
"""

import numpy as np

from nnlab._checks import build, lookup
from nnlab.activation_base import _exp, _log_softmax
from nnlab.activations import sigmoid
from nnlab.embedding_losses import Circle
from nnlab.focal_losses import BinaryFocalCrossEntropy, CategoricalFocalCrossEntropy
from nnlab.hinge_losses import CategoricalHinge, Hinge, MulticlassHinge, SquaredHinge
from nnlab.loss_base import (
    EPSILON,
    Loss,
    PredictionDomainError,
    PredictionRangeError,
    _binary_cross_entropy_of_logits,
    _clip,
    _LogitsOption,
    _mean,
    _unclipped,
)
from nnlab.regression_losses import (
    MAE,
    Huber,
    LogCosh,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    Poisson,
)
from nnlab.similarity_losses import CosineSimilarity, Dice, Tversky

__all__ = ["EPSILON", "MAE", "MSE", "NAMES", "BinaryCrossEntropy", "BinaryFocalCrossEntropy",
           "CategoricalCrossEntropy", "CategoricalFocalCrossEntropy", "CategoricalHinge", "Circle",
           "CosineSimilarity", "Dice", "Hinge", "Huber", "KLDivergence", "LogCosh", "Loss",
           "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "MulticlassHinge",
           "Poisson", "PredictionDomainError", "PredictionRangeError", "SquaredHinge", "Tversky",
           "get"]


class MSE(Loss):
    r"""Mean squared error, the regression loss.

    .. math::

        L = \frac{1}{n} \sum_i (\hat y_i - y_i)^2, \qquad
        \frac{\partial L}{\partial \hat y_i} = \frac{2}{n} (\hat y_i - y_i)

    with :math:`n` the number of elements of ``y_pred`` (samples times
    outputs). ``y_pred`` of any shape; ``y_true`` alike, or ``(N,)`` for ``(N, 1)``.

    Examples
    --------
    >>> nl.losses.MSE()([[1.0], [3.0]], [0.0, 1.0])
    2.5
    >>> nl.losses.MSE().gradient([[1.0], [3.0]], [0.0, 1.0])
    array([[1.],
           [2.]])
    """

    name = "mean_squared_error"

    def forward(self, y_pred, y_true):
        return _mean((y_pred - y_true) ** 2)

    def backward(self, y_pred, y_true):
        return 2 * (y_pred - y_true) / y_pred.size


class BinaryCrossEntropy(_LogitsOption):
    r"""Binary cross-entropy: the loss of a yes/no classifier with a sigmoid output.

    .. math::

        L = -\frac{1}{n} \sum_i \big[y_i \log p_i + (1 - y_i) \log(1 - p_i)\big], \qquad
        \frac{\partial L}{\partial p_i} = \frac{1}{n} \frac{p_i - y_i}{p_i (1 - p_i)}

    over all :math:`n` elements, :math:`p` clipped to :math:`[10^{-7}, 1 - 10^{-7}]`.
    With ``from_logits=True``, ``y_pred`` is the score :math:`z`, :math:`p = \sigma(z)`:

    .. math::

        L = \frac{1}{n} \sum_i \big[\operatorname{softplus}(z_i) - y_i z_i\big], \qquad
        \frac{\partial L}{\partial z_i} = \frac{1}{n} (\sigma(z_i) - y_i)

    Targets lie in :math:`[0, 1]` (usually exactly 0 or 1). The value from logits is
    computed as :math:`\max(z, 0) - y z` plus :math:`\log(1 + e^{-|z|})`, the same number
    without the cancellation of softplus(z) - z for a confident right answer (z = 40,
    y = 1: the loss :math:`e^{-40}`, not 0).

    Examples
    --------
    >>> round(nl.losses.BinaryCrossEntropy()([0.9, 0.2], [1, 0]), 4)
    0.1643
    >>> nl.losses.BinaryCrossEntropy(from_logits=True).gradient([0.0], [1])
    array([-0.5])
    """

    name = "binary_crossentropy"

    def forward(self, y_pred, y_true):
        if self.from_logits:
            return _mean(_binary_cross_entropy_of_logits(y_pred, y_true))
        p = _clip(y_pred)
        return -_mean(y_true * np.log(p) + (1 - y_true) * np.log1p(-p))

    def backward(self, y_pred, y_true):
        if self.from_logits:
            return (sigmoid(y_pred) - y_true) / y_pred.size
        p = _clip(y_pred)
        return _unclipped(y_pred) * (p - y_true) / (p * (1 - p)) / y_pred.size

    def forward_backward(self, y_pred, y_true):
        if not self.from_logits:
            return super().forward_backward(y_pred, y_true)
        z = y_pred   # e^-|z| once, for the value's log(1 + e^-|z|) and for sigmoid(z)
        e = _exp(-np.abs(z))
        loss = _mean(_binary_cross_entropy_of_logits(z, y_true, e))
        sigmoid_z = np.where(z < 0, e, 1) / (1 + e)   # e^z / (1 + e^z) below 0, as _sigmoid
        return loss, (sigmoid_z - y_true) / z.size

    def _check_target_values(self, y_true):
        self._check_unit_interval(y_true, "y_true", "binary targets")


class CategoricalCrossEntropy(_LogitsOption):
    r"""Categorical cross-entropy: the loss of a K-class classifier with a softmax output.

    .. math::

        L = -\frac{1}{N} \sum_{n=1}^{N} \sum_{c=1}^{K} y_{nc} \log p_{nc}, \qquad
        \frac{\partial L}{\partial p_{nc}} = -\frac{1}{N} \frac{y_{nc}}{p_{nc}}

    with :math:`p` clipped to :math:`[10^{-7}, 1 - 10^{-7}]` and not renormalized
    (rows should sum to 1, as softmax outputs do; Keras renormalizes them, which adds
    :math:`\sum_k y_{nk} / (N s_n)` to each derivative of a row of sum :math:`s_n`: the same
    for the whole row, which a softmax before the loss passes none of back).
    With ``from_logits=True``, ``y_pred`` holds scores :math:`z` and
    :math:`\log p = z - \operatorname{logsumexp}(z)`:

    .. math::

        \frac{\partial L}{\partial z_{nc}} = \frac{1}{N}
        \Big(\operatorname{softmax}(z_n)_c \sum_k y_{nk} - y_{nc}\Big),

    that is :math:`(\operatorname{softmax}(z) - y) / N` for one-hot targets.
    ``y_true``: one-hot (or soft) rows ``(N, K)``, or integer labels ``(N,)`` in
    ``[0, K-1]`` (Keras's ``sparse_categorical_crossentropy``). Needs :math:`K \ge 2`.

    Examples
    --------
    >>> round(nl.losses.CategoricalCrossEntropy()([[0.7, 0.2, 0.1]], [0]), 4)
    0.3567
    >>> nl.losses.CategoricalCrossEntropy(from_logits=True).gradient([[0.0, 0.0]], [[1, 0]])
    array([[-0.5,  0.5]])
    """

    name = "categorical_crossentropy"
    rowwise = True
    labels = True
    min_classes = 2

    def forward(self, y_pred, y_true):
        log_p = _log_softmax(y_pred) if self.from_logits else np.log(_clip(y_pred))
        return 0.0 - np.sum(y_true * log_p) / len(y_pred)   # 0.0 -: a perfect fit's 0, not -0

    def backward(self, y_pred, y_true):
        if self.from_logits:
            return self._logits_gradient(_log_softmax(y_pred), y_true)
        return -_unclipped(y_pred) * y_true / _clip(y_pred) / len(y_pred)

    def forward_backward(self, y_pred, y_true):
        if not self.from_logits:
            return super().forward_backward(y_pred, y_true)
        log_p = _log_softmax(y_pred)   # once, for the value and the gradient
        return 0.0 - np.sum(y_true * log_p) / len(y_pred), self._logits_gradient(log_p, y_true)

    @staticmethod
    def _logits_gradient(log_p, y_true):
        """The gradient from ``log_p`` = log softmax(z): (softmax(z) sum(y) - y) / N."""
        return (_exp(log_p) * y_true.sum(axis=-1, keepdims=True) - y_true) / len(log_p)

    def _check_target_values(self, y_true):
        self._check_unit_interval(y_true, "y_true", "one-hot or probability rows")


class KLDivergence(Loss):
    r"""Kullback-Leibler divergence of the predicted distribution from the true one.

    ``y_true`` is the reference distribution :math:`P`, ``y_pred`` the
    approximation :math:`Q`, one distribution per row (chapter 6's letters):

    .. math::

        L = \frac{1}{N} \sum_{n} \sum_{c} P_{nc} \log\frac{P_{nc}}{Q_{nc}}, \qquad
        \frac{\partial L}{\partial Q_{nc}} = -\frac{1}{N} \frac{P_{nc}}{Q_{nc}}

    with :math:`0 \log 0 = 0` and :math:`Q` clipped to :math:`[10^{-7}, 1]`, as Keras clips
    it (no gradient where it clips).
    This is :math:`D_{KL}(P \| Q)`, the target first, as Keras and PyTorch compute it; the
    lecture's slide writes :math:`\sum \hat y \log(\hat y / y)`, the prediction first,
    and the divergence is not symmetric (chapter 6). It is the cross-entropy
    minus the entropy of :math:`P`: same gradient (but at :math:`Q = 1`, where that clips),
    and 0 when :math:`Q = P` (a little below 0 where :math:`P` has entries under
    :math:`10^{-7}`, which the clip of :math:`Q` raises).
    Equals ``torch.nn.functional.kl_div(log Q, P, reduction="batchmean")``.

    Values above 1: Keras's ``KLDivergence`` clips both arguments to :math:`[10^{-7}, 1]`
    in silence. Here a ``y_true`` outside [0, 1] is a ValueError (it is no distribution),
    and so is a ``y_pred`` outside it in a direct call (a ``PredictionRangeError``);
    ``fit`` and ``evaluate`` (with a warning) and the loss as a metric clip ``y_pred`` to
    [0, 1], which gives Keras's value. The other difference: Keras clips :math:`P` too, so each
    :math:`P = 0` adds :math:`10^{-7} \log(10^{-7} / Q)`, between :math:`-1.6 \cdot 10^{-6}`
    and 0, where this adds 0, as PyTorch does. Rows are not renormalized (Keras does not
    either): a ``y_pred`` row that sums to more than 1 can make the value negative.

    Examples
    --------
    >>> nl.losses.KLDivergence()([[0.5, 0.5]], [[0.5, 0.5]])
    0.0
    >>> round(nl.losses.KLDivergence()([[0.25, 0.75]], [[0.5, 0.5]]), 4)
    0.1438
    """

    name = "kl_divergence"
    rowwise = True

    def forward(self, y_pred, y_true):
        log_p = np.log(np.where(y_true > 0, y_true, 1))  # 0 where p = 0: 0 log 0 = 0
        return np.sum(y_true * (log_p - np.log(np.clip(y_pred, EPSILON, 1)))) / len(y_pred)

    def backward(self, y_pred, y_true):
        # Keras's clip, [EPSILON, 1]: a direct call refuses q > 1, fit clips it (and warns).
        kept = ((y_pred >= EPSILON) & (y_pred <= 1)).astype(y_pred.dtype)
        return -kept * y_true / np.clip(y_pred, EPSILON, 1) / len(y_pred)

    def _check_predictions(self, y_pred):
        self._check_unit_interval(y_pred, "y_pred", "a probability distribution per row",
                                  PredictionRangeError)

    def _check_target_values(self, y_true):
        self._check_unit_interval(y_true, "y_true", "a probability distribution per row")


_REGISTRY = {
    "mse": MSE, "mean_squared_error": MSE, "mae": MAE, "mean_absolute_error": MAE,
    "huber": Huber, "log_cosh": LogCosh, "logcosh": LogCosh,
    "msle": MeanSquaredLogarithmicError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "mape": MeanAbsolutePercentageError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "poisson": Poisson,
    "binary_crossentropy": BinaryCrossEntropy, "bce": BinaryCrossEntropy,
    "binary_focal_crossentropy": BinaryFocalCrossEntropy,
    "categorical_crossentropy": CategoricalCrossEntropy,
    "categorical_focal_crossentropy": CategoricalFocalCrossEntropy,
    "sparse_categorical_crossentropy": CategoricalCrossEntropy,
    "kl_divergence": KLDivergence, "kld": KLDivergence,
    "kullback_leibler_divergence": KLDivergence,
    "hinge": Hinge, "squared_hinge": SquaredHinge, "categorical_hinge": CategoricalHinge,
    "multiclass_hinge": MulticlassHinge,
    "cosine_similarity": CosineSimilarity, "dice": Dice, "tversky": Tversky,
    "circle": Circle,
}

#: Every snake_case name ``get`` accepts, aliases included (it takes Keras's class names,
#: such as "MeanSquaredError", too).
NAMES = tuple(_REGISTRY)

#: Names of no one loss, which ``get`` refuses with the choice explained: Keras's
#: ``compile`` picks a cross-entropy for "crossentropy" and "ce" from the shapes of the
#: data, which would hide the choice that chapter 6 teaches.
_AMBIGUOUS = ("crossentropy", "cross_entropy", "ce")


def get(name, **kwargs):
    """Return a loss from its Keras name (plus constructor arguments), or a ready loss (a
    :class:`~nnlab.loss_base.Loss`) as it is.

    Examples
    --------
    >>> nl.losses.get("sparse_categorical_crossentropy", from_logits=True)
    CategoricalCrossEntropy(from_logits=True)
    >>> nl.losses.get("mse")
    MSE()
    """
    if isinstance(name, Loss):
        if kwargs:
            raise ValueError(f"constructor arguments {kwargs} need a loss name, "
                             f"not the ready-made {name!r}")
        return name
    if isinstance(name, str) and name.lower() in _AMBIGUOUS:
        raise ValueError(
            f"loss {name!r} could be any of three cross-entropies; name the one that "
            "fits the targets: 'binary_crossentropy' for one probability per sample (a "
            "sigmoid output, labels 0 or 1), 'categorical_crossentropy' for one-hot rows "
            "(N, K) against a softmax output, 'sparse_categorical_crossentropy' for integer "
            "labels (N,) in [0, K-1]; and pass from_logits=True, e.g. "
            "BinaryCrossEntropy(from_logits=True), if the last layer outputs raw scores "
            "(no sigmoid or softmax)")
    return build(lookup(name, _REGISTRY, "loss", base=Loss), kwargs, name, "loss")
