"""The confirmation state machine, with a fake clock and a recording dispatch; and the same flow
end to end from WAVs ("flatten" then "confirm"; "flatten" then silence)."""
from __future__ import annotations

from voice_fixtures import FIXTURES, manifest

from mia.voice.audio import read_wav
from mia.voice.recognizer import Heard, decide
from mia.voice.session import VoiceSession


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    def __init__(self, result=None, error=None):
        self.calls = []
        self.result = result
        self.error = error

    def __call__(self, command, args, origin, heard):
        self.calls.append((command, args, origin, heard))
        if self.error:
            raise self.error
        return self.result


def h(command, text=None, confidence=0.9):
    return Heard(text or command or "mumble", confidence, command, None if command else "low confidence")


def make(result=None, error=None, timeout=5.0):
    clock, bus, records = Clock(), Recorder(result, error), []
    return VoiceSession(bus, confirm_timeout_s=timeout, clock=clock, audit=records.append), clock, bus, records


def test_a_safe_command_is_sent_at_once():
    s, clock, bus, records = make({"position": 0, "pnl": 250, "state": "active"})
    reply = s.hear(h("status", confidence=0.93))
    assert bus.calls == [("status", [], "voice", {"text": "status", "confidence": 0.93})]
    assert reply == "Flat. Daily P and L plus 250 dollars. Trading active."
    assert [r["event"] for r in records] == ["heard", "sent"]
    assert records[1]["text"] == "status" and records[1]["confidence"] == 0.93 and records[1]["sent"] == "status"


def test_flatten_waits_for_confirm_in_time():
    s, clock, bus, records = make("Flat.")
    assert s.hear(h("flatten", "flatten everything", 0.97)) == "Flatten? Say confirm."
    assert bus.calls == []
    clock.now += 4.9
    assert s.hear(h("confirm", confidence=0.88)) == "Flat."
    assert bus.calls == [("flatten", [], "voice", {"text": "flatten everything", "confidence": 0.97,
                                                   "confirm": {"text": "confirm", "confidence": 0.88}})]
    sent = [r for r in records if r["event"] == "sent"]
    assert len(sent) == 1 and sent[0]["confirmed_by"] == {"text": "confirm", "confidence": 0.88}
    assert s.pending is None


def test_silence_until_the_deadline_aborts():
    s, clock, bus, records = make()
    s.hear(h("resume", "resume trading"))
    clock.now += 5.0
    assert s.tick() is None  # the deadline itself is still in time
    clock.now += 0.01
    assert s.tick() == "No confirm: resume not sent."
    assert s.tick() is None
    clock.now += 1
    reply = s.hear(h("confirm"))
    assert "Nothing to confirm." in reply and bus.calls == []
    assert [r["event"] for r in records] == ["heard", "awaiting confirm", "expired", "heard"]


def test_a_late_confirm_without_tick_still_does_nothing():
    s, clock, bus, _ = make()
    s.hear(h("flatten"))
    clock.now += 30
    assert s.hear(h("confirm")) == "No confirm: flatten not sent. Nothing to confirm."
    assert bus.calls == []


def test_cancel_aborts():
    s, clock, bus, records = make()
    s.hear(h("flatten"))
    assert s.hear(h("cancel")) == "Cancelled: flatten not sent."
    assert s.hear(h("confirm")) == "Nothing to confirm."
    assert s.hear(h("cancel")) == "Nothing to cancel."
    assert bus.calls == [] and "cancelled" in [r["event"] for r in records]


def test_another_command_drops_the_held_one():
    s, clock, bus, _ = make("ok")
    s.hear(h("flatten"))
    assert s.hear(h("status")) == "Flatten dropped. ok"
    assert [c[0] for c in bus.calls] == ["status"]
    assert s.hear(h("confirm")) == "Nothing to confirm."
    s.hear(h("flatten"))
    assert s.hear(h("resume")) == "Flatten dropped. Resume? Say confirm."
    assert s.pending.command == "resume"


