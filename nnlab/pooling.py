"""Pooling layers, channels first: (N, C, L) and (N, C, H, W).

A pooling layer summarizes each window of its input by one number: the maximum
(``MaxPool1D``, ``MaxPool2D``, ``GlobalMaxPool1D``) or the mean (``AvgPool2D``). It has
no parameters; its backward pass sends each window's gradient back to the pixel that
was the maximum, or spreads it evenly over the window. The mean takes the windows of
the convolution (``im2col.windows``) and its backward is ``im2col.col2im``; the maximum
takes strided slices of the input (see ``_MaxPool``), several times faster.
"""

import itertools

import numpy as np

from nnlab._checks import int_tuple
from nnlab.im2col import _out_size, col2im, windows
from nnlab.layer_base import Layer


class _Pool(Layer):
    """Pooling over ``ndim`` spatial dimensions; windows that do not fit are dropped."""

    ndim = 2

    def __init__(self, pool_size, stride=None):
        super().__init__()
        name = type(self).__name__
        self.pool_size = int_tuple(pool_size, self.ndim, f"{name} pool_size", low=1)
        self.stride = (self.pool_size if stride is None
                       else int_tuple(stride, self.ndim, f"{name} stride", low=1))

    def _windows(self, x, training):
        x = self._check_input(x, ndim=2 + self.ndim, training=training)
        self.x_shape = x.shape
        win = windows(x, self.pool_size, self.stride)
        return win.reshape(*win.shape[:2 + self.ndim], int(np.prod(self.pool_size)))

    def output_shape(self, input_shape):
        if len(input_shape) != 1 + self.ndim:
            raise ValueError(f"{self!r} expected samples of shape (C{', ?' * self.ndim}); "
                             f"got {tuple(input_shape)}")
        c, *spatial = input_shape
        if any(n < k for n, k in zip(spatial, self.pool_size, strict=True)):
            raise ValueError(f"{self!r}: input of spatial size {tuple(spatial)} is smaller "
                             f"than the pool {self.pool_size}")
        out = (_out_size(n, k, s) for n, k, s in zip(spatial, self.pool_size, self.stride,
                                                     strict=True))
        return (c, *out)

    def get_config(self):
        return {"pool_size": list(self.pool_size), "stride": list(self.stride)}


class _MaxPool(_Pool):
    """Max pooling over ``ndim`` spatial dimensions (MaxPool1D, MaxPool2D).

    The windows' maxima are computed as the maximum of strided slices of the input:
    ``x[..., u::s, v::s]`` holds the (u, v) element of every window. That is the textbook
    max over each window, vectorized across windows; measured here it is 5x faster than
    reducing over the window axes of a window view. The forward pass takes the maximum
    one axis at a time (the max of a rectangle is the max over its rows of each row's
    max): first down the rows, whose slices keep whole image rows contiguous in memory,
    then along them, on an array already about s_h times smaller (s_h, the rows' stride).
    """

    def _slices(self, out):
        for offset in itertools.product(*(range(k) for k in self.pool_size)):
            yield (..., *(slice(o, o + s * (n - 1) + 1, s)
                          for o, s, n in zip(offset, self.stride, out, strict=True)))

    def forward(self, x, training=False):
        """x (N, C, L) -> y (N, C, L'), or (N, C, H, W) -> (N, C, H', W'): windows' maxima."""
        # Textbook form: y = windows(x, pool_size, stride).max(axis=(-2, -1)) (in 1-D,
        # axis=-1), the same numbers; the slices below are faster (see the class docstring).
        x = self._check_input(x, ndim=2 + self.ndim, training=training)
        self.x = y = x
        for axis, (k, s) in enumerate(zip(self.pool_size, self.stride, strict=True), start=2):
            n = _out_size(y.shape[axis], k, s)
            parts = [y[(slice(None),) * axis + (slice(u, u + s * (n - 1) + 1, s),)]
                     for u in range(k)]
            y = parts[0].copy() if k == 1 else np.maximum(parts[0], parts[1])
            for part in parts[2:]:
                np.maximum(y, part, out=y)   # NaN propagates, as in PyTorch
        self.y = y
        return y

    def backward(self, dy):
        """dy of the output's shape -> dL/dx of x's: each window's gradient to its maximum."""
        # Textbook form: each window's dy goes to the argmax of its (flattened) window of
        # windows(x, pool_size, stride), and col2im adds those back onto x. The same numbers,
        # but for a window holding NaN: argmax picks its first NaN, this loop its last element.
        # Each window sends dy to the first position (row-major) holding its maximum, as
        # PyTorch does with ties (after a ReLU, all-zero windows are common);
        # ``unserved`` marks the windows whose maximum is still to be found. The last
        # position needs no comparison: it serves every window still unserved (a window
        # whose maximum is NaN, equal to nothing, sends its gradient there).
        dy = self._check_grad(dy)
        tiled = self.stride == self.pool_size   # windows do not overlap: write, not add
        # Windows that tile the whole input write every element of dx below, zero or not.
        whole = tiled and all(n % k == 0 for n, k in zip(self.x.shape[2:], self.pool_size,
                                                         strict=True))
        dx = (np.empty if whole else np.zeros)(self.x.shape, dtype=dy.dtype)
        unserved = np.ones(self.y.shape, dtype=bool)
        parts = list(self._slices(self.y.shape[2:]))
        for i, part in enumerate(parts):
            if i < len(parts) - 1:
                winner = np.equal(self.x[part], self.y)
                winner &= unserved
                unserved ^= winner
            else:
                winner = unserved
            if tiled:
                np.multiply(dy, winner, out=dx[part])
            else:
                dx[part] += dy * winner
        return dx


