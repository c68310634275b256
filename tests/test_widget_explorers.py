"""Each explorer but the playground, headless: the numbers, warnings and figures it shows,
the values its controls take, and its static page's frames."""

import html
import itertools
import json
import re

import numpy as np
import pytest

from nnlab import explore, widgets
from tests.widget_cases import drawn_figures


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


def test_kernel_preset_sets_the_sliders():
    e = widgets.kernel_explorer()
    e.controls["preset"].value = "identity"
    assert e.controls["k11"].value == 1 and e.controls["k00"].value == 0
    np.testing.assert_allclose(e.state["feature_map"], e.state["image"])


def test_optimizer_race_with_no_optimizer_selected_is_harmless():
    e = widgets.optimizer_race()
    e.controls["names"].value = ()
    assert e.state["final"] == {}


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


def test_optimizer_race_draws_rounding_at_the_saddles_minimum_as_the_floor():
    # The saddle's minimum is -1: a run there computes a gap of 0 or 2.2e-16 from step to
    # step, which was drawn as a band from 1e-15 to 1e-30 (AdaGrad at the defaults).
    e = widgets.optimizer_race(names=("AdaGrad",), surface="saddle")
    curve = e.figure.axes[1].lines[0].get_ydata()
    assert curve[-1] == 1e-30 and np.all((curve == 1e-30) | (curve > 8e-16))


def test_optimizer_race_with_no_optimizer_says_so():
    e = widgets.optimizer_race()
    e.controls["names"].value = ()
    texts = [t.get_text() for t in e.figure.axes[1].texts]
    assert texts == ["select one or more optimizers"] and not e.figure.axes[1].lines
    assert "No optimizer selected" in e.numbers.value


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


def test_the_perceptron_without_weights_has_no_decision_line():
    explorer = widgets.perceptron_explorer(w1=0.0, w2=0.0, bias=0.5)
    assert "no decision line: with w1 = w2 = 0" in explorer.numbers.value


def test_explorers_write_neither_minus_zero_nor_one_steps():
    loss = widgets.loss_explorer(loss="hinge", prediction=2.0)   # flat: a gradient of -0.0
    assert loss.numbers.value.endswith("gradient 0.0000")
    lr = widgets.learning_rate_explorer(steps=1)
    assert "after 1 step" in lr.numbers.value and "1 steps" not in lr.numbers.value


@pytest.mark.parametrize("settings, start", [
    ({"scheme": "normal", "activation": "relu", "scale": 1.0, "depth": 12},
     "The activations explode"),
    ({"scheme": "normal", "activation": "relu", "scale": 0.5, "depth": 6},
     "The activations grow layer by layer, 1,100 times"),
    ({"scheme": "uniform", "activation": "tanh", "scale": 1.0, "depth": 6},
     "The activations shrink layer by layer, 276 times"),
    ({"scheme": "glorot_uniform", "activation": "tanh", "scale": 1.0, "depth": 6}, ""),
])
def test_the_initialization_explorer_warns_of_a_spread_that_grows_or_shrinks(settings, start):
    # A hundredfold from the first layer to the last was shown without a word (3.3 to 3,645).
    explorer = widgets.initialization_explorer(**settings)
    assert explorer.state["warning"].startswith(start) and bool(start) == bool(
        explorer.state["warning"])


def overlapping_tick_labels(fig):
    """The pairs of x tick labels that run into each other within a panel, as texts."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    pairs = []
    for ax in fig.axes:
        labels = [t for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
        boxes = [t.get_window_extent(canvas.get_renderer()).padded(1) for t in labels]
        pairs += [(a.get_text(), b.get_text()) for (a, box_a), (b, box_b)
                  in itertools.combinations(zip(labels, boxes, strict=True), 2)
                  if box_a.overlaps(box_b)]
    return pairs


def test_initialization_panels_stay_readable_when_the_activations_explode():
    # Stds from 66 to 6.9e22 on one shared x-range: five panels were a single bar at 0, and
    # the ticks read "0 2e234e23".
    e = widgets.initialization_explorer(scheme="normal", scale=10.0, depth=12,
                                        activation="relu")
    assert e.figure.get_suptitle().endswith("x-ranges differ per panel")
    for ax in e.figure.axes:
        counts = ax.patches[0].get_data().values
        assert np.count_nonzero(counts) >= 10, ax.get_title()   # a shape, not a bar
    assert overlapping_tick_labels(e.figure) == []
    assert {ax.xaxis.get_offset_text().get_text() for ax in e.figure.axes} >= {"\u00d71e23"}


def test_initialization_default_view_shares_one_x_range():
    # Glorot and tanh: the spread shrinks from layer to layer, as one axis shows it.
    e = widgets.initialization_explorer()
    assert len({ax.get_xlim() for ax in e.figure.axes}) == 1
    assert e.figure.get_suptitle() == "tanh, glorot_uniform x 1"
    assert overlapping_tick_labels(e.figure) == []


@pytest.mark.parametrize("name", explore.LOSSES)
def test_loss_panels_keep_the_marked_point_readable(name):
    # Binary cross-entropy's gradient runs to -1000 at p = 0.001: on an axis down there,
    # the point at p = 0.7 (gradient -1.43) sat on the line of 0. Now no curve's far end
    # squeezes the rest, and the panel says when the curve runs beyond it.
    e = widgets.loss_explorer(loss=name)
    low, high = explore.LOSSES[name][1]
    for positive, prediction in itertools.product([True, False], np.linspace(low, high, 7)):
        e.controls["positive"].value = positive
        e.controls["prediction"].value = float(prediction)
        for ax, key, point in zip(e.figure.axes, ("curve", "slope"), ("loss", "gradient"),
                                  strict=True):
            curve, y = np.array(e.state[key]), e.state[point]
            bottom, top = ax.get_ylim()
            middle = np.ptp([*np.percentile(curve, [5, 95]), y, 0.0])
            assert bottom <= y <= top and top - bottom <= 8 * middle, (key, positive, y)
            cut = curve.min() < bottom or curve.max() > top
            assert cut == ax.get_title().startswith("the curve runs off the plot"), key


def test_loss_gradient_at_the_defaults_stands_clear_of_zero():
    e = widgets.loss_explorer()
    bottom, top = e.figure.axes[1].get_ylim()
    assert -e.state["gradient"] > 0.05 * (top - bottom) and top >= 0
    assert e.figure.axes[1].get_title() == "the curve runs off the plot, to \u22121000"


def test_optimizer_race_legend_hides_no_curve():
    # In the panel's upper right it covered the spikes of RMSprop and Adam.
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    e = widgets.optimizer_race(lr=0.1, surface="rosenbrock")
    canvas = FigureCanvasAgg(e.figure)
    canvas.draw()
    ax = e.figure.axes[1]
    assert ax.get_legend().get_window_extent(canvas.get_renderer()).x0 >= ax.bbox.x1
