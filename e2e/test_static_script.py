"""The static explorers' script (nnlab/static_explorer.js) in Chromium, fast: small pages made
here with ``static.render``, whose frames each name their own setting, so that after every move
a reader makes the test can tell which frame the page shows and what it should show.

The book's pages hold the script as it was when their notebooks ran; these pages hold it as
it is now."""

import json

import pytest

from nnlab import static
from nnlab.static import Spec

#: Two grid controls (a menu and a slider), a follower in the grid whose bounds the menu sets,
#: and three controls that move one at a time: a slider, a menu with a label of its own and a
#: switch.
SPEC = Spec({"act": ["relu", "tanh", "linear"], "depth": [1, 2, 3],
             "w": [-2.0, -1.0, 0.0, 1.0, 2.0], "lr": [0.01, 0.1, 1.0],
             "opt": ["sgd", "adam", "rms"], "bias": [True, False]},
            grid=("act", "depth", "w"), labels={"opt": {"sgd": "plain SGD"}},
            follow={"w": ("act", {"relu": (0.0, 2.0, 1.0), "tanh": (-2.0, 2.0, None),
                                  "linear": (-2.0, 0.0, -1.0)})})
CURRENT = {"act": "tanh", "depth": 2, "w": 0.0, "lr": 0.1, "opt": "sgd", "bias": True}
LABELS = {"act": "activation", "depth": "depth", "w": "weight", "lr": "rate",
          "opt": "optimizer", "bias": "bias"}

STATE = """root => {
  const frame = s => JSON.parse(atob(s.split(",")[1]));
  const img = root.querySelector("img");
  const controls = [...root.querySelectorAll("input, select")].map(e => ({
    name: e.name, value: Number(e.value), min: e.min, max: e.max,
    output: e.tagName === "SELECT" ? null : e.parentElement.querySelector("output").textContent,
    valuetext: e.getAttribute("aria-valuetext"), listeners: Number(e.dataset.listeners)}));
  return {frame: frame(img.src), numbers: root.querySelector(".nnlab-static-numbers")
          .textContent, alt: img.alt, controls};
}"""
#: Counts the 'input' listeners each control gets: one, however many explorers the page holds.
COUNT = """const add = EventTarget.prototype.addEventListener;
EventTarget.prototype.addEventListener = function (type, ...rest) {
  if (type === "input" && this.dataset) this.dataset.listeners = (+this.dataset.listeners || 0) + 1;
  return add.call(this, type, ...rest);
};"""


def block(name, spec, current):
    """A static explorer whose frames' images and numbers are their whole settings' JSON."""
    def frame(setting):
        return json.dumps({"explorer": name, **current, **setting}, sort_keys=True)

    frames = [(s, frame(s).encode(), frame(s)) for s in static.settings(spec, current)]
    return static.render(name, {c: LABELS.get(c, c) for c in spec.vary}, spec, current, frames)


class Page:
    """A page of static explorers in Chromium, read and moved as a reader would."""

    def __init__(self, visit, tmp_path, *blocks):
        path = tmp_path / "page.html"
        path.write_text("<!doctype html><html><head><meta charset='utf-8'><title>static</title>"
                        f"</head><body>{''.join(blocks)}</body></html>", encoding="utf-8")
        self.v = visit(tmp_path.as_uri())
        self.v.context.add_init_script(COUNT)
        self.v.page.goto(path.as_uri(), wait_until="load")

    def root(self, name):
        return self.v.page.locator(f'.nnlab-static[data-explorer="{name}"]')

    def state(self, name="demo"):
        return self.root(name).evaluate(STATE)

    def press(self, name, control, key):
        self.root(name).locator(f'[name="{control}"]').press(key)

    def choose(self, name, control, position):
        self.root(name).locator(f'[name="{control}"]').select_option(str(position))


class Model:
    """What the page must do, from static.py's description: the controls' positions, a
    follower's bounds, and the reset when a setting has no frame."""

    def __init__(self, spec, current):
        self.spec, self.current = spec, current
        self.values = {c: spec.values(c, current[c]) for c in spec.vary}
        self.at = {c: self.values[c].index(current[c]) for c in spec.vary}
        self.bounds = {c: (0, len(v) - 1) for c, v in self.values.items()}
        for follower, (leader, _) in spec.follow.items():
            self.bounds[follower] = tuple(self.follow(follower, leader)[:2])

    def follow(self, follower, leader):
        return static._follow(self.spec, follower, self.current)[1][self.at[leader]]

    def setting(self):
        return {c: self.values[c][i] for c, i in self.at.items()}

    def has_frame(self):
        setting = self.setting()
        return any({**self.current, **s} == setting
                   for s in static.settings(self.spec, self.current))

    def move(self, control, position):
        self.at[control] = position
        for follower, (leader, _) in self.spec.follow.items():
            if leader == control:
                low, high, start = self.follow(follower, leader)
                self.bounds[follower] = low, high
                self.at[follower] = start if start is not None else min(
                    max(self.at[follower], low), high)
        if not self.has_frame():
            for c in self.spec.vary:
                if c not in self.spec.grid and c != control:
                    self.at[c] = self.values[c].index(self.current[c])

    def expected(self, name="demo"):
        shown = {c: static._label(self.spec, c, v) for c, v in self.setting().items()}
        return {"explorer": name, **self.setting()}, shown


