"""What a model file keeps of training, so that training resumed after loading goes on as it
would have: the compile settings, the optimizer's running state and the state of the
generators that layers draw from (Dropout's masks). ``nnlab.saving`` writes and reads them.

What a file cannot keep, code of one's own, is named at save time by a ``NotSavedWarning``:
a metric function (or a loss given as a metric) is left out, and a schedule other than
``nnlab.schedules``' is kept as the rate it gives when the model is saved.
"""

import reprlib
import warnings

import numpy as np

from nnlab import losses, optimizers, schedules
from nnlab.metrics import is_named
from nnlab.training import outside_nnlab


class NotSavedWarning(UserWarning):
    """Part of a compiled model that a model file cannot keep (a metric or a schedule of
    one's own): after ``load_model``, compile it again, or set ``optimizer.lr``."""


#: The bit generators whose state a model file may hold (a seed gives a PCG64).
BIT_GENERATORS = {g.__name__: g for g in (np.random.PCG64, np.random.PCG64DXSM,
                                          np.random.MT19937, np.random.Philox, np.random.SFC64)}


def input_shape(model):
    """The shape of one sample that ``model`` has run on, as a list (JSON), or None."""
    return None if model._sample_shape is None else [int(d) for d in model._sample_shape]


def set_input_shape(model, shape):
    """Give a loaded model the sample shape its original ran on (``summary`` shows it),
    once every layer has taken it; a ``ValueError`` names the layer that refuses it."""
    if shape is None:   # a model that never ran
        return
    if not (isinstance(shape, list)
            and all(type(d) is int and 0 < d <= 2**53 for d in shape)):   # no JSON true
        raise ValueError(f"expected null or a list of positive integers; got "
                         f"{reprlib.repr(shape)}")
    out = tuple(shape)
    for layer in model.layers:
        out = tuple(layer.output_shape(out))
    model._sample_shape = tuple(shape)


def optimizer_arrays(optimizer):
    """The optimizer's running state by file key, ``"optimizer.<i>.<name>"`` (no scratch).

    The names are those of a fresh state under the optimizer's current hyper-parameters,
    which is what loading rebuilds: after ``momentum`` was set on an SGD that trained
    without, its velocity not yet started is saved as zeros (a velocity starts at 0, so
    the next step is the same), and after it was set to 0, the unused velocity is left out.
    """
    states = optimizer.state if optimizer is not None and optimizer.state else []
    if states:
        optimizer.settle()   # as the next step will read it
    return {f"optimizer.{i}.{k}": state.get(k, fresh)
            for i, state in enumerate(states)
            for k, fresh in optimizer._new_state(state["param"]).items()
            if not k.startswith("scratch")}


def check_optimizer_state(model):
    """Refuse to save an optimizer state that is not the model's parameters' (a layer added
    after training): the next step would refuse it too, and a file could not be loaded."""
    if not model.optimizer.owns(model.params):
        raise ValueError("cannot save the model: its optimizer's state (momentum, averages) "
                         "belongs to parameter arrays that are no longer the model's (a layer "
                         "added or replaced since it trained); call model.optimizer.reset() "
                         "to start it afresh, then save")


