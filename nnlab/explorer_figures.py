"""The figures of the interactive explorers: each draws one ``nnlab.explore`` state.

Kept apart from the widgets so that the live explorers, the tests and the
precomputed frames of the static book all draw with the very same code.
"""

import numpy as np
from matplotlib.ticker import LogLocator

from nnlab import plot, surfaces


def perceptron(state):
    """The four inputs coloured by the unit's output, ringed by the target, and the line."""
    fig, axes = plot.new_figure(1, 1, width=4.2, height=3.6)
    ax = axes[0, 0]
    X = np.array(state["inputs"], dtype=float)
    grid = np.linspace(-0.5, 1.5, 200)
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
    ax.set(xlim=(-0.5, 1.5), ylim=(-0.5, 1.5), xlabel="$x_1$", ylabel="$x_2$",
           title=f"{state['gate'].upper()}: {state['errors']} misclassified (thick rings)")
    return plot.fixed_layout(fig, left=0.75, right=0.2)


def forward(state):
    """The 2-2-1 network with its weights, and the activations written at the units."""
    fig = plot.network_diagram([np.array(w) for w in state["weights"]])
    ax = fig.axes[0]
    for y, value in zip((-0.5, 0.5), state["x"], strict=True):
        ax.annotate(f"{value:.2f}", (0, y), ha="center", va="center", fontsize=8)
    for y, value in zip((-0.5, 0.5), state["hidden"], strict=True):
        ax.annotate(f"{value:.3f}", (1, y), ha="center", va="center", fontsize=8)
    ax.annotate(f"{state['output']:.3f}", (2, 0), ha="center", va="center", fontsize=8)
    return plot.fixed_layout(fig, left=0.2, right=0.2)


def activation(state):
    """The neuron's output a = f(wx + b) and its slope over x."""
    # Softmax needs a vector: the curve is the first output of softmax over (wx + b, 0).
    name = "softmax(wx+b, 0)" if state["name"] == "softmax" else state["name"]
    return _xy_curves(state["x"], {"output f(wx+b)": state["output"],
                                   "slope da/dx": state["derivative"]},
                      "x", "value", f"{name}, w={state['weight']:.2f}, b={state['bias']:.2f}")


def _xy_curves(x, series, xlabel, ylabel, title):
    fig, axes = plot.new_figure(1, 1)
    ax = axes[0, 0]
    for i, (label, values) in enumerate(series.items()):
        ax.plot(x, values, color=plot.COLORS[i], linestyle="-" if i == 0 else "--", label=label)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend(fontsize=8)
    return plot.fixed_layout(fig, left=0.8)


def initialization(state, panels=6):
    """Histograms of the hidden layers' activations: all of them, or ``panels`` evenly spaced
    ones from the first to the last (a dozen panels would be too small to read, and slow)."""
    n = len(state["values"])
    shown = np.unique(np.linspace(0, n - 1, min(n, panels)).round().astype(int))
    fig = plot.activation_histograms(
        [state["values"][i] for i in shown], layers=shown + 1,
        title=f"{state['activation']}, {state['scheme']} x {state['scale']:g}")
    return plot.fixed_layout(fig, left=0.15, top=0.5, gap=0.3)


def loss(state):
    """The loss and its gradient as curves over the prediction, with the current point."""
    fig, axes = plot.new_figure(2, 1)
    g = state["grid"]
    for ax, key, point, label in ((axes[0, 0], "curve", state["loss"], "loss"),
                                  (axes[0, 1], "slope", state["gradient"], "gradient")):
        ax.plot(g, state[key], color=plot.COLORS[0])
        ax.scatter([state["prediction"]], [point], color=plot.COLORS[1], zorder=3)
        ax.set(xlabel="prediction", ylabel=label,
               title=f"{state['name']}, label {state['label']}" if key == "curve" else None)
    return plot.fixed_layout(fig, left=0.7, gap=0.9)


def learning_rate(state):
    """The path over the loss surface of (w, b), and the loss per step."""
    fig, axes = plot.new_figure(2, 1, height=3.4)
    path = np.array(state["path"])
    # 100 x 100 points draw this smooth bowl as well as 200 x 200, four times sooner.
    plot.loss_surface(state["loss_fn"], (-6, 6), (-6, 6), paths={"path": path}, ax=axes[0, 0],
                      title=f"learning rate {state['lr']:.3g}", resolution=100, legend=False)
    axes[0, 0].scatter([3.0], [1.0], marker="*", s=80, color="black", zorder=3)
    axes[0, 0].set(xlabel="w", ylabel="b")
    losses = np.array(state["losses"], dtype=float)
    plot.curves({"loss": np.where(np.isfinite(losses), losses, np.nan)}, logy=True,
                ax=axes[0, 1], title="diverged" if state["diverged"] else "loss per step")
    return plot.fixed_layout(fig, gap=0.85)


