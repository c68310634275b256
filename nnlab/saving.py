"""Saving and loading a Sequential model: one plain ``.npz`` file, no pickle.

The file is what ``numpy.savez`` writes: one array per parameter and buffer,
named ``"<layer index>.params.<name>"`` or ``"<layer index>.buffers.<name>"`` (in a
Residual block ``"<index>.params.<index in the block>.<name>"``), and a header
``"__nnlab__"``, a 0-d unicode array holding JSON::

    {"format": "nnlab.Sequential", "version": 2, "input_shape": [1, 28, 28],
     "layers": [{"class": "Dense", "config": {"n_in": 2, "n_out": 8, ...}}, ...],
     "random_states": [{"layers": ["2"], "state": {"bit_generator": "PCG64", ...}}],
     "compile": {"loss": {"name": ..., "config": ...}, "optimizer": {...},
                 "metrics": ["accuracy"]}}

A model file is data that may come from anywhere, so loading believes nothing in it
before checking it, and checks each part before acting on it:

1. every member of the zip archive must be a ``.npy`` array whose header (shape and
   dtype) declares exactly the bytes the member holds, and the member may claim no more
   bytes than its compressed bytes in the file expand to: reading the arrays can then
   allocate no more than the file holds;
2. the JSON header must describe layers and compile settings that nnlab knows, with
   Residual blocks nested at most ``MAX_NESTING`` deep;
3. the arrays each layer's configuration asks for must be those the file declares,
   before the layer is built (building allocates them), so that a tampered size cannot
   make loading allocate more than the arrays in the file;
4. only then is the data read (``allow_pickle=False``), each array checked against the
   rebuilt layer (shape, dtype, finite values, variances >= 0), and copied in.

Anything wrong raises ``ModelFileError``, a ``ValueError`` that says what was expected and
what was found. A trained model's optimizer is saved with its running state, as Keras saves
it: arrays ``"optimizer.<i>.<name>"`` for the i-th array of ``model.params``, named as in
its state (Adam's decayed sums: see its description), and ``"iterations"`` and the numbers
all its steps share (``shared_state``: NAdam's and ASGD's) in the header, so that training
resumed after loading takes the steps it would have taken anyway, and so is the state of
each random generator that layers draw from (Dropout's masks). A schedule of
``nnlab.schedules`` is saved as its class and arguments; a ``NotSavedWarning`` names the
metrics and schedules of one's own, code that a file cannot hold. The header's parts are
``nnlab.layer_specs`` and ``nnlab.training_state``'s; a model that ``load_model`` could not
rebuild (an optimizer, activation or layer of one's own) is refused before writing.
"""

import json
import math
import os
import reprlib
import tokenize
import zipfile
import zlib

import numpy as np

from nnlab import losses
from nnlab._checks import (
    FLOAT_DTYPES,
    all_finite,
    as_float_array,
    file_path,
    json_number,
    replace_file,
)
from nnlab.layer_specs import layer_specs
from nnlab.layers import Layer, Residual
from nnlab.training_state import (
    compile_settings,
    generator_states,
    input_shape,
    optimizer_arrays,
    read_optimizer_config,
    rebuilt_optimizer,
    set_generator_states,
    set_input_shape,
    set_progress,
)

FORMAT = "nnlab.Sequential"
FORMAT_VERSION = 2
#: The format versions that ``load_model`` reads (1: see ``read_optimizer_config``).
READ_VERSIONS = (1, 2)
HEADER = "__nnlab__"

#: How deep Residual blocks may nest in a model file. Networks nest them one or two deep;
#: 64 is generous, and keeps building, running, printing and saving such a model (some six
#: Python frames a level) well inside Python's recursion limit of 1000 frames.
MAX_NESTING = 64

# Deflate expands data at most 1032-fold (zlib's documented bound), so a member stored in
# n bytes holds at most 1032 n bytes of array; an uncompressed member holds n.
_EXPANSION = {zipfile.ZIP_STORED: 1, zipfile.ZIP_DEFLATED: 1032}

_JSON_KINDS = {dict: "a JSON object", list: "a JSON array", str: "a string"}