def compile_settings(model):
    """The compile settings of ``model`` as its file keeps them: the loss and the optimizer
    by name and configuration, checked to rebuild objects of their classes (one's own
    subclass would not be), the optimizer's step count, and the metrics known by name.
    Once all is checked, a ``NotSavedWarning`` names what is not kept (see the module's
    description)."""
    optimizer = model.optimizer
    check_optimizer_state(model)
    opt = {k: v for k, v in optimizer.get_config().items() if v is not None}
    if callable(optimizer.lr):   # get_config gives None: a file keeps one of nnlab's
        opt["lr"] = schedules.serialize(optimizer.lr) or optimizer.current_lr()
    settings = {}
    for part, obj, name, config, build in (
            ("loss", model.loss, model.loss.name, model.loss.get_config(), losses.get),
            ("optimizer", optimizer, type(optimizer).__name__.lower(), opt, rebuilt_optimizer)):
        try:
            rebuilt = build(name, **config)
        except (TypeError, ValueError) as exc:   # an argument it does not take, or a value
            rebuilt = exc
        if type(rebuilt) is not type(obj):
            raise ValueError(f"cannot save the model: a model file keeps its {part} as one of "
                             f"nnlab's names, and {obj!r} cannot be rebuilt from {name!r} ("
                             f"{rebuilt if isinstance(rebuilt, Exception) else 'another class'}"
                             f"); compile with one of nnlab's, or save the weights alone "
                             "(get_weights)")
        settings[part] = {"name": name, "config": config}
    settings["optimizer"]["iterations"] = optimizer.iterations
    if shared := optimizer.shared_state():
        settings["optimizer"]["shared_state"] = shared
    settings["metrics"] = [m for m, fn in model.metrics.items() if is_named(m, fn)]
    unnamed = [m for m in model.metrics if m not in settings["metrics"]]
    if unnamed:
        warnings.warn(NotSavedWarning(
            f"the metrics {', '.join(map(repr, unnamed))} are not saved: a model file keeps "
            "metrics by the names nnlab knows, and these are functions of one's own or "
            "losses given as metrics. To log them after load_model, compile again: "
            "model.compile(model.loss, model.optimizer, metrics=[...])"),
            stacklevel=outside_nnlab())
    if callable(optimizer.lr) and not isinstance(opt["lr"], dict):
        warnings.warn(NotSavedWarning(
            f"the learning-rate schedule {optimizer.lr!r} is saved as the rate it gives at "
            f"step {optimizer.iterations}, {opt['lr']:g}: a model file keeps only the "
            "schedules of nnlab.schedules (exponential_decay, step_decay), and the loaded "
            "optimizer goes on at that constant rate. To go on with the schedule after "
            "load_model, set model.optimizer.lr to it again"), stacklevel=outside_nnlab())
    return settings


def rebuilt_optimizer(name, **config):
    """``optimizers.get(name, **config)``, with its schedule rebuilt (``lr`` as
    ``schedules.serialize`` describes it), and for a rate of 0 too: a file keeps a schedule
    of one's own as the rate it gives, 0 at the start of a warm-up, which no optimizer
    takes as a constant: that optimizer gets ``zero_rate``, a schedule."""
    lr = config.get("lr")
    if isinstance(lr, dict):
        return optimizers.get(name, **{**config, "lr": schedules.deserialize(lr)})
    if lr == 0 and not isinstance(lr, bool):
        optimizer = optimizers.get(name, **{k: v for k, v in config.items() if k != "lr"})
        optimizer.lr = zero_rate
        return optimizer
    return optimizers.get(name, **config)


def read_optimizer_config(config, version):
    """An optimizer's ``config`` read from a model file of format ``version``, in the names
    this nnlab gives its arguments. Version 1 kept global clipping as ``clipnorm``; since
    version 2, ``clipnorm`` clips each array on its own, as Keras's does, and global clipping
    is ``global_clipnorm``, which a version-1 ``clipnorm`` is read as. (A file that holds
    both keys keeps them, and the optimizer refuses two clipping options.)"""
    if version == 1 and "clipnorm" in config and "global_clipnorm" not in config:
        return {("global_clipnorm" if k == "clipnorm" else k): v for k, v in config.items()}
    return config


