import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import nnlab as nl
from nnlab import activations as A
from tests.helpers import KINKS, away_from_kinks, numeric_grad, rel_error

SMOOTH = [n for n in A.NAMES if n not in ("step",)]
floats = st.floats(-20, 20, allow_nan=False)


def test_names_are_the_contract():
    assert set(A.NAMES) == {"linear", "step", "sigmoid", "tanh", "relu", "leaky_relu", "elu",
                            "selu", "softplus", "softsign", "exponential", "swish", "gelu",
                            "relu6", "hard_sigmoid", "hard_silu", "mish", "softmax"}
    # Each addition comes after the functions before it (dropdowns keep their order), and
    # softmax, the one that is not element-wise, stays last.
    assert A.NAMES[-7:] == ("swish", "gelu", "relu6", "hard_sigmoid", "hard_silu", "mish",
                            "softmax")
    assert A.get("silu") is A.get("swish") and A.get("SiLU") is A.swish
    assert A.get("hard_swish") is A.get("hard_silu") is A.hard_silu
    # Keras's class names and PyTorch's spellings of the new ones
    for name, fn in {"ReLU6": A.relu6, "HardSigmoid": A.hard_sigmoid, "HardSiLU": A.hard_silu,
                     "HardSwish": A.hard_silu, "Mish": A.mish}.items():
        assert A.get(name) is fn, name


def test_the_classes_are_found_where_they_always_were():
    # The base class and the functions of recent architectures moved to modules of their
    # own; nnlab.activations still offers every name it offered.
    from nnlab import activation_base, modern_activations

    assert A.ActivationFunction is activation_base.ActivationFunction
    assert A.Swish is modern_activations.Swish and A.swish is modern_activations.swish
    assert isinstance(A.mish, A.ActivationFunction) and A.GELU().name == "gelu"


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


def test_each_function_is_an_instance_where_the_module_docstring_says():
    # The chapters' functions in nnlab.activations, Keras's others in nnlab.keras_activations
    for name in A.NAMES:
        assert getattr(A, name) is A.get(name)
    for name in A.KERAS_NAMES:
        assert getattr(nl.keras_activations, name) is A.get(name) and not hasattr(A, name)


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


def test_integer_input_becomes_float64():
    assert A.relu(np.array([1, -2])).dtype == np.float64


def test_get_unknown_name_lists_valid_ones():
    with pytest.raises(ValueError, match=r"valid names are: .*relu.*sigmoid"):
        A.get("swishy")
    assert A.get("ReLU") is A.relu
    assert A.get(A.tanh) is A.tanh
    with pytest.raises(ValueError, match=r"^activation ReLU is a class: pass an instance, "
                                         r"ReLU\(\), or a name"):
        A.get(A.ReLU)


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


def test_a_parameter_of_a_function_that_takes_none_is_refused_in_plain_words():
    # It read "Activation 'relu' takes the parameters none; got ['alpha']".
    with pytest.raises(ValueError, match=r"^Activation 'relu' takes no parameters; got alpha$"):
        nl.Activation("relu", alpha=1)
    with pytest.raises(ValueError, match=r"^Activation 'softmax' takes no parameters; got "
                                         r"alpha, beta$"):
        nl.Activation("softmax", beta=1, alpha=2)
    with pytest.raises(ValueError, match=r"^Activation 'leaky_relu' takes the parameters "
                                         r"\['alpha'\]; got \['slope'\]$"):
        nl.Activation("leaky_relu", slope=0.1)


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


def test_activation_layer_uses_the_function():
    layer = nl.Activation("tanh")
    x = np.array([[0.5, -1.0]])
    np.testing.assert_allclose(layer.forward(x), np.tanh(x))
    np.testing.assert_allclose(layer.backward(np.ones_like(x)), 1 - np.tanh(x) ** 2)


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


