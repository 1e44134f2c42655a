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
        sup = any(0 <= close - self.price[n] <= near for n in SUPPORTS if n in self.price)
        res = any(0 <= self.price[n] - close <= near for n in RESISTANCES if n in self.price)
        return 1.0 if sup and not res else -1.0 if res and not sup else 0.0

    def bias(self, close: float, vix_regime: float) -> float:
        """Weighted composite of per-level votes in [-1, 1], mapped to [0, 1], combined, mapped back by 2c-1."""
        cfg, near = self.cfg, self.cfg.bias_near_ticks * self.tick
        p = self.price

        def above(names):
            return any(0 < p[n] - close <= near for n in names if n in p)

        def below(names):
            return any(0 < close - p[n] <= near for n in names if n in p)

        resistance = -1.0 if above(RESISTANCES) else 0.0
        support = 1.0 if below(SUPPORTS) else 0.0
        blind = -1.0 if any(abs(p[n] - close) <= cfg.bias_blind_spot_ticks * self.tick for n in BLIND_SPOTS if n in p) else 0.0
        gex = (1.0 if below(GEX) else 0.0) - (1.0 if above(GEX) else 0.0)
        vix = -1.0 if vix_regime == vix_regime and vix_regime >= 2 else 0.0
        votes = ((cfg.w_resistance, resistance), (cfg.w_support, support), (cfg.w_blind_spots, blind),
                 (cfg.w_swing, 0.0), (cfg.w_gex, gex), (cfg.w_vix, vix))
        c = sum(w * (v + 1.0) / 2.0 for w, v in votes) / sum(w for w, _ in votes)
        return 2.0 * c - 1.0
