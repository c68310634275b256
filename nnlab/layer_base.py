"""The layer protocol: what every layer of nnlab is, and how a model calls it.

Every layer follows one protocol (CS231n style)::

    y = layer.forward(x, training=False)   # caches what backward needs
    dx = layer.backward(dy)                # fills layer.grads, returns dL/dx

``layer.params`` maps a name to a trainable array and ``layer.grads`` holds
the gradient of the loss with respect to it, under the same name, after
``backward``. Layers compute in the dtype of their input (float32 or float64)
and keep their parameters in their own ``dtype``.

What forward caches is the arrays themselves, not copies (a copy per step would
cost time and memory): ``Dense`` keeps its input ``x``; ``Activation`` and
``MaxPool2D`` keep both their input ``x`` and their output ``y``. Leave ``x`` and
``y`` as they are until ``backward``: an array changed in place between the two
calls (a batch buffer refilled, an output scaled with ``*=``) changes the gradient
with it. PyTorch detects such a change and raises; NumPy arrays carry no record of
one.

The layers themselves are in ``layers.py``, ``conv.py``, ``pooling.py`` and
``normalization.py``; ``nnlab.layers`` gives every one of them.
"""

import contextlib
import contextvars
from typing import ClassVar

import numpy as np

from nnlab._checks import _cast, as_float_array, check_bool
from nnlab._spellings import check_spellings


