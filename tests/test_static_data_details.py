"""What the data behind a static page means, worked out by hand: the key each frame is
filed under, the control the page opens on, the bounds a follower gets; the worked 2-2-1
example's backward pass; DNA motifs and the toy sets against their definitions."""

import base64
import html
import io
import json
import re

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from nnlab import datasets as D
from nnlab import examples, static
from nnlab.static import Spec
from tests.helpers import numeric_grad, rel_error, static_page_data

# --- static pages ---------------------------------------------------------------------

#: A grid control, a numeric slider whose current value the spec lacks, a switch the same.
SPEC = Spec({"act": ["relu", "tanh"], "lr": [0.01, 1.0], "on": [False]}, grid=("act",))
CURRENT = {"act": "tanh", "lr": 0.1, "on": True}
LABELS = {"act": "activation", "lr": "rate", "on": "bias"}


def page_of(spec, current, png=lambda setting: json.dumps(setting, sort_keys=True).encode()):
    """A static page whose frames each name their own setting: their "png" bytes are the
    setting's JSON (by default), their numbers too."""
    frames = [(s, png(s), f"numbers {json.dumps(s, sort_keys=True)}")
              for s in static.settings(spec, current)]
    return static.render("demo", {c: LABELS.get(c, c) for c in spec.vary}, spec, current,
                         frames)


def frame_settings(page):
    """Key -> the setting whose frame the page files under it (read from its image)."""
    data = static_page_data(page)
    return {key: json.loads(base64.b64decode(data["images"][image].split(",")[1]))
            for key, (image, _) in data["frames"].items()}


def test_each_frame_is_filed_under_the_positions_of_its_values():
    # The values offered: act (relu, tanh); lr (0.01, 0.1, 1): the current 0.1 added in
    # order; on (True, False): a switch is no number, so the current value comes first.
    assert SPEC.values("lr", 0.1) == [0.01, 0.1, 1.0]
    assert SPEC.values("on", True) == [True, False]
    assert frame_settings(page_of(SPEC, CURRENT)) == {
        "0,1,0": {"act": "relu"}, "0,0,0": {"act": "relu", "lr": 0.01},
        "0,2,0": {"act": "relu", "lr": 1.0}, "0,1,1": {"act": "relu", "on": False},
        "1,1,0": {"act": "tanh"}, "1,0,0": {"act": "tanh", "lr": 0.01},
        "1,2,0": {"act": "tanh", "lr": 1.0}, "1,1,1": {"act": "tanh", "on": False}}


def test_the_page_opens_on_the_current_setting_and_resets_to_it():
    page = page_of(SPEC, CURRENT)
    data = static_page_data(page)
    # static_explorer.js puts a non-grid control back to its default when a setting has no
    # frame: the position of its current value. A grid control is never put back.
    assert [(c["name"], c["grid"], c["default"]) for c in data["controls"]] == [
        ("act", True, 1), ("lr", False, 1), ("on", False, 0)]
    # The first frame shown is the current setting's, not the first setting's (relu).
    shown = re.search(r'<img src="data:image/png;base64,([^"]+)"', page).group(1)
    assert json.loads(base64.b64decode(shown)) == {"act": "tanh"}
    assert 'aria-live="polite">numbers {"act": "tanh"}</div>' in page
    assert re.search(r'alt="([^"]*)"', page).group(1) == (
        "The demo&#x27;s figure. Settings: activation tanh, rate 0.1, bias on")


def test_each_control_shows_its_current_value():
    page = page_of(SPEC, CURRENT)
    assert re.search(r'<select name="act">(.*?)</select>', page).group(1) == (
        '<option value="0">relu</option><option value="1" selected>tanh</option>')
    # A switch is a choice between on and off, not a slider of two positions.
    assert re.search(r'<select name="on">(.*?)</select>', page).group(1) == (
        '<option value="0" selected>on</option><option value="1">off</option>')
    slider = re.search(r'<input type="range" name="lr"[^>]*>', page).group(0)
    assert 'max="2"' in slider and 'value="1"' in slider and 'aria-valuetext="0.1"' in slider
    # The readouts the page's script shows: as ``:g`` writes them, so 1.0 is "1".
    labels = json.loads(html.unescape(re.search(r'data-labels="([^"]*)"', slider).group(1)))
    assert labels == ["0.01", "0.1", "1"]


def test_a_label_of_the_spec_and_a_tuple_value_are_written_as_the_page_shows_them():
    spec = Spec({"names": [("SGD",), ("SGD", "Adam")]}, labels={"names": {("SGD",): "one"}})
    page = page_of(spec, {"names": ("SGD",)})
    assert re.findall(r">([^<]+)</option>", page) == ["one", "SGD, Adam"]


def test_frames_that_draw_the_same_figure_share_one_image():
    page = page_of(SPEC, CURRENT, png=lambda setting: b"same")
    data = static_page_data(page)
    assert len(data["images"]) == 1 and len(data["frames"]) == 8
    assert {image for image, _ in data["frames"].values()} == {0}


