"""Decision boundaries, image grids, activation histograms and network diagrams: the
classes shaded, one panel per item, and scales that leave out non-finite values."""

import itertools
import warnings

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

import nnlab as nl
from nnlab import plot


def test_decision_boundary_handles_probabilities_logits_and_classes():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    y = np.array([0, 1, 2])
    for predict in (lambda P: P[:, :1], lambda P: P[:, :1] - 0.5,
                    lambda P: np.column_stack([P[:, 0], P[:, 1], -P[:, 0]])):
        assert isinstance(plot.decision_boundary(predict, X, y), Figure)


def shaded_classes(fig):
    """The classes decision_boundary shaded: the colors of the bands of its filled contour
    that cover some of the plane."""
    bands = fig.axes[0].collections[0]
    palette = np.array([to_rgb(c) for c in plot.COLORS])
    return [int(np.abs(palette - color[:3]).sum(axis=1).argmin())
            for color, path in zip(bands.get_facecolor(), bands.get_paths(), strict=True)
            if len(path.vertices)]


def test_decision_boundary_thresholds_one_score_where_told():
    # Logits that all lie in [0, 1] say class 1 everywhere (each is above 0); read as
    # probabilities, the ones below 0.5 say class 0. Nothing is guessed from their range.
    X, y = np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([1, 1])

    def logit(P):
        return 0.3 * P[:, :1] + 0.45

    assert shaded_classes(plot.decision_boundary(logit, X, y, threshold=0)) == [1]
    assert shaded_classes(plot.decision_boundary(logit, X, y)) == [0, 1]
    assert shaded_classes(plot.decision_boundary(logit, X, y, threshold=0.5)) == [0, 1]
    with pytest.raises(ValueError, match="threshold"):
        plot.decision_boundary(logit, X, y, threshold="logits")


def test_decision_boundary_leaves_the_plane_blank_where_the_scores_are_nan():
    # A diverged network's NaN was shaded as class 0, a class it never predicted.
    X, y = np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([0, 1])

    def half(P):   # no number left of x1 = 0.5, class 1 right of it
        return np.where(P[:, :1] < 0.5, np.nan, 1.0)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert shaded_classes(plot.decision_boundary(half, X, y)) == [1]
        assert shaded_classes(plot.decision_boundary(
            lambda P: np.column_stack([half(P), 0 * half(P)]), X, y)) == [0]
        assert shaded_classes(plot.decision_boundary(lambda P: half(P) * np.nan, X, y)) == []


def test_decision_boundary_refuses_more_classes_than_colors():
    n = len(plot.COLORS)

    def nearest(k):   # k classes, class c around x1 = c
        return lambda P: -(P[:, :1] - np.arange(k)) ** 2

    X = np.column_stack([np.arange(n + 2.0), np.zeros(n + 2)])
    with pytest.raises(ValueError, match=rf"classes 0 to {n - 1} .*got class {n + 1}"):
        plot.decision_boundary(nearest(n + 2), X, np.arange(n + 2))
    with pytest.raises(ValueError, match=f"got class {n}"):   # a label, even if never predicted
        plot.decision_boundary(lambda P: P[:, :1] * 0, X[:2], [0, n])
    assert shaded_classes(plot.decision_boundary(nearest(n), X[:n], np.arange(n))) == \
        list(range(n))


