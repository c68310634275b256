import functools
import re

import numpy as np
import pytest

import nnlab as nl
from nnlab import optimizers as O
from tests.helpers import peak_bytes


def run(opt, grads, p0=1.0):
    p = np.array([p0])
    trajectory = []
    for g in grads:
        opt.step([p], [np.array([g])])
        trajectory.append(p[0])
    return trajectory


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


#: Gradients of norms 5, 0.5, 0 and about 65, for the clipping tests.
CLIP_GRADS = [np.array([3.0, 4.0]), np.array([[0.3, -0.4]]), np.zeros(3),
              10 * np.random.default_rng(0).normal(size=(4, 3))]
CLIPPING = ("clipnorm", "clipvalue", "global_clipnorm")


def clipped(grads, dtype=np.float64, **option):
    """The gradients that SGD(lr=1) with the clipping ``option`` steps by."""
    params = [np.zeros(g.shape, dtype) for g in grads]
    O.SGD(lr=1.0, **option).step(params, [g.astype(dtype) for g in grads])
    return [-p for p in params]


def test_clipnorm_clips_each_array_on_its_own_by_keras_s_formula():
    c = 1.0
    expected = [g * c / max(np.linalg.norm(g), c) for g in CLIP_GRADS]
    for ours, theirs in zip(clipped(CLIP_GRADS, clipnorm=c), expected, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-15, atol=0)
    assert [np.linalg.norm(g) for g in clipped(CLIP_GRADS, clipnorm=c)] == pytest.approx(
        [1.0, 0.5, 0.0, 1.0], rel=1e-15)


def test_global_clipnorm_rescales_all_arrays_together_as_pytorch():
    c = 1.0
    total = np.sqrt(sum(np.sum(g**2) for g in CLIP_GRADS))
    ours = clipped(CLIP_GRADS, global_clipnorm=c)
    for mine, g in zip(ours, CLIP_GRADS, strict=True):
        np.testing.assert_allclose(mine, g * min(1.0, c / (total + 1e-6)), rtol=1e-15, atol=0)
        # Keras's scale, c / max(total, c), differs by the 1e-6 alone.
        np.testing.assert_allclose(mine, g * c / max(total, c), rtol=1e-6 / total, atol=0)
    assert np.sqrt(sum(np.sum(g**2) for g in ours)) == pytest.approx(1.0, rel=1e-6)
    # Below the threshold: the gradients as they are.
    small = [np.array([3.0]), np.array([4.0])]
    assert [g.tolist() for g in clipped(small, global_clipnorm=5.0 + 2e-6)] == [[3.0], [4.0]]


def test_clipvalue_clips_each_element():
    assert clipped([np.array([-3.0, 0.5, 2.0, -0.25])], clipvalue=1.0)[0].tolist() == [
        -1.0, 0.5, 1.0, -0.25]


@pytest.mark.parametrize("option", CLIPPING)
def test_clipping_equals_torch_s(option):
    torch = pytest.importorskip("torch")
    c = 1.0
    tensors = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True)
               for g in CLIP_GRADS]
    for t, g in zip(tensors, CLIP_GRADS, strict=True):
        t.grad = torch.tensor(g)
    if option == "clipnorm":   # clip_grad_norm_ called on each parameter alone
        for t in tensors:
            torch.nn.utils.clip_grad_norm_([t], c)
    elif option == "global_clipnorm":
        torch.nn.utils.clip_grad_norm_(tensors, c)
    else:
        torch.nn.utils.clip_grad_value_(tensors, c)
    # Per array, torch's 1e-6 beside the norm (5 and 65 here) is Keras's formula's sole
    # difference.
    rtol = 1e-6 if option == "clipnorm" else 1e-15
    for ours, t in zip(clipped(CLIP_GRADS, **{option: c}), tensors, strict=True):
        np.testing.assert_allclose(ours, t.grad.numpy(), rtol=rtol, atol=0)


