"""The committed voice fixtures (tests/fixtures/voice, made by make_fixtures.py) and their manifest."""
from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "voice"


def manifest(language: str | None = None, kind: str | None = None) -> list[dict]:
    """Fixture entries; ``kind``: 'cmd' (a command is expected) or 'other' (no action expected)."""
    rows = json.loads((FIXTURES / "manifest.json").read_text(encoding="utf-8"))
    if language:
        rows = [r for r in rows if r["language"] in (language, "any")]
    if kind == "cmd":
        rows = [r for r in rows if r["command"]]
    elif kind == "other":
        rows = [r for r in rows if not r["command"]]
    return rows