class ModelFileError(ValueError):
    """A model file that is missing, corrupt or not an nnlab model."""


class ModelFileNotFoundError(ModelFileError, FileNotFoundError):
    """No file at the given path (both a ValueError and a FileNotFoundError)."""


def layer_arrays(layer):
    """A layer's parameters and buffers under keys "params.<name>" and "buffers.<name>".

    Examples
    --------
    >>> list(nl.saving.layer_arrays(nl.Dense(2, 3)))
    ['params.W', 'params.b']
    """
    return {f"{kind}.{k}": a for kind in ("params", "buffers")
            for k, a in getattr(layer, kind, {}).items()}


def _model_arrays(model):
    return {f"{i}.{k}": a for i, layer in enumerate(model.layers)
            for k, a in layer_arrays(layer).items()}


def save_model(model, path):
    """Write ``model`` to ``path`` (``.npz`` appended if missing); return the path written.

    Examples
    --------
    >>> import os, tempfile
    >>> model = nl.Sequential([nl.Dense(2, 1)])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     nl.saving.save_model(model, os.path.join(folder, "m")).endswith("m.npz")
    True
    """
    path = file_path(path, "save_model", suffix=".npz")
    arrays = _model_arrays(model) | optimizer_arrays(model.optimizer)
    broken = [key for key, a in arrays.items() if not all_finite(a)]
    if broken:   # load_model refuses such arrays: refuse them here, before writing
        raise ValueError(f"cannot save the model: {', '.join(broken)} hold NaN or infinite "
                         "values (training diverged, or they were set so)")
    spec = {"format": FORMAT, "version": FORMAT_VERSION, "layers": layer_specs(model.layers),
            "random_states": generator_states(model),   # (may refuse: before compile's warnings)
            "input_shape": input_shape(model),
            "compile": compile_settings(model) if model.loss is not None else None}
    header = np.array(json.dumps(spec, default=json_number))
    replace_file(path, lambda file: np.savez(file, **{HEADER: header}, **arrays))
    return path


def load_model(path):
    """Load a model saved with ``Sequential.save(path)``; never unpickles anything.

    Raises ``ValueError`` (``ModelFileError``) naming the problem for a missing,
    truncated, corrupt, tampered or foreign file, before anything is built from a part
    of the file that failed its check (see the module's description).

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = nl.Sequential([nl.Dense(2, 1, rng=0)]).save(os.path.join(folder, "m"))
    ...     nl.load_model(path).layers
    [Dense(n_in=2, n_out=1, dtype='float64', init='glorot_uniform')]
    """
    path = file_path(path, "load_model", writing=False)   # m.npz beside m/
    # The file that save wrote for this path (.npz appended), else one renamed since.
    tried = [path] if path.endswith(".npz") else [path + ".npz", path]
    path = next((p for p in tried if os.path.isfile(p)), None)
    if path is None:
        folder = next((f": {p!r} is a folder" for p in tried if os.path.isdir(p)), "")
        raise ModelFileNotFoundError(f"no model file at {' or '.join(map(repr, tried))}{folder}")
    try:
        # Opened here, not by zipfile: its first bytes tell a .npy file from a zip, and its
        # size bounds the sizes the zip's directory may claim.
        with open(path, "rb") as file:
            if file.read(len(np.lib.format.MAGIC_PREFIX)) == np.lib.format.MAGIC_PREFIX:
                raise ModelFileError(f"{path!r} holds a single array (.npy), not an nnlab "
                                     "model file (.npz)")
            with zipfile.ZipFile(file) as archive:
                size = os.fstat(file.fileno()).st_size
                declared = {}  # name: (zip member, shape, dtype), as each member declares them
                for info in archive.infolist():
                    if not info.filename.endswith(".npy"):
                        raise ModelFileError(f"{path!r}: member {info.filename!r} of the model "
                                             "file is not a .npy array; expected only those")
                    declared[info.filename.removesuffix(".npy")] = (
                        info, *_npy_header(archive, info, size, path))
                spec = _read_spec(archive, declared.pop(HEADER, None), path)
                model = _build_model(spec, declared, path)
                targets = _targets(model, declared)
                arrays = _read_arrays(archive, declared, targets, _squares(model), path)
    # zipfile raises NotImplementedError for what it cannot read (a later zip version).
    except (OSError, EOFError, ValueError, NotImplementedError, zipfile.BadZipFile,
            zlib.error) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(f"{path!r} is not a readable nnlab model file (.npz): {exc}"
                             ) from exc
    for key, target in targets.items():
        target[...] = arrays[key]
    return model


