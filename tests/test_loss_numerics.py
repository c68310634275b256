"""Tests of the numerics and input handling of nnlab.losses: stability at huge scores and
extreme probabilities, dtypes, target forms, bad input, names and configuration."""

import json
import warnings

import numpy as np
import pytest

import nnlab as nl
from nnlab import losses, metrics
from nnlab.embedding_losses import Circle
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
from tests.loss_cases import ALL_LOSSES, EPS, batch_for

# -- numerics: stability at +-1e4, dtypes ----------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss", ALL_LOSSES, ids=repr)
def test_stable_and_finite_at_huge_scores(loss, dtype):
    y_pred, y_true = batch_for(loss, dtype, big=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            value, grad = loss(y_pred, y_true), loss.gradient(y_pred, y_true)
    assert np.isfinite(value) and np.all(np.isfinite(grad))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss", [loss for loss in ALL_LOSSES
                                  if np.abs(batch_for(loss, np.float64, big=True)[0]).max() == 1e4],
                         ids=repr)
def test_results_that_underflow_raise_no_error_where_the_caller_raises_on_errors(loss, dtype):
    # Scores 95 apart (float32) or 740 (float64) put a softmax's share, or a sigmoid, among
    # the subnormal numbers: an underflow, whose 0 or subnormal result is the right answer.
    y_pred, y_true = batch_for(loss, dtype, big=True)
    y_pred = (y_pred / 1e4 * (95 if dtype == np.float32 else 740)).astype(dtype)
    with np.errstate(all="raise"):
        value, grad = loss(y_pred, y_true), loss.gradient(y_pred, y_true)
    assert np.isfinite(value) and np.all(np.isfinite(grad))


#: The losses that take probabilities, which the scores' test above cannot push to 0 and 1.
PROBABILITY_LOSSES = [loss for loss in ALL_LOSSES
                      if getattr(loss, "from_logits", None) is False
                      or isinstance(loss, KLDivergence | Dice)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss", PROBABILITY_LOSSES, ids=repr)
def test_stable_and_finite_at_probabilities_as_near_0_and_1_as_the_dtype_holds(loss, dtype):
    # Exactly 0 and 1, the smallest subnormal and normal numbers, and 1 - epsneg, the
    # largest number below 1: log(0), 0 / 0 and 1 - p = 0 wait at these edges.
    f = np.finfo(dtype)
    tiny, sub, below_1 = float(f.tiny), float(f.smallest_subnormal), 1 - float(f.epsneg)
    y_pred = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [below_1, float(f.epsneg), 0.0],
                       [sub, tiny, 1.0], [0.0, 0.0, 1.0]], dtype=dtype)
    labels = np.array([0, 0, 1, 2, 0])
    if isinstance(loss, BinaryCrossEntropy | BinaryFocalCrossEntropy | Dice):
        y_true = np.eye(3)[labels]
    elif isinstance(loss, KLDivergence):
        y_true = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [below_1, 0.0, 1 - below_1],
                           [0.0, 0.0, 1.0], [1 / 3, 1 / 3, 1 / 3]])
    else:
        y_true = labels
    # A product of tiny numbers underflows to 0, the right answer: no error, even here.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            value, grad = loss(y_pred, y_true), loss.gradient(y_pred, y_true)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert grad.dtype == dtype


def test_the_clip_lets_the_gradient_through_at_its_bounds_as_torch_clamp_does():
    # Probabilities exactly at 1e-7 and 1 - 1e-7 are not clipped away: their gradient is the
    # log's, as torch.clamp's backward gives (its mask is min <= p <= max), not 0.
    torch = pytest.importorskip("torch")
    p, y = np.array([[EPS, 1 - EPS], [1 - EPS, EPS]]), np.array([[1.0, 0.0], [0.0, 1.0]])
    tp, ty = torch.tensor(p, requires_grad=True), torch.tensor(y)
    c = tp.clamp(EPS, 1 - EPS)
    (-(ty * c.log() + (1 - ty) * (1 - c).log()).mean()).backward()
    np.testing.assert_allclose(BinaryCrossEntropy().gradient(p, y), tp.grad.numpy(), rtol=1e-12)
    tp.grad = None
    c = tp.clamp(EPS, 1 - EPS)
    (-(ty * c.log()).sum(axis=1).mean()).backward()
    np.testing.assert_allclose(CategoricalCrossEntropy().gradient(p, y), tp.grad.numpy(),
                               rtol=1e-12)


