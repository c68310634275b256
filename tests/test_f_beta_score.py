"""Tests of the F-beta score (nnlab.f_score_metrics.f_beta_score, Keras's "f_beta_score"):
against scikit-learn and Keras's FBetaScore, its relation to F1, precision and recall, and in
fit, where its name logs it."""

import re

import numpy as np
import pytest
import sklearn.metrics as skm

import nnlab as nl
from nnlab import metrics
from nnlab.f_score_metrics import f_beta_score
from tests.helpers import keras_metric


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0, 3])
@pytest.mark.parametrize("average", ["binary", "macro", "micro", "weighted"])
@pytest.mark.parametrize("seed", range(3))
def test_f_beta_score_matches_sklearn(beta, average, seed):
    rng = np.random.default_rng(seed)
    k = 2 if average == "binary" else 4
    y, p = rng.integers(0, k, 30), rng.integers(0, k, 30)
    for positive in (0, 1) if average == "binary" else (1,):
        ours = f_beta_score(y, p, beta=beta, positive=positive, average=average)
        theirs = skm.fbeta_score(y, p, beta=beta, pos_label=positive, average=average)
        assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-15)


def keras_f_beta(y_true, y_pred, **settings):
    return keras_metric("FBetaScore", y_true, y_pred, dtype="float64", **settings)


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0])
def test_f_beta_score_equals_keras_s_on_one_probability_per_sample(beta):
    # Keras's FBetaScore(threshold=0.5) on (N, 1): one score, that of class 1. Keras adds
    # 1e-7 to each denominator: the values differ by about that much.
    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 2, 40), rng.uniform(size=40)
    theirs = keras_f_beta(y[:, None], p[:, None], beta=beta, threshold=0.5)
    assert theirs.shape == (1,)
    assert f_beta_score(y, p, beta=beta) == pytest.approx(float(theirs[0]), rel=1e-6)


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("average", ["macro", "micro", "weighted"])
def test_f_beta_score_equals_keras_s_on_scores_per_class(beta, average):
    # Keras's threshold=None: each row's largest score is its class, the argmax. Every class
    # occurs, so that Keras's macro average (which averages 0 in for a class in neither
    # input) is this one.
    rng = np.random.default_rng(1)
    y, scores = rng.integers(0, 4, 60), rng.normal(size=(60, 4))
    theirs = keras_f_beta(np.eye(4)[y], scores, beta=beta, average=average)
    assert f_beta_score(y, scores, beta=beta, average=average) == pytest.approx(
        float(theirs), rel=1e-6)
    # Keras's default, average=None: one score per class, each that of the class alone
    per_class = keras_f_beta(np.eye(4)[y], scores, beta=beta)
    ours = [f_beta_score(y == c, scores.argmax(axis=1) == c, beta=beta) for c in range(4)]
    np.testing.assert_allclose(ours, per_class, rtol=1e-6)


def test_beta_weighs_recall_against_precision():
    rng = np.random.default_rng(2)
    y, p = rng.integers(0, 2, 50), rng.uniform(size=50)
    assert f_beta_score(y, p) == metrics.f1_score(y, p)   # beta = 1: F1, the same number
    assert f_beta_score(y, p, beta=1e-4) == pytest.approx(metrics.precision(y, p), rel=1e-7)
    assert f_beta_score(y, p, beta=1e4) == pytest.approx(metrics.recall(y, p), rel=1e-7)
    # P = 1, R = 1/3: (1 + b^2) P R / (b^2 P + R)
    for beta in (0.5, 2.0, 3.0):
        b2 = beta**2
        assert f_beta_score([1, 1, 1, 0], [1, 0, 0, 0], beta=beta) == pytest.approx(
            (1 + b2) / 3 / (b2 + 1 / 3), rel=1e-15)


@pytest.mark.parametrize("beta, limit", [(1e150, metrics.recall), (1e-150, metrics.precision)])
def test_the_largest_and_smallest_beta_give_the_recall_and_the_precision(beta, limit):
    rng = np.random.default_rng(3)
    y, p = rng.integers(0, 3, 40), rng.integers(0, 3, 40)
    for average in ("macro", "micro", "weighted"):
        assert f_beta_score(y, p, beta=beta, average=average) == pytest.approx(
            limit(y, p, average=average), rel=1e-14)
        assert f_beta_score(y, p, beta=beta, average=average) == pytest.approx(
            skm.fbeta_score(y, p, beta=beta, average=average), rel=1e-14)
    # defined (TP = FP = 0 < FN, or TP = FN = 0 < FP): 0, not zero_division (with beta**2
    # rounded to 0, the first was 0/0)
    assert f_beta_score([1, 0], [0, 0], beta=beta, zero_division=1) == 0.0
    assert f_beta_score([0, 0], [1, 0], beta=beta, zero_division=1) == 0.0


