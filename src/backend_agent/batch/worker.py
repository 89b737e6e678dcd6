"""One task run to its end in the current process: the work tree made ready, then a session
for a prompt or the evidence engine for a report, through the public APIs.

Whatever executor runs it, a task writes into ``DIR/tasks/<id>/``: ``worker.json`` (where it
runs: host, pid, and the session once open), the session's transcript
``<session id>.jsonl``, and ``report.<format>`` (plus ``report.json``) for a report.
Application errors become a failed ``TaskResult``; only the death of the process escapes.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from backend_agent.batch.repos import switch_to_branch, work_tree
from backend_agent.batch.results import TaskResult
from backend_agent.batch.tasks import BatchDefaults, PromptTask, ReportTask, Task
from backend_agent.errors import UserError
from backend_agent.runtime.results import TERMINATED, Terminated

if TYPE_CHECKING:
    from backend_agent.sessions.session import Session
    from backend_agent.sessions.store import SessionStore

TASKS_DIR = "tasks"
WORKER_FILE = "worker.json"


@dataclass(frozen=True)
class Job:
    """A task as handed to a worker, with what the batch decided for it."""

    task: Task
    out_dir: Path  # absolute; the task writes into out_dir/tasks/<id>
    defaults: BatchDefaults
    max_budget_usd: float | None = None  # the task's cap, lowered to what the batch has left
    send_artifacts: bool = False  # put the task directory's files into the result

    @property
    def task_dir(self) -> Path:
        return task_dir(self.out_dir, self.task.id)


def task_dir(out_dir: Path, task_id: str) -> Path:
    return out_dir / TASKS_DIR / task_id


def run_job(job: Job) -> TaskResult:
    """Run the job's task here and now; never raises for a failure of the task itself."""
    started = time.monotonic()
    directory = job.task_dir
    directory.mkdir(parents=True, exist_ok=True)
    note_worker(directory)
    task = job.task
    try:
        tree = work_tree(task, job.out_dir)
        if isinstance(task, ReportTask):
            result = _run_report(task, tree, job)
        else:
            result = _run_prompt(task, tree, job)
    except Terminated:
        result = TaskResult(task.id, task.kind, "error_during_execution", TERMINATED)
    except Exception as error:  # an application error is a result, never a retry
        message = str(error) if isinstance(error, UserError) else f"{type(error).__name__}: {error}"
        result = TaskResult(task.id, task.kind, "error_during_execution", message)
    result.duration_ms = round((time.monotonic() - started) * 1000)
    if job.send_artifacts:
        result.artifacts = {
            p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()
        }
    return result


def note_worker(directory: Path, **extra: str) -> None:
    """Record where the task runs (``worker.json``), so a user can find and stop it."""
    path = directory / WORKER_FILE
    data = {"host": socket.gethostname(), "pid": os.getpid(), **extra}
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(data) + "\n", encoding="utf-8")
    temporary.replace(path)


def open_task_session(task: PromptTask, job: Job, cwd: Path, store: SessionStore) -> Session:
    """The task's session, opened through the public Python API (``open_session``)."""
    import backend_agent

    defaults = job.defaults
    return backend_agent.open_session(
        cwd,
        agent=task.agent or defaults.agent,
        model=task.model or defaults.model,
        permission_mode=task.permission_mode or defaults.permission_mode,
        max_turns=task.max_turns or defaults.max_turns,
        max_budget_usd=job.max_budget_usd,
        session_store=store,
    )


def _run_prompt(task: PromptTask, tree: Path, job: Job) -> TaskResult:
    from backend_agent.sessions.store import JsonlFileStore

    if task.branch is not None:
        switch_to_branch(tree, task.branch)
    directory = job.task_dir
    with open_task_session(task, job, tree, JsonlFileStore(directory)) as session:
        note_worker(directory, session_id=session.id)
        run = session.prompt(task.prompt).to_json()  # the headless JSON result
        changed = session.changed_files()
    return TaskResult(
        task.id,
        "prompt",
        run["subtype"],
        run["result"],
        repo=str(tree),
        cost_usd=run["total_cost_usd"],
        usage=run["usage"],
        num_turns=run["num_turns"],
        changed_files=changed,
        session_id=run["session_id"],
        transcript=_relative(directory / f"{run['session_id']}.jsonl", job.out_dir),
        permission_denials=len(run["permission_denials"]),
    )


def _run_report(task: ReportTask, tree: Path, job: Job) -> TaskResult:
    from backend_agent.analysis import Project, build_report, render

    report = build_report(Project(tree), task.base)
    path = job.task_dir / f"report.{task.format}"
    _write(path, render(report, task.format))
    if task.format != "json":  # the data the org-wide report is made from
        _write(job.task_dir / "report.json", render(report, "json"))
    severities = Counter(risk.severity.value for risk in report.risks)
    risks = ", ".join(f"{count} {severity}" for severity, count in severities.items())
    summary = (
        f"{len(report.endpoints.endpoints)} endpoints, "
        f"{len(report.database.migrations)} migrations, "
        f"{len(report.risks)} risks" + (f" ({risks})" if risks else "")
    )
    return TaskResult(
        task.id,
        "report",
        "success",
        summary,
        repo=str(tree),
        changed_files=[change.path for change in report.plan.files],
        report=_relative(path, job.out_dir),
    )


def _write(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def _relative(path: Path, out_dir: Path) -> str:
    return path.relative_to(out_dir).as_posix()
