"""Every figure of nnlab.plot draws headless, has labeled axes, and is deterministic."""

import warnings

import matplotlib
import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

import nnlab as nl
from nnlab import plot


def labeled(fig):
    visible = [ax for ax in fig.axes if ax.get_visible()]
    return visible and all(ax.get_xlabel() for ax in visible)


@pytest.fixture(scope="module")
def trained():
    X, y = nl.datasets.moons(100, seed=0)
    model = nl.Sequential([nl.Dense(2, 8, rng=0), nl.Activation("tanh"), nl.Dense(8, 1, rng=1)])
    model.compile(nl.losses.BinaryCrossEntropy(from_logits=True), "adam", ["accuracy"])
    history = model.fit(X, y, epochs=5, validation_split=0.2, seed=0)
    return model, X, y, history


def test_every_figure(trained):
    model, X, y, history = trained
    figures = [
        plot.activation("sigmoid"),
        plot.activations_grid(["relu", "tanh", "softplus"]),
        plot.decision_boundary(model.predict, X, y, threshold=0),   # the model gives logits
        plot.history(history, metrics=("loss", "accuracy")),
        plot.loss_surface(lambda p: (p**2).sum(-1), (-1, 1), (-1, 1),
                          paths={"a": np.array([[1.0, 1.0], [np.inf, 0.0], [0.0, 0.0]])}),
        plot.curves({"sgd": [3, 2, 1], "adam": [3, 1, 0.5]}, logy=True),
        plot.gradient_norms(np.array([1e-8, 1e-4, 1.0])),
        plot.network_diagram([np.ones((2, 3)), -np.ones((3, 1))]),
        plot.confusion_matrix(np.array([[3, 1], [0, 2]]), labels=["no", "yes"]),
    ]
    for fig in figures:
        assert isinstance(fig, Figure)
        assert labeled(fig)


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


