"""Mistakes that once went through in silence, or failed half-way: each is now refused
before anything changes, or stops a run and says why, or gets a warning at compile."""

import warnings

import numpy as np
import pytest

import nnlab as nl


def _model(*layers, loss="mse", optimizer="sgd"):
    model = nl.Sequential(list(layers))
    model.compile(loss, optimizer)
    return model


@pytest.mark.parametrize("name", ["sgd", "adam", "rmsprop", "adagrad"])
def test_a_gradient_beyond_the_parameters_dtype_is_refused(name):
    # 1e39 is finite in float64; cast to the float32 parameter it was inf, and W -inf or NaN.
    W = np.ones((2, 3), np.float32)
    opt = nl.optimizers.get(name)
    with pytest.raises(ValueError, match=r"gradient 0, for a float32 parameter, holds 6 "
                                         r"value\(s\) beyond float32's range.*up to 1e\+39"):
        opt.step([W], [np.full((2, 3), 1e39)])
    np.testing.assert_array_equal(W, np.ones((2, 3)))
    assert opt.iterations == 0 and opt.state is None


def test_one_array_twice_in_params_is_refused():
    W = np.ones(2)
    opt = nl.optimizers.SGD(0.1)
    with pytest.raises(ValueError, match="params 0 and 1 are the same array"):
        opt.step([W, W], [np.ones(2), np.ones(2)])
    np.testing.assert_array_equal(W, [1.0, 1.0])   # not 0.8: updated twice
    assert opt.iterations == 0 and opt.state is None


def test_views_of_one_array_in_params_are_refused():
    b = np.ones(4)
    opt = nl.optimizers.SGD(0.1)
    with pytest.raises(ValueError, match="params 0 and 1 share memory"):
        opt.step([b, b[:2]], [np.ones(4), np.ones(2)])
    np.testing.assert_array_equal(b, np.ones(4))   # not 0.8 in the first half
    opt.step([b[:2], b[2:]], [np.ones(2), np.ones(2)])   # halves that do not overlap
    np.testing.assert_allclose(b, 0.9)


@pytest.mark.parametrize("cls", [nl.optimizers.SGD, nl.optimizers.Adam])
def test_a_bad_rate_names_its_optimizer_once(cls):
    with pytest.raises(ValueError, match=rf"^{cls.__name__} lr must be .* got -1"):
        cls(lr=-1)
    opt = cls()
    with pytest.raises(ValueError, match=rf"^{cls.__name__} lr must be .* got 0"):
        opt.lr = 0


def test_other_arrays_are_refused_with_their_count():
    a, b = np.ones(2), np.ones(3)
    opt = nl.optimizers.SGD(0.1)
    opt.step([a, b], [a, b])
    with pytest.raises(ValueError, match="expected the same 2 arrays, got 3 of which 1 in place"):
        opt.step([a, np.ones(3), np.ones(1)], [a, b, np.ones(1)])


def test_a_schedule_that_goes_bad_later_in_the_run_is_refused_before_the_first_update():
    model = _model(nl.Dense(2, 1, rng=0),
                   optimizer=nl.optimizers.SGD(lambda t: 0.01 if t < 3 else float("nan")))
    W = model.params[0].copy()
    with pytest.raises(ValueError, match=r"<lambda> at iteration 3 must be finite"):
        model.fit(np.ones((8, 2)), np.ones(8), epochs=3, batch_size=4)   # steps 0 to 5
    np.testing.assert_array_equal(model.params[0], W)
    assert model.optimizer.iterations == 0 and model.history is None
    model.fit(np.ones((8, 2)), np.ones(8), epochs=1, batch_size=4)   # steps 0 and 1: fine
    assert model.optimizer.iterations == 2


def test_one_callback_twice_is_refused():
    history = nl.callbacks.History()
    model = _model(nl.Dense(2, 1, rng=0))
    with pytest.raises(ValueError, match="callbacks lists the same object twice"):
        model.fit(np.ones((4, 2)), np.ones(4), epochs=2, callbacks=[history, history])
    assert history.history == {}