def test_saying_it_again_restarts_the_wait():
    s, clock, bus, _ = make("done")
    s.hear(h("flatten"))
    clock.now += 4
    assert s.hear(h("flatten")) == "Flatten? Say confirm."
    clock.now += 4  # 8 s after the first, 4 after the second
    assert s.hear(h("confirm")) == "done"
    assert [c[0] for c in bus.calls] == ["flatten"]


def test_say_again_never_acts_and_keeps_the_wait():
    s, clock, bus, records = make("done")
    assert s.hear(h(None, "flatten every", 0.2)) == "Say again."
    s.hear(h("flatten"))
    assert s.hear(h(None)) == "Say again."
    assert s.pending is not None and bus.calls == []
    assert s.hear(h("confirm")) == "done"
    heard = [r for r in records if r["event"] == "heard"]
    assert heard[0]["text"] == "flatten every" and heard[0]["command"] is None and heard[0]["confidence"] == 0.2
    assert heard[0]["reason"] == "low confidence"


def test_a_failing_bus_is_answered_and_audited():
    s, clock, bus, records = make(error=RuntimeError("supervisor not reachable"))
    assert s.hear(h("pause", "pause trading")) == "Pause failed: supervisor not reachable."
    failed = [r for r in records if r["event"] == "failed"]
    assert failed and failed[0]["error"] == "supervisor not reachable" and failed[0]["text"] == "pause trading"


def _hear(recognizer, name):
    e = next(e for e in manifest("en") if e["file"].endswith(name))
    return decide(recognizer.recognize(read_wav(FIXTURES / e["file"])), recognizer.phrases, 0.5)


def test_wavs_flatten_then_confirm_sends_flatten(sphinx):
    s, clock, bus, records = make("Flat.")
    assert s.hear(_hear(sphinx, "flatten_everything__en_gb_scotland_155.wav")) == "Flatten? Say confirm."
    clock.now += 2
    assert s.hear(_hear(sphinx, "yes_confirm__en_us_m3_170.wav")) == "Flat."
    assert [(c[0], c[3]["text"], c[3]["confirm"]["text"]) for c in bus.calls] == \
        [("flatten", "flatten everything", "yes confirm")]
    assert all("confidence" in r for r in records if r["event"] in ("heard", "sent"))


def test_wavs_flatten_then_silence_sends_nothing(sphinx):
    s, clock, bus, _ = make("Flat.")
    s.hear(_hear(sphinx, "flatten__en_us_f3_135.wav"))
    clock.now += 2
    assert s.hear(_hear(sphinx, "noise/silence.wav")) == "Say again."
    clock.now += 4
    assert s.tick() == "No confirm: flatten not sent."
    assert bus.calls == []


def test_cli_dry_run_confirms_and_audits(tmp_path, capsys):
    import json

    from mia.cli import main

    audit = tmp_path / "audit.jsonl"
    flatten = FIXTURES / "en/cmd/flatten_everything__en_gb_scotland_155.wav"
    confirm = FIXTURES / "en/cmd/yes_confirm__en_us_m3_170.wav"
    assert main(["voice", "--wav", str(flatten), str(confirm), str(flatten), "--dry-run", "--audit", str(audit)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("Flatten? Say confirm.") and "heard 'flatten everything'" in out[0]
    assert out[1].endswith("Dry run: flatten not sent.")
    assert out[3] == "(no confirm followed: flatten was not sent)"
    records = [json.loads(line) for line in audit.read_text(encoding="utf-8").splitlines()]
    assert [r["event"] for r in records] == ["heard", "awaiting confirm", "heard", "sent", "heard", "awaiting confirm"]
    sent = records[3]
    assert sent["sent"] == "flatten" and sent["text"] == "flatten everything" and sent["confidence"] > 0.5
    assert sent["confirmed_by"]["text"] == "yes confirm" and "at" in sent
