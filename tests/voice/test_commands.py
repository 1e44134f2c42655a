"""voice/commands.yaml: the shipped file, the grammars made from it, and every way a file can be wrong."""
from __future__ import annotations

import json

import pytest

from mia.voice.commands import ANSWERS, COMMANDS, load_commands, normalize
from mia.voice.errors import VoiceError
from mia.voice.grammar import jsgf, vosk_phrase_list


def test_shipped_file_has_every_command_in_english(commands):
    en = commands.language("en")
    assert set(en.to_command.values()) == set(COMMANDS + ANSWERS)
    for phrase in ("status", "what is my position", "daily p and l", "daily p n l", "pause trading",
                   "resume trading", "flatten", "flatten everything", "confirm", "cancel", "why",
                   "why no trade"):
        assert en.command_of(phrase) is not None, phrase
    assert en.command_of("Flatten   Everything") == "flatten"
    assert en.command_of("flatten every") is None  # a near miss is not a command


def test_jsgf_lists_exactly_the_phrases(commands):
    en = commands.language("en")
    g = jsgf(en)
    assert g.startswith("#JSGF V1.0;")
    body = g.split("public <command> =", 1)[1].rsplit(";", 1)[0]
    alternatives = [a.strip() for a in body.split("|")]
    assert alternatives == en.phrases


def test_vosk_list_is_utf8_json_without_escapes(commands):
    ko = commands.language("ko")
    text = vosk_phrase_list(ko, "[unk]")
    assert "\\u" not in text and "현황" in text
    assert json.loads(text) == ko.phrases + ["[unk]"]
    assert json.loads(vosk_phrase_list(ko)) == ko.phrases


def test_unknown_language_names_the_ones_there(commands):
    with pytest.raises(VoiceError, match=r"no phrases for language 'fr' \(it has: en, ko\)"):
        commands.language("fr")


def _load(tmp_path, text: str):
    p = tmp_path / "commands.yaml"
    p.write_text(text, encoding="utf-8")
    return load_commands(p)


def _error(tmp_path, text: str) -> str:
    with pytest.raises(VoiceError) as exc:
        _load(tmp_path, text)
    return str(exc.value)


def test_misspelled_command_is_placed_with_a_suggestion(tmp_path):
    msg = _error(tmp_path, "version: 1\nlanguages:\n  en:\n    status: [status]\n    flaten: [flatten]\n")
    assert "commands.yaml:5:5: error:" in msg and "'flaten'" in msg and "did you mean 'flatten'" in msg


def test_one_phrase_two_commands_is_an_error_at_the_second(tmp_path):
    msg = _error(tmp_path, "version: 1\nlanguages:\n  en:\n    pause: [stop]\n    flatten: [Stop]\n")
    assert "commands.yaml:5:15: error: phrase 'stop' already means pause (line 4)" in msg


def test_risky_commands_need_confirm_and_cancel(tmp_path):
    msg = _error(tmp_path, "version: 1\nlanguages:\n  en:\n    flatten: [flatten]\n    confirm: [confirm]\n")
    assert "commands.yaml:3:3: error: language 'en' has flatten" in msg and "cancel" in msg


@pytest.mark.parametrize("text, where, words", [
    ("", "1:1", "empty file"),
    ("- a\n- b\n", "1:1", "must be a mapping"),
    ("version: 1\n", "1:1", "missing the required key 'languages'"),
    ("version: 2\nlanguages: {en: {status: [status]}}\n", "1:10", "must be one of 1"),
    ("version: 1\nlanguages:\n  en:\n    status: []\n", "4:13", "at least 1"),
    ("version: 1\nlanguages:\n  en:\n    status: ['  ']\n", "4:14", "a phrase needs at least one word"),
    ("version: 1\nlanguages:\n  en:\n    status: status\n", "4:13", "must be a list"),
    ("version: 1\nlanguages:\n  EN!: {status: [status]}\n", "3:3", "'EN!' is not a language code"),
    ("version: 1\nlanguages:\n  en:\n    status: [status\n", "5:1", "YAML syntax"),
    ("version: 1\nversion: 1\nlanguages: {en: {status: [s]}}\n", "2:1", "duplicate key"),
])
def test_bad_files_are_positioned(tmp_path, text, where, words):
    msg = _error(tmp_path, text)
    assert f"commands.yaml:{where}: error:" in msg and words in msg, msg
    assert "Traceback" not in msg


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(VoiceError, match="no such file"):
        load_commands(tmp_path / "nope.yaml")
    with pytest.raises(VoiceError, match="is a directory"):
        load_commands(tmp_path)


def test_normalize():
    assert normalize("  Daily  P\tAND l ") == "daily p and l"
