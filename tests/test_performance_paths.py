"""The fast paths keep the textbook results: dtypes, in-place state, skipped work."""

import ctypes
import os
import platform
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nnlab as nl
from nnlab import _memory
from nnlab._checks import all_finite
from nnlab.layer_base import in_network
from nnlab.layers import inside_network
from nnlab.loss_base import _mean


def small_cnn(dtype):
    return nl.Sequential([nl.Conv2D(1, 4, 3, padding=1, rng=0, dtype=dtype),
                          nl.Activation("relu"), nl.MaxPool2D(2), nl.Flatten(),
                          nl.Dense(4 * 4 * 4, 8, rng=1, dtype=dtype), nl.Activation("tanh"),
                          nl.Dense(8, 3, rng=2, dtype=dtype)])


@pytest.mark.parametrize("optimizer", nl.optimizers.NAMES)
def test_float32_stays_float32_through_fit(optimizer):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 3, 40)
    model = small_cnn("float32")
    model.compile(nl.losses.CategoricalCrossEntropy(from_logits=True),
                  nl.optimizers.get(optimizer, lr=0.01))
    model.fit(X, y, epochs=2, batch_size=16, seed=0)
    assert {p.dtype for p in model.params} == {np.dtype(np.float32)}
    assert {g.dtype for g in model.grads} == {np.dtype(np.float32)}
    state = [a for s in model.optimizer.state for a in s.values()]
    assert {a.dtype for a in state} == {np.dtype(np.float32)}
    assert model.predict(X[:2]).dtype == np.float32


def test_a_loss_s_float64_gradient_does_not_make_a_float32_backward_float64():
    # A loss of one's own divided by np.float64(n): every layer's backward then computed in
    # float64, each weight cast to float64 a step, its gradient cast back, in silence.
    class MyMSE(nl.losses.MSE):
        def backward(self, y_pred, y_true):
            return 2 * (y_pred - y_true) / np.float64(y_pred.size)

    model = nl.Sequential([nl.Dense(3, 4, rng=0, dtype="float32"), nl.Activation("gelu"),
                           nl.Dense(4, 1, rng=1, dtype="float32")])
    seen = []
    for layer in model.layers:
        layer.backward = lambda dy, *a, f=layer.backward, **k: seen.append(dy.dtype) or f(
            dy, *a, **k)
    model.compile(MyMSE(), "adam")
    model.fit(np.ones((8, 3), np.float32), np.ones(8, np.float32), epochs=1, batch_size=4)
    assert set(seen) == {np.dtype(np.float32)} and len(seen) == 4   # (not the first layer)


def test_optimizer_updates_its_state_and_the_parameters_in_place():
    p = [np.ones((3, 2)), np.zeros(2)]
    opt = nl.optimizers.Adam(0.1)
    opt.step(p, [np.full((3, 2), 0.5), np.ones(2)])
    arrays = [id(a) for s in opt.state for a in s.values()]
    before = [id(a) for a in p]
    opt.step(p, [np.full((3, 2), 0.5), np.ones(2)])
    assert [id(a) for s in opt.state for a in s.values()] == arrays
    assert [id(a) for a in p] == before


