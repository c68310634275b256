"""Tests of nnlab.losses: gradients against central differences, closed forms and the
lecture's formulas, and what each loss does with a confident wrong prediction."""

import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from nnlab.losses import (
    MAE,
    MSE,
    BinaryCrossEntropy,
    CategoricalCrossEntropy,
    CategoricalHinge,
    Hinge,
    Huber,
    KLDivergence,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    MulticlassHinge,
)
from tests.helpers import numerical_gradient
from tests.loss_cases import EPS, KINDS, make_case, softmax


def relative_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12)


def away_from_kinks(loss, y_pred, y_true):
    if isinstance(loss, MulticlassHinge):
        s, y = loss.check(y_pred, y_true)
        gaps = (s - np.sum(s * y, axis=1, keepdims=True) + 1)[y == 0]
        return np.min(np.abs(gaps)) > 1e-3
    if isinstance(loss, CategoricalHinge):   # the margin, and ties for the best wrong score
        s, y = loss.check(y_pred, y_true)
        wrong = np.sort(np.where(y == 0, s, 0.0), axis=1)
        margin = wrong[:, -1] - np.sum(s * y, axis=1) + 1
        return min(np.min(np.abs(margin)), np.min(wrong[:, -1] - wrong[:, -2])) > 1e-3
    if isinstance(loss, Hinge):
        return np.min(np.abs(1 - y_true * y_pred)) > 1e-3
    if isinstance(loss, MAE | MeanAbsolutePercentageError):
        return np.min(np.abs(y_pred - y_true)) > 1e-3
    if isinstance(loss, MeanSquaredLogarithmicError):
        return np.min(np.abs(y_pred - EPS)) > 1e-3
    if isinstance(loss, Huber):   # the slope is continuous there, but not its derivative
        return np.min(np.abs(np.abs(y_pred - y_true) - loss.delta)) > 1e-3
    return True


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=15)
@given(n=st.integers(1, 6), k=st.integers(2, 5), seed=st.integers(0, 2**32 - 1))
def test_gradient_matches_central_differences(kind, n, k, seed):
    loss, y_pred, y_true = make_case(kind, n, k, np.random.default_rng(seed))
    assume(away_from_kinks(loss, y_pred, y_true))
    analytic = loss.gradient(y_pred, y_true)
    numeric = numerical_gradient(lambda x: loss(x, y_true), y_pred)
    assert analytic.shape == y_pred.shape
    assert relative_error(analytic, numeric) < 1e-6


# -- golden values: closed forms and the lecture's formulas ------------------------------

def test_mse_closed_form():
    y_pred, y_true = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.0, 2.0], [3.0, 6.0]])
    assert MSE()(y_pred, y_true) == pytest.approx(5 / 4)
    np.testing.assert_allclose(MSE().gradient(y_pred, y_true), [[0.5, 0], [0, -1]])


def test_huber_by_hand_on_both_pieces_and_the_seam():
    # errors 0.5, -3, 2, 1: with delta 1, 0.5 is quadratic, -3 and 2 linear, 1 on the seam
    y_true = np.array([[1.0, 2.0], [-1.0, 0.5]])
    y_pred = np.array([[1.5, -1.0], [1.0, 1.5]])
    assert Huber()(y_pred, y_true) == (0.125 + 2.5 + 1.5 + 0.5) / 4
    np.testing.assert_array_equal(Huber().gradient(y_pred, y_true),
                                  [[0.125, -0.25], [0.25, 0.25]])
    # with delta 2 only -3 is linear, 2 * (3 - 1) = 4; 2 is on the seam, 2^2 / 2 = 2
    assert Huber(delta=2.0)(y_pred, y_true) == (0.125 + 4 + 2 + 0.5) / 4
    np.testing.assert_array_equal(Huber(delta=2.0).gradient(y_pred, y_true),
                                  [[0.125, -0.5], [0.5, 0.25]])


def test_huber_reduces_as_keras_documents():
    # keras.losses.Huber's docstring: these two rows give 0.155 (each row's mean, then the
    # mean over the rows: for rows of equal length, the mean over every element)
    assert Huber()([[0.6, 0.4], [0.4, 0.6]], [[0, 1], [0, 0]]) == pytest.approx(0.155)


@given(seed=st.integers(0, 2**32 - 1))
def test_huber_is_half_mse_below_delta_and_delta_times_mae_above(seed):
    errors = np.random.default_rng(seed).normal(size=(5, 2))
    y_pred, y_true = errors + 1.0, np.ones((5, 2))
    near = Huber(delta=np.abs(errors).max() + 1e-9)
    assert near(y_pred, y_true) == pytest.approx(MSE()(y_pred, y_true) / 2)
    np.testing.assert_allclose(near.gradient(y_pred, y_true), MSE().gradient(y_pred, y_true) / 2)
    delta = np.abs(errors).min() / 2
    assume(delta > 1e-6)
    far = Huber(delta=delta)
    assert far(y_pred, y_true) == pytest.approx(delta * (MAE()(y_pred, y_true) - delta / 2))
    np.testing.assert_allclose(far.gradient(y_pred, y_true),
                               delta * MAE().gradient(y_pred, y_true))


