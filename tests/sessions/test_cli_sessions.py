"""Sessions from the command line, as a user runs them: real processes, the official SDKs
talking to the local fake servers, resume and continue, the sessions list, and signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from fakes.anthropic_server import AnthropicFake, Reply, tool_use
from fakes.openai_server import ChatReply, OpenAIFake

from backend_agent import paths
from backend_agent.permissions.sandbox import bwrap_candidates, sandbox_problem

from .helpers import cli

RESULT_FIELDS = {"type", "subtype", "is_error", "result", "session_id", "num_turns"}


@pytest.fixture
def notes(project: Path) -> Path:
    (project / "notes.txt").write_text("first line\n")
    return project


def json_result(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def without_cache_marks(value: Any) -> Any:
    """The request as it would be without prompt-caching breakpoints (they move each turn)."""
    if isinstance(value, dict):
        return {k: without_cache_marks(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [without_cache_marks(v) for v in value]
    return value


@pytest.mark.parametrize("how", ["--resume", "--continue"])
def test_anthropic_resume_sends_the_same_messages_and_hits_the_cache(
    notes: Path, env: dict[str, str], how: str
) -> None:
    with AnthropicFake() as fake:
        fake.add(
            Reply.of("Reading.", tool_use("Read", {"file_path": "notes.txt"})),
            Reply.of("It says: first line."),
            Reply.of("Still the first line."),
        )
        env = {**env, "ANTHROPIC_BASE_URL": fake.url, "ANTHROPIC_API_KEY": "sk-ant-dummy"}
        common = ["--output-format", "json", "--model", "haiku"]
        first = json_result(cli(["-p", "read the notes", *common], env, notes))
        again = [how, first["session_id"]] if how == "--resume" else ["-c"]
        second = json_result(cli(["-p", "and now?", *again, *common], env, notes))

    assert second["session_id"] == first["session_id"]
    before, after = (without_cache_marks(r.body) for r in fake.requests[1:])
    assert after["system"] == before["system"] and after["tools"] == before["tools"]
    seen = [
        *before["messages"],
        {"role": "assistant", "content": fake_text("It says: first line.")},
    ]
    assert after["messages"][: len(seen)] == seen
    assert after["messages"][len(seen) :] == [{"role": "user", "content": fake_text("and now?")}]
    resumed = fake.usages[2]
    assert (
        resumed.cache_read_input_tokens > resumed.input_tokens + resumed.cache_creation_input_tokens
    )


def fake_text(text: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": text}]


def test_openai_resume_sends_the_same_messages_and_hits_the_cache(
    notes: Path, env: dict[str, str]
) -> None:
    with OpenAIFake() as fake:
        fake.add(
            ChatReply("Reading.", [("Read", {"file_path": "notes.txt"})]),
            ChatReply("It says: first line."),
            ChatReply("Still the first line."),
        )
        env = {**env, "OPENAI_BASE_URL": fake.url, "OPENAI_API_KEY": "sk-dummy"}
        common = ["--output-format", "json", "--model", "openai:gpt-5-mini"]
        first = json_result(cli(["-p", "read the notes", *common], env, notes))
        second = json_result(
            cli(["-p", "and now?", "-r", first["session_id"], *common], env, notes)
        )

    before, after = (r.body for r in fake.requests[1:])
    assert after["tools"] == before["tools"]
    assert after["messages"][: len(before["messages"])] == before["messages"]
    assert after["messages"][len(before["messages"])]["role"] == "assistant"
    assert after["messages"][-1] == {"role": "user", "content": "and now?"}
    usage = second["usage"]
    assert usage["cache_read_input_tokens"] > usage["input_tokens"]


def test_fork_from_the_command_line_leaves_the_original_file_as_it_was(
    notes: Path, env: dict[str, str], script: Any
) -> None:
    first = json_result(
        cli(["-p", "one", "--output-format", "json", "--model", script(["a"])], env, notes)
    )
    original = session_path(env, notes, first["session_id"]).read_bytes()
    args = ["-p", "two", "-r", first["session_id"], "--fork-session", "--output-format", "json"]
    forked = json_result(cli([*args, "--model", script(["b"])], env, notes))
    assert forked["session_id"] != first["session_id"]
    assert session_path(env, notes, first["session_id"]).read_bytes() == original
    fork_entries = read_entries(session_path(env, notes, forked["session_id"]))
    assert [e["prompt"] for e in fork_entries if e.get("origin") == "prompt"] == ["one", "two"]


def session_path(env: dict[str, str], cwd: Path, session_id: str) -> Path:
    home = Path(env["BACKEND_AGENT_HOME"])
    return home / "projects" / paths.project_slug(cwd) / f"{session_id}.jsonl"


def read_entries(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_sessions_command_lists_this_directory_or_all(
    notes: Path, env: dict[str, str], script: Any, tmp_path: Path
) -> None:
    costly = {"text": "done", "usage": {"input_tokens": 100_000}}
    model = script([costly, costly], model="claude-haiku-4-5")
    first = json_result(
        cli(["-p", "fix the bug", "--output-format", "json", "--model", model], env, notes)
    )
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    cli(["-p", "elsewhere", "--model", script(["ok"])], env, elsewhere)

    listed = json.loads(cli(["sessions", "--format", "json"], env, notes).stdout)
    assert listed == [
        {
            "id": first["session_id"],
            "cwd": str(notes),
            "started": listed[0]["started"],
            "last_activity": listed[0]["last_activity"],
            "first_prompt": "fix the bug",
            "turns": 1,
            "cost_usd": pytest.approx(0.1),
        }
    ]
    assert listed[0]["started"] <= listed[0]["last_activity"]
    everywhere = json.loads(cli(["sessions", "--all", "--format", "json"], env, notes).stdout)
    assert [s["first_prompt"] for s in everywhere] == ["fix the bug", "elsewhere"]
    table = cli(["sessions"], {**env, "COLUMNS": "200"}, notes)
    assert first["session_id"] in table.stdout and "fix the bug" in table.stdout
    empty = cli(["sessions"], env, elsewhere / "..")
    assert empty.returncode == 0 and "No sessions recorded in" in empty.stdout


def test_a_missing_session_is_one_clear_line(notes: Path, env: dict[str, str], script: Any) -> None:
    done = cli(["-p", "hi", "-r", "0000", "--model", script(["x"])], env, notes)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"backend-agent: error: no session '0000' in {notes} "
        "(`backend-agent sessions` lists this directory's)"
    ]


def processes_running(token: str) -> list[int]:
    """Pids of processes whose command line holds ``token``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if token in cmdline and state not in ("Z", "X"):
                found.append(int(entry.name))
    return found


