"""The seam between the batch and the engine that runs its tasks: ``Executor``.

Two executors implement it: ``LocalExecutor`` (a process per task on this machine) and
``RayExecutor`` (Ray tasks, on a local or remote Ray cluster). The batch decides what runs
when (budget, timeouts, work trees); an executor only runs jobs and hands results back.
"""

from __future__ import annotations

from typing import Protocol

from backend_agent.batch.results import TaskResult
from backend_agent.batch.worker import Job


class Executor(Protocol):
    """Runs jobs and returns their results as they finish, in any order."""

    @property
    def capacity(self) -> int:
        """How many jobs it runs at once; the batch never submits more."""
        ...

    def submit(self, job: Job) -> None:
        """Start ``job`` (its task id is unique among the running ones)."""
        ...

    def finished(self, timeout: float) -> list[TaskResult]:
        """The results of jobs that ended since the last call, waiting up to ``timeout``
        seconds for one. A job whose worker died without a result is a failed result."""
        ...

    def stop(self, task_id: str, subtype: str, message: str) -> None:
        """Stop a running job (its timeout passed); its failed result, with ``subtype`` and
        ``message``, comes back from ``finished``."""
        ...

    def close(self) -> None:
        """Stop every job still running and release the workers; no results follow."""
        ...
