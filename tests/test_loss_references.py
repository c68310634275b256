"""Tests of nnlab.losses against references: PyTorch's losses (when it is installed), and
Keras's formulas for its other losses at the cases they single out; forward_backward."""

import json

import numpy as np
import pytest

from nnlab import losses
from nnlab.losses import (
    BinaryCrossEntropy,
    BinaryFocalCrossEntropy,
    CategoricalHinge,
    Huber,
    LogCosh,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    Poisson,
    SquaredHinge,
)
from tests.loss_cases import ALL_LOSSES, EPS, KINDS, batch_for, make_case

# -- PyTorch as an independent reference (only when installed) ------------------------------

def torch_value_and_grad(fn, y_pred):
    torch = pytest.importorskip("torch")
    x = torch.tensor(y_pred, dtype=torch.float64, requires_grad=True)
    out = fn(x)
    out.backward()
    return out.item(), x.grad.numpy()


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "hinge"])  # torch has no binary hinge
def test_matches_pytorch(kind):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    loss, y_pred, y_true = make_case(kind, 5, 4, np.random.default_rng(7))
    t = torch.tensor(np.asarray(y_true, dtype=float))
    reference = {
        "mse": lambda x: F.mse_loss(x, t),
        "mae": lambda x: F.l1_loss(x, t),
        "huber": lambda x: F.huber_loss(x, t, delta=0.7),
        "bce": lambda x: F.binary_cross_entropy(x, t),
        "bce_logits": lambda x: F.binary_cross_entropy_with_logits(x, t),
        "cce": lambda x: F.nll_loss(torch.log(x), t.argmax(1)),
        "cce_soft": lambda x: -(t * torch.log(x)).sum(1).mean(),
        "cce_logits": lambda x: F.cross_entropy(x, t.long()),
        "cce_logits_soft": lambda x: F.cross_entropy(x, t),
        "kld": lambda x: F.kl_div(torch.log(x), t, reduction="batchmean"),
        # PyTorch divides each row's sum by the number of classes C: multiply it back
        "multiclass_hinge": lambda x: F.multi_margin_loss(x, t.long()) * x.shape[1],
        # Keras's formulas, written with torch's operations, its autograd the reference:
        "log_cosh": lambda x: torch.log(torch.cosh(x - t)).mean(),
        "poisson": lambda x: F.poisson_nll_loss(x, t, log_input=False, eps=EPS),
        "msle": lambda x: ((torch.log1p(x.clamp(min=EPS))
                            - torch.log1p(t.clamp(min=EPS))) ** 2).mean(),
        "mape": lambda x: 100 * ((x - t).abs() / t.abs().clamp(min=EPS)).mean(),
        "squared_hinge": lambda x: (1 - t * x).clamp(min=0).pow(2).mean(),
        "categorical_hinge": lambda x: categorical_hinge_keras(x, t.long(), torch),
        "focal": lambda x: focal_keras(x, t, 1.5, torch),
        "focal_logits": lambda x: sigmoid_focal_loss(x, t, torch),
        "cfce": lambda x: categorical_focal_keras(
            x / x.sum(1, keepdim=True), F.one_hot(t.long(), x.shape[1]), 0.25, 1.5),
        "cfce_logits": lambda x: categorical_focal_keras(torch.softmax(x, 1), t, 0.5, 2.0),
        "cosine": lambda x: -(unit_keras(x, torch) * unit_keras(t, torch)).sum(1).mean(),
        "dice": lambda x: 1 - 2 * (t * x).sum() / (t.sum() + x.sum() + EPS),
        "tversky": lambda x: 1 - (t * x).sum() / ((t * x).sum() + 0.7 * (t * (1 - x)).sum()
                                                  + 0.2 * ((1 - t) * x).sum() + EPS),
    }[kind]
    value, grad = torch_value_and_grad(reference, y_pred)
    assert loss(y_pred, y_true) == pytest.approx(value, rel=1e-10)
    np.testing.assert_allclose(loss.gradient(y_pred, y_true), grad, rtol=1e-8, atol=1e-12)


def categorical_focal_keras(q, t, alpha, gamma):
    # keras.losses.categorical_focal_crossentropy once its rows are distributions
    q = q.clamp(EPS, 1 - EPS)
    return (alpha * (1 - q) ** gamma * -(t * q.log())).sum(1).mean()


def unit_keras(x, torch):
    # keras.ops.normalize: x times 1 / |x|, that factor at most 1e7
    return x * torch.rsqrt((x * x).sum(1, keepdim=True)).clamp(max=1 / EPS)


