"""The book's figures: their look (palette, style, sizes) and their rendering to PNG.

``nnlab.plot`` draws the chapters' figures on these: every one is a ``BookFigure``
from ``new_figure``, drawn to pixels by ``pixels`` and to PNG bytes by ``to_png`` (which
explorers and static pages use); ``nnlab.figure_data`` computes what they draw.
``nnlab.plot`` re-exports every name here, so ``nl.plot.COLORS`` and ``nl.plot.new_figure``
are the usual spelling.

Matplotlib reads its settings, ``matplotlib.rcParams``, whenever it makes a piece of a
figure (a legend takes its frame, a title its size) and again when it paints it. Every
function that makes or paints an nnlab figure (``new_figure``, ``pixels``, each figure of
``nnlab.plot`` and ``nnlab.explorer_figures``) is therefore decorated with ``in_style``: it
runs under matplotlib's own defaults with ``STYLE`` on top, and the previous settings come
back when it returns. A figure looks the same whatever a notebook or a matplotlibrc file
set; to change the look, change ``STYLE``. Code that adds to a figure itself (a legend of
its own, say) runs under the notebook's settings, unless it runs in ``with in_style():``.

Examples
--------
>>> fig, axes = nl.plot.new_figure(2)
>>> axes.shape, nl.plot.to_png(fig)[:4]
((1, 2), b'\x89PNG')
"""

import contextlib
import functools
import io

import matplotlib.style
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from PIL import Image

#: The palette: class 0, class 1, ... and the accents used for curves.
COLORS = ["#3b6fb6", "#e0823d", "#4a9b5b", "#c44e52", "#8c6bb1", "#8c8c8c", "#d5a021",
          "#1f9e9e", "#d16aa8", "#5a5a5a"]
#: Paths over grey contours: no grey, the first six distinct (mustard ~ orange, teal ~ green).
PATH_COLORS = [COLORS[i] for i in (0, 1, 2, 3, 4, 8, 7, 6)]
#: The look of every figure: matplotlib rcParams, over matplotlib's defaults (``in_style``).
STYLE = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "figure.dpi": 80,
    # Titles stay at the top of their axes (x tick labels are never above them); left to
    # place them, matplotlib measures every tick label again at each draw to find that out.
    "axes.titley": 1.0,
}


class BookFigure(Figure):
    """A matplotlib Figure that shows itself in a notebook as a PNG without pyplot.

    The PNG is drawn at twice ``STYLE``'s 80 dpi and comes with the width to show it at,
    that of 80 dpi: as large as an 80-dpi image on an ordinary screen, and
    sharp on a screen of two pixels per point (most laptops' and phones'), where an 80-dpi
    image is enlarged and blurred. JupyterLab and the book (MyST-NB) both take the width
    from the output's metadata. The PNG itself carries no metadata, so re-running an
    unchanged notebook stores the same bytes.
    """

    def _repr_png_(self):
        dpi = STYLE["figure.dpi"]
        # The width alone: a page that narrows the image keeps its proportions.
        return to_png(self, dpi=2 * dpi), {"width": round(self.get_figwidth() * dpi)}


@contextlib.contextmanager
def in_style():
    """Matplotlib's default settings with ``STYLE`` on top, for a block or a function.

    ``with in_style():`` runs a block in the book's look, ``@in_style()`` a function (see
    the module); the settings before come back at the end.

    Examples
    --------
    >>> import matplotlib
    >>> with nl.plot.in_style():
    ...     print(matplotlib.rcParams["legend.frameon"])
    False
    """
    with matplotlib.style.context(["default", STYLE]):
        yield


@in_style()
def new_figure(ncols=1, nrows=1, width=None, height=3.2, max_width=8.6):
    """A Figure with a grid of axes in the book's style; returns ``(fig, axes)``.

    ``height`` (inches) is that of a row. ``width`` defaults to 4.2 a column, and is at
    most ``max_width``, the book's
    text column (688 pixels at 80 dpi): a wider figure would be shrunk into the page, and
    its labels with it, where now the columns share the page's width."""
    width = min(width or 4.2 * ncols, max_width)
    fig = BookFigure(figsize=(width, height * nrows), dpi=STYLE["figure.dpi"],
                     layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)   # STYLE: no top/right spines, a grid
    return fig, axes


def fixed_layout(fig, left=0.6, bottom=0.5, right=0.15, top=0.3, gap=0.8):
    """Give a one-row figure fixed margins, in inches, instead of constrained layout.

    Constrained layout measures every tick label and title twice per draw, to fit
    the margins to them: a third to a half of a live explorer's redraw. An explorer
    whose labels keep to known sizes sets generous margins once instead (``gap``
    between panels); ``tests/test_widgets.py`` checks that no text leaves the
    figure or reaches into a neighboring panel over the explorer's settings.
    """
    if len({ax.get_subplotspec().rowspan.start for ax in fig.axes}) != 1:
        raise ValueError("fixed_layout lays out one row of panels; this figure has several")
    width, height = fig.get_size_inches()
    n = len(fig.axes)
    panel = (width - left - right - (n - 1) * gap) / n
    fig.set_layout_engine("none")
    for i, ax in enumerate(fig.axes):
        ax.set_position([(left + i * (panel + gap)) / width, bottom / height, panel / width,
                         (height - bottom - top) / height])
    return fig


@in_style()
def pixels(fig, dpi=80):
    """The figure drawn at ``dpi``: an (height, width, 4) uint8 RGBA array.

    ``savefig`` draws a figure that has a layout engine twice: once, painting
    nothing, to lay it out, then again to paint. Drawing the canvas lays out and
    paints in one pass: the same pixels, a fifth sooner, which a live explorer
    redrawing after every slider move feels.
    """
    original_dpi, original_canvas = fig.dpi, fig.canvas
    canvas = _Canvas(fig)
    fig.set_dpi(dpi)
    try:
        canvas.draw()
        return np.array(canvas.buffer_rgba())
    finally:
        fig.set_dpi(original_dpi)
        fig.set_canvas(original_canvas)


class _Canvas(FigureCanvasAgg):
    """An Agg canvas that paints on a kept renderer of its size.

    Matplotlib caches the size of each piece of text per renderer. A new figure
    gets a new renderer, so every frame of an explorer measured its tick labels,
    titles and legend entries afresh; on a kept renderer, text that stays the same
    from one frame to the next is measured once.
    """

    def get_renderer(self):
        width, height = self.get_width_height(physical=True)
        self.renderer = _renderer(width, height, self.figure.dpi)
        return self.renderer


@functools.lru_cache(maxsize=8)
def _renderer(width, height, dpi):
    return RendererAgg(width, height, dpi)


def to_png(fig, dpi=80, compress_level=6):
    """The figure as PNG bytes, with no metadata, so equal figures give equal bytes.

    ``compress_level`` is zlib's, 0-9: a live explorer uses 1, about twice as fast to
    encode as 6 and, on these flat-colored figures, hardly larger.
    """
    buffer = io.BytesIO()
    Image.fromarray(pixels(fig, dpi)).save(buffer, format="png", dpi=(dpi, dpi),
                                           compress_level=compress_level)
    return buffer.getvalue()
