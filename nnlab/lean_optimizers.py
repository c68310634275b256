r"""Optimizers that keep less state than Adam: Lion and Adafactor.

Adam keeps two arrays per weight array, a momentum and an average of squared gradients:
twice the memory of the model itself. Lion keeps the momentum alone, and steps by its sign.
Adafactor keeps no momentum, and of a matrix's squared gradients only the averages of its
rows and of its columns, :math:`n + m` numbers for :math:`n m` weights. Both are
re-exported by ``nnlab.optimizers``, whose ``get`` finds them as ``"lion"`` and
``"adafactor"``; what every optimizer shares is in ``nnlab.optimizer_base``.
"""

import math

import numpy as np

from nnlab._checks import check_number
from nnlab.optimizer_base import Optimizer

__all__ = ["Adafactor", "Lion"]


class Lion(Optimizer):
    r"""Lion (Chen et al., 2023): a step of the same size in every coordinate, by its sign.

    .. math::
        \theta &\leftarrow \theta - \eta \lambda \theta \\
        c &= \beta_1 m + (1 - \beta_1) g, \qquad
        \theta \leftarrow \theta - \eta\, \operatorname{sign}(c) \\
        m &\leftarrow \beta_2 m + (1 - \beta_2) g

    The step mixes the gradient into the momentum with :math:`\beta_1`, but the momentum
    itself remembers with the slower :math:`\beta_2`. The sign throws away every size:
    each coordinate moves by :math:`\eta` (or not at all, where :math:`c = 0`), so Lion wants
    a rate 3-10 times smaller than Adam's (and a weight decay as many times larger, for the
    same :math:`\eta \lambda`). The weight decay is decoupled, as in the paper and in AdamW:
    added to the gradient, :math:`\lambda \theta` would pass through the sign and lose its
    size. This follows Keras 3's ``Lion`` and
    its defaults (PyTorch has none): :math:`\eta = 10^{-3}`, :math:`\beta_1 = 0.9`,
    :math:`\beta_2 = 0.99`; ``beta1`` in (0, 1], as Keras checks.

    Examples
    --------
    >>> p = np.array([1.0, 1.0, 1.0])
    >>> Lion(lr=0.1).step([p], [np.array([1234.0, -0.001, 0.0])]); p   # lr times the sign
    array([0.9, 1.1, 1. ])
    """

    decoupled_weight_decay = True

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.99, weight_decay=0.0, clipnorm=None):
        super().__init__(lr, weight_decay, clipnorm)
        self.beta1 = float(check_number(beta1, "beta1", low=0, high=1, low_open=True))
        self.beta2 = float(check_number(beta2, "beta2", low=0, high=1, high_open=True))

    def _new_state(self, p):
        return {"momentum": np.zeros_like(p)}

    def _update(self, p, g, state, lr):
        m, step = state["momentum"], state["scratch"]
        if self.weight_decay:
            p *= 1 - lr * self.weight_decay      # theta -= lr lambda theta
        np.subtract(m, g, out=step)              # c = beta1 m + (1 - beta1) g
        step *= self.beta1                       #   = g + beta1 (m - g), with no temporary
        step += g
        np.sign(step, out=step)                  # theta -= lr sign(c)
        step *= lr
        p -= step
        m *= self.beta2                          # m = beta2 m + (1 - beta2) g
        np.multiply(g, 1 - self.beta2, out=step)
        m += step


