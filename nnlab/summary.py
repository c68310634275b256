"""The Keras-style summary of a model: each layer, its output shape and parameter count."""

import re

import numpy as np

from nnlab.saving import layer_arrays


def summary_table(layers, input_shape=None):
    """The summary of ``layers`` (a model's list) as text, for ``Sequential.summary``.

    ``input_shape`` (one sample, no batch axis: a tuple, or an int n for ``(n,)``) is
    needed unless the first layer is Dense. Buffers (batch norm statistics) count as
    non-trainable parameters, as in Keras.

    Examples
    --------
    >>> print(nl.summary.summary_table([nl.Dense(3, 2), nl.Activation("relu")]))
    Layer (type)             Output Shape  Param #
    ================================================
    dense (Dense)            (None, 2)     8
    activation (Activation)  (None, 2)     0
    ================================================
    Total params: 8
    Trainable params: 8
    Non-trainable params: 0
    """
    if input_shape is not None:
        shape = (input_shape,) if isinstance(input_shape, int | np.integer) else input_shape
        if not isinstance(shape, tuple | list) or not all(
                isinstance(d, int | np.integer) and not isinstance(d, bool) and d > 0
                for d in shape):
            raise ValueError("input_shape must be a tuple of positive integers (or one, for "
                             f"a vector sample); got {input_shape!r}")
        shape = tuple(int(d) for d in shape)   # shown as Keras shows it: (None, 4)
    elif layers and hasattr(layers[0], "n_in"):
        shape = (layers[0].n_in,)
    else:
        raise ValueError("summary needs the shape of one input sample: "
                         "summary(input_shape=(...)), or run the model on data once")
    header = ("Layer (type)", "Output Shape", "Param #")
    rows, seen = [], {}
    for layer in layers:
        shape = tuple(layer.output_shape(shape))
        kind = type(layer).__name__
        base = re.sub(r"([a-z])([A-Z])", r"\1_\2", kind).lower()
        seen[base] = seen.get(base, -1) + 1
        name = base if not seen[base] else f"{base}_{seen[base]}"
        count = sum(a.size for a in layer_arrays(layer).values())
        rows.append((f"{name} ({kind})", str((None, *shape)), f"{count:,}"))
    widths = [max(len(r[i]) for r in [header, *rows]) + 2 for i in range(3)]
    rule = sum(widths)

    def line(cells):
        return "".join(f"{c:<{w}}" for c, w in zip(cells, widths, strict=True)).rstrip()

    trainable = sum(p.size for layer in layers for p in layer.params.values())
    total = sum(a.size for layer in layers for a in layer_arrays(layer).values())
    return "\n".join([line(header), "=" * rule, *map(line, rows), "=" * rule,
                      f"Total params: {total:,}", f"Trainable params: {trainable:,}",
                      f"Non-trainable params: {total - trainable:,}"])
