"""The supervisor (`mia run`): one trading session driven live, with a journal, hot reload, a
command bus, an alert bus and a control socket.

Everything that happens goes through one asyncio queue and one consumer: the feed's data, the
commands (control socket, Telegram, voice), the swaps of reloaded rules, feed-health changes.
The consumer calls the session (synchronous, deterministic: ``mia.runtime.session``), then
journals what the item produced (records, commands, reloads, alerts) together with the feed's
position and the session's snapshot in one transaction, then publishes the item's alerts. So
the journal is a subscriber of the session's records, a crash loses at most the item being
taken (it is taken again after a restart, with the same order ids), and a restart resumes:
the session's snapshot is restored, the data before the saved position is replayed through the
feature engine only, and trading goes on after it.

Slow work never runs on the loop: the feed reads in a worker thread, rules are loaded and
compiled in one (``asyncio.to_thread``); file watching (watchfiles) and the control socket are
tasks of their own.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from mia.broker.observe import ObserveBroker
from mia.broker.paper import PaperBroker
from mia.dsl.compile import CompiledRules
from mia.calendar import DayClock, in_hours, iso
from mia.engine.explain import explain, find, parse_when
from mia.broker.orders import ClosedTrade
from mia.engine.records import Decision
from mia.engine.risk import FEED, HALTED
from mia.errors import MiaError
from mia.features.config import FeatureConfig
from mia.features.engine import FeatureEngine
from mia.runtime.alerts import Alert, AlertBus, alerts_of
from mia.runtime.commands import NEEDS_CONFIRM, Command, Result
from mia.runtime.config import Config
from mia.runtime.journal import TRACE_KINDS, Journal
from mia.runtime.symbols import DataMismatch, SymbolGuard

log = logging.getLogger(__name__)

#: risk settings where a bigger number is looser
_LOOSER_IF_BIGGER = ("daily_loss_usd", "daily_profit_target_usd", "max_position", "max_trades_per_day",
                     "max_consecutive_losses", "max_order_rejections", "halt_vix_above", "stale_bar_seconds",
                     "stale_vix_seconds")


class Supervisor:
    """Runs ``cfg`` (see ``mia.runtime.config``); ``run()`` returns the exit status."""

    def __init__(self, cfg: Config, rules_paths: list[str], live_flag: bool = False, quiet: bool = False):
        self.cfg = cfg
        self.rules_paths = rules_paths
        self.live_flag = live_flag
        self.quiet = quiet
        self.alerts = AlertBus()
        self.queue: asyncio.Queue | None = None
        self.session = None
        self.journal: Journal | None = None
        self.feed = None
        self.position = None
        self.rules_error: str | None = None
        self.rules_loaded_at = 0.0
        self.state = "starting"            # starting / warming / running / ended / stopping
        self.feed_stale = False
        self._skewed = False
        self._last_event_wall = time.time()
        self._pending_alerts: list[Alert] = []
        self._stop = asyncio.Event()
        self._reload_lock = asyncio.Lock()
        self._rate = _Rate()
        self._day_trades: dict = {}
        self._summary_day = None
        self.result_status = 0
        #: why the run ended with status 1 (the feed failed, the data is another instrument's)
        self.failure: str | None = None
        self.wrote: Path | None = None
        self.started = time.time()
        #: when a list: for each data item that made a bar decision, the seconds from the item
        #: taken off the queue to its records journaled (bench_runtime reads it)
        self.decision_latencies: list | None = None
        #: front ends (Telegram, voice): objects with ``async start(supervisor)`` and ``async stop()``,
        #: started once the session and journal are up, stopped after the consumer ends
        self.front_ends: list = []
        self._decided = False
        self._days = DayClock()
        #: the config file as read (the CLI's overrides apart), to tell what an edit changed
        self._file_cfg = None
        #: a front end's own files (alerts/alerts.yaml) -> what to call when one is edited
        self._file_watchers: dict[Path, list[Callable[[], str]]] = {}

    # -- set-up -----------------------------------------------------------------------------------
    def check_mode(self) -> None:
        """Live orders need ``mode: live`` in the config AND ``--live``; anything else is refused."""
        cfg = self.cfg
        where = cfg.path or "the default config"
        if self.live_flag and cfg.mode != "live":
            raise MiaError(f"--live: error: the config ({where}) has mode: {cfg.mode}; live orders need "
                           "mode: live in the config as well as --live")
        if cfg.mode == "live" and not self.live_flag:
            raise MiaError(f"{where}: error: mode: live needs --live on the command line too "
                           "(nothing was started)")
        if cfg.mode == "live" or cfg.broker.kind == "ibkr" or cfg.feed.kind == "ibkr":
            raise MiaError(f"{where}: error: the Interactive Brokers adapter (broker/feed kind ibkr, mode live) "
                           "is not part of this version of mia; use mode observe or paper with a replay, sim or "
                           "sierra feed")

    def _broker(self, rs):
        if self.cfg.mode == "observe":
            return ObserveBroker()
        b = self.cfg.broker
        return PaperBroker(rs.tick_size, rs.tick_value, b.slippage_ticks, b.commission_usd)

    def _feed(self, skip: int):
        from mia.runtime.feeds import ReplayFeed, SierraFeed

        f = self.cfg.feed
        if f.kind == "sierra":
            return SierraFeed(f.path, f.zones, f.poll_s)
        if f.path:
            paths = [f.path]
        else:
            from mia.market.sim import default_session_dir

            paths = [str(default_session_dir())]
        cache = None
        if f.kind == "replay":
            from mia.market.columnar.daycache import DayCache

            cache = DayCache.from_env()
        return ReplayFeed(paths, f.speed, f.zones, skip=skip, cache=cache)

    async def _compile(self) -> CompiledRules:
        from mia.dsl import compile_rules, load_rules

        rs = await asyncio.to_thread(load_rules, self.rules_paths)
        if self.cfg.instrument and rs.instrument != self.cfg.instrument:
            raise MiaError(f"{self.cfg.path}: error: instrument {self.cfg.instrument} but the rules "
                           f"({', '.join(self.rules_paths)}) trade {rs.instrument}")
        return await asyncio.to_thread(compile_rules, rs)

    # -- running ------------------------------------------------------------------------------------
    async def run(self) -> int:
        from mia.runtime.session import Session

        self.check_mode()
        if self.cfg.path:
            from mia.runtime.config import load_config

            self._file_cfg = load_config(self.cfg.path)
        compiled = await self._compile()
        self.rules_loaded_at = time.time()
        rs = compiled.ruleset
        self.journal = journal = Journal.open(self.cfg.journal)
        control = None
        started: list = []
        tasks: list[asyncio.Task] = []
        try:
            feed_probe = self._feed(0)
            last = journal.last_run()
            resume = (last is not None and last["status"] in ("running", "stopped")
                      and last["feed"] == feed_probe.identity and last["mode"] == self.cfg.mode
                      and last["instrument"] == rs.instrument)
            saved = journal.saved_state(last["id"]) if resume else None
            if resume:
                journal.resume_run(last["id"])
            else:
                journal.start_run(feed_probe.identity, self.cfg.mode, rs.instrument)
            features = FeatureEngine(rs.instrument, FeatureConfig.for_rules(rs), tick_size=rs.tick_size)
            self.guard = SymbolGuard(rs)
            self.session = session = Session(compiled, features, self._broker(rs), [journal.record, self._on_record])
            skip = 0
            if saved is not None:
                position, snap = saved
                session.restore(snap)
                skip = int(position or 0) if not feed_probe.live else 0
                self._alert(Alert("command", session.now, f"resumed run {journal.run_id} after {skip:,} events "
                                                          f"(position {session.broker.position:+d}, "
                                                          f"gate {session.gate.state})",
                                  {"origin": "journal", "command": "resume run"}))
            self.feed = self._feed(skip) if skip else feed_probe
            self.queue = asyncio.Queue(maxsize=64)
            control = await self._start_control()
            started = []
            for fe in self.front_ends:
                await fe.start(self)
                started.append(fe)
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(sig, self.stop)
            tasks = [asyncio.create_task(self._produce(), name="feed"),
                     asyncio.create_task(self._watch(), name="watch")]
            if self.feed.live:
                tasks.append(asyncio.create_task(self._watchdog(), name="watchdog"))
            self.state = "warming" if skip else "running"
            await self._consume()
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(BaseException):
                    await task
            for fe in reversed(started):
                with contextlib.suppress(Exception):
                    await fe.stop()
            if control is not None:
                await control.stop()
            with contextlib.suppress(Exception):
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(sig)
            journal.close()
        return self.result_status

    def stop(self) -> None:
        """A clean stop (Ctrl-C, SIGTERM, a test): the consumer ends after its current item."""
        self._stop.set()
        if self.queue is not None:
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.put_nowait(("stop",))

    async def _start_control(self):
        from mia.runtime.control import ControlServer

        server = ControlServer(self.cfg.control_socket, self.execute)
        await server.start()
        return server

    async def _produce(self) -> None:
        try:
            async for item in self.feed.items():
                if self._stop.is_set():
                    return
                await self.queue.put(item)
        except MiaError as exc:
            await self.queue.put(("error", str(exc)))
        except Exception as exc:               # a reader bug: say it, stop cleanly, keep the journal
            log.exception("feed failed")
            await self.queue.put(("error", f"the feed failed: {exc!r}"))

    async def _consume(self) -> None:
        lat = self.decision_latencies
        while True:
            item = await self.queue.get()
            taken = time.perf_counter()
            kind = item[0]
            if kind == "stop" or self._stop.is_set():
                await self._finish_stop()
                return
            try:
                done = self._take(item)
            except DataMismatch as exc:        # another instrument's data: nothing it says can be traded
                done = self._take(("error", str(exc)))
            except MiaError as exc:
                self._alert(Alert("error", self.session.now, str(exc), {"error": str(exc)}))
                done = False
            self._commit()
            if lat is not None and self._decided and kind in ("block", "events"):
                lat.append(time.perf_counter() - taken)
            self._decided = False
            if done:
                return

    def _take(self, item) -> bool:
        """One queue item; True when the run is over (the data ended, a fatal feed error)."""
        s = self.session
        kind = item[0]
        if kind in ("warm", "warm_events"):
            if kind == "warm":
                s.warm_block(item[1])
            else:
                for ev in item[1]:
                    s.warm_event(ev)
            return False
        if kind in ("block", "events"):
            if self.state == "warming":
                self.state = "running"
                if not s.kernel_restored:      # the rules changed while mia was down: warm the new kernel
                    s.state = s.warm_state(s.c)
            self._data_arrived()
            n0 = s.events
            if kind == "block":
                self.guard.block(item[1])
                s.on_block(item[1])
            else:
                for ev in item[1]:
                    self.guard.event(ev)
                    s.on_event(ev)
                if self.feed.live:
                    self._check_skew(item[1][-1].t)
            self.position = item[2] if item[2] is not None else self.position
            self._rate.add(s.events - n0)
            return False
        if kind == "command":
            cmd, fut = item[1], item[2]
            result = self._command(cmd)
            if fut is not None and not fut.done():
                fut.set_result(result)
            return False
        if kind == "swap":
            self._swap(item[1], item[2])
            return False
        if kind == "reload_failed":
            self._reload_failed(item[1], item[2])
            return False
        if kind == "stale":
            self._stale(item[1])
            return False
        if kind == "config":
            self._config_edit()
            return False
        if kind == "file":
            self._file_edited(item[1])
            return False
        if kind == "end":
            self._end()
            return True
        if kind == "error":
            self._alert(Alert("error", s.now, item[1], {"error": item[1]}))
            self.failure = item[1]
            self.result_status = 1
            self._end(finished=False)
            return True
        raise ValueError(f"unknown queue item {kind!r}")

    def _commit(self) -> None:
        j, s = self.journal, self.session
        j.state(self.position if self.position is not None else self.feed.position, s.snapshot())
        j.commit()
        pending, self._pending_alerts = self._pending_alerts, []
        for alert in pending:
            self.alerts.publish(alert)

    # -- records and alerts ----------------------------------------------------------------------
    def _on_record(self, rec) -> None:
        """A session sink: alerts of the record (published once the item is journaled), and the
        daily summary when a new trading day's first bar comes."""
        if isinstance(rec, Decision):
            self._decided = True
            day = self._days.day(rec.t)
            if self._summary_day is not None and day != self._summary_day:
                self._daily_summary(self._summary_day)
            self._summary_day = day
        elif isinstance(rec, ClosedTrade):
            self._day_trades.setdefault(self._days.day(rec.exit_t), []).append(rec.net_usd)
        for alert in alerts_of(rec, self.cfg.mode):
            self._alert(alert)

    def _alert(self, alert: Alert) -> None:
        self.journal.alert(alert.t, alert.kind, alert.to_json())
        self._pending_alerts.append(alert)

    def _daily_summary(self, day) -> None:
        nets = self._day_trades.pop(day, [])
        wins = sum(1 for n in nets if n > 0)
        net = round(sum(nets), 2)
        self._alert(Alert("daily_summary", self.session.now,
                          f"DAY {day}: {len(nets)} trades, {wins} won, net {net:+.2f} USD",
                          {"day": str(day), "trades": len(nets), "wins": wins, "losses": len(nets) - wins,
                           "net_usd": net}))

    # -- feed health ----------------------------------------------------------------------------------
    def _data_arrived(self) -> None:
        self._last_event_wall = time.time()
        if self.feed_stale:
            self.feed_stale = False
            t = max(self.session.now, time.time())
            self.session.gate.release(t, (FEED,), "feed back: events again")
            self._alert(Alert("feed_back", t, "FEED BACK: events again; the automatic halt is lifted",
                              {"time": iso(t)}))

    def _check_skew(self, feed_t: float) -> None:
        skew = time.time() - feed_t
        bad = abs(skew) > self.cfg.feed.max_skew_s
        if bad and not self._skewed:
            self._alert(Alert("feed_skew", feed_t, f"FEED SKEW: feed time is {skew:+.1f} s from the wall clock "
                                                   f"(bound {self.cfg.feed.max_skew_s:g} s)",
                              {"skew_s": round(skew, 1), "bound_s": self.cfg.feed.max_skew_s}))
        self._skewed = bad

    async def _watchdog(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.cfg.feed.stale_after_s / 4))
            if self.state != "running" or self.feed_stale or self.session is None:
                continue
            quiet = time.time() - self._last_event_wall
            h = self.session.c.ruleset.risk.trading_hours
            if quiet > self.cfg.feed.stale_after_s and in_hours(time.time(), h.start_min, h.end_min, h.zone):
                await self.queue.put(("stale", quiet))

    def _stale(self, quiet: float) -> None:
        if self.feed_stale:
            return
        self.feed_stale = True
        t = max(self.session.now, time.time())
        reason = f"feed stale: no event for {quiet:.0f} s (feed.stale_after_s {self.cfg.feed.stale_after_s:g})"
        self.session.gate.hold(t, FEED, HALTED, reason, {"quiet_s": round(quiet, 1)}, limit="feed.stale_after_s")
        self._alert(Alert("feed_stale", t, f"FEED STALE: {reason}; entries halted",
                          {"time": iso(t), "quiet_s": round(quiet, 1), "bound_s": self.cfg.feed.stale_after_s}))

    # -- the end ----------------------------------------------------------------------------------------
    def _end(self, finished: bool = True) -> None:
        s = self.session
        if finished:
            s.finish()
            if self._summary_day is not None:
                self._daily_summary(self._summary_day)
        self.state = "ended"
        self._commit()
        self.journal.end_run("finished" if finished else "stopped")
        self.write_run()

    async def _finish_stop(self) -> None:
        self.state = "stopping"
        s = self.session
        if self.cfg.cancel_on_exit:
            s.cancel_entries(s.now, "supervisor stopped (cancel_on_exit)")
        self._commit()
        self.journal.end_run("stopped")
        self.write_run()

    def write_run(self) -> None:
        """The run folder (trades.csv, decisions.jsonl, summary.json, equity.png) from the journal."""
        from mia.runtime.runfolder import RunWriter

        out = Path(self.cfg.out)
        writer = RunWriter(out)
        try:
            for rec in self.journal.record_objects(kinds=(*TRACE_KINDS, "trade")):
                writer(rec)
            summary = writer.summary(len(self.session.days))
            summary["events"] = self.session.events
            summary["bad_lines"] = self.feed.bad.by_reason()
            writer.commit(summary)
        except BaseException:
            writer.abort()
            raise
        self.wrote = out

    # -- commands ----------------------------------------------------------------------------------------
    async def execute(self, cmd: Command) -> Result:
        """The command bus: every front end's command is taken by the consumer, in order."""
        if self.queue is None or self.state in ("ended", "stopping"):
            return Result(cmd.name, False, {}, "the supervisor is not running")
        if cmd.name == "reload":
            return await self.reload(f"reload command from {cmd.origin}", cmd)
        fut = asyncio.get_running_loop().create_future()
        await self.queue.put(("command", cmd, fut))
        return await fut

    def _command(self, cmd: Command) -> Result:
        s = self.session
        if cmd.name in NEEDS_CONFIRM and not cmd.confirmed:
            result = Result(cmd.name, False, {"needs_confirmation": True},
                            f"{cmd.name} needs a confirmation (the CLI: --yes; Telegram: the button; voice: "
                            "\"confirm\")")
        elif cmd.name in ("pause", "resume", "flatten"):
            result = s.on_command(cmd)
        elif cmd.name == "status":
            data = self.status()
            result = Result("status", True, data, _status_line(data))
        elif cmd.name == "positions":
            result = self._positions()
        elif cmd.name == "pnl":
            result = self._pnl()
        elif cmd.name == "why":
            result = self._why(cmd.args[0] if cmd.args else None)
        elif cmd.name == "rules":
            result = self._rules()
        else:
            result = Result(cmd.name, False, {}, f"unknown command {cmd.name!r}")
        self.journal.command(s.now, cmd.origin, cmd.name, list(cmd.args), result.ok, result.text)
        if cmd.name in ("pause", "resume", "flatten") and result.ok:
            self._alert(Alert("command", s.now, f"{cmd.name.upper()} by {cmd.origin}: {result.text}",
                              {"command": cmd.name, "origin": cmd.origin, "result": result.text}))
        return result

    def status(self) -> dict:
        s = self.session
        g, b = s.gate, s.broker
        pos = b.position
        last = s.last_price
        unreal = (last - b.avg_price) * pos * s.point_value if pos and last == last else 0.0
        return {
            "mode": self.cfg.mode, "state": self.state, "run": self.journal.run_id if self.journal else None,
            "rules_version": s.version, "rules_error": self.rules_error,
            "gate": g.state, "gate_reason": g.reason, "position": pos,
            "avg_price": None if pos == 0 else round(b.avg_price, 4),
            "last_price": None if last != last else last,
            "pnl_usd": round(g.realized_usd + unreal, 2), "realized_usd": round(g.realized_usd, 2),
            "unrealized_usd": round(unreal, 2), "trades_today": g.trades_today,
            "day": str(g.day) if g.day else None, "last_event": iso(s.now) if s.now else None,
            "events": s.events, "events_per_s": round(self._rate.per_s()),
            "feed": "stale" if self.feed_stale else ("ended" if self.state == "ended" else "ok"),
            "feed_kind": self.cfg.feed.kind, "working": [w.order_id for w in b.working if w.role == "entry"],
            "labels": dict(s.labels),
        }

    def _positions(self) -> Result:
        s = self.session
        b = s.broker
        pos = b.position
        orders = [{"order": w.order_id, "role": w.role, "side": "buy" if w.side > 0 else "sell", "qty": w.qty,
                   "kind": w.kind, "price": w.price} for w in b.working]
        last = s.last_price
        unreal = (last - b.avg_price) * pos * s.point_value if pos and last == last else 0.0
        data = {"position": pos, "avg_price": None if pos == 0 else round(b.avg_price, 4),
                "unrealized_usd": round(unreal, 2), "orders": orders}
        if pos == 0:
            text = "flat" + (f"; {len(orders)} working order(s)" if orders else "")
        else:
            text = (f"{'long' if pos > 0 else 'short'} {abs(pos)} at {b.avg_price:.2f}, open {unreal:+.2f} USD; "
                    f"{len(orders)} working order(s)")
        return Result("positions", True, data, text)

    def _pnl(self) -> Result:
        d = self.status()
        g = self.session.gate
        nets = self._day_trades.get(g.day, [])
        data = {"day": d["day"], "pnl_usd": d["pnl_usd"], "realized_usd": d["realized_usd"],
                "unrealized_usd": d["unrealized_usd"], "trades": len(nets), "wins": sum(1 for n in nets if n > 0),
                "losses": sum(1 for n in nets if n < 0), "trades_today": g.trades_today}
        text = (f"today {d['pnl_usd']:+.2f} USD ({d['realized_usd']:+.2f} realized, {d['unrealized_usd']:+.2f} open); "
                f"{data['trades']} closed trades, {data['wins']} won")
        return Result("pnl", True, data, text)

    def _why(self, when: str | None) -> Result:
        records = [dict(d, kind=kind) if kind != "bar" else d
                   for kind, d in self.journal.records(kinds=TRACE_KINDS)]
        if when is None:
            bars = [d for d in records if "kind" not in d]
            if not bars:
                return Result("why", False, {}, "no bar has closed yet")
            when = bars[-1]["time"][:16].replace("T", " ")
        try:
            parse_when(when)
            matches = find(records, when)
        except MiaError as exc:
            return Result("why", False, {}, str(exc))
        if not matches:
            return Result("why", False, {"when": when}, f"no bar closed at {when} in this run")
        text = "\n".join(explain(d, "journal") for d in matches)
        return Result("why", True, {"when": when, "records": matches}, text)

    def _rules(self) -> Result:
        rs = self.session.c.ruleset
        data = {"version": self.session.version, "files": rs.files, "instrument": rs.instrument,
                "signals": [x.name for x in rs.signals], "hard_rules": [h.name for h in rs.hard_rules],
                "params": len(rs.params), "features": [f.name for f in rs.features], "error": self.rules_error,
                "loaded": iso(self.rules_loaded_at)}
        text = (f"rules {data['version']} ({', '.join(rs.files)}): {len(rs.signals)} signals, "
                f"{len(rs.hard_rules)} hard rules, {len(rs.params)} params"
                + (f"; last edit refused: {self.rules_error}" if self.rules_error else ""))
        return Result("rules", True, data, text)

    # -- hot reload ---------------------------------------------------------------------------------------
    def watch_file(self, path: str | Path, on_change: Callable[[], str]) -> None:
        """Have ``on_change()`` called (on the loop) when the file ``path`` is edited while running:
        a front end's own declarations (alerts/alerts.yaml). It returns what it applied, said as
        a "command" alert; a ``MiaError`` it raises (a bad edit: the front end keeps what it had)
        is said as an "error" alert (the consumer calls it between two items, as it applies a config
        edit: its alerts are journaled and published as every other). Call it from a front end's
        ``start``."""
        p = Path(path).resolve()
        if p.is_file():
            self._file_watchers.setdefault(p, []).append(on_change)

    def _file_edited(self, path: Path) -> None:
        s = self.session
        try:
            applied = "; ".join(on_change() for on_change in self._file_watchers[path])
        except MiaError as exc:
            said = f"{path.name.upper()} NOT RELOADED, the running one stays: {exc}"
            self._alert(Alert("error", s.now, said, {"error": said}))
            return
        self._alert(Alert("command", s.now, f"{path.name.upper()} RELOADED: {applied}",
                          {"origin": str(path), "command": "reload", "applied": applied, "restart": ""}))

    async def reload(self, why: str, cmd: Command | None = None) -> Result:
        """Load, check and compile the rules off the loop; swap them in between two events (the
        consumer does it), or keep the old ones and say why."""
        async with self._reload_lock:
            fut = asyncio.get_running_loop().create_future()
            try:
                compiled = await self._compile()
            except MiaError as exc:
                await self.queue.put(("reload_failed", (str(exc), why, cmd), fut))
            else:
                await self.queue.put(("swap", (compiled, why, cmd), fut))
            return await fut

    def _swap(self, payload, fut) -> None:
        compiled, why, cmd = payload
        s = self.session
        old = s.c.ruleset
        new = compiled.ruleset
        version = new.source_hash[:12]
        if new.instrument != old.instrument:
            self._reload_failed((f"{', '.join(new.files)}: error: the rules now trade {new.instrument}, the running "
                                 f"session {old.instrument}: restart to change instrument", why, cmd), fut)
            return
        if new.source_hash == old.source_hash:
            self.rules_error = None
            result = Result("reload", True, {"version": version, "changed": False}, f"rules {version} unchanged")
        else:
            loosened = _loosened(old.risk, new.risk) if s.broker.position else []
            s.swap_rules(compiled, s.warm_state(compiled))
            self.rules_error = None
            self.rules_loaded_at = time.time()
            text = f"rules {version} active ({why})"
            if loosened:
                text += ("; loosened while " + ("long" if s.broker.position > 0 else "short")
                         + f" {abs(s.broker.position)}: " + ", ".join(loosened))
            result = Result("reload", True, {"version": version, "changed": True, "loosened": loosened}, text)
            self.journal.reload(s.now, version, True, None, why)
            self._alert(Alert("reload_ok", s.now, f"RULES RELOADED: {text}",
                              {"version": version, "why": why, "loosened": "; ".join(loosened)}))
        if cmd is not None:
            self.journal.command(s.now, cmd.origin, cmd.name, list(cmd.args), result.ok, result.text)
        if not fut.done():
            fut.set_result(result)

    def _reload_failed(self, payload, fut) -> None:
        error, why, cmd = payload
        s = self.session
        self.rules_error = error.splitlines()[0] if error else "error"
        self.journal.reload(s.now, None, False, error, why)
        self._alert(Alert("reload_failed", s.now, f"RULES NOT RELOADED, the old ones keep running: {error}",
                          {"error": error, "first_error": self.rules_error, "why": why,
                           "version": s.version}))
        result = Result("reload", False, {"error": error, "version": s.version},
                        f"the rules were not reloaded, {s.version} keeps running: {error}")
        if cmd is not None:
            self.journal.command(s.now, cmd.origin, cmd.name, list(cmd.args), False, result.text)
        if not fut.done():
            fut.set_result(result)

    async def _watch(self) -> None:
        """Watch the rule files and the config file: a rule edit reloads the rules, a config edit
        applies what can change while running and says what waits for a restart."""
        import watchfiles

        roots = [p for p in self.rules_paths if Path(p).exists()]
        config = Path(self.cfg.path).resolve() if self.cfg.path else None
        if config is not None and config.is_file():
            roots.append(str(config))
        roots += [str(p) for p in self._file_watchers if p != config]
        if not roots:
            return

        def wanted(change, path: str) -> bool:
            name = Path(path).name
            return not name.startswith(".") and name.endswith((".yaml", ".yml"))

        async for changes in watchfiles.awatch(*roots, watch_filter=wanted, debounce=400, step=30,
                                               stop_event=self._stop, rust_timeout=500):
            paths = {Path(p).resolve() for _, p in changes}
            if config is not None and config in paths:
                paths.discard(config)
                await self.queue.put(("config",))
            for p in sorted(paths & self._file_watchers.keys()):
                paths.discard(p)
                await self.queue.put(("file", p))
            if paths:
                await self.reload(f"edited {', '.join(sorted(p.name for p in paths))}")

    def _config_edit(self) -> None:
        """The config file changed: a bad edit is said (the running config stays); the feed-health
        bounds and cancel_on_exit apply at once; anything else at the next start."""
        from mia.runtime.config import load_config

        s = self.session
        try:
            new = load_config(self.cfg.path)
        except MiaError as exc:
            said = f"CONFIG NOT RELOADED, the running settings stay: {exc}"
            self._alert(Alert("error", s.now, said, {"error": said}))
            return
        old = self._file_cfg or new
        feed = replace(self.cfg.feed, stale_after_s=new.feed.stale_after_s, max_skew_s=new.feed.max_skew_s)
        applied = [k for k, a, b in (("feed.stale_after_s", old.feed.stale_after_s, new.feed.stale_after_s),
                                     ("feed.max_skew_s", old.feed.max_skew_s, new.feed.max_skew_s),
                                     ("cancel_on_exit", old.cancel_on_exit, new.cancel_on_exit)) if a != b]
        waiting = [k for k in ("rules", "instrument", "mode", "journal", "control_socket", "out", "broker")
                   if getattr(old, k) != getattr(new, k)]
        waiting += [f"feed.{k}" for k in ("kind", "path", "speed", "zones", "poll_s")
                    if getattr(old.feed, k) != getattr(new.feed, k)]
        self.cfg = replace(self.cfg, feed=feed, cancel_on_exit=new.cancel_on_exit)
        self._file_cfg = new
        text = "CONFIG RELOADED: " + (f"applied {', '.join(applied)}" if applied else "nothing to apply now")
        if waiting:
            text += f"; {', '.join(waiting)} changed: takes effect at the next start"
        self._alert(Alert("command", s.now, text, {"origin": self.cfg.path, "command": "config",
                                                   "applied": ", ".join(applied), "restart": ", ".join(waiting)}))

