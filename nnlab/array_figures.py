"""Figures of arrays drawn as pictures: images in a grid (digits, filters, feature maps)
and a confusion matrix as a heat map with its counts. ``nnlab.plot`` offers both."""

import numpy as np

from nnlab._checks import check_number
from nnlab.book_figure import in_style, new_figure
from nnlab.figure_data import finite_limit


@in_style()
def confusion_matrix(cm, labels=None, ax=None, title=None):
    """A confusion matrix as a heat map with the counts written in: the color scale runs
    from 0 to the largest count, and counts above half of it are written white. A table of
    fractions (each row divided by its sum) is written to two decimals. ``labels`` names
    the classes (one per row), ``title`` heads the panel.

    Examples
    --------
    >>> nl.plot.confusion_matrix(np.array([[5, 1], [0, 4]])).axes[0].get_xlabel()
    'predicted class'
    """
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"plot.confusion_matrix draws a square table of counts, "
                         f"nnlab.metrics.confusion_matrix(y_true, y_pred); got shape {cm.shape}")
    labels = list(range(len(cm))) if labels is None else list(labels)
    if len(labels) != len(cm):
        raise ValueError(f"plot.confusion_matrix: {len(labels)} labels for {len(cm)} classes")
    # Larger than a plot: its counts are to be read, ten rows of them for the digits.
    ax = new_figure(height=4.6, width=4.9)[1][0, 0] if ax is None else ax
    fig = ax.figure
    # From 0, not from the smallest count, so that the counts written white (over half the
    # largest) sit on dark cells even in a table with no 0 (a weak classifier's).
    ax.imshow(cm, cmap="Blues", vmin=0)
    ax.grid(False)
    for (i, j), count in np.ndenumerate(cm):
        # A table of fractions (cm / cm.sum(axis=1, keepdims=True)) is shown to 2 decimals.
        text = np.format_float_positional(count, precision=2, trim="-")
        ax.text(j, i, text, ha="center", va="center", fontsize=10,
                color="white" if count > cm.max() / 2 else "black")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set(xlabel="predicted class", ylabel="true class", title=title or "")
    return fig


@in_style()
def image_grid(images, titles=None, ncols=8, cmap="gray_r", title=None, symmetric=False):
    """Images in a grid, e.g. digits, filters or feature maps: an (n, h, w) or (n, 1, h, w)
    array, or a list of images of shape (h, w) or (1, h, w), grey (or one channel).

    ``symmetric`` centers the color scale on 0 (for filters with signed weights). NaN and
    infinite pixels are left blank, and the color scale is that of the finite ones.

    Examples
    --------
    >>> len(nl.plot.image_grid(np.zeros((3, 8, 8))).axes)
    3
    """
    images = [np.asarray(im, dtype=float) for im in images]
    if not images or any(im.ndim < 2 or im.shape[:-2] not in ((), (1,)) for im in images) \
            or (titles is not None and len(titles) != len(images)):
        raise ValueError(f"image_grid draws a list, or an (n, h, w) or (n, 1, h, w) array, of "
                         f"images (h, w) or (1, h, w), one or more, and as many titles; got "
                         f"{len(images)} images of shapes {sorted({im.shape for im in images})}"
                         f" and {'no' if titles is None else len(titles)} titles")
    images = [im.reshape(im.shape[-2:]) for im in images]
    check_number(ncols, "image_grid ncols", low=1, integer=True)
    ncols = min(ncols, len(images))
    nrows = int(np.ceil(len(images) / ncols))
    fig, axes = new_figure(ncols, nrows, width=1.7 * ncols + 0.4, height=1.9)
    fig.set_figheight(nrows * ((fig.get_figwidth() - 0.4) / ncols + 0.2))   # square cells
    for ax in axes.flat[len(images):]:
        ax.set_visible(False)
    for k, (ax, im) in enumerate(zip(axes.flat, images, strict=False)):
        limit = finite_limit(im)
        ax.imshow(im, cmap="RdBu_r" if symmetric else cmap,
                  vmin=-limit if symmetric else None, vmax=limit if symmetric else None)
        ax.set_axis_off()
        if titles is not None:
            ax.set_title(str(titles[k]), fontsize=9)
    if title:
        fig.suptitle(title)
    return fig
