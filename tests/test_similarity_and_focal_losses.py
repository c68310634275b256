"""Tests of the similarity losses (cosine similarity, Dice, Tversky) and the categorical and
binary focal losses: Keras's values, edge cases, clipping; errors for one-sample input."""

import json
import warnings

import numpy as np
import pytest

from nnlab import losses
from nnlab.losses import (
    BinaryCrossEntropy,
    BinaryFocalCrossEntropy,
    CategoricalCrossEntropy,
    CategoricalFocalCrossEntropy,
    CosineSimilarity,
    Dice,
    KLDivergence,
    Tversky,
)
from tests.helpers import numerical_gradient
from tests.loss_cases import EPS

# -- Keras 3's similarity losses and categorical focal loss ---------------------------------

def test_similarity_and_categorical_focal_losses_equal_keras():
    # Keras 3.15.1 (torch backend, float64) on these values; its cosine and focal losses
    # compute partly in float32 (rel=1e-7). Their gradients (torch autograd) agreed with
    # nnlab's to 1e-8 and 1e-16.
    rng = np.random.default_rng(3)
    p, t = rng.uniform(0.01, 1, (4, 3)), np.eye(3)[[0, 2, 1, 1]]
    soft, z = rng.uniform(0, 1, (4, 3)), rng.normal(0, 2, (4, 3))
    for loss, y_pred, y_true, keras_value in [
            (CosineSimilarity(), z, rng.normal(size=(4, 3)), -0.33566737174987793),
            (Dice(), p, soft, 0.5531002755670656),
            (Tversky(0.7, 0.2), p, soft, 0.5593621635822295),
            (CategoricalFocalCrossEntropy(), p, t, 0.27790525555610657),
            (CategoricalFocalCrossEntropy(alpha=1.0, gamma=0.0), p, t, 1.6273338794708252),
            (CategoricalFocalCrossEntropy(alpha=0.5, gamma=1.5, from_logits=True), z, t,
             0.9881899356842041)]:
        assert loss(y_pred, y_true) == pytest.approx(keras_value, rel=1e-7)


def test_cosine_similarity_ignores_length_and_scores_zero_rows_zero():
    loss = CosineSimilarity()
    assert loss([[3.0, 4.0]], [[6.0, 8.0]]) == pytest.approx(-1.0)
    assert loss([[3.0, 4.0]], [[-0.3, -0.4]]) == pytest.approx(1.0)
    assert loss([[3.0, 4.0]], [[4.0, -3.0]]) == pytest.approx(0.0)
    grad = loss.gradient([[3.0, 4.0], [1.0, 2.0]], [[1.0, 0.0], [2.0, 4.0]])
    np.testing.assert_allclose(np.sum(grad * [[3.0, 4.0], [1.0, 2.0]], axis=1), 0, atol=1e-15)
    np.testing.assert_allclose(grad[1], 0, atol=1e-15)   # already aligned: nothing to do
    # Keras's floor of 1e-7 on a norm: a zero row scores 0, its gradient points to the target
    assert loss([[0.0, 0.0]], [[1.0, 0.0]]) == 0.0 and loss([[1.0, 0.0]], [[0.0, 0.0]]) == 0.0
    np.testing.assert_allclose(loss.gradient([[0.0, 0.0]], [[2.0, 0.0]]), [[-1e7, 0.0]])
    # A row shorter than the floor is divided by 1e-7 itself, a linear map: its gradient has
    # no projection, and central differences within the floor (h = 1e-9) agree.
    short = np.array([[3e-8, 4e-8]])
    np.testing.assert_allclose(loss.gradient(short, [[1.0, 0.0]]), [[-1e7, 0.0]])
    np.testing.assert_allclose(numerical_gradient(lambda p: loss(p, [[1.0, 0.0]]), short, h=1e-9),
                               [[-1e7, 0.0]], rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cosine_similarity_of_long_rows_does_not_overflow_their_squares(dtype):
    # The squares of float32 numbers above 1.8e19 overflow: the norm was inf, the value 0
    # instead of -1, the gradient 0, and NumPy warned.
    big = np.finfo(dtype).max ** 0.5 * 4
    y_pred, y_true = np.array([[3, 4], [-3, 4]], dtype) * big, np.array([[3, 4], [3, 4]], dtype)
    loss = CosineSimilarity()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = loss(y_pred, y_true), loss.gradient(y_pred, y_true)
    assert value == pytest.approx((-1 - 7 / 25) / 2)
    # The gradient of the second row, scaled back by its length, is that of (-3, 4) / 5.
    expected = -(np.array([3, 4]) / 5 - 7 / 25 * np.array([-3, 4]) / 5) / 5 / 2
    np.testing.assert_allclose(grad[1] * big, expected, rtol=1e-5)
    np.testing.assert_allclose(grad[0] * big, 0, atol=1e-6)
    assert grad.dtype == dtype and np.all(grad[1] != 0)


def test_dice_and_tversky_are_batch_overlaps():
    t = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    assert Dice()(t, t) == pytest.approx(0.0, abs=1e-7)
    assert Dice()(1 - t, t) == pytest.approx(1.0)
    # one value for the batch, not a mean of rows: 1 - 2 (1 + 1) / (3 + 3)
    p = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert Dice()(p, t) == pytest.approx(1 - 4 / 6)
    assert Tversky()(p, t) == pytest.approx(Dice()(p, t), abs=1e-7)
    # alpha weighs what the prediction misses (Keras's formula): one miss, one false alarm
    assert Tversky(alpha=1.0, beta=0.0)(p, t) == pytest.approx(1 - 2 / 3)
    assert Tversky(alpha=0.0, beta=1.0)(p, t) == pytest.approx(1 - 2 / 3)
    assert Tversky(alpha=0.0, beta=1.0)([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]], t) == \
        pytest.approx(1 - 3 / 4)
    assert Tversky(alpha=1.0, beta=0.0)([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]], t) == \
        pytest.approx(0.0, abs=1e-7)
    for bad, match in [(Tversky(), r"Tversky.*y_pred must be in \[0, 1\]"),
                       (Dice(), "sigmoid or softmax")]:
        with pytest.raises(ValueError, match=match):
            bad([[1.5]], [[1.0]])
    with pytest.raises(ValueError, match=r"Dice\(\): y_true must be in \[0, 1\]"):
        Dice()([[0.5]], [[2.0]])
    with pytest.raises(ValueError, match="Tversky alpha"):
        Tversky(alpha=-0.1)
    loss = Tversky(0.3, 0.7)
    assert losses.get(loss.name, **json.loads(json.dumps(loss.get_config()))).beta == 0.7


