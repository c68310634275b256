r"""Keras's other activation functions, for code that names them.

Keras 3 accepts more activation names than the chapters teach. ``nnlab.activations.get``
takes these too (their names are ``nnlab.activations.KERAS_NAMES``), so a model that names
its activations as Keras does runs here, unless it uses the one that Keras 3.15 has and
nnlab does not: ``threshold``. One name computes another function: ``"leaky_relu"`` has
PyTorch's slope 0.01 here, Keras's 0.2 (``LeakyReLU(0.2)`` is Keras's). (``get`` also
finds Keras's ``glu``, which halves the last axis: it is in ``nnlab.gated_activations``.)
The chapters' tables and explorers keep to ``nnlab.activations.NAMES``. Three kinds:

- clipping and shrinking: ``hard_tanh`` clips to [-1, 1]; ``hard_shrink``,
  ``soft_shrink`` and ``tanh_shrink`` set small inputs to (or near) 0 and keep large
  ones, the shrinkage operators of sparse coding;
- smooth variants: ``log_sigmoid``, ``celu`` (ELU made continuously differentiable for
  every alpha), ``squareplus`` (a softplus made of a square root) and ``sparse_plus``
  (a softplus made of a parabola);
- ``sparse_sigmoid``, a sigmoid of straight pieces that reaches 0 and 1; on the last
  axis, ``log_softmax``, the logarithm of softmax, and ``sparsemax``, a softmax whose
  small scores get probability exactly 0.

Each is written as those of ``nnlab.activations`` are: the formula next to its
derivative, in the input's dtype, quiet at +-1e4, and at a kink the slope PyTorch
computes there. That is the outer piece's slope (hard_tanh's 0 at +-1), except for
``soft_shrink`` and ``hard_shrink``, whose slope at +-threshold is the inner piece's, 0:

>>> nl.keras_activations.hard_tanh(np.array([-2.0, 0.5]))
array([-1. ,  0.5])
>>> nl.keras_activations.soft_shrink(np.array([-2.0, 0.25]))
array([-1.5,  0. ])
>>> nl.keras_activations.soft_shrink.derivative(np.array([-0.5, 0.5]))
array([0., 0.])
"""

import math

import numpy as np

from nnlab._checks import check_number
from nnlab.activation_base import (
    ActivationFunction,
    _as_float,
    _exp,
    _log_softmax,
    _sigmoid,
    _softplus,
    _tanh,
)


class HardTanh(ActivationFunction):
    """Hard tanh: f(x) = clip(x, -1, 1),  f'(x) = 1 if -1 < x < 1 else 0.

    Tanh drawn with three straight pieces: no exponential, the same range.
    """

    name = "hard_tanh"

    def __call__(self, x):
        return np.clip(_as_float(x), -1, 1)

    def derivative(self, x):
        x = _as_float(x)
        return ((x > -1) & (x < 1)).astype(x.dtype)


class LogSigmoid(ActivationFunction):
    """Log-sigmoid: f(x) = log sigmoid(x) = -softplus(-x),  f'(x) = sigmoid(-x).

    Always negative, near x far below 0 and near 0 far above. Computed from the stable
    softplus: log(sigmoid(x)) would take the logarithm of 0 once sigmoid(x) underflows.
    """

    name = "log_sigmoid"

    def __call__(self, x):
        return -_softplus(-_as_float(x))

    def derivative(self, x):
        return _sigmoid(-_as_float(x))


class CELU(ActivationFunction):
    """Continuously differentiable ELU: f(x) = max(x, 0) + min(0, alpha (e^(x/alpha) - 1)).

    f'(x) = 1 for x > 0, e^(x/alpha) otherwise. ELU's slope at 0 from the left is alpha,
    so it jumps there unless alpha = 1; dividing x by alpha inside the exponential makes it
    1 for every alpha (Barron, 2017). With alpha = 1, Keras's and PyTorch's default, it is
    ELU.
    """

    name = "celu"

    def __init__(self, alpha=1.0):
        self.alpha = float(check_number(alpha, "celu alpha", low=0, low_open=True))

    def __call__(self, x):
        x = _as_float(x)
        # x / alpha = -inf far below 0: e^-inf = 0, right. For a subnormal x, x / alpha and
        # alpha times its expm1 may be too small for the dtype: rounded, rightly.
        with np.errstate(over="ignore", under="ignore"):
            return np.maximum(x, 0) + self.alpha * np.expm1(np.minimum(x, 0) / self.alpha)

    def derivative(self, x):
        # e^min(x, 0) is e^0 = 1 for every x > 0: one formula for both pieces.
        with np.errstate(over="ignore", under="ignore"):
            return _exp(np.minimum(_as_float(x), 0) / self.alpha)

    def get_config(self):
        return {"alpha": self.alpha}


