"""Data sets and the small tools to prepare them.

Toy problems made on the spot (logic gates, 2-D point clouds, DNA sequences
with a planted motif), real data sets that ship inside scikit-learn (no
download), and the helpers every training script needs: ``train_test_split``,
``one_hot``, ``standardize`` and ``batches``.

Every random function takes ``seed`` (an int or a ``numpy.random.Generator``)
and returns ``(X, y)``: X float64 with one sample per row, y int64 labels.
"""

import numpy as np

from nnlab._checks import as_float_array, as_rng, check_number, lookup

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


def _n(n_samples, name="n_samples"):
    return check_number(n_samples, name, low=1, integer=True)


def _noise(noise):
    return check_number(noise, "noise", low=0)


def spirals(n_samples=200, n_classes=2, noise=0.2, seed=None):
    """Interleaved spiral arms, one per class: not separable by any straight line.

    Examples
    --------
    >>> X, y = spirals(100, seed=0)
    >>> X.shape, sorted(set(y.tolist()))
    ((100, 2), [0, 1])
    """
    _n(n_samples), _noise(noise)
    check_number(n_classes, "n_classes", low=2, integer=True)
    rng = as_rng(seed, "seed")
    y = np.arange(n_samples) % n_classes
    t = rng.uniform(0.0, 1.0, n_samples)
    radius = 0.2 + 0.8 * t
    angle = 3.5 * np.pi * t + 2 * np.pi * y / n_classes
    X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    X += noise * 0.1 * rng.standard_normal(X.shape)
    return X, y.astype(np.int64)


def moons(n_samples=200, noise=0.1, seed=None):
    """Two interleaving half circles.

    Examples
    --------
    >>> moons(10, seed=0)[0].shape
    (10, 2)
    """
    _n(n_samples), _noise(noise)
    rng = as_rng(seed, "seed")
    y = np.arange(n_samples) % 2
    t = rng.uniform(0.0, np.pi, n_samples)
    X = np.where(
        (y == 0)[:, None],
        np.column_stack([np.cos(t), np.sin(t)]),
        np.column_stack([1 - np.cos(t), 0.5 - np.sin(t)]),
    )
    X += noise * rng.standard_normal(X.shape)
    return X, y.astype(np.int64)


def circles(n_samples=200, noise=0.1, factor=0.5, seed=None):
    """A small circle (class 1) inside a large one (class 0).

    ``factor`` is the ratio of the inner radius to the outer radius (0 < factor < 1).

    Examples
    --------
    >>> circles(10, seed=0)[1].tolist()
    [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]
    """
    _n(n_samples), _noise(noise)
    check_number(factor, "factor", low=0, high=1, low_open=True, high_open=True)
    rng = as_rng(seed, "seed")
    y = np.arange(n_samples) % 2
    angle = rng.uniform(0.0, 2 * np.pi, n_samples)
    radius = np.where(y == 1, factor, 1.0)
    X = radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    X += noise * rng.standard_normal(X.shape)
    return X, y.astype(np.int64)


def blobs(n_samples=200, centers=3, std=1.0, n_features=2, seed=None):
    """Gaussian clouds around ``centers`` random centres (or the given centre coordinates).

    Examples
    --------
    >>> X, y = blobs(30, centers=3, seed=0)
    >>> X.shape, np.bincount(y).tolist()
    ((30, 2), [10, 10, 10])
    """
    _n(n_samples)
    check_number(std, "std", low=0)
    rng = as_rng(seed, "seed")
    if np.isscalar(centers):
        check_number(centers, "centers", low=1, integer=True)
        centers = rng.uniform(-5.0, 5.0, (centers, n_features))
    centers = as_float_array(centers, "centers", ndim=2)
    y = np.arange(n_samples) % len(centers)
    X = centers[y] + std * rng.standard_normal((n_samples, centers.shape[1]))
    return X, y.astype(np.int64)


