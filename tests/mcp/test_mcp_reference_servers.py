"""The reference servers over stdio, driven by the agent loop: server-filesystem (npm, installed
in tests/node_modules by .ci/run) and mcp-server-git (PyPI), in a real backend-agent process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mcp_helpers import mcp_config, node_server

from backend_agent.mcp.client import McpManager
from backend_agent.mcp.config import parse_server
from backend_agent.mcp.presets import PRESETS, git_command


def git(project: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=project, check=True, capture_output=True)


def make_repository(project: Path) -> None:
    (project / "notes.txt").write_text("orders need idempotency keys\n")
    git(project, "init", "-q")
    git(project, "-c", "user.name=T", "-c", "user.email=t@example.test", "add", "notes.txt")
    git(
        project,
        "-c",
        "user.name=T",
        "-c",
        "user.email=t@example.test",
        "commit",
        "-q",
        "-m",
        "Document idempotency keys",
    )


def backend_agent(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backend_agent", *args],
        cwd=cwd,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_filesystem_and_git_servers_list_their_tools(project: Path) -> None:
    make_repository(project)
    filesystem = PRESETS["filesystem"].entry(project, [str(node_server("mcp-server-filesystem"))])
    servers = [
        parse_server("fs", filesystem, "test"),
        parse_server("git", PRESETS["git"].entry(project, git_command()), "test"),
    ]
    manager = McpManager(servers, cwd=project, startup_timeout=60, call_timeout=60)
    try:
        manager.start()
        tools = {name: {t.name for t in c.tools} for name, c in manager.connections.items()}
    finally:
        manager.close()
    assert {"read_text_file", "write_file", "list_directory"} <= tools["fs"]
    assert {"git_log", "git_status", "git_diff"} <= tools["git"]


def test_the_agent_reads_and_writes_files_and_reads_the_git_log_through_mcp(
    project: Path, write_script: Callable[[list[Any]], str]
) -> None:
    make_repository(project)
    notes, plan = str(project.resolve() / "notes.txt"), str(project.resolve() / "plan.md")
    model = write_script(
        [
            {
                "text": "Reading the notes and the history.",
                "tool_calls": [
                    {"name": "mcp__fs__read_text_file", "input": {"path": notes}},
                    {"name": "mcp__git__git_log", "input": {"repo_path": str(project)}},
                ],
            },
            {
                "tool_calls": [
                    {
                        "name": "mcp__fs__write_file",
                        "input": {"path": plan, "content": "1. add an Idempotency-Key header\n"},
                    }
                ]
            },
            "Done: plan.md written.",
        ]
    )
    config = mcp_config(
        {
            "fs": PRESETS["filesystem"].entry(project, [str(node_server("mcp-server-filesystem"))]),
            "git": PRESETS["git"].entry(project, git_command()),
        }
    )
    done = backend_agent(
        [
            "-p",
            "Plan the idempotency work",
            "--output-format",
            "stream-json",
            "--model",
            model,
            "--mcp-config",
            config,
            "--allowedTools",
            "mcp__fs,mcp__git",
        ],
        project,
    )

    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    init = records[0]
    assert {"mcp__fs__read_text_file", "mcp__git__git_log"} <= set(init["tools"])
    results = [
        block
        for record in records
        if record["type"] == "user"
        for block in record["message"]["content"]
        if block["type"] == "tool_result"
    ]
    read, log, write = results
    assert "orders need idempotency keys" in json.dumps(read["content"])
    assert "Document idempotency keys" in json.dumps(log["content"])
    assert not write.get("is_error")
    assert (project / "plan.md").read_text() == "1. add an Idempotency-Key header\n"
    assert records[-1]["subtype"] == "success"


def test_mcp_permission_rules_deny_a_servers_tools(
    project: Path, write_script: Callable[[list[Any]], str]
) -> None:
    make_repository(project)
    model = write_script(
        [
            {"tool_calls": [{"name": "mcp__git__git_log", "input": {"repo_path": str(project)}}]},
            "ok",
        ]
    )
    config = mcp_config({"git": PRESETS["git"].entry(project, git_command())})
    done = backend_agent(
        [
            *("-p", "log", "--output-format", "stream-json", "--model", model),
            *("--mcp-config", config, "--disallowedTools", "mcp__git"),
        ],
        project,
    )
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    (result,) = [
        block
        for record in records
        if record["type"] == "user"
        for block in record["message"]["content"]
    ]
    assert result["is_error"] and "Document idempotency keys" not in json.dumps(result)


def test_a_run_without_mcp_servers_never_imports_the_sdk(
    project: Path, write_script: Callable[[list[Any]], str]
) -> None:
    model = write_script(["hello"])
    code = (
        "import sys, pathlib\n"
        "from backend_agent.models.registry import ModelChoice\n"
        "from backend_agent.sessions.config import SessionConfig\n"
        "from backend_agent.sessions.session import Session\n"
        f"config = SessionConfig(cwd=pathlib.Path({str(project)!r}),\n"
        f"                       model=ModelChoice({model!r}))\n"
        "with Session.open(config) as run:\n"
        "    run.prompt('hi')\n"
        "print(sorted(m for m in sys.modules if m == 'mcp' or m.startswith('mcp.')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=project
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
