"""Keras's other metrics: the losses as metrics, AUC, the confusion counts, the correlations.

Keras 3 accepts more metric names than the chapters teach. ``nnlab.metrics.get`` takes
these too (``KERAS_METRICS`` maps each name to its function), so a model compiled for
Keras, ``compile(loss="mse", metrics=["auc", "pearson_correlation"])``, runs here
unchanged (but for the hinge metrics, which take labels -1 and +1 only: Keras turns 0/1
into them silently). Every function takes ``(y_true, y_pred)`` and returns a float:

- the losses as metrics, each the value of the nnlab loss of the same name
  (``nnlab.losses``, ``nnlab.hinge_losses``) with its reduction, the cross-entropies of
  probabilities and the hinges of raw scores: Keras's metric of a loss is that loss
  averaged over the samples;
- ``auc``, the exact area under the ROC curve, as scikit-learn's ``roc_auc_score``
  computes it (Fawcett, "An introduction to ROC analysis", 2006), where Keras's ``AUC``
  sums 200 thresholds;
- ``true_positives``, ``false_positives``, ``true_negatives``, ``false_negatives``:
  Keras's counts at the threshold 0.5, of every element; and ``binary_iou``, the
  intersection over union of the predicted and the true sets;
- ``cosine_similarity``, Keras's: the mean over the rows of their cosines;
- ``pearson_correlation`` (as ``scipy.stats.pearsonr``) and ``concordance_correlation``
  (Lin, "A concordance correlation coefficient to evaluate reproducibility", 1989), over
  the samples, where Keras correlates along the last axis (see each function);
- ``f_beta_score`` (``nnlab.f_score_metrics``): F1 with recall weighted beta times.

The metrics of probabilities see probabilities in ``fit`` when the model's loss takes
logits, ``BinaryCrossEntropy`` or ``CategoricalCrossEntropy(from_logits=True)``: ``fit``
takes the sigmoid or the softmax of its outputs first; under a hinge loss the counts see
0/1 decisions, the sign of each score. Those that are better higher (AUC, the true
counts, IoU, the similarity and correlations) are named in
``nnlab.callbacks.HIGHER_IS_BETTER``.
"""

import numpy as np

from nnlab._checks import as_float_array, check_number
from nnlab.f_score_metrics import f_beta_score
from nnlab.hinge_losses import CategoricalHinge, Hinge, SquaredHinge
from nnlab.loss_base import EPSILON, value_as_metric
from nnlab.losses import BinaryCrossEntropy, CategoricalCrossEntropy, KLDivergence
from nnlab.regression_metrics import _same_shape

__all__ = ["KERAS_METRICS", "auc", "binary_crossentropy", "binary_iou", "categorical_crossentropy",
           "categorical_hinge", "concordance_correlation", "cosine_similarity", "crossentropy",
           "false_negatives", "false_positives", "hinge", "kl_divergence",
           "pearson_correlation", "squared_hinge", "true_negatives", "true_positives"]


def _loss_value(loss, y_true, y_pred, func):
    """The value of ``loss`` as a metric (``loss_base.value_as_metric``); errors name
    ``func``."""
    y_true = as_float_array(y_true, name=f"{func}: y_true")
    y_pred = as_float_array(y_pred, name=f"{func}: y_pred")
    try:
        return value_as_metric(loss, y_true, y_pred)
    except ValueError as exc:
        raise ValueError(f"{func}: {exc}") from exc


def binary_crossentropy(y_true, y_pred):
    """The :class:`~nnlab.losses.BinaryCrossEntropy` of probabilities, averaged over every
    element (Keras's ``binary_crossentropy`` metric, alias ``"bce"``).

    Examples
    --------
    >>> round(nl.keras_metrics.binary_crossentropy([1, 0], [0.9, 0.2]), 4)
    0.1643
    """
    return _loss_value(BinaryCrossEntropy(), y_true, y_pred, "binary_crossentropy")


