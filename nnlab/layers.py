"""Layers: each a forward pass and, right next to it, its hand-written backward pass.

Dense, Activation, Flatten, Dropout and Residual are here. ``Layer``, the protocol they
follow (``forward`` caches what ``backward`` needs; ``params`` and ``grads`` share
names), is in ``layer_base.py``; convolution, pooling and batch normalization have
modules of their own. All of them are reachable from here: ``nnlab.layers.BatchNorm``
is ``nnlab.BatchNorm``, so that every layer can be imported from this one module.
"""

import numpy as np

from nnlab import activations, initializers
from nnlab._checks import as_rng, check_number, float_dtype
from nnlab.conv import Conv1D, Conv2D
from nnlab.layer_base import (
    Layer,
    check_before_training,
    forget_last_pass,
    in_network,
    inside_network,
    restoring_buffers,
)
from nnlab.layer_lists import Layers, _LayersView
from nnlab.normalization import BatchNorm
from nnlab.pooling import AvgPool2D, GlobalMaxPool1D, MaxPool1D, MaxPool2D

__all__ = ["Activation", "AvgPool2D", "BatchNorm", "Conv1D", "Conv2D", "Dense", "Dropout",
           "Flatten", "GlobalMaxPool1D", "Layer", "MaxPool1D", "MaxPool2D", "Residual",
           "check_before_training", "inside_network"]


class Dense(Layer):
    """Fully connected (affine) layer: ``y = x @ W + b``.

    Shapes: x (N, n_in) -> y (N, n_out).

    Parameters
    ----------
    n_in, n_out : int
        Input and output widths. ``W`` has shape (n_in, n_out), ``b`` (n_out,).
    init : str or callable
        Weight initializer, by name from ``nnlab.initializers`` (biases start at 0).
    rng : int or numpy.random.Generator, optional
        Seed or generator for the initial weights.
    dtype : str or numpy dtype
        Dtype in which the parameters are stored. The layer alone computes in its input's
        dtype (float32 input, float32 output, the weights cast to it); a ``Sequential``
        casts its input to the parameters' dtype (``model.dtype``) first, as Keras does.

    Examples
    --------
    >>> layer = nl.Dense(3, 2, rng=0)
    >>> layer.forward(np.ones((4, 3))).shape
    (4, 2)
    """

    def __init__(self, n_in, n_out, init="glorot_uniform", rng=None, dtype="float64"):
        super().__init__()
        self.n_in = int(check_number(n_in, "Dense n_in", low=1, integer=True))
        self.n_out = int(check_number(n_out, "Dense n_out", low=1, integer=True))
        self.init = init
        self.dtype = float_dtype(dtype, "Dense dtype")
        rng = as_rng(rng, "Dense rng")
        self.params = {
            "W": initializers.initial_weights(init, (self.n_in, self.n_out), rng, self.dtype,
                                              f"Dense({self.n_in}, {self.n_out})"),
            "b": np.zeros(n_out, dtype=self.dtype),
        }

    def forward(self, x, training=False):
        """x (N, n_in) -> y = x W + b (N, n_out); keeps x for dL/dW."""
        x = self._check_input(x, feature_shape=(self.n_in,), training=training)
        self.x = x
        y = x @ self._param("W", x)
        y += self._param("b", x)  # in place: no second output-sized array
        return y

    def backward(self, dy):
        """dy = dL/dy (N, n_out) -> dL/dx (N, n_in); dL/dW, dL/db in grads."""
        # backward_params, which a model calls alone for its first layer (whose
        # dL/dx nothing uses), computes dL/dW and dL/db.
        dy = self.backward_params(dy)
        W = self._param("W", dy)
        if self.n_out == 1:   # dy W^T is then an outer product: broadcasting
            return dy * W.T   # gives equal numbers in half OpenBLAS's time
        return dy @ W.T   # dL/dx = dy W^T, (N, n_in)

    def backward_params(self, dy):
        """dL/dW and dL/db (no dL/dx) into ``grads``; returns dy, checked."""
        dy = self._check_grad(dy)
        self._store_grad("W", self.x.T @ dy)   # dL/dW = x^T dy, (n_in, n_out)
        # dL/db = 1^T dy, the sum of dy's rows, (n_out,): as a product, since
        # dy.sum(axis=0) adds a few columns' rows one at a time, 5x slower
        self._store_grad("b", np.ones(len(dy), dy.dtype) @ dy)
        return dy

    def output_shape(self, input_shape):
        if tuple(input_shape) != (self.n_in,):
            raise ValueError(f"{self!r} expected samples of shape ({self.n_in},); got "
                             f"{tuple(input_shape)}")
        return (self.n_out,)

    @classmethod
    def array_shapes(cls, config):
        return {"params.W": (config.get("n_in"), config.get("n_out")),
                "params.b": (config.get("n_out"),)}

    def get_config(self):
        config = {"n_in": self.n_in, "n_out": self.n_out, "dtype": self.dtype.name}
        if isinstance(self.init, str):
            config["init"] = self.init
        return config