def optimizer_race(state):
    """Every optimizer's path on the surface, and the value reached per step.

    One legend, on the curves, names the colours of both panels: a second one on the
    surface would hide a corner of it and cost a tenth of each redraw. The contours are
    drawn from 100 x 100 points, which look the same as 200 x 200 on these smooth surfaces.
    About five ticks per axis, not matplotlib's seven to nine: ticks and their labels
    were two thirds of the time to draw this figure.
    """
    s = surfaces.get(state["surface"])
    fig, axes = plot.new_figure(2, 1, height=3.4)
    plot.loss_surface(s.f, s.xlim, s.ylim, paths=state["paths"], ax=axes[0, 0],
                      title=state["surface"], legend=False, resolution=100)
    gaps = {k: np.maximum(np.array(c, dtype=float) - s.minimum, 1e-12)
            for k, c in state["curves"].items()}
    plot.curves(gaps, ylabel="value - minimum", logy=True, ax=axes[0, 1])
    axes[0, 0].locator_params(nbins=4)
    axes[0, 1].locator_params(axis="x", nbins=4)
    axes[0, 1].yaxis.set_major_locator(LogLocator(numticks=5))
    return plot.fixed_layout(fig, left=0.7, gap=0.85)


def backprop(state):
    """The loss as one weight varies, and the tangent whose slope backprop computed."""
    fig, axes = plot.new_figure(1, 1, width=4.6)
    ax = axes[0, 0]
    grid = np.array(state["grid"])
    ax.plot(grid, state["curve"], color=plot.COLORS[0], label="loss C")
    tangent = state["loss"] + state["gradient"] * (grid - state["value"])
    ax.plot(grid, tangent, color=plot.COLORS[1], linestyle="--",
            label=f"slope dC/dw = {state['gradient']:.4f}")
    ax.scatter([state["value"]], [state["loss"]], color=plot.COLORS[1], zorder=3)
    ax.set(xlabel=state["weight"], ylabel="loss C", ylim=(min(state["curve"]) - 0.05,
                                                       max(state["curve"]) + 0.05))
    ax.legend(fontsize=8)
    return plot.fixed_layout(fig, left=0.7)


def gradient_flow(state):
    """Per-layer gradient norms on a log scale."""
    norms = np.array(state["norms"], dtype=float)
    title = f"{state['activation']}, scale {state['init_scale']:g}" + \
        (", batch norm" if state["batchnorm"] else "") + (", residual" if state["residual"] else "")
    fig = plot.gradient_norms(np.where(np.isfinite(norms), norms, np.nan), title=title)
    return plot.fixed_layout(fig, left=0.9)


def kernel(state):
    """The digit, the kernel, the feature map and the pooled map."""
    fig = plot.image_grid(
        [state["image"], np.array(state["kernel"]), state["feature_map"], state["pooled"]],
        titles=[f"digit ({state['label']})", "kernel", "feature map", "max-pooled"], ncols=4)
    return plot.fixed_layout(fig, left=0.1, bottom=0.05, right=0.1, top=0.3, gap=0.2)


def playground(model, data, history):
    """The decision boundary over train (filled) and test (hollow) points, and the losses."""
    X_train, X_test, y_train, y_test = data
    fig, axes = plot.new_figure(2, 1, height=3.4)
    ax = axes[0, 0]
    plot.decision_boundary(model.predict, np.vstack([X_train, X_test]),
                           np.concatenate([y_train, y_test]), ax=ax, resolution=80)
    ax.collections[-1].remove()
    ax.scatter(*X_train.T, c=[plot.COLORS[i] for i in y_train], s=14, edgecolors="white",
               linewidths=0.4)
    ax.scatter(*X_test.T, facecolors="none", edgecolors=[plot.COLORS[i] for i in y_test], s=14)
    if history["loss"]:
        plot.curves({"train loss": history["loss"], "test loss": history["test_loss"]},
                    xlabel="epoch", ax=axes[0, 1])
    else:
        axes[0, 1].set(xlabel="epoch", ylabel="loss", title="press Train")
    return plot.fixed_layout(fig, gap=0.8)