class MaxPool2D(_MaxPool):
    r"""Max pooling: each window is replaced by its largest value.

    (N, C, H, W) -> (N, C, H', W'):

    .. math:: y[n, c, i, j] = \max_{u < k_h,\, v < k_w} x[n, c, i s_h + u, j s_w + v],
              \qquad H' = (H - k_h) // s_h + 1.

    Windows that do not fit entirely are dropped (floor mode, as PyTorch's
    default and Keras' ``padding="valid"``). The gradient flows only to the
    position of the maximum (the first one, as in PyTorch, when there are ties).

    Parameters
    ----------
    pool_size : int or pair of int
        The window (k_h, k_w).
    stride : int or pair of int, optional
        The step between windows; ``None`` means ``pool_size`` (windows that tile).

    Examples
    --------
    >>> nl.MaxPool2D(2).forward(np.arange(16.0).reshape(1, 1, 4, 4))
    array([[[[ 5.,  7.],
             [13., 15.]]]])
    """

    ndim = 2


class AvgPool2D(_Pool):
    r"""Average pooling: each window is replaced by its mean.

    (N, C, H, W) -> (N, C, H', W'):

    .. math:: y[n, c, i, j] = \frac{1}{k_h k_w} \sum_{u < k_h,\, v < k_w}
              x[n, c, i s_h + u, j s_w + v].

    Same parameters and output size as ``MaxPool2D``; every input of a window
    receives an equal share, 1/(k_h k_w), of that window's gradient.

    Examples
    --------
    >>> nl.AvgPool2D(2).forward(np.arange(16.0).reshape(1, 1, 4, 4))
    array([[[[ 2.5,  4.5],
             [10.5, 12.5]]]])
    """

    ndim = 2

    def forward(self, x, training=False):
        """x (N, C, H, W) -> y (N, C, H', W'): the windows' means."""
        return self._windows(x, training).mean(axis=-1)

    def backward(self, dy):
        """dy (N, C, H', W') -> dL/dx (N, C, H, W): a window's dy spread evenly."""
        dy = self._check_grad(dy)
        size = int(np.prod(self.pool_size))
        dwin = np.broadcast_to((dy / size)[..., None, None],
                               (*dy.shape, *self.pool_size))
        return col2im(dwin, self.x_shape, self.pool_size, self.stride)


class MaxPool1D(_MaxPool):
    r"""Max pooling over sequences: (N, C, L) -> (N, C, (L - k) // s + 1).

    .. math:: y[n, c, i] = \max_{u < k} x[n, c, i s + u].

    ``pool_size`` and ``stride`` are single ints; otherwise as ``MaxPool2D``.

    Examples
    --------
    >>> nl.MaxPool1D(2).forward(np.array([[[1.0, 3.0, 2.0, 0.0]]]))
    array([[[3., 2.]]])
    """

    ndim = 1


class GlobalMaxPool1D(Layer):
    r"""The largest value of each channel over the whole sequence: (N, C, L) -> (N, C).

    .. math:: y[n, c] = \max_i x[n, c, i].

    It answers "does the pattern this filter detects occur anywhere?", whatever
    its position: exactly what a motif detector needs.

    Examples
    --------
    >>> nl.GlobalMaxPool1D().forward(np.array([[[1.0, 3.0, 2.0]]]))
    array([[3.]])
    """

    def forward(self, x, training=False):
        """x (N, C, L) -> y (N, C): each channel's largest value."""
        x = self._check_input(x, ndim=3, training=training)
        self.x_shape = x.shape
        # One window per channel, along the contiguous last axis: argmax is one fast call.
        # With ties it picks the first maximum, as MaxPool1D does; but it takes NaN for the
        # maximum and picks the first NaN, where MaxPool1D, whose comparisons NaN never
        # matches, picks the window's last element ([nan, 1, nan, 0]: index 0 here, 3 there).
        # Either is as good: once the output is NaN, so is the loss.
        self.argmax = x.argmax(axis=-1)
        return np.take_along_axis(x, self.argmax[..., None], axis=-1)[..., 0]

    def backward(self, dy):
        """dy (N, C) -> dL/dx (N, C, L), nonzero only at each channel's (first) maximum."""
        dy = self._check_grad(dy)
        dx = np.zeros(self.x_shape, dtype=dy.dtype)
        np.put_along_axis(dx, self.argmax[..., None], dy[..., None], axis=-1)
        return dx

    def output_shape(self, input_shape):
        if len(input_shape) != 2 or input_shape[1] < 1:
            raise ValueError(f"{self!r} expected samples of shape (C, L) with L >= 1; got "
                             f"{tuple(input_shape)}")
        return (input_shape[0],)
