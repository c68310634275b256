import collections
import itertools
import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from nnlab import datasets as D
from tests.helpers import peak_bytes


@pytest.mark.parametrize("name,y", [("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1]),
                                    ("nand", [1, 1, 1, 0]), ("xor", [0, 1, 1, 0])])
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


def test_circles_radii_without_noise():
    X, y = D.circles(100, noise=0.0, factor=0.3, seed=0)
    r = np.hypot(*X.T)
    np.testing.assert_allclose(r[y == 0], 1.0)
    np.testing.assert_allclose(r[y == 1], 0.3)


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


@given(st.integers(5, 60), st.floats(0.1, 0.9), st.integers(0, 10))
def test_split_partitions_the_data(n, test_size, seed):
    assume(1 <= math.ceil(round(test_size * n, 6)) <= n - 1)
    X = np.arange(2 * n).reshape(n, 2)
    y = np.arange(n)
    Xtr, Xte, ytr, yte = D.train_test_split(X, y, test_size=test_size, seed=seed)
    assert sorted(np.concatenate([ytr, yte]).tolist()) == list(range(n))
    assert np.array_equal(Xtr[:, 0] // 2, ytr) and np.array_equal(Xte[:, 0] // 2, yte)


def test_stratified_split_keeps_proportions():
    y = np.array([0] * 80 + [1] * 20)
    _, _, ytr, yte = D.train_test_split(np.zeros((100, 1)), y, 0.25, seed=0, stratify=True)
    assert yte.sum() == 5 and ytr.sum() == 15


@given(st.lists(st.integers(2, 40), min_size=1, max_size=12), st.floats(0.05, 0.95),
       st.integers(0, 10))
def test_stratified_split_shares_the_test_size_out_exactly(sizes, test_size, seed):
    n = sum(sizes)
    n_test = math.ceil(round(test_size * n, 6))
    assume(len(sizes) <= n_test <= n - len(sizes))   # as many in each part as classes
    y = np.repeat(np.arange(len(sizes)), sizes)
    _, _, ytr, yte = D.train_test_split(np.zeros((n, 1)), y, test_size, seed=seed,
                                        stratify=True)
    unstratified = D.train_test_split(np.zeros((n, 1)), y, test_size, seed=seed)[3]
    assert len(yte) == len(unstratified) and len(ytr) + len(yte) == n
    exact = len(yte) * np.array(sizes) / n     # each class within one sample of its share
    assert np.all(np.abs(np.bincount(yte, minlength=len(sizes)) - exact) < 1)


def test_stratified_split_of_many_small_classes():
    # Ten classes of 5, a quarter each: rounding 1.25 per class gave 10 test samples, not 13.
    y = np.repeat(np.arange(10), 5)
    _, _, _, yte = D.train_test_split(np.zeros((50, 1)), y, 0.25, seed=0, stratify=True)
    assert len(yte) == 13 and sorted(np.bincount(yte).tolist()) == [1] * 7 + [2] * 3


def test_split_sizes_ignore_floating_point_noise():
    # 0.07 * 100 is 7.000000000000001 in floating point, and 0.3 * 300 is 90.00000000000001
    # for 1 - 0.7: a plain ceil (scikit-learn's) would take 8 and 91 test samples.
    for n, test_size, expected in [(100, 0.07, 7), (300, 1 - 0.7, 90)]:
        parts = D.train_test_split(np.zeros((n, 1)), np.arange(n) % 2, test_size, seed=0)
        assert len(parts[1]) == expected and len(parts[0]) == n - expected


@given(st.integers(2, 300), st.floats(0.01, 0.99), st.booleans())
def test_split_sizes_are_those_of_scikit_learn(n, test_size, stratify):
    sklearn_split = pytest.importorskip("sklearn.model_selection").train_test_split
    y = np.arange(n) % 2
    n_test = math.ceil(test_size * n)
    assume(n_test == math.ceil(round(test_size * n, 6)))   # no floating-point noise
    # scikit-learn's stratified split wants every class in both parts; nnlab's does not
    assume(2 <= n_test <= n - 2 if stratify else 1 <= n_test <= n - 1)
    ours = D.train_test_split(np.zeros((n, 1)), y, test_size, seed=0, stratify=stratify)
    theirs = sklearn_split(np.zeros((n, 1)), y, test_size=test_size, random_state=0,
                           stratify=y if stratify else None)
    assert [len(a) for a in ours] == [len(a) for a in theirs]


@pytest.mark.parametrize("n", [2, 3, 5, 7, 10, 11, 33, 100, 101, 300, 1000])
def test_split_sizes_over_a_grid_are_those_of_scikit_learn(n):
    sklearn_split = pytest.importorskip("sklearn.model_selection").train_test_split
    for test_size in [1e-9, 1e-4, 0.01, 0.05, 0.07, 0.1, 0.15, 0.2, 0.25, 1 - 0.7, 1 / 3, 0.5,
                      0.6, 2 / 3, 0.7, 0.75, 0.9, 0.95, 0.99, 0.999, 1 - 1e-9]:
        X, y = np.zeros((n, 1)), np.arange(n)
        try:
            theirs = [len(a) for a in sklearn_split(X, y, test_size=test_size, random_state=0)]
        except ValueError:   # a part would be empty
            with pytest.raises(ValueError, match="leaves the training part empty"):
                D.train_test_split(X, y, test_size=test_size, seed=0)
            continue
        ours = [len(a) for a in D.train_test_split(X, y, test_size=test_size, seed=0)]
        product = test_size * n
        if product > 1 and 0 < product % 1 < 5e-7:   # floating-point noise, dropped by nnlab
            assert ours == [theirs[0] + 1, theirs[1] - 1] * 2, (n, test_size)
        else:
            assert ours == theirs, (n, test_size)


@pytest.mark.parametrize("test_size, stratify", [(0.95, False), (0.9999999, False),
                                                 (9, True), (0.05, True)])
def test_a_refused_split_leaves_the_generator_untouched(test_size, stratify):
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    with pytest.raises(ValueError, match=r"empty|fewer than the 2 classes"):
        D.train_test_split(np.zeros((10, 1)), np.arange(10) % 2, test_size=test_size,
                           seed=rng, stratify=stratify)
    assert rng.bit_generator.state == state


def test_a_stratified_split_can_leave_a_small_class_out_of_a_part_as_scikit_learn_does():
    sklearn_split = pytest.importorskip("sklearn.model_selection").train_test_split
    X, y = np.zeros((100, 1)), np.repeat([0, 1], [2, 98])
    *_, y_test = D.train_test_split(X, y, test_size=0.1, seed=0, stratify=True)
    *_, their_test = sklearn_split(X, y, test_size=0.1, random_state=0, stratify=y)
    assert np.bincount(y_test, minlength=2).tolist() == [0, 10]
    assert np.bincount(their_test, minlength=2).tolist() == [0, 10]
    with pytest.raises(ValueError, match="each part needs at least as many samples as there "
                                         "are classes"):
        D.train_test_split(X, y, test_size=1, seed=0, stratify=True)


@given(st.integers(3, 300), st.data())
def test_an_integer_test_size_is_a_number_of_samples(n, data):
    n_test = data.draw(st.integers(1, n - 1))
    stratify = data.draw(st.booleans()) and 2 <= n_test <= n - 2
    parts = D.train_test_split(np.zeros((n, 1)), np.arange(n) % 2, n_test, seed=0,
                               stratify=stratify)
    assert [len(a) for a in parts] == [n - n_test, n_test] * 2
    sklearn_split = pytest.importorskip("sklearn.model_selection").train_test_split
    theirs = sklearn_split(np.zeros((n, 1)), test_size=n_test, random_state=0)
    assert [len(a) for a in theirs] == [n - n_test, n_test]


@pytest.mark.parametrize("test_size", [0, 10, -1])
def test_an_integer_test_size_must_leave_both_parts_samples(test_size):
    with pytest.raises(ValueError, match=r"test_size \(a number of samples\) must be in "
                                         rf"\[1, 9\]; got {test_size}"):
        D.train_test_split(np.zeros((10, 1)), np.zeros(10), test_size)


def test_split_length_mismatch():
    with pytest.raises(ValueError, match="same length; got 3 and 2"):
        D.train_test_split(np.zeros((3, 1)), np.zeros(2))


def test_one_hot():
    np.testing.assert_array_equal(D.one_hot([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(ValueError, match=r"labels must be in \[0, 2\]"):
        D.one_hot([3], 3)
    with pytest.raises(ValueError, match="integer labels"):
        D.one_hot([0.5])
    assert D.one_hot([], 3).shape == (0, 3)
    with pytest.raises(ValueError, match=r"no labels.*pass n_classes"):
        D.one_hot([])


def test_standardize_uses_training_statistics():
    rng = np.random.default_rng(0)
    train, test = rng.normal(5, 3, (100, 3)), rng.normal(5, 3, (20, 3))
    train[:, 2] = 7.0
    s_train, s_test = D.standardize(train, test)
    np.testing.assert_allclose(s_train[:, :2].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(s_train[:, :2].std(axis=0), 1)
    np.testing.assert_allclose(s_train[:, 2], 0)
    np.testing.assert_allclose(s_test[:, 0], (test[:, 0] - train[:, 0].mean()) / train[:, 0].std())


@given(st.integers(1, 50), st.integers(1, 20))
def test_batches_cover_everything_once(n, size):
    X, y = np.arange(n)[:, None], np.arange(n)
    seen = [yb for _, yb in D.batches(X, y, size, seed=0)]
    assert sorted(np.concatenate(seen).tolist()) == list(range(n))
    assert all(len(b) == size for b in seen[:-1])


# Input validation: bad input is a ValueError naming the argument, raised at the call,
# never a raw NumPy error, a MemoryError, a RuntimeWarning or a silent wrong answer.

def test_one_hot_allocates_only_its_result():
    out, peak = peak_bytes(lambda: D.one_hot([0, 200_000]))   # np.eye(200001): 298 GiB
    assert out.shape == (2, 200_001) and out.sum() == 2 and out[1, 200_000] == 1
    assert peak < 10 * out.nbytes


@pytest.mark.parametrize("y,n_classes,match", [
    (["a", "b"], None, "integer labels"), ([0, np.inf], None, "integer labels"),
    ([[0, 1], [2]], None, "y must be an array"),
    ([1e300], None, "MAX_VALUES"), ([0, 10**12], None, "np.unique"),
    (np.arange(20_000), 20_000, "MAX_VALUES"), ([-1], None, r"labels must be in \[0, 0\]")])
def test_one_hot_rejects_what_is_no_class_index(y, n_classes, match):
    with pytest.raises(ValueError, match=match):
        D.one_hot(y, n_classes)


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


@pytest.mark.parametrize("X,y,kwargs,match", [
    (np.zeros((10, 2)), np.zeros((10, 2, 2)), dict(stratify=True), "stratify needs"),
    (np.zeros((4, 2)), [0.1, 0.2, 0.3, 0.4], dict(stratify=True), "stratify needs"),
    (np.zeros((4, 2)), [0, 1, np.nan, 1], dict(stratify=True), "stratify needs"),
    (np.zeros((4, 2)), np.ones((4, 2)), dict(stratify=True), "stratify needs"),
    (np.zeros((4, 2)), [0, 1, 0, 1], dict(stratify="no"), "stratify must be True or False"),
    (np.zeros((5, 2)), [0, 0, 1, 1, 2], dict(stratify=True), "class 2 has one sample"),
    (5, 5, {}, "X must be an array"), ([[1, 2], [3]], [0, 1], {}, "X must be an array"),
    (np.zeros((2, 2)), [0, 1], dict(test_size=0.6), "leaves the training part empty with 2 "
                                                      "samples")])
def test_split_bad_arguments(X, y, kwargs, match):
    with pytest.raises(ValueError, match=match):
        D.train_test_split(X, y, **kwargs)


def test_stratified_split_of_a_label_column():
    y = np.array([0] * 80 + [1] * 20)[:, None]
    _, _, ytr, yte = D.train_test_split(np.zeros((100, 1)), y, 0.25, seed=0, stratify=True)
    assert yte.sum() == 5 and ytr.sum() == 15


@pytest.mark.parametrize("arrays,match", [
    ((np.zeros((0, 2)),), "at least one row"), ((np.zeros((3, 0)),), "at least one row"),
    (([[1e200], [0.0]],), "X_train overflows"), (([[0.0], [1e-150]], [[1e300]]), "array 1"),
    (([[0.0, 1.0]], [[1.0]]), "array 1 has 1 columns; X_train has 2")])
def test_standardize_bad_input(arrays, match):
    with pytest.raises(ValueError, match=match):
        D.standardize(*arrays)


@pytest.mark.parametrize("args,kwargs,match", [
    ((np.zeros(3), np.zeros(2)), {}, "same length"), ((5, 5), {}, "X must be an array"),
    ((np.zeros(3), np.zeros(3), 0), {}, "batch_size"),
    ((np.zeros(3), np.zeros(3)), dict(shuffle="no"), "shuffle"),
    ((np.zeros(3), np.zeros(3)), dict(shuffle=False, seed=1.5), "seed"),
    ((np.zeros(0), np.zeros(0)), {}, "no samples")])
def test_batches_checks_at_the_call(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        D.batches(*args, **kwargs)                     # no next(): the call itself raises


@pytest.mark.parametrize("value", [0.1, 1 / 3, 123.456, 0.0])
def test_standardize_only_centres_a_constant_column(value):
    train = np.column_stack([np.full(10, value), np.arange(10.0)])
    scaled, new = D.standardize(train, [[value + 0.1, 3.0]])
    assert np.abs(scaled[:, 0]).max() < 1e-12   # not +-1, which dividing by 1e-17 gives
    assert new[0, 0] == pytest.approx(0.1)


def near_constant_columns(dtype):
    """Columns constant but for rounding, in ``dtype``, alone and next to other columns.
    Each first column is constant in exact arithmetic: 0.1 + 0.2 (0.1 + 0.6 in float32)
    misses 0.3 (0.7) by one unit in the last place, and the rows of p / p.sum() do not
    sum to 1 exactly."""
    one, two, total = (0.1, 0.2, 0.3) if dtype == np.float64 else (0.1, 0.6, 0.7)
    pattern = np.array([total, dtype(one) + dtype(two)] * 3 + [total], dtype=dtype)
    p = np.random.default_rng(0).random((50, 4)).astype(dtype)
    return [pattern[:3, None],
            np.column_stack([(p / p.sum(axis=1, keepdims=True)).sum(axis=1), p[:, 0]]),
            np.column_stack([pattern, np.full(7, 0.1, dtype), np.arange(7, dtype=dtype)])]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("i", range(3))
def test_standardize_treats_near_constant_columns_as_scikit_learn_does(i, dtype):
    scaler = pytest.importorskip("sklearn.preprocessing").StandardScaler
    X = near_constant_columns(dtype)[i]
    assert X.dtype == dtype and X[:, 0].max() != X[:, 0].min()
    ours, theirs = D.standardize(X), scaler().fit_transform(X)
    assert ours.dtype == theirs.dtype == dtype
    if dtype == np.float64:
        np.testing.assert_allclose(ours, theirs, atol=1e-12)
    else:
        # scikit-learn computes float32 statistics in float64 and its bound with float64's
        # epsilon, below float32's rounding: it divides the first column by its rounding
        # errors. nnlab's bound also admits a spread within the spacing of float32's numbers.
        assert np.abs(ours[:, 0]).max() < 1e-6
        np.testing.assert_allclose(ours[:, 1:], theirs[:, 1:], rtol=1e-5, atol=1e-6)


def test_standardize_scales_a_float32_column_of_small_relative_spread():
    # A year, 2000 +- 10 over 50000 rows: its spread is 0.5 % of its mean, below n times
    # float32's epsilon, and the bound taken in float32 left the column unscaled (std 10).
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(2000, 10, 50_000), rng.normal(0, 1, 50_000)])
    ours = D.standardize(X.astype(np.float32))
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours.std(axis=0, dtype=np.float64), 1, atol=1e-5)
    np.testing.assert_allclose(ours.mean(axis=0, dtype=np.float64), 0, atol=1e-5)


def test_standardize_keeps_the_dtype_of_each_array():
    train64, train32 = np.arange(6.0).reshape(3, 2), np.arange(6, dtype=np.float32).reshape(3, 2)
    for train in (train64, train32, np.arange(6).reshape(3, 2)):
        out = D.standardize(train, train32, train64, np.arange(4).reshape(2, 2))
        assert [a.dtype for a in out] == [np.float64 if train.dtype != np.float32 else
                                          np.float32, np.float32, np.float64, np.float64]
        np.testing.assert_allclose(out[1], out[2], rtol=1e-6)


@pytest.mark.parametrize("n", [7, 8, 101])
def test_moons_and_circles_share_the_classes_as_scikit_learn_does(n):
    sklearn = pytest.importorskip("sklearn.datasets")
    for ours, theirs in ((D.moons, sklearn.make_moons),
                         (D.circles, sklearn.make_circles)):
        assert np.bincount(ours(n, seed=0)[1]).tolist() == \
            np.bincount(theirs(n, random_state=0)[1]).tolist()


@pytest.mark.parametrize("test_size,part", [(2, "test"), (0.7, "training")])
def test_a_stratified_split_needs_as_many_samples_in_each_part_as_classes(test_size, part):
    X, y = np.arange(12.0)[:, None], np.repeat(np.arange(4), 3)
    with pytest.raises(ValueError, match=f"the {part} part would hold"):
        D.train_test_split(X, y, test_size=test_size, stratify=True, seed=0)
    *_, y_train, y_test = D.train_test_split(X, y, test_size=4, stratify=True, seed=0)
    assert set(y_train) == set(y_test) == {0, 1, 2, 3}


def test_standardize_float32_data_with_a_large_offset_matches_float64():
    # Near 1e4, float32 sums of 60000 rows drift by most of a standard deviation, and
    # the mean rounded to float32 is off by up to 5e-4: both are taken out.
    rng = np.random.default_rng(0)
    X = (1e4 + rng.normal(size=(60_000, 2))).astype(np.float32)
    exact = X.astype(np.float64)
    expected = (exact - exact.mean(axis=0)) / exact.std(axis=0)
    np.testing.assert_allclose(D.standardize(X), expected, atol=2e-6)


def test_standardize_float64_mean_is_refined_by_a_second_pass():
    # Summed row after row, the mean of a million values near 1e9 is off by up to 1e-5;
    # the mean of the centered values takes that out.
    rng = np.random.default_rng(0)
    X = 1e9 + rng.normal(size=(1_000_000, 2))
    np.testing.assert_allclose(D.standardize(X).mean(axis=0), 0, atol=1e-6)
