"""The bot token stays secret: every log record and every error text is cleaned of it.

python-telegram-bot puts the token in its request URLs and in some errors ("The token `...`
was rejected"), and httpx logs the URLs it requests. ``protect(token)`` adds the token to the
secrets that a log-record factory replaces by ``<token>`` in every record's message and
traceback, whoever logs it; ``scrub(text)`` cleans any text mia prints or journals.
``forget(token)`` when the front end stops.
"""
from __future__ import annotations

import logging
import threading
import traceback

_secrets: dict[str, int] = {}
_lock = threading.Lock()
_base_factory = None
MASK = "<token>"


def _parts(token: str) -> list[str]:
    out = [token]
    _, _, secret = token.partition(":")
    if len(secret) >= 8:
        out.append(secret)
    return out


def scrub(text: str) -> str:
    for s in sorted(_secrets, key=len, reverse=True):
        if s in text:
            text = text.replace(s, MASK)
    return text


def _leaks(text: str) -> bool:
    return any(s in text for s in _secrets)


def _factory(*args, **kwargs):
    rec = _base_factory(*args, **kwargs)
    if not _secrets:
        return rec
    try:
        msg = rec.getMessage()
    except Exception:                          # a record that cannot format: leave it to logging
        return rec
    if _leaks(msg):
        rec.msg, rec.args = scrub(msg), None
    if rec.exc_info and rec.exc_info[1] is not None:
        text = "".join(traceback.format_exception(*rec.exc_info)).rstrip("\n")
        if _leaks(text):
            rec.exc_info, rec.exc_text = None, scrub(text)
    return rec


def protect(token: str) -> None:
    global _base_factory
    with _lock:
        for s in _parts(token):
            _secrets[s] = _secrets.get(s, 0) + 1
        if _base_factory is None:
            _base_factory = logging.getLogRecordFactory()
            logging.setLogRecordFactory(_factory)


def forget(token: str) -> None:
    with _lock:
        for s in _parts(token):
            n = _secrets.get(s, 0) - 1
            if n <= 0:
                _secrets.pop(s, None)
            else:
                _secrets[s] = n
