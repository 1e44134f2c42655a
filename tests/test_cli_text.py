"""Text the CLI shows through rich keeps its brackets: rich reads `[...]` as markup, so every
value it prints is escaped (`mia.cli.richtext.plain`)."""
from __future__ import annotations

import io

from rich.console import Console

from mia.cli import main
from mia.cli.summary import print_summary


def test_mia_features_shows_brackets_and_the_settings(capsys):
    assert main(["features"]) == 0
    out = capsys.readouterr().out
    assert "clamp(x, lo, hi): x limited to [lo, hi]" in out
    assert "Feature settings" in out and "large_trade_contracts" in out and "gamma_peak_days" in out
    for name in ("large_buy_volume", "block_trades", "large_net_flow", "days_to_expiry", "gamma_phase",
                 "vix_move_since_levels"):
        assert name in out


def test_data_inspect_shows_a_path_with_brackets(tmp_path, capsys):
    folder = tmp_path / "sess[red]" / "20251120"
    assert main(["simulate", "--date", "2025-11-20", "--out", str(folder), "--minutes", "2", "--quiet"]) == 0
    with (folder / "chart_3_trade_20251120.jsonl").open("a") as fh:
        fh.write("not json\n")
    capsys.readouterr()                                  # what simulate printed
    assert main(["data", "inspect", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "sess[red]" in out and "invalid_json" in out


def test_the_summary_table_escapes_what_it_prints():
    summary = {"days": 1, "bars": 2, "trades": 0, "wins": 0, "losses": 0, "win_rate": 0.0, "gross_usd": 0.0,
               "commission_usd": 0.0, "net_usd": 0.0, "profit_factor": None, "max_drawdown_usd": 0.0,
               "average_r": None, "by_signal": {"long[x]": {"trades": 1, "win_rate": 0.0, "net_usd": 0.0}},
               "vetoes_by_rule": {"rule[bold]": 3}, "blocked_by_limit": {}}
    buf = io.StringIO()
    print_summary(summary, Console(file=buf, width=120))
    text = buf.getvalue()
    assert "long[x]" in text and "rule[bold]" in text
