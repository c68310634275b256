"""nnlab.gradcheck: the numerical reference itself, and whole models with every loss."""

import warnings

import numpy as np
import pytest

import nnlab as nl
from nnlab.gradcheck import check, errors, numerical_gradient, relative_error
from nnlab.layers import Dense, Layer


def test_numerical_gradient_of_known_functions():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    np.testing.assert_allclose(numerical_gradient(lambda v: float(np.sum(v ** 2)), x), 2 * x,
                               atol=1e-8)
    np.testing.assert_allclose(numerical_gradient(lambda v: float(np.sum(np.sin(v))), x),
                               np.cos(x), atol=1e-8)


def test_numerical_gradient_restores_x_bit_for_bit():
    x = np.random.default_rng(0).normal(size=(3, 4))
    before = x.copy()
    numerical_gradient(lambda v: float(np.sum(np.exp(v))), x)
    assert np.array_equal(x, before)


def test_numerical_gradient_is_accurate_in_float32():
    # A fixed step of 1e-6 is about eight float32 spacings near 1: the gradient of
    # sum x^2 at 1 came out as 1.907.
    for x0 in (1.0, -3.0, 100.0, 0.0):
        x = np.array([x0], dtype=np.float32)
        assert numerical_gradient(lambda v: np.sum(v ** 2), x)[0] == pytest.approx(
            2 * x0, rel=1e-4, abs=1e-4)
    x = np.array([0.5, -1.5, 2.0, 3.0], dtype=np.float32)
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(np.sin(v)), x),
                               np.cos(x.astype(np.float64)), rtol=1e-4)
    assert x.dtype == np.float32 and np.array_equal(x, np.float32([0.5, -1.5, 2.0, 3.0]))


def test_numerical_gradient_default_step_in_float64_is_1e_6():
    x = np.random.default_rng(0).normal(size=5)

    def f(v):
        return float(np.sum(np.exp(v)))

    assert np.array_equal(numerical_gradient(f, x), numerical_gradient(f, x, 1e-6))


def test_numerical_gradient_steps_relative_to_large_values():
    # A fixed step of 1e-6 is below the spacing of float64 numbers from 1e10 on: the slope
    # of f(x) = x came out as 0.954 at 1e9, 1.91 at 1e10 and 0 at 1e11.
    for x0 in (1e6, 1e9, 1e10, -1e11, 1e100):
        x = np.array([x0])
        assert numerical_gradient(lambda v: float(v[0]), x)[0] == pytest.approx(1, rel=1e-9)
        assert numerical_gradient(lambda v, x0=x0: float(v[0] ** 2 / x0), x)[0] == pytest.approx(2)
    seen = []

    def record(v):
        seen.append(float(v[0]))
        return 0.0

    numerical_gradient(record, np.array([0.5]))
    numerical_gradient(record, np.array([1e10]))
    assert seen == [0.5 + 1e-6, 0.5 - 1e-6, 1e10 + 1e4, 1e10 - 1e4]   # |x| <= 1: as before


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_numerical_gradient_divides_by_the_step_as_stored(dtype):
    # x + h and x - h are rounded to x's dtype; dividing by 2 h gave the slope of
    # f(x) = x as 1 - 2.7e-11 at 0.3 in float64, and 1 + 5.8e-6 at 3 in float32.
    for x0 in (0.3, 3.0, -100.0, 3e7):
        x = np.array([x0], dtype=dtype)
        assert numerical_gradient(lambda v: float(v[0]), x)[0] == 1.0


def test_numerical_gradient_refuses_a_difference_that_is_not_finite():
    # It returned NaN in silence, where check refuses a gradient that is not finite.
    x = np.array([[1.0, 2.0]])
    with pytest.raises(ValueError, match=r"central difference at W\[0, 1\] = 2.0 is nan, from "
                                         r"f = nan a step of 2e-06 above and f = 1.0 below"):
        numerical_gradient(lambda v: np.nan if v[0, 1] > 2 else 1.0, x, name="W")
    assert np.array_equal(x, [[1.0, 2.0]])
    with pytest.raises(ValueError, match=r"central difference at x\[0\] = 1.0 is inf"):
        numerical_gradient(lambda v: 1e308 if v[0] > 1 else -1e308, np.array([1.0]))
    with pytest.raises(ValueError, match=r"x holds 1 NaN or inf of 2 values"):
        numerical_gradient(lambda v: 0.0, np.array([1.0, np.inf]))
    with pytest.raises(ValueError, match=r"eps=1e-20 is too small for x\[0\] = 1.0"):
        numerical_gradient(lambda v: float(v[0]), np.array([1.0]), eps=1e-20)


