"""Callbacks in fit: early stopping (its rule against Keras 3's), the order of the
hooks and their logs, History, and what verbose prints."""

import re

import numpy as np
import pytest

import nnlab as nl
from nnlab.callbacks import Callback, EarlyStopping, History
from nnlab.layers import Dense
from tests.helpers import mlp, regression_data


def test_early_stopping_stops_and_restores_the_best_weights():
    X, y = regression_data(40)
    model = nl.Sequential([Dense(3, 1, rng=0)])
    model.compile("mse", nl.optimizers.SGD(0.05))
    stop = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    # Validating against -y: the better the model fits y, the worse val_loss gets.
    history = model.fit(X, y, epochs=50, batch_size=8, validation_data=(X, -y), seed=0,
                        callbacks=[stop])
    val = history.history["val_loss"]
    assert stop.best_epoch == int(np.argmin(val)) == 0
    assert len(val) == stop.best_epoch + 2 + 1 and stop.stopped_epoch == len(val) - 1
    assert model.stop_reason.startswith("early stopping")
    assert model.evaluate(X, -y) == pytest.approx(val[stop.best_epoch], rel=1e-12)


class FakeModel:
    def __init__(self):
        self.weights = [np.zeros(1)]
        self.stop_training = False
        self.stop_reason = None

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = weights


@pytest.mark.parametrize("patience, min_delta, values, stopped, keras_options", [
    (0, 0.0, [3, 2, 2, 1], 2, {}),          # 2 is no improvement on 2
    (1, 0.0, [3, 2, 2.5, 1, 1], 2, {}),
    (2, 0.0, [3, 2, 2.5, 1.5, 1.6, 1.7, 1.8], 5, {}),
    (0, 0.5, [3, 2.6, 2], 1, {}),           # an improvement of 0.4 < min_delta
    (1, 0.0, [3, float("nan"), 2], 1, {}),  # a NaN epoch never improves
    # Improvements that do not beat the baseline do not restart the count.
    (2, 0.0, [3, 2, 2.5, 1.8, 1.0, 2, 2], 6, {}),
    (2, 0.0, [3, 2, 2.5, 1.8, 1.0, 2, 2], 2, {"baseline": 1.5}),
    # The first epochs are not watched at all.
    (1, 0.0, [1, 0.5, 3, 2, 2.5], 2, {}),
    (1, 0.0, [1, 0.5, 3, 2, 2.5], 4, {"start_from_epoch": 2}),
])
def test_early_stopping_rule(patience, min_delta, values, stopped, keras_options):
    stop = EarlyStopping(monitor="loss", patience=patience, min_delta=min_delta,
                         restore_best_weights=True, **keras_options)
    model = run_early_stopping(stop, values)
    assert stop.stopped_epoch == stopped
    assert model.weights[0][0] == stop.best_epoch


def test_early_stopping_says_what_it_did_when_verbose(capsys):
    X, y = regression_data(30)
    model = nl.Sequential([Dense(3, 1, rng=0)])
    model.compile("mse", nl.optimizers.SGD(0.01))
    stop = EarlyStopping(monitor="loss", min_delta=1e9, patience=1, verbose=1,
                         restore_best_weights=True)   # no epoch is good enough after the first
    model.fit(X, y, epochs=5, callbacks=[stop])
    assert capsys.readouterr().out == ("Epoch 2: early stopping\n"
                                       "Restoring model weights from the end of the best "
                                       "epoch: 1.\n")


def run_early_stopping(stop, values):
    """Feed ``values`` to ``stop`` as the losses of successive epochs, a model whose weights
    are the epoch number; return the model at the end."""
    model = FakeModel()
    stop.set_model(model)
    stop.set_params({"metrics": ["loss"]})
    stop.on_train_begin()
    for epoch, value in enumerate(values):
        model.weights = [np.array([float(epoch)])]
        stop.on_epoch_end(epoch, {"loss": value})
        if model.stop_training:
            break
    stop.on_train_end()
    return model