@pytest.mark.parametrize("option", CLIPPING)
def test_float32_gradients_are_clipped_in_float32(option):
    grads = [g.astype(np.float32).view(Float32Only) for g in CLIP_GRADS]
    for ours, theirs in zip(clipped(grads, np.float32, **{option: np.float64(0.7)}),
                            clipped(CLIP_GRADS, **{option: 0.7}), strict=True):
        assert ours.dtype == np.float32
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("option", ["clipnorm", "global_clipnorm"])
def test_clipping_by_norm_makes_no_float64_copy_of_a_float32_gradient(option):
    params, grads = [np.zeros((200, 500), np.float32)], [np.ones((200, 500), np.float32)]
    opt = O.SGD(lr=1.0, **{option: 1.0})
    opt.step(params, grads)
    _, peak = peak_bytes(lambda: opt.step(params, grads))
    assert peak < 500_000   # the clipped copy, 400 000 bytes; float64 squares were 800 000


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("option", ["clipnorm", "global_clipnorm"])
def test_clipping_measures_norms_whose_squares_overflow(option, dtype):
    big = np.finfo(dtype).max / 8   # squares overflow, the norm (5 big) does not
    grads = [np.array([3 * big, 4 * big], dtype)] if option == "clipnorm" else [
        np.array([3 * big], dtype), np.array([4 * big], dtype)]
    ours = clipped(grads, dtype, **{option: 1.0})
    np.testing.assert_allclose(np.concatenate(ours), [0.6, 0.8], rtol=1e-6)


@pytest.mark.parametrize("option", CLIPPING)
def test_clipping_acts_just_above_the_limit_and_comes_before_weight_decay(option):
    # g = (0.6, -0.45), of norm 0.75, and an element 0.6: between once and twice the limit
    # 0.5, where a scale of 2/3 must clip too. Then 0.5 theta is added, unclipped, as PyTorch
    # adds it in the step after clip_grad_norm_: clipping g + 0.5 theta would cut the decay.
    theta, g = np.array([2.0, -1.0]), np.array([0.6, -0.45])
    clipped_g = {"clipnorm": g * 0.5 / 0.75, "clipvalue": np.array([0.5, -0.45]),
                 "global_clipnorm": g * 0.5 / (0.75 + 1e-6)}[option]
    p = theta.copy()
    O.SGD(lr=1.0, weight_decay=0.5, **{option: 0.5}).step([p], [g])
    np.testing.assert_allclose(p, theta - (clipped_g + 0.5 * theta), rtol=1e-14)


@pytest.mark.parametrize("name", O.NAMES)
@pytest.mark.parametrize("given", [{"clipnorm": 1.0, "clipvalue": 2.0},
                                   {"clipnorm": 1.0, "global_clipnorm": 2.0},
                                   {"clipvalue": 1.0, "global_clipnorm": 2.0},
                                   {"clipnorm": 1.0, "clipvalue": 2.0, "global_clipnorm": 3.0}])
def test_at_most_one_clipping_option(name, given):
    got = ", ".join(f"{k}={v}" for k, v in given.items())
    with pytest.raises(ValueError, match=re.escape(
            f"set at most one of clipnorm, clipvalue and global_clipnorm; got {got}")):
        O.get(name, **given)
    # Set afterwards, on the attributes: the step refuses them before changing anything.
    opt, p = O.get(name, clipnorm=1.0), np.ones((2, 2))
    opt.clipnorm, opt.clipvalue, opt.global_clipnorm = (given.get(k) for k in CLIPPING)
    with pytest.raises(ValueError, match="set at most one of clipnorm"):
        opt.step([p], [np.ones((2, 2))])
    assert np.array_equal(p, np.ones((2, 2))) and opt.state is None and opt.iterations == 0


@pytest.mark.parametrize("option", CLIPPING)
@pytest.mark.parametrize("value, match", [
    (0, "must be in (0, inf); got 0"), (-1.0, "must be in (0, inf); got -1.0"),
    (float("nan"), "must be finite; got nan"), (float("inf"), "must be finite; got inf"),
    ("1", "must be a real number; got '1'"), (True, "must be a real number; got True")])
def test_invalid_clipping_values(option, value, match):
    with pytest.raises(ValueError, match=re.escape(f"{option} {match}")):
        O.Adam(**{option: value})


@pytest.mark.parametrize("name", O.NAMES)
@pytest.mark.parametrize("option", CLIPPING)
def test_every_optimizer_takes_each_clipping_option(name, option):
    opt = O.get(name, **{option: np.float32(0.5)})
    assert {k: opt.get_config()[k] for k in CLIPPING} == {
        k: 0.5 if k == option else None for k in CLIPPING}
    assert type(getattr(opt, option)) is float


