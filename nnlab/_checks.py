"""Input validation shared by every nnlab module.

Bad input must fail loudly, at the boundary, with a message that says what
was expected and what was received. These helpers keep those messages
uniform so that each module only states *what* it needs.
"""

import difflib
import inspect
import math
import numbers
import os
import re
import shutil
import uuid

import numpy as np

FLOAT_DTYPES = (np.float32, np.float64)


def all_finite(*arrays):
    """Whether every element of every one of ``arrays`` is finite, in one pass over each
    and without a temporary (arrays under 1024 elements: over one concatenated copy).

    The sum of the squares of an array's elements, ``np.dot(a, a)``, is finite when every element
    is: inf squares to inf, NaN stays NaN, and a sum of squares (none negative) cannot
    cancel an inf. It is one BLAS dot product: one vectorized pass, and no array-sized
    temporary (``np.isfinite(a).all()`` builds a boolean array as large as
    ``a``: 47 MB for 60000 MNIST-sized rows). Only when that sum is not finite, which
    finite elements can also make (1e20 squared overflows float32), do the largest and
    the smallest element decide (NaN propagates through ``max`` and ``min``, +inf is the
    largest, -inf the smallest). Measured here, the dot product takes half the time of
    ``max`` and ``min`` together on a large data set, and an MLP epoch, whose every step
    checks all its gradients in one call, 3-5 % less time. Arrays of 1024 elements or more
    that are not contiguous, or not floating, take ``max`` and ``min`` alone; arrays of fewer
    are checked together, as one concatenated copy: for them, a call each costs more than the
    copy (a small network's weights and optimizer state, twelve arrays, 4.5 microseconds
    instead of 9.9).

    Examples
    --------
    >>> all_finite(np.array([1.0, 1e300])), all_finite(np.ones(3), np.array([np.nan]))
    (True, False)
    """
    # inf and NaN are the answer here; a tiny square rounding to 0 changes nothing
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        small = [a.ravel() for a in arrays if a.size < 1024]
        if small and not _finite(np.concatenate(small)):
            return False
        return all(_finite(a) for a in arrays if a.size >= 1024)


def _finite(arr):
    if arr.size == 0:
        return True
    if arr.dtype in FLOAT_DTYPES and (arr.flags.c_contiguous or arr.flags.f_contiguous):
        flat = arr.ravel(order="K")   # a view, for a contiguous array
        if math.isfinite(np.dot(flat, flat)):   # (flat @ flat dispatches slower: +50 % here)
            return True
    return math.isfinite(arr.max()) and math.isfinite(arr.min())


def as_float_array(x, name="x", ndim=None, dtype=None, allow_nonfinite=False):
    """Return ``x`` as a floating-point ndarray, or raise ``ValueError``.

    Floating arrays keep their dtype (float32 stays float32) unless ``dtype``
    is given; integer and boolean input becomes ``dtype`` or float64. Other floating
    dtypes (float16, longdouble) are refused unless ``dtype`` is given.

    Parameters
    ----------
    x : array_like
        The data to check.
    name : str
        How the error messages call ``x``.
    ndim : int or tuple of int, optional
        Accepted numbers of dimensions.
    dtype : numpy dtype, optional
        Cast to this floating dtype. Finite values beyond its range are refused, not made
        infinite (1e39 does not fit float32).
    allow_nonfinite : bool
        Accept NaN and infinity (off by default: they poison training).

    Examples
    --------
    >>> as_float_array([[0, 1]], ndim=2).dtype
    dtype('float64')
    """
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array; got {type(x).__name__}") from exc
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be a numeric array of real numbers; got dtype {arr.dtype}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            expected = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(
                f"{name} must be {expected}; got a {arr.ndim}-D array of shape {arr.shape}"
            )
    # Before the cast, which would make a value too large for float32 infinite.
    if not allow_nonfinite and arr.dtype.kind == "f" and not all_finite(arr):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s); clean the data first")
    if dtype is None:
        if arr.dtype.kind == "f" and arr.dtype not in FLOAT_DTYPES:
            # float16's eps of 1e-3 and longdouble's platform-dependent width: computing in
            # float64 in silence would hand back another dtype than the caller chose.
            raise ValueError(f"{name} must be float32 or float64 (integers are computed in "
                             f"float64); got {arr.dtype}: cast it with .astype(np.float32)")
        dtype = arr.dtype if arr.dtype in FLOAT_DTYPES else np.float64
    return arr if arr.dtype == dtype else _cast(arr, np.dtype(dtype), name)


