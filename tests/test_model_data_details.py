"""Details of the model, its data and its checks that a wrong answer would pass in silence
(found by a mutation audit): predict's last batch, a model of mixed dtypes, astype after
training, what counts as a rise of the loss, the schedules' edge arguments, the geometry
of the toy sets, a new shuffle every epoch, and the float64 copy and projection of gradcheck."""

import warnings

import numpy as np
import pytest

import nnlab as nl
from nnlab import datasets as D
from nnlab.gradcheck import check, errors
from nnlab.layers import Activation, Dense, Layer
from nnlab.model import LossGrowthWarning
from tests.helpers import mlp

# -- Sequential ------------------------------------------------------------------------------


@pytest.mark.parametrize("n, batch_size", [(5, 2), (7, 3), (1, 4)])
def test_predict_in_batches_keeps_a_last_batch_of_one(n, batch_size):
    # 5 = 2 + 2 + 1 and 7 = 3 + 3 + 1: the last sample is a batch of its own.
    X = np.random.default_rng(0).normal(size=(n, 2))
    model = mlp()
    y = model.predict(X, batch_size=batch_size)
    assert y.shape == (n, 1)
    np.testing.assert_allclose(y, model.predict(X), rtol=1e-12)   # a batch's own rounding


def test_a_model_of_layers_in_two_dtypes_has_no_dtype():
    model = nl.Sequential([Dense(2, 3, rng=0, dtype="float32"), Dense(3, 1, rng=1)])
    assert model.dtype is None
    assert nl.Sequential([Dense(2, 3, rng=0, dtype="float32")]).dtype == np.float32


def test_astype_after_training_starts_the_optimizer_afresh_in_the_new_dtype():
    X = np.random.default_rng(0).normal(size=(8, 2))
    y = X[:, :1] - X[:, 1:]
    model = nl.Sequential([Dense(2, 1, rng=0)])
    model.compile("mse", nl.optimizers.SGD(0.1, momentum=0.9))
    model.fit(X, y, epochs=2, batch_size=4, seed=0)
    model.astype("float32")
    W, b = (p.copy() for p in model.params)
    model.train_step(X, y)
    # A fresh momentum buffer starts at the gradient (PyTorch's first step): the first step
    # after astype is plain SGD's, p - 0.1 * g, with g of the mse mean over the 8 rows.
    g = 2 * (X.astype(np.float32) @ W + b - y) / len(X)
    np.testing.assert_allclose(model.params[0], W - 0.1 * X.T.astype(np.float32) @ g,
                               rtol=1e-6)
    np.testing.assert_allclose(model.params[1], b - 0.1 * g.sum(axis=0), rtol=1e-6)
    assert model.optimizer.iterations == 1
    assert {a.dtype for s in model.optimizer.state for a in s.values()} == {np.dtype("float32")}


class _Recorder(Layer):
    """Passes its input on, and keeps the first feature of each training batch."""

    def __init__(self, batches):
        super().__init__()
        self.batches = batches

    def forward(self, x, training=False):
        if training:
            self.batches.append(tuple(x[:, 0]))
        return x

    def backward(self, dy):
        return dy


Layer.registry.pop("_Recorder")  # a test double, not a layer a model file may name


def test_shuffling_draws_a_new_order_every_epoch_and_the_same_orders_for_a_seed():
    # A generator made afresh from the seed each epoch would give every epoch one order.
    def orders(seed):
        batches = []
        model = nl.Sequential([_Recorder(batches), Dense(1, 1, rng=0)])
        model.compile("mse", "sgd")
        X = np.arange(16.0)[:, None]
        model.fit(X, X, epochs=3, batch_size=16, seed=seed)
        return [b for b in batches if len(b) == 16][-3:]   # (not fit's trial batch)

    first = orders(0)
    assert len(set(first)) == 3 and all(sorted(b) == list(range(16)) for b in first)
    assert orders(0) == first != orders(1)


