"""The explorers, headless: every control changes the state and the figure, never raises."""

import gc
import html
import inspect
import itertools
import json
import re
import weakref
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.layout_engine import ConstrainedLayoutEngine

from nnlab import activations, explore, playground, surfaces, widgets
from nnlab.explorer import ArgumentError

ROOT = Path(__file__).resolve().parents[1]
EXPLORERS = ["perceptron_explorer", "forward_explorer", "activation_explorer",
             "initialization_explorer", "loss_explorer", "learning_rate_explorer",
             "optimizer_race", "backprop_explorer", "gradient_flow_explorer", "kernel_explorer",
             "playground"]


def another_value(control):
    """A valid value of ``control`` different from its current one."""
    if hasattr(control, "options") and not isinstance(control.value, tuple):
        values = [o[1] if isinstance(o, tuple) else o for o in control.options]
        return next(v for v in reversed(values) if v != control.value)
    if isinstance(control.value, tuple):
        return tuple(control.options[:2]) if control.value != tuple(control.options[:2]) \
            else tuple(control.options[2:4])
    if isinstance(control.value, bool):
        return not control.value
    if control.__class__.__name__ == "FloatLogSlider":
        up = control.value * 1.5
        return up if up <= 10**control.max else control.value / 1.5
    step = (control.max - control.min) / 5
    if isinstance(control.value, int):
        step = max(1, round(step))
    up = control.value + step
    return up if up <= control.max else control.value - step


@pytest.mark.parametrize("name", EXPLORERS)
def test_every_control_changes_state_and_figure(name):
    explorer = getattr(widgets, name)()
    assert set(explorer.controls) and explorer.state and explorer.figure is not None
    assert explorer.image.value[:4] == b"\x89PNG"
    for control_name, control in explorer.controls.items():
        if name == "playground" and control_name in TRAINING_ONLY:
            continue
        before_png, before_state = bytes(explorer.image.value), as_json(explorer.state)
        control.value = another_value(control)
        assert bytes(explorer.image.value) != before_png, f"{name}.{control_name} did not redraw"
        assert as_json(explorer.state) != before_state, f"{name}.{control_name} kept its state"


def as_json(state):
    """The state as JSON text, arrays as lists: it fails on anything but numbers and text."""
    return json.dumps(state, sort_keys=True, default=lambda array: array.tolist())


TRAINING_ONLY = ("lr", "batch_size", "l2", "optimizer")


def drawn_figures(explorer):
    """Record a weak reference to every figure ``explorer`` draws from now on."""
    refs, draw = [], explorer._draw

    def recording(*args, **kwargs):
        figure = draw(*args, **kwargs)
        refs.append(weakref.ref(figure))
        return figure

    explorer._draw = recording
    return refs


@pytest.mark.parametrize("name", ["activation_explorer", "kernel_explorer"])
def test_an_update_frees_its_figure_before_it_returns(name):
    # Freed young, a frame's figure never waits in the oldest generation for a full
    # collection (the explorers' slowest updates were those collections).
    explorer = getattr(widgets, name)()
    refs = drawn_figures(explorer)
    for _ in range(3):
        control = next(iter(explorer.controls.values()))
        control.value = another_value(control)
    assert len(refs) == 3 and all(ref() is None for ref in refs)
    assert gc.isenabled()


def test_static_frames_free_their_figures():
    explorer = widgets.forward_explorer()
    refs = drawn_figures(explorer)
    frames = explorer.static_frames()
    assert len(refs) == len(frames) > 1 and all(ref() is None for ref in refs)


def test_playground_training_frees_its_figures():
    pg = widgets.playground()
    refs = drawn_figures(pg)
    pg.step().train(2)
    assert len(refs) == 2 and all(ref() is None for ref in refs)


def test_an_update_leaves_a_paused_collector_paused():
    explorer = widgets.kernel_explorer()
    gc.disable()
    try:
        explorer.controls["k11"].value = another_value(explorer.controls["k11"])
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize("name", ["perceptron_explorer", "gradient_flow_explorer", "playground"])
def test_figure_is_the_one_shown(name):
    from nnlab import plot

    explorer = getattr(widgets, name)()
    control = next(iter(explorer.controls.values()))
    control.value = another_value(control)
    shown = bytes(explorer.image.value)
    assert explorer.figure is explorer.figure   # drawn once per state
    assert plot.to_png(explorer.figure, dpi=plot.STYLE["figure.dpi"], compress_level=1) == shown


#: Moves of the explorers that redraw in place: most keep the figure's panels, lines and
#: labels (redrawn), some change them (drawn anew), and then back.
REDRAWN = {
    # On the Rosenbrock valley at 0.01-0.05 three runs diverge and the value axis is cut:
    # the crosses and the cut move in place.
    "optimizer_race": [("lr", 0.02), ("steps", 120), ("lr", 0.08), ("lr", 0.1), ("lr", 0.002),
                       ("surface", "rosenbrock"), ("lr", 0.01), ("lr", 0.03), ("steps", 300),
                       ("names", ("SGD", "Adam")), ("lr", 0.05), ("names", ("Adam",)),
                       ("lr", 0.001), ("names", ()), ("lr", 0.005), ("surface", "saddle")],
    "learning_rate_explorer": [("lr", 0.2), ("steps", 80), ("start", 2.0), ("batch_size", 10),
                               ("lr", 1.1), ("lr", 2.0), ("lr", 0.003)],
    "loss_explorer": [("prediction", 0.3), ("prediction", 0.001), ("prediction", 0.999),
                      ("positive", False), ("prediction", 0.5), ("loss", "hinge"),
                      ("prediction", -3.0), ("prediction", 1.0), ("prediction", 3.0),
                      ("loss", "multiclass hinge"), ("prediction", -2.5), ("positive", True),
                      ("prediction", 0.0), ("loss", "squared error"), ("prediction", -2.0)],
    "backprop_explorer": [("value", 1.0), ("value", -3.0), ("value", 3.0), ("weight", "w1_10"),
                          ("value", -1.5), ("value", 2.5), ("weight", "w2_01"), ("value", 0.0)],
    "initialization_explorer": [("depth", 7), ("depth", 10), ("scale", 2.0),
                                ("scheme", "he_normal"), ("activation", "relu"), ("depth", 3),
                                ("depth", 4), ("scale", 0.5), ("activation", "linear")],
}