def test_categorical_focal_loss_is_scaled_cross_entropy_at_gamma_zero():
    p, labels = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]]), [0, 2]
    for from_logits, y_pred in [(False, p), (True, np.log(p) + 1.0)]:
        focal = CategoricalFocalCrossEntropy(alpha=0.4, gamma=0.0, from_logits=from_logits)
        plain = CategoricalCrossEntropy(from_logits=from_logits)
        assert focal(y_pred, labels) == pytest.approx(0.4 * plain(y_pred, labels), rel=1e-12)
        gap = focal.gradient(y_pred, labels) - 0.4 * plain.gradient(y_pred, labels)
        # From logits the same gradient; from probabilities it differs by the same amount
        # in every class of a row: the direction that changes no ratio of the row, and so
        # nothing after the division by its sum (which plain cross-entropy does not make).
        np.testing.assert_allclose(gap - gap[:, :1], 0, atol=1e-12)
        assert from_logits is False or np.allclose(gap, 0, atol=1e-12)
    # rows are divided by their sum first, as Keras does: scaling a row changes nothing
    focal = CategoricalFocalCrossEntropy()
    assert focal(p * 0.5, labels) == pytest.approx(focal(p, labels), rel=1e-12)
    loss = CategoricalFocalCrossEntropy(alpha=0.5, gamma=3.0, from_logits=True)
    assert losses.get(loss.name, **json.loads(json.dumps(loss.get_config()))).gamma == 3.0


