"""The benchmark scripts still run against today's nnlab (their timings are not tested)."""

import importlib.util
import itertools
from pathlib import Path

import numpy as np
import pytest

import nnlab as nl

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load(name):
    # As running the script does, with its folder on sys.path for its own imports
    # (bench_train imports workloads).
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(BENCHMARKS))
        spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench_train():
    # Loading it sets the BLAS thread counts for its own runs; the tests after it keep theirs.
    with pytest.MonkeyPatch.context() as patch:
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            patch.delenv(name, raising=False)
        module = load("bench_train")
    return module


# Nielsen's sigmoid, 1 / (1 + e^-z), overflows for large -z: the reference is kept as written.
@pytest.mark.filterwarnings("ignore:overflow encountered in exp:RuntimeWarning")
@pytest.mark.parametrize(("framework", "workload"), [
    ("nnlab", "tiny"), ("nnlab", "loop10"), ("network.py", "loop10"), ("numpy", "matmul"),
    ("numpy-minimal", "mlp"), ("numpy-minimal", "tiny"), ("nnlab-adam", "adam")])
def test_each_small_workload_runs_and_is_measured(bench_train, framework, workload):
    result = bench_train.measure(framework, workload, quick=True)
    assert set(result) == {"seconds", "peak_mb", "faults_per_step"}
    assert result["seconds"] > 0 and result["peak_mb"] >= 0


def runs(*seconds):
    return [{"seconds": s, "peak_mb": 1.0, "faults_per_step": 0.0} for s in seconds]


def test_ratios_pair_each_run_with_pytorch_in_the_same_repeat(bench_train):
    samples = {"mlp": {"nnlab": runs(1.0, 3.0, 2.0), "torch": runs(2.0, 4.0, 2.0)},
               "matmul": {"numpy": runs(0.5, 1.0, 1.0)},
               "adam": {"nnlab-adam": runs(0.25, 0.5, 1.0)},
               "loop10": {"nnlab": runs(1.0, 1.0, 1.0)}}
    ratios = bench_train.paired_ratios(samples)
    assert ratios["mlp"]["nnlab"] == [0.5, 0.75, 1.0]
    assert ratios["matmul"]["numpy"] == [0.25, 0.25, 0.5]   # against PyTorch's MLP
    assert "loop10" not in ratios                           # nothing to compare with
    results = {w: {f: r[1] for f, r in by_f.items()} for w, by_f in samples.items()}
    lines = bench_train.table(results, ratios, quick=True).splitlines()
    assert lines[1].split()[4:6] == ["0.75x", "0.50-1.00x"]
    adam_row = next(line for line in lines if line.startswith("adam"))
    assert adam_row.split()[:4] == ["adam", "nnlab-adam", "0.500", "-"]   # no products
    assert bench_train.limit_line(samples).splitlines() == [
        "the matrix products and Adam alone / the matrix products alone: 1.50x "
        "(range 1.50-2.00x)",
        "nnlab's MLP epoch / its matrix products alone: 2.00x (range 2.00-3.00x)"]


def test_the_minimal_numpy_loop_trains_exactly_as_nnlab_does():
    """The floor it measures is that of the same work: same batches, loss and updates."""
    workloads = load("workloads")
    X, y = workloads.mlp_data(600)
    dense = [nl.Dense(a, b, init="he_normal", rng=0, dtype="float32")
             for a, b in itertools.pairwise(workloads.MLP)]
    params = [layer.params[k].copy() for layer in dense for k in ("W", "b")]
    adam = {"t": 0, "s": [np.zeros_like(p) for p in params],
            "r": [np.zeros_like(p) for p in params]}
    order = np.random.default_rng(0).permutation(len(X))
    loss = workloads.minimal_epoch(X, y, params, adam, order)
    model = nl.Sequential([dense[0], nl.Activation("relu"), dense[1], nl.Activation("relu"),
                           dense[2]])
    model.compile(nl.losses.CategoricalCrossEntropy(from_logits=True), nl.optimizers.Adam())
    history = model.fit(X, y, epochs=1, batch_size=128, seed=0)
    assert adam["t"] == 5
    assert loss == pytest.approx(history.history["loss"][0], rel=1e-5)
    # To a tenth of one Adam step (lr 1e-3): float32 rounds the two softmax gradients
    # differently, and Adam's first steps, about lr times the sign of each gradient,
    # enlarge that where a gradient is near 0.
    for mine, nnlab_param in zip(params, model.params, strict=True):
        assert mine.dtype == np.float32
        np.testing.assert_allclose(mine, nnlab_param, rtol=0, atol=1e-4)
        assert not np.array_equal(mine, nnlab_param * 0)   # trained, not left at 0


def test_the_minimal_tiny_loop_trains_as_nnlab_does():
    workloads = load("workloads")
    X, y = workloads.tiny_data()
    dense = [nl.Dense(30, 16, rng=0, dtype="float32"), nl.Dense(16, 1, rng=1, dtype="float32")]
    params = [layer.params[k].copy() for layer in dense for k in ("W", "b")]
    adam = {"t": 0, "s": [np.zeros_like(p) for p in params],
            "r": [np.zeros_like(p) for p in params]}
    losses = [workloads.minimal_tiny_step(X, y[:, None], params, adam) for _ in range(20)]
    model = nl.Sequential([dense[0], nl.Activation("tanh"), dense[1]])
    model.compile(nl.losses.BinaryCrossEntropy(from_logits=True), nl.optimizers.Adam(0.01))
    history = model.fit(X, y, epochs=20, batch_size=len(X), shuffle=False)
    # The same operations in the same order: the same numbers, bit for bit.
    assert losses == history.history["loss"]
    assert losses[-1] < 0.6 * losses[0]   # it learns
    for mine, nnlab_param in zip(params, model.params, strict=True):
        assert mine.dtype == np.float32
        np.testing.assert_array_equal(mine, nnlab_param)


@pytest.mark.parametrize(("c_in", "c_out", "k", "stride", "pad", "side"),
                         [(1, 4, 3, 1, 1, 28), (2, 3, 5, 1, 0, 24), (2, 2, 3, 2, 1, 14)])
def test_conv_benchmark_times_each_configuration(c_in, c_out, k, stride, pad, side):
    fwd, bwd, gflops, shape = load("bench_conv").time_config(2, c_in, c_out, k, stride, pad,
                                                             "float32", repeats=2)
    assert shape == (2, c_out, side, side)
    assert fwd > 0 and bwd > 0 and gflops > 0


def test_conv_benchmark_prints_one_row_per_configuration(capsys, monkeypatch):
    bench_conv = load("bench_conv")
    monkeypatch.setattr("sys.argv", ["bench_conv.py", "--batch", "2", "--repeats", "1"])
    bench_conv.main()
    rows = capsys.readouterr().out.splitlines()[3:]
    assert len(rows) == 2 * len(bench_conv.CONFIGS)
    assert rows[0].split()[:2] == ["float32", "1->16"]


def test_widget_benchmark_reports_every_explorer(capsys):
    load("bench_widgets").report(repeats=1)
    out = capsys.readouterr().out
    for name, _, _ in load("bench_widgets").CASES:
        assert name in out
