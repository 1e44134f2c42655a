"""What a line is in a rule file: exactly what PyYAML counts as a line break.

PyYAML breaks lines at CRLF, CR, LF, NEL (U+0085), LINE SEPARATOR (U+2028) and PARAGRAPH
SEPARATOR (U+2029), and nowhere else (``str.splitlines`` also breaks at form feeds and other
controls). Positions, source maps and the source line under an error all use these helpers,
so a ``line:col`` always names the line the YAML parser saw.
"""
from __future__ import annotations

import re

_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def line_starts(text: str) -> list[int]:
    """The index where each line of ``text`` starts (the first is 0)."""
    return [0, *(m.end() for m in _BREAK.finditer(text))]


def split_lines(text: str) -> list[str]:
    """The lines of ``text`` without their line breaks."""
    return _BREAK.split(text)
