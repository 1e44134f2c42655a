"""The microphone path: WebRTC VAD endpointing over a stream, a fake sounddevice feeding fixture
audio through `mic.utterances`, and the one-line answers when there is no microphone."""
from __future__ import annotations

import builtins
import sys
import threading
import time
import types

import numpy as np
import pytest
from voice_fixtures import FIXTURES

from mia.cli import main
from mia.voice import mic
from mia.voice.audio import read_wav, to_pcm16
from mia.voice.errors import VoiceError
from mia.voice.recognizer import decide
from mia.voice.vad import Endpointer, speech_frames, unexplained_seconds


def _stream(*names: str, gap_s: float = 1.0) -> np.ndarray:
    rng = np.random.default_rng(3)
    parts = [rng.normal(0, 0.0003, int(gap_s * 16000)).astype(np.float32)]
    for name in names:
        parts += [read_wav(FIXTURES / name), rng.normal(0, 0.0003, int(gap_s * 16000)).astype(np.float32)]
    return np.concatenate(parts)


def _frames(x: np.ndarray, ep: Endpointer):
    pcm = to_pcm16(x).tobytes()
    n = ep.frame_bytes
    return [pcm[i:i + n] for i in range(0, len(pcm) - n + 1, n)]


def test_endpointer_cuts_two_commands_out_of_a_stream(sphinx):
    x = _stream("en/cmd/flatten__en_us_f3_135.wav", "en/cmd/yes_confirm__en_us_m3_170.wav")
    ep = Endpointer()
    cuts = [u for f in _frames(x, ep) if (u := ep.feed(f)) is not None]
    assert len(cuts) == 2
    heard = [decide(sphinx.recognize(np.frombuffer(c, np.int16).astype(np.float32) / 32768), sphinx.phrases, 0.5)
             for c in cuts]
    assert [h.command for h in heard] == ["flatten", "confirm"]


def test_endpointer_ignores_a_quiet_room_and_cuts_a_talker_who_never_stops():
    ep = Endpointer(max_s=2.0)
    quiet = np.random.default_rng(1).normal(0, 0.001, 16000 * 3).astype(np.float32)
    assert [u for f in _frames(quiet, ep) if (u := ep.feed(f))] == []
    talk = np.concatenate([read_wav(FIXTURES / "en/other/the_federal_reserve_meets_tomorrow__en_us_150.wav")] * 3)
    cuts = [u for f in _frames(talk, ep) if (u := ep.feed(f))]
    assert cuts and all(len(c) / 2 / 16000 <= 2.0 + 0.3 for c in cuts)
    with pytest.raises(ValueError):
        ep.feed(b"\x00" * 10)


def test_speech_frames_and_unexplained_speech():
    x = _stream("en/cmd/status__en_us_150.wav", gap_s=0.5)
    sp = speech_frames(x)
    assert len(sp) == len(x) // 160 and 0.3 < sp.sum() / 100 < 1.2
    assert not sp[10:45].any()  # the leading gap (WebRTC VAD takes a few frames to settle)
    voiced = np.flatnonzero(sp)
    start, end = voiced[0] / 100, (voiced[-1] + 1) / 100
    assert unexplained_seconds(sp, [(start, end)]) == 0.0
    assert unexplained_seconds(sp, []) == pytest.approx(sp.sum() / 100)
    assert unexplained_seconds(sp, [(start, (start + end) / 2)]) > 0.1


class FakeSoundDevice(types.ModuleType):
    """sounddevice with one input device that plays ``audio`` in 30 ms blocks."""

    def __init__(self, audio: np.ndarray, device=True):
        super().__init__("sounddevice")
        self.audio, self.device = audio, device

    def query_devices(self, kind=None):
        if not self.device:
            raise RuntimeError("Error querying device -1")
        return {"name": "Fake Mic", "max_input_channels": 1}

    def RawInputStream(self, samplerate, blocksize, channels, dtype, callback):  # noqa: N802
        fake = self

        class Stream:
            def __enter__(self):
                pcm = to_pcm16(fake.audio).tobytes()

                def run():
                    for i in range(0, len(pcm) - blocksize * 2 + 1, blocksize * 2):
                        callback(pcm[i:i + blocksize * 2], blocksize, None, None)

                self.t = threading.Thread(target=run, daemon=True)
                self.t.start()
                return self

            def __exit__(self, *a):
                return False

        assert (samplerate, channels, dtype) == (16000, 1, "int16")
        return Stream()


def test_utterances_from_a_microphone(monkeypatch, sphinx):
    audio = _stream("en/cmd/pause_trading__en_gb_x_rp_165.wav", "en/other/hello__en_gb_scotland_155.wav")
    monkeypatch.setitem(sys.modules, "sounddevice", FakeSoundDevice(audio))
    got, t0 = [], time.monotonic()

    def watchdog():  # never hang the suite if the endpointer misses an end
        if time.monotonic() - t0 > 30:
            raise TimeoutError("no utterance within 30 s")

    for u in mic.utterances(on_frame=watchdog):
        got.append(decide(sphinx.recognize(u), sphinx.phrases, 0.5).command)
        if len(got) == 2:
            break
    assert got == ["pause", None]


def test_no_input_device_is_one_line(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sounddevice", FakeSoundDevice(np.zeros(1), device=False))
    with pytest.raises(VoiceError, match="^no microphone: no audio input device found"):
        list(mic.utterances())
    assert main(["voice", "--mic", "--dry-run"]) == 1
    out, err = capsys.readouterr()
    assert err == "no microphone: no audio input device found (use --wav FILE)\n"


def test_no_portaudio_is_one_line(monkeypatch, capsys):
    real_import = builtins.__import__

    def no_portaudio(name, *args, **kwargs):
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_portaudio)
    assert main(["voice", "--mic", "--dry-run"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("no microphone: the PortAudio library is missing") and err.count("\n") == 1
