"""Connections to MCP servers on the official SDK, held open on an asyncio loop in a background
thread so that the synchronous runtime can list and call their tools.

Servers start in parallel with a time limit. A server that fails to start, or whose connection
breaks during a call, is marked failed or lost; the caller reports it (``take_report``) once.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import Future
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import anyio
import httpx2
import mcp_types
from mcp import Client, StdioServerParameters
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from backend_agent.mcp.config import ServerConfig

Status = Literal["starting", "connected", "failed", "lost", "stopped"]

# What a stdio server gets from our environment besides its configured ``env``: what programs
# need to run (paths, locale, temp dir), reach the network (proxies) and trust its certificates.
INHERITED_VARIABLES = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "TERM",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
    "XDG_RUNTIME_DIR",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "NPM_CONFIG_CACHE",
    "npm_config_cache",
    "NPM_CONFIG_REGISTRY",
    "npm_config_registry",
)
STDERR_TAIL_LINES = 8
_STDERR_TAIL_BYTES = 4000
_SHUTDOWN_SECONDS = 10.0
_WAIT_SLICE_SECONDS = 0.1
T = TypeVar("T")


@dataclass(frozen=True)
class RemoteTool:
    """A tool as its server lists it."""

    name: str
    description: str
    input_schema: dict[str, Any]


class ServerLost(Exception):
    """The connection to a server broke (the process exited, the HTTP endpoint went away)."""


class CallTimedOut(Exception):
    """A tool call got no answer within the call time limit (the server stays connected)."""


class ServerConnection:
    """One server: its SDK client, held open by a task on the manager's loop."""

    def __init__(self, config: ServerConfig, cwd: Path) -> None:
        self.config = config
        self.cwd = cwd
        self.status: Status = "starting"
        self.error = ""
        self.tools: list[RemoteTool] = []
        self.client: Client | None = None
        self.reported = False
        # Closed by close_stderr() when the manager stops.
        self._stderr = (
            tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
            if config.transport == "stdio"
            else None
        )
        self.ready = asyncio.Event()
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        """Connect, list the tools, then hold the connection open until ``stop`` is set."""
        try:
            async with Client(self._transport()) as client:
                self.tools = await _list_tools(client)
                self.client = client
                self.status = "connected"
                self.ready.set()
                await self.stop.wait()
        except Exception as exc:
            if self.status in ("starting", "connected"):
                self.fail("failed" if self.status == "starting" else "lost", describe_error(exc))
        finally:
            self.client = None
            if self.status in ("starting", "connected"):
                self.status = "stopped"
            self.ready.set()

    def fail(self, status: Literal["failed", "lost"], error: str) -> None:
        self.status, self.error = status, error

    def stderr_tail(self) -> str:
        """The last lines the server wrote to stderr (stdio servers only)."""
        if self._stderr is None or self._stderr.closed:
            return ""
        # pread leaves the shared file offset alone: the server may still be writing.
        fd = self._stderr.fileno()
        size = os.fstat(fd).st_size
        start = max(0, size - _STDERR_TAIL_BYTES)
        text = os.pread(fd, size - start, start).decode("utf-8", "replace")
        lines = [line.rstrip() for line in text.splitlines() if line.strip()]
        return "\n".join(lines[-STDERR_TAIL_LINES:])

    def close_stderr(self) -> None:
        if self._stderr is not None:
            self._stderr.close()

    def _transport(self) -> AbstractAsyncContextManager[Any]:
        config = self.config
        if config.transport == "stdio":
            assert self._stderr is not None
            inherited = {key: os.environ[key] for key in INHERITED_VARIABLES if key in os.environ}
            parameters = StdioServerParameters(
                command=config.command,
                args=list(config.args),
                env=inherited | dict(config.env),
                cwd=self.cwd,
            )
            return stdio_client(parameters, errlog=self._stderr)
        if config.transport == "sse":
            return sse_client(config.url, headers=dict(config.headers))
        return _streamable_http(config.url, dict(config.headers))


@asynccontextmanager
async def _streamable_http(url: str, headers: dict[str, str]) -> AsyncIterator[Any]:
    """A streamable-HTTP transport whose HTTP client sends the configured headers."""
    timeout = httpx2.Timeout(30.0, read=300.0)
    async with (
        httpx2.AsyncClient(headers=headers, timeout=timeout) as http,
        streamable_http_client(url, http_client=http) as streams,
    ):
        yield streams


async def _list_tools(client: Client) -> list[RemoteTool]:
    tools: list[RemoteTool] = []
    cursor: str | None = None
    while True:
        page = await client.list_tools(cursor=cursor)
        tools += [
            RemoteTool(tool.name, tool.description or "", dict(tool.input_schema))
            for tool in page.tools
        ]
        cursor = page.next_cursor
        if not cursor:
            return tools


