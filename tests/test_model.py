"""Sequential: learning, history, evaluate and predict, metrics, seeds and dtypes,
structure and summary. Callbacks, divergence, bad input and model files have test modules of
their own."""

import functools
import warnings

import numpy as np
import pytest

import nnlab as nl
from nnlab.callbacks import Callback, History
from nnlab.layers import Activation, Dense, Layer
from tests.helpers import assert_same_weights, mlp, regression_data

# --- learning -------------------------------------------------------------------------


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


# --- history, evaluate, predict, metrics ----------------------------------------------


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


# --- seeds and dtypes -----------------------------------------------------------------


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


def test_backward_gives_dx_in_the_dtype_of_the_forward_input_whatever_dy_s():
    # A float64 dy ran a float32 model's backward in float64 (a layer alone casts dy).
    X = np.random.default_rng(0).normal(size=(4, 2))
    for model_dtype, dy_dtype in (("float32", np.float64), ("float64", np.float32)):
        model = mlp().astype(model_dtype)
        y = model.forward(X)
        dx = model.backward(np.ones(y.shape, dy_dtype))
        assert {dx.dtype, *(g.dtype for g in model.grads)} == {np.dtype(model_dtype)}


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


# --- structure, names, summary --------------------------------------------------------


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


def test_summary_takes_an_int_for_the_shape_of_a_vector_sample():
    # It was turned into (None,), then refused: "input_shape must be positive integers; got 3".
    from nnlab.summary import summary_table

    layers = [nl.Activation("relu"), nl.Dense(3, 2)]
    assert summary_table(layers, 3) == summary_table(layers, (3,))
    assert "(None, 2)" in summary_table(layers, np.int64(3))


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

