"""Details of the optimizers that a wrong answer would pass in silence: SGD's velocity (a
copy of the gradient it starts from, and none without momentum), a schedule's rate checked
at every step of a run, Adafactor's floor in the weights' own dtype, and RAdam's threshold
on rho_t exactly at 5."""

import numpy as np
import pytest

import nnlab as nl
from nnlab import optimizers as O


def test_sgd_s_momentum_switched_on_copies_the_gradient_it_starts_from():
    # A model hands the optimizer the same gradient arrays at every step, refilled by each
    # backward pass. The velocity started from the gradient must be a copy: one that is the
    # gradient array itself changed the caller's gradient at the next step (b *= momentum).
    # (PyTorch's buffer starts as a clone of the gradient.)
    p, g = np.array([1.0]), np.array([2.0])
    opt = O.SGD(lr=0.1)
    opt.step([p], [np.array([1.0])])   # plain: p = 0.9
    opt.momentum = 0.5
    opt.step([p], [g])                 # b = g = 2: p = 0.7
    opt.step([p], [g])                 # b = 0.5 * 2 + 2 = 3: p = 0.4
    assert g.tolist() == [2.0]
    np.testing.assert_allclose(p, [0.4], rtol=1e-15)
    assert not np.shares_memory(opt.state[0]["b"], g)


def bad_from_step_1(iteration):
    """A schedule whose rate is NaN from iteration 1 (the second step) on."""
    return 0.01 if iteration < 1 else float("nan")


def test_a_schedule_s_rate_is_checked_at_the_second_step_of_the_run_too():
    # check_ready looks at every step of the run before the first update: the first step's
    # rate (iteration 0) and those of iterations 1, 2... A bad rate at iteration 1 alone.
    opt, p = O.SGD(bad_from_step_1), np.ones(2)
    assert opt.check_ready([p]) == 0.01
    with pytest.raises(ValueError, match=r"bad_from_step_1 at iteration 1 must be finite"):
        opt.check_ready([p], steps=2)
    # Through fit: 8 samples in batches of 4 are steps 0 and 1; nothing moves.
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.compile("mse", O.SGD(bad_from_step_1))
    W = model.params[0].copy()
    with pytest.raises(ValueError, match=r"at iteration 1 must be finite"):
        model.fit(np.ones((8, 2)), np.ones(8), epochs=1, batch_size=4)
    np.testing.assert_array_equal(model.params[0], W)
    assert model.optimizer.iterations == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adafactor_s_default_floor_is_the_machine_epsilon_of_the_weights_dtype(dtype):
    # PyTorch's eps1=None is torch.finfo(p.dtype).eps. A vector's first step (beta2_1 = 0)
    # has V = g^2, so sqrt(V) = |g| = 1e-8: below float32's epsilon 2**-23, it is floored
    # there, U = 1e-8 / 2**-23 = 0.084 (RMS(U) < 1, no clipping); above float64's 2**-52,
    # it is not, U = g / |g| = 1. With unit weights, alpha = 1 * min(0.01, 1) = 0.01.
    p = np.ones(3, dtype)
    O.Adafactor().step([p], [np.full(3, 1e-8, dtype)])
    u = 1e-8 / 2**-23 if dtype == np.float32 else 1.0
    assert p.dtype == dtype
    np.testing.assert_allclose(p, 1 - 0.01 * u, rtol=1e-6)


#: A beta2 at which RAdam's rho_6, computed as PyTorch and nnlab compute it, is 5.0 exactly
#: (found by bisection, then a search of the neighbouring floats).
BETA2_RHO_6_IS_5 = 0.8397685748659791


def test_radam_does_not_rectify_where_rho_t_is_exactly_5():
    # PyTorch's test is rho_t > 5: at rho_t = 5 the step is still momentum SGD's.
    opt = O.RAdam(beta2=BETA2_RHO_6_IS_5)
    b, t = opt.beta2, 6
    assert 2 / (1 - b) - 1 - 2 * t * b**t / (1 - b**t) == 5.0
    assert opt.rectification(6) is None and opt.rectification(7) is not None


#: torch.optim.RAdam 2.13.0's weights in float64 after steps 6 (not rectified: rho_6 = 5)
#: and 7 (rectified) at that beta2 and lr=0.1 from [1, -2, 0.5], kept so CI needs no torch.
RADAM_GRADS = [[0.5, -1.0, 0.25], [0.3, 0.2, -0.1], [-0.4, 0.6, 0.2], [0.1, -0.3, 0.4],
               [0.2, 0.1, -0.5], [-0.3, -0.2, 0.4], [0.6, 0.5, 0.1]]
RADAM_GOLDEN = {6: [0.8743067667498953, -1.839797124114191, 0.4236080046802144],
                7: [0.8592147316407073, -1.8426631500697037, 0.4101024364814162]}


def test_radam_at_rho_t_exactly_5_steps_as_pytorch():
    opt, p = O.RAdam(lr=0.1, beta2=BETA2_RHO_6_IS_5), np.array([1.0, -2.0, 0.5])
    for t, g in enumerate(RADAM_GRADS, start=1):
        opt.step([p], [np.array(g)])
        if t in RADAM_GOLDEN:
            np.testing.assert_allclose(p, RADAM_GOLDEN[t], rtol=0, atol=1e-15)


def test_plain_sgd_keeps_no_velocity():
    # Without momentum nothing is read from one step to the next: no array per weight is
    # kept (a model file then holds none), as PyTorch's momentum_buffer stays None.
    opt, p = O.SGD(0.1), np.ones(3)
    opt.step([p], [np.ones(3)])
    assert set(opt.state[0]) == {"param", "scratch"}
