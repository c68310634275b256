"""Muon (nnlab.lean_optimizers): PyTorch 2.13's update for matrices, AdamW's for the rest.

Matrices are compared with ``torch.optim.Muon`` over 20 steps when PyTorch is installed,
and with golden values that it computed (kept here for a machine without it). PyTorch runs
the Newton-Schulz iteration in bfloat16; nnlab in the weights' dtype. The comparisons take
PyTorch's own iteration, its source with that one cast removed: float64 throughout. Keras's
Muon (AdamW for the vectors) is compared likewise, live when Keras is installed and with
golden values that it computed.
"""

import inspect
import re

import numpy as np
import pytest

import nnlab as nl
from nnlab import optimizers as O
from nnlab.adam import AdamW
from nnlab.lean_optimizers import Muon
from tests.helpers import keras_steps, resumed_training

#: Dense weights (n_in, n_out) wide, tall, square, a row and a column; a conv kernel whose
#: matrix (out, in*kh*kw) is wide, and one whose matrix is tall (16 > 1*3*3).
SHAPES = [(5, 3), (3, 5), (4, 4), (1, 6), (6, 1), (20, 7), (4, 3, 3, 2), (16, 1, 3, 3)]
GOLDEN_SHAPES = [(2, 3), (3, 2), (2, 2), (3, 1, 2, 2)]
SETTINGS = [{},
            {"lr": 0.05, "momentum": 0.8, "nesterov": False, "weight_decay": 0.3},
            {"lr": 0.02, "adjust_lr_fn": "match_rms_adamw", "weight_decay": 0.0},
            {"lr": 0.1, "adjust_lr_fn": "original", "ns_steps": 3, "eps": 1e-3,
             "ns_coefficients": (2.0, -1.5, 0.5)}]


def draws(shapes, steps=20, seed=0, dtype=np.float64):
    """Starting weights and the gradients of every step, ever larger (step t: times t)."""
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=s).astype(dtype) for s in shapes]
    grads = [[(rng.normal(size=s) * (1 + t)).astype(dtype) for s in shapes]
             for t in range(steps)]
    return params, grads


def ours(optimizer, shapes, dtype=np.float64):
    params, grads = draws(shapes, dtype=dtype)
    for g in grads:
        optimizer.step(params, g)
    return params


def flat(arrays):
    return np.concatenate([np.ravel(a) for a in arrays])


def to_torch_layout(a):
    """The matrix PyTorch would hold: a Dense weight (n_in, n_out) as Linear's (out, in),
    a kernel (out, in, kh, kw) flattened to (out, in*kh*kw)."""
    return a.T if a.ndim == 2 else a.reshape(len(a), -1)


def exact_newton_schulz(torch_muon):
    """PyTorch's own ``_zeropower_via_newtonschulz``, without its cast to bfloat16."""
    source = inspect.getsource(torch_muon._zeropower_via_newtonschulz)
    assert source.count("grad.bfloat16()") == 1   # PyTorch changed: look again
    namespace = {}
    exec(source.replace("grad.bfloat16()", "grad.clone()"), vars(torch_muon), namespace)
    return namespace["_zeropower_via_newtonschulz"]


def torch_muon(shapes, settings, bfloat16=False, dtype=np.float64, monkeypatch=None):
    """PyTorch's Muon over ``draws(shapes)``, each weight in PyTorch's layout: the weights
    in nnlab's layout again, and their momentum buffers."""
    torch = pytest.importorskip("torch")
    from torch.optim import _muon
    params, grads = draws(shapes, dtype=dtype)
    weights = [torch.tensor(to_torch_layout(p).copy(), requires_grad=True) for p in params]
    with pytest.MonkeyPatch.context() as mp:
        if not bfloat16:
            mp.setattr(_muon, "_zeropower_via_newtonschulz", exact_newton_schulz(_muon))
        opt = torch.optim.Muon(weights, **settings)
        for gs in grads:
            for w, g in zip(weights, gs, strict=True):
                w.grad = torch.tensor(to_torch_layout(g).copy())
            opt.step()

    def back(t, p):   # PyTorch's layout to nnlab's
        a = t.detach().numpy()
        return a.T if p.ndim == 2 else a.reshape(p.shape)

    return ([back(w, p) for w, p in zip(weights, params, strict=True)],
            [back(opt.state[w]["momentum_buffer"], p) for w, p in zip(weights, params,
                                                                      strict=True)])


