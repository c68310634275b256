"""Details of the activations and losses that a mutation audit found no test for: softmax's
plotted slope, fresh output arrays, float32 digits of a confident cross-entropy, the KL
divergence's clip at its bounds, LogCosh near float32's largest number, MSLE's clip of the
targets, and one-hot rows with exactly one 1."""

import warnings

import numpy as np
import pytest

from nnlab import activations as A
from nnlab.losses import (
    EPSILON,
    BinaryCrossEntropy,
    CategoricalHinge,
    KLDivergence,
    LogCosh,
    MeanSquaredLogarithmicError,
    MulticlassHinge,
)

# -- activations --------------------------------------------------------------------------


def test_softmax_derivative_is_the_diagonal_of_its_jacobian():
    # softmax(0, log 3) = (1/4, 3/4) and softmax(0, 0, log 2) = (1/4, 1/4, 1/2); the
    # Jacobian diag(y) - y y^T has y (1 - y) on its diagonal: 3/16, 3/16 and 1/4.
    np.testing.assert_allclose(A.softmax.derivative(np.array([0.0, np.log(3)])),
                               [3 / 16, 3 / 16], rtol=1e-15)
    np.testing.assert_allclose(A.softmax.derivative(np.array([[0.0, 0.0, np.log(2)]])),
                               [[3 / 16, 3 / 16, 1 / 4]], rtol=1e-15)


@pytest.mark.parametrize("name", A.NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_output_is_a_new_array_not_a_view_of_the_input(name, dtype):
    # A layer keeps x for its backward pass: an output that aliases x (linear's, were it x
    # itself) would change it when the next layer writes into its input.
    x = np.array([[-2.0, 0.5, 3.0]], dtype=dtype)
    f = A.get(name)
    for out in (f(x), f.derivative(x)):
        assert not np.shares_memory(out, x)


# -- cross-entropy and KL divergence ----------------------------------------------------------

def test_binary_cross_entropy_keeps_the_digits_of_a_confident_right_float32_answer():
    # y = 0 at a small p costs -log(1 - p) = p + p^2/2 + ...: log1p(-p) keeps its digits in
    # float32, where 1 - p rounds to a multiple of 6e-8 (3 % off at p = 1e-6).
    p = np.array([1e-6, 1e-5, 3e-4], dtype=np.float32)
    y = np.zeros(3, dtype=np.float32)
    expected = -np.mean(np.log1p(-p.astype(np.float64)))
    assert BinaryCrossEntropy()(p, y) == pytest.approx(expected, rel=1e-6)


def test_kl_divergence_of_a_one_hot_prediction_of_its_target_is_exactly_0():
    # q = p: each term is 1 log(1 / 1) or 0 log 0 = 0. The clip's upper bound is 1, as Keras's
    # (and no clip in torch's kl_div): at 1 - 1e-7 the value would be 1e-7.
    q = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert KLDivergence()(q, q) == 0.0


def test_kl_divergence_passes_the_gradient_at_the_clip_s_lower_bound_as_torch_clamp_does():
    torch = pytest.importorskip("torch")
    q, p = np.array([[EPSILON, 1 - EPSILON], [0.5, 0.5]]), np.array([[0.5, 0.5], [0.2, 0.8]])
    tq, tp = torch.tensor(q, requires_grad=True), torch.tensor(p)
    (torch.sum(tp * (tp.log() - tq.clamp(EPSILON, 1).log())) / 2).backward()
    loss = KLDivergence()
    assert loss(q, p) == pytest.approx(float(torch.nn.functional.kl_div(
        tq.detach().log(), tp, reduction="batchmean")), rel=1e-12)
    np.testing.assert_allclose(loss.gradient(q, p), tq.grad.numpy(), rtol=1e-12)


# -- regression losses --------------------------------------------------------------------------

def test_log_cosh_of_an_error_near_float32_s_largest_number_is_finite_and_quiet():
    # log cosh(3e38) = 3e38 - log 2, which float32 rounds to 3e38; e^(-2 * 3e38) is 0, but
    # -2 * 3e38 itself would overflow float32 (its largest number is 3.4e38).
    y_pred = np.array([3e38, 0.5], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            value = LogCosh()(y_pred, np.zeros(2, dtype=np.float32))
            grad = LogCosh().gradient(y_pred, np.zeros(2, dtype=np.float32))
    assert value == pytest.approx((3e38 + np.log(np.cosh(0.5))) / 2, rel=1e-6)
    np.testing.assert_allclose(grad, [0.5, np.tanh(0.5) / 2], rtol=1e-6)


def test_msle_clips_targets_below_epsilon_in_its_gradient_as_in_its_value():
    # Keras's msle: log1p(max(p, 1e-7)) - log1p(max(t, 1e-7)), for targets too. A target of
    # -0.5 counts as 1e-7, not as log1p(-0.5) = -log 2. torch's autograd of that formula:
    torch = pytest.importorskip("torch")
    y_pred, y_true = np.array([0.5, 2.0, 3.0]), np.array([-0.5, 0.0, 4.0])
    tp, tt = torch.tensor(y_pred, requires_grad=True), torch.tensor(y_true)
    value = torch.mean((tp.clamp(min=EPSILON).log1p() - tt.clamp(min=EPSILON).log1p()) ** 2)
    value.backward()
    loss = MeanSquaredLogarithmicError()
    assert loss(y_pred, y_true) == pytest.approx(value.item(), rel=1e-12)
    np.testing.assert_allclose(loss.gradient(y_pred, y_true), tp.grad.numpy(), rtol=1e-12)


# -- hinge losses -------------------------------------------------------------------------------

@pytest.mark.parametrize("loss", [MulticlassHinge(), CategoricalHinge()], ids=repr)
@pytest.mark.parametrize("row", [[1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
def test_multiclass_hinges_refuse_rows_of_zeros_and_ones_that_are_not_one_hot(loss, row):
    # A sample has one true class: two 1s (or none) would count its margins twice (or not
    # at all), a value that no labels give.
    scores = np.array([[0.2, 0.5, -0.1], [1.0, 0.0, 0.3]])
    with pytest.raises(ValueError, match="one-hot"):
        loss(scores, np.array([[0.0, 1.0, 0.0], row]))
