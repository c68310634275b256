"""Preparing data for training: split it, encode its labels, scale it, batch it.

``train_test_split``, ``one_hot``, ``standardize`` and ``batches`` are the helpers every
training script needs, whatever the data; ``nnlab.datasets`` gives them too, beside the
data sets themselves. Each checks its input at the boundary and names the argument
that is wrong.
"""

import math
import numbers

import numpy as np

from nnlab._checks import all_finite, as_float_array, as_rng, check_bool, check_number

#: The most values an array made by ``one_hot`` or a generator of ``nnlab.datasets`` may
#: hold: 10^7, 80 MB of float64, 25 times the largest set the chapters make. A generator's
#: work arrays take several times its X, so a larger request (an exponent typed by
#: mistake) would run for minutes or end in a MemoryError.
MAX_VALUES = 10**7


def check_size(shape, request, hint=""):
    """Refuse to build an array of ``shape`` holding more than ``MAX_VALUES`` values."""
    size = math.prod(shape)
    if size > MAX_VALUES:
        count = f"{size:,}" if size < 10**15 else f"10^{math.log10(size):.1f}"
        raise ValueError(f"{request} asks for {count} values; at most MAX_VALUES = "
                         f"{MAX_VALUES:,} are built{hint}")


def _samples(x, name):
    """``x`` as an array, of any dtype, with one sample per row (its first axis)."""
    try:
        arr = np.asarray(x)
    except ValueError as exc:   # NumPy refuses rows of unequal lengths
        raise ValueError(f"{name} must be an array with one sample per row; its rows differ "
                         "in shape") from exc
    if arr.ndim == 0:
        raise ValueError(f"{name} must be an array with one sample per row; got {x!r}")
    return arr


def _same_length(X, y):
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length; got {len(X)} and {len(y)}")


def _strata(y):
    """The class of each sample, for a stratified split. Only class labels will do: a
    regression target would make a class of every sample, and NaN, equal to no class,
    would make its samples vanish from both parts."""
    if (y.ndim == 2 and y.shape[1] > 1 and y.dtype.kind in "biuf"
            and np.all((y == 0) | (y == 1)) and np.all(y.sum(axis=1) == 1)):
        return y.argmax(axis=1)   # one-hot rows
    labels = y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y
    if labels.ndim != 1 or (labels.dtype.kind == "f"
                            and not (all_finite(labels) and np.all(labels % 1 == 0))):
        raise ValueError("stratify needs class labels in y: integers or strings of shape (N,) "
                         f"or (N, 1), or one-hot rows (N, K); got shape {y.shape}, dtype "
                         f"{y.dtype}")
    return labels


def train_test_split(X, y, test_size=0.25, seed=None, stratify=False):
    """Shuffle and split into ``X_train, X_test, y_train, y_test``.

    X and y hold one sample per row. The test part has ``ceil(test_size * N)`` samples and
    the training part the rest, as in scikit-learn, the product first rounded to 6
    decimals to drop floating-point noise: 0.07 * 100, which floating point makes
    7.000000000000001, gives 7 test samples (scikit-learn gives 8). The rounding never
    makes a test part empty: ``test_size=1e-9`` gives one test sample, as in scikit-learn.
    An integer ``test_size`` is the number of test samples itself, as in scikit-learn.
    With ``stratify`` each class keeps its proportion in both parts, as nearly as whole
    samples allow: each class gives the whole part of its exact share to the test part,
    and the samples still missing come from the classes with the largest fractions left.
    (scikit-learn shares out the training part first, so a class's count can differ from
    its by one.) y then holds class labels, (N,) or (N, 1), or one-hot rows (N, K). As
    scikit-learn requires, each class needs two samples or more, and each part at least
    as many samples as there are classes; a small class can still be missing from a part
    (classes of 2 and 98 samples and ``test_size=0.1`` put 0 and 10 in the test part).

    Examples
    --------
    >>> X, y = np.arange(20).reshape(10, 2), np.arange(10) % 2
    >>> [a.shape for a in nl.datasets.train_test_split(X, y, test_size=0.3, seed=0)]
    [(7, 2), (3, 2), (7,), (3,)]
    """
    X, y = _samples(X, "X"), _samples(y, "y")
    _same_length(X, y)
    if len(X) < 2:
        raise ValueError(f"train_test_split needs 2 or more samples, one for each part; got "
                         f"{len(X)}")
    if isinstance(test_size, numbers.Integral) and not isinstance(test_size, bool):
        n_test = int(check_number(test_size, "test_size (a number of samples)", low=1,
                                  high=len(X) - 1))
    else:
        check_number(test_size, "test_size", low=0, high=1, low_open=True, high_open=True)
        n_test = max(math.ceil(round(test_size * len(X), 6)), 1)
        if n_test == len(X):
            raise ValueError(f"test_size={test_size} leaves the training part empty with "
                             f"{len(X)} samples")
    labels = _strata(y) if check_bool(stratify, "stratify") else None
    rng = as_rng(seed, "seed")
    if labels is not None:
        classes, sizes = np.unique(labels, return_counts=True)
        if sizes.min() < 2:
            raise ValueError(f"stratify: class {classes[sizes.argmin()].item()!r} has one sample, "
                             "which cannot be in both parts; give each class two or more")
        for part, n in (("test", n_test), ("training", len(X) - n_test)):
            if n < len(classes):
                raise ValueError(f"stratify: the {part} part would hold {n} samples, fewer "
                                 f"than the {len(classes)} classes; each part needs at least "
                                 "as many samples as there are classes")
        groups = [rng.permutation(np.flatnonzero(labels == c)) for c in classes]
        shares = _shares(sizes, n_test)
        test = np.concatenate([g[:k] for g, k in zip(groups, shares, strict=True)])
        train = np.concatenate([g[k:] for g, k in zip(groups, shares, strict=True)])
        test, train = rng.permutation(test), rng.permutation(train)
    else:
        order = rng.permutation(len(X))
        test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]


