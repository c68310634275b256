"""The data sets of nnlab.datasets: logic gates, the two-feature toy sets, DNA motifs and
the bundled real data, with their shapes, seeds, noise, labels and argument checks."""

import collections
import itertools

import numpy as np
import pytest

from nnlab import datasets as D


@pytest.mark.parametrize("name,y", [("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1]),
                                    ("nand", [1, 1, 1, 0]), ("nor", [1, 0, 0, 0]),
                                    ("xor", [0, 1, 1, 0])])
def test_logic_gates(name, y):
    X, labels = D.logic_gate(name)
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert labels.tolist() == y


def test_unknown_gate():
    with pytest.raises(ValueError, match="valid names are: and, nand, nor, or, xor"):
        D.logic_gate("xnor2")


@pytest.mark.parametrize("make", [
    lambda s: D.spirals(90, n_classes=3, seed=s), lambda s: D.moons(90, seed=s),
    lambda s: D.circles(90, seed=s), lambda s: D.blobs(90, centers=3, seed=s),
    lambda s: D.xor(90, seed=s)])
def test_toy_sets_shapes_seeds_and_balance(make):
    X, y = make(0)
    assert X.shape == (90, 2) and X.dtype == np.float64 and y.dtype == np.int64
    X2, y2 = make(0)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert not np.array_equal(X, make(1)[0])
    counts = np.bincount(y)
    assert counts.min() >= 0.3 * counts.max()


@pytest.mark.parametrize("factor", [0.3, 0.0])   # 0 as scikit-learn: a point at the centre
def test_circles_radii_without_noise(factor):
    X, y = D.circles(100, noise=0.0, factor=factor, seed=0)
    r = np.hypot(*X.T)
    np.testing.assert_allclose(r[y == 0], 1.0)
    np.testing.assert_allclose(r[y == 1], factor)


def test_xor_labels_follow_the_quadrants():
    X, y = D.xor(200, noise=0.0, seed=0)
    assert np.array_equal(y, (X[:, 0] * X[:, 1] > 0).astype(int))


@pytest.mark.parametrize("call,match", [
    (lambda: D.moons(0), "n_samples"), (lambda: D.circles(10, noise=-1), "noise"),
    (lambda: D.circles(10, factor=1.5), "factor"), (lambda: D.spirals(10, n_classes=1),
                                                    "n_classes"),
    (lambda: D.dna_motifs(10, motif="TAXA"), "motif"),
    (lambda: D.dna_motifs(10, length=3), "length"),
    (lambda: D.spirals(3, n_classes=5), "no point to some of the 5 classes")])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("make", [D.moons, D.circles, D.xor])
def test_two_class_sets_refuse_a_single_sample(make):
    # One point leaves a class without data, as spirals already refused for its arms.
    with pytest.raises(ValueError, match="n_samples=1 gives no point to some of the 2 classes"):
        make(1, seed=0)
    assert len(make(2, seed=0)[1]) == 2


@pytest.mark.parametrize("kwargs,match", [
    (dict(n_samples=1), "n_samples=1 cannot give a point to each of centers=3"),
    (dict(n_samples=4, centers=5), "n_samples=4 cannot give a point to each of centers=5")])
def test_blobs_names_n_samples_when_centres_outnumber_the_points(kwargs, match):
    with pytest.raises(ValueError, match=match):
        D.blobs(**kwargs, seed=0)


@pytest.mark.parametrize("make,scale", [
    (lambda noise: D.moons(4000, noise=noise, seed=0), 1.0),
    (lambda noise: D.circles(4000, noise=noise, seed=0), 1.0),
    (lambda noise: D.xor(4000, noise=noise, seed=0), 1.0),
    (lambda noise: D.spirals(4000, noise=noise, seed=0), 0.1)])
def test_noise_is_the_documented_standard_deviation(make, scale):
    # The same seed draws the same clean points, then the noise: their difference is it.
    (X, y), (clean, clean_y) = make(0.5), make(0.0)
    assert np.array_equal(y, clean_y)
    assert abs((X - clean).std() / (0.5 * scale) - 1) < 0.03


def test_xor_labels_the_points_before_the_noise_moves_them():
    X, y = D.xor(10_000, seed=0)
    clean, _ = D.xor(10_000, noise=0.0, seed=0)
    assert np.array_equal(y, (clean[:, 0] * clean[:, 1] > 0).astype(int))
    against_signs = y != (X[:, 0] * X[:, 1] > 0)
    assert 0.07 < against_signs.mean() < 0.085 and (np.abs(X) > 1).any()


@pytest.mark.parametrize("n,fraction,positives", [(5, 0.5, 2), (7, 0.5, 4), (3, 0.5, 2),
                                                  (10, 0.25, 2), (1, 0.5, 0)])
def test_dna_motifs_rounds_the_count_of_positives_half_to_even(n, fraction, positives):
    _, y = D.dna_motifs(n, length=8, positive_fraction=fraction, seed=0)
    assert y.sum() == positives


def test_dna_motifs_plants_the_motif():
    X, y, pos = D.dna_motifs(200, length=30, motif="TATAAT", mutation_rate=0.0, seed=0,
                             return_positions=True)
    assert X.shape == (200, 4, 30)
    np.testing.assert_array_equal(X.sum(axis=1), 1)
    seqs = D.decode_dna(X)
    for s, label, p in zip(seqs, y, pos, strict=True):
        if label:
            assert s[p:p + 6] == "TATAAT"
        else:
            assert p == -1
    assert 80 <= y.sum() <= 120
    assert not any("TATAAT" in s for s, label in zip(seqs, y, strict=True) if not label)


@pytest.mark.parametrize("motif", ["A", "TA", "AAA", "ACAC", "TATAAT"])
def test_dna_motifs_negatives_never_hold_the_motif(motif):
    # Random sequences of 50 bases almost all hold "A" or "TA": the negatives must not.
    X, y = D.dna_motifs(400, length=50, motif=motif, seed=0)
    negatives = [s for s, label in zip(D.decode_dna(X), y, strict=True) if not label]
    assert len(negatives) == 200 and not any(motif in s for s in negatives)


@pytest.mark.parametrize("motif, length", [("AA", 4), ("ACA", 5)])
def test_dna_motifs_negatives_are_uniform_among_sequences_without_the_motif(motif, length):
    # What drawing random sequences again until they lack the motif would give: every
    # sequence without it equally often.
    allowed = ["".join(bases) for bases in itertools.product("ACGT", repeat=length)
               if motif not in "".join(bases)]
    n = 200 * len(allowed)
    X, _ = D.dna_motifs(n, length=length, motif=motif, positive_fraction=0.0, seed=0)
    counts = collections.Counter(D.decode_dna(X))
    assert set(counts) == set(allowed)
    assert all(abs(c - 200) < 5 * np.sqrt(200) for c in counts.values())


@pytest.mark.parametrize("rate", [0.0, 0.3, 1.0])
def test_dna_motifs_mutation_rate_is_the_share_of_planted_bases_that_differ(rate):
    X, y, pos = D.dna_motifs(3000, length=20, mutation_rate=rate, seed=0, return_positions=True)
    codes, motif = X.argmax(axis=1), np.array(["ACGT".index(b) for b in "TATAAT"])
    planted = np.array([codes[i, pos[i]:pos[i] + 6] for i in np.flatnonzero(y)])
    differ = planted != motif
    assert abs(differ.mean() - rate) < 0.01
    # A changed base is any of the three others, equally often.
    shift = ((planted - motif) % 4)[differ]
    if rate:
        assert np.all(np.abs(np.bincount(shift, minlength=4)[1:] / differ.sum() - 1 / 3)
                      < 0.02)


def test_real_data_shapes():
    assert D.load_digits()[0].shape == (1797, 64)
    assert D.load_digits(as_images=True)[0].shape == (1797, 1, 8, 8)
    X, _, features, targets = D.load_breast_cancer(return_names=True)
    assert X.shape == (569, 30) and len(features) == 30 and list(targets) == ["malignant",
                                                                               "benign"]
    assert D.load_iris()[0].shape == (150, 4)


# Input validation: bad input is a ValueError naming the argument, raised at the call,
# never a raw NumPy error, a MemoryError, a RuntimeWarning or a silent wrong answer.

@pytest.mark.parametrize("kwargs,match", [
    (dict(centers=np.zeros((0, 2))), "centers must hold 1 to"),
    (dict(centers=np.zeros((2, 0))), "centers must have a column"),
    (dict(centers=[[0.0, 0.0]], n_features=3), "n_features=3 columns"),
    (dict(n_features=0), "n_features"), (dict(n_features=-1), "n_features"),
    (dict(n_features=2.5), "n_features"), (dict(centers=10**9), "centers"),
    (dict(n_samples=3, centers=[[0, 0]] * 4), "n_samples=3"),
    (dict(n_samples=10**7, n_features=3), "MAX_VALUES"), (dict(std=1e308), "std")])
def test_blobs_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        D.blobs(**{"seed": 0, **kwargs})


def test_blobs_given_centres_keep_their_float64_sum():
    centers = np.array([[0.1, 0.2], [0.3, 0.4]], dtype=np.float32)
    X, y = D.blobs(4, centers=centers, std=0.0, seed=0)
    assert X.dtype == np.float64 and np.array_equal(X, centers.astype(np.float64)[y])


@pytest.mark.parametrize("call,match", [
    (lambda: D.dna_motifs(10, motif=5), "motif"), (lambda: D.dna_motifs(10, motif=""), "motif"),
    (lambda: D.dna_motifs(10**5, length=10**3), "MAX_VALUES"),
    (lambda: D.dna_motifs(1, length=10**4, motif="A" * 300), "a motif of 300 bases.*shorter"),
    (lambda: D.dna_motifs(10, return_positions="no"), "return_positions"),
    (lambda: D.moons(10**9), "MAX_VALUES"),
    (lambda: D.moons(10, noise=1.7e308, seed=0), "noise"),
    (lambda: D.xor(10, noise=1.7e308, seed=0), "noise"),
    (lambda: D.load_digits(as_images="no"), "as_images"),
    (lambda: D.load_iris(return_names="no"), "return_names"),
    (lambda: D.decode_dna(np.zeros((1, 5, 3))), r"\(n, 4, length\)")])
def test_more_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("n", [7, 8, 101])
def test_moons_and_circles_share_the_classes_as_scikit_learn_does(n):
    sklearn = pytest.importorskip("sklearn.datasets")
    for ours, theirs in ((D.moons, sklearn.make_moons),
                         (D.circles, sklearn.make_circles)):
        assert np.bincount(ours(n, seed=0)[1]).tolist() == \
            np.bincount(theirs(n, random_state=0)[1]).tolist()


@pytest.mark.parametrize("X", [np.zeros((1, 4, 5)), np.full((1, 4, 5), 0.3),
                               -np.eye(4)[None], 2 * np.eye(4)[None]])
def test_decode_dna_refuses_what_is_not_one_hot(X):
    with pytest.raises(ValueError, match=r"one-hot.*a single 1 at each position; "
                                         r"sequence 0, position 0 holds \["):
        D.decode_dna(X)
