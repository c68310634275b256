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

An explorer's arguments are its controls' first values, checked as the controls take them:
inside a slider's range and, for a linear slider that updates as it moves, on one of its
steps (``w1=0.55`` is refused on steps of 0.1: a browser's slider would show 0.6 and send
it back, in silence).

Examples
--------
>>> explorer = nl.widgets.perceptron_explorer(gate="xor")
>>> explorer.controls["bias"].value = 0.5
>>> explorer.state["errors"] >= 1
True
"""

import ipywidgets as W

from nnlab import activations, explore, initializers, surfaces
from nnlab import explorer_figures as figures
from nnlab._checks import check_bool
from nnlab.explorer import (
    LAYOUT,
    STATIC_ENV,
    STYLE,
    Explorer,
    activation_entry,
    choice_slider,
    dropdown,
    slider,
    takes_its_arguments,
)
from nnlab.figure_data import RACE_FLOOR, line_outside_view, race_values
from nnlab.kernel_explorer import kernel_explorer
from nnlab.loss_explorer import loss_explorer
from nnlab.playground_explorer import Playground, playground
from nnlab.static import Spec

__all__ = ["STATIC_ENV", "Explorer", "Playground", "activation_explorer", "backprop_explorer",
           "forward_explorer", "gradient_flow_explorer", "initialization_explorer",
           "kernel_explorer", "learning_rate_explorer", "loss_explorer", "optimizer_race",
           "perceptron_explorer", "playground"]


@takes_its_arguments
def perceptron_explorer(w1=1.0, w2=1.0, bias=-1.5, gate="and"):
    """Weights and bias of a perceptron over the truth table of a gate (AND, OR, NAND, XOR).

    Examples
    --------
    >>> nl.widgets.perceptron_explorer().state["errors"]
    0
    """
    controls = {"w1": slider(w1, -3, 3, 0.1, "w1"), "w2": slider(w2, -3, 3, 0.1, "w2"),
                "bias": slider(bias, -3, 3, 0.1, "bias w0", argument="bias"),
                "gate": dropdown(gate, list(explore.GATES), "gate")}

    def describe(s):
        w1, w2, bias = (f"{round(s[k], 4) + 0:g}" for k in ("w1", "w2", "bias"))  # no -0, 1e-16
        rows = "".join(f"<tr><td>{a}</td><td>{b}</td><td>{t}</td><td>{p}</td></tr>"
                       for (a, b), t, p in zip(s["inputs"], s["targets"], s["predictions"],
                                               strict=True))
        line = (f"decision line: {w1}&middot;x1 + {w2}&middot;x2 + ({bias}) = 0"
                if s["w1"] or s["w2"] else "no decision line: with w1 = w2 = 0 the output "
                "is the same for every input")
        if (s["w1"] or s["w2"]) and line_outside_view(s["w1"], s["w2"], s["bias"]):
            line += ", outside the plotted square: every input is on one side of it"
        return ("<table><tr><th>x1</th><th>x2</th><th>target</th><th>output</th></tr>"
                f"{rows}</table><b>errors: {s['errors']}</b> &nbsp; {line}")

    # Weights -1, 0, 1, biases between lattice points: each split of the inputs (all but XOR).
    spec = Spec({"gate": list(explore.GATES), "w1": [-1.0, 0.0, 1.0], "w2": [-1.0, 0.0, 1.0],
                 "bias": [-1.5, -0.5, 0.5, 1.5]}, grid=("gate", "w1", "w2", "bias"))
    return Explorer(controls, explore.perceptron, figures.perceptron, describe,
                    name="perceptron_explorer", spec=spec,
                    alt="The gate's four inputs as points in the plane (x1, x2), colored by the "
                        "perceptron's output, a thick ring where it is wrong, over the two "
                        "sides of the decision line")


@takes_its_arguments
def forward_explorer(*, w00=None, w01=None, w10=None, w11=None):
    """The hidden weights of the 2-2-1 worked example -> hidden activations and output.

    ``wjk`` (labeled w1_jk: layer 1's weight from input k to hidden unit j) defaults to
    the example's value (``nl.examples.W1_LECTURE``: w00 0.2, w01 -0.4, w10 0.6, w11 0.1).

    Examples
    --------
    >>> round(nl.widgets.forward_explorer().state["output"], 4)
    0.5694
    """
    weights = {"w00": w00, "w01": w01, "w10": w10, "w11": w11}
    defaults = explore.forward()["w1"]
    controls = {f"w{j}{k}": slider(defaults[j][k] if weights[f"w{j}{k}"] is None
                                    else weights[f"w{j}{k}"], -3, 3, 0.1,
                                    f"w1_{j}{k}", argument=f"w{j}{k}")
                for j in range(2) for k in range(2)}
    spec = Spec({name: [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0] for name in controls})
    return Explorer(controls, explore.forward, figures.forward,
                    lambda s: f"hidden activations: {s['hidden'][0]:.4f}, {s['hidden'][1]:.4f}"
                              f" &nbsp; output y&#770; = {s['output']:.4f}"
                              f" &nbsp; loss (y = 1): {s['loss']:.4f}",
                    name="forward_explorer", spec=spec,
                    note="w1_jk is the first layer's weight from input k to hidden unit j; "
                         "the inputs, the output unit's weights and the biases are the "
                         "worked example's.",
                    alt="The 2-2-1 network: each weight written on its connection, each bias "
                        "by its unit, the inputs and the activations in the units")


@takes_its_arguments
def activation_explorer(name="sigmoid", weight=1.0, bias=0.0):
    """One neuron a = g(w x + b): choose g, slide w and b; output and slope over x.

    Examples
    --------
    >>> nl.widgets.activation_explorer("relu").state["name"]
    'relu'
    """
    controls = {"name": dropdown(name, list(activations.NAMES), "activation", argument="name",
                                     resolve=activation_entry),
                "weight": slider(weight, -5, 5, 0.1, "weight w", argument="weight"),
                "bias": slider(bias, -5, 5, 0.1, "bias b", argument="bias")}

    def describe(s):
        i = len(s["x"]) // 2
        output, slope = (round(s[k][i], 4) + 0 for k in ("output", "derivative"))   # no -0
        # At a kink (SELU's, ReLU's) or a jump (step's), x = 0 shows one side's: give both.
        sides = explore.activation(s["name"], s["weight"], s["bias"], x=[-1e-9, 1e-9])
        left, right = (round(v, 4) + 0 for v in sides["derivative"])
        slopes = (f"slope {slope:.4f}" if abs(left - right) < 2e-4 else
                  f"slope {left:.4f} from the left, {right:.4f} from the right")
        before, after = sides["output"]
        if abs(after - before) > 1e-4:
            slopes = f"a jump from {before:.4f} to {after:.4f}, {slopes}"
        low, high = min(s["output"]), max(s["output"])
        # as many digits as tell the ends apart: tanh(-0.1 x - 5) is not [-1, -1]
        d = next((d for d in range(3, 18) if f"{low:.{d}g}" != f"{high:.{d}g}"), 3)
        return (f"at x = 0: output {output:.4f}, {slopes}; "
                f"output range [{low + 0:.{d}g}, {high + 0:.{d}g}]")

    spec = Spec({"name": list(explore.LECTURE_ACTIVATIONS),
                 "weight": [-2.0, -1.0, 0.0, 0.5, 1.0, 2.0, 4.0],
                 "bias": [-3.0, -1.5, 0.0, 1.5, 3.0]}, grid=("name",))
    return Explorer(controls, explore.activation, figures.activation, describe,
                    name="activation_explorer", spec=spec,
                    alt="The neuron's output g(wx + b), a solid curve, and its slope, a dashed "
                        "one, over x")


@takes_its_arguments
def initialization_explorer(scheme="glorot_uniform", scale=1.0, depth=6, activation="tanh"):
    """Initialization scheme, a scale on it, depth and activation -> histograms per layer
    (of six layers, evenly spaced from the first to the last, in a network deeper than six).

    Examples
    --------
    >>> len(nl.widgets.initialization_explorer(depth=4).state["stds"])
    4
    """
    controls = {"scheme": dropdown(scheme, [n for n in initializers.NAMES if n != "zeros"],
                                    "scheme", resolve=lambda n: initializers.get(n).__name__),
                "scale": slider(scale, 1 / 16, 16, 0.25, "init scale", log=True, base=2,
                                continuous=False, argument="scale"),   # 0.5 and 2 exactly
                "depth": slider(depth, 1, 12, 1, "depth", integer=True, continuous=False),
                "activation": dropdown(activation, ["tanh", "sigmoid", "relu", "linear"],
                                        "activation", resolve=activation_entry)}
    spec = Spec({"scheme": list(controls["scheme"].options), "depth": [2, 6, 12],
                 "scale": [0.5, 1.0, 2.0], "activation": ["tanh", "sigmoid", "relu"]},
                grid=("scheme",))

    def describe(s):
        # Both spreads: with sigmoid the first holds while the second vanishes.
        return "<br>".join(f"{what}: " + ", ".join(f"{v:.3g}" for v in s[key]) for what, key
                           in (("std per layer", "stds"), ("across inputs", "input_stds")))

    return Explorer(controls, explore.initialization, figures.initialization, describe,
                    name="initialization_explorer", spec=spec,
                    redraw=figures.initialization_redraw,
                    alt="Histograms of the activations of the hidden layers, one panel per "
                        "layer shown, from the first to the last")


#: The learning rates of the learning-rate explorer's static page: steps of its live slider
#: (powers of ten 0.05 apart), from timid to divergent, 0.891 and 1.12 on either side of
#: the full batch's limit, 0.990.
LR_STEPS = [10 ** e for e in (-2.5, -1.5, -1, -0.5, -0.05, 0.05, 0.3)]


@takes_its_arguments
def learning_rate_explorer(lr=0.1, steps=30, start=-4.0, batch_size=200):
    """Gradient descent on a two-parameter regression: learning rate, steps, start, batch.

    Examples
    --------
    >>> nl.widgets.learning_rate_explorer(lr=5.0).state["diverged"]
    True
    """
    controls = {"lr": slider(lr, 1e-3, 10, 0.05, "learning rate", log=True, continuous=False,
                             argument="lr"),
                "steps": slider(steps, 1, 100, 1, "steps", integer=True, continuous=False),
                "start": slider(start, -6, 6, 0.5, "start (w = b)", continuous=False,
                                argument="start"),
                "batch_size": choice_slider(batch_size, [1, 10, 50, 200], "batch size",
                                            argument="batch_size")}
    return Explorer(controls, explore.learning_rate, figures.learning_rate,
                    lambda s: f"final loss {s['final_loss']:.4g} after {len(s['path']) - 1} "
                              f"step{'s' * (len(s['path']) != 2)}"
                              + (" (diverged)" if s["diverged"] else ""),
                    redraw=figures.learning_rate_redraw, name="learning_rate_explorer", spec=Spec(
                        {"lr": LR_STEPS, "batch_size": [1, 10, 200]},
                        grid=("lr", "batch_size")),
                    alt="Left, gradient descent's path over the contours of the loss of (w, b), "
                        "a star at the minimum; right, the loss per step on a log scale")


#: The choices of optimizers on the race's static page (live, any set): all six, plain SGD,
#: the momentum family and the adaptive family. Each moves alone, as the rate does, on each
#: surface: 24 frames, where every group at every rate would take 60, about 1.2 MB of page.
RACE_GROUPS = [surfaces.OPTIMIZERS, surfaces.OPTIMIZERS[:1], surfaces.OPTIMIZERS[:3],
               surfaces.OPTIMIZERS[3:]]


@takes_its_arguments
def optimizer_race(names=surfaces.OPTIMIZERS, lr=0.01, surface="bowl", steps=200):
    """Optimizers racing on an ill-conditioned bowl, the Rosenbrock valley or a saddle.

    ``names``: one optimizer or several, each once, named in any case (``surfaces.race_names``).

    Examples
    --------
    >>> sorted(nl.widgets.optimizer_race(names=("SGD", "Adam"), steps=20).state["final"])
    ['Adam', 'SGD']
    """
    controls = {"names": W.SelectMultiple(value=surfaces.race_names(names),
                                          options=surfaces.OPTIMIZERS, description="optimizers",
                                          rows=6, layout=LAYOUT, style=STYLE),
                "lr": slider(lr, 1e-4, 0.1, 0.05, "learning rate", log=True, continuous=False,
                             argument="lr"),
                "surface": dropdown(surface, list(surfaces.NAMES), "surface"),
                "steps": slider(steps, 10, 500, 10, "steps", integer=True, continuous=False)}

    def describe(s):
        if not s["final"]:
            return "No optimizer selected: ctrl- or shift-click selects several."
        # What the curves show: the distance to the minimum, "0" where they meet its floor.
        gaps = race_values(s)[0]
        return "value - minimum reached: " + ", ".join(
            f"{k} {0 if g[-1] == RACE_FLOOR else g[-1]:.3g}" for k, g in gaps.items())

    # Rates half a decade apart, each a step of the live slider (powers of ten 0.05 apart).
    spec = Spec({"names": RACE_GROUPS, "lr": [10 ** e for e in (-3, -2.5, -2, -1.5, -1)],
                 "surface": list(surfaces.NAMES)}, grid=("surface",),
                labels={"names": {surfaces.OPTIMIZERS: "all six"}})
    return Explorer(controls, explore.optimizer_race, figures.optimizer_race, describe,
                    note="Adaptive methods use the slider's rate times a fixed factor "
                         "(AdaGrad, Adam x50; RMSprop x5): see nnlab.surfaces.LR_FACTORS. "
                         "A run at the minimum, to rounding, is drawn at 1e-30.",
                    redraw=figures.optimizer_race_redraw, name="optimizer_race", spec=spec,
                    alt="Left, each chosen optimizer's path over the contours of the surface; "
                        "right, each one's value minus the minimum per step, on a log scale")


@takes_its_arguments
def backprop_explorer(weight="w2_00", value=None):
    """One weight of the 2-2-1 example -> the loss curve and backprop's tangent.

    The value starts at the weight's value in the worked example (unless ``value`` is given),
    and choosing another weight moves it to that weight's: there the numbers are chapter 9's.

    Examples
    --------
    >>> e = nl.widgets.backprop_explorer()
    >>> round(e.state["gradient"], 5)
    -0.11086
    >>> e.controls["weight"].value = "w2_01"
    >>> e.controls["value"].value, round(e.state["gradient"], 5)
    (-0.3, -0.12895)
    """
    start = explore.lecture_weight(weight) if value is None else value
    controls = {"weight": dropdown(weight, list(explore.BACKPROP_WEIGHTS), "weight"),
                "value": slider(start, *explore.BACKPROP_RANGE, 0.05, "weight's value",
                                argument="value")}

    def describe(s):
        # The chain rule's names, then their values: "dC/dy_hat = -0.8613 x dy_hat/dz2 = ..."
        # read as equalities chained from one factor to the next.
        names = " &times; ".join(s["factors"])
        values = " &times; ".join(f"{v:.4f}" for v in s["factors"].values())
        # "&asymp;": the rounded factors' product can differ in its last digit (-0.11088).
        return (f"dC/d{s['weight']} = {names} = {values} &asymp; <b>{s['product']:.5f}</b> "
                f"(backprop {s['gradient']:.5f}, numerical {s['numerical']:.5f})")

    # Whole steps across the range, half steps near the worked example's values (all within
    # -0.4 and 0.6), and each weight's value there, where the page starts it.
    lecture = {w: explore.lecture_weight(w) for w in explore.BACKPROP_WEIGHTS}
    values = sorted({-3.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0, *lecture.values()})
    spec = Spec({"weight": list(explore.BACKPROP_WEIGHTS), "value": values},
                grid=("weight", "value"),
                follow={"value": ("weight", {w: (*explore.BACKPROP_RANGE, v)
                                             for w, v in lecture.items()})})
    explorer = Explorer(controls, explore.backprop, figures.backprop, describe,
                        redraw=figures.backprop_redraw,
                        note="Choosing a weight sets its value to the worked example's.",
                        name="backprop_explorer", spec=spec,
                        alt="The loss C as one weight varies, the dashed tangent at the "
                            "weight's value, whose slope backpropagation computes, and a "
                            "dotted line at the worked example's value")

    def lecture_value(name):
        controls["value"].value = lecture[name]

    explorer.follow("weight", lecture_value)
    return explorer


@takes_its_arguments
def gradient_flow_explorer(depth=10, activation="sigmoid", init_scale=1.0, batchnorm=False,
                           residual=False):
    """Depth, activation, init scale, batch norm and residual -> per-layer gradient norms.

    The plot ends with the output layer (tick "out"); the numbers give the first layer's norm,
    the output layer's, their ratio, and the smallest and largest over all layers.

    Examples
    --------
    >>> nl.widgets.gradient_flow_explorer(depth=30).state["warning"].startswith("Vanishing")
    True
    """
    controls = {"depth": slider(depth, 1, 30, 1, "depth", integer=True, continuous=False),
                "activation": dropdown(activation, ["sigmoid", "tanh", "relu", "elu"],
                                        "activation", resolve=activation_entry),
                # Powers of two (four steps a doubling): the static page's halves and
                # doublings are among its steps, as a base-10 slider's could not be.
                "init_scale": slider(init_scale, 1 / 16, 16, 0.25, "init scale", log=True,
                                     base=2, continuous=False, argument="init_scale"),
                "batchnorm": W.Checkbox(value=check_bool(batchnorm, "batchnorm"),
                                        description="batch norm"),
                "residual": W.Checkbox(value=check_bool(residual, "residual"),
                                       description="residual")}

    def describe(s):
        # Sizes as well as the ratio: every layer can explode (or vanish) at a ratio near 1.
        return (f"gradient norm: first layer {s['norms'][0]:.3g}, output layer "
                f"{s['norms'][-1]:.3g} (first / output {s['ratio']:.3g}); "
                f"all layers from {s['smallest']:.3g} to {s['largest']:.3g}")

    return Explorer(controls, explore.gradient_flow, figures.gradient_flow, describe,
                    name="gradient_flow_explorer", spec=Spec(
                        {"activation": list(controls["activation"].options),
                         "depth": [2, 5, 10, 20, 30], "init_scale": [0.25, 0.5, 1.0, 2.0, 4.0],
                         "batchnorm": [False, True], "residual": [False, True]},
                        grid=("activation",)),
                    alt="The norm of the gradient of each layer, from the first to the output "
                        "layer, on a log scale shaded where gradients explode or vanish")