class Activation(Layer):
    """An activation function applied element-wise (softmax: last axis).

    An input of any shape gives an output of the same shape (glu's halves the last axis).
    Softmax, log_softmax, sparsemax and glu act along the last axis (``along_last_axis``),
    the others on each element alone. Alone, the layer maps a vector as PyTorch's and
    Keras's do; in a model, whose batches hold one sample per row, those four refuse a
    batch of shape (N,): across its N samples, softmax would mix them.

    Parameters
    ----------
    name : str or nnlab.activations.ActivationFunction
        A name that ``nnlab.activations.get`` takes (those of ``NAMES`` and
        ``KERAS_NAMES``, Keras's aliases, "glu"), or a function object.
    **params
        The function's own parameters, for a name: ``alpha`` of leaky_relu, elu and celu,
        for instance (an unknown one is refused with the list of those it takes).

    Examples
    --------
    >>> nl.Activation("relu").forward(np.array([[-1.0, 2.0]]))
    array([[0., 2.]])
    >>> nl.Activation("leaky_relu", alpha=0.2).forward(np.array([[-1.0, 2.0]]))
    array([[-0.2,  2. ]])
    """

    def __init__(self, name, **params):
        super().__init__()
        self.fn = activations.get(name)
        if params:
            if isinstance(name, activations.ActivationFunction):
                raise ValueError(f"Activation: {name!r} already holds its parameters; pass "
                                 f"{sorted(params)} with a name, as Activation('elu', alpha=2.0)")
            accepted = sorted(type(self.fn)().get_config())
            if not accepted:
                raise ValueError(f"Activation {self.fn.name!r} takes no parameters; got "
                                 f"{', '.join(sorted(params))}")
            if set(params) - set(accepted):
                raise ValueError(f"Activation {self.fn.name!r} takes the parameters "
                                 f"{accepted}; got {sorted(params)}")
            self.fn = type(self.fn)(**params)
        self.name = self.fn.name

    def forward(self, x, training=False):
        """``f(x)`` for a batch of any shape: y has x's shape (glu: half its last axis)."""
        x = self._check_input(x, training=training)
        # Softmax along the one axis of an (N,) batch would mix the N samples, and predict's
        # answers would depend on its batch_size.
        if self.fn.along_last_axis and x.ndim == 1 and in_network():
            raise ValueError(f"{self!r} maps each sample's last axis (its scores, say) as "
                             f"a whole; in a model, a batch of shape {x.shape} holds "
                             f"{len(x)} samples of shape (), with no axis: give the model "
                             f"shape (N, features)")
        self.x = x
        self.y = self.fn(x)
        return self.y

    def backward(self, dy):
        """dL/dx = dy * f'(x), element-wise; softmax: dy times its Jacobian."""
        dy = self._check_grad(dy)
        return self.fn.backward(self.x, self.y, dy)

    def output_shape(self, input_shape):
        return getattr(self.fn, "output_shape", tuple)(input_shape)

    def get_config(self):
        return {"name": self.name, **self.fn.get_config()}


