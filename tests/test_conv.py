"""Conv1D, Conv2D and the pooling layers against loop references, numerical gradients and torch.

Square and rectangular kernels, strides and paddings, the 1-D layers, the im2col/col2im
pair itself, small worked examples, configs, dtypes and error messages.
"""

import json
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nnlab as nl
from nnlab.conv import col2im, windows
from tests.helpers import grad_error, naive_conv


def naive_pool(x, size, stride, reduce):
    out = [(n - k) // s + 1 for n, k, s in zip(x.shape[2:], size, stride, strict=True)]
    y = np.zeros((*x.shape[:2], *out))
    for pos in np.ndindex(*out):
        box = tuple(slice(i * s, i * s + k) for i, s, k in zip(pos, stride, size, strict=True))
        patch = x[(slice(None), slice(None), *box)]
        y[(slice(None), slice(None), *pos)] = reduce(patch, axis=tuple(range(2, x.ndim)))
    return y


def distinct(rng, shape):
    """Values at least 0.01 apart, so a max never changes under a finite difference."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.01 - 0.3


pair = st.tuples(st.integers(1, 3), st.integers(1, 3))


@given(pair, pair, st.tuples(st.integers(0, 2), st.integers(0, 2)),
       st.tuples(st.integers(0, 3), st.integers(0, 3)), st.integers(1, 2), st.integers(0, 99))
def test_conv2d_rectangular_against_loop_and_gradients(kernel, stride, pad, extra, c_in, seed):
    rng = np.random.default_rng(seed)
    layer = nl.Conv2D(c_in, 2, kernel, stride=stride, padding=pad, rng=seed)
    layer.params["b"][:] = rng.normal(size=2)
    size = tuple(max(k - 2 * p, 1) + e for k, p, e in zip(kernel, pad, extra, strict=True))
    x = rng.normal(size=(2, c_in, *size))
    y = layer.forward(x)
    np.testing.assert_allclose(y, naive_conv(x, layer.params["W"], layer.params["b"],
                                             stride, pad), atol=1e-12)
    assert y.shape[1:] == layer.output_shape(x.shape[1:])
    assert grad_error(layer, x) < 1e-6


@given(st.integers(1, 4), st.integers(1, 3), st.integers(0, 2), st.integers(0, 4),
       st.integers(1, 3), st.integers(0, 99))
def test_conv1d_against_loop_and_gradients(k, stride, pad, extra, c_out, seed):
    rng = np.random.default_rng(seed)
    layer = nl.Conv1D(4, c_out, k, stride=stride, padding=pad, rng=seed)
    layer.params["b"][:] = rng.normal(size=c_out)
    x = rng.normal(size=(3, 4, max(k - 2 * pad, 1) + extra))
    y = layer.forward(x)
    np.testing.assert_allclose(y, naive_conv(x, layer.params["W"], layer.params["b"],
                                             (stride,), (pad,)), atol=1e-12)
    assert y.shape[1:] == layer.output_shape(x.shape[1:])
    assert grad_error(layer, x) < 1e-6


@given(pair, st.one_of(st.none(), pair), st.tuples(st.integers(0, 3), st.integers(0, 3)),
       st.integers(0, 99))
def test_pool2d_against_loop_and_gradients(size, stride, extra, seed):
    x = distinct(np.random.default_rng(seed), (2, 2, size[0] + extra[0], size[1] + extra[1]))
    steps = size if stride is None else stride
    for layer, reduce in ((nl.MaxPool2D(size, stride), np.max),
                          (nl.AvgPool2D(size, stride), np.mean)):
        y = layer.forward(x)
        np.testing.assert_allclose(y, naive_pool(x, size, steps, reduce), atol=1e-12)
        assert y.shape[1:] == layer.output_shape(x.shape[1:])
        assert grad_error(layer, x) < 1e-6


@given(st.integers(1, 4), st.one_of(st.none(), st.integers(1, 3)), st.integers(0, 5),
       st.integers(0, 99))
def test_pool1d_and_global_max_pool(size, stride, extra, seed):
    x = distinct(np.random.default_rng(seed), (2, 3, size + extra))
    layer = nl.MaxPool1D(size, stride)
    np.testing.assert_array_equal(layer.forward(x),
                                  naive_pool(x, (size,), (stride or size,), np.max))
    assert layer.forward(x).shape[1:] == layer.output_shape(x.shape[1:])
    assert grad_error(layer, x) < 1e-6
    pool = nl.GlobalMaxPool1D()
    np.testing.assert_array_equal(pool.forward(x), x.max(axis=-1))
    assert pool.output_shape(x.shape[1:]) == (3,)
    assert grad_error(pool, x) < 1e-6


@given(pair, pair, st.integers(0, 99))
def test_col2im_is_the_adjoint_of_windows(kernel, stride, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, 3, 5, 6))
    win = windows(x, kernel, stride)
    assert np.shares_memory(win, x)  # im2col as a view: nothing copied yet
    d = rng.normal(size=win.shape)
    # <windows(x), d> = <x, col2im(d)>: col2im is exactly the backward of windows.
    assert np.sum(win * d) == pytest.approx(np.sum(x * col2im(d, x.shape, kernel, stride)))


def test_pools_drop_windows_that_do_not_fit():
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    np.testing.assert_array_equal(nl.MaxPool2D(2).forward(x), [[[[6, 8], [16, 18]]]])
    np.testing.assert_array_equal(nl.AvgPool2D(2).forward(x), [[[[3, 5], [13, 15]]]])


@pytest.mark.parametrize("window,expected", [
    ([[1.0, 4.0], [2.0, 3.0]], [[0, 1], [0, 0]]),   # only the maximum gets the gradient
    ([[1.0, 1.0], [1.0, 1.0]], [[1, 0], [0, 0]]),   # a tie: the first maximum, as PyTorch
    ([[0.0, 5.0], [5.0, 0.0]], [[0, 1], [0, 0]]),   # "first" in row-major order
    ([[1.0, 2.0], [3.0, 4.0]], [[0, 0], [0, 1]]),   # the last position, compared with nothing
])
def test_max_pool_sends_the_gradient_to_the_first_maximum(window, expected):
    layer = nl.MaxPool2D(2)
    layer.forward(np.array([[window]]))
    np.testing.assert_array_equal(layer.backward(np.ones((1, 1, 1, 1)))[0, 0], expected)


def test_global_max_pool_sends_the_gradient_to_the_first_maximum():
    layer = nl.GlobalMaxPool1D()   # ties: the first (as MaxPool1D and PyTorch's max_pool)
    layer.forward(np.array([[[1.0, 3.0, 0.0, 3.0], [2.0, 2.0, 2.0, -1.0]]]))
    np.testing.assert_array_equal(layer.backward(np.array([[5.0, 7.0]])),
                                  [[[0, 5, 0, 0], [7, 0, 0, 0]]])


LAYERS = [
    lambda: nl.Conv2D(2, 3, (2, 3), stride=(1, 2), padding=(1, 0), rng=0, dtype="float32"),
    lambda: nl.Conv1D(4, 2, 5, stride=2, padding=1, init="glorot_uniform", rng=0),
    lambda: nl.MaxPool2D((2, 3), stride=1),
    lambda: nl.AvgPool2D(2),
    lambda: nl.MaxPool1D(3, 2),
    lambda: nl.GlobalMaxPool1D(),
]


@pytest.mark.parametrize("make", LAYERS)
def test_config_round_trip(make):
    layer = make()
    config = json.loads(json.dumps(layer.get_config()))
    clone = type(layer).from_config(config)
    assert clone.get_config() == layer.get_config()
    assert nl.Layer.registry[type(layer).__name__] is type(layer)
    for name, p in layer.params.items():
        assert clone.params[name].shape == p.shape and clone.params[name].dtype == p.dtype


def test_numpy_integers_give_a_json_config():
    layer = nl.Conv2D(np.int64(1), 2, np.int64(3), stride=(np.int64(1), 2))
    assert json.loads(json.dumps(layer.get_config()))["stride"] == [1, 2]


@pytest.mark.parametrize("make,shape", [(lambda: nl.Conv2D(3, 4, 3, rng=0), (4, 3, 3, 3)),
                                        (lambda: nl.Conv1D(3, 4, 5, rng=0), (4, 3, 5))])
def test_the_default_init_is_he_normal(make, shape):
    # He's, for the ReLU that usually follows (fan-in C*kh*kw), drawn from the layer's rng.
    layer = make()
    np.testing.assert_array_equal(layer.params["W"], nl.initializers.he_normal(shape, rng=0))
    np.testing.assert_array_equal(layer.params["b"], np.zeros(4))
    assert layer.get_config()["init"] == "he_normal"


@pytest.mark.parametrize("make,shape", [(LAYERS[0], (2, 2, 5, 6)), (LAYERS[2], (2, 2, 5, 6)),
                                        (LAYERS[3], (2, 2, 5, 6)), (LAYERS[4], (2, 4, 9)),
                                        (LAYERS[5], (2, 4, 9))])
def test_float32_in_float32_out_and_no_warning_at_large_inputs(make, shape):
    layer = make()
    x = np.random.default_rng(0).choice([-1e4, 1e4], size=shape).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = layer.forward(x)
        dx = layer.backward(np.ones_like(y))
    assert y.dtype == np.float32 and dx.dtype == np.float32 and dx.shape == x.shape
    assert np.all(np.isfinite(y))
    for name, g in layer.grads.items():
        assert g.dtype == layer.params[name].dtype


def test_float64_parameters_compute_in_the_input_dtype():
    layer = nl.Conv1D(4, 2, 3, rng=0)
    x = np.random.default_rng(0).normal(size=(2, 4, 7))
    y32 = layer.forward(x.astype(np.float32))
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, layer.forward(x), rtol=1e-5, atol=1e-5)
    assert nl.MaxPool2D(2).forward(np.ones((1, 1, 2, 2), dtype=int)).dtype == np.float64


@pytest.mark.parametrize("build,match", [
    (lambda: nl.Conv2D(1, 1, (3, 3, 3)), "Conv2D kernel_size must be an int or a sequence of 2"),
    (lambda: nl.Conv2D(1, 1, 3, padding=-1), r"Conv2D padding must be in \[0, inf\); got -1"),
    (lambda: nl.Conv2D(1, 1, 3, padding="full"), "unknown Conv2D padding 'full'; valid names "
                                                 "are: same, valid"),
    (lambda: nl.Conv2D(1, 1, (3, 2), padding="same"), r"stride 1 and odd kernel sizes; got "
                                                      r"kernel_size \(3, 2\) and stride"),
    (lambda: nl.Conv1D(1, 1, 3, stride=2, padding="same"), r"got kernel_size \(3,\) and "
                                                            r"stride \(2,\)"),
    (lambda: nl.Conv1D(1, 1, 3, stride=0), "Conv1D stride must be in"),
    (lambda: nl.Conv1D(1, 1, 2.5), "Conv1D kernel_size must be an integer; got 2.5"),
    (lambda: nl.Conv2D(0, 1, 3), "in_channels"),
    (lambda: nl.Conv2D(1, 1, 3, init="bogus"), "unknown initializer"),
    (lambda: nl.MaxPool2D(0), "MaxPool2D pool_size must be in"),
    (lambda: nl.AvgPool2D(2, stride=(1, 0)), "AvgPool2D stride must be in"),
    (lambda: nl.MaxPool1D((2, 2)), "MaxPool1D pool_size must be an int or a sequence of 1"),
])
def test_bad_hyper_parameters(build, match):
    with pytest.raises(ValueError, match=match):
        build()


@pytest.mark.parametrize("layer,x,match", [
    (nl.Conv2D(3, 4, 3), np.zeros((2, 1, 8, 8)), r"Conv2D\(in_channels=3.*\(batch, 3, \?, \?\); "
                                                 r"got shape \(2, 1, 8, 8\)"),
    (nl.Conv2D(1, 1, 5), np.zeros((1, 1, 3, 3)), "smaller than the kernel"),
    (nl.MaxPool2D(4), np.zeros((1, 1, 3, 3)), "smaller than the pool"),
    (nl.Conv1D(4, 2, 3), np.zeros((2, 4, 5, 5)), r"Conv1D\(.*\(batch, 4, \?\); got shape "
                                                 r"\(2, 4, 5, 5\)"),
    (nl.Conv1D(4, 2, 3), np.zeros((2, 3, 9)), r"\(batch, 4, \?\); got shape \(2, 3, 9\)"),
    (nl.Conv1D(4, 2, 6, padding=1), np.zeros((1, 4, 3)), "smaller than the kernel"),
    (nl.Conv2D(1, 1, 3), np.full((1, 1, 4, 4), np.nan), "NaN"),
    (nl.AvgPool2D(2), np.zeros((2, 1, 4)), r"AvgPool2D\(.*4-D batch; got shape \(2, 1, 4\)"),
    (nl.MaxPool1D(4), np.zeros((2, 1, 3)), r"spatial size \(3,\) is smaller than the pool"),
    (nl.GlobalMaxPool1D(), np.zeros((2, 3)), r"3-D batch; got shape \(2, 3\)"),
])
def test_bad_input_names_the_layer_and_both_shapes(layer, x, match):
    with pytest.raises(ValueError, match=match):
        layer.forward(x)


@pytest.mark.parametrize("make,x_shape", [
    (lambda padding: nl.Conv2D(2, 3, (5, 3), padding=padding, rng=0), (2, 2, 7, 6)),
    (lambda padding: nl.Conv1D(4, 2, 7, padding=padding, rng=0), (3, 4, 10)),
])
def test_same_padding_keeps_the_size_and_valid_padding_adds_none(make, x_shape):
    x = np.random.default_rng(0).normal(size=x_shape)
    same, valid = make("same"), make("Valid")
    kernel = same.kernel_size
    assert same.forward(x).shape[2:] == x_shape[2:]
    np.testing.assert_array_equal(same.forward(x),
                                  make(tuple((k - 1) // 2 for k in kernel)).forward(x))
    np.testing.assert_array_equal(valid.forward(x), make(0).forward(x))
    assert same.get_config()["padding"] == [(k - 1) // 2 for k in kernel]


def test_output_shape_checks_the_sample_shape():
    assert nl.Conv2D(3, 8, 3, stride=2, padding=1).output_shape((3, 28, 28)) == (8, 14, 14)
    assert nl.AvgPool2D((2, 3)).output_shape((5, 7, 7)) == (5, 3, 2)
    with pytest.raises(ValueError, match=r"expected samples of shape \(3, \?, \?\); got "
                                         r"\(1, 28, 28\)"):
        nl.Conv2D(3, 8, 3).output_shape((1, 28, 28))
    with pytest.raises(ValueError, match=r"size \(3, 8\) is smaller than the pool \(4, 4\)"):
        nl.MaxPool2D(4).output_shape((1, 3, 8))
    with pytest.raises(ValueError, match=r"\(C, L\)"):
        nl.GlobalMaxPool1D().output_shape((4, 5, 5))


@pytest.mark.parametrize("layer,expected", [
    (nl.Conv2D(1, 4, 3), r"Conv2D\(.*expected samples of shape \(1, \?, \?\); got \(\)"),
    (nl.Conv1D(2, 4, 3), r"Conv1D\(.*expected samples of shape \(2, \?\); got \(\)"),
    (nl.MaxPool2D(2), r"MaxPool2D\(.*expected samples of shape \(C, \?, \?\); got \(\)"),
    (nl.AvgPool2D(2), r"AvgPool2D\(.*expected samples of shape \(C, \?, \?\); got \(\)"),
    (nl.MaxPool1D(2), r"MaxPool1D\(.*expected samples of shape \(C, \?\); got \(\)"),
])
def test_output_shape_of_an_empty_sample_shape_names_the_layer(layer, expected):
    with pytest.raises(ValueError, match=expected):
        layer.output_shape(())


@pytest.mark.parametrize("layer,x_shape", [
    (nl.Conv2D(2, 3, 3, padding=1, rng=0), (0, 2, 5, 5)),
    (nl.Conv1D(2, 3, 3, stride=2, rng=0), (0, 2, 7)),
    (nl.MaxPool2D(2), (0, 2, 4, 4)), (nl.AvgPool2D(2, 1), (0, 2, 4, 4)),
    (nl.MaxPool1D(2), (0, 2, 5)), (nl.GlobalMaxPool1D(), (0, 2, 5)),
])
def test_an_empty_batch_goes_forward_and_back(layer, x_shape):
    y = layer.forward(np.zeros(x_shape))
    assert len(y) == 0 and y.shape[1:] == layer.output_shape(x_shape[1:])
    assert layer.backward(np.zeros_like(y)).shape == x_shape
    layer.backward_params(np.zeros_like(y))
    for name, p in layer.params.items():   # no sample: a zero gradient
        np.testing.assert_array_equal(layer.grads[name], np.zeros_like(p))


def torch_or_skip():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("kernel,stride,pad", [((3, 2), (2, 1), (1, 0)), (1, 1, 0), (4, 3, 2),
                                               ((5, 3), 1, "same")])
def test_conv2d_against_torch_forward_and_backward(kernel, stride, pad):
    torch = torch_or_skip()
    rng = np.random.default_rng(0)
    layer = nl.Conv2D(3, 4, kernel, stride=stride, padding=pad, rng=0)
    layer.params["b"][:] = rng.normal(size=4)
    x = rng.normal(size=(2, 3, 9, 8))
    tx, tW, tb = (torch.tensor(a, requires_grad=True)
                  for a in (x, layer.params["W"], layer.params["b"]))
    ty = torch.nn.functional.conv2d(tx, tW, tb, stride=stride, padding=pad)
    dy = rng.normal(size=ty.shape)
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(layer.forward(x), ty.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(layer.backward(dy), tx.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(layer.grads["W"], tW.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(layer.grads["b"], tb.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("k,stride,pad", [(3, 1, 0), (6, 2, 3), (2, 3, 1)])
def test_conv1d_against_torch_forward_and_backward(k, stride, pad):
    torch = torch_or_skip()
    rng = np.random.default_rng(1)
    layer = nl.Conv1D(4, 5, k, stride=stride, padding=pad, rng=0)
    x = rng.normal(size=(3, 4, 20))
    tx, tW, tb = (torch.tensor(a, requires_grad=True)
                  for a in (x, layer.params["W"], layer.params["b"]))
    ty = torch.nn.functional.conv1d(tx, tW, tb, stride=stride, padding=pad)
    dy = rng.normal(size=ty.shape)
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(layer.forward(x), ty.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(layer.backward(dy), tx.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(layer.grads["W"], tW.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(layer.grads["b"], tb.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("size,stride", [(2, None), (3, 2), ((2, 3), (1, 2)), (3, None)])
def test_pools_against_torch_forward_and_backward(size, stride):
    torch = torch_or_skip()
    F = torch.nn.functional
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 3, 7, 8))  # 7 and 8 do not tile into 3s: the remainder is dropped
    for layer, op in ((nl.MaxPool2D(size, stride), F.max_pool2d),
                      (nl.AvgPool2D(size, stride), F.avg_pool2d)):
        tx = torch.tensor(x, requires_grad=True)
        ty = op(tx, size, stride)
        dy = rng.normal(size=ty.shape)
        ty.backward(torch.tensor(dy))
        np.testing.assert_allclose(layer.forward(x), ty.detach().numpy(), atol=1e-12)
        np.testing.assert_allclose(layer.backward(dy), tx.grad.numpy(), atol=1e-12)


def test_1d_pools_against_torch():
    torch = torch_or_skip()
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 3, 11))
    for layer, op in ((nl.MaxPool1D(3, 2), lambda t: torch.nn.functional.max_pool1d(t, 3, 2)),
                      (nl.GlobalMaxPool1D(), lambda t: t.amax(dim=-1))):
        tx = torch.tensor(x, requires_grad=True)
        ty = op(tx)
        dy = rng.normal(size=ty.shape)
        ty.backward(torch.tensor(dy))
        np.testing.assert_allclose(layer.forward(x), ty.detach().numpy())
        np.testing.assert_allclose(layer.backward(dy), tx.grad.numpy())


def test_targets_shaped_as_a_conv_models_outputs_train_as_their_rows_do():
    # A mask per image, (N, 1, 5, 5), as Keras takes it: the same run as its rows (N, 25).
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4, 1, 5, 5))
    Y = (X > 0).astype(float)
    runs = []
    for targets in (Y, Y.reshape(4, -1)):
        model = nl.Sequential([nl.Conv2D(1, 1, 3, padding=1, rng=0), nl.Activation("sigmoid")])
        model.compile("dice", "adam")
        runs.append((model.fit(X, targets, epochs=3, batch_size=2, seed=0).history["loss"],
                     model.evaluate(X, targets)))
    assert runs[0] == runs[1] and runs[0][0][-1] < runs[0][0][0]
    with pytest.raises(ValueError, match=r"y holds targets of shape \(2, 5, 5\) per sample, "
                                         r"and the model's outputs have shape \(1, 5, 5\)"):
        model.fit(X, np.zeros((4, 2, 5, 5)))
    with pytest.raises(ValueError, match="y must hold one target per sample"):
        model.fit(X, 1.0)
