"""Data sets and the small tools to prepare them.

Toy problems made on the spot (logic gates, 2-D point clouds, DNA sequences
with a planted motif), real data sets that ship inside scikit-learn (no
download), and the helpers every training script needs: ``train_test_split``,
``one_hot``, ``standardize`` and ``batches``.

Every random function takes ``seed`` (an int or a ``numpy.random.Generator``)
and returns ``(X, y)``: X float64 with one sample per row, y int64 labels.
"""

import math

import numpy as np

from nnlab._checks import all_finite, as_float_array, as_rng, check_number, lookup

#: The most values an array made here may hold: 10^7, 80 MB of float64, 25 times the largest
#: set the chapters make. A generator's work arrays take several times its X, so a larger
#: request (an exponent typed by mistake) would run for minutes or end in a MemoryError.
MAX_VALUES = 10**7

_GATES = {
    "and": [0, 0, 0, 1],
    "or": [0, 1, 1, 1],
    "nand": [1, 1, 1, 0],
    "nor": [1, 0, 0, 0],
    "xor": [0, 1, 1, 0],
}


def logic_gate(name):
    """The truth table of a two-input logic gate.

    Examples
    --------
    >>> X, y = logic_gate("xor")
    >>> X.tolist(), y.tolist()
    ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0])
    """
    y = np.array(lookup(name, _GATES, "logic gate"), dtype=np.int64)
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    return X, y


def _fits(shape, request, hint=""):
    """Refuse to build an array of ``shape`` holding more than ``MAX_VALUES`` values."""
    size = math.prod(shape)
    if size > MAX_VALUES:
        count = f"{size:,}" if size < 10**15 else f"10^{math.log10(size):.1f}"
        raise ValueError(f"{request} asks for {count} values; at most MAX_VALUES = "
                         f"{MAX_VALUES:,} are built{hint}")


def _toy_args(n_samples, noise, seed):
    """Check the arguments every 2-D toy set takes; return its random generator."""
    check_number(n_samples, "n_samples", low=1, integer=True)
    _fits((n_samples, 2), f"n_samples={n_samples}")
    check_number(noise, "noise", low=0)
    return as_rng(seed, "seed")


def _add_noise(X, scale, rng, source):
    """Add ``scale`` times normal draws to X in place, refusing a scale that overflows."""
    with np.errstate(over="ignore"):
        X += scale * rng.standard_normal(X.shape)
    if not all_finite(X):
        raise ValueError(f"{source} is too large: the points overflow float64")
    return X


def _flag(value, name):
    """``value`` if it is a boolean, which the string "no" (a true value) is not."""
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def spirals(n_samples=200, n_classes=2, noise=0.2, seed=None):
    """Interleaved spiral arms, one per class: not separable by any straight line.

    Examples
    --------
    >>> X, y = spirals(100, seed=0)
    >>> X.shape, sorted(set(y.tolist()))
    ((100, 2), [0, 1])
    """
    rng = _toy_args(n_samples, noise, seed)
    check_number(n_classes, "n_classes", low=2, integer=True)
    y = np.arange(n_samples) % n_classes
    t = rng.uniform(0.0, 1.0, n_samples)
    radius = 0.2 + 0.8 * t
    angle = 3.5 * np.pi * t + 2 * np.pi * y / n_classes
    X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    _add_noise(X, noise * 0.1, rng, f"noise={noise!r}")
    return X, y.astype(np.int64)


def moons(n_samples=200, noise=0.1, seed=None):
    """Two interleaving half circles.

    Examples
    --------
    >>> moons(10, seed=0)[0].shape
    (10, 2)
    """
    rng = _toy_args(n_samples, noise, seed)
    y = np.arange(n_samples) % 2
    t = rng.uniform(0.0, np.pi, n_samples)
    X = np.where(
        (y == 0)[:, None],
        np.column_stack([np.cos(t), np.sin(t)]),
        np.column_stack([1 - np.cos(t), 0.5 - np.sin(t)]),
    )
    _add_noise(X, noise, rng, f"noise={noise!r}")
    return X, y.astype(np.int64)


