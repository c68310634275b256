"""Static explorers: frames equal the live explorer, the markup tests rely on, the size limits."""

import base64
import io
import json
import math
import re
import sys
from pathlib import Path

import ipywidgets as W
import nbformat
import numpy as np
import pytest

from nnlab import plot, static, widgets
from nnlab.static import Spec
from tests.helpers import static_page_data

from .test_widgets import EXPLORERS

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
KB = 1024


def plain(value):
    """The numbers of a state as plain nested lists, dicts and floats (callables dropped)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if not callable(v)}
    if isinstance(value, list | tuple | np.ndarray):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def sample(settings):
    """The first and last settings and one moving each control, at most 8."""
    picked, moved = [settings[0], settings[-1]], set()
    for setting in settings:
        new = set(setting) - moved
        if new:
            moved |= new
            picked.append(setting)
    return picked[:8]


def test_settings_combine_the_grid_and_move_the_rest_one_at_a_time():
    spec = Spec({"a": [1, 2, 3], "b": ["x", "y"], "c": [0.0, 0.5]}, grid=("a", "b"))
    settings = list(static.settings(spec, {"a": 1, "b": "x", "c": 0.0, "other": 7}))
    assert len(settings) == 3 * 2 * 2
    assert settings[0] == {"a": 1, "b": "x"} and {"a": 3, "b": "y", "c": 0.5} in settings
    assert len({json.dumps(s, sort_keys=True) for s in settings}) == len(settings)


def test_the_current_value_is_always_offered():
    spec = Spec({"lr": [0.01, 1.0], "name": ["a", "b"]})
    assert spec.values("lr", 0.1) == [0.01, 0.1, 1.0]
    assert spec.values("name", "c") == ["c", "a", "b"]


def test_small_png_is_deterministic_and_small():
    explorer = widgets.forward_explorer()
    first, second = (static.small_png(explorer.frame(explorer.values())[1]) for _ in range(2))
    assert first == second and first[:4] == b"\x89PNG" and len(first) < 8 * KB


def test_small_png_keeps_every_line_color_of_the_book():
    from matplotlib.colors import to_rgb
    from PIL import Image

    from nnlab import explorer_figures

    explorer = widgets.optimizer_race(surface="rosenbrock", lr=0.001)
    image = Image.open(io.BytesIO(static.small_png(explorer.figure))).convert("RGB")
    used = {tuple(c) for c in np.asarray(image).reshape(-1, 3)}
    for name, color in explorer_figures.RACE_COLORS.items():
        assert tuple(round(255 * c) for c in to_rgb(color)) in used, name


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPLORERS)
def test_frames_equal_the_live_explorer(name):
    explorer = getattr(widgets, name)()
    current = explorer.values()
    settings = list(static.settings(explorer.spec, current))
    for setting in sample(settings):
        state, _, numbers, warning = explorer.static_frame(
            explorer._complete({**current, **setting}))
        live = getattr(widgets, name)()
        for control, value in setting.items():
            live.controls[control].value = value
        if name == "playground":
            live.train(live.STATIC_EPOCHS)
        assert plain(live.state) == plain(state), (name, setting)
        assert live.numbers.value == numbers
        assert (warning != "") == ("&#9888;" in live.warning.value)


def test_static_html_markup():
    explorer = widgets.kernel_explorer()
    page = explorer.static_html()
    assert page.startswith('<div class="nnlab-static" data-explorer="kernel_explorer">')
    assert page.count("<img ") == 1 and 'name="preset"' in page and 'type="range"' in page
    data = static_page_data(page)
    assert len(data["frames"]) == len(explorer.spec.vary["preset"]) * 10
    assert all(0 <= image < len(data["images"]) for image, _ in data["frames"].values())
    assert "http" not in re.sub(r"data:image/png;base64,[^\"]+", "", page)
    # A screen reader hears what the figure shows and the settings it shows it for (the
    # page's script rewrites the settings as the controls move: e2e/test_book.py).
    assert re.search(r'alt="([^"]*)"', page).group(1) == (
        "Four panels: the digit, the 3x3 kernel with its weights written in it, the feature "
        "map and the pooled map. Settings: preset vertical edges, digit number 0")
    # ... and a slider's value, not its position among the values the page offers.
    page = widgets.activation_explorer(weight=2.0).static_html()
    slider = re.search(r'<input type="range" name="weight"[^>]*>', page).group(0)
    assert 'value="5"' in slider and 'aria-valuetext="2"' in slider
    # The readout beside it shows the value; a screen reader hears it once, from the slider.
    assert re.search(r'name="weight".*?<output aria-hidden="true">2</output>', page)


def stored_static(path):
    """``(explorer name, html)`` of each static explorer stored in a chapter's outputs."""
    found = []
    for cell in nbformat.read(path, as_version=4).cells:
        for output in cell.get("outputs", []):
            page = output.get("data", {}).get("text/html", "")
            match = re.match(r'<div class="nnlab-static" data-explorer="(\w+)">', page)
            if match:
                found.append((match.group(1), page, cell.source))
    return found


