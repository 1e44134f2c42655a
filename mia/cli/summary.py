"""Printing a run's summary (the table `mia backtest` and `mia run` end with)."""
from __future__ import annotations


def print_summary(summary: dict, console=None, title: str = "Backtest summary") -> None:
    from rich.console import Console
    from rich.table import Table

    from mia.cli.richtext import plain

    console = console or Console()
    table = Table(title=title, show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    for key in ("days", "bars", "trades", "wins", "losses", "win_rate", "gross_usd", "commission_usd",
                "net_usd", "profit_factor", "max_drawdown_usd", "average_r"):
        table.add_row(key, plain(summary[key]))
    console.print(table)
    if summary["by_signal"]:
        t2 = Table(title="By signal")
        for col in ("signal", "trades", "win rate", "net USD"):
            t2.add_column(col)
        for name, s in summary["by_signal"].items():
            t2.add_row(plain(name), str(s["trades"]), f"{s['win_rate']:.0%}", f"{s['net_usd']:.2f}")
        console.print(t2)
    blocked = {**summary["vetoes_by_rule"], **{f"limit {k}": v for k, v in summary["blocked_by_limit"].items()}}
    if blocked:
        t3 = Table(title="Entries stopped by")
        t3.add_column("rule or limit")
        t3.add_column("times", justify="right")
        for k, v in blocked.items():
            t3.add_row(plain(k), str(v))
        console.print(t3)
