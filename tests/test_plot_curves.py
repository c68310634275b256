"""Curves, training histories, gradient norms and loss surfaces: their log axes, colors,
paths, legends and levels, and the values they cannot draw."""

import warnings

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

import nnlab as nl
from nnlab import plot
from tests.plot_cases import bowl


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


def test_a_constant_loss_surface_draws_its_paths_without_contours():
    path = np.array([[0.5, 0.5], [0.0, 0.0]])
    for log in (True, False):
        ax = plot.loss_surface(lambda p: 0 * p[..., 0] + 1.0, (-1, 1), (-1, 1), log=log,
                               paths={"gd": path}).axes[0]
        assert not ax.collections and len(ax.lines) == 2   # the path and its end
        plot.pixels(ax.figure)


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


def test_loss_surface_refuses_limits_that_are_no_span_and_skips_overflowed_values():
    # a TypeError, a RuntimeWarning of linspace to inf, a matplotlib warning at (0, 0)
    for bad, match in (("x", r"xlim must be \(low, high\); got 'x'"),
                       (None, r"xlim must be \(low, high\); got None"),
                       ((-1, np.inf), "xlim must be finite"),
                       ((0, 0), r"xlim must be \(low, high\) with low < high; got \(0, 0\)")):
        with pytest.raises(ValueError, match=match):
            plot.loss_surface(bowl, bad, (-1, 1))
    with pytest.raises(ValueError, match="ylim must be a real number; got 'a'"):
        plot.loss_surface(bowl, (-1, 1), ("a", 1))
    with pytest.raises(ValueError, match="f must be a function of"):
        plot.loss_surface(None, (-1, 1), (-1, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # e^(1000 x) overflows over half the grid: not drawn
        ax = plot.loss_surface(lambda p: np.exp(1e3 * p[..., 0]), (-1, 1), (-1, 1)).axes[0]
        plot.loss_surface(lambda p: np.log(p[..., 0] ** 2), (-1, 1), (-1, 1), resolution=21)
    assert len(ax.collections) == 1


def test_a_log_axis_says_which_values_it_cannot_show():
    assert plot.curves({"a": [1, 0, 0.5, -2, 0.2]}, logy=True).axes[0].get_title() == \
        "2 values <= 0 left out"
    assert plot.curves({"a": [1, 0], "b": [np.nan, -1]}, logy=True, title="t").axes[0] \
        .get_title() == "t; 2 values <= 0 left out"
    assert plot.curves({"a": [1, 0]}, title="t").axes[0].get_title() == "t"   # a linear axis
    assert plot.curves({"a": [1, np.nan]}, logy=True).axes[0].get_title() == ""
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # "Data has no positive values": an empty log axis
        ax = plot.curves({"a": [0, -1], "b": [np.nan, -2]}, logy=True, title="t").axes[0]
        plot.pixels(ax.figure)
    assert ax.get_yscale() == "linear" and ax.get_title() == "t; no value > 0: a linear axis"


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


def test_loss_surface_takes_the_values_of_its_levels_on_a_linear_scale():
    ax = plot.loss_surface(bowl, (-1, 1), (-1, 1), levels=[0.1, 0.5], log=False).axes[0]
    assert list(ax.collections[0].levels) == [0.1, 0.5]


def test_gradient_norms_names_the_curves_beside_the_axes_not_on_them():
    # Curves over twenty decades fill every corner: a legend inside hid the sigmoid's.
    fig = plot.gradient_norms({"sigmoid": np.logspace(-14, 1, 21), "relu": np.full(21, 10.0),
                               "tanh": np.logspace(6, 1, 21), "big": np.full(21, 1e20)})
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    legend, axes = fig.axes[0].get_legend().get_window_extent(), fig.axes[0].get_window_extent()
    assert axes.x1 <= legend.x0 and legend.x1 <= fig.bbox.x1   # beside, in the figure
