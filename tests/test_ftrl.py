"""Ftrl (nnlab.ftrl, Keras's "ftrl"): steps against a plain-Python reference written from
Keras's algorithm (and against Keras's Ftrl when Keras is installed), its first step by hand,
the sparse weights of its L1 penalty, its checks, and training resumed from a model file."""

import math
import re

import numpy as np
import pytest

import nnlab as nl
from nnlab import optimizers as O
from tests.helpers import keras_steps, resumed_training

#: A vector, a matrix and a convolution kernel (out, in, kh, kw).
SHAPES = [(7,), (5, 3), (4, 3, 3, 2)]
#: nnlab's names of Keras's arguments.
KERAS_NAMES = {"lr": "learning_rate", "lr_power": "learning_rate_power",
               "initial_accumulator_value": "initial_accumulator_value",
               "l1": "l1_regularization_strength", "l2": "l2_regularization_strength",
               "l2_shrinkage": "l2_shrinkage_regularization_strength", "beta": "beta",
               "weight_decay": "weight_decay"}


def draws(steps=20, seed=0, scale=1.0):
    """Starting weights and the gradients of every step (times ``scale``)."""
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=s) for s in SHAPES]
    grads = [[rng.normal(size=s) * scale for s in SHAPES] for _ in range(steps)]
    return params, grads


def flat(arrays):
    return np.concatenate([np.ravel(a) for a in arrays])


# Rates that float32 holds exactly (Keras keeps its rate in float32), and every term at work:
# each penalty, beta, another power, a constant rate (power 0), Keras's decoupled weight
# decay, and an L1 penalty that holds many weights at exactly 0. (Not clipping: Keras's
# computes in float32, 64-bit numbers cast to 32 bits as JAX's defaults do.)
SETTINGS = [
    {"lr": 2**-4},
    {"lr": 2**-4, "lr_power": -0.75, "initial_accumulator_value": 0.5, "l1": 0.5, "l2": 0.25,
     "l2_shrinkage": 0.125, "beta": 0.5},
    {"lr": 2**-3, "lr_power": 0.0, "weight_decay": 0.25},
    {"lr": 2**-3, "weight_decay": 0.5, "l2_shrinkage": 0.25},
    {"lr": 2**-2, "l1": 4.0},
]


@pytest.mark.parametrize("settings", [{}, *SETTINGS])
def test_ftrl_takes_keras_s_steps(settings):
    params, grads = draws()
    theirs = keras_steps("Ftrl", params, grads,
                         **{KERAS_NAMES[k]: v for k, v in settings.items()})
    opt = O.Ftrl(**settings)
    for g in grads:
        opt.step(params, g)
    # Keras's rate 0.001 in float32 is 4.7e-11 more: 2e-10 after 20 steps (measured). The
    # rates above are exact in float32: the weights agree to rounding.
    atol = 1e-9 if "lr" not in settings else 1e-14
    np.testing.assert_allclose(flat(params), flat(theirs), rtol=0, atol=atol)
    assert np.array_equal(flat(params) == 0, flat(theirs) == 0)   # the same sparse weights


def reference_ftrl(theta, grads, lr, lr_power=-0.5, initial_accumulator_value=0.1, l1=0.0,
                   l2=0.0, l2_shrinkage=0.0, beta=0.0, weight_decay=0.0):
    """The weights after the steps of ``grads``: Keras 3's ``Ftrl.update_step``, after its
    decoupled weight decay, one coordinate at a time in Python floats (float64)."""
    theta = [float(t) for t in theta]
    n = [initial_accumulator_value] * len(theta)
    z = [0.0] * len(theta)
    for step in grads:
        for i, g in enumerate(map(float, step)):
            theta[i] -= theta[i] * weight_decay * lr
            new_n = n[i] + g * g
            sigma = (new_n ** -lr_power - n[i] ** -lr_power) / lr
            z[i] += g + 2 * l2_shrinkage * theta[i] - sigma * theta[i]
            quadratic = new_n ** -lr_power / lr + 2 * (l2 + beta / (2 * lr))
            theta[i] = (min(max(z[i], -l1), l1) - z[i]) / quadratic
            n[i] = new_n
    return np.array(theta)


