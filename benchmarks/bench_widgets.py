"""Benchmark: how long one explorer update takes (recompute + redraw + PNG), default settings.

Run: .venv/bin/python benchmarks/bench_widgets.py [--repeats 5]

The target is under 200 ms per update on the course's 2-core machine. A script,
not a test: timings depend on the machine and its load. ``bench_train.py`` prints
this table too, after its own. "full GCs" counts Python's full garbage collections during
the updates: each took 40-180 ms here, when the explorers' figures still reached the oldest
generation (see ``nnlab.explorer.young_garbage``).
"""

import argparse
import gc
import time

import numpy as np

from nnlab import widgets

# (explorer, control moved, two values to alternate between)
CASES = [
    ("perceptron_explorer", "bias", (-1.5, -0.5)),
    ("forward_explorer", "w00", (0.2, 1.0)),
    ("activation_explorer", "weight", (1.0, 2.0)),
    ("initialization_explorer", "depth", (6, 7)),
    ("loss_explorer", "prediction", (0.7, 0.3)),
    ("learning_rate_explorer", "lr", (0.1, 0.2)),
    ("optimizer_race", "lr", (0.01, 0.02)),
    ("backprop_explorer", "value", (0.5, 1.0)),
    ("gradient_flow_explorer", "depth", (10, 11)),
    ("kernel_explorer", "k11", (0.0, 1.0)),
    ("playground", "noise", (0.1, 0.2)),
]


def report(repeats=5):
    """Move each control back and forth ``repeats`` times, then click the playground's Train
    once (``TRAIN_EPOCHS`` epochs); print the times."""
    full = []

    def count_full(phase, info):
        if phase == "start" and info["generation"] == 2:
            full.append(1)

    gc.callbacks.append(count_full)
    try:
        print(f"{'explorer':26s}{'control':12s}{'median ms':>10s}{'max ms':>9s}{'full GCs':>10s}"
              "  target < 200 ms")
        for name, control, values in CASES:
            explorer = getattr(widgets, name)()
            times, full[:] = [], []
            for i in range(repeats):
                start = time.perf_counter()
                explorer.controls[control].value = values[i % 2 == 0]
                times.append((time.perf_counter() - start) * 1e3)
            ok = "yes" if max(times) < 200 else "NO"
            print(f"{name:26s}{control:12s}{np.median(times):10.0f}{max(times):9.0f}"
                  f"{len(full):10d}  {ok}")
    finally:
        gc.callbacks.remove(count_full)
    pg = widgets.playground()
    start = time.perf_counter()
    pg.train(widgets.Playground.TRAIN_EPOCHS)
    print(f"{'playground':26s}{'Train':12s}{(time.perf_counter() - start) * 1e3:10.0f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    report(parser.parse_args().repeats)


if __name__ == "__main__":
    main()