def circles(n_samples=200, noise=0.1, factor=0.5, seed=None):
    """A small circle (class 1) inside a large one (class 0).

    ``factor`` is the ratio of the inner radius to the outer radius (0 < factor < 1).

    Examples
    --------
    >>> circles(10, seed=0)[1].tolist()
    [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]
    """
    rng = _toy_args(n_samples, noise, seed)
    check_number(factor, "factor", low=0, high=1, low_open=True, high_open=True)
    y = np.arange(n_samples) % 2
    angle = rng.uniform(0.0, 2 * np.pi, n_samples)
    radius = np.where(y == 1, factor, 1.0)
    X = radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    _add_noise(X, noise, rng, f"noise={noise!r}")
    return X, y.astype(np.int64)


def blobs(n_samples=200, centers=3, std=1.0, n_features=None, seed=None):
    """Gaussian clouds around centres, one class per centre.

    Parameters
    ----------
    n_samples : int
        Number of points, dealt to the centres in turn so that the classes are balanced.
    centers : int or array_like of shape (k, n_features)
        How many centres to draw uniformly in [-5, 5]^n_features, or their coordinates.
        At most ``n_samples``: a centre more would get no point, a class without data.
    std : float
        Standard deviation of every cloud.
    n_features : int, optional
        Coordinates of drawn centres (2 by default); given centres must have as many.
    seed : int or numpy.random.Generator, optional

    Examples
    --------
    >>> X, y = blobs(30, centers=3, seed=0)
    >>> X.shape, np.bincount(y).tolist()
    ((30, 2), [10, 10, 10])
    """
    check_number(n_samples, "n_samples", low=1, integer=True)
    check_number(std, "std", low=0)
    if np.isscalar(centers):
        check_number(centers, "centers", low=1, high=n_samples, integer=True)
        n_features = 2 if n_features is None else n_features
        check_number(n_features, "n_features", low=1, integer=True)
    else:
        centers = as_float_array(centers, "centers", ndim=2, dtype=np.float64)
        if not 1 <= len(centers) <= n_samples:
            raise ValueError(f"centers must hold 1 to n_samples={n_samples} rows, one per "
                             f"class; got {len(centers)}")
        if centers.shape[1] == 0 or n_features not in (None, centers.shape[1]):
            expected = "a column" if n_features is None else f"n_features={n_features} columns"
            raise ValueError(f"centers must have {expected}; got shape {centers.shape}")
        n_features = centers.shape[1]
    _fits((n_samples, n_features), f"n_samples={n_samples}, n_features={n_features}")
    rng = as_rng(seed, "seed")
    if np.isscalar(centers):   # drawn only now that every argument is known to be sound
        centers = rng.uniform(-5.0, 5.0, (centers, n_features))
    y = np.arange(n_samples) % len(centers)
    X = _add_noise(centers[y], std, rng, f"std={std!r} or a centre")
    return X, y.astype(np.int64)


