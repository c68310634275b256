"""The figures of the interactive explorers: each draws one ``nnlab.explore`` state.

Kept apart from the widgets so that the live explorers, the tests and the
precomputed frames of the static book all draw with the very same code.

Five explorers also *redraw*: ``<name>_redraw(fig, old, new)`` moves state ``new`` into
the figure drawn for state ``old`` and returns True, or returns False when the two differ
in more than their data (other panels, lines or labels), and the explorer draws anew.
A figure keeps its axes, lines and ticks, which matplotlib builds as objects of their own
in every new figure: the update takes about half the time. ``tests/test_widgets.py``
compares every pixel of each redrawn frame with the frame drawn anew.

Every public function here is decorated with ``plot.in_style()``: it draws in the book's style
whatever matplotlib's settings, as the figures of ``nnlab.plot`` do.
"""

import functools

import numpy as np
from matplotlib.ticker import LogLocator

from nnlab import plot, surfaces
from nnlab.diagnostics import GRADIENT_LIMIT
from nnlab.figure_data import PERCEPTRON_VIEW, curve_window, network_labels, race_values
from nnlab.log_axis import short_labels


@plot.in_style()
def perceptron(state):
    """The four inputs colored by the output, labeled with the target, and the line."""
    fig, ax = plot.one_axes(width=4.2, height=3.6)
    X = np.array(state["inputs"], dtype=float)
    grid = np.linspace(*PERCEPTRON_VIEW, 200)
    gx, gy = np.meshgrid(grid, grid)
    fires = state["w1"] * gx + state["w2"] * gy + state["bias"] > 0
    ax.contourf(gx, gy, fires, levels=[-0.5, 0.5, 1.5], colors=[plot.COLORS[0], plot.COLORS[1]],
                alpha=0.15)
    for (x1, x2), target, out in zip(X, state["targets"], state["predictions"], strict=True):
        ax.scatter(x1, x2, s=260, color=plot.COLORS[out], edgecolors="black",
                   linewidths=3 if target != out else 0.5, zorder=3)
        ax.annotate(f"y={target}", (x1, x2), textcoords="offset points", xytext=(12, -14))
    if state["slope"] is not None:
        ax.plot(grid, state["slope"] * grid + state["intercept"], color="black")
    elif state["w1"] != 0:
        ax.axvline(-state["bias"] / state["w1"], color="black")
    ax.set(xlim=PERCEPTRON_VIEW, ylim=PERCEPTRON_VIEW, xlabel="$x_1$", ylabel="$x_2$",
           title=f"{state['gate'].upper()}: {state['errors']} misclassified (thick rings)")
    return plot.fixed_layout(fig, left=0.75, right=0.2)


@plot.in_style()
def forward(state):
    """The 2-2-1 network with the numbers of its forward pass: each weight on its line, each
    bias above or below its unit (``figure_data.network_labels``), and the inputs and activations
    in the units.
    """
    weights = [np.array(w) for w in state["weights"]]
    fig, ax = plot.one_axes(width=6.0, height=3.6)   # wide: its numbers are to be read
    plot.network_diagram(weights, ax=ax)
    # On white, the line under a label does not strike it through.
    boxed = {"ha": "center", "fontsize": 10, "textcoords": "offset points",
             "bbox": {"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none"}}
    radius = np.sqrt(ax.collections[0].get_sizes()[0]) / 2   # in points, as the nodes' size
    for xy, text, side in network_labels(weights, state["biases"]):
        ax.annotate(text, xy, xytext=(0, side * (radius + 3)), **boxed,
                    va={0: "center", 1: "bottom", -1: "top"}[side])
    for y, value in zip(plot.unit_heights(2), state["x"], strict=True):
        ax.annotate(f"{value:.2f}", (0, y), ha="center", va="center", fontsize=9)
    for y, value in zip(plot.unit_heights(2), state["hidden"], strict=True):
        ax.annotate(f"{value:.3f}", (1, y), ha="center", va="center", fontsize=9)
    ax.annotate(f"{state['output']:.3f}", (2, 0), ha="center", va="center", fontsize=9)
    return plot.fixed_layout(fig, left=0.2, right=0.2)


