"""Tests of the optimizers' update rules: steps worked out by hand, golden trajectories
computed by torch.optim, comparisons with torch.optim when it is installed, convergence."""

import numpy as np
import pytest

from nnlab import optimizers as O
from tests.helpers import peak_bytes
from tests.optimizer_cases import run


def test_sgd_plain():
    assert run(O.SGD(lr=0.1), [0.5, 0.5]) == pytest.approx([0.95, 0.9])


def test_sgd_momentum_first_buffer_is_the_gradient():
    # b1 = g1 = 1; p = 1 - 0.1 = 0.9; b2 = 0.9*1 + 2 = 2.9; p = 0.9 - 0.29 = 0.61
    assert run(O.SGD(lr=0.1, momentum=0.9), [1.0, 2.0]) == pytest.approx([0.9, 0.61])


def test_nesterov():
    # step 1: b = 1, update g + mu b = 1.9 -> 0.81; step 2: b = 0.9 + 2 = 2.9,
    # update 2 + 0.9*2.9 = 4.61 -> 0.81 - 0.461 = 0.349
    assert run(O.SGD(lr=0.1, momentum=0.9, nesterov=True), [1.0, 2.0]) == pytest.approx(
        [0.81, 0.349])


@pytest.mark.parametrize("eps", [1e-10, 1e-3])   # the default, and one large enough to show
def test_adagrad(eps):
    # h = 4 -> p = 1 - 0.1*2/(2 + eps) ; h = 5 -> p -= 0.1*1/(sqrt(5) + eps)
    p1 = 1 - 0.1 * 2 / (2 + eps)
    assert run(O.AdaGrad(lr=0.1, eps=eps), [2.0, 1.0]) == pytest.approx(
        [p1, p1 - 0.1 / (np.sqrt(5) + eps)], rel=1e-15)


@pytest.mark.parametrize("rho, eps", [(0.9, 1e-8), (0.5, 1e-3)])
def test_rmsprop(rho, eps):
    v1 = (1 - rho) * 4
    p1 = 1 - 0.01 * 2 / (np.sqrt(v1) + eps)
    v2 = rho * v1 + (1 - rho) * 1
    p2 = p1 - 0.01 * 1 / (np.sqrt(v2) + eps)
    assert run(O.RMSprop(lr=0.01, rho=rho, eps=eps), [2.0, 1.0]) == pytest.approx(
        [p1, p2], rel=1e-15)


def test_adam_first_step_is_lr_times_sign():
    traj = run(O.Adam(lr=0.1), [3.0, -1.0])
    assert traj[0] == pytest.approx(0.9, abs=1e-7)
    m = 0.9 * 0.3 + 0.1 * -1
    v = 0.999 * 0.009 + 0.001 * 1
    m_hat, v_hat = m / (1 - 0.81), v / (1 - 0.999**2)
    assert traj[1] == pytest.approx(traj[0] - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-8))


def test_adamw_decays_the_weights_then_takes_adams_step():
    # theta = 2 - 0.1 * 0.5 * 2 = 1.9, then Adam's first step, lr times the sign of g.
    traj = run(O.AdamW(lr=0.1, weight_decay=0.5), [3.0, -1.0], p0=2.0)
    assert traj[0] == pytest.approx(1.9 - 0.1 * 3 / (3 + 1e-8), rel=1e-15)
    m = 0.9 * 0.3 + 0.1 * -1
    v = 0.999 * 0.009 + 0.001 * 1
    m_hat, v_hat = m / (1 - 0.81), v / (1 - 0.999**2)
    expected = traj[0] * (1 - 0.1 * 0.5) - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-8)
    assert traj[1] == pytest.approx(expected, rel=1e-14)


