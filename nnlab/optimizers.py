r"""Optimizers: the rules that turn gradients into parameter updates.

Every optimizer is used the same way::

    opt = Adam(lr=1e-3)
    opt.step(params, grads)   # lists of arrays; params are updated in place

This module holds SGD (with momentum and Nesterov's), the per-coordinate rates of
AdaGrad, RMSprop and Adadelta, and ``get``, which finds any optimizer by its Keras
name (PyTorch's, for those Keras lacks). Adam and its variants (AdamW, Adamax, NAdam,
RAdam) are in ``nnlab.adam``, Rprop and ASGD (from before deep learning) in
``nnlab.classic_optimizers``, Lion, Adafactor and Muon (less state than Adam) in
``nnlab.lean_optimizers``, Ftrl (for wide sparse models) in ``nnlab.ftrl``, the
learning-rate schedules in ``nnlab.schedules``, and what every optimizer shares
(validation, schedules, ``weight_decay``, gradient clipping, state kept in place) in
``nnlab.optimizer_base``; every optimizer, ``Optimizer``, ``exponential_decay`` and
``step_decay`` are importable from here. Whose update rules they follow
(PyTorch's documented ones, but for three) is said there; each shows its textbook
formula in its docstring and as comments.
"""

from functools import partial

import numpy as np

from nnlab._checks import build, check_bool, lookup
from nnlab.adam import Adam, Adamax, AdamW, NAdam, RAdam
from nnlab.classic_optimizers import ASGD, Rprop
from nnlab.ftrl import Ftrl
from nnlab.lean_optimizers import Adafactor, Lion, Muon
from nnlab.optimizer_base import Optimizer, _scaled_step
from nnlab.schedules import exponential_decay, step_decay

