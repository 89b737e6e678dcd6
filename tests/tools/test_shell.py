"""Bash, BashOutput and KillShell with real processes."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from backend_agent.tools import ToolResult, ToolSession
from backend_agent.tools.base import SandboxUnavailable
from backend_agent.tools.spill import OutputSpill

from .helpers import is_dead, read_pid, wait_dead


def bash(session: ToolSession, command: str, **extra: object) -> ToolResult:
    return session.call("Bash", {"command": command, **extra})


def test_stdout_and_stderr_come_back_in_order(session: ToolSession) -> None:
    result = bash(session, "echo one; echo two >&2; echo three")
    assert result == ToolResult("one\ntwo\nthree")


def test_non_zero_exit_is_an_error_starting_with_the_code(session: ToolSession) -> None:
    result = bash(session, "echo partial; exit 3")
    assert result.is_error and result.content == "Exit code 3\npartial"


def test_no_output_says_so(session: ToolSession) -> None:
    result = bash(session, "true")
    assert not result.is_error and "no output" in result.content


def test_stdin_is_closed(session: ToolSession) -> None:
    result = bash(session, "cat; echo after", timeout=10_000)
    assert result == ToolResult("after")


def test_cwd_persists_but_environment_does_not(session: ToolSession, tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    bash(session, "cd src && export GREETING=hello")
    assert session.shell_cwd == tmp_path / "src"
    result = bash(session, 'pwd; echo "${GREETING:-unset}"')
    assert result.content == f"{tmp_path / 'src'}\nunset"
    assert session.cwd == tmp_path


def test_cwd_falls_back_to_root_when_it_disappears(session: ToolSession, tmp_path: Path) -> None:
    (tmp_path / "gone").mkdir()
    bash(session, "cd gone")
    (tmp_path / "gone").rmdir()
    result = bash(session, "pwd")
    assert result.content.endswith(str(tmp_path)) and "no longer exists" in result.content


def test_long_output_is_cut_with_a_marker(session: ToolSession) -> None:
    result = bash(session, "seq 1 20000")
    assert len(result.content) < 30_100
    assert result.content.startswith("1\n2\n3\n")
    assert result.content.endswith("lines truncated] ...")
    cut = int(result.content.rsplit("[", 1)[1].split()[0])
    shown = result.content.split("\n\n... [")[0].count("\n") + 1
    assert shown + cut - 1 <= 20_000 <= shown + cut  # every line is either shown or counted


def test_timeout_kills_the_whole_group_grandchildren_included(
    session: ToolSession, tmp_path: Path
) -> None:
    pid_file = tmp_path / "sleep.pid"
    command = f"bash -c 'sleep 60 & echo $! > {pid_file}; wait'; echo never"
    result = bash(session, command, timeout=1500)
    assert result.is_error and result.content.startswith("Command timed out after 1.5 s")
    assert "never" not in result.content
    assert wait_dead(read_pid(pid_file))


def test_interrupt_kills_running_command(session: ToolSession, tmp_path: Path) -> None:
    pid_file = tmp_path / "sleep.pid"
    results: list[ToolResult] = []
    worker = threading.Thread(
        target=lambda: results.append(bash(session, f"sleep 60 & echo $! > {pid_file}; wait"))
    )
    worker.start()
    pid = read_pid(pid_file)
    session.interrupt()
    worker.join(10)
    assert results and results[0].is_error and "interrupted" in results[0].content
    assert wait_dead(pid)


def test_keyboard_interrupt_kills_the_group_then_propagates(
    session: ToolSession, tmp_path: Path
) -> None:
    pid_file = tmp_path / "sleep.pid"
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        bash(session, f"sleep 60 & echo $! > {pid_file}; wait")
    assert wait_dead(read_pid(pid_file))


def test_command_left_running_in_foreground_group_dies_on_close(tmp_path: Path) -> None:
    pid_file = tmp_path / "sleep.pid"
    with ToolSession(tmp_path) as session:
        result = bash(session, f"sleep 60 > /dev/null 2>&1 & echo $! > {pid_file}")
        assert not result.is_error
        pid = read_pid(pid_file)
        assert not is_dead(pid)
    assert wait_dead(pid)


# ---------------------------------------------------------------- background shells


def poll_until_done(session: ToolSession, shell_id: str) -> list[str]:
    outputs = []
    for _ in range(200):
        result = session.call("BashOutput", {"bash_id": shell_id})
        assert not result.is_error
        outputs.append(result.content)
        if not result.content.startswith("Status: running"):
            return outputs
        time.sleep(0.05)
    raise AssertionError("background shell never finished")


def test_background_output_arrives_once_with_status(session: ToolSession) -> None:
    started = bash(
        session, "for i in 1 2 3; do echo line$i; sleep 0.2; done; exit 4", run_in_background=True
    )
    shell_id = started.content.split("id ")[1].split(".")[0]
    outputs = poll_until_done(session, shell_id)
    assert outputs[-1].startswith("Status: completed (exit code 4)")
    bodies = [o.split("\n", 1)[1] for o in outputs]
    lines = [line for body in bodies if body != "(no new output)" for line in body.split("\n")]
    assert lines == ["line1", "line2", "line3"]
    again = session.call("BashOutput", {"bash_id": shell_id})
    assert again.content == "Status: completed (exit code 4)\n(no new output)"


def test_background_filter_keeps_matching_lines(session: ToolSession) -> None:
    bash(session, "printf 'keep 1\\ndrop\\nkeep 2\\n'", run_in_background=True)
    time.sleep(0.3)
    result = session.call("BashOutput", {"bash_id": "bash_1", "filter": "^keep"})
    assert result.content.split("\n", 1)[1] == "keep 1\nkeep 2"
    bad = session.call("BashOutput", {"bash_id": "bash_1", "filter": "("})
    assert bad.is_error and "regex" in bad.content


def test_kill_shell_kills_group_and_reports_killed(session: ToolSession, tmp_path: Path) -> None:
    pid_file = tmp_path / "sleep.pid"
    command = f"sleep 60 & echo $! > {pid_file}; wait"
    bash(session, command, run_in_background=True)
    pid = read_pid(pid_file)
    result = session.call("KillShell", {"shell_id": "bash_1"})
    assert result == ToolResult(f"Killed shell bash_1 ({command}).")
    assert wait_dead(pid)
    status = session.call("BashOutput", {"bash_id": "bash_1"})
    assert status.content.startswith("Status: killed")


def test_close_kills_background_shells(tmp_path: Path) -> None:
    pid_file = tmp_path / "sleep.pid"
    session = ToolSession(tmp_path)
    bash(session, f"sleep 60 & echo $! > {pid_file}; wait", run_in_background=True)
    pid = read_pid(pid_file)
    session.close()
    assert wait_dead(pid)


def test_unknown_shell_ids_are_errors(session: ToolSession) -> None:
    for tool, field in (("BashOutput", "bash_id"), ("KillShell", "shell_id")):
        result = session.call(tool, {field: "bash_99"})
        assert result.is_error and "bash_99" in result.content


# ------------------------------------------------ an agent whose tools lack BashOutput


def bash_schema(session: ToolSession) -> dict[str, object]:
    (spec,) = session.specs(["Bash"])
    return spec.input_schema


def wait_for_text(path: Path, text: str, seconds: float = 10.0) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if text in (content := path.read_text()):
            return content
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never reached {path}")


def test_without_bash_output_a_background_command_writes_to_a_file_that_read_opens(
    tmp_path: Path,
) -> None:
    (tmp_path / "project").mkdir()
    spill = OutputSpill(tmp_path / "session" / "tool-outputs")
    with ToolSession(tmp_path / "project", spill=spill) as session:
        session.remove_tool("BashOutput")
        properties = bash_schema(session)["properties"]
        assert isinstance(properties, dict)
        assert properties["run_in_background"]["description"] == "Output goes to a file"
        pid_file = tmp_path / "server.pid"
        command = f"echo $$ > {pid_file}; echo listening; echo warn >&2; sleep 60"
        started = bash(session, command, run_in_background=True)
        assert not started.is_error and "BashOutput" not in started.content
        log = Path(started.content.split("is written to ")[1].split(": Read")[0])
        assert log.parent == spill.directory
        assert wait_for_text(log, "warn") == "listening\nwarn\n"
        shown = session.call("Read", {"file_path": str(log)})
        assert shown.content.splitlines()[:2] == ["     1→listening", "     2→warn"]
        pid = read_pid(pid_file)
    assert wait_dead(pid)  # the session closed: the command ended with it


def test_without_bash_output_a_log_file_that_cannot_be_made_is_a_clear_error(
    tmp_path: Path,
) -> None:
    (tmp_path / "project").mkdir()
    (tmp_path / "session").write_text("a file where the session directory should be")
    spill = OutputSpill(tmp_path / "session" / "tool-outputs")
    with ToolSession(tmp_path / "project", spill=spill) as session:
        session.remove_tool("BashOutput")
        refused = bash(session, "echo never", run_in_background=True)
        assert refused.is_error and "Could not create" in refused.content
        assert "for the command's output" in refused.content
        assert session.shell.background == {}


def test_without_bash_output_or_a_session_directory_background_runs_are_not_offered(
    session: ToolSession,
) -> None:
    session.remove_tool("BashOutput")
    properties = bash_schema(session)["properties"]
    assert isinstance(properties, dict) and "run_in_background" not in properties
    refused = bash(session, "sleep 60", run_in_background=True)
    assert refused.is_error and "foreground" in refused.content
    assert session.shell.background == {}


# ---------------------------------------------------------------- launchers


class MarkingLauncher:
    """Runs every command with an extra environment variable, to prove the launcher is used."""

    def argv(self, command: str, cwd: str) -> list[str]:
        return ["env", "LAUNCHED_BY=test", "bash", "-c", command]


class RefusingLauncher:
    def argv(self, command: str, cwd: str) -> list[str]:
        raise SandboxUnavailable("bubblewrap is not installed; install it or allow unsandboxed")


def test_launcher_runs_foreground_and_background(tmp_path: Path) -> None:
    with ToolSession(tmp_path, launcher=MarkingLauncher()) as session:
        assert bash(session, "echo $LAUNCHED_BY").content == "test"
        bash(session, "echo $LAUNCHED_BY", run_in_background=True)
        outputs = poll_until_done(session, "bash_1")
        assert "test" in "".join(outputs)


def test_sandbox_unavailable_is_an_error_result(tmp_path: Path) -> None:
    with ToolSession(tmp_path, launcher=RefusingLauncher()) as session:
        for background in (False, True):
            result = bash(session, "echo hi", run_in_background=background)
            assert result.is_error and "bubblewrap is not installed" in result.content


@pytest.mark.parametrize(
    ("tool", "payload", "fields"),
    [
        ("Bash", {}, ["command: required"]),
        ("Bash", {"command": "ls", "timeout": 600_001}, ["timeout:"]),
        (
            "Bash",
            {"command": "ls", "timeout": 1.5, "run_in_background": "x"},
            ["timeout:", "run_in_background:"],
        ),
        ("BashOutput", {"filter": 3}, ["bash_id: required", "filter:"]),
        ("KillShell", {"shell_id": 1, "force": True}, ["shell_id:", "force: unknown field"]),
    ],
)
def test_invalid_input_names_each_bad_field(
    session: ToolSession, tool: str, payload: dict[str, object], fields: list[str]
) -> None:
    result = session.call(tool, payload)
    assert result.is_error and f"Invalid input for {tool}" in result.content
    for field in fields:
        assert field in result.content, result.content


def test_huge_output_is_counted_not_kept(session: ToolSession) -> None:
    result = bash(session, "seq 1 2000000")
    shown = result.content.split("\n\n... [")[0].split("\n")
    cut = int(result.content.rsplit("[", 1)[1].split()[0])
    # the last shown line may be cut mid-way, and is then counted as truncated too
    assert len(shown) + cut - 1 == 2_000_000
    assert len(result.content) < 30_100


def test_command_killed_by_signal_reports_shell_style_code(session: ToolSession) -> None:
    result = bash(session, "kill -9 $$")
    assert result.is_error and result.content == "Exit code 137"


def test_background_output_beyond_the_buffer_is_counted(
    session: ToolSession, tmp_path: Path
) -> None:
    bash(session, "seq 1 300000; echo $$ > done.pid", run_in_background=True)  # about 2 MB
    read_pid(tmp_path / "done.pid")  # all output written before the first BashOutput
    outputs = poll_until_done(session, "bash_1")
    text = "\n".join(outputs)
    assert "further lines arrived but were not kept" in text
    assert "lines truncated" in text  # what was kept is still cut for display


def test_close_kills_what_a_finished_background_shell_left_behind(tmp_path: Path) -> None:
    pid_file = tmp_path / "sleep.pid"
    with ToolSession(tmp_path) as session:
        bash(session, f"sleep 60 > /dev/null & echo $! > {pid_file}", run_in_background=True)
        pid = read_pid(pid_file)
        assert poll_until_done(session, "bash_1")[-1].startswith("Status: completed (exit code 0)")
        assert not is_dead(pid)
    assert wait_dead(pid)
