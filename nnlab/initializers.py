"""Weight initializers: where the random starting weights of a layer come from.

Each initializer is a function ``init(shape, rng=None, dtype="float64")``.
The scaled schemes look at the layer's *fans*: how many inputs feed one unit
(``fan_in``) and how many units one input feeds (``fan_out``). Keeping the
variance of the weights near 1/fan_in (or 2/(fan_in + fan_out)) keeps the
variance of the activations roughly constant from layer to layer.

Examples
--------
>>> W = nl.initializers.he_normal((256, 128), rng=0)
>>> W.shape, round(float(W.std()), 2)
((256, 128), 0.09)
"""

import inspect
import math

import numpy as np

from nnlab._checks import all_finite, as_rng, check_number, float_dtype, lookup

#: The most weights one layer may ask for: 10^9, 4 GB in float32. More is an exponent
#: typed by mistake, which would otherwise end in a MemoryError (or swap for minutes).
MAX_WEIGHTS = 10**9


def fans(shape):
    """Return ``(fan_in, fan_out)`` of a weight array of this shape.

    Dense weights are (n_in, n_out). Convolution weights are
    ``(out_channels, in_channels, *kernel)``: every output sees
    ``in_channels * kernel size`` inputs.

    Examples
    --------
    >>> nl.initializers.fans((3, 5)), nl.initializers.fans((16, 3, 3, 3))
    ((3, 5), (27, 144))
    """
    shape = _check_shape(shape)
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[2:]))
    return shape[1] * receptive, shape[0] * receptive


def _check_shape(shape):
    if not (np.isscalar(shape) or isinstance(shape, tuple | list)):
        raise ValueError(f"a weight shape must be a tuple of positive integers; got {shape!r}")
    shape = (shape,) if np.isscalar(shape) else tuple(shape)
    # bool is an int to Python (True == 1); a dimension given as True is a mistake
    if not shape or not all(isinstance(s, int | np.integer) and not isinstance(s, bool)
                            and s > 0 for s in shape):
        raise ValueError(f"a weight shape must be a tuple of positive integers; got {shape!r}")
    return tuple(int(s) for s in shape)


def _draw(shape, rng, dtype, sampler):
    shape = _check_shape(shape)
    dtype = float_dtype(dtype, "initializer dtype")   # an int dtype would round to zeros
    return sampler(as_rng(rng), shape).astype(dtype, copy=False)


def zeros(shape, rng=None, dtype="float64"):
    """All weights 0: every unit of a layer then computes the same thing and learns the same
    update, so zeros suit biases but not weights (the symmetry is never broken)."""
    return np.zeros(_check_shape(shape), dtype=float_dtype(dtype, "initializer dtype"))


def normal(shape, rng=None, dtype="float64"):
    """W ~ N(0, 1): the naive choice. With many inputs the weighted sums get a
    variance of fan_in, and sigmoid or tanh units saturate.

    Keras's "normal" is another distribution, its ``RandomNormal``, N(0, 0.05^2): here that
    is ``random_normal``. (``uniform``, by contrast, is Keras's, U(-0.05, 0.05).)

    Examples
    --------
    >>> [round(float(init((100, 100), rng=0).std()), 2)
    ...  for init in (nl.initializers.normal, nl.initializers.random_normal)]
    [1.0, 0.05]
    """
    return _draw(shape, rng, dtype, lambda g, s: g.standard_normal(s))


def scaled_normal(shape, rng=None, dtype="float64"):
    """W ~ N(0, 1/fan_in): standard deviation 1/sqrt(n), so a weighted sum of n
    unit-variance inputs has unit variance (LeCun et al. 1998). Keras calls it
    ``lecun_normal``, a name ``get`` accepts; Keras truncates it, as it does ``he_normal``."""
    fan_in, _ = fans(shape)
    return _draw(shape, rng, dtype, lambda g, s: g.normal(0.0, 1.0 / np.sqrt(fan_in), s))


