"""Tests of what the optimizers check and keep: hyper-parameters, parameters and gradients
refused before any update, state tied to one model, names, configuration, float32 steps."""

import inspect
import re

import numpy as np
import pytest

import nnlab as nl
from nnlab import optimizers as O
from tests.optimizer_cases import Float32Only


def test_updates_in_place_and_keeps_dtype():
    p = np.ones(3, dtype=np.float32)
    ident = id(p)
    opt = O.Adam(0.1)
    opt.step([p], [np.ones(3, dtype=np.float32)])
    assert id(p) == ident and p.dtype == np.float32
    assert all(a.dtype == np.float32 for a in opt.state[0].values())


@pytest.mark.parametrize("make,match", [
    (lambda: O.SGD(lr=0), r"^SGD lr must be in \(0, inf\); got 0$"),
    (lambda: O.SGD(lr=-1), r"^SGD lr must be in \(0, inf\); got -1$"),
    (lambda: O.SGD(0.1, momentum=1.0), r"^SGD momentum must be in \[0, 1\); got 1.0$"),
    (lambda: O.SGD(0.1, nesterov=True), "nesterov=True needs a momentum > 0; got momentum=0"),
    (lambda: O.Adam(beta1=1.0), r"^Adam beta1 must be in \[0, 1\); got 1.0$"),
    (lambda: O.RMSprop(eps=0), r"^RMSprop eps must be in \(0, inf\); got 0$"),
    (lambda: O.AdaGrad(weight_decay=-1), r"^AdaGrad weight_decay must be in \[0, inf\); got -1$"),
    (lambda: O.AdamW(lr=0), "AdamW lr"),
    (lambda: O.AdamW(weight_decay=-0.01), r"weight_decay must be in \[0, inf\); got -0.01"),
    (lambda: O.AdamW(weight_decay=float("nan")), "weight_decay must be finite"),
    (lambda: O.AdamW(beta2=1.0), "beta2"),
    (lambda: O.AdamW(eps=0.0), "eps"),
    (lambda: O.AdamW(clipnorm=0), "clipnorm"),
    (lambda: O.Adadelta(rho=1.0), "rho"),
    (lambda: O.Adadelta(eps=-1e-6), "eps"),
    (lambda: O.Adamax(beta1=-0.1), "beta1"),
    (lambda: O.Adamax(eps=0), "eps"),
    (lambda: O.NAdam(beta2=1.5), "beta2"),
    (lambda: O.NAdam(momentum_decay=-0.004), "momentum_decay"),
    (lambda: O.NAdam(momentum_decay=float("inf")), "momentum_decay"),
    (lambda: O.get("adabelief"), "valid names are"),
])
def test_invalid_hyper_parameters(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_mismatched_lists_and_shapes_change_nothing():
    opt = O.Adam(0.1)
    p = np.ones(2)
    with pytest.raises(ValueError, match="2 parameter arrays but 1"):
        opt.step([p, p], [p])
    with pytest.raises(ValueError, match="shape"):
        opt.step([p], [np.ones(3)])
    assert np.array_equal(p, np.ones(2)) and opt.state is None and opt.iterations == 0
    opt.step([p], [np.ones(2)])
    with pytest.raises(ValueError, match="reset"):
        opt.step([np.ones(4)], [np.ones(4)])


def test_a_non_finite_gradient_is_refused_before_any_update():
    opt = O.Adam(0.1)
    p, q = np.ones(2), np.ones(3)
    with pytest.raises(ValueError, match=r"Adam.step: gradient 1 contains NaN or inf"):
        opt.step([p, q], [np.ones(2), np.array([0.0, np.nan, 1.0])])
    assert np.array_equal(p, np.ones(2)) and opt.state is None and opt.iterations == 0


def test_a_model_that_grew_after_fitting_is_refused_before_any_update():
    X, y = np.ones((4, 3)), np.ones((4, 1))
    opt = O.SGD(0.1, momentum=0.9)
    model = nl.Sequential([nl.Dense(3, 1, rng=0)])
    model.compile("mse", opt)
    model.fit(X, y, batch_size=4)
    model.add(nl.Dense(1, 1, rng=1))
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"not the parameter arrays .* call reset\(\)"):
        model.fit(X, y, batch_size=4)
    assert opt.iterations == 1
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    opt.reset()
    model.fit(X, y, batch_size=4)
    assert opt.iterations == 1


