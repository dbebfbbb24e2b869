"""Hypothesis profiles of the fuzz suite: ``ci`` (bounded and repeatable, in ``make test``) and
``fuzz`` (``make fuzz``: 20 times the examples, random, failures kept in .hypothesis/). The
``HYPOTHESIS_PROFILE`` environment variable picks one."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,  # a run makes real requests: timing varies on a busy machine
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("ci", max_examples=25, database=None, derandomize=True, **_COMMON)
settings.register_profile("fuzz", max_examples=500, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
