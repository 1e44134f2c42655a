"""The pocketsphinx backend: PyPI's pocketsphinx 5 and the English model it ships, with a JSGF grammar.

Two passes over each utterance, on one decoder and its one acoustic model:

1. the closed grammar (JSGF of the phrases; Viterbi best path, not the lattice's best path, which
   measured worse: it often ended on an unfinished phrase);
2. a phone loop (the model's own phone n-gram, no words): the best any-sound explanation.

Confidence is the log-likelihood ratio of the two per 10 ms frame: speech that is one of the phrases
scores nearly as well under the grammar as under the free phone loop; other speech, forced into the
nearest phrase, scores much worse. It goes through a logistic curve whose midpoint (confidence 0.5)
is ``LLR_MID``, the threshold measured on the tuning fixtures (README, "Voice").
"""
from __future__ import annotations

import math
import re

import numpy as np

from mia.voice.audio import dither, to_pcm16
from mia.voice.commands import Phrases
from mia.voice.errors import VoiceError
from mia.voice.grammar import jsgf
from mia.voice.recognizer import Hypothesis
from mia.voice.vad import FRAME_MS, speech_frames, unexplained_seconds

#: grammar-vs-phone-loop log-likelihood ratio (nats per frame) of confidence 0.5, and the width
LLR_MID, LLR_WIDTH = -0.3, 0.15
_ALT = re.compile(r"\(\d+\)$")  # pronunciation variants: status(2)
_FRAME_S = 0.01                 # pocketsphinx's 100 frames per second
#: pocketsphinx keeps Viterbi path scores shifted down by SENSCR_SHIFT (10 bits); undo it
_SENSCR_SCALE = 1 << 10


class PocketsphinxRecognizer:
    name = "pocketsphinx"

    def __init__(self, phrases: Phrases):
        try:
            from pocketsphinx import Decoder, get_model_path
        except ImportError:
            raise VoiceError("pocketsphinx is not installed: pip install -e '.[voice]'") from None
        self.phrases = phrases
        d = Decoder(lm=None, loglevel="FATAL", bestpath=False)
        unknown = [(w, pos) for w, pos in phrases.words().items() if d.lookup_word(w) is None]
        if unknown:
            raise VoiceError("\n".join(f"{pos}: error: '{w}' is not in pocketsphinx's English dictionary"
                                       for w, pos in unknown))
        d.add_jsgf_string("commands", jsgf(phrases))
        d.add_allphone_file("phones", get_model_path("en-us/en-us-phone.lm.bin"))
        self._decoder = d
        self._logmath = d.get_logmath()

    def _decode(self, search: str, pcm: bytes):
        d = self._decoder
        d.reinit_feat()  # the feature front end keeps state across utterances: results would depend on order
        d.activate_search(search)
        d.start_utt()
        d.process_raw(pcm, full_utt=True)
        d.end_utt()
        return d.hyp()

    def _score(self, hyp) -> float:
        """The hypothesis' path score in nats."""
        return _SENSCR_SCALE * self._logmath.log_to_ln(self._logmath.log(hyp.score)) if hyp.score > 0 else -math.inf

    def recognize(self, pcm16k_mono: np.ndarray) -> Hypothesis:
        x = np.asarray(pcm16k_mono, dtype=np.float32)
        speech = speech_frames(x)
        speech_s = float(speech.sum()) * FRAME_MS / 1000.0
        if speech_s == 0.0:
            return Hypothesis("", 0.0, 0.0, 0.0)
        pcm = to_pcm16(dither(x)).tobytes()
        hyp = self._decode("commands", pcm)
        if hyp is None or not hyp.hypstr:
            return Hypothesis("", 0.0, None, speech_s)
        frames = self._decoder.n_frames()
        words = tuple((_ALT.sub("", s.word), s.start_frame * _FRAME_S, (s.end_frame + 1) * _FRAME_S)
                      for s in self._decoder.seg() if not s.word.startswith(("<", "[", "(")))
        unexplained = unexplained_seconds(speech, [(w[1], w[2]) for w in words])
        if self.phrases.command_of(hyp.hypstr) is None:  # an unfinished path: no second pass needed
            return Hypothesis(hyp.hypstr, 0.0, unexplained, speech_s, words)
        grammar = self._score(hyp)
        loop = self._decode("phones", pcm)
        phones = self._score(loop) if loop is not None else -math.inf
        if frames <= 0 or grammar == -math.inf:
            llr = -math.inf
        elif phones == -math.inf:
            llr = 0.0
        else:
            llr = (grammar - phones) / frames
        return Hypothesis(hyp.hypstr, _logistic((llr - LLR_MID) / LLR_WIDTH), unexplained, speech_s, words,
                          {"llr_per_frame": round(llr, 4)})


def _logistic(z: float) -> float:
    if z == -math.inf:
        return 0.0
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
