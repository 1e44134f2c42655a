"""The risk gate: ACTIVE / REDUCE_ONLY / HALTED, and the per-entry limits of a rule set's `risk`.

States: ACTIVE (entries allowed), REDUCE_ONLY (daily profit target reached: exits only),
HALTED (daily loss, consecutive losses or too many order rejections: nothing new; flatten is
always allowed). Every state clears when the trading day rolls (18:00 New York).
Every state change is kept twice: ``transitions`` as (time, old, new, reason) tuples, and
``changes`` as ``GateChange`` records for traces, with the limit that caused it (a `risk.` key),
where the rules set it (``sources``: key -> `path:line`) and the values it saw.
Per-entry limits checked in ACTIVE: trading hours, cooldown after a stop-out, trades per day,
VIX above `halt_vix_above`, max position. The gate never blocks an exit or a flatten.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from mia.dsl.ruleset import Risk
from mia.calendar import DayClock, in_hours

ACTIVE, REDUCE_ONLY, HALTED = "ACTIVE", "REDUCE_ONLY", "HALTED"


@dataclass
class GateCheck:
    ok: bool
    limit: str = ""        # which limit said no (a `risk.` key or the gate state)
    detail: str = ""


@dataclass
class GateChange:
    """One state change of the gate, for the decision trace."""
    t: float
    old: str
    new: str
    reason: str
    limit: str = ""                    # the `risk.` key that caused it; "" for the day roll
    where: str = ""                    # `path:line` of that key in the rules, when they set it
    values: dict = field(default_factory=dict)


@dataclass
class RiskGate:
    risk: Risk
    state: str = ACTIVE
    reason: str = ""
    day: date | None = None
    realized_usd: float = 0.0
    trades_today: int = 0
    consecutive_losses: int = 0
    rejections: int = 0
    last_stop_t: float | None = None
    #: (time, old state, new state, reason) for traces and alerts
    transitions: list = field(default_factory=list)
    #: the same changes as ``GateChange`` records, with the limit, its place and the values
    changes: list = field(default_factory=list)
    #: `risk.` key -> `path:line` where the rules set it (``RuleSet.setting_pos``)
    sources: dict = field(default_factory=dict)
    _clock: DayClock = field(default_factory=DayClock, repr=False)

    @classmethod
    def for_rules(cls, ruleset) -> "RiskGate":
        """The gate of a rule set, citing where its `risk` limits are set."""
        return cls(ruleset.risk, sources={k: f"{p.path}:{p.line}" for k, p in ruleset.setting_pos.items()
                                          if k.startswith("risk.")})

    def _set(self, t: float, state: str, reason: str, limit: str = "", values: dict | None = None) -> None:
        if state != self.state:
            self.transitions.append((t, self.state, state, reason))
            self.changes.append(GateChange(t, self.state, state, reason, limit, self.sources.get(limit, ""),
                                           dict(values or {})))
        self.state, self.reason = state, reason

    def ends_day(self, t: float) -> bool:
        """Whether ``t`` is in a later trading day than the gate's (the day ended before it)."""
        return self.day is not None and self._clock.day(t) > self.day

    def roll(self, t: float) -> bool:
        """Start a new trading day when ``t`` is in one; True if it rolled."""
        day = self._clock.day(t)
        if self.day == day:
            return False
        first = self.day is None
        self.day = day
        self.realized_usd = 0.0
        self.trades_today = 0
        self.consecutive_losses = 0
        self.rejections = 0
        self.last_stop_t = None
        if not first or self.state != ACTIVE:
            self._set(t, ACTIVE, f"new trading day {day}", values={"day": str(day)})
        return True

    # ---- what happened --------------------------------------------------------------------
    def on_entry(self, t: float) -> None:
        self.roll(t)
        self.trades_today += 1

    def on_closed_trade(self, t: float, net_usd: float, stopped_out: bool) -> None:
        self.roll(t)
        self.realized_usd += net_usd
        self.consecutive_losses = self.consecutive_losses + 1 if net_usd < 0 else 0
        if stopped_out:
            self.last_stop_t = t
        self._after_pnl(t, self.realized_usd)
        if self.state != HALTED and self.consecutive_losses >= self.risk.max_consecutive_losses:
            self._set(t, HALTED, f"{self.consecutive_losses} consecutive losses "
                                 f"(risk.max_consecutive_losses {self.risk.max_consecutive_losses})",
                      "risk.max_consecutive_losses",
                      {"consecutive_losses": self.consecutive_losses, "limit": self.risk.max_consecutive_losses,
                       "daily_pnl_usd": round(self.realized_usd, 2)})

    def on_rejection(self, t: float) -> None:
        self.roll(t)
        self.rejections += 1
        if self.rejections > self.risk.max_order_rejections and self.state != HALTED:
            self._set(t, HALTED, f"{self.rejections} order rejections today "
                                 f"(risk.max_order_rejections {self.risk.max_order_rejections})",
                      "risk.max_order_rejections",
                      {"rejections_today": self.rejections, "limit": self.risk.max_order_rejections})

    def mark(self, t: float, unrealized_usd: float) -> bool:
        """Mark the open position; True when the daily loss is breached (the caller flattens)."""
        self.roll(t)
        return self._after_pnl(t, self.realized_usd + unrealized_usd)

    def quiet_band(self, position: int, avg_price: float, point_value: float, margin: float) -> tuple[float, float]:
        """(lo, hi): marking ``position`` (entered at ``avg_price``) at a price strictly between
        them crosses neither the daily loss nor the profit target, with ``margin`` points to
        spare for rounding; a fast replay need not mark those prices. ``mark`` at a new trading
        day is the caller's to do (the day's first event goes through the slow path)."""
        if not position:
            return -math.inf, math.inf
        per_point = position * point_value
        loss = avg_price + (-self.risk.daily_loss_usd - self.realized_usd) / per_point
        lo, hi = (loss + margin, math.inf) if position > 0 else (-math.inf, loss - margin)
        if self.state == ACTIVE:
            target = avg_price + (self.risk.daily_profit_target_usd - self.realized_usd) / per_point
            if position > 0:
                hi = target - margin
            else:
                lo = target + margin
        return lo, hi

    def _after_pnl(self, t: float, pnl: float) -> bool:
        values = {"daily_pnl_usd": round(pnl, 2), "realized_usd": round(self.realized_usd, 2)}
        if pnl <= -self.risk.daily_loss_usd:
            if self.state != HALTED:
                self._set(t, HALTED, f"daily loss {pnl:.2f} USD reached risk.daily_loss "
                                     f"{self.risk.daily_loss_usd:g} USD: flattened, halted until the next trading day",
                          "risk.daily_loss", {**values, "limit_usd": -self.risk.daily_loss_usd})
            return True
        if pnl >= self.risk.daily_profit_target_usd and self.state == ACTIVE:
            self._set(t, REDUCE_ONLY, f"daily profit {pnl:.2f} USD reached risk.daily_profit_target "
                                      f"{self.risk.daily_profit_target_usd:g} USD: no new entries today",
                      "risk.daily_profit_target", {**values, "target_usd": self.risk.daily_profit_target_usd})
        return False

    # ---- may we enter? -------------------------------------------------------------------------
    def check_entry(self, t: float, position: int, vix: float) -> GateCheck:
        self.roll(t)
        r = self.risk
        if self.state != ACTIVE:
            return GateCheck(False, self.state, self.reason)
        hours = r.trading_hours
        if not in_hours(t, hours.start_min, hours.end_min, hours.zone):
            return GateCheck(False, "risk.trading_hours", f"outside {hours}")
        # a bar's decision is stamped with its close, which a stop on a later tick may follow
        since_stop = None if self.last_stop_t is None else max(0.0, t - self.last_stop_t)
        if since_stop is not None and since_stop < r.cooldown_after_stop_min * 60:
            left = r.cooldown_after_stop_min - since_stop / 60
            return GateCheck(False, "risk.cooldown_after_stop",
                             f"stopped out {since_stop / 60:.1f} min ago; {left:.1f} min of cooldown left")
        if self.trades_today >= r.max_trades_per_day:
            return GateCheck(False, "risk.max_trades_per_day", f"{self.trades_today} trades today")
        if vix == vix and vix > r.halt_vix_above:
            return GateCheck(False, "risk.halt_vix_above", f"VIX {vix:g} > {r.halt_vix_above:g}")
        if abs(position) >= r.max_position:
            return GateCheck(False, "risk.max_position", f"position {position} at the limit {r.max_position}")
        return GateCheck(True)
