"""Activation functions: each one's forward formula next to its derivative.

Every activation is a small object that is called like a function and knows
its own derivative::

    >>> float(nl.activations.sigmoid(0.0)), float(nl.activations.sigmoid.derivative(0.0))
    (0.5, 0.25)

``backward(x, y, dy)`` is what a layer calls during backpropagation: the
vector-Jacobian product ``dL/dx`` given ``dL/dy``. For element-wise functions
that is ``dy * f'(x)``; softmax, whose outputs are coupled, overrides it.

All functions compute in the dtype of their input, float32 or float64 (integer
input becomes float64; float16 and longdouble are refused, as layers refuse them)
and are written so that inputs of +-1e4 raise no floating-point warning, nor an
error under ``np.errstate(all="raise")``; nor, with their default parameters, do
larger finite inputs, unless the result is too large for the dtype (selu of the
largest float). A result too small for the dtype is 0 or subnormal, in silence
(underflow is no error: see ``nnlab.activation_base``).

This module holds the functions of the lecture and is where every function is
found by name (``get``). Those of ``NAMES`` are instances here too
(``activations.mish``): the base class and the numerics the functions share are in
``nnlab.activation_base``, the functions of recent architectures (Swish, GELU,
Mish, ReLU6, the hard sigmoid and hard SiLU) in ``nnlab.modern_activations``.
Keras's other functions (``KERAS_NAMES``: log_softmax, celu, hard_tanh...), which
``get`` finds too, are instances of ``nnlab.keras_activations`` only
(``keras_activations.log_softmax``). Keras's ``glu``, which ``get`` finds as well, is
``nnlab.gated_activations.glu``, the gated linear unit: it halves the last axis, so it
is kept out of ``KERAS_NAMES``, whose functions all keep the shape of their input.
"""

import numpy as np

from nnlab import gated_activations, keras_activations
from nnlab._checks import check_number, lookup
from nnlab.activation_base import (
    ActivationFunction,
    _as_float,
    _exp,
    _sigmoid,
    _softplus,
    _tanh,
)
from nnlab.modern_activations import (
    GELU,
    HardSigmoid,
    HardSiLU,
    Mish,
    ReLU6,
    Swish,
    gelu,
    hard_sigmoid,
    hard_silu,
    mish,
    relu6,
    swish,
)

__all__ = ["ELU", "GELU", "KERAS_NAMES", "NAMES", "SELU", "ActivationFunction", "Exponential",
           "HardSiLU", "HardSigmoid", "LeakyReLU", "Linear", "Mish", "ReLU", "ReLU6", "Sigmoid",
           "Softmax", "Softplus", "Softsign", "Step", "Swish", "Tanh", "elu", "exponential",
           "gelu", "get", "hard_sigmoid", "hard_silu", "leaky_relu", "linear", "mish", "relu",
           "relu6", "selu", "sigmoid", "softmax", "softplus", "softsign", "step", "swish", "tanh"]


class Linear(ActivationFunction):
    """Identity: f(x) = x, f'(x) = 1."""

    name = "linear"

    def __call__(self, x):
        return _as_float(x).copy()   # a new array, as every other function's: no alias of x

    def derivative(self, x):
        return np.ones_like(_as_float(x))

    def backward(self, x, y, dy):
        return dy


class Step(ActivationFunction):
    """Heaviside step, the perceptron's activation: f(x) = 1 if x > 0 else 0.

    Its derivative is 0 everywhere it exists, which is why a network of step
    units cannot be trained by gradient descent.
    """

    name = "step"

    def __call__(self, x):
        x = _as_float(x)
        return (x > 0).astype(x.dtype)

    def derivative(self, x):
        return np.zeros_like(_as_float(x))


