"""Rule errors: each carries its place in a YAML file and prints as `path:line:col: error: msg`.

A ``RuleError`` holds one or more ``Diagnostic``s (the checker reports every error it finds, not
only the first), each with the offending source line and a caret under the column.
"""
from __future__ import annotations

from dataclasses import dataclass

from mia.dsl.lines import split_lines
from mia.errors import MiaError


@dataclass(frozen=True)
class Pos:
    """A place in a file: 1-based line and column."""

    path: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


#: control characters shown as their Unicode control pictures (one column each, so the caret stays put)
_PICTURES = {c: 0x2400 + c for c in range(32)} | {0x7F: 0x2421}


def visible(line: str) -> str:
    """``line`` with control characters drawn (form feed as U+240C, ...), safe for a terminal."""
    return line.translate(_PICTURES)


@dataclass(frozen=True)
class Diagnostic:
    pos: Pos
    message: str
    source_line: str | None = None

    def format(self) -> str:
        text = f"{self.pos}: error: {self.message}"
        if self.source_line is not None:
            line = visible(self.source_line.rstrip("\n").expandtabs(1))
            caret = " " * max(self.pos.col - 1, 0) + "^"
            text += f"\n    {line}\n    {caret}"
        return text


class RuleError(MiaError):
    """One or more errors in rule files, all reported together."""

    def __init__(self, diagnostics: list[Diagnostic], notes: list[str] = ()):
        self.diagnostics = sorted(
            diagnostics, key=lambda d: (d.pos.path, d.pos.line, d.pos.col, d.message)
        )
        self.notes = list(notes)
        super().__init__(self.format())

    def format(self) -> str:
        n = len(self.diagnostics)
        body = "\n".join([d.format() for d in self.diagnostics] + [f"note: {t}" for t in self.notes])
        return body + f"\n{n} error{'s' if n != 1 else ''}"


class Reporter:
    """Collects diagnostics while a stage keeps going, then raises them all at once."""

    def __init__(self, sources: dict[str, str] | None = None):
        self.sources = sources if sources is not None else {}
        self.diagnostics: list[Diagnostic] = []
        #: things worth saying that are not errors (hidden files skipped), printed with them
        self.notes: list[str] = []

    def error(self, pos: Pos, message: str) -> None:
        self.diagnostics.append(Diagnostic(pos, message, self._line(pos)))

    def _line(self, pos: Pos) -> str | None:
        text = self.sources.get(pos.path)
        if text is None:
            return None
        lines = split_lines(text)
        if 1 <= pos.line <= len(lines):
            return lines[pos.line - 1]
        return None

    def raise_if_any(self) -> None:
        if self.diagnostics:
            raise RuleError(self.diagnostics, self.notes)
