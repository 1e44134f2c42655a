"""The telegram: section of config/mia.yaml: defaults, roles, and positioned errors that never show
the token."""
from __future__ import annotations

import textwrap

import pytest

from mia.alerts.settings import telegram_settings
from mia.dsl.errors import RuleError
from mia.errors import MiaError
from mia.runtime.config import Config, load_config

SECRET = "987654:SECRETsecretSECRETsecret"


def cfg(tmp_path, text: str):
    p = tmp_path / "mia.yaml"
    p.write_text(textwrap.dedent(text))
    return load_config(p)


def errors(c, env=None) -> str:
    with pytest.raises(MiaError) as info:
        telegram_settings(c, env=env or {})
    assert SECRET not in str(info.value) and SECRET.split(":")[1] not in str(info.value)
    return str(info.value)


def test_no_section_or_disabled_means_no_telegram(tmp_path):
    assert telegram_settings(Config()) is None
    assert telegram_settings(cfg(tmp_path, "mode: paper\n")) is None
    assert telegram_settings(cfg(tmp_path, f"telegram: {{enabled: false, token: '{SECRET}', chat_ids: [1]}}\n")) \
        is None


def test_token_env_chat_ids_roles_and_defaults(tmp_path):
    c = cfg(tmp_path, """\
        telegram:
          token_env: MY_BOT
          chat_ids: [111, -100222]
          roles: {"-100222": read}
        """)
    s = telegram_settings(c, env={"MY_BOT": SECRET})
    assert s.token == SECRET and SECRET not in repr(s)
    assert s.role(111) == "control" and s.role(-100222) == "read" and s.role(5) is None
    assert s.api_url == "https://api.telegram.org/bot" and s.confirm_timeout_s == 30 and s.alert_unauthorized
    s2 = telegram_settings(cfg(tmp_path, f"telegram: {{token: '{SECRET}', chat_ids: [1], "
                                         "base_url: 'http://127.0.0.1:8081/'}\n"))
    assert s2.api_url == "http://127.0.0.1:8081/bot"


def test_mistakes_are_positioned_and_never_show_the_token(tmp_path):
    c = cfg(tmp_path, """\
        telegram:
          token_env: MY_BOT
          chat_ids: [111]
          roles: {"222": control, "abc": read}
          base_url: ftp://x
          retry_min_s: 5
          retry_max_s: 1
        """)
    text = errors(c)
    assert f"{c.path}:2:14: error: telegram.token_env: the environment variable MY_BOT is not set" in text
    assert f"{c.path}:4:11: error: telegram.roles: chat 222 is not in telegram.chat_ids" in text
    assert "telegram.roles: 'abc' is not a chat id" in text
    assert f"{c.path}:5:13: error: telegram.base_url must be an http:// or https:// address" in text
    assert "telegram.retry_max_s (1) is less than retry_min_s (5)" in text
    # a value that is not a token: said without echoing it
    bad = cfg(tmp_path, "telegram:\n  token_env: MY_BOT\n  chat_ids: [1]\n")
    assert "the environment variable MY_BOT does not hold a bot token" in errors(bad, {"MY_BOT": "SECRETsecret"})
    both = cfg(tmp_path, f"telegram:\n  token: '{SECRET}'\n  token_env: MY_BOT\n  chat_ids: [1]\n")
    assert ":2:3: error: telegram: give token or token_env, not both" in errors(both, {"MY_BOT": SECRET})


def test_schema_errors_of_the_section(tmp_path):
    c = cfg(tmp_path, """\
        telegram:
          token: x
          chat_id: [1]
          roles: {"1": admin}
          confirm_timeout_s: -3
        """)
    with pytest.raises(RuleError) as info:
        telegram_settings(c)
    text = str(info.value)
    assert ":3:3: error: unknown key 'chat_id' in telegram (did you mean 'chat_ids'?)" in text
    assert "telegram.roles.1 must be one of read, control, got 'admin'" in text
    assert "telegram.confirm_timeout_s must be more than 0" in text


def test_enabled_without_a_token_or_chats(tmp_path):
    assert "Telegram needs token_env" in errors(cfg(tmp_path, "telegram: {enabled: true, chat_ids: [1]}\n"))
    assert "chat_ids is missing" in errors(cfg(tmp_path, f"telegram: {{token: '{SECRET}'}}\n"))
