"""The explorer base: controls, a figure and a line of numbers, kept in sync.

``nnlab.widgets`` builds each explorer from an ``Explorer``: the controls, a pure
``compute`` function from ``nnlab.explore``, a ``draw`` function from
``nnlab.explorer_figures`` and a ``describe`` function for the key numbers. The same three
functions give the live widget (in JupyterLab and Voila) and its static version for the
published book (``nnlab.static``). An explorer whose figure can be updated in place
(``redraw``) keeps the figure it shows and moves each new state into it.

Examples
--------
>>> from nnlab import explore, explorer_figures
>>> from nnlab.explorer import Explorer, slider
>>> e = Explorer({"bias": slider(-1.5, -3, 3, 0.1, "bias")},
...              lambda bias: explore.perceptron(bias=bias), explorer_figures.perceptron,
...              lambda s: f"errors: {s['errors']}")
>>> e.controls["bias"].value = 0.5
>>> e.numbers.value
'errors: 3'
"""

import contextlib
import functools
import gc
import html
import inspect
import numbers
import os

import ipywidgets as W
import numpy as np
from threadpoolctl import threadpool_limits

from nnlab import activations, plot, static
from nnlab._checks import check_number
from nnlab.static import Spec

# Dicts, not Layout and Style objects: each control builds its own from them, so that
# hiding one control (its layout.display) hides no other.
LAYOUT = {"width": "360px"}
#: A log slider's readout in d3's format, 3 digits (".3g" kept zeros there: "0.00100").
READOUT = ".3"
STYLE = {"description_width": "120px"}
#: When this environment variable is "1" (``make notebooks`` and the tests set it), an
#: explorer also carries its static HTML version, which the published book shows.
STATIC_ENV = "NNLAB_STATIC_EXPLORERS"


class ArgumentError(TypeError, ValueError):
    """An argument an explorer does not take: a TypeError, as Python's own for a function,
    and a ValueError, as every other bad input to nnlab."""


def takes_its_arguments(explorer, name=None):
    """``explorer`` (a function or class), whose error for an argument it does not take (an
    ``ArgumentError``, naming it ``name``, by default its own name) also lists those it
    does: explorers are called by hand, with names typed from memory.

    Examples
    --------
    >>> from nnlab.explorer import takes_its_arguments
    >>> @takes_its_arguments
    ... def gates(gate="and", w=1):
    ...     return gate
    >>> gates(gat="or")
    Traceback (most recent call last):
    nnlab.explorer.ArgumentError: gates got an unexpected keyword argument 'gat'; it takes: gate, w
    """
    signature = inspect.signature(explorer)
    name = name or explorer.__name__

    @functools.wraps(explorer)
    def checked(*args, **kwargs):
        try:
            signature.bind(*args, **kwargs)
        except TypeError as error:
            raise ArgumentError(f"{name} {error}; it takes: "
                                f"{', '.join(signature.parameters)}") from None
        return explorer(*args, **kwargs)
    return checked


def slider(value, low, high, step, description, log=False, integer=False, continuous=True,
           argument=None, base=10):
    """A labeled slider; ``log`` spaces it logarithmically (for learning rates, scales), in
    steps of ``step`` in the exponent of ``base`` (10 or 2).

    ``continuous=False`` updates once, when the slider is let go: for the explorers whose
    update takes longer than a moment (a training run, a large figure), so that dragging
    does not queue up one redraw per pixel. ``argument`` is the explorer's keyword for the
    initial ``value`` (when it is not the ``description``), named by the error if it is bad.
    """
    # ipywidgets would clamp a value out of range to the nearest end, in silence. The error
    # names what the caller wrote ("scale=20"), not the label on screen ("init scale").
    check_number(value, argument or description, low=low, high=high, integer=integer)
    if continuous and not log:
        check_on_a_step(value, low, step, argument or description)
    common = {"value": value, "description": description, "layout": LAYOUT, "style": STYLE,
              "continuous_update": continuous}
    if log:
        # log10 and log2 give whole exponents exactly (log(1e-3) / log(10) is not -3).
        exponent = {10: np.log10, 2: np.log2}[base]
        return W.FloatLogSlider(base=base, min=exponent(low), max=exponent(high), step=step,
                                readout_format=READOUT, **common)
    kind = W.IntSlider if integer else W.FloatSlider
    return kind(min=low, max=high, step=step, **common)


