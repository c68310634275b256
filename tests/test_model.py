"""Sequential: training, evaluation, callbacks, divergence, saving, dtypes, validation."""

import functools
import gc
import json
import warnings
from fractions import Fraction

import numpy as np
import pytest

import nnlab as nl
from nnlab.callbacks import Callback, EarlyStopping, History
from nnlab.layers import Activation, Dense, Layer
from nnlab.model import NotCompiledError, TrainingDivergedWarning


def mlp(n_in=2, hidden=8, n_out=1, out="sigmoid", seed=0):
    return nl.Sequential([Dense(n_in, hidden, rng=seed), Activation("tanh"),
                          Dense(hidden, n_out, rng=seed + 1), Activation(out)])


def regression_data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, X @ np.array([1.0, -2.0, 0.5]) + 0.3


def snapshot(model):
    return [w.copy() for w in model.get_weights()]


def assert_same_weights(model, weights):
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), weights, strict=True))


# --- learning ------------------------------------------------------------------------


def test_mlp_learns_xor():
    X, y = nl.datasets.logic_gate("xor")
    model = mlp()
    model.compile("binary_crossentropy", nl.optimizers.Adam(0.05), metrics=["accuracy"])
    history = model.fit(X, y, epochs=300, batch_size=4, seed=0)
    assert history.history["accuracy"][-1] == 1.0
    assert model.evaluate(X, y)[1] == 1.0
    assert ((model.predict(X)[:, 0] > 0.5) == y).all()


def test_breast_cancer_reaches_95_percent_validation_accuracy_quickly():
    X, y = nl.datasets.load_breast_cancer()
    X_train, X_val, y_train, y_val = nl.datasets.train_test_split(X, y, test_size=0.25, seed=0)
    X_train, X_val = nl.datasets.standardize(X_train, X_val)
    model = nl.Sequential([Dense(30, 16, rng=0), Activation("relu"), Dense(16, 1, rng=1),
                           Activation("sigmoid")])
    model.compile("binary_crossentropy", nl.optimizers.Adam(0.01), metrics=["accuracy"])
    history = model.fit(X_train, y_train, epochs=20, validation_data=(X_val, y_val), seed=0)
    assert history.history["val_accuracy"][-1] >= 0.95
    assert model.evaluate(X_val, y_val, return_dict=True)["accuracy"] >= 0.95


def test_softmax_classifier_with_integer_labels_and_one_hot_agree():
    X, y = nl.datasets.blobs(90, centers=3, seed=0)
    histories = []
    for targets in (y, nl.datasets.one_hot(y)):
        model = mlp(n_out=3, out="softmax")
        model.compile("categorical_crossentropy", nl.optimizers.Adam(0.02), metrics=["acc"])
        histories.append(model.fit(X, targets, epochs=15, batch_size=16, seed=1).history)
    assert histories[0] == histories[1]
    assert histories[0]["acc"][-1] > 0.9


# --- history, evaluate, predict -------------------------------------------------------


def test_history_keys_lengths_and_epochs():
    X, y = regression_data()
    model = nl.Sequential([Dense(3, 1, rng=0)])
    model.compile("mse", nl.optimizers.SGD(0.05), metrics=["mae"])
    history = model.fit(X, y, epochs=4, batch_size=8, validation_split=0.25, seed=0)
    assert isinstance(history, History) and model.history is history
    assert list(history.history) == ["loss", "mae", "val_loss", "val_mae"]
    assert history.epoch == [0, 1, 2, 3]
    assert all(len(v) == 4 for v in history.history.values())
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.params["samples"] == 45 and history.params["steps"] == 6
    assert model.stop_reason is None


def test_validation_split_holds_out_the_last_samples():
    X, y = regression_data()
    results = []
    for kwargs in ({"validation_split": 0.25}, {"validation_data": (X[45:], y[45:])}):
        model = nl.Sequential([Dense(3, 1, rng=0)])
        model.compile("mse", nl.optimizers.SGD(0.05))
        data = (X, y) if "validation_split" in kwargs else (X[:45], y[:45])
        results.append(model.fit(*data, epochs=3, batch_size=8, seed=0, **kwargs).history)
    assert results[0] == results[1]


def test_epoch_loss_is_the_mean_of_batch_losses_before_each_update():
    X, y = regression_data(10)
    model = nl.Sequential([Dense(3, 1, rng=0)])
    model.compile("mse", nl.optimizers.SGD(0.01))
    twin = nl.Sequential([Dense(3, 1, rng=0)])
    twin.compile("mse", nl.optimizers.SGD(0.01))
    history = model.fit(X, y, epochs=1, batch_size=4, shuffle=False)
    losses = [twin.train_step(X[i:i + 4], y[i:i + 4]) for i in (0, 4, 8)]
    expected = (4 * losses[0] + 4 * losses[1] + 2 * losses[2]) / 10
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-12)
    assert_same_weights(model, twin.get_weights())


def test_train_step_is_one_sgd_step_by_hand():
    model = nl.Sequential([Dense(2, 1, init="zeros")])
    model.compile("mse", nl.optimizers.SGD(0.1))
    X, y = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 2.0])
    loss = model.train_step(X, y)
    assert loss == pytest.approx((1 + 4) / 2)  # predictions 0
    grad_W = 2 * X.T @ (0 - y[:, None]) / 2
    np.testing.assert_allclose(model.params[0], -0.1 * grad_W)
    np.testing.assert_allclose(model.params[1], -0.1 * np.array([2 * (-1 - 2) / 2]))


