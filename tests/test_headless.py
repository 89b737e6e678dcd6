"""Headless mode (-p) as a user runs it: a real process, a scripted model, real tools."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from backend_agent import paths

SEED = Path(__file__).resolve().parent / "fixtures" / "seeds" / "backend-agent.md"
RESULT_FIELDS = {
    "type",
    "subtype",
    "is_error",
    "duration_ms",
    "duration_api_ms",
    "num_turns",
    "result",
    "session_id",
    "total_cost_usd",
    "usage",
    "permission_denials",
    "report",  # the evidence check of the built-in agent's report template
}
BACKEND_TOOLS = {
    "mcp__backend__endpoints",
    "mcp__backend__database_impact",
    "mcp__backend__security_scan",
    "mcp__backend__project_facts",
}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    return {
        "HOME": str(home),
        "BACKEND_AGENT_HOME": str(home / ".backend-agent"),
        "PATH": os.environ["PATH"],
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "notes.txt").write_text("first line\n")
    return root


def script(tmp_path: Path, turns: list[Any], model: str = "claude-sonnet-4-5") -> str:
    path = tmp_path / f"script-{uuid.uuid4().hex[:8]}.yaml"
    path.write_text(yaml.safe_dump({"model": model, "turns": turns}))
    return f"scripted:{path}"


def backend_agent(
    args: list[str], env: dict[str, str], cwd: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backend_agent", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


READ_THEN_ANSWER = [
    {
        "text": "Reading.",
        "tool_calls": [{"name": "Read", "input": {"file_path": "notes.txt"}}],
        "usage": {"input_tokens": 100, "output_tokens": 10, "cache_creation_input_tokens": 80},
    },
    {
        "text": "The file says: first line.",
        "usage": {"input_tokens": 20, "output_tokens": 12, "cache_read_input_tokens": 80},
    },
]


def test_text_output_prints_the_final_answer(
    tmp_path: Path, env: dict[str, str], project: Path
) -> None:
    done = backend_agent(
        ["-p", "read notes", "--model", script(tmp_path, READ_THEN_ANSWER)], env, project
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "The file says: first line.\n"


def test_json_output_is_one_result_object_with_claude_fields(
    tmp_path: Path, env: dict[str, str], project: Path
) -> None:
    model = script(tmp_path, READ_THEN_ANSWER)
    done = backend_agent(
        ["-p", "read notes", "--output-format", "json", "--model", model], env, project
    )

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) == RESULT_FIELDS
    assert result["type"] == "result" and result["subtype"] == "success"
    assert result["is_error"] is False
    assert result["result"] == "The file says: first line."
    assert result["num_turns"] == 2
    assert result["usage"] == {
        "input_tokens": 120,
        "output_tokens": 22,
        "cache_creation_input_tokens": 80,
        "cache_read_input_tokens": 80,
    }
    expected_cost = (120 * 3 + 22 * 15 + 80 * 3.75 + 80 * 0.3) / 1_000_000
    assert result["total_cost_usd"] == pytest.approx(expected_cost)
    assert result["permission_denials"] == []
    assert uuid.UUID(result["session_id"]).version == 4


def test_stream_json_prints_init_messages_and_a_final_result_line(
    tmp_path: Path, env: dict[str, str], project: Path
) -> None:
    model = script(tmp_path, READ_THEN_ANSWER)
    done = backend_agent(
        ["-p", "read", "--output-format", "stream-json", "--model", model], env, project
    )

    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["type"], r.get("subtype")) for r in records] == [
        ("system", "init"),
        ("assistant", None),
        ("user", None),
        ("assistant", None),
        ("result", "success"),
    ]
    init, first, results, _, final = records
    assert init["cwd"] == str(project) and init["agent"] == "backend-agent"
    assert init["model"] == "claude-sonnet-4-5"
    assert {"Read", "Bash", "Edit"} <= set(init["tools"])
    assert first["message"]["content"][1] == {
        "type": "tool_use",
        "id": "toolu_scripted_1_1",
        "name": "Read",
        "input": {"file_path": "notes.txt"},
    }
    (tool_result,) = results["message"]["content"]
    assert (
        tool_result["tool_use_id"] == "toolu_scripted_1_1"
        and "first line" in tool_result["content"]
    )
    assert {r["session_id"] for r in records} == {init["session_id"]}
    assert set(final) == RESULT_FIELDS


def test_stream_json_lines_arrive_while_the_run_is_still_going(
    tmp_path: Path, env: dict[str, str], project: Path
) -> None:
    wait_for_go = "while [ ! -f go ]; do sleep 0.05; done; echo went"
    turns = [
        {"tool_calls": [{"name": "Bash", "input": {"command": wait_for_go, "timeout": 60000}}]},
        "done",
    ]
    args = ["-p", "go", "--output-format", "stream-json", "--model", script(tmp_path, turns)]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "backend_agent",
            *args,
            "--allowedTools",
            "Bash",
            "--sandbox",
            "off",
        ],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        init = json.loads(process.stdout.readline())
        assistant = json.loads(process.stdout.readline())
        # The tool is still waiting for "go", so these lines were flushed as they were known.
        assert process.poll() is None
        assert (init["type"], assistant["type"]) == ("system", "assistant")
        (project / "go").touch()
        rest, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    records = [json.loads(line) for line in rest.splitlines()]
    assert "went" in str(records[0]["message"]["content"])
    assert records[-1]["type"] == "result" and records[-1]["result"] == "done"


def test_the_session_transcript_is_written_as_jsonl(
    tmp_path: Path, env: dict[str, str], project: Path
) -> None:
    model = script(tmp_path, READ_THEN_ANSWER)
    done = backend_agent(
        ["-p", "read notes", "--output-format", "json", "--model", model], env, project
    )
    session_id = json.loads(done.stdout)["session_id"]

    home = Path(env["BACKEND_AGENT_HOME"])
    transcript = home / "projects" / paths.project_slug(project) / f"{session_id}.jsonl"
    records = [json.loads(line) for line in transcript.read_text().splitlines()]
    assert [(r["type"], r.get("subtype")) for r in records] == [
        ("system", "init"),
        ("system", "system_prompt"),
        ("user", None),
        ("assistant", None),
        ("user", None),
        ("assistant", None),
        ("result", "success"),
    ]
    assert records[2]["message"]["content"] == [{"type": "text", "text": "read notes"}]
    assert records[2]["origin"] == "prompt" and records[2]["prompt"] == "read notes"
    assert {r["sessionId"] for r in records} == {session_id}
    assert [r["parentUuid"] for r in records] == [None, *(r["uuid"] for r in records[:-1])]
    assert {r["cwd"] for r in records} == {str(project)}


def test_the_prompt_can_come_on_stdin(tmp_path: Path, env: dict[str, str], project: Path) -> None:
    done = backend_agent(
        ["-p", "--model", script(tmp_path, ["got it"])], env, project, stdin="hello\n"
    )
    assert done.returncode == 0 and done.stdout == "got it\n"


def test_max_turns_is_an_error_with_exit_status_1(
    tmp_path: Path, env: dict[str, str], project: Path
) -> None:
    busy = {"tool_calls": [{"name": "Bash", "input": {"command": "true"}}]}
    model = script(tmp_path, [busy] * 4)
    args = ["-p", "loop", "--max-turns", "2", "--model", model]

    as_json = backend_agent([*args, "--output-format", "json"], env, project)
    as_text = backend_agent(args, env, project)

    assert as_json.returncode == 1
    result = json.loads(as_json.stdout)
    assert result["subtype"] == "error_max_turns" and result["is_error"] is True
    assert result["num_turns"] == 2
    assert as_text.returncode == 1 and as_text.stdout == ""
    assert "error_max_turns" in as_text.stderr


def test_budget_limit_stops_the_run(tmp_path: Path, env: dict[str, str], project: Path) -> None:
    costly = {
        "tool_calls": [{"name": "Bash", "input": {"command": "true"}}],
        "usage": {"input_tokens": 10_000},
    }
    args = ["-p", "go", "--max-budget-usd", "0.01", "--output-format", "json"]
    done = backend_agent([*args, "--model", script(tmp_path, [costly] * 3)], env, project)
    assert done.returncode == 1
    result = json.loads(done.stdout)
    assert result["subtype"] == "error_max_budget_usd" and result["num_turns"] == 1


def test_errors_before_the_run_still_end_stream_json_with_a_result_line(
    tmp_path: Path, env: dict[str, str], project: Path
) -> None:
    args = ["-p", "hi", "--output-format", "stream-json", "--agent", "nope"]
    done = backend_agent([*args, "--model", script(tmp_path, ["x"])], env, project)

    assert done.returncode == 1
    (line,) = done.stdout.splitlines()
    result = json.loads(line)
    assert result["type"] == "result" and result["subtype"] == "error_during_execution"
    assert "no agent named 'nope'" in result["result"]


def test_a_model_failure_mid_run_is_reported_in_the_result(
    tmp_path: Path, env: dict[str, str], project: Path
) -> None:
    busy = {"tool_calls": [{"name": "Bash", "input": {"command": "true"}}]}
    done = backend_agent(
        ["-p", "hi", "--output-format", "stream-json", "--model", script(tmp_path, [busy])],
        env,
        project,
    )
    assert done.returncode == 1
    final = json.loads(done.stdout.splitlines()[-1])
    assert final["subtype"] == "error_during_execution" and "turn 2" in final["result"]


def test_missing_credentials_is_one_clear_line(
    tmp_path: Path, env: dict[str, str], project: Path
) -> None:
    done = backend_agent(["-p", "hi", "--model", "sonnet"], env, project)
    assert done.returncode == 1
    assert "ANTHROPIC_API_KEY" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_project_settings_model_runs_agents_that_inherit_the_model(
    tmp_path: Path, env: dict[str, str], project: Path
) -> None:
    settings = project / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(json.dumps({"model": script(tmp_path, ["from settings"], model="cfg")}))
    agents = json.dumps({"plain": {"description": "d", "prompt": "You help."}})
    done = backend_agent(
        ["-p", "hi", "--output-format", "json", "--agents", agents, "--agent", "plain"],
        env,
        project,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["result"] == "from settings"
    cli = backend_agent(
        ["-p", "hi", "--agents", agents, "--agent", "plain", "--model", script(tmp_path, ["cli"])],
        env,
        project,
    )
    assert cli.stdout == "cli\n"


def test_tool_flags_narrow_the_tools_the_model_sees(
    tmp_path: Path, env: dict[str, str], project: Path
) -> None:
    def tools_of(*flags: str) -> list[str]:
        args = [
            "-p",
            "hi",
            "--output-format",
            "stream-json",
            "--model",
            script(tmp_path, ["ok"]),
            *flags,
        ]
        done = backend_agent(args, env, project)
        tools: list[str] = json.loads(done.stdout.splitlines()[0])["tools"]
        # A list that names no MCP entry leaves MCP tools (the built-in backend server's) alone.
        assert {t for t in tools if t.startswith("mcp__")} == BACKEND_TOOLS
        return [t for t in tools if not t.startswith("mcp__")]

    assert sorted(tools_of("--tools", "Read,Grep")) == ["Grep", "Read"]
    assert tools_of("--tools", "Read Bash", "--disallowedTools", "Bash") == ["Read"]
    assert "Bash" not in tools_of("--disallowed-tools", "Bash")
    assert tools_of("--tools", "") == []


def test_the_seed_agent_file_runs_unchanged(
    tmp_path: Path, env: dict[str, str], project: Path
) -> None:
    args = ["-p", "hi", "--output-format", "stream-json", "--agent-file", str(SEED)]
    done = backend_agent([*args, "--model", script(tmp_path, ["ready"])], env, project)
    assert done.returncode == 0, done.stderr
    init = json.loads(done.stdout.splitlines()[0])
    assert init["agent"] == "backend-agent"
    builtin = {"Bash", "Read", "Write", "Edit", "MultiEdit", "Glob", "Grep"}
    assert set(init["tools"]) == builtin | BACKEND_TOOLS  # its list, and the evidence tools
    assert done.stderr == ""


def test_ctrl_c_cancels_the_turn_kills_processes_and_still_prints_a_result(
    tmp_path: Path, env: dict[str, str], project: Path
) -> None:
    turns = [
        {
            "tool_calls": [
                {
                    "name": "Bash",
                    "input": {
                        "command": "echo $$ > bg.pid; exec sleep 120",
                        "run_in_background": True,
                    },
                }
            ]
        },
        {
            "tool_calls": [
                {"name": "Bash", "input": {"command": "echo $$ > fg.pid; exec sleep 120"}}
            ]
        },
        "never reached",
    ]
    args = ["-p", "go", "--output-format", "stream-json", "--model", script(tmp_path, turns)]
    # The pid files must hold host pids: allow Bash and run it outside the sandbox.
    args += ["--allowedTools", "Bash", "--sandbox", "off"]
    process = subprocess.Popen(
        [sys.executable, "-m", "backend_agent", *args],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    fg_pid = project / "fg.pid"
    while not (fg_pid.exists() and fg_pid.read_text().strip()):
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)

    assert process.returncode == 130, err
    final = json.loads(out.splitlines()[-1])
    assert final["type"] == "result" and final["is_error"] is True
    assert "cancelled" in final["result"]
    for pid_file in ("fg.pid", "bg.pid"):
        assert _eventually_dead(int((project / pid_file).read_text()))


def _eventually_dead(pid: int) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False
