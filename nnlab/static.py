"""Static explorers: an explorer's frames computed ahead of time, for pages with no kernel.

A published book page has no Python behind it, so a live slider there can only
show the state stored when the chapter ran. A *static explorer* fixes that the
simple way: while the notebook executes, the explorer computes a frame (figure
and key numbers) for each setting of a few controls, with the very functions
that draw the live explorer, and writes them into one block of HTML. In the
page, some fifty lines of JavaScript (``static_explorer.js``, inlined) only pick
the frame that matches the controls; no formula is computed in the browser.

Which settings get a frame is described by a ``Spec``: the controls in
``grid`` take every combination of their values; each of the other varied
controls moves *one at a time* around the explorer's own values (moving one
puts the others back). That keeps the number of frames, and the page, small.

Examples
--------
>>> from nnlab import static
>>> spec = static.Spec(vary={"gate": ["and", "or"], "bias": [-1.5, -0.5]}, grid=("gate",))
>>> [s for s in static.settings(spec, {"gate": "and", "bias": -1.5, "w1": 1.0})]
[{'gate': 'and'}, {'gate': 'and', 'bias': -0.5}, {'gate': 'or'}, {'gate': 'or', 'bias': -0.5}]
"""

import base64
import html
import io
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.colors import to_rgb
from PIL import Image

from nnlab import plot

#: Frames are drawn at the size of the live figure and of the book's other figures (at 64 dpi,
#: to save bytes, their tick labels were 6 pixels high), with a small palette (about 5 KB
#: each): 64 colors (with 32, a grey digit took on the red and blue of the panels beside it).
DPI = plot.STYLE["figure.dpi"]
COLORS = 64
SCRIPT = (Path(__file__).with_name("static_explorer.js")).read_text()
LIVE = ("For the full explorer, every control live, open this chapter in JupyterLab "
        "(<code style=\"color:inherit\">make lab</code>) or with a launch button at the top "
        "of the page.")


@dataclass(frozen=True)
class Spec:
    """Which controls a static explorer offers, and at which values.

    Parameters
    ----------
    vary : dict
        Control name -> the values that get frames. The explorer's current value
        of each control is added when missing.
    grid : tuple of str
        The controls (among ``vary``) combined with each other in every way;
        the rest move one at a time.
    labels : dict
        Control name -> {value: label} for values whose label is not the default (a
        float as by ``:g``, a bool as on/off, a tuple's items joined by ", ").
    follow : dict
        Control name -> ``(leader, {leader value: (low, high, start)})``, for a control that
        another one sets, as ``Explorer.follow`` does live: while the leader has a value, the
        page offers this control's values from ``low`` to ``high`` only, and choosing that
        leader value moves it to ``start`` (``None``: to the nearest value offered). Both
        must be ``grid`` controls; frames are still computed for every value.
    """

    vary: dict
    grid: tuple = ()
    labels: dict = field(default_factory=dict)
    follow: dict = field(default_factory=dict)

    def __post_init__(self):
        # Refused here, not by the KeyError of the first frame that looks a control up.
        outside = [c for c in self.grid if c not in self.vary]
        if outside:
            raise ValueError(f"Spec.grid: {outside} must be among the varied controls "
                             f"{list(self.vary)}")
        # A follower must be a slider (its bounds are what the page changes), and every
        # value of its leader needs bounds that keep some of its values, and a start among them.
        for name, rule in self.follow.items():
            if not (isinstance(rule, tuple | list) and len(rule) == 2
                    and isinstance(rule[1], dict)):
                raise ValueError(f"Spec.follow: {name!r} must map to a pair (leader, {{leader "
                                 f"value: (low, high, start)}}); got {rule!r}")
            leader, bounds = rule
            if leader not in self.vary:
                raise ValueError(f"Spec.follow: the leader {leader!r} of {name!r} must be "
                                 f"among the varied controls {list(self.vary)}")
            values, leaders = list(self.vary.get(name, [])), list(self.vary[leader])
            if not values or not all(isinstance(v, int | float) for v in values):
                raise ValueError(f"Spec.follow: {name!r} must be a varied numeric control")
            if set(leaders) - set(bounds):
                raise ValueError(f"Spec.follow: {name!r} has no bounds for {leader!r} = "
                                 f"{sorted(set(leaders) - set(bounds), key=str)}")
            for value, bound in bounds.items():
                if not isinstance(bound, tuple | list) or len(bound) != 3:
                    raise ValueError(f"Spec.follow: the bounds of {name!r} for {leader!r} = "
                                     f"{value!r} must be (low, high, start); got {bound!r}")
                low, high, start = bound
                if not any(low <= v <= high for v in values) or start not in (None, *values):
                    raise ValueError(f"Spec.follow: the bounds ({low}, {high}, {start}) of "
                                     f"{name!r} offer none of its values {values}, or start "
                                     "outside them")
            # Only a follower in the grid with its leader has a frame for each of its values
            # under each leader value. Otherwise choosing a leader value, or the page's reset
            # to the defaults (which leaves the bounds as they are), would ask for a frame
            # never made (a TypeError in the page) or show a value outside the leader's bounds.
            if {name, leader} - set(self.grid):
                raise ValueError(f"Spec.follow: {name!r} and its leader {leader!r} must both "
                                 f"be grid controls; the grid is {list(self.grid)}")

    def values(self, name, current):
        """The values of control ``name``, including ``current``: in the spec's order, sorted
        if a numeric ``current`` is added (a non-numeric one comes first)."""
        values = list(self.vary[name])
        if current not in values:
            numeric = all(isinstance(v, int | float) and not isinstance(v, bool)
                          for v in [*values, current])
            # A value a rounding error from one of the spec's (0.1 * 3 beside 0.3) replaces
            # it: the page would write both alike, and the first frame must be current's.
            values = [v for v in values if not (numeric and math.isclose(v, current))]
            values = sorted([*values, current]) if numeric else [current, *values]
        return values