def _loosened(old, new) -> list[str]:
    out = []
    for name in _LOOSER_IF_BIGGER:
        a, b = getattr(old, name), getattr(new, name)
        if b > a:
            out.append(f"risk.{name.removesuffix('_usd')} {a:g} -> {b:g}")
    if new.cooldown_after_stop_min < old.cooldown_after_stop_min:
        out.append(f"risk.cooldown_after_stop {old.cooldown_after_stop_min:g} -> {new.cooldown_after_stop_min:g} min")
    if str(new.trading_hours) != str(old.trading_hours):
        out.append(f"risk.trading_hours {old.trading_hours} -> {new.trading_hours}")
    return out


def _status_line(d: dict) -> str:
    pos = d["position"]
    where = "flat" if pos == 0 else f"{'long' if pos > 0 else 'short'} {abs(pos)} at {d['avg_price']:.2f}"
    last = f"{d['last_price']:.2f}" if d["last_price"] is not None else "-"
    return (f"{d['mode']} | {d['last_event'] or 'no data yet'} | last {last} | {where} | P&L {d['pnl_usd']:+.2f} USD | "
            f"gate {d['gate']} | rules {d['rules_version']}" + (" (last edit refused)" if d["rules_error"] else "")
            + f" | feed {d['feed']} | {d['events']:,} events"
            + "".join(f" | {k}: {v}" for k, v in (d.get("labels") or {}).items()))


class _Rate:
    """Events per second over the last few seconds of wall time (counted in 0.1 s buckets)."""

    def __init__(self, window: float = 3.0):
        self.window = window
        self.marks: deque = deque()            # (bucket start, events)

    def add(self, n: int) -> None:
        now = time.monotonic()
        bucket = now - now % 0.1
        if self.marks and self.marks[-1][0] == bucket:
            self.marks[-1][1] += n
        else:
            self.marks.append([bucket, n])
            while self.marks[0][0] < now - self.window:
                self.marks.popleft()

    def per_s(self) -> float:
        if not self.marks:
            return 0.0
        span = max(time.monotonic() - self.marks[0][0], 0.1)
        return sum(n for _, n in self.marks) / span