class Layer:
    """Base class of every layer.

    Subclasses set ``self.params`` (trainable arrays) and may set ``self.buffers``
    (non-trainable state saved with the model, such as batch norm's running mean), and implement
    ``forward``, ``backward``, ``output_shape`` and ``get_config``; a layer that allocates
    arrays says their shapes in ``array_shapes``, so that a model file can be checked before
    they exist. ``registry_name`` is the name a model file gives the class: its own name, or
    its full dotted name if one of nnlab's layers has that name already.
    """

    registry: ClassVar[dict] = {}
    registry_name: ClassVar[str] = "Layer"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # A model file names each layer by its class's registry name. A class of another
        # module that reuses the name of one of nnlab's (a student's own Dense) is filed
        # under its full name, so that loading a file never builds the wrong class.
        taken = Layer.registry.get(cls.__name__)
        clash = (taken is not None and taken.__module__ != cls.__module__
                 and taken.__module__.startswith("nnlab."))
        cls.registry_name = f"{cls.__module__}.{cls.__qualname__}" if clash else cls.__name__
        Layer.registry[cls.registry_name] = cls

    def __new__(cls, *args, **kwargs):
        check_spellings(cls, args, kwargs)   # Keras's Dense(..., activation="relu"): a hint
        return super().__new__(cls)

    def __init__(self):
        self.params, self.grads, self.buffers = {}, {}, {}

    def forward(self, x, training=False):
        """The layer's output for a batch; caches what the next ``backward`` needs.

        Parameters
        ----------
        x : array_like
            A batch (N, ...): samples along the first axis, each of the shape the layer
            takes. float32 and float64 stay in their dtype, integers become float64.
        training : bool
            True in a training step: dropout drops inputs and batch norm normalizes by
            the batch's statistics (and updates its running ones). False, as ``predict``
            and ``evaluate`` run, leaves no randomness and changes no state but the cache.

        Returns
        -------
        numpy.ndarray
            The output batch, of shape ``(N, *output_shape(x.shape[1:]))``, in x's dtype.

        Raises
        ------
        ValueError
            For input the layer cannot take (naming the layer, the shape it expects and
            the one it got), or a ``training`` that is no bool, before anything is cached
            (a block or model whose layers cached part of the refused pass forgets it, so
            that its backward asks for a new forward).
        """
        raise NotImplementedError

    def backward(self, dy):
        """Backpropagate through the last ``forward``: fill ``grads``, return dL/dx.

        Parameters
        ----------
        dy : array_like
            dL/dy, the gradient of the loss with respect to the last forward's output,
            of that output's shape.

        Returns
        -------
        numpy.ndarray
            dL/dx, the gradient with respect to the last forward's input, of its shape.
            For every trainable array, ``grads[name]`` now holds dL/d(``params[name]``)
            over the whole batch, in the shape and dtype of ``params[name]``.

        Raises
        ------
        ValueError
            If ``forward`` has not run, or ``dy`` has not the shape of its output.
        """
        raise NotImplementedError

    def backward_params(self, dy):
        """Only the parameters' gradients (``grads``), for a layer whose input gradient is
        not needed (the first layer of a model in training); layers with a costly input
        gradient override it.

        Parameters
        ----------
        dy : array_like
            dL/dy, as for ``backward``.

        Returns
        -------
        None or numpy.ndarray
            Nothing here, and a model ignores what an override returns (``Dense``'s: ``dy``
            checked; the convolutions': reshaped to (N, O, positions), for their ``backward``).
        """
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

    @classmethod
    def array_shapes(cls, config):
        """The shapes of the arrays ``from_config(config)`` allocates, computed without it.

        Keys are ``"params.<name>"`` and ``"buffers.<name>"``. ``load_model`` compares them
        with the arrays a file holds before it builds the layer: built first, a tampered
        ``BatchNorm(n_features=10**11)`` would ask for 745 GiB (a MemoryError), and a
        ``Dense(30000, 30000)``, below the initializers' cap on weights, for 7 GB, before
        anything could be compared. ``config`` comes from the file and is not checked yet
        (read it with ``config.get``; the constructor rejects bad values). A layer that allocates
        nothing returns ``{}``; one that does not say is compared once it is built.
        """
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    def _check_input(self, x, feature_shape=None, ndim=None, training=False):
        """Validate ``x`` (a batch) and ``forward``'s ``training`` flag; return x as a float
        array.

        ``feature_shape`` is the expected shape of one sample (``None`` in a
        position accepts any size there); ``ndim`` the expected batch rank. The
        layer's own rules follow (``_check_sample``: a kernel no larger than the
        input...). Only once every check has passed is the shape recorded: a forward
        that raises leaves what the last one cached.
        """
        return self._check_batch(self._as_input(x, training), feature_shape, ndim)

    def _as_input(self, x, training=False):
        """``x`` as a finite float array, or a ValueError naming the layer; ``training``
        must be a bool, for every layer alike (``"no"`` or ``1`` would count as true).

        The first half of ``_check_input``, for a layer whose own checks need the array's
        shape before it is recorded: a ragged list has no shape for ``np.shape`` to give.
        """
        if in_network():
            return x
        check_bool(training, "training")
        return as_float_array(x, name=f"input of {self!r}")

    def _check_batch(self, x, feature_shape=None, ndim=None):
        """The second half of ``_check_input``: the checks of an array from ``_as_input``."""
        if x.ndim == 0:
            raise ValueError(f"{self!r} takes a batch, an array whose first axis runs over "
                             f"the samples; got a single number, {x!r}")
        expected_ndim = ndim if feature_shape is None else len(feature_shape) + 1
        ok = expected_ndim is None or x.ndim == expected_ndim
        if ok and feature_shape is not None and x.shape[1:] != tuple(feature_shape):  # (Nones)
            ok = all(e is None or e == s for e, s in zip(feature_shape, x.shape[1:], strict=True))
        if not ok:
            if feature_shape is None:
                expected = f"a {expected_ndim}-D batch"
            else:
                dims = ", ".join("?" if e is None else str(e) for e in feature_shape)
                expected = f"shape (batch, {dims})"
            raise ValueError(f"{self!r} expected input of {expected}; got shape {x.shape}")
        self._check_sample(x.shape[1:])
        self._input_shape, self._input_dtype = x.shape, x.dtype   # what backward checks dy
        return x

    def _check_sample(self, sample_shape):
        """Raise unless one sample of this shape can go through: ``output_shape``'s rules."""
        self.output_shape(sample_shape)

    def _training_fault(self, shape):
        """Why a batch of input ``shape`` cannot pass through in training (a message), or
        None: a rule of training alone, such as batch norm's 2 values per feature. It is
        checked before any state changes, on the shapes a trial pass recorded
        (``check_before_training``, and ``fit`` for its smallest batch)."""
        return None

    def _check_grad(self, dy):
        """Validate ``dy`` = dL/dy against the output of the last ``forward``; return it.

        Inside a model the shapes and dtypes agree by construction and ``dy`` is returned
        as is; outside, it is cast to the dtype of the last forward's input.
        """
        if in_network():
            return dy
        shape = getattr(self, "_input_shape", None)
        expected = None if shape is None else (shape[0], *self.output_shape(shape[1:]))
        return check_dy(dy, repr(self), expected, getattr(self, "_input_dtype", None))

    def _param(self, name, like):
        """Parameter ``name`` in the dtype of the array ``like`` (no copy if equal)."""
        return self.params[name].astype(like.dtype, copy=False)

    def _store_grad(self, name, grad):
        self.grads[name] = grad.astype(self.params[name].dtype, copy=False)