def check_on_a_step(value, low, step, name):
    """Refuse a value between two of a linear slider's steps: a browser's slider that updates
    as it moves (``continuous_update``) moves it to the nearest step as it is shown, and sends
    that back, in silence (w1=0.55 on steps of 0.1 became 0.6). One that updates when let go
    sends nothing until it is moved. A millionth of a step is rounding (float32's -2.7)."""
    position = (float(value) - low) / step
    if abs(position - round(position)) > 1e-6:
        below, above = (low + np.floor(position) * step, low + np.ceil(position) * step)
        raise ValueError(f"{name} must be on one of the slider's steps of {step:g} from "
                         f"{low:g} ({below:.10g} or {above:.10g} here); got {value!r}")


def dropdown(value, options, description, argument=None, resolve=None):
    """A labeled menu of ``options`` (values, or (label, value) pairs); ``argument`` as for
    ``slider``. A name is matched in any case, as the engine's ``get`` matches it; any other
    name is given to ``resolve``, if given, which returns the option it means or None: the
    engine's names for the menu's entries ("mse", "HeNormal") open it on that entry."""
    value = _choice(value, options, argument or description, resolve)
    return W.Dropdown(value=value, options=options, description=description, layout=LAYOUT,
                      style=STYLE)


def choice_slider(value, options, description, argument=None):
    """A labeled slider over a few ordered ``options``: sizes such as a batch's, which have
    no even step (1, 10, 50, 200). It updates when let go, as each value is a new run."""
    value = _choice(value, options, argument or description)
    return W.SelectionSlider(value=value, options=options, description=description,
                             layout=LAYOUT, style=STYLE, continuous_update=False)


def _choice(value, options, what, resolve=None):
    """The option that ``value`` names ("Adam" names "adam", NumPy's True names True, and
    ``resolve(value)`` the option it returns), or a ValueError listing them."""
    values = [o[1] if isinstance(o, tuple) else o for o in options]
    if isinstance(value, str) and value not in values:
        named = next((v for v in values if isinstance(v, str) and v.lower() == value.lower()),
                     None)
        if named is None and resolve is not None:
            with contextlib.suppress(ValueError):   # a name the engine does not know either
                named = resolve(value)
        value = named if named in values else value   # else the error names it as written
    match = next((v for v in values if value == v and _kind(value) == _kind(v)), None)
    if match is None:
        also = " (or another name nnlab gives one of them, such as Keras's)" if resolve else ""
        raise ValueError(f"{what} must be one of {', '.join(map(repr, values))}{also}; "
                         f"got {value!r}")
    return match


def _kind(value):
    """What sort of option ``value`` can be: True == 1, but a menu of True/False is not a menu
    of numbers; and 10.0 == 10, but no batch size, as 6.0 is no depth (``check_number``)."""
    if isinstance(value, bool | np.bool_):
        return "bool"
    return "integer" if isinstance(value, numbers.Integral) else "other"


def activation_entry(name):
    """An activation menu's entry for another name of the activation ("silu" -> "swish")."""
    return activations.get(name).name


