import numpy as np
import pytest

import nnlab as nl
from nnlab import diagnostics as D

X = np.random.default_rng(0).normal(size=(64, 2))
Y = np.random.default_rng(1).normal(size=(64, 1))


def norms(**kwargs):
    return D.gradient_norms(D.deep_mlp(20, 32, rng=0, **kwargs), X, Y)


def test_deep_mlp_refuses_switches_that_are_no_bool():
    for name in ("batchnorm", "residual"):
        with pytest.raises(ValueError, match=f"{name} must be True or False"):
            D.deep_mlp(2, 4, rng=0, **{name: "no"})   # "no" added the layers


def test_gradient_norms_of_a_network_of_images():
    # X had to be 2-D, though gradient_noise and activation_stds take images.
    model = nl.Sequential([nl.Conv2D(1, 2, 3, rng=0), nl.Activation("relu"), nl.Flatten(),
                           nl.Dense(8, 1, rng=0)])
    images = np.random.default_rng(0).normal(size=(4, 1, 4, 4))
    (norm,) = D.gradient_norms(model, images, np.zeros((4, 1)))
    copy = nl.Sequential([nl.Conv2D(1, 2, 3, rng=0), nl.Activation("relu"), nl.Flatten(),
                          nl.Dense(8, 1, rng=0)])
    copy.compile("mse")
    copy.train_step(images, np.zeros((4, 1)))
    assert norm == pytest.approx(np.linalg.norm(copy.layers[-1].grads["W"]))


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
    model.backward(nl.losses.MSE().gradient(model.forward(X, training=True), Y))
    dense = D.dense_layers(model)
    assert len(g) == len(dense) == 4
    assert g[1] == pytest.approx(np.linalg.norm(dense[1].grads["W"]))


def test_gradient_norms_reach_the_dense_layers_of_nested_blocks():
    # One Residual deep only: the Dense of a block inside a block had no norm.
    inner = nl.Dense(4, 4, rng=1)
    model = nl.Sequential([nl.Dense(2, 4, rng=0), nl.Residual(nl.Residual(inner)),
                           nl.Dense(4, 1, rng=2)])
    assert D.dense_layers(model)[1] is inner
    g = D.gradient_norms(model, X, Y)
    model.backward(nl.losses.MSE().gradient(model.forward(X, training=True), Y))
    np.testing.assert_allclose(g, [np.linalg.norm(d.grads["W"]) for d in D.dense_layers(model)])
    assert len(g) == 3


def test_gradient_norms_leave_the_model_as_it_was():
    model = D.deep_mlp(2, 4, batchnorm=True, rng=0)
    before = model.get_weights()
    D.gradient_norms(model, X, Y)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)   # batch norm's running statistics too


def test_gradient_norms_of_an_overflowed_network_are_nan_with_1d_or_label_targets():
    X16 = X[:16]
    model = D.deep_mlp(3, width=8, activation="relu", init_scale=1e120, rng=0)
    with np.errstate(over="ignore", invalid="ignore"):
        assert not np.all(np.isfinite(model.forward(X16)))
    for y in (np.zeros((16, 1)), np.zeros(16)):
        assert np.all(np.isnan(D.gradient_norms(model, X16, y)))
    classifier = D.deep_mlp(3, width=8, n_out=3, activation="relu", init_scale=1e120, rng=0)
    loss = nl.losses.CategoricalCrossEntropy(from_logits=True)
    labels = np.arange(16) % 3
    assert np.all(np.isnan(D.gradient_norms(classifier, X16, labels, loss=loss)))


def test_activation_stds_one_per_layer():
    model = D.deep_mlp(4, 16, activation="tanh", init="normal", rng=0)
    stds = D.activation_stds(model, X)
    assert len(stds) == len(model.layers)
    assert stds[1] > 0.5


def test_bad_arguments():
    with pytest.raises(ValueError, match="depth"):
        D.deep_mlp(0)
    with pytest.raises(ValueError, match="valid names"):
        D.deep_mlp(2, activation="mishmash")
    with pytest.raises(ValueError, match="init_scale"):
        D.deep_mlp(2, init_scale=0)


def test_model_is_trainable():
    model = D.deep_mlp(2, 8, activation="tanh", rng=0)
    model.compile("mse", nl.optimizers.SGD(0.05))
    h = model.fit(X, Y, epochs=5, seed=0)
    assert h.history["loss"][-1] < h.history["loss"][0]


# --- gradient noise -------------------------------------------------------------------


def single_example_gradients(model, X, y):
    grads = []
    for i in range(len(X)):
        D._backward(model, nl.losses.get("mse"), X[i:i + 1], y[i:i + 1])
        grads.append(D._flat_gradient(model))
    return np.array(grads)


