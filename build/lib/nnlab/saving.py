"""Saving and loading a Sequential model: one plain ``.npz`` file, no pickle.

The file is what ``numpy.savez`` writes: one array per parameter and buffer,
named ``"<layer index>.params.<name>"`` or ``"<layer index>.buffers.<name>"``,
and a header ``"__nnlab__"``, a 0-d unicode array holding JSON::

    {"format": "nnlab.Sequential", "version": 1,
     "layers": [{"class": "Dense", "config": {"n_in": 2, "n_out": 8, ...}}, ...],
     "compile": {"loss": {"name": ..., "config": ...}, "optimizer": {...},
                 "metrics": ["accuracy"]}}

Loading reads it with ``allow_pickle=False``, rebuilds each layer from its class
name (``Layer.registry``) and configuration, and checks every array against the
rebuilt layer before copying it in. The optimizer's running state (momentum,
Adam's averages), a learning-rate schedule and custom metric functions are not saved.
"""

import json
import os
import zipfile

import numpy as np

from nnlab import losses, optimizers
from nnlab import metrics as metric_functions
from nnlab._checks import all_finite
from nnlab.layers import Layer

FORMAT = "nnlab.Sequential"
FORMAT_VERSION = 1
HEADER = "__nnlab__"


class ModelFileError(ValueError):
    """A model file that is missing, corrupt or not an nnlab model."""


class ModelFileNotFoundError(ModelFileError, FileNotFoundError):
    """No file at the given path (both a ValueError and a FileNotFoundError)."""


def layer_arrays(layer):
    """A layer's parameters and buffers under keys "params.<name>" and "buffers.<name>".

    Examples
    --------
    >>> from nnlab.layers import Dense
    >>> list(layer_arrays(Dense(2, 3)))
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
    >>> import nnlab as nl, os, tempfile
    >>> path = save_model(nl.Sequential([nl.Dense(2, 1)]), os.path.join(tempfile.mkdtemp(), "m"))
    >>> path.endswith("m.npz")
    True
    """
    spec = {"format": FORMAT, "version": FORMAT_VERSION,
            "layers": [{"class": type(layer).__name__, "config": layer.get_config()}
                       for layer in model.layers],
            "compile": None}
    if model.loss is not None:
        opt = model.optimizer.get_config()
        spec["compile"] = {
            "loss": {"name": model.loss.name, "config": model.loss.get_config()},
            "optimizer": {"name": type(model.optimizer).__name__.lower(),
                          "config": {k: v for k, v in opt.items() if v is not None}},
            "metrics": [m for m in model.metrics if m in metric_functions.NAMES]}
    path = os.fspath(path)
    path = path if path.endswith(".npz") else path + ".npz"
    np.savez(path, **{HEADER: np.array(json.dumps(spec))}, **_model_arrays(model))
    return path


def load_model(path):
    """Load a model saved with ``Sequential.save``; never unpickles anything.

    Raises ``ValueError`` (``ModelFileError``) naming the problem for a missing,
    truncated, corrupt or foreign file, or one whose arrays do not fit its layers.

    Examples
    --------
    >>> import nnlab as nl, os, tempfile
    >>> path = nl.Sequential([nl.Dense(2, 1, rng=0)]).save(os.path.join(tempfile.mkdtemp(), "m"))
    >>> nl.load_model(path).layers
    [Dense(n_in=2, n_out=1, dtype='float64', init='glorot_uniform')]
    """
    from nnlab.model import Sequential  # model.py imports this module

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ModelFileNotFoundError(f"no model file at {path!r}")
    try:
        # Opened here, not by np.load, which leaves the file open when it is no zip.
        with open(path, "rb") as file:
            data = np.load(file, allow_pickle=False)
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise ModelFileError(f"{path!r} holds a single array (.npy), not an nnlab "
                                     "model file (.npz)")
            with data:
                arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(f"{path!r} is not a readable nnlab model file (.npz): {exc}"
                             ) from exc
    spec = _read_header(arrays.pop(HEADER, None), path)
    try:
        model = Sequential([_build_layer(item) for item in spec["layers"]])
        compiled = spec["compile"]
        if compiled is not None:
            model.compile(losses.get(compiled["loss"]["name"], **compiled["loss"]["config"]),
                          optimizers.get(compiled["optimizer"]["name"],
                                         **compiled["optimizer"]["config"]),
                          compiled["metrics"])
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ModelFileError(f"{path!r}: invalid model description: {exc!r}") from exc
    _load_arrays(model, arrays, path)
    return model


def _read_header(header, path):
    try:
        spec = json.loads(str(header)) if header is not None and header.ndim == 0 else None
    except json.JSONDecodeError:
        spec = None
    if not isinstance(spec, dict) or spec.get("format") != FORMAT:
        found = spec.get("format") if isinstance(spec, dict) else f"no valid {HEADER} header"
        raise ModelFileError(f"{path!r} is not an nnlab model file: expected format {FORMAT!r}; "
                             f"got {found!r}")
    if spec.get("version") != FORMAT_VERSION:
        raise ModelFileError(f"{path!r} has model format version {spec.get('version')!r}; "
                             f"this nnlab reads version {FORMAT_VERSION}")
    return spec


def _build_layer(item):
    cls = Layer.registry.get(item["class"])
    if cls is None:
        raise ValueError(f"unknown layer class {item['class']!r}; known: "
                         f"{', '.join(sorted(Layer.registry))}")
    return cls.from_config(item["config"])


def _load_arrays(model, arrays, path):
    targets = _model_arrays(model)
    if set(arrays) != set(targets):
        raise ModelFileError(f"{path!r}: the arrays do not match the layers: missing "
                             f"{sorted(set(targets) - set(arrays))}, unexpected "
                             f"{sorted(set(arrays) - set(targets))}")
    for key, target in targets.items():
        if (arrays[key].shape != target.shape
                or arrays[key].dtype not in (np.float32, np.float64)):
            raise ModelFileError(f"{path!r}: array {key!r} is {arrays[key].dtype} of shape "
                                 f"{arrays[key].shape}; the model expects float32 or float64 "
                                 f"floats of shape {target.shape}")
        if not all_finite(arrays[key]):
            raise ModelFileError(f"{path!r}: array {key!r} contains NaN or infinite values")
    dtypes = {a.dtype for a in arrays.values()}
    if len(dtypes) == 1 and model.dtype not in dtypes:
        model.astype(dtypes.pop())  # layers without a dtype setting (e.g. BatchNorm) follow
    model.set_weights([arrays[key] for key in targets])
