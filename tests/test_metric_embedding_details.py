"""Details of the Keras-named metrics, the F-beta score, the circle loss and Keras's other
activations that a mutation audit found unpinned: sparsemax's Jacobian diagonal of each
row of a batch, squareplus at 0 to the last bit, and the check of Circle.check_targets'
number of outputs."""

import math

import numpy as np
import pytest

import nnlab as nl
from tests.helpers import numeric_grad, rel_error


def test_sparsemax_derivative_counts_the_support_of_each_row():
    # Row 1's support is {0.5, 1.0} (k = 2, the doctest's [0, 0.25, 0.75]): diagonal
    # [0, 1/2, 1/2]; row 2's equal scores all share it (k = 3): 1 - 1/3 each. A support
    # counted over the whole batch (k = 5) would give 4/5 everywhere on it.
    x = np.array([[0.0, 0.5, 1.0], [0.2, 0.2, 0.2]])
    f = nl.keras_activations.sparsemax
    expected = np.array([[0.0, 0.5, 0.5], [2 / 3, 2 / 3, 2 / 3]])
    np.testing.assert_allclose(f.derivative(x), expected, rtol=1e-12)
    # The same diagonal by central differences, one element of the batch at a time.
    numeric = np.empty_like(x)
    for i in np.ndindex(x.shape):
        xi = x.copy()
        numeric[i] = numeric_grad(lambda xi=xi, i=i: f(xi)[i], xi)[i]
    assert rel_error(f.derivative(x), numeric) < 1e-7


@pytest.mark.parametrize("b", [2.0, 3.0, 7.0, 1e-3])
def test_squareplus_at_zero_is_sqrt_b_over_two_to_the_last_bit(b):
    # f(0) = (0 + sqrt(0 + b)) / 2, as Keras computes it: for these b the far-below-0
    # form, (b / 4) / (sqrt(b) / 2), rounds to a neighbouring float.
    f = nl.keras_activations.Squareplus(b=b)
    assert f(np.array([0.0]))[0] == math.sqrt(b) / 2


@pytest.mark.parametrize("n_outputs, message", [(0, r"n_outputs must be in \[1, inf\)"),
                                                (1.5, "n_outputs must be an integer")])
def test_circle_check_targets_refuses_a_bad_number_of_outputs(n_outputs, message):
    # Unchecked, 0 outputs would turn the labels silently into rows of nothing.
    with pytest.raises(ValueError, match=message):
        nl.losses.Circle().check_targets([3, 7], n_outputs=n_outputs)
