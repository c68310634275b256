"""What the plot helpers draw, read back from the figure: which curve is which and how it is
named, where points, paths and counts sit, the axes' limits, labels and ticks, the panels'
titles, the color maps, the grid and the width of a figure."""

import numpy as np

import nnlab as nl
from nnlab import plot
from tests.plot_cases import bowl


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_an_activation_figure_draws_the_function_and_its_derivative_each_named():
    z = np.linspace(-3, 3, 61)
    ax = plot.activation("tanh", z=z).axes[0]
    function, derivative = ax.lines
    np.testing.assert_allclose(function.get_ydata(), np.tanh(z))
    np.testing.assert_allclose(derivative.get_ydata(), 1 - np.tanh(z) ** 2)
    assert derivative.get_linestyle() == "--"
    assert legend_texts(ax) == ["f(z)", "f'(z)"]


def test_an_activation_given_as_an_object_is_titled_by_its_name():
    assert plot.activation(nl.activations.get("tanh")).axes[0].get_title() == "tanh"


def test_the_activations_grid_names_the_two_curves_once_in_its_first_panel():
    fig = plot.activations_grid(["relu", "tanh", "elu"])
    assert legend_texts(fig.axes[0]) == ["f(z)", "f'(z)"]
    assert all(ax.get_legend() is None for ax in fig.axes[1:])


def test_decision_boundary_draws_each_point_at_x1_x2_on_axes_that_fit_the_plane():
    # Features of different ranges: a swap of x1 and x2 moves the points off the plane.
    X = np.array([[0.0, 10.0], [1.0, 20.0], [0.5, 15.0]])
    ax = plot.decision_boundary(lambda P: P[:, :1] - 0.5, X, [0, 1, 1], threshold=0).axes[0]
    points = ax.collections[-1]
    np.testing.assert_array_equal(points.get_offsets(), X)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("$x_1$", "$x_2$")
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x0 <= 0 and 1 <= x1 < 10 and 0 < y0 <= 10 and y1 >= 20


def test_history_draws_validation_dashed_against_epochs_counted_from_one():
    logged = {"loss": [1.0, 0.6, 0.4], "val_loss": [1.2, 0.9, 0.8]}
    ax = plot.history(logged).axes[0]
    training, validation = ax.lines
    assert training.get_xdata().tolist() == validation.get_xdata().tolist() == [1, 2, 3]
    assert training.get_ydata().tolist() == logged["loss"]
    assert validation.get_ydata().tolist() == logged["val_loss"]
    assert training.get_linestyle() == "-" and validation.get_linestyle() == "--"
    assert legend_texts(ax) == ["training", "validation"]


def test_the_history_title_sits_over_the_first_panel():
    fig = plot.history({"loss": [1.0, 0.5], "accuracy": [0.5, 0.9]},
                       metrics=("loss", "accuracy"), title="run 1")
    assert [ax.get_title() for ax in fig.axes] == ["run 1", ""]


def test_the_log_levels_of_a_loss_surface_are_spaced_evenly_in_log():
    (contours,) = plot.loss_surface(bowl, (-1, 1), (-1, 1), levels=12).axes[0].collections
    ratios = np.diff(np.log(contours.levels))
    np.testing.assert_allclose(ratios, ratios[0])


def test_a_loss_surface_path_is_drawn_at_w1_w2_inside_the_limits_given():
    path = np.array([[1.5, 0.5], [0.2, -0.3]])
    ax = plot.loss_surface(bowl, (-2, 2), (-1, 1), paths={"gd": path}).axes[0]
    np.testing.assert_array_equal(ax.lines[0].get_xydata(), path)
    assert ax.get_xlim() == (-2, 2) and ax.get_ylim() == (-1, 1)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("$w_1$", "$w_2$")


