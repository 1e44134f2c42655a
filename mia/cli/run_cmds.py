"""Supervisor commands: `mia run`, and `mia status|positions|pnl|why|pause|resume|flatten|reload|rules`
that talk to a running supervisor through its control socket."""
from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import replace
from pathlib import Path

from mia.resources import shipped
from mia.cli.rules_cmds import default_rules_paths
from mia.errors import MiaError

#: exit status when no supervisor answers
NO_SUPERVISOR = 2

_CLIENT = {
    "status": "mode, rules version, gate, position, P&L, feed",
    "positions": "the open position and the working orders",
    "pnl": "today's P&L: realized, open, trades",
    "pause": "no new entries until resume (exits still work)",
    "resume": "lift a pause or a flatten's hold (a risk limit's halt stays until the next day); asks to confirm",
    "flatten": "cancel working entries, close the position at market, then no new entries until resume; "
               "asks to confirm",
    "reload": "load, check and compile the rules now; a bad edit is refused and the old rules keep running",
    "rules": "the active rule set: version, files, signals, the last refused edit",
}


def default_config_path() -> Path:
    """config/mia.yaml of the current folder when there is one, else the bundled demo config."""
    here = Path("config/mia.yaml")
    return here if here.is_file() else shipped("config/mia.yaml")


def load_run_config(path: str | None):
    """The supervisor's config: ``path``, else config/mia.yaml here, else the bundled demo."""
    return _config(path)


def _config(path: str | None):
    from mia.runtime.config import Config, load_config

    p = Path(path) if path else default_config_path()
    if not path and not p.is_file():
        return Config()
    return load_config(p)


def register(sub) -> None:
    p = sub.add_parser("run", help="run the supervisor: live rules, journal, hot reload, control socket",
                       description="Run the rules live: the feed -> features -> engine -> broker, every decision "
                                   "journaled, rule edits reloaded as they are saved, commands taken from the "
                                   "control socket. With no config: the bundled simulated session replayed "
                                   "quickly, the default rules, paper mode.",
                       epilog="examples:\n  mia run\n  mia run --data ~/sierra/20251120 --speed 0 --out runs/nov20\n"
                              "  mia run --config config/mia.yaml",
                       formatter_class=__import__("argparse").RawDescriptionHelpFormatter)
    p.add_argument("--config", metavar="FILE", help="config file (default: config/mia.yaml here, else the bundled one)")
    p.add_argument("--rules", metavar="DIR", help="rule folder (overrides the config's rules:)")
    p.add_argument("--data", metavar="PATH", help="replay these day folders (feed kind replay, path PATH)")
    p.add_argument("--speed", type=float, metavar="X", help="replay speed: 1 = market pace, 0 = as fast as possible")
    p.add_argument("--out", metavar="DIR", help="run folder written at the end (default: the config's out:)")
    p.add_argument("--live", action="store_true", help="allow live orders (also needs mode: live in the config)")
    p.add_argument("--quiet", action="store_true", help="no scrolling alerts, only the final summary")
    p.set_defaults(func=cmd_run)

    for name, help_ in _CLIENT.items():
        p = sub.add_parser(name, help=f"{help_} (asks the running supervisor)", description=help_ + ".")
        p.add_argument("--config", metavar="FILE", help="config file naming the control socket")
        p.add_argument("--json", action="store_true", help="print the answer as JSON")
        if name in ("flatten", "resume"):
            p.add_argument("--yes", action="store_true", help="do not ask for a confirmation")
        p.set_defaults(func=cmd_client, command=name)

    p = sub.add_parser("why", help="why (no) trade at a time: asks the running supervisor, or reads a run folder",
                       description="Why (no) trade at TIME? Asks the running supervisor (its journal), or reads "
                                   "decisions.jsonl of a run folder (--run, or the config's out: when no supervisor "
                                   "runs).",
                       epilog="examples: mia why 10:31   |   mia why '2025-11-20 10:31' --run runs/latest   |   mia why")
    p.add_argument("time", nargs="?", help="HH:MM (New York; every day of the run) or YYYY-MM-DD HH:MM "
                                           "(default, with a supervisor: the last bar)")
    p.add_argument("--run", metavar="DIR", help="read this run folder instead of asking the supervisor")
    p.add_argument("--config", metavar="FILE", help="config file naming the control socket and out:")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p.set_defaults(func=cmd_why)