class Adafactor(Optimizer):
    r"""Adafactor (Shazeer and Stern, 2018): RMSprop whose averages of a matrix are factored.

    .. math::
        \hat\beta_{2,t} &= 1 - t^{\tau}, \qquad
        \rho_t = \min(\eta, 1 / \sqrt t), \qquad
        \alpha_t = \max(\epsilon_2, \operatorname{RMS}(\theta))\, \rho_t \\
        \theta &\leftarrow \theta - \eta \lambda \theta \\
        R &\leftarrow \hat\beta_{2,t} R + (1 - \hat\beta_{2,t})\,
            \operatorname{mean}_{\text{columns}}(g^2), \qquad
        C \leftarrow \hat\beta_{2,t} C + (1 - \hat\beta_{2,t})\,
            \operatorname{mean}_{\text{rows}}(g^2) \\
        \hat V &= R\, C / \max(\operatorname{mean}(R), \epsilon_1), \qquad
        U = g / \max(\sqrt{\hat V}, \epsilon_1) \\
        \theta &\leftarrow \theta - \alpha_t\, U / \max(1, \operatorname{RMS}(U) / d)

    For a weight array of two or more dimensions, :math:`R` (a column: a mean per row) and
    :math:`C` (a row: a mean per column) of its last two axes stand for the average of
    :math:`g^2`: :math:`R\,C / \operatorname{mean}(R)` is the matrix of rank one nearest
    to it (in the paper's I-divergence). A vector, or a scalar, keeps the whole average
    :math:`\hat V` of :math:`g^2`, as RMSprop does. There is no momentum, and hardly a
    learning rate: the step is a fraction :math:`\rho_t` of the weights' own size (their
    root mean square, at least :math:`\epsilon_2`), a fraction :math:`1/\sqrt t` that
    :math:`\eta` only caps (and :math:`\eta` scales the weight decay).
    :math:`\hat\beta_{2,t}` rises towards 1 (0, 0.43, 0.58 ... for :math:`\tau = -0.8`), so
    that early averages forget fast. Dividing by the RMS of :math:`U` over :math:`d` keeps
    a step no larger than :math:`d\,\alpha_t` in root mean square, when a gradient
    suddenly outgrows its average.

    The update and the defaults are PyTorch's ``Adafactor``: :math:`\eta = 10^{-2}`,
    :math:`\tau = -0.8` (``beta2_decay``), :math:`\epsilon_1` (``eps1``) the machine
    epsilon of the weights' dtype when None, :math:`\epsilon_2 = 10^{-3}` (PyTorch's pair
    ``eps``), :math:`d = 1`, and weight decay decoupled, scaled by :math:`\eta`. Keras's
    ``Adafactor`` has other defaults (a rate of 0.001, and :math:`\epsilon_1 = 10^{-30}`
    added to the squares).

    Examples
    --------
    >>> p = np.array([[1.0, -2.0], [3.0, 0.5]])   # RMS(p) = 1.8875, rho_1 = 0.01: each
    >>> Adafactor().step([p], [np.ones((2, 2))]); p  # weight moves by 0.018875
    array([[ 0.98112541, -2.01887459],
           [ 2.98112541,  0.48112541]])
    """

    squares = ("row_var", "col_var", "variance")
    decoupled_weight_decay = True

    def __init__(self, lr=1e-2, beta2_decay=-0.8, eps1=None, eps2=1e-3, d=1.0,
                 weight_decay=0.0, clipnorm=None):
        super().__init__(lr, weight_decay, clipnorm)
        self.beta2_decay = float(check_number(beta2_decay, "beta2_decay", high=0))
        # eps1 = 0, which PyTorch takes, makes a row of zero gradients 0 / 0 = NaN.
        self.eps1 = None if eps1 is None else float(check_number(eps1, "eps1", low=0,
                                                                 low_open=True))
        self.eps2 = float(check_number(eps2, "eps2", low=0))
        self.d = float(check_number(d, "d", low=1))

    def _new_state(self, p):
        if p.ndim < 2:
            return {"variance": np.zeros_like(p)}
        row, col = (*p.shape[:-1], 1), (*p.shape[:-2], 1, p.shape[-1])
        return {"row_var": np.zeros(row, p.dtype), "col_var": np.zeros(col, p.dtype),
                "scratch_row": np.empty(row, p.dtype), "scratch_col": np.empty(col, p.dtype),
                "scratch_mean": np.empty((*p.shape[:-2], 1, 1), p.dtype)}

    def _update(self, p, g, state, lr):
        t = self.iterations
        one_minus_beta2 = t**self.beta2_decay            # 1 - beta2_t
        alpha = max(self.eps2, _rms(p)) * min(lr, t**-0.5)
        eps1 = float(np.finfo(p.dtype).eps) if self.eps1 is None else self.eps1
        if self.weight_decay:                            # (alpha is that of theta before)
            p *= 1 - lr * self.weight_decay              # theta -= lr lambda theta
        v = state["scratch"]
        np.square(g, out=v)
        if p.ndim < 2:
            _average(state["variance"], v, one_minus_beta2)         # V = beta2 V + (1 - beta2) g^2
            v[...] = state["variance"]
        else:
            row, col, mean = state["scratch_row"], state["scratch_col"], state["scratch_mean"]
            np.sum(v, axis=-1, keepdims=True, out=row)   # R = beta2 R + (1 - beta2) mean g^2
            row /= p.shape[-1]                           # (over each row)
            _average(state["row_var"], row, one_minus_beta2)
            np.sum(v, axis=-2, keepdims=True, out=col)   # C likewise, over each column
            col /= p.shape[-2]
            _average(state["col_var"], col, one_minus_beta2)
            np.sum(state["row_var"], axis=-2, keepdims=True, out=mean)
            mean /= p.shape[-2]                          # V = R C / max(mean R, eps1)
            np.maximum(mean, eps1, out=mean)
            np.divide(state["row_var"], mean, out=row)
            np.multiply(row, state["col_var"], out=v)    # an outer product, by broadcasting
        np.sqrt(v, out=v)                                # U = g / max(sqrt(V), eps1)
        np.maximum(v, eps1, out=v)   # (PyTorch floors V at eps1^2, 0 for eps1 < 1e-23)
        np.divide(g, v, out=v)
        v *= alpha / max(1.0, _rms(v) / self.d)          # theta -= alpha U / max(1, RMS(U) / d)
        p -= v


def _rms(a):
    """The root mean square of ``a``'s elements, a Python float (one dot product)."""
    return math.sqrt(float(np.vdot(a, a)) / a.size)


def _average(avg, new, one_minus_beta2):
    """``avg = beta2 avg + (1 - beta2) new`` in place (``new`` is scratch, overwritten)."""
    avg *= 1 - one_minus_beta2
    new *= one_minus_beta2
    avg += new
