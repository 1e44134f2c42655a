"""Explain trace records in words: "why (no) trade at 10:31?".

``find`` picks the records of a minute (HH:MM of every day, or one day's; a time with a UTC
offset, ``2025-11-20T10:41+01:00`` or ``...Z``, is that instant, in New York time), ``explain`` turns one
record (the JSON object of decisions.jsonl or the journal) into lines: a bar's decision (what
fired, what vetoed or scaled it with `path:line` and values, the gate, the order), a risk-gate
change, a flatten, an entry cancelled or rejected. Backtest run folders (``mia why --run``) and
the supervisor (`mia why` on a running session) both use it.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from mia.errors import MiaError

_HHMM = re.compile(r"^([0-9]{1,2}):([0-9]{2})$")
_DAY_HHMM = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})[ T]([0-9]{1,2}):([0-9]{2})"
                       r"(:[0-9]{2}(\.[0-9]+)?)?([+-][0-9]{2}:?[0-9]{2}|Z)?$")
FORMS = "HH:MM or YYYY-MM-DD HH:MM, New York time"


def parse_when(when: str) -> tuple[str, str]:
    """``when`` as ("HH:MM", "") for every day, or ("HH:MM", "YYYY-MM-DD"); a ``MiaError`` when
    it is not a valid time."""
    text = when.strip()
    m = _HHMM.match(text)
    if m:
        hh, mm = int(m.group(1)), int(m.group(2))
        day = ""
    else:
        m = _DAY_HHMM.match(text)
        if not m:
            raise MiaError(f"{when}: error: not a valid time (expected {FORMS})")
        hh, mm = int(m.group(4)), int(m.group(5))
        day = f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
        try:
            datetime.strptime(day, "%Y-%m-%d")
        except ValueError:
            raise MiaError(f"{when}: error: not a valid date ({day})") from None
    if not (hh < 24 and mm < 60):
        raise MiaError(f"{when}: error: not a valid time (hours 00-23, minutes 00-59; expected {FORMS})")
    if day and m.group(8):
        return _in_trace_zone(when, day, hh, mm, m.group(8))
    return f"{hh:02d}:{mm:02d}", day


def _in_trace_zone(when: str, day: str, hh: int, mm: int, offset: str) -> tuple[str, str]:
    """The minute of ``day hh:mm`` at UTC ``offset`` (``Z``, ``+01:00``, ``-0500``) in the
    traces' zone (New York: the trading day's zone)."""
    from mia.calendar import sessions

    if offset == "Z":
        tz = timezone.utc
    else:
        oh, om = int(offset[1:3]), int(offset[-2:])
        if oh > 23 or om > 59:
            raise MiaError(f"{when}: error: not a valid UTC offset ({offset})")
        tz = timezone((-1 if offset[0] == "-" else 1) * timedelta(hours=oh, minutes=om))
    y, mo, d = (int(x) for x in day.split("-"))
    local = datetime(y, mo, d, hh, mm, tzinfo=tz).astimezone(sessions().roll_zone)
    return f"{local.hour:02d}:{local.minute:02d}", local.date().isoformat()


def find(decisions: list[dict], when: str) -> list[dict]:
    """Records whose New York time falls in the minute ``when``: HH:MM (every day), YYYY-MM-DD HH:MM or ISO."""
    hhmm, day = parse_when(when)
    if not day:
        return [d for d in decisions if d["time"][11:16] == hhmm]
    return [d for d in decisions if d["time"][:10] == day and d["time"][11:16] == hhmm]


def _values(vals: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in (vals or {}).items())


def _explain_bar(d: dict) -> list[str]:
    lines = [f"{d['time']}: {d['action']}" + (f" ({d['detail']})" if d.get("detail") else "")]
    if not d["fired"]:
        lines.append("  no signal fired on this bar")
    for f in d["fired"]:
        mark = "  <- chosen" if f["name"] == d.get("chosen") else ""
        lines.append(f"  signal {f['name']} ({f['side']}, priority {f['priority']}) at {f['where']}: "
                     f"{_values(f['values'])}{mark}")
    for v in d.get("vetoes", []):
        lines.append(f"  vetoed by {v['rule']} at {v['where']}: {v['effect']}: {v['reason']}")
    for s in d.get("scales", []):
        reason = f": {s['reason']}" if s.get("reason") else ""
        vals = f" ({_values(s['values'])})" if s.get("values") else ""
        lines.append(f"  scaled by {s['rule']} at {s['where']}: {s['effect']}{reason}{vals}")
    for text in (d.get("terms") or {}).values():
        lines.append(f"  {text}")
    if d.get("limit"):
        lines.append(f"  risk gate {d.get('gate', '')}: stopped by {d['limit']}")
    else:
        lines.append(f"  risk gate {d.get('gate', '')}")
    if d.get("sizing"):
        lines.append(f"  size: {d['sizing']}")
    if d.get("intent"):
        i = d["intent"]
        lines.append(f"  order {i['id']}: {'buy' if i['side'] > 0 else 'sell'} {i['qty']} {i['kind']}, "
                     f"stop {i['stop_ticks']:g} ticks, target {i['target_ticks']:g} ticks")
    if d.get("labels"):
        lines.append("  labels: " + ", ".join(f"{k}: {v}" for k, v in d["labels"].items()))
    return lines


def _explain_gate(d: dict) -> list[str]:
    lines = [f"{d['time']}: risk gate {d['from']} -> {d['to']} ({d['reason']})"]
    if d.get("limit"):
        where = f" at {d['where']}" if d.get("where") else " (the default: not set in the rules)"
        lines.append(f"  limit {d['limit']}{where}: {_values(d.get('values'))}".rstrip())
    elif d.get("values"):
        lines.append(f"  {_values(d['values'])}")
    return lines


def _explain_flatten(d: dict) -> list[str]:
    pos = d["position"]
    lines = [f"{d['time']}: flatten {'long' if pos > 0 else 'short'} {abs(pos)} at {d['price']:g} ({d['why']})"]
    if d.get("detail"):
        lines.append(f"  {d['detail']}")
    for c in d.get("closed", []):
        lines.append(f"  closed {c['order']} ({c['tag']}): {c['qty']} entered at {c['entry_price']:g}, "
                     f"out at {c['exit_price']:g}, net {c['net_usd']:.2f} USD")
    lines.append(f"  risk gate {d.get('gate', '')}")
    return lines


def _explain_order(d: dict) -> list[str]:
    side = "buy" if d.get("side", 0) > 0 else "sell"
    what = f"{side} {d.get('qty', '')} {d.get('order_type', '')}".strip()
    since = f", decided at {d['submitted']}" if d.get("submitted") else ""
    return [f"{d['time']}: entry {d['order']} ({what}{since}) {d['action']}: {d['why']}"]


_EXPLAIN = {"gate": _explain_gate, "flatten": _explain_flatten, "order": _explain_order}


def explain(d: dict, path: str = "decisions.jsonl") -> str:
    kind = d.get("kind", "bar")
    fn = _EXPLAIN.get(kind, _explain_bar if kind == "bar" else None)
    where = f"{path}:{d['_line']}" if "_line" in d else path
    if fn is None:
        raise MiaError(f"{where}: error: unknown record kind {kind!r}")
    try:
        return "\n".join(fn(d))
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        missing = f"no {exc}" if isinstance(exc, KeyError) else str(exc)
        raise MiaError(f"{where}: error: not a {kind} record of `mia backtest` ({missing})") from None
