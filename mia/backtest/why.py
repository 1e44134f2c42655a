"""Answer "why (no) trade at 10:31?" from a run folder's decisions.jsonl (``mia.engine.explain``)."""
from __future__ import annotations

from pathlib import Path

from mia.runtime.runfolder import load_decisions
from mia.engine.explain import FORMS, explain, find, parse_when
from mia.errors import MiaError


def why(run_dir: str | Path, when: str) -> str:
    run_dir = Path(run_dir)
    parse_when(when)                       # a bad time is the first thing to say
    path = run_dir / "decisions.jsonl"
    if not path.is_file():
        raise MiaError(f"{run_dir}: error: no decisions.jsonl here (run `mia backtest --out {run_dir}` first)")
    matches = find(load_decisions(run_dir), when)
    if not matches:
        raise MiaError(f"{run_dir}: error: no bar closed at {when} ({FORMS})")
    return "\n".join(explain(d, str(path)) for d in matches)
