"""A diverging fit stops and says so; a non-finite step changes nothing; outputs a loss
cannot take are clipped with a warning, and metrics outside their domain are NaN."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nnlab as nl
from nnlab.layers import Dense
from nnlab.model import LossGrowthWarning, TrainingDivergedWarning
from tests.helpers import assert_same_weights, mlp, regression_data, snapshot


def test_divergence_stops_with_a_warning_and_keeps_the_history():
    X, y = regression_data(100)
    model = nl.Sequential([Dense(3, 1, rng=0)])
    model.compile("mse", nl.optimizers.SGD(5.0), metrics=["mae"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(X, y, epochs=200, batch_size=10, validation_split=0.1, seed=0)
    # Its finite growth was announced first, once, in the epoch it passed 100x epoch 1's.
    assert [type(w.message) for w in caught] == [LossGrowthWarning, TrainingDivergedWarning]
    record = caught[1:]
    assert "learning rate" in str(record[0].message)
    assert record[0].filename == __file__  # attributed to the caller of fit
    losses = history.history["loss"]
    assert 1 < len(losses) < 200 and len(history.epoch) == len(losses)
    assert not np.isfinite(losses[-1]) and np.all(np.isfinite(losses[:-1]))
    assert losses[-2] > losses[0]
    assert np.isnan(history.history["mae"][-1])
    assert "diverged" in model.stop_reason and model.stop_training   # as a callback stops it
    assert model.stop_reason.endswith(f"in epoch {len(losses)}")   # counted from 1
    assert f"in epoch {len(losses)}," in str(record[0].message)
    # The clipping it advises is Pascanu et al.'s, by the global norm: Keras's name for it.
    assert "clip gradients (optimizer global_clipnorm=1.0)" in str(record[0].message)
    assert all(np.all(np.isfinite(p)) for p in model.params)  # the bad update was skipped
    assert issubclass(TrainingDivergedWarning, RuntimeWarning)


def test_a_poisson_rate_below_zero_in_training_is_named_as_a_cause():
    # The outputs start positive (the trial pass accepts them), then a linear output
    # crosses 0: the logarithm of a negative rate is NaN, and fit says what may cause it.
    X = np.linspace(0.1, 1.0, 20)[:, None]
    y = np.round(3 * X[:, 0])
    model = nl.Sequential([Dense(1, 1, init="zeros")])
    model.layers[0].params["b"][:] = 0.01
    model.compile("poisson", nl.optimizers.SGD(5.0))
    with pytest.warns(TrainingDivergedWarning, match="a predicted rate below 0 does it too"):
        model.fit(X, y, epochs=50, batch_size=5, seed=0)


def test_train_step_reports_a_non_finite_loss_without_updating():
    model = nl.Sequential([Dense(1, 1, init="zeros")])
    model.compile("mse", nl.optimizers.SGD(0.1))
    model.params[0][...] = 1e300
    before = snapshot(model)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = model.train_step([[1e10]], [0.0])
    assert not np.isfinite(loss)
    assert_same_weights(model, before)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_train_step_skips_an_update_whose_gradient_overflowed(dtype):
    # y_pred = x W is about 3, so the loss is finite, but dL/dW = 2 x (y_pred - y)
    # overflows: the step must report NaN and leave every parameter as it was.
    big = float(np.finfo(dtype).max) / 2
    model = nl.Sequential([Dense(1, 1, init="zeros", dtype=dtype)])
    model.params[0][...] = 3 / big
    model.compile("mse", nl.optimizers.SGD(0.1))
    before = snapshot(model)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = model.train_step([[big]], [0.0])
    assert np.isnan(loss)
    assert_same_weights(model, before)


def test_outputs_a_loss_cannot_take_are_clipped_with_a_warning_that_says_what_it_costs():
    # Binary cross-entropy after a linear layer: Keras trains on the outputs clipped into
    # (0, 1), and so does fit, but not in silence. The direct call of the loss rejects them.
    X, y = nl.datasets.moons(100, seed=0)
    model = mlp(out="linear")
    model.compile("binary_crossentropy", nl.optimizers.SGD(0.1))
    outputs = model.predict(X * 10)
    assert outputs.min() < 0 or outputs.max() > 1
    with pytest.raises(nl.losses.PredictionRangeError, match=r"y_pred must be in \[0, 1\]"):
        model.loss(outputs, y)
    with pytest.warns(nl.model.ClippedOutputsWarning,
                      match=r"of X\) do not suit the loss BinaryCrossEntropy\(from_logits=Fals"
                            r"e\), which takes probabilities in \[0, 1\].*clipped into "
                            r"\[1e-07, 1 - 1e-07\].*no gradient.*sigmoid.*from_logits=True"):
        history = model.fit(X * 10, y, epochs=2)
    assert np.isfinite(history.history["loss"]).all()
    assert model.optimizer.iterations == 8
    with pytest.warns(nl.model.ClippedOutputsWarning):
        loss = model.evaluate(X * 10, y)
    clipped = np.clip(model.predict(X * 10), 1e-7, 1 - 1e-7)
    assert loss == pytest.approx(nl.losses.BinaryCrossEntropy()(clipped, y))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")   # Python's own: each text once per line of code
        for start in range(0, 40, 10):
            model.train_step(X[start:start + 10] * 10, y[start:start + 10])
    assert len(caught) == 1


def test_a_loss_as_a_metric_is_nan_where_the_predictions_leave_its_domain():
    # A Poisson metric of a model trained on mse met a negative rate after the first
    # updates and stopped fit with a ValueError; Keras's metric is NaN there.
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(16, 2)), rng.poisson(2, size=16).astype(float)
    model = nl.Sequential([Dense(2, 1, rng=0)])
    model.compile("mse", "sgd", metrics=[nl.losses.Poisson(), nl.losses.Dice()])
    history = model.fit(X, y / y.max(), epochs=2, batch_size=4, seed=0).history
    assert np.isnan(history["poisson"]).all() and np.isnan(history["dice"]).all()
    with pytest.raises(ValueError, match="y_pred must be rates"):   # the loss itself refuses
        nl.losses.Poisson()([[-1.0]], [1.0])
    # Clipped into [0, 1], a row of negative scores is a row of zeros, which a focal loss's
    # forward (what fit trains on and evaluate scores) takes as shares of 0, clipped to
    # 1e-7: alpha -log(1e-7), the loss's value, not NaN. A row of zeros given is NaN.
    focal = nl.losses.CategoricalFocalCrossEntropy()
    scored = nl.scoring.scores(focal, {}, np.array([[1.0, 0.0]]), np.array([[-1.0, -2.0]]))
    assert focal.as_metric()([[1.0, 0.0]], [[-1.0, -2.0]]) == scored["loss"]
    assert scored["loss"] == pytest.approx(-0.25 * np.log(1e-7), rel=1e-6)
    assert np.isnan(focal.as_metric()([[1.0, 0.0]], [[0.0, 0.0]]))
    with pytest.raises(ValueError, match=r"metric 'dice' .* y_true must be in \[0, 1\]"):
        model.fit(X, y, epochs=1)   # bad targets are still refused before training


def test_overflow_inside_the_network_is_reported_as_divergence():
    """Huge weights overflow between layers; fit must report that, not fail a layer check."""
    X = np.random.default_rng(0).normal(size=(64, 2))
    y = np.ones((64, 1))
    model = nl.diagnostics.deep_mlp(10, 32, activation="relu", init="he_normal",
                                    init_scale=2.0, rng=0)
    model.compile("mse", nl.optimizers.SGD(0.01))
    with pytest.warns(TrainingDivergedWarning):
        history = model.fit(X, y, epochs=10, batch_size=16, seed=0)
    assert len(history.history["loss"]) < 10


def test_a_diverging_step_leaves_the_batch_norm_statistics_as_they_were():
    """The forward pass updates the running statistics before the loss is known; a step
    whose loss overflows must undo that, or every later prediction is NaN."""
    model = nl.Sequential([nl.Dense(1, 2, rng=0), nl.BatchNorm(2), nl.Dense(2, 1, rng=1)])
    model.compile("mse", nl.optimizers.SGD(0.1))
    X, y = np.array([[1.0], [2.0], [4.0]]), np.ones((3, 1))
    model.train_step(X, y)
    before = model.get_weights()
    model.layers[0].params["W"][...] = 1e300   # the next forward overflows to inf
    before[0][...] = 1e300
    with np.errstate(over="ignore"):
        assert not np.isfinite(model.train_step(X * 1e10, y))
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert np.isfinite(model.layers[1].buffers["running_var"]).all()


def test_the_clipped_outputs_warning_points_at_the_callers_line():
    # fit, evaluate and train_step reach the check at different depths, validation data
    # one deeper still: each warning names this file, not nnlab's.
    X, y = nl.datasets.moons(40, seed=0)
    model = mlp(out="linear")
    model.compile("binary_crossentropy", nl.optimizers.SGD(0.1))
    calls = [lambda: model.fit(X * 10, y, epochs=1, validation_data=(X * 10, y)),
             lambda: model.evaluate(X * 10, y), lambda: model.train_step(X * 10, y)]
    for call in calls:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call()
        assert caught and all(w.category is nl.model.ClippedOutputsWarning for w in caught)
        assert {w.filename for w in caught} == {__file__}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_loss_that_overflows_on_the_trial_outputs_issues_no_numpy_warning(dtype):
    # exp of outputs near 88 is finite in float32, their Poisson loss's sum is not.
    X = np.where(np.random.default_rng(0).random((16, 3)) < 0.5, -1e4, 1e4)
    model = nl.Sequential([nl.Dense(3, 1, rng=0), nl.Activation("exponential")]).astype(dtype)
    model.compile(loss="poisson", optimizer=nl.optimizers.SGD(0.01))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, np.ones((16, 1)), epochs=2)
    assert [w.category for w in caught] == [TrainingDivergedWarning]


def test_a_finite_loss_that_keeps_growing_is_called_divergence_once_and_fit_goes_on():
    # SGD with a rate above 2 / L on a least-squares problem: each epoch multiplies the
    # loss by about 2.5, and it would take some 770 epochs to overflow float64.
    X, y = regression_data(200)
    model = nl.Sequential([Dense(3, 1, rng=0)])
    model.compile("mse", nl.optimizers.SGD(1.2))
    with pytest.warns(LossGrowthWarning) as caught:
        history = model.fit(X, y, epochs=12, batch_size=200)
    losses = history.history["loss"]
    assert len(caught) == 1 and caught[0].filename == __file__
    epoch = next(e for e in range(3, 12) if losses[e] > 100 * losses[0])   # counted from 0
    assert np.all(np.diff(losses) > 0)   # every epoch worse than the one before
    assert str(caught[0].message).startswith(
        f"training diverges: the loss grew from {losses[0]:.4g} in epoch 1 to "
        f"{losses[epoch]:.4g} in epoch {epoch + 1}, rising in each of the last 3 epochs "
        f"({(losses[epoch] / losses[epoch - 3]) ** (1 / 3):.3g}x an epoch)")
    assert "learning rate is too large" in str(caught[0].message)
    assert len(losses) == 12 and np.all(np.isfinite(losses)) and model.stop_reason is None
    assert issubclass(LossGrowthWarning, RuntimeWarning)


@pytest.mark.parametrize("losses, warned_at", [
    ([1.0, 50.0, 99.0, 100.0, 101.0], 5),       # past 100x epoch 1's after three rises
    ([1.0, 0.5, 30.0, 60.0, 200.0, 400.0], 5),  # once, not again while it keeps growing
    ([1.0, 500.0, 400.0, 300.0, 600.0], None),  # 100x, but not rising three epochs in a row
    ([1.0, 2.0, 3.0, 50.0, 99.0], None),        # rising, but less than 100x
    ([-0.9, -0.5, -0.3, -0.2, -0.1], None),     # a similarity loss, below 0: no scale
    ([0.0, 1.0, 2.0, 3.0, 4.0], None),          # from a perfect fit: no factor to measure
    ([1.0, 200.0, 300.0], None),                # too few epochs to rise three times
])
def test_divergence_needs_a_hundredfold_growth_and_three_rises_in_a_row(losses, warned_at):
    caught = warnings_of_a_fit(losses)
    if warned_at is None:
        assert not caught, str(caught[0].message) if caught else ""
    else:
        assert len(caught) == 1 and f"in epoch {warned_at}," in str(caught[0].message)


@given(st.lists(st.floats(1e-6, 1e6), min_size=1, max_size=40))
def test_a_loss_that_never_rises_three_times_in_a_row_is_no_divergence(values):
    # Any sequence in which each run of rises is at most two epochs long.
    losses = [values[0]]
    for i, value in enumerate(values[1:], start=1):
        losses.append(value if i % 3 else min(value, losses[-1]))
    assert not warnings_of_a_fit(losses)


@given(first=st.floats(1e-6, 1e6), ratio=st.floats(1.01, 1e3), epochs=st.integers(4, 40))
def test_a_geometric_growth_is_called_divergence_once_where_it_passes_100x(first, ratio,
                                                                          epochs):
    losses = [first * ratio**e for e in range(epochs)]
    passed = [e + 1 for e in range(3, epochs) if losses[e] > 100 * losses[0]]
    caught = warnings_of_a_fit(losses)
    assert len(caught) == (1 if passed else 0)
    if passed:
        assert f"in epoch {passed[0]}," in str(caught[0].message)


def warnings_of_a_fit(losses):
    """The warnings of warn_if_diverging called as fit calls it, once an epoch."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for epoch in range(1, len(losses) + 1):
            nl.training.warn_if_diverging(losses[:epoch])
    return caught