@pytest.mark.parametrize("name", REDRAWN)
def test_a_figure_redrawn_in_place_is_the_figure_drawn_anew_to_the_pixel(name):
    explorer = getattr(widgets, name)()
    redraw, outcomes = explorer._redraw, []

    def recording(*args):
        outcomes.append(redraw(*args))
        return outcomes[-1]

    explorer._redraw = recording
    for control, value in REDRAWN[name]:
        explorer.controls[control].value = value
        assert explorer.controls[control].value == value   # not clamped by the control
        assert_shows_its_figure_drawn_anew(explorer, f"{name} after {control} = {value!r}")
    assert outcomes.count(True) >= 3
    # The learning-rate explorer's figure keeps its panels and lines for any setting.
    assert (False in outcomes) == (name != "learning_rate_explorer")


def assert_shows_its_figure_drawn_anew(explorer, what):
    from nnlab import plot

    drawn = plot.to_png(explorer.figure, dpi=plot.STYLE["figure.dpi"], compress_level=1)
    assert bytes(explorer.image.value) == drawn, what


@settings(max_examples=8, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(surfaces.NAMES),
                          st.sets(st.sampled_from(surfaces.OPTIMIZERS), min_size=1),
                          st.sampled_from([0.003, 0.01, 0.03, 0.08, 0.1])),
                min_size=2, max_size=3))
def test_the_race_redrawn_after_any_moves_is_the_race_drawn_anew(moves):
    explorer = widgets.optimizer_race(steps=60)
    for surface, names, lr in moves:
        explorer.controls["lr"].value = lr
        explorer.controls["names"].value = tuple(n for n in surfaces.OPTIMIZERS if n in names)
        explorer.controls["surface"].value = surface
        assert_shows_its_figure_drawn_anew(explorer, f"after {moves}")


def test_an_explorer_that_redraws_in_place_draws_no_new_figure():
    explorer = widgets.optimizer_race()
    refs = drawn_figures(explorer)
    for lr in (0.02, 0.03, 0.02):
        explorer.controls["lr"].value = lr
    assert refs == [] and gc.isenabled()


@pytest.mark.parametrize("control_name", TRAINING_ONLY)
def test_playground_training_settings_change_training(control_name):
    pg = widgets.playground(dataset="xor")
    before = pg.train(5).state["train_loss"]
    pg.controls[control_name].value = another_value(pg.controls[control_name])
    assert pg.state["epoch"] == 0
    assert pg.train(5).state["train_loss"] != before


def test_perceptron_bias_moves_the_intercept():
    e = widgets.perceptron_explorer(w1=1.0, w2=2.0, bias=-1.0)
    before = e.state["intercept"]
    db = -1.0
    e.controls["bias"].value = -1.0 + db
    assert e.state["intercept"] - before == pytest.approx(-db / 2.0)


def test_xor_always_leaves_a_mistake():
    e = widgets.perceptron_explorer(gate="xor")
    grid = np.linspace(-3, 3, 7)
    for w1, w2, b in itertools.product(grid, grid, grid):
        assert explore.perceptron(w1, w2, b, "xor")["errors"] >= 1
    e.controls["w1"].value = 2.5
    assert e.state["errors"] >= 1


def test_forward_explorer_matches_the_worked_example():
    e = widgets.forward_explorer()
    assert e.state["output"] == pytest.approx(0.56937, abs=1e-5)
    e.controls["w00"].value = 0.0
    assert e.state["hidden"][0] == pytest.approx(1 / (1 + np.exp(-(-0.4 * 0.5 + 0.1))))


def test_largest_learning_rate_is_shown_as_divergence():
    e = widgets.learning_rate_explorer()
    e.controls["lr"].value = 10.0
    assert e.state["diverged"]
    assert "Diverged" in e.warning.value


def test_extreme_settings_warn_instead_of_raising():
    flow = widgets.gradient_flow_explorer()
    flow.controls["depth"].value = 30
    assert "Vanishing" in flow.warning.value
    flow.controls["activation"].value = "relu"
    flow.controls["init_scale"].value = 10.0
    assert "Exploding" in flow.warning.value
    init = widgets.initialization_explorer()
    init.controls["activation"].value = "relu"
    init.controls["scale"].value = 10.0
    init.controls["depth"].value = 12
    assert "explode" in init.warning.value


def test_backprop_tangent_is_the_numerical_slope():
    e = widgets.backprop_explorer()
    for weight in explore.BACKPROP_WEIGHTS:
        e.controls["weight"].value = weight
        assert e.state["gradient"] == pytest.approx(e.state["numerical"], abs=1e-7)
        assert e.state["gradient"] == pytest.approx(e.state["product"], abs=1e-9)


