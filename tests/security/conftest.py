"""Fixtures for the escape suite: a fake HOME with secrets, a git workspace, an outside directory,
a local HTTP server and a victim process, all private to one test."""

from __future__ import annotations

import contextlib
import http.server
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from escape_world import World


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[str]

    def do_GET(self) -> None:
        self.seen.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"SERVER-TOKEN-4242")

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    # HOME and the outside directory live outside /tmp: the sandbox gives commands a private
    # /tmp, which would hide them anyway and make the sandbox tests prove nothing.
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

    workspace = tmp_path / "workspace"
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
    victim = subprocess.Popen(["sleep", "300"])
    world = World(
        workspace, home, outside, server.server_address[1], victim.pid, run_dir / "service.sock"
    )
    world.requests, world.socket_connections = seen, connections
    try:
        yield world
    finally:
        victim.kill()
        victim.wait()
        server.shutdown()
        server.server_close()
        listener.close()
        shutil.rmtree(run_dir, ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)


def _accept(listener: socket.socket, connections: list[str]) -> None:
    with contextlib.suppress(OSError):
        while True:
            connection, _ = listener.accept()
            connections.append("connected")
            connection.close()
