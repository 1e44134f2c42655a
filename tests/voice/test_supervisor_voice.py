"""Voice against a paper supervisor holding a position, end to end: real recognition of espeak-ng
WAVs, the spoken confirmation, the command bus, the journal's audit, spoken alerts; and
`mia voice --wav` from another process through the control socket."""
from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from mia.runtime.journal import Journal
from mia.voice.audio import read_wav
from mia.voice.config import VoiceConfig
from mia.voice.frontend import VoiceFrontEnd, spoken

from runtime.helpers import DrivenSupervisor, feed_until, run_cli, sim_days, until, write_config

WAV = Path(__file__).resolve().parents[1] / "fixtures" / "voice" / "en" / "cmd"
FLATTEN, CONFIRM, STATUS = (WAV / "flatten__en_gb_x_rp_165.wav", WAV / "confirm__en_gb_x_rp_165.wav",
                            WAV / "status__en_us_150.wav")
RULES = """\
version: 1
instrument: ES
signals:
  - {name: go_long, when: close > 0, side: long}
risk:
  daily_loss: 5000 USD
exits:
  stop: 400 ticks
  take_profit: 2 R
"""


class Said:
    """A speaker that keeps what it was asked to say."""

    def __init__(self):
        self.lines: list[str] = []

    def say(self, text):
        self.lines.append(text)

    def close(self, timeout=None):
        pass


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    return sim_days(tmp_path_factory.mktemp("voice-data"), days=1, minutes=30) / "20251117"


def supervisor(tmp_path, day):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yaml").write_text(RULES)
    sup = DrivenSupervisor(write_config(tmp_path), [str(rules)], [day])
    said, clock = Said(), Clock()
    fe = VoiceFrontEnd(VoiceConfig(enabled=True, speak=False, confirm_timeout_s=5.0), listen=False,
                       speaker=said, clock=clock)
    sup.front_ends.append(fe)
    return sup, fe, said, clock


async def running(sup):
    task = asyncio.create_task(sup.run())
    await until(lambda: sup.state == "running" and sup.front_ends[0].session is not None)
    await feed_until(sup, lambda: sup.session.broker.position == 1)
    return task


def hear(fe, wav):
    return asyncio.to_thread(fe.hear_pcm, read_wav(str(wav)))


def test_spoken_flatten_then_confirm_flattens_and_is_audited(tmp_path, day):
    async def go():
        sup, fe, said, _ = supervisor(tmp_path, day)
        task = await running(sup)
        assert (await hear(fe, STATUS)).startswith("Long 1 at ")
        assert await hear(fe, FLATTEN) == "Flatten? Say confirm."
        assert sup.session.broker.position == 1                 # nothing sent before the confirm
        reply = await hear(fe, CONFIRM)
        assert sup.session.broker.position == 0 and sup.session.gate.state == "REDUCE_ONLY"
        assert reply.startswith("Flattened +1 at market") and "Exits only" in reply
        await until(lambda: any(line.startswith("Flattened long 1") for line in said.lines))  # the alert, aloud
        sup.driven.finish()
        assert await task == 0
        j = Journal.open(tmp_path / "j" / "journal.sqlite")
        try:
            cmds = j.db.execute("SELECT origin, name, ok FROM commands ORDER BY id").fetchall()
            heard = [orjson.loads(b)["fields"] for (b,) in j.db.execute("SELECT body FROM alerts WHERE kind='voice'")]
        finally:
            j.close()
        assert ("voice", "flatten", 1) in cmds and ("voice", "status", 1) in cmds
        sent = [h for h in heard if h.get("event") == "sent" and h.get("sent") == "flatten"]
        assert sent and sent[0]["text"] == "flatten" and sent[0]["confirmed_by"]["text"] == "confirm"
        assert all("confidence" in h for h in heard if h.get("event") == "heard")

    asyncio.run(go())


