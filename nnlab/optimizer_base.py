r"""What every optimizer shares: validation, schedules, weight decay, clipping, state.

Every optimizer is used the same way::

    opt = Adam(lr=1e-3)
    opt.step(params, grads)   # lists of arrays; params are updated in place

The update rules are exactly those of PyTorch's ``torch.optim`` documentation
for the same hyper-parameters; Lion's and Ftrl's, which PyTorch lacks, are Keras's, and
Muon's follow PyTorch's code where it departs from the documentation (see ``Muon``). The
optimizers themselves are in ``nnlab.optimizers`` (SGD, and the per-coordinate rates of
AdaGrad, RMSprop and Adadelta), ``nnlab.adam`` (Adam and its variants),
``nnlab.lean_optimizers`` (Lion, Adafactor, Muon), ``nnlab.classic_optimizers`` (Rprop,
ASGD) and ``nnlab.ftrl`` (Ftrl); this module is what they share.

State (momentum buffers, running averages, and scratch arrays, whose keys begin
with ``scratch``) is kept per position in the list, allocated on the first step
and then updated in place with NumPy's ``out=`` arguments: a training step
allocates no new arrays (but for the new gradients that ``weight_decay`` and
clipping make). (Writing ``m = b1 * m + (1 - b1) * g`` would allocate three
temporaries per parameter per step; measured here, that made Adam's update
several times slower than the in-place form.) Each update shows the textbook
formula in its docstring and as a comment.

Every hyper-parameter is an attribute of the same name. ``lr`` may be changed at any time
(a value is checked as it is set), and the clipping options are checked at every step;
the others are checked by the constructor alone: set them to values it accepts (a NumPy
scalar is kept as a Python number, as the constructor keeps it).

Common options of every optimizer:

- ``lr``: a positive float, or a schedule ``lr(iteration)`` (iteration counts steps
  from 0), see ``nnlab.schedules``
  (``exponential_decay`` and ``step_decay`` are importable from ``nnlab.optimizers`` too).
- ``weight_decay``: L2 regularization as PyTorch applies it,
  :math:`g \leftarrow g + \lambda\,\theta` before the update; but AdamW's is
  *decoupled*, :math:`\theta \leftarrow \theta - \eta\lambda\theta`, see ``nnlab.adam.AdamW``.
- ``clipnorm``, ``clipvalue``, ``global_clipnorm``: gradient clipping, with Keras's
  names and meanings. At most one of them may be set (a positive float :math:`c`), and
  the gradients are clipped before ``weight_decay`` is added to them:

  - ``clipnorm``: each gradient array on its own is rescaled to a norm of at most
    :math:`c`, :math:`g \leftarrow g\, c / \max(\lVert g \rVert, c)` (Keras's formula; in
    PyTorch, ``torch.nn.utils.clip_grad_norm_`` called on each parameter alone, which
    divides by :math:`\lVert g \rVert + 10^{-6}` instead);
  - ``clipvalue``: each element is clipped into :math:`[-c, c]`
    (``torch.nn.utils.clip_grad_value_``);
  - ``global_clipnorm``: all gradient arrays are rescaled together, so that their global
    norm :math:`N` (that of all their elements as one vector) is at most :math:`c`, by
    :math:`\min(1, c / (N + 10^{-6}))`, as ``torch.nn.utils.clip_grad_norm_`` does;
    Keras's :math:`c / \max(N, c)` differs only by that :math:`10^{-6}`.
"""

import itertools
import math

import numpy as np

from nnlab._checks import FLOAT_DTYPES, _cast, all_finite, check_number
from nnlab._spellings import check_spellings
from nnlab.schedules import check_schedule, rate_at

__all__ = ["Optimizer"]