class Sigmoid(ActivationFunction):
    """Logistic sigmoid: f(x) = 1 / (1 + e^{-x}),  f'(x) = f(x) (1 - f(x))."""

    name = "sigmoid"

    def __call__(self, x):
        # Not 1 / (1 + np.exp(-x)): e^-x overflows for x below about -710 (float64).
        # _sigmoid never forms a large exponential (see nnlab.activation_base).
        return _sigmoid(_as_float(x))

    def derivative(self, x):
        s = self(x)
        return s * (1.0 - s)

    def backward(self, x, y, dy):
        # Far below 0, y is subnormal: dy y may underflow to 0 (see _exp).
        with np.errstate(under="ignore"):
            return dy * y * (1.0 - y)


class Tanh(ActivationFunction):
    """Hyperbolic tangent: tanh(x) = 2 sigmoid(2x) - 1,  f'(x) = 1 - tanh(x)^2."""

    name = "tanh"

    def __call__(self, x):
        return _tanh(_as_float(x))

    def derivative(self, x):
        t = _tanh(_as_float(x))
        with np.errstate(under="ignore"):   # t t of a tiny t (1e-20): too small, 0 (see _exp)
            return 1.0 - t * t

    def backward(self, x, y, dy):
        with np.errstate(under="ignore"):
            return dy * (1.0 - y * y)


class ReLU(ActivationFunction):
    """Rectified linear unit: f(x) = max(x, 0),  f'(x) = 1 if x > 0 else 0.

    At the kink x = 0 the derivative is taken as 0, as PyTorch does.
    """

    name = "relu"

    def __call__(self, x):
        x = _as_float(x)
        # max(x, 0), against a row of zeros broadcast over x rather than the number 0: the
        # same values, bit for bit, in half the time with NumPy 2.4 (measured on a hidden
        # layer of 128 x 256 float32: 4.8 microseconds, 10.9 with the number; a
        # convolution's 64 x 16 x 28 x 28 outputs: 172 and 239).
        return np.maximum(x, np.zeros(x.shape[-1:], x.dtype))

    def derivative(self, x):
        x = _as_float(x)
        return (x > 0).astype(x.dtype)

    def backward(self, x, y, dy):
        return dy * (x > 0)


class LeakyReLU(ActivationFunction):
    """Leaky ReLU: f(x) = x if x > 0 else alpha x,  f'(x) = 1 or alpha.

    ``alpha`` defaults to 0.01, PyTorch's default negative slope; Keras's is 0.2 for the
    function ``"leaky_relu"`` and 0.3 for its ``LeakyReLU`` layer.

    Examples
    --------
    >>> float(nl.activations.LeakyReLU()(-2.0)), float(nl.activations.LeakyReLU(0.2)(-2.0))
    (-0.02, -0.4)
    """

    name = "leaky_relu"

    def __init__(self, alpha=0.01):
        self.alpha = float(check_number(alpha, "LeakyReLU alpha"))

    def get_config(self):
        return {"alpha": self.alpha}

    def __call__(self, x):
        x = _as_float(x)
        if self.alpha == 0:   # max(x, 0 x) at inf is max(inf, nan): x (x > 0) is inf (and,
            return x * (x > 0)   # as PyTorch's 0 x, NaN at -inf, -0.0 below 0)
        # x if x > 0 else alpha x is the larger of x and alpha x when alpha <= 1 (the smaller
        # when alpha > 1): no branch, which np.where over mixed signs is several times slower.
        # alpha x of a subnormal x may be too small for the dtype: rounded, rightly (see _exp).
        with np.errstate(under="ignore"):
            return (np.maximum if self.alpha <= 1 else np.minimum)(x, self.alpha * x)

    def derivative(self, x):
        x = _as_float(x)
        return _one_where_positive(x, self.alpha)


class ELU(ActivationFunction):
    """Exponential linear unit: f(x) = x if x > 0 else alpha (e^x - 1).

    f'(x) = 1 if x > 0 else alpha e^x.
    """

    name = "elu"

    def __init__(self, alpha=1.0):
        self.alpha = float(check_number(alpha, "ELU alpha"))

    def get_config(self):
        return {"alpha": self.alpha}

    def __call__(self, x):
        return _elu(_as_float(x), self.alpha)

    def derivative(self, x):
        return _elu_slope(_as_float(x), self.alpha)


