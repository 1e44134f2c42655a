"""Test-wide set-up: compiled kernels and the simulated session go to a cache of the test run's own
(removed at exit), so tests never read or write the user's ~/.cache/mia; and the hypothesis
profiles (``tests/profiles.py``: ``ci`` by default, derandomized; ``deep`` for ``make test-deep``).

``MIA_TEST_KERNELS`` (a folder) keeps the compiled rule kernels between runs: ``scripts/mutate.py``
sets it, since a kernel's file is named by the hash of its source, so a mutant of the code
generator can never load another's kernel."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import profiles

_CACHE = tempfile.mkdtemp(prefix="mia-test-cache-")
os.environ["MIA_CACHE_DIR"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, True)
if os.environ.get("MIA_TEST_KERNELS"):
    os.makedirs(os.environ["MIA_TEST_KERNELS"], exist_ok=True)
    os.symlink(os.path.abspath(os.environ["MIA_TEST_KERNELS"]), os.path.join(_CACHE, "kernels"))

profiles.load()
