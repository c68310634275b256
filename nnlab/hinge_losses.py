r"""Margin losses: a score need only beat a margin, and a score beyond it costs nothing.

The hinge losses train margin classifiers (support vector machines): a sample whose
score is on the right side of its margin adds 0 to the loss and gets no gradient,
whatever its size; cross-entropy keeps pushing it further. Binary losses take raw
scores and labels -1 and +1; the multiclass ones raw scores ``(N, K)`` and one-hot rows
or integer labels. The names are Keras's: ``"hinge"``, ``"squared_hinge"``,
``"categorical_hinge"``, and ``"multiclass_hinge"`` for the Weston-Watkins rule, which
Keras does not have.
"""

import numpy as np

from nnlab.loss_base import Loss, _mean

__all__ = ["CategoricalHinge", "Hinge", "MulticlassHinge", "SquaredHinge"]


def _check_signs(loss, y_true):
    if not np.all(np.abs(y_true) == 1):
        raise ValueError(f"{loss!r}: y_true labels must be -1 or +1; got "
                         f"{y_true[np.abs(y_true) != 1][0]:g} (convert 0/1 labels "
                         "with 2 * y - 1)")


def _check_one_hot(loss, y_true):
    bad = ~(np.all((y_true == 0) | (y_true == 1), axis=-1) & (y_true.sum(-1) == 1))
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{loss!r}: y_true rows must be one-hot (one 1, the rest 0) "
                         f"or y_true must be integer labels; got row {i}, "
                         f"{np.array2string(y_true[i], threshold=8)}")


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
    >>> nl.losses.Hinge()([0.5, -2.0], [1, 1])
    1.75
    >>> nl.losses.Hinge().gradient([0.5, -2.0], [1, 1])
    array([-0.5, -0.5])
    """

    name = "hinge"

    def forward(self, y_pred, y_true):
        return _mean(np.maximum(0, 1 - y_true * y_pred))

    def backward(self, y_pred, y_true):
        return -y_true * (y_true * y_pred < 1) / y_pred.size

    def _check_target_values(self, y_true):
        _check_signs(self, y_true)


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
    >>> round(nl.losses.MulticlassHinge()([[3.2, 5.1, -1.7]], [0]), 4)
    2.9
    >>> nl.losses.MulticlassHinge().gradient([[3.2, 5.1, -1.7]], [0])
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
        _check_one_hot(self, y_true)


class SquaredHinge(Loss):
    r"""Squared hinge loss, labels -1 and +1, as Keras's ``squared_hinge``.

    .. math::

        L = \frac{1}{n} \sum_i \max(0, 1 - y_i s_i)^2, \qquad
        \frac{\partial L}{\partial s_i} = -\frac{2 y_i}{n} \max(0, 1 - y_i s_i)

    The hinge's penalty, squared: smooth at the margin, where its gradient falls to 0
    gradually instead of jumping, and harder on large violations. Shapes and labels as
    :class:`Hinge`'s.

    Examples
    --------
    >>> nl.losses.SquaredHinge()([0.5, -2.0], [1, 1])
    4.625
    >>> nl.losses.SquaredHinge().gradient([0.5, -2.0], [1, 1])
    array([-0.5, -3. ])
    """

    name = "squared_hinge"

    def forward(self, y_pred, y_true):
        return _mean(np.maximum(0, 1 - y_true * y_pred) ** 2)

    def backward(self, y_pred, y_true):
        return -2 * y_true * np.maximum(0, 1 - y_true * y_pred) / y_pred.size

    def _check_target_values(self, y_true):
        _check_signs(self, y_true)


class CategoricalHinge(Loss):
    r"""Keras's categorical hinge (Crammer and Singer's rule): only the best wrong score counts.

    With the true class's score :math:`p = s_{y}` and :math:`q = \max_j (1 - t_j) s_j`
    (:math:`t` the one-hot row):

    .. math::

        L = \frac{1}{N} \sum_n \max(0, q_n - p_n + 1)

    Where :class:`MulticlassHinge` adds a term for every wrong class that comes within the
    margin, this takes the largest wrong score alone. Keras writes :math:`q` with
    :math:`(1 - t_j)`, so the true class enters the maximum as 0: when every wrong score
    is negative, :math:`q = 0`. This follows that formula exactly. A violated margin gives
    the class of :math:`q` the gradient :math:`1/N` (none if that is the true class's 0)
    and the true class :math:`-1/N`. ``y_true``: one-hot rows or integer labels.

    Examples
    --------
    Class 2's score 2.7 is within the margin too; only the best wrong score, 5.1, counts:

    >>> round(nl.losses.CategoricalHinge()([[3.2, 5.1, 2.7]], [0]), 4)
    2.9
    >>> nl.losses.CategoricalHinge().gradient([[3.2, 5.1, 2.7]], [0])
    array([[-1.,  1.,  0.]])
    >>> round(nl.losses.MulticlassHinge()([[3.2, 5.1, 2.7]], [0]), 4)   # 2.9 + 0.5 for class 2
    3.4
    """

    name = "categorical_hinge"
    rowwise = True
    labels = True
    min_classes = 2

    @staticmethod
    def _terms(scores, one_hot):
        """Each row's term max(0, q - p + 1), and a mask of the class that gives q."""
        wrong = (1 - one_hot) * scores
        best = np.argmax(wrong, axis=-1)[..., None]
        q = np.take_along_axis(wrong, best, axis=-1)[..., 0]
        terms = np.maximum(0, q - np.sum(one_hot * scores, axis=-1) + 1)
        return terms, np.arange(scores.shape[-1]) == best

    def forward(self, y_pred, y_true):
        return np.sum(self._terms(y_pred, y_true)[0]) / len(y_pred)

    def backward(self, y_pred, y_true):
        terms, best = self._terms(y_pred, y_true)
        violated = (terms > 0).astype(y_pred.dtype)[..., None]
        return (best * (1 - y_true) - y_true) * violated / len(y_pred)

    def _check_target_values(self, y_true):
        _check_one_hot(self, y_true)
