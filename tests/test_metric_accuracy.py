"""Tests of accuracy, binary and top-k accuracy and the confusion matrix against closed
forms and scikit-learn, and of how the metrics reject bad labels and predictions."""

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given
from hypothesis import strategies as st

import nnlab as nl
from nnlab import losses, metrics
from nnlab.metrics import (
    accuracy,
    binary_accuracy,
    confusion_matrix,
    mean_absolute_error,
    mean_squared_error,
    precision,
)


def test_accuracy_takes_every_prediction_form():
    y = np.array([0, 1, 1, 0])
    probs = np.array([0.2, 0.9, 0.4, 0.6])  # thresholded at 0.5: 0, 1, 0, 1
    assert accuracy(y, probs) == 0.5
    assert accuracy(y, probs.reshape(-1, 1)) == 0.5
    assert accuracy(y.reshape(-1, 1), probs) == 0.5
    assert accuracy(y, [0, 1, 0, 1]) == 0.5  # labels
    assert accuracy(y, np.array([0.0, 1.0, 1.0, 0.0])) == 1.0  # float labels / certain probs
    scores = np.array([[2.0, -1.0], [0.1, 0.3], [-5.0, 5.0], [1.0, 0.0]])
    assert accuracy(y, scores) == 1.0
    assert accuracy(np.eye(2)[y], scores) == 1.0  # one-hot truth
    assert accuracy([2, 0, 1], np.array([2.0, 0.0, 2.0])) == pytest.approx(2 / 3)


@given(n=st.integers(1, 30), k=st.integers(2, 6), seed=st.integers(0, 2**32 - 1))
def test_accuracy_and_confusion_matrix_match_sklearn(n, k, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    scores = rng.normal(size=(n, k))
    predicted = scores.argmax(axis=1)
    assert accuracy(y, scores) == pytest.approx(skm.accuracy_score(y, predicted))
    cm = confusion_matrix(y, scores)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(y, predicted, labels=range(k)))
    assert cm.shape == (k, k) and cm.dtype.kind == "i" and cm.sum() == n
    assert np.trace(cm) / n == pytest.approx(accuracy(y, scores))


def test_confusion_matrix_rows_are_true_classes():
    cm = confusion_matrix([0, 0, 1, 2], [0, 1, 1, 1])
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [0, 1, 0]])
    assert confusion_matrix([0, 1], [0, 1], n_classes=4).shape == (4, 4)
    np.testing.assert_array_equal(confusion_matrix([1, 0], [[0.7], [0.2]]), [[1, 0], [0, 1]])
    with pytest.raises(ValueError, match=r"\[0, 1\] for n_classes=2; got 2"):
        confusion_matrix([0, 2], [0, 1], n_classes=2)
    with pytest.raises(ValueError, match="n_classes"):
        confusion_matrix([0, 1], [0, 1], n_classes=0)


@pytest.mark.parametrize("label", [10_000, 10**12, 2**53])
def test_confusion_matrix_rejects_labels_that_are_not_class_indices(label):
    # An id taken for a class index asked for label^2 counts: MemoryError, OverflowError.
    with pytest.raises(ValueError, match=rf"largest seen: {label}\).*np.unique"):
        confusion_matrix([0, label], [0, 0])
    with pytest.raises(ValueError, match="at most 10000 classes"):
        confusion_matrix([0, 1], [0, 1], n_classes=10**6)
    assert confusion_matrix([0, 9_999], [0, 0]).shape == (10_000, 10_000)


def test_binary_accuracy_thresholds_and_label_conventions():
    assert binary_accuracy([1, 0, 1], [0.8, 0.6, 0.3]) == pytest.approx(1 / 3)
    assert binary_accuracy([1, 0, 1], [0.8, 0.6, 0.3], threshold=0.7) == pytest.approx(2 / 3)
    assert binary_accuracy([-1, 1, 1], [-2.0, 0.5, -0.1], threshold=0.0) == pytest.approx(2 / 3)
    assert binary_accuracy([[1, 0], [0, 0]], [[0.9, 0.1], [0.2, 0.7]]) == 0.75  # multi-label
    assert binary_accuracy([1, 0], [[0.9], [0.1]]) == 1.0
    with pytest.raises(ValueError, match="0/1 or -1/\\+1"):
        binary_accuracy([0, 2], [0.1, 0.9])
    with pytest.raises(ValueError, match="0/1 or -1/\\+1"):
        binary_accuracy([-1, 0, 1], [0.1, 0.9, 0.3])
    with pytest.raises(ValueError, match="threshold"):
        binary_accuracy([0, 1], [0.1, 0.9], threshold="half")


def test_binary_accuracy_counts_a_prediction_at_the_threshold_as_negative():
    # Keras's rule: y_pred > threshold is the positive class; equal to it is not.
    assert binary_accuracy([0, 0, 1], [0.5, 0.5, 0.9]) == 1.0
    assert binary_accuracy([-1, 1], [0.0, 0.1], threshold=0.0) == 1.0


def test_whole_number_predictions_are_labels_when_there_are_more_than_two_classes():
    # Floats that are all 0 and 1 could be probabilities of class 1, but not next to a
    # class 2, nor with n_classes=3.
    assert accuracy([2, 0, 1], np.array([0.0, 0.0, 1.0])) == pytest.approx(2 / 3)
    cm = confusion_matrix([1, 0, 1], np.array([0.0, 0.0, 1.0]), n_classes=3)
    np.testing.assert_array_equal(cm, [[1, 0, 0], [1, 1, 0], [0, 0, 0]])
    assert accuracy([1, 0, 1], np.array([0.2, 0.7, 0.9])) == pytest.approx(1 / 3)