def test_choosing_a_weight_sets_its_lecture_value_in_one_redraw():
    e = widgets.backprop_explorer()
    refs = drawn_figures(e)
    for count, weight in enumerate(reversed(explore.BACKPROP_WEIGHTS), start=1):
        e.controls["weight"].value = weight
        assert len(refs) == count, weight
        assert e.controls["value"].value == e.state["value"] == explore.lecture_weight(weight)
        assert e.state["gradient"] == explore.backprop(weight)["gradient"]
    e.controls["weight"].value = "w2_01"
    assert e.state["gradient"] == pytest.approx(-0.12895, abs=1e-5)   # chapter 9's number


def static_data(explorer):
    """The static page's frames and controls, and each control's labels, by name."""
    page = explorer.static_html()
    data = json.loads(re.search(r'class="nnlab-frames">(.*?)</script>', page).group(1))
    labels = {name: json.loads(html.unescape(text)) for name, text in
              re.findall(r'name="(\w+)" min="0"[^>]*data-labels="([^"]*)"', page)}
    return data, labels


def test_static_backprop_page_starts_each_weight_at_its_lecture_value():
    data, labels = static_data(widgets.backprop_explorer())
    leader, rows = data["controls"][1]["follow"]
    assert leader == 0 and len(rows) == len(explore.BACKPROP_WEIGHTS)
    for i, (weight, (low, high, start)) in enumerate(zip(explore.BACKPROP_WEIGHTS, rows,
                                                         strict=True)):
        assert float(labels["value"][start]) == explore.lecture_weight(weight)
        assert (low, high) == (0, len(labels["value"]) - 1)
        gradient = explore.backprop(weight)["gradient"]
        assert f"backprop {gradient:.5f}" in data["frames"][f"{i},{start}"][1]


def test_loss_slider_spans_the_loss_range_in_one_redraw():
    e = widgets.loss_explorer(prediction=0.7)
    refs = drawn_figures(e)
    for name, prediction in [("squared error", -2.0), ("hinge", -3.0),
                             ("binary cross-entropy", 0.001), ("squared error", 3.0),
                             ("categorical cross-entropy", -3.0), ("binary cross-entropy", 0.999),
                             ("multiclass hinge", 3.0), ("squared error", -2.0)]:
        redraws = len(refs)
        e.controls["loss"].value = name
        slider = e.controls["prediction"]
        assert (slider.min, slider.max) == explore.LOSSES[name][1]
        assert len(refs) == redraws + 1, name
        slider.value = prediction
        assert e.state["prediction"] == slider.value == prediction   # nothing clipped


def test_loss_explorer_never_computes_a_prediction_outside_the_chosen_loss(monkeypatch):
    # explore.loss refuses such a prediction: the explorer would show that error as its
    # warning. Switching the loss moves the slider into the new range before the redraw.
    asked = []

    def recording(name, prediction, label):
        asked.append((name, prediction))
        return loss(name, prediction, label)

    loss = explore.loss
    monkeypatch.setattr(explore, "loss", recording)
    e = widgets.loss_explorer()
    for old, new in itertools.permutations(explore.LOSSES, 2):
        for prediction in explore.LOSSES[old][1]:
            e.controls["loss"].value = old
            e.controls["prediction"].value = prediction
            e.controls["loss"].value = new
            low, high = explore.LOSSES[new][1]
            assert low <= e.state["prediction"] == e.controls["prediction"].value <= high
            assert e.warning.value == "", (old, prediction, new)
    assert len(asked) > 100
    assert all(low <= p <= high for name, p in asked for low, high in [explore.LOSSES[name][1]])


def test_static_loss_frames_outside_a_loss_range_show_its_nearest_end():
    from nnlab import static

    e = widgets.loss_explorer()
    moved = 0
    for setting in static.settings(e.spec, e.values()):
        values = e._complete({**e.values(), **setting})   # as Explorer.static_frames
        low, high = explore.LOSSES[values["loss"]][1]
        assert low <= values["prediction"] <= high
        moved += values["prediction"] != setting["prediction"]
    assert moved == 16   # both labels: 7 values outside (0.001, 0.999), -3 outside (-2, 3)
    state, _, _, _ = e.static_frame(e._complete({**e.values(), "prediction": -3.0}))
    assert state["prediction"] == 0.001


def test_loss_true_class_control_gives_each_loss_its_labels():
    # (label of "the slider's class", label of "another class"), and the number of scores.
    expected = {"binary cross-entropy": (1, 0, 1), "squared error": (1, 0, 1),
                "hinge": (1, -1, 1), "categorical cross-entropy": (1, 0, 3),
                "multiclass hinge": (1, 0, 3)}
    assert set(expected) == set(explore.LOSSES)
    e = widgets.loss_explorer()
    for name, (slider_class, other, scores) in expected.items():
        e.controls["loss"].value = name
        for positive, label in [(True, slider_class), (False, other)]:
            e.controls["positive"].value = positive
            assert e.state["label"] == label and len(e.state["y_pred"]) == scores, name
            p = e.state["prediction"]
            sample = (f"scores (1, {p:.3f}, 0), true class {label}:" if scores == 3
                      else f"prediction {p:.3f}, label {label}:")
            assert e.numbers.value.startswith(sample), e.numbers.value


def test_static_loss_page_offers_each_loss_its_own_range():
    data, labels = static_data(widgets.loss_explorer())
    leader, rows = data["controls"][2]["follow"]
    assert data["controls"][leader]["name"] == "loss"
    for (name, (_, (low, high), _)), (first, last, start) in zip(explore.LOSSES.items(), rows,
                                                                 strict=True):
        assert [float(labels["prediction"][i]) for i in (first, last)] == [low, high], name
        assert start is None


