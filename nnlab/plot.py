"""The figures the chapters share, in one consistent look.

Every figure function takes data (and most a matplotlib ``Axes`` to draw into) and returns
the ``Figure``, a ``BookFigure`` (unless drawn into another figure's Axes) drawn in the
book's style whatever matplotlib's settings
(``in_style`` of ``nnlab.book_figure``, whose names this module re-exports), built
without pyplot's global state: a notebook shows each figure once, as its cell's value.

Examples
--------
>>> fig = nl.plot.activation("tanh")
>>> fig.axes[0].get_xlabel()
'z'
"""

import itertools

import numpy as np
from matplotlib.colors import ListedColormap

from nnlab import activations as _activations
from nnlab import figure_data as _data
from nnlab._checks import as_float_array, check_number
from nnlab.array_figures import confusion_matrix, image_grid
from nnlab.book_figure import (
    COLORS,
    PATH_COLORS,
    STYLE,
    BookFigure,
    fixed_layout,
    in_style,
    new_figure,
    pixels,
    to_png,
)
from nnlab.figure_data import (
    finite_limit,
    histogram_panels,
    path_points,
    series_colors,
    unit_heights,
)
from nnlab.layers import Dense
from nnlab.log_axis import log_y, short_ticks
from nnlab.model import Sequential

# Re-exported: the look (nnlab.book_figure), what figures draw (nnlab.figure_data), the
# pictures of arrays (nnlab.array_figures).
__all__ = ["COLORS", "PATH_COLORS", "STYLE", "BookFigure", "activation",
           "activation_histograms", "activations_grid", "confusion_matrix", "curves",
           "decision_boundary", "finite_limit", "fixed_layout", "gradient_norms",
           "histogram_panels", "history", "image_grid", "in_style", "loss_surface",
           "network_diagram", "new_figure", "one_axes", "path_points", "pixels",
           "series_colors", "to_png", "unit_heights"]


def _axes(ax, **kwargs):
    ax = new_figure(**kwargs)[1][0, 0] if ax is None else ax
    return ax.figure, ax


def one_axes(**kwargs):
    """A new figure of a single axes in the book's style: ``(fig, ax)``; ``kwargs`` are
    ``new_figure``'s ``width`` and ``height``."""
    return _axes(None, **kwargs)


@in_style()
def activation(name, z=None, ax=None, saturation=None):
    """An activation function and its derivative; ``saturation`` (say 0.01) shades the
    inputs where the derivative is smaller than that in size: where the unit saturates.

    Examples
    --------
    >>> nl.plot.activation("relu").axes[0].get_title()
    'relu'
    """
    fn = _activations.get(name)
    z = np.linspace(-5, 5, 401) if z is None else as_float_array(z, "plot.activation z",
                                                                  ndim=1, dtype=float)
    fig, ax = _axes(ax)
    slope = fn.derivative(z)
    ax.plot(z, fn(z), color=COLORS[0], label="f(z)")
    ax.plot(z, slope, color=COLORS[1], linestyle="--", label="f'(z)")
    if saturation is not None:
        check_number(saturation, "activation saturation", low=0, low_open=True)
        ax.fill_between(z, 0, 1, where=np.abs(slope) < saturation, color="0.88", lw=0,
                        transform=ax.get_xaxis_transform(), label=f"|f'| < {saturation:g}")
    ax.set(xlabel="z", ylabel="value", title=fn.name)
    ax.legend()
    return fig


@in_style()
def activations_grid(names=None, z=None, ncols=4, saturation=None):
    """Small panels of several activations with their derivatives (``saturation``: as in
    ``activation``)."""
    names = [names] if isinstance(names, str) else list(
        _activations.NAMES if names is None else names)
    if not names:
        raise ValueError("activations_grid draws one or more activations; got no names")
    check_number(ncols, "activations_grid ncols", low=1, integer=True)
    nrows = int(np.ceil(len(names) / ncols))
    fig, axes = new_figure(ncols, nrows, height=2.4)
    for ax, name in zip(axes.flat, names, strict=False):
        activation(name, z=z, ax=ax, saturation=saturation)
        ax.set(xlabel="z", ylabel="")
        ax.get_legend().remove()
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    axes.flat[0].legend(loc="upper left")
    return fig


