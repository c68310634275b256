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
        raise ValueError(f"{func}: y_true must be non-negative integer class labels or one-hot "
                         f"rows; got {bad:g} (for -1/+1 labels use binary_accuracy with "
                         "threshold=0.0)")
    return y.astype(np.int64), None


def _predicted_labels(y_pred, func, many_classes=False):
    """Integer labels (N,) and the number of classes the predictions imply (else None):
    the columns of per-class scores, or two for probabilities of class 1. Whole numbers
    are labels when ``many_classes`` (the true labels have more than two classes), even
    floats that are all 0 and 1, which could otherwise be probabilities."""
    y = _as_array(y_pred, "y_pred", func)
    shape, integer_dtype = y.shape, np.asarray(y_pred).dtype.kind in "biu"
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1), y.shape[1]
    y = y.ravel()
    integral = np.all(y == np.round(y))
    if integer_dtype or (integral and (y.min() < 0 or y.max() > 1 or many_classes)):
        if y.min() < 0:
            raise ValueError(f"{func}: y_pred labels must be non-negative; got {y.min():g}")
        return y.astype(np.int64), None
    if y.min() < 0 or y.max() > 1:
        raise ValueError(f"{func}: y_pred of shape {shape} must be class labels (integers) "
                         f"or probabilities in [0, 1]; got values in [{y.min():.6g}, "
                         f"{y.max():.6g}] (for raw scores use binary_accuracy with a threshold)")
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
    >>> accuracy([0, 1, 1], [[0.2], [0.9], [0.4]])
    0.6666666666666666
    >>> accuracy([2, 0], [[0.1, 0.2, 0.7], [0.5, 0.3, 0.2]])
    1.0
    """
    t, p, _ = _class_pairs(y_true, y_pred, "accuracy")
    return float(np.mean(t == p))


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Fraction of elements on the right side of ``threshold``, as Keras's ``binary_accuracy``.

    ``y_pred > threshold`` is the positive class; ``y_true`` holds 0/1 or -1/+1
    labels of the same shape (or ``(N,)`` against ``(N, 1)``). Every element
    counts, so multi-label outputs ``(N, K)`` work too. Use ``threshold=0.0``
    for raw scores (logits, or the outputs of a hinge-loss model).

    Examples
    --------
    >>> binary_accuracy([1, 0, 1], [0.8, 0.6, 0.3])
    0.3333333333333333
    >>> binary_accuracy([-1, 1], [-2.5, 0.3], threshold=0.0)
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

    Inputs as in :func:`accuracy`. ``n_classes`` defaults to the number of
    columns of one-hot / score input, else the largest label plus one.

    Returns
    -------
    ndarray of int, shape (n_classes, n_classes)
        ``C[i, j]`` samples of true class ``i`` predicted as ``j``; the diagonal
        holds the correct ones, as ``sklearn.metrics.confusion_matrix``.

    Examples
    --------
    >>> confusion_matrix([0, 1, 1, 2], [0, 2, 1, 2])
    array([[1, 0, 0],
           [0, 1, 1],
           [0, 0, 1]])
    """
    if n_classes is not None:
        check_number(n_classes, "n_classes", low=1, integer=True)
    t, p, k = _class_pairs(y_true, y_pred, "confusion_matrix", n_classes)
    seen = int(max(t.max(), p.max())) + 1
    n_classes = n_classes or k or seen
    if seen > n_classes:
        raise ValueError(f"confusion_matrix: class labels must be in [0, {n_classes - 1}] for "
                         f"n_classes={n_classes}; got {seen - 1}")
    if n_classes > MAX_CLASSES:
        # A label such as a product id, taken for a class index, would otherwise ask for
        # a table of id^2 counts: a MemoryError or an OverflowError that names nothing.
        raise ValueError(
            f"confusion_matrix: {n_classes} classes would need a {n_classes} x {n_classes} "
            f"table; at most {MAX_CLASSES} classes are counted. Class labels are indices "
            f"0 to K-1 (largest seen: {seen - 1}): map other labels to indices first, "
            "e.g. with np.unique(y, return_inverse=True)")
    counts = np.bincount(t * n_classes + p, minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes)


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
    >>> mean_squared_error([1.0, 2.0], [1.5, 4.0])
    2.125
    """
    y_true, y_pred = _same_shape(y_true, y_pred, "mean_squared_error")
    return float(np.mean((y_true - y_pred) ** 2))


def mean_absolute_error(y_true, y_pred):
    """Mean of the absolute differences over every element.

    Examples
    --------
    >>> mean_absolute_error([1.0, 2.0], [1.5, 4.0])
    1.25
    """
    y_true, y_pred = _same_shape(y_true, y_pred, "mean_absolute_error")
    return float(np.mean(np.abs(y_true - y_pred)))


_REGISTRY = {
    "accuracy": accuracy, "acc": accuracy,
    # Keras's names for accuracy with one-hot and with integer labels: accuracy takes both.
    "categorical_accuracy": accuracy, "sparse_categorical_accuracy": accuracy,
    "binary_accuracy": binary_accuracy,
    "mse": mean_squared_error, "mean_squared_error": mean_squared_error,
    "mae": mean_absolute_error, "mean_absolute_error": mean_absolute_error,
}

#: Every name ``get`` accepts, aliases included: the metrics that give one number
#: (so that ``compile(metrics=[...])`` can log them); confusion_matrix is not one.
NAMES = tuple(_REGISTRY)


def get(identifier):
    """Return a metric function from its (Keras) name; a callable is returned unchanged.

    Examples
    --------
    >>> get("acc") is accuracy
    True
    """
    if callable(identifier):
        return identifier
    return lookup(identifier, _REGISTRY, "metric")