def cmd_run(args) -> int:
    from mia.cli.live_view import LiveView
    from mia.runtime.supervisor import Supervisor

    cfg = _config(args.config)
    feed = cfg.feed
    if args.data:
        if not Path(args.data).exists():
            raise MiaError(f"--data {args.data}: error: no such file or folder")
        feed = replace(feed, kind="replay", path=args.data)
    if args.speed is not None:
        if not (args.speed >= 0 and args.speed < 1e6):
            raise MiaError(f"--speed {args.speed:g}: error: must be a number >= 0 (1 = market pace, 0 = as fast "
                           "as possible)")
        feed = replace(feed, speed=args.speed)
    if args.out is not None and not args.out:
        raise MiaError("--out '': error: needs a folder name, e.g. --out runs/latest")
    cfg = replace(cfg, feed=feed, out=args.out or cfg.out, rules=args.rules or cfg.rules)
    from mia.runtime.runfolder import prepare_out

    prepare_out(Path(cfg.out))          # a run folder that cannot be written is said now, not at the end
    rules = [cfg.rules] if cfg.rules else default_rules_paths()
    sup = Supervisor(cfg, rules, live_flag=args.live, quiet=args.quiet)
    sup.check_mode()
    if cfg.voice.get("enabled"):
        from mia.alerts.settings import alert_templates, alerts_file
        from mia.alerts.templates import load_templates
        from mia.voice.config import load_voice_config
        from mia.voice.frontend import VoiceFrontEnd

        sup.front_ends.append(VoiceFrontEnd(load_voice_config(cfg.path), alerts_path=alerts_file(cfg),
                                            load_spoken=lambda p: load_templates(p).spoken_kinds(),
                                            speak_alerts=alert_templates(cfg).spoken_kinds()))
    from mia.alerts import telegram_front_end

    telegram = telegram_front_end(cfg)
    if telegram is not None:
        sup.front_ends.append(telegram)
    view = LiveView()
    if args.quiet:
        rc = asyncio.run(sup.run())
    else:
        rc = asyncio.run(view.run(sup))
    if sup.wrote is not None:
        _print_end(sup, view.console)
    if sup.failure:
        print(sup.failure, file=sys.stderr)
    return rc


def _print_end(sup, console) -> None:
    from mia.cli.richtext import plain
    from mia.cli.summary import print_summary

    summary = json.loads((sup.wrote / "summary.json").read_text())
    print_summary(summary, console, title="Run summary")
    status = "finished" if sup.state == "ended" else "stopped"
    console.print(plain(f"run {status}: wrote {sup.wrote}/ (trades.csv, decisions.jsonl, summary.json, equity.png); "
                        f"journal {sup.cfg.journal}; ask `mia why HH:MM --run {sup.wrote}` about any bar"),
                  highlight=False)


def _confirm(name: str, args) -> bool:
    if getattr(args, "yes", False):
        return True
    question = {"flatten": "flatten: cancel working entries and close the position at market?",
                "resume": "resume: allow new entries again?"}[name]
    if not sys.stdin.isatty():
        raise MiaError(f"{name}: error: needs a confirmation; add --yes (no terminal to ask on)")
    answer = input(f"{question} [y/N] ").strip().lower()
    return answer in ("y", "yes")


def cmd_client(args) -> int:
    from mia.runtime.commands import NEEDS_CONFIRM, Command
    from mia.runtime.control import NoSupervisor, ask

    cfg = _config(args.config)
    confirmed = False
    if args.command in NEEDS_CONFIRM:
        confirmed = _confirm(args.command, args)
        if not confirmed:
            print(f"{args.command}: not confirmed, nothing done")
            return 1
    try:
        result = ask(cfg.control_socket, Command(args.command, (), "cli", confirmed))
    except NoSupervisor as exc:
        print(str(exc), file=sys.stderr)
        return NO_SUPERVISOR
    _print_result(result, args.json)
    return 0 if result.ok else 1


def _print_result(result, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result.data if result.ok else result.to_json(), indent=2, default=str))
    else:
        print(result.text)


def cmd_why(args) -> int:
    from mia.backtest.why import why
    from mia.runtime.commands import Command
    from mia.runtime.control import NoSupervisor, ask

    if args.run:
        if not args.time:
            raise MiaError("why: error: with --run, say when: HH:MM or YYYY-MM-DD HH:MM")
        print(why(args.run, args.time))
        return 0
    cfg = _config(args.config)
    try:
        result = ask(cfg.control_socket, Command("why", (args.time,) if args.time else (), "cli"))
    except NoSupervisor:
        if not args.time:
            raise MiaError(f"why: error: no supervisor is running; say when (HH:MM) to read the run folder "
                           f"{cfg.out}") from None
        print(why(cfg.out, args.time))
        return 0
    _print_result(result, args.json)
    return 0 if result.ok else 1
