"""How models and blocks hold their layers: a list that checks every edit, and one dict
over the arrays of several layers.

``Sequential.layers`` and ``Residual.layers`` are lists, and open to edits as any list is
(``model.layers.append(layer)``, ``model.layers[2] = layer``). A layer object in two places
would overwrite its own cache between forward and backward, and the gradients would be
wrong without a word; so each edit is checked, before it is made, as a new model checks
its layers (``check_distinct``). A block's list cannot see the model that holds the block:
a layer shared between the two is caught by the model, which checks all of its layers
again before each pass (``Sequential.forward``, ``fit``).
"""

from collections.abc import MutableMapping

from nnlab.layer_base import Layer, check_distinct

__all__ = ["LayerList", "Layers"]


class LayerList(list):
    """A list of layers that refuses, at the edit, an object that is no nnlab layer and a
    layer that it (or one of its blocks) already holds. ``owner`` names the model or block
    in the messages.

    Examples
    --------
    >>> model = nl.Sequential([nl.Dense(2, 2), nl.Activation("tanh")])
    >>> model.layers.append(model.layers[1])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: Sequential: the same layer object Activation(name='tanh') appears twice; ...
    >>> model.layers.append(nl.Activation("tanh")); len(model.layers)
    3
    """

    def __init__(self, layers=(), owner="Sequential"):
        layers = list(layers)
        check_distinct(layers, owner)
        super().__init__(layers)
        self._owner = owner

    def _checked(self, edit, *args):
        """Make ``edit`` (a list method's name) on a copy and check the copy; then on self."""
        trial = list(self)
        getattr(trial, edit)(*args)
        check_distinct(trial, self._owner)
        getattr(super(), edit)(*args)
        return self

    def __reduce__(self):   # pickle and copy rebuild the list through the check, owner known
        return type(self), (list(self), self._owner)

    # The edits that can add a layer; removing, sorting and reversing put none in two places.
    def append(self, layer):
        self._checked("append", layer)

    def insert(self, index, layer):
        self._checked("insert", index, layer)

    def extend(self, layers):
        self._checked("extend", list(layers))   # a generator would be spent by the trial

    def __iadd__(self, layers):
        return self._checked("extend", list(layers))

    def __imul__(self, times):
        return self._checked("__imul__", times)

    def __setitem__(self, index, value):
        self._checked("__setitem__", index, list(value) if isinstance(index, slice) else value)


class Layers:
    """The ``layers`` attribute of a model or block (``owner``): a list or tuple of layers
    assigned to it is checked and held as a ``LayerList``, so that later edits are checked
    too. ``model.layers += [...]`` edits the list in place, then assigns it back: kept."""

    def __init__(self, owner):
        self.owner = owner

    def __get__(self, obj, objtype=None):
        return self if obj is None else obj._layers

    def __set__(self, obj, layers):
        if layers is getattr(obj, "_layers", None):
            return
        if not isinstance(layers, list | tuple):
            one = "one layer, " if isinstance(layers, Layer) else ""
            raise ValueError(f"{self.owner}.layers must be a list or tuple of layers; got {one}"
                             f"{layers!r}")
        obj._layers = LayerList(layers, self.owner)


class _LayersView(dict):
    """The ``attribute`` dicts of ``layers`` as one dict with keys "<index>.<name>".

    A dict of the inner layers' own arrays (none copied), made afresh at each read of
    ``Residual.params``. Writes go through to the inner dicts: ``update``, ``pop`` and the
    rest are MutableMapping's, built on the two below (dict's own would bypass them)."""

    def __init__(self, layers, attribute):
        self._stores = [getattr(layer, attribute) for layer in layers]
        super().__init__((f"{i}.{name}", array) for i, store in enumerate(self._stores)
                         for name, array in store.items())

    def _locate(self, key):
        index, _, name = key.partition(".") if isinstance(key, str) else ("", "", "")
        if not (index.isdigit() and int(index) < len(self._stores) and name):
            raise KeyError(key)
        return self._stores[int(index)], name

    def __setitem__(self, key, value):
        store, name = self._locate(key)
        store[name] = value
        super().__setitem__(key, value)

    def __delitem__(self, key):
        store, name = self._locate(key)
        del store[name]
        super().__delitem__(key)

    update, pop, popitem, clear, setdefault = (
        MutableMapping.update, MutableMapping.pop, MutableMapping.popitem,
        MutableMapping.clear, MutableMapping.setdefault)

    def __ior__(self, other):
        self.update(other)
        return self

    def __reduce__(self):   # pickle and copy.copy give a plain dict, as dict.copy does
        return dict, (dict(self),)
