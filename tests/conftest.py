"""Shared test configuration."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def private_backend_agent_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> Path:
    """backend-agent's own files (transcripts, notes of pending writes) never go to the real
    home; tests that need a particular home set BACKEND_AGENT_HOME themselves."""
    home = tmp_path_factory.mktemp("backend-agent-home")
    monkeypatch.setenv("BACKEND_AGENT_HOME", str(home))
    return home