def test_skipping_the_input_gradient_changes_no_parameter_gradient():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 1, 8, 8))
    model = small_cnn("float64")
    dout = rng.normal(size=(5, 3))
    model.forward(x, training=True)
    dx = model.backward(dout)
    full = [g.copy() for g in model.grads]
    model.forward(x, training=True)
    assert dx.shape == x.shape and model.backward(dout, input_grad=False) is None
    for a, b in zip(full, model.grads, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_max_pool_gives_ties_to_the_first_position_and_propagates_nan():
    pool = nl.MaxPool2D(2)
    x = np.zeros((1, 1, 2, 2))
    pool.forward(x)
    np.testing.assert_array_equal(pool.backward(np.ones((1, 1, 1, 1)))[0, 0], [[1, 0], [0, 0]])
    x[0, 0, 1, 1] = np.nan
    with inside_network():  # a diverging network's NaN must reach the loss
        assert np.isnan(pool.forward(x)[0, 0, 0, 0])


@settings(max_examples=300, deadline=None)
@given(dtype=st.sampled_from([np.float32, np.float64]), n=st.integers(1, 800),
       special=st.lists(st.tuples(st.integers(0, 799),
                                  st.sampled_from([np.inf, -np.inf, np.nan, 1e20, -3e38,
                                                   1e-40, 0.0])), max_size=4),
       layout=st.sampled_from(["C", "F", "strided"]))
def test_finite_check_agrees_with_numpy(dtype, n, special, layout):
    with np.errstate(over="ignore"):
        x = np.linspace(-1, 1, 2 * n).astype(dtype).reshape(2, n)
        for i, value in special:
            x[i % 2, i % n] = value
    if layout == "F":
        x = np.asfortranarray(x)
    elif layout == "strided":
        x = x[:, ::2]
    assert all_finite(x) == bool(np.isfinite(x).all())
    assert all_finite(np.ones(3, dtype), x) == all_finite(x) == all_finite(x, np.ones(3))
    assert not all_finite(x, np.array([np.nan]))
    # Small arrays are checked together (concatenated), large ones alone: both mixed here.
    assert all_finite(np.ones(2000), x, np.arange(3), np.ones(5, np.float32)) == all_finite(x)


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_finite_check(bad):
    x = np.zeros((3000, 100), dtype=np.float32)
    assert all_finite(x) and all_finite(np.full(4, 1e308))  # an overflowing sum is no NaN
    assert all_finite(np.full(4, 3e38, dtype=np.float32))    # nor in the array's own dtype
    assert all_finite(np.zeros((0, 3))) and all_finite(x[:, ::7])  # empty; a strided view
    assert not all_finite(np.where(x == 0, bad, x)[:, ::7])   # large and strided: max, min
    x.flat[12345] = bad
    assert not all_finite(x)


def test_the_finite_check_is_quiet_when_floating_point_errors_raise():
    # Squares of values near 1e-160 round to 0: np.errstate(all="raise") made that an error.
    with np.errstate(all="raise"):
        assert all_finite(np.array([1e-300, 1.0]), np.full(3, 1e30, dtype=np.float32))
        assert not all_finite(np.array([1e-300, np.nan]))


@pytest.mark.parametrize("shuffle", [True, False])
def test_fit_leaves_the_training_data_as_it_was(shuffle):
    # Unshuffled batches are views of X: no first layer may write into its input.
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 4)).astype(np.float32), rng.integers(0, 3, 30)
    X0, y0 = X.copy(), y.copy()
    model = nl.Sequential([nl.BatchNorm(4, dtype="float32"), nl.Dropout(0.5, rng=0),
                           nl.Activation("relu"), nl.Dense(4, 3, rng=0, dtype="float32")])
    model.compile(nl.losses.CategoricalCrossEntropy(from_logits=True), "adam",
                  metrics=["accuracy"])
    model.fit(X, y, epochs=2, batch_size=7, shuffle=shuffle, seed=0)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


@pytest.fixture
def fresh_memory_setting(monkeypatch):
    monkeypatch.setattr(_memory, "_kept", None)
    monkeypatch.delenv("MALLOC_TOP_PAD_", raising=False)
    return monkeypatch


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")
def test_fit_asks_glibc_to_keep_freed_memory(fresh_memory_setting):
    fresh_memory_setting.delenv("NNLAB_KEEP_FREED_MB", raising=False)
    assert _memory.keep_freed_memory() == 64 << 20
    fresh_memory_setting.setattr(_memory, "_kept", None)
    fresh_memory_setting.setenv("NNLAB_KEEP_FREED_MB", "16")
    assert _memory.keep_freed_memory() == 16 << 20


@pytest.mark.parametrize(("name", "value"), [("NNLAB_KEEP_FREED_MB", "0"),
                                             ("MALLOC_TOP_PAD_", "1000000")])
def test_keeping_freed_memory_can_be_turned_off(fresh_memory_setting, name, value):
    fresh_memory_setting.setenv(name, value)
    assert _memory.keep_freed_memory() == 0


