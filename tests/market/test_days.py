"""The one scan of day folders (``days.scan_days``): what replay reads (strict) and what the live
tail sees at each poll (tolerant) come from the same walk."""
from __future__ import annotations

from pathlib import Path

import pytest

from mia.market.days import DataPathError, scan_days
from mia.market.tail import Tail
from sierra_lines import T0, trade


def touch(path, text=""):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_days_in_order_per_chart_and_unified_files_two_levels_down(tmp_path):
    a = touch(tmp_path / "nov" / "20251121" / "chart_3_trade_20251121.jsonl")
    u = touch(tmp_path / "nov" / "20251121" / "mia_unified_20251121.jsonl")
    b = touch(tmp_path / "20251120" / "mia_unified_20251120.jsonl")
    touch(tmp_path / "20251120" / "notes.txt")
    touch(tmp_path / "a" / "b" / "c" / "chart_3_trade_20251119.jsonl")        # three levels down: not seen
    days = scan_days([tmp_path])
    assert list(days) == ["20251120", "20251121"]
    assert days["20251121"].chart == [a] and days["20251121"].unified == [u] and days["20251121"].replayed == [a, u]
    assert days["20251120"].replayed == [b]
    assert scan_days([tmp_path], strict=False) == days


def test_strict_errors_and_the_tolerant_scan(tmp_path):
    other = touch(tmp_path / "notes.jsonl")
    for paths, message in (([tmp_path / "nope"], "no such file or folder"), ([other], "not a Sierra Chart JSONL"),
                           ([tmp_path], "no Sierra Chart JSONL files here")):
        with pytest.raises(DataPathError, match=message):
            scan_days(paths)
        assert scan_days(paths, strict=False) == {}


def test_an_unreadable_folder(tmp_path, monkeypatch):
    locked = tmp_path / "20251120"
    touch(locked / "chart_3_trade_20251120.jsonl")
    iterdir = Path.iterdir

    def refuse(self):
        if self == locked:
            raise PermissionError(13, "Permission denied")
        return iterdir(self)

    monkeypatch.setattr(Path, "iterdir", refuse)
    with pytest.raises(DataPathError, match=r"20251120: error: cannot read the folder \(Permission denied\)"):
        scan_days([tmp_path])
    assert scan_days([tmp_path], strict=False) == {}


def test_the_tail_polls_the_same_scan(tmp_path):
    tail = Tail(tmp_path / "data")
    assert tail.poll() == [] and len(tail.warnings) == 1
    touch(tmp_path / "data" / "20251120" / "chart_3_trade_20251120.jsonl", trade(T0, 5000.0))
    touch(tmp_path / "data" / "20251120" / "mia_unified_20251120.jsonl", trade(T0, 4000.0))
    assert [e.f["px"] for e in tail.poll()] == [5000.0] and len(tail.warnings) == 1