def uniform(shape, rng=None, dtype="float64", limit=0.05):
    """W ~ U(-limit, limit) with limit 0.05, as Keras' ``RandomUniform``.

    A limit above half the largest number of ``dtype`` is refused: NumPy draws over the
    width 2 limit, which must be finite, and the weights must fit in ``dtype``."""
    check_number(limit, "uniform limit", low=0, low_open=True)
    _check_fits(limit, "uniform limit", dtype, 2, "half its largest number: the draws span "
                                                  "2 limit")
    return _draw(shape, rng, dtype, lambda g, s: g.uniform(-limit, limit, s))


def glorot_uniform(shape, rng=None, dtype="float64"):
    """Glorot/Xavier uniform: W ~ U(-l, l), l = sqrt(6 / (fan_in + fan_out)).

    The variance 2/(fan_in + fan_out) compromises between keeping activations
    (forward) and gradients (backward) at constant scale (Glorot & Bengio 2010).

    Examples
    --------
    >>> W = nl.initializers.glorot_uniform((300, 100), rng=0)   # l = sqrt(6 / 400)
    >>> round(float(np.abs(W).max()), 3), round(float(W.std()), 3)   # l, l / sqrt(3)
    (0.122, 0.07)
    """
    fan_in, fan_out = fans(shape)
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return _draw(shape, rng, dtype, lambda g, s: g.uniform(-limit, limit, s))


def glorot_normal(shape, rng=None, dtype="float64"):
    """Glorot/Xavier normal: W ~ N(0, 2 / (fan_in + fan_out)).

    A plain normal; Keras draws from a normal truncated at two standard
    deviations instead, which changes the tails but not the idea.
    """
    fan_in, fan_out = fans(shape)
    std = np.sqrt(2.0 / (fan_in + fan_out))
    return _draw(shape, rng, dtype, lambda g, s: g.normal(0.0, std, s))


def he_normal(shape, rng=None, dtype="float64"):
    """He/Kaiming normal: W ~ N(0, 2 / fan_in).

    ReLU zeroes half of its inputs, halving their mean square, which is what the next
    layer's weighted sums add up; the factor 2 compensates (He et al. 2015). A plain
    normal, as PyTorch's ``kaiming_normal_``; Keras truncates it at two standard
    deviations, with the same variance.

    Examples
    --------
    >>> round(float(nl.initializers.he_normal((200, 400), rng=0).std()), 3)   # sqrt(2/200)
    0.1
    """
    fan_in, _ = fans(shape)
    std = np.sqrt(2.0 / fan_in)
    return _draw(shape, rng, dtype, lambda g, s: g.normal(0.0, std, s))


def he_uniform(shape, rng=None, dtype="float64"):
    """He/Kaiming uniform: W ~ U(-l, l), l = sqrt(6 / fan_in) (variance 2/fan_in)."""
    fan_in, _ = fans(shape)
    limit = np.sqrt(6.0 / fan_in)
    return _draw(shape, rng, dtype, lambda g, s: g.uniform(-limit, limit, s))


def ones(shape, rng=None, dtype="float64"):
    """All weights 1, as Keras' ``Ones`` (for a batch norm's scale, say); like ``zeros``,
    it leaves every unit of a layer the same."""
    return np.ones(_check_shape(shape), dtype=float_dtype(dtype, "initializer dtype"))


def random_normal(shape, rng=None, dtype="float64", std=0.05):
    """W ~ N(0, std^2) with std 0.05, as Keras' ``RandomNormal``: small, whatever the fans.

    A std above 1/``NORMAL_REACH`` of the largest number of ``dtype`` is refused: its draws
    could be too large for the dtype."""
    check_number(std, "random_normal std", low=0, low_open=True)
    _check_fits(std, "random_normal std", dtype, NORMAL_REACH, _NORMAL_WHY)
    return _draw(shape, rng, dtype, lambda g, s: g.normal(0.0, std, s))


def truncated_normal(shape, rng=None, dtype="float64", std=0.05):
    """``random_normal`` without its tails, as Keras' ``TruncatedNormal``: a value beyond two
    standard deviations is drawn again, so every weight lies in [-2 std, 2 std] (and their
    standard deviation is about 0.88 std). A std above half the largest number of ``dtype``
    is refused: the draws, up to 2 std, would not fit."""
    check_number(std, "truncated_normal std", low=0, low_open=True)
    _check_fits(std, "truncated_normal std", dtype, 2, "half its largest number: the draws "
                                                       "reach 2 std")
    return _draw(shape, rng, dtype, _truncated(std))


