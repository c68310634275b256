"""What a mutation audit of the figures found unpinned: the inputs an activation is drawn
over and shaded at, the decision boundary halfway between grid points and the points in
their class's color, where a diagram's units sit, an image drawn as given, the counts of a
confusion matrix readable on their cells, the sizes of figures, and the input refused."""

import io

import numpy as np
import pytest
from matplotlib.colors import to_rgb, to_rgba
from PIL import Image

from nnlab import plot
from tests.helpers import numeric_grad


def shaded_runs(ax):
    """The (first z, last z) of each band ``activation`` shaded."""
    return [(path.vertices[:, 0].min(), path.vertices[:, 0].max())
            for path in ax.collections[0].get_paths()]


def runs(z, mask):
    """The (first z, last z) of each run of True in ``mask``."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(int), [0]])))
    return [(z[a], z[b - 1]) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def test_an_activation_is_drawn_from_minus_5_to_5_where_the_sigmoid_saturates():
    # sigmoid' = s (1 - s) < 0.01 where s < (1 - sqrt(0.96)) / 2, |z| > 4.585: on the
    # default grid of step 0.025, from 4.6 to 5 on either side.
    ax = plot.activation("sigmoid", saturation=0.01).axes[0]
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), np.linspace(-5, 5, 401))
    np.testing.assert_allclose(shaded_runs(ax), [(-5, -4.6), (4.6, 5)])


def test_saturation_shades_slopes_strictly_smaller_in_size():
    z = np.linspace(-6, 2, 161)
    # linear' = 1 everywhere: not smaller than 1, smaller than 1.001.
    assert shaded_runs(plot.activation("linear", z=z, saturation=1).axes[0]) == []
    assert shaded_runs(plot.activation("linear", z=z, saturation=1.001).axes[0]) == \
        [(-6, 2)]
    # swish' dips to -0.1 near z = -2.4: small in size only in the left tail and around
    # its zero at z = -1.28, not over the whole negative dip.
    swish = plot._activations.get("swish")
    x = z.copy()
    slope = numeric_grad(lambda: swish(x).sum(), x)
    expected = runs(z, np.abs(slope) < 0.05)
    assert len(expected) == 2
    assert shaded_runs(plot.activation(swish, z=z, saturation=0.05).axes[0]) == expected


def test_the_activations_grid_has_a_row_for_every_ncols_names():
    names = ["relu", "tanh", "elu", "selu", "gelu"]
    fig = plot.activations_grid(names, ncols=2)   # 5 names in rows of 2: 3 rows
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(fig.axes) == 6 and [ax.get_title() for ax in visible] == names
    assert {ax.get_ylabel() for ax in visible} == {""}   # the panels share "value"


def test_the_decision_boundary_lies_halfway_between_grid_points_of_two_classes():
    # X in [0, 1]^2 padded by 0.2: 8 grid columns at -0.2, 0, 0.2, ..., 1.2. Class 1 above
    # x1 = 0.45: the last column of class 0 is at 0.4, the first of class 1 at 0.6.
    X, y = np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([0, 1])
    ax = plot.decision_boundary(lambda P: P[:, :1] - 0.45, X, y, resolution=8,
                                threshold=0).axes[0]
    np.testing.assert_allclose(ax.get_xlim(), (-0.2, 1.2))
    zero, one = ax.collections[0].get_paths()
    np.testing.assert_allclose([zero.vertices[:, 0].max(), one.vertices[:, 0].min()],
                               [0.5, 0.5])


def test_decision_boundary_points_take_their_class_color():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1, 2, 1])
    ax = plot.decision_boundary(lambda P: -(P[:, :1] - np.arange(3)) ** 2, X, y).axes[0]
    points = ax.collections[-1]
    np.testing.assert_allclose(points.to_rgba(points.get_array()),
                               [to_rgba(plot.COLORS[c]) for c in y])


def test_network_diagram_units_sit_where_their_edges_meet():
    # Layers of 2, 3 and 1 units, unit 0 on top, 1 apart, centered on 0.
    heights = [[0.5, -0.5], [1.0, 0.0, -1.0], [0.0]]
    ax = plot.network_diagram([np.ones((2, 3)), np.ones((3, 1))]).axes[0]
    for layer, (nodes, ys) in enumerate(zip(ax.collections, heights, strict=True)):
        np.testing.assert_array_equal(nodes.get_offsets(), [[layer, h] for h in ys])
    centres = {tuple(p) for nodes in ax.collections for p in nodes.get_offsets().tolist()}
    ends = {tuple(p) for line in ax.lines for p in line.get_xydata().tolist()}
    assert ends == centres


def test_an_image_is_drawn_as_given_in_square_cells():
    image = np.arange(12.0).reshape(3, 4)   # 3 rows of 4: a transpose shows 4 of 3
    (drawn,) = plot.image_grid([image]).axes[0].images
    np.testing.assert_array_equal(drawn.get_array(), image)
    # 16 images in rows of 8 are capped at the 8.6-inch column: cells (8.6 - 0.4) / 8 wide,
    # as tall, plus 0.2 for a title, in 2 rows.
    fig = plot.image_grid(np.zeros((16, 4, 4)))
    assert fig.get_figwidth() == 8.6
    assert fig.get_figheight() == pytest.approx(2 * (8.2 / 8 + 0.2))


def luminance(rgba):
    return float(np.dot([0.2126, 0.7152, 0.0722], rgba[:3]))


@pytest.mark.parametrize("cm", [[[100, 90], [95, 98]], [[30, 20], [25, 25]], [[5, 5], [5, 5]],
                                [[50, 3], [4, 43]], [[0, 0], [0, 0]]])
def test_the_counts_of_a_confusion_matrix_are_readable_on_their_cells(cm):
    # With no 0 in the table, the colors ran from its smallest count: 90 of [[100, 90], ...]
    # sat on a white cell, written in white (90 > 100 / 2).
    cm = np.array(cm)
    ax = plot.confusion_matrix(cm).axes[0]
    (image,) = ax.images
    for text in ax.texts:
        j, i = (int(v) for v in text.get_position())
        cell = luminance(image.to_rgba(cm[i, j]))
        # white on a light cell, or black on a dark one, is hard to read
        assert cell < 0.7 if text.get_color() == "white" else cell > 0.3, (cm[i, j], cell)
    assert image.get_clim() == (0, cm.max())


def test_a_confusion_matrix_of_fractions_is_written_to_two_decimals():
    cm = np.array([[5, 1], [0, 4]])
    assert [t.get_text() for t in plot.confusion_matrix(cm).axes[0].texts] == ["5", "1", "0", "4"]
    rows = cm / cm.sum(axis=1, keepdims=True)   # 5/6, 1/6; 0, 1
    texts = [t.get_text() for t in plot.confusion_matrix(rows).axes[0].texts]
    assert texts == ["0.83", "0.17", "0", "1"]


def test_gradient_norms_color_each_of_ten_series_apart_and_keep_a_legend_in_its_axes():
    fig = plot.gradient_norms({f"s{i}": [1.0 + i, 2.0] for i in range(11)})
    curves = fig.axes[0].lines[::2]   # each series: its curve, then its output marker
    assert [line.get_color() for line in curves] == [*plot.COLORS, plot.COLORS[0]]
    # Given an axes (a panel of another figure), the legend stays inside it.
    fig, axes = plot.new_figure(2)
    plot.gradient_norms({"a": [1.0, 2.0]}, ax=axes[0, 0])
    fig.canvas.draw()
    legend, box = axes[0, 0].get_legend().get_window_extent(), axes[0, 0].get_window_extent()
    assert box.x0 <= legend.x0 and legend.x1 <= box.x1


def test_gradient_norm_bands_of_no_height_are_neither_drawn_nor_named():
    # The axis is the span, 1e-3 to 1e3: above 1e3 and below 1e-3 there is no room.
    ax = plot.gradient_norms([1e-2, 1.0], span=(1e-3, 1e3), limit=1e3).axes[0]
    assert ax.get_ylim() == (1e-3, 1e3)
    assert not ax.patches and ax.get_legend() is None


def test_path_colors_are_distinct_and_none_is_grey_over_the_grey_contours():
    rgb = np.array([to_rgb(c) for c in plot.PATH_COLORS])
    assert len(set(plot.PATH_COLORS)) == len(rgb) == 8
    assert np.all(np.ptp(rgb, axis=1) > 0.2)   # a grey's red, green and blue are equal


def test_figures_are_sized_per_column_and_per_row():
    assert plot.new_figure(2)[0].get_size_inches().tolist() == [8.4, 3.2]
    assert plot.new_figure(1, 3, height=2)[0].get_size_inches().tolist() == [4.2, 6.0]
    # One histogram is as wide as two, 1.6 inches a panel and 1 inch more.
    assert plot.activation_histograms([np.arange(5.0)]).get_figwidth() == 1.6 * 2 + 1


def test_pngs_and_pixels_are_drawn_at_80_dpi_and_the_compression_asked():
    fig = plot.activation("tanh")   # 4.2 x 3.2 inches: 336 x 256 pixels at 80 dpi
    assert plot.pixels(fig).shape == (256, 336, 4)
    raw, small = plot.to_png(fig, compress_level=0), plot.to_png(fig, compress_level=9)
    assert len(raw) > 10 * len(small)   # zlib's level 0 stores the pixels as they are
    for png in (raw, small, plot.to_png(fig)):
        np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png))),
                                      plot.pixels(fig))


@pytest.mark.parametrize("call, match", [
    (lambda: plot.activation("tanh", saturation=0), r"saturation must be in \(0, inf\)"),
    (lambda: plot.activation("tanh", z=np.zeros((3, 2))), "z must be 1-D"),
    (lambda: plot.decision_boundary(lambda P: P[:, :1], np.zeros((3, 3)), [0, 1, 0]),
     r"got X \(3, 3\)"),
    (lambda: plot.history({"loss": [1.0, 0.5]}, ax=plot.new_figure(2)[1]),
     r"2 Axes for the 1 metrics \['loss'\]"),
    (lambda: plot.curves({"a": [1.0, 2.0]}, x=3.0), r"x of shape \(\)"),
    (lambda: plot.network_diagram([np.ones((2, 3)), np.ones((4, 3))]),
     r"chain, layer to layer; got shapes \[\(2, 3\), \(4, 3\)\]"),
    (lambda: plot.confusion_matrix(np.ones((2, 3))), r"square table .* got shape \(2, 3\)"),
    (lambda: plot.confusion_matrix(np.eye(2), labels="abc"), "3 labels for 2 classes"),
])
def test_figures_refuse_input_they_would_draw_wrong(call, match):
    with pytest.raises(ValueError, match=match):
        call()
