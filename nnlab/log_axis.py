"""Log-scaled axes that stay readable and quick to draw, for ``nnlab.plot``.

Losses and gradient norms span many powers of ten, so the chapters plot them on log axes.
matplotlib's defaults label such an axis poorly when it spans less than a decade, and draw
slowly when it spans many. Narrow panels side by side with linear axes over as wide a
range (an exploding network's activations) get ``short_ticks``.
"""

import numpy as np
from matplotlib.ticker import Formatter, LogFormatter, LogLocator, MaxNLocator, ScalarFormatter


def log_y(ax):
    """A log y axis. Over less than a factor of ten there is no power of ten to label, and
    matplotlib labels the minor ticks instead: here as plain numbers, which stay narrow."""
    ax.set_yscale("log")
    ax.yaxis.set_minor_locator(_MinorLogLocator())
    ax.yaxis.set_minor_formatter(_PlainLogFormatter(labelOnlyBase=False))


class _MinorLogLocator(LogLocator):
    """Minor log ticks (2, 3, ..., 9 times a power of ten) on an axis of three decades or less.

    Over more they merge into a grey band, eight ticks per decade (64 over eight decades;
    from nine on, matplotlib draws none itself), and matplotlib builds each as an object of
    its own at every draw: on a gradient-norm plot they took half of the time to draw it.
    """

    def __init__(self):
        super().__init__(subs="auto")

    def tick_values(self, vmin, vmax):
        # Decades as a difference of logarithms: the ratio overflows from 1e308 on (a curve
        # down to 1e-300 does it).
        if 0 < vmin < vmax and np.log10(vmax) - np.log10(vmin) > 3:
            return np.array([])
        return super().tick_values(vmin, vmax)


class _PlainLogFormatter(LogFormatter):
    """Log-axis labels as plain numbers from 1e-4 to 1e4: 0.6 and 88.05, not 6e-01 and
    8.805 x 10^1.

    Below 1 a label has three significant digits (0.0123), from 1 on it is matplotlib's
    (88.05, 3000); below 1e-4 and above 1e4 a label is written as the powers of ten
    labeled on the same axis are (2 x 10^-5, 4 x 10^72): "4e+72" beside "10^72" read as
    two notations. Ticks closer together than these digits tell (over 3.001 .. 3.002, say)
    get as many more digits as set their labels apart.
    """

    def _num_to_string(self, x, vmin, vmax):   # the hook LogFormatter's subclasses override
        if not 1e-4 <= x < 1e4:
            return _times_power_of_ten(x, 3)
        return f"{x:.3g}" if x < 1 else super()._num_to_string(x, vmin, vmax)

    def format_ticks(self, values):
        labels = super().format_ticks(values)
        shown = [label for label in labels if label]
        digits = 4
        # Only where two labels coincide: the labels of every wider view stay as they are.
        while len(set(shown)) < len(shown) and digits <= 17:
            labels = [self.fix_minus(f"{x:.{digits}g}" if 1e-4 <= x < 1e4
                                     else _times_power_of_ten(x, digits)) if label else ""
                      for x, label in zip(values, labels, strict=True)]
            shown = [label for label in labels if label]
            digits += 1
        return labels


def _times_power_of_ten(x, digits):
    """``x`` as matplotlib writes a power of ten on a log axis, with ``digits`` significant
    digits before it: 4 x 10^72, in mathtext."""
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    return rf"$\mathdefault{{{float(mantissa):g}\times10^{{{int(exponent)}}}}}$"


def short_ticks(axis, nbins=3):
    """At most ``nbins`` ticks on ``axis`` (``ax.xaxis``), kept a sixteenth of the axis away
    from its ends, with short labels: "2" and "4" over "x1e5" at the axis's end, not
    "200000" and "400000". A label centered on a tick at the end of a panel reaches into
    the next panel, or out of the figure. Of three ticks or more, every other one is left
    out where a label takes four characters or more: "0.25", "0.5" and "0.75" ran
    together."""
    axis.set_major_locator(_InnerLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10]))
    short_labels(axis)


def short_labels(axis):
    """Tick labels of four characters at most on ``axis``, sharing a power of ten where
    longer ones would be ("4" over "x1e4", not "40000"): a margin of fixed width holds them
    and the axis's label beside them. Ticks so close together that four characters cannot
    tell them apart (0.4998, 0.5, 0.5002) get matplotlib's own labels, longer."""
    axis.set_major_formatter(_SharedPower())


class _InnerLocator(MaxNLocator):
    """MaxNLocator's ticks, but none within a sixteenth of the view's width of either end."""

    def __call__(self):
        low, high = sorted(self.axis.get_view_interval())
        pad = (high - low) / 16
        ticks = [t for t in self.tick_values(low + pad, high - pad)
                 if low + pad <= t <= high - pad]
        labels = self.axis.get_major_formatter().format_ticks(ticks)
        if len(ticks) > 2 and max(len(label.lstrip(MINUS)) for label in labels) > 3:
            ticks = ticks[::2]   # every other one, from the first: at least two stay
        return ticks


class _SharedPower(Formatter):
    """Tick labels without an exponent, of four characters at most (and a minus sign)
    unless they would then be equal:
    where some would be longer ("2e23", "0.0025"), all share a power of ten, written once
    at the end of the axis, where matplotlib writes its offset ("2.5" over "x1e-3"). On a
    narrow panel longer labels are as wide as the space between three ticks: "0", "2e23"
    and "4e23" ran together."""

    def __init__(self):
        self.offset = ""

    def format_ticks(self, values):
        labels = [_short_number(x) for x in values]
        self.offset = ""
        sizes = np.abs(np.asarray(values, dtype=float))
        sizes = sizes[np.isfinite(sizes)]
        if sizes.size and any("e" in label or len(label.lstrip(MINUS)) > 4 for label in labels):
            power = int(np.floor(np.log10(sizes.max())))
            labels = [_short_number(x / 10.0 ** power) for x in values]
            self.offset = f"{TIMES}1e{power}".replace("-", MINUS)
        if len(set(labels)) < len(labels):
            # Ticks close together far from 0 (0.4998, 0.5, 0.5002) share their first three
            # digits: matplotlib's own formatter writes them apart, in full or from an offset.
            fallback = ScalarFormatter()
            fallback.set_axis(self.axis)
            labels = fallback.format_ticks(values)
            self.offset = fallback.get_offset()
        return labels

    def get_offset(self):
        return self.offset

    def __call__(self, x, pos=None):
        return _short_number(x)


MINUS, TIMES = "\N{MINUS SIGN}", "\N{MULTIPLICATION SIGN}"


def _short_number(x):
    text = f"{x:.3g}".replace("e+0", "e").replace("e+", "e").replace("e-0", "e-")
    return text.replace("-", MINUS)   # as matplotlib's own labels

