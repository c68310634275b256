"""Tests that the activation functions' gradients match numerical ones, and that their
values and slopes stay finite, quiet and exact at extreme, tiny and empty inputs."""

import warnings

import numpy as np
import pytest

import nnlab as nl
from nnlab import activations as A
from tests.helpers import away_from_kinks, numeric_grad, rel_error
from tests.optimizer_cases import Float32Only

# -- Gradients against numerical ones ---------------------------------------------------------

SMOOTH = [n for n in A.NAMES if n not in ("step",)]


@pytest.mark.parametrize("name", [*SMOOTH, "leaky_relu 0.3", "leaky_relu 2.5", "elu 0.5",
                                  "softmax 3-D"])
def test_backward_matches_numerical_gradient(name):
    # A name with a setting: leaky ReLU and ELU with other slopes, softmax over the last axis
    # of a 3-D array.
    kind, _, setting = name.partition(" ")
    f = {"leaky_relu": lambda: A.LeakyReLU(float(setting or 0.01)),
         "elu": lambda: A.ELU(float(setting or 1.0))}.get(kind, lambda: A.get(kind))()
    rng = np.random.default_rng(0)
    x = away_from_kinks(rng.normal(size=(3, 4, 5) if setting == "3-D" else (4, 5)) * 2)
    dy = rng.normal(size=x.shape)
    analytic = f.backward(x, f(x), dy)
    numeric = numeric_grad(lambda: float(np.sum(f(x) * dy)), x)
    assert rel_error(analytic, numeric) < 1e-6


@pytest.mark.parametrize("name", [n for n in SMOOTH if n != "softmax"])
def test_derivative_is_elementwise_slope(name):
    f = A.get(name)
    x = np.linspace(-7, 7, 29) + 0.05   # every kink (-3, 0, 3, 6) between two points
    numeric = (f(x + 1e-6) - f(x - 1e-6)) / 2e-6
    assert rel_error(f.derivative(x), numeric) < 1e-6


# -- Extreme, tiny and empty inputs -----------------------------------------------------------

