"""The `voice:` section of config/mia.yaml: parsed with defaults, validated by a JSON Schema, errors
placed at their line and column.

    voice:
      enabled: false          # `mia run` listens while it trades
      backend: pocketsphinx   # or vosk (then `model:` names a downloaded vosk model folder)
      model: null
      language: en            # which phrases of voice/commands.yaml
      commands: voice/commands.yaml
      confirm_timeout_s: 5    # flatten / resume wait this long for a spoken "confirm"
      min_confidence: 0.5     # below: "say again"
      speak: true             # answer aloud (printed when there is no audio device)

Relative paths are taken from the current folder when the file is there, else they name the
files shipped with mia (``mia.resources``: voice/commands.yaml).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from mia.resources import shipped
from mia.voice import schema, yamlfile
from mia.voice.errors import VoiceError

DEFAULT_CONFIG = Path("config") / "mia.yaml"

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "enabled": {"type": "boolean"},
        "backend": {"enum": ["pocketsphinx", "vosk"]},
        "model": {"type": ["string", "null"], "minLength": 1},
        "language": {"type": "string", "pattern": r"^[a-z]{2,3}(-[A-Za-z0-9]+)*$",
                     "description": "is not a language code (like en or ko)"},
        "commands": {"type": "string", "minLength": 1},
        "confirm_timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 60},
        "min_confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "speak": {"type": "boolean"},
    },
}


@dataclass(frozen=True)
class VoiceConfig:
    enabled: bool = False
    backend: str = "pocketsphinx"
    model: str | None = None
    language: str = "en"
    commands: str = "voice/commands.yaml"
    confirm_timeout_s: float = 5.0
    min_confidence: float = 0.5
    speak: bool = True

    def path(self, value: str | None) -> Path | None:
        """A configured path: absolute as given; relative: the current folder's file when it
        exists, else the shipped one (when mia ships it), else the current folder's (to say it
        is missing)."""
        if value is None:
            return None
        p = Path(value).expanduser()
        if p.is_absolute() or p.exists():
            return p.resolve()
        bundled = shipped(str(p))
        return bundled if bundled.exists() else p.resolve()

    @property
    def commands_path(self) -> Path:
        return self.path(self.commands)

    @property
    def model_path(self) -> Path | None:
        return self.path(self.model)

    def with_overrides(self, **values) -> VoiceConfig:
        """The config with the given settings replaced (None values are ignored)."""
        new = replace(self, **{k: v for k, v in values.items() if v is not None})
        _check_pair(new, None)
        return new


def load_voice_config(path: str | Path | None = None) -> VoiceConfig:
    """The voice settings of ``path`` (config/mia.yaml by default; a missing default file means
    all defaults, a missing named file is an error)."""
    if path is None:
        path = DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else shipped("config/mia.yaml")
        if not path.exists():
            return VoiceConfig()
    doc, rep = yamlfile.load(Path(path), "a mapping of settings, such as 'voice:'")
    if doc is None:
        yamlfile.fail_on(rep)
    if not isinstance(doc.data, dict):
        rep.error(doc.value_pos(()), "config must be a mapping of settings (such as 'voice:')")
        yamlfile.fail_on(rep)
    section = doc.data.get("voice")
    if section is None:
        return VoiceConfig()
    if not schema.validate(doc, section, SCHEMA, rep, root=("voice",)):
        yamlfile.fail_on(rep)
    cfg = VoiceConfig(**section)
    _check_pair(cfg, lambda: doc.value_pos(("voice", "backend")))
    return cfg


def _check_pair(cfg: VoiceConfig, where) -> None:
    """pocketsphinx ships an English model only; vosk needs a model."""
    if cfg.backend == "pocketsphinx" and cfg.language != "en":
        prefix = f"{where()}: error: " if where else ""
        raise VoiceError(f"{prefix}voice backend pocketsphinx has an English model only; for language "
                         f"'{cfg.language}' use backend: vosk with a model of that language")
