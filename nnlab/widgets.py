"""The interactive explorers: sliders wired to ``nnlab.explore`` and drawn by
``nnlab.explorer_figures``.

Every explorer is an ``ipywidgets.VBox`` with three attributes that also work
without a browser:

- ``controls``: dict of the ipywidgets controls, by name;
- ``state``: the numbers last computed (the ``nnlab.explore`` result);
- ``figure``: the matplotlib Figure last drawn.

Setting a control's ``.value`` recomputes and redraws at once. The figure is
shown as a PNG in an ``ipywidgets.Image``, and problems (a diverging learning
rate, exploding activations) appear as a warning line in the explorer, never
as an exception.

Examples
--------
>>> explorer = perceptron_explorer(gate="xor")
>>> explorer.controls["bias"].value = 0.5
>>> explorer.state["errors"] >= 1
True
"""

import html

import ipywidgets as W
import numpy as np

from nnlab import activations, explore, initializers, plot, surfaces
from nnlab import explorer_figures as figures
from nnlab.losses import BinaryCrossEntropy
from nnlab.optimizers import get as get_optimizer

LAYOUT = W.Layout(width="360px")
LIVE_NOTE = ("These controls are live in a running notebook (JupyterLab: <code>make lab</code>); "
             "on the static website they show the state stored when the chapter was run.")
STYLE = {"description_width": "120px"}


def _slider(value, low, high, step, description, log=False, integer=False, continuous=True):
    """A labelled slider; ``log`` spaces it logarithmically (for learning rates, scales)."""
    common = {"value": value, "description": description, "layout": LAYOUT, "style": STYLE,
              "continuous_update": continuous}
    if log:
        return W.FloatLogSlider(base=10, min=np.log10(low), max=np.log10(high), step=step,
                                readout_format=".3g", **common)
    kind = W.IntSlider if integer else W.FloatSlider
    return kind(min=low, max=high, step=step, **common)


def _dropdown(value, options, description):
    return W.Dropdown(value=value, options=options, description=description, layout=LAYOUT,
                      style=STYLE)


class Explorer(W.VBox):
    """Controls, a figure and a line of numbers, kept in sync.

    ``compute(**values)`` returns the state, ``draw(state)`` the figure and
    ``describe(state)`` the HTML line of key numbers.
    """

    def __init__(self, controls, compute, draw, describe, note=""):
        self.controls = controls
        self._compute, self._draw, self._describe = compute, draw, describe
        self.state, self.figure = {}, None
        self.image = W.Image(format="png", layout=W.Layout(max_width="100%"))
        self.numbers = W.HTML()
        self.warning = W.HTML()
        parts = [W.VBox(list(controls.values())), self.image, self.numbers, self.warning,
                 W.HTML(f"<small>{note} {LIVE_NOTE}</small>".strip())]
        super().__init__(parts)
        for control in controls.values():
            control.observe(self._changed, names="value")
        self.update()

    def _changed(self, change):
        self.update()

    def values(self):
        return {name: c.value for name, c in self.controls.items() if hasattr(c, "value")}

    def update(self):
        """Recompute the state from the controls and redraw."""
        try:
            with np.errstate(all="ignore"):
                self.state = self._compute(**self.values())
                self.figure = self._draw(self.state)
        except (ValueError, FloatingPointError, OverflowError) as exc:
            self.warning.value = _warning(str(exc))
            return
        self.image.value = plot.to_png(self.figure)
        self.numbers.value = self._describe(self.state)
        self.warning.value = _warning(self.state.get("warning", ""))


def _warning(text):
    return f'<span style="color:#c44e52">&#9888; {html.escape(text)}</span>' if text else ""


