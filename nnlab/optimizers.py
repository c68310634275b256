r"""Optimizers: the rules that turn gradients into parameter updates.

Every optimizer is used the same way::

    opt = Adam(lr=1e-3)
    opt.step(params, grads)   # lists of arrays; params are updated in place

The update rules are exactly those of PyTorch's ``torch.optim`` documentation
for the same hyper-parameters. State (momentum buffers, running averages, and
one scratch array per parameter) is kept per position in the list, allocated
on the first step and then updated in place with NumPy's ``out=`` arguments:
a training step allocates no new arrays (but for the new gradients that
``weight_decay`` and ``clipnorm`` make). (Writing ``m = b1 * m + (1 - b1) * g``
would allocate three temporaries per parameter per step; measured here, that
made Adam's update several times slower than the in-place form.) Each update
shows the textbook formula in its docstring and as a comment.

Common options of every optimizer:

- ``lr``: a positive float, or a schedule ``lr(iteration)`` (iteration counts steps
  from 0), see ``nnlab.schedules``: its schedules are importable from here too.
- ``weight_decay``: L2 regularization as PyTorch applies it,
  :math:`g \leftarrow g + \lambda\,\theta` before the update; but AdamW's is
  *decoupled*, :math:`\theta \leftarrow \theta - \eta\lambda\theta`, see :class:`AdamW`.
- ``clipnorm``: if set, all gradients are rescaled together so that their
  global norm is at most this value (``torch.nn.utils.clip_grad_norm_``).
"""

from functools import partial

import numpy as np

from nnlab._checks import all_finite, build, check_number, lookup
from nnlab.schedules import exponential_decay, rate_at, step_decay

__all__ = ["NAMES", "SGD", "AdaGrad", "Adam", "AdamW", "Optimizer", "RMSprop",
           "exponential_decay", "get", "step_decay"]


class Optimizer:
    """Base class: validation, schedules, weight decay, clipping; subclasses write ``_update``.

    Hyper-parameters are kept as Python floats. NumPy 2 computes ``a *= c`` in float64
    when ``c`` is a NumPy float64 scalar (say, from ``np.logspace``), even for a float32
    array: the result is cast back to float32, but the step takes several times longer.
    """

    #: State entries holding squares, never negative (load_model checks a file's).
    squares = ()
    #: Whether ``weight_decay`` shrinks the parameters in ``_update`` instead (AdamW).
    decoupled_weight_decay = False

    def __init__(self, lr, weight_decay=0.0, clipnorm=None):
        self.lr = lr
        self.weight_decay = float(check_number(weight_decay, "weight_decay", low=0))
        self.clipnorm = None if clipnorm is None else float(check_number(
            clipnorm, "clipnorm", low=0, low_open=True))
        self.iterations = 0
        self.state = None

    @property
    def lr(self):
        """A positive float, or a schedule ``lr(iteration)``; checked when it is set."""
        return self._lr

    @lr.setter
    def lr(self, value):
        if not callable(value):
            value = float(check_number(value, f"{type(self).__name__} lr", low=0,
                                       low_open=True))
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

    def apply_gradients(self, params, grads):
        """``step`` without its input checks, for a caller that made them (``Sequential.fit``
        checks once that its gradients are finite, and they have their parameters' shapes)."""
        lr = self.current_lr()   # first: a schedule's bad value then changes nothing
        if self.clipnorm is not None:
            grads = _clip_by_global_norm(grads, self.clipnorm)
        if self.weight_decay and not self.decoupled_weight_decay:
            grads = [g + self.weight_decay * p for p, g in zip(params, grads, strict=True)]
        if self.state is None:
            self.state = [self.fresh_state(p) for p in params]
        elif len(params) != len(self.state) or any(
                s["param"] is not p for s, p in zip(self.state, params, strict=True)):
            # Each parameter's state (momentum, averages) belongs to that array, as PyTorch
            # keys it by parameter: other arrays would inherit it in silence.
            raise ValueError(f"{type(self).__name__}: these are not the parameter arrays of "
                             "its first step (a layer added, or the optimizer used for another "
                             "model); call reset() first, or use a new optimizer")
        self.iterations += 1
        for p, g, s in zip(params, grads, self.state, strict=True):
            self._update(p, g.astype(p.dtype, copy=False), s, lr)

    def reset(self):
        """Forget all state (momentum, averages) and the step count."""
        self.iterations = 0
        self.state = None

    def fresh_state(self, p):
        """Parameter ``p``'s state before its first step: ``_new_state`` and a scratch array."""
        return {"param": p, "scratch": np.empty_like(p), **self._new_state(p)}

    def _new_state(self, p):
        return {}

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
                raise ValueError(f"{name}.step: parameter {i} must be a writeable floating "
                                 "ndarray (it is updated in place)")
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
            arrays.append(g)
        return arrays

    def get_config(self):
        """The constructor arguments: ``type(opt)(**opt.get_config())`` is a fresh copy.

        A schedule is given as ``lr=None``: a function cannot be written to a model file
        (JSON), and whoever rebuilds the optimizer passes it again.
        """
        config = {k: v for k, v in vars(self).items()
                  if k not in ("state", "iterations", "_lr")}
        config["lr"] = self.lr if not callable(self.lr) else None
        return config

    def __repr__(self):
        # The schedule itself, not the None of get_config: a repr shows what the object is.
        args = ", ".join(f"{k}={v!r}" for k, v in {**self.get_config(), "lr": self.lr}.items())
        return f"{type(self).__name__}({args})"


