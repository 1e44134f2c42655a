"""Backtest outputs: trades.csv, decisions.jsonl, summary.json and equity.png, and their summary.

decisions.jsonl is the whole trace, one JSON object a line in time order: a bar's decision
(no ``kind`` key) or a record with a ``kind``: "gate" (risk-state change), "flatten" or "order"
(an entry cancelled or rejected); see ``mia.engine.decide``. Every record has ``t`` and ``time``.
A problem writing the outputs or reading the trace back is a ``MiaError`` naming the file.
"""
from __future__ import annotations

import csv
import json
import tempfile
from collections import Counter
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import orjson

from mia.errors import MiaError

OUTPUTS = ("trades.csv", "decisions.jsonl", "summary.json", "equity.png")


def _oserror(path: Path, exc: OSError, doing: str) -> MiaError:
    return MiaError(f"{path}: error: {doing}: {exc.strerror or exc}")


@contextmanager
def _writing(path: Path):
    try:
        yield
    except OSError as exc:
        raise _oserror(path, exc, "cannot write") from None


def prepare_out(out: Path) -> None:
    """Make sure the output folder ``out`` can be created and written, before a run starts."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise MiaError(f"{out}: error: exists and is not a folder (--out needs a folder)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _oserror(out, exc, "cannot create the output folder") from None
    try:
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise _oserror(out, exc, "cannot write in the output folder") from None
    for name in OUTPUTS:
        if (out / name).is_dir():
            raise MiaError(f"{out / name}: error: is a folder; cannot write the backtest's {name} there")


def summarize(trades: list, decisions: list, days: int, records: list = ()) -> dict:
    """The summary of a run: ``decisions`` are the bar decisions, ``records`` the whole trace
    (for the counts of gate changes, flattens and cancelled or rejected entries)."""
    nets = [t.net_usd for t in trades]
    wins = [n for n in nets if n > 0]
    losses = [n for n in nets if n < 0]
    equity, peak, max_dd = 0.0, 0.0, 0.0
    for n in nets:
        equity += n
        peak = max(peak, equity)
        max_dd = max(max_dd, peak - equity)
    by_signal: dict[str, dict] = {}
    for t in trades:
        s = by_signal.setdefault(t.tag, {"trades": 0, "wins": 0, "net_usd": 0.0})
        s["trades"] += 1
        s["wins"] += t.net_usd > 0
        s["net_usd"] = round(s["net_usd"] + t.net_usd, 2)
    for s in by_signal.values():
        s["win_rate"] = round(s["wins"] / s["trades"], 4) if s["trades"] else 0.0
    vetoes = Counter(v["rule"] for d in decisions for v in d.vetoes)
    limits = Counter(d.limit for d in decisions if d.limit)
    actions = Counter(d.action.split(" ")[0] if d.action.startswith("enter") else d.action for d in decisions)
    gross_win, gross_loss = sum(wins), -sum(losses)
    return {
        "days": days,
        "bars": len(decisions),
        "trades": len(trades),
        "wins": len(wins),
        "losses": len(losses),
        "win_rate": round(len(wins) / len(trades), 4) if trades else 0.0,
        "gross_usd": round(sum(t.gross_usd for t in trades), 2),
        "commission_usd": round(sum(t.commission_usd for t in trades), 2),
        "net_usd": round(sum(nets), 2),
        "profit_factor": round(gross_win / gross_loss, 4) if gross_loss > 0 else None,
        "max_drawdown_usd": round(max_dd, 2),
        "average_r": round(sum(t.r_multiple for t in trades) / len(trades), 4) if trades else 0.0,
        "by_signal": by_signal,
        "vetoes_by_rule": dict(sorted(vetoes.items())),
        "blocked_by_limit": dict(sorted(limits.items())),
        "actions": dict(sorted(actions.items())),
        "gate_changes": dict(sorted(Counter(f"{r.old} -> {r.new}" for r in records
                                            if getattr(r, "kind", "") == "gate").items())),
        "flattens_by_reason": dict(sorted(Counter(r.why for r in records
                                                  if getattr(r, "kind", "") == "flatten").items())),
        "entries_cancelled_by_reason": dict(sorted(Counter(r.why for r in records if getattr(r, "kind", "") == "order"
                                                           and r.action == "cancelled").items())),
        "entries_rejected": sum(1 for r in records if getattr(r, "kind", "") == "order" and r.action == "rejected"),
    }


def write_outputs(out: Path, trades: list, decisions: list, summary: dict) -> None:
    """Write the four outputs to ``out``; ``decisions``: the trace (``BacktestResult.trace``:
    bar decisions and gate/flatten/order records, anything with ``to_json``)."""
    out = Path(out)
    prepare_out(out)
    with _writing(out / "trades.csv"), open(out / "trades.csv", "w", newline="") as fh:
        fields = ["entry_id", "tag", "side", "qty", "entry_t", "entry_price", "exit_t", "exit_price",
                  "exit_role", "gross_usd", "commission_usd", "net_usd", "r_multiple"]
        w = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for t in trades:
            w.writerow(asdict(t))
    with _writing(out / "decisions.jsonl"), open(out / "decisions.jsonl", "wb") as fh:
        for d in decisions:
            fh.write(orjson.dumps(d.to_json(), option=orjson.OPT_SERIALIZE_NUMPY) + b"\n")
    with _writing(out / "summary.json"):
        (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    with _writing(out / "equity.png"):
        plot_equity(out / "equity.png", trades)


def plot_equity(path: Path, trades: list) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = list(range(len(trades) + 1))
    equity = [0.0]
    for t in trades:
        equity.append(equity[-1] + t.net_usd)
    peak, dd = 0.0, []
    for e in equity:
        peak = max(peak, e)
        dd.append(e - peak)
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 5.5), sharex=True,
                                   gridspec_kw={"height_ratios": [3, 1]})
    ax1.plot(xs, equity, color="tab:blue", marker=".")
    ax1.axhline(0, color="grey", lw=0.6)
    ax1.set_ylabel("net P&L (USD)")
    ax1.set_title(f"Equity: {len(trades)} trades, net {equity[-1]:.2f} USD")
    ax2.fill_between(xs, dd, 0, color="tab:red", alpha=0.4)
    ax2.set_ylabel("drawdown")
    ax2.set_xlabel("trade #")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def print_summary(summary: dict, console=None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(title="Backtest summary", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    for key in ("days", "bars", "trades", "wins", "losses", "win_rate", "gross_usd", "commission_usd",
                "net_usd", "profit_factor", "max_drawdown_usd", "average_r"):
        table.add_row(key, str(summary[key]))
    console.print(table)
    if summary["by_signal"]:
        t2 = Table(title="By signal")
        for col in ("signal", "trades", "win rate", "net USD"):
            t2.add_column(col)
        for name, s in summary["by_signal"].items():
            t2.add_row(name, str(s["trades"]), f"{s['win_rate']:.0%}", f"{s['net_usd']:.2f}")
        console.print(t2)
    blocked = {**summary["vetoes_by_rule"], **{f"limit {k}": v for k, v in summary["blocked_by_limit"].items()}}
    if blocked:
        t3 = Table(title="Entries stopped by")
        t3.add_column("rule or limit")
        t3.add_column("times", justify="right")
        for k, v in blocked.items():
            t3.add_row(k, str(v))
        console.print(t3)


def load_decisions(run_dir: Path) -> list[dict]:
    """Every record of ``run_dir``/decisions.jsonl; a line that is not a JSON object with a
    string ``time`` is a ``MiaError`` at ``path:line``."""
    path = Path(run_dir) / "decisions.jsonl"
    records = []
    try:
        with open(path, "rb") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    rec = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    raise MiaError(f"{path}:{n}: error: not a JSON record ({exc})") from None
                if not isinstance(rec, dict):
                    raise MiaError(f"{path}:{n}: error: a record must be a JSON object, got {type(rec).__name__}")
                if not isinstance(rec.get("time"), str):
                    raise MiaError(f"{path}:{n}: error: the record has no \"time\" (a decisions.jsonl of "
                                   "`mia backtest` has one on every line)")
                rec["_line"] = n
                records.append(rec)
    except OSError as exc:
        raise _oserror(path, exc, "cannot read") from None
    return records