def test_every_explorer_has_a_static_version_in_its_chapter():
    shown = {}
    for path in CHAPTERS:
        for name, _, source in stored_static(path):
            assert f"widgets.{name}(" in source
            shown[name] = path.name
    assert sorted(shown) == sorted(EXPLORERS)
    explorer_cells = [path.name for path in CHAPTERS
                      for cell in nbformat.read(path, as_version=4).cells
                      if cell.cell_type == "code" and "nl.widgets." in cell.source]
    assert len(explorer_cells) == len(shown), "an explorer cell lacks its static version"


def test_stored_frames_cover_every_move_the_page_allows():
    for path in CHAPTERS:
        for name, page, _ in stored_static(path):
            data = static_page_data(page)
            sizes = [len(_values(page, c["name"])) for c in data["controls"]]
            grid = [n for n, c in zip(sizes, data["controls"], strict=True) if c["grid"]]
            single = [n for n, c in zip(sizes, data["controls"], strict=True) if not c["grid"]]
            expected = math.prod(grid) * (1 + sum(n - 1 for n in single))
            assert len(data["frames"]) == expected, name
            defaults = [c["default"] for c in data["controls"]]
            assert ",".join(map(str, defaults)) in data["frames"], name


def _values(page, control):
    """The number of values a control offers in the page (range positions or options)."""
    block = re.search(rf'name="{control}"(.*?)</(label)>', page, re.S).group(1)
    top = re.search(r'max="(\d+)"', block)
    return range(int(top.group(1)) + 1) if top else re.findall(r"<option ", block)


def test_size_limits():
    # At the book's 80 dpi the frames take 4.4 MB in all, 0.7 MB on the largest page (at
    # 64 dpi, 3.4 MB, with tick labels 6 pixels high).
    total = 0
    for path in CHAPTERS:
        page = sum(len(html) for _, html, _ in stored_static(path))
        assert page <= 800 * KB, f"{path.name}: static explorers add {page // KB} KB"
        total += page
    assert total <= 5 * 1024 * KB


def test_frames_are_as_large_as_the_live_figure():
    explorer = widgets.forward_explorer()
    png = static.small_png(explorer.figure)
    width = int.from_bytes(png[16:20], "big")   # the PNG header's IHDR chunk
    assert width == round(explorer.figure.get_figwidth() * plot.STYLE["figure.dpi"]) == 480


def test_stored_images_are_small_palette_pngs():
    for path in CHAPTERS[1:3]:
        for _, page, _ in stored_static(path):
            for uri in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page)[:5]:
                png = base64.b64decode(uri)
                assert png[:8] == b"\x89PNG\r\n\x1a\n" and b"PLTE" in png[:100]
                assert b"tEXt" not in png and b"tIME" not in png


@pytest.mark.slow
def test_reexecuting_a_notebook_changes_no_bytes(tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from execute_notebooks import execute
    finally:
        sys.path.pop(0)
    path = tmp_path / "explorer.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from nnlab import widgets\nwidgets.kernel_explorer()")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    execute(path)
    first = path.read_bytes()
    execute(path)
    assert path.read_bytes() == first
    assert b'class=\\"nnlab-static\\"' in first and b"\"execution\":" not in first


def test_spec_follow_is_checked_when_the_spec_is_made():
    vary = {"loss": ["a", "b"], "p": [0.0, 0.5, 1.0]}
    Spec(vary, grid=("loss", "p"),
         follow={"p": ("loss", {"a": (0, 1, None), "b": (0.5, 1, 0.5)})})
    for follow, message in [
            ({"loss": ("p", {0.0: (0, 1, None)})}, "numeric"),
            ({"p": ("loss", {"a": (0, 1, None)})}, "no bounds for 'loss'"),
            ({"p": ("loss", {"a": (2, 3, None), "b": (0, 1, None)})}, "offer none"),
            ({"p": ("loss", {"a": (0, 1, 0.7), "b": (0, 1, None)})}, "start outside")]:
        with pytest.raises(ValueError, match=message):
            Spec(vary, follow=follow)


@pytest.mark.parametrize("grid", [(), ("loss",), ("p",)])
def test_spec_follow_needs_the_follower_and_its_leader_in_the_grid(grid):
    # Outside it, picking a leader value or the page's reset to the defaults asked for a frame
    # never made, or left the follower outside its leader's bounds (e2e/test_static_script.py).
    follow = {"p": ("loss", {"a": (0, 1, None), "b": (0.5, 1, 0.5)})}
    with pytest.raises(ValueError, match=r"'p' and its leader 'loss' must both be grid"):
        Spec({"loss": ["a", "b"], "p": [0.0, 0.5, 1.0]}, grid=grid, follow=follow)


