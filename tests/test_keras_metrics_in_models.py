"""nnlab.keras_metrics in use: lookup by Keras's names, EarlyStopping's direction for each
metric, and the metrics that fit logs, refuses before training and keeps through save and load."""

import numpy as np
import pytest
import sklearn.metrics as skm

import nnlab as nl
from nnlab import metrics
from nnlab.callbacks import HIGHER_IS_BETTER, EarlyStopping
from nnlab.keras_metrics import (
    KERAS_METRICS,
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

KERAS_CLASS_NAMES = {
    "BinaryCrossentropy": binary_crossentropy, "BCE": binary_crossentropy,
    "CategoricalCrossentropy": categorical_crossentropy,
    "SparseCategoricalCrossentropy": categorical_crossentropy,
    "KLDivergence": kl_divergence, "Hinge": hinge, "SquaredHinge": squared_hinge,
    "CategoricalHinge": categorical_hinge, "AUC": auc,
    "TruePositives": true_positives, "FalsePositives": false_positives,
    "TrueNegatives": true_negatives, "FalseNegatives": false_negatives,
    "CosineSimilarity": cosine_similarity, "PearsonCorrelation": pearson_correlation,
    "ConcordanceCorrelation": concordance_correlation,
}


def test_get_takes_every_keras_name_and_class_name():
    for name, func in {**KERAS_METRICS, **KERAS_CLASS_NAMES}.items():
        assert metrics.get(name) is func
        assert metrics.is_named(name, func)
    assert set(KERAS_METRICS) <= set(metrics.NAMES)
    assert tuple(metrics._REGISTRY) == metrics.NAMES
    assert len(set(metrics.NAMES)) == len(metrics.NAMES)
    with pytest.raises(ValueError, match=r"valid names are: .*auc.*true_positives"):
        metrics.get("roc")


def test_crossentropy_is_the_one_that_suits_the_outputs_as_keras_compile_resolves_it():
    p1, p2 = np.array([[0.9], [0.2]]), np.array([[0.7, 0.3], [0.4, 0.6]])
    for name in ("crossentropy", "ce"):
        fn = metrics.get(name)
        assert fn([1, 0], p1) == fn([1, 0], p1.ravel()) == binary_crossentropy([1, 0], p1)
        assert fn([0, 1], p2) == fn(np.eye(2)[[0, 1]], p2) == categorical_crossentropy(
            [0, 1], p2)
    X, y = nl.datasets.blobs(60, centers=3, seed=0)
    model = nl.Sequential([nl.Dense(2, 3, rng=0), nl.Activation("softmax")])
    h = fit_logs(model, X, y, ["ce"], "sparse_categorical_crossentropy")
    assert h["ce"] == h["loss"]


HIGHER = {"accuracy", "acc", "categorical_accuracy", "sparse_categorical_accuracy",
          "binary_accuracy", "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy",
          "precision", "recall", "f1_score", "r2_score", "auc", "true_positives",
          "true_negatives", "cosine_similarity", "pearson_correlation",
          "concordance_correlation", "binary_iou", "binary_io_u", "f_beta_score"}


def test_early_stopping_knows_the_direction_of_every_metric_name():
    # As Keras 3's metric objects' directions ("up" for these; the losses, "down").
    for name in [*metrics.NAMES, *KERAS_CLASS_NAMES]:
        func = metrics.get(name)
        higher = any(metrics.get(h) is func for h in HIGHER)
        for monitor in (name, f"val_{name}"):
            assert EarlyStopping(monitor=monitor).mode == ("max" if higher else "min"), monitor
    assert {"auc", "true_positives", "pearson_correlation"} <= set(HIGHER_IS_BETTER)


@pytest.mark.parametrize("monitor", ["jaccard_distance", "val_inaccuracy", "iou_loss",
                                     "false_acceptance_rate", "error_2", "val_my_score"])
def test_early_stopping_asks_for_the_mode_of_a_name_it_does_not_know(monitor):
    # A part of a name says nothing ("acc" is in "jaccard", "r2" in "error_2"): as Keras 3,
    # a metric whose direction is not known needs mode="min" or "max".
    with pytest.raises(ValueError, match="pass mode='max' or mode='min'"):
        EarlyStopping(monitor=monitor)
    assert EarlyStopping(monitor=monitor, mode="min").mode == "min"


def test_early_stopping_keeps_the_epoch_of_the_highest_auc():
    X, y = nl.datasets.moons(60, noise=0.3, seed=0)
    Xv, yv = nl.datasets.moons(40, noise=0.3, seed=1)
    model = nl.Sequential([nl.Dense(2, 4, rng=3), nl.Activation("tanh"),
                           nl.Dense(4, 1, rng=4), nl.Activation("sigmoid")])
    model.compile("binary_crossentropy", nl.optimizers.Adam(0.05), metrics=["auc"])
    stop = EarlyStopping(monitor="val_auc", patience=2, restore_best_weights=True)
    h = model.fit(X, y, epochs=20, validation_data=(Xv, yv), callbacks=[stop], seed=0).history
    assert stop.mode == "max" and stop.best == max(h["val_auc"])
    assert auc(yv, model.predict(Xv)) == stop.best


def fit_logs(model, X, y, names, loss, **kwargs):
    """The history of three full-batch epochs with ``names`` compiled as metrics."""
    model.compile(loss, nl.optimizers.Adam(0.05), metrics=names)
    h = model.fit(X, y, epochs=3, batch_size=len(X), shuffle=False, validation_data=(X, y),
                  seed=0, **kwargs).history
    for name in names:
        assert len(h[name]) == 3 and all(np.isfinite(h[name] + h[f"val_{name}"])), name
    return h


def test_fit_logs_every_metric_and_the_losses_as_the_loss():
    X, y = nl.datasets.moons(60, noise=0.3, seed=0)
    binary = ["binary_crossentropy", "bce", "BinaryCrossentropy", "kl_divergence", "auc",
              "AUC", "true_positives", "false_positives", "true_negatives",
              "false_negatives", "TruePositives", "cosine_similarity", "pearson_correlation",
              "concordance_correlation"]
    model = nl.Sequential([nl.Dense(2, 4, rng=3), nl.Activation("tanh"),
                           nl.Dense(4, 1, rng=4), nl.Activation("sigmoid")])
    h = fit_logs(model, X, y, binary, "binary_crossentropy")
    # One full batch: the loss of an epoch is that of the outputs its metrics score.
    assert h["binary_crossentropy"] == h["bce"] == h["loss"]
    assert h["val_binary_crossentropy"][-1] == h["val_loss"][-1]
    p = model.predict(X)
    assert h["val_auc"][-1] == auc(y, p) > 0.5
    assert h["val_true_positives"][-1] == true_positives(y, p)
    assert sum(h[f"{c}_{s}"][0] for c in ("true", "false") for s in ("positives", "negatives")) \
        == len(y)
    # From logits: fit takes the sigmoid before the metric, which then matches the loss.
    logits = nl.Sequential([nl.Dense(2, 4, rng=3), nl.Activation("tanh"), nl.Dense(4, 1, rng=4)])
    h = fit_logs(logits, X, y, ["binary_crossentropy", "auc", "true_positives"],
                 nl.losses.BinaryCrossEntropy(from_logits=True))
    assert h["binary_crossentropy"] == pytest.approx(h["loss"], rel=1e-9)
    assert h["val_true_positives"][-1] == true_positives(y, logits.predict(X) > 0)


def test_fit_logs_the_multiclass_hinge_and_regression_metrics():
    X, y = nl.datasets.blobs(60, centers=3, seed=0)
    softmax = nl.Sequential([nl.Dense(2, 3, rng=0), nl.Activation("softmax")])
    names = ["categorical_crossentropy", "sparse_categorical_crossentropy", "kl_divergence",
             "categorical_hinge", "auc", "false_negatives", "cosine_similarity"]
    h = fit_logs(softmax, X, y, names, "sparse_categorical_crossentropy")
    assert h["categorical_crossentropy"] == h["sparse_categorical_crossentropy"] == h["loss"]
    assert h["kl_divergence"] == pytest.approx(h["loss"])   # one-hot targets
    assert h["val_auc"][-1] == pytest.approx(skm.roc_auc_score(
        np.eye(3)[y], softmax.predict(X), average="micro"))
    scores = nl.Sequential([nl.Dense(2, 3, rng=0)])
    h = fit_logs(scores, X, y, ["categorical_hinge"], "categorical_hinge")
    assert h["categorical_hinge"] == h["loss"]
    signs = np.where(y == 0, 1.0, -1.0)
    margin = nl.Sequential([nl.Dense(2, 1, rng=0)])
    h = fit_logs(margin, X, signs, ["hinge", "squared_hinge", "auc", "true_positives",
                                    "false_positives", "binary_iou"], "hinge")
    assert h["hinge"] == h["loss"]
    assert h["val_auc"][-1] == auc(signs, margin.predict(X))   # -1/+1 labels, raw scores
    # the counts see each score's side of 0, the hinge's decision, not of 0.5
    assert h["val_true_positives"][-1] == true_positives(signs > 0, margin.predict(X) > 0)
    assert h["val_false_positives"][-1] == np.sum((signs < 0) & (margin.predict(X)[:, 0] > 0))
    assert h["val_binary_iou"][-1] == binary_iou(signs > 0, margin.predict(X)[:, 0] > 0)
    # softmax from logits: fit takes the softmax first, and the metric is the loss again
    logits = nl.Sequential([nl.Dense(2, 3, rng=0)])
    h = fit_logs(logits, X, y, ["categorical_crossentropy", "kl_divergence"],
                 nl.losses.CategoricalCrossEntropy(from_logits=True))
    assert h["categorical_crossentropy"] == pytest.approx(h["loss"], rel=1e-9)
    assert h["kl_divergence"] == pytest.approx(h["loss"], rel=1e-9)
    Xr = np.random.default_rng(0).normal(size=(50, 3))
    yr = Xr @ [[1.0, 0.5], [-2.0, 0.0], [0.5, 1.0]]
    regression = nl.Sequential([nl.Dense(3, 2, rng=1)])
    h = fit_logs(regression, Xr, yr, ["PearsonCorrelation", "concordance_correlation",
                                      "CosineSimilarity"], "mse")
    assert h["val_PearsonCorrelation"][-1] == pearson_correlation(yr, regression.predict(Xr))


def test_fit_refuses_a_metric_the_targets_cannot_take_before_training():
    X, y = nl.datasets.moons(30, seed=0)
    model = nl.Sequential([nl.Dense(2, 1, rng=0), nl.Activation("sigmoid")])
    model.compile("binary_crossentropy", metrics=["hinge"])
    with pytest.raises(ValueError, match=r"metric 'hinge' cannot be computed .* -1 or \+1"):
        model.fit(X, y, epochs=1)
    model.compile("binary_crossentropy", metrics=["categorical_crossentropy"])
    with pytest.raises(ValueError, match=r"metric 'categorical_crossentropy' .*2 output units"):
        model.fit(X, y, epochs=1)


def test_auc_of_one_class_is_undefined_and_does_not_stop_training():
    assert np.isnan(auc([0, 0, 0], [0.1, 0.2, 0.3]))
    assert np.isnan(auc([[1], [1]], [[0.1], [0.2]]))
    assert np.isnan(auc([-1, -1], [0.1, 0.2]))
    X, y = nl.datasets.moons(30, seed=0)
    model = nl.Sequential([nl.Dense(2, 1, rng=0), nl.Activation("sigmoid")])
    model.compile("binary_crossentropy", metrics=["auc", "true_positives"])
    assert np.isfinite(model.train_step(X[y == 1], y[y == 1]))
    h = model.fit(X, y, epochs=2, validation_data=(X[y == 0], y[y == 0]), seed=0).history
    assert np.isfinite(h["auc"]).all() and np.isnan(h["val_auc"]).all()
    assert h["val_true_positives"] == [0.0, 0.0]


def test_models_keep_these_metrics_through_save_and_load(tmp_path):
    names = ["auc", "TruePositives", "bce", "false_negatives", "PearsonCorrelation",
             "cosine_similarity", "kl_divergence"]
    model = nl.Sequential([nl.Dense(2, 1, rng=0), nl.Activation("sigmoid")])
    model.compile("binary_crossentropy", "adam", metrics=names)
    loaded = nl.load_model(model.save(tmp_path / "m"))
    assert list(loaded.metrics) == names
    assert all(loaded.metrics[n] is model.metrics[n] for n in names)
    X, y = nl.datasets.moons(20, seed=0)
    assert loaded.evaluate(X, y) == model.evaluate(X, y)