def _truncated(std):
    """A sampler of N(0, std^2) without the values beyond two standard deviations."""
    def sample(g, s):
        w = g.normal(0.0, std, s)
        outside = np.abs(w) > 2 * std
        while outside.any():   # about 5 % at first, each round a twentieth of the last
            w[outside] = g.normal(0.0, std, int(outside.sum()))
            outside = np.abs(w) > 2 * std
        return w

    return sample


def lecun_uniform(shape, rng=None, dtype="float64"):
    """LeCun uniform: W ~ U(-l, l), l = sqrt(3 / fan_in), the variance 1/fan_in of
    ``scaled_normal`` (Keras' ``lecun_normal``) from a uniform distribution."""
    fan_in, _ = fans(shape)
    limit = np.sqrt(3.0 / fan_in)
    return _draw(shape, rng, dtype, lambda g, s: g.uniform(-limit, limit, s))


def orthogonal(shape, rng=None, dtype="float64"):
    """An orthogonal matrix (Saxe et al. 2014), as Keras' ``Orthogonal`` and PyTorch's
    ``orthogonal_``: a layer's weights then keep the length of every input vector (or of
    its part a layer with fewer units sees), so signals neither grow nor shrink in a deep
    linear network.

    The weights into the units form a matrix of (inputs, units): ``(n_in, n_out)`` for a
    dense layer, ``(in_channels * kernel size, out_channels)`` for a convolution. Its
    columns are orthonormal when there are at least as many inputs as units, else its
    rows. It is the Q of the QR decomposition of a normal matrix, each column's sign set by
    R's diagonal, which makes every orthogonal matrix equally likely.

    Examples
    --------
    >>> W = nl.initializers.orthogonal((4, 3), rng=0)
    >>> np.allclose(W.T @ W, np.eye(3))
    True
    """
    shape = _check_shape(shape)
    if len(shape) < 2:
        raise ValueError(f"orthogonal weights need a matrix or a kernel; got shape {shape}")
    units = shape[1] if len(shape) == 2 else shape[0]
    inputs = math.prod(shape) // units

    def sample(g, s):
        q, r = np.linalg.qr(g.standard_normal((max(inputs, units), min(inputs, units))))
        q *= np.sign(np.diag(r))
        w = q if inputs >= units else q.T            # (inputs, units)
        return w if len(s) == 2 else w.T.reshape(s)  # a kernel: (out, in, *kernel)

    return _draw(shape, rng, dtype, sample)


def constant(shape, rng=None, dtype="float64", value=0.0):
    """Every weight ``value`` (0 by default), as Keras' ``Constant``: ``zeros`` and ``ones``
    are its usual two. A layer takes another value as it takes any initializer's own
    argument, in a callable: ``init=functools.partial(constant, value=0.1)``."""
    dtype = float_dtype(dtype, "initializer dtype")
    return np.full(_check_shape(shape), _in_dtype(value, "constant value", dtype), dtype=dtype)


def identity(shape, rng=None, dtype="float64", gain=1.0):
    """``gain`` times the identity matrix, as Keras' ``Identity``: ones on the main diagonal
    (of a rectangular matrix too) and zeros elsewhere, so that a dense layer of as many units
    as inputs starts by passing its input through unchanged. Only a matrix has a diagonal:
    a convolution's kernel (or a vector) is refused."""
    shape = _check_shape(shape)
    dtype = float_dtype(dtype, "initializer dtype")
    gain = _in_dtype(gain, "identity gain", dtype)
    if len(shape) != 2:
        raise ValueError(f"identity weights need a matrix, a 2-D shape; got shape {shape}")
    return gain * np.eye(*shape, dtype=dtype)


def _in_dtype(value, name, dtype):
    """``value`` as a number of ``dtype``, refused if that dtype cannot hold it (1e40 would
    become inf in float32)."""
    check_number(value, name)
    _check_fits(value, name, dtype)
    return dtype.type(value)


