r"""The gated linear unit: half of the last axis gates the other half.

Every function of ``nnlab.activations`` maps each input to one output of the same
shape (softmax and its kin couple the numbers of a row, but keep its width). A gated
linear unit (Dauphin et al., 2017) takes a row of :math:`2h` numbers and gives :math:`h`:
it splits the row into two halves :math:`a` and :math:`b` and multiplies each number of
:math:`a` by the sigmoid of its partner in :math:`b`, a gate between 0 (closed) and 1
(open) that the network learns to set from its input. The gates of the LSTM are made
so; GLU (and its variants with other gates, such as SwiGLU) carries them into the
feed-forward blocks of language models.

``nnlab.activations.get("glu")`` gives this module's ``glu``, as Keras's ``"glu"``
names its ``glu`` with the default ``axis=-1``. The function halves the width, so a
``Dense(n_in, 2 * h)`` before it feeds ``h`` numbers to the next layer:

>>> nl.activations.get("glu")(np.array([[1.0, -2.0, 0.0, 3.0]]))   # (1, 4) -> (1, 2)
array([[ 0.5       , -1.90514825]])

The last axis is not the channels' everywhere: nnlab's ``Conv1D`` and ``Conv2D`` put them
first, ``(N, C, L)`` and ``(N, C, H, W)``, so after them glu halves the length ``L`` or the
width ``W``, where after Keras's channels-last ``Conv2D``, ``(N, H, W, C)``, it halves the
channels.
"""

import numpy as np

from nnlab.activation_base import ActivationFunction, _as_float, _sigmoid

__all__ = ["GLU", "glu"]


class GLU(ActivationFunction):
    r"""Gated linear unit on the last axis: x = [a, b] -> a sigmoid(b).

    .. math::

        y_k = a_k\, \sigma(b_k), \qquad
        \frac{\partial y_k}{\partial a_k} = \sigma(b_k), \qquad
        \frac{\partial y_k}{\partial b_k} = a_k\, \sigma(b_k)\, \sigma(-b_k)

    with :math:`a` the first half of the last axis and :math:`b` the second, as
    ``torch.nn.functional.glu`` and Keras's ``glu`` split it; every other output's
    slope is 0, since :math:`y_k` depends on :math:`a_k` and :math:`b_k` alone.
    :math:`\sigma'(b) = \sigma(b)(1 - \sigma(b))` is written :math:`\sigma(b)\sigma(-b)`:
    for a large :math:`b`, :math:`1 - \sigma(b)` would cancel to 0 before
    :math:`\sigma(-b)` does. The last axis must have an even length; the output has half
    of it (``output_shape``), so ``backward`` takes a ``dy`` of the output's shape and
    returns one of the input's. ``derivative(x)`` returns those two partial
    derivatives, in ``x``'s shape: :math:`\sigma(b)` in the place of each :math:`a_k`,
    :math:`a_k \sigma(b_k) \sigma(-b_k)` in the place of each :math:`b_k`.

    Examples
    --------
    >>> x = np.array([[2.0, 0.0]])          # a = 2, b = 0: sigmoid(0) = 1/2
    >>> nl.gated_activations.glu(x), nl.gated_activations.glu.derivative(x)
    (array([[1.]]), array([[0.5, 0.5]]))
    """

    name = "glu"
    along_last_axis = True

    def output_shape(self, input_shape):
        """The shape of the output of an input of ``input_shape``: the last axis halved.

        >>> nl.gated_activations.glu.output_shape((8, 6))
        (8, 3)
        """
        shape = tuple(input_shape)
        if not shape or shape[-1] % 2:
            got = f"a last axis of {shape[-1]}" if shape else "a single number"
            raise ValueError(f"glu splits the last axis into two halves, a and b (a * "
                             f"sigmoid(b)): it needs a last axis of even length; got {got} "
                             f"(shape {shape})")
        return (*shape[:-1], shape[-1] // 2)

    def _halves(self, x):
        x = _as_float(x)
        half = self.output_shape(x.shape)[-1]
        return x[..., :half], x[..., half:]

    def __call__(self, x):
        a, b = self._halves(x)
        # Far below 0, sigmoid(b) is about e^b, and a times it too small for the dtype: 0.
        with np.errstate(under="ignore"):
            return a * _sigmoid(b)

    def derivative(self, x):
        a, b = self._halves(x)
        gate = _sigmoid(b)
        with np.errstate(under="ignore"):   # sigmoid(b) sigmoid(-b) of a large |b|: 0
            return np.concatenate([gate, a * (gate * _sigmoid(-b))], axis=-1)

    def backward(self, x, y, dy):
        # dL/da = dy sigmoid(b), dL/db = dy a sigmoid(b) sigmoid(-b): dy has the output's
        # shape, half the input's, and the two halves of dL/dx are computed side by side.
        a, b = self._halves(x)
        gate = _sigmoid(b)
        with np.errstate(under="ignore"):
            return np.concatenate([dy * gate, dy * (a * (gate * _sigmoid(-b)))], axis=-1)


glu = GLU()
