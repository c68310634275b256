"""Lion (as Keras 3's) and Adafactor (as PyTorch's): the optimizers of nnlab.lean_optimizers.

Each is compared with its reference over 20 steps, when that reference is installed, and
with golden values that it computed (kept here for a machine without it).
"""

import re

import numpy as np
import pytest

import nnlab as nl
from nnlab import optimizers as O
from nnlab.saving import ModelFileError
from tests.helpers import keras_steps, resumed_training

#: A vector, a matrix and a convolution kernel (out, in, kh, kw), for the references.
SHAPES = [(7,), (5, 3), (4, 3, 3, 2)]
#: Smaller ones for the golden values.
GOLDEN_SHAPES = [(3,), (2, 3), (2, 1, 2, 2)]


def draws(shapes, steps=20, seed=0):
    """Starting weights and the gradients of every step, ever larger (step t: times t):
    Adafactor's averages lag behind them, and its update clipping comes into play."""
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=s) for s in shapes]
    grads = [[rng.normal(size=s) * (1 + t) for s in shapes] for t in range(steps)]
    return params, grads


def ours(optimizer, shapes):
    params, grads = draws(shapes)
    for g in grads:
        optimizer.step(params, g)
    return params


def flat(arrays):
    return np.concatenate([np.ravel(a) for a in arrays])


# ---------------------------------------------------------------- Adafactor and PyTorch

ADAFACTOR_SETTINGS = [{}, {"lr": 0.5, "beta2_decay": -0.5, "eps1": 1e-4, "eps2": 1e-2,
                           "d": 2.0, "weight_decay": 0.1},
                      # floors that act: eps2 above the weights' RMS (about 1), eps1 above
                      # some of the sqrt(V) (the settings above never reach theirs)
                      {"lr": 0.05, "eps1": 0.3, "eps2": 3.0}]


def torch_adafactor(shapes, grads=None, **settings):
    """PyTorch's Adafactor over ``draws(shapes)`` (or these ``grads``): weights and state."""
    torch = pytest.importorskip("torch")
    params, drawn = draws(shapes)
    weights = [torch.tensor(p, requires_grad=True) for p in params]
    if "eps1" in settings or "eps2" in settings:   # PyTorch's pair eps = (eps1, eps2)
        settings["eps"] = (settings.pop("eps1", None), settings.pop("eps2", 1e-3))
    opt = torch.optim.Adafactor(weights, **settings)
    for gs in drawn if grads is None else grads:
        for w, g in zip(weights, gs, strict=True):
            w.grad = torch.tensor(g)
        opt.step()
    return [w.detach().numpy() for w in weights], [opt.state[w] for w in weights]


@pytest.mark.parametrize("settings", ADAFACTOR_SETTINGS)
def test_adafactor_takes_pytorch_s_steps(settings):
    theirs, their_state = torch_adafactor(SHAPES, **settings)
    opt = O.Adafactor(**settings)
    mine = ours(opt, SHAPES)
    for p, q in zip(mine, theirs, strict=True):
        np.testing.assert_allclose(p, q, rtol=0, atol=1e-12)   # measured: 2e-15
    for state, torch_state in zip(opt.state, their_state, strict=True):
        for key in ("row_var", "col_var", "variance"):
            if key in torch_state:
                np.testing.assert_allclose(state[key], torch_state[key].numpy(), rtol=1e-12)
        assert set(torch_state) - {"step"} == set(opt.squares) & set(state)


def test_adafactor_steps_as_pytorch_s_after_zero_gradients():
    # A zero gradient makes every average 0 at the first step: eps1 keeps the division
    # of V by the mean of R, and of g by sqrt(V), finite (and the step 0).
    zero = [np.zeros(s) for s in SHAPES]
    _, grads = draws(SHAPES, steps=3)
    theirs, _ = torch_adafactor(SHAPES, grads=[zero, *grads])
    params, _ = draws(SHAPES)
    opt = O.Adafactor()
    opt.step(params, zero)
    assert np.array_equal(flat(params), flat(draws(SHAPES)[0]))
    for g in grads:
        opt.step(params, g)
    np.testing.assert_allclose(flat(params), flat(theirs), rtol=0, atol=1e-12)


