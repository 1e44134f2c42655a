"""The alert bus: one typed stream of what a trader wants to hear about, for every front end.

An ``Alert`` has a ``kind`` (``KINDS``), the feed time ``t``, ``fields`` (the values a message
template may use; every value is a plain str/number/bool; ``FIELDS`` lists, per kind, every
field an alert of that kind may carry and its type: alerts/alerts.yaml's templates are checked
against it) and ``text``, a default one-line message. ``alerts_of`` turns the session's records into alerts; the supervisor adds its own
(reloads, feed health, errors, daily summaries). ``AlertBus.publish`` hands each alert to every
subscriber; a subscriber must not block (a front end queues the alert and returns), and one
that raises is logged and skipped: an alert never stops the trading loop.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from mia.broker.orders import ClosedTrade, Fill
from mia.calendar import iso
from mia.engine.records import Decision, FlattenRecord, GateChange, OrderRecord

log = logging.getLogger(__name__)

KINDS = ("signal", "order", "fill", "stop", "target", "veto", "gate", "reload_ok", "reload_failed",
         "feed_stale", "feed_back", "feed_skew", "broker_down", "broker_up", "error", "daily_summary", "command",
         "unauthorized")

#: per kind, the fields its alerts may carry and their types (an alert may leave some out: the
#: order and fill kinds have two shapes each); a test checks every alert a run makes against it
FIELDS: dict[str, dict[str, type]] = {
    "signal": {"time": str, "signals": str, "signal": str, "side": str, "action": str, "detail": str, "gate": str},
    "order": {"time": str, "order": str, "side": str, "qty": int, "kind": str, "signal": str, "stop_ticks": float,
              "target_ticks": float, "action": str, "why": str},
    "fill": {"time": str, "order": str, "side": str, "qty": int, "price": float, "role": str, "why": str,
             "detail": str, "position": int, "net_usd": float},
    "stop": {"time": str, "order": str, "signal": str, "side": str, "qty": int, "entry_price": float,
             "exit_price": float, "net_usd": float, "r_multiple": float},
    "veto": {"time": str, "signal": str, "rule": str, "where": str, "by": str, "reason": str, "values": str},
    "gate": {"time": str, "from": str, "to": str, "reason": str, "limit": str, "where": str},
    "reload_ok": {"version": str, "why": str, "loosened": str},
    "reload_failed": {"error": str, "first_error": str, "why": str, "version": str},
    "feed_stale": {"time": str, "quiet_s": float, "bound_s": float},
    "feed_back": {"time": str},
    "feed_skew": {"skew_s": float, "bound_s": float},
    "broker_down": {"broker": str, "reason": str},
    "broker_up": {"broker": str},
    "error": {"error": str},
    "daily_summary": {"day": str, "trades": int, "wins": int, "losses": int, "net_usd": float},
    "command": {"command": str, "origin": str, "result": str},
    "unauthorized": {"chat": str, "user": str, "message": str},
}
FIELDS["target"] = FIELDS["stop"]


@dataclass
class Alert:
    kind: str
    t: float
    text: str
    fields: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"kind": self.kind, "t": self.t, "time": iso(self.t) if self.t else "", "text": self.text,
                "fields": self.fields}


def _side(side: int) -> str:
    return "long" if side > 0 else "short"


def _px(x: float) -> str:
    return f"{x:.2f}"


def alerts_of(rec, mode: str = "paper") -> list[Alert]:
    """The alerts a session record makes (none for most bar decisions)."""
    if isinstance(rec, Decision):
        return _decision(rec, mode)
    if isinstance(rec, GateChange):
        return [Alert("gate", rec.t, f"RISK {rec.old} -> {rec.new}: {rec.reason}",
                      {"time": rec.time, "from": rec.old, "to": rec.new, "reason": rec.reason, "limit": rec.limit,
                       "where": rec.where})]
    if isinstance(rec, Fill) and rec.role == "entry":
        return [Alert("fill", rec.t, f"FILLED {'buy' if rec.side > 0 else 'sell'} {rec.qty} at {_px(rec.price)} "
                                     f"({rec.order_id})",
                      {"time": iso(rec.t), "order": rec.order_id, "side": "buy" if rec.side > 0 else "sell",
                       "qty": rec.qty, "price": rec.price, "role": rec.role})]
    if isinstance(rec, ClosedTrade) and rec.exit_role in ("stop", "target"):
        what = "STOP HIT" if rec.exit_role == "stop" else "TARGET HIT"
        return [Alert(rec.exit_role, rec.exit_t,
                      f"{what}: {_side(rec.side)} {rec.qty} ({rec.tag}) out at {_px(rec.exit_price)}, "
                      f"net {rec.net_usd:+.2f} USD",
                      {"time": iso(rec.exit_t), "order": rec.entry_id, "signal": rec.tag, "side": _side(rec.side),
                       "qty": rec.qty, "entry_price": rec.entry_price, "exit_price": rec.exit_price,
                       "net_usd": round(rec.net_usd, 2), "r_multiple": round(rec.r_multiple, 2)})]
    if isinstance(rec, FlattenRecord):
        net = sum(c["net_usd"] for c in rec.closed)
        return [Alert("fill", rec.t, f"FLATTENED {_side(rec.position)} {abs(rec.position)} at {_px(rec.price)} "
                                     f"({rec.why}), net {net:+.2f} USD",
                      {"time": rec.time, "why": rec.why, "detail": rec.detail, "position": rec.position,
                       "price": rec.price, "net_usd": round(net, 2), "role": "flatten"})]
    if isinstance(rec, OrderRecord):
        return [Alert("order", rec.t, f"ORDER {rec.order} {rec.action}: {rec.why}",
                      {"time": rec.time, "order": rec.order, "action": rec.action, "why": rec.why,
                       "side": "buy" if rec.side > 0 else "sell", "qty": rec.qty})]
    return []


def _decision(d: Decision, mode: str) -> list[Alert]:
    if not d.fired:
        return []
    out = []
    names = ", ".join(f["name"] for f in d.fired)
    chosen = d.chosen or (d.fired[0]["name"] if d.fired else "")
    side = next((f["side"] for f in d.fired if f["name"] == chosen), "")
    out.append(Alert("signal", d.t, f"SIGNAL {names} at {d.time[11:16]}: {d.action}"
                                    + (f" ({d.detail})" if d.detail else ""),
                     {"time": d.time, "signals": names, "signal": chosen, "side": side, "action": d.action,
                      "detail": d.detail, "gate": d.gate}))
    for v in d.vetoes:
        by = f"{v['rule']} ({v['where']})" if v["where"] else v["rule"]
        out.append(Alert("veto", d.t, f"ENTRY BLOCKED by {by}: {v['reason']}",
                         {"time": d.time, "signal": chosen, "rule": v["rule"], "where": v["where"], "by": by,
                          "reason": v["reason"], "values": " ".join(f"{k}={x}" for k, x in v["values"].items())}))
    if d.limit and d.action == "blocked":
        out.append(Alert("veto", d.t, f"ENTRY BLOCKED by {d.limit}: {d.detail}",
                         {"time": d.time, "signal": chosen, "rule": d.limit, "where": "", "by": d.limit,
                          "reason": d.detail, "values": ""}))
    if d.intent is not None:
        i = d.intent
        sent = "" if mode != "observe" else " (observe mode: not sent)"
        out.append(Alert("order", d.t, f"ORDER {i.id}: {'buy' if i.side > 0 else 'sell'} {i.qty} {i.kind} "
                                       f"({i.tag}), stop {i.stop_ticks:g} ticks, target {i.target_ticks:g} ticks{sent}",
                         {"time": d.time, "order": i.id, "side": "buy" if i.side > 0 else "sell", "qty": i.qty,
                          "kind": i.kind, "signal": i.tag, "stop_ticks": i.stop_ticks, "target_ticks": i.target_ticks,
                          "action": "sent" if mode != "observe" else "observed"}))
    return out


class AlertBus:
    """Alerts out to every subscriber, in order."""

    def __init__(self) -> None:
        self.subscribers: list[Callable[[Alert], None]] = []

    def subscribe(self, fn: Callable[[Alert], None]) -> None:
        self.subscribers.append(fn)

    def publish(self, alert: Alert) -> None:
        for fn in list(self.subscribers):
            try:
                fn(alert)
            except Exception:                  # a front end's bug must never stop the trading loop
                log.exception("alert subscriber %r failed on %s", fn, alert.kind)