def test_numbers_cannot_close_the_script_that_holds_them():
    # "</script>" in a frame's numbers would end the JSON early, and the page's script with it.
    spec = Spec({"a": [1, 2]})
    frames = [({"a": 1}, b"p", "1"), ({"a": 2}, b"p", "one </script> two")]
    page = static.render("demo", {"a": "a"}, spec, {"a": 1}, frames)
    payload = re.search(r'class="nnlab-frames">(.*?)</script><script>', page, re.S).group(1)
    assert "</" not in payload and json.loads(payload)["frames"]["1"][1] == "one </script> two"


def test_a_follower_gets_the_positions_of_its_bounds_for_each_leader_value():
    # The follower comes first in ``vary``, its leader second: the leader's position is 1.
    spec = Spec({"p": [-1.0, 0.0, 0.5, 1.0], "loss": ["mse", "bce"]}, grid=("p", "loss"),
                follow={"p": ("loss", {"mse": (-1.0, 1.0, None), "bce": (0.0, 0.5, 0.5)})})
    data = static_page_data(page_of(spec, {"p": 0.0, "loss": "mse"}))
    # mse: every position, no start; bce: 0.0 (position 1, its low bound included) to 0.5
    # (position 2, its high bound included), starting at 0.5.
    assert data["controls"][0]["follow"] == [1, [[0, 3, None], [1, 2, 2]]]
    assert "follow" not in data["controls"][1]


def test_the_note_names_the_controls_that_move_alone_when_there_is_no_grid():
    spec = Spec({"a": [1, 2], "b": [3, 4]})
    assert static.describe(spec, {"a": "rate", "b": "steps"}) == (
        "Precomputed frames: rate and steps one at a time (moving one resets the others).")


def test_small_png_maps_each_color_to_one_palette_entry_without_dithering():
    # A smooth ramp has more colors than the palette. Undithered, the pixels of one column,
    # all one color, stay one color; dithering would scatter them (and bloat the PNG).
    figure = Figure(figsize=(3, 1))
    axes = figure.add_axes((0, 0, 1, 1))
    axes.imshow(np.linspace(0, 1, 300)[None, :], aspect="auto", cmap="viridis")
    axes.set_axis_off()
    image = np.asarray(Image.open(io.BytesIO(static.small_png(figure))).convert("RGB"))
    columns = image[5:-5].astype(int)
    assert len(np.unique(columns.reshape(-1, 3), axis=0)) > 20
    assert np.all(columns == columns[:1])


# --- the worked 2-2-1 example ---------------------------------------------------------


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_one_training_step_of_the_worked_example_by_hand():
    # The chain rule of chapter 9 on the lecture's numbers, C = (y_hat - y)^2.
    x, y = np.array([1.0, 0.5]), 1.0
    w1, b1 = np.array([[0.2, -0.4], [0.6, 0.1]]), np.array([0.1, -0.2])
    w2, b2 = np.array([0.5, -0.3]), 0.2
    a1 = sigmoid(w1 @ x + b1)                  # z1 = (0.1, 0.45)
    y_hat = sigmoid(w2 @ a1 + b2)
    delta2 = 2 * (y_hat - y) * y_hat * (1 - y_hat)
    delta1 = delta2 * w2 * a1 * (1 - a1)
    dw1, dw2 = np.outer(delta1, x), delta2 * a1
    model = examples.two_two_one()
    loss = model.train_step(examples.X, examples.Y)
    assert loss == pytest.approx((y_hat - y) ** 2, rel=1e-12)
    # Plain SGD at its default rate 0.01; nnlab stores the weights transposed.
    hidden, output = model.layers[0].params, model.layers[2].params
    np.testing.assert_allclose(hidden["W"], (w1 - 0.01 * dw1).T, rtol=1e-12)
    np.testing.assert_allclose(hidden["b"], b1 - 0.01 * delta1, rtol=1e-12)
    np.testing.assert_allclose(output["W"][:, 0], w2 - 0.01 * dw2, rtol=1e-12)
    np.testing.assert_allclose(output["b"], [b2 - 0.01 * delta2], rtol=1e-12)
    # ... and the hand gradient is the numerical one of the example's loss.
    fresh = examples.two_two_one()
    W1 = fresh.layers[0].params["W"]
    numeric = numeric_grad(lambda: fresh.evaluate(examples.X, examples.Y), W1)
    assert rel_error(numeric, dw1.T) < 1e-7


# --- DNA motifs -----------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, match", [
    ({"mutation_rate": 1.5}, "mutation_rate"), ({"mutation_rate": -0.1}, "mutation_rate"),
    ({"positive_fraction": 1.5}, "positive_fraction"),
    ({"positive_fraction": -0.5}, "positive_fraction")])
def test_dna_motifs_refuses_a_share_outside_0_to_1(kwargs, match):
    with pytest.raises(ValueError, match=match):
        D.dna_motifs(10, length=8, seed=0, **kwargs)