@pytest.mark.parametrize("x", [[1.0, 2.0], np.array([1, 2]), np.broadcast_to(1.0, (2, 2))])
def test_numerical_gradient_needs_a_writeable_float_array(x):
    with pytest.raises(ValueError, match="writeable floating ndarray"):
        numerical_gradient(lambda v: 0.0, x)


def test_numerical_gradient_needs_a_scalar_function_and_restores_x_when_it_fails():
    x = np.array([1.0, 2.0])
    with pytest.raises(ValueError, match="f\\(x\\) must return a real number; got ndarray "
                                         "of shape \\(2,\\)"):
        numerical_gradient(lambda v: v ** 2, x)
    assert np.array_equal(x, [1.0, 2.0])

    def fails(v):
        raise KeyError("bug in f")

    with pytest.raises(KeyError):
        numerical_gradient(fails, x)
    assert np.array_equal(x, [1.0, 2.0])


def test_relative_error_definition():
    assert relative_error(np.ones(3), np.ones(3)) == 0.0
    assert relative_error(np.array([1.0]), np.array([-1.0])) == 1.0
    assert relative_error(np.zeros(2), np.zeros(2)) == 0.0
    # ||a - b|| = 1, ||a|| = 3, ||b|| = sqrt(10)
    a, b = np.array([3.0, 0.0]), np.array([3.0, 1.0])
    assert relative_error(a, b) == pytest.approx(1 / (3 + np.sqrt(10)))
    with pytest.raises(ValueError, match="shape"):
        relative_error(np.ones(2), np.ones(3))
    # Two arrays of rounding noise are near-equal against a floor, unrelated without one.
    assert relative_error(np.array([1e-17]), np.array([1e-10])) > 0.99
    assert relative_error(np.array([1e-17]), np.array([1e-10]), floor=1e-3) < 1e-6