def test_spoken_flatten_then_silence_sends_nothing(tmp_path, day):
    async def go():
        sup, fe, said, clock = supervisor(tmp_path, day)
        task = await running(sup)
        assert await hear(fe, FLATTEN) == "Flatten? Say confirm."
        clock.now += 6.0                                         # silence past confirm_timeout_s
        assert fe.tick() == "No confirm: flatten not sent."
        assert await hear(fe, CONFIRM) == "Nothing to confirm."
        assert sup.session.broker.position == 1 and sup.session.gate.state == "ACTIVE"
        sup.driven.finish()
        assert await task == 0

    asyncio.run(go())


def test_mia_voice_talks_to_the_running_supervisor(tmp_path, day):
    async def go():
        sup, fe, said, _ = supervisor(tmp_path, day)
        task = await running(sup)
        cfg = tmp_path / "mia.yaml"
        r = await asyncio.to_thread(run_cli, "voice", "--wav", FLATTEN, CONFIRM, "--config", cfg, "--no-speak",
                                    cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert "Flatten? Say confirm." in r.stdout and sup.session.broker.position == 0
        sup.driven.finish()
        assert await task == 0

    asyncio.run(go())


def test_without_a_supervisor_mia_voice_says_so(tmp_path):
    cfg = write_config(tmp_path)
    r = run_cli("voice", "--wav", STATUS, "--config", cfg, "--no-speak", cwd=tmp_path)
    assert r.returncode == 1 and "needs a running supervisor" in r.stderr and "Traceback" not in r.stderr


def test_alert_text_is_said_in_words():
    assert spoken("STOP HIT: long 1 (bn_long) out at 5158.00, net -120.00 USD") == \
        "Stop hit: long 1 (bn_long) out at 5158.00, net -120.00 dollars"
    assert spoken("FILLED buy 1 at 5158.75 (20251117-0001)") == "Filled buy 1 at 5158.75 (20251117-0001)"
    assert spoken("RISK ACTIVE -> REDUCE_ONLY: paused") == "Risk active to reduce only: paused"


def test_the_kinds_marked_speak_in_alerts_yaml_are_spoken(tmp_path):
    from mia.alerts.templates import load_templates

    f = tmp_path / "alerts.yaml"
    f.write_text("version: 1\nalerts:\n  fill: {level: on, speak: false}\n  error: {level: on, speak: true}\n")
    kinds = load_templates(f).spoken_kinds()
    assert "fill" not in kinds and "error" in kinds and {"stop", "target", "gate"} <= kinds
    f.write_text("version: 1\nalerts:\n  fill: {level: on, speak: maybe}\n")
    with pytest.raises(Exception) as exc:
        load_templates(f)
    assert f"{f}:3:" in str(exc.value) and "speak" in str(exc.value)


def test_the_spoken_kinds_follow_an_edit_of_the_alerts_file(tmp_path, day):
    """`speak: true` added to a kind in alerts.yaml while running: that kind is spoken from the
    next alert on; a broken edit keeps the kinds that were spoken."""
    from mia.alerts.templates import load_templates
    from mia.runtime.alerts import Alert

    alerts = tmp_path / "alerts.yaml"
    shipped = (Path(__file__).resolve().parents[2] / "alerts" / "alerts.yaml").read_text()
    alerts.write_text(shipped)
    sup, fe, said, _ = supervisor(tmp_path, day)
    fe.alerts_path, fe.load_spoken = alerts, lambda p: load_templates(p).spoken_kinds()
    fe.speak_alerts = fe.load_spoken(alerts)
    assert "command" not in fe.speak_alerts

    async def go():
        task = await running(sup)
        note = Alert("command", sup.session.now, "PAUSE by telegram:1: paused", {"origin": "telegram:1"})
        sup.alerts.publish(note)
        assert spoken(note.text) not in said.lines
        alerts.write_text(shipped.replace("  command:\n    level: silent\n",
                                          "  command:\n    level: silent\n    speak: true\n"))
        await until(lambda: "command" in fe.speak_alerts)
        sup.alerts.publish(note)
        assert spoken(note.text) in said.lines
        alerts.write_text("kinds: [\n")
        await until(lambda: any(a.kind == "error" and "ALERTS.YAML NOT RELOADED" in a.text for a in sup.seen))
        assert "command" in fe.speak_alerts
        sup.driven.finish()
        assert await task == 0

    asyncio.run(go())
