"""Run folders: trades.csv, decisions.jsonl, summary.json and equity.png, and their summary.

What every run writes, a backtest (``mia.backtest``) or the supervisor (``mia run``).

decisions.jsonl is the whole trace, one JSON object a line in time order: a bar's decision
(no ``kind`` key) or a record with a ``kind``: "gate" (risk-state change), "flatten" or "order"
(an entry cancelled or rejected); see ``mia.engine.records``. Every record has ``t`` and ``time``.
``RunWriter`` is a session sink that streams a run into a temporary folder and puts it in place
at the end; ``Tally`` counts the summary as the records pass.
A problem writing the outputs or reading the trace back is a ``MiaError`` naming the file.

trades.csv has each time twice: ISO 8601 in New York time to the millisecond (``entry_time``,
``exit_time``) and UTC epoch seconds rounded to the millisecond (``entry_t``, ``exit_t``; the
data's own times are good to about 0.1 s, the digits beyond were noise). summary.json is strict
JSON: a value that is not a finite number is written as null, never NaN or Infinity.
"""
from __future__ import annotations

import csv
import errno
import json
import math
import os
import shutil
import tempfile
from collections import Counter
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import orjson

from mia.broker.orders import ClosedTrade, Fill
from mia.calendar import local
from mia.engine.records import Decision
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
    """Make sure the output folder ``out`` can be created and written, before a run starts.

    A run replaces its folder whole, so ``out`` cannot be the current folder or one holding it
    (``--out ""`` and ``--out .`` are refused, not written into the folder you are in)."""
    if str(out) == "":
        raise MiaError("--out '': error: needs a folder name, e.g. --out runs/latest")
    out = Path(out)
    here = Path.cwd().resolve()
    full = out.resolve()
    if full == here or full in here.parents:
        raise MiaError(f"{out}: error: is the current folder{' or holds it' if full != here else ''}; "
                       "a run replaces its folder whole: name a folder of its own, e.g. runs/latest")
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
    foreign = sorted(p.name for p in out.iterdir() if p.name not in OUTPUTS)
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise MiaError(f"{out}: error: holds files that are not a run's ({shown}); a run replaces its folder "
                       "whole: choose an empty folder or an earlier run's")


class Tally:
    """The summary of a run, counted record by record (a session sink): decisions, gate
    changes, flattens, cancelled or rejected entries and closed trades."""

    def __init__(self) -> None:
        self.trades: list = []
        self.bars = 0
        self.vetoes: Counter = Counter()
        self.limits: Counter = Counter()
        self.actions: Counter = Counter()
        self.gate_changes: Counter = Counter()
        self.flattens: Counter = Counter()
        self.cancelled: Counter = Counter()
        self.rejected = 0

    def __call__(self, rec) -> None:
        if isinstance(rec, ClosedTrade):
            self.trades.append(rec)
            return
        if isinstance(rec, Decision):
            self.bars += 1
            self.vetoes.update(v["rule"] for v in rec.vetoes)
            if rec.limit:
                self.limits[rec.limit] += 1
            self.actions[rec.action.split(" ")[0] if rec.action.startswith("enter") else rec.action] += 1
            return
        kind = getattr(rec, "kind", "")
        if kind == "gate":
            self.gate_changes[f"{rec.old} -> {rec.new}"] += 1
        elif kind == "flatten":
            self.flattens[rec.why] += 1
        elif kind == "order":
            if rec.action == "cancelled":
                self.cancelled[rec.why] += 1
            elif rec.action == "rejected":
                self.rejected += 1

    def summary(self, days: int) -> dict:
        trades = self.trades
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
        gross_win, gross_loss = sum(wins), -sum(losses)
        return {
            "days": days,
            "bars": self.bars,
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
            "vetoes_by_rule": dict(sorted(self.vetoes.items())),
            "blocked_by_limit": dict(sorted(self.limits.items())),
            "actions": dict(sorted(self.actions.items())),
            "gate_changes": dict(sorted(self.gate_changes.items())),
            "flattens_by_reason": dict(sorted(self.flattens.items())),
            "entries_cancelled_by_reason": dict(sorted(self.cancelled.items())),
            "entries_rejected": self.rejected,
        }