def categorical_crossentropy(y_true, y_pred):
    """The :class:`~nnlab.losses.CategoricalCrossEntropy` of probability rows ``(N, K)``:
    one-hot rows or integer labels (Keras's ``categorical_crossentropy`` and
    ``sparse_categorical_crossentropy`` metrics). Rows are taken as they are (Keras divides
    each by its sum): softmax outputs sum to 1 already.

    Examples
    --------
    >>> round(nl.keras_metrics.categorical_crossentropy([0, 1], [[0.7, 0.3], [0.4, 0.6]]), 4)
    0.4338
    """
    return _loss_value(CategoricalCrossEntropy(), y_true, y_pred, "categorical_crossentropy")


def crossentropy(y_true, y_pred):
    """The cross-entropy that suits the outputs: the binary one of one output per sample
    (``(N,)`` or ``(N, 1)``), the categorical one of several. TensorFlow's Keras 2 took
    ``"crossentropy"`` and ``"ce"`` in ``compile(metrics=...)`` and chose so; Keras 3 takes
    them as losses only.

    Examples
    --------
    >>> t, p = [1, 0], [0.9, 0.2]
    >>> nl.keras_metrics.crossentropy(t, p) == nl.keras_metrics.binary_crossentropy(t, p)
    True
    >>> round(nl.keras_metrics.crossentropy([0, 1], [[0.7, 0.3], [0.4, 0.6]]), 4)
    0.4338
    """
    y_pred = as_float_array(y_pred, name="crossentropy: y_pred")
    if y_pred.ndim <= 1 or y_pred.shape[-1] == 1:
        return binary_crossentropy(y_true, y_pred)
    return categorical_crossentropy(y_true, y_pred)


def kl_divergence(y_true, y_pred):
    """The :class:`~nnlab.losses.KLDivergence` of the rows of ``y_pred`` from those of
    ``y_true``, summed over a row, averaged over the rows (Keras's ``kl_divergence``).

    Examples
    --------
    >>> round(nl.keras_metrics.kl_divergence([[0.5, 0.5]], [[0.25, 0.75]]), 4)
    0.1438
    """
    return _loss_value(KLDivergence(), y_true, y_pred, "kl_divergence")


def hinge(y_true, y_pred):
    """The :class:`~nnlab.hinge_losses.Hinge` loss of raw scores, labels -1 and +1
    (Keras's ``hinge`` metric, which also maps labels 0/1 to -1/+1: here a 0 is an
    error, as it is for the loss).

    Examples
    --------
    >>> nl.keras_metrics.hinge([1, 1], [0.5, -2.0])
    1.75
    """
    return _loss_value(Hinge(), y_true, y_pred, "hinge")


def squared_hinge(y_true, y_pred):
    """The :class:`~nnlab.hinge_losses.SquaredHinge` loss of raw scores, labels -1 and +1.

    Examples
    --------
    >>> nl.keras_metrics.squared_hinge([1, 1], [0.5, -2.0])
    4.625
    """
    return _loss_value(SquaredHinge(), y_true, y_pred, "squared_hinge")


def categorical_hinge(y_true, y_pred):
    """The :class:`~nnlab.hinge_losses.CategoricalHinge` loss of raw scores ``(N, K)``:
    one-hot rows or integer labels.

    Examples
    --------
    >>> round(nl.keras_metrics.categorical_hinge([0], [[3.2, 5.1, 2.7]]), 4)
    2.9
    """
    return _loss_value(CategoricalHinge(), y_true, y_pred, "categorical_hinge")


def _binary_pairs(y_true, y_pred, func):
    """Where ``y_true`` is the positive class, and ``y_pred`` in its shape (``(N,)`` and
    ``(N, 1)`` count as the same)."""
    y_true, y_pred = _same_shape(y_true, y_pred, func)
    # -1/+1 too: fit passes a hinge model's labels as they are to auc (its counts get 0/1).
    if not (np.all((y_true == 0) | (y_true == 1)) or np.all(np.abs(y_true) == 1)):
        raise ValueError(f"{func}: y_true must hold 0/1 or -1/+1 labels; got values "
                         f"{np.unique(y_true)[:5]}")
    return y_true > 0, y_pred


