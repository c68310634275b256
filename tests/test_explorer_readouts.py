"""What the explorers' readouts and figures say about the state they show: the digit's name,
each hidden unit's activation, the misclassified inputs, the ends of a doubling slider."""

import numpy as np
import pytest
from matplotlib.collections import PathCollection

from nnlab import datasets, explore, explorer_figures, widgets


@pytest.mark.parametrize("digit", [0, 1, 7, 99])
def test_the_kernel_explorer_names_the_digit_it_shows(digit):
    images, labels = datasets.load_digits(as_images=True)
    s = explore.kernel("identity", digit=digit)
    assert np.array_equal(s["image"], images[digit][0] / 16.0)
    assert s["label"] == labels[digit]
    # The title over the digit's panel, which a learner reads as the answer.
    fig = explorer_figures.kernel(s)
    assert fig.axes[0].get_title() == f"digit ({labels[digit]})"


def test_the_forward_explorer_line_gives_each_hidden_units_activation():
    e = widgets.forward_explorer()
    h0, h1 = e.state["hidden"]
    assert f"{h0:.4f}" != f"{h1:.4f}"   # the worked example's two units differ
    assert e.numbers.value.startswith(f"hidden activations: {h0:.4f}, {h1:.4f} ")
    e.controls["w11"].value = -2.0   # moves hidden unit 1's activation only
    assert e.state["hidden"][0] == h0 and e.state["hidden"][1] != h1
    assert e.numbers.value.startswith(f"hidden activations: {h0:.4f}, "
                                      f"{e.state['hidden'][1]:.4f} ")


def test_the_perceptron_figure_rings_the_misclassified_inputs_thick():
    # AND's line on the OR gate: (0, 1) and (1, 0) should fire and do not.
    s = explore.perceptron(1.0, 1.0, -1.5, "or")
    assert s["errors"] == 2
    fig = explorer_figures.perceptron(s)
    rings = {tuple(c.get_offsets()[0]): c.get_linewidths()[0]
             for c in fig.axes[0].collections if isinstance(c, PathCollection)}
    assert len(rings) == 4
    for x, target, out in zip(s["inputs"], s["targets"], s["predictions"], strict=True):
        assert rings[tuple(np.array(x, dtype=float))] == (3 if target != out else 0.5), x
    assert fig.axes[0].get_title() == "OR: 2 misclassified (thick rings)"


@pytest.mark.parametrize("make, name", [(widgets.initialization_explorer, "scale"),
                                        (widgets.gradient_flow_explorer, "init_scale")])
def test_a_doubling_slider_spans_a_sixteenth_to_sixteen_and_keeps_its_ends(make, name):
    for end in (1 / 16, 16.0):
        slider = make(**{name: end}).controls[name]
        assert slider.base == 2
        assert (slider.base ** slider.min, slider.base ** slider.max) == (1 / 16, 16.0)
        assert slider.value == end   # not clamped into a narrower range in silence


def test_the_gradient_flow_line_gives_the_first_and_the_output_layers_norms():
    e = widgets.gradient_flow_explorer(depth=10, activation="sigmoid")
    norms = e.state["norms"]
    assert len(norms) == 11 and f"{norms[-1]:.3g}" != f"{norms[-2]:.3g}"
    assert e.numbers.value.startswith(
        f"gradient norm: first layer {norms[0]:.3g}, output layer {norms[-1]:.3g} "
        f"(first / output {norms[0] / norms[-1]:.3g}); ")