def test_schedule():
    opt = O.SGD(lr=O.step_decay(1.0, 0.5, 2))
    assert run(opt, [1, 1, 1, 1], p0=0.0) == pytest.approx([-1, -2, -2.5, -3])
    assert O.exponential_decay(0.1, 0.5, 10)(10) == pytest.approx(0.05)
    opt = O.SGD(lr=lambda i: 0.1 - 0.1 * i)
    p = np.ones(1)
    opt.step([p], [np.ones(1)])                       # iteration 0: lr 0.1
    opt.step([p], [np.ones(1)])                       # iteration 1: lr 0, no update
    assert p[0] == pytest.approx(0.9)
    with pytest.raises(ValueError, match=r"lr schedule .*<lambda> at iteration 2"):
        opt.step([p], [np.ones(1)])                   # iteration 2: lr -0.1, rejected


def test_a_schedule_that_takes_no_step_count_is_refused_when_given():
    # exponential_decay itself, uncalled, was accepted and failed fit's first step with a
    # TypeError.
    for bad in (O.exponential_decay, lambda: 0.1, lambda i, j: 0.1):
        with pytest.raises(ValueError, match=r"lr schedule .* is not lr\(iteration\)"):
            O.SGD(lr=bad)
        opt = O.Adam()
        with pytest.raises(ValueError, match="Adam's lr schedule"):
            opt.lr = bad
        assert opt.lr == 1e-3
    assert O.SGD(lr=lambda i, scale=2: 0.1).current_lr() == 0.1
    with pytest.raises(ValueError, match=r"call the factory to make one, e.g. exponential_"):
        O.SGD(lr=O.step_decay)


def test_the_schedules_of_nnlab_schedules_are_importable_from_optimizers():
    # Code, notebooks and tests written before nnlab.schedules import them from here.
    from nnlab import schedules
    assert O.exponential_decay is schedules.exponential_decay
    assert O.step_decay is schedules.step_decay


def test_a_schedule_may_decay_to_zero():
    # 0.5 ** 1075 underflows to 0.0: the run goes on, without moving the parameter.
    opt, p = O.SGD(O.exponential_decay(0.5, 0.5, 1)), np.ones(1)
    for _ in range(1100):
        opt.step([p], [np.ones(1)])
    assert opt.current_lr() == 0.0 and p[0] == pytest.approx(0.0)
    adam, q = O.Adam(lambda i: 0.0), np.ones(2)
    adam.step([q], [np.ones(2)])
    assert np.array_equal(q, np.ones(2))


@pytest.mark.parametrize("value", [None, "0.1", True, -0.1, float("nan"), float("inf"),
                                   np.array([0.1]), 0.1j])
def test_a_schedule_value_must_be_a_finite_real_number_at_least_zero(value):
    opt, p = O.Adam(lambda i: value), np.ones(2)
    with pytest.raises(ValueError, match=r"Adam's lr schedule .*<lambda> at iteration 0"):
        opt.step([p], [np.ones(2)])
    assert np.array_equal(p, np.ones(2)) and opt.state is None and opt.iterations == 0


def test_a_schedule_may_return_a_numpy_scalar_or_0d_array():
    p = np.zeros(1)
    opt = O.SGD(lambda i: np.where(i < 1, 0.5, np.float32(0.25)))
    opt.step([p], [np.ones(1)])
    opt.step([p], [np.ones(1)])
    assert p[0] == -0.75 and type(opt.current_lr()) is float


def test_lr_is_checked_whenever_it_is_set():
    # Set once and trusted in every step after that (a Keras habit: opt.lr = 1e-4).
    opt = O.Adam(np.float64(0.01))
    assert type(opt.lr) is float and opt.current_lr() == 0.01
    opt.lr = 1e-4
    assert opt.current_lr() == 1e-4
    for bad in (0.0, -1.0, float("nan"), "fast"):
        with pytest.raises(ValueError, match="Adam lr"):
            opt.lr = bad
    assert opt.lr == 1e-4


def test_updates_in_place_and_keeps_dtype():
    p = np.ones(3, dtype=np.float32)
    ident = id(p)
    opt = O.Adam(0.1)
    opt.step([p], [np.ones(3, dtype=np.float32)])
    assert id(p) == ident and p.dtype == np.float32
    assert all(a.dtype == np.float32 for a in opt.state[0].values())


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