# 2048 MB is 2**31 bytes, one more than a C int holds: ctypes passed it as -2**31, which
# glibc took as a huge padding, and 4096 MB as 0 (while 4 GiB were reported kept).
@pytest.mark.parametrize("value", ["lots", "1.5", "-1", "\u00b2", "2048", "4096"])
def test_a_bad_memory_setting_is_refused(fresh_memory_setting, value):
    fresh_memory_setting.setenv("NNLAB_KEEP_FREED_MB", value)
    with pytest.raises(ValueError, match=r"NNLAB_KEEP_FREED_MB must be a whole number of "
                                         r"megabytes from 0 \(to disable\) to 2047; got"):
        _memory.keep_freed_memory()


class FakeMallopt:
    def __init__(self, result):
        self.result, self.calls = result, []

    def __call__(self, option, value):
        self.calls.append((option, value))
        return self.result


@pytest.mark.parametrize(("result", "kept"), [(1, 2047 << 20), (0, 0)])
def test_the_memory_kept_is_what_mallopt_accepted(fresh_memory_setting, result, kept):
    mallopt = FakeMallopt(result)   # no real padding of 2 GiB in the test process
    fresh_memory_setting.setattr(_memory, "_mallopt", lambda: mallopt)
    fresh_memory_setting.setenv("NNLAB_KEEP_FREED_MB", "2047")
    assert _memory.keep_freed_memory() == kept
    assert mallopt.calls == [(_memory.M_TOP_PAD, 2047 << 20)]


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")
def test_mallopt_is_called_with_its_c_types():
    mallopt = _memory._mallopt()
    assert list(mallopt.argtypes) == [ctypes.c_int, ctypes.c_int]
    assert mallopt.restype is ctypes.c_int


def test_a_c_library_other_than_glibc_keeps_nothing(fresh_memory_setting):
    fresh_memory_setting.setattr(platform, "libc_ver", lambda *args, **kwargs: ("", ""))
    assert _memory._mallopt() is None
    assert _memory.keep_freed_memory() == 0


FAULTS_PER_STEP = """
import resource
import numpy as np
import nnlab as nl
rng = np.random.default_rng(0)
X = rng.normal(size=(64 * 100, 1, 28, 28)).astype(np.float32)   # 20 MB, as in the benchmark
y = rng.integers(0, 10, len(X))
model = nl.Sequential([nl.Conv2D(1, 16, 3, padding=1, rng=0, dtype="float32"),
                       nl.Activation("relu"), nl.MaxPool2D(2), nl.Flatten(),
                       nl.Dense(16 * 14 * 14, 10, rng=1, dtype="float32")])
model.compile(nl.losses.CategoricalCrossEntropy(from_logits=True), "adam")
model.fit(X[:64 * 5], y[:64 * 5], batch_size=64, seed=0)   # warm up
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
model.fit(X, y, batch_size=64, seed=0)
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 100)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")
def test_kept_memory_spares_the_page_faults_of_fresh_arrays():
    # Page faults, not seconds: a count that a loaded machine does not change much.
    def faults_per_step(megabytes):
        env = {**os.environ, "NNLAB_KEEP_FREED_MB": megabytes}
        env.pop("MALLOC_TOP_PAD_", None)
        out = subprocess.run([sys.executable, "-c", FAULTS_PER_STEP], env=env, check=True,
                             capture_output=True, text=True).stdout
        return float(out.split()[-1])

    kept, fresh = faults_per_step("64"), faults_per_step("0")
    assert kept * 4 < fresh, (kept, fresh)


def test_the_model_flags_nest_reenter_and_decorate():
    flag = inside_network()
    with flag:
        with flag:   # the same object again, inside: each exit restores its own entry
            assert in_network()
        assert in_network()
    assert not in_network()

    @inside_network()
    def inside():
        return in_network()

    assert inside() and inside() and not in_network()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_loss_mean_is_numpy_mean_bit_for_bit(dtype):
    rng = np.random.default_rng(0)
    for n in (1, 7, 100, 4097):
        a = (rng.normal(size=n) * 10.0 ** rng.integers(-20, 20)).astype(dtype)
        assert _mean(a) == np.mean(a) and _mean(a).dtype == dtype
    ones = np.ones(2**24 + 1, dtype)   # a count float32 cannot hold: np.mean divides in float64
    assert _mean(ones) == np.mean(ones)
