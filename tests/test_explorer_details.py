"""Details of the explorers' maths that a wrong constant or comparison would change silently:
the surfaces' minima, the race's rates and limits, the bounds of the warnings, the gradient
noise, the playground's step, the windows and axes of the figures' data, checked against
values worked out by hand."""

import numpy as np
import pytest

import nnlab as nl
from nnlab import diagnostics, explore, playground, surfaces
from nnlab.figure_data import (
    RACE_FLOOR,
    _layer_ticks,
    _norm_span,
    curve_window,
    histogram_panels,
    line_outside_view,
    network_labels,
    path_points,
    race_values,
    unit_heights,
)
from nnlab.optimizers import SGD


@pytest.mark.parametrize("name, argmin", [
    ("bowl", (0.0, 0.0)),
    ("rosenbrock", (1.0, 1.0)),
    # Saddle: df/dy = -2y + y^3 = 0 at y^2 = 2, where f = -2 + 4/4 = -1.
    ("saddle", (0.0, np.sqrt(2.0))),
])
def test_each_surface_s_minimum_is_its_least_value(name, argmin):
    s = surfaces.get(name)
    assert s.f(np.array(argmin)) == pytest.approx(s.minimum, abs=1e-12)
    gx, gy = np.meshgrid(np.linspace(*s.xlim, 201), np.linspace(*s.ylim, 201))
    assert s.f(np.stack([gx, gy], axis=-1)).min() >= s.minimum - 1e-12


def test_a_climb_counts_from_ten_times_the_start_s_height_above_the_minimum():
    bowl = surfaces.get("bowl")   # f(-4, 1) = 0.5 * (16 + 25) = 20.5 above its minimum 0
    assert bowl.climbing([20.5, 100.0, 206.0])       # 206 > 10 * 20.5, and the highest
    assert not bowl.climbing([20.5, 100.0, 205.0])   # 10 times exactly: not yet


def test_the_race_s_first_steps_are_the_update_rules_at_the_family_scaled_rates():
    # From the bowl's start (-4, 1), g = (x, 25 y) = (-4, 25), slider rate 0.01.
    sign, r = np.array([1.0, -1.0]), np.sqrt(10.0)
    first = {"SGD": 0.01 * -np.array([-4.0, 25.0]),
             "momentum": 0.01 * -np.array([-4.0, 25.0]),   # no velocity yet
             "Nesterov": 1.9 * 0.01 * -np.array([-4.0, 25.0]),   # g + 0.9 g looked ahead
             # AdaGrad, h = g^2, and Adam, m_hat / sqrt(v_hat) = g / |g|: rate x sign(g)
             "AdaGrad": 0.5 * sign, "Adam": 0.5 * sign,
             # RMSprop: v = (1 - 0.9) g^2, so g / sqrt(v) = sqrt(10) sign(g); rate 5 x 0.01
             "RMSprop": 0.05 * r * sign}
    paths = surfaces.race("bowl", surfaces.OPTIMIZERS, lr=0.01, steps=1)
    for name, step in first.items():
        np.testing.assert_allclose(paths[name][1] - paths[name][0], step, rtol=1e-6,
                                   err_msg=name)


def test_a_rate_a_billionth_above_the_bound_is_at_the_bound():
    # The rate of a slider that shows the bound: within MAX_STEPS it behaves as the bound.
    bound = explore.learning_rate()["stable_below"]
    s = explore.learning_rate(lr=bound * (1 + 1e-9), steps=100)
    assert not s["diverged"] and s["warning"].startswith("No convergence")


def test_descend_stops_where_a_parameter_reaches_the_limit_itself():
    # Steps of +1 from 1: the point 3 is at the limit, and diverged() calls it gone.
    path = surfaces.descend(lambda p: -np.ones_like(p), [1.0], SGD(1.0), steps=5, limit=3.0)
    assert path[:, 0].tolist() == [1.0, 2.0, 3.0]
    assert surfaces.diverged(path, 5, limit=3.0)


def test_the_slopes_beside_a_hinge_s_kink_are_each_side_s_own():
    # max(0, 1 - y s) at y = 1, s = 1: slope -1 just left of the kink, 0 just right.
    assert explore.loss("hinge", 1.0, 1)["sides"] == pytest.approx([-1.0, 0.0])
    # -log p at p = 0.5, smooth: -1 / p = -2 on both sides.
    assert explore.loss("binary cross-entropy", 0.5, 1)["sides"] == pytest.approx([-2.0, -2.0])