def _targets(model, declared):
    """The arrays that the file's arrays are read into, by key: the model's, in the dtype
    the file holds, then its optimizer's running state after ``iterations`` steps."""
    optimizer = model.optimizer
    iterations, shared = (optimizer.iterations, optimizer.shared_state()) if optimizer else (0, {})
    dtypes = {dtype for _, _, dtype in declared.values()}
    if len(dtypes) == 1 and model.dtype not in dtypes:
        model.astype(dtypes.pop())  # layers with no dtype setting (one's own) follow
    targets = _model_arrays(model)
    if iterations:   # (astype reset the optimizer)
        optimizer.state = [optimizer.fresh_state(p) for p in model.params]
        set_progress(optimizer, {"iterations": iterations, "shared_state": shared})
        targets.update(optimizer_arrays(optimizer))
    return targets


def _squares(model):
    """The keys of the arrays of variances, squares or sizes, where no value may be negative."""
    names = getattr(model.optimizer, "squares", ())
    state = {key for key in optimizer_arrays(model.optimizer) if key.rpartition(".")[2] in names}
    return state | {key for key in _model_arrays(model) if key.endswith(".running_var")}


def _npy_header(archive, info, size, path):
    """The shape and dtype that a member's .npy header declares, checked against the bytes
    the member holds, and those against the file's ``size`` (the zip directory's sizes are
    data from the file too: a member's compressed bytes must fit in the file, and expand no
    further than its compression method can)."""
    where = f"{path!r}: member {info.filename!r} of the model file"
    if info.compress_type not in _EXPANSION or info.flag_bits & 0x1:  # bit 0: encrypted
        raise ModelFileError(f"{where} is encrypted or compressed with method "
                             f"{info.compress_type}; expected a plain or deflated member, as "
                             "numpy.savez and numpy.savez_compressed write")
    if info.compress_size > size or info.file_size > info.compress_size * _EXPANSION[
            info.compress_type]:
        raise ModelFileError(f"{where} claims {info.file_size} bytes ({info.compress_size} "
                             f"compressed); the file of {size} bytes cannot hold them")
    with archive.open(info) as member:
        try:
            version = np.lib.format.read_magic(member)
            read = {(1, 0): np.lib.format.read_array_header_1_0,
                    (2, 0): np.lib.format.read_array_header_2_0}.get(version)
            if read is None:
                raise ValueError(f"expected .npy format version 1.0 or 2.0; got {version}")
            shape, _, dtype = read(member)
        # NumPy parses the header, a Python literal, with tokenize, whose errors it passes on.
        except (ValueError, SyntaxError, tokenize.TokenError) as exc:
            raise ModelFileError(f"{where} is not a valid .npy array: {exc}") from exc
        start = member.tell()
    if dtype.hasobject:
        raise ModelFileError(f"{where} holds Python objects (pickled), never found in a "
                             "model file; expected numbers")
    nbytes = math.prod(shape) * dtype.itemsize
    if any(n < 0 for n in shape) or start + nbytes != info.file_size:
        raise ModelFileError(f"{where} declares {dtype} of shape {shape}, {nbytes} bytes; "
                             f"it holds {info.file_size - start} bytes")
    return shape, dtype


