"""`mia backtest` end to end on a simulated session: outputs, determinism, `mia why`, bad lines."""
from __future__ import annotations

import json

import pytest

from mia.cli import main


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    out = tmp_path_factory.mktemp("day")
    assert main(["simulate", "--date", "2025-11-20", "--out", str(out), "--seed", "2",
                 "--minutes", "60", "--quiet"]) == 0
    with open(next(out.glob("chart_3_trade_*.jsonl")), "a") as fh:
        fh.write('{"t": "garbage"\nnot json at all\n')
    return out


def run(session, out, *extra):
    return main(["backtest", "--data", str(session), "--out", str(out), "--no-progress", *extra])


def test_outputs_and_determinism(session, tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run(session, a, "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert run(session, b) == 0
    for name in ("trades.csv", "decisions.jsonl", "summary.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "equity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert summary["bars"] >= 55 and summary["days"] == 1
    trade_lines = (a / "trades.csv").read_text().splitlines()[1:]
    assert summary["trades"] == len(trade_lines)
    assert summary["wins"] + summary["losses"] <= summary["trades"]
    assert sum(summary["bad_lines"].values()) == 2
    records = [json.loads(x) for x in (a / "decisions.jsonl").read_text().splitlines()]
    decisions = [d for d in records if "kind" not in d]           # bar decisions; the rest have a kind
    assert len(decisions) == summary["bars"]
    assert {d["kind"] for d in records if "kind" in d} <= {"gate", "flatten", "order"}
    # the cash-open hard rule stands against every signal of the first ten minutes
    early = [d for d in decisions if d["time"][11:16] < "09:40" and d["fired"]]
    assert all(d["action"] in ("blocked", "conflict") for d in early)


def test_why_explains_a_bar(session, tmp_path, capsys):
    out = tmp_path / "w"
    assert run(session, out, "--json") == 0
    capsys.readouterr()
    decisions = [json.loads(x) for x in (out / "decisions.jsonl").read_text().splitlines()]
    d = next((d for d in decisions if d["fired"]), decisions[-1])
    hhmm = d["time"][11:16]
    assert main(["why", hhmm, "--run", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.startswith(d["time"]) and d["action"] in text
    for f in d["fired"]:
        assert f"signal {f['name']}" in text and f["where"] in text
    for v in d["vetoes"]:
        assert f"vetoed by {v['rule']} at {v['where']}" in text


def test_why_errors_are_clear(tmp_path, capsys):
    assert main(["why", "10:31", "--run", str(tmp_path)]) == 1
    assert "no decisions.jsonl" in capsys.readouterr().err


def test_day_cache_rerun_equals_no_cache(session, tmp_path, capsys, monkeypatch):
    """The first run writes the day cache, the second reads it, --no-cache reads the JSONL: one result."""
    monkeypatch.setenv("MIA_CACHE_DIR", str(tmp_path / "cache"))
    outs = [tmp_path / n for n in ("first", "rerun", "bare")]
    assert run(session, outs[0]) == 0
    entries = list((tmp_path / "cache" / "days").iterdir())
    assert len(entries) == 1 and (entries[0] / "meta.json").exists()
    assert run(session, outs[1]) == 0
    assert run(session, outs[2], "--no-cache") == 0
    for name in ("trades.csv", "decisions.jsonl", "summary.json"):
        texts = {(o / name).read_bytes() for o in outs}
        assert len(texts) == 1, name
    assert sum(json.loads((outs[1] / "summary.json").read_text())["bad_lines"].values()) == 2   # from the cache
    monkeypatch.setenv("MIA_DAY_CACHE_MB", "lots")
    capsys.readouterr()
    assert run(session, tmp_path / "x") == 1
    err = capsys.readouterr().err
    assert "MIA_DAY_CACHE_MB='lots': error" in err and "Traceback" not in err
