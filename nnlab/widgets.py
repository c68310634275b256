"""The interactive explorers: sliders wired to ``nnlab.explore`` and drawn by
``nnlab.explorer_figures``.

Every explorer is an ``ipywidgets.VBox`` with three attributes that also work
without a browser:

- ``controls``: dict of the ipywidgets controls, by name;
- ``state``: the numbers last computed (the ``nnlab.explore`` result);
- ``figure``: the matplotlib Figure of that state, as last shown (drawn on request).

Setting a control's ``.value`` recomputes and redraws at once. The figure is
shown as a PNG in an ``ipywidgets.Image``, and problems (a diverging learning
rate, exploding activations) appear as a warning line in the explorer, never
as an exception. Each explorer also knows its static version for the
published book (``Explorer.static_html``; see ``nnlab.static``): which
controls it offers there and at which values is its ``spec``.

Examples
--------
>>> explorer = perceptron_explorer(gate="xor")
>>> explorer.controls["bias"].value = 0.5
>>> explorer.state["errors"] >= 1
True
"""

import ipywidgets as W
import numpy as np

from nnlab import activations, explore, initializers, surfaces
from nnlab import explorer_figures as figures
from nnlab.explorer import LAYOUT, STATIC_ENV, STYLE, Explorer, dropdown, slider, young_garbage
from nnlab.playground import Session
from nnlab.static import Spec

__all__ = ["STATIC_ENV", "Explorer", "Playground", "activation_explorer", "backprop_explorer",
           "forward_explorer", "gradient_flow_explorer", "initialization_explorer",
           "kernel_explorer", "learning_rate_explorer", "loss_explorer", "optimizer_race",
           "perceptron_explorer", "playground"]


def perceptron_explorer(w1=1.0, w2=1.0, bias=-1.5, gate="and"):
    """Weights and bias of a perceptron over the truth table of a gate (AND, OR, NAND, XOR).

    Examples
    --------
    >>> perceptron_explorer().state["errors"]
    0
    """
    controls = {"w1": slider(w1, -3, 3, 0.1, "w1"), "w2": slider(w2, -3, 3, 0.1, "w2"),
                "bias": slider(bias, -3, 3, 0.1, "bias w0"),
                "gate": dropdown(gate, list(explore.GATES), "gate")}

    def describe(s):
        rows = "".join(f"<tr><td>{a}</td><td>{b}</td><td>{t}</td><td>{p}</td></tr>"
                       for (a, b), t, p in zip(s["inputs"], s["targets"], s["predictions"],
                                               strict=True))
        return ("<table><tr><th>x1</th><th>x2</th><th>target</th><th>output</th></tr>"
                f"{rows}</table><b>errors: {s['errors']}</b> &nbsp; decision line: "
                f"{s['w1']:g}&middot;x1 + {s['w2']:g}&middot;x2 + ({s['bias']:g}) = 0")

    # Weights -1, 0, 1 and biases between the lattice points: every line that splits the four
    # inputs differently, so every gate but XOR can be solved in the static page too.
    spec = Spec({"gate": list(explore.GATES), "w1": [-1.0, 0.0, 1.0], "w2": [-1.0, 0.0, 1.0],
                 "bias": [-1.5, -0.5, 0.5, 1.5]}, grid=("gate", "w1", "w2", "bias"))
    return Explorer(controls, explore.perceptron, figures.perceptron, describe,
                    name="perceptron_explorer", spec=spec)


def forward_explorer(**weights):
    """The hidden weights of the 2-2-1 worked example -> hidden activations and output.

    Examples
    --------
    >>> round(forward_explorer().state["output"], 4)
    0.5694
    """
    defaults = explore.forward()["w1"]
    controls = {f"w{j}{k}": slider(weights.get(f"w{j}{k}", defaults[j][k]), -3, 3, 0.1,
                                    f"w1_{j}{k}") for j in range(2) for k in range(2)}
    spec = Spec({name: [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0] for name in controls})
    return Explorer(controls, explore.forward, figures.forward,
                    lambda s: f"hidden activations: {s['hidden'][0]:.4f}, {s['hidden'][1]:.4f}"
                              f" &nbsp; output y&#770; = {s['output']:.4f}"
                              f" &nbsp; loss (y = 1): {s['loss']:.4f}",
                    name="forward_explorer", spec=spec)