@in_style()
def decision_boundary(predict, X, y, ax=None, resolution=150, title=None, threshold=0.5):
    """Shade the plane by a model's predicted class, with the data points on top.

    ``predict`` (a model, or a function such as its ``predict``) maps an (n, 2) array to
    scores: one column per class (the highest wins), or one for two classes, class 1 above
    ``threshold``: 0.5 for a probability (a sigmoid's output), 0 for a logit. Classes 0 to 9
    have a color each; where the scores are NaN (a diverged network's), the plane is blank.

    Examples
    --------
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0]])
    >>> fig = nl.plot.decision_boundary(lambda P: P[:, :1] - 0.5, X, [0, 1], threshold=0)
    """
    X, y = (as_float_array(v, f"decision_boundary {name}", dtype=float)
            for v, name in ((X, "X"), (y, "y")))
    if X.ndim != 2 or X.shape[1] != 2 or not len(X) or y.shape != X.shape[:1] or \
            np.any(y % 1) or np.any(y < 0):
        raise ValueError(f"decision_boundary draws points of two features and their classes: "
                         f"X of shape (n, 2), n >= 1, and n labels 0, 1, ...; got X {X.shape} "
                         f"and y of shape {y.shape}, values {np.unique(y)[:6]}")
    y = y.astype(int)
    gx, gy, shade, k = _data._class_grid(predict, X, y, resolution, threshold)
    fig, ax = _axes(ax)
    cmap = ListedColormap(COLORS[:k])
    ax.contourf(gx, gy, shade, levels=np.arange(k + 1) - 0.5, cmap=cmap, alpha=0.25)
    # Few points are drawn large and outlined: XOR's four were dots of 3 pixels.
    few = len(X) <= 50
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap=cmap, vmin=-0.5, vmax=k - 0.5, s=70 if few else 18,
               edgecolors="black" if few else "white", linewidths=0.8 if few else 0.5)
    ax.set(xlabel="$x_1$", ylabel="$x_2$", xlim=(gx.min(), gx.max()), ylim=(gy.min(), gy.max()))
    if title:
        ax.set_title(title)
    return fig


@in_style()
def history(hist, metrics=("loss",), ax=None, title=None):
    """Training curves: each metric for training (solid) and validation (dashed).

    ``hist`` is a ``History``, its ``.history`` dict or the model ``fit`` trained; ``ax`` an
    Axes for one metric, or one Axes per metric (default: a new figure, a panel per metric).

    Examples
    --------
    >>> nl.plot.history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}).axes[0].get_xlabel()
    'epoch'
    """
    data = hist
    while not isinstance(data, dict) and hasattr(data, "history"):   # a model, a History
        data = data.history
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    if not metrics:
        raise ValueError("history draws one or more metrics; got metrics=[]")
    if not isinstance(data, dict) or set(metrics) - set(data):
        raise ValueError(f"history needs a History (or the model fit trained) that logged "
                         f"{metrics}; got {sorted(data) if isinstance(data, dict) else data!r}")
    for n in metrics:   # one value per epoch in both
        if len(data.get(f"val_{n}", data[n])) != len(data[n]):
            raise ValueError(f"history: {len(data[f'val_{n}'])} values of val_{n} for "
                             f"{len(data[n])} of {n}")
    axes = np.ravel(new_figure(len(metrics))[1] if ax is None else ax)
    if len(axes) != len(metrics):   # one Axes for two metrics drew the first one only
        raise ValueError(f"history: {len(axes)} Axes for the {len(metrics)} metrics {metrics}")
    for ax_, name in zip(axes, metrics, strict=True):
        epochs = np.arange(1, len(data[name]) + 1)
        ax_.plot(epochs, data[name], color=COLORS[0], label="training")
        if f"val_{name}" in data:
            ax_.plot(epochs, data[f"val_{name}"], color=COLORS[1], linestyle="--",
                     label="validation")
        ax_.set(xlabel="epoch", ylabel=name)
        ax_.legend()
    if title:
        axes[0].set_title(title)
    return axes[0].figure