def test_gradient_flow_numbers_agree_with_the_warning():
    e = widgets.gradient_flow_explorer(depth=30, activation="relu", init_scale=10.0)
    assert "Exploding" in e.warning.value and e.state["smallest"] > 1e8
    assert e.state["ratio"] < 1   # why the sizes must be shown too
    assert f"from {e.state['smallest']:.3g} to {e.state['largest']:.3g}" in e.numbers.value
    assert "output layer" in e.numbers.value
    ticks = [t.get_text() for t in e.figure.axes[0].get_xticklabels()]
    assert len(e.state["norms"]) == 31 and ticks[0] == "1" and ticks[-1] == "out"
    assert e.figure.axes[0].get_xticks()[-1] == 31


def test_playground_learns_circles():
    pg = widgets.playground(dataset="circles")
    start = pg.state["train_loss"]
    pg.train(20)
    assert pg.state["epoch"] == 20 and pg.state["train_loss"] < 0.5 * start
    pg.step()
    assert len(pg.history["loss"]) == 22
    pg.reset()
    assert pg.state["epoch"] == 0 and len(pg.history["loss"]) == 1
    pg.buttons["Train"].click()
    assert pg.state["epoch"] == widgets.Playground.TRAIN_EPOCHS


def test_kernel_preset_sets_the_sliders():
    e = widgets.kernel_explorer()
    e.controls["preset"].value = "identity"
    assert e.controls["k11"].value == 1 and e.controls["k00"].value == 0
    np.testing.assert_allclose(e.state["feature_map"], e.state["image"])


def test_optimizer_race_with_no_optimizer_selected_is_harmless():
    e = widgets.optimizer_race()
    e.controls["names"].value = ()
    assert e.state["final"] == {}


def test_png_is_deterministic():
    assert bytes(widgets.activation_explorer().image.value) == bytes(
        widgets.activation_explorer().image.value)


