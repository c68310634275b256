"""The layers of chapter 12 learn real tasks: digits with a CNN, a DNA motif with Conv1D."""

import numpy as np
import pytest

import nnlab as nl


def digits():
    X, y = nl.datasets.load_digits(as_images=True)
    return nl.datasets.train_test_split(X / 16.0, y, 0.25, seed=0, stratify=True)


def fit(model, data, epochs=10):
    Xtr, Xte, ytr, yte = data
    model.compile(nl.losses.CategoricalCrossEntropy(from_logits=True), nl.optimizers.Adam(0.01),
                  ["accuracy"])
    history = model.fit(Xtr, ytr, epochs=epochs, batch_size=32, validation_data=(Xte, yte),
                        seed=0)
    return history.history["val_accuracy"][-1]


@pytest.mark.slow
def test_small_cnn_beats_an_mlp_of_similar_size_on_digits():
    data = digits()
    cnn = nl.Sequential([nl.Conv2D(1, 8, 3, padding=1, rng=0), nl.Activation("relu"),
                         nl.MaxPool2D(2), nl.Flatten(), nl.Dense(128, 10, rng=1)])
    mlp = nl.Sequential([nl.Flatten(), nl.Dense(64, 18, rng=0), nl.Activation("relu"),
                         nl.Dense(18, 10, rng=1)])
    n_cnn = sum(p.size for p in cnn.params)
    n_mlp = sum(p.size for p in mlp.params)
    assert abs(n_cnn - n_mlp) / n_mlp < 0.05
    cnn_acc, mlp_acc = fit(cnn, data), fit(mlp, data)
    assert cnn_acc > 0.95
    assert cnn_acc > mlp_acc


@pytest.mark.slow
def test_conv1d_finds_a_planted_motif():
    X, y = nl.datasets.dna_motifs(2000, length=50, seed=0)
    Xtr, Xte, ytr, yte = nl.datasets.train_test_split(X, y, 0.25, seed=0)
    model = nl.Sequential([nl.Conv1D(4, 8, 6, rng=0), nl.Activation("relu"),
                           nl.GlobalMaxPool1D(), nl.Dense(8, 1, rng=1)])
    model.compile(nl.losses.BinaryCrossEntropy(from_logits=True), nl.optimizers.Adam(0.05),
                  ["accuracy"])
    history = model.fit(Xtr, ytr, epochs=30, batch_size=32, validation_data=(Xte, yte), seed=0)
    assert history.history["val_accuracy"][-1] > 0.75


def test_dropout_switches_with_training_mode_inside_fit():
    X, y = nl.datasets.moons(64, seed=0)
    model = nl.Sequential([nl.Dense(2, 32, rng=0), nl.Activation("relu"), nl.Dropout(0.5, rng=0),
                           nl.Dense(32, 1, rng=1)])
    model.compile(nl.losses.BinaryCrossEntropy(from_logits=True), "adam")
    model.fit(X, y, epochs=1, seed=0)
    assert np.array_equal(model.predict(X), model.predict(X))
    assert not np.array_equal(model.forward(X, training=True), model.forward(X, training=True))


def test_batchnorm_running_statistics_converge():
    rng = np.random.default_rng(0)
    bn = nl.BatchNorm(3, momentum=0.9)
    for _ in range(200):
        bn.forward(rng.normal([1.0, -2.0, 5.0], [0.5, 2.0, 1.0], size=(64, 3)), training=True)
    np.testing.assert_allclose(bn.buffers["running_mean"], [1.0, -2.0, 5.0], atol=0.1)
    np.testing.assert_allclose(bn.buffers["running_var"], [0.25, 4.0, 1.0], rtol=0.1)
