"""The journal: one SQLite file (WAL) in which the supervisor keeps everything it did.

One writer (the supervisor's consumer) and one process: a second supervisor on the same journal
is refused (an exclusive lock on ``<journal>.lock``). Tables:

- ``runs``: one row per run (its feed, mode, instrument, status: running / stopped / finished);
- ``records``: every trace record the session published (bar decisions, gate changes, flattens,
  order cancellations and rejections, fills, closed trades), as the JSON object decisions.jsonl
  holds, in order;
- ``state``: per run, the feed's position and the session's snapshot after the last item the
  consumer took: written in the same transaction as that item's records, so a crash loses a
  whole item or nothing (the item is then taken again after a restart, its orders with the same
  ids);
- ``commands`` (what, from where, result), ``reloads`` (version, ok or the error), ``alerts``;
- ``outbox``: messages a front end (Telegram) still has to deliver, in order (``sent`` is set once
  delivered, or once given up, then with the ``error``).

Writes are buffered and committed by ``commit()`` (the supervisor calls it after each item).
A journal that cannot be opened, is not a journal, or is locked is a ``MiaError``, one line.
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from pathlib import Path

import orjson

from mia.engine.records import from_json, kind_of, to_json
from mia.errors import MiaError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, started REAL NOT NULL, feed TEXT NOT NULL, mode TEXT NOT NULL,
    instrument TEXT NOT NULL, status TEXT NOT NULL, ended REAL);
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY, run INTEGER NOT NULL, t REAL NOT NULL, kind TEXT NOT NULL, body BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS records_run ON records (run, id);
CREATE TABLE IF NOT EXISTS state (
    run INTEGER PRIMARY KEY, position TEXT, snapshot BLOB NOT NULL, wall REAL NOT NULL);
CREATE TABLE IF NOT EXISTS commands (
    id INTEGER PRIMARY KEY, run INTEGER, wall REAL NOT NULL, t REAL, origin TEXT NOT NULL, name TEXT NOT NULL,
    args TEXT NOT NULL, ok INTEGER NOT NULL, result TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reloads (
    id INTEGER PRIMARY KEY, run INTEGER, wall REAL NOT NULL, t REAL, version TEXT, ok INTEGER NOT NULL,
    error TEXT, detail TEXT);
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY, run INTEGER, wall REAL NOT NULL, t REAL, kind TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY, created REAL NOT NULL, channel TEXT NOT NULL, target TEXT NOT NULL,
    body TEXT NOT NULL, silent INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
    next_try REAL NOT NULL DEFAULT 0, sent REAL, error TEXT);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (channel, sent, id);
"""

#: record kinds that are lines of decisions.jsonl (the others: fills and closed trades)
TRACE_KINDS = ("bar", "gate", "flatten", "order")


class JournalError(MiaError):
    pass


