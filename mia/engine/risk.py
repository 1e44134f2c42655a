"""The risk gate: ACTIVE / REDUCE_ONLY / HALTED, and the per-entry limits of a rule set's `risk`.

Three parts, kept apart so that a reload of the rules swaps the limits and keeps the day:
- ``Limits``: what the rules say (a ``Risk`` and where each `risk.` key is set, for traces);
- ``DayCounters``: what today did (P&L, trades, consecutive losses, rejections, last stop-out);
- holds: why entries are stopped now. Each hold has a state (REDUCE_ONLY: exits only, or
  HALTED: nothing new; flatten is always allowed) and a reason. A limit's hold (daily loss,
  consecutive losses, order rejections: HALTED; daily profit target: REDUCE_ONLY) lasts until
  the trading day rolls (the calendar's roll, 18:00 New York by default); an operator's hold
  (pause, flatten: REDUCE_ONLY) lasts until ``resume``; the feed's (stale data: HALTED) until
  data flows again. The gate's state is the strictest hold's.
Every change of state is published once, as a ``GateChange`` record (with the limit that caused
it, where the rules set it and the values it saw), to the gate's ``publish`` callable.
Per-entry limits checked in ACTIVE: trading hours, cooldown after a stop-out, trades per day,
stale data (the bar decided closed more than `stale_bar_seconds` ago in feed time, a gap in the
data; the last VIX older than `stale_vix_seconds`), VIX above `halt_vix_above`, max position.
The gate never blocks an exit or a flatten.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from mia.dsl.ruleset import Risk
from mia.calendar import DayClock, in_hours
from mia.engine.records import GateChange

ACTIVE, REDUCE_ONLY, HALTED = "ACTIVE", "REDUCE_ONLY", "HALTED"
_SEVERITY = {ACTIVE: 0, REDUCE_ONLY: 1, HALTED: 2}

#: hold keys that are not a `risk.` limit: they outlive the trading day
PAUSE, FLATTEN, FEED = "pause", "flatten", "feed"
OPERATOR_HOLDS = (PAUSE, FLATTEN)


@dataclass
class GateCheck:
    ok: bool
    limit: str = ""        # which limit said no (a `risk.` key or the gate state)
    detail: str = ""


@dataclass(frozen=True)
class Limits:
    """The rules' side of the gate: the limits and where each `risk.` key is set (`path:line`)."""
    risk: Risk
    sources: dict = field(default_factory=dict)

    @classmethod
    def for_rules(cls, ruleset) -> "Limits":
        return cls(ruleset.risk, {k: ruleset.where(p) for k, p in ruleset.setting_pos.items()
                                  if k.startswith("risk.")})


@dataclass
class DayCounters:
    """The day's side of the gate: what happened since the trading day began."""
    day: date | None = None
    realized_usd: float = 0.0
    trades_today: int = 0
    consecutive_losses: int = 0
    rejections: int = 0
    last_stop_t: float | None = None


@dataclass
class Hold:
    state: str
    reason: str
    #: a limit's hold ends with the trading day; an operator's or the feed's does not
    daily: bool = True


def _ignore(_change: GateChange) -> None:
    pass