def test_huber_of_huge_errors_is_exact_and_quiet():
    for dtype in (np.float32, np.float64):
        y_pred, y_true = np.array([1e4, -1e4, 0.5], dtype), np.array([-1e4, 1e4, 0.0])
        with np.errstate(all="raise"):
            value, grad = Huber()(y_pred, y_true), Huber().gradient(y_pred, y_true)
        assert value == pytest.approx((19999.5 * 2 + 0.125) / 3, rel=1e-7)   # float32's mean
        np.testing.assert_array_equal(grad, np.array([1, -1, 0.5], dtype) / 3)
        assert grad.dtype == dtype


def test_binary_crossentropy_lecture_formula():
    p, y = np.array([0.8, 0.3, 0.6]), np.array([1.0, 0.0, 1.0])
    per_sample = -(y * np.log(p) + (1 - y) * np.log(1 - p))  # the lecture's formula
    assert BinaryCrossEntropy()(p, y) == pytest.approx(per_sample.mean())
    z = np.log(p / (1 - p))
    assert BinaryCrossEntropy(from_logits=True)(z, y) == pytest.approx(per_sample.mean())
    np.testing.assert_allclose(BinaryCrossEntropy(from_logits=True).gradient(z, y), (p - y) / 3)


def test_categorical_crossentropy_lecture_formula():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    y = np.array([[1, 0, 0], [0, 1, 0]])
    expected = np.mean(-np.sum(y * np.log(p), axis=1))  # -sum_c y_oc log p_oc, mean over o
    assert CategoricalCrossEntropy()(p, y) == pytest.approx(expected)
    assert expected == pytest.approx((-np.log(0.7) - np.log(0.1)) / 2)


def test_categorical_crossentropy_from_logits_is_softmax_then_crossentropy():
    z = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]])
    y = np.array([2, 1])
    logits = CategoricalCrossEntropy(from_logits=True)
    assert logits(z, y) == pytest.approx(CategoricalCrossEntropy()(softmax(z), y))
    np.testing.assert_allclose(logits.gradient(z, y), (softmax(z) - np.eye(3)[y]) / 2)


def test_kl_divergence_lecture_formula_and_identities():
    p = np.array([[0.2, 0.5, 0.3], [0.6, 0.4, 0.0]])  # y_true, with a zero: 0 log 0 = 0
    q = np.array([[0.3, 0.3, 0.4], [0.5, 0.25, 0.25]])  # y_pred
    terms = np.where(p > 0, p * np.log(np.where(p > 0, p / q, 1)), 0)
    kld = KLDivergence()
    assert kld(q, p) == pytest.approx(terms.sum(axis=1).mean())
    entropy = -np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1)), 0), axis=1).mean()
    assert kld(q, p) == pytest.approx(CategoricalCrossEntropy()(q, p) - entropy)
    np.testing.assert_allclose(kld.gradient(q, p), CategoricalCrossEntropy().gradient(q, p))
    assert kld(p[:1], p[:1]) == 0.0
    assert kld(q, p) != pytest.approx(kld(p, q))  # not symmetric: argument order matters


def test_hinge_closed_form_and_sklearn():
    from sklearn.metrics import hinge_loss

    s, y = np.array([2.0, 0.5, -0.3, -4.0]), np.array([1, 1, -1, 1])
    assert Hinge()(s, y) == pytest.approx((0 + 0.5 + 0.7 + 5) / 4)
    assert Hinge()(s, y) == pytest.approx(hinge_loss(y, s))
    np.testing.assert_allclose(Hinge().gradient(s, y), [0, -0.25, 0.25, -0.25])


def test_multiclass_hinge_cs231n_example():
    # CS231n's three images (cat, car, frog) with their class scores (cat, car, frog)
    scores = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
    mh = MulticlassHinge()
    assert mh(scores, [0, 1, 2]) == pytest.approx((2.9 + 0 + 12.9) / 3)
    np.testing.assert_allclose(mh.gradient(scores, [0, 1, 2]),
                               np.array([[-1, 1, 0], [0, 0, 0], [1, 1, -2]]) / 3)


def test_hinge_kinks_take_the_zero_subgradient():
    assert np.all(Hinge().gradient([1.0, -1.0], [1, -1]) == 0)  # y s = 1: margin just met
    # the car score is exactly 1 below the cat score: no violation, so no gradient
    np.testing.assert_array_equal(MulticlassHinge().gradient([[3.0, 2.0]], [0]), [[0, 0]])


