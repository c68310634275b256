"""What the book's figures draw, computed apart from the drawing.

Each figure of ``nnlab.plot`` takes its numbers from here (where its units sit, which
class each grid point gets, which values a log axis or a histogram can show) and keeps
to drawing them. The explorers' redraws (``nnlab.explorer_figures``) move some of those
figures to new data with the very same numbers: ``unit_heights``, ``path_points``,
``histogram_panels``, ``finite_limit`` and ``series_colors``, which ``nnlab.plot``
re-exports. ``curve_window``, ``network_labels``, ``race_values`` and ``line_outside_view``
serve the explorers alone, the private functions ``nnlab.plot`` alone.
"""

import numpy as np
from matplotlib.ticker import MaxNLocator

from nnlab import surfaces
from nnlab._checks import as_float_array, check_number
from nnlab.book_figure import COLORS

__all__ = ["curve_window", "finite_limit", "histogram_panels", "line_outside_view",
           "network_labels", "path_points", "race_values", "series_colors", "unit_heights"]


def unit_heights(n):
    """Where ``network_diagram`` draws the n units of a layer: unit 0 on top, 1 apart."""
    return np.linspace((n - 1) / 2, -(n - 1) / 2, n)


def _network_edges(weights):
    """The edges ``network_diagram`` draws, one per weight: their x, their y and their style.

    An edge's color is its weight's sign, its width the weight's size relative to the
    largest finite one; a NaN or infinite weight (a diverged network's) has no size to
    draw, and is a thin dotted grey line.
    """
    heights = [unit_heights(n) for n in [len(weights[0]), *(w.shape[1] for w in weights)]]
    scale = finite_limit(np.concatenate([w.ravel() for w in weights]))
    edges = []
    for layer, w in enumerate(weights):
        for (i, j), weight in np.ndenumerate(w):
            if np.isfinite(weight):
                style = {"color": COLORS[0] if weight >= 0 else COLORS[1],
                         "linewidth": 0.5 + 4 * abs(weight) / scale}
            else:
                style = {"color": COLORS[5], "linewidth": 1.0, "linestyle": ":"}
            edges.append(([layer, layer + 1], [heights[layer][i], heights[layer + 1][j]], style))
    return edges


def network_labels(weights, biases):
    """Where the forward explorer writes the numbers of ``network_diagram``'s network, as
    ``(point, text, side)``: each weight on its edge (side 0), each bias ("b=0.1") at its
    unit, above it (side 1) in the upper half of its layer and below it (-1) otherwise.

    A weight is written a third of the way along its edge from the left: the edges that
    cross between two layers meet halfway, where their labels would cover each other. No
    edge runs above a layer's top unit, nor below its bottom one: there, the biases.
    """
    values = np.concatenate([np.ravel(w) for w in weights])
    labels = [((x0 + (x1 - x0) / 3, y0 + (y1 - y0) / 3), _signed(w), 0)
              for ((x0, x1), (y0, y1), _), w in zip(_network_edges(weights), values,
                                                     strict=True)]
    for layer, b in enumerate(biases, start=1):
        labels += [((layer, y), f"b={_signed(bias)}", 1 if y > 0 else -1)
                   for y, bias in zip(unit_heights(len(b)), b, strict=True)]
    return labels


def _signed(value):
    """A weight or bias as its slider shows it: 0.3, not 0.30000000000000004; 0, not -0."""
    return f"{round(value, 3) + 0:g}".replace("-", "\N{MINUS SIGN}")


def _node_diameter(ax):
    """The diameter in points of ``network_diagram``'s nodes in ``ax`` (its limits set): a
    node's size is in points, the spacing of units and layers (1) in data, so the nodes take
    at most 0.7 of the space between neighbours, and a tall layer's do not overlap."""
    box = ax.get_window_extent()
    x_span, y_span = np.diff(ax.get_xlim())[0], np.diff(ax.get_ylim())[0]
    spacing = min(box.width / x_span, box.height / y_span)
    return min(33.0, 0.7 * spacing * 72 / ax.figure.dpi)