def activation_explorer(name="sigmoid", weight=1.0, bias=0.0):
    """One neuron a = f(w x + b): choose f, slide w and b; output and slope over x.

    Examples
    --------
    >>> activation_explorer("relu").state["name"]
    'relu'
    """
    controls = {"name": dropdown(name, list(activations.NAMES), "activation"),
                "weight": slider(weight, -5, 5, 0.1, "weight w"),
                "bias": slider(bias, -5, 5, 0.1, "bias b")}

    def describe(s):
        i = len(s["x"]) // 2
        return (f"at x = 0: output {s['output'][i]:.4f}, slope {s['derivative'][i]:.4f}; "
                f"output range [{min(s['output']):.3g}, {max(s['output']):.3g}]")

    spec = Spec({"name": ["linear", "step", "sigmoid", "tanh", "relu", "leaky_relu", "elu",
                          "softplus"],
                 "weight": [-2.0, -1.0, 0.0, 0.5, 1.0, 2.0, 4.0],
                 "bias": [-3.0, -1.5, 0.0, 1.5, 3.0]}, grid=("name",))
    return Explorer(controls, explore.activation, figures.activation, describe,
                    name="activation_explorer", spec=spec)


def initialization_explorer(scheme="glorot_uniform", scale=1.0, depth=6, activation="tanh"):
    """Initialization scheme, a scale on it, depth and activation -> per-layer histograms.

    Examples
    --------
    >>> len(initialization_explorer(depth=4).state["stds"])
    4
    """
    controls = {"scheme": dropdown(scheme, [n for n in initializers.NAMES if n != "zeros"],
                                    "scheme"),
                "scale": slider(scale, 0.1, 10, 0.05, "std x", log=True, continuous=False),
                "depth": slider(depth, 1, 12, 1, "depth", integer=True, continuous=False),
                "activation": dropdown(activation, ["tanh", "sigmoid", "relu", "linear"],
                                        "activation")}
    spec = Spec({"scheme": list(controls["scheme"].options), "depth": [2, 6, 12],
                 "scale": [0.5, 1.0, 2.0], "activation": ["tanh", "sigmoid", "relu"]},
                grid=("scheme",))
    return Explorer(controls, explore.initialization, figures.initialization,
                    lambda s: "std per layer: " + ", ".join(f"{v:.3g}" for v in s["stds"]),
                    name="initialization_explorer", spec=spec)


def loss_explorer(loss="binary cross-entropy", prediction=0.7, positive=True):
    """A loss and its gradient for one prediction and a true label.

    Examples
    --------
    >>> round(loss_explorer(prediction=0.5).state["loss"], 4)
    0.6931
    """
    controls = {"loss": dropdown(loss, list(explore.LOSSES), "loss"),
                "prediction": slider(prediction, -3, 3, 0.01, "prediction"),
                "positive": dropdown(positive, [("1 (positive)", True),
                                                 ("0 or -1 (negative)", False)], "true label")}

    def compute(loss, prediction, positive):
        negative = -1 if loss == "hinge" else 0
        return explore.loss(loss, prediction, 1 if positive else negative)

    return Explorer(controls, compute, figures.loss,
                    lambda s: f"prediction {s['prediction']:.3f}, label {s['label']}: "
                              f"loss {s['loss']:.4f}, gradient {s['gradient']:.4f}",
                    note="Cross-entropy clips the prediction to a probability in (0, 1).",
                    name="loss_explorer", spec=Spec(
                        {"loss": list(explore.LOSSES), "positive": [True, False],
                         "prediction": [-2.0, -1.0, 0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0, 2.0]},
                        grid=("loss", "positive", "prediction")))


def learning_rate_explorer(lr=0.1, steps=30, start=-4.0, batch_size=200):
    """Gradient descent on a two-parameter regression: learning rate, steps, start, batch.

    Examples
    --------
    >>> learning_rate_explorer(lr=5.0).state["diverged"]
    True
    """
    controls = {"lr": slider(lr, 1e-3, 10, 0.05, "learning rate", log=True, continuous=False),
                "steps": slider(steps, 1, 100, 1, "steps", integer=True, continuous=False),
                "start": slider(start, -6, 6, 0.5, "start (w = b)", continuous=False),
                "batch_size": dropdown(batch_size, [1, 10, 50, 200], "batch size")}
    return Explorer(controls, explore.learning_rate, figures.learning_rate,
                    lambda s: f"final loss {s['final_loss']:.4g} after {len(s['path']) - 1} "
                              f"steps" + (" (diverged)" if s["diverged"] else ""),
                    name="learning_rate_explorer", spec=Spec(
                        {"lr": [0.003, 0.03, 0.1, 0.3, 0.9, 1.1, 2.0],
                         "batch_size": [1, 10, 200]}, grid=("lr", "batch_size")))


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
                "lr": slider(lr, 1e-4, 0.1, 0.05, "learning rate", log=True, continuous=False),
                "surface": dropdown(surface, list(surfaces.NAMES), "surface"),
                "steps": slider(steps, 10, 500, 10, "steps", integer=True, continuous=False)}
    return Explorer(controls, explore.optimizer_race, figures.optimizer_race,
                    lambda s: "value reached: " + ", ".join(
                        f"{k} {v:.3g}" for k, v in s["final"].items()),
                    note="Adaptive methods use the slider's rate times a fixed factor "
                         "(AdaGrad, Adam x50; RMSprop x5): see nnlab.surfaces.LR_FACTORS.",
                    name="optimizer_race", spec=Spec(
                        {"lr": [1e-3, 3e-3, 0.01, 0.03, 0.1],
                         "surface": list(surfaces.NAMES)}, grid=("lr", "surface")))


