"""The properties of RAdam's, Rprop's and ASGD's steps, one optimizer at a time; then, for all
three: resumed training, saved state, names, PyTorch's defaults, allocation, refused settings;
and Rprop and Muon on float32 gradients whose products overflow."""

import re
import zipfile

import numpy as np
import pytest

import nnlab as nl
from nnlab import optimizers as O
from nnlab.saving import ModelFileError
from tests.helpers import peak_bytes, resumed_training
from tests.more_optimizers_cases import draws

NO_CLIPPING = {"clipnorm": None, "clipvalue": None, "global_clipnorm": None}


# ------------------------------------------------------------------------------ RAdam

def test_radam_rectifies_from_the_step_where_rho_passes_5():
    # At beta2 = 0.999, rho_t = 1, 2, 3, 4, 5 - 0.004, then 6 - 0.006: five plain steps.
    assert [O.RAdam().rectification(t) is None for t in range(1, 8)] == [True] * 5 + [False] * 2
    # At beta2 = 0.6, rho_inf = 4: never.
    assert all(O.RAdam(beta2=0.6).rectification(t) is None for t in (1, 10, 10**6))


def test_radam_s_first_steps_are_sgd_with_bias_corrected_momentum():
    rng = np.random.default_rng(3)
    grads = rng.normal(size=(5, 4)) * 100     # and their size is not divided out
    p, expected, m = np.zeros(4), np.zeros(4), np.zeros(4)
    opt = O.RAdam(lr=0.1)
    for t, g in enumerate(grads, start=1):
        opt.step([p], [g])
        m = 0.9 * m + 0.1 * g
        expected -= 0.1 * m / (1 - 0.9**t)
        np.testing.assert_allclose(p, expected, rtol=1e-14)


def test_radam_s_decoupled_weight_decay_is_the_instance_s_and_is_saved(tmp_path):
    opt = O.RAdam(weight_decay=0.1, decoupled_weight_decay=True)
    assert opt.decoupled_weight_decay and not O.RAdam.decoupled_weight_decay
    assert O.RAdam().get_config()["decoupled_weight_decay"] is False
    assert type(opt)(**opt.get_config()).decoupled_weight_decay
    # Decoupled, the decay never enters the averages: a zero gradient leaves them at 0.
    p = np.ones(2)
    opt.step([p], [np.zeros(2)])
    np.testing.assert_array_equal(opt.state[0]["exp_avg"], 0)
    np.testing.assert_allclose(p, 1 - 1e-3 * 0.1)
    coupled = O.RAdam(weight_decay=0.1)
    coupled.step([np.ones(2)], [np.zeros(2)])
    np.testing.assert_allclose(coupled.state[0]["exp_avg"], 0.1 * 0.1)


# ------------------------------------------------------------------------------ Rprop

def test_rprop_s_first_step_is_its_initial_step_size_clamped_against_the_sign():
    for lr, size in ((0.1, 0.1), (80.0, 50.0), (1e-9, 1e-6)):
        p = np.zeros(3)
        O.Rprop(lr=lr).step([p], [np.array([1234.0, -1e-9, 0.0])])
        np.testing.assert_array_equal(p, [-size, size, 0.0])


def test_rprop_rests_after_a_flip_and_then_keeps_the_shrunk_step():
    p = np.zeros(1)
    opt = O.Rprop(lr=1.0)
    steps = []
    for g in (1.0, 1.0, -1.0, -1.0, -1.0):
        before = p.copy()
        opt.step([p], [np.array([g])])
        steps.append(float(p[0] - before[0]))
    # 1, 1.2 on; the flip: shrink to 0.6 and rest; then 0.6 (no growth: g' = 0), then 0.72.
    np.testing.assert_allclose(steps, [-1.0, -1.2, 0.0, 0.6, 0.72], rtol=1e-15)


def test_rprop_depends_on_the_signs_of_the_gradients_alone():
    params, grads = draws()
    scaled = [p.copy() for p in params]
    a, b = O.Rprop(), O.Rprop()
    for gs in grads:
        a.step(params, gs)
        b.step(scaled, [g * 1e4 for g in gs])
    for p, q in zip(params, scaled, strict=True):
        np.testing.assert_array_equal(p, q)


