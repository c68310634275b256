"""Tests of nnlab.metrics against closed forms and scikit-learn."""

import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given
from hypothesis import strategies as st

import nnlab as nl
from nnlab import losses, metrics
from nnlab.callbacks import Callback, EarlyStopping
from nnlab.keras_metrics import KERAS_METRICS
from nnlab.metrics import (
    AVERAGES,
    accuracy,
    binary_accuracy,
    confusion_matrix,
    f1_score,
    mean_absolute_error,
    mean_squared_error,
    precision,
    recall,
)
from nnlab.training_state import NotSavedWarning


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


@given(n=st.integers(1, 20), m=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_regression_metrics_match_sklearn_and_the_mse_loss(n, m, seed):
    rng = np.random.default_rng(seed)
    y, p = rng.normal(size=(n, m)), rng.normal(size=(n, m))
    assert mean_squared_error(y, p) == pytest.approx(skm.mean_squared_error(y, p))
    assert mean_absolute_error(y, p) == pytest.approx(skm.mean_absolute_error(y, p))
    assert mean_squared_error(y, p) == pytest.approx(losses.MSE()(p, y))


@given(n=st.integers(2, 20), m=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_keras_other_regression_metrics_match_sklearn_and_the_losses(n, m, seed):
    rng = np.random.default_rng(seed)
    y, p = rng.uniform(0.5, 9, size=(n, m)), rng.uniform(0.5, 9, size=(n, m))
    # Keras's root of the mean over every element; scikit-learn's averages each column's
    assert metrics.root_mean_squared_error(y, p) == pytest.approx(
        np.sqrt(skm.mean_squared_error(y, p)))
    assert metrics.root_mean_squared_error(y[:, 0], p[:, 0]) == pytest.approx(
        skm.root_mean_squared_error(y[:, 0], p[:, 0]))
    # scikit-learn's is a fraction; Keras's (and nnlab's) a percentage
    assert metrics.mean_absolute_percentage_error(y, p) == pytest.approx(
        100 * skm.mean_absolute_percentage_error(y, p))
    assert metrics.mean_squared_logarithmic_error(y, p) == pytest.approx(
        skm.mean_squared_log_error(y, p))
    assert metrics.r2_score(y, p) == pytest.approx(skm.r2_score(y, p))
    assert metrics.log_cosh_error(y, p) == pytest.approx(losses.LogCosh()(p, y))
    assert metrics.poisson(np.round(y), p) == pytest.approx(losses.Poisson()(p, np.round(y)))


def test_r2_score_of_constant_targets_and_a_model_that_logs_it():
    assert metrics.r2_score([2.0, 2.0], [2.0, 2.0]) == 1.0
    assert metrics.r2_score([[2.0, 1.0], [2.0, 3.0]], [[2.0, 1.0], [2.5, 3.0]]) == 0.5
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = X @ np.array([1.0, -2.0]) + 5
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.compile("mse", nl.optimizers.Adam(0.1), metrics=["mape", "r2_score"])
    history = model.fit(X, y, epochs=30, batch_size=10, seed=0)
    assert history.history["r2_score"][-1] > history.history["r2_score"][0]
    assert history.history["mape"][-1] < history.history["mape"][0]
    assert np.isnan(metrics.poisson([1.0], [-0.5]))   # reported, as Keras does
    with pytest.raises(ValueError, match="y_pred must be rates, at least 0"):
        losses.Poisson()([-0.5], [1.0])                   # refused by the loss


def test_whole_number_predictions_are_labels_when_there_are_more_than_two_classes():
    # Floats that are all 0 and 1 could be probabilities of class 1, but not next to a
    # class 2, nor with n_classes=3.
    assert accuracy([2, 0, 1], np.array([0.0, 0.0, 1.0])) == pytest.approx(2 / 3)
    cm = confusion_matrix([1, 0, 1], np.array([0.0, 0.0, 1.0]), n_classes=3)
    np.testing.assert_array_equal(cm, [[1, 0, 0], [1, 1, 0], [0, 0, 0]])
    assert accuracy([1, 0, 1], np.array([0.2, 0.7, 0.9])) == pytest.approx(1 / 3)


def test_regression_metrics_closed_form_and_column_shapes():
    assert mean_squared_error([1.0, 2.0], [1.5, 4.0]) == pytest.approx((0.25 + 4) / 2)
    assert mean_absolute_error([1.0, 2.0], [[1.5], [4.0]]) == pytest.approx(1.25)
    assert isinstance(mean_squared_error([1], [1]), float)


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


def test_get_resolves_names_aliases_and_callables():
    expected = {"accuracy": accuracy, "acc": accuracy, "binary_accuracy": binary_accuracy,
                "mse": mean_squared_error, "mean_squared_error": mean_squared_error,
                "mae": mean_absolute_error, "mean_absolute_error": mean_absolute_error,
                "categorical_accuracy": accuracy, "sparse_categorical_accuracy": accuracy,
                "precision": precision, "recall": recall, "f1_score": f1_score,
                "root_mean_squared_error": metrics.root_mean_squared_error,
                "mape": metrics.mean_absolute_percentage_error,
                "mean_absolute_percentage_error": metrics.mean_absolute_percentage_error,
                "msle": metrics.mean_squared_logarithmic_error,
                "mean_squared_logarithmic_error": metrics.mean_squared_logarithmic_error,
                "log_cosh_error": metrics.log_cosh_error, "logcosh": metrics.log_cosh_error,
                "poisson": metrics.poisson, "r2_score": metrics.r2_score,
                "top_k_categorical_accuracy": metrics.top_k_categorical_accuracy,
                "sparse_top_k_categorical_accuracy": metrics.top_k_categorical_accuracy}
    assert set(metrics.NAMES) == set(expected) | set(KERAS_METRICS)
    for name, func in expected.items():
        assert metrics.get(name) is func
    assert metrics.get("ACC") is accuracy
    # Keras's class names too
    assert metrics.get("SparseCategoricalAccuracy") is accuracy
    assert metrics.get("BinaryAccuracy") is binary_accuracy
    assert metrics.get("MeanSquaredError") is mean_squared_error
    assert metrics.get("Precision") is precision
    assert metrics.get("Recall") is recall
    assert metrics.get("F1Score") is f1_score

    def custom(y_true, y_pred):
        return 0.0

    assert metrics.get(custom) is custom
    with pytest.raises(ValueError, match=r"unknown metric 'roc'; valid names are: .*f1_score"):
        metrics.get("roc")


def test_labels_out_of_range_are_rejected_against_probabilities_too():
    for metric in (metrics.accuracy, metrics.confusion_matrix):
        with pytest.raises(ValueError, match=r"must be in \[0, 1\] for 2 classes; got 2"):
            metric([0, 2], [0.1, 0.9])


# --- precision, recall, F1 ------------------------------------------------------------

SCORES = [(precision, skm.precision_score), (recall, skm.recall_score),
          (f1_score, skm.f1_score)]


def quietly(func, *args, **kwargs):
    """``func(...)``, with any warning it gives raised as an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return func(*args, **kwargs)


@given(n=st.integers(1, 30), k=st.integers(2, 5), seed=st.integers(0, 2**32 - 1),
       average=st.sampled_from(AVERAGES), positive=st.sampled_from([0, 1]),
       zero_division=st.sampled_from([0, 1]),
       form=st.sampled_from(["labels", "probabilities", "scores"]), one_hot=st.booleans())
def test_precision_recall_f1_match_sklearn(n, k, seed, average, positive, zero_division,
                                           form, one_hot):
    if average == "binary" or form == "probabilities":
        k = 2
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    if form == "labels":
        y_pred = rng.integers(0, k, n)
        predicted = y_pred
    elif form == "probabilities":
        y_pred = rng.random((n, 1))
        predicted = (y_pred[:, 0] > 0.5).astype(int)
    else:
        y_pred = rng.normal(size=(n, k))
        predicted = y_pred.argmax(axis=1)
    y_true = np.eye(k)[y] if one_hot else y
    settings = {"average": average, "zero_division": zero_division}
    for ours, reference in SCORES:
        value = quietly(ours, y_true, y_pred, positive=positive, **settings)
        with warnings.catch_warnings():
            # scikit-learn warns of undefined ratios, and of pos_label with other averages
            warnings.simplefilter("ignore")
            expected = reference(y, predicted, pos_label=positive, **settings)
        assert isinstance(value, float) and 0 <= value <= 1
        assert value == pytest.approx(expected, abs=1e-12), ours.__name__
    if average == "micro":   # one class per sample: every count of the sum is the accuracy's
        assert precision(y_true, y_pred, average="micro") == pytest.approx(
            accuracy(y_true, y_pred))


def test_precision_recall_f1_by_hand():
    y = [0, 0, 0, 0, 1, 1, 1, 1, 1, 1]
    p = [0, 0, 0, 1, 1, 1, 1, 0, 0, 0]
    # Class 0: TP 3 (the first three), FN 1 (sample 3), FP 3 (samples 7-9).
    assert precision(y, p, positive=0) == 3 / 6
    assert recall(y, p, positive=0) == 3 / 4
    assert f1_score(y, p, positive=0) == pytest.approx(2 * 0.5 * 0.75 / (0.5 + 0.75))
    # Class 1: TP 3 (samples 4-6), FP 1, FN 3.
    assert precision(y, p) == 3 / 4
    assert recall(y, p) == 3 / 6
    assert f1_score(y, p) == pytest.approx(6 / (6 + 1 + 3))
    # Three classes: class 1 is never predicted, so its precision is 0/0 and its recall 0.
    y, p = [0, 1, 2, 2], [0, 2, 2, 2]
    assert precision(y, p, average="macro") == pytest.approx((1 + 0 + 2 / 3) / 3)
    assert precision(y, p, average="macro", zero_division=1) == pytest.approx((1 + 1 + 2 / 3) / 3)
    assert recall(y, p, average="macro", zero_division=1) == pytest.approx((1 + 0 + 1) / 3)
    assert precision(y, p, average="weighted") == pytest.approx((1 + 0 + 2 * 2 / 3) / 4)
    assert f1_score(y, p, average="micro") == 0.75
    # Scores with a fourth column that no sample has nor gets: left out of the mean.
    assert precision([0, 1], np.eye(4)[[0, 1]], average="macro") == 1.0


def test_one_probability_per_sample_is_class_1_above_one_half_as_in_keras():
    # Keras's Precision() and Recall(): y_pred > 0.5 is positive, so 0.5 itself is not.
    assert precision([1, 0, 1], [0.5, 0.7, 0.9]) == 0.5
    assert recall([1, 0, 1], [0.5, 0.7, 0.9]) == 0.5
    assert precision([0, 1, 1, 1], [1, 0, 1, 1]) == pytest.approx(2 / 3)  # Keras's docstring
    assert recall([[1], [1]], [[0.51], [0.49]]) == 0.5


def test_undefined_ratios_score_zero_division_without_a_warning():
    nothing_flagged = ([1, 1, 0], [0.1, 0.2, 0.3])
    assert quietly(precision, *nothing_flagged) == 0.0
    assert quietly(precision, *nothing_flagged, zero_division=1) == 1.0
    assert quietly(recall, *nothing_flagged, zero_division=1) == 0.0   # two missed: defined
    no_positives = ([0, 0], [0, 1])
    assert quietly(recall, *no_positives) == 0.0
    assert quietly(recall, *no_positives, zero_division=1) == 1.0
    assert quietly(precision, *no_positives, zero_division=1) == 0.0   # a false alarm
    # F1 = 2TP / (2TP + FP + FN) is undefined only with no positive on either side.
    assert quietly(f1_score, [0, 0], [0, 0]) == 0.0
    assert quietly(f1_score, [0, 0], [0, 0], zero_division=1) == 1.0
    assert quietly(f1_score, [1, 0], [0, 0], zero_division=1) == 0.0
    assert quietly(recall, [0, 0], [0, 0], positive=0) == 1.0   # defined: 2 of 2 found


BAD_SCORES = [
    ({"average": "samples"}, r"average must be one of 'binary', 'macro', 'micro', 'weighted'; "
                             r"got 'samples'"),
    ({"average": None}, "average must be one of .*; got None"),
    ({"positive": 2}, "positive must be one of the classes 0, 1; got 2"),
    ({"positive": -1}, r"positive must be in \[0, inf\); got -1"),
    ({"positive": "malignant"}, "positive must be an integer; got 'malignant'"),
    ({"zero_division": "warn"}, "zero_division .* must be 0 or 1; got 'warn'"),
    ({"zero_division": np.nan}, "zero_division .* must be 0 or 1; got nan"),
    ({"zero_division": 0.5}, "zero_division .* must be 0 or 1; got 0.5"),
]


@pytest.mark.parametrize("func", [precision, recall, f1_score])
@pytest.mark.parametrize(("kwargs", "match"), BAD_SCORES)
def test_bad_settings_raise_value_errors_that_name_them(func, kwargs, match):
    with pytest.raises(ValueError, match=f"{func.__name__}: {match}"):
        func([0, 1, 1], [0.2, 0.9, 0.4], **kwargs)


@pytest.mark.parametrize("func", [precision, recall, f1_score])
def test_bad_data_for_the_scores_raises_value_error(func):
    name = func.__name__
    with pytest.raises(ValueError, match=rf"{name}: average='binary' scores one class of two, "
                                         r"but y_true and y_pred have 3 classes; choose "
                                         r"average='macro', 'micro' or 'weighted'"):
        func([0, 1, 2], [0, 1, 1])
    with pytest.raises(ValueError, match="have 3 classes"):   # the columns say so
        func(np.eye(3)[[0, 1]], [[0.9, 0.1, 0.0], [0.2, 0.7, 0.1]])
    with pytest.raises(ValueError, match=f"{name}: y_true has 3 samples but y_pred has 2"):
        func([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match=r"3 classes \(columns\) but y_pred has 4"):
        func(np.eye(3)[[0, 1]], np.zeros((2, 4)), average="macro")
    with pytest.raises(ValueError, match="1-D or 2-D"):
        func(np.zeros((2, 2, 2)), [0, 1])
    with pytest.raises(ValueError, match="empty"):
        func([], [])
    with pytest.raises(ValueError, match=r"\[0, 1\] for 2 classes; got 2"):
        func([0, 2], [0.1, 0.9], average="macro")
    with pytest.raises(ValueError, match=rf"{name}: 1000001 classes .*largest seen: 1000000\)"):
        func([0, 10**6], [0, 0], average="macro")


class EpochPredictions(Callback):
    """The model's outputs on ``X`` as each epoch begins: with one full batch and no
    dropout, the outputs the epoch's training metrics are computed from."""

    def __init__(self, X):
        super().__init__()
        self.X, self.outputs = X, []

    def on_epoch_begin(self, epoch, logs=None):
        self.outputs.append(self.model.predict(self.X))


def test_fit_logs_precision_and_recall_as_the_functions_compute_them():
    X, y = nl.datasets.moons(60, seed=0)
    Xv, yv = nl.datasets.moons(40, seed=1)
    model = nl.Sequential([nl.Dense(2, 4, rng=3), nl.Activation("tanh"),
                           nl.Dense(4, 1, rng=4), nl.Activation("sigmoid")])
    model.compile("binary_crossentropy", nl.optimizers.Adam(0.05),
                  metrics=["precision", "recall", "f1_score"])
    seen = EpochPredictions(X)
    h = model.fit(X, y, epochs=3, batch_size=len(X), shuffle=False,
                  validation_data=(Xv, yv), callbacks=[seen], seed=0).history
    assert list(h) == ["loss", "precision", "recall", "f1_score",
                       "val_loss", "val_precision", "val_recall", "val_f1_score"]
    for name, func in [("precision", precision), ("recall", recall), ("f1_score", f1_score)]:
        assert h[name] == [func(y, out) for out in seen.outputs]
        assert h[f"val_{name}"][-1] == func(yv, model.predict(Xv))
    # The first epoch flags samples of class 0 only (precision 0); then no score is trivial.
    assert h["precision"][0] == 0.0 and all(np.isfinite(v) for v in h["precision"])
    assert 0 < h["precision"][-1] < 1 and 0 < h["recall"][-1] < 1
    assert h["precision"][-1] != h["recall"][-1]
    _, p, r, f = model.evaluate(Xv, yv)
    assert [p, r, f] == [h["val_precision"][-1], h["val_recall"][-1], h["val_f1_score"][-1]]


def test_fit_thresholds_logits_and_scores_for_the_scores():
    X, y = nl.datasets.moons(60, seed=0)
    # Logits: the sigmoid first, so class 1 is a positive logit.
    model = nl.Sequential([nl.Dense(2, 4, rng=3), nl.Activation("tanh"), nl.Dense(4, 1, rng=4)])
    model.compile(nl.losses.BinaryCrossEntropy(from_logits=True), "adam", metrics=["recall"])
    model.fit(X, y, epochs=5, seed=0)
    logits = model.predict(X)[:, 0]
    assert model.evaluate(X, y)[1] == recall(y, (logits > 0).astype(int)) > 0
    # MSE: outputs outside [0, 1], which precision alone rejects, are class 1 above 0.5.
    Xg, yg = nl.datasets.logic_gate("or")
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.compile("mse", nl.optimizers.SGD(0.5), metrics=["precision"])
    model.fit(Xg, yg, epochs=20, batch_size=4, seed=0)
    outputs = model.predict(Xg)
    assert outputs.max() > 1 or outputs.min() < 0
    with pytest.raises(ValueError, match="probabilities in"):
        precision(yg, outputs)
    assert model.evaluate(Xg, yg)[1] == precision(yg, (outputs > 0.5).astype(int))
    # Hinge: -1/+1 labels and scores become 0/1 at 0.
    Xh = np.random.default_rng(0).normal(size=(40, 2))
    yh = np.where(Xh[:, 0] + 0.5 * Xh[:, 1] > 0, 1.0, -1.0)
    model = nl.Sequential([nl.Dense(2, 1, rng=2)])
    model.compile("hinge", metrics=["precision", "f1_score"])
    scores = model.predict(Xh)[:, 0]
    logs = model.evaluate(Xh, yh, return_dict=True)
    assert logs["precision"] == precision(yh > 0, (scores > 0).astype(int))
    assert logs["f1_score"] == f1_score(yh > 0, (scores > 0).astype(int))


def test_a_multi_class_model_is_refused_the_binary_scores_before_training():
    X, y = nl.datasets.blobs(30, centers=3, seed=0)
    model = nl.Sequential([nl.Dense(2, 3, rng=0), nl.Activation("softmax")])
    model.compile("sparse_categorical_crossentropy", metrics=["precision"])
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match=r"metric 'precision' .* choose average='macro'.*"
                                         "a function of your own that calls precision"):
        model.fit(X, y, epochs=1)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before, strict=True))


