"""Shell processes: started through the session's reaper process (which adopts and kills
whatever they leave behind), each in its own session, output collected in order by a thread."""

from __future__ import annotations

import codecs
import contextlib
import itertools
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any


@dataclass(frozen=True)
class Captured:
    """Output taken from a collector: the kept text, and how many lines past it were dropped."""

    text: str
    dropped_lines: int = 0


class OutputCollector:
    """Reads a pipe on a thread until EOF, so the process never blocks on a full pipe.

    Memory stays bounded: past ``keep_chars`` unread characters, lines are only counted.
    """

    def __init__(self, stream: IO[bytes], keep_chars: int, log: IO[str] | None = None) -> None:
        self._stream = stream
        self._keep_chars = keep_chars
        self._log = log  # also gets every character, flushed as it arrives; closed at EOF
        self._chunks: list[str] = []
        self._kept = 0
        self._dropped_newlines = 0
        self._dropped_partial_line = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        read = getattr(self._stream, "read1", self._stream.read)
        try:
            while chunk := read(65536):
                self._append(decoder.decode(chunk))
            self._append(decoder.decode(b"", final=True))
        finally:
            self._stream.close()
            if self._log is not None:
                self._log.close()

    def _append(self, text: str) -> None:
        if self._log is not None and text:
            self._log.write(text)
            self._log.flush()
        with self._lock:
            room = self._keep_chars - self._kept
            if room > 0 and text:
                self._chunks.append(text[:room])
                self._kept += len(self._chunks[-1])
                text = text[room:]
            if text:
                self._dropped_newlines += text.count("\n")
                self._dropped_partial_line = not text.endswith("\n")

    def wait_closed(self, timeout: float) -> bool:
        """Wait for EOF (every writer gone); False if writers remain after ``timeout``."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def take(self) -> Captured:
        """What arrived since the previous call (which is then forgotten)."""
        with self._lock:
            dropped = self._dropped_newlines + self._dropped_partial_line
            captured = Captured("".join(self._chunks), dropped)
            self._chunks.clear()
            self._kept = self._dropped_newlines = 0
            self._dropped_partial_line = False
            return captured


class CommandRefused(Exception):
    """The command was interrupted before it could start: it never ran."""


class ChildProcess:
    """A command started by the reaper: its pid, its output, and its exit code once it ends
    (negative N: killed by signal N, as subprocess reports it)."""

    def __init__(self, argv: Sequence[str]) -> None:
        self.argv = list(argv)
        self.pid = 0  # known once started
        self.stdout: IO[bytes] | None = None
        self.returncode: int | None = None
        self._ended = threading.Event()

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._ended.wait(timeout):
            raise subprocess.TimeoutExpired(self.argv, timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def ended(self, returncode: int) -> None:
        if self.returncode is None:
            self.returncode = returncode
        self._ended.set()


class _Reply:
    def __init__(self) -> None:
        self.ready = threading.Event()
        self.message: dict[str, Any] = {}


_REAPER_SCRIPT = Path(__file__).with_name("reaper.py")
_KILL_ALL_SECONDS = 10.0


class Reaper:
    """The session's end of its reaper process (tools/reaper.py), started on first use.

    Every command runs as a child of that process, which is the subreaper of all they start:
    orphans stay in its tree, so ``kill(id)`` ends a command with everything it left behind
    and ``close()`` ends them all. Should this process die without closing, the reaper sees
    its socket close and kills everything too.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()  # a signal handler may kill while a send is under way
        self._socket: socket.socket | None = None
        self._helper: subprocess.Popen[bytes] | None = None
        self._replies: dict[int, _Reply] = {}
        self._children: dict[int, ChildProcess] = {}
        self._ids = itertools.count(1)

    def new_id(self) -> int:
        """An id for the next command, to register it before it starts (so it can be killed)."""
        return next(self._ids)

    def spawn(
        self, ident: int, argv: Sequence[str], cwd: Path, fds: Mapping[int, int] | None = None
    ) -> ChildProcess:
        """Start ``argv`` (stdin closed, stderr into stdout); ``fds`` maps a descriptor number
        in the command to one of ours. Raises OSError, or CommandRefused when killed first."""
        extra = dict(fds or {})
        reader, writer = os.pipe()
        child = self._children[ident] = ChildProcess(argv)
        request = {
            "op": "spawn",
            "id": ident,
            "argv": [_wire(arg) for arg in argv],
            "cwd": _wire(str(cwd)),
            "env": {_wire(name): _wire(value) for name, value in os.environ.items()},
            "fds": [1, *extra],
        }
        try:
            reply = self._request(request, [writer, *extra.values()])
        except BaseException:
            os.close(reader)
            raise
        finally:
            os.close(writer)
        if reply.get("op") == "spawned":
            child.stdout = os.fdopen(reader, "rb")
            return child
        os.close(reader)
        self._children.pop(ident, None)
        if reply.get("error") == "interrupted":
            raise CommandRefused
        raise OSError(reply.get("error", "the reaper process stopped"))

    def kill(self, ident: int) -> None:
        """Kill command ``ident`` and every process it started, wherever they went; a command
        not started yet never will be."""
        with contextlib.suppress(OSError):
            self._send({"op": "kill", "id": ident})

    def close(self) -> None:
        """Kill every process of every command, and stop the reaper."""
        with self._lock:
            channel, helper = self._socket, self._helper
        if channel is None or helper is None:
            return
        with contextlib.suppress(OSError):
            self._request({"op": "kill_all", "id": self.new_id()}, [], _KILL_ALL_SECONDS)
        with contextlib.suppress(OSError):
            channel.shutdown(socket.SHUT_RDWR)
        try:
            helper.wait(_KILL_ALL_SECONDS)
        except subprocess.TimeoutExpired:
            helper.kill()
            helper.wait()

    # ------------------------------------------------------------------ the channel

    def _request(
        self, request: dict[str, Any], fds: Sequence[int], timeout: float | None = None
    ) -> dict[str, Any]:
        ident = int(request["id"])
        reply = self._replies[ident] = _Reply()
        try:
            self._send(request, fds)
            if not reply.ready.wait(timeout):
                raise OSError("the reaper process did not answer")
            return reply.message
        finally:
            self._replies.pop(ident, None)

    def _send(self, message: dict[str, Any], fds: Sequence[int] = ()) -> None:
        data = json.dumps(message, ensure_ascii=False).encode()
        with self._lock:
            channel = self._socket if self._socket is not None else self._start()
            socket.send_fds(channel, [data], list(fds))

    def _start(self) -> socket.socket:
        """Start the reaper process (called with the lock held)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        python = sys.executable or "python3"
        try:
            self._helper = subprocess.Popen(
                [python, "-I", "-S", str(_REAPER_SCRIPT), str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # the terminal's Ctrl-C is for us, not for it
            )
        finally:
            theirs.close()
        self._socket = ours
        threading.Thread(target=self._listen, args=(ours,), daemon=True).start()
        return ours

    def _listen(self, channel: socket.socket) -> None:
        """Dispatch the reaper's messages until it goes away."""
        while True:
            try:
                data = channel.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                break
            message = json.loads(data)
            ident = int(message["id"])
            if message["op"] == "spawned" and ident in self._children:
                self._children[ident].pid = int(message["pid"])
            if message["op"] == "exited":
                child = self._children.pop(ident, None)
                if child is not None:
                    child.ended(int(message["returncode"]))
            elif ident in self._replies:
                self._replies[ident].message = message
                self._replies[ident].ready.set()
        with self._lock:
            if self._socket is channel:
                self._socket = None
        channel.close()
        for child in list(self._children.values()):
            child.ended(-9)  # the reaper killed everything on its way out
        self._children.clear()
        for reply in list(self._replies.values()):
            reply.ready.set()  # empty message: the caller reports the reaper gone


def _wire(text: str) -> str:
    """Any OS string (undecodable bytes included) as JSON-safe text: its bytes as Latin-1."""
    return os.fsencode(text).decode("latin-1")