# ---------------------------------------------------------------------- PyTorch's Muon

@pytest.mark.parametrize("settings", SETTINGS, ids=["defaults", "heavy-ball-decay",
                                                    "match-rms-adamw", "other-ns"])
def test_muon_takes_pytorch_s_steps(settings):
    theirs, their_buffers = torch_muon(SHAPES, settings)
    opt = Muon(**settings)
    mine = ours(opt, SHAPES)
    for p, q in zip(mine, theirs, strict=True):
        np.testing.assert_allclose(p, q, rtol=0, atol=1e-12)   # measured: 9e-16
    for state, buffer in zip(opt.state, their_buffers, strict=True):
        # gradients up to 20: 20 steps of their average, up to 3e-15 apart (measured)
        np.testing.assert_allclose(state["momentum_buffer"], buffer, rtol=0, atol=1e-13)


def test_muon_in_float32_stays_float32_and_takes_pytorch_s_float32_steps():
    theirs, _ = torch_muon(SHAPES, {"lr": 0.02}, dtype=np.float32)
    opt = Muon(lr=0.02)
    mine = ours(opt, SHAPES, dtype=np.float32)
    assert all(p.dtype == np.float32 for p in mine)
    assert all(a.dtype == np.float32 for s in opt.state for k, a in s.items() if k != "param")
    for p, q in zip(mine, theirs, strict=True):
        np.testing.assert_allclose(p, q, rtol=0, atol=2e-6)   # measured: 6e-7


def test_pytorch_s_bfloat16_iteration_is_the_only_difference():
    # PyTorch 2.13 casts the momentum to bfloat16 for the iteration, on a CPU too (8 bits
    # of mantissa): its weights stray from the exact iteration's by about a tenth of a step.
    theirs, _ = torch_muon(SHAPES, {}, bfloat16=True)
    exact, _ = torch_muon(SHAPES, {})
    mine = ours(Muon(), SHAPES)
    gap = max(np.abs(p - q).max() for p, q in zip(mine, theirs, strict=True))
    assert 1e-7 < gap < 1e-3   # measured: 1.1e-4, 20 steps of lr=1e-3
    np.testing.assert_allclose(flat(mine), flat(exact), rtol=0, atol=1e-12)


GOLDEN_MUON = [   # PyTorch 2.13's (its iteration in float64), SETTINGS over draws(GOLDEN_SHAPES)
    [0.1268533771880976, -0.1373163587974861, 0.6334415120269516, 0.10787645896322691,
     -0.537120687658669, 0.36202608010150916, 1.3060335438094228, 0.9413482605031758,
     -0.699003498815411, -1.2681324284385131, -0.6183899148909046, 0.044934732424275974,
     -2.3222684709007497, -0.22107525239523532, -1.236953093224626, -0.7356917845595814,
     -0.5412561503662231, -0.31267133766462724, 0.40886937507816395, 1.0419674005290638,
     -0.1345915725635573, 1.3646934148673535, -0.657256781234841, 0.3475863308136494,
     0.899411723309827, 0.09132886457351139, -0.7371201601385058, -0.9204748038687157],
    [0.14694484128685834, -0.28704967090995215, 0.2271608046679358, 0.10368101323509148,
     -0.5605999012948709, 0.287106561939581, 1.1469880460864983, 0.6196073267461837,
     -0.4129065119323629, -1.1078194006229667, -0.3168609335984893, 0.19716125780326446,
     -1.8472635715876529, -0.29169817418059507, -0.5997747871776244, -0.8101589333663214,
     -0.3579085582784813, -0.09785646493187199, 0.15955215765583167, 0.8685156321193263,
     -0.3608302819940653, 1.1035435932539415, -0.20453538857586606, 0.19243726912584522,
     0.6277113392898883, -0.057057587407016074, -0.4158255457563623, -0.677172755869009],
    [0.13351803569895823, -0.16311138770844275, 0.6081484942607223, 0.12293682541274534,
     -0.5499374671143279, 0.3681247532720383, 1.3361634483873859, 0.9204411656565489,
     -0.6806783251378046, -1.3017606245044826, -0.5980466051663011, 0.06691045766641131,
     -2.3356733988900937, -0.23417636483276347, -1.2092981248341583, -0.7599257035382012,
     -0.5289311446855242, -0.29231052757559417, 0.3961081121927511, 1.054809232549903,
     -0.17909233235305339, 1.3741314555865947, -0.6122828587777633, 0.3257110583734248,
     0.8854204709070284, 0.07404182101312234, -0.7043002565418414, -0.926458498989673],
    [0.27376991885301527, -0.6736855244352824, -0.10447900984582617, 0.34252049579208715,
     -0.7018898878549555, 0.42409219729508685, 1.533529680029672, 0.41619917481982,
     -0.18445393602113322, -1.5110052934854727, -0.028367651794933904, 0.43626102235748276,
     -2.1121029247302854, -0.33191484099708185, -0.1298243931237562, -1.227459753930601,
     -0.3101228953616617, 0.0317815670939529, 0.1093608030997407, 1.006023240510428,
     -0.6884584418010438, 1.331534317165637, 0.12995732568935567, -0.03199449857828071,
     0.5515166289305428, -0.21875306634382627, -0.20706887854978162, -0.8811371147323349]]


