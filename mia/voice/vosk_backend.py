"""The vosk backend: a vosk (Kaldi) model the user downloaded, restricted to a JSON phrase list.

The model folder is named in config/mia.yaml (`voice: {backend: vosk, model: FOLDER}`); nothing is
ever downloaded at run time. Every word of the language's phrases must be in the model's
vocabulary (vosk would silently drop it otherwise). When the model has vosk's garbage word
``[unk]`` it joins the grammar, so out-of-vocabulary speech has somewhere to go. Confidence: the
lowest word confidence (vosk's lattice posterior) of the result.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mia.voice.audio import dither, to_pcm16
from mia.voice.commands import Phrases
from mia.voice.errors import VoiceError
from mia.voice.grammar import vosk_phrase_list
from mia.voice.recognizer import Hypothesis
from mia.voice.vad import FRAME_MS, speech_frames, unexplained_seconds

RATE = 16000
GARBAGE = "[unk]"


def model_help(language: str) -> str:
    return (f"download a vosk model for language '{language}' from https://alphacephei.com/vosk/models "
            f"(e.g. vosk-model-small-en-us-0.15 for English), unzip it (for example into voice/models/) "
            f"and set voice.model in config/mia.yaml to that folder, the one holding am/ and conf/")


def check_model_folder(folder: str | Path | None, language: str) -> Path:
    """The model folder, or one VoiceError line saying what to download and where to put it."""
    if not folder:
        raise VoiceError(f"voice backend vosk needs a model folder: {model_help(language)}")
    p = Path(folder)
    if not p.exists():
        raise VoiceError(f"vosk model folder {p} does not exist: {model_help(language)}")
    if not p.is_dir():
        raise VoiceError(f"vosk model {p} is not a folder: {model_help(language)}")
    if not (p / "am").is_dir() or not (p / "conf").is_dir():
        inner = [c for c in p.iterdir() if c.is_dir() and (c / "am").is_dir()] if p.is_dir() else []
        hint = f" (did you mean {inner[0]}?)" if inner else ""
        raise VoiceError(f"{p} is not a vosk model folder (no am/ and conf/ in it){hint}: {model_help(language)}")
    return p


class VoskRecognizer:
    name = "vosk"

    def __init__(self, phrases: Phrases, model_folder: str | Path | None):
        folder = check_model_folder(model_folder, phrases.language)
        try:
            import vosk
        except ImportError:
            raise VoiceError("vosk is not installed: pip install -e '.[voice]'") from None
        vosk.SetLogLevel(-1)
        try:
            self._model = vosk.Model(str(folder))
        except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
            raise VoiceError(f"{folder}: vosk could not load this model ({exc}): {model_help(phrases.language)}") from None
        missing = [(w, pos) for w, pos in phrases.words().items() if self._model.vosk_model_find_word(w) < 0]
        if missing:
            raise VoiceError("\n".join(f"{pos}: error: '{w}' is not in the vocabulary of the vosk model {folder}"
                                       for w, pos in missing))
        self.phrases = phrases
        self.garbage = GARBAGE if self._model.vosk_model_find_word(GARBAGE) >= 0 else None
        self.grammar = vosk_phrase_list(phrases, self.garbage)
        self._vosk = vosk

    def recognize(self, pcm16k_mono: np.ndarray) -> Hypothesis:
        x = np.asarray(pcm16k_mono, dtype=np.float32)
        speech = speech_frames(x)
        speech_s = float(speech.sum()) * FRAME_MS / 1000.0
        if speech_s == 0.0:
            return Hypothesis("", 0.0, 0.0, 0.0)
        # a recognizer per utterance (a fraction of a millisecond): word times start at 0 each time
        rec = self._vosk.KaldiRecognizer(self._model, RATE, self.grammar)
        rec.SetWords(True)
        rec.AcceptWaveform(to_pcm16(dither(x)).tobytes())
        result = json.loads(rec.FinalResult())
        words = result.get("result") or []
        text = " ".join(w["word"] for w in words) or result.get("text", "")
        if not words:
            return Hypothesis(text, 0.0, None, speech_s)
        confidence = float(min(w.get("conf", 0.0) for w in words))
        spans = [(float(w["start"]), float(w["end"])) for w in words if w["word"] != GARBAGE]
        return Hypothesis(text, confidence, unexplained_seconds(speech, spans), speech_s,
                          tuple((w["word"], w["start"], w["end"], w.get("conf")) for w in words))