# --- bad labels and predictions -------------------------------------------------------

BAD = [
    (accuracy, [0, 1, 1], [0, 1], "3 samples but y_pred has 2"),
    (accuracy, [0, np.nan], [0, 1], "NaN"),
    (accuracy, [0, 1], [0.2, np.inf], "NaN"),
    (accuracy, [-1, 1], [0.3, 0.8], "binary_accuracy"),
    (accuracy, [0.5, 1], [0, 1], "integer class labels"),
    (accuracy, [0, 1], [-2.5, 3.7], r"labels \(integers\) or probabilities in \[0, 1\]"),
    # whole-number floats below 0 are raw scores too, not negative labels
    (accuracy, [0, 1], [-2.0, 3.0], "for raw scores use binary_accuracy with a threshold"),
    (accuracy, [0, 1], [0, -1], "non-negative"),
    # precision, recall, f1 and the confusion matrix have no threshold: other fixes
    (precision, [-1, 1], [0, 1], r"for -1/\+1 labels map them to 0/1\)$"),
    (confusion_matrix, [0, 1], [-2.5, 3.7],
     r"for raw scores pass nl\.activations\.sigmoid\(y_pred\) or the labels \(y_pred > 0\)"),
    (confusion_matrix, [0, 1], np.zeros((2, 3)), r"n_classes=2 is fewer than the 3 classes"),
    (accuracy, [0, 3], np.zeros((2, 3)), r"\[0, 2\] for 3 classes; got 3"),
    (accuracy, np.eye(3)[[0, 1]], np.zeros((2, 4)), "3 classes .* 4"),
    (accuracy, [], [], "empty"),
    (accuracy, np.zeros((2, 2, 2)), [0, 1], "1-D or 2-D"),
    (confusion_matrix, [0, 1], [0, 1, 1], "2 samples but y_pred has 3"),
    (mean_squared_error, [1.0, 2.0], [1.0, 2.0, 3.0], r"\(2,\) but y_pred has shape \(3,\)"),
    (mean_absolute_error, np.ones((2, 2)), np.ones(4), "must match"),
    (mean_absolute_error, [[1.0, 2.0]], [[1.0], [2.0]], r"\(1, 2\) but y_pred has shape \(2, 1\)"),
    (mean_squared_error, [np.nan], [1.0], "NaN"),
    (mean_squared_error, [], [], "must not be empty"),
]


@pytest.mark.parametrize(("func", "y_true", "y_pred", "match"), BAD)
def test_bad_input_raises_value_error(func, y_true, y_pred, match):
    kwargs = {"n_classes": 2} if "n_classes" in match else {}
    with pytest.raises(ValueError, match=match):
        func(y_true, y_pred, **kwargs)


def test_n_classes_may_exceed_the_columns_of_scores_but_not_fall_short():
    # Fewer than the columns counted only the classes below n_classes, in silence.
    scores = np.eye(3)[[0, 2, 1]]
    assert confusion_matrix([0, 2, 1], scores, n_classes=5).trace() == 3
    with pytest.raises(ValueError, match=r"n_classes=1 is fewer than the 2 classes .* give "
                                         r"at least 2, or leave it out"):
        confusion_matrix([0, 1], [0.2, 0.9], n_classes=1)


def test_labels_out_of_range_are_rejected_against_probabilities_too():
    for metric in (metrics.accuracy, metrics.confusion_matrix):
        with pytest.raises(ValueError, match=r"must be in \[0, 1\] for 2 classes; got 2"):
            metric([0, 2], [0.1, 0.9])


# --- top-k accuracy -------------------------------------------------------------------

@given(n=st.integers(1, 30), k_classes=st.integers(3, 8), k=st.integers(1, 7),
       seed=st.integers(0, 2**32 - 1))
def test_top_k_accuracy_matches_sklearn(n, k_classes, k, seed):
    # (scikit-learn takes a (N, 2) score only with labels beyond 0/1, and warns at k >= K)
    k = min(k, k_classes - 1)
    rng = np.random.default_rng(seed)
    scores, labels = rng.normal(size=(n, k_classes)), rng.integers(0, k_classes, n)
    expected = skm.top_k_accuracy_score(labels, scores, k=k, labels=range(k_classes))
    assert metrics.top_k_categorical_accuracy(labels, scores, k=k) == pytest.approx(expected)
    assert metrics.top_k_categorical_accuracy(np.eye(k_classes)[labels], scores, k=k) \
        == pytest.approx(expected)


def test_top_k_accuracy_counts_ties_at_the_kth_score_in_as_keras_does():
    scores = [[0.5, 0.2, 0.2, 0.1]]
    assert metrics.top_k_categorical_accuracy([2], scores, k=2) == 1.0   # tied with class 1
    assert metrics.top_k_categorical_accuracy([3], scores, k=3) == 0.0
    with pytest.raises(ValueError, match=r"score per class, \(N, K\)"):
        metrics.top_k_categorical_accuracy([1, 0], [0.9, 0.2])
    with pytest.raises(ValueError, match="k must be"):
        metrics.top_k_categorical_accuracy([1], [[0.1, 0.9]], k=0)
    model = nl.Sequential([nl.Dense(4, 6, rng=0)])
    model.compile(losses.CategoricalCrossEntropy(from_logits=True), "adam",
                  metrics=["sparse_top_k_categorical_accuracy"])
    X = np.random.default_rng(0).normal(size=(30, 4))
    history = model.fit(X, np.arange(30) % 6, epochs=2, seed=0)
    assert 0 <= history.history["sparse_top_k_categorical_accuracy"][-1] <= 1