@plot.in_style()
def activation(state):
    """The neuron's output a = g(wx + b) and its slope over x."""
    # Softmax needs a vector: the curve is the first output of softmax over (wx + b, 0).
    name = "softmax(wx+b, 0)" if state["name"] == "softmax" else state["name"]
    fig, ax = plot.one_axes()
    short_labels(ax.yaxis)   # an exponential's curve reaches 40000: "4" over "x1e4"
    ax.plot(state["x"], state["output"], color=plot.COLORS[0], label="output g(wx+b)")
    ax.plot(state["x"], state["derivative"], color=plot.COLORS[1], linestyle="--",
            label="slope da/dx")
    ax.set(xlabel="x", ylabel="value")
    # Raised clear of the axis's shared power of ten ("x1e10"), which it ran into.
    ax.set_title(f"{name}, w={state['weight']:.2f}, b={state['bias']:.2f}", pad=14)
    ax.legend(fontsize=8)
    return plot.fixed_layout(fig, left=0.8, top=0.45)


@plot.in_style()
def initialization(state, panels=6):
    """Histograms of the hidden layers' activations: all of them, or ``panels`` evenly spaced
    ones from the first to the last (a dozen panels would be too small to read, and slow)."""
    shown = _shown_layers(state, panels)
    fig = plot.activation_histograms([state["values"][i] for i in shown], layers=shown + 1,
                                     title=_initialization_title(state))
    return plot.fixed_layout(fig, left=0.15, top=0.7, gap=0.3)


@plot.in_style()
def initialization_redraw(fig, old, new, panels=6):
    """``initialization(new)`` in ``fig``, when it shows as many panels (see the module)."""
    shown = _shown_layers(new, panels)
    if len(fig.axes) != len(shown):
        return False
    title, hists = plot.histogram_panels([new["values"][i] for i in shown], layers=shown + 1,
                                         title=_initialization_title(new))
    for ax, (xlim, counts, edges, heading) in zip(fig.axes, hists, strict=True):
        ax.set_xlim(*xlim)
        ax.patches[0].set_data(counts, edges)
        ax.set_title(heading, fontsize=9)
        ax.relim()
        ax.autoscale_view()
    fig.suptitle(title)
    return True


def _shown_layers(state, panels):
    n = len(state["values"])
    return np.unique(np.linspace(0, n - 1, min(n, panels)).round().astype(int))


def _initialization_title(state):
    return f"{state['activation']}, {state['scheme']} x {state['scale']:.3g}"


@plot.in_style()
def loss(state):
    """The loss and its gradient as curves over the prediction, with the current point.

    For a three-class loss the prediction is class 1's score ``s`` among ``(1, s, 0)``.
    """
    fig, axes = plot.new_figure(2, 1)
    g = state["grid"]
    three = len(state["y_pred"]) == 3
    title = f"{state['name']}, " + ("true class" if three else "label") + f" {state['label']}"
    for ax, key, point, label in ((axes[0, 0], "curve", state["loss"], "loss"),
                                  (axes[0, 1], "slope", state["gradient"], "gradient")):
        ax.plot(g, state[key], color=plot.COLORS[0])
        ax.scatter([state["prediction"]], [point], color=plot.COLORS[1], zorder=3)
        ax.set(xlabel="class 1's score s in (1, s, 0)" if three else "prediction", ylabel=label,
               title=title if key == "curve" else None)
        # About five ticks per axis, not seven to nine: ticks and their labels take most of
        # the time to draw, and of the bytes of each frame of the static page.
        ax.locator_params(nbins=4)
    _frame_gradient(axes[0, 1], state["slope"], state["gradient"])
    return plot.fixed_layout(fig, left=0.7, gap=0.9)


@plot.in_style()
def loss_redraw(fig, old, new):
    """``loss(new)`` in ``fig``, for the same loss and label: the point moves (see the module)."""
    if (old["name"], old["label"]) != (new["name"], new["label"]):
        return False
    loss_ax, gradient_ax = fig.axes
    _move_point(loss_ax, new["prediction"], new["loss"])
    _frame_gradient(gradient_ax, new["slope"], new["gradient"])
    _move_point(gradient_ax, new["prediction"], new["gradient"])
    return True


def _frame_gradient(ax, slope, point):
    """Scale the gradient panel to ``figure_data.curve_window``'s window, and say above it
    where the curve runs beyond; or, where it is drawn whole, to fit it. The loss curves
    the explorer offers all fit (``tests/test_widget_explorers.py`` checks it)."""
    window = curve_window(slope, point)
    ax.set_title(window[2] if window else "", fontsize=9)
    if window:
        pad = ax.margins()[1] * (window[1] - window[0])   # as matplotlib's own scaling
        ax.set_ylim(window[0] - pad, window[1] + pad)
    else:
        ax.set_autoscaley_on(True)


