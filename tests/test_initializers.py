import numpy as np
import pytest

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