@pytest.mark.parametrize("name", [*A.NAMES, "hard_swish"])
def test_a_model_with_any_activation_is_saved_and_loaded(name, tmp_path):
    model = nl.Sequential([nl.Dense(3, 4, rng=0), nl.Activation(name), nl.Dense(4, 2, rng=1)])
    loaded = nl.load_model(model.save(tmp_path / "m"))
    assert type(loaded.layers[1].fn) is type(A.get(name))
    x = np.random.default_rng(0).normal(size=(5, 3)) * 4
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


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


@pytest.mark.parametrize("make", [A.LeakyReLU, A.ELU])
def test_the_slope_parameter_is_a_finite_number(make):
    for bad in (float("nan"), float("inf"), "0.1", None):
        with pytest.raises(ValueError, match="alpha"):
            make(bad)


@pytest.mark.parametrize("name", nl.activations.NAMES)
def test_an_activation_rejects_what_is_not_real_numbers(name):
    # sigmoid(None) was nan and sigmoid(["1"]) 0.73; complex input lost its imaginary part.
    fn = nl.activations.get(name)
    for bad in (None, ["1"], np.array([1 + 1j])):
        with pytest.raises(ValueError, match="real numbers; got an array of dtype"):
            fn(bad)
    assert fn([0, 1]).dtype == np.float64   # integers become float64, as documented


@pytest.mark.parametrize("name", [*A.NAMES, *A.KERAS_NAMES])
def test_an_activation_refuses_other_float_dtypes(name):
    # float16 and longdouble became float64 in silence; layers refuse them too.
    f = A.get(name)
    for dtype in {np.dtype(np.float16), np.dtype(np.longdouble)} - {np.dtype(np.float64)}:
        for call in (f, f.derivative):
            with pytest.raises(ValueError, match=f"must be float32 or float64 .*got an array "
                                                 f"of dtype {dtype}"):
                call(np.ones(3, dtype))


# -- Keras's other functions (nnlab.keras_activations), found by get --------------------------

KERAS_TORCH = {"hard_tanh": "hardtanh", "log_sigmoid": "logsigmoid", "celu": "celu",
               "tanh_shrink": "tanhshrink", "soft_shrink": "softshrink",
               "hard_shrink": "hardshrink", "log_softmax": "log_softmax"}
KERAS_KINKS = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])


def test_keras_names_are_found_but_kept_out_of_the_chapters_names():
    assert set(A.KERAS_NAMES) == {*KERAS_TORCH, "squareplus", "sparse_plus", "sparse_sigmoid",
                                  "sparsemax"}
    assert not set(A.KERAS_NAMES) & set(A.NAMES)
    for name in A.KERAS_NAMES:
        assert A.get(name).name == name
    assert A.get("LogSoftmax").name == "log_softmax" and A.get("HardTanh").name == "hard_tanh"


def test_keras_functions_and_their_kinks_against_torch():
    torch = pytest.importorskip("torch")
    x = np.concatenate([KERAS_KINKS, KERAS_KINKS - 1e-9, KERAS_KINKS + 1e-9,
                        np.linspace(-8, 8, 33) + 0.1, [-1e4, -800.0, -40.0, 40.0, 800.0, 1e4]])
    dy = np.random.default_rng(0).normal(size=x.shape)
    for name, torch_name in KERAS_TORCH.items():
        t = torch.tensor(x, requires_grad=True)
        fn = getattr(torch.nn.functional, torch_name)
        out = fn(t, dim=-1) if name == "log_softmax" else fn(t)
        out.backward(torch.tensor(dy))
        f = A.get(name)
        np.testing.assert_allclose(f(x), out.detach().numpy(), rtol=1e-12, atol=1e-300,
                                   err_msg=name)
        # (tanh_shrink's slope tanh^2 at 1e-9 is 1e-18; PyTorch's 1 - (1 - tanh^2) gives 0)
        np.testing.assert_allclose(f.backward(x, f(x), dy), t.grad.numpy(), rtol=1e-10,
                                   atol=1e-15, err_msg=name)


