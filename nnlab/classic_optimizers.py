r"""Optimizers from before deep learning: Rprop and ASGD.

Rprop (1993) forgets the size of the gradient and keeps its sign: each weight learns its
own step size, larger while its gradient keeps its sign, smaller when it flips. It was
made for full-batch training, where a flip means a minimum was jumped over, not noise.
ASGD (averaged SGD, 1992) takes SGD's steps with a slowly decaying rate and keeps the
running average of the weights it visits: the average, not the last weights, is the
answer, and it converges at the best rate that stochastic gradients allow. Both follow
PyTorch's ``torch.optim`` and are re-exported by ``nnlab.optimizers``, whose ``get`` finds
them as ``"rprop"`` and ``"asgd"``; what every optimizer shares is in
``nnlab.optimizer_base``.
"""

import numpy as np

from nnlab._checks import check_number
from nnlab.optimizer_base import Optimizer
from nnlab.schedules import rate_at

__all__ = ["ASGD", "Rprop"]


class Rprop(Optimizer):
    r"""Rprop (Riedmiller and Braun, 1993): a step size per weight, adapted by signs alone.

    For each weight, with :math:`g'` the sign of the gradient kept from the step before (0 at
    first; only signs are ever compared, so no product of two gradients can overflow, or
    underflow: PyTorch multiplies the gradients themselves, and two of 1e-200 in float64, or
    1e-23 in float32, make a product of 0 there, which keeps the step size where nnlab's
    grows):

    .. math::
        \Delta &\leftarrow \begin{cases}
            \min(\eta_+ \Delta, \Delta_{\max}) & \text{if } g g' > 0 \\
            \max(\eta_- \Delta, \Delta_{\min}), \quad g \leftarrow 0 & \text{if } g g' < 0 \\
            \Delta & \text{otherwise}
        \end{cases} \\
        \theta &\leftarrow \theta - \Delta\, \operatorname{sign}(g), \qquad
        g' \leftarrow \operatorname{sign}(g)

    While the gradient keeps its sign, the weight is still going downhill: its step grows by
    :math:`\eta_+` (``etaplus``). When the sign flips, the last step jumped over a minimum:
    the step shrinks by :math:`\eta_-` (``etaminus``), and the weight rests for this step.
    Its gradient is kept as 0, so that the next step neither grows nor shrinks
    :math:`\Delta` (Riedmiller and Braun's original also took the jump back; this is
    PyTorch's rule, Igel and Hüsken's iRprop-). The size of the gradient never enters: a
    weight with tiny gradients steps as far as one with huge gradients.

    ``lr`` is the step size :math:`\Delta` that every weight starts with, so the first step
    is :math:`\theta \leftarrow \theta - \eta\, \operatorname{sign}(g)` (``lr`` kept in
    :math:`[\Delta_{\min}, \Delta_{\max}]`, the bounds ``step_size_min`` and
    ``step_size_max``). It is read once, when the step sizes are made: a schedule would
    have no effect, and is refused. Train on the full batch (``batch_size=len(X)``):
    mini-batch noise flips signs at random, and shrinks the steps for nothing. The defaults
    are PyTorch's, which has no ``weight_decay`` for Rprop (nnlab's adds :math:`\lambda\theta`
    to :math:`g`, as everywhere).

    Examples
    --------
    >>> p = np.array([0.0, 0.0])
    >>> opt = nl.optimizers.Rprop(lr=0.1)
    >>> opt.step([p], [np.array([1234.0, -0.001])]); p   # lr against the sign
    array([-0.1,  0.1])
    >>> opt.step([p], [np.array([5.0, 0.001])]); p       # same sign: 1.2 lr; flipped: rest
    array([-0.22,  0.1 ])
    """

    squares = ("step_size",)

    def __init__(self, lr=1e-2, etaminus=0.5, etaplus=1.2, step_size_min=1e-6,
                 step_size_max=50.0, weight_decay=0.0,
                 clipnorm=None, clipvalue=None, global_clipnorm=None):
        super().__init__(lr, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.etaminus = self._hyper(etaminus, "etaminus", low=0, high=1, low_open=True,
                                           high_open=True)
        self.etaplus = self._hyper(etaplus, "etaplus", low=1, low_open=True)
        self.step_size_min = self._hyper(step_size_min, "step_size_min", low=0,
                                                low_open=True)
        self.step_size_max = self._hyper(step_size_max, "step_size_max",
                                                low=self.step_size_min)
        self._masks = {}

    @property
    def lr(self):
        """The initial step size of every weight, a positive float (no schedule)."""
        return self._lr

    @lr.setter
    def lr(self, value):
        if callable(value):
            raise ValueError("Rprop's lr is the step size every weight starts with, read "
                             "once: a schedule would have no effect; give a number, "
                             f"got {value!r}")
        Optimizer.lr.fset(self, value)

    def _new_state(self, p):
        return {"prev": np.zeros_like(p), "step_size": np.full_like(p, self.lr)}

    def _mask(self, shape):
        """A boolean scratch array of this shape (where the sign held, then where it flipped),
        shared by the parameters of that shape. It is the optimizer's, not in a parameter's
        state, whose every array has the parameter's dtype."""
        if shape not in self._masks:
            self._masks[shape] = np.empty(shape, dtype=bool)
        return self._masks[shape]

    def _update(self, p, g, state, lr):
        prev, size, step = state["prev"], state["step_size"], state["scratch"]
        mask = self._mask(p.shape)
        np.sign(g, out=step)
        prev *= step                                     # sign(g) sign(g') > 0: the same sign
        np.greater(prev, 0, out=mask)                    # size = min(etaplus size, max)
        np.multiply(size, self.etaplus, out=size, where=mask)
        np.less(prev, 0, out=mask)                       # size = max(etaminus size, min)
        np.multiply(size, self.etaminus, out=size, where=mask)
        np.clip(size, self.step_size_min, self.step_size_max, out=size)
        np.copyto(prev, step)                            # g' = sign(g), but 0 where it flipped
        np.copyto(prev, 0, where=mask)
        np.multiply(prev, size, out=step)                # theta -= size sign(g)
        p -= step


class ASGD(Optimizer):
    r"""Averaged SGD (Polyak and Juditsky, 1992), as PyTorch's ASGD.

    .. math::
        \eta_t &= \frac{\gamma}{(1 + \lambda \gamma (t - 1))^{\alpha}}, \qquad
        \mu_t = \frac{1}{\max(1,\ t - 1 - t_0)} \\
        \theta &\leftarrow (1 - \lambda \eta_t)\, \theta - \eta_t\, g \\
        \bar\theta &\leftarrow \bar\theta + \mu_t (\theta - \bar\theta)

    with :math:`\gamma` the rate ``lr``, :math:`\lambda` ``lambd``, :math:`\alpha` ``alpha``
    and :math:`t_0` ``t0``. The rate decays as :math:`t^{-\alpha}` once
    :math:`\lambda \gamma t` is past 1, and :math:`\lambda` also decays the weights (an L2
    penalty :math:`\tfrac{\lambda}{2}\lVert\theta\rVert^2`, besides ``weight_decay``); these
    are the rates Bottou recommends for averaged SGD (2012). Up to step :math:`t_0 + 2`,
    :math:`\mu_t = 1` and :math:`\bar\theta` is a copy of :math:`\theta`; after it, for an
    integer :math:`t_0`, :math:`\bar\theta` is the mean of the weights of every step from
    :math:`t_0 + 2` on. The noise of the steps averages out in :math:`\bar\theta`, which is
    the answer to evaluate: :meth:`averaged_params` gives it. The defaults are PyTorch's;
    :math:`t_0 = 10^6` starts the averaging after a million steps, so that a short run is
    SGD with a slowly decaying rate: give a smaller ``t0`` to average.

    :math:`\eta_t` and :math:`\mu_t` are the same for every weight, so they are the
    optimizer's (PyTorch keeps a copy per parameter). As in PyTorch, each step fixes the
    next one's :math:`\eta` and :math:`\mu` at its end: ``lr``, ``lambd``, ``alpha`` or
    ``t0`` changed between steps enters them from the step after next (``lambd``'s decay
    of the weights takes its new value at once). A model file keeps those two numbers
    (``shared_state``), the step count and :math:`\bar\theta`, so that a loaded model
    takes the steps it would have taken (but under a schedule function of one's own,
    which a file cannot keep, it goes on at the rate the schedule gave when saved; nnlab's
    schedules are kept whole).

    Examples
    --------
    >>> p = np.array([1.0])
    >>> opt = nl.optimizers.ASGD(lr=0.1, t0=0)
    >>> for g in (1.0, 1.0, 1.0):        # eta_1 = 0.1, then a little less each step
    ...     opt.step([p], [np.array([g])])
    >>> p, opt.averaged_params()         # the average of the weights of steps 2 and 3
    (array([0.69997525]), [array([0.7499785])])
    """

    def __init__(self, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0,
                 clipnorm=None, clipvalue=None, global_clipnorm=None):
        super().__init__(lr, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.lambd = self._hyper(lambd, "lambd", low=0)
        self.alpha = self._hyper(alpha, "alpha", low=0)
        self.t0 = self._hyper(t0, "t0", low=0)
        self._eta = self._mu = None   # those of the step being taken, set by apply_gradients
        self._next = None   # (eta, mu) of the next step, fixed at the end of the last one

    def _new_state(self, p):
        return {"ax": np.zeros_like(p)}

    def eta(self, t):
        r""":math:`\eta_t`, the rate of step ``t`` (counted from 1).

        PyTorch computes :math:`\eta_t` at the end of step :math:`t - 1`, from the rate of
        that step: with a schedule, :math:`\gamma` is the rate of the step before (that of
        the first step, at :math:`t = 1`).
        """
        lr = self.lr
        if callable(lr):   # step t - 1's rate is lr(t - 2): the schedule counts from 0
            lr = rate_at(lr, max(t - 2, 0), type(self).__name__)
        try:
            return lr / (1 + self.lambd * lr * (t - 1))**self.alpha
        except OverflowError:   # a Python float's power raises where PyTorch's tensor gives inf
            return 0.0

    def mu(self, t):
        r""":math:`\mu_t`, the weight of step ``t``'s parameters in their average."""
        return 1 / max(1, t - 1 - self.t0)

    def apply_gradients(self, params, grads):
        # eta_t and mu_t are the same for every weight: computed once a step (a schedule
        # called once, not once per parameter array), before any update, as the base class
        # evaluates lr, so that a schedule's bad value changes nothing, not even the count.
        # As PyTorch, the step before fixed them at its end: lr, alpha or t0 changed since
        # then act from the next step on (lambd's decay term takes its value now).
        t = self.iterations + 1
        self._eta, self._mu = self._next or (self.eta(t), self.mu(t))
        super().apply_gradients(params, grads)
        self._next = (self.eta(t + 1), self.mu(t + 1))

    def reset(self):
        super().reset()
        self._next = None

    def shared_state(self):
        return dict(zip(("eta", "mu"), self._next, strict=True)) if self._next else {}

    def set_shared_state(self, state):
        super().set_shared_state({k: v for k, v in state.items() if k not in ("eta", "mu")})
        if state:
            self._next = (float(check_number(state.get("eta"), "ASGD's eta", low=0)),
                          float(check_number(state.get("mu"), "ASGD's mu", low=0,
                                             low_open=True, high=1)))

    def averaged_params(self):
        r"""Copies of the averaged parameters :math:`\bar\theta`, in the order of ``params``.

        To evaluate a model with them, copy them into its arrays (the optimizer knows the
        arrays it updates by identity), after keeping the weights to train on::

            weights = [p.copy() for p in model.params]
            for p, average in zip(model.params, model.optimizer.averaged_params()):
                p[...] = average          # then evaluate, predict, save...
        """
        if self.state is None:
            raise ValueError("ASGD has taken no step yet: there is no average of the "
                             "parameters to give")
        return [s["ax"].copy() for s in self.state]

    def _update(self, p, g, state, lr):
        ax, step = state["ax"], state["scratch"]
        eta, mu = self._eta, self._mu
        p *= 1 - self.lambd * eta                        # theta = (1 - lambd eta) theta
        np.multiply(g, eta, out=step)                    #         - eta g
        p -= step
        if mu == 1:
            ax[...] = p                                  # a copy: ax + (p - ax) would round
        else:
            np.subtract(p, ax, out=step)                 # ax += mu (theta - ax)
            step *= mu
            ax += step