def test_categorical_focal_loss_from_logits_pushes_on_the_hardest_samples():
    # The true class 20 below the best score: Keras's softmax-then-clip gives it no
    # gradient; from the log-softmax it keeps the cross-entropy's push, about alpha.
    z = np.array([[20.0, 0.0, 0.0], [0.0, 30.0, -5.0]])
    loss = CategoricalFocalCrossEntropy(gamma=0.5, from_logits=True)
    grad = loss.gradient(z, [1, 0])
    np.testing.assert_allclose(grad, numerical_gradient(lambda x: loss(x, [1, 0]), z),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(grad[:, :2], [[0.125, -0.125], [-0.125, 0.125]], rtol=1e-6)
    assert loss(z, [1, 0]) == pytest.approx(0.25 * (20 + 30) / 2, rel=1e-6)
    # each row over its sum: a row of zeros has none
    with pytest.raises(ValueError, match="divided by its sum, and a row is all zeros"):
        CategoricalFocalCrossEntropy()([[0.0, 0.0, 0.0], [0.2, 0.3, 0.5]], [0, 1])


def test_binary_focal_gradient_does_not_overflow_for_gamma_below_one():
    # (1 - p_t)^(gamma - 1) alone overflows where 1 - p_t is tiny (4e-44 at a logit of -100
    # in float32), though the gradient is tiny: (1 + gamma) p^(1 + gamma) for y = 0.
    def exact(z, y, gamma):
        """d/dz of (1 - p_t)^gamma c for one element, in float64 by logs."""
        s = -1 if y == 0 else 1             # p_t = sigmoid(s z)
        log_q = -np.logaddexp(0, s * z)     # log sigmoid(-s z) = log(1 - p_t)
        c = np.logaddexp(0, -s * z)         # the cross-entropy, -log p_t = softplus(-s z)
        q, p_t = np.exp(log_q), np.exp(-np.logaddexp(0, -s * z))
        return -s * np.exp(gamma * log_q) * (gamma * p_t * c + q)

    for gamma in (0.01, 0.1, 0.5):
        loss = BinaryFocalCrossEntropy(gamma=gamma, from_logits=True)
        for dtype in (np.float32, np.float64):
            for z in (-1e4, -740.0, -100.0, -20.0, 3.0, 100.0, 1e4):
                for y in (0, 1):
                    with warnings.catch_warnings():
                        warnings.simplefilter("error")
                        grad = loss.gradient(np.array([z], dtype), [y])
                    assert grad.dtype == dtype and np.all(np.isfinite(grad))
                    # y = 1 mirrors y = 0, but 1 - p rounds to 0 there when p = sigmoid(z)
                    # is within an ulp of 1: a gradient of 0, short by less than 1e-30.
                    np.testing.assert_allclose(grad, [exact(z, y, gamma)],
                                               rtol=1e-5 if dtype == np.float32 else 1e-12,
                                               atol=np.finfo(dtype).tiny if y == 0 else 1e-30)
    # From probabilities: a slope gamma p^(gamma - 1) c of the clipped c = -log(1 - 1e-7).
    p = np.float32(1e-44)
    for gamma in (0.1, 0.5):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            grad = BinaryFocalCrossEntropy(gamma=gamma).gradient(np.array([p]), [0])
        c = -np.log1p(-np.float64(np.float32(EPS)))
        np.testing.assert_allclose(grad, [gamma * np.float64(p) ** (gamma - 1) * c], rtol=1e-5)


def test_focal_losses_clip_outputs_outside_the_unit_interval_as_cross_entropy_does():
    # fit warns about such outputs and clips them into [1e-7, 1 - 1e-7]: the categorical
    # focal loss used to divide them by their row's sum first, so that [-0.2, -0.6] was
    # p = [0.25, 0.75] and [0.5, -0.5] a division by 0.
    rows = np.array([[-0.2, -0.6], [0.5, -0.5], [1.5, 0.0]])
    y = np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
    plain = CategoricalCrossEntropy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        focal = CategoricalFocalCrossEntropy(alpha=1.0, gamma=0.0).forward(rows, y)
        assert focal == pytest.approx(plain.forward(rows, y), rel=1e-12)
        assert focal == pytest.approx(-np.log(EPS), rel=1e-12)   # every true class clipped
        cf = CategoricalFocalCrossEntropy()
        assert cf.forward(rows, y) == pytest.approx(0.25 * (1 - EPS) ** 2 * -np.log(EPS))
        assert np.all(cf.backward(rows, y) == 0)   # a clipped output gets no gradient
    with pytest.raises(losses.PredictionRangeError, match=r"\[0, 1\]"):
        cf(rows, y)   # called directly, refused
    # Where only some outputs of a row are outside, the gradient is that of the clipped rows.
    rows = np.array([[1.4, 0.3, 0.1], [1.5, 0.7, -0.3], [0.3, -0.1, 0.4]])
    y = np.eye(3)[[1, 1, 2]]
    for cf in (CategoricalFocalCrossEntropy(), CategoricalFocalCrossEntropy(gamma=0.5)):
        np.testing.assert_allclose(cf.backward(rows, y),
                                   numerical_gradient(lambda x, cf=cf: cf.forward(x, y), rows),
                                   rtol=1e-6, atol=1e-10)
    # The binary focal loss as the binary cross-entropy: an output of 1.5 is one of 1.
    bf = BinaryFocalCrossEntropy()
    assert bf.forward(np.array([1.5, -0.5]), np.array([0.0, 1.0])) == \
        bf.forward(np.array([1.0, 0.0]), np.array([0.0, 1.0]))
    assert np.all(bf.backward(np.array([1.5, -0.5]), np.array([0.0, 1.0])) == 0)


def test_one_sample_of_a_row_loss_with_one_column_and_the_shapes_errors_name():
    assert CosineSimilarity()([2.0], [3.0]) == pytest.approx(-1.0)
    assert KLDivergence()([1.0], [1.0]) == pytest.approx(0.0, abs=1e-6)   # 1 is clipped
    assert CosineSimilarity().gradient([2.0], [3.0]).shape == (1,)
    # a message names the shapes the caller passed, not those of one sample made a batch
    for loss, y_pred, y_true, match in [
            (CosineSimilarity(), [2.0, 1.0], [3.0],
             r"y_pred has shape \(2,\) but y_true has shape \(1,\); expected the same shape "
             r"\(2,\)"),
            (CategoricalCrossEntropy(), [0.2, 0.8], [0, 1, 0],
             r"y_pred has shape \(2,\) but y_true has shape \(3,\)"),
            (CategoricalCrossEntropy(), [1.0], [0], r"at least 2 output units.*got shape \(1,\)")]:
        with pytest.raises(ValueError, match=match):
            loss(y_pred, y_true)


def test_a_probability_out_of_range_is_a_prediction_domain_error():
    # Code that forgives a prediction outside a loss's domain catches the one class.
    assert issubclass(losses.PredictionRangeError, losses.PredictionDomainError)
    with pytest.raises(losses.PredictionDomainError, match=r"y_pred must be in \[0, 1\]"):
        BinaryCrossEntropy()(np.array([1.5]), np.array([1.0]))