def perceptron_explorer(w1=1.0, w2=1.0, bias=-1.5, gate="and"):
    """Weights and bias of a perceptron over the truth table of a gate (AND, OR, NAND, XOR).

    Examples
    --------
    >>> perceptron_explorer().state["errors"]
    0
    """
    controls = {"w1": _slider(w1, -3, 3, 0.1, "w1"), "w2": _slider(w2, -3, 3, 0.1, "w2"),
                "bias": _slider(bias, -3, 3, 0.1, "bias w0"),
                "gate": _dropdown(gate, list(explore.GATES), "gate")}

    def describe(s):
        rows = "".join(f"<tr><td>{a}</td><td>{b}</td><td>{t}</td><td>{p}</td></tr>"
                       for (a, b), t, p in zip(s["inputs"], s["targets"], s["predictions"],
                                               strict=True))
        return ("<table><tr><th>x1</th><th>x2</th><th>target</th><th>output</th></tr>"
                f"{rows}</table><b>errors: {s['errors']}</b>")

    return Explorer(controls, explore.perceptron, figures.perceptron, describe)


def forward_explorer(**weights):
    """The hidden weights of the 2-2-1 worked example -> hidden activations and output.

    Examples
    --------
    >>> round(forward_explorer().state["output"], 4)
    0.5694
    """
    defaults = explore.forward()["w1"]
    controls = {f"w{j}{k}": _slider(weights.get(f"w{j}{k}", defaults[j][k]), -3, 3, 0.1,
                                    f"w1_{j}{k}") for j in range(2) for k in range(2)}
    return Explorer(controls, explore.forward, figures.forward,
                    lambda s: f"hidden activations: {s['hidden'][0]:.4f}, {s['hidden'][1]:.4f}"
                              f" &nbsp; output y&#770; = {s['output']:.4f}"
                              f" &nbsp; loss (y = 1): {s['loss']:.4f}")


def activation_explorer(name="sigmoid", weight=1.0, bias=0.0):
    """One neuron a = f(w x + b): choose f, slide w and b; output and slope over x.

    Examples
    --------
    >>> activation_explorer("relu").state["name"]
    'relu'
    """
    controls = {"name": _dropdown(name, list(activations.NAMES), "activation"),
                "weight": _slider(weight, -5, 5, 0.1, "weight w"),
                "bias": _slider(bias, -5, 5, 0.1, "bias b")}

    def describe(s):
        i = len(s["x"]) // 2
        return (f"at x = 0: output {s['output'][i]:.4f}, slope {s['derivative'][i]:.4f}; "
                f"output range [{min(s['output']):.3g}, {max(s['output']):.3g}]")

    return Explorer(controls, explore.activation, figures.activation, describe)


def initialization_explorer(scheme="glorot_uniform", scale=1.0, depth=6, activation="tanh"):
    """Initialization scheme, a scale on it, depth and activation -> per-layer histograms.

    Examples
    --------
    >>> len(initialization_explorer(depth=4).state["stds"])
    4
    """
    controls = {"scheme": _dropdown(scheme, [n for n in initializers.NAMES if n != "zeros"],
                                    "scheme"),
                "scale": _slider(scale, 0.1, 10, 0.05, "std x", log=True, continuous=False),
                "depth": _slider(depth, 1, 12, 1, "depth", integer=True, continuous=False),
                "activation": _dropdown(activation, ["tanh", "sigmoid", "relu", "linear"],
                                        "activation")}
    return Explorer(controls, explore.initialization, figures.initialization,
                    lambda s: "std per layer: " + ", ".join(f"{v:.3g}" for v in s["stds"]))


