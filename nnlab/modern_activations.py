"""Activation functions beyond the lecture's, from the architectures of recent years.

Two families. Swish, GELU and Mish are smooth ReLUs: close to x for large x, close
to 0 far below, with a small dip below 0 in between and a slope that changes
gradually instead of jumping at 0. ReLU6, the hard sigmoid and the hard SiLU are
pieced together from straight lines (and, for the hard SiLU, a parabola): bounded
or cheap stand-ins for ReLU, the sigmoid and Swish, with no exponential to
compute, for networks that run on phones and in low precision.

They are written as those of ``nnlab.activations`` are, which offers them by name
(``get("mish")``): the formula next to its derivative, in the input's dtype,
quiet at +-1e4. Where two pieces of a function meet at a kink, the derivative
there is that of the outer piece, as PyTorch computes it:

>>> nl.activations.relu6.derivative(np.array([0.0, 6.0]))
array([0., 0.])
>>> nl.activations.hard_silu.derivative(np.array([-3.0, 3.0]))
array([0., 1.])
"""

import math

import numpy as np

from nnlab.activation_base import ActivationFunction, _as_float, _sigmoid, _softplus


class Swish(ActivationFunction):
    """Swish, or SiLU: f(x) = x sigmoid(x),  f'(x) = s + x s (1 - s) with s = sigmoid(x).

    A ReLU with a smooth bend: near x for large x, near 0 far below, and slightly
    negative in between (its minimum is about -0.278 at x = -1.278). Keras calls it
    ``swish`` or ``silu``, PyTorch ``SiLU``.
    """

    name = "swish"

    def __call__(self, x):
        x = _as_float(x)
        # Far below 0, sigmoid(x) is about e^x and the product too small for the dtype: 0.
        with np.errstate(under="ignore"):
            return x * _sigmoid(x)

    def derivative(self, x):
        x = _as_float(x)
        s = _sigmoid(x)
        with np.errstate(under="ignore"):
            return s * (1 + x * (1 - s))


class GELU(ActivationFunction):
    r"""Gaussian error linear unit: f(x) = x Φ(x),  f'(x) = Φ(x) + x φ(x).

    Φ is the standard normal distribution function and φ its density: each input is
    weighted by the probability that a standard normal value lies below it. The exact
    form, as Keras's ``gelu`` and PyTorch's ``GELU`` compute it by default (not their
    tanh approximation). Φ comes from ``scipy.special.ndtr``, accurate far into the tails.
    """

    name = "gelu"

    def __call__(self, x):
        from scipy.special import ndtr  # only here: importing scipy takes a while

        x = _as_float(x)
        # Far below 0, Φ(x) and its product with x are too small for the dtype: 0.
        with np.errstate(under="ignore"):
            return (x * ndtr(x)).astype(x.dtype, copy=False)

    def derivative(self, x):
        from scipy.special import ndtr

        x = _as_float(x)
        # φ(x) underflows to 0 for large |x|, as it should; once -x x / 2 overflows (|x|
        # beyond about 2.6e19 in float32), e^-inf is that 0 too.
        with np.errstate(under="ignore", over="ignore"):
            # A Python float: np.sqrt's NumPy float64 would make float64 copies of x.
            density = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
            return (ndtr(x) + x * density).astype(x.dtype, copy=False)


class Mish(ActivationFunction):
    """Mish: f(x) = x t with t = tanh(softplus(x)),  f'(x) = t + x sigmoid(x) (1 - t^2).

    A smooth ReLU like Swish, with a slightly deeper dip (its minimum is about
    -0.309 at x = -1.192). The derivative is the product rule and the chain rule:
    tanh' = 1 - tanh^2 and softplus' = sigmoid. Keras calls it ``mish``, PyTorch ``Mish``.
    """

    name = "mish"

    def __call__(self, x):
        x = _as_float(x)
        # Far below 0, t is e^x: the product is too small for the dtype, and 0 is right.
        with np.errstate(under="ignore"):
            return x * np.tanh(_softplus(x))

    def derivative(self, x):
        x = _as_float(x)
        with np.errstate(under="ignore"):
            t = np.tanh(_softplus(x))
            # Written with e^x, as in Misra's paper, this derivative divides by the square
            # of a sum holding e^{2x}, which overflows above x = 177 (float64) or 22
            # (float32). Here every factor but x lies in [0, 1], each from a helper that
            # never overflows, and far below 0 t and sigmoid(x) keep their digits (both ~e^x).
            return t + x * _sigmoid(x) * (1 - t * t)


class ReLU6(ActivationFunction):
    """ReLU capped at 6: f(x) = min(max(x, 0), 6),  f'(x) = 1 if 0 < x < 6 else 0.

    The cap keeps every output in [0, 6], a range that 8-bit fixed-point numbers
    cover finely: MobileNet, made for phones, uses it for that. The derivative at the
    kinks 0 and 6 is 0, as in PyTorch's ``ReLU6``.
    """

    name = "relu6"

    def __call__(self, x):
        return np.clip(_as_float(x), 0, 6)

    def derivative(self, x):
        x = _as_float(x)
        return ((x > 0) & (x < 6)).astype(x.dtype)


class HardSigmoid(ActivationFunction):
    """Hard sigmoid: f(x) = relu6(x + 3) / 6,  f'(x) = 1/6 if -3 < x < 3 else 0.

    The sigmoid's S drawn with three straight pieces: 0 up to -3, the line
    x/6 + 1/2 (through the sigmoid's 1/2 at 0), and 1 from 3 on. An addition, a clip
    and a division replace an exponential. This is Keras 3's and PyTorch's definition
    (Keras 2's middle piece was 0.2 x + 0.5). The derivative at -3 and 3 is 0.
    """

    name = "hard_sigmoid"

    def __call__(self, x):
        return np.clip(_as_float(x) + 3, 0, 6) / 6

    def derivative(self, x):
        x = _as_float(x)
        return ((x > -3) & (x < 3)).astype(x.dtype) / 6


class HardSiLU(ActivationFunction):
    """Hard SiLU, or hard swish: f(x) = x h(x),  f'(x) = h(x) + x h'(x), h the hard sigmoid.

    Swish with its sigmoid replaced by the hard sigmoid: 0 up to -3, x (x + 3) / 6
    between (a dip to -3/8 at x = -3/2), and x from 3 on. MobileNetV3 introduced
    it as a cheap Swish. The product rule with h'(-3) = h'(3) = 0 gives the slope
    0 at -3 and 1 at 3, PyTorch's values. Keras calls it ``hard_silu`` or
    ``hard_swish``, PyTorch ``Hardswish``.
    """

    name = "hard_silu"

    def __call__(self, x):
        x = _as_float(x)
        # A subnormal x times h(x), about 1/2, is too small for the dtype: rounded, rightly.
        with np.errstate(under="ignore"):
            return x * hard_sigmoid(x)

    def derivative(self, x):
        x = _as_float(x)
        with np.errstate(under="ignore"):   # x h'(x), x / 6 of a subnormal x: as above
            return hard_sigmoid(x) + x * hard_sigmoid.derivative(x)


swish = Swish()
gelu = GELU()
mish = Mish()
relu6 = ReLU6()
hard_sigmoid = HardSigmoid()
hard_silu = HardSiLU()
