"""Model files are data: every tampering with one is a ModelFileError (nnlab.saving).

The files below are what a fuzzer, or an attacker, might hand to ``load_model``: JSON
nested thousands deep, members that are no arrays, sizes that would allocate terabytes.
Each must fail with a message naming what was expected and what was found, before any
array it describes is allocated.
"""

import io
import json
import re
import struct
import warnings
import zipfile

import numpy as np
import pytest

import nnlab as nl
from nnlab.layers import Layer
from nnlab.saving import MAX_NESTING, ModelFileError, layer_arrays
from nnlab.training_state import NotSavedWarning
from tests.helpers import resumed_training


def small_model():
    model = nl.Sequential([nl.Dense(2, 3, rng=0), nl.BatchNorm(3), nl.Activation("relu"),
                           nl.Residual(nl.Dense(3, 3, rng=1)), nl.Dropout(0.1),
                           nl.Dense(3, 1, rng=2)])
    model.compile("mse", "adam", metrics=["mae"])
    return model


@pytest.fixture
def good(tmp_path):
    return small_model().save(tmp_path / "good")


def members(path):
    """The bytes of every member of a zip file, by name."""
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_zip(path, contents, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    return path


def npy(array):
    """``array`` as the bytes of a .npy file."""
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def npy_claiming(shape, data=b"\0" * 128):
    """A .npy file whose header declares float64 of ``shape``, followed by ``data``."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f8", "fortran_order": False, "shape": shape})
    return buffer.getvalue() + data


def header_of(path):
    return json.loads(members(path)["__nnlab__.npy"][128:].decode("utf-32-le").rstrip("\0"))


def with_header(good, target, header, **arrays):
    """A copy of the file ``good`` with ``header`` (an object, or JSON text) and ``arrays``
    (member name: bytes) in place of its own."""
    contents = members(good)
    text = header if isinstance(header, str) else json.dumps(header)
    contents["__nnlab__.npy"] = npy(np.array(text))
    contents.update({f"{key}.npy": data for key, data in arrays.items()})
    return write_zip(target, contents)


def edited(good, target, edit, **arrays):
    header = header_of(good)
    edit(header)
    return with_header(good, target, header, **arrays)


def set_directory_field(path, member, offset, fmt, value):
    """Overwrite a field of ``member``'s entry in the zip's central directory."""
    raw = bytearray(path.read_bytes())
    at = raw.find(b"PK\x01\x02")
    while raw[at + 46:at + 46 + len(member)] != member.encode():
        at = raw.find(b"PK\x01\x02", at + 1)
    struct.pack_into(fmt, raw, at + offset, *value)
    path.write_bytes(bytes(raw))
    return path


def loading_fails(path, fragment):
    with pytest.raises(ModelFileError, match=re.escape(fragment)):
        nl.load_model(path)


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


OPTIMIZERS = {"Adam": lambda: nl.optimizers.Adam(0.01),
              "AdamW": lambda: nl.optimizers.AdamW(0.01, weight_decay=0.1),
              "RMSprop": lambda: nl.optimizers.RMSprop(0.01),
              "AdaGrad": lambda: nl.optimizers.AdaGrad(0.1),
              "Nesterov": lambda: nl.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
              "SGD": lambda: nl.optimizers.SGD(0.1),
              "Adadelta": lambda: nl.optimizers.Adadelta(),
              "Adamax": lambda: nl.optimizers.Adamax(0.01),
              "NAdam": lambda: nl.optimizers.NAdam(0.01)}


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_training_resumed_after_loading_takes_the_steps_it_would_have_taken(
        tmp_path, optimizer, dtype):
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = (X[:, :1] * X[:, 1:] > 0).astype(float)
    model = nl.Sequential([nl.Dense(2, 4, rng=0, dtype=dtype), nl.BatchNorm(4, dtype=dtype),
                           nl.Activation("tanh"), nl.Dense(4, 1, rng=1, dtype=dtype)])
    model.compile(nl.losses.BinaryCrossEntropy(from_logits=True),
                  OPTIMIZERS[optimizer]())
    model.fit(X, y, epochs=3, batch_size=8, seed=0)
    loaded = nl.load_model(model.save(tmp_path / "paused"))
    assert loaded.optimizer.iterations == model.optimizer.iterations == 15
    for m in (model, loaded):
        m.fit(X, y, epochs=2, batch_size=8, seed=1)
    for ours, theirs in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
        assert theirs.dtype == dtype


def test_adamw_is_saved_and_loaded_as_adamw_with_its_decoupled_weight_decay(tmp_path):
    # An Adam with the same weight_decay would add it to the gradient: not the same steps.
    model = nl.Sequential([nl.Dense(2, 3, rng=0), nl.Activation("tanh"), nl.Dense(3, 1, rng=1)])
    model.compile("mse", nl.optimizers.AdamW(0.02, beta2=0.99, weight_decay=0.3, clipnorm=5.0))
    X = np.random.default_rng(0).normal(size=(8, 2))
    model.fit(X, X[:, :1] - X[:, 1:], epochs=2, batch_size=4, seed=0)
    path = model.save(tmp_path / "adamw")
    assert header_of(path)["compile"]["optimizer"] == {
        "name": "adamw", "iterations": 4,
        "config": {"lr": 0.02, "weight_decay": 0.3, "clipnorm": 5.0, "beta1": 0.9,
                   "beta2": 0.99, "eps": 1e-8}}
    loaded = nl.load_model(path)
    assert type(loaded.optimizer) is nl.optimizers.AdamW
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    for ours, theirs in zip(model.optimizer.state, loaded.optimizer.state, strict=True):
        for key in ("decayed_sum", "decayed_sum_sq"):
            np.testing.assert_array_equal(ours[key], theirs[key])


def test_nadam_saves_its_averages_alone_and_resumes_its_momentum_factors(tmp_path):
    # The running product mu_1 ... mu_t follows from the step count: not in the file, and
    # computed again after loading, so that the next steps are those the model would take.
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.compile("mse", nl.optimizers.NAdam(0.01, momentum_decay=0.5))
    X = np.random.default_rng(0).normal(size=(8, 2))
    model.fit(X, X[:, :1], epochs=3, batch_size=4, seed=0)
    path = model.save(tmp_path / "nadam")
    assert sorted(name for name in members(path) if name.startswith("optimizer.0.")) == [
        "optimizer.0.exp_avg.npy", "optimizer.0.exp_avg_sq.npy"]
    loaded = nl.load_model(path)
    for m in (model, loaded):
        m.fit(X, X[:, :1], epochs=2, batch_size=4, seed=1)
    np.testing.assert_array_equal(model.get_weights()[0], loaded.get_weights()[0])
    mu = [0.9 * (1 - 0.5 * 0.96 ** (t * 0.5)) for t in range(1, 11)]
    assert loaded.optimizer._mu_product(10) == pytest.approx(np.prod(mu), rel=1e-14)


def test_an_untrained_model_saves_no_optimizer_state(good):
    assert not [name for name in members(good) if name.startswith("optimizer.")]
    assert header_of(good)["compile"]["optimizer"]["iterations"] == 0
    loaded = nl.load_model(good)
    assert loaded.optimizer.iterations == 0 and loaded.optimizer.state is None


def trained(tmp_path):
    model = small_model()
    model.fit(np.ones((4, 2)), np.ones(4), epochs=1, batch_size=2, seed=0)
    return model


def test_a_negative_sum_of_squares_in_the_optimizer_state_is_refused(tmp_path):
    model = trained(tmp_path)
    model.optimizer.state[1]["decayed_sum_sq"][0] = -1.0
    loading_fails(model.save(tmp_path / "adam"), "array 'optimizer.1.decayed_sum_sq' holds "
                  "squares, variances or sizes; expected values >= 0; got a minimum of -1")


@pytest.mark.parametrize("iterations, fragment", [
    (-1, "compile.optimizer.iterations: expected a step count from 0 to 2**53; got -1"),
    ("2", "compile.optimizer.iterations: expected a step count from 0 to 2**53; got '2'"),
    (True, "compile.optimizer.iterations: expected a step count from 0 to 2**53; got True"),
    # Loaded, it failed the first fit with an OverflowError (beta ** t).
    pytest.param(10**400, "compile.optimizer.iterations: expected a step count from 0 to "
                 "2**53; got 1", id="10**400"),
    (0, "the arrays do not match the model: missing [], unexpected ['optimizer.0.decayed_sum'"),
])
def test_the_step_count_and_the_state_arrays_must_agree(tmp_path, iterations, fragment):
    path = trained(tmp_path).save(tmp_path / "trained")
    loading_fails(edited(path, tmp_path / "edited.npz",
                         lambda h: h["compile"]["optimizer"].update(iterations=iterations)),
                  fragment)


@pytest.mark.parametrize("option", ["clipnorm", "clipvalue", "global_clipnorm"])
def test_each_clipping_option_is_saved_and_loaded(tmp_path, option):
    _, path = resumed_training(lambda: nl.optimizers.Adam(0.01, **{option: 0.05}),
                               "float64", tmp_path)
    assert header_of(path)["compile"]["optimizer"]["config"][option] == 0.05


def as_version_1(header):
    """A version-2 header as version 1 wrote it: global clipping under "clipnorm"."""
    header["version"] = 1
    config = header["compile"]["optimizer"]["config"]
    if "global_clipnorm" in config:
        config["clipnorm"] = config.pop("global_clipnorm")


def test_a_version_1_file_s_clipnorm_is_read_as_global_clipnorm(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(16, 2)), rng.normal(size=(16, 1))
    model = nl.Sequential([nl.Dense(2, 3, rng=0), nl.Activation("tanh"), nl.Dense(3, 1, rng=1)])
    model.compile("mse", nl.optimizers.SGD(0.1, momentum=0.9, global_clipnorm=0.05))
    model.fit(X, y, epochs=1, batch_size=4, seed=0)
    path = model.save(tmp_path / "version_2")
    old = edited(path, tmp_path / "version_1.npz", as_version_1)
    assert header_of(old)["compile"]["optimizer"]["config"]["clipnorm"] == 0.05
    loaded = nl.load_model(old)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.optimizer.global_clipnorm == 0.05 and loaded.optimizer.clipnorm is None
    # Read as a version-2 file, the same header would clip each array alone: other steps.
    per_array = nl.load_model(edited(old, tmp_path / "as_2.npz",
                                     lambda h: h.update(version=2)))
    for m in (model, loaded, per_array):
        m.fit(X, y, epochs=2, batch_size=4, seed=1)
    for ours, theirs, other in zip(model.get_weights(), loaded.get_weights(),
                                   per_array.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
        assert not np.array_equal(ours, other)
    # Nothing else differs: a version-1 file without clipping loads as it was saved.
    unclipped = trained(tmp_path)
    loaded = nl.load_model(edited(unclipped.save(tmp_path / "adam"), tmp_path / "adam_1.npz",
                                  as_version_1))
    assert loaded.optimizer.get_config() == unclipped.optimizer.get_config()
    for ours, theirs in zip(unclipped.optimizer.state, loaded.optimizer.state, strict=True):
        np.testing.assert_array_equal(ours["decayed_sum"], theirs["decayed_sum"])


def test_a_version_1_file_with_both_clipnorms_is_refused(good, tmp_path):
    def both(header):
        header["version"] = 1
        header["compile"]["optimizer"]["config"].update(clipnorm=1.0, global_clipnorm=2.0)

    loading_fails(edited(good, tmp_path / "both.npz", both),
                  "set at most one of clipnorm, clipvalue and global_clipnorm; got "
                  "clipnorm=1.0, global_clipnorm=2.0")


@pytest.mark.parametrize("version", [0, 3, True, 1.0, "2", None])
def test_another_format_version_is_refused_naming_those_read(good, tmp_path, version):
    loading_fails(edited(good, tmp_path / "other.npz", lambda h: h.update(version=version)),
                  f"has model format version {version!r}; this nnlab reads versions 1 and 2")


def test_a_file_without_a_step_count_loads_an_optimizer_that_starts_afresh(good, tmp_path):
    # Files written before the optimizer's state was saved have no "iterations".
    loaded = nl.load_model(edited(good, tmp_path / "old.npz",
                                  lambda h: h["compile"]["optimizer"].pop("iterations")))
    assert loaded.optimizer.iterations == 0


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
], ids=["layers not a list", "no layers", "layer not an object", "config not an object",
        "class not a string", "private class", "unknown key", "wrong type", "block layers",
        "no compile", "compile not an object", "unknown loss", "huber delta",
        "optimizer config",
        "metric not a string", "unknown metric"])
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
        Layer.registry.pop("Scaled")  # a test double, not a layer a model file may name
    assert header["layers"][4]["config"] == {"factor": 0.5, "repeats": 3, "flag": True}
    assert [type(v) for v in header["layers"][4]["config"].values()] == [float, int, bool]
    assert loaded.layers[1].rate == 0.5 and loaded.layers[2].momentum == float(np.float32(0.8))
    assert loaded.optimizer.momentum == float(np.float32(0.9))
    X = np.random.default_rng(0).normal(size=(5, 2))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


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


SCHEDULES = {"step_decay": nl.schedules.step_decay(0.05, 0.5, 4),
             "exponential_decay": nl.schedules.exponential_decay(0.05, 0.5, 3)}


@pytest.mark.parametrize("schedule", SCHEDULES.values(), ids=SCHEDULES.keys())
@pytest.mark.parametrize("optimizer", ["SGD", "Adam", "ASGD"])
def test_a_schedule_of_nnlab_is_saved_and_training_goes_on_at_its_rates(
        tmp_path, schedule, optimizer):
    # The file kept the rate the schedule gave when saved: the loaded optimizer went on at
    # that constant rate where the original decayed (resumed_training's steps 6 to 11 pass
    # the drops at steps 8 and 9), in silence.
    with warnings.catch_warnings():
        warnings.simplefilter("error", NotSavedWarning)
        _, path = resumed_training(lambda: getattr(nl.optimizers, optimizer)(schedule),
                                   "float64", tmp_path)
    saved = header_of(path)["compile"]["optimizer"]
    assert saved["config"]["lr"] == {"class": type(schedule).__name__,
                                     "config": schedule.get_config()}
    loaded = nl.load_model(path)
    assert type(loaded.optimizer.lr) is type(schedule)
    assert loaded.optimizer.lr.get_config() == schedule.get_config()
    assert loaded.optimizer.iterations == saved["iterations"] == 6
    assert loaded.optimizer.current_lr() == schedule(6)
    assert [loaded.optimizer.lr(i) for i in range(100)] == [schedule(i) for i in range(100)]


def test_a_schedule_of_numpy_numbers_is_saved_as_python_numbers(tmp_path):
    schedule = nl.schedules.exponential_decay(np.float32(0.1), np.float64(0.5), np.int64(10))
    assert schedule.get_config() == {"lr0": float(np.float32(0.1)), "rate": 0.5, "steps": 10}
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.compile("mse", nl.optimizers.SGD(schedule))
    loaded = nl.load_model(model.save(tmp_path / "m"))
    assert [loaded.optimizer.lr(i) for i in (0, 7, 10)] == [schedule(i) for i in (0, 7, 10)]


def test_a_schedule_of_one_s_own_is_saved_as_its_rate_with_a_warning(tmp_path):
    # The schedule was left out and the loaded optimizer took the default rate, in silence;
    # then it was saved as the rate it gave, still in silence.
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.compile("mse", nl.optimizers.SGD(lambda it: 0.4 * 0.5 ** (it // 2)))
    model.fit(np.ones((4, 2)), np.ones(4), epochs=3, batch_size=2, seed=0)   # 6 steps
    with pytest.warns(NotSavedWarning, match=r"schedule <function .*<lambda> at .*> is saved "
                      r"as the rate it gives at step 6, 0\.05: a model file keeps only the "
                      r"schedules of nnlab\.schedules .* set model\.optimizer\.lr to it "
                      r"again") as caught:
        loaded = nl.load_model(model.save(tmp_path / "m"))
    assert caught[0].filename == __file__   # the line that saved, not one inside nnlab
    assert loaded.optimizer.lr == model.optimizer.current_lr() == 0.4 * 0.5**3

    class Slower(nl.schedules.StepDecay):   # a subclass of one's own: a file cannot rebuild it
        def __call__(self, iteration):
            return super().__call__(iteration) / 2

    model.compile("mse", nl.optimizers.SGD(Slower(0.4, 0.5, 2)))
    with pytest.warns(NotSavedWarning, match=r"Slower\(lr0=0\.4, factor=0\.5, every=2\) is "
                                             r"saved as the rate it gives at step 0, 0\.2"):
        assert nl.load_model(model.save(tmp_path / "m")).optimizer.lr == 0.2


@pytest.mark.parametrize("lr,fragment", [
    ({"class": "CosineDecay", "config": {}},
     "unknown schedule 'CosineDecay'; known: ExponentialDecay, StepDecay"),
    ({"class": "StepDecay", "config": {"lr0": 0.1, "factor": 2.0, "every": 4}},
     "factor must be in (0, 1]; got 2.0"),
    ({"class": "StepDecay", "config": {"lr0": 0.1, "factor": 0.5}},
     "missing 1 required positional argument: 'every'"),
    ({"class": "StepDecay", "config": {"lr0": 0.1, "factor": 0.5, "every": 4, "x": 1}},
     "unexpected keyword argument 'x'"),
    ({"class": "StepDecay"}, "expected a schedule as {'class': <name>, 'config': {...}}; got"),
    ({"class": ["StepDecay"], "config": {}}, "unknown schedule ['StepDecay']"),
], ids=["unknown class", "bad value", "missing argument", "unknown argument", "no config",
        "class not a string"])
def test_a_tampered_schedule_is_refused_naming_what_is_wrong(tmp_path, lr, fragment):
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.compile("mse", nl.optimizers.Adam(nl.schedules.step_decay(0.1, 0.5, 4)))
    path = model.save(tmp_path / "m")
    tampered = edited(path, tmp_path / "tampered.npz",
                      lambda h: h["compile"]["optimizer"]["config"].update(lr=lr))
    loading_fails(tampered, "compile.optimizer: cannot build 'adam' from the config")
    loading_fails(tampered, fragment)


def test_a_schedule_at_a_rate_of_0_is_saved_and_loaded_at_that_rate(tmp_path):
    # A warm-up from 0 wrote a file that load_model refused: no optimizer takes lr=0.
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.compile(loss="mse",
                  optimizer=nl.optimizers.Adam(lr=lambda it: 0.01 * min(1.0, it / 100)))
    with pytest.warns(NotSavedWarning, match="at step 0, 0: a model file keeps only"):
        loaded = nl.load_model(model.save(tmp_path / "warm-up"))
    assert header_of(tmp_path / "warm-up.npz")["compile"]["optimizer"]["config"]["lr"] == 0.0
    assert type(loaded.optimizer) is nl.optimizers.Adam
    assert loaded.optimizer.current_lr() == 0.0
    assert loaded.optimizer.get_config() == {**model.optimizer.get_config(), "lr": None}
    weights = loaded.get_weights()
    loaded.fit(np.ones((4, 2)), np.ones(4), epochs=1)   # steps of rate 0
    assert all(np.array_equal(a, b) for a, b in zip(weights, loaded.get_weights(), strict=True))
    with pytest.warns(NotSavedWarning, match="at step 1, 0: a model file keeps only"):
        again = nl.load_model(loaded.save(tmp_path / "again"))
    assert again.optimizer.current_lr() == 0.0 and again.optimizer.iterations == 1
    loaded.optimizer.lr = 0.01   # the user's rate from here on
    loaded.fit(np.ones((4, 2)), np.ones(4), epochs=1)
    assert not np.array_equal(weights[0], loaded.get_weights()[0])


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
    for absent, tried in (("m", ["m.npz", "m"]), ("m.npz", ["m.npz"])):
        with pytest.raises(FileNotFoundError) as info:
            nl.load_model(tmp_path / absent)
        assert isinstance(info.value, ModelFileError)
        assert str(info.value) == "no model file at " + " or ".join(
            repr(str(tmp_path / name)) for name in tried)


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
             "OverflowError")]:
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


def test_a_users_layer_named_like_one_of_nnlabs_does_not_replace_it(tmp_path):
    path = nl.Sequential([nl.Dense(2, 1, rng=0)]).save(tmp_path / "m")

    class Dense(Layer):   # a student's own layer, in a notebook
        def __init__(self, n_in, n_out):
            super().__init__()

        def forward(self, x, training=False):
            return x

        def get_config(self):
            return {}

        @classmethod
        def from_config(cls, config):
            return cls(1, 1)

    try:
        assert Dense.registry_name == f"{__name__}.{Dense.__qualname__}"
        assert Layer.registry["Dense"] is nl.Dense
        assert type(nl.load_model(path).layers[0]) is nl.Dense
        mine = nl.Sequential([Dense(2, 2)]).save(tmp_path / "mine")
        assert type(nl.load_model(mine).layers[0]) is Dense
    finally:
        del Layer.registry[Dense.registry_name]


def test_a_step_count_just_beyond_2_to_the_53_is_refused(tmp_path):
    # Above 2**53, float64 no longer holds every integer: beta ** t is off.
    path = trained(tmp_path).save(tmp_path / "trained")
    loading_fails(edited(path, tmp_path / "edited.npz",
                         lambda h: h["compile"]["optimizer"].update(iterations=2**53 + 1)),
                  "expected a step count from 0 to 2**53; got 9007199254740993")
