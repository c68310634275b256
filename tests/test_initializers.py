import re
import warnings

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


@pytest.mark.parametrize("shape", [(2, True), (False, 3), True])
def test_a_bool_is_not_a_dimension(shape):
    # True is an int to Python: zeros((2, True)) had shape (2, 1).
    for make in (I.zeros, I.ones, I.he_normal, I.fans):
        with pytest.raises(ValueError, match="positive integers; got"):
            make(shape)


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
    assert chosen["selu"] == "scaled_normal"   # Keras's lecun_normal, as SELU's paper needs
    assert set(chosen.values()) <= set(I.NAMES)


def test_keras_other_initializers_by_name():
    assert set(I.KERAS_NAMES) == {"lecun_normal", "random_uniform", "ones", "random_normal",
                                  "truncated_normal", "lecun_uniform", "orthogonal",
                                  "constant", "identity", "variance_scaling", "one", "zero",
                                  "identity_initializer", "orthogonal_initializer"}
    assert not set(I.KERAS_NAMES) & set(I.NAMES)
    for name in I.KERAS_NAMES:
        W = nl.Dense(40, 30, init=name, rng=0, dtype="float32").params["W"]
        assert W.shape == (40, 30) and W.dtype == np.float32
    assert (I.get("ones")((2, 3)) == 1).all()


def test_random_normal_and_truncated_normal_are_keras_small_normals():
    W = I.random_normal(SHAPE, rng=0)
    assert W.std() == pytest.approx(0.05, rel=0.02) and abs(W).max() > 0.1
    T = I.truncated_normal(SHAPE, rng=0)
    # Nothing beyond two standard deviations, and the truncated normal's own spread:
    # std * sqrt(1 - 2 * 2 phi(2) / (2 Phi(2) - 1)) = 0.8796 std.
    assert abs(T).max() <= 0.1
    assert T.std() == pytest.approx(0.05 * 0.8796, rel=0.02)
    assert np.array_equal(T, I.truncated_normal(SHAPE, rng=0))
    with pytest.raises(ValueError, match="truncated_normal std"):
        I.truncated_normal((2, 2), std=0)


def test_lecun_uniform_has_the_variance_of_lecun_normal():
    W = I.lecun_uniform(SHAPE, rng=0)
    assert W.max() <= np.sqrt(3 / 400) and W.min() >= -np.sqrt(3 / 400)
    assert W.std() == pytest.approx(1 / np.sqrt(400), rel=0.02)


@pytest.mark.parametrize("shape", [(50, 20), (20, 50), (7, 7)])
def test_orthogonal_dense_weights(shape):
    W = I.orthogonal(shape, rng=0)
    gram = W.T @ W if shape[0] >= shape[1] else W @ W.T
    np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-12)
    x = np.random.default_rng(1).normal(size=shape[0])
    if shape[0] <= shape[1]:   # rows orthonormal: the layer keeps every input's length
        assert np.linalg.norm(x @ W) == pytest.approx(np.linalg.norm(x))


def test_orthogonal_kernels_are_orthogonal_per_output_channel():
    W = I.orthogonal((16, 3, 3, 3), rng=0)          # 27 inputs into each of 16 channels
    flat = W.reshape(16, 27)
    np.testing.assert_allclose(flat @ flat.T, np.eye(16), atol=1e-12)
    W = I.orthogonal((32, 2, 2, 2), rng=0)          # 8 inputs, 32 channels: rows of 8
    flat = W.reshape(32, 8)
    np.testing.assert_allclose(flat.T @ flat, np.eye(8), atol=1e-12)
    with pytest.raises(ValueError, match="orthogonal weights need a matrix"):
        I.orthogonal((5,))


def test_orthogonal_draws_every_rotation_alike():
    # With the signs of R's diagonal folded in, Q is Haar-distributed: every entry of a
    # random 2x2 rotation or reflection has mean 0; plain QR's Q[0, 0] is mostly negative.
    draws = np.array([I.orthogonal((2, 2), rng=seed) for seed in range(4000)])
    assert abs(draws.mean(axis=0)).max() < 0.05


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("init, argument, reach", [(I.uniform, "limit", 2),
                                                   (I.random_normal, "std", I.NORMAL_REACH),
                                                   (I.truncated_normal, "std", 2)])
def test_a_spread_whose_draws_the_dtype_cannot_hold_is_refused(init, argument, reach, dtype):
    # uniform((3,), limit=1e39, dtype="float32") warned "overflow encountered in cast" and
    # returned inf. The largest spread allowed draws finite weights, in silence.
    most = float(np.finfo(dtype).max) / reach
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            W = init((1000,), rng=0, dtype=dtype, **{argument: most})
    assert W.dtype == dtype and np.all(np.isfinite(W))
    with pytest.raises(ValueError, match=re.escape(f"{init.__name__} {argument} must fit in "
                                                   f"{dtype} (at most {most:.3g} in size, ")):
        init((3,), rng=0, dtype=dtype, **{argument: most * 1.01})
    with pytest.raises(ValueError, match="uniform limit must fit in float32"):
        I.uniform((3,), rng=0, limit=1e39, dtype="float32")


@pytest.mark.parametrize("init", [lambda shape, dtype=None: np.ones(shape),
                                  lambda shape, rng: np.ones(shape)])
def test_an_init_of_ones_own_with_another_signature_is_named_with_the_one_it_needs(init):
    with pytest.raises(ValueError, match=r"Dense\(2, 3\): init '<lambda>' must take "
                                         r"\(shape, rng=None, dtype=\.\.\.\)"):
        nl.Dense(2, 3, init=init)