def _move_point(ax, x, y):
    """Move the one point ``ax.scatter`` drew in ``ax``, and scale the axes as a new scatter
    would have (``relim`` counts the lines only)."""
    ax.collections[0].set_offsets([[x, y]])
    ax.relim()
    ax.update_datalim([[x, y]])
    ax.autoscale_view()


@plot.in_style()
def learning_rate(state):
    """The path over the loss surface of (w, b), and the loss per step."""
    fig, axes = plot.new_figure(2, 1, height=3.4)
    # 100 x 100 points draw this smooth bowl as well as 200 x 200, four times sooner.
    loss = functools.partial(surfaces.line_fit_loss, moments=state["moments"])
    plot.loss_surface(loss, (-6, 6), (-6, 6), paths={"path": np.array(state["path"])},
                      ax=axes[0, 0], resolution=100, legend=False,
                      title=f"learning rate {state['lr']:.3g}, batch {state['batch_size']}")
    axes[0, 0].scatter(*surfaces.line_fit_best(state["moments"]), marker="*", s=80,
                       color="black", zorder=3)
    axes[0, 0].set(xlabel="w", ylabel="b")
    plot.curves({"loss": _finite_losses(state)}, logy=True, ax=axes[0, 1],
                title="diverged" if state["diverged"] else "loss per step")
    return plot.fixed_layout(fig, gap=0.85)


@plot.in_style()
def learning_rate_redraw(fig, old, new):
    """``learning_rate(new)`` in ``fig``, for the same data set (see the module)."""
    losses = _finite_losses(new)
    if old["seed"] != new["seed"] or np.isnan(losses).all():
        return False
    surface_ax, loss_ax = fig.axes
    surface_ax.set_title(f"learning rate {new['lr']:.3g}, batch {new['batch_size']}")
    _move_path(*surface_ax.lines, new["path"])
    loss_ax.lines[0].set_data(np.arange(len(losses)), losses)
    loss_ax.set_title("diverged" if new["diverged"] else "loss per step")
    loss_ax.relim()
    loss_ax.autoscale_view()
    return True


def _finite_losses(state):
    losses = np.array(state["losses"], dtype=float)
    return np.where(np.isfinite(losses), losses, np.nan)


def _move_path(line, end, path):
    """Give the two lines ``plot.loss_surface`` draws for a path (steps, end) a new path."""
    path, dots = plot.path_points(path)
    line.set_data(path[:, 0], path[:, 1])
    line.set_markersize(dots)
    end.set_data(*path[-1:].T)


#: Each optimizer's color in the race, the same whichever others race with it: the
#: colors of paths over contours, in the order chapter 8's figure gives them.
RACE_COLORS = dict(zip(surfaces.OPTIMIZERS, plot.PATH_COLORS, strict=False))
#: The race's right margin, in inches: the legend's, for "momentum (diverged)" at 8 points.
RACE_LEGEND = 1.75


@plot.in_style()
def optimizer_race(state):
    """Every optimizer's path on the surface, and the value reached per step.

    One legend names the colors of both panels, beside the curves: on them, it hid the
    spikes of RMSprop and Adam, which reach every corner on the Rosenbrock valley; a second
    one on the surface would hide a corner of it and cost a tenth of each redraw. The
    contours are drawn from 100 x 100 points, which look the same as 200 x 200 on these
    smooth surfaces. About five ticks per axis, not matplotlib's seven to nine: ticks and
    their labels were two thirds of the time to draw this figure. A diverged run is named
    so in the legend and marked with a cross where it stopped (or, still climbing, at its
    last step), at the top edge when that is beyond it: its values (up to 1e70) would
    squash every other curve to a flat line.
    """
    s = surfaces.get(state["surface"])
    fig, axes = plot.new_figure(2, 1, width=8.6, height=3.4)
    colors = [RACE_COLORS[name] for name in state["paths"]]
    plot.loss_surface(s.f, s.xlim, s.ylim, paths=state["paths"], ax=axes[0, 0],
                      title=state["surface"], legend=False, resolution=100, colors=colors)
    axes[0, 0].locator_params(nbins=4)
    ax = axes[0, 1]
    if not state["paths"]:
        ax.text(0.5, 0.5, "select one or more optimizers", ha="center", va="center",
                transform=ax.transAxes)
        ax.set(xlabel="step", ylabel="value - minimum", xticks=[], yticks=[])
        return plot.fixed_layout(fig, left=0.7, right=RACE_LEGEND, gap=0.85)
    gaps, top, beyond = race_values(state)
    plot.curves({f"{name} (diverged)" if name in state["diverged"] else name: gap
                 for name, gap in gaps.items()},
                ylabel="value - minimum", logy=True, ax=ax, colors=colors)
    # Anew: plot.curves puts its legend on the curves, and gives a single curve none. Short
    # lines leave the panels more of the figure's width.
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), handlelength=1.2,
              handletextpad=0.5)
    if beyond:
        ax.set_ylim(min(np.nanmin(gap) for gap in gaps.values()) / 2, top)
    for name in state["diverged"]:
        ax.plot([len(gaps[name]) - 1], [np.fmin(gaps[name][-1], top)], "x", markersize=7,
                markeredgewidth=2, color=RACE_COLORS[name], clip_on=False)
    ax.locator_params(axis="x", nbins=4)
    ax.yaxis.set_major_locator(LogLocator(numticks=5))
    return plot.fixed_layout(fig, left=0.7, right=RACE_LEGEND, gap=0.85)