__all__ = ["ASGD", "NAMES", "SGD", "AdaGrad", "Adadelta", "Adafactor", "Adam", "AdamW",
           "Adamax", "Ftrl", "Lion", "Muon", "NAdam", "Optimizer", "RAdam", "RMSprop", "Rprop",
           "exponential_decay", "get", "step_decay"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, with optional (Nesterov) momentum.

    Plain: :math:`\theta \leftarrow \theta - \eta g`.

    With momentum :math:`\mu` (Polyak's heavy ball): a velocity accumulates
    past gradients, :math:`b \leftarrow \mu b + g` (:math:`b_1 = g_1`), and
    :math:`\theta \leftarrow \theta - \eta b`. Steps along a consistent direction
    add up, oscillations across a ravine cancel out.

    Nesterov: the step uses :math:`g + \mu b` instead of :math:`b`, a look at
    where the momentum is about to carry the parameters.

    The default rate, :math:`\eta = 0.01`, is Keras's (PyTorch's is 0.001); the rest are
    both libraries' defaults.

    Examples
    --------
    >>> p, g = [np.array([1.0])], [np.array([0.5])]
    >>> nl.optimizers.SGD(lr=0.1).step(p, g); p[0]
    array([0.95])
    """

    def __init__(self, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0,
                 clipnorm=None, clipvalue=None, global_clipnorm=None):
        super().__init__(lr, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.momentum = self._hyper(momentum, "momentum", low=0, high=1, high_open=True)
        check_bool(nesterov, "nesterov")
        if nesterov and momentum == 0:
            raise ValueError("SGD: nesterov=True needs a momentum > 0; got momentum=0")
        self.nesterov = bool(nesterov)

    def _new_state(self, p):
        return {"b": np.zeros_like(p)} if self.momentum else {}

    def _update(self, p, g, state, lr):
        step = state["scratch"]
        if not self.momentum:
            np.multiply(g, lr, out=step)                 # theta -= lr g
            p -= step
            return
        b = state.get("b")
        if b is None:   # momentum set after the first step: it starts there, as in PyTorch
            b = state["b"] = g.copy()
        else:
            b *= self.momentum                           # b = mu b + g
            b += g                                       # (b starts at 0: b_1 = g_1)
        if self.nesterov:
            np.multiply(b, self.momentum, out=step)      # theta -= lr (g + mu b)
            step += g
        else:
            step[...] = b                                # theta -= lr b
        step *= lr
        p -= step


class AdaGrad(Optimizer):
    r"""AdaGrad: a learning rate per coordinate, shrinking with the gradients seen.

    :math:`h \leftarrow h + g^2`,
    :math:`\theta \leftarrow \theta - \eta\, g / (\sqrt{h} + \epsilon)`.
    Rarely-updated coordinates keep large steps; but :math:`h` only grows, so
    learning eventually stalls. The defaults are PyTorch's (:math:`h` starts at 0, as
    there); Keras's are ``learning_rate=0.001``, ``epsilon=1e-7`` and a start of 0.1.

    Examples
    --------
    >>> p, opt = [np.array([1.0])], nl.optimizers.AdaGrad(lr=0.1)
    >>> for _ in range(2):              # steps of 0.1 g / sqrt(16), then / sqrt(32)
    ...     opt.step(p, [np.array([4.0])])
    >>> p[0]
    array([0.82928932])
    """

    squares = ("sum",)

    def __init__(self, lr=0.01, eps=1e-10, weight_decay=0.0,
                 clipnorm=None, clipvalue=None, global_clipnorm=None):
        super().__init__(lr, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.eps = self._hyper(eps, "eps", low=0, low_open=True)

    def _new_state(self, p):
        return {"sum": np.zeros_like(p)}

    def _update(self, p, g, state, lr):
        h, step = state["sum"], state["scratch"]
        np.square(g, out=step)                           # h += g^2
        h += step
        _scaled_step(p, g, h, self.eps, lr, step)        # theta -= lr g / (sqrt(h) + eps)


class RMSprop(Optimizer):
    r"""RMSprop: AdaGrad with a forgetting running average of squared gradients.

    :math:`v \leftarrow \rho v + (1 - \rho) g^2`,
    :math:`\theta \leftarrow \theta - \eta\, g / (\sqrt{v} + \epsilon)`.
    ``rho`` is PyTorch's ``alpha``. Old gradients fade, so the step size does not
    decay to zero as in AdaGrad. The defaults mix the two libraries: ``lr`` and ``eps`` are
    PyTorch's, ``rho = 0.9`` Keras's (PyTorch's ``alpha`` is 0.99).

    Examples
    --------
    >>> p = [np.array([1.0])]          # v = 0.1 * 16: a step of 0.01 * 4 / sqrt(1.6)
    >>> nl.optimizers.RMSprop(lr=0.01).step(p, [np.array([4.0])]); p[0]
    array([0.96837722])
    """

    squares = ("v",)

    def __init__(self, lr=0.01, rho=0.9, eps=1e-8, weight_decay=0.0,
                 clipnorm=None, clipvalue=None, global_clipnorm=None):
        super().__init__(lr, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.rho = self._hyper(rho, "rho", low=0, high=1, high_open=True)
        self.eps = self._hyper(eps, "eps", low=0, low_open=True)

    def _new_state(self, p):
        return {"v": np.zeros_like(p)}

    def _update(self, p, g, state, lr):
        v, step = state["v"], state["scratch"]
        v *= self.rho                                    # v = rho v + (1 - rho) g^2
        np.square(g, out=step)
        step *= 1 - self.rho
        v += step
        _scaled_step(p, g, v, self.eps, lr, step)        # theta -= lr g / (sqrt(v) + eps)


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012): RMSprop whose step carries its own units.

    .. math::
        v &\leftarrow \rho v + (1 - \rho) g^2 \\
        \Delta &= \frac{\sqrt{u + \epsilon}}{\sqrt{v + \epsilon}}\, g, \qquad
        u \leftarrow \rho u + (1 - \rho) \Delta^2 \\
        \theta &\leftarrow \theta - \eta\, \Delta

    RMSprop's step :math:`\eta g / \sqrt{v}` has no units of :math:`\theta` (a gradient
    over its own size); Adadelta multiplies by the root of a running average of its past
    *steps* :math:`u`, so that the step has the units of :math:`\theta` and needs no
    learning rate: PyTorch's default :math:`\eta = 1` leaves it out. :math:`\epsilon`
    starts it (:math:`u = 0` at first) and matters: the first step is
    :math:`\sqrt{\epsilon / (1 - \rho)}` in size in every coordinate whose gradient is large
    beside that same :math:`\sqrt{\epsilon / (1 - \rho)}` (smaller gradients step less).

    Examples
    --------
    >>> p = np.array([0.0])
    >>> nl.optimizers.Adadelta().step([p], [np.array([1234.0])]); p   # sqrt(eps / 0.1)
    array([-0.00316228])
    """

    squares = ("square_avg", "acc_delta")

    def __init__(self, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0,
                 clipnorm=None, clipvalue=None, global_clipnorm=None):
        super().__init__(lr, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.rho = self._hyper(rho, "rho", low=0, high=1, high_open=True)
        self.eps = self._hyper(eps, "eps", low=0, low_open=True)

    def _new_state(self, p):
        return {"square_avg": np.zeros_like(p), "acc_delta": np.zeros_like(p),
                "scratch_delta": np.empty_like(p)}

    def _update(self, p, g, state, lr):
        v, u = state["square_avg"], state["acc_delta"]
        step, delta = state["scratch"], state["scratch_delta"]
        v *= self.rho                                    # v = rho v + (1 - rho) g^2
        np.square(g, out=step)
        step *= 1 - self.rho
        v += step
        np.add(u, self.eps, out=delta)                   # delta = sqrt(u + eps) g
        np.sqrt(delta, out=delta)                        #         / sqrt(v + eps)
        delta *= g
        np.add(v, self.eps, out=step)
        np.sqrt(step, out=step)
        delta /= step
        u *= self.rho                                    # u = rho u + (1 - rho) delta^2
        np.square(delta, out=step)
        step *= 1 - self.rho
        u += step
        delta *= lr                                      # theta -= lr delta
        p -= delta


_REGISTRY = {
    "sgd": SGD,
    "momentum": partial(SGD, momentum=0.9),
    "nesterov": partial(SGD, momentum=0.9, nesterov=True),
    "adagrad": AdaGrad,
    "rmsprop": RMSprop,
    "adadelta": Adadelta,
    "adam": Adam,
    "adamw": AdamW,
    "adamax": Adamax,
    "nadam": NAdam,
    "radam": RAdam,
    "rprop": Rprop,
    "asgd": ASGD,
    "lion": Lion,
    "adafactor": Adafactor,
    "muon": Muon,
    "ftrl": Ftrl,
}
#: Every name ``get`` accepts (Keras's, PyTorch's for those Keras lacks, and ``momentum``
#: and ``nesterov`` for SGD's).
NAMES = tuple(_REGISTRY)


def get(name, **kwargs):
    """Return an optimizer: an instance as is, or a new one by name with ``kwargs``.

    Examples
    --------
    >>> nl.optimizers.get("adam", lr=0.01)  # doctest: +NORMALIZE_WHITESPACE
    Adam(weight_decay=0.0, clipnorm=None, clipvalue=None, global_clipnorm=None, beta1=0.9,
         beta2=0.999, eps=1e-08, lr=0.01)
    """
    if isinstance(name, Optimizer):
        if kwargs:
            raise ValueError(f"constructor arguments {kwargs} need an optimizer name, "
                             f"not the ready-made {name!r}")
        return name
    optimizer = lookup(name, _REGISTRY, "optimizer", base=Optimizer)
    return build(optimizer, kwargs, name, "optimizer")
