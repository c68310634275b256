r"""Convolution layers, channels first: (N, C, L) and (N, C, H, W).

A convolution slides a small filter over the input and takes a weighted sum
at every position (a cross-correlation, as in every framework):

.. math:: y[n, o, i, j] = b_o + \sum_{c, u, v} W[o, c, u, v]\; x[n, c, i s + u, j s + v].

The fast way to compute all those sums at once is *im2col*: view every receptive field
of a sample as a window (``im2col.windows``), copy each window into one column of a
matrix (``_Conv.forward``), after which the layer is one
matrix product with the filters per sample (one ``np.matmul`` over the batch); the
backward pass scatters the gradient of each window back onto the pixels it came from
(*col2im*). The pooling layers are in ``pooling.py``: average pooling takes the mean of
these windows; max pooling, faster, the maximum of strided slices of the input.
"""

import numpy as np

from nnlab import initializers
from nnlab._checks import as_rng, check_number, float_dtype, int_tuple, lookup
from nnlab.im2col import _out_size, col2im, windows
from nnlab.layer_base import Layer

__all__ = ["Conv1D", "Conv2D", "col2im", "windows"]


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
        self.kernel_size = int_tuple(kernel_size, self.ndim, f"{name} kernel_size", low=1)
        self.stride = int_tuple(stride, self.ndim, f"{name} stride", low=1)
        self.padding = self._padding(padding, name)
        self.init = init
        self.dtype = float_dtype(dtype, f"{name} dtype")
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        rng = as_rng(rng, f"{type(self).__name__} rng")
        self.params = {
            "W": initializers.initial_weights(init, shape, rng, self.dtype, name),
            "b": np.zeros(self.out_channels, dtype=self.dtype),
        }

    def _padding(self, padding, name):
        """Zeros on each side, per axis, from numbers or Keras's "valid" and "same"."""
        if not isinstance(padding, str):
            return int_tuple(padding, self.ndim, f"{name} padding", low=0)
        choice = lookup(padding, {"valid": "valid", "same": "same"}, f"{name} padding")
        if choice == "valid":
            return (0,) * self.ndim
        # (k - 1) // 2 on each side keeps the size at stride 1 for odd k; an even kernel
        # needs one zero more on one side, which this layer's equal sides cannot give.
        if set(self.stride) != {1} or any(k % 2 == 0 for k in self.kernel_size):
            raise ValueError(f"{name} padding='same' keeps the input's size with stride 1 "
                             f"and odd kernel sizes; got kernel_size {self.kernel_size} and "
                             f"stride {self.stride}: give the padding as numbers")
        return tuple((k - 1) // 2 for k in self.kernel_size)

    def forward(self, x, training=False):
        """x (N, C, L) -> y (N, O, L'), or x (N, C, H, W) -> y (N, O, H', W')."""
        x = self._check_input(x, feature_shape=(self.in_channels, *(None,) * self.ndim),
                              training=training)
        pad = [(0, 0), (0, 0), *((p, p) for p in self.padding)]
        xp = np.pad(x, pad) if any(self.padding) else x
        self.xp_shape = xp.shape
        win = windows(xp, self.kernel_size, self.stride)            # (N, C, *out, *k), a view
        n, self.out = len(x), win.shape[2:2 + self.ndim]
        # Textbook form (2-D; 1-D drops an axis of each): the layer is the einsum
        #   y = np.einsum("ncijuv,ocuv->noij", win, W) + b[:, None, None],
        # which the code below computes as one matrix product per sample.
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
        """dy of the output's shape -> dL/dx of x's; fills grads["W"] and grads["b"]."""
        dy = self.backward_params(dy)   # checks dy, and gives it back as (N, O, positions)
        # Textbook form (2-D): dwin = np.einsum("noij,ocuv->ncijuv", dy, W), each window's
        # gradient, which col2im adds back onto the pixels the window covers.
        # dL/d(cols) = W^T dy: dcols (N, C*kh*kw, H'*W') -> dwin (N, C, H', W', kh, kw).
        dcols = np.matmul(self._weights_2d(dy).T, dy)
        dwin = np.moveaxis(dcols.reshape(len(dy), self.in_channels, *self.kernel_size,
                                         *self.out),
                           tuple(range(2, 2 + self.ndim)),
                           tuple(range(2 + self.ndim, 2 + 2 * self.ndim)))
        dxp = col2im(dwin, self.xp_shape, self.kernel_size, self.stride)
        # np.pad's adjoint is the crop: the padded zeros are constants, not inputs, and
        # their gradient goes nowhere.
        crop = tuple(slice(p, dxp.shape[2 + i] - p) for i, p in enumerate(self.padding))
        return dxp[(slice(None), slice(None), *crop)]

    def backward_params(self, dy):
        # Textbook form (2-D), with forward's win: dW = np.einsum("noij,ncijuv->ocuv", dy, win).
        # Here dL/dW is the sum over samples of dy (O, positions) @ cols^T. Its last column,
        # against the row of ones, is dL/db: dy summed over samples and positions. Returns dy
        # in that (N, O, positions) form, which backward goes on with.
        dy = self._check_grad(dy)
        # Sizes given: with no samples, -1 cannot be inferred.
        dy = dy.reshape(len(dy), self.out_channels, int(np.prod(self.out)))
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
        buffer = getattr(self, "_cols_buffer", None)
        if buffer is None or buffer.shape != shape or buffer.dtype != dtype:
            buffer = self._cols_buffer = np.empty(shape, dtype=dtype)
            buffer[:, -1] = 1
        return buffer

    def _check_size(self, spatial):
        for size, k, p in zip(spatial, self.kernel_size, self.padding, strict=True):
            if size + 2 * p < k:
                raise ValueError(f"{self!r}: input of spatial size {tuple(spatial)} is smaller "
                                 f"than the kernel {self.kernel_size} (padding {self.padding})")

    def output_shape(self, input_shape):
        if len(input_shape) != 1 + self.ndim or input_shape[0] != self.in_channels:
            raise ValueError(f"{self!r} expected samples of shape ({self.in_channels}"
                             f"{', ?' * self.ndim}); got {tuple(input_shape)}")
        spatial = input_shape[1:]
        self._check_size(spatial)
        out = (_out_size(n, k, s, p) for n, k, s, p in
               zip(spatial, self.kernel_size, self.stride, self.padding, strict=True))
        return (self.out_channels, *out)

    @classmethod
    def array_shapes(cls, config):
        k = config.get("kernel_size")  # an int, or one per spatial axis
        kernel = ((k,) * cls.ndim if isinstance(k, int) else tuple(k) if isinstance(k, list)
                  else (k,))
        return {"params.W": (config.get("out_channels"), config.get("in_channels"), *kernel),
                "params.b": (config.get("out_channels"),)}

    def get_config(self):
        config = {"in_channels": self.in_channels, "out_channels": self.out_channels,
                  "kernel_size": list(self.kernel_size), "stride": list(self.stride),
                  "padding": list(self.padding), "dtype": self.dtype.name}
        if isinstance(self.init, str):
            config["init"] = self.init
        return config


class Conv2D(_Conv):
    r"""2-D convolution: (N, C, H, W) images by filters (O, C, kh, kw).

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
        ``padding`` may also be "valid" (0) or "same" (the output keeps H and W: stride 1
        and odd kernel sizes, padded by (k - 1) // 2), as in Keras.
    init : str or callable
        Initializer of ``W`` (fan-in C*kh*kw); ``b`` starts at 0.
    rng : int or numpy.random.Generator, optional
        Seed or generator for the initial weights.
    dtype : str or numpy dtype
        Dtype in which the parameters are stored.

    Examples
    --------
    >>> conv = nl.Conv2D(1, 4, kernel_size=3, padding=1, rng=0)
    >>> conv.forward(np.zeros((2, 1, 8, 8))).shape
    (2, 4, 8, 8)
    """

    ndim = 2


class Conv1D(_Conv):
    r"""1-D convolution on sequences: (N, C, L) -> (N, O, L').

    .. math:: y[n, o, i] = b_o + \sum_{c, u} W[o, c, u]\, x_p[n, c, i s + u],
              \qquad L' = (L + 2\,\mathrm{padding} - k) // s + 1.

    Same parameters as ``Conv2D``, with ``kernel_size``, ``stride`` and
    ``padding`` single ints (``padding`` also "valid" or "same"); ``W`` has shape
    (O, C, k), ``b`` (O,). On one-hot DNA
    (C = 4 letters) each filter is a position weight matrix scanning the sequence.

    Examples
    --------
    >>> nl.Conv1D(4, 8, kernel_size=6, rng=0).forward(np.zeros((3, 4, 50))).shape
    (3, 8, 45)
    """

    ndim = 1