def test_huge_logits_give_exact_values():
    z = np.array([[1e4, -1e4], [-1e4, 1e4]])
    assert CategoricalCrossEntropy(from_logits=True)(z, [0, 0]) == pytest.approx(1e4)
    assert BinaryCrossEntropy(from_logits=True)(z, [[1, 0], [1, 0]]) == pytest.approx(5e3)
    assert BinaryCrossEntropy(from_logits=True)(z, [[1, 0], [0, 1]]) == 0.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss", [BinaryCrossEntropy(from_logits=True),
                                  BinaryFocalCrossEntropy(gamma=0.0, from_logits=True)],
                         ids=repr)
def test_confident_right_logits_keep_their_small_loss(loss, dtype):
    # A right answer at logit z costs log(1 + e^-|z|): e^-40 is no 0 (softplus(z) - z was).
    z = np.array([[10.0, 20.0, 40.0, -20.0, -40.0]], dtype=dtype)
    y = np.array([[1, 1, 1, 0, 0]], dtype=dtype)
    expected = np.mean(np.log1p(np.exp(-np.abs(z.astype(np.float64)))))
    rel = 1e-6 if dtype == np.float32 else 1e-13
    assert loss(z, y) == pytest.approx(expected, rel=rel, abs=0)
    for k in range(1, 5):   # each alone: the smallest are not lost in the others
        one = loss(z[:, k:k + 1], y[:, k:k + 1])
        assert one == pytest.approx(np.log1p(np.exp(-abs(float(z[0, k])))), rel=rel, abs=0)


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=repr)
def test_float32_in_float32_gradient_out(loss):
    y_pred, y_true = batch_for(loss, np.float32)
    grad = loss.gradient(y_pred, y_true)
    assert grad.dtype == np.float32
    ref = loss.gradient(y_pred.astype(np.float64), y_true)
    np.testing.assert_allclose(grad, ref, rtol=1e-4, atol=1e-6)
    assert loss(y_pred, y_true) == pytest.approx(loss(y_pred.astype(np.float64), y_true),
                                                 rel=1e-5)
    assert isinstance(loss(y_pred, y_true), float)


# -- target forms ------------------------------------------------------------------------

@pytest.mark.parametrize("loss", [CategoricalCrossEntropy(), CategoricalCrossEntropy(True),
                                  MulticlassHinge()], ids=repr)
def test_integer_labels_equal_one_hot(loss):
    y_pred, labels = batch_for(loss, np.float64)
    one_hot = np.eye(3)[labels]
    for y in (labels, labels.reshape(-1, 1), labels.astype(float), one_hot.astype(int)):
        assert loss(y_pred, y) == loss(y_pred, one_hot)
        np.testing.assert_array_equal(loss.gradient(y_pred, y), loss.gradient(y_pred, one_hot))


def test_column_targets_and_single_samples():
    p = np.array([[0.9], [0.3]])
    bce = BinaryCrossEntropy()
    assert bce(p, [1, 0]) == bce(p, [[1], [0]]) == bce(p.ravel(), [[1], [0]])
    assert bce.gradient(p, [1, 0]).shape == (2, 1)
    cce = CategoricalCrossEntropy()
    assert cce([0.7, 0.2, 0.1], 0) == cce([[0.7, 0.2, 0.1]], [0]) == cce([0.7, 0.2, 0.1],
                                                                           [1, 0, 0])
    assert cce.gradient([0.7, 0.2, 0.1], 0).shape == (3,)
    assert MSE()(3.0, 1.0) == 4.0


def test_check_targets_normalises_the_whole_target_array():
    np.testing.assert_array_equal(MulticlassHinge().check_targets([2, 0], 3),
                                  [[0, 0, 1], [1, 0, 0]])
    assert BinaryCrossEntropy().check_targets([0, 1, 1], 1).shape == (3, 1)
    assert MSE().check_targets(np.zeros((5, 2), np.float32), 2).dtype == np.float32
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        CategoricalCrossEntropy().check_targets([0, 3], 3)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2,\)"):
        MSE().check_targets([1.0, 2.0], 3)
    with pytest.raises(ValueError, match="n_outputs"):
        MSE().check_targets([1.0], 0)
    with pytest.raises(ValueError, match="-1 or \\+1"):
        Hinge().check_targets([1, 0], 1)


# -- bad input -----------------------------------------------------------------------------