class TanhShrink(ActivationFunction):
    """Tanh shrink: f(x) = x - tanh(x),  f'(x) = tanh(x)^2.

    Flat near 0 (it starts like x^3 / 3), and x -+ 1 far from it.
    """

    name = "tanh_shrink"

    def __call__(self, x):
        x = _as_float(x)
        return x - _tanh(x)

    def derivative(self, x):
        with np.errstate(under="ignore"):   # tanh(x)^2 of a tiny x: 0, rightly
            return _tanh(_as_float(x)) ** 2


class SoftShrink(ActivationFunction):
    """Soft shrinkage: f(x) = sign(x) max(abs(x) - t, 0),  f'(x) = 1 if abs(x) > t else 0.

    With t = ``threshold``, it moves every input t towards 0, and those within t of 0 to 0:
    the proximal step of an L1 penalty, as in sparse coding. Keras's and PyTorch's t: 0.5.
    """

    name = "soft_shrink"

    def __init__(self, threshold=0.5):
        self.threshold = float(check_number(threshold, "soft_shrink threshold", low=0))

    def __call__(self, x):
        x = _as_float(x)
        return np.sign(x) * np.maximum(np.abs(x) - self.threshold, 0)

    def derivative(self, x):
        x = _as_float(x)
        return (np.abs(x) > self.threshold).astype(x.dtype)

    def get_config(self):
        return {"threshold": self.threshold}


class HardShrink(SoftShrink):
    """Hard shrinkage: f(x) = x if abs(x) > t else 0,  f'(x) = 1 if abs(x) > t else 0.

    With t = ``threshold``, it keeps the inputs beyond t as they are and sets the rest to 0
    (soft shrinkage moves the kept ones too). Keras's and PyTorch's t: 0.5.
    """

    name = "hard_shrink"

    def __init__(self, threshold=0.5):
        self.threshold = float(check_number(threshold, "hard_shrink threshold", low=0))

    def __call__(self, x):
        x = _as_float(x)
        return x * (np.abs(x) > self.threshold)


class Squareplus(ActivationFunction):
    r"""Squareplus: f(x) = (x + sqrt(x^2 + b)) / 2,  f'(x) = f(x) / sqrt(x^2 + b).

    A smooth ReLU like softplus, from a square root instead of an exponential and a
    logarithm (Barron, 2021); f(0) = sqrt(b) / 2, and b = 4, Keras's default, gives 1.
    Far below 0 the sum x + sqrt(x^2 + b) cancels (-1e4 + 1e4 in float32 is 0), so there
    the same value is computed as b / (2 (sqrt(x^2 + b) - x)), with no difference of
    nearly equal numbers; ``hypot`` forms sqrt(x^2 + b) without squaring a large x, and
    sqrt(b) is a Python float, so that float32 stays float32.
    """

    name = "squareplus"

    def __init__(self, b=4.0):
        # b > 0 (Keras also takes 0, which is ReLU: use "relu")
        self.b = float(check_number(b, "squareplus b", low=0, low_open=True))

    def __call__(self, x):
        x = _as_float(x)
        # |x| / 2 of a subnormal x, and b / (4 half) far below 0: too small, rounded or 0
        with np.errstate(under="ignore"):
            half = np.hypot(x, math.sqrt(self.b)) / 2 + np.abs(x) / 2   # (s + |x|) / 2 > 0
            return np.where(x >= 0, half, (self.b / 4) / half)

    def derivative(self, x):
        x = _as_float(x)
        with np.errstate(under="ignore"):
            return self(x) / np.hypot(x, math.sqrt(self.b))

    def get_config(self):
        return {"b": self.b}


class SparsePlus(ActivationFunction):
    """Sparse plus: 0 for x <= -1, (x + 1)^2 / 4 between, x for x >= 1.

    A softplus whose curved middle is a parabola, as Keras's ``sparse_plus``: exactly 0
    below -1 (sparse outputs) and exactly x above 1. f'(x) = (clip(x, -1, 1) + 1) / 2,
    continuous, so it needs no choice at the joins.
    """

    name = "sparse_plus"

    def __call__(self, x):
        x = _as_float(x)
        # x itself above 1: 1 + (x - 1) would round for x beyond 2^24 in float32
        return np.where(x >= 1, x, (np.clip(x, -1, 1) + 1) ** 2 / 4)

    def derivative(self, x):
        return (np.clip(_as_float(x), -1, 1) + 1) / 2


