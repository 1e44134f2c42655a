"""Audio in: WAV files of any rate, sample format and channel count -> 16 kHz mono float32.

soundfile (libsndfile) reads the file, channels are averaged, soxr resamples. Every way a file
can be wrong (missing, a folder, not a WAV, no samples) is one VoiceError line.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from mia.voice.errors import VoiceError

RATE = 16000
#: WAV flavours libsndfile reads as WAV
_WAV_FORMATS = {"WAV", "WAVEX", "RF64", "W64"}


def read_wav(path: str | Path) -> np.ndarray:
    """The file's audio as 16 kHz mono float32 in [-1, 1]."""
    import soundfile

    name = str(path)
    p = Path(path)
    if not p.exists():
        raise VoiceError(f"{name}: no such file")
    if p.is_dir():
        raise VoiceError(f"{name}: is a directory, expected a WAV file")
    try:
        info = soundfile.info(name)
    except (soundfile.LibsndfileError, RuntimeError, OSError) as exc:
        raise VoiceError(f"{name}: not a WAV file ({_reason(exc)})") from None
    if info.format not in _WAV_FORMATS:
        raise VoiceError(f"{name}: not a WAV file (it is {info.format_info or info.format})")
    if info.frames <= 0:
        raise VoiceError(f"{name}: empty WAV (no samples)")
    try:
        data, rate = soundfile.read(name, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, OSError) as exc:
        raise VoiceError(f"{name}: cannot read the WAV file ({_reason(exc)})") from None
    if data.size == 0:
        raise VoiceError(f"{name}: empty WAV (no samples)")
    return to_mono_16k(data, rate)


def to_mono_16k(data: np.ndarray, rate: int) -> np.ndarray:
    """Average the channels (frames x channels, or a 1-D mono array) and resample to 16 kHz."""
    import soxr

    x = np.asarray(data, dtype=np.float32)
    if x.ndim == 2:
        x = x.mean(axis=1, dtype=np.float32)
    if rate != RATE:
        x = soxr.resample(x, rate, RATE).astype(np.float32, copy=False)
    return np.ascontiguousarray(x)


def to_pcm16(x: np.ndarray) -> np.ndarray:
    """float [-1, 1] -> int16, clipped."""
    return (np.clip(x, -1.0, 1.0) * 32767.0).astype(np.int16)


#: dither level: about -70 dBFS, far below speech and any room's noise floor
DITHER_RMS = 10.0 / 32768.0


def dither(x: np.ndarray, seed: int = 0) -> np.ndarray:
    """``x`` plus fixed, seeded Gaussian noise at -70 dBFS.

    Digital silence (runs of exact zeros, as synthesizers and editors write) has no spectrum for
    the acoustic model's silence phone to match: pocketsphinx then drops the phrase's end. A
    microphone always has a noise floor; a file gets this one. Same input, same output.
    """
    noise = np.random.default_rng(seed).normal(0.0, DITHER_RMS, len(x)).astype(np.float32)
    return x + noise


def _reason(exc: Exception) -> str:
    """libsndfile's words without the path it repeats ("Error opening 'x.wav': Format not recognised.")."""
    text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    return text.rsplit(": ", 1)[-1].rstrip(".")
