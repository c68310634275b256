"""Learning-rate schedules: the rate of each step as a function of the step count.

The ``lr`` of any optimizer but Rprop (whose ``lr`` is only its first step size) is a
positive number or a schedule: a callable
``lr(iteration)``, where ``iteration`` counts the optimizer's steps from 0, returning a
finite real number >= 0. The optimizer asks the schedule for the rate of every step and
checks the answer (:func:`rate_at`), so any Python function of the step count will do;
the two below are the classic ones, their settings checked once, when they are made::

    opt = Adam(lr=exponential_decay(1e-3, 0.5, 1000))   # halved every 1000 steps

A decaying schedule may reach 0 (an exponential one underflows after enough steps): the
step then changes nothing. The two are objects, ``ExponentialDecay`` and ``StepDecay``,
that know the arguments they were made with: a model file keeps one as its class name
and arguments (:func:`serialize`), and loading makes it again (:func:`deserialize`), so
that training resumed from the file takes the rates it would have taken. A function of
one's own is code, which a file cannot hold: it keeps the rate that function gives when
the model is saved, with a warning (``nnlab.training_state``). The functions that make
the two, ``exponential_decay`` and ``step_decay``, are also importable from
``nnlab.optimizers``, beside the optimizers they drive.
"""

import inspect
import numbers
import reprlib

import numpy as np

from nnlab._checks import check_number


class Schedule:
    """What nnlab's schedules share: called as ``lr(iteration)``, and made again from the
    arguments that ``get_config`` gives, as a model file keeps them (a subclass keeps in
    its attributes exactly the arguments of its constructor)."""

    def get_config(self):
        """The constructor's arguments: ``type(s)(**s.get_config())`` is the same schedule."""
        return dict(vars(self))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class ExponentialDecay(Schedule):
    """``lr0 * rate ** (iteration / steps)``: what ``exponential_decay`` makes."""

    def __init__(self, lr0, rate, steps):
        # Python numbers: a NumPy float32 would compute the rates in float32.
        self.lr0 = float(check_number(lr0, "lr0", low=0, low_open=True))
        self.rate = float(check_number(rate, "rate", low=0, high=1, low_open=True))
        check_number(steps, "steps", low=1)
        self.steps = int(steps) if isinstance(steps, numbers.Integral) else float(steps)

    def __call__(self, iteration):
        iteration = check_number(iteration, "ExponentialDecay's iteration", low=0)
        return self.lr0 * self.rate ** (iteration / self.steps)


