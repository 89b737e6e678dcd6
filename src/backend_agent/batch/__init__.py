"""Batch runs: many tasks over many repositories, on this machine or on a Ray cluster.

    from pathlib import Path
    from backend_agent.batch import BatchOptions, LocalExecutor, load_tasks, run_batch

    tasks = load_tasks(Path("tasks.yaml"))
    with LocalExecutor(workers=4) as executor:
        outcome = run_batch(tasks.tasks, executor, BatchOptions(Path("out"), tasks.defaults))

- ``load_tasks(path) -> TaskFile``: a JSONL or YAML tasks file, validated (file:line errors).
- ``report_tasks(repos, fmt, base) -> list[Task]``: a report task per repository.
- ``run_batch(tasks, executor, options, on_progress) -> BatchOutcome``: results appended to
  ``DIR/results.jsonl`` as they finish; resume, total budget, timeouts.
- ``LocalExecutor(workers)`` and ``RayExecutor(address, workers)``: the ``Executor``s.
- ``write_org_report(out_dir, results, fmt)``: the org-wide report of the report tasks.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from backend_agent.batch.executor import Executor
    from backend_agent.batch.local_executor import LocalExecutor
    from backend_agent.batch.org import build_org_report, write_org_report
    from backend_agent.batch.ray_executor import RayExecutor
    from backend_agent.batch.results import ResultsLog, TaskResult
    from backend_agent.batch.runner import BatchOptions, BatchOutcome, BatchProgress, run_batch
    from backend_agent.batch.tasks import (
        BatchDefaults,
        PromptTask,
        ReportTask,
        Task,
        TaskFile,
        load_tasks,
        report_tasks,
    )
    from backend_agent.batch.worker import Job, run_job

# name -> module (under backend_agent.batch) that defines it, imported on first use: the Ray
# executor's module must not be imported unless asked for.
_EXPORTS = {
    "Executor": "executor",
    "LocalExecutor": "local_executor",
    "RayExecutor": "ray_executor",
    "build_org_report": "org",
    "write_org_report": "org",
    "ResultsLog": "results",
    "TaskResult": "results",
    "BatchOptions": "runner",
    "BatchOutcome": "runner",
    "BatchProgress": "runner",
    "run_batch": "runner",
    "BatchDefaults": "tasks",
    "PromptTask": "tasks",
    "ReportTask": "tasks",
    "Task": "tasks",
    "TaskFile": "tasks",
    "load_tasks": "tasks",
    "report_tasks": "tasks",
    "Job": "worker",
    "run_job": "worker",
}

__all__ = [
    "BatchDefaults",
    "BatchOptions",
    "BatchOutcome",
    "BatchProgress",
    "Executor",
    "Job",
    "LocalExecutor",
    "PromptTask",
    "RayExecutor",
    "ReportTask",
    "ResultsLog",
    "Task",
    "TaskFile",
    "TaskResult",
    "build_org_report",
    "load_tasks",
    "report_tasks",
    "run_batch",
    "run_job",
    "write_org_report",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value
