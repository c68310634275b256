"""What the static pages offer: the playground's and the race's controls and frames, and
values that the live controls can show too."""

import html
import json
import math
import re
from pathlib import Path

import ipywidgets as W
import pytest

from nnlab import static, surfaces, widgets
from nnlab.playground import PLAYGROUND_DATA

from .test_static import stored_static
from .test_widget_explorers import static_data
from .test_widgets import EXPLORERS

BOOK = Path(__file__).resolve().parents[1] / "book"
#: The controls the course asks the playground for, each offered on the static page.
PLAYGROUND_CONTROLS = ["dataset", "hidden_layers", "units", "activation", "lr", "batch_size",
                       "l2"]


def test_the_static_playground_offers_every_control_the_course_names():
    pg = widgets.playground()
    spec = pg.spec
    assert list(spec.vary) == PLAYGROUND_CONTROLS and spec.grid == ("dataset",)
    # Each chosen to show something: no hidden layer cannot bend the boundary, a rate too
    # small to get anywhere in 100 epochs, a penalty that flattens the network's answer.
    current = pg.values()
    assert 0 in spec.values("hidden_layers", current["hidden_layers"])
    assert 1e-4 in spec.values("lr", current["lr"]) and 0.1 in spec.values("l2", current["l2"])
    # Each data set, with each other control moving alone: 4 activations, one more value
    # of the five others.
    assert len(list(static.settings(spec, current))) == len(PLAYGROUND_DATA) * (1 + 3 + 5) == 45


def test_the_race_offers_groups_of_optimizers_each_on_every_surface():
    race = widgets.optimizer_race()
    spec, current = race.spec, race.values()
    assert spec.values("names", current["names"]) == [
        surfaces.OPTIMIZERS, ("SGD",), ("SGD", "momentum", "Nesterov"),
        ("AdaGrad", "RMSprop", "Adam")]
    assert spec.grid == ("surface",)
    assert len(list(static.settings(spec, current))) == 3 * (1 + 3 + 4) == 24


def test_a_static_race_of_one_group_races_that_group_alone():
    data, _ = static_data(widgets.optimizer_race(steps=10))
    page = widgets.optimizer_race(steps=10).static_html()
    options = re.search(r'<select name="names">(.*?)</select>', page).group(1)
    assert re.findall(r">([^<]+)</option>", options) == [
        "all six", "SGD", "SGD, momentum, Nesterov", "AdaGrad, RMSprop, Adam"]
    # Controls: names, lr (0.01, the third of five), surface; the SGD-alone frame.
    assert data["frames"]["1,2,0"][1].startswith("value - minimum reached: SGD ")
    assert "momentum" not in data["frames"]["1,2,0"][1]
    assert "Adam" in data["frames"]["3,2,0"][1] and "SGD" not in data["frames"]["3,2,0"][1]


@pytest.mark.parametrize("chapter, name, controls, frames", [
    ("10_training_mlp", "playground", PLAYGROUND_CONTROLS, 45),
    ("08_optimizers", "optimizer_race", ["names", "lr", "surface"], 24)])
def test_the_stored_pages_hold_these_frames(chapter, name, controls, frames):
    (page,) = [page for found, page, _ in stored_static(BOOK / f"{chapter}.ipynb")
               if found == name]
    data = json.loads(re.search(r'class="nnlab-frames">(.*?)</script>', page).group(1))
    assert [c["name"] for c in data["controls"]] == controls
    assert len(data["frames"]) == frames


def off_the_control(control, values):
    """The ``values`` the reader cannot set the live ``control`` to."""
    if isinstance(control, W.SelectMultiple):
        return [v for v in values if not set(v) <= set(control.options)]
    if hasattr(control, "options"):
        return [v for v in values
                if v not in [o[1] if isinstance(o, tuple) else o for o in control.options]]
    if isinstance(control, W.Checkbox):
        return [v for v in values if not isinstance(v, bool)]
    log = isinstance(control, W.FloatLogSlider)
    missed = []
    for value in values:
        position = math.log(value, control.base) if log else value
        steps = (position - control.min) / control.step
        if not (control.min - 1e-9 <= position <= control.max + 1e-9
                and math.isclose(steps, round(steps), abs_tol=1e-6)):
            missed.append(value)
    return missed

@pytest.mark.parametrize("name", EXPLORERS)
def test_every_static_value_is_one_the_live_control_can_show(name):
    # The page offered lr 0.9 and 1.1 where the live slider steps from 0.891 to 1 to 1.12.
    explorer = getattr(widgets, name)()
    spec, current = explorer.spec, explorer.values()
    for control, values in spec.vary.items():
        values = [v for v in values if v != current[control]]
        if control not in spec.follow:
            assert off_the_control(explorer.controls[control], values) == [], control
            continue
        leader, bounds = spec.follow[control]
        for lead, (low, high, _) in bounds.items():
            explorer.controls[leader].value = lead   # which sets its follower's slider
            offered = [v for v in values if low <= v <= high]
            assert off_the_control(explorer.controls[control], offered) == [], (control, lead)

def test_log_sliders_values_are_labeled_as_their_live_readouts():
    _, labels = static_data(widgets.learning_rate_explorer(steps=5))
    assert labels["lr"] == ["0.00316", "0.0316", "0.1", "0.316", "0.891", "1.12", "2"]
    _, labels = static_data(widgets.gradient_flow_explorer(depth=2))
    assert labels["init_scale"] == ["0.25", "0.5", "1", "2", "4"]


def test_the_note_under_a_static_explorer_says_what_its_frames_cover():
    labels = {"gate": "gate", "w1": "w1", "bias": "bias w0"}
    one = static.Spec({"gate": ["and", "or"], "bias": [-1.5, 0.5]}, grid=("gate",))
    assert static.describe(one, labels) == ("Precomputed frames: each gate, with bias w0 one "
                                            "at a time (moving one resets the others).")
    two = static.Spec({"gate": ["and", "or"], "w1": [0.0, 1.0]}, grid=("gate", "w1"))
    assert static.describe(two, labels) == "Precomputed frames: every combination of gate and w1."


def test_each_static_slider_has_one_position_per_value_it_has_frames_for():
    page = widgets.perceptron_explorer().static_html()
    sliders = re.findall(r'<input type="range" name="(\w+)" min="0" max="(\d+)" step="1" '
                         r'value="(\d+)" data-labels="([^"]*)"', page)
    assert [name for name, *_ in sliders] == ["w1", "w2", "bias"]
    for name, top, value, labels in sliders:
        labels = json.loads(html.unescape(labels))
        # The last position is the last value: one further would find no label, no frame.
        assert int(top) == len(labels) - 1, name
        assert 0 <= int(value) <= int(top)