def auc(y_true, y_pred):
    """The area under the ROC curve: the probability that a positive scores above a negative.

    The ROC curve plots, as the threshold falls, the fraction of the positives flagged
    against the fraction of the negatives flagged. Its area is that of the exact curve,
    which counts every pair of a positive and a negative: 1 if the positive scores
    higher, 1/2 if the two tie. ``sklearn.metrics.roc_auc_score`` gives the same number;
    Keras's ``AUC()`` approximates it with 200 thresholds, evenly spaced in [0, 1]: a
    pair whose two scores fall between the same two thresholds counts 1/2 there, in
    whichever order, so its value is close to this one when the scores spread out, and
    further off when many crowd together.

    Parameters
    ----------
    y_true : array_like
        Labels 0/1 or -1/+1, ``(N,)`` or ``(N, 1)``; or ``(N, K)`` (one-hot or several
        labels per sample), in the shape of ``y_pred``.
    y_pred : array_like
        Scores: probabilities, logits or margins alike, as only their order counts.

    Returns
    -------
    float
        In [0, 1]; 0.5 for scores that ignore the classes. NaN if ``y_true`` holds one
        class only: there is no pair to count, and the area is undefined
        (scikit-learn's ``roc_auc_score`` warns and returns NaN too, Keras returns 0).
        A metric reports rather than stops training: ``train_step`` on a batch of one
        class must go on.

    Notes
    -----
    Several columns count as one decision per element, flattened, as Keras's ``AUC``
    (``multi_label=False``) and scikit-learn's ``average="micro"`` count them: the
    one-hot rows of a softmax model give one area for every class together.

    Examples
    --------
    >>> nl.keras_metrics.auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])   # 3 of the 4 pairs in order
    0.75
    >>> nl.keras_metrics.auc([0, 1], [0.5, 0.5])   # a tie counts half
    0.5
    >>> nl.keras_metrics.auc([1, 1], [0.2, 0.7])
    nan
    """
    positive, scores = _binary_pairs(y_true, y_pred, "auc")
    positive, scores = positive.ravel(), scores.ravel()
    n_pos = np.count_nonzero(positive)
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    values, group = np.unique(scores, return_inverse=True)
    pos = np.bincount(group, weights=positive, minlength=len(values))
    neg = np.bincount(group, minlength=len(values)) - pos
    # A positive beats every negative scored lower, and ties half of those scored the same.
    below = np.cumsum(neg) - neg / 2
    return float(np.sum(pos * below) / (n_pos * n_neg))


def _decisions(y_true, y_pred, threshold, func):
    """The true classes and the predicted ones (``y_pred > threshold``) of every element."""
    check_number(threshold, f"{func}: threshold")
    positive, y_pred = _binary_pairs(y_true, y_pred, func)
    return positive, y_pred > threshold


def true_positives(y_true, y_pred, threshold=0.5):
    """How many elements of the positive class are predicted above ``threshold``.

    Keras's ``TruePositives()``, of every element (``(N, K)`` too). ``y_true``: 0/1 or
    -1/+1 labels, in the shape of ``y_pred``. For raw scores (logits, a hinge model's
    margins) pass ``threshold=0.0``, in a function of your own for ``compile``; ``fit``
    turns logits into probabilities first, and a hinge model's scores into 0/1 decisions.

    Examples
    --------
    >>> nl.keras_metrics.true_positives([1, 1, 0, 0], [0.9, 0.3, 0.6, 0.1])
    1.0
    """
    positive, flagged = _decisions(y_true, y_pred, threshold, "true_positives")
    return float(np.count_nonzero(positive & flagged))


def false_positives(y_true, y_pred, threshold=0.5):
    """How many elements of the negative class are predicted above ``threshold`` (false
    alarms); as :func:`true_positives`.

    Examples
    --------
    >>> nl.keras_metrics.false_positives([1, 1, 0, 0], [0.9, 0.3, 0.6, 0.1])
    1.0
    """
    positive, flagged = _decisions(y_true, y_pred, threshold, "false_positives")
    return float(np.count_nonzero(~positive & flagged))