def _shares(sizes, total):
    """Share ``total`` test samples out among classes of ``sizes``, in proportion.

    Each class gets the whole part of its exact share; the samples still missing go one
    each to the classes with the largest fractions left over (the first class on a tie).
    Rounding each share on its own could miss ``total`` by up to half the number of
    classes. scikit-learn shares out the same way, breaking ties at random.

    Examples
    --------
    >>> nl.preprocessing._shares(np.array([5, 5, 5]), 4).tolist()   # 4/3 each: one class gets two
    [2, 1, 1]
    """
    exact = total * sizes / sizes.sum()
    shares = np.floor(exact).astype(np.int64)
    largest_left = np.argsort(shares - exact, kind="stable")
    shares[largest_left[:total - shares.sum()]] += 1
    return shares


def one_hot(y, n_classes=None):
    """Integer labels (n,) -> one-hot rows (n, n_classes).

    The labels are class indices 0 to K-1 (integers, or whole floats such as 2.0);
    ``n_classes``, K, is by default the largest label plus one.

    Examples
    --------
    >>> nl.datasets.one_hot([0, 2], 3)
    array([[1., 0., 0.],
           [0., 0., 1.]])
    """
    y = _samples(y, "y")
    whole = y.dtype.kind in "biu" or (y.dtype.kind == "f" and all_finite(y) and np.all(y % 1 == 0))
    if y.ndim != 1 or not whole:
        raise ValueError("one_hot needs a 1-D array of integer labels 0 to K-1 (whole numbers, "
                         f"no NaN); got shape {y.shape}, dtype {y.dtype}")
    if n_classes is None and not len(y):
        raise ValueError("one_hot got no labels, so it cannot infer the number of classes; "
                         "pass n_classes")
    lo, hi = (y.min(), y.max()) if len(y) else (0, -1)
    k = max(int(hi), 0) + 1 if n_classes is None else n_classes   # Python ints: exact for 1e300
    check_number(k, "n_classes", low=1, integer=True)
    if lo < 0 or int(hi) >= k:
        raise ValueError(f"labels must be in [0, {k - 1}]; got values from {lo} to {hi}")
    # A label such as a product id, taken for a class index, asks for a column per id.
    check_size((len(y), k), f"one_hot of {len(y)} labels into {k} classes", "; labels are class "
          "indices 0 to K-1: map others first, e.g. with np.unique(y, return_inverse=True)")
    out = np.zeros((len(y), k))
    out[np.arange(len(y)), y.astype(np.int64)] = 1.0
    return out


