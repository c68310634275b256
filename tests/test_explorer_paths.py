"""What the playground shows after Train, Step and Reset and on its static page, what the
kernel explorer computes and draws for weights set by hand, and which frame a static page
opens on and finds for each position of its controls."""

import base64
import re

import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.colors import to_rgba

from nnlab import explore, explorer_figures, plot, static, widgets
from nnlab.static import Spec
from tests.helpers import static_page_data

#: A playground whose first epoch overflows: plain SGD at rate 1 on a linear network.
DIVERGING = {"optimizer": "sgd", "lr": 1.0, "activation": "linear", "batch_size": 1}
#: Weights with no symmetry: a kernel read transposed, flipped or with a sign lost shows.
WEIGHTS = np.array([[-4.0, -3.0, -2.5], [-1.0, 0.0, 1.5], [2.0, 3.0, 4.0]])


def test_the_step_button_trains_one_mini_batch_and_reset_starts_again_from_epoch_0():
    pg = widgets.playground()
    n_train = len(pg.data[0])
    pg.buttons["Step"].click()
    assert pg.state["epoch"] == pytest.approx(16 / n_train)
    assert len(pg.history["loss"]) == 2
    assert pg.numbers.value.startswith(f"epoch {16 / n_train:.3f}:")
    pg.train(3)
    pg.buttons["Reset"].click()
    assert pg.state["epoch"] == 0 and pg.history["epoch"] == [0]
    assert pg.numbers.value.startswith("epoch 0:")
    assert [t.get_text() for t in pg.figure.axes[1].texts] == ["press Train or Step"]


def test_two_presses_of_train_continue_one_run_as_the_static_page_s_frames_do():
    # The page shows 100 epochs trained in one go as what five presses of Train give:
    # each press must go on with the mini-batches' order, not start it again.
    pressed = widgets.playground().train(10).train(10)
    once = widgets.playground().train(20)
    assert pressed.history == once.history
    assert pressed.state["train_loss"] == once.state["train_loss"]


def test_the_test_accuracy_is_counted_on_the_test_points():
    pg = widgets.playground(dataset="moons").train(5)
    X_train, X_test, y_train, y_test = pg.data

    def accuracy(X, y):
        return np.mean((pg.model.predict(X).ravel() > 0) == y)

    assert accuracy(X_train, y_train) != accuracy(X_test, y_test)   # else the test tells nothing
    assert pg.state["test_accuracy"] == pytest.approx(accuracy(X_test, y_test))
    assert pg.numbers.value.endswith(f"test accuracy {accuracy(X_test, y_test):.3f}")


def test_a_run_that_diverges_after_its_first_epoch_names_the_loss_it_reached():
    # Momentum at rate 1 on a linear network overflows in a later epoch than the first,
    # whose loss was still a number: the warning must give the last epoch's.
    pg = widgets.playground(optimizer="momentum", lr=1.0, activation="linear", batch_size=16)
    pg.train(20)
    epoch = pg.state["epoch"]
    assert 2 <= epoch < 20
    assert re.search(rf"Training diverged: the training loss became (nan|inf) in epoch {epoch}\.",
                     pg.warning.value)


def test_each_loss_curve_carries_its_own_name_in_the_legend():
    pg = widgets.playground(dataset="moons").train(5)
    ax = pg.figure.axes[1]
    curves = {line.get_label(): list(line.get_ydata()) for line in ax.lines}
    assert curves == {"train loss": pg.history["loss"], "test loss": pg.history["test_loss"]}
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train loss", "test loss"]


def test_a_diverged_playground_titles_its_loss_panel_diverged():
    pg = widgets.playground(**DIVERGING).train(20)
    assert pg.figure.axes[1].get_title() == "diverged"
    assert widgets.playground().train(2).figure.axes[1].get_title() == ""


def test_the_playground_shows_its_buttons_between_the_controls_and_the_figure():
    pg = widgets.playground()
    controls, buttons, image, numbers, warning, note = pg.children
    assert list(controls.children) == list(pg.controls.values())
    assert [b.description for b in buttons.children] == ["Train", "Step", "Reset"]
    assert image is pg.image and numbers is pg.numbers and warning is pg.warning
    assert "Train runs 20 epochs" in note.value


