"""A call that fails says why, and leaves everything as it was: weights, history, caches."""

import warnings

import numpy as np
import pytest

import nnlab as nl

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


def test_a_failed_model_forward_leaves_no_cache_for_backward():
    model = nl.Sequential([nl.Activation("tanh"), nl.Dense(3, 2, rng=0)])
    X, dout = RNG.normal(size=(4, 3)), np.ones((4, 2))
    model.forward(X)
    model.backward(dout)
    with pytest.raises(ValueError, match=r"Dense.*\(batch, 3\); got shape \(4, 1\)"):
        model.forward(np.zeros((4, 1)))   # tanh ran on it before Dense objected
    with pytest.raises(ValueError, match="call forward first"):
        model.backward(dout)
    with pytest.raises(ValueError, match="call forward first"):
        model.layers[0].backward(dout[:, :1].repeat(3, axis=1))
    model.forward(X)
    assert model.backward(dout).shape == X.shape


@pytest.mark.parametrize("training", [False, True])
def test_a_model_forward_its_first_layer_refuses_keeps_the_last_good_pass(training):
    # The model forgot every pass that failed, so backward said "call forward first" after
    # a batch of the wrong width that no layer had run on (bad input must change no state).
    model = nl.Sequential([nl.Dense(3, 4, rng=0), nl.Activation("tanh"), nl.Dense(4, 2, rng=1)])
    X, dout = RNG.normal(size=(5, 3)), RNG.normal(size=(5, 2))
    model.forward(X)
    dx = model.backward(dout)
    for bad in (np.ones((5, 4)), np.ones((5, 3, 1))):
        with pytest.raises(ValueError, match=r"Dense\(n_in=3.*\(batch, 3\); got shape"):
            model.forward(bad, training=training)
    np.testing.assert_array_equal(model.backward(dout), dx)


@pytest.mark.parametrize("training", [False, True])
def test_a_residual_first_layer_that_forgets_its_half_pass_makes_the_model_forget(training):
    # tanh inside the block cached the refused batch; the model kept the rest: a broadcast
    # error in backward, or with matching shapes a gradient of two batches.
    model = nl.Sequential([nl.Residual(nl.Activation("tanh"), nl.Dense(3, 3, rng=0)),
                           nl.Dense(3, 2, rng=1)])
    model.forward(RNG.normal(size=(5, 3)))
    with pytest.raises(ValueError, match=r"Dense\(n_in=3"):
        model.forward(np.ones((5, 4)), training=training)
    with pytest.raises(ValueError, match="call forward first"):
        model.backward(np.ones((5, 2)))


def test_a_layer_of_ones_own_that_records_nothing_still_ends_a_model():
    # A layer that never calls _check_input has no input shape: backward looked for one
    # after every predict or fit, and refused.
    class Double(nl.layers.Layer):
        def forward(self, x, training=False):
            return 2 * np.asarray(x, dtype=float)

        def backward(self, dy):
            return 2 * dy

    model = nl.Sequential([nl.Dense(3, 2, rng=0), Double()])
    X = RNG.normal(size=(4, 3))
    model.compile("mse", "sgd")
    model.fit(X, np.ones((4, 2)), epochs=1)
    model.predict(X)
    model.forward(X)
    assert model.backward(np.ones((4, 2))).shape == X.shape
    assert nl.gradcheck.check(model, X) < 1e-6


def test_a_refusal_after_the_trial_pass_of_training_leaves_no_trial_cache():
    # The first layer refused the training pass after the one-row trial had run: the model
    # kept the trial's caches, and backward mixed them with the last good pass.
    class TrainsOnTwoRows(nl.layers.Layer):
        def forward(self, x, training=False):
            if training and len(x) < 2:
                raise ValueError("TrainsOnTwoRows trains on 2 or more rows")
            self._check_input(x)
            return 2 * x

        def backward(self, dy):
            return 2 * self._check_grad(dy)

    for first, step in [(TrainsOnTwoRows(), "forward"), (nl.BatchNorm(3), "train_step")]:
        model = nl.Sequential([first, nl.Dense(3, 2, rng=0)])
        model.compile("mse", "sgd")
        model.forward(RNG.normal(size=(1, 3)))
        with pytest.raises(ValueError, match="2 or more"):
            if step == "forward":
                model.forward(RNG.normal(size=(1, 3)), training=True)
            else:
                model.train_step(RNG.normal(size=(1, 3)), np.ones((1, 2)))
        with pytest.raises(ValueError, match="call forward first"):
            model.backward(np.ones((1, 2)))


