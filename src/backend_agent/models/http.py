"""A small HTTP/1.1 client for the model APIs: JSON requests on one kept-alive connection, and
server-sent events read under an idle watchdog and an overall deadline.

It replaces the provider SDKs on the hot path (they cost ~0.8 s and ~55 MiB to import) and
gives direct control of every socket wait: a stream that stops sending content ends the try,
whether the server goes silent or keeps sending pings and keep-alive comments.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from backend_agent import __version__
from backend_agent.errors import UserError
from backend_agent.messages import valid_text
from backend_agent.models.config import Timeouts

USER_AGENT = f"backend-agent/{__version__}"
MAX_ERROR_BODY_BYTES = 1 << 20
READ_BYTES = 1 << 16
PROBE_TIMEOUT_S = 3.0
DRAIN_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class Endpoint:
    """Where a provider's API lives: ``scheme://host:port/prefix``, checked once up front."""

    scheme: str
    host: str
    port: int
    prefix: str  # the base URL's path, without a trailing slash

    @classmethod
    def parse(cls, url: str, variable: str) -> Endpoint:
        """The endpoint of a base URL; UserError (never retried) when it is not a usable one."""
        usage = f"expected http(s)://host[:port][/path], set by --base-url or {variable}"
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as error:
            raise UserError(f"base URL {url!r} is not valid ({error}); {usage}") from None
        if parts.scheme not in ("http", "https"):
            what = f"scheme {parts.scheme!r} is not supported" if parts.scheme else "not a URL"
            raise UserError(f"base URL {url!r}: {what}; {usage}")
        if not parts.hostname:
            raise UserError(f"base URL {url!r} has no host; {usage}")
        default_port = 443 if parts.scheme == "https" else 80
        return cls(parts.scheme, parts.hostname, port or default_port, parts.path.rstrip("/"))

    def url(self, path: str = "") -> str:
        """The URL of ``path`` below the base URL (the base URL itself for "")."""
        return f"{self.origin()}{self.prefix}{path}"

    def origin(self) -> str:
        """``scheme://host[:port]``, the port left out when it is the scheme's default."""
        default = self.port == (443 if self.scheme == "https" else 80)
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}{'' if default else f':{self.port}'}"


class TransportError(Exception):
    """The request got no usable answer; the message says what happened, in a few words."""


class ConnectFailed(TransportError):
    """No connection: the name did not resolve, the port refused, the handshake failed."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class StreamBroken(TransportError):
    """The connection was lost before the answer was complete."""


class StreamStalled(TransportError):
    """No content arrived for the idle timeout (pings and keep-alive comments do not count)."""


class DeadlineExceeded(TransportError):
    """The request took longer than its overall deadline."""


class MalformedStream(TransportError):
    """The answer was not the server-sent events the protocol promises."""


class HTTPStatusError(Exception):
    """The server answered with an error status; ``body`` is its decoded JSON (or text)."""

    def __init__(self, status: int, headers: dict[str, str], body: Any) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.headers = headers
        self.body = body


@dataclass(frozen=True)
class ServerSentEvent:
    """One event of a ``text/event-stream``: its type (``message`` when unnamed) and data."""

    event: str
    data: str


class SSEParser:
    """Turns bytes into events, incrementally and in linear time; comments are dropped."""

    def __init__(self) -> None:
        self._pending: list[bytes] = []  # the start of an unfinished line
        self._event = ""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        if not chunk:
            return []
        self._pending.append(chunk)
        if b"\n" not in chunk and b"\r" not in chunk:
            return []
        data = b"".join(self._pending)
        self._pending = []
        if data.endswith(b"\r"):  # perhaps the first half of a CRLF: decide with the next chunk
            data, self._pending = data[:-1], [b"\r"]
        *complete, rest = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        if rest:
            self._pending.insert(0, rest)
        events: list[ServerSentEvent] = []
        for raw in complete:
            if not raw:
                if self._data:
                    events.append(ServerSentEvent(self._event or "message", "\n".join(self._data)))
                self._event, self._data = "", []
                continue
            name, _, value = raw.decode("utf-8", "replace").partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                self._data.append(value)
            elif name == "event":
                self._event = value
        return events

    def finish(self) -> list[ServerSentEvent]:
        """The events the end of the stream completes (a last CR ends its line)."""
        return self.feed(b"\n") if b"".join(self._pending).endswith(b"\r") else []


def json_body(value: Any) -> bytes:
    """A request body: compact JSON in UTF-8, lone surrogates replaced (see ``valid_text``)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return valid_text(text).encode("utf-8")


def event_json(event: ServerSentEvent) -> Any:
    """The JSON data of an event; MalformedStream when it is not JSON."""
    try:
        return json.loads(event.data)
    except ValueError:
        raise MalformedStream(f"an event's data is not JSON: {event.data[:80]!r}") from None


def is_content(event: ServerSentEvent) -> bool:
    """Whether an event is progress for the idle watchdog (a ``ping`` is not)."""
    return event.event != "ping" and bool(event.data.strip())