# --- What a model does with its layers: the flags of its passes, and work on them all ---

# Inside a model the input was checked once on entry; layers then accept what the
# previous layer produced, so that a diverging network reaches the loss as inf/NaN
# (which fit reports) instead of failing a layer's input check.
_INSIDE_NETWORK = contextvars.ContextVar("inside_network", default=False)
_TRAINING_STEP = contextvars.ContextVar("training_step", default=False)


class _Raised(contextlib.ContextDecorator):
    """Set a context variable to True for the ``with`` block, and back after it (a class: a
    ``contextlib`` generator costs three times as much, and each training step enters four)."""

    def __init__(self, flag):
        self.flag, self.tokens = flag, []   # a stack: one object may be entered again inside

    def __enter__(self):
        self.tokens.append(self.flag.set(True))

    def __exit__(self, *exc_info):
        self.flag.reset(self.tokens.pop())


def inside_network():
    """Within, layers trust the arrays they are given, which a model checked once, on entry.

    A layer's ``forward`` takes its input as it comes, with no conversion to a float array
    and no NaN/inf check (the shape checks remain), and its ``backward`` takes ``dy`` with
    no check at all (``Layer._check_grad``: that forward ran, the conversion, NaN/inf, the
    shape). A ``Residual`` in training skips its trial pass (``check_before_training``),
    which the model's covers.
    """
    return _Raised(_INSIDE_NETWORK)


def in_network():
    """Whether a model runs the layers (``inside_network``), not the caller by hand."""
    return _INSIDE_NETWORK.get()


def training_step():
    """Within, a model's training step (``nnlab.training``) checks the buffers the forward
    pass updates: one that overflowed stops the run as diverged, and is put back. A layer
    need not refuse, in the middle of a run, what a diverging run makes."""
    return _Raised(_TRAINING_STEP)


def in_training_step():
    """Whether a model's training step is under way (``training_step``)."""
    return _TRAINING_STEP.get()


def check_dy(dy, owner, expected, dtype):
    """``dy`` = dL/dy for the backward of ``owner`` (its name in messages), checked to have
    ``expected``, the shape of its last forward's output (None: no forward yet), and cast to
    ``dtype``, its input's: dL/dx comes in x's dtype, as PyTorch's autograd gives it."""
    if expected is None:
        raise ValueError(f"{owner}.backward uses what forward cached: call forward first")
    dy = as_float_array(dy, name=f"dy of {owner}.backward", dtype=dtype)
    if dy.shape != tuple(expected):
        raise ValueError(f"{owner}.backward expected dy of shape {tuple(expected)}, the shape "
                         f"of the last forward's output; got {dy.shape}")
    return dy


def walk_layers(layers):
    """Every layer of ``layers`` and, after each block (a Residual), the layers inside it."""
    for layer in layers:
        yield layer
        yield from walk_layers(getattr(layer, "layers", []))