def random_settings(lr_power, seed):
    """Every term at work, in sizes that matter: ``lr * weight_decay`` from 0.1 to 0.5, and an
    L1 penalty that holds some weights at 0 (``l1`` is 0 for seed 0: the weights move freely)."""
    rng = np.random.default_rng([seed, int(-4 * lr_power)])
    lr = float(rng.uniform(0.05, 0.6))
    return {"lr": lr, "lr_power": lr_power,
            "initial_accumulator_value": float(rng.uniform(0.05, 2)),
            "l1": 0.0 if seed == 0 else float(rng.uniform(0.1, 1.5)),
            "l2": float(rng.uniform(0.1, 2)), "l2_shrinkage": float(rng.uniform(0.1, 1)),
            "beta": float(rng.uniform(0.1, 2)),
            "weight_decay": float(rng.uniform(0.1, 0.5) / lr)}


@pytest.mark.parametrize("lr_power", [0.0, -0.5, -0.75, -1.0, -2.0])
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("dtype, tol", [("float64", 1e-14), ("float32", 1e-5)])
def test_ftrl_takes_the_steps_of_keras_s_algorithm(lr_power, seed, dtype, tol):
    settings = random_settings(lr_power, seed)
    params, grads = draws(steps=6, seed=seed)
    expected = [reference_ftrl(p.ravel(), [g[k].ravel() for g in grads], **settings)
                for k, p in enumerate(params)]
    params = [p.astype(dtype) for p in params]
    opt = O.Ftrl(**settings)
    for g in grads:
        opt.step(params, g)
    assert {p.dtype for p in params} == {np.dtype(dtype)}
    expected, mine = flat(expected), flat(params)
    # Measured: float64 agrees to 4e-16 of the largest weight, float32 to 2e-7, while a
    # term left out or mis-scaled (l2, beta / (2 lr), 2 l2_shrinkage, the weight decay)
    # moves some weight by more than 1e-2 of the largest in every case.
    np.testing.assert_allclose(mine, expected, rtol=0, atol=tol * np.abs(expected).max())
    if dtype == "float64":
        assert np.array_equal(mine == 0, expected == 0)   # the same sparse weights


@pytest.mark.parametrize("weight_decay", [0.0, 2.0])
def test_ftrl_s_first_step_by_hand(weight_decay):
    # theta *= 1 - lr lambda first; n = 0.1 + g^2; z = g - (sqrt(n) - sqrt(0.1)) / lr * theta;
    # theta = -lr z / sqrt(n). The decay (by a tenth here) reaches the weight through z.
    start, g, lr = np.array([1.0, -0.5, 0.0]), np.array([0.3, 2.0, -1.0]), 0.05
    theta = start * (1 - lr * weight_decay)
    n = 0.1 + g**2
    z = g - (np.sqrt(n) - math.sqrt(0.1)) / lr * theta
    p = start.copy()
    opt = O.Ftrl(lr=lr, weight_decay=weight_decay)
    opt.step([p], [g])
    np.testing.assert_allclose(p, -lr * z / np.sqrt(n), rtol=1e-14)
    np.testing.assert_allclose(opt.state[0]["accumulator"], n, rtol=1e-15)
    np.testing.assert_allclose(opt.state[0]["linear"], z, rtol=1e-14)


def test_ftrl_s_l1_penalty_makes_the_weights_exactly_zero_where_z_is_small():
    params, grads = draws(steps=30, seed=1, scale=0.1)
    opt = O.Ftrl(lr=0.5, l1=1.0)
    for g in grads:
        opt.step(params, g)
    z = flat(s["linear"] for s in opt.state)
    zero = flat(params) == 0
    assert 0.2 < zero.mean() < 1 and np.array_equal(zero, np.abs(z) <= 1.0)
    # beyond l1, z is moved l1 towards 0 before the division
    n = flat(s["accumulator"] for s in opt.state)
    np.testing.assert_allclose(flat(params)[~zero],
                               -(z - np.sign(z))[~zero] * 0.5 / np.sqrt(n[~zero]), rtol=1e-14)