def test_adamw_keeps_its_weight_decay_out_of_the_gradient():
    # With a zero gradient, Adam's L2 term alone moves theta by lr (its first step is lr
    # times the sign); AdamW's decay shrinks theta by lr * weight_decay of itself, and
    # leaves the averages of the gradient at 0.
    adam, adamw = O.Adam(0.1, weight_decay=0.5), O.AdamW(0.1, weight_decay=0.5)
    p, q = np.array([2.0, -4.0]), np.array([2.0, -4.0])
    adam.step([p], [np.zeros(2)])
    adamw.step([q], [np.zeros(2)])
    np.testing.assert_allclose(p, [2 - 0.1 / (1 + 1e-8), -4 + 0.1 * 2 / (2 + 1e-8)],
                               rtol=1e-15)
    np.testing.assert_array_equal(q, [1.9, -3.8])
    assert not adamw.state[0]["decayed_sum"].any()
    assert not adamw.state[0]["decayed_sum_sq"].any()


def test_adamw_without_weight_decay_is_adam():
    rng = np.random.default_rng(1)
    p = rng.normal(size=(2, 3))
    q = p.copy()
    adam, adamw = O.Adam(0.05, beta1=0.8), O.AdamW(0.05, beta1=0.8, weight_decay=0.0)
    for _ in range(10):
        g = rng.normal(size=(2, 3))
        adam.step([p], [g])
        adamw.step([q], [g])
    np.testing.assert_array_equal(p, q)


def test_adamw_decays_with_the_rate_of_each_step():
    # A schedule at 0 stops the decay too; at 0.2 the decay is 0.2 * 0.5 of theta.
    opt, p = O.AdamW(lambda i: [0.0, 0.2][i], weight_decay=0.5), np.array([2.0])
    opt.step([p], [np.zeros(1)])
    assert p[0] == 2.0
    opt.step([p], [np.zeros(1)])
    assert p[0] == pytest.approx(2.0 * (1 - 0.2 * 0.5), rel=1e-15)


def test_adamw_refuses_other_parameters_before_decaying_them():
    opt, p, g = O.AdamW(0.1, weight_decay=0.5), np.ones(2), np.ones(2)
    opt.step([p], [g])
    other = np.ones(2)
    with pytest.raises(ValueError, match="not the parameter arrays"):
        opt.step([other], [g])
    np.testing.assert_array_equal(other, np.ones(2))
    assert opt.iterations == 1


# Golden values: 5 steps of each optimizer from torch.optim 2.13.0 on p0=[1,-2] with the
# gradient sequence below (computed once with torch, kept here so CI needs no torch).
GRADS = [[0.5, -1.0], [0.3, 0.2], [-0.4, 0.6], [0.1, -0.3], [0.2, 0.1]]


TORCH_RESULTS = [
    (O.SGD(lr=0.1, momentum=0.9, nesterov=True), [0.7153274999999999, -1.757383]),
    (O.AdaGrad(lr=0.1), [0.8641481716397821, -1.9539088769963735]),
    (O.RMSprop(lr=0.01, rho=0.9), [0.9556255983355346, -1.9864876137917662]),
    (O.Adam(lr=0.1), [0.7133149123436686, -1.8230225918296459]),
    (O.AdamW(lr=0.1, weight_decay=0.1), [0.6718669683875069, -1.7306490020711547]),
    (O.Adadelta(lr=1.0), [0.9948116101617467, -1.9993026302785786]),
    (O.Adamax(lr=0.1), [0.7552251000892177, -1.8477109067010522]),
    (O.NAdam(lr=0.1), [0.829943384589136, -1.9395839464636204]),
]


@pytest.mark.parametrize("opt,expected", TORCH_RESULTS, ids=lambda v: type(v).__name__)
def test_golden_trajectories_from_torch(opt, expected):
    p = np.array([1.0, -2.0])
    for g in GRADS:
        opt.step([p], [np.array(g)])
    np.testing.assert_allclose(p, expected, rtol=1e-12)


