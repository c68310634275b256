"""one_hot, standardize and batches: their results, the memory they take, their rounding
in float32 and float64, and their checks of the input."""


import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnlab import datasets as D
from tests.helpers import peak_bytes


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


def test_batches_shuffle_by_the_seed_and_keep_the_order_without_shuffle():
    X, y = np.arange(20)[:, None] * 10, np.arange(20)

    def order(**kwargs):
        pairs = list(D.batches(X, y, 8, **kwargs))
        assert all(np.array_equal(xb[:, 0], 10 * yb) for xb, yb in pairs)   # rows stay paired
        return np.concatenate([yb for _, yb in pairs])

    shuffled = order(seed=0)
    assert sorted(shuffled.tolist()) == list(range(20))
    assert not np.array_equal(shuffled, np.arange(20))
    np.testing.assert_array_equal(order(seed=0), shuffled)
    np.testing.assert_array_equal(order(shuffle=False), np.arange(20))


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


def test_standardize_a_float32_spread_whose_squares_overflow():
    # Its float32 squares overflowed, and the message blamed the standardized data, which fits.
    x = np.array([[2e19], [-2e19], [0.0]], np.float32)
    scaled = D.standardize(x)
    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaled.ravel(), [1.5**0.5, -(1.5**0.5), 0.0], rtol=1e-6)
