"""`mia` command line: one argparse parser, one module per group of subcommands.

Each module in this package has ``register(subparsers)`` that adds its commands and sets
``func`` to a callable taking the parsed args and returning the exit status. ``main`` turns what
a command raises into one line: a ``MiaError`` as it is, a file it could not write (a full disk,
stdout on /dev/full) as ``error: ...``; a closed pipe (``mia schema | head``) is no error.
"""
from __future__ import annotations

import argparse
import errno
import os
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


def _silence_stdout() -> None:
    """Send what is still buffered for stdout to /dev/null: the interpreter's last flush would
    fail again, with a traceback of its own ("Exception ignored ...")."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _say(text: str) -> None:
    try:
        print(text, file=sys.stderr)
    except (OSError, ValueError):
        pass


class _Stdout:
    """``sys.stdout`` while a command runs, noting a write or flush that failed (so that a full
    disk behind stdout is told apart from any other OSError)."""

    def __init__(self, stream):
        self.stream = stream
        self.failed = False

    def write(self, text):
        try:
            return self.stream.write(text)
        except OSError:
            self.failed = True
            raise

    def flush(self):
        try:
            return self.stream.flush()
        except OSError:
            self.failed = True
            raise

    def __getattr__(self, name):
        return getattr(self.stream, name)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    out = sys.stdout = _Stdout(sys.stdout) if sys.stdout is not None else _Stdout(open(os.devnull, "w"))
    try:
        rc = int(args.func(args) or 0)
        out.flush()                     # a full disk is said here, not at the interpreter's exit
        return rc
    except MiaError as exc:
        _say(str(exc))
        return 1
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        if exc.errno == errno.EPIPE:    # the reader went away (mia schema | head): not an error
            _silence_stdout()
            return 0
        if out.failed:
            _say(f"error: cannot write to standard output: {exc.strerror or exc}")
            _silence_stdout()
        elif exc.filename:
            _say(f"{exc.filename}: error: {exc.strerror or exc}")
        else:
            _say(f"error: {exc.strerror or exc}")
        return 1
    finally:
        if sys.stdout is out:
            sys.stdout = out.stream


if __name__ == "__main__":
    sys.exit(main())
