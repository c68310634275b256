"""Tests of precision, recall and F1 against scikit-learn and hand counts, and of their
checks of settings and data."""

import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given
from hypothesis import strategies as st

from nnlab.metrics import (
    AVERAGES,
    accuracy,
    f1_score,
    precision,
    recall,
)

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


# --- bad settings and data ------------------------------------------------------------

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