def describe_error(exc: BaseException) -> str:
    """One line for what went wrong: the innermost cause, exception groups unwrapped."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"command not found: {exc.filename}"
    if isinstance(exc, MCPError) and exc.code == mcp_types.CONNECTION_CLOSED:
        return "the connection closed (the server exited or hung up)"
    if isinstance(exc, httpx2.HTTPError):
        return f"HTTP error: {exc}"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _is_connection_failure(exc: BaseException) -> bool:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, MCPError):
        return exc.code == mcp_types.CONNECTION_CLOSED
    return isinstance(
        exc,
        OSError | httpx2.TransportError | anyio.ClosedResourceError | anyio.BrokenResourceError,
    )


def _wait_interruptibly(future: Future[T]) -> T:
    """The future's result, waited for in short slices so that Ctrl-C (a KeyboardInterrupt,
    which only the main thread sees between slices) is not held up by a long call."""
    while True:
        try:
            return future.result(timeout=_WAIT_SLICE_SECONDS)
        except TimeoutError:
            continue


class McpManager:
    """Starts a set of servers, calls their tools from any thread, and stops them."""

    def __init__(
        self,
        servers: Sequence[ServerConfig],
        *,
        cwd: Path,
        startup_timeout: float,
        call_timeout: float,
    ) -> None:
        self.connections = {server.name: ServerConnection(server, cwd) for server in servers}
        self.startup_timeout = startup_timeout
        self.call_timeout = call_timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="mcp", daemon=True)
        self._closed = False
        self.on_reconnected: Callable[[str], None] = _nothing
        """Called with a server's name once ``reconnect`` connected it (to add its tools)."""

    def start(self) -> None:
        """Start every server in parallel; return when all answered or the time limit passed."""
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start_all(), self._loop)
        try:
            _wait_interruptibly(future)
        except BaseException:  # Ctrl-C: stop waiting; close() stops the servers
            future.cancel()
            raise

    async def _start_all(self) -> None:
        connections = list(self.connections.values())
        for connection in connections:
            connection.task = asyncio.create_task(connection.run())
        waits = {asyncio.create_task(c.ready.wait()): c for c in connections}
        if not waits:
            return
        _, pending = await asyncio.wait(waits, timeout=self.startup_timeout)
        for waiter in pending:
            waiter.cancel()
            connection = waits[waiter]
            connection.fail("failed", f"did not answer within {self.startup_timeout:g} s")
            if connection.task is not None:
                connection.task.cancel()

    def call(self, server: str, tool: str, arguments: dict[str, Any]) -> mcp_types.CallToolResult:
        """Call one tool; ServerLost when the connection broke (the server is then ``lost``),
        CallTimedOut past the time limit; other failures (protocol errors) raise as they are."""
        connection = self.connections[server]
        client = connection.client
        if connection.status != "connected" or client is None:
            raise ServerLost(connection.error or f"MCP server '{server}' is not connected")
        future = asyncio.run_coroutine_threadsafe(
            client.call_tool(tool, arguments, read_timeout_seconds=self.call_timeout), self._loop
        )
        try:
            return _wait_interruptibly(future)
        except Exception as exc:
            if isinstance(exc, MCPError) and exc.code == mcp_types.REQUEST_TIMEOUT:
                raise CallTimedOut(
                    f"no answer within {self.call_timeout:g} s "
                    "(MCP_TOOL_TIMEOUT, in milliseconds, sets the limit)"
                ) from exc
            if not _is_connection_failure(exc):
                raise
            connection.fail("lost", describe_error(exc))
            self._loop.call_soon_threadsafe(connection.stop.set)
            raise ServerLost(connection.error) from exc
        except BaseException:  # e.g. Ctrl-C while waiting: stop the call, then propagate
            future.cancel()
            raise

    def reconnect(self, name: str) -> ServerConnection:
        """Stop server ``name`` (whatever its state) and start it afresh; returns its new
        connection, connected or failed (``error`` says why)."""
        future = asyncio.run_coroutine_threadsafe(self._restart(name), self._loop)
        try:
            connection = _wait_interruptibly(future)
        except BaseException:
            future.cancel()
            raise
        if connection.status == "connected":
            self.on_reconnected(name)
        return connection

    async def _restart(self, name: str) -> ServerConnection:
        old = self.connections[name]
        old.stop.set()
        if old.task is not None:
            if old.status == "starting":
                old.task.cancel()
            await asyncio.gather(old.task, return_exceptions=True)
        old.close_stderr()
        new = ServerConnection(old.config, old.cwd)
        self.connections[name] = new
        new.task = asyncio.create_task(new.run())
        try:
            await asyncio.wait_for(new.ready.wait(), self.startup_timeout)
        except TimeoutError:
            new.fail("failed", f"did not answer within {self.startup_timeout:g} s")
            new.task.cancel()
        return new

    def take_report(self, name: str) -> str | None:
        """What to tell the user about a failed or lost server, the first time only."""
        connection = self.connections[name]
        if connection.reported or connection.status not in ("failed", "lost"):
            return None
        connection.reported = True
        verb = "failed to start" if connection.status == "failed" else "stopped"
        message = f"MCP server '{name}' ({connection.config.source}) {verb}: {connection.error}"
        tail = connection.stderr_tail()
        if tail:
            message += "\n  its stderr ended with:\n" + "\n".join(
                f"    {line}" for line in tail.splitlines()
            )
        return message

    def close(self) -> None:
        """Stop every server (closing stdio pipes, ending HTTP sessions) and the loop thread."""
        if self._closed:
            return
        self._closed = True
        if self._thread.is_alive():
            future = asyncio.run_coroutine_threadsafe(self._stop_all(), self._loop)
            try:
                future.result(timeout=_SHUTDOWN_SECONDS)
            except TimeoutError:
                future.cancel()
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=_SHUTDOWN_SECONDS)
        if not self._thread.is_alive():
            self._loop.close()
        for connection in self.connections.values():
            connection.close_stderr()

    async def _stop_all(self) -> None:
        tasks = []
        for connection in self.connections.values():
            connection.stop.set()
            if connection.task is None:
                continue
            if connection.status == "starting":
                connection.task.cancel()
            tasks.append(connection.task)
        await asyncio.gather(*tasks, return_exceptions=True)


def _nothing(name: str) -> None:
    """The default ``on_reconnected``: nobody to tell."""
