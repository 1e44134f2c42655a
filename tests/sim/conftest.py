"""Fixtures for the simulator tests: one small session written once per test run."""
from __future__ import annotations

import pytest
from simdata import Session, write_session


@pytest.fixture(scope="session")
def session(tmp_path_factory) -> Session:
    """20 minutes from the open, seed 7, with the unified file."""
    return write_session(tmp_path_factory.mktemp("sim") / "day", seed=7, minutes=20, unified=True)
