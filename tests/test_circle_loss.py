"""Tests of the circle loss (nnlab.embedding_losses.Circle, Keras's "circle"): its value and
gradient against Keras's, numerical gradients, Keras's reduction over the rows with pairs,
extremes, the forms of its labels and their comparison, the slopes at the kinks, and a
model trained on it, saved and loaded."""

import json
import re
import warnings

import numpy as np
import pytest

import nnlab as nl
from nnlab.losses import Circle

SETTINGS = [{}, {"gamma": 16.0, "margin": 0.25, "remove_diagonal": False},
            {"gamma": 2.0, "margin": -0.3}]


def batch(n=9, d=5, classes=4, seed=0, unit=True):
    """Embeddings (unit vectors unless ``unit=False``) and integer labels."""
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(n, d))
    if unit:
        y /= np.linalg.norm(y, axis=1, keepdims=True)
    return y, rng.integers(0, classes, n)


def keras_circle(monkeypatch, y, labels, dtype, **settings):
    """Keras's Circle of ``(labels, y)`` and its gradient by torch's autograd.

    Keras 3.15 casts the 64-bit results of its type promotion to 32 bits (as JAX does by
    default), so its matmul of float64 embeddings is float32, and so is everything after it;
    for float64 that cast is switched off here, and Keras's code runs in float64 throughout.
    """
    keras = pytest.importorskip("keras")
    torch = pytest.importorskip("torch")
    if dtype == "float64":
        from keras.src.backend.common import dtypes
        monkeypatch.setattr(dtypes, "BIT64_TO_BIT32_DTYPE", {})
    t = torch.tensor(y, dtype=getattr(torch, dtype), requires_grad=True)
    value = keras.losses.Circle(dtype=dtype, **settings)(torch.tensor(labels), t)
    value.backward()
    return float(value.detach()), t.grad.numpy()


@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("seed", range(4))
def test_circle_equals_keras_s_value_and_gradient_in_float64(monkeypatch, settings, seed):
    y, labels = batch(seed=seed, unit=seed != 3)   # seed 3: vectors of any length
    value, grad = keras_circle(monkeypatch, y, labels, "float64", **settings)
    loss = Circle(**settings)
    assert loss(y, labels) == pytest.approx(value, rel=1e-9)
    # gamma = 80 multiplies the rounding of a distance by up to 1e2 in an exponent
    np.testing.assert_allclose(loss.gradient(y, labels), grad, rtol=0,
                               atol=1e-9 * np.abs(grad).max())


@pytest.mark.parametrize("settings", SETTINGS)
def test_circle_equals_keras_s_in_float32(monkeypatch, settings):
    y, labels = batch(seed=5)
    y32 = y.astype(np.float32)
    value, grad = keras_circle(monkeypatch, y32, labels, "float32", **settings)
    loss = Circle(**settings)
    assert loss(y32, labels) == pytest.approx(value, rel=1e-5)
    mine = loss.gradient(y32, labels)
    assert mine.dtype == np.float32
    np.testing.assert_allclose(mine, grad, rtol=0, atol=1e-4 * np.abs(grad).max())


@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("unit", [True, False])
def test_circle_gradient_passes_the_numerical_check(settings, unit):
    y, labels = batch(n=8, d=4, classes=3, seed=1, unit=unit)
    loss = Circle(**settings)
    assert nl.gradcheck.check(loss, y, labels) < 1e-6
    value, grad = loss.forward_backward(*loss.check(y, labels))
    assert value == loss(y, labels) and np.array_equal(grad, loss.gradient(y, labels))


def test_circle_by_its_formula():
    # Rows 0.2 apart share a label; for each row a positive at d = 0.2 and negatives at
    # d = 1 and 1.6 (rows 0, 3) or 0.4 and 1 (rows 1, 2).
    y = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]])
    gamma, m = 80.0, 0.4

    def pull(d):
        return gamma * max(m + d, 0) * (d - m)

    def push(d):
        return gamma * max(1 + m - d, 0) * (1 - m - d)

    outer = np.logaddexp(0, pull(0.2) + np.logaddexp(push(1.0), push(1.6)))
    inner = np.logaddexp(0, pull(0.2) + np.logaddexp(push(0.4), push(1.0)))
    assert Circle()(y, [0, 0, 1, 1]) == pytest.approx((outer + inner) / 2, rel=1e-12)


