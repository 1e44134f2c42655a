"""Replies: sentences from results, a speaker that never blocks and never fails, pyttsx3 to a WAV."""
from __future__ import annotations

import threading
import time

import pytest
import soundfile

from mia.voice.replies import render_reply
from mia.voice.speak import Speaker, save_reply_wav


@pytest.mark.parametrize("command, result, sentence", [
    ("status", {"position": 0, "pnl": 250, "state": "active"}, "Flat. Daily P and L plus 250 dollars. Trading active."),
    ("positions", {"position": -2, "symbol": "ES", "avg_price": 5012.25}, "Short 2 ES at 5012.25."),
    ("positions", {"position": 1, "symbol": "NQ"}, "Long 1 NQ."),
    ("pnl", {"pnl": -312.5}, "Daily P and L minus 312.50 dollars."),
    ("pause", {"state": "paused"}, "Trading paused."),
    ("flatten", {"position": 0, "state": "halted"}, "Flat. Trading halted."),
    ("rules", {"rules": ["trend_long", "fade_short"]}, "2 rules active: trend_long, fade_short."),
    ("reload", {"message": "Rules reloaded, version 7"}, "Rules reloaded, version 7."),
    ("resume", {"error": "daily loss limit reached"}, "Resume failed: daily loss limit reached."),
    ("why", None, "Why done."),
    ("why", "No trade: spread too wide.", "No trade: spread too wide."),
])
def test_render_reply(command, result, sentence):
    assert render_reply(command, result) == sentence


def test_save_reply_wav_writes_speech_of_the_right_length(tmp_path):
    short = save_reply_wav("Flat.", tmp_path / "short.wav")
    long = save_reply_wav("Flat. Daily P and L plus 250 dollars. Trading active.", tmp_path / "long.wav")
    for path in (short, long):
        info = soundfile.info(str(path))
        assert info.channels == 1 and info.samplerate > 8000 and info.frames > 0
        data, _ = soundfile.read(str(path), dtype="float32")
        assert abs(data).max() > 0.05  # sound, not silence
    d_short = soundfile.info(str(short)).duration
    d_long = soundfile.info(str(long)).duration
    assert 0.2 < d_short < 2.0
    assert 2.0 < d_long < 8.0  # eleven words at espeak's ~175 words per minute
    assert d_long > 2 * d_short


def test_speaker_prints_when_it_cannot_speak_and_never_blocks():
    gate, lines = threading.Event(), []

    def slow_out(text):
        gate.wait(5)
        lines.append(text)

    speaker = Speaker(speak=False, out=slow_out)
    t0 = time.perf_counter()
    speaker.say("Flat.")
    speaker.say("Trading paused.")
    assert time.perf_counter() - t0 < 0.1  # the caller went on while the worker waits
    assert lines == []
    gate.set()
    speaker.close()
    assert lines == ["mia: Flat.", "mia: Trading paused."]


def test_speaker_speaks_through_its_player(tmp_path):
    played, lines = [], []
    speaker = Speaker(speak=True, out=lines.append, play=lambda path: played.append(soundfile.info(str(path)).duration))
    speaker.say("Flat.")
    speaker.close()
    assert lines == ["mia: Flat."] and len(played) == 1 and played[0] > 0.2


def test_a_failing_audio_device_falls_back_to_print():
    def broken(path):
        raise OSError("Error opening OutputStream: Device unavailable")

    lines = []
    speaker = Speaker(speak=True, out=lines.append, play=broken)
    speaker.say("Flat.")
    speaker.say("Trading active.")
    speaker.close()
    assert lines[0] == "mia: Flat." and "speech off" in lines[1] and lines[2] == "mia: Trading active."
    assert not speaker.speaking


def test_no_output_device_means_print_only(monkeypatch):
    import mia.voice.speak as speak

    monkeypatch.setattr(speak, "output_device", lambda: None)
    lines = []
    speaker = Speaker(speak=True, out=lines.append)
    assert not speaker.speaking
    speaker.say("Flat.")
    speaker.close()
    assert lines == ["mia: Flat."]
