"""Tests of metrics.get (names, aliases, callables and losses) and of metrics in use:
logged by fit and evaluate, monitored by EarlyStopping, and kept by a saved model."""

import numpy as np
import pytest

import nnlab as nl
from nnlab import losses, metrics
from nnlab.callbacks import Callback, EarlyStopping
from nnlab.keras_metrics import KERAS_METRICS
from nnlab.metrics import (
    accuracy,
    binary_accuracy,
    f1_score,
    mean_absolute_error,
    mean_squared_error,
    precision,
    recall,
)
from nnlab.training_state import NotSavedWarning


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


# --- precision, recall, F1 in fit, evaluate and EarlyStopping -------------------------

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


# --- losses as metrics ----------------------------------------------------------------

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


# --- Keras's names in EarlyStopping and saving ----------------------------------------

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