def test_relative_error_refuses_nan_and_inf():
    # NaN came back in silence, and inf against inf warned and gave NaN.
    with pytest.raises(ValueError, match=r"relative_error: a holds 1 NaN or inf of 1 values"):
        relative_error([np.nan], [1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"relative_error: b holds 2 NaN or inf of 2"):
            relative_error([1.0, 2.0], [np.inf, -np.inf])


@pytest.mark.parametrize("a,floor,match", [
    (np.zeros(2), 0.0, "floor"),
    (np.zeros(2), "tiny", "floor"),
    (["a", "b"], 1e-12, "a must be a numeric array"),
    (np.array([1j, 0]), 1e-12, "a must be a numeric array"),
])
def test_relative_error_bad_arguments(a, floor, match):
    with pytest.raises(ValueError, match=match):
        relative_error(a, np.zeros(2), floor=floor)


LOSS_CASES = {
    "mse": (nl.losses.MSE(), "linear", lambda rng, n, k: rng.normal(size=(n, k))),
    "huber": (nl.losses.Huber(delta=0.5), "linear", lambda rng, n, k: rng.normal(size=(n, k))),
    "bce": (nl.losses.BinaryCrossEntropy(), "sigmoid",
            lambda rng, n, k: rng.integers(0, 2, size=(n, k))),
    "bce_logits": (nl.losses.BinaryCrossEntropy(from_logits=True), "linear",
                   lambda rng, n, k: rng.integers(0, 2, size=(n, k))),
    "cce": (nl.losses.CategoricalCrossEntropy(), "softmax",
            lambda rng, n, k: rng.integers(0, k, size=n)),
    "cce_logits": (nl.losses.CategoricalCrossEntropy(from_logits=True), "linear",
                   lambda rng, n, k: np.eye(k)[rng.integers(0, k, size=n)]),
    "kld": (nl.losses.KLDivergence(), "softmax",
            lambda rng, n, k: rng.dirichlet(np.ones(k), size=n)),
    "hinge": (nl.losses.Hinge(), "linear", lambda rng, n, k: rng.choice([-1, 1], size=(n, k))),
    "multiclass_hinge": (nl.losses.MulticlassHinge(), "linear",
                         lambda rng, n, k: rng.integers(0, k, size=n)),
}


@pytest.mark.parametrize("case", list(LOSS_CASES))
def test_whole_mlp_gradcheck_with_each_loss(case):
    loss, output, targets = LOSS_CASES[case]
    rng = np.random.default_rng(3)
    k = 1 if case in ("bce", "bce_logits", "hinge", "mse") else 3
    model = nl.Sequential([Dense(4, 5, rng=0), nl.Activation("tanh"), Dense(5, k, rng=1),
                           nl.Activation(output)])
    model.compile(loss=loss)
    x, y = rng.normal(size=(6, 4)), targets(rng, 6, k)
    assert check(model, x, y) < 1e-6
    assert check(loss, model.predict(x), y) < 1e-6


def test_model_check_without_targets_uses_a_projection():
    model = nl.Sequential([Dense(3, 4, rng=0), nl.Activation("sigmoid"), Dense(4, 2, rng=1)])
    x = np.random.default_rng(0).normal(size=(5, 3))
    assert check(model, x) < 1e-6
    assert check(model, x, seed=1) < 1e-6


class _BrokenDense(Dense):
    """Dense with a backward bug (dW doubled) that the check must catch."""

    def backward(self, dy):
        dx = super().backward(dy)
        self.grads["W"] = 2 * self.grads["W"]
        return dx


Layer.registry.pop("_BrokenDense")  # a test double, not a layer a model file may name


def test_check_detects_a_wrong_backward():
    assert check(_BrokenDense(3, 2, rng=0), np.random.default_rng(0).normal(size=(4, 3))) > 0.1


def test_check_catches_a_wrong_backward_whose_gradients_are_small():
    # Inputs of 1e-7 make dW about 1e-7 and leave db about 1: the doubled dW must still
    # stand out against the relative error's floor (a thousandth of the whole gradient's
    # norm). A floor of a tenth of it, or of at least 1, reported 1e-7 or 1e-8: a pass.
    x = 1e-7 * np.random.default_rng(0).normal(size=(4, 3))
    errors = nl.gradcheck.errors(_BrokenDense(3, 2, rng=0), x)
    assert errors["W"] > 1e-5 and errors["b"] < 1e-9
    assert check(Dense(3, 2, rng=0), x) < 1e-9


def test_check_leaves_the_object_untouched_and_works_on_float32():
    layer = Dense(3, 2, rng=0, dtype="float32")
    before = {k: v.copy() for k, v in layer.params.items()}
    assert check(layer, np.random.default_rng(0).normal(size=(4, 3))) < 1e-6
    for k, v in layer.params.items():
        assert v.dtype == np.float32 and np.array_equal(v, before[k])
    assert layer.grads == {}


def test_check_dropout_and_batchnorm_in_training_mode():
    x = np.random.default_rng(0).normal(size=(6, 4))
    dropout = nl.Dropout(0.5, rng=0)
    state = dropout.rng.bit_generator.state
    assert check(dropout, x, training=True) < 1e-6
    assert dropout.rng.bit_generator.state == state  # the layer's own generator did not move
    bn = nl.BatchNorm(4)
    assert check(bn, x, training=True) < 1e-6
    assert check(bn, x) < 1e-6
    np.testing.assert_array_equal(bn.buffers["running_mean"], np.zeros(4))


def test_check_a_gradient_that_is_zero_in_truth():
    # Batch norm subtracts the first layer's bias again: its true gradient is 0, the
    # computed one rounding error (1e-17) and the numerical one noise (1e-10).
    x, y = np.random.default_rng(0).normal(size=(6, 4)), np.arange(6) % 3
    model = nl.Sequential([Dense(4, 5, rng=0), nl.BatchNorm(5), nl.Activation("tanh"),
                           Dense(5, 3, rng=1)])
    model.compile(nl.losses.CategoricalCrossEntropy(from_logits=True))
    assert check(model, x, training=True) < 1e-6
    assert check(model, x, y, training=True) < 1e-6


class _BiasLostDense(Dense):
    """Dense whose backward forgets the bias gradient (a zero where it is not zero)."""

    def backward(self, dy):
        dx = super().backward(dy)
        self.grads["b"] = np.zeros_like(self.grads["b"])
        return dx


Layer.registry.pop("_BiasLostDense")


def test_check_still_catches_a_wrong_small_array():
    x, y = np.random.default_rng(0).normal(size=(6, 4)), np.arange(6) % 3
    model = nl.Sequential([_BiasLostDense(4, 5, rng=0), nl.Activation("tanh"),
                           Dense(5, 3, rng=1)])
    model.compile(nl.losses.CategoricalCrossEntropy(from_logits=True))
    assert check(model, x, y) > 0.1


def test_check_reaches_layers_inside_a_residual_block():
    model = nl.Sequential([Dense(3, 4, rng=0),
                           nl.Residual(Dense(4, 4, rng=1), nl.Activation("tanh")),
                           Dense(4, 1, rng=2)])
    model.compile("mse")
    x = np.random.default_rng(0).normal(size=(5, 3))
    assert check(model, x, np.arange(5.0)) < 1e-6


class _NaNBiasDense(Dense):
    """A Dense whose bias gradient is NaN: a broken backward."""

    def backward_params(self, dy):
        dx = super().backward_params(dy)
        self.grads["b"] = np.full_like(self.grads["b"], np.nan)
        return dx


def test_check_names_a_gradient_that_is_not_finite():
    # It failed with "floor must be finite; got nan", naming no gradient.
    x = np.random.default_rng(0).normal(size=(4, 3))
    with pytest.raises(ValueError, match=r"analytic gradient with respect to b holds 2 NaN"):
        check(_NaNBiasDense(3, 2, rng=0), x)
    model = nl.Sequential([Dense(3, 2, rng=0), _NaNBiasDense(2, 2, rng=1)])
    with pytest.raises(ValueError, match=r"analytic gradient with respect to params\[3\]"):
        check(model, x)


def test_check_bad_arguments():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="compiled"):
        check(Dense(3, 1), x, y=[1.0, 2.0])
    with pytest.raises(ValueError, match="Layer, a Sequential or a Loss"):
        check(lambda v: v, x)
    with pytest.raises(ValueError, match="targets"):
        check(nl.losses.MSE(), x)
    for seed in (-1, 1.5, "0", None):
        with pytest.raises(ValueError, match="seed"):
            check(Dense(3, 1), x, seed=seed)
    with pytest.raises(ValueError, match="training must be True or False"):
        check(Dense(3, 1), x, training="no")


