r"""Adam and its variants: AdamW, Adamax, NAdam and RAdam.

Each keeps two running statistics per weight: an average of the gradient (the
momentum :math:`m`), and a measure of its size, the root of an average of its square
:math:`\sqrt v` (for Adamax a running maximum of :math:`|g|`). The step divides the one
by the other: about :math:`\eta` in every coordinate, whatever the scale of its
gradients. They
differ in what they add: AdamW decays the weights apart from the gradient,
Adamax replaces the root mean square by a maximum, NAdam takes Nesterov's look
ahead, RAdam waits until the root mean square can be trusted. The update rules are
those of PyTorch's ``torch.optim``, and the names Keras's (``"adam"``, ``"adamw"``,
``"adamax"``, ``"nadam"``; PyTorch's ``"radam"``); what every optimizer shares is in
``nnlab.optimizer_base``.
"""

import numpy as np

from nnlab._checks import check_bool, check_number
from nnlab.optimizer_base import Optimizer, _scaled_step

__all__ = ["Adam", "AdamW", "Adamax", "NAdam", "RAdam"]


def _betas(optimizer, beta1, beta2):
    return (optimizer._hyper(beta1, "beta1", low=0, high=1, high_open=True),
            optimizer._hyper(beta2, "beta2", low=0, high=1, high_open=True))


