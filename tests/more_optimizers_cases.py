"""Helpers shared by the RAdam, Rprop and ASGD tests: starting weights and the gradients of
every step, for a vector, a matrix and a convolution kernel."""

import numpy as np

#: A vector, a matrix and a convolution kernel (out, in, kh, kw).
SHAPES = [(5,), (3, 4), (2, 3, 2, 2)]


def draws(seed=0, steps=20):
    """Starting weights, and the gradients of every step, a tenth of them exactly 0 (where
    Rprop's sign is 0)."""
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=s) for s in SHAPES]
    grads = []
    for _ in range(steps):
        gs = [rng.normal(size=s) for s in SHAPES]
        for g in gs:
            g[rng.random(g.shape) < 0.1] = 0.0
        grads.append(gs)
    return params, grads