class Optimizer:
    """Base class: validation, schedules, weight decay, clipping; subclasses write ``_update``.

    Hyper-parameters are kept as Python floats, also those set between steps (a one-cycle
    schedule's ``np.cos``). NumPy 2 computes ``a *= c`` in float64 when ``c`` is a NumPy
    float64 scalar (say, from ``np.logspace``), even for a float32 array: the result is
    cast back to float32, rounded otherwise, and the step takes several times longer.
    """

    #: State entries holding squares or sizes, never negative (load_model checks a file's).
    squares = ()
    #: Whether ``weight_decay`` shrinks the parameters in ``_update`` instead (AdamW).
    decoupled_weight_decay = False

    def __new__(cls, *args, **kwargs):
        check_spellings(cls, args, kwargs)   # Keras's SGD(learning_rate=0.1): a hint
        return super().__new__(cls)

    def __init__(self, lr, weight_decay=0.0, clipnorm=None, clipvalue=None,
                 global_clipnorm=None):
        self.lr = lr
        self.weight_decay = self._hyper(weight_decay, "weight_decay", low=0)
        self.clipnorm, self.clipvalue, self.global_clipnorm = self._clipping(
            clipnorm, clipvalue, global_clipnorm)
        self.iterations = 0
        self.state = None

    def __setattr__(self, name, value):
        if isinstance(value, np.generic):
            value = value.item()   # a NumPy scalar as Python's number (the class's description)
        super().__setattr__(name, value)

    @property
    def lr(self):
        """A positive float, or a schedule ``lr(iteration)``; checked when it is set."""
        return self._lr

    @lr.setter
    def lr(self, value):
        if callable(value):
            check_schedule(value, type(self).__name__)
        else:
            value = self._hyper(value, "lr", low=0, low_open=True)
        self._lr = value

    def current_lr(self):
        """The learning rate of the next step (the schedule evaluated, if there is one)."""
        if not callable(self.lr):
            return self.lr
        return rate_at(self.lr, self.iterations, type(self).__name__)

    def step(self, params, grads):
        """Update every array of ``params`` in place from the matching array of ``grads``.

        ``params`` is a list of floating ndarrays; ``grads`` a list of array_likes of the
        same shapes. Everything is checked before the first update, so that an error
        leaves every parameter as it was.
        """
        self.apply_gradients(params, self._check(params, grads))

    def owns(self, params):
        """Whether the running state (momentum, averages) is that of ``params``, or there is
        none yet. Each array's state belongs to that array, as PyTorch keys it by parameter:
        other arrays would inherit it in silence."""
        return self.state is None or (len(params) == len(self.state) and all(
            s["param"] is p for s, p in zip(self.state, params, strict=True)))

    def check_ready(self, params, steps=1):
        """Raise the ValueError that a step on ``params`` would raise before it updates
        anything (a state of other arrays, a schedule's bad rate); returns the step's rate.
        ``fit`` asks before its first forward pass, which moves batch norm's statistics,
        for each of the ``steps`` of its run: a schedule that goes bad at a later step
        (a rate that turns negative) is refused before the first update."""
        lr = self.current_lr()
        if callable(self.lr):
            for iteration in range(self.iterations + 1, self.iterations + steps):
                rate_at(self.lr, iteration, type(self).__name__)
        if not self.owns(params):
            same = sum(s["param"] is p for s, p in zip(self.state, params, strict=False))
            raise ValueError(f"{type(self).__name__}: these are not the parameter arrays of "
                             f"its first step: expected the same {len(self.state)} arrays, "
                             f"got {len(params)} of which {same} in place (a layer added, or "
                             "the optimizer used for another model); call reset() first, or "
                             "use a new optimizer")
        return lr

    def apply_gradients(self, params, grads):
        """``step`` without its input checks, for a caller that made them (``Sequential.fit``
        checks once that its gradients are finite, and they have their parameters' shapes)."""
        lr = self.check_ready(params)   # first: an error then changes nothing
        grads = self._clipped(grads)
        if self.weight_decay and not self.decoupled_weight_decay:
            grads = [g + self.weight_decay * p for p, g in zip(params, grads, strict=True)]
        if self.state is None:
            _check_distinct_arrays(params, type(self).__name__)
            self.state = [self.fresh_state(p) for p in params]
        self.settle()
        self.iterations += 1
        for p, g, s in zip(params, grads, self.state, strict=True):
            self._update(p, g.astype(p.dtype, copy=False), s, lr)

    def settle(self):
        """Bring the running state in line with hyper-parameters changed since the last
        step, as the next step would (Adam's decayed sums after a change of its betas): a
        model file then holds the state that step will read. Most optimizers have nothing
        to do."""

    def shared_state(self):
        """The running state that every weight's step shares, beyond the step count, as a
        model file keeps it: a dict of numbers that the step count and today's
        hyper-parameters cannot give again (NAdam's product of its momentum factors, each
        with the ``beta1`` of its own step). Most optimizers have none."""
        return {}

    def set_shared_state(self, state):
        """Take back what ``shared_state`` gave (a model file's, checked), once
        ``iterations`` is set."""
        if state:
            raise ValueError(f"{type(self).__name__} keeps no shared state named "
                             f"{sorted(state)}; got {state!r}")

    def reset(self):
        """Forget all state (momentum, averages) and the step count."""
        self.iterations = 0
        self.state = None

    def fresh_state(self, p):
        """Parameter ``p``'s state before its first step: ``_new_state`` and a scratch array.

        An update that needs more room names its other scratch arrays ``scratch_...``:
        like ``scratch``, they hold nothing between steps, and a model file leaves them out.
        """
        return {"param": p, "scratch": np.empty_like(p), **self._new_state(p)}

    def _new_state(self, p):
        return {}

    def _hyper(self, value, name, **limits):
        """Hyper-parameter ``name``'s ``value`` as a float, checked against ``limits``
        (``check_number``'s): an error names the optimizer, "Adam beta1 must be in ..."."""
        return float(check_number(value, f"{type(self).__name__} {name}", **limits))

    def _clipping(self, clipnorm, clipvalue, global_clipnorm):
        """The three clipping options, checked, as Python floats (None where unset)."""
        options = {"clipnorm": clipnorm, "clipvalue": clipvalue,
                   "global_clipnorm": global_clipnorm}
        given = {k: v for k, v in options.items() if v is not None}
        if len(given) > 1:   # Keras refuses them too: only one of them would act
            raise ValueError(f"{type(self).__name__}: set at most one of clipnorm, clipvalue "
                             "and global_clipnorm; got "
                             + ", ".join(f"{k}={v!r}" for k, v in given.items()))
        return tuple(None if v is None else self._hyper(v, k, low=0, low_open=True)
                     for k, v in options.items())

    def _clipped(self, grads):
        """``grads`` clipped as the clipping option set says (new arrays), or as they are.

        The options are checked again: they are attributes, which may have been changed.
        A scale is a Python float, so that float32 gradients stay float32.
        """
        clipnorm, clipvalue, global_clipnorm = self._clipping(
            self.clipnorm, self.clipvalue, self.global_clipnorm)
        if clipnorm is not None:          # Keras's g c / max(|g|, c), each array alone
            return [_scaled(g, clipnorm / max(_norm(g), clipnorm)) for g in grads]
        if clipvalue is not None:
            return [np.clip(g, -clipvalue, clipvalue) for g in grads]
        if global_clipnorm is not None:   # PyTorch's clip_grad_norm_, on all arrays at once
            total = math.hypot(*(_norm(g) for g in grads))   # hypot: no square overflows
            return [_scaled(g, global_clipnorm / (total + 1e-6)) for g in grads]
        return grads

    def _update(self, p, g, state, lr):
        raise NotImplementedError

    def _check(self, params, grads):
        """Raise unless ``step`` can update every parameter; return the gradients as arrays
        (converted once, here: ``np.asanyarray`` leaves an ndarray as it is)."""
        name = type(self).__name__
        for what, items in (("params", params), ("grads", grads)):
            # One bare array would be iterated row by row, as if each row were a parameter.
            if not isinstance(items, list | tuple):
                raise ValueError(f"{name}.step takes lists of arrays, as in step([p], [g]); "
                                 f"got {what} of type {type(items).__name__}")
        if len(params) != len(grads):
            raise ValueError(f"{name}.step got {len(params)} parameter arrays "
                             f"but {len(grads)} gradient arrays")
        arrays = []
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f" or not p.flags.writeable:
                got = (f"a {type(p).__name__}" if not isinstance(p, np.ndarray)
                       else f"dtype {p.dtype}" if p.dtype.kind != "f" else "a read-only array")
                raise ValueError(f"{name}.step: parameter {i} must be a writeable floating "
                                 f"ndarray (it is updated in place); got {got}")
            if p.dtype not in FLOAT_DTYPES:   # in float16, eps (1e-8) would round to 0
                raise ValueError(f"{name}.step: parameter {i} has dtype {p.dtype}; expected "
                                 "float32 or float64, the dtypes of nnlab's layers")
            try:
                g = np.asanyarray(g)
            except ValueError as exc:   # a ragged nested list
                raise ValueError(f"{name}.step: gradient {i} is not an array: {exc}") from None
            if g.dtype.kind not in "biuf":
                raise ValueError(f"{name}.step: gradient {i} must hold real numbers; "
                                 f"got dtype {g.dtype}")
            if g.shape != p.shape:
                raise ValueError(f"{name}.step: gradient {i} has shape {g.shape}, "
                                 f"its parameter has shape {p.shape}")
            if not all_finite(g):
                raise ValueError(f"{name}.step: gradient {i} contains NaN or inf")
            if g.dtype != p.dtype:   # 1e39 is finite in float64, inf in a float32 update
                g = _cast(g, p.dtype, f"{name}.step: gradient {i}, for a {p.dtype} parameter,")
            arrays.append(g)
        return arrays

    def get_config(self):
        """The constructor arguments: ``type(opt)(**opt.get_config())`` is a fresh copy.

        A schedule is given as ``lr=None``: a function cannot be written to a model file
        (JSON), and whoever rebuilds the optimizer passes it again.
        """
        config = {k: v for k, v in vars(self).items()   # not the state, nor what is private
                  if k not in ("state", "iterations") and not k.startswith("_")}
        config["lr"] = self.lr if not callable(self.lr) else None
        return config

    def __repr__(self):
        # The schedule itself, not the None of get_config: a repr shows what the object is.
        args = ", ".join(f"{k}={v!r}" for k, v in {**self.get_config(), "lr": self.lr}.items())
        return f"{type(self).__name__}({args})"