def test_an_optimizer_is_not_shared_by_two_models_of_the_same_shapes():
    # Its momentum belongs to the first model's arrays (PyTorch keys state by parameter).
    X, y = np.ones((4, 3)), np.ones((4, 1))
    opt = O.Adam(0.1)
    first, second = (nl.Sequential([nl.Dense(3, 1, rng=0)]) for _ in range(2))
    first.compile("mse", opt)
    first.fit(X, y, batch_size=4)
    second.compile("mse", opt)
    before = second.get_weights()
    with pytest.raises(ValueError, match="used for another model"):
        second.fit(X, y, batch_size=4)
    np.testing.assert_array_equal(before[0], second.get_weights()[0])
    with pytest.raises(ValueError, match="not the parameter arrays"):
        opt.step([np.ones((3, 1)), np.ones(1)], [np.ones((3, 1)), np.ones(1)])


@pytest.mark.parametrize("name,kwargs,match", [
    ("adam", {"momentum": 0.9}, "'adam' takes no argument momentum; its arguments are: lr, "),
    ("nesterov", {"betas": 1}, "'nesterov' takes no argument betas"),
])
def test_get_refuses_arguments_the_optimizer_does_not_take(name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        O.get(name, **kwargs)
    assert O.get("nesterov", lr=0.5).lr == 0.5


def test_gradients_may_be_array_likes():
    p, q = np.zeros(2), np.zeros((1, 2), dtype=np.float32)
    O.SGD(0.5, weight_decay=0.1, clipnorm=10.0).step((p, q), ([1.0, 2.0], [[1, 2]]))
    np.testing.assert_array_equal(p, [-0.5, -1.0])
    assert q.dtype == np.float32 and np.array_equal(q, [[-0.5, -1.0]])


@pytest.mark.parametrize("grad,match", [
    (np.array([1j, 2.0]), "real numbers; got dtype complex128"),
    (["a", "b"], "real numbers; got dtype <U1"),
    (np.array([0.5, None]), "real numbers; got dtype object"),
    ([[1.0], [1.0, 2.0]], "gradient 1 is not an array"),
])
def test_gradients_must_be_real_numbers(grad, match):
    p, q = np.zeros(2), np.zeros(2)
    with pytest.raises(ValueError, match=match):
        O.SGD(0.1).step([p, q], [np.ones(2), grad])
    assert not p.any() and not q.any()


def test_every_parameter_is_checked_before_the_first_update():
    p, frozen = np.zeros(2), np.zeros(2)
    frozen.flags.writeable = False
    opt = O.Adam(0.1)
    with pytest.raises(ValueError, match="parameter 1 must be a writeable floating ndarray"):
        opt.step([p, frozen], [np.ones(2), np.ones(2)])
    assert not p.any() and opt.state is None and opt.iterations == 0


@pytest.mark.parametrize("name", O.NAMES)
@pytest.mark.parametrize("dtype", [np.float16, np.longdouble])
def test_parameters_other_than_float32_or_float64_are_refused(name, dtype):
    # In float16, Adam's eps (1e-8) rounds to 0: its steps were NaN, in silence.
    if np.dtype(dtype) == np.float64:   # (a platform whose long double is a double)
        pytest.skip("np.longdouble is float64 here")
    p, other = np.zeros(2), np.zeros(2, dtype)
    opt = O.get(name)
    with pytest.raises(ValueError, match=re.escape(
            f"parameter 1 has dtype {np.dtype(dtype)}; expected float32 or float64")):
        opt.step([p, other], [np.ones(2), np.ones(2)])
    assert not p.any() and not other.any() and opt.state is None and opt.iterations == 0


@pytest.mark.parametrize("params,grads", [
    (np.zeros(2), [np.ones(2)]),                 # one array, not a list of arrays
    (np.zeros((2, 2)), np.ones((2, 2))),         # rows would pass for parameters
    ([np.zeros(2)], (g for g in [np.ones(2)])),
])
def test_params_and_grads_are_lists(params, grads):
    with pytest.raises(ValueError, match="lists of arrays"):
        O.SGD(0.1).step(params, grads)
    assert not np.any(params)


def test_get_by_name():
    assert isinstance(O.get("adam"), O.Adam)
    adamw = O.get("adamw")
    assert type(adamw) is O.AdamW and adamw.weight_decay == 0.01 and adamw.lr == 1e-3
    assert O.get("adamw", weight_decay=0.1).weight_decay == 0.1
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.compile("mse", optimizer="adamw")
    assert type(model.optimizer) is O.AdamW
    assert O.get("nesterov").nesterov and O.get("momentum").momentum == 0.9
    assert O.get("rmsprop", lr=0.5).lr == 0.5
    with pytest.raises(ValueError, match=r"^optimizer Adam is a class: pass an instance, "
                                         r"Adam\(\), or a name, one of: .*adam"):
        model.compile("mse", optimizer=O.Adam)


def test_get_refuses_arguments_for_a_ready_optimizer():
    opt = O.SGD()
    assert O.get(opt) is opt
    with pytest.raises(ValueError, match=r"constructor arguments \{'lr': 0.5\} need an "
                                         "optimizer name"):
        O.get(opt, lr=0.5)


@pytest.mark.parametrize("name", O.NAMES)
def test_get_config_rebuilds_the_optimizer(name):
    opt = O.get(name, lr=0.05, weight_decay=0.01, clipnorm=2.0)
    copy = type(opt)(**opt.get_config())
    assert copy.get_config() == opt.get_config() and repr(copy) == repr(opt)
    p, q = np.ones(3), np.ones(3)
    for g in (np.array([0.5, -1.0, 2.0]), np.array([3.0, 0.1, -0.2])):
        opt.step([p], [g])
        copy.step([q], [g])
    np.testing.assert_array_equal(p, q)
    opt.reset()
    assert opt.state is None and opt.iterations == 0
    opt.step([np.ones(4)], [np.ones(4)])     # other shapes are fine after a reset


def test_repr_shows_the_schedule():
    schedule = O.step_decay(0.1, 0.5, 10)
    opt = O.SGD(schedule)
    assert f"lr={schedule!r}" in repr(opt) and opt.get_config()["lr"] is None


@pytest.mark.parametrize("name", O.NAMES)
@pytest.mark.parametrize("numpy_scalars", [False, True, "set"])
def test_float32_steps_compute_in_float32(name, numpy_scalars):
    """Every operation of a float32 step is a float32 operation, also with hyper-parameters
    given as NumPy float64 scalars (``np.logspace`` yields those), to the constructor or
    set between steps (a one-cycle schedule's ``np.cos``: they stayed NumPy's)."""
    own = {"momentum": {"momentum": 0.8}, "nesterov": {"momentum": 0.8},
           "adagrad": {"eps": 1e-9}, "rmsprop": {"rho": 0.8, "eps": 1e-9},
           "adam": {"beta1": 0.8, "beta2": 0.99, "eps": 1e-9},
           "adamw": {"beta1": 0.8, "beta2": 0.99, "eps": 1e-9},
           "adadelta": {"rho": 0.8, "eps": 1e-5},
           "adamax": {"beta1": 0.8, "beta2": 0.99, "eps": 1e-9},
           "nadam": {"beta1": 0.8, "beta2": 0.99, "eps": 1e-9, "momentum_decay": 0.01}}
    hyper = {"lr": 0.01, "weight_decay": 0.001, "clipnorm": 1.0, **own.get(name, {})}
    if numpy_scalars is True:
        hyper = {k: np.float64(v) for k, v in hyper.items()}
    opt = O.get(name, **hyper)
    rng = np.random.default_rng(0)
    p = rng.normal(size=(4, 3)).astype(np.float32).view(Float32Only)
    for _ in range(3):
        opt.step([p], [rng.normal(size=(4, 3)).astype(np.float32).view(Float32Only)])
        if numpy_scalars == "set":
            for key, value in opt.get_config().items():
                if type(value) in (int, float):
                    setattr(opt, key, np.array(value)[()])   # np.float64 or np.int64
                    assert type(getattr(opt, key)) is type(value)
    assert p.dtype == np.float32


def test_nesterov_is_a_boolean():
    for bad in ("no", 1, None):
        with pytest.raises(ValueError, match="nesterov must be True or False"):
            O.SGD(0.1, momentum=0.9, nesterov=bad)


def hyper_parameters():
    """(class, name) of every number an optimizer's constructor takes, lr aside."""
    classes = {type(O.get(name)) for name in O.NAMES}
    return sorted(((cls, name) for cls in classes
                   for name, p in inspect.signature(cls).parameters.items()
                   if name != "lr" and type(p.default) in (int, float)),
                  key=lambda case: (case[0].__name__, case[1]))


@pytest.mark.parametrize("cls,name", hyper_parameters(),
                         ids=lambda case: getattr(case, "__name__", case))
def test_a_bad_hyper_parameter_names_its_optimizer(cls, name):
    # Adam's "beta1 must be in [0, 1)" left a reader of a long traceback to guess whose.
    with pytest.raises(ValueError, match=rf"^{cls.__name__}\W.*{re.escape(name)}"):
        cls(**{name: float("nan")})


@pytest.mark.parametrize(("param", "got"), [
    ([0.0, 0.0], "got a list"), (np.zeros(2, dtype=int), "got dtype int"),
    (np.zeros(2), "got a read-only array")])
def test_a_parameter_that_cannot_be_updated_in_place_says_what_it_is(param, got):
    if isinstance(param, np.ndarray) and param.dtype.kind == "f":
        param.flags.writeable = False
    with pytest.raises(ValueError, match=rf"updated in place\); {got}"):
        O.SGD(0.1).step([param], [np.ones(2)])
