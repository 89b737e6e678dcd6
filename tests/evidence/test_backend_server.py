"""The evidence tools as MCP: ``backend-agent mcp serve`` to the official client over stdio,
and the in-process ``backend`` server of every session (no permission prompt; turned off by
--strict-mcp-config, deny rules and --disallowedTools)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from grounded_repos import LANGUAGES, change_calls, make_repo

from backend_agent.mcp.startup import McpOptions
from backend_agent.models.registry import ModelChoice
from backend_agent.permissions import PermissionOptions
from backend_agent.sessions.config import SessionConfig
from backend_agent.ui.headless import HeadlessOptions, run_headless

PYTHON = LANGUAGES["python"]
SRC = Path(__file__).resolve().parents[2] / "src"
TOOLS = ("endpoints", "database_impact", "security_scan", "project_facts")


@pytest.fixture
def changed_repo(tmp_path: Path) -> Path:
    """The Python fixture with the change made in the work tree, uncommitted."""
    root = make_repo("python", tmp_path / "python")
    for call in change_calls(PYTHON, with_test=True):
        path = root / call["input"]["file_path"]
        if call["name"] == "Write":
            path.write_text(call["input"]["content"])
        else:
            text = path.read_text()
            path.write_text(text.replace(call["input"]["old_string"], call["input"]["new_string"]))
    return root


async def _serve_and_call(root: Path, calls: list[tuple[str, dict[str, Any]]]) -> Any:
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    env = {**os.environ, "PYTHONPATH": str(SRC)}
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "backend_agent", "mcp", "serve"], env=env, cwd=root
    )
    async with Client(stdio_client(params)) as client:
        listed = await client.list_tools()
        results = [await client.call_tool(name, arguments) for name, arguments in calls]
    return listed.tools, results


def test_mcp_serve_lists_the_four_tools_and_answers_each(changed_repo: Path) -> None:
    calls: list[tuple[str, dict[str, Any]]] = [
        ("endpoints", {}),
        ("endpoints", {"since": "HEAD", "method": "post"}),
        ("database_impact", {}),
        ("security_scan", {}),
        ("security_scan", {"paths": ["app"]}),
        ("project_facts", {}),
        ("endpoints", {"since": "start"}),
        ("database_impact", {"since": "no-such-rev"}),
        ("endpoints", {"verbose": True}),
    ]
    tools, results = asyncio.run(_serve_and_call(changed_repo, calls))

    assert [tool.name for tool in tools] == list(TOOLS)
    assert all(tool.annotations.read_only_hint for tool in tools)
    texts = [result.content[0].text for result in results]
    errors = [result.is_error for result in results]
    assert errors == [False] * 6 + [True] * 3
    inventory, added, database, introduced, scanned, facts = texts[:6]
    assert "GET /users/{user_id}" in inventory and "POST /users/{user_id}/avatar" in inventory
    assert added.startswith("Since HEAD: 1 added, 0 removed")
    assert "+ POST /users/{user_id}/avatar" in added
    assert "drop-column users.legacy_name" in database
    assert "rollback: Run the down step: `alembic downgrade 0001`." in database
    assert "missing-auth app/main.py" in introduced
    assert "missing-rate-limit" in scanned
    assert "FastAPI" in facts and "Alembic" in facts and "migrations/versions (2)" in facts
    assert "queues: 0 channel(s), 2 job(s) in app (2)" in facts
    assert "needs a session" in texts[6]
    assert "no-such-rev" in texts[7]
    assert "unknown argument(s) verbose" in texts[8]


def run(
    repo: Path,
    turns: list[Any],
    *,
    mode: str = "default",
    mcp: McpOptions | None = None,
    permissions: dict[str, Any] | None = None,
    settings: list[str] | None = None,
) -> list[dict[str, Any]]:
    script = repo.parent / "script.yaml"
    script.write_text(yaml.safe_dump({"turns": turns}), encoding="utf-8")
    config = SessionConfig(
        cwd=repo,
        model=ModelChoice(f"scripted:{script}"),
        permissions=PermissionOptions(mode=mode, **(permissions or {})),
        mcp=mcp or McpOptions(),
        settings=settings or [],
    )
    out = io.StringIO()
    run_headless(config, HeadlessOptions("look at the endpoints", "stream-json"), out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def tool_results(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        block
        for record in records
        if record["type"] == "user"
        for block in record["message"]["content"]
        if block["type"] == "tool_result"
    ]


def test_the_agent_calls_the_backend_tools_without_a_permission_prompt(tmp_path: Path) -> None:
    repo = make_repo("python", tmp_path / "python")
    calls = [
        {"name": "mcp__backend__endpoints", "input": {"path": "users"}},
        {"name": "mcp__backend__project_facts", "input": {}},
    ]
    turns = [
        {"tool_calls": calls},
        {"tool_calls": change_calls(PYTHON)[1:]},  # Write the migration: it needs approval
        {"tool_calls": [{"name": "mcp__backend__database_impact", "input": {}}]},
        "done",
    ]
    records = run(repo, turns)  # default mode, headless: nobody could approve a prompt

    init, result = records[0], records[-1]
    assert {f"mcp__backend__{name}" for name in TOOLS} <= set(init["tools"])
    endpoints, facts, write, database = tool_results(records)
    assert not endpoints["is_error"] and "GET /users/{user_id}" in endpoints["content"]
    assert not facts["is_error"] and "FastAPI" in facts["content"]
    assert write["is_error"]  # Write does need approval in default mode: refused
    assert not database["is_error"]
    assert database["content"].startswith("Since the session's start: 0 migration(s)")
    assert [d["tool_name"] for d in result["permission_denials"]] == ["Write"]


def test_the_backend_tools_measure_from_the_session_start(tmp_path: Path) -> None:
    repo = make_repo("python", tmp_path / "python")
    (repo / "notes.txt").write_text("uncommitted before the session\n")
    turns = [
        {"tool_calls": change_calls(PYTHON)[1:]},
        {
            "tool_calls": [
                {"name": "mcp__backend__database_impact", "input": {}},
                {"name": "mcp__backend__endpoints", "input": {"since": "start"}},
                {"name": "mcp__backend__database_impact", "input": {"since": "HEAD"}},
            ]
        },
        "done",
    ]
    records = run(repo, turns, mode="acceptEdits")

    _, since_start, endpoints, since_head = tool_results(records)
    assert "drop-column users.legacy_name" in since_start["content"]
    assert endpoints["content"].startswith("Since the session's start: 0 added, 0 removed")
    assert since_head["content"].startswith("Since HEAD: 1 migration(s)")


def test_plan_mode_still_runs_them_and_an_ask_rule_still_asks(tmp_path: Path) -> None:
    repo = make_repo("python", tmp_path / "python")
    turns = [
        {"tool_calls": [{"name": "mcp__backend__endpoints", "input": {}}]},
        {"tool_calls": [{"name": "mcp__backend__security_scan", "input": {}}]},
        "done",
    ]
    ask = json.dumps({"permissions": {"ask": ["mcp__backend__security_scan"]}})
    records = run(repo, turns, mode="plan", settings=[ask])

    endpoints, scan = tool_results(records)
    assert not endpoints["is_error"]
    assert scan["is_error"] and "Permission denied" in scan["content"]


@pytest.mark.parametrize(
    ("options", "kept"),
    [
        ({"mcp": McpOptions(strict=True)}, set()),
        ({"permissions": {"disallowed_tools": ["mcp__backend"]}}, set()),
        (
            {"permissions": {"disallowed_tools": ["mcp__backend__security_scan"]}},
            {"endpoints", "database_impact", "project_facts"},
        ),
        (
            {"settings": [json.dumps({"permissions": {"deny": ["mcp__backend__endpoints"]}})]},
            {"database_impact", "security_scan", "project_facts"},
        ),
    ],
)
def test_turning_them_off(tmp_path: Path, options: dict[str, Any], kept: set[str]) -> None:
    repo = make_repo("python", tmp_path / "python")
    init = run(repo, ["ok"], **options)[0]
    assert {t for t in init["tools"] if t.startswith("mcp__")} == {
        f"mcp__backend__{name}" for name in kept
    }


def test_a_configured_mcp_serve_entry_is_served_in_process(tmp_path: Path) -> None:
    repo = make_repo("python", tmp_path / "python")
    entry = {"command": "backend-agent", "args": ["mcp", "serve"]}
    (repo / ".mcp.json").write_text(json.dumps({"mcpServers": {"backend": entry}}))
    records = run(repo, [{"tool_calls": [{"name": "mcp__backend__endpoints", "input": {}}]}, "ok"])

    (result,) = tool_results(records)
    assert not result["is_error"] and "GET /users/{user_id}" in result["content"]


def test_a_large_answer_is_saved_whole_and_previewed(tmp_path: Path) -> None:
    """An inventory longer than the spill limit reaches the model as a preview, and the file it
    names holds every endpoint, the last one included; past the tool's own row limit the answer
    says how to narrow it."""
    from backend_agent.evidence.inprocess import attach_backend_tools
    from backend_agent.evidence.source import ProjectEvidence
    from backend_agent.tools import ToolSession
    from backend_agent.tools.spill import OutputSpill

    app = tmp_path / "app"
    app.mkdir()
    (app / "package.json").write_text('{"dependencies": {"express": "^4.19.0"}}')
    routes = "\n".join(
        f"app.get('/api/{'long-segment/' * 8}resources-number-{n}/items/:itemId', show{n});"
        for n in range(190)
    )
    (app / "server.js").write_text(
        f"const express = require('express');\nconst app = express();\n{routes}\n"
    )
    with ToolSession(app, spill=OutputSpill(tmp_path / "outputs", limit=8_000)) as tools:
        attach_backend_tools(tools, ProjectEvidence(app), lambda name: True)
        result = tools.call("mcp__backend__endpoints", {})
    assert not result.is_error
    assert len(result.content) < 8_000
    saved = next((tmp_path / "outputs").iterdir())
    assert str(saved) in result.content
    text = saved.read_text()
    assert text.startswith("190 endpoint(s)")
    assert len(text) > 30_000  # beyond the cap of a tool output that is not saved
    assert all(f"/resources-number-{n}/items/{{itemId}}" in text for n in range(190))
    assert "more: narrow the call" not in text