class Journal:
    """The supervisor's journal at ``path``; ``Journal.open`` locks it for this process."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock_fh = None
        self.db: sqlite3.Connection | None = None
        self.run_id: int | None = None
        self._pending: list = []

    # -- opening --------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path) -> "Journal":
        j = cls(path)
        j._lock()
        try:
            j._connect()
        except BaseException:
            j.close()
            raise
        return j

    def _lock(self) -> None:
        lock = self.path.with_name(self.path.name + ".lock")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fh = open(lock, "a+")
        except OSError as exc:
            raise JournalError(f"{self.path}: error: cannot open the journal's lock file: {exc.strerror or exc}") \
                from None
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            pid = fh.read().strip() or "?"
            fh.close()
            raise JournalError(f"{self.path}: error: another supervisor (pid {pid}) is using this journal; "
                               "stop it first (mia status tells what it is doing)") from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._lock_fh = fh

    def _connect(self) -> None:
        try:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{self.path}: error: not a mia journal ({exc}); move it away or name another "
                               "`journal:` in the config") from None
        self.db = db

    def close(self) -> None:
        if self.db is not None:
            try:
                self.commit()
            finally:
                self.db.close()
                self.db = None
        if self._lock_fh is not None:
            self._lock_fh.close()
            self._lock_fh = None

    # -- runs -----------------------------------------------------------------------------------
    def last_run(self) -> dict | None:
        row = self.db.execute("SELECT id, started, feed, mode, instrument, status FROM runs "
                              "ORDER BY id DESC LIMIT 1").fetchone()
        if row is None:
            return None
        return dict(zip(("id", "started", "feed", "mode", "instrument", "status"), row))

    def start_run(self, feed: str, mode: str, instrument: str) -> int:
        cur = self.db.execute("INSERT INTO runs (started, feed, mode, instrument, status) VALUES (?, ?, ?, ?, ?)",
                              (time.time(), feed, mode, instrument, "running"))
        self.run_id = cur.lastrowid
        return self.run_id

    def resume_run(self, run_id: int) -> None:
        self.run_id = run_id
        self.db.execute("UPDATE runs SET status = 'running', ended = NULL WHERE id = ?", (run_id,))

    def end_run(self, status: str) -> None:
        """``status``: "finished" (the data ended) or "stopped" (asked to stop, or a crash seen later)."""
        self.commit()
        self.db.execute("UPDATE runs SET status = ?, ended = ? WHERE id = ?", (status, time.time(), self.run_id))

    # -- writing (buffered until commit) -------------------------------------------------------------
    def record(self, rec) -> None:
        """A session sink: keep a trace record, fill or closed trade."""
        body = orjson.dumps(to_json(rec), option=orjson.OPT_SERIALIZE_NUMPY)
        self._pending.append(("INSERT INTO records (run, t, kind, body) VALUES (?, ?, ?, ?)",
                              (self.run_id, _t(rec), kind_of(rec), body)))

    def command(self, t: float | None, origin: str, name: str, args: list, ok: bool, result: str) -> None:
        self._pending.append(("INSERT INTO commands (run, wall, t, origin, name, args, ok, result) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                              (self.run_id, time.time(), t, origin, name, orjson.dumps(list(args)).decode(),
                               int(ok), result)))

    def reload(self, t: float | None, version: str | None, ok: bool, error: str | None, detail: str = "") -> None:
        self._pending.append(("INSERT INTO reloads (run, wall, t, version, ok, error, detail) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?)",
                              (self.run_id, time.time(), t, version, int(ok), error, detail)))

    def alert(self, t: float | None, kind: str, body: dict) -> None:
        self._pending.append(("INSERT INTO alerts (run, wall, t, kind, body) VALUES (?, ?, ?, ?, ?)",
                              (self.run_id, time.time(), t, kind, orjson.dumps(body, default=str).decode())))

    def state(self, position, snapshot: dict) -> None:
        """The feed's position and the session's snapshot after the item being committed."""
        self._pending.append(("INSERT OR REPLACE INTO state (run, position, snapshot, wall) VALUES (?, ?, ?, ?)",
                              (self.run_id, orjson.dumps(position).decode(), orjson.dumps(snapshot), time.time())))

    def commit(self) -> None:
        """Write everything buffered in one transaction."""
        if not self._pending or self.db is None:
            return
        pending, self._pending = self._pending, []
        db = self.db
        db.execute("BEGIN")
        try:
            for sql, args in pending:
                db.execute(sql, args)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    # -- the outbox (a front end's messages still to deliver) ---------------------------------------
    def outbox_add(self, channel: str, target: str, body: str, silent: bool = False) -> None:
        """Queue a message (committed with the item being processed, like the records)."""
        self._pending.append(("INSERT INTO outbox (created, channel, target, body, silent) VALUES (?, ?, ?, ?, ?)",
                              (time.time(), channel, target, body, int(silent))))

    def outbox_pending(self, channel: str, limit: int = 100) -> list[dict]:
        """The oldest undelivered messages of ``channel``, in the order they were queued."""
        self.commit()
        rows = self.db.execute("SELECT id, target, body, silent, attempts, next_try FROM outbox "
                               "WHERE channel = ? AND sent IS NULL ORDER BY id LIMIT ?", (channel, limit)).fetchall()
        return [dict(zip(("id", "target", "body", "silent", "attempts", "next_try"), r)) for r in rows]

    def outbox_put(self, channel: str, rows: list[tuple[str, str, bool]]) -> None:
        """Queue messages ((target, body, silent), in order) at once, in a transaction of their own:
        for an alert-bus subscriber, which is called after the consumer's commit (the buffer of
        ``outbox_add`` would wait for the next item)."""
        if not rows or self.db is None:
            return
        now = time.time()
        db = self.db
        db.execute("BEGIN")
        try:
            db.executemany("INSERT INTO outbox (created, channel, target, body, silent) VALUES (?, ?, ?, ?, ?)",
                           [(now, channel, target, body, int(silent)) for target, body, silent in rows])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def outbox_sent(self, msg_id: int) -> None:
        self.db.execute("UPDATE outbox SET sent = ?, error = NULL WHERE id = ?", (time.time(), msg_id))

    def outbox_failed(self, msg_id: int, next_try: float, error: str) -> None:
        self.db.execute("UPDATE outbox SET attempts = attempts + 1, next_try = ?, error = ? WHERE id = ?",
                        (next_try, error, msg_id))

    def outbox_gave_up(self, msg_id: int, error: str) -> None:
        """A message that can never be delivered (the chat is gone, the bot was blocked): out of the
        queue, with why (``sent`` set and ``error`` kept; a delivered message has no error)."""
        self.db.execute("UPDATE outbox SET attempts = attempts + 1, sent = ?, error = ? WHERE id = ?",
                        (time.time(), error, msg_id))

    def outbox_counts(self, channel: str) -> dict:
        """How many messages of ``channel`` are waiting, delivered, given up."""
        row = self.db.execute("SELECT sum(sent IS NULL), sum(sent IS NOT NULL AND error IS NULL), "
                              "sum(sent IS NOT NULL AND error IS NOT NULL) FROM outbox WHERE channel = ?",
                              (channel,)).fetchone()
        return {"pending": row[0] or 0, "sent": row[1] or 0, "gave_up": row[2] or 0}

    # -- reading --------------------------------------------------------------------------------
    def saved_state(self, run_id: int) -> tuple[object, dict] | None:
        row = self.db.execute("SELECT position, snapshot FROM state WHERE run = ?", (run_id,)).fetchone()
        if row is None:
            return None
        return orjson.loads(row[0]), orjson.loads(row[1])

    def records(self, run_id: int | None = None, kinds: tuple[str, ...] | None = None, since_t: float | None = None):
        """(kind, JSON object) of the run's records in order (``kinds``: only those)."""
        run_id = self.run_id if run_id is None else run_id
        sql, args = "SELECT kind, body FROM records WHERE run = ?", [run_id]
        if kinds:
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            args += list(kinds)
        if since_t is not None:
            sql += " AND t >= ?"
            args.append(since_t)
        for kind, body in self.db.execute(sql + " ORDER BY id", args):
            yield kind, orjson.loads(body)

    def record_objects(self, run_id: int | None = None, kinds: tuple[str, ...] | None = None):
        for kind, d in self.records(run_id, kinds):
            yield from_json(kind, d)

    def count(self, table: str, run_id: int | None = None) -> int:
        if table not in ("records", "commands", "reloads", "alerts"):
            raise ValueError(table)
        return self.db.execute(f"SELECT count(*) FROM {table} WHERE run = ?",
                               (self.run_id if run_id is None else run_id,)).fetchone()[0]


def _t(rec) -> float:
    t = getattr(rec, "t", None)
    if t is None:
        t = getattr(rec, "exit_t", 0.0)
    return float(t)
