"""Tests of nnlab.losses: closed forms, gradients, stability, validation, references."""

import json
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from nnlab import losses, metrics
from nnlab.losses import (
    MAE,
    MSE,
    BinaryCrossEntropy,
    BinaryFocalCrossEntropy,
    CategoricalCrossEntropy,
    CategoricalFocalCrossEntropy,
    CategoricalHinge,
    CosineSimilarity,
    Dice,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    MulticlassHinge,
    Poisson,
    SquaredHinge,
    Tversky,
)

EPS = losses.EPSILON


def numerical_gradient(f, x, h=1e-6):
    """Central differences of the scalar function f at x (float64), element by element."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = f(x)
        x[i] = old - h
        down = f(x)
        x[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad


def relative_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12)


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def make_case(kind, n, k, rng):
    """(loss, y_pred, y_true) away from kinks and clipping, for the gradient checks."""
    scores = rng.normal(scale=2.0, size=(n, k))
    labels = rng.integers(0, k, size=n)
    one_hot = np.eye(k)[labels]
    probs = 0.01 + 0.98 * softmax(scores)
    probs /= probs.sum(axis=1, keepdims=True)
    soft = rng.dirichlet(np.ones(k), size=n)
    if kind == "mse":
        return MSE(), scores, rng.normal(size=(n, k))
    if kind == "mae":
        return MAE(), scores, rng.normal(size=(n, k))
    if kind == "huber":   # errors of about 2: on both sides of delta
        return Huber(delta=0.7), scores, rng.normal(size=(n, k))
    if kind == "bce":
        return BinaryCrossEntropy(), rng.uniform(0.02, 0.98, (n, k)), rng.uniform(0, 1, (n, k))
    if kind == "bce_logits":
        return BinaryCrossEntropy(from_logits=True), scores, rng.integers(0, 2, (n, k))
    if kind == "cce":
        return CategoricalCrossEntropy(), probs, one_hot
    if kind == "cce_soft":
        return CategoricalCrossEntropy(), probs, soft
    if kind == "cce_logits":
        return CategoricalCrossEntropy(from_logits=True), scores, labels
    if kind == "cce_logits_soft":
        return CategoricalCrossEntropy(from_logits=True), scores, soft * 0.7
    if kind == "kld":
        return KLDivergence(), probs, soft
    if kind == "hinge":
        return Hinge(), scores, rng.choice([-1.0, 1.0], size=(n, k))
    if kind == "multiclass_hinge":
        return MulticlassHinge(), scores, labels
    if kind == "log_cosh":
        return LogCosh(), scores, rng.normal(size=(n, k))
    if kind == "poisson":   # rates, and counts
        return Poisson(), rng.uniform(0.1, 5.0, (n, k)), rng.poisson(2.0, (n, k))
    if kind == "msle":      # some predictions below 0: clipped, no gradient
        return MeanSquaredLogarithmicError(), scores, rng.uniform(0, 10, (n, k))
    if kind == "mape":
        return MeanAbsolutePercentageError(), scores, rng.normal(size=(n, k))
    if kind == "squared_hinge":
        return SquaredHinge(), scores, rng.choice([-1.0, 1.0], size=(n, k))
    if kind == "categorical_hinge":
        return CategoricalHinge(), scores, labels
    if kind == "focal":
        return (BinaryFocalCrossEntropy(gamma=1.5), rng.uniform(0.02, 0.98, (n, k)),
                rng.uniform(0, 1, (n, k)))
    if kind == "focal_logits":   # balanced, from logits: torchvision's sigmoid_focal_loss
        return (BinaryFocalCrossEntropy(apply_class_balancing=True, from_logits=True),
                scores, rng.integers(0, 2, (n, k)))
    if kind == "cfce":     # rows that do not sum to 1: Keras divides them by their sum
        return CategoricalFocalCrossEntropy(gamma=1.5), probs * 0.8, labels
    if kind == "cfce_logits":
        return CategoricalFocalCrossEntropy(alpha=0.5, from_logits=True), scores, soft
    if kind == "cosine":
        return CosineSimilarity(), scores, rng.normal(size=(n, k))
    if kind == "dice":
        return Dice(), rng.uniform(0.02, 0.98, (n, k)), rng.uniform(0, 1, (n, k))
    if kind == "tversky":
        return Tversky(0.7, 0.2), rng.uniform(0.02, 0.98, (n, k)), rng.integers(0, 2, (n, k))
    raise AssertionError(kind)


KINDS = ["mse", "mae", "huber", "bce", "bce_logits", "cce", "cce_soft", "cce_logits",
         "cce_logits_soft", "kld", "hinge", "multiclass_hinge", "log_cosh", "poisson", "msle",
         "mape", "squared_hinge", "categorical_hinge", "focal", "focal_logits", "cfce",
         "cfce_logits", "cosine", "dice", "tversky"]


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


# -- numerics: stability at +-1e4, dtypes ----------------------------------------------

ALL_LOSSES = [MSE(), MAE(), Huber(), Huber(delta=0.25), BinaryCrossEntropy(),
              BinaryCrossEntropy(from_logits=True), CategoricalCrossEntropy(),
              CategoricalCrossEntropy(from_logits=True), KLDivergence(), Hinge(), MulticlassHinge(),
              LogCosh(), Poisson(), MeanSquaredLogarithmicError(), MeanAbsolutePercentageError(),
              SquaredHinge(), CategoricalHinge(), BinaryFocalCrossEntropy(),
              BinaryFocalCrossEntropy(gamma=0.5, from_logits=True),
              CategoricalFocalCrossEntropy(), CategoricalFocalCrossEntropy(from_logits=True),
              CosineSimilarity(), Dice(), Tversky(alpha=0.3, beta=0.7)]


def batch_for(loss, dtype, big=False):
    rng = np.random.default_rng(0)
    n, k = 4, 3
    if big:
        scores = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [0.0, 0.0, -1e4], [1e4] * 3])
    else:
        scores = rng.normal(size=(n, k))
    probs = softmax(rng.normal(size=(n, k)))
    labels = np.array([1, 0, 2, 1])
    if isinstance(loss, Hinge | SquaredHinge):
        return scores.astype(dtype), np.where(scores > 0, -1.0, 1.0)
    if isinstance(loss, Poisson):
        return np.abs(scores).astype(dtype), np.array([[0.0, 3.0, 1.0]] * n)
    if isinstance(loss, MSE | MAE | Huber | LogCosh | MeanSquaredLogarithmicError
                  | MeanAbsolutePercentageError):
        return scores.astype(dtype), np.zeros((n, k))
    if isinstance(loss, KLDivergence):
        return probs.astype(dtype), softmax(rng.normal(size=(n, k)))
    if isinstance(loss, CosineSimilarity):
        return scores.astype(dtype), rng.normal(size=(n, k))
    if isinstance(loss, Dice):
        return probs.astype(dtype), (rng.uniform(size=(n, k)) < 0.5).astype(float)
    y_pred = scores if getattr(loss, "from_logits", True) else probs
    if isinstance(loss, BinaryCrossEntropy | BinaryFocalCrossEntropy):
        return y_pred.astype(dtype), (scores < 0).astype(float)
    return y_pred.astype(dtype), labels


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss", ALL_LOSSES, ids=repr)
def test_stable_and_finite_at_huge_scores(loss, dtype):
    y_pred, y_true = batch_for(loss, dtype, big=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            value, grad = loss(y_pred, y_true), loss.gradient(y_pred, y_true)
    assert np.isfinite(value) and np.all(np.isfinite(grad))


#: The losses that take probabilities, which the scores' test above cannot push to 0 and 1.
PROBABILITY_LOSSES = [loss for loss in ALL_LOSSES
                      if getattr(loss, "from_logits", None) is False
                      or isinstance(loss, KLDivergence | Dice)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss", PROBABILITY_LOSSES, ids=repr)
def test_stable_and_finite_at_probabilities_as_near_0_and_1_as_the_dtype_holds(loss, dtype):
    # Exactly 0 and 1, the smallest subnormal and normal numbers, and 1 - epsneg, the
    # largest number below 1: log(0), 0 / 0 and 1 - p = 0 wait at these edges.
    f = np.finfo(dtype)
    tiny, sub, below_1 = float(f.tiny), float(f.smallest_subnormal), 1 - float(f.epsneg)
    y_pred = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [below_1, float(f.epsneg), 0.0],
                       [sub, tiny, 1.0], [0.0, 0.0, 1.0]], dtype=dtype)
    labels = np.array([0, 0, 1, 2, 0])
    if isinstance(loss, BinaryCrossEntropy | BinaryFocalCrossEntropy | Dice):
        y_true = np.eye(3)[labels]
    elif isinstance(loss, KLDivergence):
        y_true = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [below_1, 0.0, 1 - below_1],
                           [0.0, 0.0, 1.0], [1 / 3, 1 / 3, 1 / 3]])
    else:
        y_true = labels
    # Underflow is left as NumPy leaves it (silent): a product of tiny numbers becomes 0.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            value, grad = loss(y_pred, y_true), loss.gradient(y_pred, y_true)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert grad.dtype == dtype


def test_huge_logits_give_exact_values():
    z = np.array([[1e4, -1e4], [-1e4, 1e4]])
    assert CategoricalCrossEntropy(from_logits=True)(z, [0, 0]) == pytest.approx(1e4)
    assert BinaryCrossEntropy(from_logits=True)(z, [[1, 0], [1, 0]]) == pytest.approx(5e3)
    assert BinaryCrossEntropy(from_logits=True)(z, [[1, 0], [0, 1]]) == 0.0


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=repr)
def test_float32_in_float32_gradient_out(loss):
    y_pred, y_true = batch_for(loss, np.float32)
    grad = loss.gradient(y_pred, y_true)
    assert grad.dtype == np.float32
    ref = loss.gradient(y_pred.astype(np.float64), y_true)
    np.testing.assert_allclose(grad, ref, rtol=1e-4, atol=1e-6)
    assert loss(y_pred, y_true) == pytest.approx(loss(y_pred.astype(np.float64), y_true),
                                                 rel=1e-5)
    assert isinstance(loss(y_pred, y_true), float)


# -- target forms ------------------------------------------------------------------------

@pytest.mark.parametrize("loss", [CategoricalCrossEntropy(), CategoricalCrossEntropy(True),
                                  MulticlassHinge()], ids=repr)
def test_integer_labels_equal_one_hot(loss):
    y_pred, labels = batch_for(loss, np.float64)
    one_hot = np.eye(3)[labels]
    for y in (labels, labels.reshape(-1, 1), labels.astype(float), one_hot.astype(int)):
        assert loss(y_pred, y) == loss(y_pred, one_hot)
        np.testing.assert_array_equal(loss.gradient(y_pred, y), loss.gradient(y_pred, one_hot))


def test_column_targets_and_single_samples():
    p = np.array([[0.9], [0.3]])
    bce = BinaryCrossEntropy()
    assert bce(p, [1, 0]) == bce(p, [[1], [0]]) == bce(p.ravel(), [[1], [0]])
    assert bce.gradient(p, [1, 0]).shape == (2, 1)
    cce = CategoricalCrossEntropy()
    assert cce([0.7, 0.2, 0.1], 0) == cce([[0.7, 0.2, 0.1]], [0]) == cce([0.7, 0.2, 0.1],
                                                                           [1, 0, 0])
    assert cce.gradient([0.7, 0.2, 0.1], 0).shape == (3,)
    assert MSE()(3.0, 1.0) == 4.0


def test_check_targets_normalises_the_whole_target_array():
    np.testing.assert_array_equal(MulticlassHinge().check_targets([2, 0], 3),
                                  [[0, 0, 1], [1, 0, 0]])
    assert BinaryCrossEntropy().check_targets([0, 1, 1], 1).shape == (3, 1)
    assert MSE().check_targets(np.zeros((5, 2), np.float32), 2).dtype == np.float32
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        CategoricalCrossEntropy().check_targets([0, 3], 3)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2,\)"):
        MSE().check_targets([1.0, 2.0], 3)
    with pytest.raises(ValueError, match="n_outputs"):
        MSE().check_targets([1.0], 0)
    with pytest.raises(ValueError, match="-1 or \\+1"):
        Hinge().check_targets([1, 0], 1)


# -- bad input -----------------------------------------------------------------------------

P3 = np.full((2, 3), 1 / 3)
BAD = [
    (MSE(), np.ones((3, 2)), np.ones((3, 3)), r"MSE\(\).*\(3, 2\).*\(3, 3\)"),
    (MSE(), np.ones((3, 2)), np.ones(6), r"\(3, 2\).*\(6,\)"),
    (MSE(), [np.nan], [1.0], "NaN"),
    (MSE(), [1.0], [np.inf], "NaN or infinite"),
    (MSE(), np.ones((0, 2)), np.ones((0, 2)), "empty"),
    (MSE(), ["a"], [1.0], "numeric"),
    (Huber(), np.ones((3, 2)), np.ones((3, 3)), r"Huber\(delta=1.0\).*\(3, 2\).*\(3, 3\)"),
    (Huber(delta=2.0), [np.inf], [1.0], r"Huber\(delta=2.0\): y_pred contains 1 NaN"),
    (BinaryCrossEntropy(), [0.5], [2], r"y_true must be in \[0, 1\]"),
    (BinaryCrossEntropy(), [1.5], [1], "from_logits=True"),
    (BinaryCrossEntropy(), [-0.1], [1], r"\[0, 1\]"),
    (CategoricalCrossEntropy(), P3, [0, 5], r"\[0, 2\] for 3 outputs; got 5"),
    (CategoricalCrossEntropy(True), P3, [-1, 0], r"\[0, 2\].*got -1"),
    (CategoricalCrossEntropy(), P3, [0.5, 1], r"integers in \[0, 2\]"),
    (CategoricalCrossEntropy(), P3 * 4, [0, 1], "from_logits=True"),
    (CategoricalCrossEntropy(), P3, np.full((2, 3), 2.0), r"y_true must be in \[0, 1\]"),
    (CategoricalCrossEntropy(), P3, np.eye(2), r"CategoricalCrossEntropy.*\(2, 3\).*\(2, 2\)"),
    (CategoricalCrossEntropy(), P3, [0, 1, 2], r"\(2, 3\).*\(3,\)"),
    (CategoricalCrossEntropy(), np.ones((2, 1)), [0, 0], "at least 2"),
    (CategoricalCrossEntropy(), np.ones((2, 3, 1)), [0, 0], "classes on the last axis"),
    (KLDivergence(), P3, [0, 1], r"KLDivergence.*\(2, 3\).*\(2,\)"),
    (KLDivergence(), P3 * 4, P3, r"y_pred must be in \[0, 1\]"),
    (KLDivergence(), P3, -P3, r"y_true must be in \[0, 1\]"),
    (Hinge(), [0.5], [0], r"-1 or \+1; got 0"),
    (Hinge(), [0.5, 1.0], [1, 2], "got 2"),
    (MulticlassHinge(), P3, [0, 3], r"\[0, 2\]"),
    (MulticlassHinge(), P3, P3, "one-hot"),
    (MulticlassHinge(), [[np.inf, 0]], [0], "NaN or infinite"),
]


@pytest.mark.parametrize(("loss", "y_pred", "y_true", "match"), BAD)
def test_bad_input_raises_value_error_naming_the_problem(loss, y_pred, y_true, match):
    with pytest.raises(ValueError, match=match):
        loss(y_pred, y_true)
    with pytest.raises(ValueError, match=match):
        loss.gradient(y_pred, y_true)


@pytest.mark.parametrize(("delta", "match"), [
    (0, r"Huber delta must be in \(0, inf\); got 0$"),
    (-1.5, r"Huber delta must be in \(0, inf\); got -1.5$"),
    (float("nan"), "Huber delta must be finite; got nan$"),
    (float("inf"), "Huber delta must be finite; got inf$"),
    ("1", "Huber delta must be a real number; got '1'$"),
    (None, "Huber delta must be a real number; got None$"),
    (True, "Huber delta must be a real number; got True$"),
    ([1.0], r"Huber delta must be a real number; got \[1.0\]$"),
])
def test_huber_rejects_a_delta_that_is_not_a_positive_finite_number(delta, match):
    with pytest.raises(ValueError, match=match):
        Huber(delta)
    with pytest.raises(ValueError, match=match):
        losses.get("huber", delta=delta)


def test_from_logits_accepts_any_finite_score():
    assert np.isfinite(BinaryCrossEntropy(from_logits=True)([-3.0, 7.0], [0, 1]))
    assert np.isfinite(CategoricalCrossEntropy(from_logits=True)(P3 * 9, [0, 1]))
    with pytest.raises(ValueError, match="from_logits"):
        BinaryCrossEntropy(from_logits="yes")


# -- names and configuration ----------------------------------------------------------------

def test_get_names_aliases_and_config_round_trip():
    expected = {"mse": MSE, "mean_squared_error": MSE, "mae": MAE, "mean_absolute_error": MAE,
                "binary_crossentropy": BinaryCrossEntropy,
                "categorical_crossentropy": CategoricalCrossEntropy,
                "sparse_categorical_crossentropy": CategoricalCrossEntropy,
                "kl_divergence": KLDivergence, "kld": KLDivergence,
                "kullback_leibler_divergence": KLDivergence, "hinge": Hinge,
                "multiclass_hinge": MulticlassHinge, "huber": Huber, "log_cosh": LogCosh,
                "logcosh": LogCosh, "poisson": Poisson, "squared_hinge": SquaredHinge,
                "categorical_hinge": CategoricalHinge, "msle": MeanSquaredLogarithmicError,
                "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
                "mape": MeanAbsolutePercentageError,
                "mean_absolute_percentage_error": MeanAbsolutePercentageError,
                "binary_focal_crossentropy": BinaryFocalCrossEntropy, "bce": BinaryCrossEntropy,
                "categorical_focal_crossentropy": CategoricalFocalCrossEntropy,
                "cosine_similarity": CosineSimilarity, "dice": Dice, "tversky": Tversky}
    assert set(losses.NAMES) == set(expected)
    for name, cls in expected.items():
        assert type(losses.get(name)) is cls
    assert losses.get("Binary_CrossEntropy", from_logits=True).from_logits
    loss = CategoricalCrossEntropy(from_logits=True)
    assert losses.get(loss) is loss
    config = json.loads(json.dumps(loss.get_config()))
    assert config == {"from_logits": True}
    assert losses.get(loss.name, **config).from_logits
    assert MSE().get_config() == {}
    huber = losses.get("huber", delta=np.float32(2.5))
    assert type(huber) is Huber and type(losses.get("Huber")) is Huber   # Keras's two names
    assert json.loads(json.dumps(huber.get_config())) == {"delta": 2.5}
    assert losses.get(huber.name, **huber.get_config()).delta == 2.5
    assert Huber().get_config() == {"delta": 1.0} and repr(huber) == "Huber(delta=2.5)"
    with pytest.raises(ValueError, match="unknown loss 'huber_loss'"):   # nor is it Keras's
        losses.get("huber_loss")
    with pytest.raises(ValueError, match=r"valid names are: .*hinge"):
        losses.get("cross_entropie")
    for name in ("crossentropy", "Cross_Entropy", "ce"):   # Keras guesses one from the data
        with pytest.raises(ValueError, match=r"could be any of three .*'binary_crossentropy'"
                           r".*'categorical_crossentropy'.*'sparse_categorical_crossentropy'"
                           r".*from_logits=True"):
            losses.get(name)
    with pytest.raises(ValueError, match="loss name"):
        losses.get(loss, from_logits=False)
    # compile(loss=MSE) for compile(loss=MSE()): the class, not an instance
    with pytest.raises(ValueError, match=r"^loss MSE is a class: pass an instance, MSE\(\), "
                                         r"or a name, one of: .*mse"):
        losses.get(MSE)
    with pytest.raises(ValueError, match=r"^metric BinaryCrossEntropy is a class: pass an "
                                         r"instance, BinaryCrossEntropy\(\)"):
        metrics.get(BinaryCrossEntropy)
    with pytest.raises(ValueError, match=r"must be given by name \(a str\).*got <class 'int'>"):
        losses.get(int)
    with pytest.raises(ValueError, match="'mse' takes no argument from_logits; it takes none"):
        losses.get("mse", from_logits=True)
    with pytest.raises(ValueError, match="'hinge' takes no argument margin; it takes none"):
        losses.get("hinge", margin=2.0)


# -- PyTorch as an independent reference (only when installed) ------------------------------

def torch_value_and_grad(fn, y_pred):
    torch = pytest.importorskip("torch")
    x = torch.tensor(y_pred, dtype=torch.float64, requires_grad=True)
    out = fn(x)
    out.backward()
    return out.item(), x.grad.numpy()


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "hinge"])  # torch has no binary hinge
def test_matches_pytorch(kind):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    loss, y_pred, y_true = make_case(kind, 5, 4, np.random.default_rng(7))
    t = torch.tensor(np.asarray(y_true, dtype=float))
    reference = {
        "mse": lambda x: F.mse_loss(x, t),
        "mae": lambda x: F.l1_loss(x, t),
        "huber": lambda x: F.huber_loss(x, t, delta=0.7),
        "bce": lambda x: F.binary_cross_entropy(x, t),
        "bce_logits": lambda x: F.binary_cross_entropy_with_logits(x, t),
        "cce": lambda x: F.nll_loss(torch.log(x), t.argmax(1)),
        "cce_soft": lambda x: -(t * torch.log(x)).sum(1).mean(),
        "cce_logits": lambda x: F.cross_entropy(x, t.long()),
        "cce_logits_soft": lambda x: F.cross_entropy(x, t),
        "kld": lambda x: F.kl_div(torch.log(x), t, reduction="batchmean"),
        # PyTorch divides each row's sum by the number of classes C: multiply it back
        "multiclass_hinge": lambda x: F.multi_margin_loss(x, t.long()) * x.shape[1],
        # Keras's formulas, written with torch's operations, its autograd the reference:
        "log_cosh": lambda x: torch.log(torch.cosh(x - t)).mean(),
        "poisson": lambda x: F.poisson_nll_loss(x, t, log_input=False, eps=EPS),
        "msle": lambda x: ((torch.log1p(x.clamp(min=EPS))
                            - torch.log1p(t.clamp(min=EPS))) ** 2).mean(),
        "mape": lambda x: 100 * ((x - t).abs() / t.abs().clamp(min=EPS)).mean(),
        "squared_hinge": lambda x: (1 - t * x).clamp(min=0).pow(2).mean(),
        "categorical_hinge": lambda x: categorical_hinge_keras(x, t.long(), torch),
        "focal": lambda x: focal_keras(x, t, 1.5, torch),
        "focal_logits": lambda x: sigmoid_focal_loss(x, t, torch),
        "cfce": lambda x: categorical_focal_keras(
            x / x.sum(1, keepdim=True), F.one_hot(t.long(), x.shape[1]), 0.25, 1.5),
        "cfce_logits": lambda x: categorical_focal_keras(torch.softmax(x, 1), t, 0.5, 2.0),
        "cosine": lambda x: -(unit_keras(x, torch) * unit_keras(t, torch)).sum(1).mean(),
        "dice": lambda x: 1 - 2 * (t * x).sum() / (t.sum() + x.sum() + EPS),
        "tversky": lambda x: 1 - (t * x).sum() / ((t * x).sum() + 0.7 * (t * (1 - x)).sum()
                                                  + 0.2 * ((1 - t) * x).sum() + EPS),
    }[kind]
    value, grad = torch_value_and_grad(reference, y_pred)
    assert loss(y_pred, y_true) == pytest.approx(value, rel=1e-10)
    np.testing.assert_allclose(loss.gradient(y_pred, y_true), grad, rtol=1e-8, atol=1e-12)


def categorical_focal_keras(q, t, alpha, gamma):
    # keras.losses.categorical_focal_crossentropy once its rows are distributions
    q = q.clamp(EPS, 1 - EPS)
    return (alpha * (1 - q) ** gamma * -(t * q.log())).sum(1).mean()


def unit_keras(x, torch):
    # keras.ops.normalize: x times 1 / |x|, that factor at most 1e7
    return x * torch.rsqrt((x * x).sum(1, keepdim=True)).clamp(max=1 / EPS)


def focal_keras(p, t, gamma, torch):
    # keras.losses.binary_focal_crossentropy on probabilities: (1 - p_t)^gamma bce, mean
    bce = torch.nn.functional.binary_cross_entropy(p, t, reduction="none")
    return ((1 - (t * p + (1 - t) * (1 - p))) ** gamma * bce).mean()


def sigmoid_focal_loss(z, t, torch, alpha=0.25, gamma=2.0):
    # torchvision.ops.sigmoid_focal_loss, reduction="mean", written out
    p = torch.sigmoid(z)
    ce = torch.nn.functional.binary_cross_entropy_with_logits(z, t, reduction="none")
    p_t = p * t + (1 - p) * (1 - t)
    return ((alpha * t + (1 - alpha) * (1 - t)) * ce * (1 - p_t) ** gamma).mean()


def categorical_hinge_keras(x, labels, torch):
    # keras.losses.categorical_hinge: max(0, max((1 - t) * s) - sum(t * s) + 1), mean
    t = torch.nn.functional.one_hot(labels, x.shape[1]).double()
    neg = ((1 - t) * x).max(dim=1).values
    pos = (t * x).sum(dim=1)
    return (neg - pos + 1).clamp(min=0).mean()


@pytest.mark.parametrize("delta", [0.5, 1.0, 2.5])
@pytest.mark.parametrize("shape", [(7,), (4, 3), (2, 3, 2)])
def test_huber_matches_pytorch_huber_loss(delta, shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(len(shape) * 10 + round(delta * 2))
    y_true = rng.integers(-8, 8, size=shape) / 4   # quarters: y_true + delta is exact
    errors = rng.normal(scale=1.5 * delta, size=shape)
    errors.flat[:2] = delta, -delta                # exactly on the seam, on both sides
    y_pred = y_true + errors
    assert (np.abs(y_pred - y_true) == delta).sum() >= 2
    assert (np.abs(errors) < delta).any() and (np.abs(errors) > delta).any()
    reference = torch.nn.HuberLoss(delta=delta)    # reduction="mean", its default
    value, grad = torch_value_and_grad(lambda x: reference(x, torch.tensor(y_true)), y_pred)
    assert Huber(delta)(y_pred, y_true) == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(Huber(delta).gradient(y_pred, y_true), grad, rtol=1e-12)
    seam = Huber(delta).gradient(y_pred, y_true).flat[:2]
    np.testing.assert_array_equal(seam, np.array([delta, -delta]) / errors.size)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss", ALL_LOSSES, ids=repr)
def test_forward_backward_is_forward_and_backward_at_once(loss, dtype):
    # What fit's step calls: cross-entropy from logits shares its softmax between the two.
    y_pred, y_true = loss.check(*batch_for(loss, dtype))
    value, grad = loss.forward_backward(y_pred, y_true)
    assert value == loss.forward(y_pred, y_true)
    np.testing.assert_array_equal(grad, loss.backward(y_pred, y_true))
    assert grad.dtype == dtype


# -- Keras's other losses: the cases their formulas single out ------------------------------

def test_categorical_hinge_takes_the_best_wrong_score_alone_and_keras_zero():
    scores = np.array([[3.2, 5.1, -1.7], [2.0, -3.0, -1.0]])
    # Row 0: the best wrong score 5.1 beats 3.2: 5.1 - 3.2 + 1 = 2.9 (the multiclass hinge
    # adds -1.7's term too when it is within the margin; here it is not).
    # Row 1: every wrong score is negative, and Keras's (1 - t) s lets the true class in
    # as 0: max(0, 0 - 2 + 1) = 0, where the largest wrong score alone would give 0 too.
    assert CategoricalHinge()(scores, [0, 0]) == pytest.approx(2.9 / 2)
    below = np.array([[0.5, -3.0, -1.0]])   # true score 0.5: Keras's 0 - 0.5 + 1 = 0.5
    assert CategoricalHinge()(below, [0]) == pytest.approx(0.5)
    np.testing.assert_array_equal(CategoricalHinge().gradient(below, [0]), [[-1.0, 0.0, 0.0]])
    assert CategoricalHinge()(scores, np.eye(3)[[0, 0]]) == CategoricalHinge()(scores, [0, 0])


def test_squared_hinge_and_log_cosh_by_hand():
    assert SquaredHinge()([2.0, 0.5, -1.0], [1, 1, 1]) == pytest.approx((0 + 0.25 + 4) / 3)
    with pytest.raises(ValueError, match="labels must be -1 or \\+1"):
        SquaredHinge()([0.5], [0])
    # log cosh e is about e^2 / 2 for a small error and |e| - log 2 for a large one
    assert LogCosh()([1e-3], [0.0]) == pytest.approx(0.5e-6, rel=1e-6)
    assert LogCosh()([-800.0], [0.0]) == pytest.approx(800 - np.log(2))
    np.testing.assert_allclose(LogCosh().gradient([3.0, -800.0], [0.0, 0.0]),
                               [np.tanh(3.0) / 2, -0.5])


def test_poisson_needs_rates_and_counts_at_least_zero():
    with pytest.raises(ValueError, match=r"y_pred must be rates, at least 0; got -0\.5"):
        Poisson()([[-0.5], [1.0]], [1.0, 1.0])
    with pytest.raises(ValueError, match="y_true must be counts, at least 0; got -1"):
        Poisson()([[0.5], [1.0]], [-1.0, 1.0])
    # least where the rate is the count: d/dp (p - y log p) = 1 - y / p
    rates = np.linspace(0.5, 6, 1101)
    values = [Poisson()([r], [3.0]) for r in rates]
    assert rates[int(np.argmin(values))] == pytest.approx(3.0)


def test_relative_losses_msle_and_mape():
    msle = MeanSquaredLogarithmicError()
    # twice too large costs about as much as half too small, at any scale of the target
    assert msle([2000.0], [1000.0]) == pytest.approx(msle([500.0], [1000.0]), rel=1e-2)
    assert msle([20.0], [10.0]) == pytest.approx(msle([5.0], [10.0]), rel=0.3)
    assert msle([-5.0], [0.0]) == 0.0   # both clipped to EPSILON
    np.testing.assert_array_equal(msle.gradient([-5.0], [3.0]), [0.0])   # clipped: no gradient
    mape = MeanAbsolutePercentageError()
    assert mape([110.0, 45.0], [100.0, 50.0]) == pytest.approx(10.0)
    assert mape([1.0], [0.0]) == pytest.approx(100 / EPS)   # a target of 0: divided by EPSILON


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_cosh_keeps_the_digits_of_small_errors(dtype):
    # |e| + log(1 + e^-2|e|) - log 2 subtracts log 2 from a number close to it: in float32,
    # errors near 1e-4 came out negative. log(1 + 2 sinh(e/2)^2) keeps them.
    errors = np.array([1e-6, 1e-4, 1e-2, 0.5, 1.0, 1.5, 30.0], dtype)
    for e in errors:
        exact = np.log(np.cosh(np.float64(e)))
        assert LogCosh()(np.array([e]), np.zeros(1, dtype)) == pytest.approx(exact, rel=1e-5)


def test_focal_loss_equals_keras_and_is_cross_entropy_at_gamma_zero():
    # Keras 3.15.1's BinaryFocalCrossentropy on these values (float32, so rel=1e-6)
    y = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    p = np.array([[0.9, 0.2, 0.3], [0.6, 0.05, 0.01]])
    z = np.array([[2.0, -1.0, 0.5], [3.0, -4.0, 1.0]])
    for loss, y_pred, keras_value in [
            (BinaryFocalCrossEntropy(), p, 0.6055733561515808),
            (BinaryFocalCrossEntropy(gamma=0.5), p, 0.7951776385307312),
            (BinaryFocalCrossEntropy(apply_class_balancing=True, alpha=0.3), p,
             0.20425811409950256),
            (BinaryFocalCrossEntropy(gamma=1.5, from_logits=True), z, 1.2873846292495728)]:
        assert loss(y_pred, y) == pytest.approx(keras_value, rel=1e-6)
    for from_logits, y_pred in [(False, p), (True, z)]:
        focal = BinaryFocalCrossEntropy(gamma=0.0, from_logits=from_logits)
        plain = BinaryCrossEntropy(from_logits=from_logits)
        assert focal(y_pred, y) == pytest.approx(plain(y_pred, y), rel=1e-14)
        np.testing.assert_allclose(focal.gradient(y_pred, y), plain.gradient(y_pred, y),
                                   rtol=1e-12)
    # An easy sample counts for little: (1 - 0.99)^2 of its cross-entropy
    assert BinaryFocalCrossEntropy()([0.99], [1]) == pytest.approx(1e-4 * -np.log(0.99))
    loss = BinaryFocalCrossEntropy(gamma=3.0, alpha=0.1, apply_class_balancing=True)
    assert losses.get(loss.name, **json.loads(json.dumps(loss.get_config()))).gamma == 3.0
    for bad, match in [({"gamma": -1.0}, "focal gamma"), ({"alpha": 1.5}, "focal alpha"),
                       ({"apply_class_balancing": "yes"}, "apply_class_balancing")]:
        with pytest.raises(ValueError, match=match):
            BinaryFocalCrossEntropy(**bad)


# -- Keras 3's similarity losses and categorical focal loss ---------------------------------

def test_similarity_and_categorical_focal_losses_equal_keras():
    # Keras 3.15.1 (torch backend, float64) on these values; its cosine and focal losses
    # compute partly in float32 (rel=1e-7). Their gradients (torch autograd) agreed with
    # nnlab's to 1e-8 and 1e-16.
    rng = np.random.default_rng(3)
    p, t = rng.uniform(0.01, 1, (4, 3)), np.eye(3)[[0, 2, 1, 1]]
    soft, z = rng.uniform(0, 1, (4, 3)), rng.normal(0, 2, (4, 3))
    for loss, y_pred, y_true, keras_value in [
            (CosineSimilarity(), z, rng.normal(size=(4, 3)), -0.33566737174987793),
            (Dice(), p, soft, 0.5531002755670656),
            (Tversky(0.7, 0.2), p, soft, 0.5593621635822295),
            (CategoricalFocalCrossEntropy(), p, t, 0.27790525555610657),
            (CategoricalFocalCrossEntropy(alpha=1.0, gamma=0.0), p, t, 1.6273338794708252),
            (CategoricalFocalCrossEntropy(alpha=0.5, gamma=1.5, from_logits=True), z, t,
             0.9881899356842041)]:
        assert loss(y_pred, y_true) == pytest.approx(keras_value, rel=1e-7)


def test_cosine_similarity_ignores_length_and_scores_zero_rows_zero():
    loss = CosineSimilarity()
    assert loss([[3.0, 4.0]], [[6.0, 8.0]]) == pytest.approx(-1.0)
    assert loss([[3.0, 4.0]], [[-0.3, -0.4]]) == pytest.approx(1.0)
    assert loss([[3.0, 4.0]], [[4.0, -3.0]]) == pytest.approx(0.0)
    grad = loss.gradient([[3.0, 4.0], [1.0, 2.0]], [[1.0, 0.0], [2.0, 4.0]])
    np.testing.assert_allclose(np.sum(grad * [[3.0, 4.0], [1.0, 2.0]], axis=1), 0, atol=1e-15)
    np.testing.assert_allclose(grad[1], 0, atol=1e-15)   # already aligned: nothing to do
    # Keras's floor of 1e-7 on a norm: a zero row scores 0, its gradient points to the target
    assert loss([[0.0, 0.0]], [[1.0, 0.0]]) == 0.0 and loss([[1.0, 0.0]], [[0.0, 0.0]]) == 0.0
    np.testing.assert_allclose(loss.gradient([[0.0, 0.0]], [[2.0, 0.0]]), [[-1e7, 0.0]])


def test_dice_and_tversky_are_batch_overlaps():
    t = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    assert Dice()(t, t) == pytest.approx(0.0, abs=1e-7)
    assert Dice()(1 - t, t) == pytest.approx(1.0)
    # one value for the batch, not a mean of rows: 1 - 2 (1 + 1) / (3 + 3)
    p = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert Dice()(p, t) == pytest.approx(1 - 4 / 6)
    assert Tversky()(p, t) == pytest.approx(Dice()(p, t), abs=1e-7)
    # alpha weighs what the prediction misses (Keras's formula): one miss, one false alarm
    assert Tversky(alpha=1.0, beta=0.0)(p, t) == pytest.approx(1 - 2 / 3)
    assert Tversky(alpha=0.0, beta=1.0)(p, t) == pytest.approx(1 - 2 / 3)
    assert Tversky(alpha=0.0, beta=1.0)([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]], t) == \
        pytest.approx(1 - 3 / 4)
    assert Tversky(alpha=1.0, beta=0.0)([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]], t) == \
        pytest.approx(0.0, abs=1e-7)
    for bad, match in [(Tversky(), r"Tversky.*y_pred must be in \[0, 1\]"),
                       (Dice(), "sigmoid or softmax")]:
        with pytest.raises(ValueError, match=match):
            bad([[1.5]], [[1.0]])
    with pytest.raises(ValueError, match=r"Dice\(\): y_true must be in \[0, 1\]"):
        Dice()([[0.5]], [[2.0]])
    with pytest.raises(ValueError, match="Tversky alpha"):
        Tversky(alpha=-0.1)
    loss = Tversky(0.3, 0.7)
    assert losses.get(loss.name, **json.loads(json.dumps(loss.get_config()))).beta == 0.7


def test_categorical_focal_loss_is_scaled_cross_entropy_at_gamma_zero():
    p, labels = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]]), [0, 2]
    for from_logits, y_pred in [(False, p), (True, np.log(p) + 1.0)]:
        focal = CategoricalFocalCrossEntropy(alpha=0.4, gamma=0.0, from_logits=from_logits)
        plain = CategoricalCrossEntropy(from_logits=from_logits)
        assert focal(y_pred, labels) == pytest.approx(0.4 * plain(y_pred, labels), rel=1e-12)
        gap = focal.gradient(y_pred, labels) - 0.4 * plain.gradient(y_pred, labels)
        # From logits the same gradient; from probabilities it differs by the same amount
        # in every class of a row: the direction that changes no ratio of the row, and so
        # nothing after the division by its sum (which plain cross-entropy does not make).
        np.testing.assert_allclose(gap - gap[:, :1], 0, atol=1e-12)
        assert from_logits is False or np.allclose(gap, 0, atol=1e-12)
    # rows are divided by their sum first, as Keras does: scaling a row changes nothing
    focal = CategoricalFocalCrossEntropy()
    assert focal(p * 0.5, labels) == pytest.approx(focal(p, labels), rel=1e-12)
    loss = CategoricalFocalCrossEntropy(alpha=0.5, gamma=3.0, from_logits=True)
    assert losses.get(loss.name, **json.loads(json.dumps(loss.get_config()))).gamma == 3.0


def test_categorical_focal_loss_from_logits_pushes_on_the_hardest_samples():
    # The true class 20 below the best score: Keras's softmax-then-clip gives it no
    # gradient; from the log-softmax it keeps the cross-entropy's push, about alpha.
    z = np.array([[20.0, 0.0, 0.0], [0.0, 30.0, -5.0]])
    loss = CategoricalFocalCrossEntropy(gamma=0.5, from_logits=True)
    grad = loss.gradient(z, [1, 0])
    np.testing.assert_allclose(grad, numerical_gradient(lambda x: loss(x, [1, 0]), z),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(grad[:, :2], [[0.125, -0.125], [-0.125, 0.125]], rtol=1e-6)
    assert loss(z, [1, 0]) == pytest.approx(0.25 * (20 + 30) / 2, rel=1e-6)
    # each row over its sum: a row of zeros has none
    with pytest.raises(ValueError, match="divided by its sum, and a row is all zeros"):
        CategoricalFocalCrossEntropy()([[0.0, 0.0, 0.0], [0.2, 0.3, 0.5]], [0, 1])


def test_binary_focal_gradient_does_not_overflow_for_gamma_below_one():
    # (1 - p_t)^(gamma - 1) alone overflows where 1 - p_t is tiny (4e-44 at a logit of -100
    # in float32), though the gradient is tiny: (1 + gamma) p^(1 + gamma) for y = 0.
    def exact(z, y, gamma):
        """d/dz of (1 - p_t)^gamma c for one element, in float64 by logs."""
        s = -1 if y == 0 else 1             # p_t = sigmoid(s z)
        log_q = -np.logaddexp(0, s * z)     # log sigmoid(-s z) = log(1 - p_t)
        c = np.logaddexp(0, -s * z)         # the cross-entropy, -log p_t = softplus(-s z)
        q, p_t = np.exp(log_q), np.exp(-np.logaddexp(0, -s * z))
        return -s * np.exp(gamma * log_q) * (gamma * p_t * c + q)

    for gamma in (0.01, 0.1, 0.5):
        loss = BinaryFocalCrossEntropy(gamma=gamma, from_logits=True)
        for dtype in (np.float32, np.float64):
            for z in (-1e4, -740.0, -100.0, -20.0, 3.0, 100.0, 1e4):
                for y in (0, 1):
                    with warnings.catch_warnings():
                        warnings.simplefilter("error")
                        grad = loss.gradient(np.array([z], dtype), [y])
                    assert grad.dtype == dtype and np.all(np.isfinite(grad))
                    # y = 1 mirrors y = 0, but 1 - p rounds to 0 there when p = sigmoid(z)
                    # is within an ulp of 1: a gradient of 0, short by less than 1e-30.
                    np.testing.assert_allclose(grad, [exact(z, y, gamma)],
                                               rtol=1e-5 if dtype == np.float32 else 1e-12,
                                               atol=np.finfo(dtype).tiny if y == 0 else 1e-30)
    # From probabilities: a slope gamma p^(gamma - 1) c of the clipped c = -log(1 - 1e-7).
    p = np.float32(1e-44)
    for gamma in (0.1, 0.5):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            grad = BinaryFocalCrossEntropy(gamma=gamma).gradient(np.array([p]), [0])
        c = -np.log1p(-np.float64(np.float32(EPS)))
        np.testing.assert_allclose(grad, [gamma * np.float64(p) ** (gamma - 1) * c], rtol=1e-5)


def test_focal_losses_clip_outputs_outside_the_unit_interval_as_cross_entropy_does():
    # fit warns about such outputs and clips them into [1e-7, 1 - 1e-7]: the categorical
    # focal loss used to divide them by their row's sum first, so that [-0.2, -0.6] was
    # p = [0.25, 0.75] and [0.5, -0.5] a division by 0.
    rows = np.array([[-0.2, -0.6], [0.5, -0.5], [1.5, 0.0]])
    y = np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
    plain = CategoricalCrossEntropy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        focal = CategoricalFocalCrossEntropy(alpha=1.0, gamma=0.0).forward(rows, y)
        assert focal == pytest.approx(plain.forward(rows, y), rel=1e-12)
        assert focal == pytest.approx(-np.log(EPS), rel=1e-12)   # every true class clipped
        cf = CategoricalFocalCrossEntropy()
        assert cf.forward(rows, y) == pytest.approx(0.25 * (1 - EPS) ** 2 * -np.log(EPS))
        assert np.all(cf.backward(rows, y) == 0)   # a clipped output gets no gradient
    with pytest.raises(losses.PredictionRangeError, match=r"\[0, 1\]"):
        cf(rows, y)   # called directly, refused
    # Where only some outputs of a row are outside, the gradient is that of the clipped rows.
    rows = np.array([[1.4, 0.3, 0.1], [1.5, 0.7, -0.3], [0.3, -0.1, 0.4]])
    y = np.eye(3)[[1, 1, 2]]
    for cf in (CategoricalFocalCrossEntropy(), CategoricalFocalCrossEntropy(gamma=0.5)):
        np.testing.assert_allclose(cf.backward(rows, y),
                                   numerical_gradient(lambda x, cf=cf: cf.forward(x, y), rows),
                                   rtol=1e-6, atol=1e-10)
    # The binary focal loss as the binary cross-entropy: an output of 1.5 is one of 1.
    bf = BinaryFocalCrossEntropy()
    assert bf.forward(np.array([1.5, -0.5]), np.array([0.0, 1.0])) == \
        bf.forward(np.array([1.0, 0.0]), np.array([0.0, 1.0]))
    assert np.all(bf.backward(np.array([1.5, -0.5]), np.array([0.0, 1.0])) == 0)


def test_one_sample_of_a_row_loss_with_one_column_and_the_shapes_errors_name():
    assert CosineSimilarity()([2.0], [3.0]) == pytest.approx(-1.0)
    assert KLDivergence()([1.0], [1.0]) == pytest.approx(0.0, abs=1e-6)   # 1 is clipped
    assert CosineSimilarity().gradient([2.0], [3.0]).shape == (1,)
    # a message names the shapes the caller passed, not those of one sample made a batch
    for loss, y_pred, y_true, match in [
            (CosineSimilarity(), [2.0, 1.0], [3.0],
             r"y_pred has shape \(2,\) but y_true has shape \(1,\); expected the same shape "
             r"\(2,\)"),
            (CategoricalCrossEntropy(), [0.2, 0.8], [0, 1, 0],
             r"y_pred has shape \(2,\) but y_true has shape \(3,\)"),
            (CategoricalCrossEntropy(), [1.0], [0], r"at least 2 output units.*got shape \(1,\)")]:
        with pytest.raises(ValueError, match=match):
            loss(y_pred, y_true)


def test_a_probability_out_of_range_is_a_prediction_domain_error():
    # Code that forgives a prediction outside a loss's domain catches the one class.
    assert issubclass(losses.PredictionRangeError, losses.PredictionDomainError)
    with pytest.raises(losses.PredictionDomainError, match=r"y_pred must be in \[0, 1\]"):
        BinaryCrossEntropy()(np.array([1.5]), np.array([1.0]))
