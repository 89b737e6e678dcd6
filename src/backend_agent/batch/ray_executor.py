"""``RayExecutor``: each task a Ray task, on a Ray cluster or a local one Ray starts.

Each task declares its resources (1 CPU and a memory estimate) and is retried by Ray when
its worker process or node dies (``max_retries``); a failure of the task itself is a result,
never a retry. Results stream back as they finish (``ray.wait``). A worker on another node
sends the task directory's files (transcript, report) back with its result, so the batch's
output directory is complete even without a shared filesystem.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from typing import Any

from backend_agent.batch.results import WORKER_DIED, TaskResult
from backend_agent.batch.salvage import salvaged_result
from backend_agent.batch.worker import Job, run_job
from backend_agent.errors import UserError

GIB = 1024**3
# Ray's memory resource per task, in bytes: a session with the commands it runs (tests,
# builds), or one report (the whole repository's parsed files).
MEMORY = {"prompt": 2 * GIB, "report": 1 * GIB}
MAX_RETRIES = 3  # for a worker process or node that dies
INSTALL_HINT = "the Ray executor needs Ray: pip install 'backend-agent[ray]'"


class RayExecutor:
    """Runs tasks as Ray tasks; ``address`` None starts a local cluster of ``workers`` CPUs
    (real worker processes) unless Ray is already initialised in this process."""

    def __init__(
        self,
        address: str | None = None,
        workers: int | None = None,
        *,
        env_vars: dict[str, str] | None = None,
        max_retries: int = MAX_RETRIES,
    ) -> None:
        try:
            import ray
        except ImportError:
            raise UserError(INSTALL_HINT) from None
        self._ray = ray
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            address = address or os.environ.get("RAY_ADDRESS") or None
            try:
                ray.init(
                    address=address,
                    num_cpus=workers if address is None else None,  # a new local cluster's size
                    include_dashboard=False,
                    log_to_driver=False,
                    logging_level=logging.ERROR,
                    runtime_env={"env_vars": env_vars} if env_vars else None,
                )
            except ConnectionError as error:
                raise UserError(f"cannot reach the Ray cluster at {address}: {error}") from None
        cpus = int(ray.cluster_resources().get("CPU", 1))  # type: ignore[no-untyped-call]
        self._capacity = workers or max(1, cpus)
        self._driver_node = ray.get_runtime_context().get_node_id()
        self._task = ray.remote(num_cpus=1, max_retries=max_retries, retry_exceptions=False)(
            _ray_task
        )
        self._max_retries = max_retries
        self._running: dict[str, tuple[Job, Any]] = {}  # task id -> (job, ObjectRef)
        self._stopped: dict[str, tuple[str, str]] = {}

    @property
    def capacity(self) -> int:
        return self._capacity

    def submit(self, job: Job) -> None:
        options = self._task.options(memory=MEMORY[job.task.kind], name=f"batch:{job.task.id}")
        self._running[job.task.id] = (job, options.remote(job, self._driver_node))

    def finished(self, timeout: float) -> list[TaskResult]:
        if not self._running:
            return []
        ray = self._ray
        references = [reference for _, reference in self._running.values()]
        ready, _ = ray.wait(references, num_returns=1, timeout=timeout)
        if ready:
            ready, _ = ray.wait(references, num_returns=len(references), timeout=0)
        done = []
        for task_id, (job, reference) in list(self._running.items()):
            if reference in ready:
                del self._running[task_id]
                done.append(self._result(job, reference))
        return done

    def stop(self, task_id: str, subtype: str, message: str) -> None:
        self._stopped[task_id] = (subtype, message)
        self._ray.cancel(self._running[task_id][1], force=True)

    def close(self) -> None:
        for _, reference in self._running.values():
            self._ray.cancel(reference, force=True)
        self._running.clear()
        if self._owns_ray:
            self._ray.shutdown()

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _result(self, job: Job, reference: Any) -> TaskResult:
        task = job.task
        try:
            result: TaskResult = self._ray.get(reference)
        except self._ray.exceptions.RayError as error:
            stopped = self._stopped.pop(task.id, None)
            subtype, message = stopped or (
                WORKER_DIED,
                f"its Ray worker failed (retried up to {self._max_retries} times): "
                f"{str(error).strip().splitlines()[0]}",
            )
            return salvaged_result(job.out_dir, task.id, task.kind, subtype, message)
        return result


def _ray_task(job: Job, driver_node: str) -> TaskResult:
    """A task on a Ray worker: run it, sending its files back when on another node."""
    import ray

    here = ray.get_runtime_context().get_node_id()
    return run_job(replace(job, send_artifacts=here != driver_node))
