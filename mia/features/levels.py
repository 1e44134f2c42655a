"""MenthorQ levels: the latest price of each level type, their age, the VIX move since they came
(VIX_UPDATE_THRESHOLD: a 2-point move makes them suspect), the MenthorQ vote and the dealer's bias
composite (domain.md)."""
from __future__ import annotations

import math

from mia.features.config import FeatureConfig

NAN = math.nan
#: data level_type -> catalog name (identifiers cannot start with a digit)
RENAME = {"1d_min": "min_1d", "1d_max": "max_1d"}
SUPPORTS = ("put_support", "put_support_0dte", "hvl", "hvl_0dte", "min_1d")
RESISTANCES = ("call_resistance", "call_resistance_0dte", "gamma_wall_0dte", "max_1d")
BLIND_SPOTS = tuple(f"blind_spot_{k}" for k in range(10))
GEX = tuple(f"gex_{k}" for k in range(1, 11))


class LevelBook:
    def __init__(self, cfg: FeatureConfig, tick: float):
        self.cfg, self.tick = cfg, tick
        self.price: dict[str, float] = {}
        self.last_t = NAN
        self.vix_at_update = NAN              # the VIX when the levels last changed

    def update(self, t: float, level_type: str, price: float, vix: float = NAN) -> None:
        name = RENAME.get(level_type, level_type)
        if price > 0:
            self.price[name] = price
            self.last_t = t
            self.vix_at_update = vix

    def fill(self, row, col: dict[str, int], t: float, close: float, vix: float = NAN) -> None:
        for name, p in self.price.items():
            j = col.get(name)
            if j is not None:
                row[j] = p
        if self.last_t == self.last_t:
            row[col["levels_age_min"]] = max(t - self.last_t, 0.0) / 60.0
            row[col["vix_move_since_levels"]] = vix - self.vix_at_update

    def mq_vote(self, close: float) -> float:
        near = self.cfg.mq_proximity * close
        p = self.price
        sup = _any_below(p, SUPPORTS, close, near, 0.0)
        res = _any_above(p, RESISTANCES, close, near, 0.0)
        return 1.0 if sup and not res else -1.0 if res and not sup else 0.0

    def bias(self, close: float, vix_regime: float) -> float:
        """Weighted composite of per-level votes in [-1, 1], mapped to [0, 1], combined, mapped back by 2c-1."""
        cfg, near = self.cfg, self.cfg.bias_near_ticks * self.tick
        p = self.price
        resistance = -1.0 if _any_above(p, RESISTANCES, close, near) else 0.0
        support = 1.0 if _any_below(p, SUPPORTS, close, near) else 0.0
        blind = 0.0
        limit = cfg.bias_blind_spot_ticks * self.tick
        for n in BLIND_SPOTS:
            if n in p and abs(p[n] - close) <= limit:
                blind = -1.0
                break
        gex = (1.0 if _any_below(p, GEX, close, near) else 0.0) - (1.0 if _any_above(p, GEX, close, near) else 0.0)
        vix = -1.0 if vix_regime == vix_regime and vix_regime >= 2 else 0.0
        # sum(w * (v + 1) / 2) / sum(w), added in this order (the same floats as Python's sum)
        num = den = 0
        for w, v in ((cfg.w_resistance, resistance), (cfg.w_support, support), (cfg.w_blind_spots, blind),
                     (cfg.w_swing, 0.0), (cfg.w_gex, gex), (cfg.w_vix, vix)):
            num += w * (v + 1.0) / 2.0
            den += w
        return 2.0 * (num / den) - 1.0


def _any_above(p: dict, names, close: float, near: float, lo: float | None = None) -> bool:
    """Some level of ``names`` above ``close`` by at most ``near``: strictly above (``lo`` None)
    or by ``lo`` or more."""
    for n in names:
        if n in p:
            d = p[n] - close
            if (d > 0 if lo is None else lo <= d) and d <= near:
                return True
    return False


def _any_below(p: dict, names, close: float, near: float, lo: float | None = None) -> bool:
    """Some level of ``names`` below ``close`` by at most ``near`` (``lo``: as ``_any_above``)."""
    for n in names:
        if n in p:
            d = close - p[n]
            if (d > 0 if lo is None else lo <= d) and d <= near:
                return True
    return False