class RiskGate:
    def __init__(self, limits: Limits | Risk, publish: Callable[[GateChange], None] | None = None,
                 counters: DayCounters | None = None):
        self.limits = limits if isinstance(limits, Limits) else Limits(limits)
        self.counters = counters or DayCounters()
        self.publish = publish or _ignore
        #: hold key (a `risk.` key, or PAUSE / FLATTEN / FEED) -> Hold, in the order they came
        self.holds: dict[str, Hold] = {}
        self.state = ACTIVE
        self._clock = DayClock()

    @classmethod
    def for_rules(cls, ruleset, publish: Callable[[GateChange], None] | None = None) -> "RiskGate":
        """The gate of a rule set, citing where its `risk` limits are set."""
        return cls(Limits.for_rules(ruleset), publish)

    # ---- the parts ------------------------------------------------------------------------------
    @property
    def risk(self) -> Risk:
        return self.limits.risk

    @property
    def day(self) -> date | None:
        return self.counters.day

    @property
    def realized_usd(self) -> float:
        return self.counters.realized_usd

    @property
    def trades_today(self) -> int:
        return self.counters.trades_today

    @property
    def reason(self) -> str:
        """Why the gate is in its state: the first of the strictest holds ("" when ACTIVE)."""
        for hold in self.holds.values():
            if hold.state == self.state:
                return hold.reason
        return ""

    def snapshot(self) -> dict:
        """The day's side of the gate as plain data (the journal keeps it; ``restore`` reads it)."""
        c = self.counters
        return {"state": self.state, "day": c.day.isoformat() if c.day else None, "realized_usd": c.realized_usd,
                "trades_today": c.trades_today, "consecutive_losses": c.consecutive_losses,
                "rejections": c.rejections, "last_stop_t": c.last_stop_t,
                "holds": [[k, h.state, h.reason, h.daily] for k, h in self.holds.items()]}

    def restore(self, snap: dict) -> None:
        """The day's side as ``snapshot`` gave it (nothing is published: it already was)."""
        day = snap.get("day")
        self.counters = DayCounters(date.fromisoformat(day) if day else None, float(snap["realized_usd"]),
                                    int(snap["trades_today"]), int(snap["consecutive_losses"]),
                                    int(snap["rejections"]), snap.get("last_stop_t"))
        self.holds = {k: Hold(state, reason, bool(daily)) for k, state, reason, daily in snap.get("holds", [])}
        self.state = snap["state"]

    def swap_limits(self, limits: Limits) -> None:
        """New rules: new limits, the same day (counters and holds carry over)."""
        self.limits = limits

    # ---- holds ----------------------------------------------------------------------------------
    def _settle(self, t: float, reason: str, limit: str = "", values: dict | None = None) -> None:
        """Recompute the state from the holds; a change is published with ``reason``."""
        state = max((h.state for h in self.holds.values()), key=_SEVERITY.__getitem__, default=ACTIVE)
        if state != self.state:
            old, self.state = self.state, state
            self.publish(GateChange(t, old, state, reason, limit, self.limits.sources.get(limit, ""),
                                    dict(values or {})))

    def _hold(self, t: float, key: str, state: str, reason: str, values: dict | None = None) -> None:
        """A limit's hold (``key`` is its `risk.` key): until the trading day rolls."""
        if key in self.holds:
            return
        self.holds[key] = Hold(state, reason)
        self._settle(t, reason, key, values)

    def hold(self, t: float, key: str, state: str, reason: str, values: dict | None = None,
             limit: str = "") -> bool:
        """An operator's or the feed's hold (``PAUSE``, ``FLATTEN``, ``FEED``): until ``release``;
        ``limit`` names the setting behind it, if any. False when that hold was already there."""
        if key in self.holds:
            return False
        self.holds[key] = Hold(state, reason, daily=False)
        self._settle(t, reason, limit, values)
        return True

    def release(self, t: float, keys: tuple[str, ...], reason: str) -> list[str]:
        """End the holds ``keys`` (an operator's resume: PAUSE and FLATTEN; data again: FEED);
        the keys that were held. A limit's hold is not released: it waits for the next day."""
        gone = [k for k in keys if k in self.holds and not self.holds[k].daily]
        for k in gone:
            del self.holds[k]
        if gone:
            self._settle(t, reason)
        return gone

    # ---- the day --------------------------------------------------------------------------------
    def ends_day(self, t: float) -> bool:
        """Whether ``t`` is in a later trading day than the gate's (the day ended before it)."""
        return self.counters.day is not None and self._clock.day(t) > self.counters.day

    def roll(self, t: float) -> bool:
        """Start a new trading day when ``t`` is in one; True if it rolled. The day's counters
        restart and the limits' holds end; the operator's and the feed's stay."""
        day = self._clock.day(t)
        if self.counters.day == day:
            return False
        self.counters = DayCounters(day=day)
        self.holds = {k: h for k, h in self.holds.items() if not h.daily}
        self._settle(t, f"new trading day {day}", values={"day": str(day)})
        return True

    # ---- what happened --------------------------------------------------------------------
    def on_entry(self, t: float) -> None:
        self.roll(t)
        self.counters.trades_today += 1

    def on_closed_trade(self, t: float, net_usd: float, stopped_out: bool) -> None:
        self.roll(t)
        c, r = self.counters, self.risk
        c.realized_usd += net_usd
        c.consecutive_losses = c.consecutive_losses + 1 if net_usd < 0 else 0
        if stopped_out:
            c.last_stop_t = t
        self._after_pnl(t, c.realized_usd)
        if c.consecutive_losses >= r.max_consecutive_losses:
            self._hold(t, "risk.max_consecutive_losses", HALTED,
                       f"{c.consecutive_losses} consecutive losses (risk.max_consecutive_losses "
                       f"{r.max_consecutive_losses})",
                       {"consecutive_losses": c.consecutive_losses, "limit": r.max_consecutive_losses,
                        "daily_pnl_usd": round(c.realized_usd, 2)})

    def on_rejection(self, t: float) -> None:
        self.roll(t)
        c, r = self.counters, self.risk
        c.rejections += 1
        if c.rejections > r.max_order_rejections:
            self._hold(t, "risk.max_order_rejections", HALTED,
                       f"{c.rejections} order rejections today (risk.max_order_rejections {r.max_order_rejections})",
                       {"rejections_today": c.rejections, "limit": r.max_order_rejections})

    def mark(self, t: float, unrealized_usd: float) -> bool:
        """Mark the open position; True when the daily loss is breached (the caller flattens)."""
        self.roll(t)
        return self._after_pnl(t, self.counters.realized_usd + unrealized_usd)

    def quiet_band(self, position: int, avg_price: float, point_value: float, margin: float) -> tuple[float, float]:
        """(lo, hi): marking ``position`` (entered at ``avg_price``) at a price strictly between
        them crosses neither the daily loss nor the profit target, with ``margin`` points to
        spare for rounding; a fast replay need not mark those prices. ``mark`` at a new trading
        day is the caller's to do (the day's first event goes through the slow path)."""
        if not position:
            return -math.inf, math.inf
        per_point = position * point_value
        realized = self.counters.realized_usd
        loss = avg_price + (-self.risk.daily_loss_usd - realized) / per_point
        lo, hi = (loss + margin, math.inf) if position > 0 else (-math.inf, loss - margin)
        if "risk.daily_profit_target" not in self.holds:
            target = avg_price + (self.risk.daily_profit_target_usd - realized) / per_point
            if position > 0:
                hi = target - margin
            else:
                lo = target + margin
        return lo, hi

    def _after_pnl(self, t: float, pnl: float) -> bool:
        r = self.risk
        values = {"daily_pnl_usd": round(pnl, 2), "realized_usd": round(self.counters.realized_usd, 2)}
        if pnl <= -r.daily_loss_usd:
            self._hold(t, "risk.daily_loss", HALTED,
                       f"daily loss {pnl:.2f} USD reached risk.daily_loss {r.daily_loss_usd:g} USD: "
                       "flattened, halted until the next trading day",
                       {**values, "limit_usd": -r.daily_loss_usd})
            return True
        if pnl >= r.daily_profit_target_usd:
            self._hold(t, "risk.daily_profit_target", REDUCE_ONLY,
                       f"daily profit {pnl:.2f} USD reached risk.daily_profit_target "
                       f"{r.daily_profit_target_usd:g} USD: no new entries today",
                       {**values, "target_usd": r.daily_profit_target_usd})
        return False

    # ---- may we enter? -------------------------------------------------------------------------
    def check_entry(self, t: float, position: int, vix: float, bar_age_s: float = math.nan,
                    vix_age_s: float = math.nan) -> GateCheck:
        """May an entry be sent at ``t``? ``bar_age_s``: how long ago (feed time) the bar being
        decided closed; ``vix_age_s``: how old the last VIX is (NaN: cannot tell, not judged)."""
        self.roll(t)
        r, c = self.risk, self.counters
        if self.state != ACTIVE:
            return GateCheck(False, self.state, self.reason)
        hours = r.trading_hours
        if not in_hours(t, hours.start_min, hours.end_min, hours.zone):
            return GateCheck(False, "risk.trading_hours", f"outside {hours}")
        # a bar's decision is stamped with its close, which a stop on a later tick may follow
        since_stop = None if c.last_stop_t is None else max(0.0, t - c.last_stop_t)
        if since_stop is not None and since_stop < r.cooldown_after_stop_min * 60:
            left = r.cooldown_after_stop_min - since_stop / 60
            return GateCheck(False, "risk.cooldown_after_stop",
                             f"stopped out {since_stop / 60:.1f} min ago; {left:.1f} min of cooldown left")
        if c.trades_today >= r.max_trades_per_day:
            return GateCheck(False, "risk.max_trades_per_day", f"{c.trades_today} trades today")
        if bar_age_s > r.stale_bar_seconds:
            return GateCheck(False, "risk.stale_bar_seconds",
                             f"the bar closed {bar_age_s:.0f} s ago (data gap); limit {r.stale_bar_seconds:g} s")
        if vix_age_s > r.stale_vix_seconds:
            return GateCheck(False, "risk.stale_vix_seconds",
                             f"the last VIX is {vix_age_s:.0f} s old; limit {r.stale_vix_seconds:g} s")
        if vix == vix and vix > r.halt_vix_above:
            return GateCheck(False, "risk.halt_vix_above", f"VIX {vix:g} > {r.halt_vix_above:g}")
        if abs(position) >= r.max_position:
            return GateCheck(False, "risk.max_position", f"position {position} at the limit {r.max_position}")
        return GateCheck(True)