def _cast(arr, dtype, name):
    """``arr`` as ``dtype``; a finite value that the cast would make infinite is an error."""
    with np.errstate(over="ignore"):   # an overflow is refused below, with its numbers
        cast = arr.astype(dtype)
    narrower = arr.dtype.kind == "f" and arr.dtype.itemsize > dtype.itemsize
    if narrower and not all_finite(cast):
        overflowed = np.isfinite(arr) & ~np.isfinite(cast)
        if overflowed.any():
            raise ValueError(
                f"{name} holds {np.count_nonzero(overflowed)} value(s) beyond {dtype}'s range "
                f"(its largest number is {np.finfo(dtype).max:.8g}), up to "
                f"{np.abs(arr[overflowed]).max():g}; scale the data, or compute in float64")
    return cast


def check_number(value, name, low=None, high=None, low_open=False, high_open=False,
                 integer=False):
    """Return ``value`` if it is a number inside the given interval, else raise.

    ``low_open``/``high_open`` exclude the end points; ``integer`` demands an int.

    Examples
    --------
    >>> check_number(0.1, "lr", low=0, low_open=True)
    0.1
    """
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        what = "an integer" if integer else "a real number"
        raise ValueError(f"{name} must be {what}; got {value!r}")
    if not integer and not _finite_number(value, name):
        raise ValueError(f"{name} must be finite; got {value!r}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        left = "(" if low_open or low is None else "["    # an infinite end is never included
        right = ")" if high_open or high is None else "]"
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        raise ValueError(f"{name} must be in {left}{lo}, {hi}{right}; got {value!r}")
    return value


def _finite_number(value, name):
    # math, not np.isfinite, which has no loop for a Fraction or an int too large for a
    # float64 (a TypeError that names neither the argument nor the reason).
    try:
        return math.isfinite(value)
    except OverflowError:
        raise ValueError(f"{name} must fit in a float, at most {np.finfo(np.float64).max:g} "
                         f"in size; got a larger number ({type(value).__name__})") from None


def int_tuple(value, n, name, low):
    """``value`` (an int, or a sequence of ``n`` ints, each >= ``low``) as a tuple of ``n``
    ints: a kernel size, stride or pool size given for every spatial axis at once or per
    axis.

    Examples
    --------
    >>> int_tuple(3, 2, "kernel_size", low=1), int_tuple([1, 2], 2, "stride", low=1)
    ((3, 3), (1, 2))
    """
    values = (value,) * n if np.ndim(value) == 0 else tuple(value)
    if len(values) != n:
        raise ValueError(f"{name} must be an int or a sequence of {n} ints; got {value!r}")
    return tuple(int(check_number(v, name, low=low, integer=True)) for v in values)


def lookup(name, registry, kind, base=None):
    """Resolve a string identifier in ``registry``; unknown names list the valid ones.

    A class given for ``name``, a subclass of ``base`` (``Loss``, ``Optimizer``...), is the
    slip of ``compile(loss=MSE)`` for ``compile(loss=MSE())``: the message asks for an
    instance.

    Examples
    --------
    >>> lookup("b", {"a": 1, "b": 2}, "letter")
    2
    >>> lookup("GlorotUniform", {"glorot_uniform": 3}, "initializer")
    3
    >>> lookup("TopKCategoricalAccuracy", {"top_k_categorical_accuracy": 4}, "metric")
    4
    >>> lookup(KeyError, {"missing": LookupError}, "error", base=LookupError)
    Traceback (most recent call last):
    ValueError: error KeyError is a class: pass an instance, KeyError(), or a name, one of: missing
    """
    valid = ", ".join(sorted(registry))
    if not isinstance(name, str):
        if isinstance(name, type) and base is not None and issubclass(name, base):
            raise ValueError(f"{kind} {name.__name__} is a class: pass an instance, "
                             f"{name.__name__}(), or a name, one of: {valid}")
        raise ValueError(f"{kind} must be given by name (a str), one of: {valid}; "
                         f"got {name!r}")
    # Keras also takes class names ("BinaryCrossentropy", "TopKCategoricalAccuracy") and
    # turns them into its snake_case names as this does: "_" before each capital that
    # starts a word, and between a small letter and a capital.
    words = re.sub(r"(?<=.)(?=[A-Z][a-z])", "_", name)
    for key in (name.lower(), words.lower(), re.sub(r"(?<=[a-z])(?=[A-Z])", "_", words).lower()):
        if key in registry:
            return registry[key]
    raise ValueError(f"unknown {kind} {name!r}; valid names are: {valid}"
                     + did_you_mean(name.lower(), registry))


def did_you_mean(name, names):
    """" (did you mean 'accuracy'?)" for a ``name`` close to one of ``names`` (a typo),
    else "": the end of an unknown name's message.

    Examples
    --------
    >>> did_you_mean("acuracy", ["accuracy", "auc"])
    " (did you mean 'accuracy'?)"
    """
    close = difflib.get_close_matches(name, list(names), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def build(factory, kwargs, name, kind):
    """``factory(**kwargs)``; a keyword it does not take is a ValueError listing those it does.

    Examples
    --------
    >>> build(lambda lr=0.1: lr, {"lr": 0.5}, "sgd", "optimizer")
    0.5
    >>> build(lambda lr=0.1: lr, {"momentum": 0.9}, "sgd", "optimizer")
    Traceback (most recent call last):
    ValueError: optimizer 'sgd' takes no argument momentum; its arguments are: lr
    """
    params = inspect.signature(factory).parameters
    if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
        unknown = sorted(set(kwargs) - set(params))
        if unknown:
            takes = f"its arguments are: {', '.join(params)}" if params else "it takes none"
            raise ValueError(f"{kind} {name!r} takes no argument {', '.join(unknown)}; {takes}")
    return factory(**kwargs)


def check_bool(value, name):
    """``value`` as a bool if it is one (NumPy's too): "no" or 0 would otherwise count.

    Examples
    --------
    >>> check_bool(True, "shuffle")
    True
    """
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def float_dtype(dtype, name="dtype"):
    """``numpy.dtype(dtype)`` if it is float32 or float64, the two a network computes in.

    Examples
    --------
    >>> float_dtype("float32")
    dtype('float32')
    """
    try:
        checked = np.dtype(dtype)
    except TypeError:
        checked = None
    if checked not in (np.float32, np.float64):
        raise ValueError(f"{name} must be float32 or float64; got {dtype!r}")
    return checked


def as_rng(seed, name="rng"):
    """A ``numpy.random.Generator`` from ``seed``: None (fresh entropy), an int >= 0, a
    ``SeedSequence`` or ``BitGenerator``, or a Generator, which is returned as it is, so that
    a caller's stream goes on.

    NumPy rejects anything else with a TypeError from deep inside ``SeedSequence``; this
    says which argument was wrong.

    Examples
    --------
    >>> as_rng(0).integers(10) == np.random.default_rng(0).integers(10)
    np.True_
    >>> g = np.random.default_rng(1); as_rng(g) is g
    True
    """
    if seed is not None and not isinstance(
            seed, (np.random.Generator, np.random.BitGenerator, np.random.SeedSequence)):
        what = ("None, an integer seed >= 0, or a numpy.random Generator, BitGenerator or "
                "SeedSequence")
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise ValueError(f"{name} must be {what}; got {seed!r}")
        check_number(seed, name, low=0, integer=True)
    return np.random.default_rng(seed)


def check_verbose(verbose, allowed=(0, 1, 2, "auto"), name="verbose"):
    """``verbose`` as an int if it is one of ``allowed`` (an integer: True, 1.0 and a 0-d
    array are refused, as none of them says which level is meant); "auto", Keras's
    default for ``fit``, ``evaluate`` and ``predict``, is 1 there."""
    if isinstance(verbose, str) and verbose == "auto" and "auto" in allowed:
        return 1
    integer = isinstance(verbose, numbers.Integral) and not isinstance(verbose, bool)
    if not integer or verbose not in allowed:
        names = ", ".join(map(repr, allowed[:-1])) + f" or {allowed[-1]!r}"
        raise ValueError(f"{name} must be {names}; got {verbose!r}")
    return int(verbose)


def check_weights(weights, targets, what):
    """``weights`` as arrays that may replace ``targets`` (a dict key -> array), or raise.

    Each must have its target's shape and finite real values, and those of a variance
    (a key ending in ``running_var``) must be >= 0: batch norm takes their square root.
    Every array is checked before the caller copies any.
    """
    if not isinstance(weights, list | tuple):
        raise ValueError(f"{what} takes a list of arrays, as get_weights returns; got "
                         f"{type(weights).__name__}")
    shapes = [np.shape(w) for w in weights]
    expected = [t.shape for t in targets.values()]
    if shapes != expected:
        raise ValueError(f"{what} expected arrays of shapes {expected}; got {shapes}")
    checked = []
    for (key, target), w in zip(targets.items(), weights, strict=True):
        # In the target's dtype: a float64 value beyond float32's range is refused, not inf.
        w = as_float_array(w, f"{what} array {key!r}", dtype=target.dtype)
        if key.endswith("running_var") and w.size and w.min() < 0:
            raise ValueError(f"{what} array {key!r} holds variances; expected values >= 0; "
                             f"got a minimum of {w.min():g}")
        checked.append(w)
    return checked


def file_path(path, what, writing=True, suffix=""):
    """``path`` (a str or pathlib.Path; "~" is the home folder) as a str, refused if it ends
    in a separator, or, when ``writing``, names an existing folder or a file in a folder
    that does not exist: ``what`` (say "save_model") needs a file's name, and it would
    write or read a hidden ".npz" in the folder, or a file beside it. A path written to
    ends in ``suffix``, appended if missing, as ``numpy.savez`` appends ".npz"."""
    name = os.fspath(path) if isinstance(path, (str, os.PathLike)) else None
    if not isinstance(name, str):   # bytes too: the name's encoding is a guess
        raise ValueError(f"{what} needs a file name as a str or pathlib.Path; got {path!r}")
    path = os.path.expanduser(name)
    if writing and os.path.basename(path) and not (path.endswith(suffix) or os.path.isdir(path)):
        path += suffix
    if not os.path.basename(path) or (writing and os.path.isdir(path)):
        raise ValueError(f"{what} needs a file name; {path!r} names a folder: give a file "
                         f"in it, such as {os.path.join(path, 'model')!r}")
    folder = os.path.dirname(path)
    if writing and folder and not os.path.isdir(folder):
        raise ValueError(f"{what} cannot write {path!r}: there is no folder {folder!r}")
    return path


def replace_file(path, write):
    """Call ``write(file)`` on a new file beside ``path``, then move it onto ``path``: a
    write cut short (Ctrl-C, a full disk) leaves the file that was there as it was. A link
    keeps pointing at the file, which keeps its permissions. Where no file can be made
    beside it (a folder one may not write in, a name at the length limit), ``write``
    writes ``path`` in place, as ``numpy.savez`` would."""
    target = os.path.realpath(path)
    partial = f"{target}.{uuid.uuid4().hex[:8]}"
    try:   # a new file, with the permissions of one (tempfile's are private, 0600)
        handle = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError:
        with open(target, "wb") as file:
            write(file)
        return
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
        if os.path.exists(target):
            shutil.copymode(target, partial)
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def json_number(value):
    """``json.dumps``'s fallback: the Python number a NumPy scalar holds (a list for an array,
    in some bit generators' states). A hyper-parameter may stay a NumPy scalar in a layer's
    configuration (``Dropout(np.float32(0.5))``); JSON knows only Python's numbers."""
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