def test_early_stopping_given_to_a_second_fit_starts_again():
    # A notebook cell run again with the same callback: as in Keras, the best value and the
    # count of epochs without improvement of the last run are forgotten.
    stop = EarlyStopping(monitor="loss", patience=2)
    run_early_stopping(stop, [1.0, 2.0, 3.0])   # best 1.0, stopped at epoch 2
    model = run_early_stopping(stop, [5.0, 4.0, 3.0])   # worse than 1.0, but improving
    assert not model.stop_training and stop.best == 3.0 and stop.best_epoch == 2
    stop = EarlyStopping(monitor="loss", patience=3, baseline=0.5)
    run_early_stopping(stop, [1.0, 0.9, 2.0])   # a count of 3: stopped at epoch 2
    model = run_early_stopping(stop, [1.5, 1.6, 0.4, 0.3])   # 0.4 beats the baseline
    assert not model.stop_training and stop.wait == 0 and stop.best_epoch == 3


def test_early_stopping_when_no_epoch_was_a_number():
    stop = EarlyStopping(monitor="loss", restore_best_weights=True)
    model = run_early_stopping(stop, [float("nan")] * 3)
    assert model.stop_training and stop.stopped_epoch == 1   # not at the first epoch
    assert model.stop_reason == ("early stopping: loss did not improve for 2 epoch(s) "
                                 "(none was a number; the last: nan)")
    # As in Keras, the weights of the first watched epoch are restored.
    assert stop.best_epoch == 0 and model.weights[0][0] == 0.0
    stop = EarlyStopping(monitor="loss", restore_best_weights=True, start_from_epoch=2)
    model = run_early_stopping(stop, [float("nan")] * 5)
    assert stop.stopped_epoch == 3 and model.weights[0][0] == stop.best_epoch == 2


def test_early_stopping_never_stops_at_the_first_epoch_it_watches():
    # Keras's best starts as None, so its first watched epoch is always an improvement, a
    # NaN too. Here a NaN never improves, but the first watched epoch does not stop either:
    # 0.7 is then the first number, an improvement, and 0.6 stops training.
    stop = EarlyStopping(monitor="loss", mode="max", patience=1, start_from_epoch=2)
    run_early_stopping(stop, [0.85, 0.95, float("nan"), 0.7, 0.6])
    assert stop.stopped_epoch == 4 and stop.best_epoch == 3
    stop = EarlyStopping(monitor="loss")
    model = run_early_stopping(stop, [3.0, 2.0, 1.0])
    assert not model.stop_training and stop.stopped_epoch == 0   # Keras's "not stopped"


def test_early_stopping_never_stops_at_the_first_epoch():
    stop = EarlyStopping(monitor="loss", patience=0)
    model = run_early_stopping(stop, [float("nan"), 1.0, 2.0])
    assert stop.stopped_epoch == 2 and stop.best_epoch == 1 and model.weights[0][0] == 2.0


def test_early_stopping_with_a_baseline_says_what_it_counted():
    # Each epoch to the fourth improves, none beats the baseline: all five are counted.
    stop = EarlyStopping(monitor="loss", patience=4, baseline=0.5)
    model = run_early_stopping(stop, [1.0, 0.9, 0.8, 0.7, 0.75, 0.4])
    assert stop.stopped_epoch == 4
    assert model.stop_reason == ("early stopping: loss made no improvement that beat the "
                                 "baseline 0.5 in 5 epoch(s) (best 0.7 at epoch 4)")


