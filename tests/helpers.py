"""Shared test helpers: a central-difference gradient independent of nnlab.gradcheck, and
the kinks of the activations, where no gradient can be checked."""

import numpy as np


def numeric_grad(f, x, eps=1e-6):
    """Central differences of the scalar f at x (x perturbed in place and restored)."""
    g = np.zeros_like(x, dtype=np.float64)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        fp = f()
        x[i] = old - eps
        fm = f()
        x[i] = old
        g[i] = (fp - fm) / (2 * eps)
    return g


def rel_error(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - b) / denom)


#: Where relu and its kin (step, leaky ReLU, ELU, SELU, ReLU6, the hard sigmoid and hard
#: SiLU) have no derivative: a central difference across one measures a jump, not a slope.
KINKS = (-3.0, 0.0, 3.0, 6.0)


def away_from_kinks(x, margin=1e-3):
    """A copy of x in which every value closer than ``margin`` to a kink is moved 0.5 right."""
    x = np.asarray(x)
    near = np.min(np.abs(x[..., None] - np.array(KINKS)), axis=-1) < margin
    return np.where(near, x + 0.5, x)