def summarize(trades: list, decisions: list, days: int, records: list = ()) -> dict:
    """The summary of a run from lists: ``decisions`` are the bar decisions, ``records`` the
    whole trace (for the counts of gate changes, flattens and cancelled or rejected entries)."""
    tally = Tally()
    for d in decisions:
        tally(d)
    for r in records:
        if not isinstance(r, Decision):
            tally(r)
    for t in trades:
        tally(t)
    return tally.summary(days)


_TRADE_FIELDS = ["entry_id", "tag", "side", "qty", "entry_time", "entry_t", "entry_price", "exit_time", "exit_t",
                 "exit_price", "exit_role", "gross_usd", "commission_usd", "net_usd", "r_multiple"]


def _trade_row(trade) -> dict:
    """A closed trade as a row of trades.csv: times in ISO (New York) and epoch, to the ms."""
    row = asdict(trade)
    for key in ("entry", "exit"):
        t = round(float(row[f"{key}_t"]), 3)
        row[f"{key}_t"] = f"{t:.3f}"
        row[f"{key}_time"] = local(t).isoformat(timespec="milliseconds")
    return row


def _finite(value):
    """``value`` with every float that is not finite replaced by None (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def summary_json(summary: dict) -> str:
    """summary.json's text: strict JSON (a value that is not finite is null)."""
    return json.dumps(_finite(summary), indent=2, allow_nan=False) + "\n"


