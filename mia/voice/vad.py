"""Voice-activity detection with WebRTC's VAD (the webrtcvad-wheels package).

Two uses: `speech_frames` marks which 10 ms frames of an utterance hold speech (the recognizers
check that the phrase they found explains all of it), and `Endpointer` cuts a microphone stream
into utterances (start after enough voiced frames, end after a run of silence).
"""
from __future__ import annotations

import collections
from dataclasses import dataclass

import numpy as np

from mia.voice.audio import RATE, to_pcm16

FRAME_MS = 10
FRAME = RATE * FRAME_MS // 1000  # samples per 10 ms frame


def _vad(mode: int):
    import webrtcvad

    return webrtcvad.Vad(mode)


def speech_frames(x: np.ndarray, mode: int = 2) -> np.ndarray:
    """A bool per 10 ms frame of the 16 kHz signal ``x``: WebRTC VAD's speech decision."""
    pcm = to_pcm16(x).tobytes()
    vad = _vad(mode)
    n = len(pcm) // (2 * FRAME)
    return np.fromiter((vad.is_speech(pcm[i * 2 * FRAME:(i + 1) * 2 * FRAME], RATE) for i in range(n)),
                       dtype=bool, count=n)


def unexplained_seconds(speech: np.ndarray, words: list[tuple[float, float]], pad_s: float = 0.05) -> float:
    """Seconds of speech (10 ms frames of ``speech``) outside every word span (start_s, end_s) +- pad."""
    covered = np.zeros(len(speech), dtype=bool)
    for start, end in words:
        a = max(0, int((start - pad_s) * 1000 / FRAME_MS))
        b = min(len(speech), int(np.ceil((end + pad_s) * 1000 / FRAME_MS)) + 1)
        covered[a:b] = True
    return float((speech & ~covered).sum()) * FRAME_MS / 1000.0


@dataclass
class Endpointer:
    """Feeds 30 ms frames of 16 kHz int16 PCM; returns an utterance's PCM when it has ended.

    Start: ``start_ratio`` of the last ``window_ms`` voiced (the window becomes the utterance's
    lead-in). End: ``end_silence_ms`` without speech. ``max_s`` cuts a talker who never pauses.
    """

    mode: int = 2
    frame_ms: int = 30
    window_ms: int = 300
    start_ratio: float = 0.6
    end_silence_ms: int = 600
    max_s: float = 6.0

    def __post_init__(self) -> None:
        self._vad = _vad(self.mode)
        self._ring: collections.deque = collections.deque(maxlen=self.window_ms // self.frame_ms)
        self._voiced: list[bytes] = []
        self._silent = 0
        self.in_speech = False

    @property
    def frame_bytes(self) -> int:
        return RATE * self.frame_ms // 1000 * 2

    def feed(self, frame: bytes) -> bytes | None:
        if len(frame) != self.frame_bytes:
            raise ValueError(f"frame of {len(frame)} bytes, expected {self.frame_bytes}")
        speech = self._vad.is_speech(frame, RATE)
        if not self.in_speech:
            self._ring.append((frame, speech))
            if sum(s for _, s in self._ring) >= self.start_ratio * self._ring.maxlen:
                self.in_speech = True
                self._voiced = [f for f, _ in self._ring]
                self._ring.clear()
                self._silent = 0
            return None
        self._voiced.append(frame)
        self._silent = 0 if speech else self._silent + self.frame_ms
        too_long = len(self._voiced) * self.frame_ms >= self.max_s * 1000
        if self._silent >= self.end_silence_ms or too_long:
            out = b"".join(self._voiced)
            self._voiced = []
            self.in_speech = False
            return out
        return None
