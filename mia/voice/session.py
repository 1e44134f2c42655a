"""The voice conversation: what a heard utterance does, with spoken confirmation for risky commands.

`VoiceSession.hear(heard)` takes one decided utterance (`recognizer.Heard`) and returns the
sentence to answer. Rules:

- not a command (noise, other speech, low confidence): "Say again." -- never an action;
- a command in ``NEEDS_CONFIRM`` (flatten, resume) is held, and answered "Flatten? Say confirm.";
  a spoken "confirm" within ``confirm_timeout_s`` sends it; "cancel", another command, or silence
  until the deadline (`tick`) drops it (the same command again restarts the wait);
- any other command is sent at once.

Sending is one injectable callable, ``dispatch(command, args, origin, heard) -> result`` (the
supervisor's command bus; its result is rendered by `replies.render_reply`), so the machine is
tested with a fake clock and a recording dispatch. Every utterance and every outcome goes to
``audit(record)`` with the recognized text and confidence.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from mia.voice.commands import NEEDS_CONFIRM
from mia.voice.recognizer import Heard
from mia.voice.replies import render_reply

Dispatch = Callable[[str, list, str, dict], object]
ORIGIN = "voice"


@dataclass(frozen=True)
class Pending:
    command: str
    heard: Heard
    deadline: float


class VoiceSession:
    def __init__(self, dispatch: Dispatch, *, confirm_timeout_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic,
                 audit: Callable[[dict], None] = lambda record: None):
        self.dispatch = dispatch
        self.confirm_timeout_s = confirm_timeout_s
        self.clock = clock
        self.audit = audit
        self.pending: Pending | None = None

    def _audit(self, event: str, heard: Heard | None, **extra) -> None:
        record = {"t": self.clock(), "event": event}
        if heard is not None:
            record.update(heard.as_dict())
        record.update(extra)
        self.audit(record)

    def tick(self) -> str | None:
        """Drop a held command whose confirmation did not come in time; its reply, or None."""
        p = self.pending
        if p is not None and self.clock() > p.deadline:
            self.pending = None
            self._audit("expired", p.heard, held=p.command)
            return f"No confirm: {p.command} not sent."
        return None

    def hear(self, heard: Heard) -> str:
        """Act on one utterance; the sentence to answer."""
        expired = self.tick()
        self._audit("heard", heard)
        command = heard.command
        if command is None:
            return _join(expired, "Say again.")
        if command == "confirm":
            p = self.pending
            if p is None:
                return _join(expired, "Nothing to confirm.")
            self.pending = None
            return self._send(p.command, p.heard, confirm=heard)
        if command == "cancel":
            p = self.pending
            if p is None:
                return _join(expired, "Nothing to cancel.")
            self.pending = None
            self._audit("cancelled", p.heard, held=p.command)
            return f"Cancelled: {p.command} not sent."
        if self.pending is not None and self.pending.command == command:  # said again: wait anew
            self.pending = Pending(command, heard, self.clock() + self.confirm_timeout_s)
            self._audit("awaiting confirm", heard, timeout_s=self.confirm_timeout_s)
            return _join(expired, f"{command.capitalize()}? Say confirm.")
        dropped = None
        if self.pending is not None:  # anything but confirm drops what waited for it
            p, self.pending = self.pending, None
            self._audit("dropped", p.heard, held=p.command, by=command)
            dropped = f"{p.command.capitalize()} dropped."
        if command in NEEDS_CONFIRM:
            self.pending = Pending(command, heard, self.clock() + self.confirm_timeout_s)
            self._audit("awaiting confirm", heard, timeout_s=self.confirm_timeout_s)
            return _join(expired, dropped, f"{command.capitalize()}? Say confirm.")
        return _join(expired, dropped, self._send(command, heard))

    def _send(self, command: str, heard: Heard, confirm: Heard | None = None) -> str:
        info = {"text": heard.text, "confidence": round(heard.confidence, 3)}
        if confirm is not None:
            info["confirm"] = {"text": confirm.text, "confidence": round(confirm.confidence, 3)}
        try:
            result = self.dispatch(command, [], ORIGIN, info)
        except Exception as exc:  # the bus's failure is reported aloud and audited, never raised here
            self._audit("failed", heard, sent=command, error=str(exc), confirmed_by=info.get("confirm"))
            return f"{command.capitalize()} failed: {exc}."
        self._audit("sent", heard, sent=command, confirmed_by=info.get("confirm"),
                    result=result if isinstance(result, (dict, str, int, float, bool, type(None))) else repr(result))
        return render_reply(command, result)


def _join(*parts: str | None) -> str:
    return " ".join(p for p in parts if p)