class _InfBiasDense(Dense):
    """A Dense whose first bias gradient is inf: a broken backward, finite elsewhere."""

    def backward_params(self, dy):
        dx = super().backward_params(dy)
        self.grads["b"][0] = np.inf
        return dx


def test_check_names_a_gradient_with_a_single_inf():
    x = np.random.default_rng(0).normal(size=(4, 3))
    with pytest.raises(ValueError, match=r"analytic gradient with respect to b holds 1 NaN "
                                         r"or inf of 2 values"):
        check(_InfBiasDense(3, 2, rng=0), x)


def test_check_names_a_numerical_gradient_that_is_not_finite():
    # The squares overflow near 1e155 (a loss of inf, and inf - inf is NaN), while the
    # analytic gradient 2 (x - y) / n is finite. Outside the tests the overflow only warns.
    x, y = np.array([[1e155, 1.0]]), np.zeros((1, 2))
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(
            ValueError, match=r"central difference at x\[0, 0\] = 1e\+155 is nan"):
        check(nl.losses.MSE(), x, y)


def test_errors_name_the_array_that_is_wrong():
    x = np.random.default_rng(0).normal(size=(4, 3))
    found = errors(_BrokenDense(3, 2, rng=0), x)
    assert list(found) == ["x", "W", "b"] and max(found.values()) == found["W"] > 0.1
    assert found["x"] < 1e-8 and found["b"] < 1e-8
    model = nl.Sequential([Dense(3, 2, rng=0), nl.Activation("tanh"), _BiasLostDense(2, 2, rng=1)])
    found = errors(model, x)
    assert list(found) == ["x", "params[0]", "params[1]", "params[2]", "params[3]"]
    assert [name for name, error in found.items() if error > 0.1] == ["params[3]"]
    assert check(model, x) == max(found.values())
    assert list(errors(nl.losses.MSE(), [[0.5], [2.0]], [1.0, 1.0])) == ["x"]


def test_kinks_fail_correct_layers_unless_the_input_avoids_them():
    # A digit's background is exactly 0: max-pooling windows tie, ReLUs sit on their kink.
    digit = nl.datasets.load_digits(as_images=True)[0][:1] / 16.0
    noise = 0.1 * np.random.default_rng(0).normal(size=digit.shape)
    for layer in (nl.MaxPool2D(2), nl.Activation("relu")):
        assert check(layer, digit) > 0.1
        assert check(layer, digit + noise) < 1e-6


def test_gradients_too_large_to_square_are_compared_without_overflow():
    # A diverged model's weights of 1e300: the norms squared them to inf, and check
    # failed on its own floor ("floor must be finite; got inf").
    layer = nl.Dense(3, 2, rng=0)
    layer.params["W"][...] = 1e300
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nl.gradcheck.check(layer, np.ones((4, 3))) < 1e-6
        assert nl.gradcheck.relative_error(np.array([1e300]), np.array([-1e300])) == 1.0
        assert nl.gradcheck.relative_error(np.full(3, 1e200), np.full(3, 1e200)) == 0.0
        assert nl.gradcheck.relative_error(np.zeros(3), np.zeros(3)) == 0.0
