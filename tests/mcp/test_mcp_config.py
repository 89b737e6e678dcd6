"""MCP configuration: Claude Code's scopes and their precedence, --mcp-config and
--strict-mcp-config, agent frontmatter entries, and ${VAR} expansion."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend_agent.mcp.config import (
    McpConfigError,
    MissingVariable,
    ServerConfig,
    configured_servers,
    parse_server,
)

NAMES = st.from_regex(r"[A-Z_][A-Z0-9_]{0,12}", fullmatch=True)
PLAIN_TEXT = st.text(alphabet=st.characters(blacklist_characters="$"), max_size=30)


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data))


def stdio(command: str) -> dict[str, Any]:
    return {"command": command, "args": [], "env": {}}


def load(project: Path, home: Path, **options: Any) -> dict[str, ServerConfig]:
    servers = configured_servers(project, home=home, report=pytest.fail, **options)
    return {server.name: server for server in servers}


def test_local_beats_project_beats_user_and_cli_beats_all(project: Path, home: Path) -> None:
    write_json(
        home / ".claude.json",
        {
            "mcpServers": {"a": stdio("user-a"), "b": stdio("user-b"), "c": stdio("user-c")},
            "projects": {str(project.resolve()): {"mcpServers": {"c": stdio("local-c")}}},
            "otherSetting": True,
        },
    )
    write_json(project / ".mcp.json", {"mcpServers": {"b": stdio("project-b"), "c": stdio("p")}})
    cli = json.dumps({"mcpServers": {"a": stdio("cli-a")}})

    servers = load(project, home, mcp_configs=[cli])

    assert {name: s.command for name, s in servers.items()} == {
        "a": "cli-a",
        "b": "project-b",
        "c": "local-c",
    }
    assert servers["b"].source == str(project.resolve() / ".mcp.json")
    assert servers["a"].source == "--mcp-config"


def test_strict_mcp_config_uses_only_the_given_configs(project: Path, home: Path) -> None:
    write_json(project / ".mcp.json", {"mcpServers": {"project": stdio("p")}})
    config_file = project / "servers.json"
    write_json(config_file, {"mcpServers": {"from-file": {"type": "sse", "url": "http://h/sse"}}})

    servers = load(project, home, mcp_configs=[str(config_file)], strict=True)

    assert list(servers) == ["from-file"]
    assert servers["from-file"].transport == "sse" and servers["from-file"].source == str(
        config_file
    )


def test_agent_entries_name_configured_servers_or_declare_new_ones(
    project: Path, home: Path
) -> None:
    write_json(project / ".mcp.json", {"mcpServers": {"git": stdio("git-server")}})
    reports: list[str] = []
    servers = configured_servers(
        project,
        home=home,
        agent="reviewer",
        agent_entries=["git", "unknown", {"docs": {"type": "http", "url": "http://h/mcp"}}],
        report=reports.append,
    )
    assert [(s.name, s.transport) for s in servers] == [("git", "stdio"), ("docs", "http")]
    assert servers[1].source == "agent 'reviewer'"
    (report,) = reports
    assert "agent 'reviewer' lists MCP server 'unknown'" in report and "not configured" in report


def test_mcp_config_errors_name_the_file_and_the_server(project: Path, home: Path) -> None:
    (project / ".mcp.json").write_text('{\n  "mcpServers": {\n    not json')
    with pytest.raises(McpConfigError, match=r"\.mcp\.json:3:5: invalid JSON: "):
        load(project, home)
    (project / ".mcp.json").write_bytes(b'{\n  "mcpServers": {"caf\xe9": {}}}\n')  # Latin-1
    with pytest.raises(McpConfigError, match=r"\.mcp\.json:2: not UTF-8 text \(byte 0xe9\)"):
        load(project, home)
    write_json(project / ".mcp.json", {"mcpServers": {"broken": {"args": ["x"]}}})
    with pytest.raises(McpConfigError, match="MCP server 'broken': 'url' must be"):
        load(project, home)
    with pytest.raises(McpConfigError, match=r"--mcp-config missing\.json: no such file"):
        load(project, home, mcp_configs=["missing.json"], strict=True)


def test_transports_and_fields_are_validated() -> None:
    assert parse_server("s", {"type": "streamable-http", "url": "u"}, "t").transport == "http"
    assert parse_server("s", {"url": "http://h"}, "t").transport == "http"
    with pytest.raises(McpConfigError, match="'type' must be one of stdio, http, sse"):
        parse_server("s", {"type": "websocket", "url": "ws://h"}, "t")
    with pytest.raises(McpConfigError, match="'env' must be an object of string values"):
        parse_server("s", {"command": "x", "env": {"A": 1}}, "t")
    with pytest.raises(McpConfigError, match="'args' must be a list of strings"):
        parse_server("s", {"command": "x", "args": "--flag"}, "t")


def test_variables_expand_in_command_args_env_url_and_headers() -> None:
    environ = {"BIN": "/opt/bin", "TOKEN": "t0k", "HOST": "example.test"}
    stdio_server = parse_server(
        "tools",
        {
            "command": "${BIN}/server",
            "args": ["--port", "${PORT:-8080}"],
            "env": {"API_TOKEN": "${TOKEN}", "MODE": "${MODE:-}"},
        },
        "t",
    ).expanded(environ)
    assert stdio_server.command == "/opt/bin/server"
    assert stdio_server.args == ("--port", "8080")
    assert dict(stdio_server.env) == {"API_TOKEN": "t0k", "MODE": ""}
    http_server = parse_server(
        "web",
        {
            "type": "http",
            "url": "https://${HOST}/mcp",
            "headers": {"Authorization": "Bearer ${TOKEN}"},
        },
        "t",
    ).expanded(environ)
    assert http_server.url == "https://example.test/mcp"
    assert dict(http_server.headers) == {"Authorization": "Bearer t0k"}


def test_a_missing_variable_names_the_server_and_the_variable() -> None:
    server = parse_server("github", {"command": "x", "env": {"T": "${GITHUB_TOKEN_X}"}}, "t")
    with pytest.raises(MissingVariable) as caught:
        server.expanded({})
    assert caught.value.variable == "GITHUB_TOKEN_X"
    assert str(caught.value).startswith(
        "MCP server 'github': environment variable GITHUB_TOKEN_X is not set"
    )


@given(name=NAMES, value=PLAIN_TEXT, default=st.text(alphabet="abc-_ 1", max_size=8))
def test_expansion_uses_the_value_when_set_and_the_default_otherwise(
    name: str, value: str, default: str
) -> None:
    server = ServerConfig("s", "stdio", "t", command="run", args=(f"<${{{name}:-{default}}}>",))
    assert server.expanded({name: value}).args == (f"<{value}>",)
    assert server.expanded({}).args == (f"<{default}>",)


@given(text=PLAIN_TEXT)
def test_text_without_variables_is_left_as_it_is(text: str) -> None:
    server = ServerConfig("s", "http", "t", url=text, headers={"H": text})
    expanded = server.expanded({})
    assert (expanded.url, dict(expanded.headers)) == (text, {"H": text})
