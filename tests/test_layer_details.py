"""Details of the layers that a wrong answer would pass silently: dropout's keep rule at its
boundary, its scale and its rate 0, a residual block's failed training call, batch norm's
float32 evaluation and output_shape, the convolution's kept im2col buffer across dtypes,
the shapes ``array_shapes`` announces, max pooling's NaN windows."""

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

import nnlab as nl
from nnlab.layers import inside_network
from tests.helpers import naive_conv

# --- Dropout -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_keeps_an_input_whose_draw_equals_the_rate(dtype):
    # An input is kept when its uniform draw u in [0, 1) is >= rate: on the grid of values
    # the generator draws, exactly a fraction 1 - rate of them, where u > rate keeps one
    # grid point fewer. The rate is made the draw of the second input, which must be kept.
    u = np.random.default_rng(7).random(4, dtype)
    layer = nl.Dropout(float(u[1]), rng=7)
    y = layer.forward(np.ones((1, 4), dtype), training=True)
    assert y[0, 1] > 0
    np.testing.assert_array_equal(y[0] > 0, u >= u[1])


def test_dropout_at_rate_zero_is_the_identity_in_training_too():
    # Rate 0 drops nothing: the layer returns its input and keeps no mask (None, as at
    # evaluation) rather than multiplying by ones.
    x = np.random.default_rng(0).normal(size=(3, 4))
    layer = nl.Dropout(0.0, rng=0)
    assert layer.forward(x, training=True) is x
    assert layer.mask is None
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), np.ones_like(x))


def test_dropout_scales_float64_inputs_by_the_float64_reciprocal():
    # The kept inputs are scaled by 1 / (1 - rate) in the input's dtype: 1 / 0.7 in float64
    # exactly, not its float32 rounding (off by 2e-8).
    y = nl.Dropout(0.3, rng=0).forward(np.ones((1, 200)), training=True)
    np.testing.assert_array_equal(np.unique(y), [0.0, 1 / (1 - 0.3)])


# --- Residual ------------------------------------------------------------------------


def test_a_residual_block_refusing_a_batch_in_training_draws_no_dropout_mask():
    # The block's trial pass (evaluation mode, no randomness) finds the Dense's shape error
    # before the training pass would have the Dropout draw a mask: the generator is left
    # where it was, and the next good batch gets the mask a fresh block would draw.
    def block():
        return nl.Residual(nl.Dropout(0.5, rng=0), nl.Dense(4, 4, rng=1))

    x = np.random.default_rng(2).normal(size=(3, 4))
    refused = block()
    with pytest.raises(ValueError, match=r"expected input of shape \(batch, 4\)"):
        refused.forward(np.ones((3, 5)), training=True)
    np.testing.assert_array_equal(refused.forward(x, training=True),
                                  block().forward(x, training=True))


# --- BatchNorm -----------------------------------------------------------------------


def test_batchnorm_in_evaluation_keeps_float32_in_float32():
    # The running statistics are float64 buffers; at evaluation a float32 batch is still
    # normalized in float32, as in training, and its gradient comes back in float32.
    rng = np.random.default_rng(0)
    layer = nl.BatchNorm(3)
    layer.forward(rng.normal(2.0, 3.0, size=(16, 3, 2)), training=True)
    x = rng.normal(2.0, 3.0, size=(4, 3, 2))
    expected = layer.forward(x)   # float64, by the same running statistics
    y = layer.forward(x.astype(np.float32))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    assert layer.backward(np.ones_like(y)).dtype == np.float32


def test_batchnorm_output_shape_checks_the_features():
    # output_shape is what summary(input_shape=...) follows through the layers: a sample of
    # 4 features (or 4 channels) cannot go through BatchNorm(5).
    layer = nl.BatchNorm(5)
    assert layer.output_shape((5, 2, 2)) == (5, 2, 2)
    for shape in ((4,), (4, 2, 2)):
        with pytest.raises(ValueError, match=r"expected samples of shape \(5, \.\.\.\); got"):
            layer.output_shape(shape)


