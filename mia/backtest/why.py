"""Answer "why (no) trade at 10:31?" from a backtest's decisions.jsonl."""
from __future__ import annotations

import re
from pathlib import Path

from mia.backtest.report import load_decisions
from mia.errors import MiaError

_HHMM = re.compile(r"^([0-9]{1,2}):([0-9]{2})$")


def find(decisions: list[dict], when: str) -> list[dict]:
    """Decisions whose New York time matches ``when``: HH:MM (every day), YYYY-MM-DD HH:MM or ISO."""
    when = when.strip().replace("T", " ")
    m = _HHMM.match(when)
    if m:
        key = f"{int(m.group(1)):02d}:{m.group(2)}"
        return [d for d in decisions if d["time"][11:16] == key]
    key = when[:16]
    return [d for d in decisions if d["time"].replace("T", " ")[:16] == key]


def explain(d: dict) -> str:
    lines = [f"{d['time']}: {d['action']}" + (f" ({d['detail']})" if d.get("detail") else "")]
    if not d["fired"]:
        lines.append("  no signal fired on this bar")
    for f in d["fired"]:
        vals = " ".join(f"{k}={v}" for k, v in f["values"].items())
        mark = "  <- chosen" if f["name"] == d.get("chosen") else ""
        lines.append(f"  signal {f['name']} ({f['side']}, priority {f['priority']}) at {f['where']}: {vals}{mark}")
    for v in d["vetoes"]:
        lines.append(f"  vetoed by {v['rule']} at {v['where']}: {v['effect']}: {v['reason']}")
    for s in d["scales"]:
        reason = f": {s['reason']}" if s.get("reason") else ""
        lines.append(f"  scaled by {s['rule']} at {s['where']}: {s['effect']}{reason}")
    if d.get("limit"):
        lines.append(f"  risk gate {d['gate']}: stopped by {d['limit']}")
    else:
        lines.append(f"  risk gate {d['gate']}")
    if d.get("intent"):
        i = d["intent"]
        lines.append(f"  order {i['id']}: {'buy' if i['side'] > 0 else 'sell'} {i['qty']} {i['kind']}, "
                     f"stop {i['stop_ticks']:g} ticks, target {i['target_ticks']:g} ticks")
    return "\n".join(lines)


def why(run_dir: str | Path, when: str) -> str:
    run_dir = Path(run_dir)
    if not (run_dir / "decisions.jsonl").is_file():
        raise MiaError(f"{run_dir}: error: no decisions.jsonl here (run `mia backtest --out {run_dir}` first)")
    matches = find(load_decisions(run_dir), when)
    if not matches:
        raise MiaError(f"{run_dir}: error: no bar closed at {when} (times are New York, HH:MM or YYYY-MM-DD HH:MM)")
    return "\n".join(explain(d) for d in matches)
