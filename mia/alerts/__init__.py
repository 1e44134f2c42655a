"""Telegram: alerts out to a phone and commands in from it, a front end of the supervisor.

``templates`` (alerts/alerts.yaml: levels and message templates), ``html`` (Telegram's HTML:
escape, check, split), ``settings`` (the `telegram:` section of config/mia.yaml), ``outbox``
(alerts rendered into the journal's outbox and delivered in order, whatever Telegram does),
``bot`` (the front end: polling, commands through the supervisor's command bus, confirmation
buttons, chat ids and roles), ``replies`` (results rendered for a phone), ``scrub`` (the token
kept out of every log line and message), ``probe`` (`mia telegram test`).
"""
from __future__ import annotations

from mia.errors import MiaError

INSTALL = "pip install 'mia[telegram]' (python-telegram-bot 22)"


def telegram_front_end(cfg):
    """The Telegram front end ``cfg`` asks for (its settings and alerts/alerts.yaml checked: a
    positioned error otherwise), or None when Telegram is not configured."""
    from mia.alerts.settings import telegram_settings, templates_of

    settings = telegram_settings(cfg)
    if settings is None:
        return None
    templates = templates_of(settings)
    try:
        from mia.alerts.bot import TelegramFrontEnd
    except ImportError as exc:
        raise MiaError(f"{cfg.path}: error: the telegram: section needs python-telegram-bot ({exc.name} is "
                       f"missing): {INSTALL}") from None
    return TelegramFrontEnd(settings, templates)
