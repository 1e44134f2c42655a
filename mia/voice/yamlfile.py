"""Read a YAML file of the voice layer with positions, through mia.dsl.load's positioned loader."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from mia.dsl.errors import Diagnostic, Reporter, RuleError
from mia.dsl.load import Document, load_document
from mia.voice.errors import VoiceError


def load(path: Path, what: str) -> tuple[Document | None, Reporter]:
    """The document at ``path`` (None after an error), and the reporter holding its errors.

    ``what`` names the file for messages the rule-file loader words for rule files.
    """
    rep = Reporter()
    doc = load_document(Path(path), rep)
    rep.diagnostics = [_reword(d, what) for d in rep.diagnostics]
    return doc, rep


def _reword(d: Diagnostic, what: str) -> Diagnostic:
    msg = d.message
    if msg.startswith("empty rule file"):
        msg = f"empty file (expected {what})"
    elif msg.startswith("one YAML document per rule file"):
        msg = "one YAML document per file (found '---')"
    return dataclasses.replace(d, message=msg)


def fail_on(rep: Reporter) -> None:
    """Raise every error ``rep`` holds as one VoiceError (``path:line:col: error: ...`` each)."""
    if rep.diagnostics:
        raise VoiceError(RuleError(rep.diagnostics).format())