class KerasEarlyStopping:
    """Keras 3's rule (keras/src/callbacks/early_stopping.py), written out with the same
    names: a reference for nnlab's."""

    def __init__(self, patience, min_delta, mode, baseline, restore_best_weights,
                 start_from_epoch):
        self.patience, self.baseline = patience, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch
        self.monitor_op = (lambda a, b: a < b) if mode == "min" else (lambda a, b: a > b)
        self.min_delta = -min_delta if mode == "min" else min_delta
        self.best = float("inf") if mode == "min" else -float("inf")

    def _is_improvement(self, monitor_value, reference_value):
        return self.monitor_op(monitor_value - self.min_delta, reference_value)

    def run(self, values):
        """The epoch that stopped training (0: none), the best epoch, the final weights."""
        self.wait, self.stopped_epoch, self.best_weights, self.best_epoch = 0, 0, None, 0
        weights = None
        for epoch, current in enumerate(values):
            weights = epoch
            if epoch < self.start_from_epoch:
                continue
            if self.restore_best_weights and self.best_weights is None:
                self.best_weights, self.best_epoch = weights, epoch
            self.wait += 1
            if self._is_improvement(current, self.best):
                self.best, self.best_epoch = current, epoch
                if self.restore_best_weights:
                    self.best_weights = weights
                if self.baseline is None or self._is_improvement(current, self.baseline):
                    self.wait = 0
                continue
            # Keras's epoch > 0: its first watched epoch, whose best was None, always
            # improves. Here a NaN never improves, and this keeps Keras's stop.
            if self.wait >= self.patience and epoch > self.start_from_epoch:
                self.stopped_epoch = epoch
                break
        if self.restore_best_weights and self.best_weights is not None:
            weights = self.best_weights
        return self.stopped_epoch, self.best_epoch, weights


def test_early_stopping_follows_keras_3():
    rng = np.random.default_rng(0)
    # Multiples of 1/8 and min_delta 1/4: sums and differences exact, however written.
    choices = [float("nan"), *np.arange(9) / 8]
    for _ in range(2000):
        options = dict(patience=int(rng.integers(0, 4)), min_delta=float(rng.choice([0, 0.25])),
                       mode=str(rng.choice(["min", "max"])),
                       baseline=[None, 0.5][rng.integers(2)],
                       restore_best_weights=bool(rng.integers(2)),
                       start_from_epoch=int(rng.integers(0, 3)))
        values = rng.choice(choices, size=int(rng.integers(1, 12))).tolist()
        stopped, best_epoch, weights = KerasEarlyStopping(**options).run(values)
        stop = EarlyStopping(monitor="loss", **options)
        model = run_early_stopping(stop, values)
        assert (stop.stopped_epoch or 0) == stopped, (options, values)
        assert model.stop_training == (stopped > 0), (options, values)
        assert model.weights[0][0] == weights, (options, values)
        if stop.best_epoch is not None:   # Keras says 0 when no epoch was watched
            assert stop.best_epoch == best_epoch, (options, values)


def test_early_stopping_mode_and_arguments():
    assert EarlyStopping("val_accuracy").mode == "max"
    assert EarlyStopping("val_loss").mode == "min"
    for kwargs in ({"patience": -1}, {"min_delta": -0.1}, {"mode": "up"}, {"monitor": 3},
                   {"verbose": 2}, {"baseline": "low"}, {"start_from_epoch": -1},
                   {"restore_best_weights": "yes"}):
        (name, value), = kwargs.items()
        with pytest.raises(ValueError, match=rf"^EarlyStopping {name} must be .*; got "
                                             rf"{re.escape(repr(value))}$"):
            EarlyStopping(**kwargs)


def test_callback_hooks_are_called_in_order_with_logs_as_in_keras():
    # Keras passes logs to every hook, so a Keras callback may require the argument; the
    # last epoch's logs reach on_train_end.
    class Recorder(Callback):
        def __init__(self):
            super().__init__()
            self.calls = []

        def on_train_begin(self, logs):
            self.calls.append(f"begin {logs}")

        def on_epoch_begin(self, epoch, logs):
            self.calls.append(f"start {epoch} {logs}")

        def on_epoch_end(self, epoch, logs):
            self.calls.append(f"end {epoch} {sorted(logs)}")

        def on_train_end(self, logs):
            self.calls.append(f"finish {sorted(logs)}")
            self.last = logs

    X, y = regression_data(10)
    model = nl.Sequential([Dense(3, 1)])
    model.compile("mse", metrics=["mae"])
    recorder = Recorder()
    history = model.fit(X, y, epochs=2, callbacks=[recorder])
    assert recorder.calls == ["begin {}", "start 0 {}", "end 0 ['loss', 'mae']", "start 1 {}",
                              "end 1 ['loss', 'mae']", "finish ['loss', 'mae']"]
    assert recorder.last == {k: v[-1] for k, v in history.history.items()}
    assert recorder.model is model and recorder.params["epochs"] == 2


