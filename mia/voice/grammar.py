"""Closed grammars made from one language's phrases: JSGF for pocketsphinx, a JSON phrase list for vosk.

Only these phrases can be recognized: there is no free decoding of commands.
"""
from __future__ import annotations

import json

from mia.voice.commands import Phrases


def jsgf(phrases: Phrases, name: str = "mia") -> str:
    """A JSGF grammar whose one public rule is the alternatives of all phrases."""
    alternatives = "\n    | ".join(phrases.phrases)
    return (f"#JSGF V1.0;\n\ngrammar {name};\n\n"
            f"public <command> =\n      {alternatives}\n    ;\n")


def vosk_phrase_list(phrases: Phrases, garbage: str | None = None) -> str:
    """The vosk grammar: a JSON list of the phrases in UTF-8 (no \\u escapes), plus vosk's
    garbage word (``[unk]``) when the model has one."""
    items = list(phrases.phrases) + ([garbage] if garbage else [])
    return json.dumps(items, ensure_ascii=False)
