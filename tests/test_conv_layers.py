"""Convolution and pooling: against direct loops, numerical gradients and PyTorch."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nnlab as nl
from tests.helpers import numeric_grad, rel_error


def naive_conv2d(x, W, b, stride, pad):
    """The definition, one output pixel at a time."""
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, _, h, w = x.shape
    o, _, kh, kw = W.shape
    ho, wo = (h - kh) // stride + 1, (w - kw) // stride + 1
    y = np.zeros((n, o, ho, wo))
    for i in range(ho):
        for j in range(wo):
            patch = x[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            y[:, :, i, j] = np.tensordot(patch, W, axes=([1, 2, 3], [1, 2, 3])) + b
    return y


def check_layer(layer, x, training=False):
    """Backward of ``layer`` at ``x`` against central differences; returns the max error."""
    rng = np.random.default_rng(1)
    dy = rng.normal(size=layer.forward(x, training=training).shape)

    def f():
        return float(np.sum(layer.forward(x, training=training) * dy))

    layer.forward(x, training=training)
    errors = [rel_error(layer.backward(dy), numeric_grad(f, x))]
    for name, p in layer.params.items():
        layer.forward(x, training=training)
        layer.backward(dy)
        errors.append(rel_error(layer.grads[name], numeric_grad(f, p)))
    return max(errors)


conv_cases = st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3),
                       st.integers(1, 2), st.integers(0, 1), st.integers(4, 7), st.integers(0, 99))


@given(conv_cases)
def test_conv2d_forward_and_backward(case):
    c_in, c_out, k, stride, pad, size, seed = case
    rng = np.random.default_rng(seed)
    layer = nl.Conv2D(c_in, c_out, k, stride=stride, padding=pad, rng=seed)
    layer.params["b"][:] = rng.normal(size=c_out)
    x = rng.normal(size=(2, c_in, size, size + 1))
    expected = naive_conv2d(x, layer.params["W"], layer.params["b"], stride, pad)
    np.testing.assert_allclose(layer.forward(x), expected, atol=1e-12)
    assert layer.output_shape(x.shape[1:]) == expected.shape[1:]
    assert check_layer(layer, x) < 1e-6


@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 2), st.integers(0, 2),
       st.integers(0, 99))
def test_conv1d_backward(c, k, stride, pad, seed):
    rng = np.random.default_rng(seed)
    layer = nl.Conv1D(c, 2, k, stride=stride, padding=pad, rng=seed)
    x = rng.normal(size=(3, c, 9))
    assert layer.forward(x).shape[1:] == layer.output_shape(x.shape[1:])
    assert check_layer(layer, x) < 1e-6


@given(st.integers(1, 3), st.one_of(st.none(), st.integers(1, 3)), st.integers(3, 7),
       st.integers(0, 99))
def test_pooling_backward(pool, stride, size, seed):
    x = np.random.default_rng(seed).normal(size=(2, 2, size, size + 2))
    for layer in (nl.MaxPool2D(pool, stride), nl.AvgPool2D(pool, stride)):
        y = layer.forward(x)
        assert y.shape[1:] == layer.output_shape(x.shape[1:])
        assert check_layer(layer, x) < 1e-6


def test_pools_drop_windows_that_do_not_fit():
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    np.testing.assert_array_equal(nl.MaxPool2D(2).forward(x), [[[[6, 8], [16, 18]]]])
    np.testing.assert_array_equal(nl.AvgPool2D(2).forward(x), [[[[3, 5], [13, 15]]]])


def test_max_pool_sends_the_gradient_to_the_maximum_only():
    layer = nl.MaxPool2D(2)
    x = np.array([[[[1.0, 4.0], [2.0, 3.0]]]])
    layer.forward(x)
    np.testing.assert_array_equal(layer.backward(np.ones((1, 1, 1, 1))), [[[[0, 1], [0, 0]]]])


def test_shape_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"Conv2D\(in_channels=3.*\(batch, 3, \?, \?\); got "
                                         r"shape \(2, 1, 8, 8\)"):
        nl.Conv2D(3, 4, 3).forward(np.zeros((2, 1, 8, 8)))
    with pytest.raises(ValueError, match="smaller than the kernel"):
        nl.Conv2D(1, 1, 5).forward(np.zeros((1, 1, 3, 3)))
    with pytest.raises(ValueError, match="stride"):
        nl.Conv2D(1, 1, 3, stride=0)
    with pytest.raises(ValueError, match="smaller than the pool"):
        nl.MaxPool2D(4).forward(np.zeros((1, 1, 3, 3)))


def test_float32_stays_float32():
    layer = nl.Conv2D(1, 2, 3, rng=0, dtype="float32")
    y = layer.forward(np.ones((1, 1, 5, 5), dtype=np.float32))
    assert y.dtype == np.float32
    assert layer.backward(np.ones_like(y)).dtype == np.float32
    assert layer.grads["W"].dtype == np.float32


@pytest.mark.parametrize("k,stride,pad", [(3, 1, 0), (3, 2, 1), (2, 2, 0), (5, 1, 2)])
def test_against_torch(k, stride, pad):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(0)
    layer = nl.Conv2D(3, 4, k, stride=stride, padding=pad, rng=0)
    x = rng.normal(size=(2, 3, 9, 8))
    tx = torch.tensor(x, requires_grad=True)
    tW = torch.tensor(layer.params["W"], requires_grad=True)
    tb = torch.tensor(layer.params["b"], requires_grad=True)
    ty = F.conv2d(tx, tW, tb, stride=stride, padding=pad)
    dy = rng.normal(size=ty.shape)
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(layer.forward(x), ty.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(layer.backward(dy), tx.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(layer.grads["W"], tW.grad.numpy(), atol=1e-12)
    pool = nl.MaxPool2D(k, stride)
    tx.grad = None
    tp = F.max_pool2d(tx, k, stride)
    tp.backward(torch.ones_like(tp))
    np.testing.assert_allclose(pool.forward(x), tp.detach().numpy())
    np.testing.assert_allclose(pool.backward(np.ones(tp.shape)), tx.grad.numpy())
