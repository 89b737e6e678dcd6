"""``backend-agent mcp add/remove/list`` on real files and real servers, and the five presets
(github and brave need tokens: their entries are checked, and a missing token is named)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp_helpers import DEMO_SERVER, demo_entry

from backend_agent.errors import UserError
from backend_agent.mcp.config import parse_server
from backend_agent.mcp.presets import PRESETS, preset_entry
from backend_agent.mcp.startup import McpOptions
from backend_agent.models.registry import ModelChoice
from backend_agent.sessions.config import SessionConfig
from backend_agent.sessions.session import Session


def mcp(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backend_agent", "mcp", *args],
        cwd=project,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )


def servers_in(path: Path) -> dict[str, Any]:
    servers: dict[str, Any] = json.loads(path.read_text())["mcpServers"]
    return servers


def test_add_and_remove_edit_mcp_json_keeping_other_entries(project: Path) -> None:
    (project / ".mcp.json").write_text(
        json.dumps({"mcpServers": {"kept": {"command": "keep-me"}}, "note": "mine"})
    )
    added = mcp(project, "add", "api", "--env", "TOKEN=${API_TOKEN:-dev}", "--", "api-mcp", "-v")
    assert added.returncode == 0, added.stderr
    web = mcp(project, "add", "docs", "--url", "https://docs.test/sse", "--transport", "sse")
    web_with_header = mcp(
        project, "add", "web", "--url", "http://127.0.0.1:9/mcp", "--header", "X-Key: ${KEY}"
    )
    assert web.returncode == 0 and web_with_header.returncode == 0

    text = (project / ".mcp.json").read_text()
    assert text.startswith('{\n  "mcpServers": {\n')  # pretty JSON
    data = json.loads(text)
    assert data["note"] == "mine"
    assert data["mcpServers"] == {
        "kept": {"command": "keep-me"},
        "api": {"command": "api-mcp", "args": ["-v"], "env": {"TOKEN": "${API_TOKEN:-dev}"}},
        "docs": {"type": "sse", "url": "https://docs.test/sse"},
        "web": {"type": "http", "url": "http://127.0.0.1:9/mcp", "headers": {"X-Key": "${KEY}"}},
    }

    removed = mcp(project, "remove", "api")
    assert removed.returncode == 0 and "Removed MCP server 'api'" in removed.stdout
    assert list(servers_in(project / ".mcp.json")) == ["kept", "docs", "web"]


def test_add_refuses_duplicates_and_bad_input_with_one_line(project: Path) -> None:
    assert mcp(project, "add", "one", "--", "server").returncode == 0
    duplicate = mcp(project, "add", "one", "--", "other")
    assert duplicate.returncode == 2
    assert "already has an MCP server named 'one'" in duplicate.stderr
    assert len(duplicate.stderr.strip().splitlines()) == 1
    no_command = mcp(project, "add", "two")
    assert "give the server's command after --, or --url URL" in no_command.stderr
    missing = mcp(project, "remove", "nope")
    assert missing.returncode == 2 and "no MCP server named 'nope'" in missing.stderr


def test_user_scope_goes_to_claude_json_and_keeps_its_other_keys(project: Path, home: Path) -> None:
    (home / ".claude.json").write_text(json.dumps({"theme": "dark", "projects": {}}))
    done = mcp(project, "add", "--scope", "user", "everywhere", "--", "tool-server")
    assert done.returncode == 0, done.stderr
    data = json.loads((home / ".claude.json").read_text())
    assert data["theme"] == "dark" and "everywhere" in data["mcpServers"]
    assert not (project / ".mcp.json").exists()
    assert mcp(project, "remove", "everywhere").returncode == 0
    assert json.loads((home / ".claude.json").read_text())["mcpServers"] == {}


def test_list_starts_each_server_and_shows_status_and_tool_count(project: Path, home: Path) -> None:
    (project / ".mcp.json").write_text(
        json.dumps(
            {
                "mcpServers": {
                    "demo": demo_entry(),
                    "broken": {"command": "no-such-mcp-binary"},
                    "github": PRESETS["github"].entry(project),
                }
            }
        )
    )
    env_without_token = {k: v for k, v in os.environ.items() if k != "GITHUB_PERSONAL_ACCESS_TOKEN"}
    done = subprocess.run(
        [sys.executable, "-m", "backend_agent", "mcp", "list", "--json", "--timeout", "60"],
        cwd=project,
        env=env_without_token,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert rows["demo"]["status"] == "connected" and rows["demo"]["tools"] == 9
    assert rows["demo"]["target"] == f"{sys.executable} {DEMO_SERVER}"
    assert rows["demo"]["source"] == str(project.resolve() / ".mcp.json")
    assert rows["broken"]["status"] == "failed"
    assert "command not found: no-such-mcp-binary" in rows["broken"]["error"]
    assert rows["github"]["status"] == "failed"
    assert "GITHUB_PERSONAL_ACCESS_TOKEN is not set" in rows["github"]["error"]


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_writes_a_valid_entry(name: str, project: Path) -> None:
    done = mcp(project, "add", "--preset", name)
    assert done.returncode == 0, done.stderr
    entry = servers_in(project / ".mcp.json")[name]
    server = parse_server(name, entry, "test")
    assert server.transport == "stdio"
    package = PRESETS[name].package
    if name == "git":
        assert "--repository" in server.args and str(project.resolve()) in server.args
    else:
        assert server.command == "npx" and server.args[:2] == ("-y", package)
    if name == "filesystem":
        assert server.args[-1] == str(project.resolve())


def test_token_presets_name_their_variable_when_it_is_missing(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITHUB_PERSONAL_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("BRAVE_API_KEY", raising=False)
    assert preset_entry("github", project)["env"] == {
        "GITHUB_PERSONAL_ACCESS_TOKEN": "${GITHUB_PERSONAL_ACCESS_TOKEN}"
    }
    assert preset_entry("brave", project)["env"] == {"BRAVE_API_KEY": "${BRAVE_API_KEY}"}
    config_file = json.dumps(
        {
            "mcpServers": {
                "github": preset_entry("github", project),
                "brave": preset_entry("brave", project),
            }
        }
    )
    script = project / "script.yaml"
    script.write_text("turns: ['ok']")
    config = SessionConfig(
        cwd=project, model=ModelChoice(f"scripted:{script}"), mcp=McpOptions([config_file])
    )

    with Session.open(config) as run:  # the session goes on without them
        tools = run.tools.tool_names

    errors = capsys.readouterr().err
    assert (
        "MCP server 'github': environment variable GITHUB_PERSONAL_ACCESS_TOKEN is not set"
        in errors
    )
    assert "MCP server 'brave': environment variable BRAVE_API_KEY is not set" in errors
    assert not any(name.startswith(("mcp__github", "mcp__brave")) for name in tools)


def test_the_puppeteer_preset_points_at_the_installed_chromium(project: Path) -> None:
    env = preset_entry("puppeteer", project)["env"]
    launch = json.loads(env["PUPPETEER_LAUNCH_OPTIONS"])
    assert Path(launch["executablePath"]).name.startswith(("chromium", "google-chrome"))
    assert launch["headless"] is True and env["PUPPETEER_SKIP_DOWNLOAD"] == "1"


def test_an_unknown_preset_is_a_user_error(project: Path) -> None:
    with pytest.raises(UserError, match="unknown preset 'slack'; choose one of filesystem"):
        preset_entry("slack", project)


def test_list_in_text_mode_names_each_server_its_source_and_why_it_failed(project: Path) -> None:
    assert "No MCP servers configured" in mcp(project, "list").stdout
    (project / ".mcp.json").write_text(
        json.dumps({"mcpServers": {"broken": {"command": "no-such-mcp-binary", "args": ["-x"]}}})
    )
    done = mcp(project, "list", "--timeout", "30")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "broken: no-such-mcp-binary -x [stdio] - failed: command not found: no-such-mcp-binary",
        f"    from {project.resolve() / '.mcp.json'}",
    ]
