"""Metrics: numbers that say how good predictions are, for people rather than for gradients.

Every function takes ``(y_true, y_pred)`` in that order, as scikit-learn and
Keras do (the losses take ``(y_pred, y_true)`` because the gradient is with
respect to their first argument).

Class predictions may be given in any of the forms a model produces:
class labels ``(N,)``, one probability per sample ``(N,)`` or ``(N, 1)``
(thresholded at 0.5), or one score or probability per class ``(N, K)``
(the largest wins). True classes are labels ``(N,)`` or one-hot rows ``(N, K)``.
"""

import numpy as np

from nnlab._checks import as_float_array, check_number, lookup
from nnlab.keras_metrics import KERAS_METRICS
from nnlab.loss_base import Loss
from nnlab.regression_metrics import (
    _same_shape,
    log_cosh_error,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    r2_score,
    root_mean_squared_error,
)


def _as_array(y, name, func):
    arr = as_float_array(y, name=f"{func}: {name}", ndim=(1, 2))
    if arr.size == 0:
        raise ValueError(f"{func}: {name} must not be empty; got shape {arr.shape}")
    return arr


def _true_labels(y_true, func):
    """Integer labels (N,) and the number of columns of a one-hot y_true (else None)."""
    y = _as_array(y_true, "y_true", func)
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1), y.shape[1]
    y = y.ravel()
    if np.any(y != np.round(y)) or y.min() < 0:
        bad = y[(y != np.round(y)) | (y < 0)][0]
        fix = "use binary_accuracy with threshold=0.0" if func == "accuracy" else "map them to 0/1"
        raise ValueError(f"{func}: y_true must be non-negative integer class labels or one-hot "
                         f"rows; got {bad:g} (for -1/+1 labels {fix})")
    return y.astype(np.int64), None


def _predicted_labels(y_pred, func, many_classes=False):
    """Integer labels (N,) and the number of classes the predictions imply (else None):
    the columns of per-class scores, or two for probabilities of class 1. Whole numbers
    from 0 are labels when one is above 1 or ``many_classes`` (the true labels have more
    than two classes), even floats that are all 0 and 1, which could otherwise be
    probabilities; floats below 0, whole or not, are raw scores, refused as such."""
    y = _as_array(y_pred, "y_pred", func)
    shape, integer_dtype = y.shape, np.asarray(y_pred).dtype.kind in "biu"
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1), y.shape[1]
    y = y.ravel()
    integral = np.all(y == np.round(y))
    if integer_dtype or (integral and y.min() >= 0 and (y.max() > 1 or many_classes)):
        if y.min() < 0:
            raise ValueError(f"{func}: y_pred labels must be non-negative; got {y.min():g}")
        return y.astype(np.int64), None
    if y.min() < 0 or y.max() > 1:
        hint = ("use binary_accuracy with a threshold" if func == "accuracy" else
                "pass nl.activations.sigmoid(y_pred) or the labels (y_pred > 0).astype(int)")
        raise ValueError(f"{func}: y_pred of shape {shape} must be class labels (integers) "
                         f"or probabilities in [0, 1]; got values in [{y.min():.6g}, "
                         f"{y.max():.6g}] (for raw scores {hint})")
    return (y > 0.5).astype(np.int64), 2   # probabilities of class 1: two classes


def _class_pairs(y_true, y_pred, func, n_classes=None):
    """The true and predicted labels of the same samples, and the number of classes seen."""
    t, k_true = _true_labels(y_true, func)
    many = max(k_true or 0, n_classes or 0, int(t.max(initial=0)) + 1) > 2
    p, k_pred = _predicted_labels(y_pred, func, many_classes=many)
    if len(t) != len(p):
        raise ValueError(f"{func}: y_true has {len(t)} samples but y_pred has {len(p)}")
    columns = [k for k in (k_true, k_pred) if k is not None]
    if len(set(columns)) > 1:
        raise ValueError(f"{func}: y_true has {k_true} classes (columns) but y_pred has {k_pred}")
    if columns and max(t.max(), p.max()) >= columns[0]:
        raise ValueError(f"{func}: class labels must be in [0, {columns[0] - 1}] for "
                         f"{columns[0]} classes; got {max(t.max(), p.max())}")
    return t, p, columns[0] if columns else None


