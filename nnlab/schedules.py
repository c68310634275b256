"""Learning-rate schedules: the rate of each step as a function of the step count.

The ``lr`` of any optimizer but Rprop (whose ``lr`` is only its first step size) is a
positive number or a schedule: a callable
``lr(iteration)``, where ``iteration`` counts the optimizer's steps from 0, returning a
finite real number >= 0. The optimizer asks the schedule for the rate of every step and
checks the answer (:func:`rate_at`), so any Python function of the step count will do;
the two below are the classic ones, their settings checked once, when they are made::

    opt = Adam(lr=exponential_decay(1e-3, 0.5, 1000))   # halved every 1000 steps

A decaying schedule may reach 0 (an exponential one underflows after enough steps): the
step then changes nothing. A model file cannot hold a function, so it keeps the rate the
schedule gives when the model is saved (``nnlab.saving``). Both schedules are also
importable from ``nnlab.optimizers``, beside the optimizers they drive.
"""

import inspect

import numpy as np

from nnlab._checks import check_number


def exponential_decay(lr0, rate, steps):
    """Schedule ``lr0 * rate ** (iteration / steps)``, for the ``lr`` of any optimizer.

    Examples
    --------
    >>> schedule = nl.schedules.exponential_decay(0.1, 0.5, 10)
    >>> schedule(0), schedule(10)
    (0.1, 0.05)
    """
    check_number(lr0, "lr0", low=0, low_open=True)
    check_number(rate, "rate", low=0, high=1, low_open=True)
    check_number(steps, "steps", low=1)
    return lambda iteration: lr0 * rate ** (iteration / steps)


def step_decay(lr0, factor, every):
    """Schedule ``lr0 * factor ** (iteration // every)``: drop by ``factor`` every ``every`` steps.

    Examples
    --------
    >>> nl.schedules.step_decay(0.1, 0.5, 100)(250)
    0.025
    """
    check_number(lr0, "lr0", low=0, low_open=True)
    check_number(factor, "factor", low=0, high=1, low_open=True)
    check_number(every, "every", low=1, integer=True)
    return lambda iteration: lr0 * factor ** (iteration // every)


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
        factory = schedule in (exponential_decay, step_decay)
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