class HttpClient:
    """POSTs JSON to one endpoint and reads the streamed answer; not thread-safe."""

    def __init__(self, endpoint: Endpoint, timeouts: Timeouts) -> None:
        self.endpoint = endpoint
        self.timeouts = timeouts
        self._connection: http.client.HTTPConnection | None = None
        self._wait = 0.0  # the timeout of the connection's socket, as last set

    def stream(
        self,
        path: str,
        headers: dict[str, str],
        body: bytes,
        *,
        is_progress: Callable[[ServerSentEvent], bool] = is_content,
        is_final: Callable[[ServerSentEvent], bool] = lambda event: False,
    ) -> Iterator[ServerSentEvent]:
        """POST ``body`` and yield the events of the answer as they arrive, up to the end of
        the answer or its final event (after which the rest is drained for reuse).

        Raises HTTPStatusError for an error status, and a TransportError when the connection
        fails, breaks, stalls for ``timeouts.idle`` or runs past ``timeouts.total``.
        """
        deadline = time.monotonic() + self.timeouts.total
        response = self._post(path, headers, body, deadline)
        reusable = False
        try:
            if response.status >= 400:
                raise HTTPStatusError(
                    response.status, _headers(response), self._error_body(response, deadline)
                )
            kind = (response.getheader("content-type") or "").partition(";")[0].strip().lower()
            if kind and kind != "text/event-stream":
                body = self._error_body(response, deadline)
                raise MalformedStream(f"the answer is {kind}, not an event stream: {body!s:.120}")
            parser = SSEParser()
            last_progress = time.monotonic()
            while chunk := self._read(response, deadline, last_progress):
                for event in parser.feed(chunk):
                    if is_progress(event):
                        last_progress = time.monotonic()
                    yield event
                    if is_final(event):
                        reusable = self._drain(response)
                        return
            reusable = True
            yield from parser.finish()
        finally:
            if not reusable:
                self.close()  # a half-read answer leaves the connection unusable
            else:  # marks the answer done (read1 does not, at the end of a Content-Length body)
                response.close()

    def get_json(self, host_path: str, timeout: float = PROBE_TIMEOUT_S) -> Any:
        """GET a small JSON document at ``host_path`` (a path from the host's root, e.g. a
        server's model list); None when that fails."""
        connection = self._new_connection(timeout)
        try:
            target = self._target(host_path)
            connection.request("GET", target, headers={"user-agent": USER_AGENT})
            response = connection.getresponse()
            data = response.read(MAX_ERROR_BODY_BYTES)
            return json.loads(data) if response.status == 200 else None
        except (OSError, http.client.HTTPException, ValueError):
            return None
        finally:
            connection.close()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._wait = 0.0

    def _limit_wait(self, seconds: float) -> None:
        """Let socket reads block for ``seconds``, or up to a 64th of the idle timeout more:
        a steady stream then does not reset the socket's timeout on every read."""
        sock = self._connection.sock if self._connection is not None else None
        if sock is None:
            return
        slack = max(self.timeouts.idle / 64, 0.001)
        if not seconds <= self._wait <= seconds + slack:
            self._wait = max(seconds, 0.0) + slack / 2
            sock.settimeout(self._wait)

    def _post(
        self, path: str, headers: dict[str, str], body: bytes, deadline: float
    ) -> http.client.HTTPResponse:
        all_headers = {
            "user-agent": USER_AGENT,
            "content-type": "application/json",
            "accept": "application/json",
            **headers,
        }
        target = self._target(f"{self.endpoint.prefix}{path}")
        for fresh in (False, True):
            reused = self._connection is not None and not fresh
            if fresh or self._connection is None:
                self.close()
                self._connection = self._new_connection(self.timeouts.connect)
            connection = self._connection
            try:
                _connect(connection, self.endpoint)
                self._limit_wait(min(self.timeouts.idle, deadline - time.monotonic()))
                connection.request("POST", target, body=body, headers=all_headers)
                return connection.getresponse()
            except TimeoutError:
                self.close()
                raise StreamStalled(f"no answer within {self.timeouts.idle:g} s") from None
            except (ConnectionError, http.client.HTTPException) as error:
                self.close()
                if not reused:  # a kept-alive connection the server closed: one fresh try
                    raise StreamBroken(_describe(error)) from error
            except OSError as error:
                self.close()
                raise StreamBroken(_describe(error)) from error
        raise AssertionError("unreachable: the fresh connection either answers or raises")

    def _read(
        self, response: http.client.HTTPResponse, deadline: float, last_progress: float
    ) -> bytes:
        """The next bytes of the answer (b"" at its end), within the watchdog's limits.

        A read that times out leaves the connection unusable, so the socket may only time out
        once a limit is really reached: a little after it, never before.
        """
        now = time.monotonic()
        if now >= deadline:
            raise DeadlineExceeded(f"the answer took over {self.timeouts.total:g} s")
        idle_left = last_progress + self.timeouts.idle - now
        if idle_left <= 0:
            raise StreamStalled(f"no content for {self.timeouts.idle:g} s")
        self._limit_wait(min(idle_left, deadline - now))
        try:
            return response.read1(READ_BYTES)
        except TimeoutError:
            if deadline - now < idle_left:
                raise DeadlineExceeded(f"the answer took over {self.timeouts.total:g} s") from None
            raise StreamStalled(f"no content for {self.timeouts.idle:g} s") from None
        except (OSError, http.client.HTTPException) as error:
            raise StreamBroken(_describe(error)) from error

    def _drain(self, response: http.client.HTTPResponse) -> bool:
        """Read what follows the final event (usually just the end of the chunked body);
        whether the connection can serve the next request."""
        if self._connection is None:
            return False
        self._limit_wait(DRAIN_TIMEOUT_S)
        try:
            for _ in range(16):
                if not response.read1(READ_BYTES):
                    return True
        except (OSError, http.client.HTTPException):
            pass
        return False

    def _error_body(self, response: http.client.HTTPResponse, deadline: float) -> Any:
        self._limit_wait(max(0.1, min(self.timeouts.idle, deadline - time.monotonic())))
        try:
            data = response.read(MAX_ERROR_BODY_BYTES)
        except (OSError, http.client.HTTPException):
            data = b""
        text = data.decode("utf-8", "replace")
        try:
            return json.loads(text)
        except ValueError:
            return text.strip()

    def _target(self, host_path: str) -> str:
        """The request target: the path, or the absolute URL when talking to a plain proxy."""
        if self.endpoint.scheme == "http" and _proxy_for(self.endpoint) is not None:
            return self.endpoint.origin() + host_path
        return host_path

    def _new_connection(self, timeout: float) -> http.client.HTTPConnection:
        endpoint = self.endpoint
        proxy = _proxy_for(endpoint)
        host, port = (endpoint.host, endpoint.port) if proxy is None else (proxy.host, proxy.port)
        connection: http.client.HTTPConnection
        if endpoint.scheme == "https":
            connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=_tls())
            if proxy is not None:
                connection.set_tunnel(endpoint.host, endpoint.port, headers=proxy.headers)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=timeout)
        return connection