@pytest.mark.parametrize("make,match", [
    (lambda: O.SGD(lr=0), "lr"),
    (lambda: O.SGD(lr=-1), "lr"),
    (lambda: O.SGD(0.1, momentum=1.0), "momentum"),
    (lambda: O.SGD(0.1, nesterov=True), "nesterov"),
    (lambda: O.Adam(beta1=1.0), "beta1"),
    (lambda: O.RMSprop(eps=0), "eps"),
    (lambda: O.AdaGrad(weight_decay=-1), "weight_decay"),
    (lambda: O.AdamW(lr=0), "AdamW lr"),
    (lambda: O.AdamW(weight_decay=-0.01), r"weight_decay must be in \[0, inf\); got -0.01"),
    (lambda: O.AdamW(weight_decay=float("nan")), "weight_decay must be finite"),
    (lambda: O.AdamW(beta2=1.0), "beta2"),
    (lambda: O.AdamW(eps=0.0), "eps"),
    (lambda: O.AdamW(clipnorm=0), "clipnorm"),
    (lambda: O.Adadelta(rho=1.0), "rho"),
    (lambda: O.Adadelta(eps=-1e-6), "eps"),
    (lambda: O.Adamax(beta1=-0.1), "beta1"),
    (lambda: O.Adamax(eps=0), "eps"),
    (lambda: O.NAdam(beta2=1.5), "beta2"),
    (lambda: O.NAdam(momentum_decay=-0.004), "momentum_decay"),
    (lambda: O.NAdam(momentum_decay=float("inf")), "momentum_decay"),
    (lambda: O.get("adabelief"), "valid names are"),
])
def test_invalid_hyper_parameters(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_mismatched_lists_and_shapes_change_nothing():
    opt = O.Adam(0.1)
    p = np.ones(2)
    with pytest.raises(ValueError, match="2 parameter arrays but 1"):
        opt.step([p, p], [p])
    with pytest.raises(ValueError, match="shape"):
        opt.step([p], [np.ones(3)])
    assert np.array_equal(p, np.ones(2)) and opt.state is None and opt.iterations == 0
    opt.step([p], [np.ones(2)])
    with pytest.raises(ValueError, match="reset"):
        opt.step([np.ones(4)], [np.ones(4)])


def test_a_non_finite_gradient_is_refused_before_any_update():
    opt = O.Adam(0.1)
    p, q = np.ones(2), np.ones(3)
    with pytest.raises(ValueError, match=r"Adam.step: gradient 1 contains NaN or inf"):
        opt.step([p, q], [np.ones(2), np.array([0.0, np.nan, 1.0])])
    assert np.array_equal(p, np.ones(2)) and opt.state is None and opt.iterations == 0


def test_a_model_that_grew_after_fitting_is_refused_before_any_update():
    X, y = np.ones((4, 3)), np.ones((4, 1))
    opt = O.SGD(0.1, momentum=0.9)
    model = nl.Sequential([nl.Dense(3, 1, rng=0)])
    model.compile("mse", opt)
    model.fit(X, y, batch_size=4)
    model.add(nl.Dense(1, 1, rng=1))
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"not the parameter arrays .* call reset\(\)"):
        model.fit(X, y, batch_size=4)
    assert opt.iterations == 1
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    opt.reset()
    model.fit(X, y, batch_size=4)
    assert opt.iterations == 1


def test_an_optimizer_is_not_shared_by_two_models_of_the_same_shapes():
    # Its momentum belongs to the first model's arrays (PyTorch keys state by parameter).
    X, y = np.ones((4, 3)), np.ones((4, 1))
    opt = O.Adam(0.1)
    first, second = (nl.Sequential([nl.Dense(3, 1, rng=0)]) for _ in range(2))
    first.compile("mse", opt)
    first.fit(X, y, batch_size=4)
    second.compile("mse", opt)
    before = second.get_weights()
    with pytest.raises(ValueError, match="used for another model"):
        second.fit(X, y, batch_size=4)
    np.testing.assert_array_equal(before[0], second.get_weights()[0])
    with pytest.raises(ValueError, match="not the parameter arrays"):
        opt.step([np.ones((3, 1)), np.ones(1)], [np.ones((3, 1)), np.ones(1)])