def _read_spec(archive, header, path):
    """The JSON ``header`` (its zip member, shape and dtype), parsed and checked to describe
    an nnlab model of a version this nnlab reads."""
    where = f"{path!r} is not an nnlab model file"
    if header is None:
        raise ModelFileError(f"{where}: expected format {FORMAT!r} in a {HEADER} header; "
                             "found no header")
    info, shape, dtype = header
    if shape != () or dtype.kind != "U":
        raise ModelFileError(f"{where}: expected its {HEADER} header to be a 0-d unicode "
                             f"array (JSON text); got {dtype} of shape {shape}")
    with archive.open(info) as member:
        text = str(np.lib.format.read_array(member, allow_pickle=False))
    try:
        spec = json.loads(text)
    except (ValueError, RecursionError) as exc:  # JSON nested too deep to parse: RecursionError
        raise ModelFileError(f"{where}: its {HEADER} header is no JSON that can be read: {exc}"
                             ) from exc
    if not isinstance(spec, dict) or spec.get("format") != FORMAT:
        found = (f"format {reprlib.repr(spec.get('format'))}" if isinstance(spec, dict)
                 else reprlib.repr(spec))
        raise ModelFileError(f"{where}: expected format {FORMAT!r}; got {found}")
    version = spec.get("version")
    if type(version) is not int or version not in READ_VERSIONS:   # JSON's true is no 1
        newer = " (a newer nnlab wrote it)" if type(version) is int and version > 0 else ""
        raise ModelFileError(f"{path!r} has model format version {reprlib.repr(version)}{newer}; "
                             f"this nnlab reads versions {' and '.join(map(str, READ_VERSIONS))}")
    return spec


def _field(mapping, key, kind, where):
    """``mapping[key]``, checked to be of type ``kind`` (dict, list or str)."""
    if key not in mapping:
        raise ModelFileError(f"{where}: expected {_JSON_KINDS[kind]} under {key!r}; "
                             f"found no {key!r}")
    if not isinstance(mapping[key], kind):
        raise ModelFileError(f"{where}.{key}: expected {_JSON_KINDS[kind]}; got "
                             f"{reprlib.repr(mapping[key])}")
    return mapping[key]


def _array_shapes(item, where, depth=0):
    """The shapes of the arrays that building the layer described by ``item`` allocates, by
    key (as ``layer_arrays`` names them), checking on the way that ``item`` is a layer
    description: ``{"class": <a layer class>, "config": {...}}``. Each layer class says
    (``Layer.array_shapes``); a residual block's are those of its layers."""
    if not isinstance(item, dict):
        raise ModelFileError(f"{where}: expected a layer, a JSON object with a class and a "
                             f"config; got {reprlib.repr(item)}")
    name = _field(item, "class", str, where)
    cls = Layer.registry.get(name)
    base = {n for n, c in Layer.registry.items() if c.__module__.startswith("nnlab.")
            and n.startswith("_")}   # "_Conv", "_Pool": nnlab's bases of layers, no layers
    if cls is None or name in base:
        known = ", ".join(sorted(set(Layer.registry) - base))
        raise ModelFileError(f"{where}: unknown layer class {reprlib.repr(name)}; known: "
                             f"{known} (a class of one's own is known once it is defined)")
    config = _field(item, "config", dict, where)
    if not issubclass(cls, Residual):
        return cls.array_shapes(config)
    if depth == MAX_NESTING:
        raise ModelFileError(f"{where}: Residual blocks nest deeper than {MAX_NESTING}, the "
                             "most a model file may nest them")
    shapes = {}
    for j, inner in enumerate(_field(config, "layers", list, f"{where}.config")):
        for key, shape in _array_shapes(inner, f"{where}.config.layers[{j}]",
                                        depth + 1).items():
            kind, _, name = key.partition(".")  # a block shows inner arrays as "<j>.<name>"
            shapes[f"{kind}.{j}.{name}"] = shape
    return shapes


