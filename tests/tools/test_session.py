"""ToolSession: the registry, specs, error containment and process clean-up."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from backend_agent.messages import ToolSpec
from backend_agent.tools import ToolResult, ToolSession
from backend_agent.tools.base import Tool

from .helpers import read_pid, wait_dead

BUILTIN = [
    "Bash",
    "Glob",
    "Grep",
    "Read",
    "Edit",
    "MultiEdit",
    "Write",
    "BashOutput",
    "KillShell",
    "TodoWrite",
]
REQUIRED = {
    "Bash": ["command"],
    "BashOutput": ["bash_id"],
    "KillShell": ["shell_id"],
    "Read": ["file_path"],
    "Write": ["file_path", "content"],
    "Edit": ["file_path", "old_string", "new_string"],
    "MultiEdit": ["file_path", "edits"],
    "Glob": ["pattern"],
    "Grep": ["pattern"],
    "TodoWrite": ["todos"],
}


class EchoTool:
    """A minimal tool as the MCP helper would register one."""

    name = "mcp__demo__echo"

    def spec(self) -> ToolSpec:
        schema = {"type": "object", "properties": {"text": {"type": "string"}}}
        return ToolSpec(self.name, "Echo the text back.", schema)

    def run(self, input: dict[str, Any], session: ToolSession) -> ToolResult:
        return ToolResult(str(input["text"]))


class BrokenTool(EchoTool):
    name = "broken"

    def run(self, input: dict[str, Any], session: ToolSession) -> ToolResult:
        raise RuntimeError("boom")


def walk(node: object) -> list[dict[str, Any]]:
    """Every object schema inside ``node``."""
    found = []
    if isinstance(node, dict):
        if node.get("type") == "object":
            found.append(node)
        for value in node.values():
            found += walk(value)
    elif isinstance(node, list):
        for item in node:
            found += walk(item)
    return found


def test_specs_cover_every_tool_in_a_stable_order(session: ToolSession) -> None:
    assert session.tool_names == BUILTIN
    assert [spec.name for spec in session.specs()] == BUILTIN
    assert [spec.name for spec in session.specs(["Read", "Bash"])] == ["Bash", "Read"]


def test_schemas_match_the_contract(session: ToolSession) -> None:
    for spec in session.specs():
        schema = spec.input_schema
        assert sorted(schema["required"]) == sorted(REQUIRED[spec.name])
        assert "$defs" not in json.dumps(schema) and '"title"' not in json.dumps(schema)
        for object_schema in walk(schema):
            assert object_schema["additionalProperties"] is False
    grep = session.specs(["Grep"])[0].input_schema["properties"]
    assert {"-A", "-B", "-C", "-n", "-i", "head_limit", "multiline", "type", "glob"} <= set(grep)
    assert grep["-A"]["type"] == "number" and grep["-n"]["type"] == "boolean"
    assert grep["output_mode"]["enum"] == ["content", "files_with_matches", "count"]
    edits = session.specs(["MultiEdit"])[0].input_schema["properties"]["edits"]
    assert edits["minItems"] == 1 and edits["items"]["required"] == ["old_string", "new_string"]


def test_whole_tool_block_stays_small(session: ToolSession) -> None:
    """Sent with every request: the built-in agent's seven tools, with the agent's prompt and
    the evidence tools, must stay within 8,000 bytes (see docs/context.md)."""
    agent_tools = ["Bash", "Glob", "Grep", "Read", "Edit", "MultiEdit", "Write"]
    block = json.dumps(
        [
            {"name": s.name, "description": s.description, "input_schema": s.input_schema}
            for s in session.specs(agent_tools)
        ],
        separators=(",", ":"),
    )
    assert len(block) <= 4_100


def test_unknown_tool_is_an_error_result(session: ToolSession) -> None:
    result = session.call("Nope", {})
    assert result.is_error and "Nope" in result.content and "Bash" in result.content


def test_non_object_input_is_an_error_result(session: ToolSession) -> None:
    result = session.call("Read", ["not", "a", "dict"])  # type: ignore[arg-type]
    assert result.is_error and "JSON object" in result.content


def test_added_tools_are_called_listed_and_removed(session: ToolSession) -> None:
    tool: Tool = EchoTool()
    session.add_tool(tool)
    assert session.tool_names[-1] == "mcp__demo__echo"
    assert session.specs(["mcp__demo__echo"])[0].description == "Echo the text back."
    assert session.call("mcp__demo__echo", {"text": "hi"}) == ToolResult("hi")
    session.remove_tool("mcp__demo__echo")
    assert session.call("mcp__demo__echo", {"text": "hi"}).is_error


def test_a_crashing_tool_becomes_an_error_result(session: ToolSession) -> None:
    session.add_tool(BrokenTool())
    result = session.call("broken", {})
    assert result.is_error and "RuntimeError: boom" in result.content


def test_session_root_must_be_a_directory(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        ToolSession(tmp_path / "missing")


def test_forgotten_session_still_kills_its_background_shells(tmp_path: Path) -> None:
    pid_file = tmp_path / "sleep.pid"
    session = ToolSession(tmp_path)
    session.call(
        "Bash",
        {"command": f"sleep 60 & echo $! > {pid_file}; wait", "run_in_background": True},
    )
    pid = read_pid(pid_file)
    del session
    gc.collect()
    assert wait_dead(pid)


def test_exit_of_python_kills_background_shells(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import pathlib, time
        from backend_agent.tools import ToolSession
        session = ToolSession({str(tmp_path)!r})
        command = "sleep 60 & echo $! > sleep.pid; wait"
        session.call("Bash", {{"command": command, "run_in_background": True}})
        pid_file = pathlib.Path({str(tmp_path / "sleep.pid")!r})
        while not pid_file.exists() or not pid_file.read_text().strip():
            time.sleep(0.02)
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=30)
    assert wait_dead(read_pid(tmp_path / "sleep.pid"))


def test_importing_the_package_stays_light() -> None:
    probe = "import sys, backend_agent.tools; print('pydantic' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.strip() == "False"
