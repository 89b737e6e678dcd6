"""Fixtures for session tests: a project directory and scripted models written to files."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    return root


@pytest.fixture
def script(tmp_path: Path) -> Callable[..., str]:
    """Write a scripted model's turns to a file; returns the ``scripted:`` model spec."""

    def write(turns: list[Any], model: str = "claude-haiku-4-5") -> str:
        path = tmp_path / f"script-{uuid.uuid4().hex[:8]}.yaml"
        path.write_text(yaml.safe_dump({"model": model, "turns": turns}))
        return f"scripted:{path}"

    return write


@pytest.fixture
def env(isolated_home: Path) -> dict[str, str]:
    """The environment of a backend-agent process: this test's home, no credentials."""
    return {
        "HOME": str(isolated_home),
        "BACKEND_AGENT_HOME": str(isolated_home / ".backend-agent"),
        "PATH": os.environ["PATH"],
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "BACKEND_AGENT_MAX_RETRIES": "0",
    }