def test_celu_with_another_alpha_against_torch_and_by_name():
    torch = pytest.importorskip("torch")
    x = np.linspace(-6, 3, 37) + 0.05
    t = torch.tensor(x, requires_grad=True)
    out = torch.nn.functional.celu(t, alpha=2.5)
    out.sum().backward()
    layer = nl.Activation("celu", alpha=2.5)
    np.testing.assert_allclose(layer.forward(x[None])[0], out.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.fn.derivative(x), t.grad.numpy(), rtol=1e-12)


def test_elu_with_another_alpha_by_its_formula_and_by_name():
    # The definition written out: a numerical gradient would also pass an alpha ignored in
    # both the value and the slope.
    x = np.linspace(-6, 3, 37) + 0.05
    value = np.where(x > 0, x, 0.5 * np.expm1(x))
    slope = np.where(x > 0, 1.0, 0.5 * np.exp(x))
    layer = nl.Activation("elu", alpha=0.5)
    np.testing.assert_allclose(layer.forward(x[None])[0], value, rtol=1e-15)
    np.testing.assert_allclose(layer.backward(np.ones((1, x.size)))[0], slope, rtol=1e-15)
    np.testing.assert_allclose(A.ELU(0.5).derivative(x), slope, rtol=1e-15)


def test_squareplus_and_sparse_plus_by_their_formulas():
    x = np.array([-1e4, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 1e4])
    sq = A.get("squareplus")
    # far below 0 the textbook form cancels; b / (2 (s - x)) is the same number, exactly
    np.testing.assert_allclose(sq(x), np.where(x < 0, 4 / (2 * (np.sqrt(x * x + 4) - x)),
                                                (x + np.sqrt(x * x + 4)) / 2), rtol=1e-15)
    s = np.sqrt(x * x + 4)   # the slope (1 + x / s) / 2, and (s + x) / (2 s) rewritten:
    np.testing.assert_allclose(sq.derivative(x), np.where(x < 0, 4 / (2 * s * (s - x)),
                                                           (1 + x / s) / 2), rtol=1e-12)
    assert sq(np.float32(-1e4)) == pytest.approx(1e-4, rel=1e-6)   # not 0: no cancellation
    sp = A.get("sparse_plus")
    np.testing.assert_array_equal(sp(x), np.where(x <= -1, 0, np.where(x >= 1, x,
                                                                        (x + 1) ** 2 / 4)))
    np.testing.assert_array_equal(sp.derivative(x), np.clip((x + 1) / 2, 0, 1))


@pytest.mark.parametrize("name", A.KERAS_NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_keras_functions_are_quiet_at_extremes_and_keep_the_dtype(name, dtype):
    f = A.get(name)
    x = np.concatenate([[-1e4], np.linspace(-800, 800, 1601), [1e4]]).astype(dtype)[None]
    with np.errstate(all="raise"):
        y, d = f(x), f.derivative(x)
        b = f.backward(x, y, np.ones_like(x))
    assert y.dtype == d.dtype == b.dtype == dtype
    assert np.isfinite(y).all() and np.isfinite(d).all() and np.isfinite(b).all()


@pytest.mark.parametrize("name", A.KERAS_NAMES)
def test_keras_functions_backward_matches_numerical_gradient(name):
    f = A.get(name)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 5)) * 2
    x = np.where(np.min(np.abs(x[..., None] - KERAS_KINKS), axis=-1) < 1e-3, x + 0.1, x)
    dy = rng.normal(size=x.shape)
    numeric = numeric_grad(lambda: float(np.sum(f(x) * dy)), x)
    assert rel_error(f.backward(x, f(x), dy), numeric) < 1e-6


@pytest.mark.parametrize("name", A.KERAS_NAMES)
def test_a_model_with_a_keras_activation_is_saved_and_loaded(name, tmp_path):
    model = nl.Sequential([nl.Dense(3, 4, rng=0), nl.Activation(name), nl.Dense(4, 2, rng=1)])
    loaded = nl.load_model(model.save(tmp_path / "m"))
    x = np.random.default_rng(0).normal(size=(5, 3)) * 4
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


