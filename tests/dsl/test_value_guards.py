"""Values that YAML allows but a trader never means: NaN/inf, 24:59, merge keys, huge indexes."""
from __future__ import annotations

import pytest

from mia.dsl import RuleError, load_rules

H = "version: 1\ninstrument: ES\n"


@pytest.mark.parametrize("text,line,col,fragment", [
    (H + "params:\n  n: .inf\nfeatures:\n  f: sma(close, n)\n", 4, 6, "expected a finite number"),
    (H + "params:\n  n: 3\nfeatures:\n  f: highest(close, 1e9)\n", 6, 21, "needs a window of 1 to 10000"),
    ("version: 1\nrisk:\n  daily_loss: .nan\n", 3, 15, "expected a finite number"),
    ("version: 1\nexits:\n  stop: .inf\n", 3, 9, "expected a finite number"),
    (H + "hard_rules:\n  - name: h\n    when: spread > 2 ticks\n    size_factor: .nan\n", 6, 18,
     "size_factor must be a number from 0 to 1"),
    ("version: 1\nrisk:\n  trading_hours: 09:30-24:59 America/New_York\n", 3, 18, "impossible time"),
    ("version: 1\nrisk:\n  halt_vix_above: .nan\n", 3, 19, "must be a finite number"),
    (H + "params:\n  <<: {x: 1}\n", 4, 3, "a key must be a plain name"),
    (H + "features:\n  f: close[" + "9" * 5000 + "]\n", 4, 12, "history index is too far back"),
])
def test_guarded_values(tmp_path, text, line, col, fragment):
    path = tmp_path / "r.yaml"
    path.write_text(text)
    with pytest.raises(RuleError) as info:
        load_rules([path])
    got = [(d.pos.line, d.pos.col, d.message) for d in info.value.diagnostics]
    assert any((ln, c) == (line, col) and fragment in m for ln, c, m in got), got
    if "size_factor" in fragment:   # a bad factor is one mistake, not also "needs block or size_factor"
        assert len(got) == 1, got