P3 = np.full((2, 3), 1 / 3)
BAD = [
    (MSE(), np.ones((3, 2)), np.ones((3, 3)), r"MSE\(\).*\(3, 2\).*\(3, 3\)"),
    (MSE(), np.ones((3, 2)), np.ones(6), r"\(3, 2\).*\(6,\)"),
    (MSE(), [np.nan], [1.0], "NaN"),
    (MSE(), [1.0], [np.inf], "NaN or infinite"),
    (MSE(), np.ones((0, 2)), np.ones((0, 2)), "empty"),
    (MSE(), ["a"], [1.0], "numeric"),
    (Huber(), np.ones((3, 2)), np.ones((3, 3)), r"Huber\(delta=1.0\).*\(3, 2\).*\(3, 3\)"),
    (Huber(delta=2.0), [np.inf], [1.0], r"Huber\(delta=2.0\): y_pred contains 1 NaN"),
    (BinaryCrossEntropy(), [0.5], [2], r"y_true must be in \[0, 1\]"),
    (BinaryCrossEntropy(), [1.5], [1], "from_logits=True"),
    (BinaryCrossEntropy(), [-0.1], [1], r"\[0, 1\]"),
    (CategoricalCrossEntropy(), P3, [0, 5], r"\[0, 2\] for 3 outputs; got 5"),
    (CategoricalCrossEntropy(True), P3, [-1, 0], r"\[0, 2\].*got -1"),
    (CategoricalCrossEntropy(), P3, [0.5, 1], r"integers in \[0, 2\]"),
    (CategoricalCrossEntropy(), P3 * 4, [0, 1], "from_logits=True"),
    (CategoricalCrossEntropy(), P3, np.full((2, 3), 2.0), r"y_true must be in \[0, 1\]"),
    (CategoricalCrossEntropy(), P3, np.eye(2), r"CategoricalCrossEntropy.*\(2, 3\).*\(2, 2\)"),
    (CategoricalCrossEntropy(), P3, [0, 1, 2], r"\(2, 3\).*\(3,\)"),
    (CategoricalCrossEntropy(), np.ones((2, 1)), [0, 0], "at least 2"),
    (CategoricalCrossEntropy(), np.ones((2, 3, 1)), [0, 0], "classes on the last axis"),
    (KLDivergence(), P3, [0, 1], r"KLDivergence.*\(2, 3\).*\(2,\)"),
    (KLDivergence(), P3 * 4, P3, r"y_pred must be in \[0, 1\]"),
    (KLDivergence(), P3, -P3, r"y_true must be in \[0, 1\]"),
    (Hinge(), [0.5], [0], r"-1 or \+1; got 0"),
    (Hinge(), [0.5, 1.0], [1, 2], "got 2"),
    (MulticlassHinge(), P3, [0, 3], r"\[0, 2\]"),
    (MulticlassHinge(), P3, P3, "one-hot"),
    (MulticlassHinge(), [[np.inf, 0]], [0], "NaN or infinite"),
]


@pytest.mark.parametrize(("loss", "y_pred", "y_true", "match"), BAD)
def test_bad_input_raises_value_error_naming_the_problem(loss, y_pred, y_true, match):
    with pytest.raises(ValueError, match=match):
        loss(y_pred, y_true)
    with pytest.raises(ValueError, match=match):
        loss.gradient(y_pred, y_true)


@pytest.mark.parametrize(("delta", "match"), [
    (0, r"Huber delta must be in \(0, inf\); got 0$"),
    (-1.5, r"Huber delta must be in \(0, inf\); got -1.5$"),
    (float("nan"), "Huber delta must be finite; got nan$"),
    (float("inf"), "Huber delta must be finite; got inf$"),
    ("1", "Huber delta must be a real number; got '1'$"),
    (None, "Huber delta must be a real number; got None$"),
    (True, "Huber delta must be a real number; got True$"),
    ([1.0], r"Huber delta must be a real number; got \[1.0\]$"),
])
def test_huber_rejects_a_delta_that_is_not_a_positive_finite_number(delta, match):
    with pytest.raises(ValueError, match=match):
        Huber(delta)
    with pytest.raises(ValueError, match=match):
        losses.get("huber", delta=delta)


def test_from_logits_accepts_any_finite_score():
    assert np.isfinite(BinaryCrossEntropy(from_logits=True)([-3.0, 7.0], [0, 1]))
    assert np.isfinite(CategoricalCrossEntropy(from_logits=True)(P3 * 9, [0, 1]))
    with pytest.raises(ValueError, match="from_logits"):
        BinaryCrossEntropy(from_logits="yes")


# -- names and configuration ----------------------------------------------------------------

