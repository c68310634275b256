"""Every figure of nnlab.plot draws headless, has labeled axes, and is deterministic; figures
keep the book's style and layout whatever matplotlib's settings, and name bad input."""

import warnings

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

import nnlab as nl
from nnlab import explore, plot
from nnlab.figure_data import network_labels
from tests.plot_cases import bowl


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


def test_decision_boundary_takes_a_model_as_its_predict(trained):
    # A model was called as a function: "'Sequential' object is not callable".
    model, X, y, _ = trained
    shades = [plot.decision_boundary(f, X, y, threshold=0).axes[0].collections[0]
              for f in (model, model.predict)]
    assert shades[0].get_paths()[0].vertices.tolist() == \
        shades[1].get_paths()[0].vertices.tolist()


def test_png_bytes_are_deterministic():
    a = plot.to_png(plot.activation("elu"))
    b = plot.to_png(plot.activation("elu"))
    assert a == b and a[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_figure_shows_itself_at_twice_the_pixels_and_its_80_dpi_width():
    # An 80-dpi PNG was enlarged, and blurred, on screens of two pixels per point.
    fig = plot.activation("elu")
    png, metadata = fig._repr_png_()
    assert metadata == {"width": round(fig.get_figwidth() * 80)}
    assert int.from_bytes(png[16:20], "big") == 2 * metadata["width"]   # IHDR's width
    assert png == plot.to_png(fig, dpi=160) and b"tEXt" not in png


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


def test_fixed_layout_places_panels_in_inches():
    fig, _ = plot.new_figure(2, 1, width=8, height=3)
    plot.fixed_layout(fig, left=0.5, bottom=0.4, right=0.5, top=0.6, gap=1.0)
    plot.pixels(fig)  # drawing moves nothing: no layout engine is left
    bounds = np.array([ax.get_position().bounds for ax in fig.axes]) * [8, 3, 8, 3]
    np.testing.assert_allclose(bounds, [[0.5, 0.4, 3, 2], [4.5, 0.4, 3, 2]])
    with pytest.raises(ValueError, match="one row"):
        plot.fixed_layout(plot.new_figure(1, 2)[0])


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
    (lambda: plot.activation("tanh", saturation=-0.01), "activation saturation"),
    (lambda: plot.activation("relu", z=["a"]), "plot.activation z must be a numeric array"),
    (lambda: plot.activation("relu", z=[1j]), "plot.activation z must be a numeric array"),
    (lambda: plot.decision_boundary(lambda P: P[:, :1], np.eye(2), ["a", "b"]),
     "decision_boundary y must be a numeric array"),
    (lambda: plot.network_diagram([]), r"got shapes \[\]"),
    (lambda: plot.network_diagram([np.ones((2, 3)), np.ones((2, 1))]), "chain"),
    (lambda: plot.network_diagram(nl.Sequential([nl.Flatten()])), r"got shapes \[\]"),
    (lambda: plot.network_diagram(nl.Sequential([nl.Dense(2, 2), nl.BatchNorm(2)])),
     r"draws a model of Dense layers and activations; got BatchNorm"),
    (lambda: plot.network_diagram(np.ones((2, 3))), "a list of weight matrices or a "
                                                    "Sequential model; got ndarray"),
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
    (lambda: plot.decision_boundary("relu", np.eye(2), [0, 1]),
     r"takes a model or a function .* got str"),
    (lambda: plot.activation_histograms([]), "one or more.* got 0 arrays"),
    (lambda: plot.activation_histograms([np.ones(3)], layers=[1, 2]),
     "got 1 arrays and 2 layer numbers"),
])
def test_figures_name_what_they_were_given_wrong(call, match):
    with pytest.raises(ValueError, match=match):
        call()


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


def test_the_playground_figure_of_a_diverged_network_warns_of_nothing():
    from nnlab import explorer_figures
    from nnlab.playground import Session

    session = Session(optimizer="sgd", lr=1.0, activation="linear", batch_size=1)
    with np.errstate(all="ignore"):
        session.train(20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # the forward pass overflowed, warning the caller
        plot.pixels(explorer_figures.playground(session.model, session.data, session.history))


def test_a_weight_that_rounds_to_zero_is_labeled_0_not_minus_0():
    # A slider left at -0.0, or a weight of -0.0001, rounds to -0.0: "−0" on the edge reads
    # as a negative weight, which the edge's color (blue for >= 0) contradicts.
    weights = [np.array([[-0.0, -0.0004], [0.3, -0.25]]), np.array([[-1e-9], [0.1]])]
    biases = [np.array([-0.0, 0.5]), np.array([-0.0002])]
    texts = [text for _, text, _ in network_labels(weights, biases)]
    assert texts == ["0", "0", "0.3", "\N{MINUS SIGN}0.25", "0", "0.1",
                     "b=0", "b=0.5", "b=0"]


def test_the_weights_of_crossing_edges_are_written_apart_a_third_of_the_way_along():
    state = explore.forward()
    weights = [np.array(w) for w in state["weights"]]
    labels = network_labels(weights, state["biases"])
    points = [point for point, _, side in labels if side == 0]
    assert len(points) == 4 + 2
    # w1 from input 0 (top, y 0.5) to hidden unit 1 (bottom, y -0.5): a third of the way.
    assert np.allclose(points[1], (1 / 3, 0.5 - 1 / 3))
    # Halfway, the two crossing edges' labels would sit on the same point (0.5, 0).
    assert len({tuple(np.round(p, 9)) for p in points}) == len(points)