def test_an_undefined_score_is_zero_division():
    assert f_beta_score([0, 0], [0, 0], beta=2.0) == 0.0
    assert f_beta_score([0, 0], [0, 0], beta=2.0, zero_division=1) == 1.0
    assert f_beta_score([1, 0], [0, 0], beta=0.5, zero_division=1) == 0.0   # defined: FN > 0


@pytest.mark.parametrize("kwargs, message", [
    ({"beta": 0.0}, "f_beta_score: beta must be in (0, inf); got 0.0"),
    ({"beta": -1.0}, "f_beta_score: beta must be in (0, inf); got -1.0"),
    ({"beta": "2"}, "f_beta_score: beta must be a real number; got '2'"),
    ({"beta": float("nan")}, "f_beta_score: beta must be finite; got nan"),
    # beta**2 overflowed: an OverflowError; or underflowed to 0 (see below)
    ({"beta": 1e200}, "f_beta_score: beta must be in [1e-150, 1e150], where beta**2 is a "
                      "float64 number; got 1e+200. Beyond, the score is the precision (small "
                      "beta) or the recall (large beta)"),
    ({"beta": 1e-200}, "f_beta_score: beta must be in [1e-150, 1e150]"),
    ({"beta": 10**400}, "f_beta_score: beta must fit in a float"),
    ({"average": None}, "f_beta_score: average must be one of 'binary', 'macro', 'micro', "
                        "'weighted'; got None"),
    ({"positive": 2}, "f_beta_score: positive must be one of the classes 0, 1; got 2"),
])
def test_f_beta_score_refuses_bad_settings_naming_them(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        f_beta_score([0, 1, 1], [0, 1, 0], **kwargs)


def test_f_beta_score_refuses_bad_input_as_f1_does():
    with pytest.raises(ValueError, match=r"f_beta_score: average='binary' scores one class of "
                                         r"two, but y_true and y_pred have 3 classes"):
        f_beta_score([0, 1, 2], [0, 1, 2])
    with pytest.raises(ValueError, match=r"f_beta_score: y_true has 3 samples but y_pred has 2"):
        f_beta_score([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match=r"f_beta_score: y_pred .* must be class labels"):
        f_beta_score([0, 1], [-0.5, 2.5])


def test_get_finds_it_by_keras_s_names():
    for name in ("f_beta_score", "FBetaScore"):
        assert metrics.get(name) is f_beta_score and metrics.is_named(name, f_beta_score)
    assert "f_beta_score" in metrics.NAMES
    assert nl.keras_metrics.KERAS_METRICS["f_beta_score"] is f_beta_score


def test_fit_logs_it_as_f1_and_a_model_file_keeps_it(tmp_path):
    X, y = nl.datasets.moons(60, seed=0)
    model = nl.Sequential([nl.Dense(2, 4, rng=3), nl.Activation("tanh"),
                           nl.Dense(4, 1, rng=4), nl.Activation("sigmoid")])
    model.compile("binary_crossentropy", nl.optimizers.Adam(0.05),
                  metrics=["f_beta_score", "f1_score"])
    h = model.fit(X, y, epochs=3, batch_size=len(X), validation_data=(X, y), seed=0).history
    assert h["f_beta_score"] == h["f1_score"] and h["val_f_beta_score"] == h["val_f1_score"]
    assert h["val_f_beta_score"][-1] == f_beta_score(y, model.predict(X)) > 0.5

    def f2(y_true, y_pred):   # another beta: a function of one's own, as for f1_score
        return f_beta_score(y_true, y_pred, beta=2.0)

    model.compile("binary_crossentropy", nl.optimizers.Adam(0.05), metrics=[f2])
    assert model.evaluate(X, y, return_dict=True)["f2"] == f_beta_score(y, model.predict(X),
                                                                         beta=2.0)
    model.compile("binary_crossentropy", "adam", metrics=["f_beta_score"])
    loaded = nl.load_model(model.save(tmp_path / "m"))
    assert loaded.metrics == {"f_beta_score": f_beta_score}


@pytest.mark.parametrize("loss", ["hinge", "mse"])
def test_it_scores_the_classes_of_hinge_scores_and_of_outputs_beyond_0_and_1(loss):
    # As f1_score: hinge's +-1 labels and scores become classes, an MSE output above 0.5 is
    # class 1. Before, fit refused hinge's labels, and MSE outputs once they left [0, 1].
    X, y = nl.datasets.moons(60, seed=0)
    labels = 2 * y - 1 if loss == "hinge" else y
    model = nl.Sequential([nl.Dense(2, 4, rng=3), nl.Activation("tanh"), nl.Dense(4, 1, rng=4)])
    model.compile(loss, nl.optimizers.SGD(0.5), metrics=["f_beta_score", "f1_score"])
    h = model.fit(X, labels, epochs=5, batch_size=len(X), seed=0).history
    assert h["f_beta_score"] == h["f1_score"] and len(h["f1_score"]) == 5