def standardize(X_train, *others):
    """Scale every column to mean 0, standard deviation 1, using the training statistics.

    The other arrays (validation, test) are scaled with the *training* mean and
    standard deviation, as they would be for new data. Constant columns, and columns
    whose values differ only by rounding errors, are centered but not divided, as
    scikit-learn's ``StandardScaler`` does (here also float32 values one rounding step
    apart, which scikit-learn scales to about 2). Each array comes back in its own float dtype
    (float32 stays float32, whatever X_train's; integers become float64). X_train needs a
    row: no rows have no statistics.

    Examples
    --------
    >>> train, test = nl.datasets.standardize([[0.0, 1.0], [2.0, 1.0]], [[4.0, 1.0]])
    >>> train.tolist(), test.tolist()
    ([[-1.0, 0.0], [1.0, 0.0]], [[3.0, 0.0]])
    """
    X_train = as_float_array(X_train, "X_train", ndim=2)
    if X_train.size == 0:
        raise ValueError(f"X_train must hold at least one row and one column; got shape "
                         f"{X_train.shape}")
    arrays = [X_train]
    for i, X in enumerate(others, start=1):
        arrays.append(as_float_array(X, f"array {i}", ndim=2))
        if arrays[i].shape[1] != X_train.shape[1]:
            raise ValueError(f"array {i} has {arrays[i].shape[1]} columns; X_train has "
                             f"{X_train.shape[1]}")
    # Finite data can still overflow: the squares in the deviation of values above 1e154,
    # or a test value far from the mean divided by a tiny deviation. Checked just below.
    with np.errstate(over="ignore", invalid="ignore"):
        # Summed in float64 whatever the data's dtype (float32 sums of many rows drift),
        # with no float64 copy of the data: see _centered.
        mean = X_train.mean(axis=0, dtype=np.float64)
        centered = _centered(X_train, mean)
        var = np.square(centered).mean(axis=0, dtype=np.float64)
        if not all_finite(var):   # float32 squares beyond 3.4e38: squared in float64 instead
            var = np.square(centered, dtype=np.float64).mean(axis=0)
        mean += centered.mean(axis=0, dtype=np.float64)   # a second pass: what the first missed
        del centered
        # A constant column is centered only. Its std need not come out as 0: the mean of
        # three 0.1s is rounded, and the deviations from it are then about 1e-17; nor need
        # its values be equal: 0.1 + 0.2 is not 0.3, and row sums of 1 come out 1 +- 1e-16.
        # Divided by such a std, rounding errors would become values of order 1. A variance
        # within the rounding error of its computation (Chan, Golub and LeVeque's bound, as
        # scikit-learn's StandardScaler uses it), or a spread within the spacing of the
        # data's own numbers (float32 values one rounding apart), is taken for 0.
        n, eps = len(X_train), np.finfo(np.float64).eps
        spacing = np.finfo(X_train.dtype).eps * mean
        constant = var <= n * eps * var + (n * eps * mean) ** 2 + spacing ** 2
        std = np.sqrt(var)
        scale = np.where(constant, 1.0, std)
        out = [_centered(X, mean) / scale.astype(X.dtype) for X in arrays]
    for i, (X, scaled) in enumerate(zip(arrays, out, strict=True)):
        if not (all_finite(std) and all_finite(scaled)):
            name = f"array {i}" if i else "X_train"
            raise ValueError(f"{name} overflows {X.dtype} when standardized; rescale the data "
                             "first (divide it by a power of ten)")
    return out[0] if not others else tuple(out)


def _centered(X, mean):
    """``X - mean`` in X's dtype, ``mean`` a float64 row. Rounded to float32, a mean of
    2000.0001 is 2000.0: the difference is taken out in a second step."""
    rounded = mean.astype(X.dtype)
    out = X - rounded
    out -= (mean - rounded).astype(X.dtype)
    return out


def batches(X, y, batch_size=32, shuffle=True, seed=None):
    """Mini-batches ``(X_batch, y_batch)`` to loop over; the last one may be smaller.

    Examples
    --------
    >>> [len(x) for x, _ in nl.datasets.batches(np.zeros((10, 2)), np.zeros(10), 4, shuffle=False)]
    [4, 4, 2]
    """
    X, y = _samples(X, "X"), _samples(y, "y")
    _same_length(X, y)
    if not len(X):
        raise ValueError("X holds no samples: there is nothing to cut into batches")
    check_number(batch_size, "batch_size", low=1, integer=True)
    rng = as_rng(seed, "seed")
    return _batches(X, y, batch_size, rng if check_bool(shuffle, "shuffle") else None)


def _batches(X, y, batch_size, rng):
    # A generator function runs none of its body before the first next(): checked in here,
    # a bad argument would surface only inside the training loop, far from the call.
    order = np.arange(len(X)) if rng is None else rng.permutation(len(X))
    for start in range(0, len(X), batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]