@pytest.mark.parametrize("make, match", [
    (lambda: nl.Activation("celu", alpha=0.0), "celu alpha"),
    (lambda: nl.Activation("soft_shrink", threshold=-0.5), "soft_shrink threshold"),
    (lambda: nl.Activation("hard_shrink", threshold=float("nan")), "hard_shrink threshold"),
    (lambda: nl.Activation("squareplus", b=0.0), "squareplus b"),
    (lambda: nl.Activation("hard_tanh", alpha=1.0), "takes no parameters; got alpha"),
])
def test_keras_functions_check_their_parameters(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("name", A.KERAS_NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_keras_functions_are_quiet_to_the_ends_of_the_dtype(name, dtype):
    # Beyond +-1e4: the largest numbers, 1e19 and 1e30, and tiny ones (tanh_shrink's
    # slope tanh(x)^2 underflows there, squareplus' value far below 0, celu's x / alpha).
    big = np.finfo(dtype).max
    x = np.array([[-big, -1e30, -1e19, -1e-30, 0.0, 1e-30, 1e19, 1e30, big]], dtype)
    f = A.get(name) if name != "celu" else A.get(name).__class__(alpha=0.3)
    if name in ("log_softmax", "sparsemax"):   # one value a row: a row from -max to max
        x = x.T                                  # spans more than max
    with np.errstate(all="raise"):
        y, d = f(x), f.derivative(x)
    assert np.isfinite(y).all() and np.isfinite(d).all() and y.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_plus_is_exactly_x_above_one(dtype):
    x = (2.0 ** np.finfo(dtype).nmant + np.arange(2, 200, 2)).astype(dtype)
    np.testing.assert_array_equal(A.get("sparse_plus")(x), x)


def test_sparsemax_projects_onto_the_simplex_as_the_paper_defines():
    f = A.get("sparsemax")
    # keras-team/keras#23425 and #23469: Keras 3.15 gives [0, 0, 0.25] and zeros here
    np.testing.assert_allclose(f(np.array([0.0, 0.5, 1.0])), [0, 0.25, 0.75])
    np.testing.assert_allclose(f(np.array([0.1, 0.2, 0.3, 0.4, 0.5])), [0, 0.1, 0.2, 0.3, 0.4],
                               atol=1e-15)
    np.testing.assert_array_equal(f(np.array([[3.0, 1.0, -2.0], [2.0, 2.0, 2.0]])),
                                  [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]])
    x = np.random.default_rng(0).normal(size=(200, 6)) * np.array([[0.1], [1.0], [10.0]]
                                                                  ).repeat(67, 0)[:200]
    y = f(x)
    np.testing.assert_allclose(y.sum(axis=1), 1, rtol=1e-12)
    assert (y >= 0).all()
    # the closest point of the simplex: no other distribution is nearer (random ones)
    others = np.random.default_rng(1).dirichlet(np.ones(6), size=(200, 50))
    assert (np.sum((x - y) ** 2, axis=1) <= np.min(np.sum((x[:, None] - others) ** 2,
                                                          axis=2), axis=1) + 1e-12).all()
    # two classes: the first probability is the sparse sigmoid of the difference
    z = np.random.default_rng(2).normal(size=(50, 2)) * 2
    np.testing.assert_allclose(f(z)[:, 0], A.get("sparse_sigmoid")(z[:, 0] - z[:, 1]),
                               atol=1e-15)
    assert f(np.ones((2, 3), np.float32)).dtype == np.float32


@pytest.mark.parametrize("x", [np.float64(1.0), np.array(2.0), np.float32(-1e4), 3])
def test_sparsemax_takes_a_single_number_as_one_class_as_softmax_does(x):
    # It raised NumPy's AxisError: sort and take_along_axis need the axis of the classes.
    f, y = A.get("sparsemax"), A.get("sparsemax")(x)
    assert np.shape(y) == () and y == A.softmax(x) == 1
    assert y.dtype == A.softmax(x).dtype
    assert f.derivative(x) == 0 and f.backward(np.asarray(x), y, np.ones_like(y)) == 0
