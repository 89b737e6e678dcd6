"""Fixtures for the tool tests: a ToolSession rooted in a fresh temporary directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backend_agent.tools import ToolSession


@pytest.fixture
def session(tmp_path: Path) -> Iterator[ToolSession]:
    with ToolSession(tmp_path) as tool_session:
        yield tool_session
