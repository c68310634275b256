r"""Loss functions: how wrong the predictions are, and the gradient of that number.

Every loss has the same protocol: ``value = loss(y_pred, y_true)`` (a float)
and ``grad = loss.gradient(y_pred, y_true)`` (d value / d y_pred, shaped like
``y_pred``). Both validate with ``check``, then call the unchecked ``forward``
/ ``backward``, which sit next to each other in every class. The protocol and the
checks live in the base class, :class:`nnlab.loss_base.Loss`; this module holds the
mathematics of each loss.

Reductions: MSE, MAE, Huber, BinaryCrossEntropy and Hinge average over every element;
CategoricalCrossEntropy, KLDivergence and MulticlassHinge sum over the classes of a
row (the last axis), then average over the rows. Keras reduces each of them so, and
PyTorch all but two by default: its ``kl_div`` needs ``reduction="batchmean"`` for
this value, and its ``multi_margin_loss`` also divides each row by the number of
classes.

A logarithm never sees a probability outside ``[EPSILON, 1 - EPSILON]`` (as in
Keras), so a certain wrong prediction costs ``-log(1e-7) = 16.1``, not infinity;
the gradient is that of the clipped value (zero where the clip is active).
With ``from_logits=True`` the losses take raw scores and need no clipping.
"""

import numpy as np

from nnlab._checks import build, check_number, lookup
from nnlab.activation_base import _exp
from nnlab.activations import sigmoid
from nnlab.loss_base import Loss, PredictionRangeError, _LogitsOption

#: The clip of every probability before its logarithm: [EPSILON, 1 - EPSILON], as in Keras.
EPSILON = 1e-7


def _clip(p):
    return np.clip(p, EPSILON, 1 - EPSILON)


def _unclipped(p):
    """The derivative of ``_clip``: 1 where it lets ``p`` through, 0 where it clips."""
    return ((p >= EPSILON) & (p <= 1 - EPSILON)).astype(p.dtype)


def _softplus(z):
    """log(1 + e^z) = max(z, 0) + log(1 + e^-|z|): exp never sees a positive number."""
    return np.maximum(z, 0) + np.log1p(_exp(-np.abs(z)))


def _log_softmax(z):
    """log softmax(z) on the last axis by log-sum-exp: shift by the max before exp."""
    shifted = z - np.max(z, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(_exp(shifted), axis=-1, keepdims=True))


class MSE(Loss):
    r"""Mean squared error, the regression loss.

    .. math::

        L = \frac{1}{n} \sum_i (\hat y_i - y_i)^2, \qquad
        \frac{\partial L}{\partial \hat y_i} = \frac{2}{n} (\hat y_i - y_i)

    with :math:`n` the number of elements of ``y_pred`` (samples times
    outputs). ``y_pred`` of any shape; ``y_true`` alike, or ``(N,)`` for ``(N, 1)``.

    Examples
    --------
    >>> MSE()([[1.0], [3.0]], [0.0, 1.0])
    2.5
    >>> MSE().gradient([[1.0], [3.0]], [0.0, 1.0])
    array([[1.],
           [2.]])
    """

    name = "mean_squared_error"

    def forward(self, y_pred, y_true):
        return np.mean((y_pred - y_true) ** 2)

    def backward(self, y_pred, y_true):
        return 2 * (y_pred - y_true) / y_pred.size