def test_evaluate_return_forms_and_values():
    X, y = regression_data(20)
    model = nl.Sequential([Dense(3, 1, rng=0)])
    model.compile("mse")
    expected = float(np.mean((model.predict(X)[:, 0] - y) ** 2))
    assert model.evaluate(X, y) == pytest.approx(expected)
    assert model.evaluate(X, y, batch_size=7) == pytest.approx(expected)
    model.compile("mse", metrics=["mae"])
    loss, mae = model.evaluate(X, y)
    assert mae == pytest.approx(float(np.mean(np.abs(model.predict(X)[:, 0] - y))))
    assert model.evaluate(X, y, return_dict=True) == {"loss": loss, "mae": mae}


def test_predict_in_batches_equals_all_at_once():
    X = np.random.default_rng(0).normal(size=(23, 2))
    model = mlp()
    np.testing.assert_allclose(model.predict(X, batch_size=5), model.predict(X))
    assert model.predict(X).shape == (23, 1)


class Spy(Layer):
    """Identity layer that records the training flag of every forward pass."""

    def __init__(self):
        super().__init__()
        self.flags = []

    def forward(self, x, training=False):
        self.flags.append(training)
        return np.asarray(x, dtype=float)

    def backward(self, dy):
        return dy


Layer.registry.pop("Spy")  # a test double, not a layer a model file may name


def test_training_flag_is_true_in_train_steps_false_in_evaluate_and_predict():
    X, y = regression_data(16)
    spy = Spy()
    model = nl.Sequential([spy, Dense(3, 1, rng=0)])
    model.compile("mse")
    model.fit(X, y, epochs=2, batch_size=8, shuffle=False)
    # one checking pass on a single sample, then 2 epochs x 2 batches in training mode
    assert spy.flags == [False, True, True, True, True]
    spy.flags.clear()
    model.evaluate(X, y)
    model.predict(X)
    assert True not in spy.flags


def test_batchnorm_statistics_move_in_fit_only():
    X, y = regression_data(32)
    model = nl.Sequential([Dense(3, 4, rng=0), nl.BatchNorm(4), Activation("relu"),
                           Dense(4, 1, rng=1)])
    model.compile("mse", "adam")
    model.fit(X, y, epochs=2, batch_size=8, seed=0)
    stats = model.layers[1].buffers["running_mean"].copy()
    assert not np.allclose(stats, 0)
    model.predict(X)
    model.evaluate(X, y)
    np.testing.assert_array_equal(model.layers[1].buffers["running_mean"], stats)


def test_metrics_for_hinge_and_logits_losses():
    X, y = nl.datasets.moons(120, seed=0)
    model = mlp(out="linear")
    model.compile("hinge", nl.optimizers.Adam(0.05), metrics=["accuracy"])
    history = model.fit(X, 2 * y - 1, epochs=30, batch_size=16, seed=0)
    assert history.history["accuracy"][-1] > 0.8
    model = mlp(out="linear")
    model.compile(nl.losses.BinaryCrossEntropy(from_logits=True), nl.optimizers.Adam(0.05),
                  metrics=["accuracy"])
    history = model.fit(X, y, epochs=30, batch_size=16, seed=0)
    assert history.history["accuracy"][-1] > 0.8


# --- seeds and dtypes ---------------------------------------------------------------


def test_same_seed_same_history_other_seed_other_history():
    X, y = nl.datasets.moons(100, seed=0)

    def run(seed):
        model = mlp()
        model.compile("binary_crossentropy", "adam", metrics=["accuracy"])
        return model.fit(X, y, epochs=3, batch_size=10, validation_split=0.2, seed=seed).history

    assert run(7) == run(7)
    assert run(7)["loss"] != run(8)["loss"]


class DtypeRecorder(Callback):
    def __init__(self):
        super().__init__()
        self.seen = set()

    def on_epoch_end(self, epoch, logs=None):
        self.seen |= {p.dtype for p in self.model.params}
        self.seen |= {g.dtype for g in self.model.grads}
        self.seen |= {layer.y.dtype for layer in self.model.layers if hasattr(layer, "y")}


def test_forward_and_predict_compute_in_the_models_dtype():
    # forward computed in the input's dtype and predict in the model's: they disagreed.
    X = np.random.default_rng(0).normal(size=(4, 2))
    for model_dtype, data_dtype in (("float64", np.float32), ("float32", np.float64)):
        model = mlp().astype(model_dtype)
        outputs = model.forward(X.astype(data_dtype)), model.predict(X.astype(data_dtype))
        assert {y.dtype for y in outputs} == {np.dtype(model_dtype)}


def test_float32_model_trains_in_float32_throughout():
    X, y = nl.datasets.moons(80, seed=0)  # float64 data
    model = mlp().astype("float32")
    assert model.dtype == np.float32
    model.compile("binary_crossentropy", "adam", metrics=["accuracy"])
    recorder = DtypeRecorder()
    history = model.fit(X, y, epochs=3, batch_size=16, seed=0, callbacks=[recorder])
    assert recorder.seen == {np.dtype(np.float32)}
    assert model.predict(X).dtype == np.float32
    assert {p.dtype for p in model.params} == {np.dtype(np.float32)}
    assert np.all(np.isfinite(history.history["loss"]))


def test_astype_reaches_residual_blocks_and_buffers_and_rejects_non_floats():
    model = nl.Sequential([Dense(3, 4), nl.Residual(Dense(4, 4), nl.BatchNorm(4))])
    model.astype(np.float32)
    assert {w.dtype for w in model.get_weights()} == {np.dtype(np.float32)}
    assert model.layers[1].layers[0].dtype == np.float32
    with pytest.raises(ValueError, match="float32 or float64"):
        model.astype("int32")


