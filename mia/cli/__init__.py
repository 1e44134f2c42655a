"""`mia` command line: one argparse parser, one module per group of subcommands.

Each module in this package has ``register(subparsers)`` that adds its commands and sets
``func`` to a callable taking the parsed args and returning the exit status.
"""
from __future__ import annotations

import argparse
import sys

from mia.errors import MiaError

# Modules that register subcommands, in the order `mia --help` lists them.
_COMMAND_MODULES = ["mia.cli.run_cmds", "mia.cli.rules_cmds", "mia.cli.backtest_cmds", "mia.cli.data_cmds",
                    "mia.cli.sim_cmds", "mia.cli.voice_cmds", "mia.cli.telegram_cmds"]


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(
        prog="mia",
        description="mia: declarative rule engine for intraday futures trading (ES/NQ).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except MiaError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