def _layer_ticks(n):
    """The x ticks of ``gradient_norms`` for ``n`` layers and their labels: layer 1 and
    whole-numbered hidden layers, none so close to the output layer's, "out", that the
    labels meet."""
    hidden = MaxNLocator(nbins=6, integer=True).tick_values(1, max(n - 1, 1))
    hidden = np.union1d(1, hidden[(hidden > 1) & (hidden <= n - max(1, n / 8))])
    hidden = hidden[hidden < n]
    return [*hidden, n], [*(f"{t:g}" for t in hidden), "out"]


def _class_grid(predict, X, y, resolution, threshold):
    """What ``decision_boundary`` shades: a grid over the points ``X`` (a tenth wider), the
    class ``predict`` gives each grid point (NaN where its scores are NaN: left blank), and
    the number of classes, of those and of the labels ``y``."""
    check_number(threshold, "decision_boundary threshold")
    check_number(resolution, "decision_boundary resolution", low=2, integer=True)
    predict = getattr(predict, "predict", predict)   # a model, or its predict
    if not callable(predict):
        raise ValueError("decision_boundary takes a model or a function from points (n, 2) "
                         f"to scores; got {type(predict).__name__}")
    pad = 0.1 * (X.max(axis=0) - X.min(axis=0)) + 0.1
    lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
    gx, gy = np.meshgrid(*np.linspace(lo, hi, resolution).T)
    scores = np.asarray(predict(np.column_stack([gx.ravel(), gy.ravel()])), dtype=float)
    if scores.shape[:1] != gx.ravel().shape:
        raise ValueError(f"decision_boundary: predict must give a row of scores per point; "
                         f"for {gx.size} points it gave shape {scores.shape}")
    scores = scores.reshape(gx.size, -1)
    classes = scores.argmax(axis=1) if scores.shape[1] > 1 else scores[:, 0] > threshold
    unknown = np.isnan(scores).any(axis=1)   # argmax would call NaN the highest score
    k = max(int(y.max()), int(classes.max(initial=0, where=~unknown))) + 1
    if k > len(COLORS):
        raise ValueError(f"decision_boundary has colors for classes 0 to {len(COLORS) - 1} "
                         f"(nl.plot.COLORS); got class {k - 1}")
    return gx, gy, np.where(unknown, np.nan, classes).reshape(gx.shape), k


def _norm_series(norms):
    """What ``gradient_norms`` draws: ``norms``, an array or a dict of arrays, as a dict
    label -> 1-D float array ("" for an array), checked: all of one length, at least 1,
    and no norm below 0 (NaN is let through, for a diverged network's)."""
    series = {label: as_float_array(values, f"gradient_norms norms[{label!r}]" if label else
                                    "gradient_norms norms", ndim=1, allow_nonfinite=True)
              for label, values in (norms if isinstance(norms, dict) else {"": norms}).items()}
    lengths = {label: len(values) for label, values in series.items()}
    if not lengths or min(lengths.values()) == 0 or len(set(lengths.values())) > 1:
        raise ValueError(f"gradient_norms needs arrays of one length, at least 1 (one norm "
                         f"per layer); got lengths {lengths}")
    negative = [norm for values in series.values() for norm in values if norm < 0]
    if negative:
        raise ValueError(f"gradient_norms: norms are >= 0; got {negative[0]:g}")
    return series