def misplaced_texts(fig):
    """The panels whose labels leave the figure or reach into another panel, and the figure
    texts (a suptitle) that reach into a panel's labels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    page = fig.bbox.padded(1)
    boxes = [ax.get_tightbbox(renderer) for ax in fig.axes]
    bad = [f"panel {i} leaves the figure" for i, box in enumerate(boxes)
           if not (page.contains(box.x0, box.y0) and page.contains(box.x1, box.y1))]
    bad += [f"panel {i} reaches into panel {j}" for (i, box), (j, ax)
            in itertools.product(enumerate(boxes), enumerate(fig.axes))
            if i != j and box.overlaps(ax.bbox)]
    bad += [f"{text.get_text()!r} overlaps panel {i}" for text in fig.texts
            for i, box in enumerate(boxes) if text.get_window_extent(renderer).overlaps(box)]
    return bad


# Every explorer draws with fixed margins (plot.fixed_layout): here at the ends of the
# ranges of the controls that change its labels (titles, tick labels, legends).
FIXED_LAYOUT = {
    "perceptron_explorer": {"gate": list(explore.GATES), "bias": [-3.0, 3.0]},
    "forward_explorer": {"w00": [-3.0, 3.0], "w11": [-3.0, 3.0]},
    "activation_explorer": {"name": list(activations.NAMES), "weight": [-5.0, 5.0],
                            "bias": [5.0]},
    "initialization_explorer": {"scheme": ["normal", "he_uniform"], "scale": [0.1, 10.0],
                                "depth": [1, 2, 12], "activation": ["sigmoid", "relu"]},
    "loss_explorer": {"loss": list(explore.LOSSES), "prediction": [-3.0, 0.0, 0.001, 3.0],
                      "positive": [True, False]},
    "learning_rate_explorer": {"lr": [1e-3, 0.1, 2.0, 10.0], "steps": [1, 100],
                               "start": [-6.0, 6.0]},
    "optimizer_race": {"surface": list(surfaces.NAMES), "lr": [1e-4, 0.1],
                       "steps": [10, 500]},
    "backprop_explorer": {"weight": list(explore.BACKPROP_WEIGHTS), "value": [-3.0, 3.0]},
    "gradient_flow_explorer": {"depth": [1, 30], "activation": ["sigmoid", "relu"],
                               "init_scale": [0.1, 10.0], "batchnorm": [False, True]},
    "kernel_explorer": {"preset": list(explore.KERNELS)},
    "playground": {"dataset": list(playground.PLAYGROUND_DATA), "hidden_layers": [0, 4]},
}


def test_every_explorer_is_in_the_layout_check():
    assert set(FIXED_LAYOUT) == set(EXPLORERS)


@pytest.mark.parametrize("name", FIXED_LAYOUT)
def test_fixed_margins_hold_every_label(name):
    explorer = getattr(widgets, name)()
    grid = FIXED_LAYOUT[name]
    for values in itertools.product(*grid.values()):
        setting = dict(zip(grid, values, strict=True))
        # As the static page completes a frame: a preset's weights, a loss's range.
        _, figure, _, _ = explorer.frame(explorer._complete({**explorer.values(), **setting}))
        # Constrained layout would measure every label twice per redraw (see plot.fixed_layout).
        assert not isinstance(figure.get_layout_engine(), ConstrainedLayoutEngine), setting
        assert misplaced_texts(figure) == [], setting


def test_trained_playground_keeps_its_labels_inside():
    pg = widgets.playground().train(widgets.Playground.TRAIN_EPOCHS)
    assert misplaced_texts(pg.figure) == []


def test_misplaced_texts_are_found():
    from nnlab import plot

    fig = plot.curves({"loss": [1e6, 1.0]}, ylabel="a long label " * 3)
    plot.fixed_layout(fig, left=0.1)
    assert misplaced_texts(fig) == ["panel 0 leaves the figure"]


def test_kernel_panels_centre_signed_values_on_one_color():
    e = widgets.kernel_explorer(preset="blur")
    digit, kernel, feature, pooled = (ax.images[0] for ax in e.figure.axes)
    # All nine weights equal: the kernel is drawn in a color, not as a blank panel.
    assert np.all(kernel.to_rgba(kernel.get_array())[..., :3] < 0.9)
    zero = {tuple(image.to_rgba(0.0)) for image in (kernel, feature, pooled)}
    assert len(zero) == 1   # 0 is the same color (white) in every signed panel
    assert feature.norm.vmin == pooled.norm.vmin == -feature.norm.vmax   # one shared scale
    assert digit.get_cmap().name == "gray_r"


def test_kernel_preset_can_be_chosen_again_after_a_weight_was_edited():
    e = widgets.kernel_explorer(preset="vertical edges")
    e.controls["k00"].value = 3.0
    assert e.controls["preset"].value == "custom"
    refs = drawn_figures(e)
    e.controls["preset"].value = "vertical edges"
    assert e.controls["k00"].value == 1 and e.state["kernel"][0] == [1, 0, -1]
    assert "custom" not in e.controls["preset"].options
    assert len(refs) == 1   # nine sliders set, one redraw


def race_lines(e):
    """The curves panel of an optimizer race: {legend label: line color}."""
    ax = e.figure.axes[1]
    assert ax.get_legend() is not None
    return {line.get_label(): line.get_color() for line in ax.get_legend().get_lines()}


def test_optimizer_race_colors_follow_the_optimizer_and_one_is_named():
    e = widgets.optimizer_race()
    every = race_lines(e)
    e.controls["names"].value = ("Adam",)
    assert race_lines(e) == {"Adam": every["Adam"]}
    e.controls["names"].value = ("Nesterov", "SGD")
    assert race_lines(e) == {"SGD": every["SGD"], "Nesterov": every["Nesterov"]}
    assert e.figure.axes[0].lines[0].get_color() == every["Nesterov"]   # the path too


def test_optimizer_race_caps_the_axis_above_diverged_runs_and_names_them():
    e = widgets.optimizer_race(surface="rosenbrock", lr=0.01)
    assert set(e.state["diverged"]) == {"SGD", "momentum", "Nesterov"}
    start = e.state["curves"]["Adam"][0]
    low, high = e.figure.axes[1].get_ylim()
    assert high <= 1e4 * start and low < min(e.state["curves"]["Adam"])
    assert {label for label in race_lines(e) if label.endswith("(diverged)")} == {
        "SGD (diverged)", "momentum (diverged)", "Nesterov (diverged)"}


def test_optimizer_race_curves_end_at_the_values_reached():
    e = widgets.optimizer_race(names=("Adam",), surface="bowl", steps=500)
    curve = e.figure.axes[1].lines[0].get_ydata()
    assert e.state["final"]["Adam"] < 1e-20
    assert curve[-1] == pytest.approx(e.state["final"]["Adam"], rel=1e-9, abs=0)


def test_optimizer_race_with_no_optimizer_says_so():
    e = widgets.optimizer_race()
    e.controls["names"].value = ()
    texts = [t.get_text() for t in e.figure.axes[1].texts]
    assert texts == ["select one or more optimizers"] and not e.figure.axes[1].lines
    assert "No optimizer selected" in e.numbers.value


def test_playground_steps_are_fractions_of_an_epoch_on_the_axis_and_in_the_numbers():
    pg = widgets.playground(batch_size=16)
    n_train = len(pg.data[0])
    for _ in range(3):
        pg.step()
    pg.train(20)
    epoch = 20 + 3 * 16 / n_train
    assert pg.state["epoch"] == pytest.approx(epoch)
    assert pg.history["epoch"][-1] == pytest.approx(epoch) and len(pg.history["epoch"]) == 24
    train_line = pg.figure.axes[1].lines[0]
    assert max(train_line.get_xdata()) == pytest.approx(epoch)
    assert f"epoch {epoch:.3f}:" in pg.numbers.value


def test_every_playground_step_changes_the_epoch_it_shows():
    pg = widgets.playground(batch_size=1, train_ratio=0.9).train(20)
    assert pg.numbers.value.startswith("epoch 20:")
    pg.step()   # 1/270 of an epoch: .4g showed 20.0037 as "20"
    assert pg.numbers.value.startswith("epoch 20.004:")
    # Every batch size on every training set the controls offer (a Step takes a whole
    # training set of fewer points than the batch size).
    sizes = {len(playground.playground_data(train_ratio=r / 10)[0]) for r in range(1, 10)}
    for n, batch in itertools.product(sizes, pg.controls["batch_size"].options):
        epochs = np.cumsum([20.0] + [min(batch, n) / n] * 2 * n)   # as Session.step adds
        shown = [playground.epoch_text(epoch) for epoch in epochs]
        assert len(set(shown)) == len(shown), (n, batch)
        whole = [k for k in range(len(epochs)) if k * min(batch, n) % n == 0]
        assert all(("." in text) == (k not in whole) for k, text in enumerate(shown))


def test_an_earlier_playground_state_stays_as_it_was():
    pg = widgets.playground()
    before = pg.state
    curves = {name: list(values) for name, values in before["history"].items()}
    pg.train(20)
    pg.step()
    assert before["history"] == curves and len(pg.state["history"]["loss"]) == 22


def test_playground_curve_ends_at_the_train_loss_it_reports():
    pg = widgets.playground().train(20)
    assert pg.history["loss"][-1] == pytest.approx(pg.state["train_loss"])
    assert pg.history["test_loss"][-1] == pytest.approx(pg.state["test_loss"])
    assert pg.figure.axes[1].lines[0].get_ydata()[-1] == pytest.approx(pg.state["train_loss"])


def test_untrained_playground_asks_for_training():
    ax = widgets.playground().figure.axes[1]
    assert [t.get_text() for t in ax.texts] == ["press Train or Step"]
    assert not ax.lines and ax.get_legend() is None


def test_diverged_playground_counts_epochs_from_one_and_shows_no_accuracy(recwarn):
    pg = widgets.playground(optimizer="sgd", lr=1.0, activation="linear", batch_size=1)
    pg.train(20)
    assert not recwarn.list   # the warning line says it all, and counts as the numbers do
    assert pg.state["epoch"] == 1 and pg.numbers.value.startswith("epoch 1:")
    assert "Training diverged: the training loss became nan in epoch 1." in pg.warning.value
    assert "test accuracy &mdash;" in pg.numbers.value


def test_hiding_one_control_hides_no_other():
    race, pg = widgets.optimizer_race(), widgets.playground()
    race.controls["lr"].layout.display = "none"
    race.controls["lr"].style.description_width = "10px"
    assert pg.controls["lr"].layout.display is None
    assert race.controls["steps"].layout.display is None
    assert pg.controls["lr"].style.description_width == "120px"


def test_a_frame_of_the_playground_leaves_its_session_alone():
    pg = widgets.playground().train(20)
    png = bytes(pg.image.value)
    state, figure, _, _ = pg.frame(pg.values())
    assert state["epoch"] == 0 and figure.axes[1].texts   # a fresh network, untrained
    assert pg.epoch == 20 and pg.state["epoch"] == 20 and bytes(pg.image.value) == png
    assert pg.figure.axes[1].lines                       # still the trained network
    pg.step()
    assert pg.state["epoch"] > 20


def test_a_step_that_diverges_is_reported_too():
    pg = widgets.playground(optimizer="sgd", lr=1.0, activation="linear", batch_size=1)
    for _ in range(40):
        pg.step()
    assert "Training diverged: the training loss became nan in epoch 0.100." in pg.warning.value
    # Train on the diverged network: fit stops after an epoch, the divergence stays where
    # it happened (the message said "epoch 1.100").
    pg.train(20)
    assert "the training loss became nan in epoch 0.100." in pg.warning.value
    assert pg.session.stop_reason.endswith("in epoch 0.100")


@pytest.mark.parametrize("make, match", [
    # ipywidgets raised a TraitError naming no parameter, or clamped the value in silence.
    (lambda: widgets.activation_explorer("swishy"), r"name .* one of 'linear'.*'mish'"),
    (lambda: widgets.perceptron_explorer(gate="nor"), "gate .* one of 'and', 'or'"),
    (lambda: widgets.learning_rate_explorer(batch_size=7), "one of 1, 10, 50, 200; got 7"),
    (lambda: widgets.playground(optimizer="adamw"), "optimizer .*'adamw'"),
    (lambda: widgets.learning_rate_explorer(lr=100), r"^lr must be in \[0.001, 10\]; got 100$"),
    (lambda: widgets.kernel_explorer(digit=99999), r"\[0, 99\]; got 99999"),
    (lambda: widgets.initialization_explorer(depth=1000), r"depth .* \[1, 12\]"),
    (lambda: widgets.loss_explorer(prediction=5), r"\[0.001, 0.999\]; got 5"),
    # A KeyError of the range's table, a TypeError of list(None), before.
    (lambda: widgets.loss_explorer(loss="mse"), r"loss .* one of 'binary cross-entropy'.*'mse'"),
    (lambda: widgets.optimizer_race(names=None), "names must be an optimizer's name or a list"),
    (lambda: widgets.optimizer_race(names=5), "list of names; got 5"),
    (lambda: widgets.gradient_flow_explorer(batchnorm="no"), "batchnorm must be True or False"),
    (lambda: widgets.forward_explorer(w99=1.0), r"w00, w01, w10, w11; got \['w99'\]"),
    (lambda: widgets.optimizer_race(names=["adamw"]), "unknown optimizer 'adamw'; valid names "),
    (lambda: widgets.playground(l2=0.0), r"L2 .* \[1e-05, 0.1\]; got 0.0"),
    (lambda: widgets.optimizer_race(names=("SGD", "SGD")), r"races once; got \['SGD', 'SGD'\]"),
    (lambda: playground.Session(depth=3), r"unknown playground settings \['depth'\]; valid: "),
    (lambda: playground.Session(optimizer="adamw"), "l2 is an L2 penalty.*'adamw' decays"),
])
def test_a_bad_initial_value_is_a_value_error_naming_the_control(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("make, match", [
    # Each was named by its control's label ("std x must be in [0.1, 10]"), not as written.
    (lambda: widgets.initialization_explorer(scale=20), r"^scale must be in \[0.1, 10\]; got 20$"),
    (lambda: widgets.gradient_flow_explorer(init_scale=0), r"^init_scale must be in \[0.1, 10\]"),
    (lambda: widgets.activation_explorer(name="swishy"), "^name must be one of 'linear', "),
    (lambda: widgets.activation_explorer(weight=9), r"^weight must be in \[-5, 5\]; got 9$"),
    (lambda: widgets.activation_explorer(bias=-9), r"^bias must be in \[-5, 5\]; got -9$"),
    (lambda: widgets.perceptron_explorer(bias=4), r"^bias must be in \[-3, 3\]; got 4$"),
    (lambda: widgets.forward_explorer(w10=4), r"^w10 must be in \[-3, 3\]; got 4$"),
    (lambda: widgets.learning_rate_explorer(start=7), r"^start must be in \[-6, 6\]; got 7$"),
    (lambda: widgets.learning_rate_explorer(batch_size=7), "^batch_size must be one of 1, 10,"),
    (lambda: widgets.optimizer_race(lr=1), r"^lr must be in \[0.0001, 0.1\]; got 1$"),
    (lambda: widgets.backprop_explorer(value=9), r"^value must be in \[-3.0, 3.0\]; got 9$"),
    (lambda: widgets.loss_explorer(positive=2), "^positive must be one of True, False; got 2$"),
    (lambda: widgets.kernel_explorer(digit=-1), r"^digit must be in \[0, 99\]; got -1$"),
])
def test_a_bad_initial_value_is_named_as_the_caller_wrote_it(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("name", ["perceptron_explorer", "activation_explorer",
                                  "initialization_explorer", "loss_explorer",
                                  "learning_rate_explorer", "optimizer_race", "backprop_explorer",
                                  "gradient_flow_explorer", "kernel_explorer", "playground"])
def test_an_argument_an_explorer_does_not_take_is_refused_with_those_it_does(name):
    # Python's own TypeError said only "got an unexpected keyword argument 'sclae'". Now
    # both a TypeError (as Python's) and a ValueError (as any other bad input to nnlab).
    assert issubclass(ArgumentError, TypeError) and issubclass(ArgumentError, ValueError)
    explorer = getattr(widgets, name)
    takes = ", ".join(inspect.signature(widgets.Playground if name == "playground"
                                        else explorer).parameters)
    with pytest.raises(ArgumentError, match=f"unexpected keyword argument 'sclae'; it takes: "
                                        f"{re.escape(takes)}$"):
        explorer(sclae=2.0)
    if name != "playground":   # which takes keywords only
        with pytest.raises(ArgumentError, match="too many positional arguments; it takes: "):
            explorer(*range(12))


@pytest.mark.parametrize("arguments, match", [
    # Each was named by its control's label: "learning rate (an initial value) must be ...".
    ({"lr": 2.0}, r"^lr \(the learning rate\) must be in \[0.0001, 1\]; got 2.0$"),
    ({"l2": 0.0}, r"^l2 \(the L2 penalty\) must be in \[1e-05, 0.1\]; got 0.0$"),
    ({"batch_size": 7}, "^batch_size must be one of 1, 4, 16, 64; got 7$"),
    ({"batch_size": True}, "^batch_size must be one of 1, 4, 16, 64; got True$"),
    ({"dataset": "rings"}, "^dataset must be one of 'circles', 'xor', .*; got 'rings'$"),
    ({"noise": 0.7}, r"^noise must be in \[0, 0.5\]; got 0.7$"),
    ({"train_ratio": 0.95}, r"^train_ratio must be in \[0.1, 0.9\]; got 0.95$"),
    ({"hidden_layers": 1.5}, "^hidden_layers must be an integer; got 1.5$"),
    ({"units": 17}, r"^units must be in \[1, 16\]; got 17$"),
    ({"activation": "swish"}, "^activation must be one of 'tanh', .*; got 'swish'$"),
    ({"optimizer": "adamw"}, "^optimizer must be one of 'sgd', .*; got 'adamw'$"),
])
def test_a_bad_playground_argument_is_named_as_the_caller_wrote_it(arguments, match):
    with pytest.raises(ValueError, match=match):
        widgets.playground(**arguments)


def test_the_playground_examples_run_with_np_and_nl_only():
    # As the API page shows them to a reader. ``playground(...)`` ran under pytest, whose
    # doctests see the module's globals, and was a NameError in a reader's session.
    import doctest

    import nnlab as nl
    from nnlab import playground_explorer

    for test in doctest.DocTestFinder().find(playground_explorer):
        test.globs = {"np": np, "nl": nl}
        runner = doctest.DocTestRunner()
        runner.run(test, out=lambda text: None)
        assert not runner.failures, test.name


@pytest.mark.parametrize("seed, match", [(-1, r"seed must be in \[0, inf\); got -1"),
                                         (1.5, "seed must be an integer; got 1.5"),
                                         ("x", "seed must be an integer; got 'x'")])
def test_a_bad_playground_seed_is_refused_before_any_session(seed, match):
    # It was shown as a warning, leaving a playground with no session: train(1) then
    # raised an AttributeError.
    with pytest.raises(ValueError, match=match):
        widgets.playground(seed=seed)


def test_a_later_bad_playground_seed_is_a_warning_and_the_session_stays():
    pg = widgets.playground().train(1)
    pg.seed = -1
    pg.reset()
    assert "seed must be in [0, inf); got -1" in pg.warning.value
    assert pg.train(1).state["epoch"] == 2


@pytest.mark.parametrize("setting, match", [
    ({"batch_size": 0}, r"batch_size must be in \[1, inf\); got 0"),
    ({"batch_size": 1.5}, "batch_size must be an integer; got 1.5"),
    ({"batch_size": True}, "batch_size must be an integer; got True"),
    ({"units": 0}, r"units must be in \[1, inf\); got 0"),
    ({"units": 2.5}, "units must be an integer; got 2.5"),
    ({"l2": -1.0}, r"l2 must be in \[0, inf\); got -1.0"),
    ({"l2": float("nan")}, "l2 must be finite; got nan"),
    ({"dataset": "blobs", "noise": -1.0}, r"noise must be in \[0, inf\); got -1.0"),
    ({"dataset": "rings"}, "unknown dataset 'rings'; valid names are: blobs, circles"),
    ({"train_ratio": 0.001}, "train_ratio=0.001 leaves a part of the 300 points too small: "),
    ({"train_ratio": 0.999}, "train_ratio=0.999 leaves a part of the 300 points too small: "),
    ({"hidden_layers": True}, "hidden_layers must be an integer; got True"),
    ({"lr": 0}, r"lr must be in \(0, inf\); got 0"),
    ({"activation": "swishy"}, "unknown activation 'swishy'"),
    # Taken, as by Playground it is not: a session that no page could show again.
    ({"seed": None}, "^seed must be an integer; got None$"),
    ({"seed": np.random.default_rng(0)}, "^seed must be an integer; got Generator"),
])
def test_a_bad_session_setting_is_refused_by_its_name_when_the_session_is_made(setting,
                                                                               match):
    # batch_size=1.5 and True were taken, and the first step failed with numpy's TypeError;
    # batch_size=0 with "xb and yb must hold the same number (> 0) of samples"; units=0 was
    # Dense's n_out, l2 the optimizer's weight_decay, blobs' noise its std.
    with pytest.raises(ValueError, match=match):
        playground.Session(**setting)


def test_optimizer_race_takes_one_name():
    # A string was taken letter by letter: "unknown optimizer 'A'".
    assert list(widgets.optimizer_race(names="Adam", steps=10).state["final"]) == ["Adam"]


def test_optimizer_race_takes_names_in_any_case():
    e = widgets.optimizer_race(names=["adam", "sgd"], steps=10)
    assert e.controls["names"].value == ("Adam", "SGD") and list(e.state["final"]) == [
        "Adam", "SGD"]
    with pytest.raises(ValueError, match=r"races once; got \['Adam', 'adam'\]"):
        widgets.optimizer_race(names=["Adam", "adam"])


def test_the_learning_rate_star_marks_the_least_squares_fit():
    explorer = widgets.learning_rate_explorer()
    x, y = explore.regression_problem(seed=0)
    best = np.polyfit(x, y, 1)   # (w, b) of the least-squares line
    stars = [c for c in explorer.figure.axes[0].collections
             if c.get_offsets().shape == (1, 2)]
    np.testing.assert_allclose(stars[-1].get_offsets()[0], best, rtol=1e-9)


def test_the_playground_shades_the_class_its_logits_give(monkeypatch):
    # A strong penalty shrinks every logit into (0, 1): all say class 1 (logit > 0).
    session = playground.Session(dataset="circles", hidden_layers=1, activation="relu",
                                 l2=0.1)
    session.train(20)
    grid = np.random.default_rng(0).uniform(-2, 2, size=(400, 2))
    logits = session.model.predict(grid).ravel()
    assert logits.min() > 0 and logits.max() < 1
    seen = {}

    def capture(predict, X, y, **kwargs):
        seen["classes"] = np.asarray(predict(grid)).ravel() > kwargs["threshold"]
        return plot_decision_boundary(predict, X, y, **kwargs)

    from nnlab import explorer_figures, plot
    plot_decision_boundary = plot.decision_boundary
    monkeypatch.setattr(plot, "decision_boundary", capture)
    explorer_figures.playground(session.model, session.data, session.history)
    np.testing.assert_array_equal(seen["classes"], logits > 0)


def test_the_api_page_names_every_control_and_state_key_of_every_explorer():
    text = (ROOT / "book" / "api.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \| (.*) \| (.*) \|$", text, flags=re.MULTILINE)
    assert sorted(name for name, _, _ in rows) == sorted(EXPLORERS)
    for name, controls_cell, state_cell in rows:
        explorer = getattr(widgets, name)()
        controls = set(re.findall(r"`(\w+)`", controls_cell))
        if "..." in controls_cell:   # k00 ... k22: the nine weights of the kernel
            controls |= {f"k{i}{j}" for i in range(3) for j in range(3)}
        assert controls == set(explorer.controls), name
        documented = set(re.findall(r"`(\w+)`", state_cell))
        assert documented <= set(explorer.state), (name, documented - set(explorer.state))
        assert set(explorer.state) - documented <= controls, name


@pytest.mark.parametrize("make", [widgets.learning_rate_explorer, widgets.playground])
def test_batch_size_is_a_slider(make):
    # COURSE.md: learning-rate and batch-size sliders. A batch size has no even step, so
    # its slider runs over the sizes offered, in order.
    import ipywidgets as W

    control = make().controls["batch_size"]
    assert isinstance(control, W.SelectionSlider) and not control.continuous_update
    assert list(control.options) == sorted(control.options)


def test_moving_the_batch_size_slider_runs_that_size():
    explorer = widgets.learning_rate_explorer(batch_size=200)
    full_batch = explorer.state["path"]
    explorer.controls["batch_size"].value = 1
    assert explorer.state["batch_size"] == 1
    assert len(explorer.state["path"]) == len(full_batch)
    assert not np.allclose(explorer.state["path"], full_batch)


@pytest.mark.parametrize("w1, text", [(-0.0, "0&middot;x1"), (4.440892098500626e-16, "0&middot;x1"),
                                      (0.30000000000000004, "0.3&middot;x1")])
def test_the_perceptron_line_is_written_as_the_sliders_show_it(w1, text):
    explorer = widgets.perceptron_explorer()
    explorer.controls["w1"].value = w1   # values a browser's slider can send
    assert f"decision line: {text} + 1&middot;x2 + (-1.5) = 0" in explorer.numbers.value
