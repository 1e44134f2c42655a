"""Fixtures of the Telegram tests: the fake Bot API on loopback, simulated days, the token in the
environment (as token_env reads it)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

_TESTS = Path(__file__).resolve().parents[1]
if str(_TESTS) not in sys.path:
    sys.path.insert(0, str(_TESTS))

from fakes.botapi import TOKEN, FakeBotApi  # noqa: E402
from runtime.helpers import sim_days  # noqa: E402

from .helpers import ME, OTHER, READER  # noqa: E402


@pytest.fixture
def fake():
    with FakeBotApi(chats=(ME, OTHER, READER)) as f:
        yield f


@pytest.fixture(autouse=True)
def token_env(monkeypatch):
    monkeypatch.setenv("MIA_TEST_TG_TOKEN", TOKEN)


@pytest.fixture(scope="session")
def day(tmp_path_factory) -> Path:
    return sim_days(tmp_path_factory.mktemp("tgdata"), days=1, minutes=45) / "20251117"
