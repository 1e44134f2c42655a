"""The `telegram:` (and `alerts:`) sections of config/mia.yaml, checked with their positions.

``telegram_settings(cfg)`` is None when Telegram is not wanted (no section, ``enabled: false``,
or neither ``token`` nor ``token_env``), else ``TelegramSettings``; every mistake is a
``path:line:col: error: ...`` naming the key (the token itself is never shown: not in an
error, not in a repr). ``token_env`` names an environment variable holding the token, which
keeps it out of the file. ``base_url`` is a Bot API server: Telegram's by default, a
self-hosted one, or the tests' loopback fake.
"""
from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import jsonschema

from mia.alerts.templates import Templates, default_templates_path, load_templates
from mia.dsl.errors import Reporter
from mia.dsl.schema import validate_document
from mia.runtime.config import Config

DEFAULT_BASE_URL = "https://api.telegram.org"
ROLES = ("read", "control")
_TOKEN = re.compile(r"[0-9]+:[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class TelegramSettings:
    token: str = field(repr=False)
    chat_ids: tuple[int, ...] = ()
    roles: dict = field(default_factory=dict)      # chat id -> "read" | "control"
    base_url: str = DEFAULT_BASE_URL
    confirm_timeout_s: float = 30.0
    alert_unauthorized: bool = True
    poll_timeout_s: float = 25.0                   # long polling: how long getUpdates waits
    retry_min_s: float = 1.0                       # the first wait after a failed delivery, doubled each time
    retry_max_s: float = 60.0                      # ... up to this
    drain_s: float = 5.0                           # at stop: how long the outbox may still deliver
    templates_path: str | None = None              # alerts/alerts.yaml (None: the built-in plain texts)

    def role(self, chat_id: int) -> str | None:
        """"control", "read", or None for a chat that is not obeyed."""
        if chat_id not in self.chat_ids:
            return None
        return self.roles.get(chat_id, "control")

    @property
    def api_url(self) -> str:
        """python-telegram-bot's base_url: the server's address with /bot (the token follows)."""
        url = self.base_url.rstrip("/")
        if "{token}" in url or url.endswith("/bot"):
            return url
        return url + "/bot"


@functools.lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(resources.files("mia.alerts").joinpath("telegram.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)


def telegram_settings(cfg: Config, env: dict | None = None, need: bool = False) -> TelegramSettings | None:
    """The checked settings, or None when Telegram is off (``need``: an error instead, for
    `mia telegram test`)."""
    env = os.environ if env is None else env
    tg = cfg.telegram or {}
    doc = cfg.doc
    where = cfg.path or "the config"
    # the source lines quoted under an error never show a token written in the file
    text = doc.text if doc is not None else ""
    if isinstance(tg.get("token"), str) and tg["token"].strip():
        text = text.replace(tg["token"].strip(), "<token>")
    rep = Reporter({doc.path: text} if doc is not None else {})
    if doc is not None:
        validate_document(doc, rep, _validator())
        rep.raise_if_any()
    wanted = tg.get("enabled", "token" in tg or "token_env" in tg)
    if not wanted:
        if need:
            from mia.errors import MiaError

            raise MiaError(f"{where}: error: Telegram is not configured: add a telegram: section with token_env "
                           "(or token) and chat_ids (the README's Telegram section tells how)")
        return None

    def at(*path):
        return doc.key_pos(("telegram", *path)) if doc is not None else None

    def vat(*path):
        return doc.value_pos(("telegram", *path)) if doc is not None else None

    def error(pos, msg):
        if pos is None:
            from mia.errors import MiaError

            raise MiaError(f"{where}: error: {msg}")
        rep.error(pos, msg)

    token = None
    if "token" in tg and "token_env" in tg:
        error(at("token"), "telegram: give token or token_env, not both")
    elif "token_env" in tg:
        name = tg["token_env"]
        token = env.get(name)
        if not token:
            error(vat("token_env"), f"telegram.token_env: the environment variable {name} is not set (export "
                                    f"{name}=<the token @BotFather gave>)")
            token = None
    elif "token" in tg:
        token = tg["token"]
    else:
        error(at("enabled"), "telegram.enabled: Telegram needs token_env (the environment variable holding the "
                             "bot's token) or token")
    if token is not None and not _TOKEN.fullmatch(token.strip()):
        src = (f"the environment variable {tg['token_env']}" if "token_env" in tg else "telegram.token")
        error(vat("token_env") if "token_env" in tg else vat("token"),
              f"{src} does not hold a bot token (digits, ':', then letters, digits, _ and -: the token "
              "@BotFather gave)")
    chat_ids = tuple(tg.get("chat_ids", ()))
    if not chat_ids:
        error(at("enabled") if "enabled" in tg else at(), "telegram: chat_ids is missing: the chats to notify and "
                                                          "obey (send the bot a message, then see the README)")
    roles: dict[int, str] = {}
    for key, role in (tg.get("roles") or {}).items():
        try:
            chat = int(key)
        except ValueError:
            error(at("roles", key), f"telegram.roles: '{key}' is not a chat id (a whole number)")
            continue
        if chat not in chat_ids:
            error(at("roles", key), f"telegram.roles: chat {chat} is not in telegram.chat_ids")
            continue
        roles[chat] = role
    base_url = tg.get("base_url", DEFAULT_BASE_URL)
    if not re.match(r"https?://[^/\s]+", base_url):
        error(vat("base_url"), f"telegram.base_url must be an http:// or https:// address, got {base_url!r}")
    lo, hi = float(tg.get("retry_min_s", 1.0)), float(tg.get("retry_max_s", 60.0))
    if hi < lo:
        error(vat("retry_max_s"), f"telegram.retry_max_s ({hi:g}) is less than retry_min_s ({lo:g})")
    afile = (cfg.alerts or {}).get("file")
    if afile is not None and not Path(afile).is_file() and doc is not None:
        rep.error(doc.value_pos(("alerts", "file")), f"alerts.file: no such file {afile!r}")
    rep.raise_if_any()
    return TelegramSettings(
        token=token.strip(), chat_ids=chat_ids, roles=roles, base_url=base_url,
        confirm_timeout_s=float(tg.get("confirm_timeout_s", 30.0)),
        alert_unauthorized=bool(tg.get("alert_unauthorized", True)),
        poll_timeout_s=float(tg.get("poll_timeout_s", 25.0)), retry_min_s=lo, retry_max_s=hi,
        drain_s=float(tg.get("drain_s", 5.0)),
        templates_path=str(afile) if afile else str(default_templates_path()))


def templates_of(settings: TelegramSettings) -> Templates:
    """The alert templates the settings name, checked (a ``RuleError`` otherwise)."""
    if settings.templates_path is None or not Path(settings.templates_path).is_file():
        from mia.alerts.templates import builtin_templates

        return builtin_templates()
    return load_templates(settings.templates_path)


def alert_templates(cfg: Config) -> Templates:
    """The alert templates of ``cfg`` (`alerts: {file}`, else alerts/alerts.yaml here, else the
    bundled one), checked: for the front ends that do not need the telegram: section (voice)."""
    path = alerts_file(cfg)
    if path is None:
        from mia.alerts.templates import builtin_templates

        return builtin_templates()
    return load_templates(path)


def alerts_file(cfg: Config) -> Path | None:
    """The alerts file ``cfg`` reads (`alerts: {file}`, else alerts/alerts.yaml here, else the
    bundled one), None when there is none (the built-in plain texts)."""
    afile = (cfg.alerts or {}).get("file")
    path = Path(afile) if afile else default_templates_path()
    return path if path.is_file() else None
