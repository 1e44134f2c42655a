"""The VIX regime boundaries are written once, in the rules: the feature engine reads them."""
from __future__ import annotations

import numpy as np

from mia.dsl import catalog, load_rules
from mia.features import FeatureEngine
from mia.features.config import FeatureConfig
from mia.market.events import Event

REGIME = [f.name for f in catalog.FEATURES].index("vix_regime")


def regime_at(vix: float, config: FeatureConfig) -> float:
    eng = FeatureEngine("ES", config)
    t0 = 1763649000.0                                   # 2025-11-20 09:30 New York
    eng.update(Event(t0, "vix", 8, "VIX", {"last": vix}))
    eng.update(Event(t0 + 1, "trade", 3, "ES", {"px": 5000.0, "vol": 1, "side": "BUY", "seq": 1}))
    assert eng.update(Event(t0 + 61, "trade", 3, "ES", {"px": 5000.25, "vol": 1, "side": "BUY", "seq": 2}))
    return float(eng.row[REGIME])


def test_the_rules_vix_boundaries_set_the_feature_engine(tmp_path):
    (tmp_path / "r.yaml").write_text("version: 1\ninstrument: ES\nparams:\n  vix_mid: 12\n  vix_high: 18\n"
                                     "signals:\n  - {name: s, when: vix < vix_high, side: long}\n")
    cfg = FeatureConfig.for_rules(load_rules([tmp_path]))
    assert (cfg.vix_mid, cfg.vix_high, cfg.vix_extreme) == (12.0, 18.0, 35.0)
    # 20 is "high" for these rules (>= 18) though "mid" by the defaults (15-22)
    assert regime_at(20.0, cfg) == 2.0
    assert regime_at(20.0, FeatureConfig()) == 1.0


def test_rules_without_those_params_keep_the_defaults(tmp_path):
    (tmp_path / "r.yaml").write_text("version: 1\ninstrument: ES\nsignals:\n  - {name: s, when: close > 0, side: long}\n")
    assert FeatureConfig.for_rules(load_rules([tmp_path])) == FeatureConfig()
    assert np.isnan(regime_at(float("nan"), FeatureConfig()))
