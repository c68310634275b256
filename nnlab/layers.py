"""Layers: each a forward pass and, right next to it, its hand-written backward pass.

Every layer follows one protocol (CS231n style)::

    y = layer.forward(x, training=False)   # caches what backward needs
    dx = layer.backward(dy)                # fills layer.grads, returns dL/dx

``layer.params`` maps a name to a trainable array and ``layer.grads`` holds
the gradient of the loss with respect to it, under the same name, after
``backward``. Layers compute in the dtype of their input (float32 or float64)
and keep their parameters in their own ``dtype``.
"""

import contextlib
import contextvars
from collections.abc import MutableMapping
from typing import ClassVar

import numpy as np

from nnlab import activations, initializers
from nnlab._checks import as_float_array, as_rng, check_number, float_dtype

# Inside a model the input was checked once on entry; layers then accept what the
# previous layer produced, so that a diverging network reaches the loss as inf/NaN
# (which fit reports) instead of failing a layer's input check.
_INSIDE_NETWORK = contextvars.ContextVar("inside_network", default=False)


@contextlib.contextmanager
def inside_network():
    """Skip the NaN/inf input check of layers called within (their input is trusted)."""
    token = _INSIDE_NETWORK.set(True)
    try:
        yield
    finally:
        _INSIDE_NETWORK.reset(token)


def check_before_training(forward, x):
    """Raise any shape error of ``forward(x, training=True)`` before that pass changes state.

    In training, batch norm updates its running statistics before a later layer can object
    to the shape it receives. Evaluation mode changes no statistics and no weights, so the
    layers check one row in it first, and the whole batch only to report an error with the
    batch's own shapes.
    """
    try:
        forward(x[:1], training=False)
    except ValueError:
        forward(x, training=False)


class Layer:
    """Base class of every layer.

    Subclasses set ``self.params`` (trainable arrays) and may set
    ``self.buffers`` (non-trainable state saved with the model, such as batch
    norm's running mean), and implement ``forward``, ``backward``,
    ``output_shape`` and ``get_config``.
    """

    registry: ClassVar[dict] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        Layer.registry[cls.__name__] = cls

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.buffers = {}

    def forward(self, x, training=False):
        raise NotImplementedError

    def backward(self, dy):
        raise NotImplementedError

    def backward_params(self, dy):
        """Only the parameters' gradients (``grads``), for a layer whose input gradient is
        not needed (the first layer of a model in training); layers with a costly input
        gradient override it."""
        self.backward(dy)

    def output_shape(self, input_shape):
        """Shape of one output sample given the shape of one input sample."""
        return tuple(input_shape)

    def get_config(self):
        """The constructor arguments, as JSON-compatible values (used by ``save``)."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Rebuild a layer from ``get_config()`` output (used by ``load_model``)."""
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    def _check_input(self, x, feature_shape=None, ndim=None):
        """Validate ``x`` (a batch) and return it as a float array.

        ``feature_shape`` is the expected shape of one sample (``None`` in a
        position accepts any size there); ``ndim`` the expected batch rank.
        """
        if not _INSIDE_NETWORK.get():
            x = as_float_array(x, name=f"input of {self!r}")
        expected_ndim = ndim if feature_shape is None else len(feature_shape) + 1
        ok = expected_ndim is None or x.ndim == expected_ndim
        if ok and feature_shape is not None:
            ok = all(e is None or e == s for e, s in zip(feature_shape, x.shape[1:], strict=True))
        if not ok:
            if feature_shape is None:
                expected = f"a {expected_ndim}-D batch"
            else:
                dims = ", ".join("?" if e is None else str(e) for e in feature_shape)
                expected = f"shape (batch, {dims})"
            raise ValueError(f"{self!r} expected input of {expected}; got shape {x.shape}")
        self._input_shape = x.shape   # what backward checks dy against
        return x

    def _check_grad(self, dy):
        """Validate ``dy`` = dL/dy against the output of the last ``forward``; return it.

        Inside a model the shapes agree by construction and ``dy`` is returned as is.
        """
        if _INSIDE_NETWORK.get():
            return dy
        shape = getattr(self, "_input_shape", None)
        if shape is None:
            raise ValueError(f"{self!r}.backward uses what forward cached: call forward first")
        dy = as_float_array(dy, name=f"dy of {self!r}.backward")
        expected = (shape[0], *self.output_shape(shape[1:]))
        if dy.shape != expected:
            raise ValueError(f"{self!r}.backward expected dy of shape {expected}, the shape "
                             f"of the last forward's output; got {dy.shape}")
        return dy

    def _param(self, name, like):
        """Parameter ``name`` in the dtype of the array ``like`` (no copy if equal)."""
        return self.params[name].astype(like.dtype, copy=False)

    def _store_grad(self, name, grad):
        self.grads[name] = grad.astype(self.params[name].dtype, copy=False)


