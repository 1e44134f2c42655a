"""The recognizer interface, and the one place that turns a hypothesis into a command or "say again".

A backend (`pocketsphinx_backend`, `vosk_backend`) decodes 16 kHz mono audio against the closed
grammar and returns a `Hypothesis`: the phrase it matched, a confidence in [0, 1], and how much
speech lay outside the matched words. A closed grammar always answers with *some* phrase, so
`decide` accepts a command only with all of this evidence:

- the text is exactly one phrase of the grammar (a partial path or a run of phrases is not);
- no more than ``MAX_UNEXPLAINED_S`` of voiced audio (WebRTC VAD) falls outside the phrase's
  words ("cancel culture" aligns "cancel" and leaves "culture" to the silence model);
- the backend's confidence reaches ``min_confidence``.

The thresholds were chosen from measurements over the fixtures (see README, "Voice").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from mia.voice.commands import Phrases

#: voiced audio outside the phrase's words above this (seconds) -> out of grammar
MAX_UNEXPLAINED_S = 0.25


@dataclass(frozen=True)
class Hypothesis:
    """What a backend heard: ``text`` ('' for nothing), ``confidence`` in [0, 1]."""

    text: str
    confidence: float
    #: seconds of voiced audio outside the matched words (None: the backend could not tell)
    unexplained_s: float | None = None
    #: seconds of voiced audio in the utterance
    speech_s: float = 0.0
    #: the matched words, as the backend reports them (word, start_s, end_s, ...)
    words: tuple = ()
    #: backend-specific evidence, for measurements (e.g. pocketsphinx's llr_per_frame)
    detail: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Heard:
    """The decision about one utterance: a command, or None with the reason it was refused."""

    text: str
    confidence: float
    command: str | None
    reason: str | None = None

    def as_dict(self) -> dict:
        out = {"text": self.text, "command": self.command, "confidence": round(self.confidence, 3)}
        if self.reason:
            out["reason"] = self.reason
        return out


class Recognizer(Protocol):
    """A backend: decode one utterance (16 kHz mono float32) against its closed grammar."""

    name: str
    phrases: Phrases

    def recognize(self, pcm16k_mono: np.ndarray) -> Hypothesis: ...


def decide(hyp: Hypothesis, phrases: Phrases, min_confidence: float) -> Heard:
    """A command only when every piece of evidence agrees; otherwise the reason for "say again"."""
    if not hyp.text and hyp.speech_s <= 0.0:
        return Heard("", 0.0, None, "silence")
    if not hyp.text:
        return Heard("", 0.0, None, "no phrase recognized")
    command = phrases.command_of(hyp.text)
    if command is None:
        return Heard(hyp.text, hyp.confidence, None, "not a command phrase")
    if hyp.unexplained_s is not None and hyp.unexplained_s > MAX_UNEXPLAINED_S:
        return Heard(hyp.text, hyp.confidence, None,
                     f"{hyp.unexplained_s:.2f} s of speech outside the phrase")
    if hyp.confidence < min_confidence:
        return Heard(hyp.text, hyp.confidence, None,
                     f"low confidence ({hyp.confidence:.2f} < {min_confidence:.2f})")
    return Heard(hyp.text, hyp.confidence, command)


def make_recognizer(cfg, commands) -> Recognizer:
    """The backend the config names, for the config's language."""
    phrases = commands.language(cfg.language)
    if cfg.backend == "vosk":
        from mia.voice.vosk_backend import VoskRecognizer

        return VoskRecognizer(phrases, cfg.model_path)
    from mia.voice.pocketsphinx_backend import PocketsphinxRecognizer

    return PocketsphinxRecognizer(phrases)
