"""Keras's constant, identity and variance-scaling initializers, and its aliases one and zero."""

import functools
import math
import re
import warnings

import numpy as np
import pytest

import nnlab as nl
from nnlab import initializers as I

#: Keras's spelling of each name (its class names too) and the function it means here.
KERAS = {"one": "ones", "One": "ones", "zero": "zeros", "Zero": "zeros",
         "constant": "constant", "Constant": "constant", "identity": "identity",
         "Identity": "identity", "IdentityInitializer": "identity",
         "OrthogonalInitializer": "orthogonal", "variance_scaling": "variance_scaling",
         "VarianceScaling": "variance_scaling"}


@pytest.mark.parametrize("name", KERAS)
def test_get_finds_each_keras_name(name):
    assert I.get(name).__name__ == KERAS[name]


def test_one_and_zero_are_ones_and_zeros():
    assert (nl.Dense(3, 2, init="one").params["W"] == 1).all()
    assert (nl.Dense(3, 2, init="Zero").params["W"] == 0).all()


def test_constant_is_zero_unless_given_a_value():
    assert np.array_equal(I.constant((2, 3)), np.zeros((2, 3)))
    W = nl.Dense(3, 2, init=functools.partial(I.constant, value=0.25), dtype="float32")
    assert W.params["W"].dtype == np.float32 and (W.params["W"] == 0.25).all()
    for bad in ("0.5", np.nan, [1.0, 2.0]):
        with pytest.raises(ValueError, match="constant value must be"):
            I.constant((2, 2), value=bad)


@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 3)])
def test_identity_is_exactly_the_identity_matrix(shape):
    assert np.array_equal(I.identity(shape), np.eye(*shape))
    assert np.array_equal(I.identity(shape, dtype="float32", gain=0.5),
                          0.5 * np.eye(*shape, dtype=np.float32))
    assert I.identity(shape, dtype="float32").dtype == np.float32


def test_an_identity_dense_layer_passes_its_input_through():
    x = np.random.default_rng(0).normal(size=(5, 4))
    assert np.array_equal(nl.Dense(4, 4, init="identity").forward(x), x)


@pytest.mark.parametrize("shape", [(4,), (8, 3, 3, 3), (2, 2, 2)])
def test_identity_refuses_what_is_no_matrix(shape):
    with pytest.raises(ValueError, match=r"identity weights need a matrix, a 2-D shape; "
                                         rf"got shape {re.escape(str(shape))}"):
        I.identity(shape)


def test_a_convolution_cannot_start_from_the_identity():
    with pytest.raises(ValueError, match="identity weights need a matrix"):
        nl.Conv2D(2, 3, 3, init="identity")
    with pytest.raises(ValueError, match="identity gain must be"):
        I.identity((2, 2), gain="1")


# Dense (n_in, n_out) and convolution (out, in, kh, kw) shapes, with their fans as Keras
# counts them for its (n_in, n_out) and (kh, kw, in, out): in * kh * kw and out * kh * kw.
SHAPES = {(400, 300): (400, 300), (64, 32, 3, 3): (32 * 9, 64 * 9), (20000,): (20000, 20000)}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform"])
def test_variance_scaling_has_the_variance_scale_over_n(shape, mode, distribution):
    fan_in, fan_out = SHAPES[shape]
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    std = math.sqrt(0.5 / n)
    W = I.variance_scaling(shape, rng=0, scale=0.5, mode=mode, distribution=distribution)
    assert W.shape == shape
    assert W.std() == pytest.approx(std, rel=0.02)
    assert abs(W.mean()) < 4 * std / math.sqrt(W.size)   # four standard errors
    # The bounds: two standard deviations of Keras's widened normal, or the uniform's limit.
    bound = {"truncated_normal": 2 * std / I.TRUNCATED_STD,
             "untruncated_normal": np.inf, "uniform": math.sqrt(3) * std}[distribution]
    assert abs(W).max() <= bound
    if distribution != "uniform":   # a normal's tails reach beyond a uniform's limit
        assert abs(W).max() > math.sqrt(3) * std


