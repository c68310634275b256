"""Training resumed from a model file takes the steps it would have taken: the optimizer's
state and step count, clipping, version-1 files and learning-rate schedules, each checked."""

import warnings

import numpy as np
import pytest

import nnlab as nl
from nnlab.training_state import NotSavedWarning
from tests.helpers import resumed_training
from tests.saving_cases import edited, header_of, loading_fails, members, small_model
from tests.saving_cases import good as good  # a fixture: the alias keeps it imported

# --- the optimizer's state and step count ---------------------------------------------


OPTIMIZERS = {"Adam": lambda: nl.optimizers.Adam(0.01),
              "AdamW": lambda: nl.optimizers.AdamW(0.01, weight_decay=0.1),
              "RMSprop": lambda: nl.optimizers.RMSprop(0.01),
              "AdaGrad": lambda: nl.optimizers.AdaGrad(0.1),
              "Nesterov": lambda: nl.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
              "SGD": lambda: nl.optimizers.SGD(0.1),
              "Adadelta": lambda: nl.optimizers.Adadelta(),
              "Adamax": lambda: nl.optimizers.Adamax(0.01),
              "NAdam": lambda: nl.optimizers.NAdam(0.01)}


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_training_resumed_after_loading_takes_the_steps_it_would_have_taken(
        tmp_path, optimizer, dtype):
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = (X[:, :1] * X[:, 1:] > 0).astype(float)
    model = nl.Sequential([nl.Dense(2, 4, rng=0, dtype=dtype), nl.BatchNorm(4, dtype=dtype),
                           nl.Activation("tanh"), nl.Dense(4, 1, rng=1, dtype=dtype)])
    model.compile(nl.losses.BinaryCrossEntropy(from_logits=True),
                  OPTIMIZERS[optimizer]())
    model.fit(X, y, epochs=3, batch_size=8, seed=0)
    loaded = nl.load_model(model.save(tmp_path / "paused"))
    assert loaded.optimizer.iterations == model.optimizer.iterations == 15
    for m in (model, loaded):
        m.fit(X, y, epochs=2, batch_size=8, seed=1)
    for ours, theirs in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
        assert theirs.dtype == dtype


def test_adamw_is_saved_and_loaded_as_adamw_with_its_decoupled_weight_decay(tmp_path):
    # An Adam with the same weight_decay would add it to the gradient: not the same steps.
    model = nl.Sequential([nl.Dense(2, 3, rng=0), nl.Activation("tanh"), nl.Dense(3, 1, rng=1)])
    model.compile("mse", nl.optimizers.AdamW(0.02, beta2=0.99, weight_decay=0.3, clipnorm=5.0))
    X = np.random.default_rng(0).normal(size=(8, 2))
    model.fit(X, X[:, :1] - X[:, 1:], epochs=2, batch_size=4, seed=0)
    path = model.save(tmp_path / "adamw")
    assert header_of(path)["compile"]["optimizer"] == {
        "name": "adamw", "iterations": 4,
        "config": {"lr": 0.02, "weight_decay": 0.3, "clipnorm": 5.0, "beta1": 0.9,
                   "beta2": 0.99, "eps": 1e-8}}
    loaded = nl.load_model(path)
    assert type(loaded.optimizer) is nl.optimizers.AdamW
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    for ours, theirs in zip(model.optimizer.state, loaded.optimizer.state, strict=True):
        for key in ("decayed_sum", "decayed_sum_sq"):
            np.testing.assert_array_equal(ours[key], theirs[key])


