"""im2col: every receptive field of an image as a view, and its adjoint, col2im.

A convolution or a pooling layer computes one number per window of its input. Viewing
every window at once (NumPy's ``sliding_window_view`` does this without copying)
turns a convolution into a matrix product with the filters, and an average pool into
one mean per window. The backward pass scatters the gradient of each window back onto
the pixels it came from, one kernel offset at a time: for a fixed offset the windows
touch pixels that are all different (a strided slice of the input), so one vectorized
``+=`` adds them without collisions; windows overlap only across offsets, and those
are added one after another (9 steps for a 3x3 kernel, whatever the batch and image
size). ``_out_size`` counts the windows that fit along one axis, the output size of every
such layer.
"""

import itertools

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _out_size(n, k, s, p=0):
    """How many windows of size ``k``, ``s`` apart, fit along an axis of ``n`` padded by ``p``.

    The output size of a convolution or a pooling layer along that axis: the last window
    starts at ``(out - 1) * s`` and must end by ``n + 2p``, so windows that would stick
    out are dropped.

    Examples
    --------
    >>> from nnlab.im2col import _out_size
    >>> _out_size(8, 3, 1, p=1), _out_size(7, 2, 2)
    (8, 3)
    """
    return (n + 2 * p - k) // s + 1


def windows(x, kernel, stride):
    """im2col as a view: each receptive field of ``x``, ``(N, C, *spatial)``.

    Returns an array of shape ``(N, C, *out_spatial, *kernel)`` that shares
    memory with ``x``: ``windows(x, k, s)[n, c, i, j]`` is the k-by-k patch
    whose top left corner is pixel ``(i*s, j*s)``.
    """
    axes = tuple(range(2, x.ndim))
    view = sliding_window_view(x, kernel, axis=axes)
    every_stride = (slice(None, None, s) for s in stride)
    return view[(slice(None), slice(None), *every_stride)]


def col2im(dwin, x_shape, kernel, stride):
    """The adjoint of ``windows``: add each window's gradient onto its pixels.

    ``dwin`` has the shape of ``windows(x, kernel, stride)``. Windows overlap,
    so a pixel collects the gradient of every window that contains it. The
    loop runs over the kernel offsets (9 times for 3x3), never over pixels or
    samples.

    ``x_shape`` is the shape of the (padded) ``x`` that ``windows``
    viewed, ``kernel`` and ``stride`` are as there; the answer ``dx``
    has ``x_shape`` and ``dwin``'s dtype.
    """
    dx = np.zeros(x_shape, dtype=dwin.dtype)
    out = dwin.shape[2:2 + len(kernel)]
    for offset in itertools.product(*(range(k) for k in kernel)):
        target = tuple(slice(o, o + s * n, s)
                       for o, s, n in zip(offset, stride, out, strict=True))
        dx[(slice(None), slice(None), *target)] += dwin[(..., *offset)]
    return dx