def _norm_span(series, span):
    """The y limits and ticks of ``gradient_norms``: ``span``, widened where the smallest or
    the largest positive finite norm of ``series`` lies beyond it or within half a decade
    of its end, to a power of ten at least half a decade beyond that norm."""
    if np.shape(span) != (2,):
        raise ValueError(f"gradient_norms span must be a pair (low, high); got {span!r}")
    low, high = (check_number(v, "gradient_norms span", low=0, low_open=True) for v in span)
    if not low < high:
        raise ValueError(f"gradient_norms span must be (low, high) with low < high; got {span}")
    values = np.concatenate(list(series.values()))
    values = values[np.isfinite(values) & (values > 0)]
    if values.size:   # half a decade's room: a marker at the edge would touch it
        # (within float64's normal range: 10.0 ** 309 overflows, 10.0 ** -324 is 0)
        low = min(low, 10.0 ** max(np.floor(np.log10(values.min()) - 0.5), -307))
        high = max(high, 10.0 ** min(np.ceil(np.log10(values.max()) + 0.5), 308))
    # Every fourth power of ten (8th, 12th... over 44 decades): frames of one span share
    # their ticks, where matplotlib's pick (every 3rd or 4th) follows the data. Over fewer
    # than 8 decades, matplotlib's ticks (None).
    decades = np.log10(high) - np.log10(low)
    if decades < 8:
        return low, high, None
    step = 4 * int(np.ceil(decades / 44))
    first = np.ceil(np.log10(low) / step) * step
    return low, high, 10.0 ** np.arange(first, np.log10(high) + 0.5, step)


def _surface_values(f, xlim, ylim, resolution):
    """The grid of ``loss_surface``, and ``f`` on it, masked where it is not finite (NaN, or
    inf where the loss overflowed): the contours and their levels take the finite values."""
    check_number(resolution, "loss_surface resolution", low=2, integer=True)
    if not callable(f):
        raise ValueError(f"loss_surface: f must be a function of (..., 2) points; got {f!r}")
    gx, gy = np.meshgrid(np.linspace(*_limits(xlim, "xlim"), resolution),
                         np.linspace(*_limits(ylim, "ylim"), resolution))
    with np.errstate(all="ignore"):   # inf, NaN: masked below, as promised
        values = np.asarray(f(np.stack([gx, gy], axis=-1)), dtype=float)
    if values.shape != gx.shape:
        raise ValueError(f"loss_surface: f must give one value per point, shape {gx.shape} "
                         f"for points of shape {(*gx.shape, 2)}; got shape {values.shape}")
    return gx, gy, np.ma.masked_invalid(values)


def _limits(limits, name):
    """``limits`` as (low, high): two finite real numbers, low < high."""
    if not (isinstance(limits, (tuple, list, np.ndarray)) and len(limits) == 2):
        raise ValueError(f"loss_surface {name} must be (low, high); got {limits!r}")
    low, high = (float(check_number(v, f"loss_surface {name}")) for v in limits)
    if low >= high:
        raise ValueError(f"loss_surface {name} must be (low, high) with low < high; "
                         f"got {limits!r}")
    return low, high


def path_points(path, name="path"):
    """A path's finite points, and the size of the dots that mark its steps (none past 100).

    ``path`` is an (n_steps, 2) array of points; ``name`` calls it in the error otherwise.
    """
    path = np.asarray(path, dtype=float)
    if path.ndim != 2 or path.shape[1] != 2:
        raise ValueError(f"{name} must be an (n_steps, 2) array of points; got shape "
                         f"{path.shape}")
    path = path[np.all(np.isfinite(path), axis=1)]
    return path, 2 if len(path) <= 100 else 0


#: The histograms of ``activation_histograms`` share one x-range while the largest std of
#: their values is less than this many times the smallest (above 0). A shared range shows
#: a spread that shrinks or grows from layer to layer as a narrower or wider histogram,
#: the chapter's point. Past a hundredfold the narrowest fits in one of the 30 bins of the
#: widest's range, its shape lost: each panel then gets its own range, and the stds in the
#: titles say how the spreads compare. A hundredfold from the first layer to the last is
#: also where ``diagnostics.spread_warning`` warns: the figure changes about as it warns.
SHARED_SPREAD = 100


