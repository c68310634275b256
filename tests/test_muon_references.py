"""Muon (nnlab.lean_optimizers) against PyTorch 2.13's torch.optim.Muon for the matrices (its
Newton-Schulz iteration in float64, not bfloat16), and against nnlab's AdamW and Keras's Muon
for the other arrays: live when installed, and with golden values that they computed."""

import inspect

import numpy as np
import pytest

from nnlab import optimizers as O
from nnlab.adam import AdamW
from nnlab.lean_optimizers import Muon
from tests.helpers import keras_steps
from tests.muon_cases import draws

#: Dense weights (n_in, n_out) wide, tall, square, a row and a column; a conv kernel whose
#: matrix (out, in*kh*kw) is wide, and one whose matrix is tall (16 > 1*3*3).
SHAPES = [(5, 3), (3, 5), (4, 4), (1, 6), (6, 1), (20, 7), (4, 3, 3, 2), (16, 1, 3, 3)]
GOLDEN_SHAPES = [(2, 3), (3, 2), (2, 2), (3, 1, 2, 2)]
SETTINGS = [{},
            {"lr": 0.05, "momentum": 0.8, "nesterov": False, "weight_decay": 0.3},
            {"lr": 0.02, "adjust_lr_fn": "match_rms_adamw", "weight_decay": 0.0},
            {"lr": 0.1, "adjust_lr_fn": "original", "ns_steps": 3, "eps": 1e-3,
             "ns_coefficients": (2.0, -1.5, 0.5)}]


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


def torch_muon(shapes, settings, bfloat16=False, dtype=np.float64):
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
