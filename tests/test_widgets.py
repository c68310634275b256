"""The explorers, headless: every control changes the state and the figure, never raises."""

import gc
import itertools
import weakref

import numpy as np
import pytest
from matplotlib.layout_engine import ConstrainedLayoutEngine

from nnlab import activations, explore, surfaces, widgets

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
        before_png = bytes(explorer.image.value)
        control.value = another_value(control)
        assert bytes(explorer.image.value) != before_png, f"{name}.{control_name} did not redraw"


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


@pytest.mark.parametrize("name", ["initialization_explorer", "kernel_explorer"])
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
    "playground": {"dataset": list(explore.PLAYGROUND_DATA), "hidden_layers": [0, 4]},
}


def test_every_explorer_is_in_the_layout_check():
    assert set(FIXED_LAYOUT) == set(EXPLORERS)


@pytest.mark.parametrize("name", FIXED_LAYOUT)
def test_fixed_margins_hold_every_label(name):
    explorer = getattr(widgets, name)()
    grid = FIXED_LAYOUT[name]
    for values in itertools.product(*grid.values()):
        setting = dict(zip(grid, values, strict=True))
        _, figure, _, _ = explorer.frame({**explorer.values(), **setting})
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
