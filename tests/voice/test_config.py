"""The voice: section of a config file: defaults, validation with positions, overrides."""
from __future__ import annotations

import pytest

from mia import HOME
from mia.voice.config import VoiceConfig, load_voice_config
from mia.voice.errors import VoiceError


def _write(tmp_path, text: str):
    p = tmp_path / "mia.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_defaults_without_a_section(tmp_path):
    assert load_voice_config(_write(tmp_path, "mode: paper\n")) == VoiceConfig()
    cfg = VoiceConfig()
    assert (cfg.backend, cfg.language, cfg.confirm_timeout_s, cfg.min_confidence, cfg.speak, cfg.enabled) == \
        ("pocketsphinx", "en", 5.0, 0.5, True, False)
    assert cfg.commands_path == HOME / "voice" / "commands.yaml"


def test_a_full_section(tmp_path):
    cfg = load_voice_config(_write(tmp_path, """
voice:
  enabled: true
  backend: vosk
  model: voice/models/vosk-model-small-ko-0.22
  language: ko
  confirm_timeout_s: 3.5
  min_confidence: 0.6
  speak: false
"""))
    assert cfg == VoiceConfig(True, "vosk", "voice/models/vosk-model-small-ko-0.22", "ko", "voice/commands.yaml",
                              3.5, 0.6, False)
    assert cfg.model_path == HOME / "voice" / "models" / "vosk-model-small-ko-0.22"


def test_every_error_is_reported_at_its_place(tmp_path):
    p = _write(tmp_path, "voice:\n  backend: vosq\n  min_confidence: 2\n  speek: true\n  confirm_timeout_s: 0\n")
    with pytest.raises(VoiceError) as exc:
        load_voice_config(p)
    msg = str(exc.value)
    assert f"{p}:2:12: error: voice.backend must be one of pocketsphinx, vosk, got 'vosq' (did you mean 'vosk'?)" in msg
    assert f"{p}:3:19: error: voice.min_confidence must be at most 1, got 2" in msg
    assert f"{p}:4:3: error: unknown key 'speek' in voice (did you mean 'speak'?)" in msg
    assert f"{p}:5:22: error: voice.confirm_timeout_s must be more than 0, got 0" in msg
    assert msg.endswith("4 errors")


def test_pocketsphinx_is_english_only(tmp_path):
    p = _write(tmp_path, "voice:\n  language: ko\n")
    with pytest.raises(VoiceError, match=r"mia.yaml:2:3: error: voice backend pocketsphinx has an English model only"):
        load_voice_config(p)
    with pytest.raises(VoiceError, match="English model only"):
        VoiceConfig().with_overrides(language="ko")
    assert VoiceConfig().with_overrides(backend="vosk", language="ko", model=None).language == "ko"


@pytest.mark.parametrize("text, words", [("voice: [1]\n", "voice must be a mapping"),
                                         ("- 1\n", "config must be a mapping"),
                                         ("voice:\n  speak: yes please\n", "voice.speak must be true or false")])
def test_shapes(tmp_path, text, words):
    with pytest.raises(VoiceError, match=words):
        load_voice_config(_write(tmp_path, text))


def test_a_named_file_must_exist(tmp_path):
    with pytest.raises(VoiceError, match="no such file"):
        load_voice_config(tmp_path / "nope.yaml")
