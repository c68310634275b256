"""The numbers that every weight's step shares (NAdam's product of momentum factors, ASGD's
next rate and weight), kept in a model file's header: resumed training takes the model's
steps after its hyper-parameters changed, and a tampered value is refused."""

import numpy as np
import pytest

import nnlab as nl
from nnlab.layers import Layer
from tests.saving_cases import edited, header_of, loading_fails

SHARING = {"NAdam": (lambda: nl.optimizers.NAdam(0.01, momentum_decay=0.5),
                     {"beta1": 0.5, "momentum_decay": 0.1}, ["mu_product"]),
           "ASGD": (lambda: nl.optimizers.ASGD(0.05, t0=1),
                    {"lr": 0.5, "lambd": 0.3, "alpha": 0.5, "t0": 2.0}, ["eta", "mu"])}


class Gain(nl.Layer):
    """A layer of one's own with a weight and no dtype setting: built float64 by loading."""

    def __init__(self, n):
        super().__init__()
        self.params = {"g": np.ones(n)}

    def forward(self, x, training=False):
        self.x = self._check_input(x, training=training)
        return self.x * self._param("g", self.x)

    def backward(self, dy):
        dy = self._check_grad(dy)
        self._store_grad("g", (dy * self.x).sum(axis=0))
        return dy * self._param("g", dy)

    def get_config(self):
        return {"n": self.params["g"].size}


Layer.registry.pop("Gain")   # a test double: registered by the test that loads it


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", SHARING)
def test_the_numbers_that_every_weight_s_step_shares_are_saved(tmp_path, name, dtype,
                                                               monkeypatch):
    # NAdam's product of momentum factors holds the beta1 of each step, and ASGD fixed the
    # next step's eta and mu at the end of the last: after a change of a hyper-parameter,
    # neither follows from the step count, and resumed training took other steps. (In
    # float32, loading casts the model, whose Gain is built float64: that resets the
    # optimizer, and the numbers must be set again.)
    monkeypatch.setitem(Layer.registry, "Gain", Gain)
    optimizer, changes, shared = SHARING[name]
    model = nl.Sequential([Gain(2), nl.Dense(2, 3, rng=0), nl.Activation("tanh"),
                           nl.Dense(3, 1, rng=1)]).astype(dtype)
    model.compile("mse", optimizer())
    X = np.random.default_rng(0).normal(size=(8, 2))
    model.fit(X, X[:, :1], epochs=3, batch_size=4, seed=0)
    for key, value in changes.items():
        setattr(model.optimizer, key, value)
    model.fit(X, X[:, :1], epochs=1, batch_size=4, seed=1)
    path = model.save(tmp_path / "m")
    assert sorted(header_of(path)["compile"]["optimizer"]["shared_state"]) == shared
    loaded = nl.load_model(path)
    assert loaded.optimizer.shared_state() == model.optimizer.shared_state()
    for m in (model, loaded):
        m.fit(X, X[:, :1], epochs=2, batch_size=4, seed=2)
    for ours, theirs in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize(("name", "shared", "fragment"), [
    ("NAdam", {"mu_product": 1.5}, "NAdam's mu_product must be in [0, 1]; got 1.5"),
    ("NAdam", {"mu_product": 0.5, "eta": 0.1}, "NAdam keeps no shared state named ['eta']; "
                                               "got {'eta': 0.1}"),
    ("ASGD", {"eta": -0.1, "mu": 1.0}, "ASGD's eta must be in [0, inf); got -0.1"),
    ("ASGD", {"eta": 0.1}, "ASGD's mu must be a real number; got None"),
    ("ASGD", [0.1, 1.0], "shared_state: expected a JSON object; got [0.1, 1.0]"),
    ("SGD", {"mu_product": 0.5}, "SGD keeps no shared state named ['mu_product']")])
def test_a_tampered_shared_state_is_refused(tmp_path, name, shared, fragment):
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.compile("mse", SHARING[name][0]() if name in SHARING else nl.optimizers.SGD(0.1))
    model.fit(np.ones((4, 2)), np.ones(4), epochs=1, batch_size=2, seed=0)
    loading_fails(edited(model.save(tmp_path / "m"), tmp_path / "t.npz",
                         lambda h: h["compile"]["optimizer"].update(shared_state=shared)),
                  fragment)