def backprop_explorer(weight="w2_00", value=None):
    """One weight of the 2-2-1 example -> the loss curve and backprop's tangent.

    Examples
    --------
    >>> round(backprop_explorer().state["gradient"], 5)
    -0.11086
    """
    start = explore.backprop(weight, value)["value"]
    controls = {"weight": dropdown(weight, list(explore.BACKPROP_WEIGHTS), "weight"),
                "value": slider(start, -3, 3, 0.05, "its value")}

    def describe(s):
        chain = " &times; ".join(f"{k} = {v:.4f}" for k, v in s["factors"].items())
        return (f"dC/d{s['weight']} = {chain} = <b>{s['product']:.5f}</b> "
                f"(backprop {s['gradient']:.5f}, numerical {s['numerical']:.5f})")

    spec = Spec({"weight": list(explore.BACKPROP_WEIGHTS),
                 "value": [v / 2 for v in range(-6, 7)]}, grid=("weight", "value"))
    return Explorer(controls, explore.backprop, figures.backprop, describe,
                    name="backprop_explorer", spec=spec)


def gradient_flow_explorer(depth=10, activation="sigmoid", init_scale=1.0, batchnorm=False,
                           residual=False):
    """Depth, activation, init scale, batch norm and residual -> per-layer gradient norms.

    Examples
    --------
    >>> gradient_flow_explorer(depth=30).state["warning"].startswith("Vanishing")
    True
    """
    controls = {"depth": slider(depth, 1, 30, 1, "depth", integer=True, continuous=False),
                "activation": dropdown(activation, ["sigmoid", "tanh", "relu", "elu"],
                                        "activation"),
                "init_scale": slider(init_scale, 0.1, 10, 0.05, "init scale", log=True,
                                      continuous=False),
                "batchnorm": W.Checkbox(value=batchnorm, description="batch norm"),
                "residual": W.Checkbox(value=residual, description="residual")}
    return Explorer(controls, explore.gradient_flow, figures.gradient_flow,
                    lambda s: f"first / last layer gradient: {s['ratio']:.3g}",
                    name="gradient_flow_explorer", spec=Spec(
                        {"activation": list(controls["activation"].options),
                         "depth": [2, 5, 10, 20, 30], "init_scale": [0.25, 0.5, 1.0, 2.0, 4.0],
                         "batchnorm": [False, True], "residual": [False, True]},
                        grid=("activation",)))