# Golden values at settings other than the defaults: every hyper-parameter of each optimizer
# (PyTorch's name for it on the right) and weight decay, so that a default left written in
# place of one shows. 5 steps of GRADS from p0=[1,-2], computed once with torch.optim 2.13.0
# in float64 by the code of test_the_golden_values_are_torch_s (opt = getattr(torch.optim,
# name)([p], **theirs), then p.grad = g and opt.step() for each g), kept so CI needs no torch.
GOLDEN = [
    ("SGD", {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.2},
     {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.2},
     [0.7379607488000001, -1.6182568576]),
    ("SGD", {"lr": 0.1, "momentum": 0.5, "nesterov": True, "weight_decay": 0.2},
     {"lr": 0.1, "momentum": 0.5, "nesterov": True, "weight_decay": 0.2},
     [0.71464066995, -1.5932790999]),
    ("Adagrad", {"lr": 0.1, "eps": 1e-3, "weight_decay": 0.2},
     {"lr": 0.1, "eps": 1e-3, "weight_decay": 0.2},
     [0.8031532044577463, -1.8429917000070182]),
    ("RMSprop", {"lr": 0.01, "rho": 0.5, "eps": 1e-3, "weight_decay": 0.2},
     {"lr": 0.01, "alpha": 0.5, "eps": 1e-3, "weight_decay": 0.2},
     [0.9619125694190376, -1.9696109047362687]),
    ("Adam", {"lr": 0.05, "beta1": 0.5, "beta2": 0.9, "eps": 1e-3, "weight_decay": 0.2},
     {"lr": 0.05, "betas": (0.5, 0.9), "eps": 1e-3, "weight_decay": 0.2},
     [0.8350178089973649, -1.8572844064975278]),
    ("AdamW", {"lr": 0.05, "beta1": 0.5, "beta2": 0.9, "eps": 1e-3, "weight_decay": 0.5},
     {"lr": 0.05, "betas": (0.5, 0.9), "eps": 1e-3, "weight_decay": 0.5},
     [0.7821012596398755, -1.722010326011784]),
    ("Adadelta", {"lr": 0.5, "rho": 0.5, "eps": 1e-3, "weight_decay": 0.2},
     {"lr": 0.5, "rho": 0.5, "eps": 1e-3, "weight_decay": 0.2},
     [0.9234973920263184, -1.944317361941339]),
    ("Adamax", {"lr": 0.05, "beta1": 0.5, "beta2": 0.9, "eps": 1e-3, "weight_decay": 0.2},
     {"lr": 0.05, "betas": (0.5, 0.9), "eps": 1e-3, "weight_decay": 0.2},
     [0.8440534704932844, -1.8807592789300898]),
    ("NAdam", {"lr": 0.05, "beta1": 0.5, "beta2": 0.9, "eps": 1e-3, "momentum_decay": 0.1,
               "weight_decay": 0.2},
     {"lr": 0.05, "betas": (0.5, 0.9), "eps": 1e-3, "momentum_decay": 0.1,
      "weight_decay": 0.2},
     [0.8453554171940443, -1.87553263930733]),
]
GOLDEN_IDS = ["sgd-momentum", "sgd-nesterov", "adagrad", "rmsprop", "adam", "adamw",
              "adadelta", "adamax", "nadam"]


@pytest.mark.parametrize("name,ours,theirs,expected", GOLDEN, ids=GOLDEN_IDS)
def test_golden_trajectories_at_other_settings(name, ours, theirs, expected):
    opt = (O.AdaGrad if name == "Adagrad" else getattr(O, name))(**ours)
    p = np.array([1.0, -2.0])
    for g in GRADS:
        opt.step([p], [np.array(g)])
    np.testing.assert_allclose(p, expected, rtol=1e-12)


@pytest.mark.parametrize("name,ours,theirs,expected", GOLDEN, ids=GOLDEN_IDS)
def test_the_golden_values_are_torch_s(name, ours, theirs, expected, monkeypatch):
    torch = pytest.importorskip("torch")
    # NAdam's running product of momentum factors in float64, as in test_twenty_steps_equal_torch.
    monkeypatch.setattr(torch, "get_default_dtype", lambda: torch.float64)
    p = torch.tensor(np.array([1.0, -2.0]), requires_grad=True)
    opt = getattr(torch.optim, name)([p], **theirs)
    for g in GRADS:
        p.grad = torch.tensor(np.array(g))
        opt.step()
    np.testing.assert_allclose(p.detach().numpy(), expected, rtol=0, atol=1e-15)


