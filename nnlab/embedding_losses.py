r"""Losses on embeddings: the circle loss of metric learning.

The losses of ``nnlab.losses`` compare each prediction with its own target. Metric
learning trains a network to map each sample to an *embedding*, a vector, so that
samples of one class (photos of one face, recordings of one speaker) lie close together
and samples of other classes far apart: the target of a sample is only its label, and
the loss compares the embeddings of the batch with one another. A class seen in training
needs no output unit of its own, so faces never seen before can be told apart by the
distance of their embeddings.

``nnlab.losses.get("circle")`` gives this module's ``Circle``, as Keras 3's ``"circle"``
names its ``circle`` loss.
"""

import numpy as np

from nnlab._checks import as_float_array, check_bool, check_number
from nnlab.activation_base import _exp, _sigmoid, _softplus
from nnlab.loss_base import Loss

__all__ = ["Circle"]


class Circle(Loss):
    r"""Circle loss (Sun et al., 2020): pull each pair of one class together, push the
    others apart, the harder the further each pair is from where it should be.

    With the dot products :math:`s_{ij} = y_i \cdot y_j` of the embeddings (rows of
    ``y_pred``), their cosine distances :math:`d_{ij} = \max(1 - s_{ij}, 0)`, and for each
    row :math:`i` its positives :math:`j \in P_i` (the other rows of its label) and its
    negatives :math:`N_i` (the rows of other labels):

    .. math::

        \ell_i = \operatorname{softplus}(r_i), \qquad
        r_i = \log \sum_{j \in P_i} e^{\gamma\, a_{ij} (d_{ij} - m)}
            + \log \sum_{j \in N_i} e^{\gamma\, b_{ij} (1 - m - d_{ij})}, \qquad
        a_{ij} = [m + d_{ij}]_+, \quad b_{ij} = [1 + m - d_{ij}]_+

    and the value is the mean of :math:`\ell_i` over the rows whose :math:`\ell_i > 0`
    (the code's ``s``, ``d`` and ``arg`` are :math:`s`, :math:`d` and :math:`r`).
    A positive pair counts from the distance :math:`m` up, a negative pair from
    :math:`1 - m` down, each weighted by how far it is from its optimum (:math:`a` grows
    as a positive drifts away, :math:`b` as a negative comes close), so that the pairs
    furthest from their optimum take most of the gradient; the log-sum-exps are smooth
    maxima over the pairs, and :math:`\gamma` sharpens them. With :math:`\pi`, :math:`\nu`
    the softmax weights of the two sums, the gradient of :math:`\ell_i` with respect to
    :math:`d_{ij}` is :math:`\sigma(r_i)\, 2 \gamma\, d_{ij}\, \pi_{ij}` for a positive and
    :math:`-\sigma(r_i)\, 2 \gamma\, (1 - d_{ij})\, \nu_{ij}` for a negative (0 where a
    :math:`[\,]_+` is 0), and :math:`s_{ij}` enters twice, through row :math:`i` and row
    :math:`j`: :math:`\partial L / \partial Y = (G + G^\top)\, Y` for the matrix :math:`G`
    of the gradients with respect to the :math:`s_{ij}`.

    This is Keras 3's ``circle``, its defaults (:math:`\gamma = 80`, :math:`m = 0.4`,
    ``remove_diagonal=True``: a row is no positive of itself) and its reduction: a row
    with no positive or no negative has :math:`\ell_i = 0`, and Keras's mask
    (``loss > 0``) divides the sum by the number of rows whose loss is > 0, not by the
    batch size (the value is 0 if there is none). A batch of one label has no negative;
    a label seen once in the batch has no positive with ``remove_diagonal=True``, while
    with ``False`` every row is a positive of itself (at distance 0 for a unit vector),
    so that its row counts if it has a negative.

    Keras's ``circle`` takes the embeddings as they are: it expects unit vectors, which
    Keras's models make with a ``UnitNormalization`` layer before the loss. nnlab has no
    such layer: end the model with a softmax instead, whose rows' dot products stay within
    [0, 1]. On other vectors :math:`s_{ij}` is no cosine, and where it passes 1 the
    distance is clipped to 0 and has no gradient: a pair of two labels there stays there.
    At :math:`s_{ij} = 1` exactly (two equal unit vectors, or two softmax outputs that are
    the same one-hot row) the clip's slope is taken as 0, where Keras's ``maximum``,
    differentiated by torch, takes 1/2: both are subgradients, but a negative pair at
    that tie gets no gradient here and half its unclipped gradient in Keras. (A positive
    pair at :math:`d = 0` has the slope :math:`2 \gamma d = 0` either way.) Likewise at
    the kink of :math:`a_{ij}`, :math:`m + d_{ij} = 0` (which only a negative margin
    reaches), the slope of :math:`\gamma\, a_{ij} (d_{ij} - m)` is taken as 0, the slope
    from the side where :math:`a_{ij} = 0`, where Keras takes half of :math:`\gamma (d_{ij} - m)`.

    ``y_pred``: ``(N, d)``, one embedding per row. ``y_true``: one integer label per row,
    ``(N,)`` or ``(N, 1)``, any integers (they name classes, and only their equality
    counts); rows of ``y_pred``'s shape, each label repeated along its row, are accepted
    too (``fit`` passes them so). ``check`` returns them as such rows, in their own dtype
    (float64 for integers, exact up to :math:`2^{53}`), never in ``y_pred``'s: float32
    holds the integers exactly only up to :math:`2^{24}`, and would make :math:`2^{24} + 1`
    the same label. ``fit`` casts the targets to the model's dtype, though: a float32 model
    needs labels below :math:`2^{24}`.

    Examples
    --------
    >>> y = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]])   # unit vectors
    >>> round(nl.losses.Circle()(y, [0, 0, 1, 1]), 4)   # rows 0.2 apart share a label
    3.2009
    >>> round(nl.losses.Circle()(y, [0, 1, 0, 1]), 4)   # they do not: far worse
    105.6
    """

    name = "circle"

    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True):
        self.gamma = float(check_number(gamma, "Circle gamma", low=0, low_open=True))
        self.margin = float(check_number(margin, "Circle margin"))
        self.remove_diagonal = check_bool(remove_diagonal, "Circle remove_diagonal")

    def get_config(self):
        return {"gamma": self.gamma, "margin": self.margin,
                "remove_diagonal": self.remove_diagonal}

    def check(self, y_pred, y_true):
        """``(y_pred, y_true)`` checked: y_pred ``(N, d)``, the labels in its shape."""
        y_pred = as_float_array(y_pred, name=f"{self!r}: y_pred")
        if y_pred.ndim != 2:
            raise ValueError(f"{self!r}: y_pred must be (N, d), one embedding per row; got "
                             f"shape {y_pred.shape}")
        self._check_outputs(y_pred.shape)
        y_true = as_float_array(y_true, name=f"{self!r}: y_true")
        return y_pred, self._labels(y_true, y_pred.shape)

    def check_targets(self, y_true, n_outputs):
        """The labels of a whole data set, checked, as ``(N, n_outputs)`` rows (``check``).

        Examples
        --------
        >>> nl.losses.Circle().check_targets([3, 7], n_outputs=2)
        array([[3., 3.],
               [7., 7.]])
        """
        check_number(n_outputs, "n_outputs", low=1, integer=True)
        y_true = as_float_array(y_true, name=f"{self!r}: y_true", ndim=(1, 2))
        return self._labels(y_true, (len(y_true), n_outputs))

    def _labels(self, y_true, shape):
        n = shape[0]
        if y_true.shape in ((n,), (n, 1)):
            labels = y_true.reshape(n)
        elif y_true.shape == shape and np.all(y_true == y_true[:, :1]):
            labels = y_true[:, 0]
        else:
            raise ValueError(f"{self!r}: y_true must hold one integer label per embedding, "
                             f"({n},) or ({n}, 1) for y_pred of shape {shape}; got shape "
                             f"{y_true.shape}")
        whole = labels == np.round(labels)
        if not np.all(whole):
            raise ValueError(f"{self!r}: labels must be integers (they name the classes); got "
                             f"{np.format_float_positional(labels[~whole][0], trim='-')}")
        # In their own dtype: cast to y_pred's float32, 2**24 + 1 would become 2**24.
        return np.repeat(labels[:, None], shape[1], axis=1)

    def _rows(self, y_pred, y_true):
        """Each row's loss, and what its gradient needs: the dot products ``s``, the
        distances ``d``, the softmax weights of the two sums, and the softplus' argument."""
        labels = y_true[:, 0]
        same = labels[:, None] == labels
        positive = same & ~np.eye(len(same), dtype=bool) if self.remove_diagonal else same
        m, gamma = self.margin, self.gamma
        with np.errstate(under="ignore"):            # products of tiny embeddings: 0
            s = y_pred @ y_pred.T
        d = np.maximum(1 - s, 0)                     # d = max(1 - y_i . y_j, 0)
        pull = gamma * np.maximum(m + d, 0) * (d - m)            # gamma a (d - m)
        push = gamma * np.maximum(1 + m - d, 0) * (1 - m - d)    # gamma b (1 - m - d)
        log_p, pi = _log_sum_exp(pull, positive)
        log_n, nu = _log_sum_exp(push, ~same)
        arg = log_p + log_n                          # -inf for a row with no pair of a kind
        return _softplus(arg), s, d, pi, nu, arg

    @staticmethod
    def _mean(loss):
        """Keras's reduction: the mean over the rows whose loss is > 0, and their count."""
        count = int(np.count_nonzero(loss > 0))   # a Python int: float32 stays float32
        return np.sum(loss) / max(count, 1), count

    def forward(self, y_pred, y_true):
        return self._mean(self._rows(y_pred, y_true)[0])[0]

    def backward(self, y_pred, y_true):
        return self.forward_backward(y_pred, y_true)[1]

    def forward_backward(self, y_pred, y_true):
        loss, s, d, pi, nu, arg = self._rows(y_pred, y_true)
        value, count = self._mean(loss)
        m, gamma = self.margin, self.gamma
        with np.errstate(under="ignore"):            # tiny weights times tiny slopes: 0
            # d loss_i / d arg_i = sigmoid(arg_i), for each row in the mean (Keras's mask is
            # a constant: a row left out has no gradient).
            weight = (_sigmoid(arg) * (loss > 0) / max(count, 1))[:, None]
            # d(gamma a (d - m))/dd = gamma (a + [m + d > 0] (d - m)) = 2 gamma d where a > 0;
            # d(gamma b (1 - m - d))/dd = -gamma (b + [1 + m - d > 0] (1 - m - d)).
            slope_p = gamma * (np.maximum(m + d, 0) + (m + d > 0) * (d - m))
            slope_n = -gamma * (np.maximum(1 + m - d, 0) + (1 + m - d > 0) * (1 - m - d))
            # dd/ds = -1 where 1 - s > 0, else 0 (the clip); G = dL/ds, and s = Y Y^T.
            grad_s = -weight * (pi * slope_p + nu * slope_n) * (1 - s > 0)
            return value, (grad_s + grad_s.T) @ y_pred


def _log_sum_exp(v, mask):
    """Per row, log sum_j e^(v_ij) over the j where ``mask`` (-inf for a row of none), and
    the softmax weights e^(v_ij) / sum of each j (0 outside ``mask``).

    Shifted by the row's largest value, so that no e^v overflows; the entries outside the
    mask become e^-inf = 0, whatever their value.
    """
    top = np.max(v, axis=1, keepdims=True, where=mask, initial=-np.inf)
    top = np.where(np.isfinite(top), top, 0)         # a row of none: nothing to shift
    weights = _exp(np.where(mask, v - top, -np.inf))
    total = np.sum(weights, axis=1, keepdims=True)   # >= 1 unless the row has none
    # log 0 = -inf: no pair of this kind. A weight too small for the dtype is 0, rightly.
    with np.errstate(divide="ignore", under="ignore"):
        return (np.log(total) + top)[:, 0], weights / np.maximum(total, 1)