class SELU(ActivationFunction):
    """Scaled ELU: f(x) = scale * (x if x > 0 else alpha (e^x - 1)).

    The constants (alpha ~ 1.6733, scale ~ 1.0507) make activations keep zero
    mean and unit variance through depth.
    """

    name = "selu"
    alpha = 1.6732632423543772848170429916717
    scale = 1.0507009873554804934193349852946

    def __call__(self, x):
        with np.errstate(under="ignore"):   # scale times a subnormal elu(x): see _elu
            return self.scale * _elu(_as_float(x), self.alpha)

    def derivative(self, x):
        return _elu_slope(_as_float(x), self.alpha, self.scale)


def _elu(x, alpha):
    """x for x > 0, alpha (e^x - 1) below, as a sum: each term is 0 on the other side.

    expm1 of the clipped negative part: accurate near 0, no overflow for large x. For a
    subnormal x, alpha times it may be too small for the dtype: rounded, rightly (see _exp).
    """
    with np.errstate(under="ignore"):
        return np.maximum(x, 0) + alpha * np.expm1(np.minimum(x, 0))


def _elu_slope(x, alpha, scale=1.0):
    """The slope of ``scale * elu(x)``: ``scale`` for x > 0, ``scale * alpha * e^x`` below.

    Far below 0 the product is too small for the dtype and underflows to 0, the right
    answer (see ``_exp``).
    """
    with np.errstate(under="ignore"):
        return scale * _one_where_positive(x, alpha * np.exp(np.minimum(x, 0)))


def _one_where_positive(x, other):
    """1 where x > 0, ``other`` (a number or an array like x) elsewhere: a slope.

    The same values as ``np.where(x > 0, 1, other)`` for every x but NaN (which the
    layers refuse), in x's dtype, from the two indicators (0 times a finite value is
    exactly 0): np.where over mixed signs, its branches mispredicted, measured 1.7
    (float64) to 10 (float32) times slower than these four passes on 10^6 values.
    """
    return (x > 0).astype(x.dtype) + (x <= 0) * np.asarray(other, dtype=x.dtype)


class Softplus(ActivationFunction):
    """Softplus, a smooth ReLU: f(x) = log(1 + e^x),  f'(x) = sigmoid(x)."""

    name = "softplus"

    def __call__(self, x):
        # Not np.log(1 + np.exp(x)): e^x overflows for x above about 710 (float64).
        return _softplus(_as_float(x))

    def derivative(self, x):
        return sigmoid(x)


class Softsign(ActivationFunction):
    """Softsign: ``f(x) = x / (1 + |x|)``,  ``f'(x) = 1 / (1 + |x|)^2``."""

    name = "softsign"

    def __call__(self, x):
        x = _as_float(x)
        return x / (1 + np.abs(x))

    def derivative(self, x):
        # Not 1 / (1 + |x|)^2: the square overflows beyond 1.8e19 (float32). The square of
        # the reciprocal never does; far out it is too small for the dtype, 0 or subnormal.
        with np.errstate(under="ignore"):
            r = 1 / (1 + np.abs(_as_float(x)))
            return r * r