#: How many standard deviations out a normal draw is taken to reach at most: one beyond has
#: a chance below 1e-340 (NumPy's sampler never returns one beyond 13).
NORMAL_REACH = 40
_NORMAL_WHY = f"1/{NORMAL_REACH} of its largest number: draws reach {NORMAL_REACH} std"


def _check_fits(value, name, dtype, reach=1, why=""):
    """Refuse ``value`` (a real number) if ``reach`` times it is beyond the largest number of
    ``dtype``: a constant (``reach`` 1), or a limit or std whose draws, or the width NumPy
    draws over, reach that far; ``why`` says so in the message."""
    dtype = float_dtype(dtype, "initializer dtype")
    most = float(np.finfo(dtype).max) / reach
    # float(value): compared as a NumPy float32, the bound would be cast to float32 (NEP 50),
    # overflowing with a warning.
    if abs(float(value)) > most:
        raise ValueError(f"{name} must fit in {dtype.name} (at most {most:.3g} in size"
                         f"{', ' + why if why else ''}); got {value!r}")


#: Keras divides the standard deviation of a truncated normal by this, the standard deviation
#: of N(0, 1) cut at +-2, so that the weights keep the variance asked for.
TRUNCATED_STD = .87962566103423978


def variance_scaling(shape, rng=None, dtype="float64", scale=1.0, mode="fan_in",
                     distribution="truncated_normal"):
    """Weights of variance ``scale / n``, as Keras' ``VarianceScaling``: the rule that every
    scaled scheme above follows, with ``n`` the fan_in, the fan_out or their mean (``mode``
    "fan_in", "fan_out" or "fan_avg"), from a normal cut at two standard deviations
    ("truncated_normal", or "normal" as Keras calls it too), a plain normal
    ("untruncated_normal") or a uniform distribution ("uniform"), in any case, as Keras
    lowercases it. Keras's ``he_normal`` is ``scale=2``, its ``glorot_uniform``
    ``mode="fan_avg", distribution="uniform"``. A scale whose standard deviation
    sqrt(scale / n) is too large for ``dtype`` is refused, as ``random_normal``'s std is.

    The fans of a convolution's kernel are those of ``fans``: nnlab's kernels are
    (out, in, kh, kw) and Keras's (kh, kw, in, out), but both count ``in * kh * kw`` inputs
    and ``out * kh * kw`` outputs, so the weights have Keras's variance.

    Examples
    --------
    >>> W = nl.initializers.variance_scaling((400, 300), rng=0, scale=2.0)
    >>> round(float(W.std() ** 2 * 400), 1)
    2.0
    """
    check_number(scale, "variance_scaling scale", low=0, low_open=True)
    fan_in, fan_out = fans(shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}
    if mode not in n:
        raise ValueError(f"variance_scaling mode must be one of {', '.join(n)}; got {mode!r}")
    std = math.sqrt(scale / n[mode])
    _check_fits(std, "variance_scaling std sqrt(scale / n)", dtype, NORMAL_REACH, _NORMAL_WHY)
    samplers = {"truncated_normal": _truncated(std / TRUNCATED_STD),
                "normal": _truncated(std / TRUNCATED_STD),   # Keras's name for the same
                "untruncated_normal": lambda g, s: g.normal(0.0, std, s),
                "uniform": lambda g, s: g.uniform(-math.sqrt(3) * std, math.sqrt(3) * std, s)}
    key = distribution.lower() if isinstance(distribution, str) else None
    if key not in samplers:
        raise ValueError(f"variance_scaling distribution must be one of "
                         f"{', '.join(samplers)}; got {distribution!r}")
    return _draw(shape, rng, dtype, samplers[key])