class LogSoftmax(ActivationFunction):
    """Log-softmax on the last axis: f(x)_i = x_i - log sum_j e^(x_j).

    By log-sum-exp, shifted by the row's maximum, so that no e^x overflows and no
    logarithm sees a softmax that underflowed to 0. Its Jacobian is I - 1 p^T with
    p = softmax(x), so ``backward`` returns dy - p sum(dy); ``derivative`` returns the
    Jacobian's diagonal, 1 - p.
    """

    name = "log_softmax"
    along_last_axis = True

    def __call__(self, x):
        x = _as_float(x)
        if x.shape[-1:] == (0,):   # rows of no classes: no maximum, nothing to normalize
            return x.copy()
        return _log_softmax(x)

    def derivative(self, x):
        return 1 - _exp(self(x))

    def backward(self, x, y, dy):
        with np.errstate(under="ignore"):   # a subnormal probability e^y times the sum of dy
            return dy - _exp(y) * np.sum(dy, axis=-1, keepdims=True)


class SparseSigmoid(ActivationFunction):
    """Sparse sigmoid: f(x) = clip((x + 1) / 2, 0, 1),  f'(x) = 1/2 if -1 < x < 1 else 0.

    A sigmoid of three straight pieces that reaches exactly 0 and 1 (Blondel et al.,
    2019): the two-class case of sparsemax, as the sigmoid is of softmax.
    """

    name = "sparse_sigmoid"

    def __call__(self, x):
        return np.clip((_as_float(x) + 1) / 2, 0, 1)

    def derivative(self, x):
        x = _as_float(x)
        return ((x > -1) & (x < 1)).astype(x.dtype) / 2


class Sparsemax(ActivationFunction):
    """Sparsemax on the last axis (Martins and Astudillo, 2016): f(x) = max(x - tau, 0).

    Like softmax it turns scores into a probability distribution, but the closest one to
    x in distance: its threshold tau makes the row sum to 1, and every score below tau gets
    probability exactly 0. With the scores sorted, x_(1) >= x_(2) >= ..., the support is
    the k largest for the largest k with 1 + k x_(k) > x_(1) + ... + x_(k), and
    tau = (x_(1) + ... + x_(k) - 1) / k. On the support S, those k scores, the Jacobian
    is I - 1 1^T / k (0 elsewhere), so ``backward`` returns s (dy - mean of dy over S),
    s the indicator of S; ``derivative`` returns the Jacobian's diagonal, s (1 - 1/k).
    Keras 3.15's sparsemax sums the cumulative sums over S instead of taking the k-th, so
    its rows do not sum to 1 once S holds two scores or more (keras-team/keras#23425,
    fixed in August 2026); this one follows the paper.

    >>> nl.keras_activations.sparsemax(np.array([0.0, 0.5, 1.0]))    # Keras 3.15: [0, 0, 0.25]
    array([0.  , 0.25, 0.75])
    """

    name = "sparsemax"
    along_last_axis = True

    def __call__(self, x):
        # Shifted by the row's maximum, as softmax is (tau shifts with it): k x_(k) and the
        # sums stay within k times the row's spread, and x_(1) = 0 is always in S.
        # A single number is a row of one class, as softmax takes it (its probability is 1);
        # sorting and indexing need the axis that the reductions do without.
        # A row spanning more than the dtype's largest number makes some shifted scores, their
        # sums or k times them -inf: only far below 0, outside S (whose scores lie within 1
        # of 0), where the test -inf > -inf is false, as it should be.
        x = _as_float(x)
        if x.shape[-1:] == (0,):   # rows of no classes: no maximum, nothing to normalize
            return x.copy()
        rows = np.atleast_1d(x)
        with np.errstate(over="ignore"):
            rows = rows - np.max(rows, axis=-1, keepdims=True)
            z = -np.sort(-rows, axis=-1)                  # each row in decreasing order
            k = np.arange(1, rows.shape[-1] + 1, dtype=x.dtype)
            sums = np.cumsum(z, axis=-1)
            size = np.sum(1 + k * z > sums, axis=-1, keepdims=True)   # |S|, a prefix of z
        tau = (np.take_along_axis(sums, size - 1, axis=-1) - 1) / size.astype(x.dtype)
        return np.maximum(rows - tau, 0).reshape(x.shape)

    # |S| >= 1 in a row of one class or more (x_(1) is in S); a row of none counts as 1,
    # for a quotient of nothing by 1 where 0 would warn.
    def derivative(self, x):
        s = (self(x) > 0).astype(_as_float(x).dtype)
        return s * (1 - 1 / np.maximum(np.sum(s, axis=-1, keepdims=True), 1))

    def backward(self, x, y, dy):
        s = (y > 0).astype(dy.dtype)
        size = np.maximum(np.sum(s, axis=-1, keepdims=True), 1)
        return s * (dy - np.sum(dy * s, axis=-1, keepdims=True) / size)


hard_tanh = HardTanh()
log_sigmoid = LogSigmoid()
celu = CELU()
tanh_shrink = TanhShrink()
soft_shrink = SoftShrink()
hard_shrink = HardShrink()
squareplus = Squareplus()
sparse_plus = SparsePlus()
log_softmax = LogSoftmax()
sparse_sigmoid = SparseSigmoid()
sparsemax = Sparsemax()
