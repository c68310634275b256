"""Helpers shared by the test_widget modules: another valid value for a control, the
playground's training-only controls, a record of the figures an explorer draws, and a
state as JSON text."""

import json
import weakref


def another_value(control):
    """A valid value of ``control`` different from its current one."""
    if hasattr(control, "options") and not isinstance(control.value, tuple):
        values = [o[1] if isinstance(o, tuple) else o for o in control.options]
        return next(v for v in reversed(values) if v != control.value)
    if isinstance(control.value, tuple):
        return tuple(control.options[:2]) if control.value != tuple(control.options[:2]) \
            else tuple(control.options[2:4])
    if isinstance(control.value, bool):
        return not control.value
    if control.__class__.__name__ == "FloatLogSlider":
        up = control.value * 1.5
        return up if up <= control.base**control.max else control.value / 1.5
    step = (control.max - control.min) / 5
    if isinstance(control.value, int):
        step = max(1, round(step))
    up = control.value + step
    return up if up <= control.max else control.value - step


TRAINING_ONLY = ("lr", "batch_size", "l2", "optimizer")


def drawn_figures(explorer):
    """Record a weak reference to every figure ``explorer`` draws from now on."""
    refs, draw = [], explorer._draw

    def recording(*args, **kwargs):
        figure = draw(*args, **kwargs)
        refs.append(weakref.ref(figure))
        return figure

    explorer._draw = recording
    return refs


def as_json(state):
    """The state as JSON text, arrays as lists: it fails on anything but numbers and text."""
    return json.dumps(state, sort_keys=True, default=lambda array: array.tolist())
