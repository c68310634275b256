"""Shared pytest configuration: hypothesis profiles sized for a 2-core machine.

The notebooks' kernels (nbval) inherit ``NNLAB_STATIC_EXPLORERS=1``, as when
``make notebooks`` executed them: their explorers carry the static version.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "nnlab",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("nnlab")

os.environ["NNLAB_STATIC_EXPLORERS"] = "1"