def check_distinct(layers, owner):
    """Raise ValueError if one of ``layers`` (or of their blocks) is no nnlab layer, or if one
    layer object appears twice.

    A layer caches its last input for ``backward``, so a second use would overwrite what
    the first needs and give wrong gradients; a shared Dense would also be trained twice
    over. ``owner`` names the model or block in the message.
    """
    seen = set()
    for layer in walk_layers(layers):
        if not isinstance(layer, Layer):
            raise ValueError(f"{owner} takes nnlab layers; got {type(layer).__name__}")
        if id(layer) in seen:
            raise ValueError(f"{owner}: the same layer object {layer!r} appears twice; a "
                             f"layer caches its last input for backward, so use a new "
                             f"{layer!r} at each place")
        seen.add(id(layer))


def check_before_training(forward, x, layers, forget=None):
    """Raise any shape error of ``forward(x, training=True)`` before that pass changes state.

    ``forward`` is the ``forward`` of a model or block, whose layers are ``layers``;
    ``forget`` drops a trial pass that ran (default: ``forget_last_pass(layers)``).
    In training, batch norm updates its running statistics before a later layer can object
    to the shape it receives. Evaluation mode changes no statistics and no weights, so the
    layers check one row in it first, and the whole batch only to report an error with the
    batch's own shapes. One rule holds in training only, that every batch norm of the
    ``layers`` (and of their blocks) gets 2 or more values per feature: it is checked on
    the shapes the trial pass recorded, with the batch's own size.
    """
    try:
        forward(x[:1], training=False)
    except ValueError:
        forward(x, training=False)
    fault = training_fault(layers, len(x))
    if fault:   # after the trial pass has cached its one row
        forget() if forget else forget_last_pass(layers)
        raise ValueError(fault)


def training_fault(layers, batch_size):
    """Why a batch of ``batch_size`` samples cannot train through ``layers`` (and their
    blocks), or None: each layer's ``_training_fault`` on the shape the last pass recorded."""
    for layer in walk_layers(layers):
        shape = getattr(layer, "_input_shape", None)
        fault = shape is not None and layer._training_fault((batch_size, *shape[1:]))
        if fault:
            return fault
    return None


def forget_last_pass(layers):
    """Drop what the last forward pass cached in ``layers`` (and the layers of their blocks).

    A pass that raised half-way overwrote the caches of the layers before the one that
    objected, and a ``backward`` would mix two batches; after this it asks for a forward.
    """
    for layer in layers:
        layer._input_shape = None
        forget_last_pass(getattr(layer, "layers", []))


@contextlib.contextmanager
def restoring_buffers(layers):
    """Around a training pass: put the buffers of ``layers`` back if the pass raises.

    Batch norm updates its running statistics as the pass goes. A layer after it may still
    refuse the batch (a rule of training alone, which the trial pass in evaluation mode
    cannot foresee in a layer of one's own), or an interrupt may stop the pass. Yields the
    function that puts them back, for a caller that rejects what the pass computed.
    """
    buffers = [a for layer in layers for a in layer.buffers.values()]   # blocks' too
    saved = [a.copy() for a in buffers]   # small: one number per feature

    def restore():
        for a, old in zip(buffers, saved, strict=True):
            a[...] = old

    try:
        yield restore
    except BaseException:
        restore()
        raise


def cast_layer(layer, dtype):
    """Store a layer's parameters and buffers in ``dtype`` (recursing into blocks)."""
    cast_layers([layer], dtype)


def cast_layers(layers, dtype):
    """Store the parameters and buffers of ``layers`` (and of their blocks) in ``dtype``.

    Every array is cast before any is replaced: a value beyond the range of ``dtype``
    (1e39 in float32) is a ValueError that leaves every layer as it was.
    """
    dtype = np.dtype(dtype)
    owners = [layer for layer in walk_layers(layers) if not hasattr(layer, "layers")]
    casts = [(store, name, _cast(arr, dtype, f"{layer!r} array {name!r}"))
             for layer in owners for store in (layer.params, layer.buffers)
             for name, arr in store.items()]
    for store, name, arr in casts:
        store[name] = arr
    for layer in owners:
        if hasattr(layer, "dtype"):
            layer.dtype = dtype