def test_get_names_aliases_and_config_round_trip():
    expected = {"mse": MSE, "mean_squared_error": MSE, "mae": MAE, "mean_absolute_error": MAE,
                "binary_crossentropy": BinaryCrossEntropy,
                "categorical_crossentropy": CategoricalCrossEntropy,
                "sparse_categorical_crossentropy": CategoricalCrossEntropy,
                "kl_divergence": KLDivergence, "kld": KLDivergence,
                "kullback_leibler_divergence": KLDivergence, "hinge": Hinge,
                "multiclass_hinge": MulticlassHinge, "huber": Huber, "log_cosh": LogCosh,
                "logcosh": LogCosh, "poisson": Poisson, "squared_hinge": SquaredHinge,
                "categorical_hinge": CategoricalHinge, "msle": MeanSquaredLogarithmicError,
                "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
                "mape": MeanAbsolutePercentageError,
                "mean_absolute_percentage_error": MeanAbsolutePercentageError,
                "binary_focal_crossentropy": BinaryFocalCrossEntropy, "bce": BinaryCrossEntropy,
                "categorical_focal_crossentropy": CategoricalFocalCrossEntropy,
                "cosine_similarity": CosineSimilarity, "dice": Dice, "tversky": Tversky,
                "circle": Circle}
    assert set(losses.NAMES) == set(expected)
    for name, cls in expected.items():
        assert type(losses.get(name)) is cls
    assert losses.get("Binary_CrossEntropy", from_logits=True).from_logits
    loss = CategoricalCrossEntropy(from_logits=True)
    assert losses.get(loss) is loss
    config = json.loads(json.dumps(loss.get_config()))
    assert config == {"from_logits": True}
    assert losses.get(loss.name, **config).from_logits
    assert MSE().get_config() == {}
    huber = losses.get("huber", delta=np.float32(2.5))
    assert type(huber) is Huber and type(losses.get("Huber")) is Huber   # Keras's two names
    assert json.loads(json.dumps(huber.get_config())) == {"delta": 2.5}
    assert losses.get(huber.name, **huber.get_config()).delta == 2.5
    assert Huber().get_config() == {"delta": 1.0} and repr(huber) == "Huber(delta=2.5)"
    with pytest.raises(ValueError, match="unknown loss 'huber_loss'"):   # nor is it Keras's
        losses.get("huber_loss")
    with pytest.raises(ValueError, match=r"valid names are: .*hinge"):
        losses.get("cross_entropie")
    for name in ("crossentropy", "Cross_Entropy", "ce"):   # Keras guesses one from the data
        with pytest.raises(ValueError, match=r"could be any of three .*'binary_crossentropy'"
                           r".*'categorical_crossentropy'.*'sparse_categorical_crossentropy'"
                           r".*from_logits=True"):
            losses.get(name)
    with pytest.raises(ValueError, match="loss name"):
        losses.get(loss, from_logits=False)
    # compile(loss=MSE) for compile(loss=MSE()): the class, not an instance
    with pytest.raises(ValueError, match=r"^loss MSE is a class: pass an instance, MSE\(\), "
                                         r"or a name, one of: .*mse"):
        losses.get(MSE)
    with pytest.raises(ValueError, match=r"^metric BinaryCrossEntropy is a class: pass an "
                                         r"instance, BinaryCrossEntropy\(\)"):
        metrics.get(BinaryCrossEntropy)
    with pytest.raises(ValueError, match=r"must be given by name \(a str\).*got <class 'int'>"):
        losses.get(int)
    with pytest.raises(ValueError, match="'mse' takes no argument from_logits; it takes none"):
        losses.get("mse", from_logits=True)
    with pytest.raises(ValueError, match="'hinge' takes no argument margin; it takes none"):
        losses.get("hinge", margin=2.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_perfect_fit_has_a_loss_of_0_not_minus_0(dtype):
    # -sum(y log p) with every log p exactly 0 was -0.0, which evaluate printed as -0.0.
    z, y = np.array([[100.0, 0.0], [0.0, 100.0]], dtype), np.eye(2, dtype=dtype)
    cce = losses.CategoricalCrossEntropy(from_logits=True)
    cosine = losses.get("cosine_similarity")
    for value in (cce(z, y), cce.forward_backward(z, y)[0],
                  cosine(np.array([[1.0, 0.0]], dtype), np.array([[0.0, 1.0]], dtype))):
        assert value == 0 and np.copysign(1.0, value) == 1.0


def test_fit_raises_no_error_on_an_underflow_where_the_caller_raises_on_errors():
    # Logits 95 apart in float32: the focal loss's factors underflow in every step.
    model = nl.Sequential([nl.Dense(1, 3, init="zeros", dtype="float32")])
    model.layers[0].params["W"][:] = [[0.0, 95.0, 0.0]]
    model.compile(CategoricalFocalCrossEntropy(from_logits=True), nl.optimizers.SGD(1e-6))
    with np.errstate(all="raise"):
        history = model.fit(np.ones((4, 1)), np.array([0, 1, 2, 1]), epochs=2, batch_size=4)
    assert model.stop_reason is None and np.all(np.isfinite(history.history["loss"]))
