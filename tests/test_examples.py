"""The worked 2-2-1 example that chapters 3 and 9 and two explorers share."""

import numpy as np
import pytest

import nnlab as nl
from nnlab import examples


def test_the_lecture_network_and_its_output():
    model = examples.two_two_one()
    hidden, output = model.layers[0], model.layers[2]
    np.testing.assert_array_equal(hidden.params["W"], examples.W1_LECTURE.T)
    np.testing.assert_array_equal(hidden.params["b"], examples.B1)
    np.testing.assert_array_equal(output.params["W"], examples.W2_LECTURE.T)
    # The forward pass by hand: hidden pre-activations 0.1 and 0.45.
    h = 1 / (1 + np.exp(-np.array([0.2 * 1 - 0.4 * 0.5 + 0.1, 0.6 * 1 + 0.1 * 0.5 - 0.2])))
    expected = 1 / (1 + np.exp(-(0.5 * h[0] - 0.3 * h[1] + 0.2)))
    assert model.predict(examples.X)[0, 0] == pytest.approx(expected, rel=1e-12)
    assert round(expected, 4) == 0.5694


def test_the_model_does_not_claim_a_random_initializer():
    assert "init=" not in repr(examples.two_two_one())


def test_replaced_weights_in_the_lecture_orientation(tmp_path):
    model = examples.two_two_one(w1=[[1.0, 2.0], [3.0, 4.0]], w2=[[5.0, 6.0]], b2=[0.5])
    np.testing.assert_array_equal(model.layers[0].params["W"], [[1.0, 3.0], [2.0, 4.0]])
    np.testing.assert_array_equal(model.layers[2].params["W"], [[5.0], [6.0]])
    assert model.layers[2].params["b"][0] == 0.5
    model.save(tmp_path / "m.npz")
    np.testing.assert_array_equal(nl.load_model(tmp_path / "m.npz").predict(examples.X),
                                  model.predict(examples.X))


def test_weights_of_the_wrong_shape_are_rejected():
    with pytest.raises(ValueError, match=r"shape \(1, 2\) expected.*got \(1, 3\)"):
        examples.two_two_one(w2=[[1.0, 2.0, 3.0]])


@pytest.mark.parametrize("kwargs, match", [
    ({"b1": [1.0, 2.0, 3.0]}, r"b1 of shape \(2,\) expected.*got \(3,\)"),
    ({"b1": 5.0}, r"b1 of shape \(2,\) expected.*got \(\)"),
    ({"b2": [[0.5]]}, r"b2 of shape \(1,\) expected.*got \(1, 1\)"),
    ({"b2": [1.0, 2.0]}, r"b2 of shape \(1,\) expected.*got \(2,\)"),
    ({"b1": [np.nan, 0.0]}, "b1 contains 1 NaN or infinite"),
    ({"b2": [np.inf]}, "b2 contains 1 NaN or infinite"),
    ({"w1": [[np.nan, 0.0], [0.0, 0.0]]}, "w1 contains 1 NaN or infinite"),
    ({"w1": "weights"}, "w1 must be a numeric array")])
def test_biases_and_weights_are_checked_and_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        examples.two_two_one(**kwargs)