GOLDEN_ADAFACTOR = [   # PyTorch 2.13's, from ADAFACTOR_SETTINGS over draws(GOLDEN_SHAPES)
    [0.11337621090206401, -0.11759909305875631, 0.6258083686745031, 0.12364774676240797,
     -0.584011879540571, 0.39205862052948487, 1.2958700674130927, 0.9394827283853259,
     -0.686463098476158, -1.27137736937348, -0.5194967626392865, 0.01859014407361794,
     -2.334231213212258, -0.17206624444353905, -1.156589218737639, -0.8014964149797418,
     -0.5682634563716892],
    [-0.01650228737106253, -0.024660934212622023, 0.00048091451492911924, 0.5596562583891704,
     -0.9628463680673133, 0.8433150586236466, 0.4021250026437081, 0.26502531215952085,
     0.14147629369392328, -0.4213561685667215, 4.211070378072908, -1.4330235248585317,
     -0.7741868191009225, 1.8443043719028152, 4.224791886674274, -2.2747866330130786,
     -0.487899483652226],
    [-0.3658607730879249, 0.45145045818435264, 0.07160877506109053, 0.47813210462155065,
     -1.4939894060862449, 0.9678210186933482, 1.2190542663976272, 0.791627353880946,
     -0.36679737788396705, -1.3481587694338966, 0.7788391638969169, -0.26377019486382797,
     -2.452111033716303, 0.41532296417874237, -0.04382552780637138, -1.6641201339506626,
     -0.8509993863795766]]


@pytest.mark.parametrize("settings, golden",
                         list(zip(ADAFACTOR_SETTINGS, GOLDEN_ADAFACTOR, strict=True)))
def test_adafactor_matches_pytorch_s_golden_values(settings, golden):
    np.testing.assert_allclose(flat(ours(O.Adafactor(**settings), GOLDEN_SHAPES)), golden,
                               rtol=0, atol=1e-12)


def test_adafactor_defaults_are_pytorch_s():
    config = O.Adafactor().get_config()
    assert config == {"lr": 1e-2, "weight_decay": 0.0, "clipnorm": None, "clipvalue": None,
                      "global_clipnorm": None, "beta2_decay": -0.8, "eps1": None,
                      "eps2": 1e-3, "d": 1.0}


def test_adafactor_keeps_row_and_column_averages_of_a_matrix():
    opt = O.Adafactor()
    params = [np.ones((6, 5, 3, 4)), np.ones((30, 20)), np.ones(7), np.ones(())]
    opt.step(params, [np.ones_like(p) for p in params])
    kept = [{k: a.shape for k, a in s.items() if k != "param" and not k.startswith("scratch")}
            for s in opt.state]
    assert kept == [{"row_var": (6, 5, 3, 1), "col_var": (6, 5, 1, 4)},
                    {"row_var": (30, 1), "col_var": (1, 20)},   # 50 numbers, not 600
                    {"variance": (7,)}, {"variance": ()}]


def test_adafactor_s_step_is_relative_to_the_weights_and_clipped():
    # Step 1: U = g / |g| = sign(g), RMS 1, so each weight moves by rho_1 RMS(p) = 0.01 RMS(p).
    p = np.array([3.0, -4.0])
    O.Adafactor().step([p], [np.array([1e6, -1e-6])])
    np.testing.assert_allclose(p, [3.0, -4.0] - 0.01 * np.sqrt(12.5) * np.array([1, -1]))
    # Weights of zero still move: by eps2 = 1e-3 times rho.
    q = np.zeros(3)
    O.Adafactor(lr=0.5).step([q], [np.array([1.0, -1.0, 2.0])])
    np.testing.assert_allclose(q, [-5e-4, 5e-4, -5e-4])


def test_adafactor_s_weight_decay_is_decoupled():
    # A zero gradient steps by nothing: only the decay, by lr * weight_decay, moves p.
    p = np.array([2.0, -1.0])
    O.Adafactor(lr=0.1, weight_decay=0.5).step([p], [np.zeros(2)])
    np.testing.assert_allclose(p, [1.9, -0.95], rtol=1e-15)


@pytest.mark.parametrize("empty", [(0,), (0, 3), (3, 0), (2, 0, 3)])
def test_adafactor_gives_an_empty_array_no_step_and_steps_the_others_as_without_it(empty):
    # An empty array's RMS divided by its size, 0: a ZeroDivisionError once the arrays
    # before it had been updated.
    shapes = [(3,), (2, 3)]
    settings = {"lr": 0.5, "weight_decay": 0.1}
    params, grads = draws(shapes, steps=5)
    without = [p.copy() for p in params]
    hollow = np.zeros(empty)
    with_it, without_it = O.Adafactor(**settings), O.Adafactor(**settings)
    for g in grads:
        with_it.step([params[0], hollow, params[1]], [g[0], np.zeros(empty), g[1]])
        without_it.step(without, g)
    for ours_, theirs in zip(params, without, strict=True):
        np.testing.assert_array_equal(ours_, theirs)