@in_style()
def loss_surface(f, xlim, ylim, paths=None, ax=None, levels=30, log=True, title=None,
                 resolution=200, legend=True, colors=None):
    """Contours of a 2-D loss ``f`` (vectorized over (..., 2) arrays) and optional paths.

    ``f`` gives a value per point of a ``resolution`` x ``resolution`` grid; the contours are
    those of its finite values (none where it overflowed), none at all for a constant ``f``.
    ``levels`` is the number of lines, spaced evenly in log(value - minimum + 0.001) with
    ``log`` (the first at the minimum, dense near it), or with ``log=False`` their number
    or values. ``paths`` maps a label to an (n_steps, 2) array of visited points, drawn in
    ``colors`` (one per path; default: ``PATH_COLORS`` in order) and named in a legend
    (``legend=False``: none, for a single path or a neighboring panel that names them).

    Examples
    --------
    >>> fig = nl.plot.loss_surface(lambda p: (p ** 2).sum(-1), (-1, 1), (-1, 1),
    ...                    paths={"gd": np.array([[1.0, 1.0], [0.5, 0.5]])})
    """
    paths = {} if paths is None else paths
    colors = series_colors(paths, colors, PATH_COLORS, "loss_surface", "paths")
    paths = {label: path_points(path, f"loss_surface paths[{label!r}]")
             for label, path in paths.items()}
    if log:
        check_number(levels, "loss_surface levels (with log=True)", low=1, integer=True)
    gx, gy, values = _data._surface_values(f, xlim, ylim, resolution)
    fig, ax = _axes(ax, height=3.6)
    if values.count() and values.min() != values.max():   # a constant loss has no contours
        if log:
            values = values - values.min() + 1e-3
            levels = np.geomspace(values.min(), values.max(), levels)
        ax.contour(gx, gy, values, levels=levels, cmap="Greys", linewidths=0.6)
    for (label, (path, dots)), color in zip(paths.items(), colors, strict=True):
        ax.plot(path[:, 0], path[:, 1], "-o", color=color, markersize=dots, linewidth=1.2,
                label=label)
        ax.plot(*path[-1:].T, "o", color=color, markersize=6, markeredgecolor="white", zorder=3)
    ax.set(xlabel="$w_1$", ylabel="$w_2$", xlim=xlim, ylim=ylim)
    if legend and paths:
        ax.legend(loc="upper right", fontsize=7)
    if title:
        ax.set_title(title)
    return fig


@in_style()
def curves(series, xlabel="step", ylabel="loss", logy=False, ax=None, title=None, colors=None,
           x=None):
    """Several curves on one axes: ``series`` maps a label to a 1-D array.

    ``x`` holds the values on the x-axis, the same for every curve (default: the index
    0, 1, 2, ... of each value, the step of a training curve). ``logy`` draws the values
    on a log scale (minor ticks labeled as plain numbers where the values span less than
    a factor of ten), which has no place for values <= 0: the title counts those left out
    (the optimizer race lifts its values to a floor, 1e-30, instead), or, if no value is
    above 0, says that the axis is linear. ``colors`` gives one color per series (default:
    the palette, whose ten colors repeat from the eleventh series on). Two or more series
    are named in a legend; a single one is not.

    Examples
    --------
    >>> nl.plot.curves({"a": [3, 2, 1]}).axes[0].get_ylabel()
    'loss'
    """
    colors = series_colors(series, colors, COLORS, "curves", "series")
    series = {label: np.asarray(values, dtype=float) for label, values in series.items()}
    x_shape = None if x is None else np.shape(x)
    for label, values in series.items():
        if values.ndim != 1 or x_shape not in (None, values.shape):
            raise ValueError(f"curves draws 1-D arrays of values, as many as x has (if given); "
                             f"got {label!r} of shape {values.shape}, x of shape {x_shape}")
    fig, ax = _axes(ax)
    for (label, values), color in zip(series.items(), colors, strict=True):
        steps = np.arange(len(values)) if x is None else np.asarray(x, dtype=float)
        ax.plot(steps, values, color=color, label=label)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if logy and not any(np.any(values > 0) for values in series.values()):
        logy = False   # a log axis would be empty (and matplotlib warns)
        title = "; ".join(filter(None, [title, "no value > 0: a linear axis"]))
    if logy:
        log_y(ax)
        hidden = sum(np.count_nonzero(values <= 0) for values in series.values())
        if hidden:   # matplotlib leaves them out in silence
            title = "; ".join(filter(None, [title, f"{hidden} values <= 0 left out"]))
    if len(series) > 1:
        ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return fig


