"""What a model file keeps and load_model rebuilds: losses, metrics, optimizers, activations,
random generators and layers, by name; what save warns it leaves out or refuses to write;
the file load_model reads for the path given to save."""

import os
import re
import warnings

import numpy as np
import pytest

import nnlab as nl
from nnlab.saving import ModelFileError
from nnlab.training_state import NotSavedWarning
from tests.saving_cases import edited, header_of, loading_fails, small_model
from tests.saving_cases import good as good  # a fixture: the alias keeps it imported

# --- losses and metrics, and the warnings of what a file leaves out -------------------


def test_a_model_compiled_with_the_huber_loss_keeps_its_delta(tmp_path):
    X = np.random.default_rng(0).normal(size=(16, 2))
    y = X @ [1.0, -2.0] + np.where(np.arange(16) == 3, 30.0, 0.0)   # one outlier
    model = nl.Sequential([nl.Dense(2, 4, rng=0), nl.Activation("tanh"), nl.Dense(4, 1, rng=1)])
    model.compile(loss="huber", optimizer=nl.optimizers.SGD(0.05))
    assert model.loss.get_config() == {"delta": 1.0}
    model.compile(nl.losses.Huber(delta=np.float32(0.5)), nl.optimizers.SGD(0.05))
    history = model.fit(X, y, epochs=5, batch_size=8, seed=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    loaded = nl.load_model(model.save(tmp_path / "huber"))
    assert header_of(tmp_path / "huber.npz")["compile"]["loss"] == {"name": "huber",
                                                                    "config": {"delta": 0.5}}
    assert type(loaded.loss) is nl.losses.Huber and loaded.loss.delta == 0.5
    assert loaded.evaluate(X, y) == model.evaluate(X, y)


def test_metrics_that_a_file_cannot_keep_are_named_by_a_warning(tmp_path):
    # A metric function of one's own, or a loss given as a metric, was left out in silence.
    def within_one(y_true, y_pred):
        return float(np.mean(np.abs(y_true - y_pred) < 1))

    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.compile("mse", "sgd", metrics=["mae", within_one, nl.losses.Huber(0.5), "acc"])
    with pytest.warns(NotSavedWarning, match=r"the metrics 'within_one', 'huber' are not "
                                             r"saved: a model file keeps metrics by the names "
                                             r"nnlab knows") as caught:
        path = model.save(tmp_path / "m")
    assert len(caught) == 1 and caught[0].filename == __file__
    loaded = nl.load_model(path)
    assert list(loaded.metrics) == header_of(path)["compile"]["metrics"] == ["mae", "acc"]
    # The way back that the warning gives: the loaded optimizer, its state kept.
    loaded.compile(loaded.loss, loaded.optimizer, metrics=[*loaded.metrics, within_one])
    assert list(loaded.metrics) == ["mae", "acc", "within_one"]


def test_a_model_that_a_file_keeps_whole_saves_without_a_warning(tmp_path):
    model = small_model()
    model.compile("mse", nl.optimizers.SGD(nl.schedules.exponential_decay(0.1, 0.5, 10)),
                  metrics=["mae", "RootMeanSquaredError"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.save(tmp_path / "m")
        nl.Sequential([nl.Dense(2, 1)]).save(tmp_path / "uncompiled")


def test_a_save_refused_warns_of_nothing_it_would_have_left_out(tmp_path):
    # The warnings come once everything is checked: a refused save writes nothing to warn of.
    class MySGD(nl.optimizers.SGD):
        pass

    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.compile("mse", MySGD(lambda it: 0.1), metrics=[lambda y_true, y_pred: 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="cannot be rebuilt from 'mysgd'"):
            model.save(tmp_path / "mine")


# --- the file load_model reads --------------------------------------------------------


def test_load_model_reads_the_file_that_save_wrote_for_the_same_path(tmp_path):
    # save("m") writes m.npz, as numpy.savez does; load_model("m") looked for "m" alone.
    model = small_model()
    X = np.random.default_rng(0).normal(size=(5, 2))
    assert model.save(tmp_path / "m") == str(tmp_path / "m.npz")
    (tmp_path / "m").mkdir()   # a folder of the same name is no model file
    np.testing.assert_array_equal(nl.load_model(tmp_path / "m").predict(X), model.predict(X))
    np.testing.assert_array_equal(nl.load_model(str(tmp_path / "m")).predict(X),
                                  model.predict(X))
    (tmp_path / "m.npz").rename(tmp_path / "renamed")   # a file renamed is read as named
    np.testing.assert_array_equal(nl.load_model(tmp_path / "renamed").predict(X),
                                  model.predict(X))
    folder = f": {str(tmp_path / 'm')!r} is a folder"
    for absent, tried, more in (("m", ["m.npz", "m"], folder), ("m.npz", ["m.npz"], "")):
        with pytest.raises(FileNotFoundError) as info:
            nl.load_model(tmp_path / absent)
        assert isinstance(info.value, ModelFileError)
        assert str(info.value) == "no model file at " + " or ".join(
            repr(str(tmp_path / name)) for name in tried) + more


def test_a_folder_is_no_file_name_to_save_to_or_load_from(tmp_path):
    # save wrote the folder's name + ".npz" beside it, or a hidden ".npz" inside it, and
    # load_model read that hidden file back.
    model = small_model()
    for path in (tmp_path, str(tmp_path) + os.sep):
        with pytest.raises(ValueError, match=r"save_model needs a file name; .* names a folder: "
                                             r"give a file in it, such as .*model'"):
            model.save(path)
    assert not list(tmp_path.iterdir()) and not tmp_path.with_suffix(".npz").exists()
    model.save(tmp_path / "m")
    (tmp_path / "m.npz").rename(tmp_path / ".npz")
    with pytest.raises(ValueError, match="load_model needs a file name"):
        nl.load_model(str(tmp_path) + os.sep)
    (tmp_path / "d.npz").mkdir()   # numpy's IsADirectoryError, once ".npz" was appended
    with pytest.raises(ValueError, match=r"save_model needs a file name; .*d\.npz' names a "
                                         "folder"):
        model.save(tmp_path / "d")


def test_a_path_that_is_no_str_or_in_no_folder_is_refused_as_bad_input(tmp_path):
    # TypeError from os.fspath or str.endswith, FileNotFoundError from numpy's write
    model = small_model()
    for path in (None, 3, b"m.npz"):
        for act, what in ((model.save, "save_model"), (nl.load_model, "load_model")):
            with pytest.raises(ValueError, match=f"{what} needs a file name as a str or "
                                                 f"pathlib.Path; got {re.escape(repr(path))}"):
                act(path)
    with pytest.raises(ValueError, match=r"save_model cannot write .* there is no folder"):
        model.save(tmp_path / "absent" / "m")
    assert not list(tmp_path.iterdir())


def test_a_path_from_the_home_folder_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))   # "~/m" was refused: no folder '~'
    written = small_model().save("~/m")
    assert written == str(tmp_path / "m.npz") and nl.load_model("~/m").layers


# --- optimizers and activations that load_model could not rebuild ---------------------


def test_save_refuses_an_optimizer_that_load_model_could_not_rebuild(tmp_path):
    X = np.random.default_rng(0).normal(size=(8, 2))
    model = nl.Sequential([nl.Dense(2, 3, rng=0)])
    model.compile("mse", "rmsprop")
    model.fit(X, np.ones((8, 3)), epochs=1, batch_size=4)
    model.add(nl.Dense(3, 1, rng=1))   # the state is the first layer's parameters' alone
    with pytest.raises(ValueError, match=r"optimizer's state .* no longer the model's .* "
                                         r"model\.optimizer\.reset\(\)"):
        model.save(tmp_path / "added")
    model.optimizer.reset()
    assert nl.load_model(model.save(tmp_path / "added")).optimizer.iterations == 0

    class MySGD(nl.optimizers.SGD):
        pass

    class Halved(nl.losses.MSE):
        def forward(self, y_pred, y_true):
            return super().forward(y_pred, y_true) / 2

    model.compile("mse", MySGD(0.01))
    with pytest.raises(ValueError, match=r"keeps its optimizer as one of nnlab's names, and "
                                         r"MySGD\(.*\) cannot be rebuilt from 'mysgd' \(unknown "
                                         r"optimizer 'mysgd'"):
        model.save(tmp_path / "mine")
    model.compile(Halved(), "sgd")
    with pytest.raises(ValueError, match=r"keeps its loss as one of nnlab's names, and Halved"
                                         r"\(\) cannot be rebuilt from 'mean_squared_error' "
                                         r"\(another class\); compile with one of nnlab's"):
        model.save(tmp_path / "mine")
    assert not (tmp_path / "mine.npz").exists()


def test_save_refuses_an_activation_that_load_model_could_not_rebuild(tmp_path):
    class CappedReLU(nl.activations.ReLU):   # inherits the name "relu"
        def __call__(self, x):
            return np.minimum(super().__call__(x), 1.0)

    class Square(nl.activations.ActivationFunction):
        name = "square"

        def __call__(self, x):
            return np.square(x)

        def derivative(self, x):
            return 2 * x

    for fn in (CappedReLU(), Square()):
        for model in (nl.Sequential([nl.Dense(1, 1), nl.Activation(fn)]),
                      nl.Sequential([nl.Dense(1, 1), nl.Residual(nl.Activation(fn))])):
            with pytest.raises(ValueError, match=rf"keeps an activation by name, and "
                                                 rf"Activation\(.*\) holds .*, which "
                                                 rf"activations.get\('{fn.name}'\) does not "
                                                 "rebuild"):
                model.save(tmp_path / "mine")
            assert not (tmp_path / "mine.npz").exists()
    model = nl.Sequential([nl.Dense(1, 1), nl.Activation(nl.activations.ELU(alpha=2.0))])
    loaded = nl.load_model(model.save(tmp_path / "elu"))   # nnlab's own, by instance
    assert loaded.layers[1].fn.alpha == 2.0


# --- random generators ----------------------------------------------------------------


def test_training_resumed_after_loading_draws_the_dropout_masks_it_would_have_drawn(tmp_path):
    # The generators' states were not saved: each loaded model drew fresh masks.
    shared = np.random.Generator(np.random.MT19937(7))   # a state with an array in it
    model = nl.Sequential([nl.Dense(4, 8, rng=0), nl.Dropout(0.5, rng=0), nl.Activation("tanh"),
                           nl.Residual(nl.Dense(8, 8, rng=1), nl.Dropout(0.3, rng=shared)),
                           nl.Dropout(0.2, rng=shared), nl.Dense(8, 1, rng=2)])
    model.compile("mse", nl.optimizers.Adam(0.01))
    X = np.random.default_rng(0).normal(size=(24, 4))
    y = X.sum(axis=1)
    model.fit(X, y, epochs=2, batch_size=8, seed=0)
    path = model.save(tmp_path / "dropout")
    states = header_of(path)["random_states"]
    assert [s["layers"] for s in states] == [["1"], ["3.1", "4"]]   # one generator, shared
    assert [s["state"]["bit_generator"] for s in states] == ["PCG64", "MT19937"]
    loaded = [nl.load_model(path) for _ in range(2)]
    assert loaded[0].layers[3].layers[1].rng is loaded[0].layers[4].rng
    for m in (model, *loaded):
        m.fit(X, y, epochs=3, batch_size=8, seed=1)
    for m in loaded:
        for a, b in zip(model.get_weights(), m.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)


def test_tampered_random_states_are_named(good, tmp_path):
    def states(value):
        return lambda header: header.update(random_states=value)

    state = header_of(good)["random_states"][0]["state"]
    assert header_of(good)["random_states"] == [{"layers": ["4"], "state": state}]
    for name, value, fragment in [
            ("none", [], "random_states: expected one generator for each of the layers ['4']; "
                         "got them for []"),
            ("twice", [{"layers": ["4", "4"], "state": state}], "got them for ['4', '4']"),
            ("number", [{"layers": [4], "state": state}], "got them for [4]"),
            ("kind", {"layers": ["4"], "state": state}, "expected a list of {'layers'"),
            ("foreign", [{"layers": ["4"], "state": {**state, "bit_generator": "Mine"}}],
             "expected the state of one of NumPy's bit generators, PCG64, PCG64DXSM, MT19937"),
            ("huge", [{"layers": ["4"], "state": {**state, "state": {"state": 2**200,
                                                                       "inc": 1}}}],
             "OverflowError"),
            ("fraction", [{"layers": ["4"], "state": {**state, "has_uint32": 0.5}}],
             "expected a bit generator's state of integers"),   # NumPy took 0.5 as 0
            ("truth", [{"layers": ["4"], "state": {**state, "uinteger": True}}],
             "expected a bit generator's state of integers")]:
        loading_fails(edited(good, tmp_path / f"{name}.npz", states(value)), fragment)
    # A file from before the generators were saved: the layer draws from a fresh one.
    old = nl.load_model(edited(good, tmp_path / "old.npz", lambda h: h.pop("random_states")))
    assert isinstance(old.layers[4].rng, np.random.Generator)


def test_save_refuses_a_generator_whose_state_a_file_cannot_hold(tmp_path, monkeypatch):
    kept = {k: g for k, g in nl.training_state.BIT_GENERATORS.items() if k != "MT19937"}
    monkeypatch.setattr(nl.training_state, "BIT_GENERATORS", kept)   # (the order kept)
    model = nl.Sequential([nl.Dropout(0.5, rng=np.random.Generator(np.random.MT19937(0)))])
    with pytest.raises(ValueError, match=r"Dropout\(rate=0.5\) draws from a MT19937; a model "
                                         "file holds the states of PCG64, PCG64DXSM, Philox"):
        model.save(tmp_path / "mt")


# --- writing the file ----------------------------------------------------------------


def test_a_save_cut_short_leaves_the_file_that_was_there(tmp_path, monkeypatch):
    model = small_model()
    path = model.save(tmp_path / "m")
    written = (tmp_path / "m.npz").read_bytes()

    def cut_short(file, **arrays):
        file.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", cut_short)
    with pytest.raises(KeyboardInterrupt):
        model.save(path)
    assert (tmp_path / "m.npz").read_bytes() == written
    assert os.listdir(tmp_path) == ["m.npz"]   # no partial file left beside it
    monkeypatch.undo()
    fresh = model.save(tmp_path / "fresh")   # the permissions a new file gets
    assert os.stat(fresh).st_mode & 0o777 == 0o666 & ~_umask()
    os.chmod(path, 0o600)   # a file kept private stays so, and a link stays a link
    os.symlink(path, tmp_path / "latest.npz")
    model.save(tmp_path / "latest")
    assert os.stat(path).st_mode & 0o777 == 0o600 and os.path.islink(tmp_path / "latest.npz")
    assert sorted(os.listdir(tmp_path)) == ["fresh.npz", "latest.npz", "m.npz"]
    nl.load_model(tmp_path / "latest")


def test_a_save_where_no_file_can_be_added_beside_writes_the_file_in_place(tmp_path,
                                                                          monkeypatch):
    # A folder one may not add a file to (the file itself writable), a name at the length
    # limit: the file beside could not be made, and saving failed where numpy's worked.
    model = small_model()
    path = model.save(tmp_path / "m")

    def refused(name, *args):
        raise PermissionError(13, "Permission denied", name)

    monkeypatch.setattr(os, "open", refused)
    model.layers[0].params["b"][...] = 7.0
    model.save(path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["m.npz"]
    assert (nl.load_model(path).layers[0].params["b"] == 7.0).all()


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