class Exponential(ActivationFunction):
    """Exponential: f(x) = e^x = f'(x).

    For x above log(largest float), e^x is not representable; the output
    saturates just below the dtype's largest finite value (e^x at the float
    below that logarithm) instead of becoming inf. The derivative there is that
    same value, e^x's slope as far as the dtype holds it, though the function
    computed is flat there (its numerical gradient is 0); PyTorch and Keras, whose
    e^x is inf there, give inf:

    >>> nl.activations.exponential.derivative(np.array([100.0], np.float32))
    array([3.4027985e+38], dtype=float32)
    """

    name = "exponential"

    def __call__(self, x):
        x = _as_float(x)
        # log(max) is rounded, possibly up; step one float down so exp stays finite.
        limit = np.nextafter(np.log(np.finfo(x.dtype).max), 0, dtype=x.dtype)
        return _exp(np.minimum(x, limit))

    def derivative(self, x):
        return self(x)

    def backward(self, x, y, dy):
        # dy times a subnormal e^x: 0, see _exp. dy times the capped e^x (near the dtype's
        # largest) may be too large for it: inf, the slope PyTorch and Keras give there.
        with np.errstate(under="ignore", over="ignore"):
            return dy * y


class Softmax(ActivationFunction):
    """Softmax over the last axis: f(z)_i = e^{z_i} / sum_j e^{z_j}.

    Its Jacobian is diag(y) - y y^T, so ``backward`` returns
    y * (dy - sum(dy * y)). ``derivative`` returns the Jacobian's diagonal,
    y (1 - y), for plotting.
    """

    name = "softmax"
    along_last_axis = True

    def __call__(self, x):
        x = _as_float(x)
        # Subtracting the row maximum leaves the result unchanged and keeps e^z <= 1. In a
        # row spanning more than the dtype's largest number, the difference is -inf: e^z = 0.
        # A row of no classes has no maximum: initial=-inf gives it one, and the result is
        # empty too (x of shape (N, 0): y of shape (N, 0), as PyTorch gives).
        with np.errstate(over="ignore"):
            e = _exp(x - np.max(x, axis=-1, keepdims=True, initial=-np.inf))
        with np.errstate(under="ignore"):   # a subnormal e^z divided by the sum: see _exp
            return e / np.sum(e, axis=-1, keepdims=True)

    def derivative(self, x):
        y = self(x)
        return y * (1 - y)

    def backward(self, x, y, dy):
        with np.errstate(under="ignore"):   # a subnormal probability times dy: see _exp
            return y * (dy - np.sum(dy * y, axis=-1, keepdims=True))


linear = Linear()
step = Step()
sigmoid = Sigmoid()
tanh = Tanh()
relu = ReLU()
leaky_relu = LeakyReLU()
elu = ELU()
selu = SELU()
softplus = Softplus()
softsign = Softsign()
exponential = Exponential()
softmax = Softmax()

# The lecture's functions, then those of nnlab.modern_activations; softmax, the only one
# that is not element-wise, last.
_REGISTRY = {
    f.name: f
    for f in (linear, step, sigmoid, tanh, relu, leaky_relu, elu, selu, softplus, softsign,
              exponential, swish, gelu, relu6, hard_sigmoid, hard_silu, mish, softmax)
}
NAMES = tuple(_REGISTRY)
_ALIASES = {"silu": swish, "hard_swish": hard_silu}   # Keras's other names for the two
_KERAS = {f.name: f for f in (keras_activations.hard_tanh, keras_activations.log_sigmoid,
                              keras_activations.celu, keras_activations.tanh_shrink,
                              keras_activations.soft_shrink, keras_activations.hard_shrink,
                              keras_activations.squareplus, keras_activations.sparse_plus,
                              keras_activations.log_softmax, keras_activations.sparse_sigmoid,
                              keras_activations.sparsemax)}
#: Keras's other functions, which ``get`` finds too; the chapters keep to ``NAMES``.
KERAS_NAMES = tuple(_KERAS)
#: Keras's glu, which ``get`` finds too: its output has half the width of its input.
_HALVING = {gated_activations.glu.name: gated_activations.glu}


def get(name):
    """Return the activation called ``name`` (an instance is returned as is).

    Examples
    --------
    >>> nl.activations.get("relu")
    <activation relu>
    """
    if isinstance(name, ActivationFunction):
        return name
    return lookup(name, {**_REGISTRY, **_ALIASES, **_KERAS, **_HALVING}, "activation",
                  base=ActivationFunction)