def loss_explorer(loss="binary cross-entropy", prediction=0.7, positive=True):
    """A loss and its gradient for one prediction and a true label.

    Examples
    --------
    >>> round(loss_explorer(prediction=0.5).state["loss"], 4)
    0.6931
    """
    controls = {"loss": _dropdown(loss, list(explore.LOSSES), "loss"),
                "prediction": _slider(prediction, -3, 3, 0.01, "prediction"),
                "positive": _dropdown(positive, [("1 (positive)", True),
                                                 ("0 or -1 (negative)", False)], "true label")}

    def compute(loss, prediction, positive):
        negative = -1 if loss == "hinge" else 0
        return explore.loss(loss, prediction, 1 if positive else negative)

    return Explorer(controls, compute, figures.loss,
                    lambda s: f"prediction {s['prediction']:.3f}, label {s['label']}: "
                              f"loss {s['loss']:.4f}, gradient {s['gradient']:.4f}",
                    note="Cross-entropy clips the prediction to a probability in (0, 1).")


def learning_rate_explorer(lr=0.1, steps=30, start=-4.0, batch_size=200):
    """Gradient descent on a two-parameter regression: learning rate, steps, start, batch.

    Examples
    --------
    >>> learning_rate_explorer(lr=5.0).state["diverged"]
    True
    """
    controls = {"lr": _slider(lr, 1e-3, 10, 0.05, "learning rate", log=True),
                "steps": _slider(steps, 1, 100, 1, "steps", integer=True),
                "start": _slider(start, -6, 6, 0.5, "start (w = b)"),
                "batch_size": _dropdown(batch_size, [1, 10, 50, 200], "batch size")}
    return Explorer(controls, explore.learning_rate, figures.learning_rate,
                    lambda s: f"final loss {s['final_loss']:.4g} after {len(s['path']) - 1} "
                              f"steps" + (" (diverged)" if s["diverged"] else ""))


def optimizer_race(names=surfaces.OPTIMIZERS, lr=0.01, surface="bowl", steps=200):
    """Optimizers racing on an ill-conditioned bowl, the Rosenbrock valley or a saddle.

    Examples
    --------
    >>> sorted(optimizer_race(names=("SGD", "Adam"), steps=20).state["final"])
    ['Adam', 'SGD']
    """
    controls = {"names": W.SelectMultiple(value=tuple(names), options=surfaces.OPTIMIZERS,
                                          description="optimizers", rows=6, layout=LAYOUT,
                                          style=STYLE),
                "lr": _slider(lr, 1e-4, 0.1, 0.05, "learning rate", log=True),
                "surface": _dropdown(surface, list(surfaces.NAMES), "surface"),
                "steps": _slider(steps, 10, 500, 10, "steps", integer=True, continuous=False)}
    return Explorer(controls, explore.optimizer_race, figures.optimizer_race,
                    lambda s: "value reached: " + ", ".join(
                        f"{k} {v:.3g}" for k, v in s["final"].items()),
                    note="Adaptive methods use the slider's rate times a fixed factor "
                         "(AdaGrad, Adam x50; RMSprop x5): see nnlab.surfaces.LR_FACTORS.")


def backprop_explorer(weight="w2_00", value=None):
    """One weight of the 2-2-1 example -> the loss curve and backprop's tangent.

    Examples
    --------
    >>> round(backprop_explorer().state["gradient"], 5)
    -0.11086
    """
    start = explore.backprop(weight, value)["value"]
    controls = {"weight": _dropdown(weight, list(explore.BACKPROP_WEIGHTS), "weight"),
                "value": _slider(start, -3, 3, 0.05, "its value")}

    def describe(s):
        chain = " &times; ".join(f"{k} = {v:.4f}" for k, v in s["factors"].items())
        return (f"dC/d{s['weight']} = {chain} = <b>{s['product']:.5f}</b> "
                f"(backprop {s['gradient']:.5f}, numerical {s['numerical']:.5f})")

    return Explorer(controls, explore.backprop, figures.backprop, describe)


