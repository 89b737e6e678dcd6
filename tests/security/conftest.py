"""Fixtures for the escape suite: a fake HOME with secrets, a git workspace, an outside directory,
a local HTTP server and a victim process, all private to one test."""

from __future__ import annotations

import http.server
import shutil
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
    victim = subprocess.Popen(["sleep", "300"])
    try:
        yield World(workspace, home, outside, server.server_address[1], victim.pid, seen)
    finally:
        victim.kill()
        victim.wait()
        server.shutdown()
        server.server_close()
        shutil.rmtree(base, ignore_errors=True)