def test_a_metric_of_ones_own_scores_the_class_one_chooses():
    # What chapter 10 advises for the malignant class (label 0), and for many classes.
    def malignant_recall(y_true, y_pred):
        return nl.metrics.recall(y_true, y_pred, positive=0)

    def macro_f1(y_true, y_pred):
        return nl.metrics.f1_score(y_true, y_pred, average="macro")

    X, y = nl.datasets.blobs(60, centers=3, seed=0)
    model = nl.Sequential([nl.Dense(2, 3, rng=0)])
    model.compile(nl.losses.CategoricalCrossEntropy(from_logits=True), "adam",
                  metrics=[macro_f1])
    history = model.fit(X, y, epochs=2, seed=0)
    assert history.history["macro_f1"][-1] == pytest.approx(
        nl.metrics.f1_score(y, model.predict(X), average="macro"))
    binary = nl.Sequential([nl.Dense(2, 1, rng=0), nl.Activation("sigmoid")])
    binary.compile("binary_crossentropy", "adam", metrics=[malignant_recall, "recall"])
    t = (y > 0).astype(float)
    h = binary.fit(X, t, epochs=1, seed=0).history
    p = binary.predict(X)
    assert h["malignant_recall"][-1] == pytest.approx(nl.metrics.recall(t, p, positive=0))
    assert h["recall"][-1] == pytest.approx(nl.metrics.recall(t, p))


