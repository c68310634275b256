"""The values of nnlab.keras_metrics against Keras, scikit-learn and scipy, their properties,
and the errors that bad inputs raise."""

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import pearsonr
from sklearn.metrics.pairwise import cosine_similarity as sk_cosine

from nnlab import losses, metrics
from nnlab.keras_metrics import (
    auc,
    binary_crossentropy,
    binary_iou,
    categorical_crossentropy,
    categorical_hinge,
    concordance_correlation,
    cosine_similarity,
    false_negatives,
    false_positives,
    hinge,
    kl_divergence,
    pearson_correlation,
    squared_hinge,
    true_negatives,
    true_positives,
)

Y_BIN = [0, 0, 1, 1, 0, 1, 1, 0, 1, 0]
P_BIN = [0.1, 0.4, 0.35, 0.8, 0.65, 0.9, 0.5, 0.2, 0.7, 0.5]
Y_HOT = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0]]
P_HOT = [[0.7, 0.2, 0.1], [0.3, 0.5, 0.2], [0.2, 0.2, 0.6], [0.5, 0.3, 0.2]]
Y_SIGN, SCORES = [[1], [-1], [1], [-1]], [[0.3], [-2.0], [-0.5], [0.8]]
Y_REG, P_REG = [1.5, 2.0, 3.5, 4.0, 5.5], [1.2, 2.5, 3.0, 4.4, 5.0]

# Computed once with Keras 3.15.1 (KERAS_BACKEND=torch, float32): for each class,
# m = keras.metrics.<Class>(); m.update_state(y_true, y_pred); float(m.result()).
KERAS_VALUES = [
    (binary_crossentropy, np.array(Y_BIN)[:, None], np.array(P_BIN)[:, None],
     0.501044750213623),
    (binary_crossentropy, Y_HOT, P_HOT, 0.41962674260139465),
    (categorical_crossentropy, Y_HOT, P_HOT, 0.6911551356315613),
    (categorical_crossentropy, [0, 1, 2, 1], P_HOT, 0.6911551356315613),   # Sparse...
    (kl_divergence, [[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]], [[0.4, 0.4, 0.2], [0.2, 0.3, 0.5]],
     0.11104705929756165),
    (hinge, Y_SIGN, SCORES, 1.0),
    (squared_hinge, Y_SIGN, SCORES, 1.494999885559082),
    (categorical_hinge, Y_HOT, [[2.0, 1.0, -1.0], [0.5, 0.2, 1.5], [-1, 0, 3], [0.1, 0.2, 0.0]],
     0.7999999523162842),
    (auc, Y_BIN, P_BIN, 0.8200000524520874),
    (auc, Y_HOT, P_HOT, 0.9375),
    (true_positives, Y_BIN, P_BIN, 3.0), (true_positives, Y_HOT, P_HOT, 2.0),
    (false_positives, Y_BIN, P_BIN, 1.0), (false_positives, Y_HOT, P_HOT, 0.0),
    (true_negatives, Y_BIN, P_BIN, 4.0), (true_negatives, Y_HOT, P_HOT, 8.0),
    (false_negatives, Y_BIN, P_BIN, 2.0), (false_negatives, Y_HOT, P_HOT, 2.0),
    (cosine_similarity, [[1, 2, 3], [0, 1, -1], [0, 0, 0]], [[1, 2, 4], [1, 1, 1], [1, 2, 3]],
     0.3304866850376129),
    (cosine_similarity, [0, 1, 1, 0], [[0.2], [0.8], [0.4], [0.6]], 0.5),   # rows of one
    (cosine_similarity, [[0], [1], [1], [0]], [0.2, 0.8, 0.4, 0.6], 0.5),
    (pearson_correlation, Y_REG, P_REG, 0.9518717527389526),
    (concordance_correlation, Y_REG, P_REG, 0.9488229751586914),
    (concordance_correlation, Y_REG, [2.2, 3.5, 4.0, 5.4, 6.0], 0.7809604406356812),
]


@pytest.mark.parametrize(("func", "y_true", "y_pred", "expected"), KERAS_VALUES)
def test_values_match_keras(func, y_true, y_pred, expected):
    assert func(y_true, y_pred) == pytest.approx(expected, rel=1e-6, abs=1e-6)


def test_kl_divergence_of_one_hot_rows_is_the_cross_entropy():
    # Keras clips the 0s of y_true to 1e-7 (0.6911522 here): 0 log 0 = 0 instead.
    assert kl_divergence(Y_HOT, P_HOT) == pytest.approx(0.6911522150039673, abs=1e-5)
    assert kl_divergence(Y_HOT, P_HOT) == categorical_crossentropy(Y_HOT, P_HOT)