@pytest.mark.parametrize("loss", ["dice", "tversky"])
def test_a_dice_run_whose_outputs_leave_0_1_stops_as_diverged_and_says_why(loss):
    # Outputs of a linear layer start inside [0, 1] (fit accepts them) and leave it after
    # one large step: the Dice value there would fall below 0 and mean nothing.
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (32, 2))
    y = (X[:, :1] > 0.5).astype(float)
    model = nl.Sequential([Dense(2, 1, rng=0)])
    model.layers[0].params["W"][...] = 0.1
    model.layers[0].params["b"][...] = 0.4
    model.compile(loss, nl.optimizers.SGD(5.0))
    with pytest.warns(nl.model.TrainingDivergedWarning, match=r"outside \[0, 1\] do it too"):
        history = model.fit(X, y, epochs=20, batch_size=32).history
    assert len(history["loss"]) == 2 and np.isnan(history["loss"][-1])
    assert 0 < history["loss"][0] < 1 and model.stop_reason.startswith("diverged")


@pytest.mark.parametrize("losses", [[1.0, 0.0, 1.0, 200.0, 300.0],
                                    [1.0, -0.5, 1.0, 200.0, 300.0]])
def test_growth_from_a_loss_of_zero_or_below_is_divergence_without_a_pace(losses):
    # The pace divided by the loss three epochs back: ZeroDivisionError out of fit at 0,
    # a complex number printed below 0 (cosine similarity and others go negative).
    with pytest.warns(LossGrowthWarning, match=r"last 3 epochs\. fit goes on"):
        nl.training.warn_if_diverging(losses)


