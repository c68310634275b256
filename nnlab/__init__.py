"""nnlab: a small, readable NumPy engine for learning how neural networks work.

Everything a chapter of the course needs is one attribute away::

    import nnlab as nl
    model = nl.Sequential([nl.Dense(2, 8, rng=0), nl.Activation("tanh"), nl.Dense(8, 1, rng=1)])

``nl.plot``, ``nl.widgets`` and ``nl.explorer_figures`` (matplotlib, ipywidgets) are
imported on first use, so that the engine itself runs without them; so is
``nl.playground``, the playground's data, network and training session.
"""

import importlib

from nnlab import (
    activations,
    callbacks,
    datasets,
    diagnostics,
    examples,
    explore,
    gradcheck,
    initializers,
    losses,
    metrics,
    optimizers,
    schedules,
    surfaces,
)
from nnlab.conv import Conv1D, Conv2D
from nnlab.layers import Activation, Dense, Dropout, Flatten, Layer, Residual
from nnlab.model import Sequential, load_model
from nnlab.normalization import BatchNorm
from nnlab.perceptron import Perceptron
from nnlab.pooling import AvgPool2D, GlobalMaxPool1D, MaxPool1D, MaxPool2D

__version__ = "0.1.0"

__all__ = [
    "Activation",
    "AvgPool2D",
    "BatchNorm",
    "Conv1D",
    "Conv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "GlobalMaxPool1D",
    "Layer",
    "MaxPool1D",
    "MaxPool2D",
    "Perceptron",
    "Residual",
    "Sequential",
    "activations",
    "callbacks",
    "datasets",
    "diagnostics",
    "examples",
    "explore",
    "gradcheck",
    "initializers",
    "load_model",
    "losses",
    "metrics",
    "optimizers",
    "schedules",
    "surfaces",
]

_LAZY = ("plot", "widgets", "explorer_figures", "playground")


def __getattr__(name):
    if name in _LAZY:
        return importlib.import_module(f"nnlab.{name}")
    raise AttributeError(f"module 'nnlab' has no attribute {name!r}")