def test_a_loss_that_stays_flat_is_not_rising():
    # 200 times the first epoch's loss, but flat: the last three epochs are no rises.
    with warnings.catch_warnings():
        warnings.simplefilter("error", LossGrowthWarning)
        nl.training.warn_if_diverging([1.0, 200.0, 200.0, 200.0])
        nl.training.warn_if_diverging([1.0, 150.0, 200.0, 200.0, 300.0])
    with pytest.warns(LossGrowthWarning, match="in epoch 4"):
        nl.training.warn_if_diverging([1.0, 150.0, 200.0, 300.0])


# -- schedules -------------------------------------------------------------------------------


def test_an_exponential_decay_of_rate_1_is_a_constant_rate():
    schedule = nl.schedules.exponential_decay(0.1, 1.0, 10)
    assert [schedule(i) for i in (0, 10, 1000)] == [0.1, 0.1, 0.1]


def test_an_exponential_decay_keeps_a_fractional_number_of_steps():
    # 0.5 ** (5 / 2.5) = 0.25: steps=2.5 is not truncated to 2, which would give 0.5 ** 2.5.
    schedule = nl.schedules.exponential_decay(1.0, 0.5, 2.5)
    assert schedule.get_config()["steps"] == 2.5
    assert schedule(5) == 0.25


def test_a_schedule_entry_with_a_key_more_is_refused():
    entry = {"class": "StepDecay", "config": {"lr0": 0.1, "factor": 0.5, "every": 10}}
    assert nl.schedules.deserialize(entry)(10) == 0.05
    with pytest.raises(ValueError, match="expected a schedule as"):
        nl.schedules.deserialize({**entry, "staircase": True})


# -- data sets -------------------------------------------------------------------------------


@pytest.mark.parametrize("n_classes", [2, 3])
def test_spiral_arms_turn_from_radius_0_2_to_1_and_are_evenly_rotated(n_classes):
    X, y = D.spirals(300, n_classes=n_classes, noise=0.0, seed=0)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert radius.min() >= 0.2 and radius.max() <= 1.0 and radius.max() > 0.99
    # Along an arm the radius grows from 0.2 to 1 while the angle turns 1.75 times
    # (3.5 pi); arm k is arm 0 rotated by 2 pi k / n_classes.
    angle = 3.5 * np.pi * (radius - 0.2) / 0.8 + 2 * np.pi * y / n_classes
    np.testing.assert_allclose(X, radius[:, None] * np.column_stack([np.cos(angle),
                                                                     np.sin(angle)]),
                               atol=1e-12)


def test_blobs_draws_its_centers_over_the_whole_of_minus_5_to_5():
    X, y = D.blobs(400, centers=200, std=0.0, n_features=1, seed=0)
    assert len(np.unique(y)) == 200
    assert -5 <= X.min() < -4.5 and 4.5 < X.max() <= 5


# -- gradcheck -------------------------------------------------------------------------------


def test_check_runs_a_float32_model_in_float64():
    # In float32, x + 1e-6 is rounded to a spacing of 1.2e-7 (near 1): an error of about 1e-2.
    model = nl.Sequential([Dense(3, 4, rng=0), Activation("tanh"), Dense(4, 2, rng=1)])
    model.astype("float32")
    x = np.random.default_rng(0).normal(size=(5, 3))
    assert check(model, x) < 1e-8
    assert model.dtype == np.float32


def test_check_runs_a_float32_layer_in_float64():
    # float64 agrees to about 1e-11; float32 gradients are rounded at about 1e-8 of themselves.
    x = np.random.default_rng(0).normal(size=(5, 3))
    for layer in (Dense(3, 2, rng=0, dtype="float32"), nl.BatchNorm(3, dtype="float32")):
        assert max(errors(layer, x).values()) < 1e-9, layer


class _EchoesItsInput(Activation):
    """A linear activation whose backward returns its input where dy belongs (a bug)."""

    def backward(self, dy):
        return self.x


Layer.registry.pop("_EchoesItsInput")  # a test double, not a layer a model file may name


def test_check_projects_on_an_array_other_than_an_x_drawn_with_the_same_seed():
    # Projected on r, the gradient of sum(x * r) is r; the bug gives x. Were r drawn from
    # default_rng(seed) itself, an x drawn so would be r, and the bug would pass.
    x = np.random.default_rng(0).normal(size=(4, 3))
    assert check(_EchoesItsInput("linear"), x, seed=0) > 0.1
