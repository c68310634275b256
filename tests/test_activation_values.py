"""Tests of the activation functions' values and slopes against known values, their
mathematical properties, and PyTorch's functions."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nnlab import activations as A
from tests.helpers import KINKS

floats = st.floats(-20, 20, allow_nan=False)


# -- Known values and properties --------------------------------------------------------------

def test_golden_values():
    assert A.sigmoid(0.0) == 0.5
    assert A.sigmoid.derivative(0.0) == 0.25
    np.testing.assert_allclose(A.relu(np.array([-2.0, 3.0])), [0, 3])
    np.testing.assert_allclose(A.leaky_relu(np.array([-2.0])), [-0.02])
    np.testing.assert_allclose(A.elu(np.array([-1.0])), [np.exp(-1) - 1])
    # SELU's published constants (Klambauer et al. 2017), written here, not read from nnlab
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    x = np.array([1.0, -1.0, -3.0])
    np.testing.assert_allclose(A.selu(x), [scale, scale * alpha * np.expm1(-1.0),
                                           scale * alpha * np.expm1(-3.0)], rtol=1e-15)
    np.testing.assert_allclose(A.selu.derivative(x), [scale, scale * alpha * np.exp(-1.0),
                                                      scale * alpha * np.exp(-3.0)], rtol=1e-15)
    np.testing.assert_allclose(A.softplus(np.array([0.0])), [np.log(2)])
    np.testing.assert_allclose(A.softsign(np.array([1.0])), [0.5])
    np.testing.assert_allclose(A.step(np.array([-1.0, 0.0, 2.0])), [0, 0, 1])
    np.testing.assert_allclose(A.softmax(np.array([0.0, np.log(3)])), [0.25, 0.75])
    assert A.relu.derivative(np.array([0.0]))[0] == 0.0


@given(arrays(np.float64, (3, 4), elements=floats))
def test_tanh_is_a_rescaled_sigmoid(x):
    np.testing.assert_allclose(A.tanh(x), 2 * A.sigmoid(2 * x) - 1, atol=1e-12)


@given(arrays(np.float64, (3, 4), elements=st.floats(-1e4, 1e4)), floats)
def test_softmax_rows_are_distributions_and_shift_invariant(x, c):
    p = A.softmax(x)
    assert np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0)
    np.testing.assert_allclose(A.softmax(x + c), p, atol=1e-12)


@given(arrays(np.float64, 10, elements=st.floats(-1e4, 1e4)))
def test_sigmoid_in_unit_interval_and_monotone(x):
    s = A.sigmoid(np.sort(x))
    assert np.all((s >= 0) & (s <= 1))
    assert np.all(np.diff(s) >= 0)


# -- Against PyTorch --------------------------------------------------------------------------

def test_against_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    ref = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": F.relu,
           "leaky_relu": F.leaky_relu, "elu": F.elu, "selu": F.selu, "softplus": F.softplus,
           "softsign": F.softsign, "exponential": torch.exp, "swish": F.silu,
           "silu": F.silu, "gelu": F.gelu, "softmax": lambda t: F.softmax(t, dim=-1)}
    x = np.random.default_rng(1).normal(size=(3, 4)) * 3
    dy = np.random.default_rng(2).normal(size=x.shape)
    for name, fn in ref.items():
        t = torch.tensor(x, requires_grad=True)
        out = fn(t)
        out.backward(torch.tensor(dy))
        f = A.get(name)
        np.testing.assert_allclose(f(x), out.detach().numpy(), rtol=1e-10, err_msg=name)
        np.testing.assert_allclose(f.backward(x, f(x), dy), t.grad.numpy(), rtol=1e-8,
                                   atol=1e-12, err_msg=name)


# The functions of recent architectures, by name, and PyTorch's function for each.
TORCH_NAMES = {"relu6": "relu6", "hard_sigmoid": "hardsigmoid", "hard_silu": "hardswish",
               "hard_swish": "hardswish", "mish": "mish"}


def test_the_new_functions_and_their_kinks_against_torch():
    torch = pytest.importorskip("torch")
    kinks = np.array(KINKS)
    # Every kink exactly, a point just beside it on each side, every piece, and the extremes.
    x = np.concatenate([kinks, kinks - 1e-9, kinks + 1e-9, np.linspace(-8, 8, 33) + 0.1,
                        [-1e4, -800.0, -100.0, -40.0, 40.0, 100.0, 800.0, 1e4]])
    dy = np.random.default_rng(0).normal(size=x.shape)
    for name, torch_name in TORCH_NAMES.items():
        t = torch.tensor(x, requires_grad=True)
        out = getattr(torch.nn.functional, torch_name)(t)
        out.backward(torch.tensor(dy))
        f = A.get(name)
        np.testing.assert_allclose(f(x), out.detach().numpy(), rtol=1e-13, atol=0,
                                   err_msg=name)
        # PyTorch's Hardsigmoid slope is 1/6 rounded to float32 (0.1666666716...) even in
        # float64; nnlab's is 1/6 in the input's dtype.
        rtol = 1e-7 if name == "hard_sigmoid" else 1e-13
        np.testing.assert_allclose(f.backward(x, f(x), dy), t.grad.numpy(), rtol=rtol,
                                   atol=0, err_msg=name)
        np.testing.assert_allclose(f.derivative(x) * dy, t.grad.numpy(), rtol=rtol,
                                   atol=0, err_msg=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_slopes_at_the_kinks_are_those_of_the_outer_pieces(dtype):
    # PyTorch's convention, which the test above compares: at x = -3, 0, 3, 6.
    x = np.array(KINKS, dtype)
    values = {"relu": [0, 0, 3, 6], "relu6": [0, 0, 3, 6], "hard_sigmoid": [0, 0.5, 1, 1],
              "hard_silu": [0, 0, 3, 6]}
    slopes = {"relu": [0, 0, 1, 1], "relu6": [0, 0, 1, 0], "hard_sigmoid": [0, 1 / 6, 0, 0],
              "hard_silu": [0, 0.5, 1, 1]}
    for name, expected in values.items():
        f = A.get(name)
        y, d = f(x), f.derivative(x)
        assert y.dtype == d.dtype == dtype, name
        np.testing.assert_array_equal(y, np.array(expected, dtype), err_msg=name)
        np.testing.assert_array_equal(d, np.array(slopes[name], dtype), err_msg=name)


def test_relu_backward_passes_no_gradient_at_zero():
    # relu'(0) = 0 (PyTorch's convention) in backward too, the slope a layer uses.
    x = np.array([-1.0, 0.0, 2.0])
    dy = np.array([5.0, 7.0, 11.0])
    np.testing.assert_array_equal(A.relu.backward(x, A.relu(x), dy), [0.0, 0.0, 11.0])


def test_golden_values_of_the_new_functions():
    np.testing.assert_allclose(A.hard_silu(np.array([-1.5, 1.0])), [-0.375, 2 / 3])
    np.testing.assert_allclose(A.hard_silu.derivative(np.array([-1.5, 1.0])), [0, 5 / 6])
    np.testing.assert_allclose(A.hard_sigmoid(np.array([-1.5, 1.5])), [0.25, 0.75])
    # mish'(0) = tanh(softplus(0)) = tanh(log 2) = (2 - 1/2) / (2 + 1/2)
    assert A.mish(0.0) == 0 and A.mish.derivative(0.0) == pytest.approx(0.6, rel=1e-15)
    np.testing.assert_allclose(A.mish(np.array([1.0])), [np.tanh(np.log1p(np.e))])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mish_keeps_its_digits_far_from_zero(dtype):
    # Far below 0, tanh(softplus(x)) is e^x to within a factor 1 + O(e^x): mish(x) = x e^x
    # and mish'(x) = (1 + x) e^x. A softplus computed as log(1 + e^x) rounds 1 + e^x to 1
    # there and gives 0; the derivative written with e^{2x} and e^{3x} gives nan above.
    low = np.array([-40.0, -80.0] if dtype == np.float32 else [-40.0, -700.0], dtype)
    e = np.exp(low.astype(np.float64))
    rtol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(A.mish(low), low * e, rtol=rtol)
    np.testing.assert_allclose(A.mish.derivative(low), (1 + low) * e, rtol=rtol)
    high = np.array([40.0, 1e4], dtype)
    with np.errstate(all="raise"):
        np.testing.assert_array_equal(A.mish(high), high)
        np.testing.assert_array_equal(A.mish.derivative(high), np.ones(2, dtype))
        np.testing.assert_array_equal(A.mish(-high[1:]), np.zeros(1, dtype))
        np.testing.assert_array_equal(A.mish.derivative(-high[1:]), np.zeros(1, dtype))