def test_a_fit_refused_for_its_last_batch_leaves_no_trial_cache():
    model = nl.Sequential([nl.Dense(3, 2, rng=0), nl.BatchNorm(2)])
    model.compile("mse", "sgd")
    model.forward(RNG.normal(size=(5, 3)), training=True)
    with pytest.raises(ValueError, match="batch_size=4 over 5 samples"):
        model.fit(RNG.normal(size=(5, 3)), np.ones((5, 2)), batch_size=4)
    with pytest.raises(ValueError, match="call forward first"):
        model.backward(np.ones((5, 2)))


def test_a_fit_or_train_step_refused_after_its_trial_pass_leaves_no_trial_cache():
    # Refused validation data, a split leaving nothing to train on, an optimizer used on
    # another model's arrays: each after check_data's trial pass on X, which backward used.
    used = nl.optimizers.SGD(0.1)
    other = nl.Sequential([nl.Dense(3, 2, rng=5)])
    other.compile("mse", used)
    other.train_step(RNG.normal(size=(4, 3)), np.ones((4, 2)))
    calls = [
        ("sgd", lambda m, X: m.fit(X, np.ones((4, 2)),
                                   validation_data=(np.ones((4, 5)), np.ones((4, 2))))),
        ("sgd", lambda m, X: m.fit(X[:1], np.ones((1, 2)), validation_split=0.5)),
        (used, lambda m, X: m.fit(X, np.ones((4, 2)))),
        (used, lambda m, X: m.train_step(X, np.ones((4, 2)))),
    ]
    for optimizer, call in calls:
        model = nl.Sequential([nl.Dense(3, 4, rng=0), nl.Dense(4, 2, rng=1)])
        model.compile("mse", optimizer)
        model.forward(RNG.normal(size=(4, 3)))
        with pytest.raises(ValueError):
            call(model, RNG.normal(size=(4, 3)))
        with pytest.raises(ValueError, match="call forward first"):
            model.backward(np.ones((4, 2)))


def test_a_pass_stopped_by_an_overflow_under_errstate_raise_leaves_no_cache():
    # No refusal: the layer that raised it, first or not, had cached its input already.
    for layers, big in (([nl.Dense(3, 2, init="ones")], 1e308),   # overflows in the first
                        ([nl.Dense(3, 3, init="ones"), nl.Dense(3, 2, init="ones")], 5e307)):
        model = nl.Sequential(layers)
        model.forward(np.ones((4, 3)))
        x = np.full((4, 3), big)   # sums of three: 3e308 (> max), or 1.5e308 then 4.5e308
        with np.errstate(all="raise"), pytest.raises(FloatingPointError, match="overflow"):
            model.forward(x)
        with pytest.raises(ValueError, match="call forward first"):
            model.backward(np.ones((4, 2)))


def test_a_batch_norm_refusing_one_row_in_training_leaves_no_trial_cache():
    model = nl.Sequential([nl.Dense(3, 2, rng=0), nl.BatchNorm(2)])
    model.forward(RNG.normal(size=(5, 3)))
    with pytest.raises(ValueError, match="2 or more values per feature"):
        model.forward(np.ones((1, 3)), training=True)   # after a trial pass of that row
    with pytest.raises(ValueError, match="call forward first"):
        model.backward(np.ones((5, 2)))


