"""MCP servers as tool sources: our demo server over stdio, streamable HTTP and SSE; results
(text, isError, images, large output); servers that crash mid-call, never start, or hang."""

from __future__ import annotations

import _thread
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp_helpers import demo, start_demo_http

from backend_agent.mcp.client import McpManager
from backend_agent.mcp.config import ServerConfig
from backend_agent.mcp.names import mcp_tool_filter, tool_name
from backend_agent.mcp.tools import attach_servers
from backend_agent.tools import ToolSession
from backend_agent.tools.builtin import MAX_OUTPUT_CHARS

KEEP_ALL = mcp_tool_filter([], [])


class Started:
    """A session with some servers attached, and everything they reported."""

    def __init__(self, root: Path, servers: list[ServerConfig]) -> None:
        self.reports: list[str] = []
        self.session = ToolSession(root)
        self.manager = attach_servers(
            self.session, servers, keep=KEEP_ALL, report=self.reports.append
        )

    def mcp_tools(self) -> list[str]:
        return [name for name in self.session.tool_names if name.startswith("mcp__")]

    def close(self) -> None:
        self.manager.close()
        self.session.close()


@pytest.fixture(scope="module")
def stdio_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Started]:
    started = Started(tmp_path_factory.mktemp("stdio"), [demo(env={"DEMO_SETTING": "from-config"})])
    yield started
    started.close()


def test_server_tools_appear_with_the_servers_description_and_schema(
    stdio_demo: Started,
) -> None:
    assert stdio_demo.reports == []
    assert stdio_demo.mcp_tools() == [
        f"mcp__demo__{name}"
        for name in ("echo", "add", "fail", "crash", "slow", "pixel", "big", "env", "header")
    ]
    (spec,) = stdio_demo.session.specs(["mcp__demo__add"])
    assert spec.description == "Add two integers."
    assert spec.input_schema["required"] == ["a", "b"]
    assert spec.input_schema["properties"]["a"]["type"] == "integer"


def test_a_text_result_reaches_the_model(stdio_demo: Started) -> None:
    result = stdio_demo.session.call("mcp__demo__add", {"a": 2, "b": 40})
    assert (result.content, result.is_error) == ("42", False)


def test_is_error_results_and_bad_input_are_error_results(stdio_demo: Started) -> None:
    failed = stdio_demo.session.call("mcp__demo__fail", {"reason": "nope"})
    assert failed.is_error and "Error executing tool fail" in failed.content
    invalid = stdio_demo.session.call("mcp__demo__add", {"a": "not a number"})
    assert invalid.is_error and "a" in invalid.content
    # the server is still there
    assert stdio_demo.session.call("mcp__demo__echo", {"text": "still up"}).content == "still up"


def test_an_image_result_becomes_an_image_block(stdio_demo: Started) -> None:
    result = stdio_demo.session.call("mcp__demo__pixel", {})
    (image,) = result.images
    assert image.media_type == "image/png"
    assert image.data.startswith("iVBORw0KGgo")  # PNG signature, base64
    assert not result.is_error


def test_large_results_are_capped_with_a_note(stdio_demo: Started) -> None:
    result = stdio_demo.session.call("mcp__demo__big", {"size": 3 * MAX_OUTPUT_CHARS})
    assert result.content.startswith("x" * MAX_OUTPUT_CHARS)
    assert len(result.content) < MAX_OUTPUT_CHARS + 100
    assert "truncated" in result.content


def test_stdio_servers_get_their_env_plus_path_home_and_certificates(
    stdio_demo: Started, monkeypatch: pytest.MonkeyPatch
) -> None:
    def server_env(name: str) -> str:
        return stdio_demo.session.call("mcp__demo__env", {"name": name}).content

    assert server_env("DEMO_SETTING") == "from-config"
    assert server_env("PATH") != "<unset>" and server_env("HOME") != "<unset>"


def test_certificate_variables_are_passed_and_unrelated_ones_are_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", "/etc/ssl/custom.pem")
    monkeypatch.setenv("NODE_EXTRA_CA_CERTS", "/etc/ssl/extra.pem")
    monkeypatch.setenv("UNRELATED_SECRET", "do-not-pass")
    started = Started(tmp_path, [demo()])
    try:
        call = started.session.call
        assert call("mcp__demo__env", {"name": "SSL_CERT_FILE"}).content == "/etc/ssl/custom.pem"
        assert call("mcp__demo__env", {"name": "NODE_EXTRA_CA_CERTS"}).content.endswith("extra.pem")
        assert call("mcp__demo__env", {"name": "UNRELATED_SECRET"}).content == "<unset>"
    finally:
        started.close()


def test_a_server_that_crashes_mid_call_is_reported_once_and_withdrawn(tmp_path: Path) -> None:
    started = Started(tmp_path, [demo("fragile"), demo("steady")])
    try:
        result = started.session.call("mcp__fragile__crash", {})
        assert result.is_error and "MCP server 'fragile' stopped" in result.content
        assert not any(name.startswith("mcp__fragile__") for name in started.session.tool_names)
        (report,) = started.reports
        assert "MCP server 'fragile'" in report and "stopped" in report
        assert "demo server: about to crash" in report  # the tail of its stderr
        # the session goes on: the other server still answers, nothing is reported twice
        assert started.session.call("mcp__steady__echo", {"text": "ok"}).content == "ok"
        again = started.session.call("mcp__fragile__echo", {"text": "x"})
        assert again.is_error and "No such tool" in again.content
        assert len(started.reports) == 1
    finally:
        started.close()