def focal_keras(p, t, gamma, torch):
    # keras.losses.binary_focal_crossentropy on probabilities: (1 - p_t)^gamma bce, mean
    bce = torch.nn.functional.binary_cross_entropy(p, t, reduction="none")
    return ((1 - (t * p + (1 - t) * (1 - p))) ** gamma * bce).mean()


def sigmoid_focal_loss(z, t, torch, alpha=0.25, gamma=2.0):
    # torchvision.ops.sigmoid_focal_loss, reduction="mean", written out
    p = torch.sigmoid(z)
    ce = torch.nn.functional.binary_cross_entropy_with_logits(z, t, reduction="none")
    p_t = p * t + (1 - p) * (1 - t)
    return ((alpha * t + (1 - alpha) * (1 - t)) * ce * (1 - p_t) ** gamma).mean()


def categorical_hinge_keras(x, labels, torch):
    # keras.losses.categorical_hinge: max(0, max((1 - t) * s) - sum(t * s) + 1), mean
    t = torch.nn.functional.one_hot(labels, x.shape[1]).double()
    neg = ((1 - t) * x).max(dim=1).values
    pos = (t * x).sum(dim=1)
    return (neg - pos + 1).clamp(min=0).mean()


@pytest.mark.parametrize("delta", [0.5, 1.0, 2.5])
@pytest.mark.parametrize("shape", [(7,), (4, 3), (2, 3, 2)])
def test_huber_matches_pytorch_huber_loss(delta, shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(len(shape) * 10 + round(delta * 2))
    y_true = rng.integers(-8, 8, size=shape) / 4   # quarters: y_true + delta is exact
    errors = rng.normal(scale=1.5 * delta, size=shape)
    errors.flat[:2] = delta, -delta                # exactly on the seam, on both sides
    y_pred = y_true + errors
    assert (np.abs(y_pred - y_true) == delta).sum() >= 2
    assert (np.abs(errors) < delta).any() and (np.abs(errors) > delta).any()
    reference = torch.nn.HuberLoss(delta=delta)    # reduction="mean", its default
    value, grad = torch_value_and_grad(lambda x: reference(x, torch.tensor(y_true)), y_pred)
    assert Huber(delta)(y_pred, y_true) == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(Huber(delta).gradient(y_pred, y_true), grad, rtol=1e-12)
    seam = Huber(delta).gradient(y_pred, y_true).flat[:2]
    np.testing.assert_array_equal(seam, np.array([delta, -delta]) / errors.size)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss", ALL_LOSSES, ids=repr)
def test_forward_backward_is_forward_and_backward_at_once(loss, dtype):
    # What fit's step calls: cross-entropy from logits shares its softmax between the two.
    y_pred, y_true = loss.check(*batch_for(loss, dtype))
    value, grad = loss.forward_backward(y_pred, y_true)
    assert value == loss.forward(y_pred, y_true)
    np.testing.assert_array_equal(grad, loss.backward(y_pred, y_true))
    assert grad.dtype == dtype


# -- Keras's other losses: the cases their formulas single out ------------------------------

def test_categorical_hinge_takes_the_best_wrong_score_alone_and_keras_zero():
    scores = np.array([[3.2, 5.1, -1.7], [2.0, -3.0, -1.0]])
    # Row 0: the best wrong score 5.1 beats 3.2: 5.1 - 3.2 + 1 = 2.9 (the multiclass hinge
    # adds -1.7's term too when it is within the margin; here it is not).
    # Row 1: every wrong score is negative, and Keras's (1 - t) s lets the true class in
    # as 0: max(0, 0 - 2 + 1) = 0, where the largest wrong score alone would give 0 too.
    assert CategoricalHinge()(scores, [0, 0]) == pytest.approx(2.9 / 2)
    below = np.array([[0.5, -3.0, -1.0]])   # true score 0.5: Keras's 0 - 0.5 + 1 = 0.5
    assert CategoricalHinge()(below, [0]) == pytest.approx(0.5)
    np.testing.assert_array_equal(CategoricalHinge().gradient(below, [0]), [[-1.0, 0.0, 0.0]])
    assert CategoricalHinge()(scores, np.eye(3)[[0, 0]]) == CategoricalHinge()(scores, [0, 0])


def test_squared_hinge_and_log_cosh_by_hand():
    assert SquaredHinge()([2.0, 0.5, -1.0], [1, 1, 1]) == pytest.approx((0 + 0.25 + 4) / 3)
    with pytest.raises(ValueError, match="labels must be -1 or \\+1"):
        SquaredHinge()([0.5], [0])
    # log cosh e is about e^2 / 2 for a small error and |e| - log 2 for a large one
    assert LogCosh()([1e-3], [0.0]) == pytest.approx(0.5e-6, rel=1e-6)
    assert LogCosh()([-800.0], [0.0]) == pytest.approx(800 - np.log(2))
    np.testing.assert_allclose(LogCosh().gradient([3.0, -800.0], [0.0, 0.0]),
                               [np.tanh(3.0) / 2, -0.5])


def test_poisson_needs_rates_and_counts_at_least_zero():
    with pytest.raises(ValueError, match=r"y_pred must be rates, at least 0; got -0\.5"):
        Poisson()([[-0.5], [1.0]], [1.0, 1.0])
    with pytest.raises(ValueError, match="y_true must be counts, at least 0; got -1"):
        Poisson()([[0.5], [1.0]], [-1.0, 1.0])
    # least where the rate is the count: d/dp (p - y log p) = 1 - y / p
    rates = np.linspace(0.5, 6, 1101)
    values = [Poisson()([r], [3.0]) for r in rates]
    assert rates[int(np.argmin(values))] == pytest.approx(3.0)


def test_relative_losses_msle_and_mape():
    msle = MeanSquaredLogarithmicError()
    # twice too large costs about as much as half too small, at any scale of the target
    assert msle([2000.0], [1000.0]) == pytest.approx(msle([500.0], [1000.0]), rel=1e-2)
    assert msle([20.0], [10.0]) == pytest.approx(msle([5.0], [10.0]), rel=0.3)
    assert msle([-5.0], [0.0]) == 0.0   # both clipped to EPSILON
    np.testing.assert_array_equal(msle.gradient([-5.0], [3.0]), [0.0])   # clipped: no gradient
    mape = MeanAbsolutePercentageError()
    assert mape([110.0, 45.0], [100.0, 50.0]) == pytest.approx(10.0)
    assert mape([1.0], [0.0]) == pytest.approx(100 / EPS)   # a target of 0: divided by EPSILON


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_cosh_keeps_the_digits_of_small_errors(dtype):
    # |e| + log(1 + e^-2|e|) - log 2 subtracts log 2 from a number close to it: in float32,
    # errors near 1e-4 came out negative. log(1 + 2 sinh(e/2)^2) keeps them.
    errors = np.array([1e-6, 1e-4, 1e-2, 0.5, 1.0, 1.5, 30.0], dtype)
    for e in errors:
        exact = np.log(np.cosh(np.float64(e)))
        assert LogCosh()(np.array([e]), np.zeros(1, dtype)) == pytest.approx(exact, rel=1e-5)


def test_focal_loss_equals_keras_and_is_cross_entropy_at_gamma_zero():
    # Keras 3.15.1's BinaryFocalCrossentropy on these values (float32, so rel=1e-6)
    y = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    p = np.array([[0.9, 0.2, 0.3], [0.6, 0.05, 0.01]])
    z = np.array([[2.0, -1.0, 0.5], [3.0, -4.0, 1.0]])
    for loss, y_pred, keras_value in [
            (BinaryFocalCrossEntropy(), p, 0.6055733561515808),
            (BinaryFocalCrossEntropy(gamma=0.5), p, 0.7951776385307312),
            (BinaryFocalCrossEntropy(apply_class_balancing=True, alpha=0.3), p,
             0.20425811409950256),
            (BinaryFocalCrossEntropy(gamma=1.5, from_logits=True), z, 1.2873846292495728)]:
        assert loss(y_pred, y) == pytest.approx(keras_value, rel=1e-6)
    for from_logits, y_pred in [(False, p), (True, z)]:
        focal = BinaryFocalCrossEntropy(gamma=0.0, from_logits=from_logits)
        plain = BinaryCrossEntropy(from_logits=from_logits)
        assert focal(y_pred, y) == pytest.approx(plain(y_pred, y), rel=1e-14)
        np.testing.assert_allclose(focal.gradient(y_pred, y), plain.gradient(y_pred, y),
                                   rtol=1e-12)
    # An easy sample counts for little: (1 - 0.99)^2 of its cross-entropy
    assert BinaryFocalCrossEntropy()([0.99], [1]) == pytest.approx(1e-4 * -np.log(0.99))
    loss = BinaryFocalCrossEntropy(gamma=3.0, alpha=0.1, apply_class_balancing=True)
    assert losses.get(loss.name, **json.loads(json.dumps(loss.get_config()))).gamma == 3.0
    for bad, match in [({"gamma": -1.0}, "focal gamma"), ({"alpha": 1.5}, "focal alpha"),
                       ({"apply_class_balancing": "yes"}, "apply_class_balancing")]:
        with pytest.raises(ValueError, match=match):
            BinaryFocalCrossEntropy(**bad)