# --- callbacks ----------------------------------------------------------------------


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
        with pytest.raises(ValueError):
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
        with pytest.raises(ValueError, match="verbose must be 0, 1 or 2"):
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


# --- divergence ---------------------------------------------------------------------


def test_divergence_stops_with_a_warning_and_keeps_the_history():
    X, y = regression_data(100)
    model = nl.Sequential([Dense(3, 1, rng=0)])
    model.compile("mse", nl.optimizers.SGD(5.0), metrics=["mae"])
    with pytest.warns(TrainingDivergedWarning, match="learning rate") as record:
        history = model.fit(X, y, epochs=200, batch_size=10, validation_split=0.1, seed=0)
    assert record[0].filename == __file__  # attributed to the caller of fit
    losses = history.history["loss"]
    assert 1 < len(losses) < 200 and len(history.epoch) == len(losses)
    assert not np.isfinite(losses[-1]) and np.all(np.isfinite(losses[:-1]))
    assert losses[-2] > losses[0]
    assert np.isnan(history.history["mae"][-1])
    assert "diverged" in model.stop_reason
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


# --- validation before any state change ----------------------------------------------


def compiled_model():
    model = mlp(n_in=3, n_out=3, out="softmax")
    model.compile("categorical_crossentropy", nl.optimizers.SGD(0.1), metrics=["accuracy"])
    return model


X3 = np.random.default_rng(0).normal(size=(12, 3))
Y3 = np.arange(12) % 3


@pytest.mark.parametrize("args, kwargs, fragment", [
    ((X3[:, :2], Y3), {}, "does not fit the model"),
    ((X3, Y3[:10]), {}, "same number"),
    ((np.where(X3 > 1, np.nan, X3), Y3), {}, "NaN"),
    ((X3, Y3 + 1), {}, "class labels"),
    ((X3, Y3 * 0.5), {}, "class labels"),
    ((X3.astype(str), Y3), {}, "numeric"),
    ((X3[:0], Y3[:0]), {}, "> 0"),
    ((X3, Y3), {"epochs": 0}, "epochs"),
    ((X3, Y3), {"batch_size": 0}, "batch_size"),
    ((X3, Y3), {"batch_size": 2.5}, "batch_size"),
    ((X3, Y3), {"validation_split": 1.0}, "validation_split"),
    ((X3, Y3), {"validation_split": 0.95}, "no training samples"),
    ((X3, Y3), {"validation_data": (X3, Y3[:5])}, "same number"),
    ((X3, Y3), {"validation_data": X3}, "pair"),
    ((X3, Y3), {"verbose": 3}, "verbose"),
    ((X3, Y3), {"callbacks": [print]}, "Callback"),
    ((X3, Y3), {"callbacks": EarlyStopping("loss")}, r"write callbacks=\[\.\.\.\]"),
    ((X3, Y3), {"shuffle": "no"}, "shuffle must be True or False; got 'no'"),
    ((X3, Y3), {"callbacks": [EarlyStopping("val_loss")]}, "validation_split"),
])
def test_bad_fit_input_raises_before_any_change(args, kwargs, fragment):
    model = compiled_model()
    before = snapshot(model)
    with pytest.raises(ValueError, match=fragment):
        model.fit(*args, **kwargs)
    assert_same_weights(model, before)
    assert model.optimizer.iterations == 0


def test_metric_that_cannot_use_the_targets_fails_up_front():
    X, y = regression_data(10)
    model = nl.Sequential([Dense(3, 1)])
    model.compile("mse", metrics=["accuracy"])
    before = snapshot(model)
    with pytest.raises(ValueError, match="metric 'accuracy'"):
        model.fit(X, y)
    assert_same_weights(model, before)


def test_accuracy_of_one_output_thresholds_it_as_keras_does():
    # MSE on 0/1 labels: the outputs step outside [0, 1], and "accuracy" raised at the end
    # of the first epoch that did so, after the weights had changed.
    X, y = nl.datasets.logic_gate("or")
    model = nl.Sequential([Dense(2, 1, rng=0)])
    model.compile("mse", nl.optimizers.SGD(0.5), metrics=["accuracy"])
    history = model.fit(X, y, epochs=20, batch_size=4, seed=0)
    scores = model.predict(X).ravel()
    assert scores.max() > 1 or scores.min() < 0
    assert history.history["accuracy"][-1] == np.mean((scores > 0.5) == y) == 1.0
    assert model.evaluate(X, y)[1] == 1.0


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