def _build_model(spec, declared, path):
    """The model the header describes, each layer compared with the file before it is built."""
    from nnlab.model import Sequential  # model.py imports this module

    layers = []
    for i, item in enumerate(_field(spec, "layers", list, f"{path!r}: header")):
        where = f"{path!r}: layers[{i}]"
        for key, shape in _array_shapes(item, where).items():
            # A size that is no positive integer (JSON's true included) is left to the
            # constructor, which rejects it, with a message naming it, before it allocates.
            found = declared.get(f"{i}.{key}", (None, None))[1]
            if all(type(n) is int and n >= 1 for n in shape) and found != shape:
                held = "is missing it" if found is None else f"holds shape {reprlib.repr(found)}"
                raise ModelFileError(f"{where} ({item['class']}) would allocate array "
                                     f"'{i}.{key}' of shape {reprlib.repr(shape)}; the file "
                                     f"{held}")
        try:
            layers.append(Layer.registry[item["class"]].from_config(item["config"]))
        except (TypeError, ValueError) as exc:   # an argument unknown or missing, a bad value
            raise ModelFileError(f"{where} ({item['class']}) cannot be built from its config "
                                 f"{reprlib.repr(item['config'])}: {exc}") from exc
    model = Sequential(layers)
    # Files written before these keys leave the layers fresh generators and no input shape.
    for key, restore in (("random_states", set_generator_states), ("input_shape", set_input_shape)):
        try:
            if key in spec:
                restore(model, spec[key])
        except ValueError as exc:
            raise ModelFileError(f"{path!r}: {key}: {exc}") from exc
    if "compile" not in spec:
        raise ModelFileError(f"{path!r}: header: expected null or a JSON object under "
                             "'compile'; found no 'compile'")
    if spec["compile"] is not None:
        _compile(model, _field(spec, "compile", dict, f"{path!r}: header"), spec["version"],
                 path)
    return model


def _compile(model, compiled, version, path):
    """Compile ``model`` with the header's loss, optimizer and metrics (format ``version``)."""
    where = f"{path!r}: compile"
    parts = []
    for part, build in (("loss", losses.get), ("optimizer", rebuilt_optimizer)):
        entry = _field(compiled, part, dict, where)
        name = _field(entry, "name", str, f"{where}.{part}")
        config = _field(entry, "config", dict, f"{where}.{part}")
        try:
            parts.append(build(name, **config) if part == "loss" else
                         build(name, **read_optimizer_config(config, version)))
        except (TypeError, ValueError) as exc:   # as a layer's constructor above
            raise ModelFileError(f"{where}.{part}: cannot build {reprlib.repr(name)} from the "
                                 f"config {reprlib.repr(config)}: {exc}") from exc
    metrics = _field(compiled, "metrics", list, where)
    if not all(isinstance(m, str) for m in metrics):
        raise ModelFileError(f"{where}.metrics: expected metric names (strings); got "
                             f"{reprlib.repr(metrics)}")
    try:
        model.compile(*parts, metrics)
    except ValueError as exc:
        raise ModelFileError(f"{where}.metrics: {exc}") from exc
    try:
        set_progress(model.optimizer, compiled["optimizer"])
    except ValueError as exc:
        raise ModelFileError(f"{where}.optimizer.{exc}") from exc


def _read_arrays(archive, declared, targets, squares, path):
    """The arrays of the file, each one checked against the array it replaces (one of
    ``targets``) before it is read, and its values after (no negative value in ``squares``)."""
    if set(declared) != set(targets):
        raise ModelFileError(f"{path!r}: the arrays do not match the model: missing "
                             f"{sorted(set(targets) - set(declared))}, unexpected "
                             f"{sorted(set(declared) - set(targets))}")
    arrays = {}
    for key, target in targets.items():
        info, shape, dtype = declared[key]
        if shape != target.shape or dtype not in FLOAT_DTYPES:
            raise ModelFileError(f"{path!r}: array {key!r} is {dtype} of shape {shape}; the "
                                 f"model expects float32 or float64 floats of shape "
                                 f"{target.shape}")
        with archive.open(info) as member:
            array = np.lib.format.read_array(member, allow_pickle=False)
        if not all_finite(array):
            raise ModelFileError(f"{path!r}: array {key!r} contains NaN or infinite values")
        # Batch norm and the adaptive optimizers take the square root of variances and
        # squares: a negative one would give NaN, not an error.
        if key in squares and array.size and array.min() < 0:
            raise ModelFileError(f"{path!r}: array {key!r} holds squares, variances or sizes; "
                                 f"expected values >= 0; got a minimum of {array.min():g}")
        # A finite float64 beyond a float32 model's range is refused, not loaded as inf.
        arrays[key] = as_float_array(array, f"array {key!r}", dtype=target.dtype)
    return arrays
