r"""Focal losses (Lin et al., 2017): cross-entropies that turn down the easy samples.

On an imbalanced data set most samples are easy, and cross-entropy keeps pushing on
them: their many small terms can outweigh the few hard ones. A focal loss multiplies each
term by :math:`(1 - p_t)^\gamma`, where :math:`p_t` is the probability given to the true
answer, so a sample already classified with confidence adds almost nothing. The names
and defaults are Keras's: ``"binary_focal_crossentropy"``,
``"categorical_focal_crossentropy"``; ``nnlab.losses`` re-exports both.
"""

import numpy as np

from nnlab._checks import check_bool, check_number
from nnlab.activation_base import _exp, _log_softmax
from nnlab.activations import sigmoid
from nnlab.loss_base import (
    PredictionDomainError,
    _binary_cross_entropy_of_logits,
    _clip,
    _LogitsOption,
    _mean,
    _unclipped,
)

__all__ = ["BinaryFocalCrossEntropy", "CategoricalFocalCrossEntropy"]


class BinaryFocalCrossEntropy(_LogitsOption):
    r"""Focal loss (Lin et al., 2017): binary cross-entropy that turns down the easy samples.

    Each element's binary cross-entropy :math:`c_i` (``nnlab.losses.BinaryCrossEntropy``)
    is multiplied by the *focal factor*
    :math:`(1 - p_{t,i})^\gamma`, where :math:`p_t = y p + (1 - y)(1 - p)` is the
    probability the model gives the true answer:

    .. math::

        L = \frac{1}{n} \sum_i w_i\, (1 - p_{t,i})^\gamma\, c_i, \qquad
        \frac{\partial L}{\partial p_i} = \frac{w_i}{n}\Big((1 - p_{t,i})^\gamma
            \frac{\partial c_i}{\partial p_i} - \gamma (1 - p_{t,i})^{\gamma - 1}
            (2 y_i - 1)\, c_i\Big)

    A sample already classified with confidence (:math:`p_t` near 1) adds almost nothing,
    so the many easy samples of an imbalanced data set no longer drown the few hard ones.
    :math:`\gamma = 0` is binary cross-entropy. With ``apply_class_balancing``,
    :math:`w = \alpha y + (1 - \alpha)(1 - y)` also weighs the classes; else :math:`w = 1`.
    The defaults are Keras's ``BinaryFocalCrossentropy``: :math:`\gamma = 2`,
    :math:`\alpha = 0.25`, no balancing. From logits, :math:`c_i` is computed from
    :math:`z` (softplus), where Keras takes the sigmoid first and clips: they differ only
    where it clips (:math:`|z| > 16`). With balancing and logits, it is torchvision's
    ``sigmoid_focal_loss`` with ``reduction="mean"``.

    Examples
    --------
    >>> round(nl.losses.BinaryFocalCrossEntropy()([0.9, 0.2], [1, 0]), 5)   # 0.01 c and 0.04 c
    0.00499
    >>> round(nl.losses.BinaryFocalCrossEntropy(gamma=0.0)([0.9, 0.2], [1, 0]), 4)   # cross-entropy
    0.1643
    """

    name = "binary_focal_crossentropy"

    def __init__(self, gamma=2.0, alpha=0.25, apply_class_balancing=False, from_logits=False):
        super().__init__(from_logits)
        self.gamma = float(check_number(gamma, "focal gamma", low=0))
        self.alpha = float(check_number(alpha, "focal alpha", low=0, high=1))
        self.apply_class_balancing = check_bool(apply_class_balancing, "apply_class_balancing")

    def get_config(self):
        return {"gamma": self.gamma, "alpha": self.alpha,
                "apply_class_balancing": self.apply_class_balancing,
                "from_logits": self.from_logits}

    def _parts(self, y_pred, y_true):
        """The weighted focal factor, each element's cross-entropy c, dc/dy_pred, and c
        times the slope of the factor with respect to y_pred."""
        if self.from_logits:
            p = sigmoid(y_pred)
            c = _binary_cross_entropy_of_logits(y_pred, y_true)
            dc, dp = p - y_true, p * (1 - p)
        else:
            # Outputs outside [0, 1] (fit's warning) clipped into it: no gradient there.
            p, clipped = np.clip(y_pred, 0, 1), _clip(y_pred)
            c = -(y_true * np.log(clipped) + (1 - y_true) * np.log1p(-clipped))
            dc = _unclipped(y_pred) * (clipped - y_true) / (clipped * (1 - clipped))
            dp = p == y_pred
        # 1 - p_t, as a sum of products of numbers in [0, 1]: never below 0, where 1 - p_t
        # itself could round a hair below it
        q = y_true * (1 - p) + (1 - y_true) * p
        w = (self.alpha * y_true + (1 - self.alpha) * (1 - y_true)
             if self.apply_class_balancing else 1)
        # c gamma (1 - p_t)^(gamma - 1) as gamma (c r) r, r = (1 - p_t)^((gamma - 1) / 2):
        # for gamma < 1 the power alone overflows where 1 - p_t is tiny (4e-44 at a logit of
        # -100 in float32) though the product does not; r is at most (1 - p_t)^(-1/2).
        # 0 where 1 - p_t = 0: the factor is flat there (gamma > 1), and c 0 or nearly.
        r = np.power(q, (self.gamma - 1) / 2, out=np.zeros_like(q), where=q > 0)
        return (w * q**self.gamma, c, dc,
                -w * self.gamma * (c * r) * r * (2 * y_true - 1) * dp)

    def forward(self, y_pred, y_true):
        factor, c, _, _ = self._parts(y_pred, y_true)
        return _mean(factor * c)

    def backward(self, y_pred, y_true):
        factor, _, dc, c_slope = self._parts(y_pred, y_true)
        return (factor * dc + c_slope) / y_pred.size

    def _check_target_values(self, y_true):
        self._check_unit_interval(y_true, "y_true", "binary targets")