class Adam(Optimizer):
    r"""Adam: momentum and RMSprop together, with bias correction.

    .. math::
        m &\leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
        v \leftarrow \beta_2 v + (1 - \beta_2) g^2 \\
        \hat m &= m / (1 - \beta_1^t), \qquad \hat v = v / (1 - \beta_2^t) \\
        \theta &\leftarrow \theta - \eta\, \hat m / (\sqrt{\hat v} + \epsilon)

    :math:`m` and :math:`v` start at 0, so early averages are too small; dividing
    by :math:`1 - \beta^t` corrects exactly for that. The defaults are PyTorch's (Keras's
    ``epsilon`` is 1e-7).

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
    (Keeping :math:`\sqrt r` instead of :math:`r` would update it and take its root in one
    call, ``np.hypot(sqrt(beta2) q, g)``, two passes fewer; but NumPy's ``hypot`` is not
    vectorized, and measured here it takes 30-45 times as long as ``np.square``.)
    The price is range: :math:`r` grows to :math:`1 / (1 - \beta_2)` times PyTorch's
    :math:`v`, so in float32 it overflows for gradients above about :math:`6 \cdot 10^{17}`
    (:math:`\sqrt{3.4 \cdot 10^{38} (1 - \beta_2)}`), where PyTorch's overflows above
    :math:`1.8 \cdot 10^{19}`. Past that, :math:`r` is inf and the weight stops moving:
    train float32 models on gradients that size in float64, or clip them.
    The sums hold the betas they were made with: a change of ``beta1`` or ``beta2``
    between steps rescales them first (``settle``), and the steps stay PyTorch's.

    Examples
    --------
    >>> p = np.array([0.0])   # the first step: lr times the sign
    >>> nl.optimizers.Adam(lr=0.1).step([p], [np.array([1234.0])]); p
    array([-0.1])
    """

    squares = ("decayed_sum_sq",)

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
                 clipnorm=None, clipvalue=None, global_clipnorm=None):
        super().__init__(lr, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.beta1, self.beta2 = _betas(self, beta1, beta2)
        self.eps = self._hyper(eps, "eps", low=0, low_open=True)
        self._summed_with = None   # the betas the decayed sums were made with

    def _new_state(self, p):
        return {"decayed_sum": np.zeros_like(p), "decayed_sum_sq": np.zeros_like(p)}

    def _update(self, p, g, state, lr):
        # The textbook step, with m and v kept as s = m / (1 - beta1) and
        # r = v / (1 - beta2):
        #   m = beta1 m + (1 - beta1) g,  v = beta2 v + (1 - beta2) g^2
        #   theta -= lr m_hat / (sqrt(v_hat) + eps),
        #   m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)
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

    def settle(self):
        """Rescale the decayed sums after a change of beta1 or beta2 since the last step.

        They are PyTorch's averages m and v over 1 - beta1 and 1 - beta2, for the betas
        they were summed with (a one-cycle schedule changes beta1 at every step): rescaled,
        m and v go on unchanged, and the next step is PyTorch's with the new betas."""
        self._rescale_sums(self.state or [])

    def _rescale_sums(self, states):
        betas = (self.beta1, self.beta2)
        if self._summed_with not in (None, betas):   # None: fresh, loaded or reset
            old1, old2 = self._summed_with
            for state in states:
                state["decayed_sum"] *= (1 - old1) / (1 - self.beta1)
                state["decayed_sum_sq"] *= (1 - old2) / (1 - self.beta2)
        self._summed_with = betas if states else None

    def reset(self):
        super().reset()
        self._summed_with = None


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
    decay does in plain SGD, whatever the size of its gradients. The defaults are PyTorch's
    (Keras's ``weight_decay`` is 0.004 and its ``epsilon`` 1e-7).

    Examples
    --------
    >>> p = np.array([2.0])    # decayed to 1.9, then Adam's first step of -lr
    >>> nl.optimizers.AdamW(lr=0.1, weight_decay=0.5).step([p], [np.array([1234.0])]); p
    array([1.8])
    """

    decoupled_weight_decay = True

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01,
                 clipnorm=None, clipvalue=None, global_clipnorm=None):
        super().__init__(lr, beta1, beta2, eps, weight_decay, clipnorm, clipvalue,
                         global_clipnorm)

    def _update(self, p, g, state, lr):
        # Before Adam's step, and never through g: the decay is not divided by sqrt(v_hat).
        p *= 1 - lr * self.weight_decay
        super()._update(p, g, state, lr)


class Adamax(Optimizer):
    r"""Adamax (Kingma and Ba, 2015): Adam with the largest recent gradient size for a scale.

    .. math::
        m &\leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
        u \leftarrow \max(\beta_2 u, |g| + \epsilon) \\
        \theta &\leftarrow \theta - \frac{\eta}{1 - \beta_1^t}\, \frac{m}{u}

    Adam divides by the root of a running average of :math:`g^2`; Adamax by a running
    maximum of :math:`|g|`, which the paper derives as the limit of an average of
    :math:`|g|^p` as :math:`p \to \infty`. A maximum needs no bias correction: it is not
    pulled towards its start at 0. PyTorch adds :math:`\epsilon` inside the maximum
    (Keras adds it to :math:`u`); the default rate is PyTorch's, 0.002.

    Examples
    --------
    >>> p = np.array([0.0])   # the first step: lr times the sign
    >>> nl.optimizers.Adamax(lr=0.1).step([p], [np.array([1234.0])]); p
    array([-0.1])
    """

    squares = ("exp_inf",)   # a maximum of sizes, never negative

    def __init__(self, lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
                 clipnorm=None, clipvalue=None, global_clipnorm=None):
        super().__init__(lr, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.beta1, self.beta2 = _betas(self, beta1, beta2)
        self.eps = self._hyper(eps, "eps", low=0, low_open=True)

    def _new_state(self, p):
        return {"exp_avg": np.zeros_like(p), "exp_inf": np.zeros_like(p)}

    def _update(self, p, g, state, lr):
        m, u, step = state["exp_avg"], state["exp_inf"], state["scratch"]
        m *= self.beta1                                  # m = beta1 m + (1 - beta1) g
        np.multiply(g, 1 - self.beta1, out=step)
        m += step
        u *= self.beta2                                  # u = max(beta2 u, |g| + eps)
        np.abs(g, out=step)
        step += self.eps
        np.maximum(u, step, out=u)
        np.divide(m, u, out=step)                        # theta -= lr / (1 - beta1^t) m / u
        step *= lr / (1 - self.beta1**self.iterations)
        p -= step


class NAdam(Optimizer):
    r"""NAdam (Dozat, 2016): Adam whose momentum looks ahead, as Nesterov's does.

    The momentum factor rises slowly from :math:`\beta_1/2` towards :math:`\beta_1`,
    :math:`\mu_t = \beta_1 (1 - \tfrac12\, 0.96^{t\psi})` with the momentum decay
    :math:`\psi`, and the step mixes the momentum of the *next* step with today's
    gradient, each divided by its own bias correction:

    .. math::
        m &\leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
        v \leftarrow \beta_2 v + (1 - \beta_2) g^2 \\
        \hat m &= \frac{\mu_{t+1}\, m}{1 - \prod_{i=1}^{t+1} \mu_i}
                + \frac{(1 - \mu_t)\, g}{1 - \prod_{i=1}^{t} \mu_i}, \qquad
        \hat v = \frac{v}{1 - \beta_2^t} \\
        \theta &\leftarrow \theta - \eta\, \hat m / (\sqrt{\hat v} + \epsilon)

    Plain Nesterov momentum steps with :math:`g + \mu b` (``SGD(nesterov=True)``): the
    momentum applied once more, as if from where it is about to carry the weights. This is
    that idea written into Adam. The defaults are PyTorch's: rate 0.002 and
    :math:`\psi = 0.004`, Dozat's schedule. Keras 3's ``Nadam`` uses
    :math:`0.96^t`, which is ``momentum_decay=1``, with ``lr=1e-3`` and ``eps=1e-7``.

    Examples
    --------
    >>> p = np.array([0.0])
    >>> nl.optimizers.NAdam(lr=0.1).step([p], [np.array([1234.0])]); p   # a little more than lr
    array([-0.10564518])
    """

    squares = ("exp_avg_sq",)

    def __init__(self, lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, momentum_decay=4e-3,
                 weight_decay=0.0, clipnorm=None, clipvalue=None, global_clipnorm=None):
        super().__init__(lr, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.beta1, self.beta2 = _betas(self, beta1, beta2)
        self.eps = self._hyper(eps, "eps", low=0, low_open=True)
        self.momentum_decay = self._hyper(momentum_decay, "momentum_decay", low=0)
        self._product, self._product_step = 1.0, 0   # mu_1 ... mu_t, and its t

    def _new_state(self, p):
        return {"exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p),
                "scratch_denom": np.empty_like(p)}

    def _mu(self, t):
        return self.beta1 * (1 - 0.5 * 0.96 ** (t * self.momentum_decay))

    def _mu_product(self, t):
        """mu_1 mu_2 ... mu_t, one factor more than at the step before.

        Every weight shares it, so it is the optimizer's, not a weight's state (PyTorch keeps
        a copy per weight). Each factor holds the ``beta1`` and ``momentum_decay`` of its
        own step, as in PyTorch: a model file keeps the product (``shared_state``); it is
        computed again from t (with today's hyper-parameters) only for a file written
        before it was kept, or a step count set by hand.
        """
        if self._product_step != t:
            if self._product_step != t - 1:
                self._product = self._product_before(t)
            self._product *= self._mu(t)
            self._product_step = t
        return self._product

    def _product_before(self, t):
        """mu_1 ... mu_(t-1), in chunks: each factor is below beta1 < 1, so the product
        reaches 0 (float64 underflow) after some thousands of factors at beta1 = 0.9, and a
        model file's step count of 2**40 costs no more than that (an array of 2**40 does)."""
        product, start = 1.0, 1
        while start < t and product:
            stop = min(t, start + 4096)
            product *= float(np.prod(self._mu(np.arange(start, stop))))
            start = stop
        return product

    def reset(self):
        super().reset()
        self._product, self._product_step = 1.0, 0   # the product of the forgotten steps

    def shared_state(self):
        done = self.iterations and self._product_step == self.iterations
        return {"mu_product": self._product} if done else {}

    def set_shared_state(self, state):
        super().set_shared_state({k: v for k, v in state.items() if k != "mu_product"})
        if "mu_product" in state:   # each factor is in [0, beta1), beta1 < 1
            self._product = float(check_number(state["mu_product"], "NAdam's mu_product",
                                               low=0, high=1))
            self._product_step = self.iterations

    def _update(self, p, g, state, lr):
        m, v = state["exp_avg"], state["exp_avg_sq"]
        step, denom = state["scratch"], state["scratch_denom"]
        t = self.iterations
        mu, mu_next = self._mu(t), self._mu(t + 1)
        product = self._mu_product(t)
        m *= self.beta1                                  # m = beta1 m + (1 - beta1) g
        np.multiply(g, 1 - self.beta1, out=step)
        m += step
        v *= self.beta2                                  # v = beta2 v + (1 - beta2) g^2
        np.square(g, out=step)
        step *= 1 - self.beta2
        v += step
        np.divide(v, 1 - self.beta2**t, out=denom)       # sqrt(v_hat) + eps
        np.sqrt(denom, out=denom)
        denom += self.eps
        np.divide(g, denom, out=step)                    # theta -= lr m_hat / denom, in
        step *= lr * (1 - mu) / (1 - product)            # its gradient's part ...
        p -= step
        np.divide(m, denom, out=step)                    # ... and its momentum's
        step *= lr * mu_next / (1 - product * mu_next)
        p -= step


class RAdam(Optimizer):
    r"""RAdam (Liu et al., 2020): Adam that waits until its average of :math:`g^2` is reliable.

    .. math::
        m &\leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
        v \leftarrow \beta_2 v + (1 - \beta_2) g^2, \qquad
        \hat m = m / (1 - \beta_1^t) \\
        \rho_\infty &= \frac{2}{1 - \beta_2} - 1, \qquad
        \rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1 - \beta_2^t} \\
        \theta &\leftarrow \begin{cases}
            \theta - \eta\, r_t\, \hat m\, \dfrac{\sqrt{1 - \beta_2^t}}{\sqrt v + \epsilon},
            \quad r_t = \sqrt{\dfrac{(\rho_t - 4)(\rho_t - 2)\, \rho_\infty}
                                     {(\rho_\infty - 4)(\rho_\infty - 2)\, \rho_t}}
                & \text{if } \rho_t > 5 \\
            \theta - \eta\, \hat m & \text{otherwise}
        \end{cases}

    Adam's first steps divide by :math:`\sqrt{\hat v}` made of a handful of squared
    gradients: an estimate so uncertain that some of its small values give huge steps, which
    a warm-up of the rate is usually there to tame. :math:`\rho_t` is the number of
    gradients that :math:`v` effectively averages (the length of the simple moving average
    it approximates: 1, 2, 3... at first, up to :math:`\rho_\infty`, 1999 at
    :math:`\beta_2 = 0.999`), and :math:`r_t` corrects the variance of
    :math:`1 / \sqrt{\hat v}` at that length to its value at :math:`\rho_\infty`: it grows
    from about 0.03 towards 1. That variance is infinite for :math:`\rho_t \le 4`; up to
    5, the threshold of the authors' code and PyTorch's (a margin), the step is
    momentum SGD's, bias-corrected: the first five steps at :math:`\beta_2 = 0.999`, whose
    size scales with the gradient's, unlike Adam's.

    ``weight_decay`` adds :math:`\lambda \theta` to :math:`g`, as Adam's does; with
    ``decoupled_weight_decay=True`` it shrinks the weights first instead,
    :math:`\theta \leftarrow \theta - \eta \lambda \theta`, as :class:`AdamW` does (closer to
    the authors' code). The argument is PyTorch's; it sets the attribute that AdamW sets
    for its whole class, and that every optimizer reads. The defaults are PyTorch's.

    Examples
    --------
    >>> p = np.array([0.0])
    >>> nl.optimizers.RAdam(lr=0.1).step([p], [np.array([2.0])]); p   # no division yet: lr times g
    array([-0.2])
    """

    squares = ("exp_avg_sq",)

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
                 decoupled_weight_decay=False,
                 clipnorm=None, clipvalue=None, global_clipnorm=None):
        super().__init__(lr, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.beta1, self.beta2 = _betas(self, beta1, beta2)
        self.eps = self._hyper(eps, "eps", low=0, low_open=True)
        self.decoupled_weight_decay = check_bool(decoupled_weight_decay,
                                                 "decoupled_weight_decay")

    def _new_state(self, p):
        return {"exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)}

    def rectification(self, t):
        r""":math:`r_t` of step ``t`` (counted from 1), or None while :math:`\rho_t \le 5`.

        Examples
        --------
        >>> opt = nl.optimizers.RAdam()     # at beta2 = 0.999, a slow rise over 10^4 steps
        >>> opt.rectification(5), [round(opt.rectification(t), 3) for t in (6, 100, 10_000)]
        (None, [0.026, 0.215, 1.0])
        """
        if t < 1:
            raise ValueError(f"RAdam.rectification: t counts steps from 1; got {t}")
        rho_inf = 2 / (1 - self.beta2) - 1
        rho = rho_inf - 2 * t * self.beta2**t / (1 - self.beta2**t)
        if rho <= 5:
            return None
        return ((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))**0.5

    def _update(self, p, g, state, lr):
        m, v, step = state["exp_avg"], state["exp_avg_sq"], state["scratch"]
        t = self.iterations
        if self.decoupled_weight_decay and self.weight_decay:
            p *= 1 - lr * self.weight_decay              # theta -= lr lambda theta
        np.subtract(g, m, out=step)                      # m = beta1 m + (1 - beta1) g, as
        step *= 1 - self.beta1                           #   m + (1 - beta1) (g - m): PyTorch's
        m += step                                        #   rounding, in as many passes
        v *= self.beta2                                  # v = beta2 v + (1 - beta2) g^2
        np.square(g, out=step)
        step *= 1 - self.beta2
        v += step
        bias1, bias2 = 1 - self.beta1**t, 1 - self.beta2**t
        r = self.rectification(t)
        if r is None:   # too few steps to trust v: momentum alone
            np.multiply(m, lr / bias1, out=step)         # theta -= lr m_hat
            p -= step
        else:
            # theta -= lr r m_hat sqrt(1 - beta2^t) / (sqrt(v) + eps)
            _scaled_step(p, m, v, self.eps, lr * r * bias2**0.5 / bias1, step)