class StepDecay(Schedule):
    """``lr0 * factor ** (iteration // every)``: what ``step_decay`` makes."""

    def __init__(self, lr0, factor, every):
        self.lr0 = float(check_number(lr0, "lr0", low=0, low_open=True))
        self.factor = float(check_number(factor, "factor", low=0, high=1, low_open=True))
        self.every = int(check_number(every, "every", low=1, integer=True))

    def __call__(self, iteration):
        iteration = check_number(iteration, "StepDecay's iteration", low=0)
        return self.lr0 * self.factor ** (iteration // self.every)


#: The schedules that a model file can hold, by the class name it keeps.
SCHEDULES = {cls.__name__: cls for cls in (ExponentialDecay, StepDecay)}


def exponential_decay(lr0, rate, steps):
    """Schedule ``lr0 * rate ** (iteration / steps)``, for the ``lr`` of any optimizer.

    Examples
    --------
    >>> schedule = nl.schedules.exponential_decay(0.1, 0.5, 10)
    >>> schedule(0), schedule(10)
    (0.1, 0.05)
    >>> schedule
    ExponentialDecay(lr0=0.1, rate=0.5, steps=10)
    """
    return ExponentialDecay(lr0, rate, steps)


def step_decay(lr0, factor, every):
    """Schedule ``lr0 * factor ** (iteration // every)``: drop by ``factor`` every ``every`` steps.

    Examples
    --------
    >>> nl.schedules.step_decay(0.1, 0.5, 100)(250)
    0.025
    """
    return StepDecay(lr0, factor, every)


def serialize(schedule):
    """``{"class": ..., "config": {...}}``, what a model file keeps of one of nnlab's
    schedules, or None for any other callable (a function, a subclass of one's own).

    Examples
    --------
    >>> nl.schedules.serialize(nl.schedules.step_decay(0.1, 0.5, 100))
    {'class': 'StepDecay', 'config': {'lr0': 0.1, 'factor': 0.5, 'every': 100}}
    >>> nl.schedules.serialize(lambda iteration: 0.1) is None
    True
    """
    if type(schedule) not in SCHEDULES.values():
        return None
    return {"class": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(entry):
    """The schedule that ``serialize`` described, or a ValueError (TypeError for arguments
    the class does not take) saying what is wrong: ``entry`` is read from a file.

    Examples
    --------
    >>> nl.schedules.deserialize({"class": "StepDecay",
    ...                           "config": {"lr0": 0.1, "factor": 0.5, "every": 100}})
    StepDecay(lr0=0.1, factor=0.5, every=100)
    """
    if not (isinstance(entry, dict) and entry.keys() == {"class", "config"}
            and isinstance(entry["config"], dict)):
        raise ValueError("expected a schedule as {'class': <name>, 'config': {...}}; got "
                         f"{reprlib.repr(entry)}")
    cls = SCHEDULES.get(entry["class"]) if isinstance(entry["class"], str) else None
    if cls is None:
        raise ValueError(f"unknown schedule {reprlib.repr(entry['class'])}; known: "
                         f"{', '.join(SCHEDULES)}")
    return cls(**entry["config"])


def check_schedule(schedule, owner):
    """Raise ValueError unless ``schedule`` can be called as ``schedule(iteration)``.

    Checked when the optimizer is given it, not at the first step of ``fit``: a factory
    such as ``exponential_decay`` passed uncalled would fail there with a TypeError.

    Examples
    --------
    >>> nl.schedules.check_schedule(lambda: 0.1, "SGD")
    Traceback (most recent call last):
    ...
    ValueError: SGD's lr schedule <lambda> is not lr(iteration): too many positional arguments
    """
    try:
        inspect.signature(schedule).bind(0)
    except TypeError as exc:
        factory = schedule in (exponential_decay, step_decay, *SCHEDULES.values())
        raise ValueError(f"{owner}'s lr schedule {getattr(schedule, '__qualname__', schedule)}"
                         f" is not lr(iteration): {exc}" + ("; call the factory to make one, "
                         "e.g. exponential_decay(0.1, 0.5, 1000)" if factory else "")) from exc
    except ValueError:   # no signature to read (some built-ins): rate_at checks each step
        pass


def rate_at(schedule, iteration, owner):
    """The rate that ``schedule`` gives at ``iteration``, as a float, or a ``ValueError``.

    A schedule is the user's code, so its value is checked at every step: ``float()``
    alone would take ``"0.1"`` or ``True`` for a rate. A 0-d array (``np.where`` returns
    one) counts as the number it holds. ``owner``, the optimizer's class name, makes the
    error message say whose schedule failed.

    Examples
    --------
    >>> nl.schedules.rate_at(nl.schedules.step_decay(0.1, 0.5, 100), 250, "SGD")
    0.025
    >>> nl.schedules.rate_at(lambda iteration: 1 - iteration, 2, "SGD")
    Traceback (most recent call last):
    ...
    ValueError: the value of SGD's lr schedule <lambda> at iteration 2 must be in [0, inf); got -1
    """
    value = schedule(iteration)
    if isinstance(value, np.ndarray):
        value = value[()]    # a 0-d array becomes its scalar; any other stays, rejected
    name = (f"the value of {owner}'s lr schedule "
            f"{getattr(schedule, '__qualname__', repr(schedule))} at iteration {iteration}")
    return float(check_number(value, name, low=0))