def test_weight_decay_is_added_to_the_gradient():
    p = np.array([2.0])
    O.SGD(lr=0.1, weight_decay=0.5).step([p], [np.array([1.0])])
    assert p[0] == pytest.approx(2.0 - 0.1 * (1.0 + 0.5 * 2.0))


def test_converges_on_a_quadratic():
    for opt in (O.SGD(0.1), O.SGD(0.05, momentum=0.9), O.SGD(0.05, 0.9, nesterov=True),
                O.AdaGrad(0.5), O.RMSprop(0.01), O.Adam(0.1), O.AdamW(0.1), O.Adamax(0.1),
                O.NAdam(0.1)):
        p = np.array([3.0, -2.0])
        for _ in range(500):
            opt.step([p], [2 * p])
        assert np.abs(p).max() < 1e-2, opt


def test_adadelta_steps_start_at_the_size_its_epsilon_sets():
    # sqrt(eps / (1 - rho)) in each coordinate, whatever the gradient; then steadily down
    # the quadratic, slowly: PyTorch's defaults, lr 1 and eps 1e-6, make no fast optimizer.
    opt, p = O.Adadelta(), np.array([3.0, -2.0])
    path = [p.copy()]
    for _ in range(500):
        opt.step([p], [2 * p])
        path.append(p.copy())
    np.testing.assert_allclose(np.abs(path[1] - path[0]), np.sqrt(1e-6 / 0.1), rtol=1e-3)
    assert np.all(np.diff(np.abs(np.array(path)), axis=0) < 0)
    assert 0.1 < np.abs(p).max() < 1.0


CONFIGS = [
    ("SGD", {"lr": 0.1}, {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}, {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01},
     {"lr": 0.1, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01}),
    ("Adagrad", {"lr": 0.1}, {"lr": 0.1}),
    ("RMSprop", {"lr": 0.01, "rho": 0.9}, {"lr": 0.01, "alpha": 0.9}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}, {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.05, "beta1": 0.5, "beta2": 0.9}, {"lr": 0.05, "betas": (0.5, 0.9)}),
    ("AdamW", {}, {}),    # the defaults too: lr 1e-3, weight_decay 0.01
    ("AdamW", {"lr": 0.05, "weight_decay": 0.3}, {"lr": 0.05, "weight_decay": 0.3}),
    ("AdamW", {"lr": 0.02, "beta1": 0.5, "beta2": 0.9, "eps": 1e-4, "weight_decay": 2.0},
     {"lr": 0.02, "betas": (0.5, 0.9), "eps": 1e-4, "weight_decay": 2.0}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.0}, {"lr": 0.05, "weight_decay": 0.0}),
    ("Adadelta", {}, {}),  # PyTorch's defaults: lr 1.0, rho 0.9, eps 1e-6
    ("Adadelta", {"lr": 0.5, "rho": 0.5, "eps": 1e-3, "weight_decay": 0.1},
     {"lr": 0.5, "rho": 0.5, "eps": 1e-3, "weight_decay": 0.1}),
    ("Adamax", {}, {}),    # lr 2e-3
    ("Adamax", {"lr": 0.05, "beta1": 0.5, "beta2": 0.9, "eps": 1e-3, "weight_decay": 0.1},
     {"lr": 0.05, "betas": (0.5, 0.9), "eps": 1e-3, "weight_decay": 0.1}),
    ("NAdam", {}, {}),     # lr 2e-3, momentum_decay 4e-3
    ("NAdam", {"lr": 0.05, "beta1": 0.5, "beta2": 0.9, "momentum_decay": 0.1,
               "weight_decay": 0.1},
     {"lr": 0.05, "betas": (0.5, 0.9), "momentum_decay": 0.1, "weight_decay": 0.1}),
]


