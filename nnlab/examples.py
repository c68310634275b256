"""The worked examples of the course, built once so that every chapter and explorer
uses the very same numbers.

The 2-2-1 network of the forward- and back-propagation chapters: two inputs, a
hidden layer of two sigmoid units, one sigmoid output, squared-error loss.
In the lecture's notation, :math:`w^{1}_{jk}` is the weight from input
:math:`k` to hidden unit :math:`j`; an nnlab ``Dense`` layer stores it at
``W[k, j]`` (rows are inputs, columns are units), so ``W1 = w1.T``.
"""

import numpy as np

from nnlab._checks import as_float_array
from nnlab.layers import Activation, Dense
from nnlab.model import Sequential

#: Inputs x = (x_0, x_1) of the worked example.
X = np.array([[1.0, 0.5]])
#: The target y of the worked example.
Y = np.array([[1.0]])

#: Hidden layer, lecture order: row j holds (w_j0, w_j1), the weights into hidden unit j.
W1_LECTURE = np.array([[0.2, -0.4],
                       [0.6, 0.1]])
#: The hidden layer's biases (b_0, b_1).
B1 = np.array([0.1, -0.2])
#: Output layer: the weights (w_00, w_01) from the two hidden units into the output.
W2_LECTURE = np.array([[0.5, -0.3]])
#: The output's bias.
B2 = np.array([0.2])


def _given(weights):
    """An initializer that returns these weights (so no random scheme names them)."""
    def init(shape, rng=None, dtype="float64"):
        return np.array(weights, dtype=dtype)
    return init


def _checked(value, default, name, shape):
    """``value`` as a float64 array of ``shape``, or ``default`` if it is None. Checked before
    any layer is built, so that a wrong shape or a NaN is named as the argument it came in."""
    if value is None:
        return default
    arr = as_float_array(value, f"two_two_one: {name}", dtype=np.float64)
    if arr.shape != shape:
        raise ValueError(f"two_two_one: {name} of shape {shape} expected (lecture "
                         f"orientation); got {arr.shape}")
    return arr


def two_two_one(w1=None, b1=None, w2=None, b2=None):
    """The 2-2-1 sigmoid network of the worked example, as an nnlab model.

    Weights and biases default to the example's; any of them can be replaced (given in
    the lecture's orientation: ``w1`` of shape (2, 2) with rows = hidden units,
    ``b1`` of shape (2,), ``w2`` of shape (1, 2), ``b2`` of shape (1,)); a wrong shape, NaN
    or infinity raises ValueError. The model is compiled with the squared-error loss.

    Examples
    --------
    >>> model = nl.examples.two_two_one()
    >>> round(float(model.predict(nl.examples.X)[0, 0]), 4)
    0.5694
    """
    w1, b1 = _checked(w1, W1_LECTURE, "w1", (2, 2)), _checked(b1, B1, "b1", (2,))
    w2, b2 = _checked(w2, W2_LECTURE, "w2", (1, 2)), _checked(b2, B2, "b2", (1,))
    hidden, output = Dense(2, 2, init=_given(w1.T)), Dense(2, 1, init=_given(w2.T))
    hidden.params["b"][...] = b1
    output.params["b"][...] = b2
    model = Sequential([hidden, Activation("sigmoid"), output, Activation("sigmoid")])
    model.compile(loss="mse", optimizer="sgd")
    return model
