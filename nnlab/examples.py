"""The worked examples of the course, built once so that every chapter and explorer
uses the very same numbers.

The 2-2-1 network of the forward- and back-propagation chapters: two inputs, a
hidden layer of two sigmoid units, one sigmoid output, squared-error loss.
In the lecture's notation, :math:`w^{1}_{jk}` is the weight from input
:math:`k` to hidden unit :math:`j`; an nnlab ``Dense`` layer stores it at
``W[k, j]`` (rows are inputs, columns are units), so ``W1 = w1.T``.
"""

import numpy as np

from nnlab.layers import Activation, Dense
from nnlab.model import Sequential

#: Inputs x = (x_0, x_1) and target y of the worked example.
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
        if np.shape(weights) != tuple(shape):
            raise ValueError(f"two_two_one: weights of shape {tuple(shape)[::-1]} expected "
                             f"(lecture orientation); got {np.shape(weights)[::-1]}")
        return np.array(weights, dtype=dtype)
    return init


def two_two_one(w1=None, b1=None, w2=None, b2=None):
    """The 2-2-1 sigmoid network of the worked example, as an nnlab model.

    Weights default to the example's; any of them can be replaced (given in
    the lecture's orientation: ``w1`` of shape (2, 2) with rows = hidden units,
    ``w2`` of shape (1, 2)). The model is compiled with the squared-error loss.

    Examples
    --------
    >>> model = two_two_one()
    >>> round(float(model.predict(X)[0, 0]), 4)
    0.5694
    """
    w1 = W1_LECTURE if w1 is None else np.asarray(w1, dtype=float)
    w2 = W2_LECTURE if w2 is None else np.asarray(w2, dtype=float)
    hidden, output = Dense(2, 2, init=_given(w1.T)), Dense(2, 1, init=_given(w2.T))
    hidden.params["b"][...] = B1 if b1 is None else b1
    output.params["b"][...] = B2 if b2 is None else b2
    model = Sequential([hidden, Activation("sigmoid"), output, Activation("sigmoid")])
    model.compile(loss="mse", optimizer="sgd")
    return model