def settings(spec, current):
    """The settings that get a frame: dicts of the grid controls and of the one other varied
    control, if any, that differs from ``current``.

    Every combination of the ``grid`` controls, each with the other varied controls at their
    current values and then with one of them moved to each of its other values.
    """
    grid = [[(name, v) for v in spec.values(name, current[name])] for name in spec.grid]
    singles = [name for name in spec.vary if name not in spec.grid]
    for combination in itertools.product(*grid):
        base = dict(combination)
        yield base
        for name in singles:
            for v in spec.values(name, current[name]):
                if v != current[name]:
                    yield {**base, name: v}


def small_png(figure):
    """The figure as a small palette PNG: fixed dpi, no metadata, the same bytes every run.

    The palette holds the book's line colors (``plot.COLORS``) exactly, and fits its other
    entries to the image. Fitted alone, it gave the few pixels of thin lines away to large
    areas: in the optimizer race, SGD, momentum and Nesterov came out one grey-green.
    """
    image = Image.fromarray(plot.pixels(figure, DPI)).convert("RGB")
    fitted = COLORS - len(plot.COLORS)
    palette = Image.new("P", (1, 1))
    palette.putpalette([round(255 * c) for color in plot.COLORS for c in to_rgb(color)]
                       + image.quantize(fitted).getpalette()[:3 * fitted])
    image = image.quantize(palette=palette, dither=Image.Dither.NONE)
    out = io.BytesIO()
    image.save(out, format="png", optimize=True)
    return out.getvalue()


def render(name, controls, spec, current, frames, note="", subject=""):
    """The static explorer's HTML block.

    Parameters
    ----------
    name : str
        The explorer's function name (``data-explorer``).
    controls : dict
        Control name -> its label in the page.
    spec : Spec
    current : dict
        The explorer's control values: the frame shown first.
    frames : list of (setting, png bytes, numbers html)
        One per setting from ``settings(spec, current)``, in that order.
    note : str
        A line under the explorer (what the frames cover, how to go live).
    subject : str
        What the figure shows, the start of its alt text (by default, whose figure it is).
    """
    images, index = [], {}
    table = {}
    for setting, png, numbers in frames:
        key = _frame_key(spec, current, setting)
        if key in table:   # the later frame would hide the earlier one in silence
            raise ValueError(f"frames must hold one frame per setting; got a second for "
                             f"{setting}")
        uri = "data:image/png;base64," + base64.b64encode(png).decode()
        if uri not in index:
            index[uri] = len(images)
            images.append(uri)
        table[key] = [index[uri], numbers]
    # The page would offer a setting and find no frame for it.
    missing = [s for s in settings(spec, current) if _key(spec, current, s) not in table]
    if missing:
        example = {c: {**current, **missing[0]}[c] for c in spec.vary}
        raise ValueError(f"frames must hold a frame for every setting of settings(spec, "
                         f"current); got none for {len(missing)}, the first {example}")
    first = table[_key(spec, current, {})]
    data = {"controls": [{"name": c, "grid": c in spec.grid,
                          "default": spec.values(c, current[c]).index(current[c]),
                          **({"follow": _follow(spec, c, current)} if c in spec.follow else {})}
                         for c in spec.vary],
            "images": images, "frames": table}
    inputs = "".join(_control(c, controls[c], spec, current) for c in spec.vary)
    # The alt text says what the figure shows and with which settings; the page's script
    # keeps the settings part up to date as the controls move.
    subject = subject or f"The {name.replace('_', ' ')}'s figure"
    shown = ", ".join(f"{controls[c]} {_label(spec, c, current[c])}" for c in spec.vary)
    payload = json.dumps(data, separators=(",", ":"), sort_keys=True).replace("</", "<\\/")
    return (
        f'<div class="nnlab-static" data-explorer="{name}">'
        f'<div class="nnlab-static-controls">{inputs}</div>'
        f'<img src="{images[first[0]]}" alt="{html.escape(f"{subject}. Settings: {shown}")}" '
        f'data-subject="{html.escape(subject)}" style="max-width:100%;height:auto">'
        f'<div class="nnlab-static-numbers" aria-live="polite">{first[1]}</div>'
        f"<p><small>{note} {LIVE}</small></p>"
        f'<script type="application/json" class="nnlab-frames">{payload}</script>'
        f"<script>{SCRIPT}</script></div>"
    )


