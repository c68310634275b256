"""Layers of one's own in a model file: saved under their own names, loaded where their
class is defined, refused before writing where their configuration would not rebuild them."""

import numpy as np
import pytest

import nnlab as nl
from nnlab.layers import Layer
from nnlab.saving import ModelFileError


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


def test_a_layer_of_one_s_own_in_a_script_or_notebook_loads_under_its_main_name(tmp_path):
    # Its file name "__main__.Dense" began with "_", as the bases "_Conv" and "_Pool" do, and
    # loading refused the class as unknown.
    class Dense(Layer):
        __module__, __qualname__ = "__main__", "Dense"

        def forward(self, x, training=False):
            return x

    class _Twice(Dense):   # a name of one's own that begins with "_", as nnlab's bases do
        def forward(self, x, training=False):
            return 2 * x

    try:
        assert Dense.registry_name == "__main__.Dense"
        assert type(nl.load_model(nl.Sequential([Dense()]).save(tmp_path / "m")).layers[0]) \
            is Dense
        assert type(nl.load_model(nl.Sequential([_Twice()]).save(tmp_path / "t")).layers[0]) \
            is _Twice
    finally:
        del Layer.registry[Dense.registry_name], Layer.registry[_Twice.registry_name]
    with pytest.raises(ModelFileError, match=r"unknown layer class '__main__.Dense'; known: "
                                             r"Activation, .* \(a class of one's own is known "
                                             "once it is defined\\)"):
        nl.load_model(tmp_path / "m")


def test_a_layer_of_one_s_own_that_its_config_does_not_rebuild_is_not_saved(tmp_path):
    # Each was saved, and no session could load the file.
    class Scale(Layer):
        def __init__(self, n, factor=1.0):
            super().__init__()
            self.params["s"] = np.full(n, factor)

        def forward(self, x, training=False):
            return x * self.params["s"]

    class Configured(Scale):
        def get_config(self):
            return {"n": self.params["s"].size, "factor": np.sin}

    try:
        for layer, problem in ((Scale(3), r"TypeError: .*missing 1 required positional "
                                          r"argument: 'n'"),
                               (Configured(3), "TypeError: Object of type ufunc is not JSON "
                                               "serializable")):
            with pytest.raises(ValueError, match=r"cannot save the model: .*, a layer of one's "
                                                 rf"own, is not rebuilt from .*\({problem}\); "
                                                 "make get_config return"):
                nl.Sequential([nl.Residual(layer)]).save(tmp_path / "m")
        Configured.get_config = lambda self: {"n": 2}
        with pytest.raises(ValueError, match=r"its arrays \{'params.s': \(3,\)\} would come "
                                             r"back as \{'params.s': \(2,\)\}"):
            nl.Sequential([Configured(3)]).save(tmp_path / "m")
        Configured.from_config = classmethod(lambda cls, config: cls(config["size"]))
        with pytest.raises(ValueError, match=r"is not rebuilt .*\(KeyError: 'size'\)"):
            nl.Sequential([Configured(3)]).save(tmp_path / "m")
        assert not list(tmp_path.iterdir())
    finally:
        for cls in (Scale, Configured):
            del Layer.registry[cls.registry_name]


def test_checking_that_a_layer_of_one_s_own_rebuilds_draws_no_global_random_number(tmp_path):
    # Saving built the layer once more, and its constructor's draw moved the seeded stream.
    class Noisy(Layer):
        def __init__(self, n):
            super().__init__()
            self.params["w"] = np.random.randn(n)  # noqa: NPY002 (the legacy global stream)

        def forward(self, x, training=False):
            return x + self.params["w"]

        def get_config(self):
            return {"n": self.params["w"].size}

    try:
        np.random.seed(0)  # noqa: NPY002
        model = nl.Sequential([Noisy(2)])
        expected = np.random.rand()  # noqa: NPY002
        np.random.seed(0)  # noqa: NPY002
        model = nl.Sequential([Noisy(2)])
        model.save(tmp_path / "m")
        assert np.random.rand() == expected  # noqa: NPY002
    finally:
        del Layer.registry[Noisy.registry_name]
