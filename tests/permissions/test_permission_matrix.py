"""Every mode x tool x location x rule gives the decision documented in docs/permissions.md."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from backend_agent.permissions.decisions import PermissionEngine
from backend_agent.permissions.paths import Workspace
from backend_agent.permissions.rules import RuleSet, parse_rule

MODES = ("default", "acceptEdits", "plan", "dontAsk", "bypassPermissions")
TOOLS = (
    "Bash",
    "Read",
    "Glob",
    "Grep",
    "Write",
    "Edit",
    "MultiEdit",
    "BashOutput",
    "KillShell",
    "mcp__db__query",
)
LOCATIONS = ("inside", "outside", "protected")
RULES = ("none", "allow", "ask", "deny")
READS = {"Read", "Glob", "Grep"}
EDITS = {"Write", "Edit", "MultiEdit"}


def documented(mode: str, tool: str, location: str, rule: str) -> str:
    """The decision table of docs/permissions.md, written out case by case."""
    if rule == "deny":
        return "deny"
    if tool in ("BashOutput", "KillShell"):
        return "allow"
    if mode == "plan" and tool not in READS:
        return "deny"
    if mode == "bypassPermissions":
        return "allow"
    would_ask = "deny" if mode == "dontAsk" else "ask"
    if rule == "ask":
        return would_ask
    if location == "protected" and (tool in EDITS or tool == "Bash"):
        return would_ask
    if rule == "allow":
        return would_ask if tool == "Bash" and location == "outside" else "allow"
    if tool in READS:
        return "allow" if location != "outside" else would_ask
    if tool in EDITS and mode == "acceptEdits" and location == "inside":
        return "allow"
    return would_ask


def _target(project: Path, outside: Path, location: str, tool: str) -> Path:
    if location == "inside":
        return project / "src" if tool in ("Glob", "Grep") else project / "src" / "app.py"
    if location == "outside":
        return outside if tool in ("Glob", "Grep") else outside / "secret.txt"
    return project / ".git" if tool in ("Glob", "Grep") else project / ".git" / "config"


def _call(tool: str, target: Path) -> dict[str, Any]:
    if tool == "Bash":
        return {"command": f"cat {target}"}
    if tool in ("Glob", "Grep"):
        return {"pattern": "*", "path": str(target)}
    if tool == "Write":
        return {"file_path": str(target), "content": "x"}
    if tool == "Edit":
        return {"file_path": str(target), "old_string": "a", "new_string": "b"}
    if tool == "MultiEdit":
        return {"file_path": str(target), "edits": [{"old_string": "a", "new_string": "b"}]}
    if tool == "Read":
        return {"file_path": str(target)}
    return {"bash_id": "1"} if tool == "BashOutput" else {}


def _rule_text(tool: str, target: Path) -> str:
    if tool == "Bash":
        return "Bash(cat:*)"
    if tool in READS or tool in EDITS:
        return f"{tool}(/{target})"
    return tool


@pytest.mark.parametrize("mode", MODES)
def test_every_combination_gives_the_documented_decision(
    mode: str, project: Path, outside: Path
) -> None:
    mismatches = []
    for tool, location, rule in itertools.product(TOOLS, LOCATIONS, RULES):
        target = _target(project, outside, location, tool)
        rules = RuleSet()
        if rule != "none":
            text = _rule_text(tool, target)
            rules.add(rule, parse_rule(text, source="test", root=project, cwd=project))
        engine = PermissionEngine(mode, rules, Workspace.create(project), sandboxed=lambda: False)
        verdict = engine.decide(tool, _call(tool, target), cwd=project, shell_cwd=project)
        expected = documented(mode, tool, location, rule)
        if verdict.behavior != expected:
            mismatches.append((tool, location, rule, verdict.behavior, expected, verdict.reason))
    assert mismatches == []
