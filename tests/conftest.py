"""Test-wide set-up: compiled kernels and the simulated session go to a cache of the test run's own
(removed at exit), so tests never read or write the user's ~/.cache/mia."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile

_CACHE = tempfile.mkdtemp(prefix="mia-test-cache-")
os.environ["MIA_CACHE_DIR"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, True)
