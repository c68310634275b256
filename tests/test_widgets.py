"""The explorers, headless: every control changes the state and the figure, never raises;
figures are freed once shown, redrawn in place to the pixel and drawn with fixed margins."""

import gc
import itertools
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.layout_engine import ConstrainedLayoutEngine
from threadpoolctl import threadpool_info

from nnlab import activations, explore, playground, surfaces, widgets
from tests.widget_cases import TRAINING_ONLY, another_value, as_json, drawn_figures

ROOT = Path(__file__).resolve().parents[1]
EXPLORERS = ["perceptron_explorer", "forward_explorer", "activation_explorer",
             "initialization_explorer", "loss_explorer", "learning_rate_explorer",
             "optimizer_race", "backprop_explorer", "gradient_flow_explorer", "kernel_explorer",
             "playground"]


# --- every control changes the state and the figure -----------------------------------


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


# --- figures freed as soon as they are shown ------------------------------------------


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


# --- the figure shown, and figures redrawn in place -----------------------------------


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
    # ReLU at x 2: the stds differ past a hundredfold, each panel its own x-range; x 1: one.
    "initialization_explorer": [("depth", 7), ("depth", 10), ("scale", 2.0),
                                ("scheme", "he_normal"), ("activation", "relu"), ("scale", 1.0),
                                ("depth", 3), ("depth", 4), ("scale", 0.5),
                                ("activation", "linear")],
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


def test_png_is_deterministic():
    assert bytes(widgets.activation_explorer().image.value) == bytes(
        widgets.activation_explorer().image.value)


# --- fixed margins hold every label ---------------------------------------------------


def misplaced_texts(fig):
    """The panels whose labels leave the figure or reach into another panel, and the figure
    texts (a suptitle) that reach into a panel's labels or leave the figure."""
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
    bad += [f"{text.get_text()!r} leaves the figure" for text in fig.texts
            if (box := text.get_window_extent(renderer)).width
            and not (page.contains(box.x0, box.y0) and page.contains(box.x1, box.y1))]
    # An axis's shared power of ten ("x1e13" atop the y axis) ran into the panel's title on
    # its line, 3 pixels apart ("x1e13exponential, w=5.00"): side by side, 4 at least.
    bad += [f"panel {i}'s {offset.get_text()!r} runs into its title" for i, ax
            in enumerate(fig.axes) for offset in (ax.xaxis.get_offset_text(),
                                                   ax.yaxis.get_offset_text())
            if offset.get_text() and ax.get_title()
            and (box := offset.get_window_extent(renderer)).expanded(
                1 + 8 / max(box.width, 1), 1).overlaps(ax.title.get_window_extent(renderer))]
    return bad