@pytest.mark.parametrize("grid, follow, message", [
    # A KeyError 'b' from the first frame, and a raw unpack error, before.
    (("b",), {}, r"Spec.grid: \['b'\] must be among the varied controls \['loss', 'p'\]"),
    ((), {"p": ("b", {"a": (0, 1, None)})}, "the leader 'b' of 'p' must be among the varied"),
    ((), {"p": "loss"}, "'p' must map to a pair .*; got 'loss'"),
    ((), {"p": ("loss", {"a": (0, 1), "b": (0, 1, None)})},
     r"bounds of 'p' for 'loss' = 'a' must be \(low, high, start\); got \(0, 1\)"),
])
def test_spec_grid_and_follow_name_only_varied_controls(grid, follow, message):
    with pytest.raises(ValueError, match=message):
        Spec({"loss": ["a", "b"], "p": [0.0, 0.5, 1.0]}, grid=grid, follow=follow)


def test_render_refuses_frames_that_miss_a_setting():
    # A KeyError '0' before; the page would have offered a setting with no frame.
    spec, current = Spec({"a": [1, 2]}), {"a": 1}
    frames = [({"a": 1}, b"png", "one")]
    with pytest.raises(ValueError, match=r"got none for 1, the first \{'a': 2\}"):
        static.render("e", {"a": "a"}, spec, current, frames)
    with pytest.raises(ValueError, match=r"none for 2, the first \{'a': 1\}"):
        static.render("e", {"a": "a"}, spec, current, [])


@pytest.mark.parametrize("extra, message", [
    (({"b": 9}, b"p", "b"), r"setting \{'b': 9\} names \['b'\], which the page does not "
                            r"vary; it varies \['a'\]"),
    (({"a": 3}, b"p", "3"), r"setting \{'a': 3\} gives a=3, which is not one of its values "
                            r"\[1, 2\]"),
    (({"a": 2}, b"p", "2 again"), r"one frame per setting; got a second for \{'a': 2\}"),
])
def test_render_refuses_a_frame_for_a_setting_the_page_does_not_offer_or_a_second_one(
        extra, message):
    # Each of these replaced a real frame in silence: {"b": 9} became the opening frame.
    spec, current = Spec({"a": [1, 2]}), {"a": 1}
    frames = [({"a": 2}, b"png", "two"), extra, ({"a": 1}, b"png", "one")]
    with pytest.raises(ValueError, match=message):
        static.render("e", {"a": "a"}, spec, current, frames)


def test_render_refuses_values_that_share_a_label():
    # 0.1 + 0.2 beside 0.3 in the spec's own values: two slider positions labeled 0.3.
    # (A current value beside one of them takes its place: the test below.)
    spec, current = Spec({"a": [0.1 + 0.2, 0.3]}), {"a": 0.3}
    frames = [(s, b"png", "n") for s in static.settings(spec, current)]
    message = r"a's values .* must have distinct labels; got more than one labeled \['0.3'\]"
    with pytest.raises(ValueError, match=message):
        static.render("e", {"a": "a"}, spec, current, frames)
    labeled = Spec(spec.vary, labels={"a": {0.1 + 0.2: "0.1 + 0.2"}})
    assert "0.1 + 0.2" in static.render("e", {"a": "a"}, labeled, current, frames)


def test_a_static_frame_puts_its_warning_on_a_line_of_its_own():
    explorer = widgets.gradient_flow_explorer(depth=30)
    _, _, _, numbers = explorer._static_entry({}, explorer.values())
    assert re.search(r"[0-9]<br><span style=\"color:#9b2c33\">&#9888; Vanishing", numbers)


def test_the_playground_explains_its_buttons_live_and_its_frames_on_the_page():
    live = widgets.playground()
    notes = [part.value for part in live.children if isinstance(part, W.HTML)]
    assert any("Train runs 20 epochs, Step one mini-batch" in note for note in notes)
    (page,) = [page for name, page, _ in stored_static(ROOT / "book" / "10_training_mlp.ipynb")
               if name == "playground"]
    assert "Each network is shown after 100 epochs of training." in page
    assert "Train runs" not in page


def test_a_current_value_a_rounding_error_from_the_specs_takes_its_place():
    # 0.1 * 3 beside 0.3: two settings written alike; the page must show current's frame.
    spec = Spec({"lr": [0.1, 0.3, 1.0]})
    assert spec.values("lr", 0.1 * 3) == [0.1, 0.1 * 3, 1.0]
    explorer = widgets.learning_rate_explorer(lr=0.1 * 3, steps=5)
    page = explorer.static_html()
    assert page.count("&quot;0.3&quot;") == 1


def test_a_follower_starts_at_the_current_value_that_replaced_its_start():
    spec = Spec({"weight": ["a", "b"], "value": [-1.0, 0.3, 1.0]}, grid=("weight", "value"),
                follow={"value": ("weight", {"a": (-1.0, 1.0, 0.3), "b": (-1.0, 1.0, None)})})
    assert static._follow(spec, "value", {"weight": "a", "value": 0.1 + 0.2}) == \
        [0, [[0, 2, 1], [0, 2, None]]]