def accuracy(y_true, y_pred):
    """Fraction of samples whose predicted class is the true class.

    Parameters
    ----------
    y_true : array_like
        Class labels ``(N,)`` / ``(N, 1)``, whole numbers from 0 (not -1 or strings, which
        scikit-learn takes); or one-hot rows ``(N, K)``, whose argmax is the class, as in
        Keras (so a row with two 1s counts as its first class).
    y_pred : array_like
        Labels ``(N,)``; probabilities ``(N,)`` / ``(N, 1)`` (class 1 when
        above 0.5); or scores ``(N, K)`` (the argmax is the class).

    Returns
    -------
    float
        In [0, 1].

    Examples
    --------
    >>> nl.metrics.accuracy([0, 1, 1], [[0.2], [0.9], [0.4]])
    0.6666666666666666
    >>> nl.metrics.accuracy([2, 0], [[0.1, 0.2, 0.7], [0.5, 0.3, 0.2]])
    1.0
    """
    t, p, _ = _class_pairs(y_true, y_pred, "accuracy")
    return float(np.mean(t == p))


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """Fraction of samples whose true class is among the ``k`` highest scores of their row.

    ``y_pred`` holds a score or probability per class, ``(N, K)``; ``y_true`` labels or
    one-hot rows. A true class tied with the k-th highest score counts as in the top k, as
    in Keras (``in_top_k``): its rank is one more than the number of scores above it.
    With ``k=1`` it is ``accuracy``, ties aside.

    Examples
    --------
    >>> nl.metrics.top_k_categorical_accuracy([2, 0], [[0.5, 0.3, 0.2], [0.1, 0.6, 0.3]], k=2)
    0.0
    >>> nl.metrics.top_k_categorical_accuracy([1, 2], [[0.5, 0.3, 0.2], [0.1, 0.6, 0.3]], k=2)
    1.0
    """
    func = "top_k_categorical_accuracy"
    k = check_number(k, f"{func} k", low=1, integer=True)
    scores = _as_array(y_pred, "y_pred", func)
    if scores.ndim != 2 or scores.shape[1] < 2:
        raise ValueError(f"{func}: y_pred must hold a score per class, (N, K) with K >= 2; "
                         f"got shape {scores.shape}")
    t = _class_pairs(y_true, scores, func)[0]   # (checks labels against the columns)
    true_scores = scores[np.arange(len(t)), t]
    above = np.sum(scores > true_scores[:, None], axis=1)
    return float(np.mean(above < k))


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Fraction of elements on the right side of ``threshold``, as Keras's ``binary_accuracy``.

    ``y_pred > threshold`` is the positive class; ``y_true`` holds 0/1 or -1/+1
    labels of the same shape (or ``(N,)`` against ``(N, 1)``). Every element
    counts, so multi-label outputs ``(N, K)`` work too. Use ``threshold=0.0``
    for raw scores (logits, or the outputs of a hinge-loss model).

    Examples
    --------
    >>> nl.metrics.binary_accuracy([1, 0, 1], [0.8, 0.6, 0.3])
    0.3333333333333333
    >>> nl.metrics.binary_accuracy([-1, 1], [-2.5, 0.3], threshold=0.0)
    1.0
    """
    check_number(threshold, "threshold")
    y_true, y_pred = _same_shape(y_true, y_pred, "binary_accuracy")
    zero_one = np.all((y_true == 0) | (y_true == 1))
    if not (zero_one or np.all(np.abs(y_true) == 1)):
        raise ValueError("binary_accuracy: y_true must hold 0/1 or -1/+1 labels; got values "
                         f"{np.unique(y_true)[:5]}")
    return float(np.mean((y_true > 0) == (y_pred > threshold)))


#: The most classes ``confusion_matrix`` counts: its table then holds 10^8 counts (800 MB).
MAX_CLASSES = 10_000


def confusion_matrix(y_true, y_pred, n_classes=None):
    """Count how often each true class (row) was predicted as each class (column).

    Inputs as in :func:`accuracy`. ``n_classes`` defaults to the columns of one-hot / score
    input (or more), 2 for one probability per sample, else the largest label plus one.

    Returns
    -------
    ndarray of int, shape (n_classes, n_classes)
        ``C[i, j]`` samples of true class ``i`` predicted as ``j``; the diagonal
        holds the correct ones, as ``sklearn.metrics.confusion_matrix``.

    Examples
    --------
    >>> nl.metrics.confusion_matrix([0, 1, 1, 2], [0, 2, 1, 2])
    array([[1, 0, 0],
           [0, 1, 1],
           [0, 0, 1]])
    """
    if n_classes is not None:
        check_number(n_classes, "n_classes", low=1, integer=True)
    t, p, k = _class_pairs(y_true, y_pred, "confusion_matrix", n_classes)
    if n_classes and k and n_classes < k:   # (k: the columns, or 2 for probabilities)
        raise ValueError(f"confusion_matrix: n_classes={n_classes} is fewer than the {k} "
                         f"classes of y_true or y_pred; give at least {k}, or leave it out")
    seen = int(max(t.max(), p.max())) + 1
    n_classes = n_classes or k or seen
    if seen > n_classes:
        raise ValueError(f"confusion_matrix: class labels must be in [0, {n_classes - 1}] for "
                         f"n_classes={n_classes}; got {seen - 1}")
    return _count_pairs(t, p, n_classes, "confusion_matrix")


def _count_pairs(t, p, n_classes, func):
    """The confusion matrix of checked integer labels ``t`` and ``p``."""
    if n_classes > MAX_CLASSES:
        # A label such as a product id, taken for a class index, would otherwise ask for
        # a table of id^2 counts: a MemoryError or an OverflowError that names nothing.
        raise ValueError(
            f"{func}: {n_classes} classes would need a {n_classes} x {n_classes} "
            f"table; at most {MAX_CLASSES} classes are counted. Class labels are indices "
            f"0 to K-1 (largest seen: {max(t.max(), p.max())}): map other labels to "
            "indices first, e.g. with np.unique(y, return_inverse=True)")
    counts = np.bincount(t * n_classes + p, minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes)


#: The ways ``precision``, ``recall`` and ``f1_score`` turn the classes' counts into one number.
AVERAGES = ("binary", "macro", "micro", "weighted")


def _tallies(y_true, y_pred, positive, average, zero_division, func):
    """True positives, predicted and true counts of the classes scored (one entry for
    "binary" and "micro"), and the weights of their average (None: equal)."""
    check_number(positive, f"{func}: positive", low=0, integer=True)
    if average not in AVERAGES:
        raise ValueError(f"{func}: average must be one of {', '.join(map(repr, AVERAGES))}; "
                         f"got {average!r}")
    if zero_division not in (0, 1) or isinstance(zero_division, bool):
        raise ValueError(f"{func}: zero_division (the value of an undefined ratio) must be 0 "
                         f"or 1; got {zero_division!r}")
    t, p, k = _class_pairs(y_true, y_pred, func)
    n_classes = max(k or 2, int(max(t.max(), p.max())) + 1)
    if average == "binary" and n_classes > 2:
        raise ValueError(f"{func}: average='binary' scores one class of two, but y_true and "
                         f"y_pred have {n_classes} classes; choose average='macro', 'micro' "
                         "or 'weighted' (for compile, in a function of your own that calls "
                         f"{func} so)")
    if average == "binary" and positive > 1:
        raise ValueError(f"{func}: positive must be one of the classes 0, 1; got {positive}")
    cm = _count_pairs(t, p, n_classes, func)
    tp, n_pred, n_true = np.diag(cm), cm.sum(axis=0), cm.sum(axis=1)
    # The averages leave out a class absent from both sides, as scikit-learn does: it has
    # no evidence either way, and zero_division alone would decide its score.
    scored = [positive] if average == "binary" else np.flatnonzero(n_true + n_pred)
    tp, n_pred, n_true = tp[scored], n_pred[scored], n_true[scored]
    if average == "micro":
        return tp.sum(keepdims=True), n_pred.sum(keepdims=True), n_true.sum(keepdims=True), None
    return tp, n_pred, n_true, n_true if average == "weighted" else None


def _ratio(numerator, denominator, weights, zero_division):
    """The (weighted) mean of the classes' ratios, ``zero_division`` where one is 0/0."""
    ratios = np.where(denominator > 0, numerator / np.maximum(denominator, 1), zero_division)
    return float(np.average(ratios, weights=weights))


