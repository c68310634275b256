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
