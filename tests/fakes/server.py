"""A small threaded HTTP server on 127.0.0.1 that records requests and streams scripted answers.

The provider fakes build on it: they turn a recorded request into one of the answers below.
"""

from __future__ import annotations

import json
import select
import socket
import struct
import sys
import threading
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, Literal, TypeVar


@dataclass
class RecordedRequest:
    """One request as the server saw it; header names are lower-case."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    client_port: int = 0
    """The client's port: requests on one kept-alive connection share it."""


@dataclass
class JSONAnswer:
    """A plain JSON answer, e.g. an error with a retry-after header."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class SSEAnswer:
    """A 200 ``text/event-stream`` answer; each item is sent and flushed on its own."""

    events: Iterable[bytes]
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    """Hang up after the events, before the stream is complete (a connection lost midway)."""
    reset: bool = False
    """With ``drop``: reset the connection (TCP RST) instead of closing it cleanly."""
    stall: bool = False
    """After the events, send nothing more (but ``keepalive``) until the client gives up."""
    keepalive: bytes = b""
    """Sent every ``keepalive_every`` seconds while stalled: pings or comments."""
    keepalive_every: float = 0.05


@dataclass
class Disconnect:
    """Close the connection without answering (a network failure as the client sees it)."""


Answer = JSONAnswer | SSEAnswer | Disconnect

FaultKind = Literal["stall", "stall-keepalive", "reset", "malformed"]


@dataclass
class StreamFault:
    """A 200 stream that starts a text answer, then fails, for either provider's fake.

    ``stall``: silence with the connection open; ``stall-keepalive``: only keep-alives (the
    provider's own kind unless ``keepalive`` is given); ``reset``: a TCP reset; ``malformed``:
    an event whose data is not JSON.
    """

    kind: FaultKind
    partial_text: str = "Partial"
    keepalive: bytes | None = None


MALFORMED_EVENT = b"data: {this is not json\n\n"
COMMENT_KEEPALIVE = b": keep-alive\n\n"


def fault_answer(fault: StreamFault, start: list[bytes], keepalive: bytes) -> SSEAnswer:
    """The answer for ``fault``: the ``start`` events, then the failure."""
    if fault.kind == "malformed":
        return SSEAnswer([*start, MALFORMED_EVENT])
    if fault.kind == "reset":
        return SSEAnswer(start, drop=True, reset=True)
    beat = (fault.keepalive or keepalive) if fault.kind == "stall-keepalive" else b""
    return SSEAnswer(start, stall=True, keepalive=beat)


def sse(event: str | None, data: Any) -> bytes:
    """One server-sent event; ``data`` is JSON-encoded unless it is already a string."""
    payload = data if isinstance(data, str) else json.dumps(data)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


def pieces(text: str, size: int) -> Iterator[str]:
    """``text`` cut into pieces of ``size`` characters (at least one piece)."""
    if not text:
        yield ""
    for start in range(0, len(text), size):
        yield text[start : start + size]


R = TypeVar("R")


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up on a kept-alive connection is normal, not worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeServer(ABC, Generic[R]):
    """Answers POSTs with scripted replies of type ``R`` (a queue, or a function of the request).

    Subclasses implement :meth:`answer`, which validates the request like the real API and
    turns the next reply into an Answer.
    """

    def __init__(self, responder: Callable[[RecordedRequest], R] | None = None) -> None:
        self.requests: list[RecordedRequest] = []
        self.replies: deque[R] = deque()
        self.documents: dict[str, Any] = {}
        """JSON served to GETs by path (e.g. a local server's ``/props``); others get 404."""
        self.close_after_each = False
        """Close the connection after each answer without saying so, as servers that time
        out idle kept-alive connections do."""
        self.content_length = False
        """Frame event streams with a content-length (as some servers do), not chunked."""
        self._responder = responder
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def add(self, *replies: R) -> None:
        """Queue replies, answered in order."""
        self.replies.extend(replies)

    def next_reply(self, request: RecordedRequest) -> R | None:
        """The responder's reply, else the next queued one; None when the script ran out."""
        if self._responder is not None:
            return self._responder(request)
        return self.replies.popleft() if self.replies else None

    @abstractmethod
    def answer(self, request: RecordedRequest) -> Answer:
        """The answer to one recorded request."""

    def start(self) -> FakeServer[R]:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeServer[R]:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # each event goes out as it is written

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests read ``server.requests`` instead."""

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                try:
                    body: Any = json.loads(raw or b"null")
                except json.JSONDecodeError:
                    body = raw.decode(errors="replace")
                request = RecordedRequest(
                    "POST",
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    self.client_address[1],
                )
                with server._lock:
                    server.requests.append(request)
                    answer = server.answer(request)
                self._send(answer)
                if server.close_after_each:
                    self.close_connection = True

            def do_GET(self) -> None:
                document = server.documents.get(self.path)
                if document is None:
                    self._send(JSONAnswer(404, {"error": "not found"}))
                else:
                    self._send(JSONAnswer(200, document))

            def _send(self, answer: Answer) -> None:
                if isinstance(answer, Disconnect):
                    self.close_connection = True
                    self.connection.close()
                    return
                if isinstance(answer, JSONAnswer):
                    data = json.dumps(answer.body).encode()
                    self.send_response(answer.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                    return
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("cache-control", "no-cache")
                if server.content_length:
                    whole = b"".join(answer.events)
                    self.send_header("content-length", str(len(whole)))
                    self.end_headers()
                    self.wfile.write(whole)
                    return
                self.send_header("transfer-encoding", "chunked")
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                for event in answer.events:
                    self.wfile.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
                    self.wfile.flush()
                if answer.stall:
                    self._hold(answer)
                    return
                if answer.drop:
                    self.close_connection = True
                    if answer.reset:  # SO_LINGER 0: close() sends RST instead of FIN
                        linger = struct.pack("ii", 1, 0)
                        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                    self.connection.close()
                    return
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

            def _hold(self, answer: SSEAnswer) -> None:
                """Keep the stream open and silent (but for keep-alives) until the client
                hangs up or the server stops."""
                self.close_connection = True
                while not server._stopping.is_set():
                    ready, _, _ = select.select([self.connection], [], [], answer.keepalive_every)
                    try:
                        if ready and not self.connection.recv(1):
                            return  # the client closed the connection
                        if answer.keepalive:
                            data = answer.keepalive
                            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                            self.wfile.flush()
                    except OSError:
                        return

        return Handler
