"""The defaults that the docstrings promise, pinned: a changed default silently changes
every call that leaves it out, and no other test sets them all. Where a default is said to
be PyTorch's or Keras's, it is compared with theirs when they are installed."""

import inspect

import numpy as np
import pytest

import nnlab as nl

#: (nnlab's class, its argument, the value, (library, class, argument) that it follows)
FOLLOWED = [
    (nl.optimizers.SGD, "lr", 0.01, ("keras", "optimizers.SGD", "learning_rate")),
    (nl.optimizers.AdaGrad, "lr", 0.01, ("torch", "optim.Adagrad", "lr")),
    (nl.optimizers.AdaGrad, "eps", 1e-10, ("torch", "optim.Adagrad", "eps")),
    (nl.optimizers.RMSprop, "lr", 0.01, ("torch", "optim.RMSprop", "lr")),
    (nl.optimizers.RMSprop, "rho", 0.9, ("keras", "optimizers.RMSprop", "rho")),
    (nl.optimizers.RMSprop, "eps", 1e-8, ("torch", "optim.RMSprop", "eps")),
    (nl.optimizers.Adam, "lr", 1e-3, ("torch", "optim.Adam", "lr")),
    (nl.optimizers.Adam, "eps", 1e-8, ("torch", "optim.Adam", "eps")),
]


def default(function, argument):
    return inspect.signature(function).parameters[argument].default


@pytest.mark.parametrize("cls, argument, value, source", FOLLOWED)
def test_an_optimizer_s_default_is_the_one_it_follows(cls, argument, value, source):
    assert default(cls, argument) == value and getattr(cls(), argument) == value
    library, path, theirs = source
    reference = pytest.importorskip(library)
    for name in path.split("."):
        reference = getattr(reference, name)
    assert default(reference, theirs) == value


def test_fit_takes_batches_of_32_and_prints_nothing_by_default(capsys):
    # Keras's batch size; nnlab prints only when asked (verbose=1), unlike Keras.
    X, y = nl.datasets.moons(65, seed=0)
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.compile("mse", nl.optimizers.SGD(0.1))
    model.fit(X, y, epochs=2)
    assert model.optimizer.iterations == 2 * 3   # 32 + 32 + 1 an epoch
    assert capsys.readouterr().out == ""


def test_early_stopping_stops_in_silence_by_default(capsys):
    X, y = nl.datasets.moons(40, seed=0)
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.compile("mse", nl.optimizers.SGD(0.1))
    stop = nl.callbacks.EarlyStopping(monitor="loss", patience=1, min_delta=1.0)   # no gain
    model.fit(X, y, epochs=5, callbacks=[stop])
    assert model.stop_reason.startswith("early stopping: loss did not improve for 1 epoch")
    assert capsys.readouterr().out == ""


class StopAfterTwo(nl.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        self.model.stop_training = epoch == 1


def test_a_callback_s_stop_names_the_last_epoch_run():
    X, y = nl.datasets.moons(40, seed=0)
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.compile("mse", nl.optimizers.SGD(0.1))
    history = model.fit(X, y, epochs=5, callbacks=[StopAfterTwo()])
    assert model.stop_reason == "stopped by a callback after epoch 2"
    assert len(history.history["loss"]) == 2


def test_rmsprop_refuses_a_rho_of_one_or_more():
    for rho in (1.0, 1.5):
        with pytest.raises(ValueError, match=rf"^RMSprop rho must be in \[0, 1\); got {rho}$"):
            nl.optimizers.RMSprop(rho=rho)


def test_top_k_accuracy_takes_two_classes():
    scores = np.array([[0.2, 0.8], [0.9, 0.1], [0.4, 0.6]])
    assert nl.metrics.top_k_categorical_accuracy([1, 1, 0], scores, k=1) == pytest.approx(1 / 3)
    assert nl.metrics.top_k_categorical_accuracy([1, 1, 0], scores, k=2) == 1.0
