"""Tests of the optimizers' gradient clipping (clipnorm, clipvalue, global_clipnorm) and of
their learning-rate schedules."""

import functools
import re

import numpy as np
import pytest

from nnlab import optimizers as O
from tests.helpers import peak_bytes
from tests.optimizer_cases import Float32Only, run

# -- gradient clipping ---------------------------------------------------------------------

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


# -- learning-rate schedules ---------------------------------------------------------------

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


def test_exponential_decay_is_continuous_not_a_staircase():
    # lr0 * rate ** (iteration / steps) decays at every step: halfway through the 10 steps
    # of a halving the rate is lr0 / sqrt(2), not still lr0 (that is step_decay's staircase).
    schedule = O.exponential_decay(0.1, 0.5, 10)
    assert schedule(5) == pytest.approx(0.1 * 0.5 ** 0.5, rel=1e-12)
    assert schedule(1) < schedule(0) and schedule(15) == pytest.approx(0.1 * 0.5 ** 1.5)


def test_a_schedules_config_is_a_copy_that_makes_variants_without_changing_it():
    # Keras's idiom for a variant of a schedule: edit its config and make another. The
    # schedule an optimizer already runs on must keep its own arguments.
    schedule = O.step_decay(0.1, 0.5, 100)
    config = schedule.get_config()
    config["lr0"] = 1.0
    variant = type(schedule)(**config)
    assert schedule(0) == pytest.approx(0.1) and variant(0) == pytest.approx(1.0)
    assert schedule.get_config() == {"lr0": 0.1, "factor": 0.5, "every": 100}


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


@pytest.mark.parametrize("make", [O.exponential_decay, O.step_decay])
def test_nnlab_s_schedules_refuse_an_iteration_that_is_no_count(make):
    # -1 gave a rate above lr0, None a TypeError
    schedule = make(0.1, 0.5, 10)
    for bad, match in ((-1, r"must be in \[0, inf\); got -1"), (None, "must be a real number"),
                       (True, "must be a real number"), (np.nan, "must be finite")):
        with pytest.raises(ValueError, match=f"{type(schedule).__name__}'s iteration {match}"):
            schedule(bad)
    assert schedule(np.int64(10)) == pytest.approx(0.05)


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


def test_a_schedule_whose_signature_cannot_be_read_is_checked_at_each_step():
    # inspect reads no signature of some built-ins, max among them: such a schedule
    # (here max(0.01, iteration)) is accepted, and rate_at checks each rate it gives.
    opt = O.SGD(lr=functools.partial(max, 0.01))
    assert opt.current_lr() == 0.01