@pytest.mark.parametrize("kwargs, message", [
    ({"beta2_decay": 0.1}, "beta2_decay must be in (-inf, 0]; got 0.1"),
    ({"eps1": 0.0}, "eps1 must be in (0, inf); got 0.0"),
    ({"eps1": "tiny"}, "eps1 must be a real number; got 'tiny'"),
    ({"eps2": -1e-3}, "eps2 must be in [0, inf); got -0.001"),
    ({"d": 0.5}, "d must be in [1, inf); got 0.5"),
    ({"lr": 0}, "Adafactor lr must be in (0, inf); got 0"),
    ({"weight_decay": -1}, "weight_decay must be in [0, inf); got -1"),
])
def test_adafactor_refuses_bad_hyper_parameters(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        O.Adafactor(**kwargs)


# -------------------------------------------------------------------- Lion and Keras

LION_SETTINGS = [{}, {"lr": 2**-7, "beta1": 0.8, "beta2": 0.95, "weight_decay": 0.25}]
KERAS_NAMES = {"lr": "learning_rate", "beta1": "beta_1", "beta2": "beta_2",
               "weight_decay": "weight_decay"}


def keras_lion(shapes, **settings):
    params, grads = draws(shapes)
    return keras_steps("Lion", params, grads,
                       **{KERAS_NAMES[k]: v for k, v in settings.items()})


@pytest.mark.parametrize("settings", LION_SETTINGS)
def test_lion_takes_keras_s_steps(settings):
    theirs = keras_lion(SHAPES, **settings)
    mine = ours(O.Lion(**settings), SHAPES)
    # Keras keeps its rate in float32: 0.001 is 4.7e-11 more, 1e-9 after 20 steps. A rate
    # that float32 holds exactly (1/128) gives exactly the same weights.
    atol = 1e-9 if settings.get("lr", 1e-3) == 1e-3 else 0
    np.testing.assert_allclose(flat(mine), flat(theirs), rtol=0, atol=atol)


GOLDEN_LION = [   # Keras 3.15.1's, with lr 2**-10 and then LION_SETTINGS[1]
    [0.1237770960933933, -0.1321048632913019, 0.6365164004432821, 0.10880636715303971,
     -0.541528748161111, 0.36745442990948474, 1.3079062951301372, 0.9451278381292422,
     -0.7017821108069926, -1.2654214710460525, -0.6115557125373522, 0.0413259793472436,
     -2.3289370246388343, -0.21488541393254573, -1.2361453222530652, -0.7381267297034516,
     -0.5481652328573099],
    [0.10573732804699149, -0.12613985812283515, 0.6010507863888137, 0.13092343287224634,
     -0.5920494609344489, 0.3943014129556926, 1.2850913547888405, 0.8798460466912555,
     -0.6460455170972694, -1.217199844142193, -0.507254557725465, 0.024387681142613526,
     -2.266129636281689, -0.17969654679737013, -1.136601774089148, -0.7500980061931669,
     -0.5533448661968117]]


@pytest.mark.parametrize("settings, golden",
                         list(zip([{"lr": 2**-10}, LION_SETTINGS[1]], GOLDEN_LION, strict=True)))
def test_lion_matches_keras_s_golden_values(settings, golden):
    np.testing.assert_allclose(flat(ours(O.Lion(**settings), GOLDEN_SHAPES)), golden,
                               rtol=0, atol=1e-15)


def test_lion_defaults_are_keras_s():
    assert O.Lion().get_config() == {"lr": 1e-3, "weight_decay": 0.0, "clipnorm": None,
                                     "clipvalue": None, "global_clipnorm": None,
                                     "beta1": 0.9, "beta2": 0.99}


def test_lion_steps_by_the_sign_of_a_mix_of_momentum_and_gradient():
    p = np.zeros(2)
    opt = O.Lion(lr=0.1, beta1=0.5, beta2=0.75)
    opt.step([p], [np.array([4.0, -4.0])])     # m = 0: sign(g); then m = 0.25 g = (1, -1)
    np.testing.assert_array_equal(p, [-0.1, 0.1])
    np.testing.assert_array_equal(opt.state[0]["momentum"], [1.0, -1.0])
    opt.step([p], [np.array([-3.0, -0.5])])    # c = 0.5 m + 0.5 g = (-1, -0.75)
    np.testing.assert_allclose(p, [0.0, 0.2])
    np.testing.assert_array_equal(opt.state[0]["momentum"], [0.0, -0.875])


def test_lion_with_beta1_below_one_half_steps_by_the_same_mix():
    # beta1 < 0.5 takes another branch of the sign's computation: c = 0.2 m + 0.8 g still.
    p = np.zeros(2)
    opt = O.Lion(lr=0.1, beta1=0.2, beta2=0.5)
    opt.step([p], [np.array([1.0, -1.0])])     # m = 0: sign(g); then m = 0.5 g = (0.5, -0.5)
    opt.step([p], [np.array([-0.5, -0.1])])    # c = (0.1 - 0.4, -0.1 - 0.08) = (-0.3, -0.18)
    np.testing.assert_allclose(p, [0.0, 0.2])


def test_lion_with_beta1_1_steps_by_the_momentum_alone_whatever_the_gradient():
    # c = m exactly: a gradient 1e17 times the momentum must not round it away.
    p = np.zeros(1)
    opt = O.Lion(lr=0.1, beta1=1.0, beta2=0.5)
    opt.step([p], [np.array([1.0])])       # m = 0: c = 0, no step; then m = 0.5
    opt.step([p], [np.array([1e17])])      # c = m = 0.5
    np.testing.assert_array_equal(p, [-0.1])


def test_lion_s_weight_decay_is_decoupled():
    # With a zero gradient the sign is 0: only the decay moves p, by lr * weight_decay.
    # (Added to the gradient, it would take a full step of lr by its sign instead.)
    p = np.array([2.0, -1.0])
    O.Lion(lr=0.1, weight_decay=0.5).step([p], [np.zeros(2)])
    np.testing.assert_allclose(p, [1.9, -0.95], rtol=1e-15)


@pytest.mark.parametrize("kwargs, message", [
    ({"beta1": 0.0}, "beta1 must be in (0, 1]; got 0.0"),
    ({"beta1": 1.5}, "beta1 must be in (0, 1]; got 1.5"),
    ({"beta2": 1.0}, "beta2 must be in [0, 1); got 1.0"),
    ({"beta2": None}, "beta2 must be a real number; got None"),
    ({"lr": -1e-3}, "Lion lr must be in (0, inf); got -0.001"),
])
def test_lion_refuses_bad_hyper_parameters(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        O.Lion(**kwargs)


# ------------------------------------------------------------------------ both of them

@pytest.mark.parametrize("name, cls", [("lion", O.Lion), ("Lion", O.Lion),
                                       ("adafactor", O.Adafactor), ("Adafactor", O.Adafactor)])
def test_get_finds_them_by_keras_s_names(name, cls):
    assert type(O.get(name)) is cls and name.lower() in O.NAMES
    assert O.get(name, lr=0.05).lr == 0.05


def test_lion_keeps_one_array_per_weight_array_and_adafactor_less():
    params = [np.ones((64, 32)), np.ones(32)]
    sizes = {}
    for opt in (O.Lion(), O.Adafactor(), O.Adam()):
        opt.step(params, [np.ones_like(p) for p in params])
        sizes[type(opt).__name__] = sum(a.size for s in opt.state for k, a in s.items()
                                        if k != "param" and not k.startswith("scratch"))
    assert sizes == {"Lion": 64 * 32 + 32, "Adafactor": 64 + 32 + 32,
                     "Adam": 2 * (64 * 32 + 32)}


@pytest.mark.parametrize("optimizer", [lambda: O.Lion(0.01, weight_decay=0.1),
                                       lambda: O.Adafactor(eps1=1e-20, d=1.5, weight_decay=0.01),
                                       lambda: O.Adafactor()], ids=["lion", "adafactor",
                                                                    "adafactor-defaults"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_training_resumed_after_loading_takes_the_steps_it_would_have_taken(
        tmp_path, optimizer, dtype):
    resumed_training(optimizer, dtype, tmp_path)


def test_a_negative_average_of_squares_in_adafactor_s_state_is_refused(tmp_path):
    model = nl.Sequential([nl.Dense(2, 3, rng=0)])
    model.compile("mse", "adafactor")
    model.fit(np.ones((4, 2)), np.ones((4, 3)), epochs=1, batch_size=4, verbose=0)
    model.optimizer.state[0]["col_var"][0, 1] = -1.0
    with pytest.raises(ModelFileError, match=r"array 'optimizer.0.col_var' holds squares, "
                                             "variances or sizes; expected values >= 0"):
        nl.load_model(model.save(tmp_path / "adafactor"))


def test_adafactor_with_a_tiny_eps1_keeps_rows_of_zero_gradients_finite():
    # Keras's epsilon_1 is 1e-30, whose square is 0 in float32: the floor is taken under
    # sqrt(V), not under V, so a row that never had a gradient divides 0 by eps1, not 0 by 0.
    p = np.ones((3, 4), np.float32)
    g = np.zeros((3, 4), np.float32)
    g[0] = 1
    with np.errstate(all="raise"):
        nl.optimizers.Adafactor(eps1=1e-30).step([p], [g])
    assert np.isfinite(p).all() and (p[1:] == 1).all() and (p[0] < 1).all()
