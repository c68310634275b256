"""A call that fails says why, and leaves everything as it was: weights, history, caches."""

import warnings

import numpy as np
import pytest

import nnlab as nl
from tests.helpers import TrainsOnRows

RNG = np.random.default_rng(0)


def small_model():
    return nl.Sequential([nl.Dense(2, 3, rng=0), nl.BatchNorm(3), nl.Activation("tanh"),
                          nl.Dense(3, 1, rng=1)])


@pytest.mark.parametrize("change,match", [
    (lambda w: [np.full_like(w[0], np.nan), *w[1:]], "NaN"),
    (lambda w: [*w[:5], -np.ones_like(w[5]), *w[6:]], "'1.buffers.running_var' holds variances"),
    (lambda w: [w[0], np.array(["a", "b", "c"]), *w[2:]], "dtype"),
    (lambda w: [w[0], w[1].astype(complex), *w[2:]], "dtype"),
    (lambda w: [w[0], *w[2:]], "shapes"),
    (lambda w: None, "list of arrays"),
])
def test_set_weights_checks_every_array_before_copying_any(change, match):
    model = small_model()
    before = model.get_weights()
    bad = change([np.zeros_like(a) for a in before])   # zeros: none may be copied
    with pytest.raises(ValueError, match=match):
        model.set_weights(bad)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_set_weights_refuses_a_value_beyond_the_models_dtype():
    model = small_model().astype("float32")
    weights = model.get_weights()
    weights[0] = np.full(weights[0].shape, 1e39)   # finite in float64; was written as inf
    with pytest.raises(ValueError, match=r"'0.params.W' holds 6 value\(s\) beyond float32"):
        model.set_weights(weights)
    assert np.isfinite(model.get_weights()[0]).all()


def test_a_callback_refused_leaves_the_last_history_and_stop_reason():
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.compile("mse", "sgd")
    X, y = RNG.normal(size=(8, 2)), RNG.normal(size=8)
    history = nl.callbacks.History()
    model.fit(X, y, epochs=2, callbacks=[history])
    model.stop_reason = "kept"
    with pytest.raises(ValueError, match="monitors 'val_loss'"):
        model.fit(X, y, callbacks=[history, nl.callbacks.EarlyStopping("val_loss")])
    assert len(model.history.history["loss"]) == 2 and model.stop_reason == "kept"


@pytest.mark.parametrize("layer", [nl.Dropout(0.5, rng=0), nl.BatchNorm(4),
                                   nl.Residual(nl.Dropout(0.5, rng=0))])
def test_layers_take_training_as_a_bool_only(layer):
    with pytest.raises(ValueError, match="training must be True or False"):
        layer.forward(np.ones((3, 4)), training="False")
    layer.forward(np.ones((3, 4)), training=np.True_)


def test_model_backward_refuses_nan_dy():
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.forward(np.ones((3, 2)))
    with pytest.raises(ValueError, match="NaN"):
        model.backward(np.full((3, 1), np.nan))


