"""Fixtures for session tests: a project directory and scripted models written to files."""

from __future__ import annotations

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