def set_progress(optimizer, entry):
    """Set a model file's step count and ``shared_state`` (its optimizer's ``entry``) on
    ``optimizer``; files written before either have none (0 and {})."""
    iterations = entry.get("iterations", 0)
    if not (isinstance(iterations, int) and not isinstance(iterations, bool)
            and 0 <= iterations <= 2**53):   # bias corrections take beta ** t as floats
        raise ValueError(f"iterations: expected a step count from 0 to 2**53; got "
                         f"{reprlib.repr(iterations)}")
    optimizer.iterations = iterations
    shared = entry.get("shared_state", {})
    if not isinstance(shared, dict):
        raise ValueError(f"shared_state: expected a JSON object; got {reprlib.repr(shared)}")
    try:
        optimizer.set_shared_state(shared)
    except ValueError as exc:
        raise ValueError(f"shared_state: {exc}") from exc


def zero_rate(iteration):
    """The schedule of a loaded optimizer whose schedule gave 0 when it was saved."""
    return 0.0


def random_layers(layers, prefix=""):
    """``(where, layer)`` for each layer that draws from a generator, ``layer.rng`` (Dropout's
    masks): ``where`` is its index, or "<i>.<j>" for layer j of the block at index i."""
    for i, layer in enumerate(layers):
        if isinstance(getattr(layer, "rng", None), np.random.Generator):
            yield f"{prefix}{i}", layer
        yield from random_layers(getattr(layer, "layers", []), f"{prefix}{i}.")


def generator_states(model):
    """The state of each generator the model's layers draw from, with the layers that
    share it (as layers given one Generator do): ``[{"layers": ["1", "3.0"], "state":
    {...}}]``, in JSON but for the arrays of some bit generators' states."""
    states = {}
    for where, layer in random_layers(model.layers):
        state = layer.rng.bit_generator.state
        if state["bit_generator"] not in BIT_GENERATORS:
            raise ValueError(f"cannot save the model: {layer!r} draws from a "
                             f"{state['bit_generator']}; a model file holds the states of "
                             f"{', '.join(BIT_GENERATORS)}")
        states.setdefault(id(layer.rng), {"layers": [], "state": state})["layers"].append(where)
    return list(states.values())


def set_generator_states(model, states):
    """Give the model's layers generators in the ``states`` that ``generator_states`` gave
    (read from a file: a ValueError says what is wrong), so that they draw what the saved
    layers would have drawn next."""
    holders = dict(random_layers(model.layers))
    if not isinstance(states, list) or not all(
            isinstance(s, dict) and isinstance(s.get("layers"), list)
            and isinstance(s.get("state"), dict) for s in states):
        raise ValueError("expected a list of {'layers': [...], 'state': {...}}; got "
                         f"{reprlib.repr(states)}")
    listed = [where for s in states for where in s["layers"]]
    if sorted(listed, key=str) != sorted(holders):
        raise ValueError(f"expected one generator for each of the layers {sorted(holders)}; "
                         f"got them for {reprlib.repr(listed)}")
    for s in states:
        if not _whole_numbers(s["state"]):   # NumPy would truncate 1.5 to 1
            raise ValueError("expected a bit generator's state of integers (not 0.5, 5.0 or "
                             f"true); got {reprlib.repr(s['state'])}")
        try:   # NumPy checks a state as it sets it
            rng = np.random.Generator(BIT_GENERATORS[s["state"].get("bit_generator")]())
            rng.bit_generator.state = s["state"]
        except (KeyError, OverflowError, TypeError, ValueError) as exc:
            raise ValueError(f"expected the state of one of NumPy's bit generators, "
                             f"{', '.join(BIT_GENERATORS)}; got {reprlib.repr(s['state'])}: "
                             f"{exc!r}") from exc
        for where in s["layers"]:
            holders[where].rng = rng


def _whole_numbers(tree):
    """Whether every number in ``tree`` (dicts and lists of a state, read from JSON) is an
    int; strings (the bit generator's name) pass."""
    if isinstance(tree, dict):
        return all(map(_whole_numbers, tree.values()))
    if isinstance(tree, list):
        return all(map(_whole_numbers, tree))
    return isinstance(tree, str) or (isinstance(tree, int) and not isinstance(tree, bool))