@pytest.mark.parametrize("name", A.NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_no_warning_and_finite_at_extremes(name, dtype):
    f = A.get(name)
    # +-1e4 and every tenth in between +-800: where tiny numbers are multiplied (mish, swish
    # and gelu far below 0) the product underflows somewhere, as e^-1e4 does. Underflow
    # too raises here: the result, 0 or nearly, is right, and computing it is no error.
    x = np.concatenate([[-1e4], np.linspace(-800, 800, 16001), [1e4]]).astype(dtype)[None]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            y, d = f(x), f.derivative(x)
            b = f.backward(x, y, np.ones_like(x))
            f.backward(x[:, [0, -1]], y[:, [0, -1]], np.array([[0.3, -0.7]], dtype))
    for arr in (y, d, b):
        assert arr.dtype == dtype
        assert np.all(np.isfinite(arr))


def far_inputs(dtype):
    """Finite inputs far beyond +-1e4, both signs, as a column (one value a row): 1e19 and
    1e20, between which the square of float32 overflows (1e154 and 1e155 for float64's),
    1e30, 1e300 and the largest number of the dtype."""
    values = [1e19, 1e20, 1e30, np.finfo(dtype).max]
    if dtype == np.float64:
        values += [1e154, 1e155, 1e300]
    return np.array(sorted([-v for v in values] + [0.0] + values), dtype)[:, None]


@pytest.mark.parametrize("name", [*A.NAMES, *A.KERAS_NAMES])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_no_warning_and_finite_far_beyond_1e4(name, dtype):
    # softsign's derivative squared 1 + |x| and gelu's squared x: both overflowed (and
    # warned) beyond 1.8e19 in float32, though the slopes returned were right. A gradient
    # below 1 times softsign's subnormal slope underflowed in backward.
    f, x = A.get(name), far_inputs(dtype)
    if name == "selu":   # selu(max) = 1.05 max is beyond the dtype: that overflow is real
        x = x[x[:, 0] < np.finfo(dtype).max]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            y, d = f(x), f.derivative(x)
            b = f.backward(x, y, np.where(x > 0, 0.3, -0.7).astype(dtype))
    for arr in (y, d, b):
        assert arr.dtype == dtype and np.all(np.isfinite(arr))


#: Functions with another parameter, where alpha x, x / alpha or sqrt(b) meet tiny inputs.
VARIANTS = {"leaky_relu 0.3": lambda: A.LeakyReLU(0.3), "leaky_relu 2.5": lambda: A.LeakyReLU(2.5),
            "elu 0.5": lambda: A.ELU(0.5), "celu 0.3": lambda: nl.keras_activations.CELU(0.3),
            "celu 3": lambda: nl.keras_activations.CELU(3.0),
            "squareplus 0.1": lambda: nl.keras_activations.Squareplus(0.1)}


@pytest.mark.parametrize("name", [*A.NAMES, *A.KERAS_NAMES, *VARIANTS])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_results_too_small_for_the_dtype_are_quiet(name, dtype):
    # activation_base's rule: a result too small for the dtype is 0 or subnormal, rightly, and
    # only overflow and invalid values raise. Subnormal and tiny inputs raised in tanh's slope
    # (t t), leaky ReLU's and selu's values, hard SiLU's, squareplus' (|x| / 2) and celu's;
    # inputs whose e^x is subnormal (-100 in float32, -740 in float64) in softmax, and in the
    # backward of sigmoid, tanh, exponential, softmax and log_softmax.
    f = VARIANTS[name]() if name in VARIANTS else A.get(name)
    info = np.finfo(dtype)
    tiny = [info.smallest_subnormal, info.tiny, 1e-30, 1e-20]
    x = np.array([[*tiny, 0.0, 1.0, *(-t for t in tiny), -1.0, -30.0, -90.0, -100.0,
                   -740.0]], dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            y, d = f(x), f.derivative(x)
            grads = [f.backward(x, y, np.where(x > 0, g, -g).astype(dtype)) for g in (0.3, 1e-30)]
    for arr in (y, d, *grads):
        assert arr.dtype == dtype and np.all(np.isfinite(arr))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softsign_and_gelu_slopes_far_out_are_exact(dtype):
    from fractions import Fraction

    x = far_inputs(dtype)[:, 0]
    # 1 / (1 + |x|)^2 in exact arithmetic, then rounded: subnormal, or 0, far out
    exact = [float(1 / (1 + abs(Fraction(float(v)))) ** 2) for v in x]
    tiny = np.finfo(dtype).smallest_subnormal
    np.testing.assert_allclose(A.softsign.derivative(x), np.array(exact, dtype), rtol=2e-5,
                               atol=tiny)
    np.testing.assert_array_equal(A.gelu.derivative(x), np.select([x > 0, x == 0], [1, 0.5]))


@pytest.mark.parametrize("name", ["softmax", "sparsemax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_row_spanning_more_than_the_dtype_is_quiet(name, dtype):
    # Shifted by the row's maximum, -max became -inf with an overflow warning; its
    # probability, 0, is right (PyTorch's softmax gives it too). (log_softmax's -2 max is
    # beyond the dtype: it overflows, rightly.)
    f, x = A.get(name), far_inputs(dtype).T
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            y, d = f(x), f.derivative(x)
            b = f.backward(x, y, np.ones_like(x))
    np.testing.assert_array_equal(y, (x == x.max()).astype(dtype))
    assert np.all(np.isfinite(d)) and np.all(np.isfinite(b)) and y.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exponential_backward_beyond_its_capped_output_is_inf_in_silence(dtype):
    # The forward caps e^1e4 just below the dtype's largest number; dy = 2 times that
    # warned "overflow encountered in multiply". PyTorch's exp gives inf there too.
    layer = nl.Activation("exponential")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            layer.forward(np.array([[1e4, 1.0, -1e4]], dtype))
            dx = layer.backward(np.array([[2.0, 2.0, 2.0]], dtype))
    assert dx.dtype == dtype and dx[0, 0] == np.inf and dx[0, 2] == 0
    np.testing.assert_allclose(dx[0, 1], 2 * np.e, rtol=1e-6)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "sparsemax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_function_of_whole_rows_takes_rows_of_no_classes(name, dtype):
    # np.max of an empty row raised "zero-size array to reduction operation maximum";
    # PyTorch's softmax and log_softmax of shape (2, 0) are of shape (2, 0).
    f = A.get(name)
    x = np.zeros((2, 0), dtype)
    layer = nl.Activation(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            results = [f(x), f.derivative(x), f.backward(x, x, x),
                       layer.forward(x), layer.backward(x)]
    for y in results:
        assert y.shape == (2, 0) and y.dtype == dtype
    assert f(np.zeros((0, 3), dtype)).shape == (0, 3)


# -- Branch-free forms ------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_branch_free_forms_equal_the_textbook_branches(dtype):
    """Sigmoid, leaky ReLU, ELU and SELU are computed without np.where (slow over mixed
    signs); they give exactly the values of the two-branch definitions."""
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(size=2000) * 30,
                        [0.0, -0.0, 1e-30, -1e-30, 80.0, -80.0, 1e4, -1e4]]).astype(dtype)
    pos = x > 0
    with np.errstate(over="ignore"):
        e = np.exp(-np.abs(x))
        expected = {
            "sigmoid": np.where(x >= 0, 1 / (1 + e), e / (1 + e)),
            "leaky_relu": np.where(pos, x, 0.01 * x),
            "elu": np.where(pos, x, np.expm1(np.minimum(x, 0))),
            "selu": A.SELU.scale * np.where(pos, x, A.SELU.alpha * np.expm1(np.minimum(x, 0))),
        }
        slopes = {
            "leaky_relu": np.where(pos, 1, 0.01),
            "elu": np.where(pos, 1, np.exp(np.minimum(x, 0))),
            "selu": A.SELU.scale * np.where(pos, 1, A.SELU.alpha * np.exp(np.minimum(x, 0))),
        }
        for name, values in expected.items():
            np.testing.assert_array_equal(A.get(name)(x), values.astype(dtype), err_msg=name)
        for name, values in slopes.items():
            np.testing.assert_array_equal(A.get(name).derivative(x), values.astype(dtype),
                                          err_msg=name)
        big = A.LeakyReLU(1.5)   # a slope above 1: the smaller of x and 1.5 x
        np.testing.assert_array_equal(big(x), np.where(pos, x, 1.5 * x).astype(dtype))
        zero = A.LeakyReLU(0.0)(x)   # bit for bit: 0 x is -0.0 for x < 0
        assert zero.tobytes() == np.where(pos, x, 0.0 * x).astype(dtype).tobytes()


def test_leaky_relu_with_slope_zero_is_relu_at_infinity():
    # max(x, 0 x) at +inf was max(inf, nan): nan. At -inf, 0 x is nan (NumPy says
    # "invalid value"), as in PyTorch.
    f = A.LeakyReLU(0.0)
    x = np.array([-np.inf, -2.0, 0.0, 3.0, np.inf])
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(f(x), [np.nan, 0, 0, 3, np.inf])
    np.testing.assert_array_equal(f.derivative(x), [0, 0, 0, 1, 1])


@pytest.mark.parametrize("name", sorted(set(A.NAMES) | set(A.KERAS_NAMES)))
def test_a_float32_activation_computes_in_float32(name, monkeypatch):
    # GELU's derivative divided by np.sqrt(2 pi), a NumPy float64: three float64 copies of
    # x a backward pass, cast back at the end, where the outputs' dtype could not show it.
    for module in (nl.activation_base, nl.activations, nl.modern_activations,
                   nl.keras_activations, nl.gated_activations):
        if hasattr(module, "_as_float"):   # (np.asarray would drop the watching subclass)
            monkeypatch.setattr(module, "_as_float", lambda x, f=module._as_float: (
                x if isinstance(x, Float32Only) else f(x)))
    fn = A.get(name)
    x = np.linspace(-5, 5, 24, dtype=np.float32).reshape(4, 6).view(Float32Only)
    y = fn(x)
    dx = fn.backward(x, y, np.ones_like(x))
    assert y.dtype == dx.dtype == np.float32
