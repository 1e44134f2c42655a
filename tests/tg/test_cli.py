"""`mia telegram test` (one line per chat: delivered, or why not) and `mia run` with Telegram on."""
from __future__ import annotations

import yaml
from runtime.helpers import write_config

from mia.cli import main

from .helpers import ME, OTHER, READER, rules_dir, tg_section

SECRET = "ANOTHERtokenANOTHERtoken"


def config(tmp_path, fake, **over):
    return write_config(tmp_path, telegram=tg_section(fake, **over))


def run(capsys, *argv) -> tuple[int, list[str], str]:
    rc = main(list(map(str, argv)))
    out = capsys.readouterr()
    assert "Traceback" not in out.err and "Traceback" not in out.out
    return rc, out.out.splitlines(), out.err


def test_every_chat_gets_the_test_message(tmp_path, fake, capsys):
    rc, lines, _ = run(capsys, "telegram", "test", "--config", config(tmp_path, fake))
    assert rc == 0
    assert lines == [f"chat {ME} (control): delivered as @mia_test_bot", f"chat {OTHER} (control): delivered as "
                     "@mia_test_bot", f"chat {READER} (read): delivered as @mia_test_bot"]
    assert "This chat is read" in fake.sent_to(READER)[0]["shown"]


def test_a_chat_not_found_is_said_for_that_chat(tmp_path, fake, capsys):
    rc, lines, _ = run(capsys, "telegram", "test", "--config", config(tmp_path, fake, chat_ids=[ME, 444]))
    assert rc == 1
    assert lines[0] == f"chat {ME} (control): delivered as @mia_test_bot"
    assert lines[1] == ("chat 444 (control): NOT delivered: chat not found: check the id, and send the bot a "
                        "message from that chat first")


def test_a_bad_token_and_an_unreachable_server(tmp_path, fake, capsys, monkeypatch):
    monkeypatch.setenv("MIA_TEST_TG_TOKEN", f"42:{SECRET}")
    rc, lines, err = run(capsys, "telegram", "test", "--config", config(tmp_path, fake, chat_ids=[ME, OTHER]))
    assert rc == 1 and len(lines) == 2
    assert all(line.endswith("NOT delivered: bad token: the Bot API server rejected it (401); check "
                             "telegram.token_env / token") for line in lines)
    assert SECRET not in "\n".join(lines) + err
    monkeypatch.undo()
    monkeypatch.setenv("MIA_TEST_TG_TOKEN", fake.token)
    fake.down()
    rc, lines, err = run(capsys, "telegram", "test", "--config", config(tmp_path, fake, chat_ids=[ME]))
    assert rc == 1
    assert lines[0].startswith(f"chat {ME} (control): NOT delivered: unreachable: {fake.base_url} (")


def test_not_configured_or_a_missing_token_variable(tmp_path, capsys, monkeypatch):
    rc, _, err = run(capsys, "telegram", "test", "--config", write_config(tmp_path))
    assert rc == 1 and "error: Telegram is not configured" in err
    monkeypatch.delenv("MIA_TEST_TG_TOKEN")
    cfg = write_config(tmp_path, telegram={"token_env": "MIA_TEST_TG_TOKEN", "chat_ids": [1]})
    rc, _, err = run(capsys, "telegram", "test", "--config", cfg)
    assert rc == 1 and "error: telegram.token_env: the environment variable MIA_TEST_TG_TOKEN is not set" in err
    assert err.startswith(f"{cfg}:")


def test_mia_run_with_telegram_notifies_the_chats(tmp_path, fake, day, capsys):
    cfg = config(tmp_path, fake, chat_ids=[ME])
    data = yaml.safe_load(cfg.read_text())
    data["rules"] = str(rules_dir(tmp_path))
    cfg.write_text(yaml.safe_dump(data))
    rc, _, err = run(capsys, "run", "--config", cfg, "--data", day, "--speed", "0", "--quiet")
    assert rc == 0 and fake.token.split(":")[1] not in err
    texts = [m["shown"] for m in fake.sent_to(ME)]
    assert any(t.startswith("✅ FILLED buy 1") for t in texts)
    assert texts[-1].startswith("📊 DAY 2025-11-17: ")             # the run's last alert, delivered before exit