class Explorer(W.VBox):
    """Controls, a figure and a line of numbers, kept in sync.

    ``compute(**values)`` returns the state (``compute`` is None for a subclass that
    overrides ``frame`` and ``_update``, as the playground's), ``draw(state)`` the figure and
    ``describe(state)`` the HTML line of key numbers; ``redraw(figure, old, new)``, if
    given, moves state ``new`` into the figure drawn for ``old`` and says whether it
    could (``nnlab.explorer_figures``). ``name`` and ``spec``
    (a ``nnlab.static.Spec``) describe the static version for the book;
    ``complete(values)`` sets the controls a static frame derives from others (a kernel
    preset sets the nine kernel sliders); live, ``follow`` links controls. ``note`` is
    shown under the explorer; ``static_note``, if given, instead of it on the static page
    (where, say, the playground has no buttons to explain). ``alt`` says what the figure
    shows, for a screen reader: the static image's alt text, followed by the settings shown
    (live, ipywidgets' Image has no alt text, and a tooltip would stop its view from being
    made: ipywidgets#3860).
    """

    def __init__(self, controls, compute, draw, describe, note="", name="", spec=None,
                 complete=None, static_note=None, redraw=None, alt=""):
        self.controls, self.name, self.spec, self.note = controls, name, spec, note
        self.alt = alt or f"The {name.replace('_', ' ') or 'explorer'}'s figure"
        self.static_note = note if static_note is None else static_note
        self._compute, self._draw, self._describe = compute, draw, describe
        self._redraw, self._shown = redraw, None   # the figure on show, if redraw updates it
        self._complete = complete or (lambda values: values)
        self.state, self._figure, self._held = {}, None, False
        self.image = W.Image(format="png", layout=W.Layout(max_width="100%"))
        self.numbers = W.HTML()
        self.warning = W.HTML()
        parts = [W.VBox(list(controls.values())), self.image, self.numbers, self.warning]
        if note:
            parts.append(W.HTML(f"<small>{note}</small>"))
        super().__init__(parts)
        for control in controls.values():
            control.observe(self._changed, names="value")
        self.update()

    def _changed(self, change):
        if not self._held:   # a leading control is setting others: it redraws once at the end
            self.update()

    def follow(self, leader, adjust):
        """Let control ``leader`` set other controls: on a change, ``adjust(new value)``.

        Whatever ``adjust`` sets, the explorer redraws once, when it is done, not once per
        control (a weight's own value, a loss's range of predictions). The static page has
        the same links: ``nnlab.static.Spec.follow``.
        """
        def changed(change):
            self._held = True
            try:
                adjust(change["new"])
            finally:
                self._held = False
            self.update()

        self.controls[leader].unobserve(self._changed, names="value")
        self.controls[leader].observe(changed, names="value")

    def values(self):
        """The controls' values by name; a ValueError for a number that is not finite."""
        values = {name: c.value for name, c in self.controls.items() if hasattr(c, "value")}
        for name, value in values.items():
            # A NaN set in code passes a slider's clamp (no bound compares with it), and
            # every number computed from it would be NaN.
            if isinstance(value, float) and not np.isfinite(value):
                raise ValueError(f"{name} must be a finite number; got {value!r}")
        return values

    def frame(self, values):
        """``(state, figure, numbers html, warning text)`` for these control values.

        A pure function of ``values``: the controls are not read or changed.
        """
        with np.errstate(all="ignore"):
            state = self._compute(**values)
            figure = self._draw(state)
        return state, figure, self._describe(state), state.get("warning", "")

    def update(self):
        """Recompute the state from the controls and redraw."""
        # The figure must be unreachable when this block ends.
        with young_garbage(), one_blas_thread():
            self._update()

    def _update(self):
        try:
            frame = self.frame(self.values()) if self._redraw is None else self._live_frame()
        except (ValueError, FloatingPointError, OverflowError) as exc:
            self.warning.value = warning_html(str(exc))
            return
        self.show_frame(*frame)

    def _live_frame(self):
        """``frame(values())``, its figure the one on show with the new state moved into it
        when ``redraw`` can do that, else drawn anew (and then kept for the next frame)."""
        with np.errstate(all="ignore"):
            state = self._compute(**self.values())
            shown, self._shown = self._shown, None   # forgotten if redraw fails half-way
            if shown is None or not self._redraw(shown, self.state, state):
                shown = self._draw(state)
            self._shown = shown
        return state, shown, self._describe(state), state.get("warning", "")

    def show_frame(self, state, figure, numbers, warning):
        """Show a frame: the figure's PNG, its numbers and its warning; keep its state."""
        self.state, self._figure = state, None
        self.show(figure)
        self.numbers.value = numbers
        self.warning.value = warning_html(warning)

    @property
    def figure(self):
        """The matplotlib Figure of the current state (None before a first frame).

        Drawn again when first asked for after an update: the explorer keeps the PNG it
        shows, not the figure it drew, so that ``young_garbage`` can free that figure right
        away. (One that redraws in place keeps the figure it shows, but gives out a figure
        of its own here, which the reader's code may change freely.)
        """
        if self._figure is None and self.state:
            with np.errstate(all="ignore"):
                self._figure = self._draw(self.state)
        return self._figure

    def show(self, figure):
        """Put the figure's PNG in the image, at its own pixel width (never wider than the page)."""
        self.image.value = plot.to_png(figure, dpi=plot.STYLE["figure.dpi"], compress_level=1)
        self.image.layout.width = f"{round(figure.get_figwidth() * plot.STYLE['figure.dpi'])}px"

    def static_frames(self):
        """The static version's frames: ``[(setting, state, png, numbers html)]``.

        One per setting of ``spec`` around the current control values, each
        computed by ``static_frame``, i.e. by the same code as the live explorer.
        """
        current = self.values()
        frames = []
        for setting in static.settings(self.spec, current):
            with young_garbage():   # each figure freed at once, as in the live explorer
                frames.append(self._static_entry(setting, current))
        return frames

    def _static_entry(self, setting, current):
        state, figure, numbers, warning = self.static_frame(
            self._complete({**current, **setting}))
        # The warning on a line of its own, as under the live explorer.
        line = f"<br>{warning_html(warning, STATIC_RED)}" if warning else ""
        return setting, state, static.small_png(figure), numbers + line

    def static_frame(self, values):
        """The frame the static page shows for ``values`` (the live ``frame``)."""
        return self.frame(values)

    def static_html(self):
        """The static explorer: HTML controls switching between ``static_frames()``."""
        current = self.values()
        labels = {name: c.description for name, c in self.controls.items()}
        option_labels = {name: {v: k for k, v in c.options}
                         for name, c in self.controls.items()
                         if isinstance(c, W.Dropdown) and isinstance(c.options[0], tuple)}
        # A log slider's values as its live readout writes them: 10 ** -0.05 as 0.891.
        readouts = {name: {v: format(v, READOUT + "g")
                           for v in self.spec.values(name, current[name])}
                    for name, c in self.controls.items()
                    if isinstance(c, W.FloatLogSlider) and name in self.spec.vary}
        spec = Spec(self.spec.vary, self.spec.grid,
                    {**option_labels, **readouts, **self.spec.labels}, self.spec.follow)
        frames = [(setting, png, numbers)
                  for setting, _, png, numbers in self.static_frames()]
        note = f"{static.describe(spec, labels)} {self.static_note}".strip()
        return static.render(self.name, labels, spec, current, frames, note, self.alt)

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        if self.spec is not None and os.environ.get(STATIC_ENV) == "1":
            bundle["text/html"] = self.static_html()
        return bundle


