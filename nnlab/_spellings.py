"""Other libraries' names for nnlab's arguments: a hint where Python's error has none.

A reader who knows Keras writes ``SGD(learning_rate=0.1)`` or ``Dense(30, 10,
activation="relu")``; one who knows PyTorch writes ``Adam(model.params, lr=1e-3)``,
``Adam(betas=(0.9, 0.99))`` or ``Dropout(p=0.5)``. Python answers "unexpected keyword
argument" (or "multiple values for argument 'lr'"), which says what is wrong but not what
to write. The ``__new__`` of the layers, the optimizers and the perceptron, which Python
runs with the same arguments just before ``__init__``, calls ``check_spellings`` first: a
keyword that is another library's name for one of nnlab's gets an
``ArgumentSpellingError`` naming nnlab's (a ``TypeError``, as Python's would be, and a
``ValueError``, as nnlab's refusals of bad arguments are); any other call goes on to
``__init__`` as usual.

Examples
--------
>>> try:
...     nl.optimizers.SGD(learning_rate=0.1)
... except TypeError as error:
...     print(error)
SGD has no argument 'learning_rate' (Keras's name): nnlab calls it 'lr'; write SGD(lr=0.1)
"""

import functools
import inspect


class ArgumentSpellingError(TypeError, ValueError):
    """An argument written as another library writes it (``learning_rate`` for ``lr``)."""


#: Another library's keyword -> nnlab's, and whose it is. A hint is given only to a class
#: that takes nnlab's keyword and not the other (ASGD has an alpha of its own).
SPELLINGS = {
    "learning_rate": ("lr", "Keras's"),
    "epsilon": ("eps", "Keras's"),
    "beta_1": ("beta1", "Keras's"),
    "beta_2": ("beta2", "Keras's"),
    "alpha": ("rho", "PyTorch's RMSprop's"),
    "p": ("rate", "PyTorch's"),
    "in_features": ("n_in", "PyTorch's"),
    "out_features": ("n_out", "PyTorch's"),
    "units": ("n_out", "Keras's"),
    "num_features": ("n_features", "PyTorch's"),
    "filters": ("out_channels", "Keras's"),
    "strides": ("stride", "Keras's"),
    "kernel_initializer": ("init", "Keras's"),
    "seed": ("rng", "Keras's"),
}


def check_spellings(cls, args, kwargs):
    """Raise ``ArgumentSpellingError`` if ``cls(*args, **kwargs)`` spells an argument as
    another library does: a keyword of ``SPELLINGS``, PyTorch's ``betas`` pair, Keras's
    ``activation`` argument of a layer, or PyTorch's parameters given to an optimizer's
    constructor (``Adam(model.params, lr=...)``)."""
    if not kwargs and not (args and isinstance(args[0], list | tuple)):
        return   # (most calls: nothing to look up)
    name, accepted = cls.__name__, _parameters(cls)
    if any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
        return   # a class of one's own that takes any keyword: its __init__ decides
    for key, value in kwargs.items():
        if key in accepted:
            continue
        ours, whose = SPELLINGS.get(key, (None, None))
        if ours in accepted:
            hint = f"({whose} name): nnlab calls it {ours!r}; write {name}({ours}={value!r})"
        elif key == "betas" and {"beta1", "beta2"} <= accepted.keys():
            beta1, beta2 = value if _is_pair(value) else ("...", "...")
            hint = (f"(PyTorch's pair): nnlab takes beta1 and beta2 apart; write "
                    f"{name}(beta1={beta1}, beta2={beta2})")
        elif key == "activation":
            hint = (f"(Keras's): in nnlab each function is a layer of its own; put "
                    f"nl.Activation({value!r}) after the {name}")
        else:
            continue   # Python's own error names it
        raise ArgumentSpellingError(f"{name} has no argument {key!r} {hint}")
    if list(accepted)[1:2] == ["lr"] and args and isinstance(args[0], list | tuple):
        raise ArgumentSpellingError(
            f"{name} takes no parameters when it is made (PyTorch's "
            f"{name}(model.parameters(), lr=...)): nnlab's optimizers are given them at "
            f"each step, opt.step(params, grads), and model.compile(optimizer={name}(lr=...)) "
            "does that for a model")


@functools.cache
def _parameters(cls):
    return inspect.signature(cls.__init__).parameters


def _is_pair(value):
    return isinstance(value, list | tuple) and len(value) == 2
