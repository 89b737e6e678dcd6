"""Helpers for the MCP tests: the demo server (over stdio, streamable HTTP or SSE), the npm
reference servers that .ci/run installs in tests/node_modules, and config snippets."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from backend_agent.mcp.config import ServerConfig

HERE = Path(__file__).resolve().parent
DEMO_SERVER = HERE / "servers" / "demo_server.py"
NODE_BIN = HERE.parent / "node_modules" / ".bin"


def demo(name: str = "demo", **fields: Any) -> ServerConfig:
    """The demo server over stdio."""
    return ServerConfig(
        name, "stdio", "test", command=sys.executable, args=(str(DEMO_SERVER),), **fields
    )


def demo_entry() -> dict[str, Any]:
    return {"command": sys.executable, "args": [str(DEMO_SERVER)]}


def node_server(binary: str) -> Path:
    """An npm server's binary from tests/node_modules; skip when .ci/run has not installed it."""
    path = NODE_BIN / binary
    if not path.exists():
        pytest.skip(f"{binary} is not installed (run: cd tests && npm install)")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_demo_http(transport: str) -> tuple[subprocess.Popen[bytes], int]:
    """The demo server on 127.0.0.1 with ``transport`` (streamable-http or sse)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(DEMO_SERVER), transport, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the demo {transport} server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the demo {transport} server did not listen on {port}")


def mcp_config(servers: dict[str, Any]) -> str:
    return json.dumps({"mcpServers": servers})