@plot.in_style()
def optimizer_race_redraw(fig, old, new):
    """``optimizer_race(new)`` in ``fig``: the same surface and optimizers, the same runs
    diverged, the value axis cut at the top or not in both (see the module)."""
    gaps, top, beyond = race_values(new)
    if (old["surface"], list(old["paths"]), list(old["diverged"]), race_values(old)[2]) != \
            (new["surface"], list(new["paths"]), list(new["diverged"]), beyond):
        return False
    if not gaps:   # no optimizer: the figure is the surface alone
        return True
    surface_ax, value_ax = fig.axes
    for i, path in enumerate(new["paths"].values()):
        _move_path(*surface_ax.lines[2 * i:2 * i + 2], path)
    curves = iter(value_ax.lines)
    for gap in gaps.values():
        next(curves).set_data(np.arange(len(gap)), gap)
    for name in new["diverged"]:   # the crosses, drawn after the curves
        next(curves).set_data([len(gaps[name]) - 1], [np.fmin(gaps[name][-1], top)])
    value_ax.relim()
    value_ax.autoscale_view()
    if beyond:
        value_ax.set_ylim(min(np.nanmin(gap) for gap in gaps.values()) / 2, top)
    return True


@plot.in_style()
def backprop(state):
    """The loss as one weight varies, the tangent whose slope backprop computed, and the
    weight's value in the worked example (where chapter 9's derivatives hold)."""
    fig, ax = plot.one_axes(width=4.6)
    grid = np.array(state["grid"])
    ax.plot(grid, state["curve"], color=plot.COLORS[0], label="loss C")
    tangent = state["loss"] + state["gradient"] * (grid - state["value"])
    ax.plot(grid, tangent, color=plot.COLORS[1], linestyle="--",
            label=f"slope dC/dw = {state['gradient']:.4f}")
    ax.axvline(state["lecture"], color="0.6", linestyle=":", linewidth=1, zorder=1,
               label=f"worked example {state['lecture']:g}")
    ax.scatter([state["value"]], [state["loss"]], color=plot.COLORS[1], zorder=3)
    ax.set(xlabel=state["weight"], ylabel="loss C", ylim=(min(state["curve"]) - 0.05,
                                                       max(state["curve"]) + 0.05))
    ax.legend(fontsize=8)
    return plot.fixed_layout(fig, left=0.7)


@plot.in_style()
def backprop_redraw(fig, old, new):
    """``backprop(new)`` in ``fig``, for the same weight: the tangent and its point move."""
    if old["weight"] != new["weight"]:
        return False
    ax = fig.axes[0]
    grid = np.array(new["grid"])
    ax.lines[1].set_ydata(new["loss"] + new["gradient"] * (grid - new["value"]))
    ax.get_legend().get_texts()[1].set_text(f"slope dC/dw = {new['gradient']:.4f}")
    _move_point(ax, new["value"], new["loss"])
    return True


@plot.in_style()
def gradient_flow(state):
    """Per-layer gradient norms, on one log scale for all settings (wider if need be)."""
    norms = np.array(state["norms"], dtype=float)
    title = f"{state['activation']}, scale {state['init_scale']:.3g}" + \
        (", batch norm" if state["batchnorm"] else "") + \
        (", residual" if state["residual"] and state["depth"] > 1 else "")   # see deep_mlp
    fig = plot.gradient_norms(np.where(np.isfinite(norms), norms, np.nan), title=title,
                              span=(1e-12, 1e12), limit=GRADIENT_LIMIT)   # shaded beyond
    return plot.fixed_layout(fig, left=0.9)