@pytest.mark.parametrize("fraction, positives", [(0.0, 0), (1.0, 40), (0.3, 12)])
def test_dna_motifs_plants_the_motif_in_exactly_the_positive_rows(fraction, positives):
    X, y, positions = D.dna_motifs(40, length=10, motif="gattaca", mutation_rate=0.0,
                                   positive_fraction=fraction, seed=1, return_positions=True)
    assert X.dtype == np.float64 and y.dtype == np.int64 and y.sum() == positives
    for s, label, p in zip(D.decode_dna(X), y, positions, strict=True):
        assert (s[p:p + 7] == "GATTACA" and 0 <= p <= 3) if label else (
            p == -1 and "GATTACA" not in s)


def test_dna_motifs_draws_the_other_bases_of_a_positive_evenly():
    X, y, positions = D.dna_motifs(2000, length=20, seed=0, return_positions=True)
    codes = X.argmax(axis=1)[y == 1]
    outside = np.arange(20) - positions[y == 1, None]
    outside = (outside < 0) | (outside >= 6)
    # About 14,000 bases, each A, C, G or T with chance 1/4: a standard error of 0.004.
    shares = np.bincount(codes[outside], minlength=4) / outside.sum()
    np.testing.assert_allclose(shares, 0.25, atol=0.02)


# --- the toy sets against their definitions --------------------------------------------


def test_spiral_arms_are_one_arm_turned_by_a_class_s_share_of_a_circle():
    # r = 0.2 + 0.8 t, angle = 3.5 pi t + 2 pi c / n_classes, t uniform in [0, 1].
    X, y = D.spirals(600, n_classes=3, noise=0.0, seed=0)
    r = np.hypot(*X.T)
    t = (r - 0.2) / 0.8
    assert r.min() >= 0.2 - 1e-12 and r.max() <= 1 + 1e-12 and r.max() > 0.99
    turn = np.arctan2(X[:, 1], X[:, 0]) - 3.5 * np.pi * t - 2 * np.pi * y / 3
    np.testing.assert_allclose(np.cos(turn), 1.0, atol=1e-12)


def test_moons_lie_on_scikit_learn_s_half_circles():
    # make_moons: (cos t, sin t) and (1 - cos t, 1 - sin t - 0.5) for t in [0, pi].
    X, y = D.moons(400, noise=0.0, seed=0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0)
    assert upper[:, 1].min() >= 0 and lower[:, 1].max() <= 0.5


def test_circles_go_all_the_way_round():
    X, y = D.circles(400, noise=0.0, factor=0.5, seed=0)
    for c in (0, 1):   # each quadrant holds points of each circle
        quadrants = {(bool(a > 0), bool(b > 0)) for a, b in X[y == c]}
        assert len(quadrants) == 4


def test_circles_refuses_an_inner_circle_as_large_as_the_outer_one():
    with pytest.raises(ValueError, match="factor"):
        D.circles(10, factor=1.0, seed=0)


def test_blobs_draws_centers_in_the_square_and_spreads_by_std():
    X, _ = D.blobs(60, centers=60, std=0.0, seed=0)
    # Without noise each point is its center: drawn uniformly in [-5, 5]^2.
    assert X.min() >= -5 and X.max() <= 5 and X.min() < -4 and X.max() > 4
    X, _ = D.blobs(20_000, centers=[[1.0, -2.0, 3.0]], std=0.5, seed=0)
    np.testing.assert_allclose(X.mean(axis=0), [1.0, -2.0, 3.0], atol=0.02)
    np.testing.assert_allclose(X.std(axis=0), 0.5, rtol=0.02)
    assert D.blobs(5, centers=2, n_features=3, seed=0)[0].shape == (5, 3)


def test_blobs_gives_a_point_to_each_of_as_many_centers_as_points():
    assert np.bincount(D.blobs(3, centers=3, seed=0)[1]).tolist() == [1, 1, 1]


def test_blobs_refuses_a_negative_std():
    with pytest.raises(ValueError, match="std"):
        D.blobs(10, std=-1.0, seed=0)


def test_xor_draws_its_points_evenly_over_the_square():
    X, y = D.xor(4000, noise=0.0, seed=0)
    # Continuous draws: no two coordinates alike, none on an axis (where a label would tie).
    assert np.unique(X).size == X.size and np.abs(X).max() <= 1 and np.all(X != 0)
    quadrants = np.bincount(2 * (X[:, 0] > 0) + (X[:, 1] > 0), minlength=4)
    np.testing.assert_allclose(quadrants / 4000, 0.25, atol=0.03)   # a standard error 0.007
    assert y.sum() == quadrants[0] + quadrants[3]   # the signs agree: both - or both +


def test_digit_images_are_scikit_learn_s_images():
    sklearn = pytest.importorskip("sklearn.datasets")
    images, y = D.load_digits(as_images=True)
    np.testing.assert_array_equal(images[:, 0], sklearn.load_digits().images)
    assert images.dtype == np.float64 and y.dtype == np.int64