def histogram_panels(values, bins=30, layers=None, title=None):
    """What ``activation_histograms`` draws: the figure's title (``title``, and "x-ranges
    differ per panel" where they do, see ``SHARED_SPREAD``), and per panel the x-limits,
    the counts, the bin edges and the panel's title (which counts the values left out)."""
    layers = range(1, len(values) + 1) if layers is None else layers
    if len(values) == 0 or len(layers) != len(values):
        raise ValueError(f"activation_histograms draws a list of arrays, one or more, and a "
                         f"number per array in layers (if given); got {len(values)} arrays "
                         f"and {len(layers)} layer numbers")
    values = [np.asarray(v, dtype=float).ravel() for v in values]
    # NaN, inf and values beyond 1e300 (an exploded network's) have no place on the axis:
    # matplotlib adds and subtracts the values it draws, which would overflow near 1.8e308.
    drawn = [v[np.abs(v) <= 1e300] for v in values]
    every = np.concatenate(drawn)
    # The std squares the values, which overflows past 1e154: it is computed in units of a
    # power of two that keeps them smaller (exact: below 2^500, the unit is 1).
    unit = 2.0 ** max(0, int(np.frexp(np.abs(every).max(initial=0.0))[1]) - 500)
    stds = [np.std(kept / unit) * unit if kept.size else 0.0 for kept in drawn]
    spread = [std for std in stds if std > 0]   # a constant panel is one bar on any range
    shared = not spread or max(spread) < SHARED_SPREAD * min(spread)
    spans = [_span(every)] * len(drawn) if shared else [_span(kept) for kept in drawn]
    panels = []
    for v, kept, std, (low, high), layer in zip(values, drawn, stds, spans, layers, strict=True):
        margin = 0.08 * (high - low)   # keeps the end ticks of neighbors apart
        # The std above the panel: below, it would meet the scale ("1e6") of large values.
        heading = f"std {std:.2g}" if kept.size else "nothing to draw"
        left_out = f", {v.size - kept.size} left out" if v.size > kept.size else ""
        panels.append(((low - margin, high + margin), *np.histogram(kept, bins, (low, high)),
                       f"layer {layer}\n{heading}{left_out}"))
    if not shared:
        title = "; ".join(filter(None, [title, "x-ranges differ per panel"]))
    return title, panels


def _span(values):
    """From the smallest to the largest of ``values``; around a constant c, c +- 1, or +- a
    tenth of c where that is more (1e5 +- 1 would take ticks that differ in the sixth digit)."""
    low, high = (values.min(), values.max()) if values.size else (-1.0, 1.0)
    pad = max(1.0, abs(low) / 10)
    return (low, high) if low < high else (low - pad, high + pad)


#: An end of a loss explorer's curve is cut off where it lies further beyond the middle 90%
#: of the curve (with the marked point and 0) than this many times that middle's span. Binary
#: cross-entropy's gradient, -1/p, falls to -1000 at p = 0.001, 50 times further than its
#: middle spans, and its point at p = 0.7, -1.43, sat on the line of 0. The explorer's
#: other curves, their losses too, reach at most 1.4 times their middle's span beyond it.
CUT_BEYOND = 3


def curve_window(values, point):
    """The y-range of a loss explorer's panel: None where its curve ``values`` is drawn
    whole, else ``(low, high, note)``: the middle 90% of the values, the marked ``point``
    and 0 (the point's sign is the direction of the step), each end of the curve that lies
    near them (``CUT_BEYOND``), and a note of how far the other ends run.

    A window, not a symmetric-log axis: on a linear axis the gradient keeps the shape a
    learner reads off the loss (the squared error's straight line, the hinge's steps),
    which a log scale would bend. The curve keeps its shape in the window; the note says
    where the rest goes.
    """
    values = np.asarray(values, dtype=float)
    low, high = np.percentile(values, [5, 95])
    low, high = min(low, point, 0.0), max(high, point, 0.0)
    reach = CUT_BEYOND * (high - low)
    bottom, top = values.min(), values.max()
    far_below, far_above = bottom < low - reach, top > high + reach
    if not (far_below or far_above):
        return None
    note = " and ".join(f"{end:.4g}".replace("-", "\N{MINUS SIGN}")
                        for end, far in ((bottom, far_below), (top, far_above)) if far)
    return (low if far_below else min(bottom, low), high if far_above else max(top, high),
            f"the curve runs off the plot, to {note}")