@pytest.mark.parametrize("make,match", [
    (lambda: nl.Dense(10**12, 3), "MAX_WEIGHTS"),
    (lambda: nl.Conv2D(1, 2, 10**5), "MAX_WEIGHTS"),
    (lambda: nl.Perceptron(10**12), "n_inputs"),
    (lambda: nl.Dense(2, 2, init=lambda shape, rng, dtype: np.full(shape, np.nan, dtype)),
     "NaN or infinite weights"),
    (lambda: nl.Sequential([nl.Dense(2, 1)]).compile("mse", metrics=3), "metrics"),
    (lambda: nl.initializers.he_normal(None), "weight shape"),
    (lambda: nl.gradcheck.check(nl.Dense(3, 2, rng=0), np.zeros((0, 3))), "one or more"),
    (lambda: nl.Activation("tanh").forward(0.5), "single number"),
    (lambda: nl.Residual(nl.Activation("tanh")).forward(1.0, training=True), "single number"),
    (lambda: nl.Residual([nl.Dense(2, 2)]), r"got \(\[Dense"),
    (lambda: nl.datasets.train_test_split(np.ones((1, 2)), np.ones(1), test_size=1),
     "2 or more samples"),
    (lambda: nl.callbacks.ProgressBar(lines="yes"), "lines must be True or False"),
])
def test_bad_arguments_are_value_errors_that_say_what_was_wrong(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_numpy_bools_count_as_bools():
    assert nl.losses.BinaryCrossEntropy(from_logits=np.True_).from_logits is True


def test_an_empty_batch_goes_through_a_cnn():
    model = nl.Sequential([nl.Conv2D(1, 2, 3, rng=0), nl.AvgPool2D(2), nl.Flatten(),
                           nl.Dense(8, 3, rng=0)])
    assert model.predict(np.zeros((0, 1, 6, 6))).shape == (0, 3)
    assert nl.GlobalMaxPool1D().output_shape((3, 4)) == (3,)


def test_a_diverged_epoch_logs_nan_for_its_validation_scores():
    model = nl.Sequential([nl.Dense(1, 1, rng=0)])
    model.compile("mse", nl.optimizers.SGD(500.0), metrics=["mae"])
    X = RNG.normal(size=(64, 1)) * 100
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nl.model.TrainingDivergedWarning)
        warnings.simplefilter("ignore", nl.model.LossGrowthWarning)   # first, while finite
        history = model.fit(X, 3 * X[:, 0], epochs=50, validation_split=0.25, seed=0)
    last = {k: v[-1] for k, v in history.history.items()}
    assert not np.isfinite(last["loss"])
    assert np.isnan(last["val_loss"]) and np.isnan(last["val_mae"])


def test_the_clipping_warning_offers_from_logits_only_to_losses_that_take_it():
    model = nl.Sequential([nl.Dense(2, 2, rng=0)])
    model.compile("kl_divergence", "sgd")
    X = RNG.normal(size=(8, 2)) * 10
    with pytest.warns(nl.model.ClippedOutputsWarning) as caught:
        model.evaluate(X, np.full((8, 2), 0.5))
    assert "from_logits" not in str(caught[0].message)


def test_a_perceptron_refuses_inputs_that_could_overflow_its_weights():
    unit = nl.Perceptron(2, lr=10.0)
    with pytest.raises(ValueError, match="could overflow the weights or the net input"):
        unit.fit([[1e308, 1e308], [-1e308, -1e308]], [0, 1])
    assert unit.weights.tolist() == [0.0, 0.0] and unit.bias == 0.0
    unit.fit([[1e100, 1e100], [-1e100, -1e100]], [0, 1])   # large, but no overflow
    assert np.all(np.isfinite(unit.weights))


def dropout_bn_model():
    return nl.Sequential([nl.Dense(2, 3, rng=0), nl.BatchNorm(3), nl.Dropout(0.5, rng=2),
                          nl.Dense(3, 1, rng=1)])


def state_of(model):
    """Weights, batch norm's statistics and dropout's generator: what a step changes."""
    return model.get_weights(), model.layers[2].rng.bit_generator.state


def assert_same_state(before, after):
    for a, b in zip(before[0], after[0], strict=True):
        np.testing.assert_array_equal(a, b)
    assert before[1] == after[1]


@pytest.mark.parametrize("call", ["fit", "train_step"])
def test_an_optimizer_of_other_arrays_is_refused_before_the_forward_pass(call):
    X, y = RNG.normal(size=(8, 2)), RNG.normal(size=(8, 1))
    opt = nl.optimizers.Adam(0.01)
    other = nl.Sequential([nl.Dense(2, 1, rng=0)])
    other.compile("mse", opt)
    other.fit(X, y, seed=0)
    model = dropout_bn_model()
    model.compile("mse", opt)   # the same optimizer: its state is the other model's
    before = state_of(model)
    with pytest.raises(ValueError, match=r"not the parameter arrays .* call reset\(\)"):
        model.fit(X, y, seed=0) if call == "fit" else model.train_step(X, y)
    assert_same_state(before, state_of(model))