def test_a_single_curve_has_no_legend():
    assert plot.curves({"loss": [3.0, 2.0, 1.0]}).axes[0].get_legend() is None
    assert legend_texts(plot.curves({"a": [3.0, 2.0], "b": [2.0, 1.0]}).axes[0]) == ["a", "b"]


def test_the_output_layers_norm_is_the_hollow_marker_at_the_last_tick():
    ax = plot.gradient_norms([1e-3, 1e-2, 0.5]).axes[0]
    curve, output = ax.lines
    assert output.get_xydata().tolist() == [[3.0, 0.5]]
    assert output.get_markerfacecolor() == "white"
    assert output.get_color() == curve.get_color()


def test_the_limit_bands_leave_the_axis_fitted_to_the_norms():
    # A band drawn to the axis' ends would widen it: matplotlib fits its view to the band.
    norms = [1e-2, 1e-1, 1.0]
    plain = plot.gradient_norms(norms).axes[0]
    shaded = plot.gradient_norms(norms, limit=10).axes[0]
    assert legend_texts(shaded) == ["vanishing: below 0.1"]
    assert shaded.get_ylim() == plain.get_ylim()


def test_activation_histograms_show_no_count_ticks():
    fig = plot.activation_histograms([np.arange(10.0), np.arange(5.0)])
    assert all(len(ax.get_yticks()) == 0 for ax in fig.axes)


def test_network_diagram_numbers_the_layers_after_the_input():
    ax = plot.network_diagram([np.ones((2, 3)), np.ones((3, 1))]).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["input", "layer 1", "layer 2"]


def test_the_confusion_matrix_has_true_classes_in_rows_and_each_count_on_its_cell():
    cm = np.array([[5, 1, 0], [2, 7, 0], [0, 3, 9]])
    ax = plot.confusion_matrix(cm, labels=["a", "b", "c"]).axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), cm)
    # imshow puts row i at y = i and column j at x = j: a count sits at (j, i).
    assert {t.get_position(): int(t.get_text()) for t in ax.texts} == {
        (j, i): cm[i, j] for i in range(3) for j in range(3)}
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")


def test_counts_on_the_dark_cells_of_a_confusion_matrix_are_written_white():
    ax = plot.confusion_matrix(np.array([[9, 1], [0, 4]])).axes[0]
    colors = {int(t.get_text()): t.get_color() for t in ax.texts}
    assert colors == {9: "white", 1: "black", 0: "black", 4: "black"}


def test_signed_images_take_a_diverging_map_centred_at_zero():
    image = np.random.default_rng(0).normal(size=(6, 6))
    (signed,) = plot.image_grid([image], symmetric=True).axes[0].images
    assert signed.get_cmap().name == "RdBu_r"
    low, high = signed.get_clim()
    assert low == -high == -np.abs(image).max()
    (grey,) = plot.image_grid([image]).axes[0].images
    assert grey.get_cmap().name == "gray_r"


def test_an_image_grid_titles_each_panel_and_the_whole():
    images = np.zeros((3, 4, 4))
    fig = plot.image_grid(images, titles=["zero", "one", "two"], title="digits")
    assert [ax.get_title() for ax in fig.axes] == ["zero", "one", "two"]
    assert fig.get_suptitle() == "digits"


def test_figures_draw_a_light_grid():
    ax = plot.curves({"a": [3.0, 2.0, 1.0]}).axes[0]
    for lines in (ax.get_xgridlines(), ax.get_ygridlines()):
        assert lines and all(line.get_visible() for line in lines)
        assert all(line.get_alpha() == plot.STYLE["grid.alpha"] for line in lines)


def test_a_figure_is_never_wider_than_the_text_column():
    # 8.6 inches: new_figure's max_width, the book's text column.
    assert plot.new_figure(width=12)[0].get_figwidth() == 8.6
    assert plot.image_grid(np.zeros((8, 4, 4))).get_figwidth() == 8.6
    assert plot.activation_histograms([np.arange(5.0)] * 6).get_figwidth() == 8.6