def gradient_flow_explorer(depth=10, activation="sigmoid", init_scale=1.0, batchnorm=False,
                           residual=False):
    """Depth, activation, init scale, batch norm and residual -> per-layer gradient norms.

    Examples
    --------
    >>> gradient_flow_explorer(depth=30).state["warning"].startswith("Vanishing")
    True
    """
    controls = {"depth": _slider(depth, 1, 30, 1, "depth", integer=True, continuous=False),
                "activation": _dropdown(activation, ["sigmoid", "tanh", "relu", "elu"],
                                        "activation"),
                "init_scale": _slider(init_scale, 0.1, 10, 0.05, "init scale", log=True,
                                      continuous=False),
                "batchnorm": W.Checkbox(value=batchnorm, description="batch norm"),
                "residual": W.Checkbox(value=residual, description="residual")}
    return Explorer(controls, explore.gradient_flow, figures.gradient_flow,
                    lambda s: f"first / last layer gradient: {s['ratio']:.3g}")


def kernel_explorer(preset="vertical edges", digit=0):
    """A 3x3 kernel (preset or nine sliders) on a digit -> feature map and max-pooled map.

    Examples
    --------
    >>> kernel_explorer(preset="blur").state["kernel"][1][1] == 1 / 9
    True
    """
    controls = {"preset": _dropdown(preset, list(explore.KERNELS), "preset"),
                "digit": _slider(digit, 0, 99, 1, "digit #", integer=True)}
    cells = {f"k{i}{j}": _slider(explore.KERNELS[preset][i][j], -5, 5, 0.1, f"k[{i},{j}]")
             for i in range(3) for j in range(3)}
    controls.update(cells)

    def compute(preset, digit, **k):
        return explore.kernel([[k[f"k{i}{j}"] for j in range(3)] for i in range(3)], digit)

    explorer = Explorer(controls, compute, figures.kernel,
                        lambda s: f"feature map range [{s['feature_map'].min():.2f}, "
                                  f"{s['feature_map'].max():.2f}]")

    def load_preset(change):
        # Set the nine sliders without nine redraws, then redraw once.
        for (i, j), name in zip(np.ndindex(3, 3), cells, strict=True):
            cells[name].unobserve(explorer._changed, names="value")
            cells[name].value = explore.KERNELS[change["new"]][i][j]
            cells[name].observe(explorer._changed, names="value")
        explorer.update()

    controls["preset"].unobserve(explorer._changed, names="value")
    controls["preset"].observe(load_preset, names="value")
    return explorer