@pytest.mark.parametrize("name,ours,theirs", CONFIGS)
def test_twenty_steps_equal_torch(name, ours, theirs, monkeypatch):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    p0 = rng.normal(size=(3, 4))
    grads = [rng.normal(size=(3, 4)) for _ in range(20)]
    ours_cls = O.AdaGrad if name == "Adagrad" else getattr(O, name)
    p, opt = p0.copy(), ours_cls(**ours)
    # float64 tensors, and NAdam's running product of momentum factors in float64 too, as
    # nnlab computes it (PyTorch keeps it in its default dtype, float32 unless set).
    monkeypatch.setattr(torch, "get_default_dtype", lambda: torch.float64)
    tp = torch.tensor(p0.copy(), requires_grad=True)
    topt = getattr(torch.optim, name)([tp], **theirs)
    for g in grads:
        opt.step([p], [g])
        tp.grad = torch.tensor(g)
        topt.step()
    np.testing.assert_allclose(p, tp.detach().numpy(), atol=1e-12)


def test_adamw_with_a_schedule_equals_torch():
    # The decay uses each step's rate: torch's is set to the schedule's before each step.
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    p0 = rng.normal(size=(4, 2))
    schedule = O.step_decay(0.1, 0.3, 4)
    p, opt = p0.copy(), O.AdamW(schedule, weight_decay=0.5)
    tp = torch.tensor(p0.copy(), requires_grad=True)
    topt = torch.optim.AdamW([tp], lr=0.1, weight_decay=0.5)
    for i in range(12):
        g = rng.normal(size=(4, 2))
        opt.step([p], [g])
        topt.param_groups[0]["lr"] = schedule(i)
        tp.grad = torch.tensor(g)
        topt.step()
    np.testing.assert_allclose(p, tp.detach().numpy(), atol=1e-12)


def test_nadam_s_momentum_product_after_a_large_step_count_costs_little():
    # The product mu_1 ... mu_t follows from t alone; after a load it is computed again, in
    # chunks that stop once it underflows: no array of t factors.
    resumed, fresh = O.NAdam(), O.NAdam()
    resumed.iterations = 2999
    resumed.step([np.zeros(1)], [np.ones(1)])
    product = 1.0
    for t in range(1, 3001):
        product *= fresh._mu(t)
    assert resumed._mu_product(3000) == pytest.approx(product, rel=1e-12)
    far = O.NAdam()
    far.iterations = 2**40
    _, peak = peak_bytes(lambda: far.step([np.zeros(1)], [np.ones(1)]))
    assert peak < 1_000_000 and far._mu_product(2**40 + 1) == 0.0


def test_nadam_after_a_reset_steps_as_a_new_one_with_its_new_beta1(monkeypatch):
    # One step, a reset and a new beta1: the first step after it is a fresh NAdam's, whose
    # product mu_1 is the new beta1's (one cached from before the reset would be the old's).
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch, "get_default_dtype", lambda: torch.float64)
    opt, p, g = O.NAdam(lr=0.1, beta1=0.9), np.array([1.0, -2.0]), np.array([0.5, 0.25])
    opt.step([p], [g])
    opt.reset()
    opt.beta1 = 0.5
    tp = torch.tensor(p.copy(), requires_grad=True)
    topt = torch.optim.NAdam([tp], lr=0.1, betas=(0.5, 0.999))
    for _ in range(3):
        opt.step([p], [g])
        tp.grad = torch.tensor(g)
        topt.step()
    np.testing.assert_allclose(p, tp.detach().numpy(), rtol=0, atol=1e-15)


def test_sgd_s_momentum_switched_on_after_the_first_step_starts_from_that_gradient():
    p = np.array([1.0])
    opt = O.SGD(lr=0.1)
    opt.step([p], [np.array([1.0])])
    opt.momentum = 0.5
    opt.step([p], [np.array([2.0])])   # b = g, as PyTorch's buffer starts
    opt.step([p], [np.array([2.0])])   # b = 0.5 * 2 + 2 = 3
    np.testing.assert_allclose(p, [1.0 - 0.1 - 0.2 - 0.3], rtol=1e-15)