def test_grids_and_histograms_have_one_panel_per_item():
    images = np.random.default_rng(0).normal(size=(5, 1, 8, 8))
    fig = plot.image_grid(images, titles=range(5), ncols=3, symmetric=True)
    assert sum(ax.get_visible() for ax in fig.axes) == 5
    values = [np.ones(10), np.arange(10.0), np.array([np.nan, 1.0])]
    hist = plot.activation_histograms(values, bins=5)
    assert len(hist.axes) == 3
    for ax, v in zip(hist.axes, values, strict=True):
        (patch,) = ax.patches   # one step patch per panel; non-finite values left out
        # One x-axis for all, from the smallest to the largest value of any layer.
        counts, edges = np.histogram(v[np.isfinite(v)], bins=5, range=(0.0, 9.0))
        np.testing.assert_array_equal(patch.get_data().values, counts)
        np.testing.assert_array_equal(patch.get_data().edges, edges)
        assert ax.get_xlim() == pytest.approx((-0.72, 9.72)) and ax.get_ylim()[0] == 0
    for constant in ([np.full(4, 2.0)], [np.array([np.nan])]):   # no spread, or no value
        (ax,) = plot.activation_histograms(constant).axes
        assert ax.get_xlim()[0] < ax.get_xlim()[1]


def test_network_diagram_of_a_model_draws_its_dense_weights():
    model = nl.Sequential([nl.Dense(2, 3, rng=0), nl.Activation("tanh"), nl.Dense(3, 1, rng=1)])
    drawn = plot.network_diagram(model).axes[0].lines
    expected = plot.network_diagram([model.params[0], model.params[2]]).axes[0].lines
    assert [(line.get_xydata().tolist(), line.get_linewidth(), line.get_color())
            for line in drawn] == [(line.get_xydata().tolist(), line.get_linewidth(),
                                    line.get_color()) for line in expected]
    assert len(drawn) == 2 * 3 + 3 * 1


def test_network_diagram_draws_unit_0_of_each_layer_on_top():
    np.testing.assert_array_equal(plot.unit_heights(3), [1.0, 0.0, -1.0])
    w = np.array([[1.0, -1.0]])   # input 0 to unit 0 positive, to unit 1 negative
    ax = plot.network_diagram([w]).axes[0]
    edges = {line.get_color(): line.get_ydata()[1] for line in ax.lines}
    assert edges[plot.COLORS[0]] > edges[plot.COLORS[1]]


@pytest.mark.parametrize("sizes", [(2, 2, 1), (3, 8, 2, 1, 1), (4, 12, 3), (1, 1)])
def test_network_diagram_nodes_neither_overlap_nor_leave_the_axes(sizes):
    weights = [np.ones((a, b)) for a, b in itertools.pairwise(sizes)]
    fig = plot.network_diagram(weights)
    fig.canvas.draw()
    ax = fig.axes[0]
    box = ax.get_window_extent()
    for layer, nodes in enumerate(ax.collections):
        radius = np.sqrt(nodes.get_sizes()[0]) / 2 * fig.dpi / 72
        centers = ax.transData.transform(nodes.get_offsets())
        assert np.all(np.abs(np.diff(centers[:, 1])) >= 2 * radius), (sizes, layer)
        assert centers[:, 1].max() + radius <= box.y1 and centers[:, 1].min() - radius >= box.y0
        assert centers[0, 0] - radius >= box.x0 and centers[0, 0] + radius <= box.x1


def test_forward_explorer_writes_each_value_at_its_unit():
    from nnlab import widgets
    explorer = widgets.forward_explorer()
    ax = explorer.figure.axes[0]
    written = {text.get_text(): text.xy for text in ax.texts}
    assert written["1.00"] == (0, 0.5) and written["0.50"] == (0, -0.5)   # x = (1.0, 0.5)
    assert written[f"{explorer.state['hidden'][0]:.3f}"] == (1, 0.5)


def test_activations_grid_takes_one_name():
    assert len([ax for ax in plot.activations_grid("relu").axes if ax.get_visible()]) == 1


def test_decision_boundary_takes_no_class_from_a_nan_score():
    # argmax calls a row's NaN its highest score: class 2 here, which no point has.
    X, y = np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([0, 1])

    def scores(P):   # class 0 left of x1 = 0.5, class 1 right, a third score NaN left
        right = P[:, :1] > 0.5
        return np.column_stack([~right, right, np.where(right, 0.0, np.nan)]).astype(float)

    fig = plot.decision_boundary(scores, X, y)
    assert fig.axes[0].collections[-1].get_clim() == (-0.5, 1.5)   # two classes