def test_png_bytes_are_deterministic():
    a = plot.to_png(plot.activation("elu"))
    b = plot.to_png(plot.activation("elu"))
    assert a == b and a[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_engine_does_not_import_plotting():
    import subprocess
    import sys

    code = "import sys, nnlab; nnlab.Sequential; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_pixels_are_savefigs_pixels_and_leave_the_figure_as_it_was():
    import io

    from PIL import Image

    buffer = io.BytesIO()
    plot.loss_surface(lambda p: (p**2).sum(-1), (-1, 1), (-1, 1)).savefig(
        buffer, format="png", dpi=64)
    fig = plot.loss_surface(lambda p: (p**2).sum(-1), (-1, 1), (-1, 1))
    canvas, dpi = fig.canvas, fig.dpi
    assert np.array_equal(plot.pixels(fig, dpi=64), np.asarray(Image.open(buffer)))
    assert fig.canvas is canvas and fig.dpi == dpi
    # Figures of one size share a kept renderer: each drawing starts from a clean one.
    tanh = plot.pixels(plot.activation("tanh"))
    assert not np.array_equal(plot.pixels(plot.activation("relu")), tanh)
    assert np.array_equal(plot.pixels(plot.activation("tanh")), tanh)


@pytest.mark.parametrize("values", [[88.0, 87.8], [0.6, 0.18], [2.4, 1.03]])
def test_log_scale_labels_a_narrow_range_in_plain_numbers(values):
    wide = plot.curves({"a": [100.0, 1.0]}, logy=True)
    for fig in (plot.curves({"a": values}, logy=True), plot.gradient_norms(values)):
        assert wide.axes[0].get_yscale() == fig.axes[0].get_yscale() == "log"
        plot.pixels(fig)
        labels = [t.get_text() for t in fig.axes[0].yaxis.get_minorticklabels()
                  if t.get_text()]
        assert labels, values
        for label in labels:   # 0.6 or 88.05, not 6e-01 or 8.805 x 10^1
            assert "e" not in label and float(label) > 0, label


def test_loss_surface_legend_names_the_paths_unless_told_not_to():
    def bowl(p):
        return (p**2).sum(-1)

    paths = {"a": np.zeros((2, 2)), "b": np.ones((2, 2))}
    assert plot.loss_surface(bowl, (-1, 1), (-1, 1)).axes[0].get_legend() is None
    assert plot.loss_surface(bowl, (-1, 1), (-1, 1), paths=paths).axes[0].get_legend()
    assert plot.loss_surface(bowl, (-1, 1), (-1, 1), paths=paths,
                             legend=False).axes[0].get_legend() is None


def test_fixed_layout_places_panels_in_inches():
    fig, _ = plot.new_figure(2, 1, width=8, height=3)
    plot.fixed_layout(fig, left=0.5, bottom=0.4, right=0.5, top=0.6, gap=1.0)
    plot.pixels(fig)  # drawing moves nothing: no layout engine is left
    bounds = np.array([ax.get_position().bounds for ax in fig.axes]) * [8, 3, 8, 3]
    np.testing.assert_allclose(bounds, [[0.5, 0.4, 3, 2], [4.5, 0.4, 3, 2]])
    with pytest.raises(ValueError, match="one row"):
        plot.fixed_layout(plot.new_figure(1, 2)[0])


@pytest.mark.parametrize("decades,minor", [(1, True), (2, True), (4, False), (9, False)])
def test_minor_log_ticks_only_over_a_few_decades(decades, minor):
    # Over nine decades, 64 minor ticks were half of the gradient-norm plot's drawing time.
    for fig in (plot.curves({"a": [10.0**-decades, 1.0]}, logy=True),
                plot.gradient_norms([10.0**-decades, 1.0])):
        plot.pixels(fig)
        ax = fig.axes[0]
        low, high = ax.get_ylim()
        inside = [t for t in ax.yaxis.get_minorticklocs() if low <= t <= high]
        assert bool(inside) == minor, (decades, inside)
        assert len(ax.yaxis.get_majorticklocs()) >= 2


def test_titles_sit_on_their_axes_without_being_placed_at_each_draw(monkeypatch):
    def titled():
        fig, axes = plot.new_figure(2, 1)
        axes[0, 0].set_title("left")
        axes[0, 1].set_title("right")
        return fig

    fig = titled()
    assert not fig.axes[0]._autotitlepos   # matplotlib's flag: no placement pass per draw
    monkeypatch.setitem(plot.STYLE, "axes.titley", None)   # matplotlib's default
    placed = titled()
    assert placed.axes[0]._autotitlepos
    assert np.array_equal(plot.pixels(fig), plot.pixels(placed))   # the same place


def test_curves_and_paths_take_the_colors_given():
    path = np.array([[1.0, 1.0], [0.5, 0.5]])
    fig = plot.curves({"a": [3, 2], "b": [2, 1]}, colors=["#123456", "#abcdef"])
    plot.loss_surface(lambda p: (p ** 2).sum(-1), (-1, 1), (-1, 1), paths={"b": path},
                      colors=["#abcdef"], ax=fig.axes[0])
    colors = [line.get_color() for line in fig.axes[0].lines]
    assert colors == ["#123456", "#abcdef", "#abcdef", "#abcdef"]   # the path and its end


def test_curves_draw_against_the_x_given_or_the_step():
    q = np.linspace(0.1, 0.9, 5)
    ax = plot.curves({"a": 1 - q, "b": q}, x=q).axes[0]
    assert all(np.array_equal(line.get_xdata(), q) for line in ax.lines)
    assert np.array_equal(plot.curves({"a": [3, 2, 1]}).axes[0].lines[0].get_xdata(),
                          [0, 1, 2])
    with pytest.raises(ValueError, match=r"got 'b' of shape \(2,\), x of shape \(5,\)"):
        plot.curves({"a": q, "b": [1, 2]}, x=q)


def test_each_path_ends_in_a_large_dot_where_it_stopped():
    path = np.array([[1.0, 1.0], [0.5, 0.2], [np.nan, np.nan]])   # diverged after step 1
    ax = plot.loss_surface(lambda p: (p ** 2).sum(-1), (-1, 1), (-1, 1),
                           paths={"gd": path}).axes[0]
    line, end = ax.lines
    assert np.array_equal(end.get_xydata(), [[0.5, 0.2]])
    assert end.get_markersize() > line.get_markersize()


def test_gradient_norms_wants_arrays_of_one_length():
    for bad in ({}, {"a": []}, {"a": [1.0] * 5, "b": [1.0] * 9}):
        with pytest.raises(ValueError, match="one length"):
            plot.gradient_norms(bad)
    ticks = plot.gradient_norms({"a": [1.0] * 9, "b": [2.0] * 9}).axes[0].get_xticklabels()
    assert ticks[-1].get_text() == "out" and ticks[-1].get_position()[0] == 9


def test_network_diagram_draws_unit_0_of_each_layer_on_top():
    np.testing.assert_array_equal(plot.unit_heights(3), [1.0, 0.0, -1.0])
    w = np.array([[1.0, -1.0]])   # input 0 to unit 0 positive, to unit 1 negative
    ax = plot.network_diagram([w]).axes[0]
    edges = {line.get_color(): line.get_ydata()[1] for line in ax.lines}
    assert edges[plot.COLORS[0]] > edges[plot.COLORS[1]]


def test_forward_explorer_writes_each_value_at_its_unit():
    from nnlab import widgets
    explorer = widgets.forward_explorer()
    ax = explorer.figure.axes[0]
    written = {text.get_text(): text.xy for text in ax.texts}
    assert written["1.00"] == (0, 0.5) and written["0.50"] == (0, -0.5)   # x = (1.0, 0.5)
    assert written[f"{explorer.state['hidden'][0]:.3f}"] == (1, 0.5)


def test_history_draws_every_metric_in_the_axes_given_or_refuses():
    logged = {"loss": [1.0, 0.5], "accuracy": [0.6, 0.9]}
    fig, axes = plot.new_figure(2)
    assert plot.history(logged, metrics=("loss", "accuracy"), ax=axes) is fig
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "accuracy"]
    assert plot.history(logged, metrics="accuracy", ax=axes[0, 0]) is fig
    with pytest.raises(ValueError, match=r"1 Axes for the 2 metrics \['loss', 'accuracy'\]"):
        plot.history(logged, metrics=("loss", "accuracy"), ax=plot.new_figure(1)[1][0, 0])


