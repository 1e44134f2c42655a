"""Commands in, results out: the one vocabulary of the command bus.

A ``Command`` names what an operator asked (``status``, ``positions``, ``pnl``, ``why``,
``pause``, ``resume``, ``flatten``, ``reload``, ``rules``), with its arguments and where it came
from (``cli``, ``telegram:<chat id>``, ``voice``, ...). Every front end builds the same
``Command`` and gets the same ``Result`` back: ``data`` for a front end to render as it likes
(a table, a message, a sentence) and ``text``, one plain line that says it all.
``flatten`` and ``resume`` are dangerous (``NEEDS_CONFIRM``): a front end asks for a confirmation
(a prompt or ``--yes``, an inline button, a spoken "confirm") and sends them with ``confirmed``
set; the supervisor refuses them otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass, field

NAMES = ("status", "positions", "pnl", "why", "pause", "resume", "flatten", "reload", "rules")
NEEDS_CONFIRM = frozenset({"flatten", "resume"})


@dataclass(frozen=True)
class Command:
    name: str
    args: tuple[str, ...] = ()
    origin: str = "cli"
    confirmed: bool = False


@dataclass
class Result:
    command: str
    ok: bool
    data: dict = field(default_factory=dict)
    text: str = ""

    def to_json(self) -> dict:
        return {"command": self.command, "ok": self.ok, "text": self.text, "data": self.data}