def _clip_by_global_norm(grads, max_norm):
    # The squares are summed in float64, where those of large float32 gradients cannot
    # overflow; the scale is a Python float, so that the scaled gradients stay float32.
    total = float(np.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in grads)))
    scale = max_norm / (total + 1e-6)
    return [g * scale for g in grads] if scale < 1 else grads


class SGD(Optimizer):
    r"""Stochastic gradient descent, with optional (Nesterov) momentum.

    Plain: :math:`\theta \leftarrow \theta - \eta g`.

    With momentum :math:`\mu` (Polyak's heavy ball): a velocity accumulates
    past gradients, :math:`b \leftarrow \mu b + g` (:math:`b_1 = g_1`), and
    :math:`\theta \leftarrow \theta - \eta b`. Steps along a consistent direction
    add up, oscillations across a ravine cancel out.

    Nesterov: the step uses :math:`g + \mu b` instead of :math:`b`, a look at
    where the momentum is about to carry the parameters.

    Examples
    --------
    >>> p, g = [np.array([1.0])], [np.array([0.5])]
    >>> SGD(lr=0.1).step(p, g); p[0]
    array([0.95])
    """

    def __init__(self, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0, clipnorm=None):
        super().__init__(lr, weight_decay, clipnorm)
        self.momentum = float(check_number(momentum, "momentum", low=0, high=1, high_open=True))
        if not isinstance(nesterov, bool | np.bool_):   # "no" would count as True
            raise ValueError(f"nesterov must be True or False; got {nesterov!r}")
        if nesterov and momentum == 0:
            raise ValueError("nesterov=True needs a momentum > 0; got momentum=0")
        self.nesterov = bool(nesterov)

    def _new_state(self, p):
        return {"b": np.zeros_like(p)} if self.momentum else {}

    def _update(self, p, g, state, lr):
        step = state["scratch"]
        if not self.momentum:
            np.multiply(g, lr, out=step)                 # theta -= lr g
            p -= step
            return
        b = state["b"]
        if self.iterations == 1:
            b[...] = g                                   # b_1 = g_1
        else:
            b *= self.momentum                           # b = mu b + g
            b += g
        if self.nesterov:
            np.multiply(b, self.momentum, out=step)      # theta -= lr (g + mu b)
            step += g
        else:
            step[...] = b                                # theta -= lr b
        step *= lr
        p -= step


