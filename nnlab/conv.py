r"""Convolution and pooling layers, channels first: (N, C, L) and (N, C, H, W).

A convolution slides a small filter over the input and takes a weighted sum
at every position (a cross-correlation, as in every framework):

.. math:: y[n, o, i, j] = b_o + \sum_{c, u, v} W[o, c, u, v]\; x[n, c, i s + u, j s + v].

The fast way to compute all those sums at once is *im2col*: view every
receptive field of the input as one row of a matrix (NumPy's
``sliding_window_view`` does this without copying), after which the whole
layer is a single matrix product with the filters. The backward pass
scatters the gradient of each window back onto the pixels it came from
(*col2im*), one kernel offset at a time: for a fixed offset the windows touch
pixels that are all different (a strided slice of the input), so one
vectorised ``+=`` adds them without collisions; windows overlap only across
offsets, and those are added one after another (9 steps for a 3x3 kernel,
whatever the batch and image size).
"""

import itertools

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from nnlab import initializers
from nnlab._checks import as_rng, check_number, float_dtype
from nnlab.layers import Layer


def _ints(value, n, name, low):
    """``value`` (an int, or a sequence of ``n`` ints, each >= ``low``) as a tuple of ``n`` ints."""
    values = (value,) * n if np.ndim(value) == 0 else tuple(value)
    if len(values) != n:
        raise ValueError(f"{name} must be an int or a sequence of {n} ints; got {value!r}")
    return tuple(int(check_number(v, name, low=low, integer=True)) for v in values)


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
    """
    dx = np.zeros(x_shape, dtype=dwin.dtype)
    out = dwin.shape[2:2 + len(kernel)]
    for offset in itertools.product(*(range(k) for k in kernel)):
        target = tuple(slice(o, o + s * n, s)
                       for o, s, n in zip(offset, stride, out, strict=True))
        dx[(slice(None), slice(None), *target)] += dwin[(..., *offset)]
    return dx


class _Conv(Layer):
    """Convolution over ``ndim`` spatial dimensions (1 or 2)."""

    ndim = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 init="he_normal", rng=None, dtype="float64"):
        super().__init__()
        name = type(self).__name__
        self.in_channels = int(check_number(in_channels, f"{name} in_channels", low=1,
                                            integer=True))
        self.out_channels = int(check_number(out_channels, f"{name} out_channels", low=1,
                                             integer=True))
        self.kernel_size = _ints(kernel_size, self.ndim, f"{name} kernel_size", low=1)
        self.stride = _ints(stride, self.ndim, f"{name} stride", low=1)
        self.padding = _ints(padding, self.ndim, f"{name} padding", low=0)
        self.init = init
        self.dtype = float_dtype(dtype, f"{name} dtype")
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        rng = as_rng(rng, f"{type(self).__name__} rng")
        self.params = {
            "W": initializers.initial_weights(init, shape, rng, self.dtype, name),
            "b": np.zeros(self.out_channels, dtype=self.dtype),
        }

    def forward(self, x, training=False):
        x = self._check_input(x, feature_shape=(self.in_channels, *(None,) * self.ndim))
        self._check_size(x.shape[2:])
        pad = [(0, 0), (0, 0), *((p, p) for p in self.padding)]
        xp = np.pad(x, pad) if any(self.padding) else x
        self.xp_shape = xp.shape
        win = windows(xp, self.kernel_size, self.stride)            # (N, C, *out, *k), a view
        n, self.out = len(x), win.shape[2:2 + self.ndim]
        # im2col: for each sample a matrix with one row per (channel, kernel offset) and one
        # column per output position, and a last row of ones. The copy goes into a buffer
        # kept between calls: a fresh array of this size every step costs page faults that,
        # measured here, doubled the time of a conv epoch.
        k_axes = tuple(range(2 + self.ndim, 2 + 2 * self.ndim))
        rows, positions = self.in_channels * int(np.prod(self.kernel_size)), int(np.prod(self.out))
        self.cols = self._buffer((n, rows + 1, positions), x.dtype)
        # cols[:, :rows] reshaped only splits axes, so it is a view: the copy lands in cols.
        np.copyto(self.cols[:, :rows].reshape(n, self.in_channels, *self.kernel_size, *self.out),
                  np.moveaxis(win, k_axes, tuple(range(2, 2 + self.ndim))))
        # The whole layer is one matrix product per sample: (O, C*k + 1) @ (C*k + 1, positions),
        # which lands directly in the channels-first layout (N, O, positions). The last row
        # of cols is all ones and the last column of the weights is b (the "bias trick"), so
        # the product adds the bias too, instead of another pass over the output.
        y = np.matmul(self._weights_and_bias(x), self.cols)
        return y.reshape(n, self.out_channels, *self.out)

    def backward(self, dy):
        dy = self.backward_params(self._check_grad(dy))
        # dL/d(cols) = W^T dy, then col2im puts each column (a window) back on the input grid.
        dcols = np.matmul(self._weights_2d(dy).T, dy)
        dwin = np.moveaxis(dcols.reshape(len(dy), self.in_channels, *self.kernel_size,
                                         *self.out),
                           tuple(range(2, 2 + self.ndim)),
                           tuple(range(2 + self.ndim, 2 + 2 * self.ndim)))
        dxp = col2im(dwin, self.xp_shape, self.kernel_size, self.stride)
        crop = tuple(slice(p, dxp.shape[2 + i] - p) for i, p in enumerate(self.padding))
        return dxp[(slice(None), slice(None), *crop)]

    def backward_params(self, dy):
        # dL/dW = sum over samples of dy (O, positions) @ cols^T. Its last column, against the
        # row of ones, is dL/db: dy summed over samples and positions.
        dy = self._check_grad(dy).reshape(len(dy), self.out_channels, -1)
        dWb = np.matmul(dy, self.cols.transpose(0, 2, 1)).sum(axis=0)
        self._store_grad("W", dWb[:, :-1].reshape(self.params["W"].shape))
        self._store_grad("b", dWb[:, -1])
        return dy

    def _weights_2d(self, like):
        return self._param("W", like).reshape(self.out_channels, -1)

    def _weights_and_bias(self, like):
        return np.concatenate([self._weights_2d(like), self._param("b", like)[:, None]], axis=1)

    def _buffer(self, shape, dtype):
        """The im2col matrix, kept between calls; its last row (ones) is written once."""
        buffer = getattr(self, "_rows_buffer", None)
        if buffer is None or buffer.shape != shape or buffer.dtype != dtype:
            buffer = self._rows_buffer = np.empty(shape, dtype=dtype)
            buffer[:, -1] = 1
        return buffer

    def _check_size(self, spatial):
        for size, k, p in zip(spatial, self.kernel_size, self.padding, strict=True):
            if size + 2 * p < k:
                raise ValueError(f"{self!r}: input of spatial size {tuple(spatial)} is smaller "
                                 f"than the kernel {self.kernel_size} (padding {self.padding})")

    def output_shape(self, input_shape):
        c, *spatial = input_shape
        if c != self.in_channels or len(spatial) != self.ndim:
            raise ValueError(f"{self!r} expected samples of shape ({self.in_channels}"
                             f"{', ?' * self.ndim}); got {tuple(input_shape)}")
        self._check_size(spatial)
        out = ((n + 2 * p - k) // s + 1 for n, p, k, s in
               zip(spatial, self.padding, self.kernel_size, self.stride, strict=True))
        return (self.out_channels, *out)

    def get_config(self):
        config = {"in_channels": self.in_channels, "out_channels": self.out_channels,
                  "kernel_size": list(self.kernel_size), "stride": list(self.stride),
                  "padding": list(self.padding), "dtype": self.dtype.name}
        if isinstance(self.init, str):
            config["init"] = self.init
        return config


class Conv2D(_Conv):
    r"""2-D convolution of (N, C, H, W) images by W (out, in, kh, kw).

    A cross-correlation plus a bias b (out,), (N, C, H, W) -> (N, O, H', W'):

    .. math:: y[n, o, i, j] = b_o + \sum_{c, u, v} W[o, c, u, v]\,
              x_p[n, c, i s_h + u, j s_w + v],

    with :math:`x_p` the input zero-padded by ``padding`` on each side. Output size
    per spatial axis: ``H' = (H + 2 padding - kernel) // stride + 1`` (positions
    where the kernel would stick out are dropped).

    Parameters
    ----------
    in_channels, out_channels : int
        C and O. ``W`` has shape (O, C, kh, kw), ``b`` (O,).
    kernel_size, stride, padding : int or pair of int
        (kh, kw), the step (s_h, s_w) between windows, and the zeros added on each side.
    init : str or callable
        Initializer of ``W`` (fan-in C*kh*kw); ``b`` starts at 0.
    rng : int or numpy.random.Generator, optional
        Seed or generator for the initial weights.
    dtype : str or numpy dtype
        Dtype in which the parameters are stored.

    Examples
    --------
    >>> conv = Conv2D(1, 4, kernel_size=3, padding=1, rng=0)
    >>> conv.forward(np.zeros((2, 1, 8, 8))).shape
    (2, 4, 8, 8)
    """

    ndim = 2


class Conv1D(_Conv):
    r"""1-D convolution on sequences: (N, C, L) -> (N, O, L').

    .. math:: y[n, o, i] = b_o + \sum_{c, u} W[o, c, u]\, x_p[n, c, i s + u],
              \qquad L' = (L + 2\,\mathrm{padding} - k) // s + 1.

    Same parameters as ``Conv2D``, with ``kernel_size``, ``stride`` and
    ``padding`` single ints; ``W`` has shape (O, C, k), ``b`` (O,). On one-hot DNA
    (C = 4 letters) each filter is a position weight matrix scanning the sequence.

    Examples
    --------
    >>> Conv1D(4, 8, kernel_size=6, rng=0).forward(np.zeros((3, 4, 50))).shape
    (3, 8, 45)
    """

    ndim = 1


class _Pool(Layer):
    """Pooling over ``ndim`` spatial dimensions; windows that do not fit are dropped."""

    ndim = 2

    def __init__(self, pool_size, stride=None):
        super().__init__()
        name = type(self).__name__
        self.pool_size = _ints(pool_size, self.ndim, f"{name} pool_size", low=1)
        self.stride = (self.pool_size if stride is None
                       else _ints(stride, self.ndim, f"{name} stride", low=1))

    def _windows(self, x):
        x = self._check_input(x, ndim=2 + self.ndim)
        if any(n < k for n, k in zip(x.shape[2:], self.pool_size, strict=True)):
            raise ValueError(f"{self!r}: input of spatial size {x.shape[2:]} is smaller than "
                             f"the pool {self.pool_size}")
        self.x_shape = x.shape
        win = windows(x, self.pool_size, self.stride)
        return win.reshape(*win.shape[:2 + self.ndim], -1)

    def output_shape(self, input_shape):
        c, *spatial = input_shape
        if len(spatial) != self.ndim or any(
                n < k for n, k in zip(spatial, self.pool_size, strict=True)):
            raise ValueError(f"{self!r} expected samples (C{', ?' * self.ndim}) at least as "
                             f"large as the pool {self.pool_size}; got {tuple(input_shape)}")
        out = ((n - k) // s + 1 for n, k, s in zip(spatial, self.pool_size, self.stride,
                                                   strict=True))
        return (c, *out)

    def get_config(self):
        return {"pool_size": list(self.pool_size), "stride": list(self.stride)}


class _MaxPool(_Pool):
    """Max pooling over ``ndim`` spatial dimensions (MaxPool1D, MaxPool2D).

    The windows' maxima are computed as the maximum of strided slices of the input:
    ``x[..., u::s, v::s]`` holds the (u, v) element of every window. That is the textbook
    max over each window, vectorised across windows; measured here it is 5x faster than
    reducing over the window axes of a window view. The forward pass takes the maximum
    one axis at a time (the max of a rectangle is the max over its rows of each row's
    max): first down the rows, whose slices keep whole image rows contiguous in memory,
    then along them, on an array already k_h times smaller.
    """

    def _slices(self, out):
        for offset in itertools.product(*(range(k) for k in self.pool_size)):
            yield (..., *(slice(o, o + s * (n - 1) + 1, s)
                          for o, s, n in zip(offset, self.stride, out, strict=True)))

    def forward(self, x, training=False):
        x = self._check_input(x, ndim=2 + self.ndim)
        if any(n < k for n, k in zip(x.shape[2:], self.pool_size, strict=True)):
            raise ValueError(f"{self!r}: input of spatial size {x.shape[2:]} is smaller than "
                             f"the pool {self.pool_size}")
        self.x = y = x
        for axis, (k, s) in enumerate(zip(self.pool_size, self.stride, strict=True), start=2):
            n = (y.shape[axis] - k) // s + 1
            parts = [y[(slice(None),) * axis + (slice(u, u + s * (n - 1) + 1, s),)]
                     for u in range(k)]
            y = parts[0].copy() if k == 1 else np.maximum(parts[0], parts[1])
            for part in parts[2:]:
                np.maximum(y, part, out=y)   # NaN propagates, as in PyTorch
        self.y = y
        return y

    def backward(self, dy):
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
    >>> MaxPool2D(2).forward(np.arange(16.0).reshape(1, 1, 4, 4))
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
    >>> AvgPool2D(2).forward(np.arange(16.0).reshape(1, 1, 4, 4))
    array([[[[ 2.5,  4.5],
             [10.5, 12.5]]]])
    """

    ndim = 2

    def forward(self, x, training=False):
        return self._windows(x).mean(axis=-1)

    def backward(self, dy):
        dy = self._check_grad(dy)
        size = int(np.prod(self.pool_size))
        dwin = np.broadcast_to((dy / size)[(..., *(None,) * self.ndim)],
                               (*dy.shape, *self.pool_size))
        return col2im(dwin, self.x_shape, self.pool_size, self.stride)


class MaxPool1D(_MaxPool):
    r"""Max pooling over sequences: (N, C, L) -> (N, C, (L - k) // s + 1).

    .. math:: y[n, c, i] = \max_{u < k} x[n, c, i s + u].

    ``pool_size`` and ``stride`` are single ints; otherwise as ``MaxPool2D``.

    Examples
    --------
    >>> MaxPool1D(2).forward(np.array([[[1.0, 3.0, 2.0, 0.0]]]))
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
    >>> GlobalMaxPool1D().forward(np.array([[[1.0, 3.0, 2.0]]]))
    array([[3.]])
    """

    def forward(self, x, training=False):
        x = self._check_input(x, ndim=3)
        self.x_shape = x.shape
        self.argmax = x.argmax(axis=-1)
        return np.take_along_axis(x, self.argmax[..., None], axis=-1)[..., 0]

    def backward(self, dy):
        dy = self._check_grad(dy)
        dx = np.zeros(self.x_shape, dtype=dy.dtype)
        np.put_along_axis(dx, self.argmax[..., None], dy[..., None], axis=-1)
        return dx

    def output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"{self!r} expected samples of shape (C, L); got "
                             f"{tuple(input_shape)}")
        return (input_shape[0],)