def test_decision_boundary_refuses_labels_of_another_shape():
    with pytest.raises(ValueError, match=r"y of shape \(2, 1\)"):
        plot.decision_boundary(lambda P: P[:, :1], np.zeros((2, 2)), [[0], [1]])


def test_one_nan_leaves_the_scale_of_a_panel_to_the_finite_values():
    image = np.arange(16.0).reshape(4, 4) - 8
    image[0, 0] = np.nan
    (drawn,) = plot.image_grid([image], symmetric=True).axes[0].images
    assert drawn.get_clim() == (-7.0, 7.0)   # was (nan, nan): a blank panel
    assert plot.finite_limit([np.nan, -np.inf]) == 1.0
    w = np.array([[2.0, np.nan], [-1.0, np.inf]])
    lines = plot.network_diagram([w]).axes[0].lines
    assert [line.get_linewidth() for line in lines] == [4.5, 1.0, 2.5, 1.0]
    assert [line.get_linestyle() for line in lines] == ["-", ":", "-", ":"]
    assert lines[1].get_color() == lines[3].get_color() == plot.COLORS[5]


def test_histograms_count_the_values_they_leave_out():
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # +-1e308 overflowed the std and the bins' span
        fig = plot.activation_histograms([np.array([1.0, 2.0, np.nan, np.inf]),
                                          np.array([1e200, -1e200, 0.0]),
                                          np.array([1e308, -1e308, 0.0])])
        plot.pixels(fig)
    assert [ax.get_title() for ax in fig.axes] == [
        "layer 1\nstd 0.5, 2 left out", "layer 2\nstd 8.2e+199", "layer 3\nstd 0, 2 left out"]
    assert fig.axes[1].get_xlim() == pytest.approx((-1.16e200, 1.16e200))


def test_histograms_share_an_x_range_unless_the_stds_differ_a_hundredfold():
    normal = np.random.default_rng(0).normal(size=1000)
    for scales, shared in [((1.0, 0.3, 0.02), True), ((1.0, 0.3, 0.009), False)]:
        fig = plot.activation_histograms([s * normal for s in scales], title="tanh")
        limits = {ax.get_xlim() for ax in fig.axes}
        assert (len(limits) == 1) == shared, scales
        assert fig.get_suptitle() == ("tanh" if shared else "tanh; x-ranges differ per panel")
    for ax, scale in zip(fig.axes, scales, strict=True):   # each panel over its own values
        assert ax.get_xlim() == pytest.approx(
            (scale * (normal.min() - 0.08 * np.ptp(normal)),
             scale * (normal.max() + 0.08 * np.ptp(normal))))
    # A constant panel (a dead ReLU layer) is one bar on any range: no reason to split.
    fig = plot.activation_histograms([normal, np.zeros(10), 50 * normal])
    assert len({ax.get_xlim() for ax in fig.axes}) == 1 and fig.get_suptitle() == ""


def forward_numbers(fig):
    """What the forward explorer's figure writes, read back as a learner reads it: each
    edge's weight (on the edge, a third of the way from its left unit), each unit's bias
    and each unit's value, by (layer, height) of the units."""
    ax = fig.axes[0]

    def number(text):
        return float(text.get_text().removeprefix("b=").replace("\u2212", "-"))

    at = {tuple(np.round(text.xy, 6)): text for text in ax.texts}
    weights = {}
    for line in ax.lines:
        (x0, x1), (y0, y1) = line.get_data()
        weights[(x0, y0), (x1, y1)] = number(at[tuple(np.round(
            (x0 + (x1 - x0) / 3, y0 + (y1 - y0) / 3), 6))])
    biases = {tuple(np.round(t.xy, 6)): number(t) for t in ax.texts
              if t.get_text().startswith("b=")}
    values = {tuple(np.round(t.xy, 6)): number(t) for t in ax.texts
              if not t.get_text().startswith("b=") and t.get_bbox_patch() is None}
    return weights, biases, values


