"""Shared pytest configuration: hypothesis profiles sized for a 2-core machine.

The explorers the tests make carry their static version, as the chapters' do
(``NNLAB_STATIC_EXPLORERS=1``; the root conftest.py sets it for the notebooks' kernels).
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
