"""Helpers and constants shared by the loss tests: a central-difference gradient, softmax,
a case of each loss for the gradient checks, every loss, and a batch for each."""

import numpy as np

from nnlab import losses
from nnlab.losses import (
    MAE,
    MSE,
    BinaryCrossEntropy,
    BinaryFocalCrossEntropy,
    CategoricalCrossEntropy,
    CategoricalFocalCrossEntropy,
    CategoricalHinge,
    CosineSimilarity,
    Dice,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    MulticlassHinge,
    Poisson,
    SquaredHinge,
    Tversky,
)

EPS = losses.EPSILON


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def make_case(kind, n, k, rng):
    """(loss, y_pred, y_true) away from kinks and clipping, for the gradient checks."""
    scores = rng.normal(scale=2.0, size=(n, k))
    labels = rng.integers(0, k, size=n)
    one_hot = np.eye(k)[labels]
    probs = 0.01 + 0.98 * softmax(scores)
    probs /= probs.sum(axis=1, keepdims=True)
    soft = rng.dirichlet(np.ones(k), size=n)
    if kind == "mse":
        return MSE(), scores, rng.normal(size=(n, k))
    if kind == "mae":
        return MAE(), scores, rng.normal(size=(n, k))
    if kind == "huber":   # errors of about 2: on both sides of delta
        return Huber(delta=0.7), scores, rng.normal(size=(n, k))
    if kind == "bce":
        return BinaryCrossEntropy(), rng.uniform(0.02, 0.98, (n, k)), rng.uniform(0, 1, (n, k))
    if kind == "bce_logits":
        return BinaryCrossEntropy(from_logits=True), scores, rng.integers(0, 2, (n, k))
    if kind == "cce":
        return CategoricalCrossEntropy(), probs, one_hot
    if kind == "cce_soft":
        return CategoricalCrossEntropy(), probs, soft
    if kind == "cce_logits":
        return CategoricalCrossEntropy(from_logits=True), scores, labels
    if kind == "cce_logits_soft":
        return CategoricalCrossEntropy(from_logits=True), scores, soft * 0.7
    if kind == "kld":
        return KLDivergence(), probs, soft
    if kind == "hinge":
        return Hinge(), scores, rng.choice([-1.0, 1.0], size=(n, k))
    if kind == "multiclass_hinge":
        return MulticlassHinge(), scores, labels
    if kind == "log_cosh":
        return LogCosh(), scores, rng.normal(size=(n, k))
    if kind == "poisson":   # rates, and counts
        return Poisson(), rng.uniform(0.1, 5.0, (n, k)), rng.poisson(2.0, (n, k))
    if kind == "msle":      # some predictions below 0: clipped, no gradient
        return MeanSquaredLogarithmicError(), scores, rng.uniform(0, 10, (n, k))
    if kind == "mape":
        return MeanAbsolutePercentageError(), scores, rng.normal(size=(n, k))
    if kind == "squared_hinge":
        return SquaredHinge(), scores, rng.choice([-1.0, 1.0], size=(n, k))
    if kind == "categorical_hinge":
        return CategoricalHinge(), scores, labels
    if kind == "focal":
        return (BinaryFocalCrossEntropy(gamma=1.5), rng.uniform(0.02, 0.98, (n, k)),
                rng.uniform(0, 1, (n, k)))
    if kind == "focal_logits":   # balanced, from logits: torchvision's sigmoid_focal_loss
        return (BinaryFocalCrossEntropy(apply_class_balancing=True, from_logits=True),
                scores, rng.integers(0, 2, (n, k)))
    if kind == "cfce":     # rows that do not sum to 1: Keras divides them by their sum
        return CategoricalFocalCrossEntropy(gamma=1.5), probs * 0.8, labels
    if kind == "cfce_logits":
        return CategoricalFocalCrossEntropy(alpha=0.5, from_logits=True), scores, soft
    if kind == "cosine":
        return CosineSimilarity(), scores, rng.normal(size=(n, k))
    if kind == "dice":
        return Dice(), rng.uniform(0.02, 0.98, (n, k)), rng.uniform(0, 1, (n, k))
    if kind == "tversky":
        return Tversky(0.7, 0.2), rng.uniform(0.02, 0.98, (n, k)), rng.integers(0, 2, (n, k))
    raise AssertionError(kind)


KINDS = ["mse", "mae", "huber", "bce", "bce_logits", "cce", "cce_soft", "cce_logits",
         "cce_logits_soft", "kld", "hinge", "multiclass_hinge", "log_cosh", "poisson", "msle",
         "mape", "squared_hinge", "categorical_hinge", "focal", "focal_logits", "cfce",
         "cfce_logits", "cosine", "dice", "tversky"]


ALL_LOSSES = [MSE(), MAE(), Huber(), Huber(delta=0.25), BinaryCrossEntropy(),
              BinaryCrossEntropy(from_logits=True), CategoricalCrossEntropy(),
              CategoricalCrossEntropy(from_logits=True), KLDivergence(), Hinge(), MulticlassHinge(),
              LogCosh(), Poisson(), MeanSquaredLogarithmicError(), MeanAbsolutePercentageError(),
              SquaredHinge(), CategoricalHinge(), BinaryFocalCrossEntropy(),
              BinaryFocalCrossEntropy(gamma=0.5, from_logits=True),
              CategoricalFocalCrossEntropy(), CategoricalFocalCrossEntropy(from_logits=True),
              CosineSimilarity(), Dice(), Tversky(alpha=0.3, beta=0.7)]


def batch_for(loss, dtype, big=False):
    rng = np.random.default_rng(0)
    n, k = 4, 3
    if big:
        scores = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [0.0, 0.0, -1e4], [1e4] * 3])
    else:
        scores = rng.normal(size=(n, k))
    probs = softmax(rng.normal(size=(n, k)))
    labels = np.array([1, 0, 2, 1])
    if isinstance(loss, Hinge | SquaredHinge):
        return scores.astype(dtype), np.where(scores > 0, -1.0, 1.0)
    if isinstance(loss, Poisson):
        return np.abs(scores).astype(dtype), np.array([[0.0, 3.0, 1.0]] * n)
    if isinstance(loss, MSE | MAE | Huber | LogCosh | MeanSquaredLogarithmicError
                  | MeanAbsolutePercentageError):
        return scores.astype(dtype), np.zeros((n, k))
    if isinstance(loss, KLDivergence):
        return probs.astype(dtype), softmax(rng.normal(size=(n, k)))
    if isinstance(loss, CosineSimilarity):
        return scores.astype(dtype), rng.normal(size=(n, k))
    if isinstance(loss, Dice):
        return probs.astype(dtype), (rng.uniform(size=(n, k)) < 0.5).astype(float)
    y_pred = scores if getattr(loss, "from_logits", True) else probs
    if isinstance(loss, BinaryCrossEntropy | BinaryFocalCrossEntropy):
        return y_pred.astype(dtype), (scores < 0).astype(float)
    return y_pred.astype(dtype), labels