@given(n=st.integers(1, 6), k=st.integers(2, 6), seed=st.integers(0, 2**32 - 1))
def test_properties_nonnegative_and_shift_invariant(n, k, seed):
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=3, size=(n, k))
    p, q = rng.dirichlet(np.ones(k), size=n), softmax(z)
    assert KLDivergence()(q, p) >= -1e-12  # Gibbs' inequality
    cce = CategoricalCrossEntropy(from_logits=True)
    labels = rng.integers(0, k, n)
    assert cce(z, labels) >= 0
    assert cce(z + rng.normal(size=(n, 1)), labels) == pytest.approx(cce(z, labels))
    np.testing.assert_allclose(cce.gradient(z, labels).sum(axis=1), 0, atol=1e-12)


# -- what each loss does with a confident wrong prediction ------------------------------

def test_crossentropy_on_probabilities_grows_without_bound_until_clipping():
    cce, bce = CategoricalCrossEntropy(), BinaryCrossEntropy()
    values = [cce([[p, 1 - p]], [0]) for p in 10.0 ** -np.arange(1, 7)]
    np.testing.assert_allclose(values, np.arange(1, 7) * np.log(10), rtol=1e-5)
    assert bce([10.0**-6], [1]) == pytest.approx(6 * np.log(10), rel=1e-5)
    for p in (1e-9, 0.0):  # clipped at EPSILON: the cost stops growing, the gradient vanishes
        assert cce([[p, 1 - p]], [0]) == pytest.approx(-np.log(EPS))
        assert bce([p], [1]) == pytest.approx(-np.log(EPS))
        assert np.all(cce.gradient([[p, 1 - p]], [0]) == 0)
        assert np.all(bce.gradient([p], [1]) == 0)


def test_kl_divergence_gives_no_gradient_where_it_clips_the_prediction():
    # As Keras, q is clipped below only, at EPSILON: there the cost is flat and its slope
    # 0, not -p / EPSILON; q near 1 is no edge of log q and keeps its slope.
    kld = KLDivergence()
    for p in (1e-9, 0.0):
        np.testing.assert_array_equal(kld.gradient([[p, 1 - p]], [[0.5, 0.5]]),
                                      [[0.0, -0.5 / (1 - p)]])
    # The outputs that are not clipped keep their -p / q / N.
    np.testing.assert_allclose(kld.gradient([[0.0, 0.3, 0.7]], [[0.2, 0.4, 0.4]]),
                               [[0.0, -0.4 / 0.3, -0.4 / 0.7]], rtol=1e-15)


def test_confident_wrong_logits_crossentropy_and_hinge_grow_linearly_mse_stays_bounded():
    t = np.array([1.0, 10.0, 100.0, 1e4])
    cce = [CategoricalCrossEntropy(from_logits=True)([[-s, s]], [0]) for s in t]
    bce = [BinaryCrossEntropy(from_logits=True)([-s], [1]) for s in t]
    hinge = [Hinge()([-s], [1]) for s in t]
    mh = [MulticlassHinge()([[-s, s]], [0]) for s in t]
    np.testing.assert_allclose(cce[1:], 2 * t[1:], rtol=1e-6)
    np.testing.assert_allclose(bce[1:], t[1:], rtol=1e-4)
    np.testing.assert_allclose(hinge, 1 + t)
    np.testing.assert_allclose(mh, 1 + 2 * t)
    # the gradient of a linear penalty stays bounded: no explosion from the loss itself
    assert np.allclose(Hinge().gradient([-1e4], [1]), -1)
    np.testing.assert_allclose(CategoricalCrossEntropy(True).gradient([[-1e4, 1e4]], [0]),
                               [[-1, 1]])
    # MSE on probabilities: the worst prediction costs 1 with gradient -2, no more
    mse = [MSE()([p], [1.0]) for p in (0.5, 1e-3, 0.0)]
    assert mse == sorted(mse) and mse[-1] == 1.0
    np.testing.assert_allclose(MSE().gradient([0.0], [1.0]), [-2.0])


def test_one_sample_of_a_rowwise_loss_takes_its_row_or_its_label_only():
    cce, p = CategoricalCrossEntropy(), np.full(4, 0.25)
    for y_true in ([0, 1, 0, 0], [[0, 1, 0, 0]], 1):
        assert cce(p, y_true) == pytest.approx(np.log(4))
    # Four labels in a column are four samples, not the row of the one sample of p.
    with pytest.raises(ValueError, match=r"one sample, so y_true must be its row, of shape "
                                         r"\(4,\), or its label; got shape \(4, 1\)"):
        cce(p, [[0], [1], [1], [0]])


def test_targets_beyond_float32_are_refused_not_cast_to_inf():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"MSE\(\): y_true holds 1 value\(s\) beyond float32"):
            MSE()(np.ones(2, np.float32), np.array([1e39, 1.0]))



@pytest.mark.parametrize("loss", [MulticlassHinge(), CategoricalHinge()])
def test_a_target_row_that_is_not_one_hot_is_shown_in_the_error(loss):
    # The message said "got a row that is not": the reader had to find the row.
    rows = np.array([[1.0, 0.0], [0.7, 0.3], [1.0, 1.0]])
    with pytest.raises(ValueError, match=r"must be one-hot .*; got row 1, \[0\.7 0\.3\]"):
        loss(np.zeros((3, 2)), rows)