# Every explorer draws with fixed margins (plot.fixed_layout): here at the ends of the
# ranges of the controls that change its labels (titles, tick labels, legends).
FIXED_LAYOUT = {
    "perceptron_explorer": {"gate": list(explore.GATES), "bias": [-3.0, 3.0]},
    "forward_explorer": {"w00": [-3.0, 3.0], "w11": [-3.0, 3.0]},
    # An exponential's "-40000" pushed the axis label out of the figure.
    "activation_explorer": {"name": list(activations.NAMES), "weight": [-5.0, -1.7, 5.0],
                            "bias": [1.7, 3.0, 5.0]},
    # Labels such as "-200000" under a linear network's panels ran into each other; the
    # title of one panel alone ("sigmoid, glorot_uniform x 0.0625") was cut at both ends.
    "initialization_explorer": {"scheme": ["normal", "glorot_uniform"],
                                "scale": [0.0625, 3.0, 10.0], "depth": [1, 2, 3, 7, 12],
                                "activation": ["relu", "linear", "sigmoid"]},
    "loss_explorer": {"loss": list(explore.LOSSES), "prediction": [-3.0, 0.0, 0.001, 3.0],
                      "positive": [True, False]},
    "learning_rate_explorer": {"lr": [1e-3, 0.1, 2.0, 10.0], "steps": [1, 100],
                               "start": [-6.0, 6.0]},
    "optimizer_race": {"surface": list(surfaces.NAMES), "lr": [1e-4, 0.1],
                       "steps": [10, 500]},
    "backprop_explorer": {"weight": list(explore.BACKPROP_WEIGHTS), "value": [-3.0, 3.0]},
    "gradient_flow_explorer": {"depth": [1, 30], "activation": ["sigmoid", "relu"],
                               "init_scale": [0.1, 10.0], "batchnorm": [False, True],
                               "residual": [True]},
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
    # A Step of batches of 1 gives epochs 0.001 apart; noise-free data, ticks of -1.5.
    pg = widgets.playground(dataset="xor", noise=0.0, train_ratio=0.1, batch_size=1)
    assert misplaced_texts(pg.figure) == []
    pg.step()
    assert misplaced_texts(pg.figure) == []


def test_misplaced_texts_are_found():
    from nnlab import plot

    fig = plot.curves({"loss": [1e6, 1.0]}, ylabel="a long label " * 3)
    plot.fixed_layout(fig, left=0.1)
    assert misplaced_texts(fig) == ["panel 0 leaves the figure"]


# --- the controls: their styles, the API page's tables, the batch-size sliders --------


def test_hiding_one_control_hides_no_other():
    race, pg = widgets.optimizer_race(), widgets.playground()
    race.controls["lr"].layout.display = "none"
    race.controls["lr"].style.description_width = "10px"
    assert pg.controls["lr"].layout.display is None
    assert race.controls["steps"].layout.display is None
    assert pg.controls["lr"].style.description_width == "120px"


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


# --- each update's matrix products run on one thread -----------------------------------


def blas_threads():
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def test_an_update_and_a_playground_step_multiply_on_one_blas_thread(monkeypatch):
    # On a busy machine the second thread waited for a core: updates took 1.6x as long.
    seen = []
    compute = explore.initialization
    monkeypatch.setattr(explore, "initialization",
                        lambda **values: seen.append(blas_threads()) or compute(**values))
    before = blas_threads()
    if before <= {1}:
        pytest.skip(f"BLAS runs on one thread here already ({before})")
    explorer = widgets.initialization_explorer()
    explorer.controls["depth"].value = 3
    pg = widgets.playground()
    monkeypatch.setattr(pg.session, "step", lambda: seen.append(blas_threads()))
    pg.step()
    assert seen == [{1}, {1}, {1}] and blas_threads() == before


def test_the_activation_readout_writes_no_minus_zero_and_tells_the_range_s_ends_apart():
    # "slope -0.0000" for relu(-5x - 5) at x = 0, and tanh(-0.1x - 5)'s range as [-1, -1]
    flat = widgets.activation_explorer("relu", weight=-5.0, bias=-5.0).numbers.value
    assert flat.startswith("at x = 0: output 0.0000, slope 0.0000;") and "-0." not in flat
    low, high = re.search(r"output range \[(\S+), (\S+)\]", widgets.activation_explorer(
        "tanh", weight=-0.1, bias=-5.0).numbers.value).groups()
    assert low != high and float(low) < float(high) < -0.999


@pytest.mark.parametrize(("name", "weight", "bias", "slopes"), [
    ("selu", 1.0, 0.0, "slope 1.7581 from the left, 1.0507 from the right"),
    ("relu", -2.0, 0.0, "slope -2.0000 from the left, 0.0000 from the right"),
    ("hard_sigmoid", 1.0, 3.0, "slope 0.1667 from the left, 0.0000 from the right"),
    ("selu", 1.0, 0.5, "slope 1.0507;"), ("sigmoid", 2.0, 0.0, "output 0.5000, slope 0.5000;"),
    ("step", 1.0, 0.0, "output 0.0000, a jump from 0.0000 to 1.0000, slope 0.0000;"),
    ("step", -2.0, 0.0, "a jump from 1.0000 to 0.0000")])
def test_the_activation_readout_gives_both_slopes_at_a_kink(name, weight, bias, slopes):
    # SELU's slope at 0 was given as 1.7581, its left side's alone; right of 0 it is 1.0507.
    # The step's output at its jump was given as 0, where the curve jumps to 1.
    assert slopes in widgets.activation_explorer(name, weight=weight, bias=bias).numbers.value


def test_the_backprop_readout_names_the_chain_then_its_values():
    # "dC/dw2_00 = dC/dy_hat = -0.8613 x dy_hat/dz2 = 0.2452 x ..." read as a chain of
    # equalities, each factor equal to the next.
    numbers = widgets.backprop_explorer().numbers.value
    assert numbers.startswith("dC/dw2_00 = dC/dy_hat &times; dy_hat/dz2 &times; dz2/dw = "
                              "-0.8613 &times; 0.2452 &times; 0.5250 &asymp; <b>-0.11086</b>")


def test_the_initialization_readout_shows_the_spread_across_the_inputs_too():
    # Sigmoid's std per layer held at 0.12: only the spread across inputs shows the loss.
    numbers = widgets.initialization_explorer(activation="sigmoid", depth=12).numbers.value
    stds, inputs = numbers.split("<br>")
    assert stds.startswith("std per layer: 0.208, 0.124") and stds.endswith(", 0.128")
    assert inputs.startswith("across inputs: 0.207, 0.0487") and inputs.endswith(", 2.62e-08")


@pytest.mark.parametrize(("loss", "prediction", "positive", "text"), [
    ("hinge", 1.0, True, "gradient 0.0000 (a kink: slope -1.0000 from the left, 0.0000 from "
                         "the right)"),
    ("hinge", -1.0, False, "(a kink: slope 0.0000 from the left, 1.0000 from the right)"),
    ("multiclass hinge", 1.0, True, "gradient -1.0000 (a kink: slope -2.0000 from the left, "
                                    "-1.0000 from the right)"),
    ("multiclass hinge", 0.0, False, "(a kink: slope 0.0000 from the left, 1.0000 from the"),
    ("hinge", 0.5, True, "loss 0.5000, gradient -1.0000"),
    ("binary cross-entropy", 0.001, True, "loss 6.9078, gradient -1000.0000"),
    ("squared error", 1.0, True, "loss 0.0000, gradient 0.0000")])
def test_the_loss_readout_gives_both_slopes_at_a_hinge_s_kink(loss, prediction, positive, text):
    # At y s = 1 the hinge's readout said "gradient 0.0000" alone, where the curve drawn beside
    # it falls at slope -1 up to that point; the steep ends of BCE are no kink.
    numbers = widgets.loss_explorer(loss=loss, prediction=prediction,
                                    positive=positive).numbers.value
    assert text in numbers and ("kink" in numbers) == ("kink" in text)


@pytest.mark.parametrize("name", explore.LOSSES)
def test_the_loss_s_sides_are_its_one_sided_slopes(name):
    _, (lo, hi), labels = explore.LOSSES[name]
    # Seven points from end to end: the hinges' kinks are among them (scores -1, 0, 1, 2).
    for prediction, label in itertools.product([lo + (hi - lo) * k / 6 for k in range(7)],
                                               labels):
        s, h = explore.loss(name, prediction, label), 1e-8
        # At an end of the range, the side beyond it is not checked.
        sides = [(s["loss"] - explore.loss(name, prediction - h, label)["loss"]) / h
                 if prediction - h >= lo else s["sides"][0],
                 (explore.loss(name, prediction + h, label)["loss"] - s["loss"]) / h
                 if prediction + h <= hi else s["sides"][1]]
        assert s["sides"] == pytest.approx(sides, rel=1e-4, abs=1e-6), (prediction, label)


@pytest.mark.parametrize(("w1", "w2", "bias", "outside"), [
    (1.0, 1.0, 1.5, True), (1.0, 1.0, -1.5, False), (-1.0, 0.0, -1.5, True),
    (0.0, 2.0, -3.0, False), (0.0, 1.9, -3.0, True), (0.9, 0.9, -3.0, True)])
def test_the_perceptron_readout_says_when_its_line_is_outside_the_picture(w1, w2, bias, outside):
    # w = (1, 1), bias 1.5: the square was shaded one color, with no line and no word why.
    # x2 = 1.5 (w2 = 2, bias -3) is the square's top edge, still drawn.
    numbers = widgets.perceptron_explorer(w1=w1, w2=w2, bias=bias).numbers.value
    assert numbers.endswith("outside the plotted square: every input is on one side of it") \
        == outside