def test_the_kernel_map_is_max_pooled_in_windows_of_the_size_asked():
    s = explore.kernel("identity", digit=3, pool=4)
    # The identity kernel's map is the 8x8 image; pooled in 4x4 windows by hand.
    blocks = np.asarray(s["image"]).reshape(2, 4, 2, 4).max(axis=(1, 3))
    np.testing.assert_array_equal(s["pooled"], blocks)


@pytest.mark.parametrize("norms, start", [
    ([1000.0, 1000.0], ""),   # "above 1000": 1000 itself is not
    ([1000.5, 1000.0], "Exploding gradients: the largest is 1e+03"),
    ([1e-3, 1e-3], ""),       # "below 1/1000": 1/1000 itself is not
    ([0.9e-3, 0.9e-3], "Vanishing gradients: even the largest"),
    ([1.0, 1e-3], ""),        # a ratio of 1000 exactly is neither
    ([1e-3, 1.0], ""),
    ([1.0, 0.99e-3], "Exploding gradients: the first layer's"),
    ([0.99e-3, 1.0], "Vanishing gradients: the first layer's"),
])
def test_gradient_warnings_start_strictly_past_a_thousandfold(norms, start):
    warning = diagnostics.gradient_warning(norms)
    assert warning.startswith(start) and (warning == "") == (start == "")


@pytest.mark.parametrize("stds, start", [
    ([1.0, 2e6], "The activations explode"),      # past 1e6, before any growth is told
    ([1.0, 1e6], "The activations grow layer by layer, 1,000,000 times"),
    ([1.0, 5e-5], "The activations vanish"),       # below 1e-4
    ([1.0, 1e-4], "The activations shrink layer by layer, 10,000 times"),
    ([1.0, 0.005], "The activations shrink layer by layer, 200 times"),
    ([1.0, 100.0], ""),                             # a hundredfold itself is no trend yet
    ([1.0, 0.01], ""),
])
def test_spread_warnings_say_explode_and_vanish_past_their_bounds(stds, start):
    warning = diagnostics.spread_warning(stds)
    assert warning.startswith(start) and (warning == "") == (start == "")


def test_the_input_warning_starts_past_a_hundredfold_fall_of_the_input_s_share():
    # share = input_std / std: 1 in layer 1, then 0.01 (a hundredfold: not yet) or 0.005.
    assert diagnostics.input_warning([1.0, 0.01], [1.0, 1.0], "tanh") == ""
    assert diagnostics.input_warning([1.0, 0.005], [1.0, 1.0], "tanh").startswith(
        "The layers forget their input: in layer 2")


def test_the_saturation_warning_needs_more_than_half_of_a_layer():
    assert diagnostics.saturation_warning([0.2, 0.5], "tanh") == ""
    assert diagnostics.saturation_warning([0.2, 0.51], "sigmoid").startswith(
        "Saturated: 51 % of layer 2's units")


def test_gradient_noise_is_the_root_mean_square_over_the_draws():
    # y = w x + b at w = b = 0 on (1, 1) and (-1, 1): each sample's MSE gradient (dw, db) is
    # -2 (x, 1), (-2, -2) or (2, -2); the full one (0, -2). Every draw of one sample is 2 off
    # a gradient of norm 2: noise(1) is 1 for any number of draws.
    model = nl.Sequential([nl.Dense(1, 1, rng=0)])
    model.layers[0].params["W"][:] = 0.0
    model.layers[0].params["b"][:] = 0.0
    X, y = np.array([[1.0], [-1.0]]), np.array([1.0, 1.0])
    noise = diagnostics.gradient_noise(model, X, y, [1, 2], draws=3, seed=0)
    np.testing.assert_allclose(noise, [1.0, 0.0], atol=1e-12)


