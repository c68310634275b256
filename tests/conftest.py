"""Shared pytest configuration: hypothesis profiles sized for a 2-core machine."""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "nnlab",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("nnlab")
