"""The one place that says "did you mean ...?" for a misspelled name."""
from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or an empty string."""
    pool = sorted(set(candidates))
    best = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if not best:
        lowered = {c.lower(): c for c in pool}
        if name.lower() in lowered:
            best = [lowered[name.lower()]]
    return f" (did you mean '{best[0]}'?)" if best else ""