def _check_distinct_arrays(params, name):
    """Raise ValueError if two arrays of ``params`` share memory (one array twice, or two
    views of one array): it would be updated twice a step, with the state (momentum,
    averages) of two parameters."""
    first = {}
    for i, p in enumerate(params):
        if id(p) in first:
            raise ValueError(f"{name}: params {first[id(p)]} and {i} are the same array; "
                             "each parameter must appear once")
        first[id(p)] = i
    for (i, p), (j, q) in itertools.combinations(enumerate(params), 2):
        if np.shares_memory(p, q):
            raise ValueError(f"{name}: params {i} and {j} share memory (views of one "
                             "array); each parameter must be an array of its own")


def _norm(a):
    """The Frobenius norm of ``a``, a Python float: one dot product, unless the squares
    overflow the dtype (BLAS says nothing: the sum is inf), then that of a / max|a|."""
    total = float(np.vdot(a, a))
    if math.isfinite(total):
        return math.sqrt(total)
    largest = float(np.max(np.abs(a)))
    return largest * math.sqrt(float(np.vdot(a / largest, a / largest)))


def _scaled(g, scale):
    """``g`` times ``scale`` (a new array), or ``g`` itself for a scale of 1 or more."""
    return g * scale if scale < 1 else g


def _scaled_step(p, g, squares, eps, lr, step):
    """``p -= lr * g / (sqrt(squares) + eps)``, computed in the scratch array ``step``."""
    np.sqrt(squares, out=step)
    step += eps
    np.divide(g, step, out=step)
    step *= lr
    p -= step