def true_negatives(y_true, y_pred, threshold=0.5):
    """How many elements of the negative class are predicted at or below ``threshold``;
    as :func:`true_positives`.

    Examples
    --------
    >>> nl.keras_metrics.true_negatives([1, 1, 0, 0], [0.9, 0.3, 0.6, 0.1])
    1.0
    """
    positive, flagged = _decisions(y_true, y_pred, threshold, "true_negatives")
    return float(np.count_nonzero(~positive & ~flagged))


def false_negatives(y_true, y_pred, threshold=0.5):
    """How many elements of the positive class are predicted at or below ``threshold``
    (misses); as :func:`true_positives`.

    Examples
    --------
    >>> nl.keras_metrics.false_negatives([1, 1, 0, 0], [0.9, 0.3, 0.6, 0.1])
    1.0
    """
    positive, flagged = _decisions(y_true, y_pred, threshold, "false_negatives")
    return float(np.count_nonzero(positive & ~flagged))


def cosine_similarity(y_true, y_pred):
    """The cosine of the angle between each row of ``y_true`` and of ``y_pred``, averaged.

    Keras's ``cosine_similarity`` metric: rows along the last axis, 1 for rows that point
    the same way, -1 for opposite ones. Two 1-D arrays are one pair of vectors, as Keras
    reads them; ``(N,)`` against ``(N, 1)`` is N rows of one element, whose cosines are
    the products of the signs. A row of zeros has cosine 0 (Keras's ``normalize`` floors a
    norm at 1e-7). Computed in float64.

    Examples
    --------
    >>> nl.keras_metrics.cosine_similarity([[1.0, 0.0], [1.0, 1.0]],   # cosines 1 and 0
    ...                                    [[2.0, 0.0], [-1.0, 1.0]])
    0.5
    >>> nl.keras_metrics.cosine_similarity([3.0, 4.0], [4.0, 3.0])
    0.96
    """
    t, p = _same_shape(y_true, y_pred, "cosine_similarity")
    if max(np.ndim(y_true), np.ndim(y_pred)) <= 1:
        t, p = t.reshape(1, -1), p.reshape(1, -1)
    else:
        width = p.shape[-1] if p.ndim > 1 else 1   # (N, 1) against (N,): rows of one
        t, p = t.reshape(-1, width), p.reshape(-1, width)
    t, p = t.astype(np.float64), p.astype(np.float64)   # no float32 overflow in the norms
    norms = (np.maximum(np.linalg.norm(t, axis=1), EPSILON)
             * np.maximum(np.linalg.norm(p, axis=1), EPSILON))
    return float(np.mean(np.sum(t * p, axis=1) / norms))


def binary_iou(y_true, y_pred, threshold=0.5):
    """Intersection over union of the true and the predicted set, of each class, averaged.

    Keras's ``BinaryIoU()`` (``target_class_ids=(0, 1)``): an element is predicted positive
    when ``y_pred >= threshold`` (0.5); for class 1, then for class 0, the elements in both
    the true and the predicted set over those in either, TP / (TP + FP + FN); the mean of
    the two, leaving out a class that neither set holds (Keras adds 1e-7 to each
    denominator). Image segmentation's usual score. A class's IoU is D / (2 - D) for the
    Dice score D of that class's 0/1 sets (``nnlab.losses.Dice`` is 1 - D), so it is never
    above it.

    Examples
    --------
    >>> round(nl.keras_metrics.binary_iou([1, 1, 0, 0], [0.9, 0.3, 0.6, 0.1]), 4)   # 1/3 each
    0.3333
    """
    check_number(threshold, "binary_iou: threshold")
    positive, y_pred = _binary_pairs(y_true, y_pred, "binary_iou")
    flagged = y_pred >= threshold
    ious = [np.count_nonzero(truth & guess) / np.count_nonzero(truth | guess)
            for truth, guess in ((positive, flagged), (~positive, ~flagged))
            if np.any(truth | guess)]
    return float(np.mean(ious))


def _columns(y_true, y_pred, func):
    """Both arrays as float64 columns ``(N, outputs)``, their samples down the rows (sums of
    squares of float32 values overflow from about 1e19)."""
    t, p = _same_shape(y_true, y_pred, func)
    n = t.shape[0] if t.ndim else 1
    return t.reshape(n, -1).astype(np.float64), p.reshape(n, -1).astype(np.float64)


