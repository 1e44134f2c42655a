"""`mia telegram test`: check the Telegram settings by sending each configured chat a message."""
from __future__ import annotations

import asyncio
import argparse


def register(sub) -> None:
    p = sub.add_parser("telegram", help="Telegram: `mia telegram test` sends each configured chat a test message",
                       description="The Telegram front end of `mia run` (the telegram: section of config/mia.yaml).")
    tsub = p.add_subparsers(dest="telegram_command", metavar="SUBCOMMAND")
    t = tsub.add_parser("test", help="send a test message to each configured chat and say what happened",
                        description="Send a test message to each chat of telegram.chat_ids and report, one line per "
                                    "chat, whether it was delivered or why not (bad token, chat not found, "
                                    "unreachable). Exit status 0 when every chat got it, 1 otherwise.",
                        epilog="examples:\n  export MIA_TELEGRAM_TOKEN=123456:ABC...   # from @BotFather\n"
                               "  mia telegram test\n  mia telegram test --config config/mia.yaml",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    t.add_argument("--config", metavar="FILE", help="config file (default: config/mia.yaml here, else the bundled one)")
    t.set_defaults(func=cmd_test)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def cmd_test(args) -> int:
    from mia.alerts import INSTALL
    from mia.alerts.settings import telegram_settings, templates_of
    from mia.cli.run_cmds import _config
    from mia.errors import MiaError

    cfg = _config(args.config)
    settings = telegram_settings(cfg, need=True)
    templates_of(settings)                     # alerts/alerts.yaml checked too: mia run would refuse it
    try:
        from mia.alerts.probe import probe
    except ImportError as exc:
        raise MiaError(f"telegram: error: python-telegram-bot is not installed ({exc.name}): {INSTALL}") from None
    outcomes = asyncio.run(probe(settings))
    for o in outcomes:
        print(o.line())
    return 0 if outcomes and all(o.ok for o in outcomes) else 1