class Playground(Explorer):
    """Train a small network on a 2-D problem, TensorFlow-Playground style.

    ``train(epochs)``, ``step()`` (one mini-batch) and ``reset()`` work without a browser;
    the Train / Step / Reset buttons call them.
    """

    TRAIN_EPOCHS = 20

    def __init__(self, dataset="circles", noise=0.1, train_ratio=0.7, hidden_layers=2, units=8,
                 activation="tanh", lr=0.03, batch_size=16, l2=0.0, optimizer="adam", seed=0):
        self.seed = seed
        controls = {
            "dataset": _dropdown(dataset, list(explore.PLAYGROUND_DATA), "data set"),
            "noise": _slider(noise, 0, 0.5, 0.05, "noise", continuous=False),
            "train_ratio": _slider(train_ratio, 0.1, 0.9, 0.1, "train ratio", continuous=False),
            "hidden_layers": _slider(hidden_layers, 0, 4, 1, "hidden layers", integer=True,
                                     continuous=False),
            "units": _slider(units, 1, 16, 1, "units per layer", integer=True,
                             continuous=False),
            "activation": _dropdown(activation, ["tanh", "relu", "sigmoid", "linear"],
                                    "activation"),
            "lr": _slider(lr, 1e-4, 1, 0.05, "learning rate", log=True, continuous=False),
            "batch_size": _dropdown(batch_size, [1, 4, 16, 64], "batch size"),
            "l2": _slider(max(l2, 1e-5), 1e-5, 0.1, 0.05, "L2 (weight decay)", log=True,
                          continuous=False),
            "optimizer": _dropdown(optimizer, ["sgd", "momentum", "adam", "rmsprop"],
                                   "optimizer"),
        }
        self.buttons = {name: W.Button(description=name) for name in ("Train", "Step", "Reset")}
        self.buttons["Train"].on_click(lambda _: self.train(self.TRAIN_EPOCHS))
        self.buttons["Step"].on_click(lambda _: self.step())
        self.buttons["Reset"].on_click(lambda _: self.reset())
        super().__init__(controls, self._compute_state, self._draw_state,
                         lambda s: f"epoch {s['epoch']}: train loss {s['train_loss']:.4f}, "
                                   f"test loss {s['test_loss']:.4f}, "
                                   f"test accuracy {s['test_accuracy']:.3f}")
        self.children = (*self.children[:1], W.HBox(list(self.buttons.values())),
                         *self.children[1:])

    def _compute_state(self, **values):
        self._values = values
        self.reset(redraw=False)
        return self._summary()

    def reset(self, redraw=True):
        """A fresh network and data set from the current controls; epoch 0."""
        v = self._values
        self.data = explore.playground_data(v["dataset"], v["noise"], v["train_ratio"],
                                            seed=self.seed)
        self.model = explore.playground_model(v["hidden_layers"], v["units"], v["activation"],
                                              seed=self.seed)
        self.model.compile(BinaryCrossEntropy(from_logits=True),
                           get_optimizer(v["optimizer"], lr=v["lr"], weight_decay=v["l2"]),
                           metrics=["accuracy"])
        self.epoch, self.history = 0, {"loss": [], "test_loss": []}
        self.rng = np.random.default_rng(self.seed)
        self._record()
        if redraw:
            self.state = self._summary()
            self._show()

    def train(self, epochs=TRAIN_EPOCHS):
        """Train for ``epochs`` more epochs (in one chunk) and redraw."""
        X, Xt, y, yt = self.data
        with np.errstate(all="ignore"):
            h = self.model.fit(X, y, epochs=epochs, batch_size=self._values["batch_size"],
                               validation_data=(Xt, yt), seed=self.rng)
        self.epoch += len(h.history["loss"])
        self.history["loss"] += h.history["loss"]
        self.history["test_loss"] += h.history["val_loss"]
        self.state = self._summary()
        self._show(diverged=self.model.stop_reason)
        return self

    def step(self):
        """One mini-batch update, and redraw."""
        X, _, y, _ = self.data
        idx = self.rng.choice(len(X), size=min(self._values["batch_size"], len(X)),
                              replace=False)
        self.model.train_step(X[idx], y[idx, None].astype(float))
        self._record()
        self._show()
        return self

    def _record(self):
        """Append the current train and test loss to the curves."""
        X, Xt, y, yt = self.data
        self.history["loss"].append(self.model.evaluate(X, y)[0])
        self.history["test_loss"].append(self.model.evaluate(Xt, yt)[0])
        self.state = self._summary()

    def _summary(self):
        X, Xt, y, yt = self.data
        train_loss, _ = self.model.evaluate(X, y)
        test_loss, test_accuracy = self.model.evaluate(Xt, yt)
        return {"epoch": self.epoch, "train_loss": train_loss, "test_loss": test_loss,
                "test_accuracy": test_accuracy, "history": self.history, **self._values}

    def _draw_state(self, state):
        return figures.playground(self.model, self.data, self.history)

    def _show(self, diverged=None):
        self.figure = self._draw_state(self.state)
        self.image.value = plot.to_png(self.figure)
        self.numbers.value = self._describe(self.state)
        self.warning.value = _warning(f"Training diverged: {diverged}." if diverged else "")


def playground(**settings):
    """The TensorFlow-Playground-like explorer; see ``Playground`` for the settings.

    Examples
    --------
    >>> pg = playground(dataset="circles")
    >>> before = pg.state["train_loss"]
    >>> pg.train(20).state["train_loss"] < before
    True
    """
    return Playground(**settings)