@pytest.mark.parametrize("settings, golden", list(zip(SETTINGS, GOLDEN_MUON, strict=True)))
def test_muon_matches_pytorch_s_golden_values(settings, golden):
    np.testing.assert_allclose(flat(ours(Muon(**settings), GOLDEN_SHAPES)), golden,
                               rtol=0, atol=1e-12)


def test_the_golden_values_are_pytorch_s():
    for settings, golden in zip(SETTINGS, GOLDEN_MUON, strict=True):
        theirs, _ = torch_muon(GOLDEN_SHAPES, settings)
        np.testing.assert_allclose(flat(theirs), golden, rtol=0, atol=1e-15)


def test_muon_defaults_are_pytorch_s_and_keras_s_for_adamw():
    assert Muon().get_config() == {
        "lr": 1e-3, "weight_decay": 0.1, "clipnorm": None, "clipvalue": None,
        "global_clipnorm": None, "momentum": 0.95,
        "nesterov": True, "ns_coefficients": (3.4445, -4.7750, 2.0315), "eps": 1e-7,
        "ns_steps": 5, "adjust_lr_fn": None, "adam_beta1": 0.9, "adam_beta2": 0.999,
        "adam_eps": 1e-7, "adam_weight_decay": 0.004, "adam_lr_ratio": 1.0}
    torch = pytest.importorskip("torch")
    defaults = torch.optim.Muon([torch.zeros(2, 2)]).defaults
    assert {k: v for k, v in defaults.items() if k not in ("ns_coefficients",)} == {
        k: v for k, v in Muon().get_config().items() if k in defaults and k != "ns_coefficients"}
    assert tuple(defaults["ns_coefficients"]) == Muon().ns_coefficients


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


# ------------------------------------------------------------- AdamW for the other arrays

def test_other_arrays_take_nnlab_s_adamw_step_with_the_settings_named():
    shapes = [(7,), (3,), ()]
    settings = {"adam_beta1": 0.8, "adam_beta2": 0.99, "adam_eps": 1e-6,
                "adam_weight_decay": 0.05}
    for ratio in (1.0, 0.25):
        mine = ours(Muon(lr=0.02, adam_lr_ratio=ratio, **settings), shapes)
        theirs = ours(AdamW(lr=0.02 * ratio, beta1=0.8, beta2=0.99, eps=1e-6,
                            weight_decay=0.05), shapes)
        for p, q in zip(mine, theirs, strict=True):
            np.testing.assert_array_equal(p, q)
    mixed = ours(Muon(lr=0.02), [(3, 2), (7,)])[1]   # a matrix beside it changes nothing
    alone = ours(AdamW(lr=0.02, eps=1e-7, weight_decay=0.004), [(3, 2), (7,)])[1]
    np.testing.assert_array_equal(mixed, alone)


KERAS_NAMES = {"lr": "learning_rate", "weight_decay": "weight_decay",
               "adam_beta1": "adam_beta_1", "adam_beta2": "adam_beta_2", "adam_eps": "epsilon",
               "adam_weight_decay": "adam_weight_decay"}


