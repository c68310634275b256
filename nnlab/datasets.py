"""Data sets and the small tools to prepare them.

Toy problems made on the spot (logic gates, 2-D point clouds, and from ``dna.py``
DNA sequences with a planted motif), real data sets that ship inside scikit-learn (no
download), and the helpers every training script needs, from ``preprocessing.py``:
``train_test_split``, ``one_hot``, ``standardize`` and ``batches``.

Every random function takes ``seed`` (None: fresh entropy; an int: the same data each call;
a NumPy Generator: drawn from) and returns ``(X, y)``: X float64, one sample per row, and
y int64 labels.
"""

import numpy as np

from nnlab._checks import all_finite, as_float_array, as_rng, check_bool, check_number, lookup
from nnlab.dna import DNA_BASES, decode_dna, dna_motifs
from nnlab.preprocessing import (
    MAX_VALUES,
    batches,
    check_size,
    one_hot,
    standardize,
    train_test_split,
)

__all__ = ["DNA_BASES", "MAX_VALUES", "batches", "blobs", "circles", "decode_dna", "dna_motifs",
           "load_breast_cancer", "load_digits", "load_iris", "logic_gate", "moons", "one_hot",
           "spirals", "standardize", "train_test_split", "xor"]

_GATES = {"and": [0, 0, 0, 1], "or": [0, 1, 1, 1], "nand": [1, 1, 1, 0], "nor": [1, 0, 0, 0],
          "xor": [0, 1, 1, 0]}


def logic_gate(name):
    """The truth table of a two-input logic gate.

    Examples
    --------
    >>> X, y = nl.datasets.logic_gate("xor")
    >>> X.tolist(), y.tolist()
    ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0])
    """
    y = np.array(lookup(name, _GATES, "logic gate"), dtype=np.int64)
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    return X, y


def _toy_args(source, n_samples, noise, seed, n_classes=2):
    """Check the arguments every 2-D toy set takes; return its random generator."""
    check_number(n_samples, "n_samples", low=1, integer=True)
    if n_samples < n_classes:   # a class without data: nothing to learn it from or score it on
        raise ValueError(f"{source}: n_samples={n_samples} gives no point to some of the "
                         f"{n_classes} classes; ask for at least {n_classes}")
    check_size((n_samples, 2), f"n_samples={n_samples}")
    check_number(noise, "noise", low=0)
    return as_rng(seed, "seed")


def _add_noise(X, scale, rng, source):
    """Add ``scale`` times normal draws to X in place, refusing a scale that overflows."""
    with np.errstate(over="ignore"):
        X += scale * rng.standard_normal(X.shape)
    if not all_finite(X):
        raise ValueError(f"{source} is too large: the points overflow float64")
    return X


def spirals(n_samples=200, n_classes=2, noise=0.2, seed=None):
    """Interleaved spiral arms, one per class, out to radius 1: not separable by a straight line.

    Parameters
    ----------
    n_samples : int
        Number of points, dealt to the arms in turn; at least ``n_classes``.
    n_classes : int
        Number of arms, at least 2.
    noise : float
        Ten times the standard deviation of the normal noise on each coordinate (1.0 gives 0.1).
    seed : None, int or numpy.random.Generator

    Examples
    --------
    >>> X, y = nl.datasets.spirals(100, seed=0)
    >>> X.shape, sorted(set(y.tolist()))
    ((100, 2), [0, 1])
    """
    check_number(n_classes, "n_classes", low=2, integer=True)
    rng = _toy_args("spirals", n_samples, noise, seed, n_classes)
    y = np.arange(n_samples) % n_classes
    t = rng.uniform(0.0, 1.0, n_samples)
    radius = 0.2 + 0.8 * t
    angle = 3.5 * np.pi * t + 2 * np.pi * y / n_classes
    X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    _add_noise(X, noise * 0.1, rng, f"noise={noise!r}")
    return X, y.astype(np.int64)


def _two_classes(n):
    """Alternating labels, an odd count starting at 1 so that its extra sample is class 1,
    as scikit-learn's ``make_moons`` and ``make_circles`` share them."""
    return (np.arange(n) + n) % 2


def moons(n_samples=200, noise=0.1, seed=None):
    """Two interleaving half circles of radius 1.

    Parameters
    ----------
    n_samples : int
        Number of points, half in each moon (class 1 has the odd one); at least 2.
    noise : float
        Standard deviation of the normal noise added to each coordinate.
    seed : None, int or numpy.random.Generator

    Examples
    --------
    >>> nl.datasets.moons(10, seed=0)[0].shape
    (10, 2)
    """
    rng = _toy_args("moons", n_samples, noise, seed)
    y = _two_classes(n_samples)
    t = rng.uniform(0.0, np.pi, n_samples)
    X = np.where((y == 0)[:, None], np.column_stack([np.cos(t), np.sin(t)]),
                 np.column_stack([1 - np.cos(t), 0.5 - np.sin(t)]))
    _add_noise(X, noise, rng, f"noise={noise!r}")
    return X, y.astype(np.int64)