def test_the_playground_figure_fills_the_training_points_and_rings_the_test_points():
    pg = widgets.playground()
    X_train, X_test, y_train, y_test = pg.data
    filled, hollow = [c for c in pg.figure.axes[0].collections if isinstance(c, PathCollection)]
    np.testing.assert_array_equal(filled.get_offsets(), X_train)
    np.testing.assert_array_equal(hollow.get_offsets(), X_test)
    np.testing.assert_array_equal(filled.get_facecolors(),
                                  [to_rgba(plot.COLORS[i]) for i in y_train])
    np.testing.assert_array_equal(hollow.get_edgecolors(),
                                  [to_rgba(plot.COLORS[i]) for i in y_test])
    assert len(hollow.get_facecolors()) == 0


def test_a_playground_frame_is_a_session_of_the_explorer_s_seed():
    pg = widgets.playground(seed=3)
    assert pg.state["train_loss"] != widgets.playground().state["train_loss"]
    state, _, numbers, _ = pg.frame(pg.values())
    assert state["train_loss"] == pg.state["train_loss"] and numbers == pg.numbers.value
    pg.STATIC_EPOCHS = 5   # a short run: what is checked is the seed
    state, _, numbers, _ = pg.static_frame(pg.values())
    pg.train(5)
    assert state["train_loss"] == pg.state["train_loss"] and numbers == pg.numbers.value


def test_a_static_playground_frame_carries_the_warning_of_its_run():
    pg = widgets.playground(**DIVERGING)
    *_, warning = pg.static_frame(pg.values())
    assert warning == "Training diverged: the training loss became nan in epoch 1."
    _, _, _, numbers = pg._static_entry({}, pg.values())
    assert "&#9888; Training diverged: the training loss became nan" in numbers


def set_by_hand(explorer, weights):
    """Move the kernel explorer's nine weight sliders to ``weights``, one at a time."""
    for (i, j), weight in np.ndenumerate(weights):
        explorer.controls[f"k{i}{j}"].value = weight


def test_a_kernel_set_by_hand_slides_over_the_digit_as_written():
    e = widgets.kernel_explorer(digit=3)
    set_by_hand(e, WEIGHTS)
    assert e.controls["preset"].value == "custom" and e.state["kernel"] == WEIGHTS.tolist()
    # Cross-correlation, as Conv2D computes it (and Keras, PyTorch): no flip.
    padded = np.pad(e.state["image"], 1)
    expected = np.array([[np.sum(padded[r:r + 3, c:c + 3] * WEIGHTS) for c in range(8)]
                         for r in range(8)])
    np.testing.assert_allclose(e.state["feature_map"], expected, atol=1e-12)
    np.testing.assert_allclose(e.state["pooled"], expected.reshape(4, 2, 4, 2).max(axis=(1, 3)))


@pytest.mark.parametrize("preset", ["vertical edges", "horizontal edges", "sharpen"])
def test_a_preset_chosen_at_the_start_sets_each_slider_to_its_own_weight(preset):
    e = widgets.kernel_explorer(preset=preset)
    kernel = explore.KERNELS[preset]
    assert [[e.controls[f"k{i}{j}"].value for j in range(3)] for i in range(3)] == kernel
    assert e.state["kernel"] == kernel


def test_the_kernel_line_gives_the_feature_map_s_range_not_the_pooled_map_s():
    e = widgets.kernel_explorer()
    feature, pooled = e.state["feature_map"], e.state["pooled"]
    assert f"{feature.min():.2f}" != f"{pooled.min():.2f}"
    assert e.numbers.value == f"feature map range [{feature.min():.2f}, {feature.max():.2f}]"


def test_the_kernel_panel_draws_and_writes_each_weight_in_its_own_cell():
    fig = explorer_figures.kernel(explore.kernel(WEIGHTS, digit=0))
    panel = fig.axes[1]
    np.testing.assert_array_equal(panel.images[0].get_array(), WEIGHTS)
    written = {tuple(t.get_position()): t.get_text() for t in panel.texts}
    assert written == {(j, i): f"{w:.2g}" for (i, j), w in np.ndenumerate(WEIGHTS)}
    assert written[(2, 0)] == "-2.5"


@pytest.mark.parametrize("kernel, message", [
    (np.ones((2, 3)), r"^the kernel must be 3x3; got shape \(2, 3\)$"),
    ([[1, 2, 3]] * 4, r"^the kernel must be 3x3; got shape \(4, 3\)$"),
    ("bogus", r"^unknown kernel 'bogus'; valid names are: blur, horizontal edges, "),
])
def test_a_bad_kernel_is_refused_with_what_was_given(kernel, message):
    with pytest.raises(ValueError, match=message):
        explore.kernel(kernel)