def test_keras_calls_run_unchanged():
    # evaluate(verbose=0) and predict(verbose=0) silence Keras's progress bars; here there
    # is none to silence. batch_size=None is Keras's 32.
    X, y = regression_data(70)
    runs = []
    for batch_size in (None, 32):
        model = nl.Sequential([Dense(3, 1, rng=0)])
        model.compile("mse", metrics=["mae"])
        runs.append(model.fit(X, y, epochs=2, batch_size=batch_size, seed=0).history)
        assert model.evaluate(X, y, verbose=0) == model.evaluate(X, y)
        np.testing.assert_array_equal(model.predict(X, verbose=0), model.predict(X))
    assert runs[0] == runs[1]
    for call in (lambda: model.evaluate(X, y, verbose=3), lambda: model.predict(X, verbose="x")):
        with pytest.raises(ValueError, match="verbose must be 0, 1, 2 or 'auto'"):
            call()


def test_verbose_levels(capsys):
    X, y = regression_data(10)
    model = nl.Sequential([Dense(3, 1)])
    model.compile("mse")
    model.fit(X, y, epochs=2, verbose=0)
    assert capsys.readouterr() == ("", "")
    model.fit(X, y, epochs=2, verbose=2)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[1].startswith("Epoch 2/2 - loss: ")
    model.fit(X, y, epochs=2, verbose=1)
    assert "2/2" in capsys.readouterr().err


def test_history_is_called_last_and_a_given_one_is_returned():
    class LogRate(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["lr"] = 0.5

    X, y = regression_data(20)
    model = nl.Sequential([Dense(3, 1, rng=0)])
    model.compile("mse", nl.optimizers.SGD(0.01))
    assert model.fit(X, y, epochs=2, callbacks=[LogRate()]).history["lr"] == [0.5, 0.5]
    mine = History()
    assert model.fit(X, y, epochs=2, callbacks=[mine]) is mine is model.history
    assert len(mine.history["loss"]) == 2


def test_a_history_given_to_a_second_fit_starts_again():
    # As its docstring says; Keras's would restart epoch but go on appending the losses.
    X, y = regression_data(20)
    model = nl.Sequential([Dense(3, 1, rng=0)])
    model.compile("mse", nl.optimizers.SGD(0.01))
    mine = History()
    first = list(model.fit(X, y, epochs=3, callbacks=[mine]).history["loss"])
    model.fit(X, y, epochs=2, callbacks=[mine])
    assert mine.epoch == [0, 1] and list(mine.history) == ["loss"]
    assert len(mine.history["loss"]) == 2 and mine.history["loss"][0] < first[0]
    assert model.history is mine


def test_early_stopping_on_the_last_epoch_stopped_nothing():
    X, y = regression_data(20)
    model = nl.Sequential([Dense(3, 1, rng=0)])
    model.compile("mse", nl.optimizers.SGD(0.01))
    stop = EarlyStopping(monitor="loss", patience=0, min_delta=1e9)   # never improves
    model.fit(X, y, epochs=2, callbacks=[stop])
    assert stop.stopped_epoch == 1 and model.stop_reason is None
    model.fit(X, y, epochs=3, callbacks=[EarlyStopping(monitor="loss", patience=0,
                                                        min_delta=1e9)])
    assert model.stop_reason == ("early stopping: loss did not improve for 1 epoch(s) "
                                 f"(best {model.history.history['loss'][0]:.6g} at epoch 1)")


@pytest.mark.parametrize("verbose", [1.0, np.float32(1.0), np.array(1), True, np.True_])
def test_verbose_must_be_an_integer(verbose):
    X, y = regression_data(10)
    model = nl.Sequential([Dense(3, 1, rng=0)])
    model.compile("mse")
    for call in (lambda: model.fit(X, y, verbose=verbose),
                 lambda: model.evaluate(X, y, verbose=verbose),
                 lambda: model.predict(X, verbose=verbose)):
        with pytest.raises(ValueError, match="verbose must be 0, 1, 2 or 'auto'"):
            call()
    with pytest.raises(ValueError, match="verbose must be 0 or 1"):
        EarlyStopping(verbose=verbose)
    assert model.evaluate(X, y, verbose=np.int64(0)) == model.evaluate(X, y)
    assert EarlyStopping(verbose=np.int64(1)).verbose == 1


class LogEpochScore(Callback):
    """Logs "score": 1, 2, 3, 3, 3, ... (it stops improving after the third epoch)."""

    def on_epoch_end(self, epoch, logs=None):
        logs["score"] = float(min(epoch + 1, 3))


def test_early_stopping_watches_a_log_that_a_callback_before_it_adds():
    X, y = regression_data()
    model = mlp(n_in=3, out="linear")
    model.compile("mse", "sgd")
    stop = EarlyStopping(monitor="score", mode="max", patience=2)
    history = model.fit(X, y, epochs=20, callbacks=[LogEpochScore(), stop])
    assert stop.stopped_epoch == 4 and stop.best_epoch == 2
    assert history.history["score"] == [1.0, 2.0, 3.0, 3.0, 3.0]
    # After it, the log is not there yet at the epoch's end: said at once, and what to do.
    model = mlp(n_in=3, out="linear")
    model.compile("mse", "sgd")
    with pytest.raises(ValueError, match=r"EarlyStopping monitors 'score', which no metric "
                                         r"makes and no callback before it logged at epoch 1 "
                                         r"\(logs: \['loss'\]\); put the callback"):
        model.fit(X, y, epochs=3, callbacks=[EarlyStopping("score", mode="max"),
                                             LogEpochScore()])


def test_early_stopping_on_a_metric_not_compiled_is_refused_before_training():
    X, y = regression_data()
    model = mlp(n_in=3, out="linear")
    model.compile("mse", "sgd")
    before = model.get_weights()
    for monitor in ("mae", "val_loss", "val_mae"):
        with pytest.raises(ValueError, match=rf"EarlyStopping monitors '{monitor}', but fit "
                                             r"will log only \['loss'\]; compile the metric"):
            model.fit(X, y, epochs=3, callbacks=[EarlyStopping(monitor, mode="min")])
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before, strict=True))


