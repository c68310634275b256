"""train_test_split: its parts partition the data, stratified or not, in the sizes
scikit-learn gives, and what it cannot split is refused at the call."""

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from nnlab import datasets as D


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


def test_one_hot_rows_are_stratified_by_their_class_as_labels_are():
    # Nothing held the one-hot path to the labels' (its first column alone passed every test).
    y = np.repeat([0, 1, 2], [30, 12, 18])
    X = np.arange(60.0)[:, None]
    by_label = D.train_test_split(X, y, 0.25, seed=3, stratify=True)
    by_row = D.train_test_split(X, np.eye(3)[y], 0.25, seed=3, stratify=True)
    np.testing.assert_array_equal(by_row[1], by_label[1])
    np.testing.assert_array_equal(by_row[3].argmax(axis=1), by_label[3])
    assert np.bincount(by_label[3]).tolist() == [8, 3, 4]   # a quarter of each class, rounded


def test_a_stratified_split_shuffles_each_part():
    # Not class after class: a part in class order trains on one class at a time.
    y = np.repeat([0, 1, 2], 20)
    _, _, ytr, yte = D.train_test_split(np.zeros((60, 1)), y, 0.5, seed=0, stratify=True)
    assert np.any(np.diff(ytr) < 0) and np.any(np.diff(yte) < 0)


def test_a_stratified_split_draws_the_test_samples_at_random_within_each_class():
    X, y = np.arange(40)[:, None], np.repeat([0, 1], 20)
    parts = {frozenset(D.train_test_split(X, y, 0.25, seed=seed, stratify=True)[1][:, 0].tolist())
             for seed in range(5)}
    assert len(parts) == 5   # five seeds, five different test parts


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


# Input validation: bad input is a ValueError naming the argument, raised at the call,
# never a raw NumPy error, a MemoryError, a RuntimeWarning or a silent wrong answer.

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


@pytest.mark.parametrize("test_size,part", [(2, "test"), (0.7, "training")])
def test_a_stratified_split_needs_as_many_samples_in_each_part_as_classes(test_size, part):
    X, y = np.arange(12.0)[:, None], np.repeat(np.arange(4), 3)
    with pytest.raises(ValueError, match=f"the {part} part would hold"):
        D.train_test_split(X, y, test_size=test_size, stratify=True, seed=0)
    *_, y_train, y_test = D.train_test_split(X, y, test_size=4, stratify=True, seed=0)
    assert set(y_train) == set(y_test) == {0, 1, 2, 3}
