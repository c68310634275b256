"""The explorers' wiring, each checked against the engine function it should call with the
same settings: which control drives which argument, the defaults they open on, what each
readout shows, the ranges and update modes of the sliders, the image's width and the
warnings shown."""

import html
import inspect
import re
import struct

import ipywidgets as W
import pytest

from nnlab import explore, playground, surfaces, widgets
from nnlab.explorer import warning_html
from tests.widget_cases import as_json

#: Each explorer, the engine function it draws, and a setting of every control away from its
#: default, and of the two switches apart, so that a control wired to another argument shows.
WIRING = [
    (widgets.perceptron_explorer, explore.perceptron,
     {"w1": -0.5, "w2": 2.0, "bias": 0.7, "gate": "nand"}),
    (widgets.forward_explorer, explore.forward,
     {"w00": 1.5, "w01": -2.0, "w10": 0.3, "w11": 2.5}),
    (widgets.activation_explorer, explore.activation,
     {"name": "elu", "weight": -1.5, "bias": 0.8}),
    (widgets.initialization_explorer, explore.initialization,
     {"scheme": "he_normal", "scale": 2.0, "depth": 3, "activation": "relu"}),
    (widgets.learning_rate_explorer, explore.learning_rate,
     {"lr": 0.05, "steps": 12, "start": 2.5, "batch_size": 10}),
    (widgets.optimizer_race, explore.optimizer_race,
     {"names": ("momentum", "Adam"), "lr": 0.003, "surface": "saddle", "steps": 40}),
    (widgets.backprop_explorer, explore.backprop, {"weight": "w1_01", "value": 1.25}),
    (widgets.gradient_flow_explorer, explore.gradient_flow,
     {"depth": 4, "activation": "tanh", "init_scale": 0.5, "batchnorm": False,
      "residual": True}),
]


def engine_defaults(compute, names):
    """The defaults of ``compute``'s arguments ``names``."""
    return {name: p.default for name, p in inspect.signature(compute).parameters.items()
            if name in names}


@pytest.mark.parametrize(("make", "compute", "setting"), WIRING)
def test_an_explorer_opens_on_the_engine_s_defaults_and_passes_each_control_on(make, compute,
                                                                                setting):
    explorer = make()
    defaults = engine_defaults(compute, explorer.controls)
    # forward's and backprop's engine defaults are None: the worked example's weights.
    assert as_json(explorer.state) == as_json(compute(**defaults))
    assert sum(setting[name] == explorer.controls[name].value for name in setting) <= 1
    assert as_json(make(**setting).state) == as_json(compute(**setting))


def test_backprop_opens_on_the_chosen_weight_s_worked_example_value_and_then_follows_it():
    # backprop_explorer("w1_10") opened at w2_00's value (0.3 away): not chapter 9's numbers.
    e = widgets.backprop_explorer("w1_10")
    assert e.controls["value"].value == explore.lecture_weight("w1_10") == 0.6
    assert as_json(e.state) == as_json(explore.backprop("w1_10"))
    e.controls["value"].value = -1.0
    e.controls["weight"].value = "w2_01"   # moves the value to w2_01's, -0.3
    assert as_json(e.state) == as_json(explore.backprop("w2_01", -0.3))


def test_the_playground_opens_on_the_session_s_defaults_and_seed():
    pg = widgets.playground(seed=3)
    assert pg.values() == playground.DEFAULTS
    assert as_json(pg.state) == as_json(playground.Session(seed=3).summary())
    # Changing a control starts a session of the same seed again, at epoch 0.
    pg.controls["units"].value = 5
    assert as_json(pg.state) == as_json(playground.Session(seed=3, units=5).summary())


def test_the_playground_menus_offer_what_the_session_takes():
    controls = widgets.playground().controls
    assert controls["optimizer"].options == ("sgd", "momentum", "adam", "rmsprop")
    assert controls["dataset"].options == tuple(playground.PLAYGROUND_DATA)
    for name in controls["optimizer"].options:
        assert playground.Session(optimizer=name).settings["optimizer"] == name


# --- the readouts: each number is the engine's -----------------------------------------


def test_the_perceptron_table_gives_the_target_then_the_output_of_each_input():
    # AND's weights on OR: (0, 1) and (1, 0) are targets 1 with outputs 0.
    numbers = widgets.perceptron_explorer(gate="or").numbers.value
    s = explore.perceptron(gate="or")
    rows = re.findall(r"<tr><td>(\d)</td><td>(\d)</td><td>(\d)</td><td>(\d)</td></tr>", numbers)
    assert rows == [(str(a), str(b), str(t), str(p)) for (a, b), t, p
                    in zip(s["inputs"], s["targets"], s["predictions"], strict=True)]
    assert rows[1] == ("0", "1", "1", "0") and "<b>errors: 2</b>" in numbers


def test_the_forward_line_gives_the_loss_for_a_target_of_one():
    e = widgets.forward_explorer(w00=-1.0)
    s = explore.forward(w00=-1.0)
    # the worked example's squared error with y = 1: (1 - y_hat)^2
    assert s["loss"] == pytest.approx((1 - s["output"]) ** 2)
    assert e.numbers.value.endswith(f"output y&#770; = {s['output']:.4f} &nbsp; "
                                    f"loss (y = 1): {s['loss']:.4f}")