class Flatten(Layer):
    """Flattens each sample: (N, d1, d2, ...) -> (N, d1*d2*...).

    The bridge from convolution or pooling layers to Dense layers.

    Examples
    --------
    >>> nl.Flatten().forward(np.zeros((2, 3, 4, 4))).shape
    (2, 48)
    """

    def forward(self, x, training=False):
        """x (N, d1, d2, ...) -> y (N, d1*d2*...), each sample's values in C order."""
        x = self._as_input(x, training)
        if x.ndim < 2:
            raise ValueError(f"{self!r} expected a batch (N, ...); got shape {x.shape}")
        x = self._check_batch(x)
        self.x_shape = x.shape
        return x.reshape(len(x), int(np.prod(x.shape[1:])))   # (-1 cannot say 0 of what)

    def backward(self, dy):
        """dy (N, d1*d2*...) reshaped back to the input's (N, d1, d2, ...)."""
        dy = self._check_grad(dy)
        return dy.reshape(self.x_shape)

    def output_shape(self, input_shape):
        if len(input_shape) < 1:
            raise ValueError(f"{self!r} expected samples of at least one axis (a batch "
                             f"(N, ...)); got samples of shape {tuple(input_shape)}")
        return (int(np.prod(input_shape)),)


class Dropout(Layer):
    """Inverted dropout: drops each input with probability ``rate``.

    The kept inputs are scaled by 1/(1 - rate) so that the expected output equals
    the input; at evaluation (``training=False``) the layer is the identity.
    Backward multiplies by the same mask as the last forward pass::

        y = m * x / (1 - rate),  m_i ~ Bernoulli(1 - rate);   dL/dx = m * dL/dy / (1 - rate)

    ``mask`` holds m / (1 - rate), the scale included, so that each pass is one product
    (``None`` when the layer is the identity).

    Shapes: any batch; y has the shape of x.

    Parameters
    ----------
    rate : float in [0, 1)
        Fraction of inputs dropped.
    rng : int or numpy.random.Generator, optional
        Seed or generator of the masks; None draws fresh entropy, different masks every
        run (``fit``'s ``seed`` orders the batches only: give this one a seed too to repeat
        a run). A model file keeps the generator's state, so that a loaded model draws
        the masks the saved one would have drawn next.

    Examples
    --------
    >>> layer = nl.Dropout(0.5, rng=0)
    >>> layer.forward(np.ones((1, 6)), training=True)
    array([[2., 0., 0., 0., 2., 2.]])
    >>> layer.forward(np.ones((1, 6)))
    array([[1., 1., 1., 1., 1., 1.]])
    """

    def __init__(self, rate, rng=None):
        super().__init__()
        self.rate = float(check_number(rate, "Dropout rate", low=0, high=1, high_open=True))
        self.rng = as_rng(rng, "Dropout rng")

    def forward(self, x, training=False):
        """y = m * x / (1 - rate) in training (a new mask m each call), else x; y has x's shape."""
        x = self._check_input(x, training=training)
        if not training or self.rate == 0:
            self.mask = None
            return x
        # Uniform numbers in the input's dtype: a float32 network draws half the bits
        # and builds no float64 array of its activations' size.
        keep = self.rng.random(x.shape, dtype=x.dtype) >= self.rate
        self.mask = keep.astype(x.dtype) / x.dtype.type(1 - self.rate)
        return x * self.mask

    def backward(self, dy):
        """dL/dx = dy m / (1 - rate), forward's mask; in evaluation, dy."""
        dy = self._check_grad(dy)
        return dy if self.mask is None else dy * self.mask

    def get_config(self):
        return {"rate": self.rate}