def precision(y_true, y_pred, positive=1, average="binary", zero_division=0):
    """Of the samples predicted as the positive class, the fraction that are: TP / (TP + FP).

    Precision answers "when the model raises the alarm, how often is it right?". A true
    positive (TP) is a sample of the positive class predicted as that class; a false
    positive (FP), a sample of another class predicted as it (a false alarm).

    Parameters
    ----------
    y_true, y_pred : array_like
        As in :func:`accuracy`: one probability per sample is class 1 above 0.5, the
        threshold of Keras's ``Precision`` and ``Recall``; scores ``(N, K)``, one class per
        sample, their argmax. Keras's ``Precision()`` and ``Recall()`` take scores as K
        yes/no labels instead: each element above 0.5 is a positive, the counts of all
        columns pooled (``class_id=c``: column ``c``'s), so a softmax row whose largest
        probability is <= 0.5 predicts nothing, and two softmax columns give the accuracy,
        not class 1's score. Its ``F1Score(average="macro")`` (each row's largest score is
        its class) is ``average="macro"`` but for a class in neither input: it averages 0 in.
    positive : int, default 1
        The class scored by ``average="binary"``, 0 or 1 (scikit-learn's ``pos_label``).
        scikit-learn's breast-cancer data labels malignant 0: ``positive=0`` scores the
        diagnosis of cancer. The other averages score every class and ignore it.
    average : {"binary", "macro", "micro", "weighted"}, default "binary"
        ``"binary"``: the ``positive`` class of two (more classes are an error);
        ``"macro"``: the mean of every class's score, each class counting the same;
        ``"weighted"``: that mean weighted by each class's number of true samples;
        ``"micro"``: one score of the counts summed over the classes (with one class
        per sample, that is the accuracy). A class that appears in neither ``y_true``
        nor ``y_pred`` is left out of the averages, as in scikit-learn.
    zero_division : {0, 1}, default 0
        The score of an undefined ratio (a class nothing was predicted as), with no warning,
        as Keras's (a NaN would pass into a ``History`` and its plots).

    Returns
    -------
    float
        In [0, 1]; ``sklearn.metrics.precision_score`` with the same settings
        (``pos_label=positive``) gives the same number.

    Examples
    --------
    >>> nl.metrics.precision([1, 0, 1, 1], [1, 1, 0, 1])   # TP = 2, FP = 1
    0.6666666666666666
    >>> nl.metrics.precision([0, 0, 1], [0.9, 0.2, 0.4], positive=0)   # predicted 1, 0, 0
    0.5
    >>> nl.metrics.precision([0, 1, 2, 2], [0, 2, 2, 2], average="macro")   # (1 + 0 + 2/3) / 3
    0.5555555555555555
    """
    tp, n_pred, _, weights = _tallies(y_true, y_pred, positive, average, zero_division,
                                      "precision")
    return _ratio(tp, n_pred, weights, zero_division)


