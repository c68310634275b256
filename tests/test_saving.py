"""Model files are data: every tampering with one is a ModelFileError (nnlab.saving), raised
before any array it describes is allocated: JSON nested thousands deep, members that are
no arrays, sizes that would allocate terabytes, a header naming what cannot be built."""

import io
import json
import zipfile

import numpy as np
import pytest

import nnlab as nl
from nnlab.layers import Layer
from nnlab.saving import MAX_NESTING, layer_arrays
from tests.saving_cases import (
    edited,
    header_of,
    loading_fails,
    members,
    npy,
    set_directory_field,
    small_model,
    with_header,
    write_zip,
)
from tests.saving_cases import good as good  # a fixture: the alias keeps it imported


def npy_claiming(shape, data=b"\0" * 128):
    """A .npy file whose header declares float64 of ``shape``, followed by ``data``."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f8", "fortran_order": False, "shape": shape})
    return buffer.getvalue() + data


# --- JSON nesting, .npy members and the zip directory ---------------------------------


def test_json_nested_too_deep_to_parse(good, tmp_path):
    blocks = ('{"class": "Residual", "config": {"layers": [' * 3000
              + '{"class": "Activation", "config": {"name": "relu"}}' + "]}}" * 3000)
    header = json.dumps(header_of(good)).replace('"layers": [', f'"layers": [{blocks}, ')
    loading_fails(with_header(good, tmp_path / "blocks.npz", header),
                  "header is no JSON that can be read: maximum recursion depth exceeded")
    loading_fails(with_header(good, tmp_path / "brackets.npz", "[" * 100000),
                  "header is no JSON that can be read")


def test_residual_blocks_nest_at_most_max_nesting(tmp_path):
    def nested(depth):
        layer = nl.Dense(3, 3, rng=0)
        for _ in range(depth):
            layer = nl.Residual(layer)
        return nl.Sequential([layer])

    model = nested(MAX_NESTING)
    X = np.random.default_rng(0).normal(size=(4, 3))
    np.testing.assert_array_equal(nl.load_model(model.save(tmp_path / "deep")).predict(X),
                                  model.predict(X))
    loading_fails(nested(MAX_NESTING + 1).save(tmp_path / "deeper"),
                  f"Residual blocks nest deeper than {MAX_NESTING}")


def test_a_member_that_is_no_npy_array_is_named(good, tmp_path):
    text = json.dumps(header_of(good))
    contents = members(good)
    header_as_text = {**contents, "__nnlab__": text.encode()}
    del header_as_text["__nnlab__.npy"]
    loading_fails(write_zip(tmp_path / "header.npz", header_as_text),
                  "member '__nnlab__' of the model file is not a .npy array")
    weights_as_bytes = {**contents, "0.params.W": contents.pop("0.params.W.npy")[128:]}
    loading_fails(write_zip(tmp_path / "weights.npz", weights_as_bytes),
                  "member '0.params.W' of the model file is not a .npy array")
    loading_fails(with_header(good, tmp_path / "junk.npz", text, **{"0.params.W": b"junk"}),
                  "member '0.params.W.npy' of the model file is not a valid .npy array")


def test_an_npy_member_of_another_format_version_or_a_header_of_numbers_is_named(good,
                                                                                 tmp_path):
    version_3 = bytearray(members(good)["0.params.W.npy"])
    version_3[6] = 3     # the major version byte, after the magic string
    loading_fails(with_header(good, tmp_path / "v3.npz", json.dumps(header_of(good)),
                              **{"0.params.W": bytes(version_3)}),
                  "is not a valid .npy array: expected .npy format version 1.0 or 2.0; "
                  "got (3, 0)")
    loading_fails(write_zip(tmp_path / "numbers.npz",
                            {**members(good), "__nnlab__.npy": npy(np.zeros(3))}),
                  "expected its __nnlab__ header to be a 0-d unicode array (JSON text); "
                  "got float64 of shape (3,)")


def test_a_member_cannot_declare_more_data_than_it_holds(good, tmp_path):
    # Read as declared, the first would allocate 800 GB; the second, whose layer
    # configuration agrees with it, 800 GB as soon as the layer is built.
    loading_fails(with_header(good, tmp_path / "huge.npz", json.dumps(header_of(good)),
                              **{"0.params.W": npy_claiming((10**11,))}),
                  "'0.params.W.npy' of the model file declares float64 of shape "
                  "(100000000000,), 800000000000 bytes; it holds 128 bytes")
    loading_fails(edited(good, tmp_path / "agreeing.npz",
                         lambda h: h["layers"][0]["config"].update(n_in=10**6, n_out=10**5),
                         **{"0.params.W": npy_claiming((10**6, 10**5))}),
                  "declares float64 of shape (1000000, 100000)")


def test_the_zip_directory_and_member_headers_are_checked(good, tmp_path):
    raw = members(good)
    lying = set_directory_field(write_zip(tmp_path / "lying.npz", raw), "0.params.W.npy",
                                20, "<II", (2**31, 2**31))  # compressed and full sizes
    loading_fails(lying, "claims 2147483648 bytes (2147483648 compressed)")
    deflated = write_zip(tmp_path / "bomb.npz", raw, zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(deflated) as archive:
        stored = archive.getinfo("0.params.W.npy").compress_size
    set_directory_field(deflated, "0.params.W.npy", 24, "<I", (2**31,))  # the full size
    loading_fails(deflated, f"claims 2147483648 bytes ({stored} compressed)")
    encrypted = set_directory_field(write_zip(tmp_path / "encrypted.npz", raw),
                                    "0.params.W.npy", 8, "<H", (1,))  # flag bit 0
    loading_fails(encrypted, "is encrypted or compressed with method 0")
    loading_fails(write_zip(tmp_path / "bzip2.npz", raw, zipfile.ZIP_BZIP2),
                  "compressed with method 12; expected a plain or deflated member")
    newer = set_directory_field(write_zip(tmp_path / "newer.npz", raw), "0.params.W.npy",
                                6, "<H", (99,))  # the zip version needed to extract it
    loading_fails(newer, "not a readable nnlab model file (.npz): zip file version 9.9")
    broken = npy(np.zeros((2, 3))).replace(b"(2, 3), }", b"(2, 3,\n ")
    loading_fails(with_header(good, tmp_path / "token.npz", json.dumps(header_of(good)),
                              **{"0.params.W": broken}),
                  "'0.params.W.npy' of the model file is not a valid .npy array")
    # Deflated members, as numpy.savez_compressed writes them, are read.
    model = nl.load_model(write_zip(tmp_path / "deflated.npz", raw, zipfile.ZIP_DEFLATED))
    assert [type(layer) for layer in model.layers] == [type(layer)
                                                       for layer in small_model().layers]


# --- shapes and values checked before any layer is built ------------------------------


@pytest.mark.parametrize("edit, fragment", [
    (lambda h: h["layers"][0]["config"].update(n_in=10**7, n_out=10**7),
     "layers[0] (Dense) would allocate array '0.params.W' of shape (10000000, 10000000); "
     "the file holds shape (2, 3)"),
    (lambda h: h["layers"][1]["config"].update(n_features=10**12),
     "layers[1] (BatchNorm) would allocate array '1.params.gamma' of shape "
     "(1000000000000,); the file holds shape (3,)"),
    (lambda h: h["layers"][3]["config"]["layers"][0]["config"].update(n_out=10**13),
     "layers[3] (Residual) would allocate array '3.params.0.W' of shape (3, 10000000000000)"),
    (lambda h: h["layers"].insert(0, {"class": "Conv1D", "config": {
        "in_channels": 10**6, "out_channels": 10**6, "kernel_size": 10**6}}),
     "layers[0] (Conv1D) would allocate array '0.params.W' of shape (1000000, 1000000, "
     "1000000); the file holds shape (2, 3)"),
], ids=["Dense", "BatchNorm", "inside Residual", "Conv1D"])
def test_a_layer_is_compared_with_the_file_before_it_is_built(good, tmp_path, edit, fragment):
    loading_fails(edited(good, tmp_path / "big.npz", edit), fragment)


@pytest.mark.parametrize("layer", [
    nl.Dense(3, 5), nl.Conv1D(2, 4, 3), nl.Conv2D(2, 4, (3, 2)), nl.BatchNorm(6),
    nl.Activation("relu"), nl.Dropout(0.5), nl.Flatten(), nl.MaxPool2D(2), nl.AvgPool2D(2),
    nl.MaxPool1D(2), nl.GlobalMaxPool1D()], ids=repr)
def test_each_layer_says_the_shapes_it_allocates_before_it_does(layer):
    arrays = {key: a.shape for key, a in layer_arrays(layer).items()}
    assert type(layer).array_shapes(json.loads(json.dumps(layer.get_config()))) == arrays


class Scaled(Layer):
    """A layer defined outside nnlab that says what it allocates."""

    def __init__(self, n):
        super().__init__()
        self.n = n
        self.params = {"s": np.ones(n)}

    def forward(self, x, training=False):
        return x * self.params["s"]

    @classmethod
    def array_shapes(cls, config):
        return {"params.s": (config.get("n"),)}

    def get_config(self):
        return {"n": self.n}


def test_a_layer_of_ones_own_is_compared_before_it_is_built_too(tmp_path):
    path = nl.Sequential([Scaled(3)]).save(tmp_path / "own")
    assert nl.load_model(path).layers[0].n == 3
    loading_fails(edited(path, tmp_path / "big.npz",
                         lambda h: h["layers"][0]["config"].update(n=10**12)),
                  "layers[0] (Scaled) would allocate array '0.params.s' of shape "
                  "(1000000000000,); the file holds shape (3,)")
    Layer.registry.pop("Scaled")   # a test double: no other test's file may name it


def test_a_value_beyond_the_models_dtype_is_refused_not_loaded_as_inf(good, tmp_path):
    path = small_model().astype("float32").save(tmp_path / "float32")
    W = np.array([[1e39, 1.0, 1.0], [1.0, 1.0, 1.0]])   # finite in float64, not in float32
    loading_fails(with_header(path, tmp_path / "big.npz", header_of(path),
                              **{"0.params.W": npy(W)}),
                  "array '0.params.W' holds 1 value(s) beyond float32's range")


def test_a_negative_running_variance_is_refused(tmp_path):
    model = nl.Sequential([nl.Dense(2, 3, rng=0), nl.BatchNorm(3)])
    model.layers[1].buffers["running_var"][1] = -0.5
    loading_fails(model.save(tmp_path / "bn"), "array '1.buffers.running_var' holds "
                  "squares, variances or sizes; expected values >= 0; got a minimum of -0.5")


# --- the JSON header ------------------------------------------------------------------


@pytest.mark.parametrize("version", [0, 3, True, 1.0, "2", None])
def test_another_format_version_is_refused_naming_those_read(good, tmp_path, version):
    newer = " (a newer nnlab wrote it)" if version == 3 else ""
    loading_fails(edited(good, tmp_path / "other.npz", lambda h: h.update(version=version)),
                  f"has model format version {version!r}{newer}; this nnlab reads versions 1 "
                  "and 2")


@pytest.mark.parametrize("edit, fragment", [
    (lambda h: h.update(layers="Dense"), "header.layers: expected a JSON array; got 'Dense'"),
    (lambda h: h.pop("layers"), "header: expected a JSON array under 'layers'; found no "
                                "'layers'"),
    (lambda h: h["layers"].__setitem__(0, "Dense"),
     "layers[0]: expected a layer, a JSON object with a class and a config; got 'Dense'"),
    (lambda h: h["layers"][0].update(config="x"),
     "layers[0].config: expected a JSON object; got 'x'"),
    (lambda h: h["layers"][0].update({"class": 3}), "layers[0].class: expected a string; got 3"),
    (lambda h: h["layers"][2].update({"class": "_Pool"}), "layers[2]: unknown layer class "
                                                          "'_Pool'; known: Activation,"),
    (lambda h: h["layers"][0]["config"].update(bias=True),
     "layers[0] (Dense) cannot be built from its config {'bias': True, 'dtype': 'float64', "
     "'init': 'glorot_uniform', 'n_in': 2, ...}: Dense.__init__() got an unexpected keyword "
     "argument 'bias'"),
    (lambda h: h["layers"][0]["config"].update(n_out="3"),
     "layers[0] (Dense) cannot be built from its config {'dtype': 'float64', "
     "'init': 'glorot_uniform', 'n_in': 2, 'n_out': '3'}: Dense n_out must be an integer"),
    (lambda h: h["layers"][3]["config"].update(layers={"class": "Dense"}),
     "layers[3].config.layers: expected a JSON array; got {'class': 'Dense'}"),
    (lambda h: h.pop("compile"), "expected null or a JSON object under 'compile'"),
    (lambda h: h.update(compile="adam"), "header.compile: expected a JSON object; got 'adam'"),
    (lambda h: h["compile"]["loss"].update(name="focal"),
     "compile.loss: cannot build 'focal' from the config {}: unknown loss 'focal'"),
    (lambda h: h["compile"].update(loss={"name": "huber", "config": {"delta": -1}}),
     "compile.loss: cannot build 'huber' from the config {'delta': -1}: Huber delta must be "
     "in (0, inf); got -1"),
    (lambda h: h["compile"]["optimizer"].update(config=[0.1]),
     "compile.optimizer.config: expected a JSON object; got [0.1]"),
    (lambda h: h["compile"].update(metrics=[1]),
     "compile.metrics: expected metric names (strings); got [1]"),
    (lambda h: h["compile"].update(metrics=["f1"]), "compile.metrics: unknown metric 'f1'"),
    (lambda h: h.update(input_shape=[2, True]),
     "input_shape: expected null or a list of positive integers; got [2, True]"),
    (lambda h: h.update(input_shape=[0, 2]), "input_shape: expected null or a list of"),
    (lambda h: h.update(input_shape=[3]), "input_shape: Dense(n_in=2, n_out=3, "
                                          "dtype='float64', init='glorot_uniform') expected "
                                          "samples of shape (2,); got (3,)"),
], ids=["layers not a list", "no layers", "layer not an object", "config not an object",
        "class not a string", "private class", "unknown key", "wrong type", "block layers",
        "no compile", "compile not an object", "unknown loss", "huber delta",
        "optimizer config",
        "metric not a string", "unknown metric", "input shape of a bool", "input size 0",
        "input shape the model refuses"])
def test_a_tampered_header_names_what_is_wrong(good, tmp_path, edit, fragment):
    loading_fails(edited(good, tmp_path / "tampered.npz", edit), fragment)


def test_a_header_that_is_no_model_description(good, tmp_path):
    loading_fails(with_header(good, tmp_path / "list.npz", "[1]"),
                  "expected format 'nnlab.Sequential'; got [1]")
    digits = json.dumps(header_of(good)).replace('"n_in": 2', '"n_in": ' + "9" * 5000)
    loading_fails(with_header(good, tmp_path / "digits.npz", digits),
                  "header is no JSON that can be read: Exceeds the limit")
    pickled = io.BytesIO()
    np.save(pickled, np.array([{"format": "nnlab.Sequential"}]), allow_pickle=True)
    loading_fails(write_zip(tmp_path / "pickle.npz",
                            {**members(good), "__nnlab__.npy": pickled.getvalue()}),
                  "holds Python objects (pickled), never found in a model file")


def test_numpy_scalars_in_configs_are_saved_as_python_numbers(tmp_path):
    class ScaledNumbers(Layer):
        """Multiplies by ``factor``; keeps its hyper-parameters as they were given."""

        def __init__(self, factor, repeats, flag):
            super().__init__()
            self.factor, self.repeats, self.flag = factor, repeats, flag

        def forward(self, x, training=False):
            return x * self.factor

        def get_config(self):
            return {"factor": self.factor, "repeats": self.repeats, "flag": self.flag}

    try:
        model = nl.Sequential([
            nl.Dense(np.int64(2), np.int64(3), rng=0), nl.Dropout(np.float32(0.5)),
            nl.BatchNorm(3, momentum=np.float32(0.8), eps=np.float64(1e-3)),
            nl.Activation("leaky_relu", alpha=np.float32(0.2)),
            ScaledNumbers(np.float32(0.5), np.int64(3), np.bool_(True))])
        model.compile("mse", nl.optimizers.SGD(np.float32(0.1), momentum=np.float32(0.9)))
        loaded = nl.load_model(model.save(tmp_path / "numpy"))
        header = header_of(tmp_path / "numpy.npz")
    finally:
        Layer.registry.pop("ScaledNumbers")  # a test double, not a layer a file may name
    assert header["layers"][4]["config"] == {"factor": 0.5, "repeats": 3, "flag": True}
    assert [type(v) for v in header["layers"][4]["config"].values()] == [float, int, bool]
    assert loaded.layers[1].rate == 0.5 and loaded.layers[2].momentum == float(np.float32(0.8))
    assert loaded.optimizer.momentum == float(np.float32(0.9))
    X = np.random.default_rng(0).normal(size=(5, 2))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