def test_circle_averages_over_the_rows_that_have_both_kinds_of_pair():
    # Keras's mask (loss > 0): a label seen once (no positive) and a batch of one label
    # (no negative) leave their rows out of the mean, with no gradient.
    y, _ = batch(n=6, d=3, seed=2)
    labels = np.array([0, 0, 1, 1, 1, 2])             # row 5: no positive
    loss = Circle()
    full, grad = loss(y, labels), loss.gradient(y, labels)
    assert np.isfinite(full) and np.isfinite(grad).all()
    # without row 5, whose loss is 0 (and which is a negative of the others): not counted
    alone = Circle()._rows(*loss.check(y, labels))[0]
    assert alone[5] == 0 and full == pytest.approx(alone[:5].sum() / 5, rel=1e-14)
    assert loss(y, np.zeros(6)) == 0.0 and not loss.gradient(y, np.zeros(6)).any()
    assert loss(y, np.arange(6)) == 0.0   # no positive anywhere
    assert Circle(remove_diagonal=False)(y, np.arange(6)) > 0   # each row its own positive


def test_labels_name_classes_by_equality_in_any_form():
    y, labels = batch(seed=3)
    loss = Circle()
    expected = loss(y, labels)
    renamed = np.array([-7, 10**6, 3, 42])[labels]
    for form in (renamed, labels[:, None], labels.astype(float), np.repeat(labels[:, None], 5, 1)):
        assert loss(y, form) == expected
    np.testing.assert_array_equal(loss.check_targets(labels, n_outputs=5),
                                  np.repeat(labels[:, None], 5, 1).astype(float))
    assert loss.check(y.astype(np.float32), labels)[1].dtype == np.float64   # labels' own


def test_labels_are_compared_as_given_not_in_float32():
    # float32 holds the integers exactly only up to 2**24: cast to y_pred's dtype, 2**24 + 1
    # became 2**24, and each row's negative (the same one-hot row) a positive: a loss of 0.
    y = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    labels = np.array([2**24, 2**24 + 1, 2**24, 2**24 + 1])
    loss = Circle()
    expected, expected_grad = loss(y, [0, 1, 0, 1]), loss.gradient(y, [0, 1, 0, 1])
    assert expected > 100 and loss(y, labels) == expected
    y32 = y.astype(np.float32)
    assert loss(y32, labels) == pytest.approx(expected, rel=1e-6)
    grad = loss.gradient(y32, labels)
    assert grad.dtype == np.float32   # the maths in y_pred's dtype
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-6)
    assert loss(y32, [2**24, 2**24, 2**24, 2**24]) == 0.0   # one label: no negative


def test_at_the_tie_s_1_the_clip_gives_no_gradient():
    # Rows 0 and 1 (and 2 and 3) are one one-hot vector but two labels: s = 1 and d = 0 at
    # the kink of d = max(1 - s, 0), whose slope is taken as 0 there. What is left: each
    # row's positive, at d = 1, with dl/dd = sigmoid(r) 2 gamma d = 160, over the 4 rows:
    # dL/ds = -40 on s_02, s_20, s_13 and s_31, and (G + G^T) Y = -80 along the positive.
    # (The negatives at d = 1 have the slope -2 gamma (1 - d) = 0.)
    y = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    np.testing.assert_array_equal(Circle().gradient(y, [0, 1, 0, 1]),
                                  [[0, -80], [0, -80], [-80, 0], [-80, 0]])


