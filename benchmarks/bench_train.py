"""Benchmark: training speed of nnlab against PyTorch CPU, scikit-learn and a per-example loop.

Run: .venv/bin/python benchmarks/bench_train.py [--repeats 3] [--quick] [--only W ...]
[--profile {mlp,tiny,cnn,loop10}] [--no-widgets]

Workloads (float32, 2 BLAS threads unless the environment sets their number):

- ``mlp``: one epoch of a 784-256-128-10 ReLU network, batch 128, Adam, on 60000x784 data;
- ``matmul``: the matrix products alone of that epoch (forward and backward): the limit;
  and "numpy-minimal", that epoch in the fewest NumPy calls (no checks, no layers): the
  floor of any NumPy engine, between nnlab and the limit;
- ``adam``: nnlab's Adam updates alone of that epoch (469 steps over its 235146 weights),
  which with the matrix products make a floor no NumPy MLP epoch goes below;
- ``tiny``: a 30-16-1 tanh network on breast cancer, 1000 full-batch Adam epochs (and
  "numpy-minimal", those epochs in the fewest NumPy calls);
- ``cnn``: conv(3x3, 16) + ReLU + 2x2 max-pool + dense on 6400 28x28 images, batch 64, Adam;
- ``loop10`` and ``loop100``: 784-30-10 sigmoid, quadratic cost, SGD, one epoch over 10000
  examples at mini-batch 10 (and 100), against the classic per-example loop of
  "network.py", with the same steps;

and then, as ``bench_widgets.py`` does, the time of one update of each explorer.

"nnlab-nokeep" is nnlab with ``NNLAB_KEEP_FREED_MB=0``: glibc's malloc left to give
freed memory back to the system, which ``fit`` otherwise asks it to keep (see
``nnlab/_memory.py``): the cost of fresh pages every step. PyTorch's loop gathers each
shuffled batch from the data set during the epoch, as nnlab's ``fit`` does, and the data
set stays alive, as in any training loop. (Until November 2026 it copied the batches out
before the clock started and let the data set go. glibc then handed that freed memory to
PyTorch's per-step arrays: about 60 page faults per CNN step instead of 600-1700, and a
CNN epoch 15-20 % faster than PyTorch gets with its data set alive.)

Every measurement runs in a fresh subprocess (so peak memory is its own), the frameworks
take turns (interleaved), each is repeated and the median is reported, with GFLOP/s
(2 flops per multiply-add of the matrix products), the ratio to PyTorch, the peak memory
the run added and minor page faults per step (fresh allocations show up there).
"vs torch" is the median over the repeats of each run's time over PyTorch's in the same
repeat, and "range" the smallest and largest of those ratios: on a shared machine both
frameworks slow down together, so the ratio of neighboring runs is steadier than either
time.
The runs themselves, and their data, are in ``workloads.py``.
PyTorch and scikit-learn are optional: rows without them are skipped. The table is printed
and a bar chart written to ``_build/bench/bench_train.png``. ``--profile mlp`` shows where
nnlab's time goes instead (cProfile, top functions).
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(name, "2")

from workloads import RUNNERS, mlp_flops, run_nnlab, sizes  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
WORKLOADS = {  # workload: the frameworks that run it
    "mlp": ["nnlab", "nnlab-nokeep", "torch", "sklearn", "numpy-minimal"],
    "matmul": ["numpy"],
    "adam": ["nnlab-adam"],
    "tiny": ["nnlab", "torch", "numpy-minimal"],
    "cnn": ["nnlab", "nnlab-nokeep", "torch"],
    "loop10": ["nnlab", "network.py"],
    "loop100": ["nnlab", "network.py"],
}


def memory_kb(field):
    """``VmRSS`` (now) or ``VmHWM`` (the peak) of this process, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def measure(framework, workload, quick):
    """In this (fresh) process: time one run; return seconds, peak memory added, faults/step."""
    train, steps = RUNNERS[framework](workload, sizes(quick))
    # Reset the peak to the present (Linux: "5" clears VmHWM), so that the peak measured
    # after the run is the run's own, not that of building the data.
    Path("/proc/self/clear_refs").write_text("5")
    before, usage = memory_kb("VmRSS"), resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    train()
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {"seconds": seconds, "peak_mb": max(0, memory_kb("VmHWM") - before) / 1024,
            "faults_per_step": (after.ru_minflt - usage.ru_minflt) / steps}


def available(framework):
    module = {"torch": "torch", "sklearn": "sklearn"}.get(framework)
    if module is None:
        return True
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def child(framework, workload, quick):
    command = [sys.executable, __file__, "--child", framework, workload]
    command += ["--quick"] if quick else []
    env = dict(os.environ)
    if framework == "nnlab-nokeep":
        env["NNLAB_KEEP_FREED_MB"] = "0"
    out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT,
                         env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def flops(workload, quick):
    size = sizes(quick)
    if workload in ("mlp", "matmul"):
        return mlp_flops(size["mlp"])
    if workload == "adam":
        return None   # no matrix products
    if workload == "tiny":
        return mlp_flops(569, (30, 16, 1)) * size["tiny_epochs"]
    if workload == "cnn":
        n = size["cnn"]
        conv = 2 * n * 16 * 9 * 28 * 28 * 2  # forward and the weight gradient
        return conv + 2 * n * 3 * 16 * 14 * 14 * 10   # the dense layer's three products
    return mlp_flops(size["loop"], (784, 30, 10))