@pytest.mark.parametrize("setting", [{}, {"w00": -3.0, "w01": 3.0, "w10": 3.0, "w11": -3.0},
                                     dict.fromkeys(("w00", "w01", "w10", "w11"), 0.0),
                                     dict.fromkeys(("w00", "w01", "w10", "w11"), 3.0)])
def test_forward_explorer_shows_every_number_its_activations_come_from(setting):
    # The weights were widths and colors, the biases nowhere: 0.525, 0.611 and 0.569 could
    # not be recomputed from the figure. Here they are, from its texts alone.
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from nnlab import widgets
    fig = widgets.forward_explorer(**setting).figure
    weights, biases, values = forward_numbers(fig)
    assert len(weights) == 6 and len(biases) == 3
    for (x, y), value in values.items():
        if x > 0:
            z = sum(w * values[start] for (start, end), w in weights.items() if end == (x, y))
            assert value == pytest.approx(1 / (1 + np.exp(-(z + biases[x, y]))), abs=2e-3)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    boxes = [t.get_window_extent(canvas.get_renderer()) for t in fig.axes[0].texts]
    assert not [(a, b) for a, b in itertools.combinations(boxes, 2) if a.overlaps(b)], setting


def test_saturation_shades_exactly_the_inputs_where_the_derivative_is_small():
    z = np.linspace(-7, 7, 141)
    ax = plot.activation("sigmoid", z=z, saturation=0.01).axes[0]
    (shade,) = ax.collections
    x = np.concatenate([path.vertices[:, 0] for path in shade.get_paths()])
    flat = np.abs(plot._activations.sigmoid.derivative(z)) < 0.01
    assert x.min() == z[flat].min() and x.max() == z[flat].max()
    assert not ((x > -4.5) & (x < 4.5)).any()   # sigmoid' < 0.01 beyond |z| = 4.585
    assert "|f'| < 0.01" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert not plot.activation("sigmoid", z=z).axes[0].collections   # off by default


def test_activations_grid_passes_saturation_to_every_panel():
    fig = plot.activations_grid(["relu", "linear"], saturation=0.01)
    relu, linear = fig.axes[:2]
    assert len(relu.collections) == len(linear.collections) == 1
    assert len(relu.collections[0].get_paths()) == 1   # z <= 0
    assert linear.collections[0].get_paths() == []     # a slope of 1 everywhere: no band


def test_gradient_norms_span_is_the_least_axis_widened_to_the_powers_of_ten_beyond():
    inside = plot.gradient_norms([1e-3, 1e-1, 1.0], span=(1e-12, 1e12)).axes[0]
    assert inside.get_ylim() == (1e-12, 1e12)
    ticks = [t for t in inside.get_yticks() if 1e-12 <= t <= 1e12]
    np.testing.assert_allclose(ticks, 10.0 ** np.arange(-12, 13, 4))
    # Half a decade of room at least, so that no marker touches an edge.
    beyond = plot.gradient_norms([3e-20, 0.0, np.nan, 5e13], span=(1e-12, 1e12)).axes[0]
    np.testing.assert_allclose(beyond.get_ylim(), (1e-21, 1e15))
    near = plot.gradient_norms([1e-3, 5e11], span=(1e-12, 1e12)).axes[0]
    np.testing.assert_allclose(near.get_ylim(), (1e-12, 1e13))
    wide = plot.gradient_norms([1e-19, 1.0], span=(1e-12, 1e12)).axes[0]   # 32 decades
    assert [t for t in wide.get_yticks() if 1e-20 <= t <= 1e12] == [
        10.0 ** k for k in range(-20, 13, 4)]
    for span in [(1.0, 1.0), (0.0, 1.0), (1e3, 1e-3), (1.0, 2.0, 3.0), 5.0]:
        with pytest.raises(ValueError, match="gradient_norms span"):
            plot.gradient_norms([1.0, 2.0], span=span)
    for limit in [0, -1, 0.5, 1, "big"]:
        with pytest.raises(ValueError, match="gradient_norms limit"):
            plot.gradient_norms([1.0, 2.0], span=(1e-12, 1e12), limit=limit)


