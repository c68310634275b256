"""RAdam (nnlab.adam), Rprop and ASGD (nnlab.classic_optimizers) against torch.optim: 20 steps
live when torch is installed, and golden values that torch computed (kept for a machine
without it)."""

import numpy as np
import pytest

from nnlab import optimizers as O
from tests.more_optimizers_cases import draws

#: nnlab's settings and torch's for the same optimizer, the defaults first.
CONFIGS = [
    ("RAdam", {}, {}),
    ("RAdam", {"lr": 0.05, "beta1": 0.5, "beta2": 0.9, "eps": 1e-4, "weight_decay": 0.1},
     {"lr": 0.05, "betas": (0.5, 0.9), "eps": 1e-4, "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.02, "weight_decay": 0.3, "decoupled_weight_decay": True},
     {"lr": 0.02, "weight_decay": 0.3, "decoupled_weight_decay": True}),
    ("Rprop", {}, {}),
    ("Rprop", {"lr": 0.3, "etaminus": 0.3, "etaplus": 1.5, "step_size_min": 0.05,
               "step_size_max": 0.6},
     {"lr": 0.3, "etas": (0.3, 1.5), "step_sizes": (0.05, 0.6)}),
    ("Rprop", {"lr": 2.0, "step_size_max": 1.0}, {"lr": 2.0, "step_sizes": (1e-6, 1.0)}),
    ("ASGD", {}, {}),
    ("ASGD", {"lr": 0.05, "lambd": 0.01, "alpha": 0.6, "t0": 5, "weight_decay": 0.1},
     {"lr": 0.05, "lambd": 0.01, "alpha": 0.6, "t0": 5, "weight_decay": 0.1}),
    ("ASGD", {"lr": 0.2, "lambd": 0.0, "alpha": 1.0, "t0": 0},
     {"lr": 0.2, "lambd": 0.0, "alpha": 1.0, "t0": 0}),
]


@pytest.fixture
def torch():
    """torch, with float64 for its default dtype while the test runs: its scalar state (ASGD's
    eta and mu) is then float64, as nnlab's Python floats are (torch keeps it in the default
    dtype, float32 unless set)."""
    torch = pytest.importorskip("torch")
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(default)


@pytest.mark.parametrize("name,ours,theirs", CONFIGS)
def test_twenty_steps_equal_torch(name, ours, theirs, torch):
    params, grads = draws()
    opt = getattr(O, name)(**ours)
    weights = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    topt = getattr(torch.optim, name)(weights, **theirs)
    for gs in grads:
        opt.step(params, gs)
        for w, g in zip(weights, gs, strict=True):
            w.grad = torch.tensor(g)
        topt.step()
    state = {"RAdam": ("exp_avg", "exp_avg_sq"), "Rprop": ("prev", "step_size"),
             "ASGD": ("ax",)}[name]
    for p, w, s in zip(params, weights, opt.state, strict=True):
        assert p.shape == w.shape
        np.testing.assert_allclose(p, w.detach().numpy(), rtol=0, atol=1e-12)
        for key in state:
            theirs = topt.state[w][key].numpy()
            if key == "prev":   # Rprop keeps the sign of the gradient, all that torch reads
                theirs = np.sign(theirs)
            np.testing.assert_allclose(s[key], theirs, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name,ours", [("RAdam", {"decoupled_weight_decay": True,
                                                  "weight_decay": 0.5}),
                                       ("ASGD", {"lambd": 0.5, "t0": 3})])
def test_a_schedule_equals_torch_with_its_rate_set_before_each_step(name, ours, torch):
    # ASGD's eta is computed, as PyTorch computes it, from the rate of the step before.
    params, grads = draws(seed=1, steps=12)
    schedule = O.step_decay(0.1, 0.3, 4)
    opt = getattr(O, name)(schedule, **ours)
    weights = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    topt = getattr(torch.optim, name)(weights, lr=0.1, **ours)
    for i, gs in enumerate(grads):
        opt.step(params, gs)
        topt.param_groups[0]["lr"] = schedule(i)
        for w, g in zip(weights, gs, strict=True):
            w.grad = torch.tensor(g)
        topt.step()
    for p, w in zip(params, weights, strict=True):
        np.testing.assert_allclose(p, w.detach().numpy(), rtol=0, atol=1e-12)


# Golden values: 8 steps from p0 = [1, -2, 0.5] with the gradients below, computed once with
# torch.optim 2.13.0 in float64 (and ASGD's average, its state "ax"), kept for CI.
GRADS = [[0.5, -1.0, 0.0], [0.3, 0.2, -0.1], [-0.4, 0.6, 0.2], [0.1, -0.3, 0.0],
         [0.2, 0.1, -0.5], [-0.3, -0.2, 0.4], [0.6, 0.5, 0.1], [0.2, -0.4, -0.2]]

GOLDEN = [
    (lambda: O.RAdam(lr=0.1), [0.8746002072983685, -1.8472417517165967, 0.5082218245835306]),
    (lambda: O.RAdam(lr=0.1, beta1=0.8, beta2=0.9, weight_decay=0.1),
     [0.7886636568769706, -1.7317954336910772, 0.4653588402814591]),
    (lambda: O.RAdam(lr=0.1, beta1=0.8, beta2=0.9, weight_decay=0.5,
                     decoupled_weight_decay=True),
     [0.5482519408747369, -1.2274476700476213, 0.33742373508581214]),
    (lambda: O.RAdam(lr=0.1, beta1=0.8, beta2=0.9, eps=1e-2),   # rectified from step 6
     [0.8553393228226175, -1.8611286759802077, 0.5070446195769146]),
    (lambda: O.Rprop(), [0.95688, -1.9987499999999998, 0.5125000000000001]),
    (lambda: O.Rprop(lr=0.2, etaminus=0.4, etaplus=1.5, step_size_min=0.05,
                     step_size_max=0.5),
     [0.019999999999999907, -1.9800000000000002, 0.73]),
    (lambda: O.ASGD(lr=0.1), [0.8799273794540141, -1.949843534586205, 0.5099594274848191]),
    (lambda: O.ASGD(lr=0.1, lambd=0.05, alpha=0.6, t0=2, weight_decay=0.1),
     [0.7745313621109219, -1.729497675755485, 0.4531837335702212]),
]
GOLDEN_AVERAGE = [0.8426771323981976, -1.7902401391180256, 0.4628407066036436]


@pytest.mark.parametrize("make,expected", GOLDEN,
                         ids=["radam", "radam-l2", "radamw", "radam-eps", "rprop",
                              "rprop-settings", "asgd", "asgd-averaging"])
def test_golden_trajectories_from_torch(make, expected):
    opt = make()
    p = np.array([1.0, -2.0, 0.5])
    for g in GRADS:
        opt.step([p], [np.array(g)])
    np.testing.assert_allclose(p, expected, rtol=1e-12, atol=1e-15)
    if isinstance(opt, O.ASGD):
        average = GOLDEN_AVERAGE if opt.t0 == 2 else expected   # t0 = 1e6: not yet
        np.testing.assert_allclose(opt.averaged_params()[0], average, rtol=1e-12)