def check(page, model, name="demo"):
    """The page shows the model's frame and says so: numbers, readouts, labels, alt text."""
    state = page.state(name)
    frame, shown = model.expected(name)
    assert state["frame"] == frame
    assert json.loads(state["numbers"]) == frame
    positions = {c["name"]: c["value"] for c in state["controls"]}
    assert positions == model.at
    for c in state["controls"]:
        if c["output"] is not None:   # a slider: its readout and what a screen reader says
            assert c["output"] == c["valuetext"] == shown[c["name"]]
            assert (int(c["min"]), int(c["max"])) == model.bounds[c["name"]], c["name"]
        assert c["listeners"] == 1, c["name"]
    subject = f"The {name}'s figure"
    assert state["alt"] == f"{subject}. Settings: " + ", ".join(
        f"{LABELS[c]} {shown[c]}" for c in model.spec.vary)
    assert page.v.errors == [] and page.v.failed == [] and page.v.outside == []


@pytest.fixture
def page(visit, tmp_path):
    return Page(visit, tmp_path, block("demo", SPEC, CURRENT))


def test_the_page_opens_on_the_current_setting(page):
    check(page, Model(SPEC, CURRENT))


def test_every_control_to_every_value_shows_its_frame(page):
    # From a setting off the defaults (relu, the weight at its start, a moved rate), each
    # control through all its values, left off its default for the next one to reset: keys
    # on sliders, choices in menus.
    model = Model(SPEC, CURRENT)
    moves = [("act", 0), ("lr", "End")]
    for control in SPEC.vary:
        count = len(model.values[control])
        if control in ("act", "opt", "bias"):
            moves += [(control, i) for i in [*range(count), 1]]
        else:
            moves += [(control, "End"), *[(control, "ArrowLeft")] * count, (control, "Home"),
                      (control, "ArrowRight"), (control, "End")]
    for control, how in moves:
        if isinstance(how, int):
            page.choose("demo", control, how)
            model.move(control, how)
        else:
            page.press("demo", control, how)
            low, high = model.bounds[control]
            at = {"End": high, "Home": low, "ArrowLeft": max(low, model.at[control] - 1),
                  "ArrowRight": min(high, model.at[control] + 1)}[how]
            if at != model.at[control]:   # a key that moves nothing sends no input event
                model.move(control, at)
        check(page, model)
    assert page.v.errors == []


def test_a_setting_without_a_frame_resets_the_others_moving_alone_not_the_moved_or_grid(page):
    def shown():
        state = page.state()
        return {k: v for k, v in state["frame"].items() if CURRENT.get(k) != v}, [
            c["value"] for c in state["controls"]]

    page.press("demo", "lr", "ArrowRight")              # lr 1: a frame of its own
    page.choose("demo", "act", 0)                       # the grid keeps lr where it is
    page.press("demo", "depth", "Home")
    assert shown() == ({"explorer": "demo", "act": "relu", "depth": 1, "w": 1.0, "lr": 1.0},
                       [0, 0, 3, 2, 0, 0])
    page.choose("demo", "bias", 1)                      # bias off and lr 1: no frame
    assert shown() == ({"explorer": "demo", "act": "relu", "depth": 1, "w": 1.0,
                        "bias": False}, [0, 0, 3, 1, 0, 1])
    page.choose("demo", "opt", 1)                       # a menu goes back too
    assert shown() == ({"explorer": "demo", "act": "relu", "depth": 1, "w": 1.0,
                        "opt": "adam"}, [0, 0, 3, 1, 1, 0])
    assert page.v.errors == []


def test_choosing_the_leader_bounds_the_follower_and_moves_it_to_its_start(page):
    w = page.root("demo").locator('[name="w"]')
    ends = "e => [e.min, e.max, e.value].map(i => JSON.parse(e.dataset.labels)[i])"
    assert w.evaluate(ends) == ["-2", "2", "0"]
    page.choose("demo", "act", 0)
    assert w.evaluate(ends) == ["0", "2", "1"]
    page.press("demo", "w", "End")
    page.choose("demo", "act", 1)   # no start: the value stays, inside the new bounds
    assert w.evaluate(ends) == ["-2", "2", "2"]
    page.press("demo", "w", "Home")
    page.choose("demo", "act", 0)
    assert w.evaluate(ends) == ["0", "2", "1"]
    page.press("demo", "w", "Home")   # the follower's own keys stop at its bounds
    assert w.evaluate(ends) == ["0", "2", "0"]
    page.choose("demo", "act", 2)   # a start outside the bounds it leaves
    assert w.evaluate(ends) == ["-2", "0", "-1"]
    assert page.v.errors == []


def test_explorers_on_one_page_move_alone(visit, tmp_path):
    # Two explorers with the same control names; each script runs over every explorer the
    # page holds so far, and sets each one up once.
    other = {**CURRENT, "act": "relu", "w": 2.0, "opt": "adam"}
    page = Page(visit, tmp_path, block("demo", SPEC, CURRENT), block("other", SPEC, other))
    models = {"demo": Model(SPEC, CURRENT), "other": Model(SPEC, other)}
    for each, model in models.items():   # the other's weight in relu's bounds from the start
        check(page, model, each)
    for name, control, position in [("other", "act", 1), ("demo", "opt", 2),
                                    ("other", "bias", 1), ("demo", "act", 0)]:
        page.choose(name, control, position)
        models[name].move(control, position)
        for each, model in models.items():
            check(page, model, each)
    page.press("other", "lr", "Home")
    models["other"].move("lr", 0)
    for each, model in models.items():
        check(page, model, each)
    assert page.v.errors == []


def test_a_dragged_slider_shows_each_frame_before_it_is_let_go(page):
    # While a reader drags, the browser sends 'input' at each position, 'change' only at the end.
    model = Model(SPEC, CURRENT)
    lr = page.root("demo").locator('[name="lr"]')
    for position in (0, 2):
        lr.evaluate(f"e => {{ e.value = {position}; e.dispatchEvent(new Event('input')); }}")
        model.move("lr", position)
        check(page, model)
    assert page.v.errors == []
