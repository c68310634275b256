"""Muon's step for Dense weights of either orientation and for conv kernels, its decay,
Nesterov momentum and eps; models trained and resumed with it; the settings and kernels it
refuses."""

import re

import numpy as np
import pytest

import nnlab as nl
from nnlab import optimizers as O
from nnlab.lean_optimizers import Muon
from tests.helpers import resumed_training
from tests.muon_cases import draws

# ---------------------------------------------------------- orientation, shapes, rates

def first_step(shape, **settings):
    """The first step of a Muon without momentum or decay, from 0, for a gradient of 1..n."""
    p = np.zeros(shape)
    g = np.arange(1.0, p.size + 1).reshape(shape) ** 1.5   # of full rank
    Muon(momentum=0.0, weight_decay=0.0, **settings).step([p], [g])
    return p, g


def test_a_dense_weight_takes_the_step_of_the_transposed_pytorch_weight():
    # Dense(2, 8)'s W (2, 8) is Linear(2, 8)'s (8, 2) transposed: A = 8 rows, B = 2, so
    # "original" scales its rate by sqrt(8 / 2) = 2; Dense(8, 2)'s (2 x 8 for PyTorch) by 1.
    # The orthogonal part is the same matrix (transposed) for both.
    wide, g = first_step((2, 8))
    tall, _ = first_step((8, 2))
    tall_of_g_t = Muon(momentum=0.0, weight_decay=0.0)
    q = np.zeros((8, 2))
    tall_of_g_t.step([q], [g.T.copy()])
    np.testing.assert_array_equal(wide, 2 * q.T)
    # Moonshot's 0.2 sqrt(max(A, B)) is the same for both orientations.
    wide, _ = first_step((2, 8), adjust_lr_fn="match_rms_adamw")
    q = np.zeros((8, 2))
    Muon(momentum=0.0, weight_decay=0.0, adjust_lr_fn="match_rms_adamw").step([q], [g.T.copy()])
    np.testing.assert_array_equal(wide, q.T)
    assert tall.shape == (8, 2)


def test_the_step_is_nearly_orthogonal():
    # From 0, one step without momentum is -lr X_5: its singular values all within 0.6-1.3
    # (times lr), though the gradient's span a factor of 250; its singular vectors, the
    # gradient's.
    rng = np.random.default_rng(0)
    u, _ = np.linalg.qr(rng.normal(size=(6, 4)))
    v, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    g = u @ np.diag([1.0, 0.1, 0.01, 0.004]) @ v.T
    p = np.zeros((6, 4))
    Muon(lr=0.1, momentum=0.0, weight_decay=0.0).step([p], [g])
    s = np.linalg.svd(p / -0.1, compute_uv=False)
    assert ((s > 0.6) & (s < 1.3)).all(), s
    np.testing.assert_allclose(u.T @ (p / -0.1) @ v, np.diag(np.diag(u.T @ (p / -0.1) @ v)),
                               atol=1e-12)


def test_a_conv_kernel_is_updated_as_its_matrix_out_by_in_kh_kw():
    # Conv2D's kernel (out, in, kh, kw) is the matrix (out, in*kh*kw) that multiplies the
    # im2col columns: its step is that of a Dense weight of the transposed shape.
    for shape in [(4, 3, 3, 2), (16, 1, 3, 3), (5, 2, 3)]:
        params, grads = draws([shape])
        kernel = params[0].copy()
        dense = params[0].reshape(shape[0], -1).T.copy()
        k_opt, d_opt = Muon(lr=0.05), Muon(lr=0.05)
        for (g,) in grads[:5]:
            k_opt.step([kernel], [g])
            d_opt.step([dense], [g.reshape(shape[0], -1).T.copy()])
        np.testing.assert_allclose(kernel.reshape(shape[0], -1).T, dense, rtol=0, atol=1e-15)
        assert set(k_opt.state[0]) - {"param"} == set(d_opt.state[0]) - {"param"}


def test_weight_decay_is_decoupled_and_not_scaled_by_the_rate_adjustment():
    # A zero gradient steps by nothing (X_0 = 0 / eps): only the decay moves p, by
    # lr * weight_decay, whatever the shape's sqrt(max(1, A / B)) (2 for Dense(2, 8)).
    p = np.full((2, 8), 2.0)
    Muon(lr=0.1, weight_decay=0.5).step([p], [np.zeros((2, 8))])
    np.testing.assert_allclose(p, 1.9, rtol=1e-15)


def test_nesterov_mixes_the_gradient_into_the_momentum_twice():
    p = np.zeros((1, 1))   # a 1 x 1 matrix: X_0 is the sign of U, then the quintic of 1
    opt = Muon(lr=1.0, momentum=0.5, weight_decay=0.0, ns_steps=0)
    opt.step([p], [np.array([[4.0]])])
    assert opt.state[0]["momentum_buffer"] == 2.0 and p == -1.0   # B = 0.5 * 4 = 2, U = 3
    opt.step([p], [np.array([[-6.0]])])    # B = 0.5 B + 0.5 g = -2, U = 0.5 B + 0.5 g = -4
    assert opt.state[0]["momentum_buffer"] == -2.0 and p == 0.0