_REGISTRY = {
    f.__name__: f
    for f in (zeros, normal, scaled_normal, uniform, glorot_uniform, glorot_normal, he_normal,
              he_uniform)
}
#: The schemes the chapters compare; ``get`` takes these and ``KERAS_NAMES``.
NAMES = tuple(_REGISTRY)
_KERAS = {"lecun_normal": scaled_normal,   # Keras's names for two schemes above
          "random_uniform": uniform,
          **{f.__name__: f for f in (ones, random_normal, truncated_normal, lecun_uniform,
                                     orthogonal, constant, identity, variance_scaling)},
          "one": ones, "zero": zeros,           # Keras's aliases; and its class names
          "identity_initializer": identity,     # IdentityInitializer and
          "orthogonal_initializer": orthogonal}  # OrthogonalInitializer, as get reads them
#: Keras's other names that ``get`` accepts: ``lecun_normal`` is ``scaled_normal``,
#: ``random_uniform`` is ``uniform``, ``one`` and ``zero`` are ``ones`` and ``zeros``, and
#: Keras's class names "IdentityInitializer" and "OrthogonalInitializer" (which ``get``
#: reads as ``identity_initializer`` and ``orthogonal_initializer``) are ``identity`` and
#: ``orthogonal``; the rest are the functions of the same names. One name of ``NAMES``
#: differs: Keras's "normal" is N(0, 0.05^2), ``random_normal`` here, where ``normal`` is the
#: course's N(0, 1); "uniform" is Keras's U(-0.05, 0.05) in both.
KERAS_NAMES = tuple(_KERAS)


def get(name):
    """Return the initializer called ``name``; a callable is returned as is.

    Examples
    --------
    >>> nl.initializers.get("he_normal").__name__, nl.initializers.get("lecun_normal").__name__
    ('he_normal', 'scaled_normal')
    """
    if callable(name):
        return name
    return lookup(name, {**_REGISTRY, **_KERAS}, "initializer")


def suited_to(activation):
    """The usual initializer before ``activation`` (a name): He's for the ReLU family, which
    zeroes about half of its inputs; LeCun's ``scaled_normal`` for SELU, whose
    self-normalizing constants assume weights of variance 1/fan_in (Klambauer et al. 2017);
    Glorot's for the rest.

    Examples
    --------
    >>> [nl.initializers.suited_to(name) for name in ("relu", "selu", "tanh")]
    ['he_normal', 'scaled_normal', 'glorot_uniform']
    """
    if activation == "selu":
        return "scaled_normal"
    return "he_normal" if activation in ("relu", "leaky_relu", "elu", "relu6") else "glorot_uniform"


def initial_weights(init, shape, rng, dtype, owner):
    """The weights ``init`` (a name or a callable) draws for ``owner`` (a layer's name),
    checked: a callable of one's own must return a ``dtype`` array of exactly ``shape``.

    Examples
    --------
    >>> nl.initializers.initial_weights("zeros", (2, 3), None, "float32", "Dense(2, 3)").dtype
    dtype('float32')
    """
    if math.prod(shape) > MAX_WEIGHTS:
        raise ValueError(f"{owner} would hold {math.prod(shape):.3g} weights of shape "
                         f"{tuple(shape)}; at most MAX_WEIGHTS = {MAX_WEIGHTS:.0e} are built")
    fn = get(init)
    name = init if isinstance(init, str) else getattr(init, "__name__", repr(init))
    try:
        inspect.signature(fn).bind(shape, rng=rng, dtype=dtype)
    except TypeError as exc:   # raised here, not from deep inside the call
        raise ValueError(f"{owner}: init {name!r} must take (shape, rng=None, dtype=...), as "
                         f"the initializers of nnlab.initializers do: {exc}") from exc
    except ValueError:   # a builtin without a signature: try it
        pass
    weights = fn(shape, rng=rng, dtype=dtype)
    if not (isinstance(weights, np.ndarray) and weights.shape == tuple(shape)
            and weights.dtype == dtype):
        got = (f"{weights.dtype} array of shape {weights.shape}"
               if isinstance(weights, np.ndarray) else type(weights).__name__)
        raise ValueError(f"{owner}: init {name!r} returned a {got}; the layer needs a "
                         f"{np.dtype(dtype)} array of shape {tuple(shape)}")
    if not all_finite(weights):
        raise ValueError(f"{owner}: init {name!r} returned NaN or infinite weights")
    return weights
