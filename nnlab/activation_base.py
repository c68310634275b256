"""The protocol every activation function follows, and the numerics several share.

An activation is an object that is called like a function and knows its own
derivative (``ActivationFunction``). The helpers below keep the functions of
``nnlab.activations`` and ``nnlab.modern_activations``, and the losses that take
logits, exact and quiet at the edges of floating point: ``_as_float`` takes float32 and
float64 numbers in their own dtype (integers as float64), ``_exp`` lets a result too
small for the dtype become 0, and ``_sigmoid`` and ``_softplus`` never form a number
that overflows, which matters because many functions are built from them (softplus'
slope is the sigmoid, Swish multiplies by the sigmoid, Mish by the tanh of softplus).
"""

import numpy as np


def _as_float(x):
    x = np.asarray(x)
    if x.dtype in (np.float32, np.float64):
        return x
    if x.dtype.kind not in "biuf":   # None, strings, complex numbers would compute nonsense
        raise ValueError(f"an activation takes real numbers; got an array of dtype {x.dtype}")
    if x.dtype.kind == "f":   # float16, longdouble: the layers refuse them too
        raise ValueError(f"an activation's input must be float32 or float64 (integers become "
                         f"float64); got an array of dtype {x.dtype}")
    return x.astype(np.float64)


def _exp(x):
    """e^x, where a result too small for the dtype is 0, the right answer.

    NumPy flags that underflow (e^-1e4 in any dtype, e^-100 in float32); it ignores
    the flag by default, and here it is ignored even where the caller raises on
    floating-point errors, so that only overflow and invalid values reach them.
    """
    with np.errstate(under="ignore"):
        return np.exp(x)


def _tanh(x):
    """tanh(x), where the result for a subnormal x (as small as x, so subnormal too) is
    quiet, as ``_exp``'s tiny results are.

    NumPy's tanh flags that underflow on CPUs without AVX2 (its SSE code path) and not on
    the others: without this, the same call raised under ``np.errstate(all="raise")`` on
    one machine and not on the next.
    """
    with np.errstate(under="ignore"):
        return np.tanh(x)


def _sigmoid(x):
    """1 / (1 + e^{-x}) of a float array, for any x without overflow.

    Examples
    --------
    >>> from nnlab.activation_base import _sigmoid
    >>> _sigmoid(np.array([-1e4, 0.0, 1e4]))
    array([0. , 0.5, 1. ])
    """
    # e^min(x, 0) / (1 + e^-|x|) is 1/(1 + e^-x) for x >= 0 and e^x/(1 + e^x) below:
    # exp only ever sees numbers <= 0, so it cannot overflow. One formula for both signs
    # (a sigmoid by np.where over mixed signs measured 2 (float64) to 3.7 (float32) times
    # slower than this on 10^6 values). e^-|x| too small for the dtype is 0, as in _exp.
    with np.errstate(under="ignore"):
        denominator = np.exp(-np.abs(x))
        denominator += 1   # in place, as below: the same numbers with fewer new arrays
        numerator = np.exp(np.minimum(x, 0))
        numerator /= denominator
    return numerator


def _softplus(x):
    """log(1 + e^x) of a float array, for any x without overflow, in x's dtype.

    Examples
    --------
    >>> from nnlab.activation_base import _softplus
    >>> _softplus(np.array([-1e4, 1e4], dtype=np.float32))
    array([    0., 10000.], dtype=float32)
    """
    # logaddexp(0, x) = log(e^0 + e^x) without ever forming e^x for large x; its
    # e^x underflows to 0 for very negative x, as _exp's does.
    with np.errstate(under="ignore"):
        return np.logaddexp(0, x).astype(x.dtype, copy=False)


def _log_softmax(x):
    """log softmax(x) on the last axis, by log-sum-exp: x - max(x) - log sum e^(x - max(x)),
    where no e^x overflows and no logarithm sees a softmax that underflowed to 0.

    Examples
    --------
    >>> from nnlab.activation_base import _log_softmax
    >>> _log_softmax(np.array([[0.0, 1e4]]))
    array([[-10000.,      0.]])
    """
    shifted = x - np.max(x, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(_exp(shifted), axis=-1, keepdims=True))


class ActivationFunction:
    """Base class: ``__call__(x)`` is f(x), ``derivative(x)`` is f'(x) element-wise.

    Examples
    --------
    A new function needs its formula and its derivative; ``backward`` then follows:

    >>> class Square(nl.activations.ActivationFunction):
    ...     name = "square"
    ...     def __call__(self, x):
    ...         return np.square(x)
    ...     def derivative(self, x):
    ...         return 2 * np.asarray(x)
    >>> Square().backward(np.array([3.0]), None, np.array([0.5]))
    array([3.])
    """

    name = "activation"
    #: Whether f maps each vector along the last axis as a whole (softmax), not each number.
    along_last_axis = False

    def __call__(self, x):
        raise NotImplementedError

    def derivative(self, x):
        raise NotImplementedError

    def backward(self, x, y, dy):
        """Return dL/dx from dL/dy = ``dy``; ``y = self(x)`` is given for subclasses to reuse."""
        # Far out a slope can be subnormal (softsign's 1 / x^2 at 1e20 in float32), and dy
        # times it too small for the dtype: 0, rightly (see _exp).
        with np.errstate(under="ignore"):
            return dy * self.derivative(x)

    def get_config(self):
        """The parameters that rebuild this function: ``type(f)(**f.get_config())``."""
        return {}

    def __repr__(self):
        return f"<activation {self.name}>"