def test_variance_scaling_defaults_are_keras_s():
    # scale 1 over fan_in, truncated: the weights of lecun_normal, cut at +-2.27 / sqrt(n).
    W = I.variance_scaling((400, 300), rng=1)
    assert W.std() == pytest.approx(1 / 20, rel=0.02)
    assert abs(W).max() <= 2 / 20 / I.TRUNCATED_STD and abs(W).max() > 2 / 20
    # "normal" is Keras's other name for the truncated normal.
    assert np.array_equal(W, I.variance_scaling((400, 300), rng=1, distribution="normal"))


def test_truncated_std_is_that_of_a_standard_normal_cut_at_two():
    # The variance of N(0, 1) cut at +-2: 1 - 2 * 2 phi(2) / (2 Phi(2) - 1).
    pdf2 = math.exp(-2) / math.sqrt(2 * math.pi)
    variance = 1 - 4 * pdf2 / math.erf(2 / math.sqrt(2))
    assert abs(I.TRUNCATED_STD - math.sqrt(variance)) < 1e-15


def test_variance_scaling_is_he_and_glorot_with_their_arguments():
    he = I.variance_scaling((300, 200), rng=0, scale=2.0, distribution="untruncated_normal")
    assert np.array_equal(he, I.he_normal((300, 200), rng=0))
    glorot = I.variance_scaling((300, 200), rng=0, mode="fan_avg", distribution="uniform")
    np.testing.assert_allclose(glorot, I.glorot_uniform((300, 200), rng=0), atol=1e-16)


def test_variance_scaling_takes_the_seed_as_the_others():
    assert np.array_equal(I.variance_scaling((30, 20), rng=3), I.variance_scaling((30, 20), rng=3))
    g = np.random.default_rng(3)
    first, second = I.variance_scaling((30, 20), rng=g), I.variance_scaling((30, 20), rng=g)
    assert not np.array_equal(first, second)   # a generator's stream goes on
    layer = nl.Conv2D(3, 8, 3, init="variance_scaling", rng=5, dtype="float32")
    assert layer.params["W"].dtype == np.float32
    np.testing.assert_allclose(layer.params["W"],
                               I.variance_scaling((8, 3, 3, 3), rng=5), rtol=1e-6)


@pytest.mark.parametrize("kwargs, message", [
    ({"scale": 0}, r"variance_scaling scale must be in \(0, inf\); got 0"),
    ({"scale": -1.0}, r"variance_scaling scale must be in \(0, inf\)"),
    ({"mode": "fan_sum"}, "variance_scaling mode must be one of fan_in, fan_out, fan_avg; "
                          "got 'fan_sum'"),
    ({"distribution": "gamma"}, "variance_scaling distribution must be one of "
                                "truncated_normal, normal, untruncated_normal, uniform; "
                                "got 'gamma'"),
    ({"distribution": 3}, "variance_scaling distribution must be one of .*; got 3"),
    ({"scale": 1e80, "dtype": "float32"}, r"variance_scaling std sqrt\(scale / n\) must fit "
                                          r"in float32 \(at most 8.51e\+36 in size, "),
])
def test_variance_scaling_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        I.variance_scaling((3, 2), **kwargs)


@pytest.mark.parametrize("make", [lambda: I.constant((2,), dtype="float32", value=1e40),
                                  lambda: I.identity((2, 2), dtype="float32", gain=-1e39)])
def test_a_value_the_dtype_cannot_hold_is_refused(make):
    with np.errstate(all="raise"), pytest.raises(ValueError, match="must fit in float32"):
        make()


@pytest.mark.parametrize("spelling", ["Uniform", "UNIFORM", "Truncated_Normal", "Normal",
                                      "Untruncated_Normal"])
def test_variance_scaling_takes_the_distribution_in_any_case_as_keras_does(spelling):
    # Keras lowercases it; "Uniform" was refused here.
    W = I.variance_scaling((30, 20), rng=0, distribution=spelling)
    assert np.array_equal(W, I.variance_scaling((30, 20), rng=0, distribution=spelling.lower()))


@pytest.mark.parametrize("make, expected", [
    (lambda: I.constant((2,), value=np.float32(0.1)), np.float64(np.float32(0.1))),
    (lambda: I.constant((2,), dtype="float32", value=np.float32(0.1)), np.float32(0.1)),
    (lambda: I.identity((2, 2), gain=np.float32(1)), 1.0),
])
def test_a_numpy_float32_value_is_taken_in_silence(make, expected):
    # NEP 50: abs(value) > 1.8e308 cast the bound to float32, which overflowed with a warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            W = make()
    assert W.max() == expected
