"""Shared pytest configuration: hypothesis profiles sized for a 2-core machine.

The explorers the tests make carry their static version, as the chapters' do
(``NNLAB_STATIC_EXPLORERS=1``; the root conftest.py sets it for the notebooks' kernels).

The comparisons with PyTorch and Keras (``make references`` installs them) are skipped
without them; with ``NNLAB_REFERENCES=required``, as CI runs the suite (.ci/run), a
reference that cannot be imported stops the run instead: 166 tests had been skipped in
every CI run, unseen.
"""

import importlib
import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "nnlab",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("nnlab")

os.environ["NNLAB_STATIC_EXPLORERS"] = "1"

os.environ.setdefault("KERAS_BACKEND", "torch")   # Keras on PyTorch: no TensorFlow needed

REFERENCES = ("torch", "keras")


def pytest_configure(config):
    if os.environ.get("NNLAB_REFERENCES") != "required":
        return
    for name in REFERENCES:
        try:
            importlib.import_module(name)
        except ImportError as error:
            raise pytest.UsageError(f"NNLAB_REFERENCES=required, and {name} cannot be "
                                    f"imported ({error}): make references") from None