def test_early_stopping_keeps_the_highest_precision_recall_and_f1():
    # As Keras 3, which asks each metric its direction: these are better higher.
    for monitor in ("val_precision", "recall", "val_f1_score", "val_accuracy"):
        assert EarlyStopping(monitor=monitor).mode == "max"
    assert EarlyStopping(monitor="val_loss").mode == "min"
    X, y = nl.datasets.moons(60, seed=0)
    Xv, yv = nl.datasets.moons(40, seed=1)
    model = nl.Sequential([nl.Dense(2, 4, rng=3), nl.Activation("tanh"),
                           nl.Dense(4, 1, rng=4), nl.Activation("sigmoid")])
    model.compile("binary_crossentropy", nl.optimizers.Adam(0.05), metrics=["recall"])
    stop = EarlyStopping(monitor="val_recall", patience=3, restore_best_weights=True)
    h = model.fit(X, y, epochs=15, validation_data=(Xv, yv), callbacks=[stop], seed=0).history
    assert stop.best == max(h["val_recall"]) > min(h["val_recall"])
    assert recall(yv, model.predict(Xv)) == stop.best


def test_r2_score_of_constant_targets_is_scikit_learns_forced_finite_score():
    # As its docstring says: scikit-learn's default force_finite=True, 1 for an exact
    # prediction, 0 else; without it, NaN and -inf.
    for y_pred in ([2.0, 2.0, 2.0], [2.0, 2.0, 3.0]):
        assert metrics.r2_score([2.0] * 3, y_pred) == skm.r2_score([2.0] * 3, y_pred)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert np.isnan(skm.r2_score([2.0] * 3, [2.0] * 3, force_finite=False))