class AdaGrad(Optimizer):
    r"""AdaGrad: a learning rate per coordinate, shrinking with the gradients seen.

    :math:`s \leftarrow s + g^2`,
    :math:`\theta \leftarrow \theta - \eta\, g / (\sqrt{s} + \epsilon)`.
    Rarely-updated coordinates keep large steps; but :math:`s` only grows, so
    learning eventually stalls.
    """

    squares = ("sum",)

    def __init__(self, lr=0.01, eps=1e-10, weight_decay=0.0, clipnorm=None):
        super().__init__(lr, weight_decay, clipnorm)
        self.eps = float(check_number(eps, "eps", low=0, low_open=True))

    def _new_state(self, p):
        return {"sum": np.zeros_like(p)}

    def _update(self, p, g, state, lr):
        s, step = state["sum"], state["scratch"]
        np.square(g, out=step)                           # s += g^2
        s += step
        _scaled_step(p, g, s, self.eps, lr, step)        # theta -= lr g / (sqrt(s) + eps)


def _scaled_step(p, g, squares, eps, lr, step):
    """``p -= lr * g / (sqrt(squares) + eps)``, computed in the scratch array ``step``."""
    np.sqrt(squares, out=step)
    step += eps
    np.divide(g, step, out=step)
    step *= lr
    p -= step


class RMSprop(Optimizer):
    r"""RMSprop: AdaGrad with a forgetting running average of squared gradients.

    :math:`v \leftarrow \rho v + (1 - \rho) g^2`,
    :math:`\theta \leftarrow \theta - \eta\, g / (\sqrt{v} + \epsilon)`.
    ``rho`` is PyTorch's ``alpha``. Old gradients fade, so the step size does not
    decay to zero as in AdaGrad.
    """

    squares = ("v",)

    def __init__(self, lr=0.01, rho=0.9, eps=1e-8, weight_decay=0.0, clipnorm=None):
        super().__init__(lr, weight_decay, clipnorm)
        self.rho = float(check_number(rho, "rho", low=0, high=1, high_open=True))
        self.eps = float(check_number(eps, "eps", low=0, low_open=True))

    def _new_state(self, p):
        return {"v": np.zeros_like(p)}

    def _update(self, p, g, state, lr):
        v, step = state["v"], state["scratch"]
        v *= self.rho                                    # v = rho v + (1 - rho) g^2
        np.square(g, out=step)
        step *= 1 - self.rho
        v += step
        _scaled_step(p, g, v, self.eps, lr, step)        # theta -= lr g / (sqrt(v) + eps)