def test_history_takes_the_model_and_names_what_is_missing():
    X, y = nl.datasets.logic_gate("and")
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    with pytest.raises(ValueError, match="got None"):   # not trained yet
        plot.history(model)
    model.compile("mse", "sgd")
    model.fit(X, y, epochs=2, batch_size=4, seed=0)
    for given in (model, model.history, model.history.history):
        assert plot.history(given).axes[0].lines[0].get_ydata().tolist() == \
            model.history.history["loss"]
    with pytest.raises(ValueError, match=r"logged \['accuracy'\]; got \['loss'\]"):
        plot.history(model, metrics=["accuracy"])


@pytest.mark.parametrize("call, match", [
    (lambda: plot.curves([1, 2, 3]), "curves takes series as a dict"),
    (lambda: plot.loss_surface(lambda p: p.sum(-1), (-1, 1), (-1, 1), paths=[np.zeros((2, 2))]),
     "loss_surface takes paths as a dict"),
    (lambda: plot.image_grid([]), "one or more"),
    (lambda: plot.image_grid(np.zeros((2, 3, 3)), titles=["a"]),
     r"got 2 images of shapes \[\(3, 3\)\] and 1 titles"),
    (lambda: plot.image_grid(np.zeros((8, 8))),   # one image, read as 8 rows
     r"images \(h, w\) or \(1, h, w\).* got 8 images of shapes \[\(8,\)\]"),
    (lambda: plot.image_grid(np.zeros((2, 3, 8, 8))), r"shapes \[\(3, 8, 8\)\]"),   # color
    (lambda: plot.curves({"a": 3.0}), r"1-D arrays .* got 'a' of shape \(\)"),
    (lambda: plot.curves({"a": [1, 2], "b": [2, 1]}, colors=["red"]),
     "curves: 1 colors for the 2 series"),
    (lambda: plot.loss_surface(lambda p: p.sum(-1), (-1, 1), (-1, 1), colors=["red"],
                               paths={"a": np.zeros((2, 2)), "b": np.ones((2, 2))}),
     "loss_surface: 1 colors for the 2 paths"),
    (lambda: plot.history({"loss": [1, 2], "val_loss": [1]}),
     "1 values of val_loss for 2 of loss"),
    (lambda: plot.confusion_matrix(np.eye(3), labels=["a", "b"]), "2 labels for 3 classes"),
    (lambda: plot.image_grid(np.zeros((2, 3, 3)), ncols=0), "ncols"),
    (lambda: plot.activations_grid(ncols=0), "ncols"),
    (lambda: plot.network_diagram([]), r"got shapes \[\]"),
    (lambda: plot.network_diagram([np.ones((2, 3)), np.ones((2, 1))]), "chain"),
    (lambda: plot.confusion_matrix([0, 1, 1]), r"square table .* got shape \(3,\)"),
    (lambda: plot.decision_boundary(lambda P: P[:, :1], np.zeros(4), np.zeros(4)),
     r"X of shape \(n, 2\)"),
    # Labels that are no class (once truncated to 0 and 1 in silence).
    (lambda: plot.decision_boundary(lambda P: P[:, :1], np.eye(2), [0.5, 1.7]),
     r"labels 0, 1, .* values \[0.5 1.7\]"),
    (lambda: plot.decision_boundary(lambda P: P[:, :1], np.eye(2), [-1, 1]),
     r"values \[-1.  1.\]"),
    (lambda: plot.decision_boundary(lambda P: P[:, :1], np.eye(2), [0, 1, 1]),
     r"n labels .* got X \(2, 2\) and y of shape \(3,\)"),
    (lambda: plot.decision_boundary(lambda P: P[:3], np.eye(2), [0, 1]),
     r"it gave shape \(3, 2\)"),
    (lambda: plot.activation_histograms([]), "one or more.* got 0 arrays"),
    (lambda: plot.activation_histograms([np.ones(3)], layers=[1, 2]),
     "got 1 arrays and 2 layer numbers"),
])
def test_figures_name_what_they_were_given_wrong(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_activations_grid_takes_one_name():
    assert len([ax for ax in plot.activations_grid("relu").axes if ax.get_visible()]) == 1


def test_a_constant_loss_surface_draws_its_paths_without_contours():
    path = np.array([[0.5, 0.5], [0.0, 0.0]])
    for log in (True, False):
        ax = plot.loss_surface(lambda p: 0 * p[..., 0] + 1.0, (-1, 1), (-1, 1), log=log,
                               paths={"gd": path}).axes[0]
        assert not ax.collections and len(ax.lines) == 2   # the path and its end
        plot.pixels(ax.figure)


def test_figures_are_drawn_in_style_whatever_the_notebook_set(monkeypatch):
    # A notebook's own settings: a framed legend, large titles, thick lines, no grid.
    for key, value in {"legend.frameon": True, "axes.titlesize": 20, "lines.linewidth": 5,
                       "axes.grid": False}.items():
        monkeypatch.setitem(matplotlib.rcParams, key, value)
    from nnlab import explore, explorer_figures

    figures = [plot.history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}, title="t"),
               plot.curves({"a": [3, 2], "b": [2, 1]}, title="t"),
               explorer_figures.backprop(explore.backprop())]
    for fig in figures:
        ax = fig.axes[0]
        assert not ax.get_legend().get_frame_on()
        assert ax.title.get_fontsize() == plot.STYLE["axes.titlesize"] or not ax.get_title()
        assert ax.lines[0].get_linewidth() == matplotlib.rcParamsDefault["lines.linewidth"]
    # Drawn, too, as in STYLE: the same pixels as under matplotlib's own settings.
    drawn = plot.pixels(figures[0])
    monkeypatch.undo()
    assert np.array_equal(drawn, plot.pixels(plot.history(
        {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}, title="t")))
    assert matplotlib.rcParams["legend.frameon"] is True   # the settings are left as they were


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