def test_a_loss_panel_s_window_is_the_middle_ninety_percent_and_cuts_three_spans_out():
    # 100 values: 90 from 0 to 1, nine at 2, one at 11. The 5th and 95th percentiles are
    # 0.056 and 2 (ranks 4.95 and 94.05), widened to 0 by the point's axis: a span of 2.
    # 11 lies 9 beyond it, more than 3 spans (6): cut, the window ends at 2.
    values = np.concatenate([np.linspace(0, 1, 90), np.full(9, 2.0), [11.0]])
    low, high, note = curve_window(values, 0.5)
    assert (low, high) == (0.0, 2.0) and note == "the curve runs off the plot, to 11"
    values[-1] = 7.5   # 5.5 beyond: within 3 spans, the curve is drawn whole
    assert curve_window(values, 0.5) is None


def test_a_step_of_the_whole_training_set_is_one_full_batch_step():
    # A batch of every training point, each once: the update of train_step on all of them.
    session = playground.Session(batch_size=210)
    reference = playground.Session(batch_size=210)
    X, _, y, _ = reference.data
    reference.model.train_step(X, y[:, None].astype(float))
    session.step()
    for mine, theirs in zip(session.summary()["weights"], reference.summary()["weights"],
                            strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)


def test_a_line_through_a_corner_of_the_perceptron_view_is_inside_it():
    # x1 + x2 + 1 = 0 passes through the corner (-0.5, -0.5) of the square [-0.5, 1.5]^2.
    assert not line_outside_view(1.0, 1.0, 1.0)
    assert not line_outside_view(-1.0, -1.0, -1.0)
    assert line_outside_view(1.0, 1.0, 1.01)


def test_the_race_axis_floors_gaps_within_a_thousand_spacings_of_the_minimum():
    # The saddle's minimum is -1, where float64 numbers are spacing(1) = 2.2e-16 apart.
    step = np.spacing(1.0)
    gaps, _, _ = race_values({"surface": "saddle", "curves": {"Adam": [
        -1 + 10 * step, -1 + 1000 * step, -1 + 1024 * step]}})
    assert gaps["Adam"].tolist() == [RACE_FLOOR, RACE_FLOOR, 1024 * step]


def test_a_constant_histogram_spans_a_tenth_of_its_value_or_one_either_side():
    # 1e5 +- 1e4, then a margin of 0.08 of that span of 2e4 beyond each end.
    assert histogram_panels([np.full(10, 1e5)])[1][0][0] == (88400.0, 111600.0)
    assert histogram_panels([np.full(10, 0.5)])[1][0][0] == pytest.approx((-0.66, 1.66))


def test_histograms_share_their_x_range_only_below_a_hundredfold_spread():
    # stds 1 and 100 exactly: not less than a hundredfold, so each panel its own range.
    title, panels = histogram_panels([np.array([-1.0, 1.0]), np.array([-100.0, 100.0])])
    assert title == "x-ranges differ per panel"
    assert [p[0] for p in panels] == [pytest.approx((-1.16, 1.16)), pytest.approx((-116, 116))]
    title, _ = histogram_panels([np.array([-1.0, 1.0]), np.array([-99.0, 99.0])])
    assert title is None


def test_a_path_of_more_than_a_hundred_points_has_no_dots():
    assert path_points(np.zeros((100, 2)))[1] == 2
    assert path_points(np.zeros((101, 2)))[1] == 0


def test_network_labels_sit_a_third_along_each_edge_and_below_a_middle_unit():
    # One weight from the unit at (0, 0) to the unit at (1, 0); unit 0 of a layer is on top.
    assert unit_heights(3).tolist() == [1.0, 0.0, -1.0]
    (edge, text, side), bias = network_labels([np.array([[0.5]])], [np.array([0.1])])
    assert edge == (pytest.approx(1 / 3), 0.0) and (text, side) == ("0.5", 0)
    assert bias == ((1, 0.0), "b=0.1", -1)   # y = 0 is not the upper half: below


def test_no_hidden_layer_tick_comes_within_an_eighth_of_the_layers_of_out():
    # 41 layers: 40 would sit 1 from "out" at 41, within 41 / 8.
    assert _layer_ticks(41)[1] == ["1", "8", "16", "24", "32", "out"]


def test_the_norm_axis_ends_at_the_nearest_power_of_ten_half_a_decade_beyond():
    # 5e-3 is a factor 5 above 1e-3, more than half a decade (3.16): 1e-3 is far enough.
    assert _norm_span({"": np.array([5e-3])}, (1e-2, 1.0))[:2] == (1e-3, 1.0)
    assert _norm_span({"": np.array([2e-3])}, (1e-2, 1.0))[:2] == (1e-4, 1.0)