def kernel_explorer(preset="vertical edges", digit=0):
    """A 3x3 kernel (preset or nine sliders) on a digit -> feature map and max-pooled map.

    Examples
    --------
    >>> kernel_explorer(preset="blur").state["kernel"][1][1] == 1 / 9
    True
    """
    controls = {"preset": dropdown(preset, list(explore.KERNELS), "preset"),
                "digit": slider(digit, 0, 99, 1, "digit #", integer=True)}
    cells = {f"k{i}{j}": slider(explore.KERNELS[preset][i][j], -10, 10, 0.1, f"k[{i},{j}]")
             for i in range(3) for j in range(3)}
    controls.update(cells)

    def compute(preset, digit, **k):
        return explore.kernel([[k[f"k{i}{j}"] for j in range(3)] for i in range(3)], digit)

    def with_preset(values):
        kernel = explore.KERNELS[values["preset"]]
        return {**values, **{f"k{i}{j}": kernel[i][j] for i in range(3) for j in range(3)}}

    explorer = Explorer(controls, compute, figures.kernel,
                        lambda s: f"feature map range [{s['feature_map'].min():.2f}, "
                                  f"{s['feature_map'].max():.2f}]",
                        name="kernel_explorer", complete=with_preset,
                        spec=Spec({"preset": list(explore.KERNELS), "digit": list(range(10))},
                                  grid=("preset",)))

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
    the Train / Step / Reset buttons call them. Changing a control starts a new
    ``nnlab.playground.Session`` (epoch 0). The static page shows each data set and
    activation after ``STATIC_EPOCHS`` epochs of training.
    """

    TRAIN_EPOCHS = 20
    STATIC_EPOCHS = 100

    def __init__(self, dataset="circles", noise=0.1, train_ratio=0.7, hidden_layers=2, units=8,
                 activation="tanh", lr=0.03, batch_size=16, l2=0.0, optimizer="adam", seed=0):
        self.seed = seed
        controls = {
            "dataset": dropdown(dataset, list(explore.PLAYGROUND_DATA), "data set"),
            "noise": slider(noise, 0, 0.5, 0.05, "noise", continuous=False),
            "train_ratio": slider(train_ratio, 0.1, 0.9, 0.1, "train ratio", continuous=False),
            "hidden_layers": slider(hidden_layers, 0, 4, 1, "hidden layers", integer=True,
                                     continuous=False),
            "units": slider(units, 1, 16, 1, "units per layer", integer=True,
                             continuous=False),
            "activation": dropdown(activation, ["tanh", "relu", "sigmoid", "linear"],
                                    "activation"),
            "lr": slider(lr, 1e-4, 1, 0.05, "learning rate", log=True, continuous=False),
            "batch_size": dropdown(batch_size, [1, 4, 16, 64], "batch size"),
            "l2": slider(max(l2, 1e-5), 1e-5, 0.1, 0.05, "L2 (weight decay)", log=True,
                          continuous=False),
            "optimizer": dropdown(optimizer, ["sgd", "momentum", "adam", "rmsprop"],
                                   "optimizer"),
        }
        self.buttons = {name: W.Button(description=name) for name in ("Train", "Step", "Reset")}
        self.buttons["Train"].on_click(lambda _: self.train(self.TRAIN_EPOCHS))
        self.buttons["Step"].on_click(lambda _: self.step())
        self.buttons["Reset"].on_click(lambda _: self.reset())
        spec = Spec({"dataset": list(explore.PLAYGROUND_DATA),
                     "activation": list(controls["activation"].options)},
                    grid=("dataset", "activation"))
        super().__init__(controls, self._new_session, self._draw_session, _playground_numbers,
                         name="playground", spec=spec,
                         note=f"The static page shows each network after {self.STATIC_EPOCHS} "
                              "epochs of training.")
        self.children = (*self.children[:1], W.HBox(list(self.buttons.values())),
                         *self.children[1:])

    def _new_session(self, **values):
        self.session = Session(seed=self.seed, **values)
        return self.session.summary()

    def _draw_session(self, state, session=None):
        session = session or self.session
        return figures.playground(session.model, session.data, session.history)

    @property
    def model(self):
        return self.session.model

    @property
    def data(self):
        return self.session.data

    @property
    def epoch(self):
        return self.session.epoch

    @property
    def history(self):
        return self.session.history

    def reset(self):
        """A fresh network and data set from the current controls; epoch 0."""
        self.update()
        return self

    def train(self, epochs=TRAIN_EPOCHS):
        """Train for ``epochs`` more epochs (in one chunk) and redraw."""
        self.session.train(epochs)
        self._show()
        return self

    def step(self):
        """One mini-batch update, and redraw."""
        self.session.step()
        self._show()
        return self

    def _show(self):
        with young_garbage():
            state = self.session.summary()
            diverged = self.session.stop_reason
            self.show_frame(state, self._draw(state), self._describe(state),
                            f"Training diverged: {diverged}." if diverged else "")

    def static_frame(self, values):
        """A fresh session with these settings, trained for ``STATIC_EPOCHS`` epochs."""
        session = Session(seed=self.seed, **values).train(self.STATIC_EPOCHS)
        state = session.summary()
        diverged = session.stop_reason
        return (state, self._draw_session(state, session), _playground_numbers(state),
                f"Training diverged: {diverged}." if diverged else "")


def _playground_numbers(s):
    return (f"epoch {s['epoch']}: train loss {s['train_loss']:.4f}, "
            f"test loss {s['test_loss']:.4f}, test accuracy {s['test_accuracy']:.3f}")


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