@pytest.mark.parametrize("name,kwargs,match", [
    ("adam", {"momentum": 0.9}, "'adam' takes no argument momentum; its arguments are: lr, "),
    ("nesterov", {"betas": 1}, "'nesterov' takes no argument betas"),
])
def test_get_refuses_arguments_the_optimizer_does_not_take(name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        O.get(name, **kwargs)
    assert O.get("nesterov", lr=0.5).lr == 0.5


def test_gradients_may_be_array_likes():
    p, q = np.zeros(2), np.zeros((1, 2), dtype=np.float32)
    O.SGD(0.5, weight_decay=0.1, clipnorm=10.0).step((p, q), ([1.0, 2.0], [[1, 2]]))
    np.testing.assert_array_equal(p, [-0.5, -1.0])
    assert q.dtype == np.float32 and np.array_equal(q, [[-0.5, -1.0]])


@pytest.mark.parametrize("grad,match", [
    (np.array([1j, 2.0]), "real numbers; got dtype complex128"),
    (["a", "b"], "real numbers; got dtype <U1"),
    (np.array([0.5, None]), "real numbers; got dtype object"),
    ([[1.0], [1.0, 2.0]], "gradient 1 is not an array"),
])
def test_gradients_must_be_real_numbers(grad, match):
    p, q = np.zeros(2), np.zeros(2)
    with pytest.raises(ValueError, match=match):
        O.SGD(0.1).step([p, q], [np.ones(2), grad])
    assert not p.any() and not q.any()


def test_every_parameter_is_checked_before_the_first_update():
    p, frozen = np.zeros(2), np.zeros(2)
    frozen.flags.writeable = False
    opt = O.Adam(0.1)
    with pytest.raises(ValueError, match="parameter 1 must be a writeable floating ndarray"):
        opt.step([p, frozen], [np.ones(2), np.ones(2)])
    assert not p.any() and opt.state is None and opt.iterations == 0


@pytest.mark.parametrize("name", O.NAMES)
@pytest.mark.parametrize("dtype", [np.float16, np.longdouble])
def test_parameters_other_than_float32_or_float64_are_refused(name, dtype):
    # In float16, Adam's eps (1e-8) rounds to 0: its steps were NaN, in silence.
    if np.dtype(dtype) == np.float64:   # (a platform whose long double is a double)
        pytest.skip("np.longdouble is float64 here")
    p, other = np.zeros(2), np.zeros(2, dtype)
    opt = O.get(name)
    with pytest.raises(ValueError, match=re.escape(
            f"parameter 1 has dtype {np.dtype(dtype)}; expected float32 or float64")):
        opt.step([p, other], [np.ones(2), np.ones(2)])
    assert not p.any() and not other.any() and opt.state is None and opt.iterations == 0


@pytest.mark.parametrize("params,grads", [
    (np.zeros(2), [np.ones(2)]),                 # one array, not a list of arrays
    (np.zeros((2, 2)), np.ones((2, 2))),         # rows would pass for parameters
    ([np.zeros(2)], (g for g in [np.ones(2)])),
])
def test_params_and_grads_are_lists(params, grads):
    with pytest.raises(ValueError, match="lists of arrays"):
        O.SGD(0.1).step(params, grads)
    assert not np.any(params)


def test_get_by_name():
    assert isinstance(O.get("adam"), O.Adam)
    adamw = O.get("adamw")
    assert type(adamw) is O.AdamW and adamw.weight_decay == 0.01 and adamw.lr == 1e-3
    assert O.get("adamw", weight_decay=0.1).weight_decay == 0.1
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.compile("mse", optimizer="adamw")
    assert type(model.optimizer) is O.AdamW
    assert O.get("nesterov").nesterov and O.get("momentum").momentum == 0.9
    assert O.get("rmsprop", lr=0.5).lr == 0.5
    with pytest.raises(ValueError, match=r"^optimizer Adam is a class: pass an instance, "
                                         r"Adam\(\), or a name, one of: .*adam"):
        model.compile("mse", optimizer=O.Adam)


def test_get_refuses_arguments_for_a_ready_optimizer():
    opt = O.SGD()
    assert O.get(opt) is opt
    with pytest.raises(ValueError, match=r"constructor arguments \{'lr': 0.5\} need an "
                                         "optimizer name"):
        O.get(opt, lr=0.5)


@pytest.mark.parametrize("name", O.NAMES)
def test_get_config_rebuilds_the_optimizer(name):
    opt = O.get(name, lr=0.05, weight_decay=0.01, clipnorm=2.0)
    copy = type(opt)(**opt.get_config())
    assert copy.get_config() == opt.get_config() and repr(copy) == repr(opt)
    p, q = np.ones(3), np.ones(3)
    for g in (np.array([0.5, -1.0, 2.0]), np.array([3.0, 0.1, -0.2])):
        opt.step([p], [g])
        copy.step([q], [g])
    np.testing.assert_array_equal(p, q)
    opt.reset()
    assert opt.state is None and opt.iterations == 0
    opt.step([np.ones(4)], [np.ones(4)])     # other shapes are fine after a reset


def test_repr_shows_the_schedule():
    schedule = O.step_decay(0.1, 0.5, 10)
    opt = O.SGD(schedule)
    assert f"lr={schedule!r}" in repr(opt) and opt.get_config()["lr"] is None


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


class Float32Only(np.ndarray):
    """An array that fails every NumPy operation on float32 arrays that computes in float64.

    Under NumPy 2's promotion rules (NEP 50) a NumPy float64 scalar, such as ``np.sqrt(0.5)``,
    is not "weak" like a Python float: ``a32 /= np.sqrt(c)`` computes in float64 and casts
    back, silently and several times slower. The result stays float32, so only the
    operands show it.
    """

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        def plain(a):
            return a.view(np.ndarray) if isinstance(a, Float32Only) else a

        inputs = [plain(a) for a in inputs]
        float32 = any(getattr(a, "dtype", None) == np.float32 for a in inputs)
        assert not (float32 and np.result_type(*inputs) == np.float64), \
            f"{ufunc.__name__} of float32 arrays computes in float64"
        if out is not None:
            kwargs["out"] = tuple(plain(a) for a in out)
        result = getattr(ufunc, method)(*inputs, **kwargs)
        if out is not None:   # in place: hand back the watched arrays themselves
            return out[0] if len(out) == 1 else out
        return result.view(Float32Only) if isinstance(result, np.ndarray) else result


@pytest.mark.parametrize("name", O.NAMES)
@pytest.mark.parametrize("numpy_scalars", [False, True])
def test_float32_steps_compute_in_float32(name, numpy_scalars):
    """Every operation of a float32 step is a float32 operation, also with hyper-parameters
    given as NumPy float64 scalars (``np.logspace`` yields those)."""
    own = {"momentum": {"momentum": 0.8}, "nesterov": {"momentum": 0.8},
           "adagrad": {"eps": 1e-9}, "rmsprop": {"rho": 0.8, "eps": 1e-9},
           "adam": {"beta1": 0.8, "beta2": 0.99, "eps": 1e-9},
           "adamw": {"beta1": 0.8, "beta2": 0.99, "eps": 1e-9},
           "adadelta": {"rho": 0.8, "eps": 1e-5},
           "adamax": {"beta1": 0.8, "beta2": 0.99, "eps": 1e-9},
           "nadam": {"beta1": 0.8, "beta2": 0.99, "eps": 1e-9, "momentum_decay": 0.01}}
    hyper = {"lr": 0.01, "weight_decay": 0.001, "clipnorm": 1.0, **own.get(name, {})}
    if numpy_scalars:
        hyper = {k: np.float64(v) for k, v in hyper.items()}
    opt = O.get(name, **hyper)
    rng = np.random.default_rng(0)
    p = rng.normal(size=(4, 3)).astype(np.float32).view(Float32Only)
    for _ in range(3):
        opt.step([p], [rng.normal(size=(4, 3)).astype(np.float32).view(Float32Only)])
    assert p.dtype == np.float32


def test_nesterov_is_a_boolean():
    for bad in ("no", 1, None):
        with pytest.raises(ValueError, match="nesterov must be True or False"):
            O.SGD(0.1, momentum=0.9, nesterov=bad)


def test_a_schedule_whose_signature_cannot_be_read_is_checked_at_each_step():
    # inspect reads no signature of some built-ins, max among them: such a schedule
    # (here max(0.01, iteration)) is accepted, and rate_at checks each rate it gives.
    opt = O.SGD(lr=functools.partial(max, 0.01))
    assert opt.current_lr() == 0.01


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


def test_sgd_s_momentum_switched_on_after_the_first_step_starts_from_that_gradient():
    p = np.array([1.0])
    opt = O.SGD(lr=0.1)
    opt.step([p], [np.array([1.0])])
    opt.momentum = 0.5
    opt.step([p], [np.array([2.0])])   # b = g, as PyTorch's buffer starts
    opt.step([p], [np.array([2.0])])   # b = 0.5 * 2 + 2 = 3
    np.testing.assert_allclose(p, [1.0 - 0.1 - 0.2 - 0.3], rtol=1e-15)