def test_astype_refuses_weights_beyond_the_dtype_and_casts_nothing():
    model = nl.Sequential([nl.Dense(2, 2, rng=0), nl.Residual(nl.Dense(2, 2, rng=1)),
                           nl.BatchNorm(2)])
    model.layers[1].layers[0].params["W"][0, 0] = 1e39
    with pytest.raises(ValueError, match=r"Dense\(n_in=2, n_out=2.*array 'W' holds 1 "
                                         r"value\(s\) beyond float32's range"):
        model.astype("float32")
    assert model.dtype == np.float64 and model.layers[0].dtype == np.float64
    model.layers[1].layers[0].params["W"][0, 0] = 1.0
    assert model.astype("float32").dtype == np.float32


def test_a_running_variance_that_overflows_stops_the_run_as_diverged():
    # The loss stayed finite (the feature normalized to 0) and running_var became inf.
    X = np.array([[1e200, 1.0], [-1e200, 2.0], [3.0, 4.0], [5.0, 6.0]])
    model = _model(nl.BatchNorm(2), nl.Dense(2, 1, rng=0))
    W = model.params[2].copy()
    # Before any update: the learning rate, which the warning usually names first, is not
    # the cause, and the warning says so.
    with pytest.warns(nl.model.TrainingDivergedWarning,
                      match=r"loss became nan in epoch 1, .* No update had been made yet: .*"
                            r"batch norm's variance beyond its dtype\): scale the inputs"):
        history = model.fit(X, np.ones(4), epochs=2, batch_size=4)
    assert np.isnan(history.history["loss"]).all() and len(history.history["loss"]) == 1
    np.testing.assert_array_equal(model.layers[0].buffers["running_var"], [1.0, 1.0])
    np.testing.assert_array_equal(model.params[2], W)


@pytest.mark.parametrize(("layers", "loss", "match"), [
    ([nl.Dense(2, 3), nl.Activation("softmax")], nl.losses.CategoricalCrossEntropy(True),
     "takes logits .* ends with a softmax"),
    ([nl.Dense(2, 1), nl.Activation("sigmoid")], nl.losses.BinaryCrossEntropy(True),
     "takes logits .* ends with a sigmoid"),
    ([nl.Dense(2, 1), nl.Activation("softmax")], "binary_crossentropy",
     "softmax over a single unit"),
])
def test_compile_warns_where_the_last_layer_defeats_the_loss(layers, loss, match):
    with pytest.warns(UserWarning, match=match):
        nl.Sequential(layers).compile(loss)


@pytest.mark.parametrize(("layers", "loss"), [
    ([nl.Dense(2, 3), nl.Activation("softmax")], "categorical_crossentropy"),
    ([nl.Dense(2, 3)], nl.losses.CategoricalCrossEntropy(True)),
    ([nl.Dense(2, 1), nl.Activation("sigmoid")], "binary_crossentropy"),
    ([], "mse"),
])
def test_compile_is_silent_where_they_go_together(layers, loss):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nl.Sequential(layers).compile(loss)


def test_targets_beyond_a_float32_models_range_are_named():
    model = _model(nl.Dense(2, 1, rng=0, dtype="float32"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # no RuntimeWarning of a cast to inf
        with pytest.raises(ValueError, match=r"^y holds 4 value\(s\) beyond float32's range"):
            model.fit(np.ones((4, 2)), np.full(4, 1e39))


@pytest.mark.parametrize(("label", "shown"), [(1.0000001, "1.0000001"), (2.9999999, "2.9999999"),
                                              (5, "5"), (-1, "-1")])
def test_a_label_out_of_range_is_shown_with_every_digit(label, shown):
    loss = nl.losses.CategoricalCrossEntropy(from_logits=True)
    with pytest.raises(ValueError, match=f"must be integers in \\[0, 2\\] .*; got {shown}$"):
        loss(np.zeros((2, 3)), np.array([0, label]))


def test_sequential_takes_a_list_only():
    with pytest.raises(ValueError, match="Sequential takes a list of layers; got 5"):
        nl.Sequential(5)