def test_an_update_that_overflows_the_optimizer_state_stops_fit_and_says_so():
    # AdaGrad's sum of squares overflowed float32 with a finite loss and finite gradients:
    # every later step was 0, training froze, no warning, and save refused the model.
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(64, 4)) * 1e10).astype(np.float32)
    y = rng.normal(size=64).astype(np.float32)
    model = nl.Sequential([Dense(4, 1, rng=0)])
    nl.layer_base.cast_layers(model.layers, np.float32)
    model.compile("mse", nl.optimizers.AdaGrad(1e8))
    with pytest.warns(TrainingDivergedWarning, match="an update made the weights or the "
                                                     "optimizer's state inf or NaN"):
        history = model.fit(X, y, epochs=5)
    assert len(history.history["loss"]) == 1
    assert model.stop_reason.startswith("diverged: an update made the weights")


def test_an_update_that_overflows_the_weights_stops_fit_in_that_epoch():
    # AdamW at lr=1e30 in float32: its weight decay made the weights inf while the loss (a
    # tanh saturates), the gradients and the optimizer's state stayed finite. Only the
    # weights tell; unchecked, a one-epoch fit would return an inf model without a word.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, 4)).astype(np.float32)
    y = (rng.random(16) > 0.5).astype(np.float32)
    model = nl.Sequential([Dense(4, 1, rng=0, dtype="float32"), nl.Activation("tanh")])
    model.compile("mse", nl.optimizers.AdamW(1e30))
    with pytest.warns(TrainingDivergedWarning, match="an update made the weights or the "
                                                     "optimizer's state inf or NaN"):
        history = model.fit(X, y, epochs=3, batch_size=8)
    assert len(history.history["loss"]) == 1 and np.isfinite(history.history["loss"][0])
    assert model.stop_reason == "diverged: " + (
        "an update made the weights or the optimizer's state inf or NaN (the loss was "
        f"{history.history['loss'][0]:.4g}) in epoch 1")
    assert not all(np.isfinite(w).all() for w in model.get_weights())
