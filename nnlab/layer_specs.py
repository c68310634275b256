"""How a model file describes its layers: each one's class and configuration.

``layer_specs`` gives, for each layer, the name its class is registered under
(``Layer.registry_name``) and its ``get_config()``, after checking that ``load_model``
will rebuild the same layer from them: nnlab's activations by name, a layer class of
one's own through JSON, as a file keeps it.
"""

import json

import numpy as np

from nnlab import activations
from nnlab._checks import json_number
from nnlab.layers import Activation


def layer_specs(layers):
    """Each layer as a model file keeps it: its class's registry name and its config.

    A file keeps an activation by its name, and ``load_model`` rebuilds it with
    ``activations.get``. A function of one's own (an ``ActivationFunction`` subclass) would
    come back as nnlab's function of that name, or not at all: it is refused here, before a
    file is written, as ``compile_settings`` refuses a loss or optimizer of one's own. So is
    a layer class of one's own that ``from_config`` does not rebuild, through JSON, alike.
    """
    for layer in layers:
        problem = None if type(layer).__module__.startswith("nnlab.") else _not_rebuilt(layer)
        if problem:
            raise ValueError(f"cannot save the model: {layer!r}, a layer of one's own, is not "
                             f"rebuilt from its get_config() {layer.get_config()!r} ({problem}); "
                             "make get_config return its constructor's arguments as JSON "
                             "values, or save the weights alone (get_weights)")
        if isinstance(layer, Activation):
            try:
                rebuilt = type(activations.get(layer.fn.name))
            except ValueError:   # a name nnlab does not know
                rebuilt = None
            if rebuilt is not type(layer.fn):
                raise ValueError(f"cannot save the model: a model file keeps an activation by "
                                 f"name, and {layer!r} holds {layer.fn!r}, which "
                                 f"activations.get({layer.fn.name!r}) does not rebuild; use one "
                                 "of nnlab's functions, or save the weights alone (get_weights)")
    return [{"class": layer.registry_name, "config": layer.get_config()} for layer in layers]


def _not_rebuilt(layer):
    """Why ``load_model`` would not rebuild ``layer`` from its config, or None. The trial
    build leaves NumPy's global random numbers as they were (a constructor may draw)."""
    state = np.random.get_state()  # noqa: NPY002 (the global state is what it guards)
    try:
        config = json.loads(json.dumps(layer.get_config(), default=json_number))
        rebuilt = type(layer).from_config(config)
    except Exception as exc:   # whatever one's own constructor raises: a reason not to save
        return f"{type(exc).__name__}: {exc}"
    finally:
        np.random.set_state(state)  # noqa: NPY002
    shapes = [{f"{kind}.{k}": a.shape for kind in ("params", "buffers")
               for k, a in getattr(each, kind, {}).items()} for each in (layer, rebuilt)]
    return None if shapes[0] == shapes[1] else (
        f"its arrays {shapes[0]} would come back as {shapes[1]}")
