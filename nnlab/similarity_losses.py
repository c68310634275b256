r"""Losses that score agreement as a ratio: cosine similarity, Dice and Tversky.

The losses of ``nnlab.losses`` add up a cost per element. These compare the prediction
with the target as a whole: the cosine of the angle between the two vectors of a sample,
or the overlap of the predicted and the true sets (Dice, Tversky), which image
segmentation uses when the object covers few pixels, and a per-pixel loss would be won
by predicting background everywhere. The names and formulas are Keras 3's:
``"cosine_similarity"``, ``"dice"``, ``"tversky"``.
"""

import numpy as np

from nnlab._checks import check_number
from nnlab.loss_base import EPSILON, Loss, PredictionDomainError

__all__ = ["CosineSimilarity", "Dice", "Tversky"]


class CosineSimilarity(Loss):
    r"""Minus the cosine of the angle between each target row and its prediction, averaged.

    .. math::

        L = -\frac{1}{N} \sum_n \hat t_n \cdot \hat p_n, \qquad
        \hat x = \frac{x}{\lVert x \rVert}, \qquad
        \frac{\partial L}{\partial p_n} = -\frac{1}{N}\,
            \frac{\hat t_n - (\hat t_n \cdot \hat p_n)\, \hat p_n}{\lVert p_n \rVert}

    It lies in :math:`[-1, 1]`: -1 when every prediction points the way of its target,
    whatever its length (within the dtype's range: a norm that overflows scores 0), 0
    when they are orthogonal. The gradient has no component
    along :math:`p_n`: lengthening a prediction changes nothing. As Keras, a norm below
    :math:`10^{-7}` counts as :math:`10^{-7}`, so that a row of zeros scores 0 (and its
    gradient is :math:`-10^7 \hat t_n / N`). ``y_pred`` and ``y_true``: ``(N, K)``, one
    vector per row (``(K,)`` for one).

    Examples
    --------
    >>> round(nl.losses.CosineSimilarity()([[1.0, 1.0], [3.0, 0.0]], [[2.0, 2.0], [0.0, 1.0]]), 6)
    -0.5
    >>> nl.losses.CosineSimilarity().gradient([[1.0, 1.0]], [[1.0, 0.0]])   # turn p towards t
    array([[-0.35355339,  0.35355339]])
    """

    name = "cosine_similarity"
    rowwise = True

    @staticmethod
    def _norm(x):
        """Each row's norm, at least 1e-7 (Keras's ``normalize``), and where it is more.

        Each row is divided by its largest absolute value first, so that no square
        overflows (BLAS's ``nrm2`` scales likewise): the squares of float32 numbers above
        1.8e19 are inf, and the norm of (3e19, 4e19) was. A norm beyond the dtype's largest
        number (float32 rows of 3e38) is inf all the same."""
        scale = np.max(np.abs(x), axis=-1, keepdims=True, initial=0)
        scale[scale == 0] = 1   # a row of zeros: its norm is 0 as it is
        norm = scale * np.linalg.norm(x / scale, axis=-1, keepdims=True)
        return np.maximum(norm, EPSILON), norm > EPSILON

    def forward(self, y_pred, y_true):
        t, p = y_true / self._norm(y_true)[0], y_pred / self._norm(y_pred)[0]
        return 0.0 - np.sum(t * p) / len(y_pred)   # orthogonal rows: 0, not -0

    def backward(self, y_pred, y_true):
        t = y_true / self._norm(y_true)[0]
        norm, free = self._norm(y_pred)
        p = y_pred / norm
        # Where the norm is floored, p / 1e-7 is linear in p: no projection.
        along = np.where(free, np.sum(t * p, axis=-1, keepdims=True), 0)
        return -(t - along * p) / norm / len(y_pred)


