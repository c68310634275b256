"""Benchmark: forward + backward time of nnlab's Conv2D on a batch of 28x28 images.

Run: .venv/bin/python benchmarks/bench_conv.py [--batch 64] [--repeats 7]

Prints one row per configuration and dtype (float32, float64): the median time of a
forward and a backward pass, their sum, and the rate in GFLOP/s (2 flops per multiply-add
of the convolution, forward and the two backward products). A script, not a test: timings
depend on the machine.
"""

import argparse
import time

import numpy as np

import nnlab as nl

CONFIGS = [
    # in_channels, out_channels, kernel, stride, padding
    (1, 16, 3, 1, 1),
    (16, 32, 3, 1, 1),
    (1, 16, 5, 1, 0),
    (16, 16, 3, 2, 1),
]


def time_config(batch, c_in, c_out, k, stride, pad, dtype, repeats):
    rng = np.random.default_rng(0)
    layer = nl.Conv2D(c_in, c_out, k, stride=stride, padding=pad, rng=0, dtype=dtype)
    x = rng.normal(size=(batch, c_in, 28, 28)).astype(dtype)
    y = layer.forward(x)
    dy = np.ones_like(y)
    forward, backward = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        layer.forward(x)
        t1 = time.perf_counter()
        layer.backward(dy)
        t2 = time.perf_counter()
        forward.append(t1 - t0)
        backward.append(t2 - t1)
    out_pixels = y.shape[2] * y.shape[3]
    flops = 2 * batch * out_pixels * c_out * c_in * k * k * 3
    total = np.median(forward) + np.median(backward)
    return np.median(forward), np.median(backward), flops / total / 1e9, y.shape


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    print(f"Conv2D on a batch of {args.batch} images 28x28, median of {args.repeats} runs")
    header = (f"{'dtype':<8}{'in->out':<9}{'k/s/p':<8}{'output':<18}{'fwd ms':>8}{'bwd ms':>8}"
              f"{'total ms':>10}{'GFLOP/s':>9}")
    print(header)
    print("-" * len(header))
    for dtype in ("float32", "float64"):
        for c_in, c_out, k, s, p in CONFIGS:
            fwd, bwd, gflops, shape = time_config(args.batch, c_in, c_out, k, s, p, dtype,
                                                  args.repeats)
            print(f"{dtype:<8}{f'{c_in}->{c_out}':<9}{f'{k}/{s}/{p}':<8}{shape!s:<18}"
                  f"{fwd * 1e3:>8.2f}{bwd * 1e3:>8.2f}{(fwd + bwd) * 1e3:>10.2f}{gflops:>9.2f}")


if __name__ == "__main__":
    main()