@contextlib.contextmanager
def young_garbage():
    """Pause Python's cyclic garbage collector for one redraw, then free its garbage.

    A matplotlib figure is a web of reference cycles (each artist points to its axes and
    figure, which point back), so only the cyclic collector frees it: a frame leaves
    2,400-11,600 objects of such garbage, nearly all of them its figure. Collected as
    usual, the collector's young passes during the redraw find the figure alive and
    promote it to the oldest generation; once dropped it waits there for a full
    collection, which ran about once in ten updates and took 40-180 ms (``gc.callbacks``):
    the explorers' slowest updates. Paused, every object of the frame is still in the youngest
    generation when the frame is done, and one ``gc.collect(0)`` (1-6 ms) frees the figure.
    (One that redraws in place keeps one figure, and draws anew only when its panels
    change.) A collector already paused (a nested update, or by the user) is left alone.

    Examples
    --------
    >>> import gc
    >>> from nnlab.explorer import young_garbage
    >>> with young_garbage():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect(0)


@contextlib.contextmanager
def one_blas_thread():
    """Let the matrix products of one update run on one thread.

    An explorer's products are small (at most a batch of 256 through 128 x 128 weights):
    a second thread saves nothing on an idle machine, and costs much on a busy one, where
    it waits for a core held by another process. On a 2-core machine kept busy by two
    other processes, the initialization explorer's update took 150-240 ms with two BLAS
    threads and 95-110 ms with one; idle, 62-64 ms with either.

    Examples
    --------
    >>> from nnlab.explorer import one_blas_thread
    >>> from threadpoolctl import threadpool_info
    >>> with one_blas_thread():
    ...     {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}
    {1}
    """
    # Each BLAS library loaded (NumPy's; SciPy, imported later, brings its own) is found
    # anew each time, in under a millisecond.
    with threadpool_limits(limits=1, user_api="blas"):
        yield


#: A warning's red, readable (contrast 4.5:1) where it appears: live, the notebook theme's
#: error color (JupyterLab and Voila set it, light or dark); in the book's static version,
#: always on a light panel, a dark red.
LIVE_RED, STATIC_RED = "var(--jp-error-color1, #c44e52)", "#9b2c33"


def warning_html(text, color=LIVE_RED):
    """``text`` as an HTML warning sign and message in ``color`` ("" for no warning)."""
    return f'<span style="color:{color}">&#9888; {html.escape(text)}</span>' if text else ""