def test_verbose_auto_is_keras_default_a_progress_bar(capsys):
    X, y = regression_data(10)
    runs = []
    for verbose in (1, "auto"):
        model = nl.Sequential([Dense(3, 1, rng=0)])
        model.compile("mse")
        runs.append(model.fit(X, y, epochs=2, seed=0, verbose=verbose).history)
        assert "2/2" in capsys.readouterr().err
        assert model.evaluate(X, y, verbose="auto") == model.evaluate(X, y)
        np.testing.assert_array_equal(model.predict(X, verbose="auto"), model.predict(X))
    assert runs[0] == runs[1]
    with pytest.raises(ValueError, match="verbose must be 0 or 1; got 'auto'"):
        EarlyStopping(verbose="auto")


def test_model_history_is_the_run_so_far_from_the_end_of_each_epoch():
    seen = []

    class Peek(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            history = self.model.history
            seen.append(None if history is None else len(history.history["loss"]))

    X, y = regression_data(10)
    model = nl.Sequential([Dense(3, 1, rng=0)])
    model.compile("mse")
    returned = model.fit(X, y, epochs=3, callbacks=[Peek()])
    assert seen == [None, 1, 2] and model.history is returned
    model.fit(X, y, epochs=2, callbacks=[Peek()])   # the first fit's, until an epoch ends
    assert seen[3:] == [3, 1] and model.history is not returned


@pytest.mark.parametrize("monitor, close", [("acuracy", "accuracy"), ("val_acuracy",
                                             "val_accuracy"), ("val_los", "val_loss")])
def test_early_stopping_on_a_misspelt_metric_suggests_the_name_meant(monitor, close):
    # The message pointed at mode= alone, where the slip is in the name.
    with pytest.raises(ValueError, match=rf"names no metric that nnlab knows .* pass mode="
                                         rf"'max' or mode='min' \(did you mean '{close}'\?\)$"):
        EarlyStopping(monitor)
    with pytest.raises(ValueError, match=r"mode='min'$"):   # nothing close: no guess
        EarlyStopping("my_own_score")
    with pytest.raises(ValueError, match=r"valid names are: .* \(did you mean 'accuracy'\?\)$"):
        nl.metrics.get("acuracy")