#: The square the perceptron explorer draws, x1 and x2 alike: the four inputs and a margin.
PERCEPTRON_VIEW = (-0.5, 1.5)


def line_outside_view(w1, w2, bias):
    """Whether the line ``w1 x1 + w2 x2 + bias = 0`` misses the square the perceptron explorer
    draws (``PERCEPTRON_VIEW`` for x1 and x2): the figure then has no line, and every point of
    it, every input, is on one side.

    Examples
    --------
    >>> from nnlab.figure_data import line_outside_view
    >>> line_outside_view(1.0, 1.0, 1.5), line_outside_view(1.0, 1.0, -1.5)
    (True, False)
    """
    z = [w1 * x1 + w2 * x2 + bias for x1 in PERCEPTRON_VIEW for x2 in PERCEPTRON_VIEW]
    return min(z) > 0 or max(z) < 0


#: The race's value axis ends this many times above the starting value (no run that
#: converges climbs that high, the diverged ones pass it in a few steps) and ...
RACE_CLIMB = 1e4
#: ... at the bottom at 1e-30: values closer to the minimum are drawn there.
RACE_FLOOR = 1e-30
#: Gaps below this many spacings of float64 numbers at the minimum are mostly rounding,
#: not distance. Near the saddle's minimum of -1 its value is a sum of terms near -2 and 1,
#: each rounded, so a computed gap is a few spacings (2.2e-16 each) off: a run at the bottom
#: showed 0 or 2.2e-16 from step to step (a band across 15 decades), and the explorer's
#: readout printed 1.11e-15, ten spacings, to three digits. Three digits of a gap need it
#: about a thousand spacings wide.
RACE_ROUNDING = 1000


def race_values(state):
    """Each run's distance to the minimum per step (``RACE_FLOOR`` where it is within
    rounding of it), the top of the value axis, and whether a run climbs beyond it (the
    axis is then cut there)."""
    s = surfaces.get(state["surface"])
    rounding = max(RACE_ROUNDING * np.spacing(abs(s.minimum)), RACE_FLOOR)
    gaps = {}
    for name, c in state["curves"].items():
        gap = np.array(c, dtype=float) - s.minimum
        gaps[name] = np.where(gap <= rounding, RACE_FLOOR, gap)   # NaN stays NaN
    top = RACE_CLIMB * (s.f(np.array(s.start)) - s.minimum)
    return gaps, top, bool(gaps) and max(np.nanmax(gap) for gap in gaps.values()) > top


def finite_limit(values):
    """The largest magnitude among the finite ``values``, or 1 if none is above 0: the end
    of a color scale centered on 0, or the weight an edge's width is measured against.

    NaN and inf (a diverged network's) are left out: they would make the whole scale NaN.

    Examples
    --------
    >>> nl.plot.finite_limit([-3.0, np.nan, 2.0]), nl.plot.finite_limit([np.inf])
    (3.0, 1.0)
    """
    values = np.abs(np.asarray(values, dtype=float))
    return float(values[np.isfinite(values)].max(initial=0.0)) or 1.0


def series_colors(series, colors, palette, func, name):
    """The colors of the labeled ``series``: ``colors``, one each, or the palette's."""
    if not isinstance(series, dict):
        raise ValueError(f"{func} takes {name} as a dict, label -> values (the label names "
                         f"the curve in the legend); got {type(series).__name__}")
    colors = colors or [palette[i % len(palette)] for i in range(len(series))]
    if len(colors) != len(series):
        raise ValueError(f"{func}: {len(colors)} colors for the {len(series)} {name}")
    return colors
