"""Feature thresholds: the trader's defaults from domain.md, in one place, overridable.

The cash open and close default to ``sessions.rth`` of config/instruments.yaml (``mia.calendar``).
A rule set's params with the names in ``RULE_PARAMS`` (``mia.dsl.catalog.SETTINGS``: their
defaults and meanings) set the feature engine too (``FeatureConfig.for_rules``), so that a boundary
the rules and the features both read (the VIX regimes) is written once, in the rules, and a
feature's threshold (a large trade's size, the gamma-cycle phases) is the trader's to tune.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from mia import calendar
from mia.dsl import catalog

#: rule params that are feature settings (``mia.dsl.catalog.SETTINGS``, where the rule checker
#: validates them): the VIX regime boundaries, the smart-money trade sizes, the gamma-cycle phases
RULE_PARAMS = tuple(s.name for s in catalog.SETTINGS)
_DEFAULT = {s.name: s.default for s in catalog.SETTINGS}


@dataclass(frozen=True)
class FeatureConfig:
    open_minute: int = field(default_factory=lambda: calendar.sessions().rth_open)     # cash open (09:30) ...
    close_minute: int = field(default_factory=lambda: calendar.sessions().rth_close)   # ... and close (16:00)
    zone: ZoneInfo = field(default_factory=lambda: calendar.sessions().rth_zone)       # ... of this zone (New York)
    atr_period: int = 14                  # Wilder ATR when the data has no ATR study
    vix_mid: float = _DEFAULT["vix_mid"]              # VIX regimes: low < 15 <= mid < 22 <= high < 35 <= extreme
    vix_high: float = _DEFAULT["vix_high"]
    vix_extreme: float = _DEFAULT["vix_extreme"]
    large_trade_contracts: float = _DEFAULT["large_trade_contracts"]   # smart money: a large trade (100+)
    block_trade_contracts: float = _DEFAULT["block_trade_contracts"]   # ... a block trade (500+)
    gamma_expiry_week_days: float = _DEFAULT["gamma_expiry_week_days"]  # gamma cycles: <= 2 days to expiry
    gamma_peak_days: float = _DEFAULT["gamma_peak_days"]                # 3-5
    gamma_moderate_days: float = _DEFAULT["gamma_moderate_days"]        # 6-10 (then normal)
    gamma_post_expiry_days: float = _DEFAULT["gamma_post_expiry_days"]  # <= 2 days since expiry
    flow_threshold: float = 0.10          # |delta ratio| for the order-flow vote
    dom_ratio: float = 1.2                # top-5 bid vs ask size for the DOM vote
    mq_proximity: float = 0.002           # MenthorQ vote: within 0.2 % of a level
    base_min_bars: int = 3                # a base: 3-8 bars ...
    base_max_bars: int = 8
    base_max_range_ticks: float = 10.0    # ... whose high-low range is at most 10 ticks
    base_green_ups: int = 3               # green: >= 3 of the last 4 close-to-close moves up
    base_red_max_ups: int = 1             # red: <= 1 up
    bias_near_ticks: float = 10.0         # dealer's bias: a level within 10 ticks counts
    bias_blind_spot_ticks: float = 5.0    # a blind spot within 5 ticks is strongly bearish
    bias_alpha: float = 0.2               # EMA smoothing of the bias
    # dealer's bias weights (sum 1)
    w_resistance: float = 0.25
    w_support: float = 0.20
    w_blind_spots: float = 0.20
    w_swing: float = 0.15
    w_gex: float = 0.15
    w_vix: float = 0.05

    @classmethod
    def for_rules(cls, ruleset, base: "FeatureConfig | None" = None) -> "FeatureConfig":
        """``base`` (the defaults) with the rule set's params named in ``RULE_PARAMS``."""
        kw = {name: float(ruleset.params[name].value) for name in RULE_PARAMS if name in ruleset.params}
        return replace(base or cls(), **kw)