class MAE(Loss):
    r"""Mean absolute error: a regression loss that large errors sway less than MSE's.

    .. math::

        L = \frac{1}{n} \sum_i |\hat y_i - y_i|, \qquad
        \frac{\partial L}{\partial \hat y_i} = \frac{1}{n} \operatorname{sign}(\hat y_i - y_i)

    (0 where the two are equal, as PyTorch's ``L1Loss`` takes the kink). Shapes as MSE's.

    Examples
    --------
    >>> MAE()([[1.0], [3.0]], [0.0, 1.0])
    1.5
    """

    name = "mean_absolute_error"

    def forward(self, y_pred, y_true):
        return np.mean(np.abs(y_pred - y_true))

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
    >>> Huber()([0.5, 3.0], [0.0, 0.0])
    1.3125
    >>> Huber(delta=2.0).gradient([0.5, 3.0], [0.0, 0.0])
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
        return np.mean(small * (magnitude - small / 2))

    def backward(self, y_pred, y_true):
        return np.clip(y_pred - y_true, -self.delta, self.delta) / y_pred.size


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

    Targets lie in :math:`[0, 1]` (usually exactly 0 or 1).

    Examples
    --------
    >>> round(BinaryCrossEntropy()([0.9, 0.2], [1, 0]), 4)
    0.1643
    >>> BinaryCrossEntropy(from_logits=True).gradient([0.0], [1])
    array([-0.5])
    """

    name = "binary_crossentropy"

    def forward(self, y_pred, y_true):
        if self.from_logits:
            return np.mean(_softplus(y_pred) - y_true * y_pred)
        p = _clip(y_pred)
        return -np.mean(y_true * np.log(p) + (1 - y_true) * np.log1p(-p))

    def backward(self, y_pred, y_true):
        if self.from_logits:
            return (sigmoid(y_pred) - y_true) / y_pred.size
        p = _clip(y_pred)
        return _unclipped(y_pred) * (p - y_true) / (p * (1 - p)) / y_pred.size

    def _check_target_values(self, y_true):
        self._check_unit_interval(y_true, "y_true", "binary targets")


class CategoricalCrossEntropy(_LogitsOption):
    r"""Categorical cross-entropy: the loss of a K-class classifier with a softmax output.

    .. math::

        L = -\frac{1}{N} \sum_{n=1}^{N} \sum_{c=1}^{K} y_{nc} \log p_{nc}, \qquad
        \frac{\partial L}{\partial p_{nc}} = -\frac{1}{N} \frac{y_{nc}}{p_{nc}}

    with :math:`p` clipped to :math:`[10^{-7}, 1 - 10^{-7}]` and not renormalised
    (rows should sum to 1, as softmax outputs do; Keras renormalises them).
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
    >>> round(CategoricalCrossEntropy()([[0.7, 0.2, 0.1]], [0]), 4)
    0.3567
    >>> CategoricalCrossEntropy(from_logits=True).gradient([[0.0, 0.0]], [[1, 0]])
    array([[-0.5,  0.5]])
    """

    name = "categorical_crossentropy"
    rowwise = True
    labels = True
    min_classes = 2

    def forward(self, y_pred, y_true):
        log_p = _log_softmax(y_pred) if self.from_logits else np.log(_clip(y_pred))
        return -np.sum(y_true * log_p) / len(y_pred)

    def backward(self, y_pred, y_true):
        if self.from_logits:
            return self._logits_gradient(_log_softmax(y_pred), y_true)
        return -_unclipped(y_pred) * y_true / _clip(y_pred) / len(y_pred)

    def forward_backward(self, y_pred, y_true):
        if not self.from_logits:
            return super().forward_backward(y_pred, y_true)
        log_p = _log_softmax(y_pred)   # once, for the value and the gradient
        return -np.sum(y_true * log_p) / len(y_pred), self._logits_gradient(log_p, y_true)

    @staticmethod
    def _logits_gradient(log_p, y_true):
        """The gradient from ``log_p`` = log softmax(z): (softmax(z) sum(y) - y) / N."""
        return (_exp(log_p) * y_true.sum(axis=-1, keepdims=True) - y_true) / len(log_p)

    def _check_target_values(self, y_true):
        self._check_unit_interval(y_true, "y_true", "one-hot or probability rows")


class KLDivergence(Loss):
    r"""Kullback-Leibler divergence of the predicted distribution from the true one.

    ``y_true`` is the reference distribution :math:`p`, ``y_pred`` the
    approximation :math:`q`, one distribution per row:

    .. math::

        L = \frac{1}{N} \sum_{n} \sum_{c} p_{nc} \log\frac{p_{nc}}{q_{nc}}, \qquad
        \frac{\partial L}{\partial q_{nc}} = -\frac{1}{N} \frac{p_{nc}}{q_{nc}}

    with :math:`0 \log 0 = 0` and :math:`q` clipped to :math:`[10^{-7}, 1 - 10^{-7}]`.
    This is :math:`D_{KL}(p \| q)`, the target first, as Keras and PyTorch compute it; the
    lecture's slide writes :math:`\sum \hat y \log(\hat y / y)`, the prediction first,
    and the divergence is not symmetric (chapter 6). It is the cross-entropy
    minus the entropy of :math:`p`: same gradient, and 0 exactly when :math:`q = p`.
    Equals ``torch.nn.functional.kl_div(log q, p, reduction="batchmean")``.

    Examples
    --------
    >>> KLDivergence()([[0.5, 0.5]], [[0.5, 0.5]])
    0.0
    >>> round(KLDivergence()([[0.25, 0.75]], [[0.5, 0.5]]), 4)
    0.1438
    """

    name = "kl_divergence"
    rowwise = True

    def forward(self, y_pred, y_true):
        log_p = np.log(np.where(y_true > 0, y_true, 1))  # 0 where p = 0: 0 log 0 = 0
        return np.sum(y_true * (log_p - np.log(_clip(y_pred)))) / len(y_pred)

    def backward(self, y_pred, y_true):
        return -_unclipped(y_pred) * y_true / _clip(y_pred) / len(y_pred)

    def _check_predictions(self, y_pred):
        self._check_unit_interval(y_pred, "y_pred", "a probability distribution per row",
                                  PredictionRangeError)

    def _check_target_values(self, y_true):
        self._check_unit_interval(y_true, "y_true", "a probability distribution per row")


class Hinge(Loss):
    r"""Hinge loss of a binary margin classifier (a linear SVM), labels -1 and +1.

    .. math::

        L = \frac{1}{n} \sum_i \max(0, 1 - y_i s_i), \qquad
        \frac{\partial L}{\partial s_i} = -\frac{y_i}{n} [y_i s_i < 1]

    over all :math:`n` elements of the raw scores :math:`s` (``y_pred``); the
    kink :math:`y s = 1` gets the subgradient 0. Labels must be exactly -1 or
    +1: Keras silently maps 0/1 to -1/+1, here a 0 is an error (use ``2 * y - 1``).

    Examples
    --------
    >>> Hinge()([0.5, -2.0], [1, 1])
    1.75
    >>> Hinge().gradient([0.5, -2.0], [1, 1])
    array([-0.5, -0.5])
    """

    name = "hinge"

    def forward(self, y_pred, y_true):
        return np.mean(np.maximum(0, 1 - y_true * y_pred))

    def backward(self, y_pred, y_true):
        return -y_true * (y_true * y_pred < 1) / y_pred.size

    def _check_target_values(self, y_true):
        if not np.all(np.abs(y_true) == 1):
            raise ValueError(f"{self!r}: y_true labels must be -1 or +1; got "
                             f"{y_true[np.abs(y_true) != 1][0]:g} (convert 0/1 labels "
                             "with 2 * y - 1)")


class MulticlassHinge(Loss):
    r"""Multiclass hinge loss of a multiclass SVM (Weston and Watkins, 1999).

    With scores :math:`s_n` and true class :math:`y_n` of sample :math:`n`:

    .. math::

        L = \frac{1}{N} \sum_n \sum_{j \ne y_n} \max(0, s_{nj} - s_{ny_n} + 1)

    Each class whose margin is violated (a positive term) gets gradient
    :math:`1/N`, the true class :math:`-1/N` times the number of violations;
    the kink gets the subgradient 0. ``y_true``: integer labels ``(N,)`` or
    one-hot rows ``(N, K)``; needs :math:`K \ge 2`. PyTorch's
    ``multi_margin_loss`` also divides each row's sum by :math:`K`, so it
    equals this value divided by :math:`K`.

    Examples
    --------
    >>> round(MulticlassHinge()([[3.2, 5.1, -1.7]], [0]), 4)
    2.9
    >>> MulticlassHinge().gradient([[3.2, 5.1, -1.7]], [0])
    array([[-1.,  1.,  0.]])
    """

    name = "multiclass_hinge"
    rowwise = True
    labels = True
    min_classes = 2

    @staticmethod
    def _margins(scores, one_hot):
        true_score = np.sum(scores * one_hot, axis=-1, keepdims=True)
        return np.maximum(0, scores - true_score + 1) * (1 - one_hot)

    def forward(self, y_pred, y_true):
        return np.sum(self._margins(y_pred, y_true)) / len(y_pred)

    def backward(self, y_pred, y_true):
        violated = (self._margins(y_pred, y_true) > 0).astype(y_pred.dtype)
        return (violated - y_true * violated.sum(axis=-1, keepdims=True)) / len(y_pred)

    def _check_target_values(self, y_true):
        if not (np.all((y_true == 0) | (y_true == 1)) and np.all(y_true.sum(-1) == 1)):
            raise ValueError(f"{self!r}: y_true rows must be one-hot (one 1, the rest 0) "
                             "or y_true must be integer labels; got a row that is not")


_REGISTRY = {
    "mse": MSE, "mean_squared_error": MSE, "mae": MAE, "mean_absolute_error": MAE,
    "huber": Huber,
    "binary_crossentropy": BinaryCrossEntropy,
    "categorical_crossentropy": CategoricalCrossEntropy,
    "sparse_categorical_crossentropy": CategoricalCrossEntropy,
    "kl_divergence": KLDivergence, "kld": KLDivergence,
    "kullback_leibler_divergence": KLDivergence,
    "hinge": Hinge, "multiclass_hinge": MulticlassHinge,
}

#: Every name ``get`` accepts, aliases included.
NAMES = tuple(_REGISTRY)


def get(identifier, **kwargs):
    """Return a loss from its Keras name (plus constructor arguments), or a ready :class:`Loss`.

    Examples
    --------
    >>> get("sparse_categorical_crossentropy", from_logits=True)
    CategoricalCrossEntropy(from_logits=True)
    >>> get("mse")
    MSE()
    """
    if isinstance(identifier, Loss):
        if kwargs:
            raise ValueError(f"constructor arguments {kwargs} need a loss name, "
                             f"not the ready-made {identifier!r}")
        return identifier
    return build(lookup(identifier, _REGISTRY, "loss"), kwargs, identifier, "loss")