class Dice(Loss):
    r"""Dice loss: one minus the overlap of the predicted and the true set, over the batch.

    .. math::

        L = 1 - \frac{2 \sum_i t_i p_i}{\sum_i t_i + \sum_i p_i + \epsilon}, \qquad
        \frac{\partial L}{\partial p_i} = \frac{2 I - 2 t_i S}{S^2}

    with :math:`I = \sum_i t_i p_i` and :math:`S` the denominator, :math:`\epsilon = 10^{-7}`.
    For 0/1 sets, :math:`2 |T \cap P| / (|T| + |P|)` is the Dice (F1) score of the
    prediction; probabilities make it differentiable. The sums run over every element of
    the batch, as Keras's ``Dice()`` (``axis=None``): the value is the batch's, not a mean
    over samples. ``y_pred`` holds probabilities (sigmoid or softmax outputs), ``y_true``
    values in [0, 1], both of any one shape.

    Examples
    --------
    >>> round(nl.losses.Dice()([0.9, 0.1, 0.8], [1, 0, 1]), 4)    # 1 - 2 (1.7) / (2 + 1.8)
    0.1053
    """

    name = "dice"
    diverged_hint = ("With a Dice or Tversky loss, outputs outside [0, 1] do it too (they are "
                     "no probabilities): end the model with Activation('sigmoid') or "
                     "'softmax'.")

    def _parts(self, y_pred, y_true):
        return np.sum(y_true * y_pred), np.sum(y_true) + np.sum(y_pred) + EPSILON

    def _score(self, y_pred, y_true):
        overlap, total = self._parts(y_pred, y_true)
        return 2 * overlap / total

    def forward(self, y_pred, y_true):
        # fit checks the outputs once, before training; outputs that leave [0, 1] later
        # (a linear last layer) would give a value below 0 that means nothing: NaN
        # instead, and fit stops the run as diverged, with the hint above.
        if y_pred.min() < 0 or y_pred.max() > 1:
            return np.nan
        return 1 - self._score(y_pred, y_true)

    def backward(self, y_pred, y_true):
        overlap, total = self._parts(y_pred, y_true)
        return (2 * overlap - 2 * y_true * total) / total**2

    def _check_predictions(self, y_pred):
        self._check_unit_interval(y_pred, "y_pred", "probabilities: end the model with a "
                                  "sigmoid or softmax", PredictionDomainError)

    def _check_target_values(self, y_true):
        self._check_unit_interval(y_true, "y_true", "0/1 masks or probabilities")


class Tversky(Dice):
    r"""Tversky loss (Salehi et al., 2017): Dice with the two kinds of error weighed apart.

    .. math::

        L = 1 - \frac{I}{I + \alpha \sum_i t_i (1 - p_i) + \beta \sum_i (1 - t_i) p_i
            + \epsilon}

    with the overlap :math:`I = \sum_i t_i p_i`, over every element of the batch. The
    first sum counts the true elements the prediction misses (false negatives), the
    second the false alarms (false positives); :math:`\alpha = \beta = 1/2` is the Dice
    loss (but for :math:`\epsilon`). This is Keras's ``Tversky`` up to 3.15.1, whose
    :math:`\alpha` multiplies the false negatives (its docstring says false positives),
    the paper's :math:`\beta`: to punish missed elements more, raise ``alpha`` here.
    Keras swapped the two after 3.15.1 (pull request 23333, merged in July 2026) to the
    paper's roles: with such a Keras, give it this loss's ``alpha`` as its ``beta``.

    Examples
    --------
    >>> t, p = [1, 0, 1], [0.9, 0.1, 0.8]
    >>> abs(nl.losses.Tversky()(p, t) - nl.losses.Dice()(p, t)) < 1e-7
    True
    >>> round(nl.losses.Tversky(alpha=0.9, beta=0.1)(p, t), 4)     # misses 0.1 + 0.2 weigh more
    0.1414
    """

    name = "tversky"

    def __init__(self, alpha=0.5, beta=0.5):
        self.alpha = float(check_number(alpha, "Tversky alpha", low=0))
        self.beta = float(check_number(beta, "Tversky beta", low=0))

    def get_config(self):
        return {"alpha": self.alpha, "beta": self.beta}

    def _parts(self, y_pred, y_true):
        overlap = np.sum(y_true * y_pred)
        misses, false_alarms = np.sum(y_true * (1 - y_pred)), np.sum((1 - y_true) * y_pred)
        return overlap, overlap + self.alpha * misses + self.beta * false_alarms + EPSILON

    def _score(self, y_pred, y_true):
        overlap, total = self._parts(y_pred, y_true)
        return overlap / total

    def backward(self, y_pred, y_true):
        overlap, total = self._parts(y_pred, y_true)
        # d total / d p_i: t_i from the overlap, -alpha t_i and beta (1 - t_i) from the sums
        slope = (1 - self.alpha) * y_true + self.beta * (1 - y_true)
        return (overlap * slope - y_true * total) / total**2
