"""WAV input: any rate, sample format and channel count to 16 kHz mono; hostile files give one line."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile

from mia.cli import main
from mia.voice.audio import RATE, read_wav, to_mono_16k
from mia.voice.errors import VoiceError

from voice_fixtures import FIXTURES


def _tone(rate: int, seconds: float, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _peak_hz(x: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / RATE)[np.argmax(spectrum)])


@pytest.mark.parametrize("rate", [8000, 11025, 22050, 44100, 48000, 96000, 12345])
@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "PCM_U8", "FLOAT"])
def test_odd_rates_and_formats_become_16k(tmp_path, rate, subtype):
    p = tmp_path / f"tone_{rate}_{subtype}.wav"
    soundfile.write(str(p), _tone(rate, 1.5), rate, subtype=subtype)
    x = read_wav(p)
    assert x.dtype == np.float32 and x.ndim == 1
    assert abs(len(x) - 1.5 * RATE) <= 2
    assert abs(_peak_hz(x) - 440.0) < 2.0
    assert 0.45 < np.max(np.abs(x)) < 0.55


def test_stereo_and_more_channels_are_averaged(tmp_path):
    left = _tone(44100, 1.0, 440.0)
    right = _tone(44100, 1.0, 1000.0)
    p = tmp_path / "stereo.wav"
    soundfile.write(str(p), np.stack([left, right], axis=1), 44100)
    x = read_wav(p)
    ref = to_mono_16k((left + right) / 2, 44100)
    assert len(x) == len(ref) and np.allclose(x, ref, atol=2e-4)
    p6 = tmp_path / "six.wav"
    six = np.stack([_tone(48000, 1.0)] + [np.zeros(48000, np.float32)] * 5, axis=1)
    soundfile.write(str(p6), six, 48000, subtype="PCM_16")
    y = read_wav(p6)
    assert abs(np.max(np.abs(y)) - 0.5 / 6) < 0.01


def test_a_command_at_other_rates_and_stereo_is_still_heard(tmp_path, sphinx, commands):
    from mia.voice.recognizer import decide

    x, rate = soundfile.read(str(FIXTURES / "en/cmd/flatten_everything__en_gb_scotland_155.wav"), dtype="float32")
    assert rate == RATE
    for new_rate in (8000, 44100):
        import soxr

        y = soxr.resample(x, RATE, new_rate)
        p = tmp_path / f"cmd_{new_rate}.wav"
        soundfile.write(str(p), np.stack([y, y], axis=1), new_rate, subtype="PCM_16")
        heard = decide(sphinx.recognize(read_wav(p)), commands.language("en"), 0.5)
        assert heard.command == "flatten", (new_rate, heard)


def _hostile(tmp_path) -> dict[str, tuple]:
    text = tmp_path / "notes.wav"
    text.write_text("not audio at all\n")
    zero = tmp_path / "zero.wav"
    zero.write_bytes(b"")
    empty = tmp_path / "empty.wav"
    soundfile.write(str(empty), np.zeros(0, np.float32), 16000)
    flac = tmp_path / "tone.flac"
    soundfile.write(str(flac), _tone(16000, 0.5), 16000)
    truncated = tmp_path / "cut.wav"
    truncated.write_bytes((FIXTURES / "noise/white.wav").read_bytes()[:30])
    return {"text": (text, "not a WAV file"), "zero bytes": (zero, "not a WAV file"),
            "empty": (empty, "empty WAV (no samples)"), "flac": (flac, "not a WAV file (it is FLAC"),
            "truncated": (truncated, "not a WAV file"), "missing": (tmp_path / "nope.wav", "no such file"),
            "directory": (tmp_path, "is a directory, expected a WAV file")}


def test_hostile_files_are_one_clear_line_each(tmp_path):
    for name, (path, words) in _hostile(tmp_path).items():
        with pytest.raises(VoiceError) as exc:
            read_wav(path)
        msg = str(exc.value)
        assert msg.startswith(f"{path}: ") and words in msg, (name, msg)
        assert "\n" not in msg, (name, msg)


def test_hostile_files_through_the_cli(tmp_path, capsys):
    cases = _hostile(tmp_path)
    good = FIXTURES / "en/cmd/status__en_us_150.wav"
    paths = [str(p) for p, _ in cases.values()]
    status = main(["voice", "--wav", paths[0], str(good), *paths[1:], "--dry-run", "--no-speak"])
    out, err = capsys.readouterr()
    assert status == 1
    lines = err.strip().splitlines()
    assert len(lines) == len(cases), err
    for (path, words), line in zip(cases.values(), lines):
        assert line.startswith(f"{path}: ") and words in line
    assert "Traceback" not in err + out
    assert f"{good}: heard 'status'" in out  # the good file in the middle is still heard