def test_auc_is_exact_where_keras_counts_thresholds():
    # Pairs of scores closer than Keras's 1/199 apart: Keras counts them half.
    y = [0, 1, 0, 1, 1, 0, 0, 1, 1, 0, 1, 0]
    p = [0.302, 0.304, 0.306, 0.301, 0.55, 0.552, 0.71, 0.705, 0.12, 0.1, 0.93, 0.9]
    keras_auc = 0.4861111044883728   # keras.metrics.AUC(), Keras 3.15.1 (torch backend)
    assert auc(y, p) == pytest.approx(skm.roc_auc_score(y, p)) == pytest.approx(17 / 36)
    assert auc(y, p) == pytest.approx(keras_auc, abs=0.015)


def labels_and_scores(n, columns=1):
    """Random 0/1 labels of both classes and whole-number scores (many ties)."""
    return st.integers(0, 2**32 - 1).map(lambda seed: _draw(seed, n, columns))


def _draw(seed, n, columns):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, (n, columns))
    y.flat[:2] = [0, 1]
    return y, rng.integers(-3, 4, (n, columns)).astype(float)


@given(data=st.integers(2, 40).flatmap(labels_and_scores))
def test_auc_matches_sklearn_and_counts_ties_half(data):
    y, s = data
    assert auc(y, s) == pytest.approx(skm.roc_auc_score(y.ravel(), s.ravel()))
    assert auc(y.ravel(), s) == auc(2 * y - 1, s)   # -1/+1 labels, (N,) against (N, 1)


@given(data=st.integers(2, 40).flatmap(labels_and_scores))
def test_auc_sees_only_the_order_of_the_scores(data):
    y, s = data
    for monotone in (np.exp(s / 3), 3 * s - 7, np.arctan(s), 1 / (1 + np.exp(-s))):
        assert auc(y, monotone) == pytest.approx(auc(y, s))
    assert auc(y, -s) == pytest.approx(1 - auc(y, s))
    assert auc(1 - y, s) == pytest.approx(1 - auc(y, s))


@given(data=st.integers(1, 20).flatmap(lambda n: labels_and_scores(n, columns=3)))
def test_auc_of_several_columns_counts_every_element(data):
    y, s = data
    assert auc(y, s) == pytest.approx(skm.roc_auc_score(y.ravel(), s.ravel()))
    if np.all(y.min(axis=0) < y.max(axis=0)):   # scikit-learn's micro: every column both
        assert auc(y, s) == pytest.approx(skm.roc_auc_score(y, s, average="micro"))


@given(n=st.integers(1, 30), k=st.integers(1, 4), threshold=st.floats(-1, 2),
       seed=st.integers(0, 2**32 - 1))
def test_counts_match_sklearn_and_sum_to_the_elements(n, k, threshold, seed):
    rng = np.random.default_rng(seed)
    y, p = rng.integers(0, 2, (n, k)), rng.random((n, k))
    counts = [f(y, p, threshold=threshold)
              for f in (true_negatives, false_positives, false_negatives, true_positives)]
    expected = skm.confusion_matrix(y.ravel(), (p > threshold).ravel(), labels=[0, 1])
    assert counts == list(expected.ravel())
    assert sum(counts) == y.size and counts[2] + counts[3] == y.sum()
    assert all(isinstance(c, float) for c in counts)


def test_counts_take_minus_one_plus_one_labels_and_flag_only_above_the_threshold():
    assert true_positives([1, -1, 1], [0.5, 0.9, 0.51]) == 1.0   # 0.5 is not above
    assert false_negatives([1, -1, 1], [0.5, 0.9, 0.51]) == 1.0
    assert false_positives([1, -1, 1], [-0.2, 0.3, 2.0], threshold=0.0) == 1.0