class RunWriter:
    """A session sink that writes a run folder as the records come: decisions.jsonl streamed,
    then at ``commit`` trades.csv, summary.json and equity.png. Everything is written into a
    temporary folder beside ``out`` and renamed into place at ``commit``: a run that fails or
    is killed leaves the previous run folder whole (``abort`` removes the temporary one)."""

    def __init__(self, out: Path):
        self.out = Path(out)
        self._made_out = not self.out.exists()
        prepare_out(self.out)
        parent = self.out.resolve().parent
        try:
            self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.", suffix=".tmp", dir=parent))
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(self.tmp, 0o777 & ~mask)     # a folder's usual mode, not mkdtemp's 0700
            self._lock = _hold(self.tmp)
        except OSError as exc:
            raise _oserror(parent, exc, "cannot create a temporary run folder") from None
        sweep(self.out)
        self.tally = Tally()
        self._fh = None
        with _writing(self.out / "decisions.jsonl"):
            self._fh = open(self.tmp / "decisions.jsonl", "wb")

    def __call__(self, rec) -> None:
        self.tally(rec)
        if hasattr(rec, "to_json") and not isinstance(rec, (ClosedTrade, Fill)):
            with _writing(self.out / "decisions.jsonl"):
                self._fh.write(orjson.dumps(rec.to_json(), option=orjson.OPT_SERIALIZE_NUMPY) + b"\n")

    def summary(self, days: int) -> dict:
        return self.tally.summary(days)

    def commit(self, summary: dict) -> None:
        """Write the rest and put the run folder in place of ``out`` (errors name the file in
        ``out`` it was for)."""
        trades, tmp, out = self.tally.trades, self.tmp, self.out
        with _writing(out / "decisions.jsonl"):
            self._fh.close()
        with _writing(out / "trades.csv"), open(tmp / "trades.csv", "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=_TRADE_FIELDS, extrasaction="ignore")
            w.writeheader()
            for t in trades:
                w.writerow(_trade_row(t))
        with _writing(out / "equity.png"):
            plot_equity(tmp / "equity.png", trades)
        with _writing(out / "summary.json"):
            (tmp / "summary.json").write_text(summary_json(summary))
        _swap_into_place(tmp, self.out)
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def abort(self) -> None:
        """Remove the temporary folder (and ``out`` when this run made it and it is still empty)."""
        if self._fh is not None and not self._fh.closed:
            self._fh.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        self._release()
        if self._made_out:
            try:
                self.out.rmdir()
            except OSError:
                pass


def _hold(folder: Path) -> int:
    """An exclusive lock on ``folder`` held by this process until its descriptor is closed (or
    the process ends, however): a run's temporary folders say they are in use."""
    import fcntl

    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _unheld(folder: Path) -> bool:
    """Whether no process holds ``folder``'s lock (a run that made it was killed)."""
    import fcntl

    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


#: a folder younger than this without its lock may be one another run has just made
_GRACE_S = 60.0


def sweep(out: Path) -> list[Path]:
    """Remove what killed runs left beside ``out``: temporary run folders (``.NAME.*.tmp``) and
    old runs set aside (``.NAME.*.old``) that no running process holds. An old run set aside
    while ``out`` is missing is the last whole run: it is put back, not removed. Returns what
    was removed or put back."""
    import time

    out = Path(out)
    parent = out.resolve().parent
    done = []
    try:
        found = sorted(parent.glob(f".{out.name}.*.tmp")) + sorted(parent.glob(f".{out.name}.*.old"))
    except OSError:
        return done
    for folder in found:
        try:
            young = time.time() - folder.stat().st_mtime < _GRACE_S
        except OSError:
            continue
        if young or not folder.is_dir() or not _unheld(folder):
            continue
        try:
            if folder.suffix == ".old" and (folder / "run").is_dir() and not out.exists():
                os.rename(folder / "run", out)
            shutil.rmtree(folder)
            done.append(folder)
        except OSError:
            pass
    return done


def _exchange(a: Path, b: Path) -> bool:
    """Swap the folders ``a`` and ``b`` in one step (Linux ``renameat2(RENAME_EXCHANGE)``): at
    no instant is either name missing. False where the system cannot (then nothing changed)."""
    import ctypes
    import ctypes.util

    global _RENAMEAT2
    if _RENAMEAT2 is None:
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            fn = libc.renameat2
            fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
            fn.restype = ctypes.c_int
            _RENAMEAT2 = fn
        except (OSError, AttributeError):
            _RENAMEAT2 = False
    if not _RENAMEAT2:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if _RENAMEAT2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
        return False                        # this file system (or kernel) cannot: rename twice
    raise OSError(err, os.strerror(err), str(b))


#: libc's renameat2 once looked up (False: there is none)
_RENAMEAT2 = None


def _swap_into_place(tmp: Path, out: Path) -> None:
    """Replace the folder ``out`` by ``tmp``: swapped in one step where the system can (the old
    run then in ``tmp``, removed), else the old one renamed aside first, then removed. A run
    killed at any instant leaves ``out`` the old run or the new one, whole."""
    old, lock = None, None
    try:
        if out.exists() and _exchange(tmp, out):
            shutil.rmtree(tmp, ignore_errors=True)
            return
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=tmp.parent))
            lock = _hold(old)
            os.rename(out, old / "run")
        os.rename(tmp, out)
    except OSError as exc:
        if old is not None and (old / "run").exists() and not out.exists():
            os.rename(old / "run", out)
        raise _oserror(out, exc, "cannot put the run folder in place") from None
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        if lock is not None:
            os.close(lock)


def write_outputs(out: Path, trades: list, decisions: list, summary: dict) -> None:
    """Write the four outputs to ``out`` from lists; ``decisions``: the trace (bar decisions and
    gate/flatten/order records, anything with ``to_json``); ``trades``: the closed trades."""
    w = RunWriter(out)
    try:
        for d in decisions:
            w(d)
        for t in trades:
            w.tally.trades.append(t)
        w.commit(summary)
    except BaseException:
        w.abort()
        raise


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
