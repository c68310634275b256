import numpy as np
import pytest

import nnlab as nl
from nnlab import diagnostics as D

X = np.random.default_rng(0).normal(size=(64, 2))
Y = np.random.default_rng(1).normal(size=(64, 1))


def norms(**kwargs):
    return D.gradient_norms(D.deep_mlp(20, 32, rng=0, **kwargs), X, Y)


def test_deep_sigmoid_gradients_vanish_towards_the_input():
    g = norms(activation="sigmoid")
    assert g[0] < 1e-6 * g[-1]
    assert np.all(np.diff(np.log(g[:-1])) > 0)


def test_relu_with_he_init_keeps_gradients_in_range():
    g = norms(activation="relu", init="he_normal")
    assert 1e-2 < g[0] / g[-1] < 1e2


def test_large_init_scale_explodes():
    assert norms(activation="relu", init="he_normal", init_scale=3.0)[0] > 1e10


def test_batchnorm_and_residual_rescue_a_deep_sigmoid_net():
    plain = norms(activation="sigmoid")
    assert norms(activation="sigmoid", batchnorm=True)[0] > 1e6 * plain[0]
    assert norms(activation="sigmoid", residual=True)[0] > 1e6 * plain[0]


def test_gradient_norms_match_the_layers_grads():
    model = D.deep_mlp(3, 8, rng=0)
    g = D.gradient_norms(model, X, Y)
    dense = D.dense_layers(model)
    assert len(g) == len(dense) == 4
    assert g[1] == pytest.approx(np.linalg.norm(dense[1].grads["W"]))


def test_activation_stds_one_per_layer():
    model = D.deep_mlp(4, 16, activation="tanh", init="normal", rng=0)
    stds = D.activation_stds(model, X)
    assert len(stds) == len(model.layers)
    assert stds[1] > 0.5


def test_bad_arguments():
    with pytest.raises(ValueError, match="depth"):
        D.deep_mlp(0)
    with pytest.raises(ValueError, match="valid names"):
        D.deep_mlp(2, activation="swish")
    with pytest.raises(ValueError, match="init_scale"):
        D.deep_mlp(2, init_scale=0)


def test_model_is_trainable():
    model = D.deep_mlp(2, 8, activation="tanh", rng=0)
    model.compile("mse", nl.optimizers.SGD(0.05))
    h = model.fit(X, Y, epochs=5, seed=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
