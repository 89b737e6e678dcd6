"""Fixtures for the MCP tests: an isolated home, a project, the demo server over streamable
HTTP, and scripted models."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from mcp_helpers import start_demo_http


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME in a temp dir (no real ~/.claude.json), and no MCP time limits from the caller."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("HOME", str(path))
    monkeypatch.setenv("BACKEND_AGENT_HOME", str(path / ".backend-agent"))
    monkeypatch.delenv("MCP_TIMEOUT", raising=False)
    monkeypatch.delenv("MCP_TOOL_TIMEOUT", raising=False)
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    return root


@pytest.fixture(scope="module")
def http_server() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    process, port = start_demo_http("streamable-http")
    yield process, f"http://127.0.0.1:{port}/mcp"
    process.kill()
    process.wait()


@pytest.fixture
def write_script(tmp_path: Path) -> Callable[[list[Any]], str]:
    """A scripted model (``scripted:FILE``) that plays ``turns``."""

    def write(turns: list[Any]) -> str:
        path = tmp_path / "script.yaml"
        path.write_text(yaml.safe_dump({"model": "claude-sonnet-4-5", "turns": turns}))
        return f"scripted:{path}"

    return write
