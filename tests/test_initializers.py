import re

import numpy as np
import pytest

import nnlab as nl
from nnlab import initializers as I


def test_names_are_the_contract():
    assert set(I.NAMES) == {"zeros", "normal", "scaled_normal", "uniform", "glorot_uniform",
                            "glorot_normal", "he_normal", "he_uniform"}


def test_fans_dense_and_conv():
    assert I.fans((3, 5)) == (3, 5)
    assert I.fans((16, 3, 3, 3)) == (27, 144)
    assert I.fans((8, 4, 6)) == (24, 48)


SHAPE = (400, 300)
EXPECTED_STD = {
    "normal": 1.0,
    "scaled_normal": 1 / np.sqrt(400),
    "uniform": 0.05 / np.sqrt(3),
    "glorot_uniform": np.sqrt(2 / 700),
    "glorot_normal": np.sqrt(2 / 700),
    "he_normal": np.sqrt(2 / 400),
    "he_uniform": np.sqrt(2 / 400),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_STD))
def test_statistics(name):
    W = I.get(name)(SHAPE, rng=0)
    assert W.shape == SHAPE and W.dtype == np.float64
    assert abs(W.mean()) < 0.02 * EXPECTED_STD[name] * 10
    assert W.std() == pytest.approx(EXPECTED_STD[name], rel=0.02)


@pytest.mark.parametrize("name,limit", [("uniform", 0.05), ("glorot_uniform", np.sqrt(6 / 700)),
                                        ("he_uniform", np.sqrt(6 / 400))])
def test_uniform_limits(name, limit):
    W = I.get(name)(SHAPE, rng=1)
    assert W.max() <= limit and W.min() >= -limit
    assert W.max() > 0.99 * limit


def test_zeros_dtype_and_seed_reproducibility():
    assert not I.zeros((2, 3)).any()
    a = I.he_normal((5, 4), rng=3, dtype="float32")
    b = I.he_normal((5, 4), rng=np.random.default_rng(3), dtype="float32")
    assert a.dtype == np.float32 and np.array_equal(a, b)
    assert not np.array_equal(a, I.he_normal((5, 4), rng=4, dtype="float32"))


def test_bad_shapes_and_names():
    with pytest.raises(ValueError, match="positive integers"):
        I.normal((3, 0))
    with pytest.raises(ValueError, match="valid names are"):
        I.get("kaiming")
    custom = lambda shape, rng=None, dtype="float64": np.ones(shape, dtype)  # noqa: E731
    assert I.get(custom) is custom


def test_keras_names_for_the_same_distributions():
    # Keras' LecunNormal has the variance 1/fan_in of scaled_normal; RandomUniform is uniform.
    assert I.get("lecun_normal") is I.scaled_normal is I.get("LecunNormal")
    assert I.get("random_uniform") is I.uniform
    W = nl.Dense(400, 300, init="lecun_normal", rng=0).params["W"]
    assert W.std() == pytest.approx(1 / np.sqrt(400), rel=0.02)
    assert "lecun_normal" not in I.NAMES   # the chapters' tables keep one row per scheme


def test_dtypes_and_limits_are_checked():
    # An integer dtype rounded every weight to 0; an infinite limit overflowed.
    for init in (nl.initializers.glorot_uniform, nl.initializers.zeros):
        with pytest.raises(ValueError, match="dtype must be float32 or float64; got 'int32'"):
            init((3, 3), dtype="int32")
    with pytest.raises(ValueError, match="uniform limit must be finite"):
        nl.initializers.uniform((2, 2), limit=np.inf)


@pytest.mark.parametrize("result, got", [
    (lambda shape, dtype: np.zeros((2, 2), dtype), "float64 array of shape (2, 2)"),
    (lambda shape, dtype: np.zeros(shape).tolist(), "list"),
    (lambda shape, dtype: np.zeros(shape, int), "int64 array of shape (2, 3)"),
])
def test_a_callable_init_must_return_the_layers_array(result, got):
    def mine(shape, rng=None, dtype="float64"):
        return result(shape, dtype)

    with pytest.raises(ValueError, match=re.escape(f"Dense(2, 3): init 'mine' returned a {got}; "
                                                   "the layer needs a float64 array of shape "
                                                   "(2, 3)")):
        nl.Dense(2, 3, init=mine)
    with pytest.raises(ValueError, match="Conv2D: init 'mine'"):
        nl.Conv2D(1, 2, 3, init=mine)


def test_the_usual_initializer_for_each_activation():
    chosen = {name: I.suited_to(name) for name in nl.activations.NAMES}
    assert {name for name, init in chosen.items() if init == "he_normal"} == {
        "relu", "leaky_relu", "elu", "relu6"}
    assert set(chosen.values()) <= set(I.NAMES)