@given(n=st.integers(3, 30), k=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_correlations_match_scipy_and_lins_formula(n, k, seed):
    rng = np.random.default_rng(seed)
    t = rng.normal(size=(n, k))
    p = 0.7 * t + rng.normal(size=(n, k))
    r = [pearsonr(t[:, j], p[:, j]).statistic for j in range(k)]
    assert pearson_correlation(t, p) == pytest.approx(np.mean(r))
    assert pearson_correlation(t, 2.5 * p + 4) == pytest.approx(np.mean(r))
    # Pearson's, shrunk: |CCC| <= |r| for every column.
    cccs = [concordance_correlation(t[:, j], p[:, j]) for j in range(k)]
    assert all(abs(c) <= abs(rj) + 1e-12 for c, rj in zip(cccs, r, strict=True))
    assert concordance_correlation(t, p) == pytest.approx(np.mean(cccs))
    # With the mean and variance of the targets, the predictions' CCC is their Pearson's.
    matched = (p - p.mean(0)) / p.std(0) * t.std(0) + t.mean(0)
    assert concordance_correlation(t, matched) == pytest.approx(pearson_correlation(t, p))


def test_correlations_of_constant_columns():
    assert pearson_correlation([1.0, 2.0, 3.0], [5.0, 5.0, 5.0]) == 0.0
    assert pearson_correlation([0.7] * 7, [0.7] * 7) == 0.0   # whose mean rounds
    assert pearson_correlation([[1.0, 1.0], [2.0, 1.0]], [[1.0, 3.0], [3.0, 1.0]]) == 0.5
    assert concordance_correlation([0.7] * 7, [0.7] * 7) == 1.0
    assert concordance_correlation([2.0, 2.0], [2.0, 2.0]) == 1.0
    assert concordance_correlation([2.0, 2.0], [3.0, 3.0]) == 0.0
    assert pearson_correlation([1.0], [2.0]) == 0.0   # one sample


@given(n=st.integers(1, 20), k=st.integers(2, 5), seed=st.integers(0, 2**32 - 1))
def test_cosine_similarity_matches_sklearn_row_by_row(n, k, seed):
    rng = np.random.default_rng(seed)
    t, p = rng.normal(size=(n, k)), rng.normal(size=(n, k))
    expected = np.mean(np.diag(sk_cosine(t, p)))
    assert cosine_similarity(t, p) == pytest.approx(expected)
    assert cosine_similarity(t, 3 * p) == pytest.approx(expected)
    assert cosine_similarity(t.ravel(), p.ravel()) == pytest.approx(
        sk_cosine(t.reshape(1, -1), p.reshape(1, -1))[0, 0])   # 1-D: one pair of vectors


@given(n=st.integers(1, 12), k=st.integers(2, 4), seed=st.integers(0, 2**32 - 1))
def test_the_losses_as_metrics_are_the_losses(n, k, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    probs = rng.dirichlet(np.ones(k), n)
    one_hot, scores = np.eye(k)[labels], rng.normal(size=(n, k))
    signs = rng.choice([-1.0, 1.0], (n, 1))
    y01, p01 = rng.integers(0, 2, (n, 1)), rng.random((n, 1))
    assert binary_crossentropy(y01, p01) == losses.BinaryCrossEntropy()(p01, y01)
    assert categorical_crossentropy(labels, probs) == losses.CategoricalCrossEntropy()(
        probs, one_hot)
    assert kl_divergence(probs[::-1], probs) == losses.KLDivergence()(probs, probs[::-1])
    assert hinge(signs, scores[:, :1]) == losses.Hinge()(scores[:, :1], signs)
    assert squared_hinge(signs, scores[:, :1]) == losses.SquaredHinge()(scores[:, :1], signs)
    assert categorical_hinge(labels, scores) == losses.CategoricalHinge()(scores, labels)


def test_probabilities_outside_the_unit_interval_are_clipped_as_keras_clips_them():
    # (the outputs of a model trained with mse; the loss alone refuses them)
    assert binary_crossentropy([1, 0], [1.3, -0.2]) == binary_crossentropy([1, 0], [1, 0])
    with pytest.raises(ValueError, match="y_pred must be in"):
        losses.BinaryCrossEntropy()([1.3, -0.2], [1, 0])


@pytest.mark.parametrize(("func", "y_true", "y_pred", "match"), [
    (auc, [0, 2], [0.1, 0.2], r"auc: y_true must hold 0/1 or -1/\+1 labels; got values \[0. 2.\]"),
    (auc, [0, 1, 1], [0.1, 0.2], r"auc: y_true has shape \(3,\) but y_pred has shape \(2,\)"),
    (auc, [0, 1], [0.1, np.nan], r"auc: y_pred contains 1 NaN"),
    (auc, [], [], "auc: y_true and y_pred must not be empty"),
    (true_positives, [0, np.inf], [0.1, 0.2], "true_positives: y_true contains 1 NaN or inf"),
    (false_negatives, [[0, 1]], [[0.2], [0.4]], r"false_negatives: y_true has shape \(1, 2\)"),
    (true_negatives, [0, 0.5], [0.1, 0.2], "true_negatives: y_true must hold 0/1"),
    (false_positives, ["a"], [0.1], "false_positives: y_true must be a numeric array"),
    (binary_crossentropy, [2, 0], [0.5, 0.5],
     r"binary_crossentropy: BinaryCrossEntropy\(from_logits=False\): y_true must be in "
     r"\[0, 1\] .*got values in \[0, 2\]"),
    (binary_crossentropy, [1, 0], [0.5, np.nan], "binary_crossentropy: y_pred contains 1 NaN"),
    (binary_crossentropy, [1, 0, 1], [0.5, 0.5], r"y_pred has shape \(2,\) but y_true has "
                                                  r"shape \(3,\)"),
    (categorical_crossentropy, [0, 3], P_HOT[:2],
     r"categorical_crossentropy: .*class labels must be integers in \[0, 2\] .*got 3"),
    (categorical_crossentropy, [1, 0], [[0.4], [0.6]], "needs at least 2 output units"),
    (kl_divergence, [[0.5, 0.5]], [[0.5, 0.25, 0.25]], r"kl_divergence: .*shape \(1, 3\)"),
    (hinge, [1, 0], [0.5, -1.0], r"hinge: Hinge\(\): y_true labels must be -1 or \+1; got 0"),
    (squared_hinge, [1, np.nan], [0.5, -1.0], "squared_hinge: y_true contains 1 NaN"),
    (categorical_hinge, [[1, 1, 0]], [[0.5, 0.2, 0.1]], "categorical_hinge: .*one-hot"),
    (cosine_similarity, [[1, 2]], [[1, 2, 3]], r"cosine_similarity: y_true has shape \(1, 2\)"),
    (pearson_correlation, [1, 2, np.nan], [1, 2, 3], "pearson_correlation: y_true contains"),
    (concordance_correlation, [1, 2], [1, 2, 3], r"concordance_correlation: y_true has shape"),
])
def test_bad_input_raises_value_errors_that_name_the_function(func, y_true, y_pred, match):
    with pytest.raises(ValueError, match=match):
        func(y_true, y_pred)


@pytest.mark.parametrize("threshold", ["0.5", np.nan, None])
def test_a_bad_threshold_is_named(threshold):
    with pytest.raises(ValueError, match="true_positives: threshold must be"):
        true_positives([0, 1], [0.2, 0.8], threshold=threshold)


def test_float32_extremes_and_small_norms_as_keras():
    # Sums of squares of float32 values of 1e8 over 10000 samples overflow float32:
    # computed in float64, the correlation is scipy's.
    rng = np.random.default_rng(0)
    t = (rng.normal(size=10000) * 1e8).astype(np.float32)
    p = t + (rng.normal(size=10000) * 1e7).astype(np.float32)
    reference = pearsonr(t.astype(float), p.astype(float))[0]
    assert pearson_correlation(t, p) == pytest.approx(reference, rel=1e-9)
    assert concordance_correlation(t, p) == pytest.approx(
        concordance_correlation(t.astype(float), p.astype(float)), rel=1e-12)
    # Keras floors a norm at 1e-7 (not 1e-6): a row of norm 3e-7 keeps its direction
    assert cosine_similarity([[1.0, 0.0]], [[3e-7, 0.0]]) == pytest.approx(1.0)
    assert cosine_similarity([[1.0, 0.0]], [[3e-8, 0.0]]) == pytest.approx(0.3)


def test_binary_iou_equals_keras_and_relates_to_dice():
    # Keras 3.15.1's BinaryIoU(threshold=...) on these values (it adds 1e-7 to each
    # denominator: rel=1e-6); a prediction of exactly 0.5 counts as class 1, as there.
    rng = np.random.default_rng(5)
    t, p = rng.integers(0, 2, (20, 3)).astype(float), rng.uniform(0, 1, (20, 3))
    p[0, 0] = 0.5
    assert binary_iou(t, p) == pytest.approx(0.2630762457847595, rel=1e-6)
    assert binary_iou(t, p, threshold=0.3) == pytest.approx(0.29965242743492126, rel=1e-6)
    assert binary_iou(np.ones(4), [0.9, 0.6, 0.7, 0.8]) == 1.0   # class 0 absent: left out
    # of 0/1 sets, IoU = D / (2 - D) for the Dice score D of the same class
    truth, guess = t.ravel() > 0, p.ravel() >= 0.5
    dice = [2 * np.sum(a & b) / (np.sum(a) + np.sum(b)) for a, b in
            ((truth, guess), (~truth, ~guess))]
    assert binary_iou(t, p) == pytest.approx(np.mean([d / (2 - d) for d in dice]))
    assert metrics.get("BinaryIoU") is metrics.get("binary_iou") is binary_iou
    with pytest.raises(ValueError, match="binary_iou: y_true must hold 0/1"):
        binary_iou([2, 0], [0.5, 0.5])