def test_rprop_refuses_a_schedule():
    with pytest.raises(ValueError, match="Rprop's lr is the step size every weight starts "
                                         "with, read once: a schedule would have no effect"):
        O.Rprop(O.step_decay(0.1, 0.5, 10))
    opt = O.Rprop()
    with pytest.raises(ValueError, match="a schedule would have no effect"):
        opt.lr = O.step_decay(0.1, 0.5, 10)
    assert opt.lr == 1e-2 and opt.get_config()["lr"] == 1e-2
    with pytest.raises(ValueError, match=re.escape("Rprop lr must be in (0, inf); got 0")):
        O.Rprop(lr=0)


def test_rprop_full_batch_fits_a_small_regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3))
    y = np.sin(X[:, :1]) + 0.5 * X[:, 1:2] * X[:, 2:]
    model = nl.Sequential([nl.Dense(3, 16, rng=0), nl.Activation("tanh"), nl.Dense(16, 1, rng=1)])
    model.compile("mse", O.Rprop())
    history = model.fit(X, y, epochs=150, batch_size=len(X), seed=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.02 < 0.5 < losses[0]


# ------------------------------------------------------------------------------- ASGD

def test_asgd_s_average_is_the_mean_of_the_weights_from_step_t0_plus_2():
    rng = np.random.default_rng(4)
    p = rng.normal(size=(2, 3))
    opt = O.ASGD(lr=0.05, t0=3)
    visited = []
    for _ in range(10):
        opt.step([p], [rng.normal(size=(2, 3))])
        visited.append(p.copy())
        if len(visited) <= 5:   # mu = 1 up to step t0 + 2: a copy of the weights
            np.testing.assert_array_equal(opt.averaged_params()[0], p)
    np.testing.assert_allclose(opt.averaged_params()[0], np.mean(visited[4:], axis=0),
                               rtol=1e-13)
    assert [opt.mu(t) for t in (1, 5, 6, 10)] == [1, 1, 0.5, 1 / 6]


def test_asgd_s_averaged_params_are_copies_in_the_order_of_params():
    params = [np.ones(3), np.zeros((2, 2))]
    opt = O.ASGD(t0=0)
    with pytest.raises(ValueError, match="ASGD has taken no step yet"):
        opt.averaged_params()
    opt.step(params, [np.ones(3), np.ones((2, 2))])
    averages = opt.averaged_params()
    assert [a.shape for a in averages] == [(3,), (2, 2)]
    averages[0][...] = 7
    assert not np.any(opt.state[0]["ax"] == 7)


def test_asgd_s_average_is_closer_to_the_minimum_than_its_noisy_weights():
    # Noisy gradients of |theta - 1|^2 / 2: the weights jitter around 1, their average less.
    rng = np.random.default_rng(5)
    p = np.zeros(200)
    opt = O.ASGD(lr=0.1, lambd=0.0, t0=100)
    for _ in range(2000):
        opt.step([p], [p - 1 + rng.normal(size=200)])
    error = np.abs(p - 1).mean()
    average_error = np.abs(opt.averaged_params()[0] - 1).mean()
    assert average_error < error / 5


def test_asgd_s_rate_decays_as_a_power_of_the_step():
    opt = O.ASGD(lr=0.1, lambd=0.5, alpha=0.75)
    assert opt.eta(1) == 0.1
    assert opt.eta(11) == pytest.approx(0.1 / (1 + 0.5 * 0.1 * 10) ** 0.75, rel=1e-15)
    scheduled = O.ASGD(O.step_decay(0.1, 0.5, 2), lambd=0.5)
    # Step t's eta comes from the rate of step t - 1: lr(t - 2) as the schedule counts.
    assert [scheduled.eta(t) for t in (1, 2, 3)] == [0.1, 0.1 / 1.05**0.75,
                                                     0.1 / 1.1**0.75]
    assert scheduled.eta(4) == 0.05 / (1 + 0.5 * 0.05 * 3) ** 0.75


def test_asgd_s_rate_underflows_to_0_as_pytorch_s_where_its_power_overflows():
    # (1 + 1)**2000 overflows a Python float: an OverflowError after the update.
    opt, p = O.ASGD(lr=1.0, lambd=1.0, alpha=2000.0), np.ones(3)
    opt.step([p], [np.ones(3)])
    opt.step([p], [np.ones(3)])   # eta 0: no step, and 1 - lambd eta = 1 keeps p
    assert opt.eta(2) == 0.0 and np.array_equal(p, -np.ones(3))


def test_asgd_calls_its_schedule_twice_a_step_however_many_parameters_it_updates():
    # eta_t and mu_t are the optimizer's: it called the schedule once per parameter array.
    calls = []

    def schedule(iteration):
        calls.append(iteration)
        return 0.1 * 0.5 ** (iteration // 2)

    params, grads = draws(seed=2, steps=5)   # three parameter arrays
    expected, averages = [p.copy() for p in params], [p.copy() for p in params]
    opt = O.ASGD(schedule, lambd=0.5, t0=1)
    for gs in grads:
        opt.step(params, gs)
    # Each step, the base class's rate of this step, then, at its end, the next step's eta
    # from that rate, as PyTorch fixes it; the first step computes its own eta first.
    assert calls == [0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    # The same updates as before: ASGD's formulas, step by step and weight by weight.
    for t, gs in enumerate(grads, start=1):
        lr = 0.1 * 0.5 ** (max(t - 2, 0) // 2)
        eta, mu = lr / (1 + 0.5 * lr * (t - 1)) ** 0.75, 1 / max(1, t - 2)
        for p, average, g in zip(expected, averages, gs, strict=True):
            p[...] = (1 - 0.5 * eta) * p - eta * g
            average[...] = p if mu == 1 else average + mu * (p - average)
    for p, e, a, average in zip(params, expected, opt.averaged_params(), averages,
                                strict=True):
        np.testing.assert_allclose(p, e, rtol=1e-15, atol=1e-15)
        np.testing.assert_allclose(a, average, rtol=1e-15, atol=1e-15)


# ---------------------------------------------------------------------- all three

SAVED = {"radamw": (lambda: O.RAdam(0.01, weight_decay=0.1, decoupled_weight_decay=True),
                    ["exp_avg", "exp_avg_sq"]),
         "radam": (lambda: O.RAdam(0.01, beta2=0.9, weight_decay=0.01), ["exp_avg", "exp_avg_sq"]),
         "rprop": (lambda: O.Rprop(0.02, step_size_max=1.0), ["prev", "step_size"]),
         "asgd": (lambda: O.ASGD(0.05, t0=2, weight_decay=0.01), ["ax"])}


@pytest.mark.parametrize("optimizer", SAVED)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_training_resumed_after_loading_takes_the_steps_it_would_have_taken(
        tmp_path, optimizer, dtype):
    make, keys = SAVED[optimizer]
    _, path = resumed_training(make, dtype, tmp_path)
    with zipfile.ZipFile(path) as archive:
        saved = sorted(n.removesuffix(".npy").removeprefix("optimizer.0.")
                       for n in archive.namelist() if n.startswith("optimizer.0."))
    assert saved == keys    # no scratch, no mask: ASGD's eta and mu follow from the steps


@pytest.mark.parametrize("name,key", [("rprop", "step_size"), ("radam", "exp_avg_sq")])
def test_a_negative_size_in_the_saved_state_is_refused(tmp_path, name, key):
    model = nl.Sequential([nl.Dense(2, 3, rng=0)])
    model.compile("mse", name)
    model.fit(np.ones((4, 2)), np.ones((4, 3)), epochs=1, batch_size=4, verbose=0)
    model.optimizer.state[0][key][0, 1] = -1.0
    with pytest.raises(ModelFileError, match=rf"array 'optimizer.0.{key}' holds squares, "
                                             "variances or sizes; expected values >= 0"):
        nl.load_model(model.save(tmp_path / name))


@pytest.mark.parametrize("name,cls", [("radam", O.RAdam), ("RAdam", O.RAdam),
                                      ("rprop", O.Rprop), ("asgd", O.ASGD)])
def test_get_finds_them_by_pytorch_s_names(name, cls):
    assert type(O.get(name)) is cls and name.lower() in O.NAMES
    assert O.get(name, lr=0.05).lr == 0.05


@pytest.mark.parametrize("name,defaults", [
    ("radam", {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0,
               "decoupled_weight_decay": False, **NO_CLIPPING}),
    ("rprop", {"lr": 1e-2, "etaminus": 0.5, "etaplus": 1.2, "step_size_min": 1e-6,
               "step_size_max": 50.0, "weight_decay": 0.0, **NO_CLIPPING}),
    ("asgd", {"lr": 1e-2, "lambd": 1e-4, "alpha": 0.75, "t0": 1e6, "weight_decay": 0.0,
              **NO_CLIPPING})])
def test_the_defaults_are_pytorch_s(name, defaults):
    assert O.get(name).get_config() == defaults


@pytest.mark.parametrize("make", [lambda: O.RAdam(0.1), lambda: O.Rprop(0.1),
                                  lambda: O.ASGD(0.1, t0=0)], ids=["radam", "rprop", "asgd"])
def test_a_step_allocates_no_array(make):
    params = [np.ones((200, 500)), np.ones(500)]
    grads = [np.full((200, 500), 0.5), np.full(500, -0.5)]
    opt = make()
    for _ in range(3):
        opt.apply_gradients(params, grads)
    state = [id(a) for s in opt.state for a in s.values()]
    _, peak = peak_bytes(lambda: opt.apply_gradients(params, grads))
    assert peak < 100_000     # a copy of the gradient of the matrix would take 800 000 bytes
    assert [id(a) for s in opt.state for a in s.values()] == state


@pytest.mark.parametrize("make,message", [
    (lambda: O.RAdam(beta1=1.0), "beta1 must be in [0, 1); got 1.0"),
    (lambda: O.RAdam(beta2=-0.1), "beta2 must be in [0, 1); got -0.1"),
    (lambda: O.RAdam(eps=0), "eps must be in (0, inf); got 0"),
    (lambda: O.RAdam(weight_decay=-1), "weight_decay must be in [0, inf); got -1"),
    (lambda: O.RAdam(decoupled_weight_decay="no"),
     "decoupled_weight_decay must be True or False; got 'no'"),
    (lambda: O.RAdam(decoupled_weight_decay=1),
     "decoupled_weight_decay must be True or False; got 1"),
    (lambda: O.Rprop(etaminus=1.0), "etaminus must be in (0, 1); got 1.0"),
    (lambda: O.Rprop(etaminus=0), "etaminus must be in (0, 1); got 0"),
    (lambda: O.Rprop(etaplus=1.0), "etaplus must be in (1, inf); got 1.0"),
    (lambda: O.Rprop(etaplus=0.8), "etaplus must be in (1, inf); got 0.8"),
    (lambda: O.Rprop(step_size_min=0), "step_size_min must be in (0, inf); got 0"),
    (lambda: O.Rprop(step_size_min=0.1, step_size_max=0.01),
     "step_size_max must be in [0.1, inf); got 0.01"),
    (lambda: O.Rprop(step_size_max=float("inf")), "step_size_max must be finite; got inf"),
    (lambda: O.ASGD(lambd=-1e-4), "lambd must be in [0, inf); got -0.0001"),
    (lambda: O.ASGD(alpha=-0.75), "alpha must be in [0, inf); got -0.75"),
    (lambda: O.ASGD(t0=-1), "t0 must be in [0, inf); got -1"),
    (lambda: O.ASGD(t0=float("nan")), "t0 must be finite; got nan"),
    (lambda: O.ASGD(lr=-0.01), "ASGD lr must be in (0, inf); got -0.01"),
])
def test_bad_hyper_parameters_are_refused(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


def test_rprop_compares_signs_so_huge_and_tiny_gradients_neither_overflow_nor_vanish():
    # The product of two float32 gradients of 1e20 overflows, and of two of 1e-23 rounds to
    # 0 (a missed flip): Rprop multiplies their signs instead.
    p = np.zeros(2, np.float32)
    opt = O.Rprop()
    with np.errstate(over="raise", invalid="raise"):
        for g in ([1e20, 1e-23], [1e20, -1e-23]):
            opt.step([p], [np.array(g, np.float32)])
    np.testing.assert_allclose(opt.state[0]["step_size"], [0.012, 0.005], rtol=1e-6)


def test_muon_steps_when_its_momentum_overflows_a_dot_product_and_reads_settings_live():
    p = np.zeros((4, 3), np.float32)
    with np.errstate(all="raise"):
        O.Muon(lr=0.1, momentum=0.0, nesterov=False, weight_decay=0.0).step(
            [p], [np.full((4, 3), 1e20, np.float32)])
    assert (p < 0).all() and np.isfinite(p).all()
    # a bias takes AdamW's step with the settings the optimizer has when it steps
    opt = O.Muon(lr=0.1)
    opt.adam_weight_decay = 0.5
    b, ref = np.ones(3), np.ones(3)
    opt.step([b], [np.ones(3)])
    O.AdamW(0.1, eps=1e-7, weight_decay=0.5).step([ref], [np.ones(3)])
    np.testing.assert_array_equal(b, ref)
    rebuilt = O.Muon(**opt.get_config())
    assert rebuilt.adam_weight_decay == 0.5


def test_radam_rectification_counts_steps_from_one():
    with pytest.raises(ValueError, match="counts steps from 1; got 0"):
        O.RAdam().rectification(0)