def bowl(p):
    return (p ** 2).sum(-1)


@pytest.mark.parametrize("spoil", [lambda v: v.__setitem__((0, 0), np.nan),   # one corner
                                   lambda v: v.__setitem__((slice(None), 0), np.inf)])
def test_loss_surface_draws_the_contours_of_the_finite_values(spoil):
    # One NaN made every level NaN (nothing drawn); an inf strip left a single finite level.
    def spoiled(p):
        values = bowl(p)
        spoil(values)
        return values

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = plot.loss_surface(spoiled, (-1, 1), (-1, 1), resolution=50).axes[0]
    (contours,) = ax.collections
    values = spoiled(np.stack(np.meshgrid(*[np.linspace(-1, 1, 50)] * 2), axis=-1))
    finite = values[np.isfinite(values)]
    np.testing.assert_allclose(contours.levels[[0, -1]], [1e-3, np.ptp(finite) + 1e-3])
    assert len(contours.levels) == 30 and np.all(np.isfinite(contours.levels))
    nowhere = plot.loss_surface(lambda p: bowl(p) * np.nan, (-1, 1), (-1, 1), resolution=20)
    assert not nowhere.axes[0].collections   # no finite value: no contour


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


def test_a_log_axis_says_which_values_it_cannot_show():
    assert plot.curves({"a": [1, 0, 0.5, -2, 0.2]}, logy=True).axes[0].get_title() == \
        "2 values <= 0 left out"
    assert plot.curves({"a": [1, 0], "b": [np.nan, -1]}, logy=True, title="t").axes[0] \
        .get_title() == "t; 2 values <= 0 left out"
    assert plot.curves({"a": [1, 0]}, title="t").axes[0].get_title() == "t"   # a linear axis
    assert plot.curves({"a": [1, np.nan]}, logy=True).axes[0].get_title() == ""