@in_style()
def activation_histograms(values, bins=30, title=None, layers=None):
    """One histogram per layer of the activations ``values`` (a list of arrays).

    The panels share one x-axis, where a spread that shrinks or grows from layer to layer
    looks it, unless the stds differ a hundredfold: each then has its own, as the title
    says (``figure_data.SHARED_SPREAD``). NaN, inf and values beyond 1e300 are left out of
    the histogram and the std; the panel's title counts them ("std 0.5, 3 left out").
    ``layers`` numbers the panels (default 1, 2, ...), for when ``values`` is a selection.
    """
    title, panels = histogram_panels(values, bins, layers, title)
    # (one panel alone is as wide as two: the title of the explorer's frame fits)
    fig, axes = new_figure(len(panels), 1, width=1.6 * max(len(panels), 2) + 1, height=2.4)
    for ax, (xlim, counts, edges, heading) in zip(axes.flat, panels, strict=True):
        ax.set_xlim(*xlim)
        ax.stairs(counts, edges, fill=True, color=COLORS[0])   # sooner than hist's bars
        ax.set_title(heading, fontsize=9)
        ax.set_yticks([])
        short_ticks(ax.xaxis)   # the panels meet: "-2", not "-200000", clear of the ends
    if title:
        fig.suptitle(title)
    return fig


@in_style()
def gradient_norms(norms, ax=None, title=None, span=None, limit=None):
    """Per-layer gradient norms on a log scale; ``norms`` is an array or a dict of arrays
    (named in a legend beside the axes), one norm per Dense layer, first layer first, as
    ``nnlab.diagnostics.gradient_norms`` returns them. The output layer is drawn hollow at
    the tick "out": it is no hidden layer. A log axis has no 0: a zero norm (a layer that
    learns nothing) is a triangle on the bottom edge, "norm 0" in the legend; NaN is left out.

    ``span``, a pair (low, high), is the least the y axis shows, widened to a power of ten
    half a decade or more beyond a norm that lies beyond it or near its ends: on an axis
    fitted to its data, norms of 1e13 draw the same curve as norms of 1e-7, and figures
    side by side (an explorer's frames) compare only on a common axis. ``limit`` (above 1)
    shades the sizes above it and below its inverse, named in the legend
    (``diagnostics.gradient_warning`` speaks of exploding gradients when one norm is above
    it, of vanishing ones when all are below its inverse, or by the first layer's ratio).

    Examples
    --------
    >>> fig = nl.plot.gradient_norms({"sigmoid": [1e-6, 1e-3, 1.0]})
    >>> fig.axes[0].get_yscale(), [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ('log', ['1', '2', 'out'])
    """
    series = _data._norm_series(norms)
    out = len(next(iter(series.values())))
    layers = np.arange(1, out + 1)
    labeled = any(series) and ax is None   # a legend beside: curves fill a log plot's corners
    fig, ax = _axes(ax, width=6.4 if labeled else None)
    for i, (label, values) in enumerate(series.items()):
        color, zero = COLORS[i % len(COLORS)], values == 0
        # No 0 on a log axis: the curve breaks there, a triangle on the bottom edge marks it.
        values = np.where(zero, np.nan, values)
        ax.plot(layers, values, "-o", markersize=3, color=color, label=label or None)
        ax.plot(layers[-1:], values[-1:], "o", markersize=6, color=color, markerfacecolor="white")
        if zero.any():
            ax.plot(layers[zero], 0 * layers[zero], "v", color=color, clip_on=False,
                    transform=ax.get_xaxis_transform(),
                    label=f"{label}: norm 0" if label else "norm 0")
    log_y(ax)
    if span is not None:
        low, high, ticks = _data._norm_span(series, span)
        if ticks is not None:
            ax.set_yticks(ticks)
        ax.set_ylim(low, high)
    if limit is not None:
        _gradient_bands(ax, check_number(limit, "gradient_norms limit", low=1, low_open=True))
    ax.set_xticks(*_data._layer_ticks(out))
    ax.set(xlabel="layer (1 = closest to the input, out = output)",
           ylabel="gradient norm ||dL/dW||")
    if ax.get_legend_handles_labels()[0]:   # labeled curves, a norm 0, or bands
        ax.legend(fontsize=8, loc="center left" if labeled else "best",
                  bbox_to_anchor=(1, 0.5) if labeled else None)
    if title:
        ax.set_title(title)
    return fig