def test_a_momentum_of_norm_below_eps_is_divided_by_eps():
    # X_0 = U / max(|U|_F, eps), as PyTorch's U / |U|.clamp(min=eps): U = g (no momentum)
    # of norm 0.05 under eps = 0.1 becomes U / 0.1, not U / 0.05; no iteration, no decay.
    p = np.zeros((2, 2))
    Muon(lr=1.0, momentum=0.0, weight_decay=0.0, ns_steps=0, eps=0.1).step(
        [p], [np.diag([0.03, 0.04])])
    np.testing.assert_allclose(p, -np.diag([0.3, 0.4]), rtol=1e-15, atol=0)


# ------------------------------------------------------------------- models and files

def test_get_finds_muon_by_keras_s_name():
    assert type(O.get("muon")) is Muon and type(O.get("Muon")) is Muon
    assert O.Muon is Muon and O.get("muon", lr=0.05).lr == 0.05


def test_a_model_compiled_with_muon_trains():
    X, y = nl.datasets.moons(200, noise=0.1, seed=0)
    y = y[:, None]
    losses = {}
    for optimizer in ("muon", Muon(lr=0.02)):   # the default rate, and Keller Jordan's
        model = nl.Sequential([nl.Dense(2, 16, rng=0), nl.Activation("tanh"),
                               nl.Dense(16, 1, rng=1)])
        model.compile(nl.losses.BinaryCrossEntropy(from_logits=True), optimizer,
                      metrics=["accuracy"])
        assert type(model.optimizer) is Muon
        history = model.fit(X, y, epochs=30, batch_size=20, seed=0).history
        losses[model.optimizer.lr] = (history["loss"][0], history["loss"][-1])
        accuracy = history["accuracy"][-1]
    assert losses[1e-3][1] < 0.7 * losses[1e-3][0]   # measured: 1.06 to 0.68
    assert losses[0.02][1] < 0.25 and accuracy > 0.9   # measured: 0.195, 0.915


@pytest.mark.parametrize("optimizer", [lambda: Muon(), lambda: Muon(
    lr=0.01, nesterov=False, adjust_lr_fn="match_rms_adamw", ns_coefficients=[3.0, -3.2, 1.2],
    adam_lr_ratio=0.5)], ids=["defaults", "settings"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_training_resumed_after_loading_takes_the_steps_it_would_have_taken(
        tmp_path, optimizer, dtype):
    model, _ = resumed_training(optimizer, dtype, tmp_path)
    kinds = [sorted(k for k in s if k != "param" and not k.startswith("scratch"))
             for s in model.optimizer.state]
    assert kinds == [["momentum_buffer"], ["decayed_sum", "decayed_sum_sq"]] * 2 + [
        ["decayed_sum", "decayed_sum_sq"]] * 2 + [["momentum_buffer"],
                                                   ["decayed_sum", "decayed_sum_sq"]]


# ------------------------------------------------------------------------------ errors

@pytest.mark.parametrize("kwargs, message", [
    ({"lr": 0}, "Muon lr must be in (0, inf); got 0"),
    ({"weight_decay": -0.1}, "weight_decay must be in [0, inf); got -0.1"),
    ({"momentum": 1.0}, "momentum must be in [0, 1); got 1.0"),
    ({"momentum": "high"}, "momentum must be a real number; got 'high'"),
    ({"nesterov": "yes"}, "nesterov must be True or False; got 'yes'"),
    ({"ns_coefficients": (3.4, -4.7)}, "ns_coefficients must be three numbers (a, b, c); "
                                       "got (3.4, -4.7)"),
    ({"ns_coefficients": "abc"}, "ns_coefficients must be three numbers (a, b, c); got 'abc'"),
    ({"ns_coefficients": 3.4}, "ns_coefficients must be three numbers (a, b, c); got 3.4"),
    ({"ns_coefficients": (3.4, float("nan"), 2.0)},
     "ns_coefficients[1] must be finite; got nan"),
    ({"eps": 0.0}, "eps must be in (0, inf); got 0.0"),
    ({"ns_steps": 100}, "ns_steps must be in [0, 100); got 100"),
    ({"ns_steps": 2.5}, "ns_steps must be an integer; got 2.5"),
    ({"adjust_lr_fn": "rms"}, "adjust_lr_fn must be None, 'original' or 'match_rms_adamw'; "
                              "got 'rms'"),
    ({"adam_beta1": 1.0}, "adam_beta1 must be in [0, 1); got 1.0"),
    ({"adam_beta2": -0.1}, "adam_beta2 must be in [0, 1); got -0.1"),
    ({"adam_eps": 0}, "adam_eps must be in (0, inf); got 0"),
    ({"adam_weight_decay": -1}, "adam_weight_decay must be in [0, inf); got -1"),
    ({"adam_lr_ratio": 0}, "adam_lr_ratio must be in (0, inf); got 0"),
])
def test_muon_refuses_bad_hyper_parameters(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        Muon(**kwargs)


def test_a_kernel_that_is_not_contiguous_is_refused_before_any_change():
    kernel = np.ones((3, 2, 2, 4)).transpose(0, 3, 1, 2)   # (3, 4, 2, 2), not C-contiguous
    bias = np.ones(3)
    opt = Muon()
    with pytest.raises(ValueError, match=re.escape(
            "Muon: a kernel of shape (3, 4, 2, 2) must be C-contiguous")):
        opt.step([bias, kernel], [np.ones(3), np.ones((3, 4, 2, 2))])
    assert opt.state is None and opt.iterations == 0
    assert (bias == 1).all() and (kernel == 1).all()