def paired_ratios(samples):
    """Each run's time over PyTorch's in the same repeat: {workload: {framework: [ratios]}}.

    The frameworks take turns within a repeat, so a run and PyTorch's run beside it saw
    the same load on the (shared) machine: their ratio varies much less than either time.
    The matrix products are compared with PyTorch's MLP.
    """
    ratios = {}
    for workload, by_framework in samples.items():
        reference = samples.get("mlp" if workload == "matmul" else workload, {}).get("torch")
        if not reference:
            continue
        ratios[workload] = {
            framework: [run["seconds"] / ref["seconds"]
                        for run, ref in zip(runs, reference, strict=True)]
            for framework, runs in by_framework.items()}
    return ratios


def table(results, ratios, quick):
    rows = [f"{'workload':9s} {'framework':13s} {'seconds':>9s} {'GFLOP/s':>8s} "
            f"{'vs torch':>9s} {'range':>11s} {'peak MB':>8s} {'faults/step':>11s}"]
    for workload, by_framework in results.items():
        for framework, r in by_framework.items():
            paired = ratios.get(workload, {}).get(framework)
            ratio = f"{statistics.median(paired):8.2f}x" if paired else f"{'-':>9s}"
            spread = (f"{min(paired):5.2f}-{max(paired):4.2f}x" if paired and len(paired) > 1
                      else f"{'-':>11s}")
            work = flops(workload, quick)
            gflops = f"{work / r['seconds'] / 1e9:8.1f}" if work else f"{'-':>8s}"
            rows.append(f"{workload:9s} {framework:13s} {r['seconds']:9.3f} {gflops} "
                        f"{ratio} {spread:>11s} {r['peak_mb']:8.1f} {r['faults_per_step']:11.1f}")
    return "\n".join(rows)


def limit_line(samples):
    """The MLP epoch over its matrix products alone, paired by repeat (median and range):
    nnlab's, that of the minimal NumPy loop, and the floor: the products and Adam alone."""
    limit = samples.get("matmul", {}).get("numpy")
    adam = samples.get("adam", {}).get("nnlab-adam")
    lines = []
    if limit and adam:
        ratios = [(a["seconds"] + m["seconds"]) / m["seconds"]
                  for a, m in zip(adam, limit, strict=True)]
        lines.append(f"the matrix products and Adam alone / the matrix products alone: "
                     f"{statistics.median(ratios):.2f}x "
                     f"(range {min(ratios):.2f}-{max(ratios):.2f}x)")
    for framework in ("nnlab", "numpy-minimal"):
        runs = samples.get("mlp", {}).get(framework)
        if runs and limit:
            ratios = [run["seconds"] / ref["seconds"]
                      for run, ref in zip(runs, limit, strict=True)]
            lines.append(f"{framework}'s MLP epoch / its matrix products alone: "
                         f"{statistics.median(ratios):.2f}x "
                         f"(range {min(ratios):.2f}-{max(ratios):.2f}x)")
    return "\n".join(lines)


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
    labels, values = [], []
    for workload, by_framework in results.items():
        for framework, r in by_framework.items():
            labels.append(f"{workload}\n{framework}")
            values.append(r["seconds"])
    ax.bar(range(len(values)), values, color="#3b6fb6")
    ax.set_xticks(range(len(values)), labels, fontsize=7)
    ax.set_yscale("log")
    ax.set_ylabel("seconds (median)")
    ax.set_title("nnlab training speed, float32, 2 threads")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)


def profile(workload, quick):
    import cProfile
    import pstats

    train, _ = run_nnlab(workload, sizes(quick))
    profiler = cProfile.Profile()
    profiler.runcall(train)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="smaller data, for a smoke run")
    parser.add_argument("--only", nargs="*", default=list(WORKLOADS), choices=list(WORKLOADS))
    parser.add_argument("--profile", choices=["mlp", "tiny", "cnn", "loop10"])
    parser.add_argument("--no-widgets", action="store_true",
                        help="skip the explorers' update times (bench_widgets.py)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child, args.quick)))
        return
    if args.profile:
        profile(args.profile, args.quick)
        return
    samples = {}
    for _ in range(args.repeats):
        for workload in args.only:
            for framework in WORKLOADS[workload]:
                if available(framework):
                    samples.setdefault(workload, {}).setdefault(framework, []).append(
                        child(framework, workload, args.quick))
    results = {w: {f: {k: statistics.median(s[k] for s in runs) for k in runs[0]}
                   for f, runs in by_f.items()} for w, by_f in samples.items()}
    print(table(results, paired_ratios(samples), args.quick))
    print(limit_line(samples))
    plot(results, ROOT / "_build" / "bench" / "bench_train.png")
    print(f"plot: {ROOT / '_build' / 'bench' / 'bench_train.png'}\n")
    if not args.no_widgets:
        import bench_widgets

        bench_widgets.report()


if __name__ == "__main__":
    main()