def test_the_design_documents_example_runs_as_written():
    # The example of the API contract (the project's design document), line for line: a
    # linear output compiled with binary
    # cross-entropy trains (with a ClippedOutputsWarning) and saves without pickle.
    X, y = nl.datasets.moons(200, seed=0)
    Xv, yv = nl.datasets.moons(50, seed=1)
    model = nl.Sequential([nl.Dense(2, 8), nl.Activation("tanh"), nl.Dense(8, 1)])
    model.compile(loss="binary_crossentropy", optimizer=nl.optimizers.SGD(0.1),
                  metrics=["accuracy"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nl.model.ClippedOutputsWarning)
        history = model.fit(X, y, epochs=10, batch_size=32, validation_data=(Xv, yv), seed=0,
                            verbose=0)
        loss, accuracy = model.evaluate(X, y)
    for key in ("loss", "val_loss", "accuracy"):
        assert len(history.history[key]) == 10
        assert np.isfinite(history.history[key]).all()
    assert 0 <= accuracy <= 1 and np.isfinite(loss)
    assert model.predict(X).shape == (200, 1)
    assert [p.shape for p in model.params] == [g.shape for g in model.grads]


def test_one_layer_for_a_list_flags_and_odd_metrics_are_clear_errors():
    with pytest.raises(ValueError, match=r"a list of layers; got one layer.*Sequential\(\["):
        nl.Sequential(Dense(2, 1))
    model = compiled_model()
    with pytest.raises(ValueError, match="training must be True or False"):
        model.forward(X3, training="no")
    with pytest.raises(ValueError, match="return_dict must be True or False"):
        model.evaluate(X3, Y3, return_dict="no")
    model.compile("sparse_categorical_crossentropy", metrics=[nl.metrics.confusion_matrix])
    with pytest.raises(ValueError, match=r"'confusion_matrix'.*one number"):
        model.fit(X3, Y3)


@pytest.mark.parametrize("get, name, expected", [
    (nl.losses.get, "BinaryCrossentropy", nl.losses.BinaryCrossEntropy),
    (nl.losses.get, "SparseCategoricalCrossentropy", nl.losses.CategoricalCrossEntropy),
    (nl.losses.get, "KLDivergence", nl.losses.KLDivergence),
    (nl.losses.get, "MeanSquaredError", nl.losses.MSE),
    (nl.optimizers.get, "RMSprop", nl.optimizers.RMSprop),
    (nl.optimizers.get, "Adam", nl.optimizers.Adam),
    (nl.optimizers.get, "SGD", nl.optimizers.SGD),
])
def test_keras_class_names_are_names_too(get, name, expected):
    assert isinstance(get(name), expected)


def test_keras_class_names_of_initializers_and_activations():
    assert nl.initializers.get("GlorotUniform") is nl.initializers.get("glorot_uniform")
    assert nl.initializers.get("HeNormal") is nl.initializers.get("he_normal")
    assert nl.activations.get("LeakyReLU") is nl.activations.get("leaky_relu")
    with pytest.raises(ValueError, match="unknown initializer 'GlorotUniformly'"):
        nl.initializers.get("GlorotUniformly")


def test_bad_train_step_evaluate_predict_input():
    model = compiled_model()
    before = snapshot(model)
    for call in (lambda: model.train_step(X3, Y3 + 5), lambda: model.evaluate(X3, Y3[:3]),
                 lambda: model.predict(X3[:, :2]), lambda: model.predict(X3, batch_size=0)):
        with pytest.raises(ValueError):
            call()
    assert_same_weights(model, before)


def test_fit_takes_everything_after_the_data_by_name():
    # Keras's fit(X, y, 32, 10) is batch_size 32, 10 epochs; here it trained 32 epochs of 10.
    model = compiled_model()
    with pytest.raises(TypeError):
        model.fit(X3, Y3, 32, 10)
    with pytest.raises(TypeError):   # Keras's evaluate(X, y, 32, 0): the 0 is verbose
        model.evaluate(X3, Y3, 32, False)


def test_predict_of_a_bare_number_in_batches_is_a_clear_error():
    with pytest.raises(ValueError, match="single number"):   # was a TypeError from len()
        compiled_model().predict(5.0, batch_size=2)


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
    # Clipped into [0, 1], a row of negative scores is a row of zeros, which a focal loss
    # divides by: NaN too, not an error from inside fit.
    focal = nl.losses.CategoricalFocalCrossEntropy().as_metric()
    assert np.isnan(focal([[1.0, 0.0]], [[-1.0, -2.0]]))
    with pytest.raises(ValueError, match=r"metric 'dice' .* y_true must be in \[0, 1\]"):
        model.fit(X, y, epochs=1)   # bad targets are still refused before training


def test_fit_before_compile_is_a_clear_error():
    model = mlp()
    with pytest.raises(NotCompiledError, match="compile"):
        model.fit(np.zeros((4, 2)), np.zeros(4))
    assert issubclass(NotCompiledError, RuntimeError) and issubclass(NotCompiledError, ValueError)
    with pytest.raises(NotCompiledError):
        model.evaluate(np.zeros((4, 2)), np.zeros(4))


def test_a_metric_called_as_a_log_of_the_loss_is_refused():
    def loss(y_true, y_pred):
        return 123.0

    with pytest.raises(ValueError, match="two metrics are called 'loss'"):
        mlp().compile("mse", "sgd", metrics=[loss])
    loss.__name__ = "val_score"
    with pytest.raises(ValueError, match="two metrics are called 'val_score'"):
        mlp().compile("mse", "sgd", metrics=[loss])


def test_two_metrics_of_one_name_are_refused():
    def score(y_true, y_pred):
        return 1.0

    def other(y_true, y_pred):
        return 2.0

    other.__name__ = "score"
    with pytest.raises(ValueError, match="two metrics are called 'score'"):
        mlp().compile("mse", "sgd", metrics=[score, other])


def test_a_metric_is_logged_by_its_name_and_a_loss_by_the_loss_name():
    # A partial has no __name__: a clear error, not an AttributeError.
    macro_f1 = functools.partial(nl.metrics.f1_score, average="macro")
    with pytest.raises(ValueError, match=r"functools.partial.*has no __name__ to log it by; "
                                         "pass a function of your own"):
        mlp().compile("mse", "sgd", metrics=[macro_f1])
    # A loss is a metric, as in Keras; the cosine similarity's loss is its negative, so not
    # logged as "cosine_similarity", which EarlyStopping maximizes.
    model = mlp()
    model.compile("mse", "sgd", metrics=[nl.losses.MAE(), nl.losses.CosineSimilarity(),
                                         "cosine_similarity"])
    assert list(model.metrics) == ["mean_absolute_error", "cosine_similarity_loss",
                                   "cosine_similarity"]
    with pytest.raises(ValueError, match="two metrics are called 'mean_absolute_error'"):
        mlp().compile("mse", "sgd", metrics=["mean_absolute_error", nl.losses.MAE()])


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


def test_compile_resolves_names_and_rejects_unknown_ones():
    model = mlp()
    model.compile("sparse_categorical_crossentropy", "adam", metrics=["acc", "mse"])
    assert isinstance(model.loss, nl.losses.CategoricalCrossEntropy)
    assert isinstance(model.optimizer, nl.optimizers.Adam)
    assert list(model.metrics) == ["acc", "mse"]
    for kwargs in ({"loss": "mse_loss"}, {"loss": "mse", "optimizer": "sgd_momentum"},
                   {"loss": "mse", "metrics": ["f1"]}):
        with pytest.raises(ValueError, match="valid names"):
            model.compile(**kwargs)
    assert isinstance(model.loss, nl.losses.CategoricalCrossEntropy)  # unchanged


def test_structure_params_grads_and_weights():
    model = mlp()
    assert [p.shape for p in model.params] == [(2, 8), (8,), (8, 1), (1,)]
    with pytest.raises(ValueError, match="no gradients"):
        model.grads  # noqa: B018
    out = model.forward(np.ones((3, 2)))
    dx = model.backward(np.ones_like(out))
    assert dx.shape == (3, 2)
    assert [g.shape for g in model.grads] == [p.shape for p in model.params]
    weights = model.get_weights()
    model.params[0][...] = 0
    model.set_weights(weights)
    assert_same_weights(model, weights)
    with pytest.raises(ValueError, match="shapes"):
        model.set_weights(weights[:2])
    with pytest.raises(ValueError, match="layers"):
        nl.Sequential([Dense(2, 2), "relu"])
    with pytest.raises(ValueError, match="no layers"):
        nl.Sequential().forward(np.ones((1, 2)))


# --- summary ------------------------------------------------------------------------


def test_summary_table(capsys):
    model = mlp()
    assert model.summary() is None
    out = capsys.readouterr().out
    assert "Layer (type)" in out and "Output Shape" in out and "Param #" in out
    assert "dense (Dense)" in out and "dense_1 (Dense)" in out and "activation_1" in out
    assert "(None, 8)" in out and "(None, 1)" in out
    assert "Total params: 33" in out and "Trainable params: 33" in out


def test_summary_shows_numpy_integers_as_plain_ones():
    table = nl.summary.summary_table([nl.Activation("relu")], np.int64(4))
    assert "(None, 4)" in table   # was (None, np.int64(4))


def test_summary_input_shape_inference_and_buffers(capsys):
    model = nl.Sequential([nl.Conv2D(1, 2, 3, rng=0), nl.BatchNorm(2), nl.Flatten(),
                           Dense(18, 2, rng=0)])
    with pytest.raises(ValueError, match="input_shape"):
        model.summary()
    model.summary(input_shape=(1, 5, 5))
    out = capsys.readouterr().out
    assert "(None, 2, 3, 3)" in out and "(None, 18)" in out
    # conv 2*9 + 2, batch norm 2 + 2 (+ 4 statistics), dense 18*2 + 2
    assert "Total params: 66" in out and "Trainable params: 62" in out
    assert "Non-trainable params: 4" in out
    model.predict(np.zeros((1, 1, 5, 5)))
    model.summary()  # the last data seen
    assert "(None, 2, 3, 3)" in capsys.readouterr().out


# --- saving -------------------------------------------------------------------------


def trained_conv_model():
    X, y = nl.datasets.load_digits(as_images=True)
    model = nl.Sequential([nl.Conv2D(1, 3, 3, rng=0), nl.BatchNorm(3), Activation("relu"),
                           nl.MaxPool2D(2), nl.Flatten(), nl.Dropout(0.2, rng=0),
                           Dense(27, 10, rng=0),
                           nl.Residual(Dense(10, 10, rng=1), Activation("tanh")),
                           Activation("softmax")])
    model.compile("sparse_categorical_crossentropy", nl.optimizers.Adam(0.01),
                  metrics=["accuracy"])
    model.fit(X[:200] / 16, y[:200], epochs=1, seed=0)
    return model, X[200:260] / 16


def test_save_load_round_trip_gives_identical_predictions(tmp_path):
    model, X = trained_conv_model()
    path = model.save(tmp_path / "conv")
    assert path.endswith("conv.npz")
    loaded = nl.load_model(path)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    np.testing.assert_array_equal(loaded.layers[1].buffers["running_var"],
                                  model.layers[1].buffers["running_var"])
    assert isinstance(loaded.loss, nl.losses.CategoricalCrossEntropy)
    assert isinstance(loaded.optimizer, nl.optimizers.Adam) and loaded.optimizer.lr == 0.01
    assert list(loaded.metrics) == ["accuracy"]
    with np.load(path, allow_pickle=False) as data:  # a plain npz, readable without pickle
        header = json.loads(str(data["__nnlab__"]))
    assert header["format"] == "nnlab.Sequential"


def test_round_trip_keeps_float32_and_logits_config(tmp_path):
    model = mlp(out="linear").astype("float32")
    model.compile(nl.losses.BinaryCrossEntropy(from_logits=True), nl.optimizers.SGD(0.3, 0.9))
    loaded = nl.load_model(model.save(tmp_path / "m.npz"))
    assert loaded.dtype == np.float32
    assert loaded.loss.from_logits and loaded.optimizer.momentum == 0.9
    X = np.random.default_rng(0).normal(size=(5, 2))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    uncompiled = nl.load_model(mlp().save(tmp_path / "u"))
    assert uncompiled.loss is None


def test_round_trip_keeps_the_parameters_of_activations(tmp_path):
    # Saved by name alone, a LeakyReLU(0.3) came back with the default slope 0.01.
    model = nl.Sequential([Dense(2, 3, rng=0), Activation("leaky_relu", alpha=0.3),
                           Activation(nl.activations.ELU(2.0)), Dense(3, 1, rng=1)])
    loaded = nl.load_model(model.save(tmp_path / "m"))
    assert [layer.fn.get_config() for layer in loaded.layers[1:3]] == [{"alpha": 0.3},
                                                                        {"alpha": 2.0}]
    X = np.random.default_rng(0).normal(size=(20, 2)) * 3
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert repr(loaded.layers[1]) == "Activation(name='leaky_relu', alpha=0.3)"


def test_activation_parameters_are_checked():
    with pytest.raises(ValueError, match=r"'relu' takes no parameters; got alpha$"):
        Activation("relu", alpha=0.1)
    with pytest.raises(ValueError, match=r"takes the parameters \['alpha'\]; got \['slope'\]"):
        Activation("leaky_relu", slope=0.1)
    with pytest.raises(ValueError, match="already holds its parameters"):
        Activation(nl.activations.ELU(2.0), alpha=1.0)
    with pytest.raises(ValueError, match="alpha"):
        Activation("elu", alpha=float("nan"))


def rewrite(path, target, edit):
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    header = json.loads(str(arrays["__nnlab__"]))
    edit(header, arrays)
    arrays["__nnlab__"] = np.array(json.dumps(header))
    np.savez(target, **arrays)
    return target


def test_corrupt_and_foreign_files_raise_value_error(tmp_path):
    good = mlp().save(tmp_path / "good")
    with open(good, "rb") as file:
        raw = file.read()
    cases = {}
    cases["random npz"] = tmp_path / "random.npz"
    np.savez(cases["random npz"], a=np.random.default_rng(0).normal(size=3))
    cases["truncated"] = tmp_path / "truncated.npz"
    cases["truncated"].write_bytes(raw[: len(raw) // 2])
    cases["text"] = tmp_path / "notes.npz"
    cases["text"].write_text("hello")
    cases["npy"] = tmp_path / "array.npy"
    np.save(cases["npy"], np.zeros(3))
    cases["pickle"] = tmp_path / "pickle.npz"
    np.savez(cases["pickle"], __nnlab__=np.array([{"format": "nnlab.Sequential"}]))
    cases["bad json"] = tmp_path / "json.npz"
    np.savez(cases["bad json"], __nnlab__=np.array("{not json"))

    def setter(key, value):
        return lambda header, arrays: header.__setitem__(key, value)

    edits = {
        "format": (setter("format", "keras.Model"), "expected format"),
        "version": (setter("version", 99), "version"),
        "layer class": (lambda h, a: h["layers"][0].__setitem__("class", "Dense3D"),
                        "unknown layer class"),
        "layer config": (lambda h, a: h["layers"][0]["config"].__setitem__("n_in", -2),
                         "n_in"),
        "shape": (lambda h, a: a.__setitem__("0.params.W", np.zeros((3, 8))), "shape"),
        "missing": (lambda h, a: a.pop("2.params.b"), "missing"),
        "extra": (lambda h, a: a.__setitem__("9.params.W", np.zeros(1)), "unexpected"),
        "ints": (lambda h, a: a.__setitem__("0.params.W", np.zeros((2, 8), int)), "floats"),
        "float16": (lambda h, a: a.__setitem__("0.params.W", np.zeros((2, 8), np.float16)),
                    "float32 or float64"),
        "nan": (lambda h, a: a.__setitem__("0.params.W", np.full((2, 8), np.nan)), "NaN"),
    }
    for name, (edit, fragment) in edits.items():
        cases[name] = (rewrite(good, tmp_path / f"{name}.npz", edit), fragment)
    for case in cases.values():
        path, fragment = case if isinstance(case, tuple) else (case, "model file")
        with pytest.raises(ValueError, match=fragment):
            nl.load_model(path)
    with pytest.raises(ValueError, match="no model file") as info:
        nl.load_model(tmp_path / "absent.npz")
    assert isinstance(info.value, FileNotFoundError)


def test_a_file_that_is_no_zip_is_closed_after_the_error(tmp_path):
    good = mlp().save(tmp_path / "good")
    truncated = tmp_path / "truncated.npz"
    with open(good, "rb") as file:
        truncated.write_bytes(file.read()[:100])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="not a readable"):
            nl.load_model(truncated)
        gc.collect()   # an unclosed file warns when it is collected
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


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


def test_save_refuses_non_finite_arrays_that_load_would_refuse(tmp_path):
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.layers[0].params["W"][0, 0] = np.inf
    with pytest.raises(ValueError, match=r"0\.params\.W hold NaN or infinite values"):
        model.save(tmp_path / "broken")
    assert not list(tmp_path.iterdir())


def test_the_model_still_rejects_nan_input():
    model = nl.Sequential([nl.Dense(2, 2), nl.Activation("relu")])
    with pytest.raises(ValueError, match="NaN"):
        model.predict(np.array([[np.nan, 1.0]]))


def test_a_float32_model_refuses_input_beyond_float32s_range_without_a_warning():
    # Cast first, checked after, 1e39 became inf: numpy warned of an overflow in the cast,
    # then the error called the finite input NaN or infinite.
    model = nl.Sequential([nl.Dense(2, 1, rng=0, dtype="float32")])
    model.compile("mse", "sgd")
    X = np.array([[1e39, 0.0], [-1e40, 1.0]])
    beyond = r"X holds 2 value\(s\) beyond float32's range \(its largest number is " \
             r"3\.4028235e\+38\), up to 1e\+40"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for call in (lambda: model.predict(X), lambda: model.fit(X, np.zeros(2))):
            with pytest.raises(ValueError, match=beyond):
                call()
        with pytest.raises(ValueError, match="model input holds 2 value"):
            model.forward(X)
        with pytest.raises(ValueError, match="X contains 1 NaN or infinite value"):
            model.predict(np.array([[1e39, np.nan]]))
        assert model.predict(X.clip(-3e38, 3e38)).dtype == np.float32
    assert nl.Sequential([nl.Dense(2, 1, rng=0)]).predict(X).dtype == np.float64


@pytest.mark.parametrize("make", [lambda v: nl.optimizers.SGD(v), lambda v: nl.Dropout(v)],
                         ids=["SGD lr", "Dropout rate"])
@pytest.mark.parametrize("value", [10**400, -(10**400), Fraction(10**400, 3)],
                         ids=["10**400", "-10**400", "Fraction"])
def test_a_number_too_large_for_a_float_is_refused_by_name(make, value):
    # np.isfinite has no loop for such an int or a Fraction: a TypeError named neither.
    with pytest.raises(ValueError, match=r"(SGD lr|Dropout rate) must fit in a float, at most "
                                         r"1\.79769e\+308 in size; got a larger number"):
        make(value)


@pytest.mark.parametrize("verbose", [1.0, np.float32(1.0), np.array(1), True, np.True_])
def test_verbose_must_be_an_integer(verbose):
    X, y = regression_data(10)
    model = nl.Sequential([Dense(3, 1, rng=0)])
    model.compile("mse")
    for call in (lambda: model.fit(X, y, verbose=verbose),
                 lambda: model.evaluate(X, y, verbose=verbose),
                 lambda: model.predict(X, verbose=verbose)):
        with pytest.raises(ValueError, match="verbose must be 0, 1 or 2"):
            call()
    with pytest.raises(ValueError, match="verbose must be 0 or 1"):
        EarlyStopping(verbose=verbose)
    assert model.evaluate(X, y, verbose=np.int64(0)) == model.evaluate(X, y)
    assert EarlyStopping(verbose=np.int64(1)).verbose == 1


def test_summary_checks_that_the_layers_fit_together():
    from nnlab.summary import summary_table

    with pytest.raises(ValueError, match=r"expected samples of shape \(10,\); got \(64,\)"):
        summary_table([nl.Flatten(), nl.Dense(10, 2)], (1, 8, 8))
    with pytest.raises(ValueError, match=r"BatchNorm.*expected samples of shape \(5, ...\)"):
        summary_table([nl.Flatten(), nl.Dense(64, 2), nl.BatchNorm(5)], (1, 8, 8))
    with pytest.raises(ValueError, match=r"input_shape must be a tuple of positive integers"
                                         r".*; got \(3, 0\)"):
        summary_table([nl.Dense(3, 2)], (3, 0))
    with pytest.raises(ValueError, match=r"input_shape must be a tuple.*; got '3'"):
        summary_table([nl.Dense(3, 2)], "3")


def test_summary_takes_an_int_for_the_shape_of_a_vector_sample():
    # It was turned into (None,), then refused: "input_shape must be positive integers; got 3".
    from nnlab.summary import summary_table

    layers = [nl.Activation("relu"), nl.Dense(3, 2)]
    assert summary_table(layers, 3) == summary_table(layers, (3,))
    assert "(None, 2)" in summary_table(layers, np.int64(3))


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge"])
def test_with_the_hinge_loss_only_the_accuracy_thresholds_the_scores(loss):
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = np.where(X[:, 0] > 0, 1.0, -1.0)
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.compile(loss, nl.optimizers.SGD(0.1), metrics=["accuracy", "mae"])
    logs = model.evaluate(X, y, return_dict=True)
    scores = model.predict(X)[:, 0]
    assert logs["mae"] == pytest.approx(np.mean(np.abs(y - scores)))
    assert logs["accuracy"] == pytest.approx(np.mean((scores > 0) == (y > 0)))


def test_repr_shows_one_layer_per_line_and_rebuilds_the_model():
    model = nl.Sequential([Dense(3, 4, init="he_normal"), Activation("relu"),
                           nl.Residual(Dense(4, 4), Activation("tanh")), Dense(4, 1)])
    text = repr(model)
    assert text.splitlines() == [
        "Sequential([",
        "    Dense(n_in=3, n_out=4, dtype='float64', init='he_normal'),",
        "    Activation(name='relu'),",
        "    Residual(Dense(n_in=4, n_out=4, dtype='float64', init='glorot_uniform'), "
        "Activation(name='tanh')),",
        "    Dense(n_in=4, n_out=1, dtype='float64', init='glorot_uniform'),",
        "])"]
    rebuilt = eval(text, dict(vars(nl)))   # the repr is code that builds the model
    assert [layer.get_config() for layer in rebuilt.layers] == \
        [layer.get_config() for layer in model.layers]
    assert repr(nl.Sequential([])) == "Sequential([])"


# --- reported defects ------------------------------------------------------------------


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


def test_a_failed_forward_pass_leaves_summary_working():
    model = nl.Sequential([nl.Dense(3, 2)])
    model.summary()
    with pytest.raises(ValueError, match=r"expected input of shape \(batch, 3\)"):
        model.predict(np.zeros((2, 4)))
    model.summary()   # the shape of the last pass that went through, or none
    model.predict(np.zeros((2, 3)))
    assert model._sample_shape == (3,)


def test_a_single_number_in_training_is_the_same_clear_error_as_in_evaluation():
    model = nl.Sequential([nl.Dense(3, 2)])
    for training in (False, True):
        with pytest.raises(ValueError, match=r"takes a batch.*got a single number"):
            model.forward(3.0, training=training)


def test_sequential_refuses_one_layer_object_in_two_places():
    dense = Dense(3, 3, rng=0)
    with pytest.raises(ValueError, match=r"Sequential: the same layer object Dense\(.*\) "
                                         r"appears twice.*use a new Dense"):
        nl.Sequential([dense, Activation("relu"), dense])
    model = nl.Sequential([dense, Activation("relu")])
    with pytest.raises(ValueError, match="appears twice"):
        model.add(dense)
    with pytest.raises(ValueError, match="appears twice"):
        model.add(nl.Residual(Dense(3, 3), dense))
    assert len(model.layers) == 2
    model.add(Dense(3, 3))   # a new layer of the same settings is fine


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


def test_a_fault_of_the_validation_targets_names_y_val():
    X, y = regression_data()
    model = mlp(n_in=3)
    model.compile("binary_crossentropy", "sgd")
    labels = (y > 0).astype(float)
    with pytest.raises(ValueError, match=r"^y_val: .*y_true must be in \[0, 1\]"):
        model.fit(X, labels, epochs=1, validation_data=(X[:10], np.full(10, 2.0)))
    with pytest.raises(ValueError, match=r"^y_val: "):
        model.fit(X, labels, epochs=1, validation_data=(X[:10], np.zeros((10, 3))))
    with pytest.raises(ValueError, match=r"^y: "):
        model.fit(X, np.full(len(X), 2.0), epochs=1)


@pytest.mark.parametrize("call", ["predict", "predict in batches", "evaluate", "fit",
                                  "train_step", "validation"])
def test_a_1d_x_is_refused_with_the_reshape_that_fits_the_model(call):
    # The message said "expected input of shape (batch, 1); got shape (4,)" and no more:
    # neither that X needs a second axis nor which one. (Keras takes a 1-D X as samples of
    # one feature, in silence, and refuses it for more, without a fix.)
    def run(model, X):
        y = np.zeros((len(X), 1))
        return {"predict": lambda: model.predict(X),
                "predict in batches": lambda: model.predict(X, batch_size=2),
                "evaluate": lambda: model.evaluate(X, y),
                "fit": lambda: model.fit(X, y),
                "train_step": lambda: model.train_step(X, y),
                "validation": lambda: model.fit(np.zeros((4, model.layers[0].n_in)),
                                                np.zeros((4, 1)), validation_data=(X, y)),
                }[call]()

    name = "X_val" if call == "validation" else "xb" if call == "train_step" else "X"
    for n_in, fix in ((1, rf"{name}\.reshape\(-1, 1\) for 4 samples of one feature$"),
                      (4, rf"{name}\[None\] for one sample of 4 features$")):
        model = nl.Sequential([Dense(n_in, 1, rng=0)])
        model.compile("mse", "sgd")
        with pytest.raises(ValueError, match=rf"^{name} of shape \(4,\) does not fit the model"
                                             rf".* expected input of shape \(batch, {n_in}\); "
                                             rf"got shape \(\d,\)\. {name} has one axis, and the "
                                             rf"model takes a batch, one sample per row: write "
                                             + fix):
            run(model, np.arange(4.0))
    model = nl.Sequential([Dense(3, 1, rng=0)])
    model.compile("mse", "sgd")
    with pytest.raises(ValueError, match=rf"one sample per row; neither {name}\.reshape\(-1, "
                                         rf"1\) nor {name}\[None\] fits it$"):
        run(model, np.arange(4.0))
    model = nl.Sequential([Dense(1, 1, rng=0)])   # one number fits either way
    with pytest.raises(ValueError, match=r"write X\.reshape\(-1, 1\) for 1 sample of one "
                                         r"feature, or X\[None\] for one sample of 1 feature$"):
        model.predict([2.0])


def test_the_hint_for_a_1d_x_leaves_the_other_errors_as_they_were():
    model = nl.Sequential([Dense(1, 1, rng=0)])
    model.compile("mse", "sgd")
    with pytest.raises(ValueError, match=r"^Dense.*expected input of shape \(batch, 1\); got "
                                         r"shape \(4, 2\)$"):
        model.predict(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"^batch_size must be in \[1, inf\); got 0$"):
        model.predict(np.zeros(4), batch_size=0)
    with pytest.raises(ValueError, match="takes a batch, an array whose first axis runs over"):
        model.predict(2.0)
    tanh = nl.Sequential([Activation("tanh")])   # a model that takes any shape takes 1-D too
    np.testing.assert_array_equal(tanh.predict(np.zeros(3)), np.zeros(3))
