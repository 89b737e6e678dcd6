"""``backend-agent batch`` with the local executor: a process per task, results that survive
a killed worker and a killed batch, the total budget and the per-task timeout."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.batch.conftest import (
    NOTES_COST,
    WAIT_FOR_GO,
    alive,
    batch_command,
    check_six_results,
    results,
    run_batch_command,
    six_tasks,
    start_batch,
    wait_for,
    waiting_task,
    worker_pid,
    write_tasks,
)


def test_six_tasks_over_three_repositories(
    repos: dict[str, Path], tmp_path: Path, notes_script: str
) -> None:
    tasks = six_tasks(repos, tmp_path, notes_script)
    out = tmp_path / "out"
    done = run_batch_command(tasks, "--out", out, "--workers", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    check_six_results(out, repos)
    # progress on stderr, one line per finished task; the summary table on stdout
    finished = [line for line in done.stderr.splitlines() if line.startswith("[")]
    assert len(finished) == 6 and finished[-1].startswith("[6/6] ok ")
    assert "6 ok, 0 failed; $0.0216 spent; results in " in done.stdout
    for task_id in ("orders-notes", "billing-report"):
        assert task_id in done.stdout
    # the prompt on orders changes its work tree: the report on orders never ran beside it
    found = results(out)
    spans = []
    for task_id in ("orders-notes", "orders-report"):
        end = datetime.fromisoformat(found[task_id]["finished_at"])
        spans.append((end - timedelta(milliseconds=found[task_id]["duration_ms"]), end))
    (_, end_a), (start_b, _) = sorted(spans)
    assert end_a <= start_b


def test_a_killed_worker_is_reported_failed_with_its_partial_transcript(
    repos: dict[str, Path], tmp_path: Path, waiting_script: str, notes_script: str
) -> None:
    tasks = write_tasks(
        tmp_path / "tasks.yaml",
        [
            waiting_task("waits", repos["orders"], waiting_script),
            {"id": "notes", "repo": str(repos["users"]), "prompt": "Write notes"},
        ],
        {"model": notes_script, "permission_mode": "bypassPermissions"},
    )
    out = tmp_path / "out"
    batch = start_batch(tasks, "--out", out, "--workers", "2", cwd=tmp_path)
    try:
        wait_for((repos["orders"] / "STARTED").exists, "the task to start waiting")
        pid = worker_pid(out, "waits")
        os.kill(pid, signal.SIGKILL)
        stdout, stderr = batch.communicate(timeout=120)
    finally:
        (repos["orders"] / "GO").touch()
        batch.kill()
    assert batch.returncode == 1, stderr
    found = results(out)
    assert found["notes"]["status"] == "ok"
    killed = found["waits"]
    assert (killed["status"], killed["subtype"]) == ("failed", "error_worker_died")
    assert f"(pid {pid}) died (killed by SIGKILL)" in killed["result"]
    assert killed["transcript"] == f"tasks/waits/{killed['session_id']}.jsonl"
    entries = [json.loads(x) for x in (out / killed["transcript"]).read_text().splitlines()]
    calls = [b for e in entries if e["type"] == "assistant" for b in e["message"]["content"]]
    assert calls[-1]["input"]["command"] == WAIT_FOR_GO  # cut off in the middle of the run
    assert not any(e["type"] == "result" for e in entries)
    # what it had spent before it died is counted: the first model call
    assert killed["usage"]["input_tokens"] == 1000 and killed["num_turns"] == 1
    assert killed["cost_usd"] == pytest.approx((1000 * 3 + 50 * 15) / 1e6)
    assert killed["repo"] == str(repos["orders"])
    assert "failed waits" in stderr and "1 ok, 1 failed" in stdout


def test_resume_after_killing_the_batch_runs_only_what_was_left(
    repos: dict[str, Path], tmp_path: Path, waiting_script: str, notes_script: str
) -> None:
    tasks = write_tasks(
        tmp_path / "tasks.yaml",
        [
            {"id": "first", "repo": str(repos["orders"]), "prompt": "Write notes"},
            {"id": "second", "repo": str(repos["users"]), "prompt": "Write notes"},
            waiting_task("waits", repos["billing"], waiting_script),
            {"id": "report", "repo": str(repos["users"]), "report": True},
        ],
        {"model": notes_script, "permission_mode": "bypassPermissions", "workers": 1},
    )
    out = tmp_path / "out"
    batch = start_batch(tasks, "--out", out, cwd=tmp_path)
    try:
        wait_for((repos["billing"] / "STARTED").exists, "the third task to start")
        worker = worker_pid(out, "waits")
        batch.kill()  # SIGKILL: no chance to clean up
        batch.wait(timeout=60)
        wait_for(lambda: not alive(worker), "the orphaned task process to stop")
    finally:
        batch.kill()
    assert sorted(results(out)) == ["first", "second"]
    before = (out / "results.jsonl").read_text()

    again = run_batch_command(tasks, "--out", out, cwd=tmp_path)
    assert again.returncode == 2
    assert "holds results already: add --resume" in again.stderr

    (repos["billing"] / "GO").touch()
    resumed = run_batch_command(tasks, "--out", out, "--resume", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    ran = [line.split()[2] for line in resumed.stderr.splitlines() if line.startswith("[")]
    assert ran == ["waits", "report"]
    assert (out / "results.jsonl").read_text().startswith(before)  # nothing done was lost
    assert {k: v["status"] for k, v in results(out).items()} == dict.fromkeys(
        ["first", "second", "waits", "report"], "ok"
    )
    assert len(list((out / "tasks" / "first").glob("*.jsonl"))) == 1  # not run twice
    assert len(list((out / "tasks" / "waits").glob("*.jsonl"))) == 2  # killed run's kept
    assert "4 ok, 0 failed" in resumed.stdout


def test_the_total_budget_stops_new_tasks_once_spent(
    repos: dict[str, Path], tmp_path: Path, notes_script: str
) -> None:
    tasks = write_tasks(
        tmp_path / "tasks.jsonl",
        [
            {
                "id": f"{name}-{n}",
                "repo": str(path),
                "prompt": "Write notes",
                "model": notes_script,
                "permission_mode": "acceptEdits",
            }
            for n in (1, 2)
            for name, path in repos.items()
        ],
    )
    out = tmp_path / "out"
    spent = run_batch_command(
        tasks, "--out", out, "--workers", "1", "--total-budget-usd", "0.01", cwd=tmp_path
    )
    assert spent.returncode == 1
    found = results(out)
    # the first task costs $0.0072; the second may spend only the $0.0028 left, and stops
    # after its first model call; then nothing more starts
    assert list(found) == ["orders-1", "users-1"]
    assert found["orders-1"]["status"] == "ok"
    assert found["orders-1"]["cost_usd"] == pytest.approx(NOTES_COST)
    assert found["users-1"]["subtype"] == "error_max_budget_usd"
    assert "4 not started (total budget spent)" in spent.stdout
    assert spent.stdout.count("not started") == 5  # four rows and the totals line

    more = run_batch_command(
        tasks, "--out", out, "--resume", "--total-budget-usd", "1", cwd=tmp_path
    )
    assert more.returncode == 1  # users-1 stays failed: --resume does not retry it
    assert len(results(out)) == 6 and results(out)["users-1"]["subtype"] == "error_max_budget_usd"
    retried = run_batch_command(
        tasks, "--out", out, "--resume", "--retry-failed", "--total-budget-usd", "1", cwd=tmp_path
    )
    assert retried.returncode == 0, retried.stdout
    assert [line.split()[2] for line in retried.stderr.splitlines() if line[:1] == "["] == [
        "users-1"
    ]


def test_a_terminated_batch_stops_its_tasks_and_records_nothing_unfinished(
    repos: dict[str, Path], tmp_path: Path, waiting_script: str
) -> None:
    tasks = write_tasks(
        tmp_path / "tasks.jsonl", [waiting_task("waits", repos["orders"], waiting_script)]
    )
    out = tmp_path / "out"
    batch = start_batch(tasks, "--out", out, cwd=tmp_path)
    try:
        wait_for((repos["orders"] / "STARTED").exists, "the task to start waiting")
        worker = worker_pid(out, "waits")
        batch.terminate()
        _, stderr = batch.communicate(timeout=60)
    finally:
        (repos["orders"] / "GO").touch()
        batch.kill()
    assert batch.returncode == 143
    assert "rerun with --resume to do the rest" in stderr.splitlines()[-1]
    assert not alive(worker)
    assert not (out / "results.jsonl").exists()  # --resume runs the task again
    (transcript,) = (out / "tasks" / "waits").glob("*.jsonl")
    last = json.loads(transcript.read_text().splitlines()[-1])
    assert (last["type"], last["result"]) == ("result", "terminated")  # it ended cleanly


def test_a_task_past_its_timeout_is_stopped_and_keeps_its_transcript(
    repos: dict[str, Path], tmp_path: Path, waiting_script: str
) -> None:
    tasks = write_tasks(
        tmp_path / "tasks.jsonl",
        [waiting_task("slow", repos["orders"], waiting_script)],
    )
    out = tmp_path / "out"
    done = run_batch_command(tasks, "--out", out, "--timeout", "2", cwd=tmp_path)
    assert done.returncode == 1
    slow = results(out)["slow"]
    assert (slow["status"], slow["subtype"]) == ("failed", "error_timeout")
    assert slow["result"].startswith("stopped after the 2 s timeout")
    assert (out / slow["transcript"]).is_file() and slow["usage"]["input_tokens"] == 1000
    assert not (repos["orders"] / "GO").exists()  # it was stopped, not released


def test_command_line_errors_are_one_line(tmp_path: Path, repos: dict[str, Path]) -> None:
    bad = tmp_path / "tasks.yaml"
    bad.write_text("tasks:\n  - id: a\n    repo: .\n    prompt: x\n    turns: 3\n")
    for args, message in [
        ([bad], f"{bad}:2: task 'a': turns: Extra inputs are not permitted"),
        ([bad, "--report-all", "."], "give a TASKS file or --report-all REPO..., not both"),
        ([], "give a TASKS file or --report-all REPO..., not both"),
        ([bad, "--format", "md"], "--format and --base go with --report-all (a task has its own)"),
        (
            ["--report-all", ".", "--ray-address", "auto"],
            "--ray-address and --ray-env need --executor ray",
        ),
        (
            ["--report-all", ".", "--executor", "ray", "--ray-env", "NOT_SET_ANYWHERE"],
            "--ray-env NOT_SET_ANYWHERE: not set in this environment",
        ),
    ]:
        done = run_batch_command(*args, cwd=tmp_path)
        assert done.returncode == 2
        assert done.stderr == f"backend-agent: error: {message}\n"
    missing = write_tasks(
        tmp_path / "missing.jsonl", [{"id": "x", "repo": "nowhere", "prompt": "hi"}]
    )
    done = run_batch_command(missing, "--out", tmp_path / "o", cwd=tmp_path)
    assert done.returncode == 1
    line = results(tmp_path / "o")["x"]
    assert line["subtype"] == "error_during_execution"
    assert (
        line["result"]
        == f"repo {tmp_path / 'nowhere'}: not a directory (give a local path or a git URL)"
    )


def test_progress_is_live_on_a_terminal(
    repos: dict[str, Path], tmp_path: Path, script: Callable[..., str]
) -> None:
    import pty

    tasks = write_tasks(
        tmp_path / "tasks.jsonl",
        [
            {"id": f"r{n}", "repo": str(path), "report": True}
            for n, path in enumerate(repos.values())
        ],
    )
    leader, follower = pty.openpty()
    done = subprocess.run(
        batch_command(tasks, "--out", tmp_path / "out"),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=follower,
        text=True,
        timeout=240,
        env={**os.environ, "COLUMNS": "120"},
    )
    os.close(follower)
    screen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        screen += chunk
    os.close(leader)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.decode())  # colours, cursor moves
    assert done.returncode == 0
    assert "batch: 0/3 done · 0 running · 0 failed · $0.00 · ETA …" in text
    assert "batch: 3/3 done · 0 running · 0 failed · $0.00 · ETA 0s" in text
    assert "[1/3] ok r" in text and "[3/3] ok r" in text
    assert "3 ok, 0 failed" in done.stdout and "\x1b[" not in done.stdout


def test_command_line_defaults_apply_to_every_task(
    repos: dict[str, Path], tmp_path: Path, notes_script: str
) -> None:
    tasks = write_tasks(
        tmp_path / "tasks.jsonl",
        [{"id": name, "repo": str(path), "prompt": "Write notes"} for name, path in repos.items()],
    )
    relative = Path(notes_script.removeprefix("scripted:")).relative_to(tmp_path)
    flags = ["--model", f"scripted:{relative}", "--permission-mode", "acceptEdits"]
    done = run_batch_command(tasks, "--out", tmp_path / "out", *flags, cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    assert {line["result"] for line in results(tmp_path / "out").values()} == {"notes written"}
    denied = run_batch_command(
        tasks, "--out", tmp_path / "out2", "--model", f"scripted:{relative}", cwd=tmp_path
    )  # default mode: the Write is refused, and counted
    assert {line["permission_denials"] for line in results(tmp_path / "out2").values()} == {1}
    assert denied.returncode == 0