def test_gradient_norms_span_survives_float64_extremes_and_keeps_ticks_when_narrow():
    with warnings.catch_warnings():   # matplotlib's autoscale overflows on the way (not ours)
        warnings.simplefilter("ignore", RuntimeWarning)
        ax = plot.gradient_norms([5e-324, 1.0, 1e308], span=(1e-12, 1e12)).axes[0]
    assert ax.get_ylim() == (1e-307, 1e308)
    narrow = plot.gradient_norms([100.0, 200.0], span=(10.0, 1000.0)).axes[0]
    assert narrow.get_ylim() == (10.0, 1000.0)
    assert [t for t in narrow.get_yticks() if 10 <= t <= 1000] == [10.0, 100.0, 1000.0]


def test_gradient_norms_limit_shades_and_names_the_sizes_the_warning_names():
    ax = plot.gradient_norms([1e-9, 1e-2, 1.0], span=(1e-12, 1e12), limit=1e3).axes[0]
    bands = [p.get_path().transformed(p.get_patch_transform()).get_extents()
             for p in ax.patches]
    assert sorted((round(np.log10(b.y0)), round(np.log10(b.y1))) for b in bands) == \
        [(-12, -3), (3, 12)]
    # In the legend: written inside its band, a label lay under early layers' norms.
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "exploding: above 1000", "vanishing: below 0.001"] and not ax.texts
    assert ax.get_ylim() == (1e-12, 1e12)


def test_gradient_flow_frames_share_one_axis_so_that_sizes_compare():
    # Each frame was fitted to its own norms: relu at scale 0.25 (5.6e-07 in the first
    # layer) and at scale 2 (2.3e+06) drew the same curve with other tick labels.
    limits = {scale: nl.widgets.gradient_flow_explorer(activation="relu", init_scale=scale)
              .figure.axes[0].get_ylim() for scale in (0.25, 0.5, 1.0, 2.0)}
    assert set(limits.values()) == {(1e-12, 1e12)}


@pytest.mark.parametrize(("n", "size"), [(4, 70), (50, 70), (51, 18), (400, 18)])
def test_decision_boundary_draws_few_points_large_and_outlined(n, size):
    X = np.random.default_rng(0).normal(size=(n, 2))
    ax = plot.decision_boundary(lambda P: P[:, :1], X, (X[:, 0] > 0) * 1).axes[0]
    (points,) = ax.collections[-1:]
    assert set(points.get_sizes()) == {size}


@pytest.mark.parametrize("scale", [2**-3.5, 2**-2.5, 2**3.75])
def test_the_gradient_flow_title_gives_the_scale_in_three_digits_inside_the_figure(scale):
    # The slider's half-power-of-two steps were printed in six digits ("scale 0.0883883"),
    # and the longest titles ran past the figure's edge, over the top tick label.
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    explorer = nl.widgets.gradient_flow_explorer(activation="sigmoid", init_scale=scale,
                                                 batchnorm=True, residual=True)
    fig = explorer.figure
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    title = fig.axes[0].title
    assert f"scale {scale:.3g}," in title.get_text() and len(f"{scale:.3g}") <= 6
    box = title.get_window_extent(renderer)
    assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1 and box.y1 <= fig.bbox.y1
    ticks = [t.get_window_extent(renderer) for t in fig.axes[0].get_yticklabels()
             if t.get_text() and t.get_visible()]
    assert not any(box.overlaps(t) for t in ticks)