def test_nadam_saves_its_averages_alone_and_resumes_its_momentum_factors(tmp_path):
    # The running product mu_1 ... mu_t is one number of the header, not an array per
    # weight; a file without it (written before it was kept) computes it from the step count.
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.compile("mse", nl.optimizers.NAdam(0.01, momentum_decay=0.5))
    X = np.random.default_rng(0).normal(size=(8, 2))
    model.fit(X, X[:, :1], epochs=3, batch_size=4, seed=0)
    path = model.save(tmp_path / "nadam")
    assert sorted(name for name in members(path) if name.startswith("optimizer.0.")) == [
        "optimizer.0.exp_avg.npy", "optimizer.0.exp_avg_sq.npy"]
    before = edited(path, tmp_path / "before.npz",
                    lambda h: h["compile"]["optimizer"].pop("shared_state"))
    loaded, older = nl.load_model(path), nl.load_model(before)
    for m in (model, loaded, older):
        m.fit(X, X[:, :1], epochs=2, batch_size=4, seed=1)
        np.testing.assert_array_equal(model.get_weights()[0], m.get_weights()[0])
    mu = [0.9 * (1 - 0.5 * 0.96 ** (t * 0.5)) for t in range(1, 11)]
    assert older.optimizer._mu_product(10) == pytest.approx(np.prod(mu), rel=1e-14)


@pytest.mark.parametrize(("before", "after", "nesterov"), [(0.8, 0.0, False), (0.0, 0.8, False),
                                                          (0.0, 0.8, True)])
def test_momentum_changed_after_training_saves_a_file_that_resumes(before, after, nesterov,
                                                                   tmp_path):
    # The file held the velocity of the old setting, which loading refused as missing or
    # unexpected; a velocity not yet started is saved as 0, where it starts.
    X = np.random.default_rng(0).normal(size=(16, 2))
    model = nl.Sequential([nl.Dense(2, 3, rng=0), nl.Activation("tanh"), nl.Dense(3, 1, rng=1)])
    model.compile("mse", nl.optimizers.SGD(0.05, momentum=before))
    model.fit(X, X[:, :1], epochs=2, batch_size=4, seed=0)
    model.optimizer.momentum, model.optimizer.nesterov = after, nesterov
    loaded = nl.load_model(model.save(tmp_path / "sgd"))
    for m in (model, loaded):
        m.fit(X, X[:, :1], epochs=2, batch_size=4, seed=1)
    for ours, theirs in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)


def test_an_untrained_model_saves_no_optimizer_state(good):
    assert not [name for name in members(good) if name.startswith("optimizer.")]
    assert header_of(good)["compile"]["optimizer"]["iterations"] == 0
    loaded = nl.load_model(good)
    assert loaded.optimizer.iterations == 0 and loaded.optimizer.state is None


def trained(tmp_path):
    model = small_model()
    model.fit(np.ones((4, 2)), np.ones(4), epochs=1, batch_size=2, seed=0)
    return model


def test_a_negative_sum_of_squares_in_the_optimizer_state_is_refused(tmp_path):
    model = trained(tmp_path)
    model.optimizer.state[1]["decayed_sum_sq"][0] = -1.0
    loading_fails(model.save(tmp_path / "adam"), "array 'optimizer.1.decayed_sum_sq' holds "
                  "squares, variances or sizes; expected values >= 0; got a minimum of -1")


@pytest.mark.parametrize("iterations, fragment", [
    (-1, "compile.optimizer.iterations: expected a step count from 0 to 2**53; got -1"),
    ("2", "compile.optimizer.iterations: expected a step count from 0 to 2**53; got '2'"),
    (True, "compile.optimizer.iterations: expected a step count from 0 to 2**53; got True"),
    # Loaded, it failed the first fit with an OverflowError (beta ** t).
    pytest.param(10**400, "compile.optimizer.iterations: expected a step count from 0 to "
                 "2**53; got 1", id="10**400"),
    (0, "the arrays do not match the model: missing [], unexpected ['optimizer.0.decayed_sum'"),
])
def test_the_step_count_and_the_state_arrays_must_agree(tmp_path, iterations, fragment):
    path = trained(tmp_path).save(tmp_path / "trained")
    loading_fails(edited(path, tmp_path / "edited.npz",
                         lambda h: h["compile"]["optimizer"].update(iterations=iterations)),
                  fragment)


# --- clipping, and files of format version 1 ------------------------------------------