@pytest.mark.parametrize("call", ["fit", "train_step"])
def test_a_schedules_bad_first_rate_is_refused_before_the_forward_pass(call):
    X, y = RNG.normal(size=(8, 2)), RNG.normal(size=(8, 1))
    model = dropout_bn_model()
    model.compile("mse", nl.optimizers.SGD(lr=lambda i: -0.1))
    before = state_of(model)
    with pytest.raises(ValueError, match=r"-0\.1"):
        model.fit(X, y, seed=0) if call == "fit" else model.train_step(X, y)
    assert_same_state(before, state_of(model))


def test_a_step_that_fails_after_its_forward_pass_restores_batch_norms_statistics():
    X, y = RNG.normal(size=(8, 2)), RNG.normal(size=(8, 1))
    model = dropout_bn_model()
    model.compile("mse", nl.optimizers.SGD(lr=lambda i: 0.1 if i < 2 else float("nan")))
    model.train_step(X[:4], y[:4])   # (fit refuses such a schedule before its first step)
    model.train_step(X[4:], y[4:])
    with pytest.raises(ValueError, match="nan"):
        model.train_step(X[:4], y[:4])
    assert model.optimizer.iterations == 2
    statistics = [model.layers[1].buffers[k].copy() for k in ("running_mean", "running_var")]
    reference = dropout_bn_model()
    reference.compile("mse", nl.optimizers.SGD(0.1))
    reference.fit(X, y, batch_size=4, epochs=1, shuffle=False)   # the two steps that succeeded
    for a, k in zip(statistics, ("running_mean", "running_var"), strict=True):
        np.testing.assert_array_equal(a, reference.layers[1].buffers[k])


def test_kl_divergence_in_evaluate_clips_outputs_above_1_as_keras_and_the_metric_do():
    # Outputs of a linear layer, 1.5 and -0.5: Keras clips q into [1e-7, 1] (log 1 = 0,
    # where the lower clip alone would take log 1.5), and so do fit, evaluate and the metric.
    model = nl.Sequential([nl.Dense(1, 2, rng=0)])
    model.layers[0].params["W"][...] = [[1.5, -0.5]]
    model.layers[0].params["b"][...] = 0.0
    model.compile("kl_divergence", "sgd", metrics=["kl_divergence"])
    p = np.array([[0.5, 0.5]])
    keras = float(np.sum(p * np.log(p / np.clip([[1.5, -0.5]], 1e-7, 1))))
    with pytest.warns(nl.model.ClippedOutputsWarning):
        loss, metric = model.evaluate([[1.0]], p)
    assert loss == pytest.approx(keras, rel=1e-12) and metric == pytest.approx(keras, rel=1e-12)
    grad = nl.losses.KLDivergence().backward(np.array([[1.5, 0.4]]), p)
    np.testing.assert_array_equal(grad, [[0.0, -0.5 / 0.4]])   # no slope where q is clipped


@pytest.mark.parametrize("call", ["forward", "train_step", "fit"])
@pytest.mark.parametrize("block", [False, True])
def test_a_later_layer_refusing_to_train_leaves_batch_norms_statistics(call, block):
    # The trial pass runs in evaluation mode and cannot foresee the rule; batch norm had
    # updated its running statistics before the layer after it refused.
    norm = nl.Residual(nl.BatchNorm(2)) if block else nl.BatchNorm(2)
    model = nl.Sequential([nl.Dense(3, 2, rng=0), norm, TrainsOnRows(3)])
    model.compile("mse", "sgd")
    before = model.get_weights()
    X, y = RNG.normal(size=(2, 3)), np.ones((2, 2))
    with pytest.raises(ValueError, match="3 or more rows"):
        if call == "forward":
            model.forward(X, training=True)
        else:
            getattr(model, call)(X, y)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_residual_block_refusing_to_train_leaves_its_batch_norms_statistics():
    block = nl.Residual(nl.BatchNorm(2), TrainsOnRows(3))
    before = {k: a.copy() for k, a in block.buffers.items()}
    with pytest.raises(ValueError, match="3 or more rows"):
        block.forward(RNG.normal(size=(2, 2)), training=True)
    for k, a in block.buffers.items():
        np.testing.assert_array_equal(a, before[k])