@pytest.mark.parametrize("lr", [0.05, 5.0])
def test_the_learning_rate_line_gives_the_final_loss_and_says_diverged(lr):
    s = explore.learning_rate(lr=lr)
    numbers = widgets.learning_rate_explorer(lr=lr).numbers.value
    steps = len(s["path"]) - 1
    assert numbers == (f"final loss {s['final_loss']:.4g} after {steps} steps"
                       + " (diverged)" * s["diverged"])
    assert s["diverged"] == (lr == 5.0)   # both readouts are seen


def test_the_race_line_gives_every_optimizer_s_distance_to_the_minimum_as_drawn():
    s = explore.optimizer_race(steps=20)
    numbers = widgets.optimizer_race(steps=20).numbers.value
    assert len(s["final"]) == 6
    minimum = surfaces.get(s["surface"]).minimum
    assert numbers == "value - minimum reached: " + ", ".join(
        f"{k} {v - minimum:.3g}" for k, v in s["final"].items())
    # On the saddle the line said -1 for five runs that the curves drew 1e-5 to 1e-30 apart.
    numbers = widgets.optimizer_race(surface="saddle", steps=200).numbers.value
    assert not re.search(r" -1(,|$)", numbers) and "AdaGrad 0," in numbers


# --- the controls: the ends of their ranges, and when they update ----------------------


@pytest.mark.parametrize(("make", "ranges"), [
    (widgets.learning_rate_explorer, {"steps": (1, 100, 1), "start": (-6, 6, 0.5)}),
    (widgets.optimizer_race, {"steps": (10, 500, 10)}),
    (widgets.gradient_flow_explorer, {"depth": (1, 30, 1)}),
    (widgets.initialization_explorer, {"depth": (1, 12, 1)}),
    (widgets.playground, {"hidden_layers": (0, 4, 1), "units": (1, 16, 1)}),
])
def test_a_slider_takes_each_end_of_its_range_and_no_further(make, ranges):
    e = make(**{name: high for name, (_, high, _) in ranges.items()})
    for name, (low, high, step) in ranges.items():
        control = e.controls[name]
        assert (control.min, control.max, control.step) == (low, high, step), name
        assert control.value == e.values()[name] == high   # not clamped
        for beyond in (low - step, high + step):
            with pytest.raises(ValueError, match=rf"^{name} must be in \[{low}, {high}\]"):
                make(**{name: beyond})


@pytest.mark.parametrize("make", [widgets.initialization_explorer,
                                  widgets.learning_rate_explorer, widgets.optimizer_race,
                                  widgets.gradient_flow_explorer, widgets.playground])
def test_a_slow_explorer_s_sliders_update_when_let_go(make):
    # Each update is a training run or a large figure: dragging would queue one per pixel.
    sliders = [c for c in make().controls.values()
               if isinstance(c, W.FloatSlider | W.IntSlider | W.FloatLogSlider
                             | W.SelectionSlider)]
    assert sliders and not any(c.continuous_update for c in sliders)


# --- what the explorer shows besides the readout ---------------------------------------


def png_width(data):
    """The pixel width in a PNG's header (its IHDR chunk)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">I", data[16:20])[0]


@pytest.mark.parametrize("make", [widgets.forward_explorer, widgets.optimizer_race])
def test_the_image_is_laid_out_at_the_png_s_own_width(make):
    e = make()
    assert e.image.layout.width == f"{png_width(bytes(e.image.value))}px"


def test_a_warning_is_shown_as_text_not_markup():
    assert warning_html("w < 0 & 'b'") == ('<span style="color:var(--jp-error-color1, '
                                           '#c44e52)">&#9888; w &lt; 0 &amp; &#x27;b&#x27;'
                                           '</span>')
    pg = widgets.playground()
    pg.seed = "x"
    pg.reset()
    assert "seed must be an integer; got &#x27;x&#x27;" in pg.warning.value


def test_each_figure_says_what_it_shows_to_a_screen_reader():
    # The static page's alt text. (Live, ipywidgets' Image has no alt text, and a tooltip
    # on it, which would be its title, stops its view: "Could not create a view", as its
    # JavaScript reads the description an Image does not have: ipywidgets#3860.)
    made = {name: getattr(widgets, name)() for name in widgets.__all__ if name[0].islower()}
    assert all(e.image.tooltip is None for e in made.values())
    alts = {name: e.alt for name, e in made.items()}
    assert len(set(alts.values())) == len(alts) >= 11   # one each, none shared
    generic = [name for name, alt in alts.items() if "figure" in alt or len(alt.split()) < 10]
    assert not generic, generic
    page = widgets.activation_explorer().static_html()
    assert html.unescape(re.search(r'alt="([^"]*)"', page).group(1)) == (
        f"{alts['activation_explorer']}. Settings: activation sigmoid, weight w 1, bias b 0")