@pytest.mark.parametrize("option", ["clipnorm", "clipvalue", "global_clipnorm"])
def test_each_clipping_option_is_saved_and_loaded(tmp_path, option):
    _, path = resumed_training(lambda: nl.optimizers.Adam(0.01, **{option: 0.05}),
                               "float64", tmp_path)
    assert header_of(path)["compile"]["optimizer"]["config"][option] == 0.05


def as_version_1(header):
    """A version-2 header as version 1 wrote it: global clipping under "clipnorm"."""
    header["version"] = 1
    config = header["compile"]["optimizer"]["config"]
    if "global_clipnorm" in config:
        config["clipnorm"] = config.pop("global_clipnorm")


def test_a_version_1_file_s_clipnorm_is_read_as_global_clipnorm(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(16, 2)), rng.normal(size=(16, 1))
    model = nl.Sequential([nl.Dense(2, 3, rng=0), nl.Activation("tanh"), nl.Dense(3, 1, rng=1)])
    model.compile("mse", nl.optimizers.SGD(0.1, momentum=0.9, global_clipnorm=0.05))
    model.fit(X, y, epochs=1, batch_size=4, seed=0)
    path = model.save(tmp_path / "version_2")
    old = edited(path, tmp_path / "version_1.npz", as_version_1)
    assert header_of(old)["compile"]["optimizer"]["config"]["clipnorm"] == 0.05
    loaded = nl.load_model(old)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.optimizer.global_clipnorm == 0.05 and loaded.optimizer.clipnorm is None
    # Read as a version-2 file, the same header would clip each array alone: other steps.
    per_array = nl.load_model(edited(old, tmp_path / "as_2.npz",
                                     lambda h: h.update(version=2)))
    for m in (model, loaded, per_array):
        m.fit(X, y, epochs=2, batch_size=4, seed=1)
    for ours, theirs, other in zip(model.get_weights(), loaded.get_weights(),
                                   per_array.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
        assert not np.array_equal(ours, other)
    # Nothing else differs: a version-1 file without clipping loads as it was saved.
    unclipped = trained(tmp_path)
    loaded = nl.load_model(edited(unclipped.save(tmp_path / "adam"), tmp_path / "adam_1.npz",
                                  as_version_1))
    assert loaded.optimizer.get_config() == unclipped.optimizer.get_config()
    for ours, theirs in zip(unclipped.optimizer.state, loaded.optimizer.state, strict=True):
        np.testing.assert_array_equal(ours["decayed_sum"], theirs["decayed_sum"])


def test_a_version_1_file_with_both_clipnorms_is_refused(good, tmp_path):
    def both(header):
        header["version"] = 1
        header["compile"]["optimizer"]["config"].update(clipnorm=1.0, global_clipnorm=2.0)

    loading_fails(edited(good, tmp_path / "both.npz", both),
                  "set at most one of clipnorm, clipvalue and global_clipnorm; got "
                  "clipnorm=1.0, global_clipnorm=2.0")


def test_a_file_without_a_step_count_loads_an_optimizer_that_starts_afresh(good, tmp_path):
    # Files written before the optimizer's state was saved have no "iterations".
    loaded = nl.load_model(edited(good, tmp_path / "old.npz",
                                  lambda h: h["compile"]["optimizer"].pop("iterations")))
    assert loaded.optimizer.iterations == 0


# --- learning-rate schedules ----------------------------------------------------------


SCHEDULES = {"step_decay": nl.schedules.step_decay(0.05, 0.5, 4),
             "exponential_decay": nl.schedules.exponential_decay(0.05, 0.5, 3)}


@pytest.mark.parametrize("schedule", SCHEDULES.values(), ids=SCHEDULES.keys())
@pytest.mark.parametrize("optimizer", ["SGD", "Adam", "ASGD"])
def test_a_schedule_of_nnlab_is_saved_and_training_goes_on_at_its_rates(
        tmp_path, schedule, optimizer):
    # The file kept the rate the schedule gave when saved: the loaded optimizer went on at
    # that constant rate where the original decayed (resumed_training's steps 6 to 11 pass
    # the drops at steps 8 and 9), in silence.
    with warnings.catch_warnings():
        warnings.simplefilter("error", NotSavedWarning)
        _, path = resumed_training(lambda: getattr(nl.optimizers, optimizer)(schedule),
                                   "float64", tmp_path)
    saved = header_of(path)["compile"]["optimizer"]
    assert saved["config"]["lr"] == {"class": type(schedule).__name__,
                                     "config": schedule.get_config()}
    loaded = nl.load_model(path)
    assert type(loaded.optimizer.lr) is type(schedule)
    assert loaded.optimizer.lr.get_config() == schedule.get_config()
    assert loaded.optimizer.iterations == saved["iterations"] == 6
    assert loaded.optimizer.current_lr() == schedule(6)
    assert [loaded.optimizer.lr(i) for i in range(100)] == [schedule(i) for i in range(100)]


def test_a_schedule_of_numpy_numbers_is_saved_as_python_numbers(tmp_path):
    schedule = nl.schedules.exponential_decay(np.float32(0.1), np.float64(0.5), np.int64(10))
    assert schedule.get_config() == {"lr0": float(np.float32(0.1)), "rate": 0.5, "steps": 10}
    assert float(schedule(7)) == float(np.float32(0.1)) * 0.5 ** 0.7   # float64, not float32
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.compile("mse", nl.optimizers.SGD(schedule))
    loaded = nl.load_model(model.save(tmp_path / "m"))
    assert [loaded.optimizer.lr(i) for i in (0, 7, 10)] == [schedule(i) for i in (0, 7, 10)]


def test_a_schedule_of_one_s_own_is_saved_as_its_rate_with_a_warning(tmp_path):
    # The schedule was left out and the loaded optimizer took the default rate, in silence;
    # then it was saved as the rate it gave, still in silence.
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.compile("mse", nl.optimizers.SGD(lambda it: 0.4 * 0.5 ** (it // 2)))
    model.fit(np.ones((4, 2)), np.ones(4), epochs=3, batch_size=2, seed=0)   # 6 steps
    with pytest.warns(NotSavedWarning, match=r"schedule <function .*<lambda> at .*> is saved "
                      r"as the rate it gives at step 6, 0\.05: a model file keeps only the "
                      r"schedules of nnlab\.schedules .* set model\.optimizer\.lr to it "
                      r"again") as caught:
        loaded = nl.load_model(model.save(tmp_path / "m"))
    assert caught[0].filename == __file__   # the line that saved, not one inside nnlab
    assert loaded.optimizer.lr == model.optimizer.current_lr() == 0.4 * 0.5**3

    class Slower(nl.schedules.StepDecay):   # a subclass of one's own: a file cannot rebuild it
        def __call__(self, iteration):
            return super().__call__(iteration) / 2

    model.compile("mse", nl.optimizers.SGD(Slower(0.4, 0.5, 2)))
    with pytest.warns(NotSavedWarning, match=r"Slower\(lr0=0\.4, factor=0\.5, every=2\) is "
                                             r"saved as the rate it gives at step 0, 0\.2"):
        assert nl.load_model(model.save(tmp_path / "m")).optimizer.lr == 0.2


@pytest.mark.parametrize("lr,fragment", [
    ({"class": "CosineDecay", "config": {}},
     "unknown schedule 'CosineDecay'; known: ExponentialDecay, StepDecay"),
    ({"class": "StepDecay", "config": {"lr0": 0.1, "factor": 2.0, "every": 4}},
     "factor must be in (0, 1]; got 2.0"),
    ({"class": "StepDecay", "config": {"lr0": 0.1, "factor": 0.5}},
     "missing 1 required positional argument: 'every'"),
    ({"class": "StepDecay", "config": {"lr0": 0.1, "factor": 0.5, "every": 4, "x": 1}},
     "unexpected keyword argument 'x'"),
    ({"class": "StepDecay"}, "expected a schedule as {'class': <name>, 'config': {...}}; got"),
    ({"class": ["StepDecay"], "config": {}}, "unknown schedule ['StepDecay']"),
], ids=["unknown class", "bad value", "missing argument", "unknown argument", "no config",
        "class not a string"])
def test_a_tampered_schedule_is_refused_naming_what_is_wrong(tmp_path, lr, fragment):
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.compile("mse", nl.optimizers.Adam(nl.schedules.step_decay(0.1, 0.5, 4)))
    path = model.save(tmp_path / "m")
    tampered = edited(path, tmp_path / "tampered.npz",
                      lambda h: h["compile"]["optimizer"]["config"].update(lr=lr))
    loading_fails(tampered, "compile.optimizer: cannot build 'adam' from the config")
    loading_fails(tampered, fragment)


def test_a_schedule_at_a_rate_of_0_is_saved_and_loaded_at_that_rate(tmp_path):
    # A warm-up from 0 wrote a file that load_model refused: no optimizer takes lr=0.
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.compile(loss="mse",
                  optimizer=nl.optimizers.Adam(lr=lambda it: 0.01 * min(1.0, it / 100)))
    with pytest.warns(NotSavedWarning, match="at step 0, 0: a model file keeps only"):
        loaded = nl.load_model(model.save(tmp_path / "warm-up"))
    assert header_of(tmp_path / "warm-up.npz")["compile"]["optimizer"]["config"]["lr"] == 0.0
    assert type(loaded.optimizer) is nl.optimizers.Adam
    assert loaded.optimizer.current_lr() == 0.0
    assert loaded.optimizer.get_config() == {**model.optimizer.get_config(), "lr": None}
    weights = loaded.get_weights()
    loaded.fit(np.ones((4, 2)), np.ones(4), epochs=1)   # steps of rate 0
    assert all(np.array_equal(a, b) for a, b in zip(weights, loaded.get_weights(), strict=True))
    with pytest.warns(NotSavedWarning, match="at step 1, 0: a model file keeps only"):
        again = nl.load_model(loaded.save(tmp_path / "again"))
    assert again.optimizer.current_lr() == 0.0 and again.optimizer.iterations == 1
    loaded.optimizer.lr = 0.01   # the user's rate from here on
    loaded.fit(np.ones((4, 2)), np.ones(4), epochs=1)
    assert not np.array_equal(weights[0], loaded.get_weights()[0])


# --- a step count beyond the integers float64 holds -----------------------------------


def test_a_step_count_just_beyond_2_to_the_53_is_refused(tmp_path):
    # Above 2**53, float64 no longer holds every integer: beta ** t is off.
    path = trained(tmp_path).save(tmp_path / "trained")
    loading_fails(edited(path, tmp_path / "edited.npz",
                         lambda h: h["compile"]["optimizer"].update(iterations=2**53 + 1)),
                  "expected a step count from 0 to 2**53; got 9007199254740993")


def test_a_file_whose_layers_name_no_dtype_resumes_training_at_its_step_count(tmp_path):
    # A file whose layer configs give no dtype (written by hand, or before the layers kept
    # one) rebuilds float64 layers, which load_model casts to the file's float32: the cast
    # resets the optimizer, and the step count must come back with its state, or Adam's
    # bias corrections and any schedule start again from step 0.
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = (X[:, :1] * X[:, 1:] > 0).astype(float)
    model = nl.Sequential([nl.Dense(2, 4, rng=0, dtype="float32"),
                           nl.BatchNorm(4, dtype="float32"), nl.Activation("tanh"),
                           nl.Dense(4, 1, rng=1, dtype="float32")])
    model.compile("mse", nl.optimizers.Adam(0.01))
    model.fit(X, y, epochs=3, batch_size=8, seed=0)

    def drop_dtypes(header):
        for layer in header["layers"]:
            layer["config"].pop("dtype", None)

    loaded = nl.load_model(edited(model.save(tmp_path / "m"), tmp_path / "no_dtype.npz",
                                  drop_dtypes))
    assert loaded.dtype == "float32" and loaded.optimizer.iterations == 15
    for m in (model, loaded):
        m.fit(X, y, epochs=2, batch_size=8, seed=1)
    for ours, theirs in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