def test_a_fit_refused_for_its_targets_leaves_no_trial_cache():
    model = nl.Sequential([nl.Activation("tanh"), nl.Dense(3, 2, rng=0)])
    model.compile("categorical_crossentropy", "sgd")
    model.forward(RNG.normal(size=(4, 3)))
    with pytest.raises(ValueError, match="labels"):
        model.fit(RNG.normal(size=(4, 3)), np.array([0, 1, 5, 1]))
    with pytest.raises(ValueError, match="call forward first"):
        model.backward(np.ones((4, 2)))


@pytest.mark.parametrize("layer,good,bad", [
    (nl.BatchNorm(3), np.ones((4, 3)), np.ones((4, 4))),
    (nl.BatchNorm(3), np.ones((4, 3)), np.ones(3)),
    (nl.Flatten(), np.ones((2, 3, 2)), np.ones(4)),
    (nl.MaxPool2D(2), np.ones((1, 1, 4, 4)), np.ones((1, 1, 1, 4))),
    (nl.AvgPool2D(2), np.ones((1, 1, 4, 4)), np.ones((1, 1, 4, 1))),
    (nl.Conv2D(1, 1, 3, rng=0), np.ones((1, 1, 4, 4)), np.ones((1, 1, 2, 2))),
    (nl.GlobalMaxPool1D(), np.ones((2, 3, 4)), np.ones((2, 3, 0))),
])
def test_a_failed_layer_forward_keeps_the_last_good_pass(layer, good, bad):
    y = layer.forward(good, training=False)
    dy = RNG.normal(size=y.shape)
    dx = layer.backward(dy)
    with pytest.raises(ValueError, match=type(layer).__name__):
        layer.forward(bad)
    np.testing.assert_array_equal(layer.backward(dy), dx)


def test_a_residual_block_that_fails_inside_leaves_no_half_pass():
    block = nl.Residual(nl.Activation("tanh"), nl.Dense(3, 2, rng=0))
    with pytest.raises(ValueError, match=r"changes the shape from \(2, 3\) to \(2, 2\)"):
        block.forward(np.ones((2, 3)))   # after tanh and Dense ran: they forget that pass
    with pytest.raises(ValueError, match="call forward first"):
        block.layers[0].backward(np.ones((2, 3)))
    with pytest.raises(ValueError, match="call forward first"):
        block.backward(np.ones((2, 3)))


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


@pytest.mark.parametrize("layer", [nl.Dropout(0.5, rng=0), nl.BatchNorm(4),
                                   nl.Residual(nl.Dropout(0.5, rng=0))])
def test_a_bad_training_flag_keeps_the_last_good_pass(layer):
    # The new batch's shape was recorded before the flag was refused: backward then
    # expected dy of that shape, against the last pass's mask.
    x, dy = RNG.normal(size=(2, 4)), RNG.normal(size=(2, 4))
    layer.forward(x, training=True)
    dx = layer.backward(dy)
    with pytest.raises(ValueError, match="training must be True or False"):
        layer.forward(np.ones((5, 4)), training="yes")
    np.testing.assert_array_equal(layer.backward(dy), dx)


def test_model_backward_refuses_nan_dout():
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


def test_the_trials_of_the_hint_for_a_1d_x_leave_no_cache():
    # The hint tries X.reshape(-1, 1) and X[None] on the model: the trial that fits must
    # leave nothing for backward, nor the shape that summary shows.
    model = nl.Sequential([nl.Dense(1, 2, rng=0), nl.BatchNorm(2), nl.Dense(2, 1, rng=1)])
    model.compile("mse", "sgd")
    X = RNG.normal(size=(6, 1))
    model.predict(X[:3, 0].reshape(1, -1)[:, :1])   # a batch of one sample: shape (1, 1) seen
    weights = model.get_weights()
    for call in (lambda: model.predict(X[:, 0]), lambda: model.evaluate(X[:, 0], X)):
        with pytest.raises(ValueError, match=r"write X\.reshape\(-1, 1\)"):
            call()
        with pytest.raises(ValueError, match="call forward first"):
            model.backward(np.ones((6, 1)))
        assert model._sample_shape == (1,)
    for a, b in zip(weights, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


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