@plot.in_style()
def kernel(state):
    """The digit (grey), the kernel, the feature map and the pooled map.

    The three signed panels are red where positive, blue where negative and white at 0
    (as the chapter's learned filters), each color scale centered on 0: a kernel whose
    weights are all equal (blur) is uniformly red, not as blank as a scale from its
    smallest to its largest value would draw it. The feature map and the pooled map
    share one scale, so that a color means the same number in both. The kernel's
    weights are written in its cells, and a thin frame shows each panel's edge where
    its border pixels are white.
    """
    fig, axes = plot.new_figure(4, 1, width=7.2, height=1.9)
    k = np.array(state["kernel"])
    k_limit, limit = plot.finite_limit(k), plot.finite_limit(state["feature_map"])
    panels = [(state["image"], "gray_r", 0.0, 1.0, f"digit ({state['label']})"),
              (k, "RdBu_r", -k_limit, k_limit, "kernel"),
              (state["feature_map"], "RdBu_r", -limit, limit, "feature map"),
              (state["pooled"], "RdBu_r", -limit, limit, "max-pooled")]
    for ax, (values, cmap, low, high, title) in zip(axes.flat, panels, strict=True):
        ax.imshow(values, cmap=cmap, vmin=low, vmax=high)
        ax.set(xticks=[], yticks=[])
        ax.set_title(title, fontsize=9)
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set(visible=True, color=plot.COLORS[5], linewidth=0.6)
    for (i, j), weight in np.ndenumerate(k):
        axes[0, 1].text(j, i, f"{weight:.2g}", ha="center", va="center", fontsize=8,
                        color="white" if abs(weight) > 0.6 * k_limit else "black")
    return plot.fixed_layout(fig, left=0.1, bottom=0.05, right=0.1, top=0.3, gap=0.2)


@plot.in_style()
def playground(model, data, history):
    """The decision boundary over train (filled) and test (hollow) points, and the losses.

    The curves are drawn over ``history["epoch"]``, where a Step adds a fraction of an epoch.
    """
    X_train, X_test, y_train, y_test = data
    fig, axes = plot.new_figure(2, 1, height=3.4)
    ax = axes[0, 0]
    # The model's output is a logit: class 1 where it is above 0. A diverged network's
    # forward pass overflows to NaN, which leaves the plane blank: that says it all.
    with np.errstate(over="ignore", invalid="ignore"):
        plot.decision_boundary(model.predict, np.vstack([X_train, X_test]),
                               np.concatenate([y_train, y_test]), ax=ax, resolution=80,
                               threshold=0)
    ax.collections[-1].remove()
    ax.scatter(*X_train.T, c=[plot.COLORS[i] for i in y_train], s=14, edgecolors="white",
               linewidths=0.4)
    ax.scatter(*X_test.T, facecolors="none", edgecolors=[plot.COLORS[i] for i in y_test], s=14)
    ax = axes[0, 1]
    if len(history["loss"]) > 1:   # the first point is the untrained network, at epoch 0
        for i, (label, key) in enumerate((("train loss", "loss"), ("test loss", "test_loss"))):
            lone = np.isfinite(history[key]).sum() < 2   # one point is no line: a dot
            ax.plot(history["epoch"], history[key], color=plot.COLORS[i], label=label,
                    marker="o" if lone else None, markersize=4)
        ax.legend(fontsize=8)
        ax.set(xlabel="epoch", ylabel="loss")
        ax.locator_params(axis="x", nbins=4)   # a Step's epochs, 0.001 apart, ran together
        if not np.isfinite(history["loss"][-1]):   # perhaps one point left to draw: no line
            last = history["epoch"][-1]
            ax.set(title="diverged", xlim=(-0.05 * last, 1.05 * last))
            ax.margins(y=0.15)   # the dots clear of the frame
    else:
        ax.text(0.5, 0.5, "press Train or Step", ha="center", va="center",
                transform=ax.transAxes)
        ax.set(xlabel="epoch", ylabel="loss", xticks=[], yticks=[])
    return plot.fixed_layout(fig, left=0.7, right=0.3, gap=0.8)
