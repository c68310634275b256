"""Log-scaled axes that stay readable and quick to draw, for ``nnlab.plot``.

Losses and gradient norms span many powers of ten, so the chapters plot them on log axes.
matplotlib's defaults label such an axis poorly when it spans less than a decade, and draw
slowly when it spans many.
"""

import numpy as np
from matplotlib.ticker import LogFormatter, LogLocator


def log_y(ax):
    """A log y axis. Over less than a factor of ten there is no power of ten to label, and
    matplotlib labels the minor ticks instead: here as plain numbers, which stay narrow."""
    ax.set_yscale("log")
    ax.yaxis.set_minor_locator(_MinorLogLocator())
    ax.yaxis.set_minor_formatter(_PlainLogFormatter(labelOnlyBase=False))


class _MinorLogLocator(LogLocator):
    """Minor log ticks (2, 3, ..., 9 times a power of ten) on an axis of three decades or less.

    Over more they merge into a grey band, eight ticks per decade, and matplotlib builds
    each as an object of its own at every draw: the 64 of a gradient-norm plot over nine
    decades were half of the time to draw it.
    """

    def __init__(self):
        super().__init__(subs="auto")

    def tick_values(self, vmin, vmax):
        if 0 < vmin < vmax and vmax / vmin > 1e3:
            return np.array([])
        return super().tick_values(vmin, vmax)


class _PlainLogFormatter(LogFormatter):
    """Log-axis labels as plain numbers: 0.6 and 88.05, not 6e-01 and 8.805 x 10^1."""

    def _num_to_string(self, x, vmin, vmax):   # the hook LogFormatter's subclasses override
        return f"{x:.3g}" if x < 1 else super()._num_to_string(x, vmin, vmax)