class CategoricalFocalCrossEntropy(_LogitsOption):
    r"""Categorical focal loss: categorical cross-entropy that turns down the easy samples.

    The focal factor of :class:`BinaryFocalCrossEntropy`, for K classes, as Keras's
    ``CategoricalFocalCrossentropy`` computes it: each row of ``y_pred`` is divided by its
    sum (outputs outside [0, 1], which ``fit`` warns about, clipped into it first, so that
    a row at or below 0, not all zeros, costs :math:`\alpha (1 - 10^{-7})^\gamma` times what
    it costs ``CategoricalCrossEntropy``; a row of zeros is refused), :math:`p`
    clipped to :math:`[10^{-7}, 1 - 10^{-7}]`, and

    .. math::

        L = -\frac{1}{N} \sum_{n} \sum_{c} \alpha\, (1 - p_{nc})^\gamma\,
            y_{nc} \log p_{nc}, \qquad
        \frac{\partial L}{\partial p_{nc}} = \frac{\alpha\, y_{nc}}{N}
            \Big(\gamma (1 - p_{nc})^{\gamma - 1} \log p_{nc}
            - \frac{(1 - p_{nc})^\gamma}{p_{nc}}\Big)

    then through the division by the row's sum. With ``from_logits=True``, :math:`\log p`
    is the log-softmax of the scores, with no clip, and the gradient goes through the
    softmax: Keras takes the softmax and clips, so that a true class more than about 16
    below the best score gets no gradient at all, where the hard samples are those a focal
    loss is for; the two differ only there. Keras's defaults, :math:`\alpha = 0.25`,
    :math:`\gamma = 2`. With :math:`\gamma = 0` it is :math:`\alpha` times the categorical
    cross-entropy of the rows divided by their sums (from logits, exactly :math:`\alpha`
    times ``CategoricalCrossEntropy(from_logits=True)``). ``y_true``: one-hot rows or
    integer labels.

    Examples
    --------
    >>> loss = nl.losses.CategoricalFocalCrossEntropy()   # Keras's example, per sample 2.634e-4 and
    >>> round(loss([[0.05, 0.9, 0.05], [0.1, 0.85, 0.05]], [1, 2]), 5)   # 0.6759; the mean:
    0.33809
    """

    name = "categorical_focal_crossentropy"
    rowwise = True
    labels = True
    min_classes = 2

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False):
        super().__init__(from_logits)
        self.alpha = float(check_number(alpha, "focal alpha", low=0))
        self.gamma = float(check_number(gamma, "focal gamma", low=0))

    def get_config(self):
        return {"alpha": self.alpha, "gamma": self.gamma, "from_logits": self.from_logits}

    def _log_probabilities(self, y_pred):
        """log p and p: by the log-softmax of logits, else each row's shares, clipped."""
        if self.from_logits:
            log_p = _log_softmax(y_pred)
            return log_p, _exp(log_p)
        p = _clip(self._shares(y_pred)[0])
        return np.log(p), p

    @staticmethod
    def _shares(y_pred):
        """Each row, clipped into [0, 1], over its sum s (0 where s = 0); and s."""
        inside = np.clip(y_pred, 0, 1)
        total = np.sum(inside, axis=-1, keepdims=True)
        return inside / np.where(total > 0, total, 1), total

    def forward(self, y_pred, y_true):
        log_p, p = self._log_probabilities(y_pred)
        return -self.alpha * np.sum((1 - p) ** self.gamma * y_true * log_p) / len(p)

    def backward(self, y_pred, y_true):
        log_p, p = self._log_probabilities(y_pred)
        q = -np.expm1(log_p)   # 1 - p, with its digits when p is near 1
        # gamma (1 - p)^(gamma - 1), 0 where p = 1 (its product with log p tends to 0 there).
        # It does not overflow as the binary loss's could: a log-softmax near 0 is the log of
        # a sum of 1 or more, so 1 - p is 0 or an ulp of 1 or more (p <= 1 - 1e-7 if clipped).
        slope = (self.gamma * np.power(q, self.gamma - 1, out=np.zeros_like(q), where=q > 0)
                 if self.gamma else 0)
        if self.from_logits:
            # p dL/dp, which has no 1 / p; the softmax's Jacobian then gives
            # dL/dz_j = p_j dL/dp_j - p_j sum_c p_c dL/dp_c.
            g = self.alpha * y_true * (slope * p * log_p - q**self.gamma) / len(p)
            return g - p * np.sum(g, axis=-1, keepdims=True)
        share, total = self._shares(y_pred)   # before the clip into [1e-7, 1 - 1e-7]
        dp = self.alpha * y_true * _unclipped(share) * (slope * log_p - q**self.gamma / p) / len(p)
        # share = c / s, c = y_pred clipped into [0, 1], s its row's sum:
        # d share_i / d c_j = (delta_ij - share_i) / s, and dc / dy_pred = 1 inside [0, 1]
        dc = (dp - np.sum(dp * share, axis=-1, keepdims=True)) / np.where(total > 0, total, 1)
        return dc * ((y_pred >= 0) & (y_pred <= 1))

    def _check_predictions(self, y_pred):
        super()._check_predictions(y_pred)
        if not self.from_logits and np.any(np.sum(y_pred, axis=-1) == 0):
            raise PredictionDomainError(f"{self!r}: each row of y_pred is divided by its "
                                        "sum, and a row is all zeros; end the model with "
                                        "softmax, or pass from_logits=True for raw scores")

    def _check_target_values(self, y_true):
        self._check_unit_interval(y_true, "y_true", "one-hot or probability rows")
