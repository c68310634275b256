"""What ``backward`` runs on after each call: the last good pass, or "call forward first".

A pass that failed half-way, a trial pass, and a pass whose weights an update has since
changed leave caches that no gradient may be paired with; a batch the first layer refuses
before caching anything leaves the last good pass as it was.
"""

import numpy as np
import pytest

import nnlab as nl
from tests.helpers import TrainsOnRows

RNG = np.random.default_rng(0)


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
    for first, step in [(TrainsOnRows(2), "forward"), (nl.BatchNorm(3), "train_step")]:
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
    other_arrays = "SGD: these are not the parameter arrays of its first step"
    calls = [
        ("sgd", lambda m, X: m.fit(X, np.ones((4, 2)),
                                   validation_data=(np.ones((4, 5)), np.ones((4, 2)))),
         r"^X_val of shape \(4, 5\) does not fit the model"),
        ("sgd", lambda m, X: m.fit(X[:1], np.ones((1, 2)), validation_split=0.5),
         "^validation_split=0.5 leaves no validation or no training samples out of 1"),
        (used, lambda m, X: m.fit(X, np.ones((4, 2))), other_arrays),
        (used, lambda m, X: m.train_step(X, np.ones((4, 2))), other_arrays),
    ]
    for optimizer, call, match in calls:
        model = nl.Sequential([nl.Dense(3, 4, rng=0), nl.Dense(4, 2, rng=1)])
        model.compile("mse", optimizer)
        model.forward(RNG.normal(size=(4, 3)))
        with pytest.raises(ValueError, match=match):
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


@pytest.mark.parametrize(("layer", "shape"), [
    (nl.Dropout(0.5, rng=0), (2, 4)), (nl.BatchNorm(4), (2, 4)),
    (nl.Residual(nl.Dropout(0.5, rng=0)), (2, 4)), (nl.Dense(4, 3, rng=0), (2, 4)),
    (nl.Activation("tanh"), (2, 4)), (nl.Flatten(), (2, 2, 2)),
    (nl.Conv2D(1, 2, 2, rng=0), (2, 1, 3, 3)), (nl.Conv1D(1, 2, 2, rng=0), (2, 1, 4)),
    (nl.MaxPool2D(2), (2, 1, 4, 4)), (nl.AvgPool2D(2), (2, 1, 4, 4)),
    (nl.MaxPool1D(2), (2, 1, 4)), (nl.GlobalMaxPool1D(), (2, 1, 4)),
])
def test_every_layer_refuses_a_training_flag_that_is_no_bool_keeping_the_last_pass(
        layer, shape):
    # Dropout and batch norm refused "yes"; Dense, the convolutions and the pooling layers
    # took "no" and 1 as true without a word. The new batch's shape must not be recorded
    # either: backward would expect dy of that shape, against the last pass's cache.
    x = RNG.normal(size=shape)
    dy = np.ones_like(layer.forward(x, training=True))
    dx = layer.backward(dy)
    for bad in ("no", 1, None):
        with pytest.raises(ValueError, match=f"training must be True or False; got {bad!r}"):
            layer.forward(np.ones((5, *shape[1:])), training=bad)
    np.testing.assert_array_equal(layer.backward(dy), dx)


def test_a_fit_refused_by_a_callback_leaves_no_trial_cache():
    # The callbacks' check came after check_data's trial pass on X[:64], outside the
    # block that forgets it: backward then took a gradient paired with fit's trial rows.
    model = nl.Sequential([nl.Dense(2, 3, rng=0), nl.Activation("tanh"), nl.Dense(3, 1, rng=1)])
    model.compile("mse", "sgd")
    seen = nl.callbacks.History()
    with pytest.raises(ValueError, match="EarlyStopping monitors 'val_loss'"):
        model.fit(RNG.normal(size=(100, 2)), RNG.normal(size=100), epochs=2,
                  callbacks=[seen, nl.callbacks.EarlyStopping(monitor="val_loss")])
    with pytest.raises(ValueError, match="call forward first"):
        model.backward(np.ones((64, 1)))
    assert getattr(seen, "model", None) is None   # no callback was handed the model


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


@pytest.mark.parametrize("validation", [False, True])
def test_nothing_stays_cached_after_fit_with_or_without_validation(validation):
    # Without validation data, backward ran on the last step's inputs and the weights its
    # update had since changed; with it, predict had forgotten them: the two now agree.
    model = nl.Sequential([nl.Dense(3, 4, rng=0), nl.Activation("tanh"), nl.Dense(4, 2, rng=1)])
    model.compile("mse", "sgd")
    X, y = RNG.normal(size=(6, 3)), np.ones((6, 2))
    model.fit(X, y, batch_size=4, validation_data=(X, y) if validation else None)
    with pytest.raises(ValueError, match="call forward first"):
        model.backward(np.ones((2, 2)))
    model.forward(X)
    assert model.backward(np.ones((6, 2))).shape == X.shape


@pytest.mark.parametrize("call", ["fit", "train_step"])
def test_a_step_interrupted_in_its_forward_pass_leaves_no_half_pass(call):
    # An interrupt (Ctrl-C) in the second layer's forward: the first held the new batch.
    class Interrupts(nl.layers.Layer):
        def forward(self, x, training=False):
            if training:
                raise KeyboardInterrupt
            self._check_input(x)
            return x

        def backward(self, dy):
            return self._check_grad(dy)

    model = nl.Sequential([nl.Dense(3, 2, rng=0), Interrupts()])
    model.compile("mse", "sgd")
    model.forward(RNG.normal(size=(4, 3)))
    with pytest.raises(KeyboardInterrupt):
        X, y = RNG.normal(size=(4, 3)), np.ones((4, 2))
        model.fit(X, y) if call == "fit" else model.train_step(X, y)
    with pytest.raises(ValueError, match="call forward first"):
        model.backward(np.ones((4, 2)))
