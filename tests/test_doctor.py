"""``backend-agent doctor`` as a user runs it: a real process, real MCP servers, real sandboxes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from backend_agent.permissions import landlock
from backend_agent.permissions.sandbox import BACKENDS_VARIABLE

DEMO_SERVER = Path(__file__).resolve().parent / "mcp" / "servers" / "demo_server.py"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    return root


def doctor(project: Path, home: Path, *args: str, **env: str) -> tuple[int, dict[str, Any], str]:
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "BACKEND_AGENT_HOME": str(home / ".backend-agent"),
        **env,
    }
    if "PYTHONPATH" in os.environ:
        environment["PYTHONPATH"] = os.environ["PYTHONPATH"]
    done = subprocess.run(
        [sys.executable, "-m", "backend_agent", "doctor", "--cwd", str(project), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )
    report = json.loads(done.stdout) if "--format" in args else {}
    return done.returncode, report, done.stdout


def by_name(report: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {check["name"]: check for check in report["checks"]}


def test_a_healthy_setup_passes_and_starts_each_mcp_server(project: Path, home: Path) -> None:
    servers = {"demo": {"command": sys.executable, "args": [str(DEMO_SERVER)]}}
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": servers}))
    code, report, _ = doctor(project, home, "--format", "json", ANTHROPIC_API_KEY="sk-ant-x")
    checks = by_name(report)
    assert code == 0 and report["ok"] is True, report
    assert report["sandbox"] == "bubblewrap" and checks["sandbox"]["status"] == "ok"
    assert checks["ripgrep"]["detail"].startswith("ripgrep ")
    assert checks["credentials"]["detail"] == "anthropic (ANTHROPIC_API_KEY)"
    assert checks["mcp demo"]["status"] == "ok" and "tools" in checks["mcp demo"]["detail"]
    assert checks["sessions"]["status"] == "ok"
    assert (home / ".backend-agent" / "projects").is_dir()


def test_broken_parts_fail_with_what_to_fix(project: Path, home: Path) -> None:
    servers = {"gone": {"command": str(project / "no-such-server")}}
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": servers}))
    store = home / "store-is-a-file"
    store.write_text("")
    code, _, text = doctor(project, home, "--timeout", "20", BACKEND_AGENT_HOME=str(store))
    lines = text.splitlines()
    assert code == 1
    failed = {line.split()[1] for line in lines if line.startswith("fail")}
    assert failed == {"credentials", "mcp", "sessions"}, text  # "mcp gone" -> "mcp"
    assert "fix: export ANTHROPIC_API_KEY" in text
    assert "BACKEND_AGENT_HOME" in text


def test_the_sandbox_in_use_is_reported(project: Path, home: Path) -> None:
    if landlock.abi_version() < 1:
        pytest.skip("Landlock is not enabled in this kernel")
    key = {"OPENAI_API_KEY": "sk-x"}
    _, report, _ = doctor(
        project, home, "--format", "json", **key, **{BACKENDS_VARIABLE: "landlock"}
    )
    assert report["sandbox"] == "landlock" and "ABI" in by_name(report)["sandbox"]["detail"]
    code, report, _ = doctor(
        project, home, "--format", "json", **key, **{BACKENDS_VARIABLE: "none"}
    )
    sandbox = by_name(report)["sandbox"]
    assert code == 0 and report["sandbox"] == "none" and sandbox["status"] == "warn"
    assert BACKENDS_VARIABLE in sandbox["fix"]


def test_a_required_sandbox_that_cannot_run_fails(project: Path, home: Path) -> None:
    (project / ".claude").mkdir()
    (project / ".claude" / "settings.json").write_text('{"sandbox": {"policy": "required"}}')
    code, report, _ = doctor(
        project, home, "--format", "json", OPENAI_API_KEY="sk-x", **{BACKENDS_VARIABLE: "none"}
    )
    assert code == 1 and by_name(report)["sandbox"]["status"] == "fail"