def _key(spec, current, setting):
    """The frame's key in the page: the position of each control's value among its values."""
    values = {**current, **setting}
    return ",".join(str(spec.values(c, current[c]).index(values[c])) for c in spec.vary)


def _frame_key(spec, current, setting):
    """``_key`` of a frame's setting, which may name only the varied controls, each at one
    of its values: any other setting would stand in the page for a setting it is not."""
    unknown = [c for c in setting if c not in spec.vary]
    if unknown:
        raise ValueError(f"a frame's setting {setting} names {unknown}, which the page "
                         f"does not vary; it varies {list(spec.vary)}")
    for c, v in setting.items():
        if v not in spec.values(c, current[c]):
            raise ValueError(f"a frame's setting {setting} gives {c}={v!r}, which is not "
                             f"one of its values {spec.values(c, current[c])}")
    return _key(spec, current, setting)


def _follow(spec, name, current):
    """``[leader's position, [[low, high, start] per leader value]]`` for a control that
    follows another (``Spec.follow``), as positions among the values each control offers."""
    leader, bounds = spec.follow[name]
    values = spec.values(name, current[name])
    rows = []
    for value in spec.values(leader, current[leader]):
        low, high, start = bounds[value]
        inside = [i for i, v in enumerate(values) if low <= v <= high]
        # The start's own value, or the current value that replaced it (``Spec.values``).
        near = None if start is None else min(range(len(values)),
                                              key=lambda i: abs(values[i] - start))
        rows.append([inside[0], inside[-1], near])
    return [list(spec.vary).index(leader), rows]


def _control(name, label, spec, current):
    values = spec.values(name, current[name])
    chosen = values.index(current[name])
    texts = [_label(spec, name, v) for v in values]
    # 0.1 + 0.2 beside 0.3 would be two settings the reader cannot tell apart.
    twice = sorted({t for t in texts if texts.count(t) > 1})
    if twice:
        raise ValueError(f"{name}'s values {values} must have distinct labels; got more than "
                         f"one labeled {twice}: drop near-equal values, or label them "
                         "(Spec.labels)")
    style = 'style="display:block;margin:0.2em 0"'
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        readouts = json.dumps(texts).replace('"', "&quot;")
        return (f'<label {style}>{html.escape(label)} '
                f'<input type="range" name="{name}" min="0" max="{len(values) - 1}" step="1" '
                f'value="{chosen}" data-labels="{readouts}" '
                f'aria-valuetext="{html.escape(texts[chosen])}" style="vertical-align:middle"> '
                # aria-valuetext already says the value: the <output>, a live region of its
                # own, would announce each move a second time.
                f'<output aria-hidden="true">{html.escape(texts[chosen])}</output></label>')
    options = "".join(f'<option value="{i}"{" selected" if i == chosen else ""}>'
                      f"{html.escape(t)}</option>" for i, t in enumerate(texts))
    return f'<label {style}>{html.escape(label)} <select name="{name}">{options}</select></label>'


def _label(spec, name, value):
    """How the page writes ``value`` of control ``name``: its label in the spec, or the value."""
    return spec.labels.get(name, {}).get(value, _text(value))


def _text(value):
    if isinstance(value, tuple):   # a choice of several, such as the optimizers that race
        return ", ".join(map(_text, value))
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:g}" if isinstance(value, float) else str(value)


def describe(spec, labels):
    """One line saying what the frames cover, e.g. for the note under the explorer."""
    grid = [labels[c] for c in spec.grid]
    singles = [labels[c] for c in spec.vary if c not in spec.grid]
    parts = []
    if len(grid) > 1:
        parts.append(f"every combination of {_join(grid)}")
    elif grid:
        parts.append(f"each {grid[0]}")
    if singles:
        parts.append(f"{_join(singles)} one at a time (moving one resets the others)")
    return "Precomputed frames: " + ", with ".join(parts) + "."


def _join(words):
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
