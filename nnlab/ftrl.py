r"""FTRL, "follow the regularized leader": the optimizer of click-through-rate models.

McMahan et al. (2013) trained Google's ad-click predictors, logistic regressions over
billions of sparse features, with FTRL-Proximal. Instead of moving the weights by each
gradient, it keeps the sum :math:`z` of every gradient seen (corrected for the weights
they were taken at) and sets each weight afresh from it at every step, as the minimum of
that linear model of the loss plus its penalties. An L1 penalty then makes a weight
exactly 0 while :math:`|z|` stays below :math:`\lambda_1`: a sparse model, which SGD's
small steps around 0 never reach. The rate of each coordinate shrinks with its squared
gradients, as in AdaGrad.

``nnlab.optimizers.get("ftrl")`` gives this module's ``Ftrl``, which follows Keras 3's
``Ftrl`` (PyTorch has none).
"""

import numpy as np

from nnlab.optimizer_base import Optimizer

__all__ = ["Ftrl"]


class Ftrl(Optimizer):
    r"""FTRL-Proximal (McMahan et al., 2013), as Keras 3's ``Ftrl`` computes it.

    With :math:`p` = ``lr_power`` (:math:`\le 0`) and :math:`n` starting at
    ``initial_accumulator_value``, :math:`z` at 0, per coordinate:

    .. math::
        \theta &\leftarrow \theta - \eta \lambda \theta \\
        n' &= n + g^2, \qquad
        \sigma = \frac{n'^{-p} - n^{-p}}{\eta}, \qquad
        z \leftarrow z + g + 2 \lambda_s \theta - \sigma \theta, \qquad n \leftarrow n' \\
        \theta &\leftarrow \frac{\operatorname{clip}(z, -\lambda_1, \lambda_1) - z}
            {(n'^{-p} + \beta) / \eta + 2 \lambda_2}

    With :math:`p = -1/2` and :math:`\beta = \lambda_2 = 0` the denominator is
    :math:`\sqrt{n'} / \eta`, and with :math:`\lambda_1 = 0` the new weight is
    :math:`-\eta z / \sqrt{n'}`: a step of AdaGrad's size from the sum :math:`z`. An L1
    penalty moves :math:`z` by :math:`\lambda_1` towards 0 first (the clip), and makes the
    weight 0 where :math:`|z| \le \lambda_1`. :math:`\sigma \theta` keeps :math:`z`
    consistent when the rate shrinks: without it the weight would jump each time :math:`n`
    grows. :math:`p = 0` keeps the rate constant (:math:`\sigma = 0`). :math:`\lambda_2`
    (``l2``) and :math:`\beta` stabilize the denominator; :math:`\lambda_s`
    (``l2_shrinkage``) adds the gradient of the penalty :math:`\lambda_s \theta^2` to
    :math:`z` (but not to :math:`n`). The weight decay is Keras's, decoupled and first, as in
    AdamW; since the step sets the weights afresh, the decayed :math:`\theta` counts only
    where :math:`z` takes it in, through :math:`2 \lambda_s \theta` and
    :math:`\sigma \theta` (with :math:`p = 0` and :math:`\lambda_s = 0` the decay does
    nothing). The weights a model starts with count in the same way: FTRL is made for
    weights that start at 0 (those of a linear model), and with :math:`p = -1/2` the first
    step keeps only :math:`1 - \sqrt{n / n'}` of a weight's starting value (then steps from
    there), little for a small first gradient, and nothing for a zero one.

    The defaults are Keras's: :math:`\eta = 10^{-3}`, :math:`p = -0.5`,
    ``initial_accumulator_value`` 0.1 and every penalty and :math:`\beta` 0. Keras also
    takes ``initial_accumulator_value=0``, which divides 0 by 0 in the first step of a
    coordinate whose gradient is 0 (unless :math:`p = 0`, or :math:`\beta` or
    :math:`\lambda_2` is positive): here it must be positive. The names are Keras's, shortened:
    ``learning_rate_power`` is ``lr_power``, the ``l1_``, ``l2_`` and
    ``l2_shrinkage_regularization_strength`` are ``l1``, ``l2`` and ``l2_shrinkage``.

    :math:`n` sums squared gradients: in float32, a gradient above about
    :math:`\sqrt{3.4 \cdot 10^{38}} \approx 1.8 \cdot 10^{19}` squares to infinity, and
    the weight becomes NaN, as in Keras. Train on gradients that size in float64, or clip
    them (``clipnorm``).

    Examples
    --------
    >>> p = np.array([1.0, 1.0])   # z = g - sigma theta = (-2.25, -8.33); l1 = 5 sets
    >>> nl.optimizers.Ftrl(lr=0.1, l1=5.0).step([p], [np.array([0.5, -1.0])]); p  # the first to 0
    array([0.        , 0.31710362])
    """

    squares = ("accumulator",)
    decoupled_weight_decay = True

    def __init__(self, lr=1e-3, lr_power=-0.5, initial_accumulator_value=0.1, l1=0.0, l2=0.0,
                 l2_shrinkage=0.0, beta=0.0, weight_decay=0.0, clipnorm=None,
                 clipvalue=None, global_clipnorm=None):
        super().__init__(lr, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.lr_power = self._hyper(lr_power, "lr_power", high=0)
        # Not check_number's range alone: the message says why 0 is refused (Keras takes it).
        self.initial_accumulator_value = self._hyper(
            initial_accumulator_value, "initial_accumulator_value")
        if self.initial_accumulator_value <= 0:
            raise ValueError(
                "Ftrl initial_accumulator_value must be > 0: at 0, the first step of a "
                "coordinate whose first gradient is 0 divides 0 by 0 (z = 0 and n' = 0), a NaN "
                f"weight; got {initial_accumulator_value!r}")
        self.l1 = self._hyper(l1, "l1", low=0)
        self.l2 = self._hyper(l2, "l2", low=0)
        self.l2_shrinkage = self._hyper(l2_shrinkage, "l2_shrinkage", low=0)
        self.beta = self._hyper(beta, "beta", low=0)

    def _new_state(self, p):
        # n and z carry over from step to step; each scratch array holds one quantity of a
        # single step (n' is in the base class's "scratch").
        return {"accumulator": np.full_like(p, self.initial_accumulator_value),
                "linear": np.zeros_like(p),
                "scratch_power": np.empty_like(p),          # n'^-p
                "scratch_dz": np.empty_like(p),             # what this step adds to z
                "scratch_denominator": np.empty_like(p)}    # (n'^-p + beta) / lr + 2 l2

    def _update(self, p, g, state, lr):
        n, z = state["accumulator"], state["linear"]
        new_n, power = state["scratch"], state["scratch_power"]
        dz, denominator = state["scratch_dz"], state["scratch_denominator"]
        if self.weight_decay:
            p *= 1 - lr * self.weight_decay          # theta -= lr lambda theta
        np.square(g, out=new_n)                      # n' = n + g^2
        new_n += n
        _power(new_n, -self.lr_power, power)         # n'^-p
        # dz = g + 2 lambda_s theta - sigma theta, with sigma = (n'^-p - n^-p) / lr:
        _power(n, -self.lr_power, dz)                # n^-p
        np.subtract(power, dz, out=dz)               # n'^-p - n^-p
        dz /= lr                                     # sigma
        dz -= 2 * self.l2_shrinkage                  # sigma - 2 lambda_s
        dz *= p                                      # (sigma - 2 lambda_s) theta
        np.subtract(g, dz, out=dz)                   # g + 2 lambda_s theta - sigma theta
        z += dz
        n[...] = new_n                               # n = n'
        np.divide(power, lr, out=denominator)        # n'^-p / lr + 2 (lambda_2 + beta / (2 lr)),
        denominator += 2 * (self.l2 + self.beta / (2 * lr))   # as Keras writes it
        np.clip(z, -self.l1, self.l1, out=p)         # theta = (clip(z) - z) / denominator
        p -= z
        p /= denominator


def _power(a, exponent, out):
    """``a ** exponent`` into ``out``; by ``np.sqrt`` for the default 1/2, which measured
    2-3 times faster than ``np.power``."""
    if exponent == 0.5:
        np.sqrt(a, out=out)
    else:
        np.power(a, exponent, out=out)
