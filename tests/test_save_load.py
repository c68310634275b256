"""Sequential.save and nl.load_model: round trips that keep every prediction, dtype
and setting, and files that load refuses (more of those in test_saving.py)."""

import gc
import json
import warnings

import numpy as np
import pytest

import nnlab as nl
from nnlab.layers import Activation, Dense
from tests.helpers import mlp


def trained_conv_model():
    X, y = nl.datasets.load_digits(as_images=True)
    model = nl.Sequential([nl.Conv2D(1, 3, 3, rng=0), nl.BatchNorm(3), Activation("relu"),
                           nl.MaxPool2D(2), nl.Flatten(), nl.Dropout(0.2, rng=0),
                           Dense(27, 10, rng=0),
                           nl.Residual(Dense(10, 10, rng=1), Activation("tanh")),
                           Activation("softmax")])
    model.compile("sparse_categorical_crossentropy", nl.optimizers.Adam(0.01),
                  metrics=["accuracy"])
    model.fit(X[:200] / 16, y[:200], epochs=1, seed=0)
    return model, X[200:260] / 16


def test_save_load_round_trip_gives_identical_predictions(tmp_path):
    model, X = trained_conv_model()
    path = model.save(tmp_path / "conv")
    assert path.endswith("conv.npz")
    loaded = nl.load_model(path)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    np.testing.assert_array_equal(loaded.layers[1].buffers["running_var"],
                                  model.layers[1].buffers["running_var"])
    assert isinstance(loaded.loss, nl.losses.CategoricalCrossEntropy)
    assert isinstance(loaded.optimizer, nl.optimizers.Adam) and loaded.optimizer.lr == 0.01
    assert list(loaded.metrics) == ["accuracy"]
    with np.load(path, allow_pickle=False) as data:  # a plain npz, readable without pickle
        header = json.loads(str(data["__nnlab__"]))
    assert header["format"] == "nnlab.Sequential"


def test_round_trip_keeps_float32_and_logits_config(tmp_path):
    model = mlp(out="linear").astype("float32")
    model.compile(nl.losses.BinaryCrossEntropy(from_logits=True), nl.optimizers.SGD(0.3, 0.9))
    loaded = nl.load_model(model.save(tmp_path / "m.npz"))
    assert loaded.dtype == np.float32
    assert loaded.loss.from_logits and loaded.optimizer.momentum == 0.9
    X = np.random.default_rng(0).normal(size=(5, 2))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    uncompiled = nl.load_model(mlp().save(tmp_path / "u"))
    assert uncompiled.loss is None


def test_round_trip_keeps_the_parameters_of_activations(tmp_path):
    # Saved by name alone, a LeakyReLU(0.3) came back with the default slope 0.01.
    model = nl.Sequential([Dense(2, 3, rng=0), Activation("leaky_relu", alpha=0.3),
                           Activation(nl.activations.ELU(2.0)), Dense(3, 1, rng=1)])
    loaded = nl.load_model(model.save(tmp_path / "m"))
    assert [layer.fn.get_config() for layer in loaded.layers[1:3]] == [{"alpha": 0.3},
                                                                        {"alpha": 2.0}]
    X = np.random.default_rng(0).normal(size=(20, 2)) * 3
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert repr(loaded.layers[1]) == "Activation(name='leaky_relu', alpha=0.3)"


def rewrite(path, target, edit):
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    header = json.loads(str(arrays["__nnlab__"]))
    edit(header, arrays)
    arrays["__nnlab__"] = np.array(json.dumps(header))
    np.savez(target, **arrays)
    return target


