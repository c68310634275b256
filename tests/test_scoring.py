"""What evaluate and validation report: every output counts, whatever the order of the
samples; outputs that overflow give inf without a warning; predict leaves no caches that
a backward could mix with another batch's gradient."""

import warnings

import numpy as np
import pytest

import nnlab as nl


def identity_model(loss):
    model = nl.Sequential([nl.Dense(1, 1, init="ones")])
    model.compile(loss=loss, optimizer=nl.optimizers.SGD(0.01))
    return model


# 64 samples whose outputs the loss takes, then 10 that it does not: check_data tries the
# first 64 only, so the data reversed used to raise and the data as it is to give NaN.
INSIDE, OUTSIDE = np.ones((64, 1)), -np.ones((10, 1))


@pytest.mark.parametrize("loss", ["poisson", nl.losses.Dice()])
@pytest.mark.parametrize("order", ["inside first", "outside first"])
def test_evaluate_refuses_outputs_outside_the_loss_domain_wherever_they_are(loss, order):
    X = np.r_[INSIDE, OUTSIDE] if order == "inside first" else np.r_[OUTSIDE, INSIDE]
    model = identity_model(loss)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="do not suit the loss"):
            model.evaluate(X, np.ones(len(X)))


def test_validation_outside_the_domain_is_nan_and_training_goes_on():
    model = identity_model("poisson")
    X = np.r_[INSIDE, OUTSIDE]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = model.fit(INSIDE, np.ones(64), epochs=2, validation_data=(X, np.ones(74)))
    assert np.isnan(history.history["val_loss"]).all()
    assert np.isfinite(history.history["loss"]).all()


def test_probabilities_outside_0_1_beyond_the_first_samples_are_clipped_as_fit_clips():
    model = identity_model("binary_crossentropy")
    X = np.r_[np.full((64, 1), 0.5), np.full((10, 1), 2.0)]
    y = np.ones(74)
    clipped = nl.losses.BinaryCrossEntropy()(np.clip(model.predict(X), 0, 1), y[:, None])
    assert model.evaluate(X, y) == pytest.approx(float(clipped))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_evaluate_of_outputs_that_overflow_is_inf_without_a_warning(dtype):
    model = nl.Sequential([nl.Dense(1, 1, init="ones"), nl.Activation("exponential")])
    model.compile(loss="mse", metrics=["mse", "mae"])
    model.astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, mse, mae = model.evaluate([[1e4], [0.0]], [1.0, 1.0])
    # exponential stops at the largest float: its square is inf, its mean error is not
    largest = float(np.finfo(dtype).max)
    assert loss == mse == np.inf and mae == pytest.approx(largest / 2, rel=1e-4)


def test_a_backward_after_predict_asks_for_forward_instead_of_mixing_two_batches():
    model = nl.Sequential([nl.Dense(3, 4, rng=0), nl.Activation("relu"), nl.Dense(4, 1, rng=1)])
    x = np.random.default_rng(0).normal(size=(5, 3))
    model.forward(x, training=True)
    model.predict(x[::-1])   # same batch size: its caches would have fit
    with pytest.raises(ValueError, match="call forward first"):
        model.backward(np.ones((5, 1)))
    model.compile(loss="mse")
    model.forward(x, training=True)
    model.evaluate(x[::-1], np.zeros(5))
    with pytest.raises(ValueError, match="call forward first"):
        model.backward(np.ones((5, 1)))


def test_scores_gives_the_loss_and_the_metrics_of_every_output():
    y_true, y_pred = np.array([[1.0], [0.0], [0.0]]), np.array([[0.5], [0.0], [1.0]])
    s = nl.scoring.scores(nl.losses.MSE(), {"accuracy": nl.metrics.accuracy}, y_true, y_pred)
    assert s == {"loss": pytest.approx(1.25 / 3), "accuracy": pytest.approx(1 / 3)}


@pytest.mark.parametrize("loss", [nl.losses.CategoricalCrossEntropy(),
                                  nl.losses.CategoricalFocalCrossEntropy()])
def test_outputs_outside_0_1_are_scored_as_fit_trains_on_them(loss):
    # A linear output (then a ReLU's, whose rows can be all 0) under a loss of probabilities:
    # fit warns and trains on the loss's own clip, and evaluate and validation score that.
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(100, 4)), rng.integers(0, 3, 100)
    model = nl.Sequential([nl.Dense(4, 3, rng=0), nl.Activation("relu")])
    model.compile(loss=loss, optimizer=nl.optimizers.SGD(0.01))
    with pytest.warns(nl.training.ClippedOutputsWarning):
        history = model.fit(X, y, epochs=2, validation_split=0.2)
    assert np.isfinite(history.history["val_loss"]).all()
    with pytest.warns(nl.training.ClippedOutputsWarning):
        loss_value = model.evaluate(X, y)
    y_true = np.eye(3)[y]
    assert loss_value == pytest.approx(float(loss.forward(model.predict(X), y_true)))