def wait_until(condition: Any, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("sandbox", ["off", "required"])
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_terminating_signal_ends_the_run_with_a_result_and_no_process_left(
    notes: Path, env: dict[str, str], script: Any, sandbox: str, signum: int, code: int
) -> None:
    if sandbox == "required":
        assert sandbox_problem(bwrap_candidates()[0]) is None, "bubblewrap must work here"
    token = f"{os.getpid() % 1000}{signum}{len(sandbox)}7.25"  # a unique sleep length
    turns = [
        {
            "tool_calls": [
                {"name": "Bash", "input": {"command": f"sleep 1{token}", "run_in_background": True}}
            ]
        },
        {"tool_calls": [{"name": "Bash", "input": {"command": f"touch started; sleep 2{token}"}}]},
        "never reached",
    ]
    args = ["-p", "go", "--output-format", "stream-json", "--model", script(turns)]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "backend_agent",
            *args,
            "--allowedTools",
            "Bash",
            "--sandbox",
            sandbox,
        ],
        cwd=notes,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_until(lambda: (notes / "started").exists() or process.poll() is not None, 60)
        assert process.poll() is None, process.communicate()
        assert len(processes_running(token)) >= 2
        process.send_signal(signum)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == code, err
    final = json.loads(out.splitlines()[-1])
    assert final["type"] == "result" and final["subtype"] == "error_during_execution"
    assert final["result"] == "terminated" and final["is_error"] is True
    assert set(final) >= RESULT_FIELDS
    assert wait_until(lambda: not processes_running(token)), processes_running(token)
    entries = read_entries(session_path(env, notes, final["session_id"]))
    assert entries[-1]["type"] == "result" and entries[-1]["result"] == "terminated"
