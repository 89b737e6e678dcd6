"""``run_batch`` against executors written in the test: what the batch decides by itself
(work trees, results that survive, the output directory's lock), whatever runs the tasks."""

from __future__ import annotations

import dataclasses
import json
import threading
from pathlib import Path

import pytest

from backend_agent.batch import (
    BatchOptions,
    BatchProgress,
    Job,
    PromptTask,
    ReportTask,
    TaskResult,
    run_batch,
    run_job,
)
from backend_agent.errors import UserError


class OldestFirstExecutor:
    """Holds what it is given and finishes the oldest job at each call: the order is the
    test's to know. Records who ran beside whom."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.running: dict[str, Job] = {}
        self.together: list[set[str]] = []

    def submit(self, job: Job) -> None:
        self.running[job.task.id] = job
        self.together.append(set(self.running))

    def finished(self, timeout: float) -> list[TaskResult]:
        task_id, job = next(iter(self.running.items()))
        del self.running[task_id]
        return [TaskResult(task_id, job.task.kind, "success", "done", cost_usd=0.5)]

    def stop(self, task_id: str, subtype: str, message: str) -> None:
        raise AssertionError("no timeout was set")

    def close(self) -> None:
        pass


def prompt(task_id: str, repo: str) -> PromptTask:
    return PromptTask(id=task_id, repo=repo, prompt="change it")


def report(task_id: str, repo: str) -> ReportTask:
    return ReportTask(id=task_id, repo=repo, report=True)


def test_a_prompt_task_has_its_work_tree_to_itself(tmp_path: Path) -> None:
    tasks = [
        prompt("edit-a", "/srv/a"),
        report("look-a", "/srv/a"),
        report("look-a-again", "/srv/a"),
        prompt("edit-b", "/srv/b"),
        prompt("edit-a-again", "/srv/a"),
        prompt("clone-1", "https://example.com/a.git"),  # each clone is a work tree of its own
        prompt("clone-2", "https://example.com/a.git"),
    ]
    executor = OldestFirstExecutor(capacity=3)
    outcome = run_batch(tasks, executor, BatchOptions(tmp_path / "out"))
    assert outcome.all_ok and [r.id for r in outcome.results] == [t.id for t in tasks]
    assert executor.together == [
        {"edit-a"},
        {"edit-a", "edit-b"},
        {"edit-a", "edit-b", "clone-1"},
        {"edit-b", "clone-1", "look-a"},  # edit-a done: the reports may read a together
        {"clone-1", "look-a", "look-a-again"},
        {"look-a", "look-a-again", "clone-2"},
        {"clone-2", "edit-a-again"},  # after both reports
    ]


def test_progress_counts_cost_and_eta(tmp_path: Path) -> None:
    seen: list[BatchProgress] = []
    tasks = [report(f"r{n}", f"/srv/{n}") for n in range(4)]
    run_batch(
        tasks,
        OldestFirstExecutor(capacity=2),
        BatchOptions(tmp_path / "out"),
        lambda p: seen.append(dataclasses.replace(p, running=list(p.running))),
    )
    assert (seen[0].done, seen[0].running, seen[0].eta_seconds) == (0, [], None)
    finished = [p for p in seen if p.last is not None]
    assert [p.done for p in finished] == [1, 2, 3, 4]
    assert [p.cost_usd for p in finished] == [0.5, 1.0, 1.5, 2.0]
    assert finished[-1].eta_seconds == 0
    assert max(len(p.running) for p in seen) == 2


def test_results_survive_a_torn_last_line_and_name_a_bad_one(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    done = TaskResult("r0", "report", "success", "ok", cost_usd=0.25)
    (out / "results.jsonl").write_text(json.dumps(done.to_json()) + '\n{"id": "r1", "ki')
    tasks = [report("r0", "/srv/0"), report("r1", "/srv/1")]
    executor = OldestFirstExecutor(capacity=1)
    outcome = run_batch(tasks, executor, BatchOptions(out, resume=True))
    assert executor.together == [{"r1"}]  # r0 was done; r1's line was cut short
    assert outcome.cost_usd == 0.75
    lines = (out / "results.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["r0", "r1"]

    (out / "results.jsonl").write_text("not json\n" + "\n".join(lines) + "\n")
    with pytest.raises(UserError, match=r"results.jsonl:1: not a JSON line .*fix or delete"):
        run_batch(tasks, executor, BatchOptions(out, resume=True))


def test_one_batch_at_a_time_per_output_directory(tmp_path: Path) -> None:
    started, release = threading.Event(), threading.Event()

    class Blocking(OldestFirstExecutor):
        def finished(self, timeout: float) -> list[TaskResult]:
            started.set()
            release.wait(30)
            return super().finished(timeout)

    first = threading.Thread(
        target=run_batch, args=([report("r", "/srv")], Blocking(1), BatchOptions(tmp_path))
    )
    first.start()
    try:
        assert started.wait(30)
        with pytest.raises(UserError, match="another batch is running with --out"):
            run_batch([report("r", "/srv")], OldestFirstExecutor(1), BatchOptions(tmp_path))
    finally:
        release.set()
        first.join()


class RemoteExecutor:
    """Runs each job at once, in this process, as a worker on another machine would: in a
    directory of its own, sending the task's files back with the result."""

    capacity = 1

    def __init__(self, remote_out: Path) -> None:
        self.remote_out = remote_out
        self.done: list[TaskResult] = []

    def submit(self, job: Job) -> None:
        remote = dataclasses.replace(job, out_dir=self.remote_out, send_artifacts=True)
        self.done.append(run_job(remote))

    def finished(self, timeout: float) -> list[TaskResult]:
        done, self.done = self.done, []
        return done

    def stop(self, task_id: str, subtype: str, message: str) -> None:
        raise AssertionError("no timeout was set")

    def close(self) -> None:
        pass


def test_files_of_a_worker_elsewhere_land_in_the_output_directory(
    tmp_path: Path, repos: dict[str, Path], notes_script: str
) -> None:
    tasks = [
        report("orders-report", str(repos["orders"])),
        PromptTask(id="notes", repo=str(repos["users"]), prompt="Write notes",
                   model=notes_script, permission_mode="acceptEdits"),
    ]  # fmt: skip
    out = tmp_path / "out"
    outcome = run_batch(tasks, RemoteExecutor(tmp_path / "elsewhere"), BatchOptions(out))
    assert outcome.all_ok
    first, notes = outcome.results
    assert (out / first.report).read_text() == (tmp_path / "elsewhere" / first.report).read_text()
    assert (out / "tasks" / "orders-report" / "report.json").is_file()
    assert notes.transcript is not None
    assert (out / notes.transcript).read_bytes().count(b"\n") >= 5
    assert "artifacts" not in (out / "results.jsonl").read_text()