def _gradient_bands(ax, limit):
    """Shade the norms above ``limit`` and below ``1 / limit`` on ``ax``, each named in the
    legend: a label inside a band sat where early layers' norms often lie, under the curve."""
    bottom, top = ax.get_ylim()
    for low, high, color, text in ((limit, top, COLORS[1], f"exploding: above {limit:g}"),
                                   (bottom, 1 / limit, COLORS[0],
                                    f"vanishing: below {1 / limit:g}")):
        if low < high:
            ax.axhspan(low, high, color=color, alpha=0.15, linewidth=0, zorder=0, label=text)
    ax.set_ylim(bottom, top)


@in_style()
def network_diagram(weights, ax=None, title=None):
    """A small MLP drawn as nodes and edges; edge width and color show each weight.

    ``weights`` is a list of arrays of shape (n_in, n_out), as ``Dense`` stores them, or a
    model of Dense layers (its activations are not drawn). The widths are relative to the
    largest finite weight; a NaN or infinite weight (a diverged network's) is a thin dotted
    grey line.

    Examples
    --------
    >>> nl.plot.network_diagram([np.ones((2, 2)), np.ones((2, 1))]).axes[0].get_title()
    'weights: blue positive, orange negative'
    >>> model = nl.Sequential([nl.Dense(2, 3), nl.Activation("tanh"), nl.Dense(3, 1)])
    >>> len(nl.plot.network_diagram(model).axes[0].lines)   # one line per weight
    9
    """
    if isinstance(weights, Sequential):
        others = [layer for layer in weights.layers if layer.params and type(layer) is not Dense]
        if others:
            raise ValueError(f"network_diagram draws a model of Dense layers and activations; "
                             f"got {others[0]!r}")
        weights = [layer.params["W"] for layer in weights.layers if layer.params]
    if not isinstance(weights, list | tuple):
        raise ValueError(f"network_diagram takes a list of weight matrices or a Sequential "
                         f"model; got {type(weights).__name__}")
    shapes = [np.shape(w) for w in weights]
    chained = all(len(shape) == 2 for shape in shapes) and all(
        a[1] == b[0] for a, b in itertools.pairwise(shapes))
    if not shapes or not chained:
        raise ValueError(f"network_diagram takes weight matrices (n_in, n_out) that chain, "
                         f"layer to layer; got shapes {shapes}")
    sizes = [shapes[0][0]] + [shape[1] for shape in shapes]
    fig, ax = _axes(ax, height=3.0)
    # Room around the outermost nodes, which the axes would otherwise cut in half.
    ax.set_xlim(-0.4, len(sizes) - 0.6)
    ax.set_ylim(-(max(sizes) - 1) / 2 - 0.6, (max(sizes) - 1) / 2 + 0.6)
    area = _data._node_diameter(ax) ** 2
    for xs, ys, style in _data._network_edges([np.asarray(w, dtype=float) for w in weights]):
        ax.plot(xs, ys, alpha=0.8, zorder=1, **style)
    for layer, n in enumerate(sizes):
        ax.scatter(np.full(n, layer), unit_heights(n), s=area, c="white", edgecolors="k", zorder=2)
    ax.set_xticks(range(len(sizes)), ["input"] + [f"layer {i}" for i in range(1, len(sizes))])
    ax.spines["left"].set_visible(False)
    ax.grid(False)
    ax.set(yticks=[], xlabel="layer", title=title or "weights: blue positive, orange negative")
    return fig