def test_a_loss_is_the_metric_of_its_value():
    y_true, y_pred = [1, 0, 1], [0.9, 0.2, 0.6]
    bce = metrics.get(losses.BinaryCrossEntropy())
    # the metric takes (y_true, y_pred), the loss (y_pred, y_true)
    assert bce(y_true, y_pred) == metrics.get("binary_crossentropy")(y_true, y_pred)
    assert bce(y_true, y_pred) == pytest.approx(0.2797765635793423)
    assert bce.__name__ == "binary_crossentropy"
    assert metrics.get(losses.MSE())([1.0, 2.0], [1.5, 4.0]) == pytest.approx(2.125)
    # outputs outside [0, 1] are clipped, as fit and the metric of that name clip them
    assert bce([1, 0], [1.5, -0.2]) == metrics.get("binary_crossentropy")([1, 0], [1.5, -0.2])
    with pytest.raises(losses.PredictionRangeError):
        losses.BinaryCrossEntropy()([1.5, -0.2], [1, 0])
    # from logits, unless told it will get probabilities (fit under a loss of logits)
    logits = losses.BinaryCrossEntropy(from_logits=True)
    z = np.array([2.0, -1.0, 0.5])
    assert metrics.get(logits)(y_true, z) == logits(z, y_true)
    assert metrics.get(logits, probabilities=True)(y_true, nl.activations.sigmoid(z)) == \
        pytest.approx(logits(z, y_true), rel=1e-12)

    class Unnamed(losses.MSE):
        name = "loss"   # the base class's: fit's own "loss" in the logs

    assert metrics.get(Unnamed()).__name__ == "Unnamed"
    assert metrics.get(losses.CosineSimilarity()).__name__ == "cosine_similarity_loss"