def _connect(connection: http.client.HTTPConnection, endpoint: Endpoint) -> None:
    """Open the connection if it is not open, turning failures into ConnectFailed."""
    if connection.sock is not None:
        return
    try:
        connection.connect()
    except socket.gaierror as error:
        raise ConnectFailed(f"cannot resolve host {endpoint.host!r} ({error.strerror})") from error
    except ssl.SSLCertVerificationError as error:
        raise ConnectFailed(
            f"TLS certificate of {endpoint.host} not trusted ({error.verify_message})",
            retryable=False,
        ) from error
    except TimeoutError as error:  # TCP retried the handshake meanwhile: no point in more
        raise ConnectFailed(
            f"connecting to {endpoint.host}:{endpoint.port} timed out", retryable=False
        ) from error
    except OSError as error:
        raise ConnectFailed(_describe(error)) from error


def _headers(response: http.client.HTTPResponse) -> dict[str, str]:
    return {name.lower(): value for name, value in response.getheaders()}


def _describe(error: BaseException) -> str:
    """A few words for a socket or protocol failure."""
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ConnectionResetError | BrokenPipeError):
        return "connection reset by the server"
    if isinstance(error, http.client.RemoteDisconnected | http.client.IncompleteRead):
        return "the server closed the connection before the answer was complete"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return str(error) or type(error).__name__


_tls_context: ssl.SSLContext | None = None


def _tls() -> ssl.SSLContext:
    """The TLS context: the operating system's trust store when truststore is installed."""
    global _tls_context
    if _tls_context is None:
        try:
            import truststore

            _tls_context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        except ImportError:
            _tls_context = ssl.create_default_context()
    return _tls_context


@dataclass(frozen=True)
class _Proxy:
    host: str
    port: int
    headers: dict[str, str]


def _proxy_for(endpoint: Endpoint) -> _Proxy | None:
    """The proxy from ``HTTPS_PROXY``/``HTTP_PROXY`` for ``endpoint``, unless ``NO_PROXY``
    (or the host being local) says to connect directly."""
    if _bypass_proxy(endpoint.host):
        return None
    name = f"{endpoint.scheme}_proxy"
    url = os.environ.get(name) or os.environ.get(name.upper()) or ""
    if not url:
        return None
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if not parts.hostname:
        return None
    headers: dict[str, str] = {}
    if parts.username:
        secret = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        headers["Proxy-Authorization"] = "Basic " + base64.b64encode(secret.encode()).decode()
    return _Proxy(parts.hostname, parts.port or 80, headers)


def _bypass_proxy(host: str) -> bool:
    if host in ("localhost", "127.0.0.1", "::1"):
        return True
    listed = os.environ.get("no_proxy") or os.environ.get("NO_PROXY") or ""
    for entry in (item.strip().lower() for item in listed.split(",")):
        if entry == "*":
            return True
        entry = entry.lstrip(".")
        if entry and (host == entry or host.endswith("." + entry)):
            return True
    return False