def test_a_zero_gradient_norm_is_marked_on_the_bottom_edge():
    ax = plot.gradient_norms([0.0, 1.0, 2.0]).axes[0]
    curve, _, zeros = ax.lines
    assert np.isnan(curve.get_ydata()[0])   # the curve breaks at the dead layer
    assert zeros.get_xydata().tolist() == [[1.0, 0.0]] and zeros.get_marker() == "v"
    assert zeros.get_transform() == ax.get_xaxis_transform() and not zeros.get_clip_on()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["norm 0"]
    labeled = plot.gradient_norms({"relu": [1.0, 0.0, 0.0], "tanh": [1.0, 2.0, 3.0]})
    assert [t.get_text() for t in labeled.axes[0].get_legend().get_texts()] == [
        "relu", "relu: norm 0", "tanh"]
    assert plot.gradient_norms([1.0, 2.0]).axes[0].get_legend() is None


@pytest.mark.parametrize("call, match", [
    (lambda: plot.history({"loss": [1.0]}, metrics=[]), "one or more metrics; got metrics=.."),
    (lambda: plot.activations_grid([]), "one or more activations; got no names"),
    (lambda: plot.gradient_norms(1.0), r"norms must be 1-D; got a 0-D array"),
    (lambda: plot.gradient_norms(np.ones((3, 2))), r"1-D; got a 2-D array of shape \(3, 2\)"),
    (lambda: plot.gradient_norms({"a": [1.0, -1.0]}), "norms are >= 0; got -1"),
    (lambda: plot.decision_boundary(lambda P: P[:, :1], np.zeros((0, 2)), []),
     r"n >= 1, .* got X \(0, 2\)"),
    (lambda: plot.decision_boundary(lambda P: P[:, :1], [[0, np.nan], [1, 1]], [0, 1]),
     "decision_boundary X contains 1 NaN or infinite"),
    (lambda: plot.decision_boundary(lambda P: P[:, :1], [[0, np.inf], [1, 1]], [0, 1]),
     "decision_boundary X contains 1 NaN or infinite"),
    (lambda: plot.decision_boundary(lambda P: P[:, :1], np.eye(2), [0, 1], resolution=0),
     r"resolution must be in \[2, inf\); got 0"),
    (lambda: plot.decision_boundary(lambda P: P[:, :1], np.eye(2), [0, 1], resolution=1),
     "resolution must be in"),
    (lambda: plot.decision_boundary(lambda P: P[:, :1], np.eye(2), [0, 1], resolution=2.5),
     "resolution must be an integer; got 2.5"),
    (lambda: plot.loss_surface(bowl, (-1, 1), (-1, 1), levels=[0.1, 0.5]),
     r"levels \(with log=True\) must be an integer; got \[0.1, 0.5\]"),
    (lambda: plot.loss_surface(bowl, (-1, 1), (-1, 1), resolution=0),
     r"loss_surface resolution must be in \[2, inf\); got 0"),
    (lambda: plot.loss_surface(bowl, (-1, 1), (-1, 1), paths={"gd": np.zeros(3)}),
     r"paths\['gd'\] must be an \(n_steps, 2\) array of points; got shape \(3,\)"),
    (lambda: plot.loss_surface(bowl, (-1, 1), (-1, 1), paths={"gd": np.zeros((3, 3))}),
     r"got shape \(3, 3\)"),
    (lambda: plot.loss_surface(lambda p: p.sum(), (-1, 1), (-1, 1), resolution=5),
     r"one value per point, shape \(5, 5\) .* got shape \(\)"),
    (lambda: plot.loss_surface(lambda p: p, (-1, 1), (-1, 1), resolution=5),
     r"got shape \(5, 5, 2\)"),
])
def test_figures_refuse_what_they_cannot_draw(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_loss_surface_takes_the_values_of_its_levels_on_a_linear_scale():
    ax = plot.loss_surface(bowl, (-1, 1), (-1, 1), levels=[0.1, 0.5], log=False).axes[0]
    assert list(ax.collections[0].levels) == [0.1, 0.5]


def test_histograms_count_the_values_they_leave_out():
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # +-1e308 overflowed the std and the bins' span
        fig = plot.activation_histograms([np.array([1.0, 2.0, np.nan, np.inf]),
                                          np.array([1e200, -1e200, 0.0]),
                                          np.array([1e308, -1e308, 0.0])])
        plot.pixels(fig)
    assert [ax.get_title() for ax in fig.axes] == [
        "layer 1\nstd 0.5, 2 left out", "layer 2\nstd 8.2e+199", "layer 3\nstd 0, 2 left out"]
    assert fig.axes[0].get_xlim() == pytest.approx((-1.16e200, 1.16e200))


def test_the_playground_figure_of_a_diverged_network_warns_of_nothing():
    from nnlab import explorer_figures
    from nnlab.playground import Session

    session = Session(optimizer="sgd", lr=1.0, activation="linear", batch_size=1)
    with np.errstate(all="ignore"):
        session.train(20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # the forward pass overflowed, warning the caller
        plot.pixels(explorer_figures.playground(session.model, session.data, session.history))