def recall(y_true, y_pred, positive=1, average="binary", zero_division=0):
    """Of the samples of the positive class, the fraction the model found: TP / (TP + FN).

    Recall, called *sensitivity* in medicine, answers "of the sick, how many did the test
    catch?". A false negative (FN) is a sample of the positive class predicted as another
    class (a miss). Parameters, the undefined case (here: a class with no true sample) and
    Keras's ``Recall`` on scores ``(N, K)``: as in :func:`precision`.
    ``sklearn.metrics.recall_score`` gives the same number.

    Examples
    --------
    >>> nl.metrics.recall([1, 0, 1, 1], [1, 1, 0, 1])   # TP = 2, FN = 1
    0.6666666666666666
    >>> nl.metrics.recall([0, 0, 1], [0.9, 0.2, 0.4], positive=0)   # predicted 1, 0, 0
    0.5
    """
    tp, _, n_true, weights = _tallies(y_true, y_pred, positive, average, zero_division,
                                      "recall")
    return _ratio(tp, n_true, weights, zero_division)


def f1_score(y_true, y_pred, positive=1, average="binary", zero_division=0):
    """The harmonic mean of precision P and recall R: 2PR / (P + R) = 2TP / (2TP + FP + FN).

    One number that is high only when both are: flagging every sample gives a recall of
    1 but a poor precision, and a poor F1. Parameters, and Keras's ``F1Score`` on scores
    ``(N, K)``, as in :func:`precision`; ``sklearn.metrics.f1_score`` gives the same number.
    F1 is undefined only when TP + FP + FN = 0 (the class neither occurs nor is predicted),
    and then scores ``zero_division``; a precision or recall undefined alone makes it 0.
    ``compile(metrics=["f1_score"])`` logs the binary F1; a model of more classes takes
    a function of its own, e.g. ``def macro_f1(y_true, y_pred): return f1_score(y_true,
    y_pred, average="macro")``, logged as ``macro_f1``.

    Examples
    --------
    >>> nl.metrics.f1_score([1, 0, 1, 1], [1, 1, 0, 1])   # P = R = 2/3
    0.6666666666666666
    >>> nl.metrics.f1_score([1, 1, 1, 0], [1, 0, 0, 0])   # P = 1, R = 1/3
    0.5
    """
    tp, n_pred, n_true, weights = _tallies(y_true, y_pred, positive, average, zero_division,
                                           "f1_score")
    return _ratio(2 * tp, n_pred + n_true, weights, zero_division)


