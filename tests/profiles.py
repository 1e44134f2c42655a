"""The hypothesis profiles of the suite, chosen with ``MIA_TEST_PROFILE`` (``tests/conftest.py``
loads one before any test):

- ``ci`` (the default, ``make test``): derandomized (every run draws the same examples, so a red
  CI run is the same on a laptop), no example database, no deadline (numba compiles inside tests);
- ``deep`` (``make test-deep``, not in CI): random draws, and ``examples(n)`` gives each property
  test ``DEEP_FACTOR`` times its CI count (or the ``deep=`` count it names);
- ``mutate`` (``scripts/mutate.py``): the CI draws, without shrinking a failure (a mutant is killed
  by the first failing example; shrinking it would only cost minutes).

A property test writes ``@settings(max_examples=examples(30))``; a failing example that took long
to find or shrink is pinned with ``@example(...)`` so that CI runs it every time.
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

PROFILE = os.environ.get("MIA_TEST_PROFILE", "ci")
DEEP_FACTOR = 10
_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]

settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True,
                          suppress_health_check=_SLOW_OK)
settings.register_profile("deep", derandomize=False, deadline=None, print_blob=True,
                          suppress_health_check=_SLOW_OK)
settings.register_profile("mutate", derandomize=True, database=None, deadline=None,
                          phases=[Phase.explicit, Phase.generate], suppress_health_check=_SLOW_OK)


def load() -> None:
    if PROFILE not in ("ci", "deep", "mutate"):
        raise SystemExit(f"MIA_TEST_PROFILE must be ci, deep or mutate, got {PROFILE!r}")
    settings.load_profile(PROFILE)


def examples(n: int, deep: int | None = None) -> int:
    """How many examples a property test runs: ``n`` in CI, more in the deep profile."""
    if PROFILE == "deep":
        return deep if deep is not None else n * DEEP_FACTOR
    return n