class Adam(Optimizer):
    r"""Adam: momentum and RMSprop together, with bias correction.

    .. math::
        m &\leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
        v \leftarrow \beta_2 v + (1 - \beta_2) g^2 \\
        \hat m &= m / (1 - \beta_1^t), \qquad \hat v = v / (1 - \beta_2^t) \\
        \theta &\leftarrow \theta - \eta\, \hat m / (\sqrt{\hat v} + \epsilon)

    :math:`m` and :math:`v` start at 0, so early averages are too small; dividing
    by :math:`1 - \beta^t` corrects exactly for that.

    What is stored are the *decayed sums* :math:`s = \sum_k \beta_1^{t-k} g_k` and
    :math:`r = \sum_k \beta_2^{t-k} g_k^2`, updated as :math:`s \leftarrow \beta_1 s + g`:
    :math:`m = (1 - \beta_1) s` and :math:`v = (1 - \beta_2) r`. Bias correction then reads
    as what it is, a weighted sum divided by its total weight
    :math:`w_1 = 1 + \beta_1 + \dots + \beta_1^{t-1}`, that is
    :math:`(1 - \beta_1^t) / (1 - \beta_1)`: :math:`\hat m = s / w_1` and
    :math:`\hat v = r / w_2`, and the step is

    .. math::
        \theta \leftarrow \theta - \frac{\eta \sqrt{w_2}}{w_1}\,
        \frac{s}{\sqrt{r} + \epsilon \sqrt{w_2}}.

    It is PyTorch's update, its constants gathered into two scalars: 10 passes over each
    array instead of 13, 23 % less time in Adam (``benchmarks/bench_train.py``'s MLP).

    Examples
    --------
    >>> p = np.array([0.0])
    >>> Adam(lr=0.1).step([p], [np.array([1234.0])]); p   # first step: lr times the sign
    array([-0.1])
    """

    squares = ("decayed_sum_sq",)

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
                 clipnorm=None):
        super().__init__(lr, weight_decay, clipnorm)
        self.beta1 = float(check_number(beta1, "beta1", low=0, high=1, high_open=True))
        self.beta2 = float(check_number(beta2, "beta2", low=0, high=1, high_open=True))
        self.eps = float(check_number(eps, "eps", low=0, low_open=True))

    def _new_state(self, p):
        return {"decayed_sum": np.zeros_like(p), "decayed_sum_sq": np.zeros_like(p)}

    def _update(self, p, g, state, lr):
        s, r = state["decayed_sum"], state["decayed_sum_sq"]
        step = state["scratch"]
        t = self.iterations
        w1 = (1 - self.beta1**t) / (1 - self.beta1)  # total weight of each sum
        w2 = (1 - self.beta2**t) / (1 - self.beta2)
        s *= self.beta1               # s = beta1 s + g, m_hat = s / w1
        s += g
        r *= self.beta2               # r = beta2 r + g^2, v_hat = r / w2
        np.square(g, out=step)
        r += step
        np.sqrt(r, out=step)          # sqrt(w2) (sqrt(v_hat) + eps)
        step += self.eps * w2**0.5
        np.divide(s, step, out=step)  # theta -= lr m_hat / (sqrt(v_hat) + eps)
        step *= lr * w2**0.5 / w1
        p -= step


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov and Hutter, 2019), as PyTorch's AdamW.

    .. math::
        \theta &\leftarrow \theta - \eta \lambda \theta \\
        \theta &\leftarrow \theta - \eta\, \hat m / (\sqrt{\hat v} + \epsilon)

    where :math:`\hat m` and :math:`\hat v` are Adam's, made from the gradient :math:`g` of
    the loss alone, and :math:`\eta` is the step's rate (a schedule's, if ``lr`` is one).
    :class:`Adam`'s ``weight_decay`` adds :math:`\lambda \theta` to :math:`g` instead (L2
    regularization). There the decay goes through :math:`\hat m` and is divided by
    :math:`\sqrt{\hat v}` as the gradient is: a weight with large gradients is hardly
    decayed, and one with tiny gradients is pulled to 0 by about :math:`\eta` a step.
    AdamW shrinks every weight by the same fraction :math:`\eta \lambda` a step, as weight
    decay does in plain SGD, whatever the size of its gradients.

    Examples
    --------
    >>> p = np.array([2.0])    # decayed to 1.9, then Adam's first step of -lr
    >>> AdamW(lr=0.1, weight_decay=0.5).step([p], [np.array([1234.0])]); p
    array([1.8])
    """

    decoupled_weight_decay = True

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01,
                 clipnorm=None):
        super().__init__(lr, beta1, beta2, eps, weight_decay, clipnorm)

    def _update(self, p, g, state, lr):
        # Before Adam's step, and never through g: the decay is not divided by sqrt(v_hat).
        p *= 1 - lr * self.weight_decay
        super()._update(p, g, state, lr)


_REGISTRY = {
    "sgd": SGD,
    "momentum": partial(SGD, momentum=0.9),
    "nesterov": partial(SGD, momentum=0.9, nesterov=True),
    "adagrad": AdaGrad,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
}
NAMES = tuple(_REGISTRY)


def get(identifier, **kwargs):
    """Return an optimizer: an instance as is, or a new one by name with ``kwargs``.

    Examples
    --------
    >>> get("adam", lr=0.01)
    Adam(weight_decay=0.0, clipnorm=None, beta1=0.9, beta2=0.999, eps=1e-08, lr=0.01)
    """
    if isinstance(identifier, Optimizer):
        if kwargs:
            raise ValueError(f"constructor arguments {kwargs} need an optimizer name, "
                             f"not the ready-made {identifier!r}")
        return identifier
    return build(lookup(identifier, _REGISTRY, "optimizer"), kwargs, identifier, "optimizer")