def test_gradient_noise_follows_sampling_without_replacement():
    # E||g_B - g||^2 = s^2 (n - B) / (B (n - 1)), s^2 the mean squared deviation of the
    # single-example gradients from their mean g, the full gradient.
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(12, 3)), rng.normal(size=(12, 1))
    model = nl.Sequential([nl.Dense(3, 2, rng=0), nl.Activation("tanh"), nl.Dense(2, 1, rng=1)])
    weights = [w.copy() for w in model.get_weights()]
    g_i = single_example_gradients(model, X, y)
    g = g_i.mean(axis=0)
    s2 = np.mean(np.sum((g_i - g) ** 2, axis=1))
    sizes = np.array([1, 3, 6, 12])
    expected = np.sqrt(s2 * (12 - sizes) / (sizes * 11)) / np.linalg.norm(g)
    noise = D.gradient_noise(model, X, y, sizes, draws=4000, seed=0)
    np.testing.assert_allclose(noise[:3], expected[:3], rtol=0.05)
    assert noise[3] < 1e-12
    for before, after in zip(weights, model.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)


def test_gradient_noise_of_a_classifier_with_integer_labels():
    X, y = nl.datasets.blobs(90, centers=3, seed=0)
    model = nl.Sequential([nl.Dense(2, 3, rng=0)])
    loss = nl.losses.CategoricalCrossEntropy(from_logits=True)
    noise = D.gradient_noise(model, X, y, [1, 9, 90], loss=loss, draws=50, seed=0)
    assert noise[0] > noise[1] > noise[2] >= 0


def test_gradient_noise_rejects_bad_arguments():
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    for sizes in ([0], [65], [2.5]):
        with pytest.raises(ValueError, match="batch size"):
            D.gradient_noise(model, X, Y, sizes)
    with pytest.raises(ValueError, match="draws"):
        D.gradient_noise(model, X, Y, [4], draws=0)
    with pytest.raises(ValueError, match=r"batch_sizes must be a list of batch sizes.*got 4$"):
        D.gradient_noise(model, X, Y, 4)


def test_gradient_noise_leaves_the_model_as_it_was():
    model = nl.Sequential([nl.Dense(2, 4, rng=0), nl.BatchNorm(4), nl.Dense(4, 1, rng=1)])
    before = [w.copy() for w in model.get_weights()]   # parameters and running statistics
    D.gradient_noise(model, X, Y, [4, 16], draws=5, seed=0)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_gradient_noise_of_a_zero_gradient_is_an_error():
    model = nl.Sequential([nl.Dense(2, 1, init="zeros")])
    with pytest.raises(ValueError, match="gradient is zero"):
        D.gradient_noise(model, X, np.zeros((64, 1)), [4], draws=2)


@pytest.mark.parametrize(("values", "start"), [
    ([0.5, 1.2, 0.9], ""),
    ([5e-4, 0.3, 0.4], ""),   # first / output 1/800
    ([3e-4, 5e-4, 2e-3, 1e-4], ""),   # all small, but the largest above 1/1000
    ([1e-4, 0.3, 0.2], "Vanishing gradients: the first layer's is 0.0005 times"),
    ([3e-7, 5e-7, 8e-7], "Vanishing gradients: even the largest is 8e-07"),
    ([900.0, 10.0, 0.5], "Exploding gradients: the first layer's is 1.8e+03 times"),
    ([2e3, 3e3, 4e3], "Exploding gradients: the largest is 4e+03"),
    ([1.0, np.inf, 1.0], "Exploding gradients: some overflow"),
    ([1.0, np.nan, 1.0], "Exploding gradients: some overflow"),
    ([0.0, 0.0, 0.0], "Vanishing gradients: even the largest is 0,"),
    ([1e-5, 1e-4, 0.0], "Vanishing gradients: even the largest is 0.0001"),
    ([1e-5, 1e-9], "Vanishing gradients: even the largest is 1e-05"),   # a ratio of 1e4
])
def test_gradient_warning_looks_at_the_ratio_and_at_the_sizes(values, start):
    warning = D.gradient_warning(values)
    assert warning.startswith(start) and bool(warning) == bool(start)


@pytest.mark.parametrize(("settings", "start"), [
    ({"activation": "tanh", "init_scale": 0.25}, "Vanishing gradients: even the largest"),
    ({"activation": "tanh", "init_scale": 4.0, "depth": 20}, "Exploding gradients: the largest"),
    ({"activation": "sigmoid", "residual": True, "init_scale": 4.0, "depth": 20}, "Exploding"),
    ({"activation": "tanh"}, ""),
    ({"activation": "relu"}, ""),
    ({"activation": "sigmoid", "batchnorm": True, "depth": 20}, ""),
])
def test_gradient_flow_warns_of_gradients_that_are_all_tiny_or_all_huge(settings, start):
    # tanh at a quarter of Glorot's scale: every layer's gradient is below 1e-6, ratio near 1.
    warning = nl.explore.gradient_flow(**settings)["warning"]
    assert warning.startswith(start) and bool(warning) == bool(start)


@pytest.mark.parametrize("warning", [D.gradient_warning, D.spread_warning])
def test_the_warnings_need_a_number_per_layer(warning):
    with pytest.raises(ValueError, match="one number per layer; got none"):
        warning([])
    with pytest.raises(ValueError, match="must be 1-D; got a 2-D array"):
        warning([[1.0, 2.0]])


