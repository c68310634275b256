"""Helpers shared by the Muon tests: starting weights and the gradients of 20 steps."""

import numpy as np


def draws(shapes, steps=20, seed=0, dtype=np.float64):
    """Starting weights and the gradients of every step, ever larger (step t: times t)."""
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=s).astype(dtype) for s in shapes]
    grads = [[(rng.normal(size=s) * (1 + t)).astype(dtype) for s in shapes]
             for t in range(steps)]
    return params, grads