def pearson_correlation(y_true, y_pred):
    """Pearson's correlation of predictions and targets over the samples: how close to a
    straight line (of any slope) they lie, from -1 to 1.

    ``scipy.stats.pearsonr`` of the two columns; with several outputs, the mean of their
    correlations. A constant column (all targets or all predictions equal, or one sample)
    has no correlation: it scores 0, as ``sklearn.feature_selection.r_regression`` scores
    it with ``force_finite=True``, rather than NaN. Keras's ``PearsonCorrelation``
    correlates along the last axis: for 1-D targets the same number, of each batch; for
    ``(N, 1)`` outputs a correlation of one number with itself, NaN.

    Examples
    --------
    >>> round(nl.keras_metrics.pearson_correlation([1.0, 2.0, 3.0], [2.0, 4.0, 6.5]), 4)
    0.9979
    """
    t, p = _columns(y_true, y_pred, "pearson_correlation")
    # Tested on the values: a constant column's mean can round, leaving tiny deviations
    # whose correlation is noise.
    constant = (np.ptp(t, axis=0) == 0) | (np.ptp(p, axis=0) == 0)
    t, p = t - t.mean(axis=0), p - p.mean(axis=0)
    spread = np.sqrt(np.sum(t**2, axis=0) * np.sum(p**2, axis=0))
    r = np.sum(t * p, axis=0) / np.where(constant, 1, spread)
    # Rounding can take |r| a hair above 1.
    return float(np.mean(np.where(constant, 0.0, np.clip(r, -1, 1))))


def concordance_correlation(y_true, y_pred):
    """Lin's concordance correlation: how close predictions and targets lie to the line
    y_pred = y_true (not any straight line, as Pearson's), from -1 to 1.

    2 cov / (var_true + var_pred + (mean_true - mean_pred)^2), with the variances and the
    covariance over the samples, divided by N; with several outputs, the mean of their
    scores. It is Pearson's correlation shrunk by any shift or change of scale of the
    predictions. The formula is 0/0 only for one and the same constant column on both
    sides, a perfect match: that scores 1. Keras's ``ConcordanceCorrelation`` computes it
    along the last axis (1-D targets: of each batch; see :func:`pearson_correlation`).

    Examples
    --------
    >>> y = [1.0, 2.0, 3.0]
    >>> nl.keras_metrics.concordance_correlation(y, y)
    1.0
    >>> round(nl.keras_metrics.concordance_correlation(y, [2.0, 3.0, 4.0]), 4)   # 4/7: shifted
    0.5714
    """
    t, p = _columns(y_true, y_pred, "concordance_correlation")
    mean_t, mean_p = t.mean(axis=0), p.mean(axis=0)
    dt, dp = t - mean_t, p - mean_p
    norm = np.mean(dt**2, axis=0) + np.mean(dp**2, axis=0) + (mean_t - mean_p) ** 2
    cov = np.mean(dt * dp, axis=0)
    return float(np.mean(np.divide(2 * cov, norm, out=np.ones_like(norm), where=norm > 0)))


#: Keras's names (and their aliases) of the functions above, which ``nnlab.metrics.get``
#: takes; Keras's class names ("AUC", "TruePositives") resolve to them.
KERAS_METRICS = {
    "binary_crossentropy": binary_crossentropy, "bce": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": categorical_crossentropy,
    # tf.keras 2's compile names for the one that suits the outputs
    "crossentropy": crossentropy, "ce": crossentropy,
    "kl_divergence": kl_divergence,
    "hinge": hinge, "squared_hinge": squared_hinge, "categorical_hinge": categorical_hinge,
    "auc": auc,
    "true_positives": true_positives, "false_positives": false_positives,
    "true_negatives": true_negatives, "false_negatives": false_negatives,
    "cosine_similarity": cosine_similarity,
    "binary_iou": binary_iou, "binary_io_u": binary_iou,   # how Keras spells BinaryIoU
    "pearson_correlation": pearson_correlation,
    "concordance_correlation": concordance_correlation,
    "f_beta_score": f_beta_score,
}