def test_corrupt_and_foreign_files_raise_value_error(tmp_path):
    good = mlp().save(tmp_path / "good")
    with open(good, "rb") as file:
        raw = file.read()
    cases = {}
    cases["random npz"] = tmp_path / "random.npz"
    np.savez(cases["random npz"], a=np.random.default_rng(0).normal(size=3))
    cases["truncated"] = tmp_path / "truncated.npz"
    cases["truncated"].write_bytes(raw[: len(raw) // 2])
    cases["text"] = tmp_path / "notes.npz"
    cases["text"].write_text("hello")
    cases["npy"] = tmp_path / "array.npy"
    np.save(cases["npy"], np.zeros(3))
    cases["pickle"] = tmp_path / "pickle.npz"
    np.savez(cases["pickle"], __nnlab__=np.array([{"format": "nnlab.Sequential"}]))
    cases["bad json"] = tmp_path / "json.npz"
    np.savez(cases["bad json"], __nnlab__=np.array("{not json"))

    def setter(key, value):
        return lambda header, arrays: header.__setitem__(key, value)

    edits = {
        "format": (setter("format", "keras.Model"), "expected format"),
        "version": (setter("version", 99), "version"),
        "layer class": (lambda h, a: h["layers"][0].__setitem__("class", "Dense3D"),
                        "unknown layer class"),
        "layer config": (lambda h, a: h["layers"][0]["config"].__setitem__("n_in", -2),
                         "n_in"),
        "shape": (lambda h, a: a.__setitem__("0.params.W", np.zeros((3, 8))), "shape"),
        "missing": (lambda h, a: a.pop("2.params.b"), "missing"),
        "extra": (lambda h, a: a.__setitem__("9.params.W", np.zeros(1)), "unexpected"),
        "ints": (lambda h, a: a.__setitem__("0.params.W", np.zeros((2, 8), int)), "floats"),
        "float16": (lambda h, a: a.__setitem__("0.params.W", np.zeros((2, 8), np.float16)),
                    "float32 or float64"),
        "nan": (lambda h, a: a.__setitem__("0.params.W", np.full((2, 8), np.nan)), "NaN"),
    }
    for name, (edit, fragment) in edits.items():
        cases[name] = (rewrite(good, tmp_path / f"{name}.npz", edit), fragment)
    for case in cases.values():
        path, fragment = case if isinstance(case, tuple) else (case, "model file")
        with pytest.raises(ValueError, match=fragment):
            nl.load_model(path)
    with pytest.raises(ValueError, match="no model file") as info:
        nl.load_model(tmp_path / "absent.npz")
    assert isinstance(info.value, FileNotFoundError)


def test_a_file_that_is_no_zip_is_closed_after_the_error(tmp_path):
    good = mlp().save(tmp_path / "good")
    truncated = tmp_path / "truncated.npz"
    with open(good, "rb") as file:
        truncated.write_bytes(file.read()[:100])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="not a readable"):
            nl.load_model(truncated)
        gc.collect()   # an unclosed file warns when it is collected
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


def test_save_refuses_non_finite_arrays_that_load_would_refuse(tmp_path):
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.layers[0].params["W"][0, 0] = np.inf
    with pytest.raises(ValueError, match=r"0\.params\.W hold NaN or infinite values"):
        model.save(tmp_path / "broken")
    assert not list(tmp_path.iterdir())


def test_a_loaded_model_knows_the_shape_of_the_samples_its_original_ran_on(tmp_path, capsys):
    model, _ = trained_conv_model()
    model.summary()
    table = capsys.readouterr().out
    loaded = nl.load_model(model.save(tmp_path / "conv"))
    loaded.summary()   # a conv model's summary needs input_shape unless the model ran
    assert capsys.readouterr().out == table
    assert "(None, 3, 6, 6)" in table


def test_a_model_that_never_ran_is_saved_without_an_input_shape(tmp_path):
    model = nl.Sequential([nl.Conv2D(1, 2, 3, rng=0), nl.Flatten()])
    path = model.save(tmp_path / "fresh")
    with np.load(path) as arrays:
        assert json.loads(str(arrays["__nnlab__"]))["input_shape"] is None
    loaded = nl.load_model(path)
    with pytest.raises(ValueError, match="summary needs the shape of one input sample"):
        loaded.summary()
    loaded.summary(input_shape=(1, 5, 5))