def keras_muon(shapes, **settings):
    params, grads = draws(shapes)
    return keras_steps("Muon", params, grads,
                       **{KERAS_NAMES[k]: v for k, v in settings.items()})


#: Settings float32 holds exactly (Keras keeps 0.9 as float32's 0.8999999762), with Keras's
#: rms_rate=0.2 (PyTorch's "match_rms_adamw").
KERAS_SETTINGS = {"lr": 2**-7, "weight_decay": 2**-5, "adam_beta1": 0.875,
                  "adam_beta2": 1 - 2**-10, "adam_eps": 1e-12, "adam_weight_decay": 2**-8}


def test_muon_is_keras_s_for_vectors_and_nearly_for_matrices():
    # Keras adds its epsilon to sqrt(v), not to sqrt(v_hat): at 1e-12 that is 6e-12 after
    # 20 steps (at its 1e-7, 5e-7). Keras divides U by |U| + 1e-7, PyTorch by
    # max(|U|, 1e-7): 1e-9 after 20 steps.
    shapes = [(5, 3), (3, 5), (4, 4), (7,), (3,)]
    theirs = keras_muon(shapes, **KERAS_SETTINGS)
    mine = ours(Muon(adjust_lr_fn="match_rms_adamw", **KERAS_SETTINGS), shapes)
    for p, q in zip(mine[:3], theirs[:3], strict=True):
        np.testing.assert_allclose(p, q, rtol=0, atol=1e-8)
    for p, q in zip(mine[3:], theirs[3:], strict=True):
        np.testing.assert_allclose(p, q, rtol=0, atol=1e-10)


KERAS_GOLDEN_SHAPES = [(2, 3), (3, 2), (2, 2), (3,), (2,)]
#: Keras 3.15.1's Muon (torch backend, float64 variables), KERAS_SETTINGS over
#: draws(KERAS_GOLDEN_SHAPES): keras_muon(KERAS_GOLDEN_SHAPES, **KERAS_SETTINGS), flattened,
#: the matrices, then the vectors (AdamW's steps).
KERAS_GOLDEN = (
    [0.1347401358878399, -0.135857810602538, 0.6165138294870064, 0.1116233502289624,
     -0.5323961792618883, 0.36305486060992403, 1.294737247957679, 0.9480459085122815,
     -0.6860773926013566, -1.2562080293966515, -0.6119554773325147, 0.04906029898596685,
     -2.302820421584472, -0.22490703671973597, -1.24310981487067, -0.7323443419672564],
    [-0.5652979143457524, -0.33281670925460816, 0.4301773247523192, 1.0848643586759772,
     -0.13930416884896366])


def test_muon_matches_keras_s_golden_values():
    # Within the gaps above: measured, 1.6e-9 for the matrices and 1.9e-12 for the vectors.
    mine = ours(Muon(adjust_lr_fn="match_rms_adamw", **KERAS_SETTINGS), KERAS_GOLDEN_SHAPES)
    np.testing.assert_allclose(flat(mine[:3]), KERAS_GOLDEN[0], rtol=0, atol=1e-8)
    np.testing.assert_allclose(flat(mine[3:]), KERAS_GOLDEN[1], rtol=0, atol=1e-10)


def test_the_keras_golden_values_are_keras_s():
    theirs = keras_muon(KERAS_GOLDEN_SHAPES, **KERAS_SETTINGS)
    np.testing.assert_allclose(flat(theirs[:3]), KERAS_GOLDEN[0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(flat(theirs[3:]), KERAS_GOLDEN[1], rtol=0, atol=1e-15)


def test_muon_keeps_one_array_per_matrix_and_adamw_s_two_for_the_rest():
    params = [np.ones((64, 32)), np.ones(32), np.ones((8, 4, 3, 3))]
    sizes = {}
    for opt in (Muon(), O.Adam()):
        opt.step(params, [np.ones_like(p) for p in params])
        sizes[type(opt).__name__] = sum(a.size for s in opt.state for k, a in s.items()
                                        if k != "param" and not k.startswith("scratch"))
    assert sizes == {"Muon": 64 * 32 + 2 * 32 + 8 * 4 * 3 * 3,
                     "Adam": 2 * (64 * 32 + 32 + 8 * 4 * 3 * 3)}


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
