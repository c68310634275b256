"""The benchmark scripts still run against today's nnlab (their timings are not tested)."""

import importlib.util
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load(name):
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
    ("nnlab", "tiny"), ("nnlab", "loop10"), ("network.py", "loop10"), ("numpy", "matmul")])
def test_each_small_workload_runs_and_is_measured(bench_train, framework, workload):
    result = bench_train.measure(framework, workload, quick=True)
    assert set(result) == {"seconds", "peak_mb", "faults_per_step"}
    assert result["seconds"] > 0 and result["peak_mb"] >= 0


def runs(*seconds):
    return [{"seconds": s, "peak_mb": 1.0, "faults_per_step": 0.0} for s in seconds]


def test_ratios_pair_each_run_with_pytorch_in_the_same_repeat(bench_train):
    samples = {"mlp": {"nnlab": runs(1.0, 3.0, 2.0), "torch": runs(2.0, 4.0, 2.0)},
               "matmul": {"numpy": runs(0.5, 1.0, 1.0)},
               "loop10": {"nnlab": runs(1.0, 1.0, 1.0)}}
    ratios = bench_train.paired_ratios(samples)
    assert ratios["mlp"]["nnlab"] == [0.5, 0.75, 1.0]
    assert ratios["matmul"]["numpy"] == [0.25, 0.25, 0.5]   # against PyTorch's MLP
    assert "loop10" not in ratios                           # nothing to compare with
    results = {w: {f: r[1] for f, r in by_f.items()} for w, by_f in samples.items()}
    lines = bench_train.table(results, ratios, quick=True).splitlines()
    assert lines[1].split()[4:6] == ["0.75x", "0.50-1.00x"]
    assert "2.00x (range 2.00-3.00x)" in bench_train.limit_line(samples)


def test_widget_benchmark_reports_every_explorer(capsys):
    load("bench_widgets").report(repeats=1)
    out = capsys.readouterr().out
    for name, _, _ in load("bench_widgets").CASES:
        assert name in out