def circles(n_samples=200, noise=0.1, factor=0.5, seed=None):
    """A small circle (class 1) inside a large one (class 0) of radius 1.

    Parameters
    ----------
    n_samples : int
        Number of points, half on each circle (the inner one has the odd one); at least 2.
    noise : float
        Standard deviation of the normal noise added to each coordinate.
    factor : float
        Radius of the inner circle, 0 <= factor < 1 (0: the inner class at the centre).
    seed : None, int or numpy.random.Generator

    Examples
    --------
    >>> nl.datasets.circles(10, seed=0)[1].tolist()
    [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]
    """
    rng = _toy_args("circles", n_samples, noise, seed)
    check_number(factor, "factor", low=0, high=1, high_open=True)
    y = _two_classes(n_samples)
    angle = rng.uniform(0.0, 2 * np.pi, n_samples)
    radius = np.where(y == 1, factor, 1.0)
    X = radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    _add_noise(X, noise, rng, f"noise={noise!r}")
    return X, y.astype(np.int64)


def blobs(n_samples=200, centers=3, std=1.0, n_features=None, seed=None):
    """Gaussian clouds around centers, one class per center.

    Parameters
    ----------
    n_samples : int
        Number of points, dealt to the centers in turn so that the classes are balanced.
    centers : int or array_like of shape (k, n_features)
        How many centers to draw uniformly in [-5, 5]^n_features, or their coordinates.
        At most ``n_samples``: a center more would get no point, a class without data.
    std : float
        Standard deviation of every cloud.
    n_features : int, optional
        Coordinates of drawn centers (2 by default); given centers must have as many.
    seed : None, int or numpy.random.Generator

    Examples
    --------
    >>> X, y = nl.datasets.blobs(30, centers=3, seed=0)
    >>> X.shape, np.bincount(y).tolist()
    ((30, 2), [10, 10, 10])
    """
    check_number(n_samples, "n_samples", low=1, integer=True)
    check_number(std, "std", low=0)
    if np.isscalar(centers):
        check_number(centers, "centers", low=1, integer=True)
        if centers > n_samples:   # a center without points: a class without data
            raise ValueError(f"n_samples={n_samples} cannot give a point to each of {centers=}")
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
    check_size((n_samples, n_features), f"n_samples={n_samples}, n_features={n_features}")
    rng = as_rng(seed, "seed")
    if np.isscalar(centers):   # drawn only now that every argument is known to be sound
        centers = rng.uniform(-5.0, 5.0, (centers, n_features))
    y = np.arange(n_samples) % len(centers)
    X = _add_noise(centers[y], std, rng, f"std={std!r} or a center")
    return X, y.astype(np.int64)


def xor(n_samples=200, noise=0.1, seed=None):
    """Points drawn in the square [-1, 1]^2, labeled 1 where x1 and x2 have the same sign,
    then moved by the noise: near the axes it acts as label noise, and points can leave the square.

    TensorFlow Playground's "exclusive or", the continuous cousin of the XOR gate with the
    labels the other way round: ``logic_gate("xor")`` answers 1 where its inputs differ,
    this set where the signs agree. Either way, no straight line separates the classes.

    Parameters
    ----------
    n_samples : int
        Number of points, at least 2 (the labels are random: a few may all be one class).
    noise : float
        Standard deviation of the normal noise added to each coordinate after labeling.
    seed : None, int or numpy.random.Generator

    Examples
    --------
    >>> X, y = nl.datasets.xor(10000, seed=0)   # the default noise, 0.1: labels against signs
    >>> float(np.mean(y != (X[:, 0] * X[:, 1] > 0)))
    0.0768
    """
    rng = _toy_args("xor", n_samples, noise, seed)
    X = rng.uniform(-1.0, 1.0, (n_samples, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    _add_noise(X, noise, rng, f"noise={noise!r}")
    return X, y


def _sklearn(loader, return_names):
    return_names = check_bool(return_names, "return_names")
    data = loader()
    X, y = data.data.astype(np.float64), data.target.astype(np.int64)
    if return_names:
        return X, y, list(data.feature_names), list(data.target_names)
    return X, y


def load_digits(as_images=False, return_names=False):
    """1797 handwritten digits, 8x8 grey levels 0-16 (UCI, shipped with scikit-learn).

    X has shape (1797, 64), or (1797, 1, 8, 8) with ``as_images`` (for Conv2D). With
    ``return_names``, also the pixels' and the classes' names:
    ``(X, y, feature_names, target_names)``, as for each loader here.

    Examples
    --------
    >>> X, y = nl.datasets.load_digits()
    >>> X.shape, y[:5].tolist()
    ((1797, 64), [0, 1, 2, 3, 4])
    """
    from sklearn.datasets import load_digits as loader

    as_images = check_bool(as_images, "as_images")
    out = _sklearn(loader, return_names)
    if as_images:
        out = (out[0].reshape(-1, 1, 8, 8), *out[1:])
    return out


def load_breast_cancer(return_names=False):
    """569 breast tumours, 30 features of cell nuclei; y = 1 benign, 0 malignant
    (Wisconsin Diagnostic data, UCI, shipped with scikit-learn). ``return_names`` adds the
    features' and the classes' names, as ``load_digits``.

    Examples
    --------
    >>> nl.datasets.load_breast_cancer()[0].shape
    (569, 30)
    """
    from sklearn.datasets import load_breast_cancer as loader

    return _sklearn(loader, return_names)


def load_iris(return_names=False):
    """150 iris flowers, 4 measurements, 3 species (Fisher 1936, shipped with scikit-learn),
    sorted by species: shuffle them before ``fit``'s ``validation_split``, which takes the
    last rows. ``return_names`` adds the measurements' and the species' names.

    Examples
    --------
    >>> nl.datasets.load_iris()[0].shape
    (150, 4)
    """
    from sklearn.datasets import load_iris as loader

    return _sklearn(loader, return_names)