def test_saturation_warning_names_the_most_saturated_layer_of_tanh_or_sigmoid_only():
    assert D.saturation_warning([0.3, 0.64, 0.61], "sigmoid").startswith(
        "Saturated: 64 % of layer 2's units sit on sigmoid's flat ends")
    assert D.saturation_warning([0.5, 0.5], "tanh") == ""   # half is not most
    assert D.saturation_warning([0.5, 0.9], "relu") == ""   # a ReLU's zeros are its way


@pytest.mark.parametrize(("scheme", "activation", "start"), [
    ("normal", "tanh", "Saturated: 82 % of layer 1"),   # chapter 5's example
    ("normal", "sigmoid", "Saturated"),
    ("glorot_uniform", "tanh", ""),
    ("he_normal", "relu", ""),
])
def test_the_initialization_explorer_warns_of_saturated_units(scheme, activation, start):
    warning = nl.explore.initialization(scheme, depth=6, activation=activation)["warning"]
    assert warning.startswith(start) and bool(warning) == bool(start)


def test_gradient_parts_take_each_weight_gradient_apart():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(128, 2)), rng.normal(size=(128, 1))
    model = D.deep_mlp(5, 16, rng=0, activation="sigmoid")
    before = [w.copy() for w in model.get_weights()]
    parts = D.gradient_parts(model, X, y)
    product = parts["input"] * parts["signal"] * parts["kept"]
    np.testing.assert_allclose(product, D.gradient_norms(model, X, y), rtol=1e-12)
    # Zero-mean features cancel like a random walk's steps; positive sigmoid outputs do not.
    assert 0.5 / np.sqrt(128) < parts["kept"][0] < 2 / np.sqrt(128) < parts["kept"][1]
    assert np.all(parts["kept"] <= 1)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="plain stack of layers"):
        D.gradient_parts(D.deep_mlp(2, 4, residual=True, rng=0), X, y)


def test_gradient_parts_of_zero_gradients_and_of_no_dense_layer():
    X = np.random.default_rng(0).normal(size=(8, 2))
    dead = D.deep_mlp(3, 8, activation="relu", init_scale=1e-300, rng=0)   # 0/0 was NaN
    parts = D.gradient_parts(dead, X, np.zeros((8, 1)))
    product = parts["input"] * parts["signal"] * parts["kept"]
    np.testing.assert_array_equal(product, D.gradient_norms(dead, X, np.zeros((8, 1))))
    none = D.gradient_parts(nl.Sequential([nl.Activation("tanh")]), X, np.zeros((8, 2)))
    assert {k: v.shape for k, v in none.items()} == {k: (0,) for k in ("input", "signal",
                                                                        "kept")}


def test_input_warning_names_layers_that_no_longer_tell_the_inputs_apart():
    assert D.input_warning([0.6, 0.3], [0.6, 0.3], "tanh") == ""   # all of it from the input
    assert D.input_warning([0.6, 0.002], [0.6, 0.3], "tanh").startswith(   # 150 times
        "The layers forget their input: in layer 2, each unit's output varies 0.002 across "
        "the inputs against 0.3 across the units")
    assert "Sigmoid's outputs average about 0.5" in D.input_warning([0.2, 1e-8], [0.2, 0.1],
                                                                    "sigmoid")
    assert D.input_warning([0.6, 0.01], [0.6, 0.3], "tanh") == ""   # 30 times: not yet
    assert D.input_warning([0.0, 0.0], [0.0, 0.0], "relu") == ""   # nothing to forget
    with pytest.raises(ValueError, match="one input std per std, got 1 and 2"):
        D.input_warning([0.5], [0.5, 0.4], "tanh")


@pytest.mark.parametrize("scheme", ["glorot_uniform", "he_normal", "uniform"])
def test_a_sigmoid_network_forgets_its_input_behind_a_healthy_looking_spread(scheme):
    # The stds over all activations held near 0.12 to the 12th layer, without a word, while
    # each unit's spread across the inputs fell to 2.6e-08: every input, one output.
    s = nl.explore.initialization(scheme, depth=12, activation="sigmoid")
    assert min(s["stds"]) > 0.02 and s["input_stds"][-1] < 1e-4 * s["input_stds"][0]
    assert s["warning"].startswith("The layers forget their input: in layer 12")
    for activation in ("tanh", "relu", "linear"):   # a unit's mean is no constant to fall to
        assert not nl.explore.initialization(scheme, depth=12, activation=activation)[
            "warning"].startswith("The layers forget")


def test_input_stds_are_each_unit_s_spread_across_the_inputs():
    s = nl.explore.initialization("glorot_uniform", depth=3, activation="sigmoid", width=16)
    for values, input_std, std in zip(s["values"], s["input_stds"], s["stds"], strict=True):
        per_unit = [np.std(values[:, j]) for j in range(values.shape[1])]
        assert input_std == pytest.approx(np.mean(per_unit), rel=1e-12)
        assert std == pytest.approx(np.std(values), rel=1e-12)