_REGISTRY = {
    "accuracy": accuracy, "acc": accuracy, "binary_accuracy": binary_accuracy,
    # Keras's names for accuracy with one-hot and with integer labels: accuracy takes both.
    "categorical_accuracy": accuracy, "sparse_categorical_accuracy": accuracy,
    # k = 5, Keras's default; with labels or one-hot rows, as accuracy
    "top_k_categorical_accuracy": top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy": top_k_categorical_accuracy,
    # Binary, of class 1: Keras's Precision(), Recall() and F1Score(threshold=0.5) on one
    # probability per sample (on scores (N, K), see precision's docstring).
    "precision": precision, "recall": recall, "f1_score": f1_score,
    "mse": mean_squared_error, "mean_squared_error": mean_squared_error,
    "mae": mean_absolute_error, "mean_absolute_error": mean_absolute_error,
    # Keras's other regression metrics, in nnlab.regression_metrics ("logcosh": Keras 2's)
    "root_mean_squared_error": root_mean_squared_error, "r2_score": r2_score,
    "mape": mean_absolute_percentage_error, "poisson": poisson, "logcosh": log_cosh_error,
    "mean_absolute_percentage_error": mean_absolute_percentage_error,
    "msle": mean_squared_logarithmic_error, "log_cosh_error": log_cosh_error,
    "mean_squared_logarithmic_error": mean_squared_logarithmic_error,
    # The losses as metrics, auc, the confusion counts, the correlations: nnlab.keras_metrics
    **KERAS_METRICS,
}

#: Every name ``get`` accepts, aliases included: the metrics that give one number
#: (so that ``compile(metrics=[...])`` can log them); confusion_matrix is not one.
NAMES = tuple(_REGISTRY)


def get(name, probabilities=False):
    """Return a metric function from its (Keras) name; a callable is returned unchanged, but
    a loss becomes the metric of its value (``Loss.as_metric``, which takes
    ``probabilities``), named as the loss, whose arguments come in the other order.

    Examples
    --------
    >>> nl.metrics.get("acc") is nl.metrics.accuracy
    True
    """
    if isinstance(name, Loss):
        return name.as_metric(probabilities)
    if callable(name) and not (isinstance(name, type) and issubclass(name, Loss)):
        return name
    return lookup(name, _REGISTRY, "metric", base=Loss)   # MSE: asks for MSE()


def is_named(name, fn):
    """Whether ``name`` is a name of ``get`` for ``fn``: then a model file can keep the metric
    by its name (``"RootMeanSquaredError"`` too); a function of one's own cannot be kept.

    Examples
    --------
    >>> nl.metrics.is_named("ACC", nl.metrics.accuracy)
    True
    >>> nl.metrics.is_named("accuracy", lambda y_true, y_pred: 0.0)
    False
    """
    try:
        return get(name) is fn
    except ValueError:
        return False
