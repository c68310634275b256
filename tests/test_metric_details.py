"""Details of the metrics that the other tests left open: edge cases checked against Keras,
scikit-learn and scipy (a norm at Keras's floor, a score at a threshold, float32 extremes,
collinear data), and the settings and inputs that the metrics refuse."""

import numpy as np
import pytest
import sklearn.metrics as skm
from scipy.stats import pearsonr
from sklearn.metrics.pairwise import cosine_similarity as sk_cosine

import nnlab as nl
from nnlab import losses, metrics
from nnlab.f_score_metrics import f_beta_score
from nnlab.keras_metrics import cosine_similarity, pearson_correlation
from nnlab.scoring import metric_values
from tests.helpers import keras_metric


def keras_result(name, y_true, y_pred, **settings):
    return float(keras_metric(name, y_true, y_pred, **settings))


# --- the confusion matrix and top-k accuracy ------------------------------------------

def test_confusion_matrix_takes_n_classes_equal_to_the_columns_of_the_scores():
    rng = np.random.default_rng(0)
    y, scores = rng.integers(0, 3, 20), rng.normal(size=(20, 3))
    expected = skm.confusion_matrix(y, scores.argmax(axis=1), labels=range(3))
    np.testing.assert_array_equal(metrics.confusion_matrix(y, scores, n_classes=3), expected)
    np.testing.assert_array_equal(
        metrics.confusion_matrix(np.eye(3)[y], scores, n_classes=3), expected)
    # one probability per sample: two classes, so n_classes=2 is exactly enough
    np.testing.assert_array_equal(
        metrics.confusion_matrix([1, 0, 1], [0.9, 0.2, 0.4], n_classes=2), [[1, 0], [1, 1]])


def test_top_k_accuracy_refuses_a_single_column_of_scores():
    # One column is one probability per sample, not a score per class: every true class
    # would be "in the top k".
    with pytest.raises(ValueError, match=r"top_k_categorical_accuracy: y_pred must hold a "
                                         r"score per class, \(N, K\) with K >= 2; got shape "
                                         r"\(2, 1\)"):
        metrics.top_k_categorical_accuracy([0, 0], [[0.3], [0.9]], k=1)


# --- precision, recall and the F-scores: their settings -------------------------------

@pytest.mark.parametrize("func", [metrics.precision, metrics.recall, metrics.f1_score,
                                  f_beta_score])
@pytest.mark.parametrize("flag", [True, False])
def test_zero_division_refuses_a_bool_though_it_equals_0_or_1(func, flag):
    with pytest.raises(ValueError, match=f"{func.__name__}: zero_division .* must be 0 or 1; "
                                         f"got {flag}"):
        func([0, 1, 1], [0, 1, 0], zero_division=flag)


def test_get_refuses_a_loss_class_and_asks_for_an_instance():
    # A class is callable, but calling it makes a loss, not a metric's value.
    with pytest.raises(ValueError, match=r"metric MSE is a class: pass an instance, MSE\(\)"):
        metrics.get(losses.MSE)
    assert not metrics.is_named(losses.MSE, metrics.mean_squared_error)
    assert metrics.get(losses.MSE()).__name__ == "mean_squared_error"


# --- cosine similarity and Pearson's correlation --------------------------------------

@pytest.mark.parametrize("small", [3e-7, 3e-8])
def test_cosine_similarity_floors_a_small_norm_of_either_side_as_keras_does(small):
    # Keras's normalize divides by max(norm, 1e-7): a norm below it shrinks the cosine.
    rows, tiny = [[1.0, 0.0], [1.0, 1.0]], [[small, 0.0], [1.0, 0.0]]
    for y_true, y_pred in ((tiny, rows), (rows, tiny)):
        expected = keras_result("CosineSimilarity", y_true, y_pred)
        assert cosine_similarity(y_true, y_pred) == pytest.approx(expected, rel=1e-6)


def test_cosine_similarity_of_large_float32_rows_is_computed_in_float64():
    # Squares of 1e20 overflow float32 (its largest is 3.4e38): inf / inf would be NaN.
    rng = np.random.default_rng(1)
    t, p = rng.normal(size=(5, 3)) * 1e20, rng.normal(size=(5, 3)) * 1e20
    t32, p32 = t.astype(np.float32), p.astype(np.float32)
    expected = np.mean(np.diag(sk_cosine(t32.astype(float), p32.astype(float))))
    assert cosine_similarity(t32, p32) == pytest.approx(expected, rel=1e-12)


def test_pearson_correlation_of_collinear_data_stays_within_minus_one_and_one():
    # Rounding takes the ratio to 1 + 2e-16 for some of these samples; scipy clips it too.
    rng = np.random.default_rng(0)
    for _ in range(40):
        x = rng.normal(size=int(rng.integers(2, 9)))
        for slope in (3.7, -3.7):
            r = pearson_correlation(x, slope * x + 1.3)
            assert -1.0 <= r <= 1.0
            assert r == pytest.approx(pearsonr(x, slope * x + 1.3).statistic, abs=1e-14)
            assert r == pytest.approx(np.sign(slope), abs=1e-14)


# --- what fit and evaluate score: a score exactly at the threshold ---------------------

def test_a_hinge_score_of_exactly_zero_is_class_zero_for_the_class_metrics():
    # The hinge's decision is the sign of the score, and 0 is not above Keras's threshold
    # (BinaryAccuracy(threshold=0.0) on the scores gives the same).
    y_sign = np.array([[1.0], [-1.0], [1.0], [-1.0]])
    scores = np.array([[0.0], [0.0], [0.7], [-0.3]])
    values = metric_values(losses.Hinge(), y_sign, scores,
                           {"accuracy": metrics.accuracy, "precision": metrics.precision,
                            "true_positives": nl.keras_metrics.true_positives})
    y01 = (y_sign > 0).astype(float)
    assert values["accuracy"] == keras_result("BinaryAccuracy", y01, scores, threshold=0.0)
    assert values["accuracy"] == 0.75
    assert values["precision"] == 1.0 and values["true_positives"] == 1.0


def test_an_output_of_exactly_one_half_is_class_zero_for_precision_and_recall_as_in_keras():
    # Under MSE the outputs are scored as they are, class 1 above 0.5, as Keras's
    # Precision() and Recall() count them; at 0.5 itself, class 0.
    y = np.array([[1.0], [0.0], [1.0], [0.0]])
    outputs = np.array([[0.5], [0.5], [0.9], [1.2]])
    scored = {"precision": metrics.precision, "recall": metrics.recall,
              "f1_score": metrics.f1_score, "f_beta_score": f_beta_score}
    values = metric_values(losses.MSE(), y, outputs, scored)
    p = keras_result("Precision", y, outputs)
    r = keras_result("Recall", y, outputs)
    assert values["precision"] == pytest.approx(p, rel=1e-6) == pytest.approx(0.5)
    assert values["recall"] == pytest.approx(r, rel=1e-6) == pytest.approx(0.5)
    assert values["f1_score"] == values["f_beta_score"] == pytest.approx(0.5)