def test_fit_and_evaluate_log_a_loss_given_as_a_metric_as_the_loss():
    # Under a loss of logits, fit gives the metrics probabilities: a loss of logits given as
    # a metric is computed from them. Under mse, from the outputs themselves.
    X, y = nl.datasets.moons(60, seed=0)
    Xv, yv = nl.datasets.moons(40, seed=1)
    logits = nl.losses.BinaryCrossEntropy(from_logits=True)
    focal = nl.losses.BinaryFocalCrossEntropy(gamma=0.5, from_logits=True)
    for loss in (logits, "mse"):
        model = nl.Sequential([nl.Dense(2, 4, rng=3), nl.Activation("tanh"),
                               nl.Dense(4, 1, rng=4)])
        model.compile(loss, nl.optimizers.Adam(0.05), metrics=[logits, focal])
        seen = EpochPredictions(X)
        h = model.fit(X, y, epochs=3, batch_size=len(X), shuffle=False, seed=0,
                      validation_data=(Xv, yv), callbacks=[seen]).history
        assert list(h) == ["loss", "binary_crossentropy", "binary_focal_crossentropy",
                           "val_loss", "val_binary_crossentropy",
                           "val_binary_focal_crossentropy"]
        for name, fn in [("binary_crossentropy", logits), ("binary_focal_crossentropy", focal)]:
            assert h[name] == pytest.approx([fn(out, y) for out in seen.outputs], rel=1e-9)
            assert h[f"val_{name}"][-1] == pytest.approx(fn(model.predict(Xv), yv), rel=1e-9)
        assert model.evaluate(Xv, yv, return_dict=True)["binary_crossentropy"] == \
            pytest.approx(logits(model.predict(Xv), yv), rel=1e-9)
    assert h["binary_crossentropy"] != pytest.approx(h["loss"])   # mse's
    assert EarlyStopping(monitor="val_binary_crossentropy").mode == "min"
    # A loss of probabilities, given as a metric to a model of logits, gets probabilities.
    model.compile(logits, metrics=[nl.losses.BinaryCrossEntropy()])
    assert model.evaluate(Xv, yv)[1] == pytest.approx(logits(model.predict(Xv), yv), rel=1e-9)


def test_r2_score_of_equal_targets_whose_mean_rounds():
    # The mean of seven 0.7s is not exactly 0.7 in float64: a tiny total variance, which
    # scikit-learn turns into a score of -2e29. Equal targets are tested as such here.
    assert metrics.r2_score([0.7] * 7, [0.75] * 7) == 0.0
    assert metrics.r2_score([0.1] * 3, [0.1] * 3) == 1.0
    assert metrics.r2_score(1.0, 1.0) == 1.0   # one value, as the other metrics take it


@pytest.mark.parametrize("monitor", ["val_r2_score", "val_R2Score", "val_Precision"])
def test_early_stopping_maximises_the_scores_that_are_better_higher(monitor):
    assert EarlyStopping(monitor=monitor).mode == "max"


def test_metrics_given_by_keras_class_names_are_saved(tmp_path):
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.compile("mse", "sgd", metrics=["RootMeanSquaredError", "r2_score",
                                         lambda y_true, y_pred: 0.0])
    with pytest.warns(NotSavedWarning, match="the metrics '<lambda>' are not saved"):
        loaded = nl.load_model(model.save(tmp_path / "m"))
    assert list(loaded.metrics) == ["RootMeanSquaredError", "r2_score"]   # not one's own


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