class Dense(Layer):
    """Fully connected (affine) layer: ``y = x @ W + b``.

    Parameters
    ----------
    n_in, n_out : int
        Input and output widths. ``W`` has shape (n_in, n_out), ``b`` (n_out,).
    init : str or callable
        Weight initializer, by name from ``nnlab.initializers`` (biases start at 0).
    rng : int or numpy.random.Generator, optional
        Seed or generator for the initial weights.
    dtype : str or numpy dtype
        Dtype in which the parameters are stored.

    Shapes: x (N, n_in) -> y (N, n_out).

    Examples
    --------
    >>> layer = Dense(3, 2, rng=0)
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
        x = self._check_input(x, feature_shape=(self.n_in,))
        self.x = x
        y = x @ self._param("W", x)
        y += self._param("b", x)  # in place: no second output-sized array
        return y

    def backward(self, dy):
        # y = x W + b, so dL/dW = x^T dy, dL/db = sum of dy over the batch
        # and dL/dx = dy W^T.
        dy = self._check_grad(dy)
        self.backward_params(dy)
        return dy @ self._param("W", dy).T

    def backward_params(self, dy):
        dy = self._check_grad(dy)
        self._store_grad("W", self.x.T @ dy)
        self._store_grad("b", dy.sum(axis=0))

    def output_shape(self, input_shape):
        if tuple(input_shape) != (self.n_in,):
            raise ValueError(f"{self!r} expected samples of shape ({self.n_in},); got "
                             f"{tuple(input_shape)}")
        return (self.n_out,)

    def get_config(self):
        config = {"n_in": self.n_in, "n_out": self.n_out, "dtype": self.dtype.name}
        if isinstance(self.init, str):
            config["init"] = self.init
        return config


class Activation(Layer):
    """An activation function applied element-wise (softmax: last axis).

    Parameters
    ----------
    name : str or nnlab.activations.ActivationFunction
        One of ``nnlab.activations.NAMES``.
    **params
        The function's own parameters, for a name: ``alpha`` of leaky_relu and elu.

    Examples
    --------
    >>> Activation("relu").forward(np.array([[-1.0, 2.0]]))
    array([[0., 2.]])
    >>> Activation("leaky_relu", alpha=0.2).forward(np.array([[-1.0, 2.0]]))
    array([[-0.2,  2. ]])
    """

    def __init__(self, name, **params):
        super().__init__()
        self.fn = activations.get(name)
        if params:
            accepted = sorted(type(self.fn)().get_config())
            if isinstance(name, activations.ActivationFunction):
                raise ValueError(f"Activation: {name!r} already holds its parameters; pass "
                                 f"{sorted(params)} with a name, as Activation('elu', alpha=2.0)")
            if set(params) - set(accepted):
                raise ValueError(f"Activation {self.fn.name!r} takes the parameters "
                                 f"{accepted or 'none'}; got {sorted(params)}")
            self.fn = type(self.fn)(**params)
        self.name = self.fn.name

    def forward(self, x, training=False):
        x = self._check_input(x)
        self.x = x
        self.y = self.fn(x)
        return self.y

    def backward(self, dy):
        dy = self._check_grad(dy)
        return self.fn.backward(self.x, self.y, dy)

    def get_config(self):
        return {"name": self.name, **self.fn.get_config()}


class Flatten(Layer):
    """Flattens each sample: (N, d1, d2, ...) -> (N, d1*d2*...).

    The bridge from convolution or pooling layers to Dense layers.

    Examples
    --------
    >>> Flatten().forward(np.zeros((2, 3, 4, 4))).shape
    (2, 48)
    """

    def forward(self, x, training=False):
        x = self._check_input(x)
        if x.ndim < 2:
            raise ValueError(f"{self!r} expected a batch (N, ...); got shape {x.shape}")
        self.x_shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, dy):
        dy = self._check_grad(dy)
        return dy.reshape(self.x_shape)

    def output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)


class Dropout(Layer):
    """Inverted dropout: drops each input with probability ``rate``.

    The kept inputs are scaled by 1/(1 - rate) so that the expected output equals
    the input; at evaluation (``training=False``) the layer is the identity.
    Backward multiplies by the same mask as the last forward pass::

        y = m * x / (1 - rate),  m_i ~ Bernoulli(1 - rate);   dL/dx = m * dL/dy / (1 - rate)

    Shapes: any batch; y has the shape of x.

    Parameters
    ----------
    rate : float in [0, 1)
        Fraction of inputs dropped.
    rng : int or numpy.random.Generator, optional
        Seed or generator of the masks.

    Examples
    --------
    >>> layer = Dropout(0.5, rng=0)
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
        x = self._check_input(x)
        if not training or self.rate == 0:
            self.mask = None
            return x
        # Uniform numbers in the input's dtype: a float32 network draws half the bits
        # and builds no float64 array of its activations' size.
        keep = self.rng.random(x.shape, dtype=x.dtype) >= self.rate
        self.mask = keep.astype(x.dtype) / x.dtype.type(1 - self.rate)
        return x * self.mask

    def backward(self, dy):
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

    ``params``, ``grads`` and ``buffers`` show the inner layers' dicts under keys
    ``"<index>.<name>"`` (e.g. ``"0.W"``). They are live views, not copies: the
    arrays are the inner layers' own (an optimizer updating them in place
    trains the block) and assigning a key assigns it in the inner layer.

    Examples
    --------
    >>> block = Residual(Dense(4, 4, rng=0), Activation("relu"))
    >>> block.forward(np.zeros((2, 4))).shape
    (2, 4)
    """

    def __init__(self, *layers):
        if not layers or not all(isinstance(layer, Layer) for layer in layers):
            raise ValueError("Residual takes one or more nnlab layers")
        self.layers = list(layers)

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
        x = self._check_input(x)
        if training and len(x) and not _INSIDE_NETWORK.get():
            check_before_training(self.forward, x)
            self._input_shape = x.shape   # the trial pass recorded its one row
        out = x
        with inside_network():
            for layer in self.layers:
                out = layer.forward(out, training=training)
        if out.shape != x.shape:
            raise ValueError(f"{self!r}: the block changes the shape from {x.shape} to "
                             f"{out.shape}; y = x + block(x) needs them equal")
        return x + out

    def backward(self, dy):
        d = dy = self._check_grad(dy)
        for layer in reversed(self.layers):
            d = layer.backward(d)
        return dy + d

    def output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.layers:
            shape = tuple(layer.output_shape(shape))
        if shape != tuple(input_shape):
            raise ValueError(f"{self!r}: the block maps shape {tuple(input_shape)} to {shape}; "
                             "a residual block must keep the shape")
        return shape

    def get_config(self):
        return {"layers": [{"class": type(layer).__name__, "config": layer.get_config()}
                           for layer in self.layers]}

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


class _LayersView(MutableMapping):
    """The ``attribute`` dicts of ``layers`` seen as one dict with keys "<index>.<name>".

    Reads and writes go through to the inner dicts, so nothing is copied and
    nothing can go stale.
    """

    def __init__(self, layers, attribute):
        self.layers, self.attribute = layers, attribute

    def _locate(self, key):
        index, _, name = key.partition(".") if isinstance(key, str) else ("", "", "")
        if not (index.isdigit() and int(index) < len(self.layers) and name):
            raise KeyError(key)
        return getattr(self.layers[int(index)], self.attribute), name

    def __getitem__(self, key):
        store, name = self._locate(key)
        return store[name]

    def __setitem__(self, key, value):
        store, name = self._locate(key)
        store[name] = value

    def __delitem__(self, key):
        store, name = self._locate(key)
        del store[name]

    def __iter__(self):
        for i, layer in enumerate(self.layers):
            for name in getattr(layer, self.attribute):
                yield f"{i}.{name}"

    def __len__(self):
        return sum(len(getattr(layer, self.attribute)) for layer in self.layers)

    def copy(self):
        """A plain dict of the same arrays, as ``dict.copy`` gives."""
        return dict(self)

    def __repr__(self):
        return repr(dict(self))


# The layout of DESIGN.md has every layer in this module. Convolution, pooling and batch
# normalization grew into modules of their own; they are reachable from here too, so that
# ``nnlab.layers.BatchNorm`` is ``nnlab.BatchNorm``. (Imported last: they import Layer.)
from nnlab.conv import AvgPool2D, Conv1D, Conv2D, GlobalMaxPool1D, MaxPool1D, MaxPool2D  # noqa: E402, F401
from nnlab.normalization import BatchNorm  # noqa: E402, F401