def test_ftrl_with_power_0_steps_from_the_sum_of_the_gradients():
    # n^0 = 1: sigma = 0, z is the sum of the gradients, theta = -lr z, whatever it was
    p = np.array([3.0, -3.0])
    opt = O.Ftrl(lr=0.1, lr_power=0.0)
    for g in ([1.0, 2.0], [0.5, -4.0]):
        opt.step([p], [np.array(g)])
    np.testing.assert_allclose(p, [-0.15, 0.2], rtol=1e-15)


def test_ftrl_defaults_are_keras_s_and_get_finds_it():
    assert O.Ftrl().get_config() == {
        "lr": 1e-3, "weight_decay": 0.0, "clipnorm": None, "clipvalue": None,
        "global_clipnorm": None, "lr_power": -0.5, "initial_accumulator_value": 0.1,
        "l1": 0.0, "l2": 0.0, "l2_shrinkage": 0.0, "beta": 0.0}
    for name in ("ftrl", "Ftrl", "FTRL"):
        assert type(O.get(name)) is O.Ftrl
    assert "ftrl" in O.NAMES and O.get("ftrl", lr=0.05, l1=0.1).l1 == 0.1
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.compile("mse", "ftrl")
    assert type(model.optimizer) is nl.optimizers.Ftrl


def test_ftrl_keeps_its_state_in_place_and_in_the_weights_dtype():
    p = [np.ones((3, 2), np.float32), np.zeros(2, np.float32)]
    opt = O.Ftrl(lr=0.1, l2_shrinkage=0.1)
    opt.step(p, [np.full((3, 2), 0.5, np.float32), np.ones(2, np.float32)])
    arrays = [id(a) for s in opt.state for a in s.values()]
    opt.step(p, [np.full((3, 2), -0.5, np.float32), np.ones(2, np.float32)])
    assert [id(a) for s in opt.state for a in s.values()] == arrays
    assert {a.dtype for s in opt.state for a in s.values()} == {np.dtype(np.float32)}
    assert sorted(k for k in opt.state[0] if not k.startswith("scratch")) == [
        "accumulator", "linear", "param"]


@pytest.mark.parametrize("kwargs, message", [
    ({"lr_power": 0.5}, "Ftrl lr_power must be in (-inf, 0]; got 0.5"),
    ({"initial_accumulator_value": 0.0}, "Ftrl initial_accumulator_value must be > 0: at 0, "
     "the first step of a coordinate whose first gradient is 0 divides 0 by 0 (z = 0 and "
     "n' = 0), a NaN weight; got 0.0"),
    ({"initial_accumulator_value": -0.1}, "Ftrl initial_accumulator_value must be > 0"),
    ({"initial_accumulator_value": None}, "Ftrl initial_accumulator_value must be a real"),
    ({"l1": -1.0}, "Ftrl l1 must be in [0, inf); got -1.0"),
    ({"l2": float("nan")}, "Ftrl l2 must be finite; got nan"),
    ({"l2_shrinkage": "0.1"}, "Ftrl l2_shrinkage must be a real number; got '0.1'"),
    ({"beta": -0.5}, "Ftrl beta must be in [0, inf); got -0.5"),
    ({"lr": 0.0}, "Ftrl lr must be in (0, inf); got 0.0"),
])
def test_ftrl_refuses_bad_hyper_parameters(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        O.Ftrl(**kwargs)


def test_ftrl_sets_the_weights_from_z_a_zero_first_gradient_to_zero_not_nan():
    # g = 0: sigma = 0 and z = 0, so theta = -lr z / sqrt(n) = 0, whatever it was before.
    # (Keras's initial_accumulator_value=0 divides 0 by 0 here: NaN.)
    p = np.array([0.5, -2.0])
    with np.errstate(all="raise"):
        O.Ftrl(lr=0.1).step([p], [np.zeros(2)])
    assert np.array_equal(p, [0.0, 0.0])


@pytest.mark.parametrize("optimizer", [lambda: O.Ftrl(0.05, l1=0.001, l2=0.01, beta=0.5),
                                       lambda: O.Ftrl()], ids=["settings", "defaults"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_training_resumed_after_loading_takes_the_steps_it_would_have_taken(
        tmp_path, optimizer, dtype):
    model, _ = resumed_training(optimizer, dtype, tmp_path)
    assert model.optimizer.squares == ("accumulator",)