class Residual(Layer):
    """Residual block: ``y = x + block(x)``, the block being ``layers``.

    The block applies ``layers`` in sequence and must keep the shape of its
    input. The identity path gives the gradient a direct route back: dL/dx =
    dL/dy + (the block's own backward of dL/dy), so it cannot vanish through
    the block.

    ``params``, ``grads`` and ``buffers`` are dicts of the inner layers' arrays under
    keys ``"<index>.<name>"`` (e.g. ``"0.W"``), made afresh on each read. The arrays
    are the inner layers' own, not copies (an optimizer updating them in place trains
    the block), and assigning a key assigns it in the inner layer.

    Examples
    --------
    A block of zero weights adds nothing: the identity path carries x forward, and dL/dy
    back, unchanged.

    >>> block = nl.Residual(nl.Dense(2, 2, init="zeros"))
    >>> block.forward(np.array([[1.0, 2.0]]))
    array([[1., 2.]])
    >>> block.backward(np.array([[1.0, 1.0]]))
    array([[1., 1.]])
    """

    #: The block's layers, in order: a list whose edits are checked (``LayerList``).
    layers = Layers("Residual")

    def __init__(self, *layers):
        if not layers or not all(isinstance(layer, Layer) for layer in layers):
            raise ValueError(f"Residual takes one or more nnlab layers, as in Residual(Dense(4, "
                             f"4), Activation('relu')); got {layers!r}")
        self.layers = layers   # (no Layer.__init__: params, grads, buffers are views)

    @property
    def params(self):
        return _LayersView(self.layers, "params")

    @property
    def grads(self):
        return _LayersView(self.layers, "grads")

    @property
    def buffers(self):
        return _LayersView(self.layers, "buffers")

    def forward(self, x, training=False):
        """y = x + block(x), where the block (its layers in turn) must keep x's shape."""
        x = self._check_input(x, training=training)
        try:
            if training and len(x) and not in_network():
                check_before_training(self.forward, x, self.layers)
                self._input_shape = x.shape   # the trial pass recorded its one row
            out = x
            # Batch norm's statistics go back should a later layer refuse to train.
            with inside_network(), restoring_buffers(self.layers):
                for layer in self.layers:
                    out = layer.forward(out, training=training)
                if out.shape != x.shape:
                    raise ValueError(f"{self!r}: the block changes the shape from {x.shape} "
                                     f"to {out.shape}; y = x + block(x) needs them equal")
        except BaseException:   # (an overflow under errstate "raise", an interrupt too)
            forget_last_pass([self])   # the inner layers before the failing one ran
            raise
        return x + out

    def _check_sample(self, sample_shape):
        """The first inner layer's rules, before the pass: an input it refuses leaves every
        cache as the last good pass left it, for backward. The later layers are checked as
        the block runs, so that an inner layer of the reader's own, without
        ``output_shape``, works in a block too (only once it ran is its output known)."""
        if not self.layers:   # emptied since it was made (pop, clear, del)
            raise ValueError(f"{self!r} has no layers left; y = x + block(x) needs one or more")
        self.layers[0]._check_sample(sample_shape)

    def backward(self, dy):
        """dL/dx = dy + the block's backward of dy; fills its layers' grads."""
        dy = self._check_grad(dy)
        d_block = dy
        for layer in reversed(self.layers):
            d_block = layer.backward(d_block)
        return dy + d_block

    def output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.layers:
            shape = tuple(layer.output_shape(shape))
        if shape != tuple(input_shape):
            raise ValueError(f"{self!r}: the block maps shape {tuple(input_shape)} to {shape}; "
                             "a residual block must keep the shape")
        return shape

    def get_config(self):
        from nnlab.layer_specs import layer_specs  # (which imports this module)

        return {"layers": layer_specs(self.layers)}

    @classmethod
    def from_config(cls, config):
        layers = []
        for item in config["layers"]:
            layer_cls = Layer.registry.get(item.get("class"))
            if layer_cls is None:
                raise ValueError(f"unknown layer class {item.get('class')!r} in a Residual "
                                 "block")
            layers.append(layer_cls.from_config(item.get("config", {})))
        return cls(*layers)

    def __repr__(self):
        return f"Residual({', '.join(repr(layer) for layer in self.layers)})"