def test_the_static_page_of_a_kernel_set_by_hand_opens_on_that_kernel():
    e = widgets.kernel_explorer()
    set_by_hand(e, WEIGHTS)
    e.spec = Spec({"preset": list(explore.KERNELS), "digit": [0]}, grid=("preset",))   # fast
    page = e.static_html()
    data = static_page_data(page)
    assert re.search(r'<option value="0" selected>custom</option>', page)
    assert data["frames"][opening_key(page)][1] == e.numbers.value
    assert numbers_shown(page) == e.numbers.value
    # The presets' frames show the presets, not the weights set by hand.
    for position, preset in enumerate(explore.KERNELS, start=1):
        feature = explore.kernel(preset, digit=0)["feature_map"]
        assert data["frames"][f"{position},0"][1] == (
            f"feature map range [{feature.min():.2f}, {feature.max():.2f}]"), preset


# --- static pages: the frame the page opens on and the frame each position finds --------


def numbers_shown(page):
    """The line of numbers a static page shows before any control moves."""
    return re.search(r'class="nnlab-static-numbers"[^>]*>(.*?)</div>', page).group(1)


def opening_key(page):
    """The key static_explorer.js makes of the controls' first positions."""
    positions = re.findall(r'<input type="range" name="\w+"[^>]* value="(\d+)"'
                           r'|<option value="(\d+)" selected>', page)
    return ",".join(slider or menu for slider, menu in positions)


def shown(data, positions, moved):
    """The positions and frame static_explorer.js shows once control ``moved`` went to its
    position in ``positions``: with no frame for them, the other non-grid controls return
    to their defaults."""
    if ",".join(map(str, positions)) not in data["frames"]:
        positions = [p if c["grid"] or i == moved else c["default"]
                     for i, (p, c) in enumerate(zip(positions, data["controls"], strict=True))]
    return positions, data["frames"][",".join(map(str, positions))]


SPEC = Spec({"a": [1, 2, 3], "b": ["x", "y"], "c": [0.0, 0.5]}, grid=("a",))
CURRENT = {"a": 2, "b": "y", "c": 0.5}


def fake_page(spec=SPEC, current=CURRENT):
    # Each frame's picture and numbers name its setting: a wrong frame shows which it is.
    frames = [(s, f"png {s}".encode(), f"numbers {s}") for s in static.settings(spec, current)]
    return static.render("e", {c: c for c in spec.vary}, spec, current, frames)


def test_a_static_page_opens_on_the_frame_of_the_current_values():
    # The first setting computed is a=1: the page must open on a=2's frame all the same.
    page = fake_page()
    picture = re.search(r'<img src="data:image/png;base64,([^"]+)"', page).group(1)
    assert base64.b64decode(picture) == b"png {'a': 2}"
    assert numbers_shown(page) == "numbers {'a': 2}"
    data = static_page_data(page)
    assert opening_key(page) == "1,1,1" == ",".join(str(c["default"]) for c in data["controls"])
    assert data["frames"][opening_key(page)][1] == "numbers {'a': 2}"


def test_every_setting_s_frame_is_found_at_the_positions_of_its_values():
    page = fake_page()
    data = static_page_data(page)
    assert [c["grid"] for c in data["controls"]] == [True, False, False]
    for setting in static.settings(SPEC, CURRENT):
        values = {**CURRENT, **setting}
        key = ",".join(str(SPEC.values(c, CURRENT[c]).index(values[c])) for c in SPEC.vary)
        assert data["frames"][key][1] == f"numbers {setting}", setting
    assert len(data["frames"]) == len(list(static.settings(SPEC, CURRENT))) == 9
    assert page.count("<input") == 2 and page.count("<select") == 1


def test_moving_a_second_control_returns_the_first_to_its_default_not_to_its_first_value():
    data = static_page_data(fake_page())
    positions, frame = shown(data, [0, 1, 1], moved=0)        # a=1: a grid control
    assert frame[1] == "numbers {'a': 1}"
    positions, frame = shown(data, [0, 0, 1], moved=1)        # b=x
    assert frame[1] == "numbers {'a': 1, 'b': 'x'}"
    positions, frame = shown(data, [0, 0, 0], moved=2)        # c=0: b back to y, a stays
    assert positions == [0, 1, 0] and frame[1] == "numbers {'a': 1, 'c': 0.0}"
