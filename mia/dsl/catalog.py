"""The built-in feature catalog: every name a rule may read without defining it.

Each entry has a name, a unit (see ``units.py``), a kind (number or bool) and one line of
meaning. Level sets (``gamma_levels``, ``blind_spots``) are named groups of member features;
they are only valid as the argument of ``nearest``, ``above`` and ``below``.
The feature engine (``mia.features``) computes exactly these columns; ``mia features`` prints them.
``SETTINGS`` are the feature engine's thresholds a rule param of the same name sets (the VIX
regime boundaries, the smart-money trade sizes, the gamma-cycle phases).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Feature:
    name: str
    unit: str          # "points", "ticks", "contracts", "min", "time", "1" (dimensionless)
    kind: str          # "number" or "bool"
    meaning: str


@dataclass(frozen=True)
class LevelSet:
    name: str
    members: tuple[str, ...]
    meaning: str


def _f(name: str, unit: str, meaning: str, kind: str = "number") -> Feature:
    return Feature(name, unit, kind, meaning)


_MQ_GAMMA = [
    ("call_resistance", "MenthorQ call resistance"),
    ("put_support", "MenthorQ put support"),
    ("hvl", "MenthorQ high volatility level"),
    ("min_1d", "MenthorQ 1-day expected minimum (data: 1d_min)"),
    ("max_1d", "MenthorQ 1-day expected maximum (data: 1d_max)"),
    ("call_resistance_0dte", "MenthorQ call resistance, 0DTE options"),
    ("put_support_0dte", "MenthorQ put support, 0DTE options"),
    ("hvl_0dte", "MenthorQ high volatility level, 0DTE options"),
    ("gamma_wall_0dte", "MenthorQ gamma wall, 0DTE options"),
] + [(f"gex_{k}", f"MenthorQ GEX level {k}") for k in range(1, 11)]

_BLIND_SPOTS = [(f"blind_spot_{k}", f"MenthorQ blind spot {k} (BL {k + 1})") for k in range(10)]

FEATURES: tuple[Feature, ...] = (
    # the forming 1-minute bar
    _f("open", "points", "open of the current 1-minute bar"),
    _f("high", "points", "high of the current 1-minute bar"),
    _f("low", "points", "low of the current 1-minute bar"),
    _f("close", "points", "last price (close of the current 1-minute bar); the reference for ticks_to/nearest"),
    _f("volume", "contracts", "volume of the current bar"),
    _f("bid_volume", "contracts", "volume traded at the bid (sellers) in the current bar"),
    _f("ask_volume", "contracts", "volume traded at the ask (buyers) in the current bar"),
    _f("delta", "contracts", "ask_volume - bid_volume of the current bar"),
    _f("delta_ratio", "1", "delta / volume of the current bar, in [-1, 1]"),
    _f("cum_delta", "contracts", "cumulative delta since the session start"),
    # VWAP and profile
    _f("vwap", "points", "session VWAP"),
    _f("vwap_up1", "points", "VWAP + 1 standard deviation band"),
    _f("vwap_dn1", "points", "VWAP - 1 standard deviation band"),
    _f("vwap_up2", "points", "VWAP + 2 standard deviation band"),
    _f("vwap_dn2", "points", "VWAP - 2 standard deviation band"),
    _f("vah", "points", "value area high (current profile)"),
    _f("val", "points", "value area low (current profile)"),
    _f("poc", "points", "point of control (current profile)"),
    _f("pvah", "points", "previous session value area high"),
    _f("pval", "points", "previous session value area low"),
    _f("ppoc", "points", "previous session point of control"),
    _f("atr", "points", "average true range of 1-minute bars"),
    # volatility
    _f("vix", "1", "VIX last value"),
    _f("vix_regime", "1", "VIX regime code: 0 low (<15), 1 mid (15-22), 2 high (22-35), 3 extreme (>=35)"),
    # book
    _f("bid", "points", "best bid"),
    _f("ask", "points", "best ask"),
    _f("spread", "ticks", "ask - bid, in ticks"),
    _f("bid_size_top5", "contracts", "sum of bid sizes over the top 5 depth levels"),
    _f("ask_size_top5", "contracts", "sum of ask sizes over the top 5 depth levels"),
    # clock
    _f("time_of_day", "time", "time of day, New York (compare with 09:30 style literals)"),
    _f("minutes_since_open", "min", "minutes since the 09:30 New York cash open (negative before)"),
    _f("in_rth", "1", "true during regular trading hours 09:30-16:00 New York", kind="bool"),
    # Battle Navale
    _f("pa_vote", "1", "price-action vote: +1 bar closes above its open, -1 below, else 0"),
    _f("flow_vote", "1", "order-flow vote: +1 delta_ratio > +0.10, -1 < -0.10, else 0"),
    _f("profile_vote", "1", "volume-profile vote: +1 close above VAH, -1 below VAL, else 0"),
    _f("mq_vote", "1", "MenthorQ vote: +1 within 0.2 % above a support, -1 within 0.2 % below a resistance"),
    _f("dom_vote", "1", "DOM vote: +1 top-5 bid size > 1.2 x ask size, -1 the reverse"),
    _f("base_direction", "1", "+1 inside/after a green base, -1 a red base, 0 none"),
    _f("golden_rule_intact", "1", "no bar closed through the active base by more than half a tick", kind="bool"),
    _f("dealers_bias", "1", "dealer's bias composite in [-1, 1], EMA-smoothed"),
    # smart money (elite technique 2): the closed bar's trades of large_trade_contracts or more
    _f("large_buy_volume", "contracts", "volume of the bar's large buy trades (>= large_trade_contracts, 100)"),
    _f("large_sell_volume", "contracts", "volume of the bar's large sell trades (>= large_trade_contracts, 100)"),
    _f("block_trades", "1", "number of the bar's block trades (>= block_trade_contracts, 500)"),
    _f("large_net_flow", "1", "(large_buy_volume - large_sell_volume) / volume of the bar, in [-1, 1]"),
    # gamma cycles (elite technique 4): the SPX monthly expiry (third Friday 16:00 New York)
    _f("days_to_expiry", "1", "whole days to the next SPX monthly expiry (0 on expiry day before 16:00)"),
    _f("days_since_expiry", "1", "whole days since the last SPX monthly expiry"),
    _f("gamma_phase", "1", "0 normal (> 10 days to expiry), 1 moderate (6-10), 2 gamma peak (3-5), "
                           "3 expiry week (<= 2), 4 post-expiry (<= 2 days after)"),
    # MenthorQ
    _f("levels_age_min", "min", "minutes since the last MenthorQ level update (staleness)"),
    _f("vix_move_since_levels", "1", "VIX now minus the VIX at the last MenthorQ level update"),
    *[_f(n, "points", m) for n, m in _MQ_GAMMA],
    *[_f(n, "points", m) for n, m in _BLIND_SPOTS],
)

LEVEL_SETS: tuple[LevelSet, ...] = (
    LevelSet("gamma_levels", tuple(n for n, _ in _MQ_GAMMA), "all MenthorQ gamma levels"),
    LevelSet("blind_spots", tuple(n for n, _ in _BLIND_SPOTS), "MenthorQ blind spots 0-9"),
)

@dataclass(frozen=True)
class Setting:
    """A setting of the feature engine: a rule param of this name sets it (``FeatureConfig.for_rules``),
    so a boundary both the rules and the features read is written once, in the rules."""

    name: str
    default: float
    unit: str | None       # the unit a param may carry besides a bare number (None: bare only)
    minimum: float         # the smallest value allowed
    whole: bool            # a whole number
    meaning: str


SETTINGS: tuple[Setting, ...] = (
    Setting("vix_mid", 15.0, None, 0.0, False, "VIX regimes: low below, mid from here"),
    Setting("vix_high", 22.0, None, 0.0, False, "VIX regimes: high from here"),
    Setting("vix_extreme", 35.0, None, 0.0, False, "VIX regimes: extreme from here"),
    Setting("large_trade_contracts", 100.0, None, 1.0, True, "a trade this big or bigger is large (smart money)"),
    Setting("block_trade_contracts", 500.0, None, 1.0, True, "a trade this big or bigger is a block"),
    Setting("gamma_expiry_week_days", 2.0, None, 0.0, True, "expiry week: at most this many days to expiry"),
    Setting("gamma_peak_days", 5.0, None, 0.0, True, "gamma peak: more than the expiry week, at most this many"),
    Setting("gamma_moderate_days", 10.0, None, 0.0, True, "moderate: more than the peak, at most this many"),
    Setting("gamma_post_expiry_days", 2.0, None, 0.0, True, "post-expiry: at most this many days since expiry"),
)
#: settings that must increase in this order (a param set out of order is an error)
ORDERED_SETTINGS = (("vix_mid", "vix_high", "vix_extreme"),
                    ("gamma_expiry_week_days", "gamma_peak_days", "gamma_moderate_days"))

BY_NAME: dict[str, Feature] = {f.name: f for f in FEATURES}
SETTINGS_BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
SETS_BY_NAME: dict[str, LevelSet] = {s.name: s for s in LEVEL_SETS}