def xor(n_samples=200, noise=0.1, seed=None):
    """Points in the square [-1, 1]^2, labelled 1 where x1 and x2 have the same sign.

    The continuous cousin of the XOR gate (TensorFlow Playground's "exclusive or").

    Examples
    --------
    >>> xor(8, seed=0)[0].shape
    (8, 2)
    """
    _n(n_samples), _noise(noise)
    rng = as_rng(seed, "seed")
    X = rng.uniform(-1.0, 1.0, (n_samples, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    X += noise * rng.standard_normal(X.shape)
    return X, y


DNA_BASES = "ACGT"


def dna_motifs(n=1000, length=50, motif="TATAAT", mutation_rate=0.1, positive_fraction=0.5,
               seed=None, return_positions=False):
    """Random DNA sequences; the positives carry a planted motif somewhere.

    A toy version of a classic task of deep learning in genomics: finding a
    binding site (the default motif is the bacterial Pribnow box, TATAAT).
    Each base of a planted motif is replaced by a random base with
    probability ``mutation_rate``.

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
    _n(n, "n")
    motif = motif.upper()
    if not motif or set(motif) - set(DNA_BASES):
        raise ValueError(f"motif must be a non-empty string over {DNA_BASES}; got {motif!r}")
    check_number(length, "length", low=len(motif), integer=True)
    check_number(mutation_rate, "mutation_rate", low=0, high=1)
    check_number(positive_fraction, "positive_fraction", low=0, high=1)
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
    return ["".join(DNA_BASES[i] for i in row) for row in X.argmax(axis=1)]


def _sklearn(loader, return_names):
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


def _same_length(X, y):
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length; got {len(X)} and {len(y)}")


def train_test_split(X, y, test_size=0.25, seed=None, stratify=False):
    """Shuffle and split into ``X_train, X_test, y_train, y_test``.

    With ``stratify`` each class keeps its proportion in both parts.

    Examples
    --------
    >>> X, y = np.arange(20).reshape(10, 2), np.arange(10) % 2
    >>> [a.shape for a in train_test_split(X, y, test_size=0.3, seed=0)]
    [(7, 2), (3, 2), (7,), (3,)]
    """
    X, y = np.asarray(X), np.asarray(y)
    _same_length(X, y)
    check_number(test_size, "test_size", low=0, high=1, low_open=True, high_open=True)
    rng = as_rng(seed, "seed")
    if stratify:
        labels = y.argmax(axis=1) if y.ndim == 2 else y   # one-hot rows: their classes
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

    Examples
    --------
    >>> one_hot([0, 2], 3)
    array([[1., 0., 0.],
           [0., 0., 1.]])
    """
    y = np.asarray(y)
    if y.ndim != 1 or (y.dtype.kind not in "iub" and not np.all(np.mod(y, 1) == 0)):
        raise ValueError(f"one_hot needs a 1-D array of integer labels; got shape {y.shape}, "
                         f"dtype {y.dtype}")
    y = y.astype(np.int64)
    if n_classes is None and not len(y):
        raise ValueError("one_hot got no labels, so it cannot infer the number of classes; "
                         "pass n_classes")
    k = int(y.max()) + 1 if n_classes is None else n_classes
    check_number(k, "n_classes", low=1, integer=True)
    if len(y) and (y.min() < 0 or y.max() >= k):
        raise ValueError(f"labels must be in [0, {k - 1}]; got values from {y.min()} to {y.max()}")
    return np.eye(k)[y]


def standardize(X_train, *others):
    """Scale every column to mean 0, standard deviation 1, using the training statistics.

    The other arrays (validation, test) are scaled with the *training* mean and
    standard deviation, as they would be for new data. Constant columns are
    centred but not divided.

    Examples
    --------
    >>> train, test = standardize([[0.0, 1.0], [2.0, 1.0]], [[4.0, 1.0]])
    >>> train.tolist(), test.tolist()
    ([[-1.0, 0.0], [1.0, 0.0]], [[3.0, 0.0]])
    """
    X_train = as_float_array(X_train, "X_train", ndim=2)
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    out = [(X_train - mean) / std]
    for i, X in enumerate(others):
        X = as_float_array(X, f"array {i + 1}", ndim=2)
        if X.shape[1] != X_train.shape[1]:
            raise ValueError(f"array {i + 1} has {X.shape[1]} columns; X_train has "
                             f"{X_train.shape[1]}")
        out.append((X - mean) / std)
    return out[0] if not others else tuple(out)


def batches(X, y, batch_size=32, shuffle=True, seed=None):
    """Yield mini-batches ``(X_batch, y_batch)``; the last one may be smaller.

    Examples
    --------
    >>> [len(xb) for xb, _ in batches(np.zeros((10, 2)), np.zeros(10), 4, shuffle=False)]
    [4, 4, 2]
    """
    X, y = np.asarray(X), np.asarray(y)
    _same_length(X, y)
    check_number(batch_size, "batch_size", low=1, integer=True)
    order = as_rng(seed, "seed").permutation(len(X)) if shuffle else np.arange(len(X))
    for start in range(0, len(X), batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]