# --- Conv2D's kept im2col buffer -------------------------------------------------------


def test_conv_buffer_follows_the_input_dtype_between_calls():
    # The im2col matrix is kept between calls of the same shape; a float64 batch after a
    # float32 one of that shape must not be rounded through the float32 buffer (errors near
    # 1e-7 against the loop reference), nor a float32 batch after a float64 one come out
    # in float64.
    rng = np.random.default_rng(0)
    layer = nl.Conv2D(2, 3, 3, rng=0)
    layer.params["b"][:] = rng.normal(size=3)
    x = rng.normal(size=(2, 2, 5, 6))
    dy = rng.normal(size=(2, 3, 3, 4))
    # dL/dW = sum over samples and positions of dy times the window, the definition.
    dW = np.einsum("noij,ncijuv->ocuv", dy, sliding_window_view(x, (3, 3), axis=(2, 3)))
    for _ in range(2):
        assert layer.forward(x.astype(np.float32)).dtype == np.float32
        y = layer.forward(x)
        np.testing.assert_allclose(y, naive_conv(x, layer.params["W"], layer.params["b"],
                                                 (1, 1), (0, 0)), rtol=0, atol=1e-12)
        layer.backward(dy)
        np.testing.assert_allclose(layer.grads["W"], dW, rtol=0, atol=1e-12)


# --- array_shapes: what load_model compares before it builds ------------------------


@pytest.mark.parametrize("cls, config", [
    (nl.Conv2D, {"in_channels": 2, "out_channels": 3, "kernel_size": 3}),
    (nl.Conv2D, {"in_channels": 2, "out_channels": 3, "kernel_size": [3, 2]}),
    (nl.Conv1D, {"in_channels": 4, "out_channels": 2, "kernel_size": 5}),
    (nl.Conv1D, {"in_channels": 4, "out_channels": 2, "kernel_size": [5]}),
    (nl.Dense, {"n_in": 3, "n_out": 2}),
    (nl.BatchNorm, {"n_features": 6}),
])
def test_array_shapes_are_the_shapes_the_config_builds(cls, config):
    # A model file written by hand may give a kernel size as one int, as the constructor
    # takes it: Conv2D's 3 is a 3x3 kernel, and the check before building must say so.
    layer = cls.from_config(config)
    built = {f"{kind}.{name}": a.shape for kind in ("params", "buffers")
             for name, a in getattr(layer, kind).items()}
    assert cls.array_shapes(config) == built


# --- max pooling of a window holding NaN ---------------------------------------------


def test_max_pool_sends_a_nan_windows_gradient_to_its_last_element():
    # NaN reaches a layer inside a model only (a diverging network's; the layer refuses it
    # as input of its own). NaN equals nothing, so no position of [nan, 1, nan] matches the
    # window's maximum, NaN: the gradient goes to the last element, which serves every window
    # left unserved (GlobalMaxPool1D, by argmax, sends it to the first NaN). It is not lost.
    pool, pool2d = nl.MaxPool1D(3), nl.MaxPool2D(2)
    with inside_network():
        y = pool.forward(np.array([[[np.nan, 1.0, np.nan, 0.0, 3.0, 2.0]]]))
        dx = pool.backward(np.array([[[5.0, 7.0]]]))
        pool2d.forward(np.array([[[[np.nan, 1.0], [np.nan, 0.0]]]]))
        dx2d = pool2d.backward(np.array([[[[4.0]]]]))
    np.testing.assert_array_equal(y, [[[np.nan, 3.0]]])
    np.testing.assert_array_equal(dx, [[[0.0, 0.0, 5.0, 0.0, 7.0, 0.0]]])
    np.testing.assert_array_equal(dx2d, [[[[0.0, 0.0], [0.0, 4.0]]]])