def xor(n_samples=200, noise=0.1, seed=None):
    """Points in the square [-1, 1]^2, labelled 1 where x1 and x2 have the same sign.

    The continuous cousin of the XOR gate (TensorFlow Playground's "exclusive or").

    Examples
    --------
    >>> xor(8, seed=0)[0].shape
    (8, 2)
    """
    rng = _toy_args(n_samples, noise, seed)
    X = rng.uniform(-1.0, 1.0, (n_samples, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    _add_noise(X, noise, rng, f"noise={noise!r}")
    return X, y


DNA_BASES = "ACGT"


def dna_motifs(n=1000, length=50, motif="TATAAT", mutation_rate=0.1, positive_fraction=0.5,
               seed=None, return_positions=False):
    """Random DNA sequences; the positives carry a planted motif somewhere.

    A toy version of a classic task of deep learning in genomics: finding a
    binding site (the default motif is the bacterial Pribnow box, TATAAT; any
    non-empty string over ACGT, in either case, will do). Each base of a planted
    motif is replaced by a random base with probability ``mutation_rate``.

    Returns
    -------
    X : ndarray of shape (n, 4, length)
        One-hot sequences, channels first (A, C, G, T), ready for ``Conv1D``.
    y : ndarray of shape (n,)
        1 for sequences with the motif, 0 otherwise.
    positions : ndarray of shape (n,), only if ``return_positions``
        Where the motif starts (-1 for negatives).

    Examples
    --------
    >>> X, y = dna_motifs(4, length=12, mutation_rate=0.0, seed=0)
    >>> X.shape, decode_dna(X[y == 1][:1])[0].count("TATAAT") >= 1
    ((4, 4, 12), True)
    """
    check_number(n, "n", low=1, integer=True)
    if not isinstance(motif, str) or not motif or set(motif.upper()) - set(DNA_BASES):
        raise ValueError(f"motif must be a non-empty string over {DNA_BASES}; got {motif!r}")
    motif = motif.upper()
    check_number(length, "length", low=len(motif), integer=True)
    _fits((n, 4, length), f"n={n}, length={length}")
    check_number(mutation_rate, "mutation_rate", low=0, high=1)
    check_number(positive_fraction, "positive_fraction", low=0, high=1)
    return_positions = _flag(return_positions, "return_positions")
    rng = as_rng(seed, "seed")
    codes = rng.integers(0, 4, size=(n, length))
    y = (rng.permutation(n) < round(positive_fraction * n)).astype(np.int64)
    positions = np.where(y == 1, rng.integers(0, length - len(motif) + 1, n), -1)
    planted = np.tile([DNA_BASES.index(b) for b in motif], (n, 1))
    mutate = rng.random(planted.shape) < mutation_rate
    planted = np.where(mutate, rng.integers(0, 4, planted.shape), planted)
    rows = np.flatnonzero(y)
    cols = positions[rows, None] + np.arange(len(motif))
    codes[rows[:, None], cols] = planted[rows]
    X = np.eye(4)[codes].transpose(0, 2, 1)
    return (X, y, positions) if return_positions else (X, y)


def decode_dna(X):
    """Turn one-hot sequences of shape (n, 4, length) back into strings.

    Examples
    --------
    >>> decode_dna(np.eye(4)[[[0, 1, 2, 3]]].transpose(0, 2, 1))
    ['ACGT']
    """
    X = as_float_array(X, "X", ndim=3)
    if X.shape[1] != len(DNA_BASES):
        raise ValueError(f"X must have shape (n, 4, length), one channel per base; got {X.shape}")
    return ["".join(DNA_BASES[i] for i in row) for row in X.argmax(axis=1)]


def _sklearn(loader, return_names):
    return_names = _flag(return_names, "return_names")
    data = loader()
    X, y = data.data.astype(np.float64), data.target.astype(np.int64)
    if return_names:
        return X, y, list(data.feature_names), list(data.target_names)
    return X, y


def load_digits(as_images=False, return_names=False):
    """1797 handwritten digits, 8x8 grey levels 0-16 (UCI, shipped with scikit-learn).

    X has shape (1797, 64), or (1797, 1, 8, 8) with ``as_images`` (for Conv2D).

    Examples
    --------
    >>> X, y = load_digits()
    >>> X.shape, y[:5].tolist()
    ((1797, 64), [0, 1, 2, 3, 4])
    """
    from sklearn.datasets import load_digits as loader

    as_images = _flag(as_images, "as_images")
    out = _sklearn(loader, return_names)
    if as_images:
        out = (out[0].reshape(-1, 1, 8, 8), *out[1:])
    return out


def load_breast_cancer(return_names=False):
    """569 breast tumours, 30 features of cell nuclei; y = 1 benign, 0 malignant
    (Wisconsin Diagnostic data, UCI, shipped with scikit-learn).

    Examples
    --------
    >>> load_breast_cancer()[0].shape
    (569, 30)
    """
    from sklearn.datasets import load_breast_cancer as loader

    return _sklearn(loader, return_names)


def load_iris(return_names=False):
    """150 iris flowers, 4 measurements, 3 species (Fisher 1936, shipped with scikit-learn).

    Examples
    --------
    >>> load_iris()[0].shape
    (150, 4)
    """
    from sklearn.datasets import load_iris as loader

    return _sklearn(loader, return_names)


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

    X and y hold one sample per row. With ``stratify`` each class keeps its proportion in
    both parts; y then holds class labels, (N,) or (N, 1), or one-hot rows (N, K).

    Examples
    --------
    >>> X, y = np.arange(20).reshape(10, 2), np.arange(10) % 2
    >>> [a.shape for a in train_test_split(X, y, test_size=0.3, seed=0)]
    [(7, 2), (3, 2), (7,), (3,)]
    """
    X, y = _samples(X, "X"), _samples(y, "y")
    _same_length(X, y)
    check_number(test_size, "test_size", low=0, high=1, low_open=True, high_open=True)
    labels = _strata(y) if _flag(stratify, "stratify") else None
    rng = as_rng(seed, "seed")
    if labels is not None:
        groups = [rng.permutation(np.flatnonzero(labels == c)) for c in np.unique(labels)]
        n_test = [round(test_size * len(g)) for g in groups]
        test = np.concatenate([g[:k] for g, k in zip(groups, n_test, strict=True)])
        train = np.concatenate([g[k:] for g, k in zip(groups, n_test, strict=True)])
        test, train = rng.permutation(test), rng.permutation(train)
    else:
        order = rng.permutation(len(X))
        n_test = round(test_size * len(X))
        test, train = order[:n_test], order[n_test:]
    if len(test) == 0 or len(train) == 0:
        raise ValueError(f"test_size={test_size} leaves an empty part with {len(X)} samples")
    return X[train], X[test], y[train], y[test]


def one_hot(y, n_classes=None):
    """Integer labels (n,) -> one-hot rows (n, n_classes).

    The labels are class indices 0 to K-1 (integers, or whole floats such as 2.0);
    ``n_classes``, K, is by default the largest label plus one.

    Examples
    --------
    >>> one_hot([0, 2], 3)
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
    _fits((len(y), k), f"one_hot of {len(y)} labels into {k} classes", "; labels are class "
          "indices 0 to K-1: map others first, e.g. with np.unique(y, return_inverse=True)")
    out = np.zeros((len(y), k))
    out[np.arange(len(y)), y.astype(np.int64)] = 1.0
    return out


def standardize(X_train, *others):
    """Scale every column to mean 0, standard deviation 1, using the training statistics.

    The other arrays (validation, test) are scaled with the *training* mean and
    standard deviation, as they would be for new data. Constant columns are
    centred but not divided. X_train needs a row: no rows have no statistics.

    Examples
    --------
    >>> train, test = standardize([[0.0, 1.0], [2.0, 1.0]], [[4.0, 1.0]])
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
        mean, std = X_train.mean(axis=0), X_train.std(axis=0)
        out = [(X - mean) / np.where(std > 0, std, 1.0) for X in arrays]
    for i, scaled in enumerate(out):
        if not (all_finite(std) and all_finite(scaled)):
            name = f"array {i}" if i else "X_train"
            raise ValueError(f"{name} overflows float64 when standardized; rescale the data "
                             "first (divide it by a power of ten)")
    return out[0] if not others else tuple(out)


def batches(X, y, batch_size=32, shuffle=True, seed=None):
    """Mini-batches ``(X_batch, y_batch)`` to loop over; the last one may be smaller.

    Examples
    --------
    >>> [len(xb) for xb, _ in batches(np.zeros((10, 2)), np.zeros(10), 4, shuffle=False)]
    [4, 4, 2]
    """
    X, y = _samples(X, "X"), _samples(y, "y")
    _same_length(X, y)
    if not len(X):
        raise ValueError("X holds no samples: there is nothing to cut into batches")
    check_number(batch_size, "batch_size", low=1, integer=True)
    rng = as_rng(seed, "seed")
    return _batches(X, y, batch_size, rng if _flag(shuffle, "shuffle") else None)


def _batches(X, y, batch_size, rng):
    # A generator function runs none of its body before the first next(): checked in here,
    # a bad argument would surface only inside the training loop, far from the call.
    order = np.arange(len(X)) if rng is None else rng.permutation(len(X))
    for start in range(0, len(X), batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]
