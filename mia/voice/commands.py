"""`voice/commands.yaml`: the spoken phrases of each command, per language, validated with positions.

A phrase is lower-cased and its blanks collapsed; the same phrase may not mean two commands. The
file's positions are kept, so that a backend can point at a phrase whose word it does not know.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mia.resources import shipped
from mia.dsl.errors import Pos, Reporter
from mia.voice import schema, yamlfile
from mia.voice.errors import VoiceError

#: the supervisor's commands a voice may give, and the voice-only answers to "confirm?"
COMMANDS = ("status", "positions", "pnl", "why", "pause", "resume", "flatten", "reload", "rules")
ANSWERS = ("confirm", "cancel")
#: commands that act only after a spoken "confirm" (they close positions or raise risk)
NEEDS_CONFIRM = frozenset({"flatten", "resume"})

DEFAULT_PATH = shipped("voice/commands.yaml")

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["version", "languages"],
    "properties": {
        "version": {"enum": [1]},
        "languages": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": r"^[a-z]{2,3}(-[A-Za-z0-9]+)*$",
                              "description": "is not a language code (like en or ko)"},
            "additionalProperties": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"enum": list(COMMANDS + ANSWERS)},
                "additionalProperties": {
                    "type": "array", "minItems": 1,
                    "items": {"type": "string", "minLength": 1, "pattern": r"\S",
                              "description": "is blank: a phrase needs at least one word"},
                },
            },
        },
    },
}


def normalize(phrase: str) -> str:
    """The phrase as recognizers spell it: lower case, single blanks."""
    return " ".join(phrase.lower().split())


@dataclass(frozen=True)
class Phrases:
    """One language's phrases: phrase -> command, in file order, with each phrase's place."""

    language: str
    to_command: dict[str, str]
    positions: dict[str, Pos] = field(default_factory=dict)

    @property
    def phrases(self) -> list[str]:
        return list(self.to_command)

    def command_of(self, text: str) -> str | None:
        """The command an exact phrase means, or None (a near miss is not a command)."""
        return self.to_command.get(normalize(text))

    def words(self) -> dict[str, Pos]:
        """Every word of every phrase, with the place of its first phrase."""
        out: dict[str, Pos] = {}
        for phrase, pos in self.positions.items():
            for w in phrase.split():
                out.setdefault(w, pos)
        return out


@dataclass(frozen=True)
class CommandSet:
    path: str
    languages: dict[str, Phrases]

    def language(self, name: str) -> Phrases:
        try:
            return self.languages[name]
        except KeyError:
            have = ", ".join(sorted(self.languages))
            raise VoiceError(f"{self.path}: no phrases for language '{name}' (it has: {have})") from None


def load_commands(path: str | Path = DEFAULT_PATH) -> CommandSet:
    """Read and check a commands file; every problem is reported at its place, all at once."""
    doc, rep = yamlfile.load(Path(path), "a mapping with 'version: 1' and 'languages:'")
    if doc is not None and schema.validate(doc, doc.data, SCHEMA, rep):
        out = _build(doc, rep)
        yamlfile.fail_on(rep)
        return out
    yamlfile.fail_on(rep)
    raise AssertionError("unreachable: an invalid document always has an error")


def _build(doc, rep: Reporter) -> CommandSet:
    languages: dict[str, Phrases] = {}
    for lang, table in doc.data["languages"].items():
        to_command: dict[str, str] = {}
        positions: dict[str, Pos] = {}
        for command, phrases in table.items():
            for i, raw in enumerate(phrases):
                phrase = normalize(raw)
                pos = doc.value_pos(("languages", lang, command, i))
                if phrase in to_command:
                    first = positions[phrase]
                    if to_command[phrase] == command:
                        msg = f"phrase '{phrase}' is listed twice for {command} (first at line {first.line})"
                    else:
                        msg = (f"phrase '{phrase}' already means {to_command[phrase]} (line {first.line}); "
                               f"one phrase, one command")
                    rep.error(pos, msg)
                    continue
                to_command[phrase] = command
                positions[phrase] = pos
        risky = sorted(NEEDS_CONFIRM & set(table))
        missing = [a for a in ANSWERS if a not in table]
        if risky and missing:
            rep.error(doc.key_pos(("languages", lang)),
                      f"language '{lang}' has {' and '.join(risky)}, which wait for a spoken confirm: "
                      f"it needs phrases for {' and '.join(missing)}")
        languages[lang] = Phrases(lang, to_command, positions)
    return CommandSet(doc.path, languages)