def test_a_server_that_never_starts_is_reported_and_the_others_run(tmp_path: Path) -> None:
    exits = ServerConfig(
        "exits",
        "stdio",
        "test",
        command=sys.executable,
        args=("-c", "import sys; print('cannot open the database', file=sys.stderr); sys.exit(4)"),
    )
    missing = ServerConfig("missing", "stdio", "test", command="no-such-mcp-server-binary")
    started = Started(tmp_path, [missing, exits, demo()])
    try:
        missing_report, exits_report = started.reports
        assert missing_report.startswith("MCP server 'missing' (test) failed to start")
        assert "command not found: no-such-mcp-server-binary" in missing_report
        assert "MCP server 'exits'" in exits_report and "cannot open the database" in exits_report
        assert started.session.call("mcp__demo__echo", {"text": "up"}).content == "up"
        assert not any("missing" in name or "exits" in name for name in started.mcp_tools())
    finally:
        started.close()


def test_a_server_that_hangs_past_the_time_limit_is_given_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MCP_TIMEOUT", "1500")  # milliseconds, as Claude Code reads it
    silent = ServerConfig(
        "silent",
        "stdio",
        "test",
        command=sys.executable,
        args=("-c", "import time; time.sleep(120)"),
    )
    started = Started(tmp_path, [silent])
    try:
        (report,) = started.reports
        assert "MCP server 'silent'" in report and "did not answer within 1.5 s" in report
        assert started.mcp_tools() == []
    finally:
        started.close()


def test_a_call_past_the_time_limit_is_an_error_and_the_server_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MCP_TOOL_TIMEOUT", "500")
    started = Started(tmp_path, [demo()])
    try:
        late = started.session.call("mcp__demo__slow", {"seconds": 5})
        assert late.is_error and "no answer within 0.5 s" in late.content
        assert "MCP_TOOL_TIMEOUT" in late.content
        assert started.session.call("mcp__demo__echo", {"text": "still"}).content == "still"
        assert started.reports == []
    finally:
        started.close()


def test_ctrl_c_during_a_call_stops_waiting_and_the_server_stays(tmp_path: Path) -> None:
    started = Started(tmp_path, [demo()])
    try:
        timer = threading.Timer(1.0, _thread.interrupt_main)
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            started.session.call("mcp__demo__slow", {"seconds": 60})
        timer.join()
        assert started.session.call("mcp__demo__echo", {"text": "back"}).content == "back"
    finally:
        started.close()


def test_ctrl_c_while_servers_start_stops_waiting_and_close_kills_them(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    hangs = ServerConfig(
        "hangs",
        "stdio",
        "test",
        command=sys.executable,
        args=(
            "-c",
            f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); "
            "time.sleep(120)",
        ),
    )
    manager = McpManager([hangs], cwd=tmp_path, startup_timeout=60, call_timeout=60)
    timer = threading.Timer(1.5, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        manager.start()
    timer.join()
    manager.close()
    pid = int(pid_file.read_text())
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
    assert manager.connections["hangs"].status == "stopped"


def test_a_streamable_http_server_of_our_own(
    tmp_path: Path, http_server: tuple[subprocess.Popen[bytes], str]
) -> None:
    _, url = http_server
    server = ServerConfig("web", "http", "test", url=url, headers={"X-Api-Key": "${DEMO_KEY}"})
    started = Started(tmp_path, [server.expanded({"DEMO_KEY": "k-123"})])
    try:
        assert started.reports == []
        assert "mcp__web__add" in started.mcp_tools()
        assert started.session.call("mcp__web__add", {"a": 20, "b": 22}).content == "42"
        assert started.session.call("mcp__web__header", {"name": "X-Api-Key"}).content == "k-123"
        failed = started.session.call("mcp__web__fail", {"reason": "x"})
        assert failed.is_error
    finally:
        started.close()


def test_an_sse_server_and_its_loss_mid_session(tmp_path: Path) -> None:
    process, port = start_demo_http("sse")
    server = ServerConfig("events", "sse", "test", url=f"http://127.0.0.1:{port}/sse")
    started = Started(tmp_path, [server])
    try:
        assert started.session.call("mcp__events__echo", {"text": "hi"}).content == "hi"
        process.kill()
        process.wait()
        lost = started.session.call("mcp__events__echo", {"text": "hi"})
        assert lost.is_error and "MCP server 'events'" in lost.content
        assert started.mcp_tools() == []
        (report,) = started.reports
        assert "MCP server 'events' (test) stopped" in report
    finally:
        started.close()
        process.kill()


def test_tool_names_keep_to_the_characters_model_apis_accept() -> None:
    assert tool_name("my server", "get.page") == "mcp__my_server__get_page"
    assert len(tool_name("s" * 50, "t" * 50)) == 64


def test_tool_filter_narrows_by_server_or_tool_only_when_a_list_names_mcp_tools() -> None:
    everything = mcp_tool_filter([["Read", "Bash"], None], [])
    assert everything("mcp__git__git_log")
    only_git = mcp_tool_filter([["Read", "mcp__git"]], [])
    assert only_git("mcp__git__git_log") and not only_git("mcp__fs__read_file")
    one_tool = mcp_tool_filter([["mcp__fs__read_file"]], ["mcp__git"])
    assert one_tool("mcp__fs__read_file") and not one_tool("mcp__fs__write_file")
    no_git = mcp_tool_filter([], ["mcp__git"])
    assert not no_git("mcp__git__git_log") and no_git("mcp__gitlab__x")


def test_closing_stops_stdio_servers(tmp_path: Path) -> None:
    manager = McpManager([demo()], cwd=tmp_path, startup_timeout=60, call_timeout=60)
    manager.start()
    before = manager.connections["demo"].status
    manager.close()
    assert (before, manager.connections["demo"].status) == ("connected", "stopped")