def test_keras_takes_half_the_clip_s_slope_at_the_tie(monkeypatch):
    # Keras's maximum(1 - s, 0), differentiated by torch, has the slope 1/2 at s = 1: the
    # negative at the tie adds sigmoid(r) 2 gamma / 4 / 2 = 20 to dL/ds on s_01 and s_10,
    # 40 along the other row. Both are subgradients.
    y = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    value, grad = keras_circle(monkeypatch, y, np.array([0, 1, 0, 1]), "float64")
    assert value == pytest.approx(Circle()(y, [0, 1, 0, 1]), rel=1e-12)
    np.testing.assert_allclose(grad, Circle().gradient(y, [0, 1, 0, 1]) + 40 * y[[1, 0, 3, 2]],
                               rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_circle_is_quiet_and_finite_at_huge_embeddings(dtype):
    rng = np.random.default_rng(4)
    y = rng.choice([-1e4, 0.0, 1e4], size=(8, 3)).astype(dtype)
    labels = [0, 0, 1, 1, 2, 2, 3, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            for settings in SETTINGS:
                value, grad = Circle(**settings)(y, labels), Circle(**settings).gradient(y, labels)
                assert np.isfinite(value) and np.isfinite(grad).all() and grad.dtype == dtype


@pytest.mark.parametrize("y_pred, y_true, message", [
    (np.ones(4), [0], "y_pred must be (N, d), one embedding per row; got shape (4,)"),
    (np.ones((2, 3, 2)), [0, 1], "y_pred must be (N, d)"),
    (np.ones((0, 3)), [], "y_pred must not be empty"),
    (np.ones((3, 2)), [0, 1], "one integer label per embedding, (3,) or (3, 1) for y_pred of "
                              "shape (3, 2); got shape (2,)"),
    (np.ones((3, 2)), np.eye(3)[:, :2], "got shape (3, 2)"),   # one-hot rows are no labels
    (np.ones((3, 2)), [0, 1.5, 2], "labels must be integers (they name the classes); got 1.5"),
    (np.ones((3, 2)), [0, np.nan, 2], "NaN or infinite"),
    (np.full((3, 2), np.inf), [0, 1, 2], "NaN or infinite"),
])
def test_circle_refuses_bad_input_naming_it(y_pred, y_true, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        Circle()(y_pred, y_true)


@pytest.mark.parametrize("kwargs, message", [
    ({"gamma": 0}, "Circle gamma must be in (0, inf); got 0"),
    ({"gamma": "80"}, "Circle gamma must be a real number; got '80'"),
    ({"margin": float("inf")}, "Circle margin must be finite; got inf"),
    ({"remove_diagonal": 1}, "Circle remove_diagonal must be True or False; got 1"),
])
def test_circle_refuses_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        Circle(**kwargs)


def test_get_finds_circle_and_its_config_round_trips():
    assert type(nl.losses.get("circle")) is Circle and type(nl.losses.get("Circle")) is Circle
    assert "circle" in nl.losses.NAMES
    loss = nl.losses.get("circle", gamma=np.float32(32.0), margin=0.25)
    config = json.loads(json.dumps(loss.get_config()))
    assert config == {"gamma": 32.0, "margin": 0.25, "remove_diagonal": True}
    assert repr(nl.losses.get("circle", **config)) == repr(loss) == (
        "Circle(gamma=32.0, margin=0.25, remove_diagonal=True)")


def test_a_model_trained_on_circle_separates_the_classes_and_is_saved(tmp_path):
    # Softmax embeddings: their dot products stay in [0, 1], so no distance is clipped at 0
    # (but at the tie of two equal one-hot outputs). Keras's models end with a
    # UnitNormalization layer, which nnlab does not have; free vectors of two classes whose
    # dot product passed 1 would stay stuck, with no gradient.
    X, y = nl.datasets.blobs(90, centers=3, seed=0)
    model = nl.Sequential([nl.Dense(2, 16, rng=0), nl.Activation("tanh"), nl.Dense(16, 4, rng=1),
                           nl.Activation("softmax")])
    model.compile("circle", nl.optimizers.Adam(0.01))
    history = model.fit(X, y, epochs=15, batch_size=30, validation_data=(X, y), seed=0).history
    assert history["val_loss"][-1] < 0.02 * history["val_loss"][0]
    assert model.evaluate(X, y) == pytest.approx(Circle()(model.predict(X), y), rel=1e-12)
    e = model.predict(X)
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    cos = e @ e.T
    same = y[:, None] == y
    assert cos[same].mean() > 0.95 and cos[~same].mean() < 0.2
    loaded = nl.load_model(model.save(tmp_path / "circle"))
    assert repr(loaded.loss) == repr(model.loss) and loaded.evaluate(X, y) == model.evaluate(X, y)
    with pytest.raises(ValueError, match="labels must be integers"):
        model.fit(X, y + 0.5, epochs=1)


def test_at_the_pull_kink_the_slope_is_the_one_from_below():
    # With m = -(1 - s_01), the positive pair 0-1 sits at m + d = 0, the kink of
    # a = [m + d]_+. nnlab's slope 0 there is the derivative from the side where a = 0 (s
    # grows, d falls): a forward difference that moves y_1 towards y_0 matches the gradient,
    # one that moves it away does not (it sees the pull's slope gamma (d - m)).
    y = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]])
    labels = [0, 0, 1, 1]
    loss = Circle(gamma=2.0, margin=-(1 - 0.8))
    grad = loss.gradient(y, labels)
    towards = np.zeros_like(y)
    towards[1] = y[0] - 0.8 * y[1]   # raises s_01 = y_0 . y_1
    h = 1e-7
    for v, side_with_no_pull in ((towards, True), (-towards, False)):
        slope = (loss(y + h * v, labels) - loss(y, labels)) / h
        assert (slope == pytest.approx(np.sum(grad * v), rel=1e-4)) == side_with_no_pull
