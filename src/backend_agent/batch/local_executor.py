"""``LocalExecutor``: each task in a process of its own on this machine, a few at a time.

Processes are forked from a fork server that has the agent and the evidence engine already
imported, so a task starts in milliseconds; each gets the batch's environment, a session of
its own (its own sandbox), and writes its output to ``DIR/tasks/<id>/worker.log``. A task
past its timeout gets SIGTERM (its session ends the turn and records a result), then
SIGKILL after a grace period. A process that dies without a result is a failed task.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess

from backend_agent.batch.results import WORKER_DIED, TaskResult
from backend_agent.batch.salvage import salvaged_result
from backend_agent.batch.worker import Job, run_job

# Imported once in the fork server, so that every task process starts with them loaded (and
# the evidence engine warmed up); the model adapters import the providers' SDKs (~1 s).
PRELOAD = [
    "backend_agent.batch.worker",
    "backend_agent.api",
    "backend_agent.batch.warmup",
]
MODEL_ADAPTERS = ["backend_agent.models.anthropic", "backend_agent.models.openai"]
STOP_GRACE_SECONDS = 10.0  # between SIGTERM and SIGKILL
EXIT_GRACE_SECONDS = 5.0  # for a process to exit after sending its result


@dataclass
class _Running:
    job: Job
    process: BaseProcess
    results: Connection
    stop: tuple[str, str] | None = None  # (subtype, message) once stopped
    kill_at: float | None = None


class LocalExecutor:
    """Runs up to ``workers`` tasks at once, one process each; ``preload_models`` imports
    the model providers' SDKs once for all tasks (worth it when there are prompt tasks)."""

    def __init__(
        self,
        workers: int,
        *,
        preload_models: bool = True,
        stop_grace: float = STOP_GRACE_SECONDS,
    ) -> None:
        self._workers = workers
        self._stop_grace = stop_grace
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(PRELOAD + (MODEL_ADAPTERS if preload_models else []))
        self._running: dict[str, _Running] = {}
        self._exiting: list[tuple[BaseProcess, float]] = []  # sent a result, exiting
        # Never written: each task process watches for it to close, i.e. for the batch to end.
        self._lifeline, self._lifeline_end = self._context.Pipe(duplex=False)

    @property
    def capacity(self) -> int:
        return self._workers

    def submit(self, job: Job) -> None:
        receiver, sender = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=_work,
            args=(job, dict(os.environ), sender, self._lifeline),
            name=f"backend-agent batch {job.task.id}",
        )
        process.start()
        sender.close()  # the child holds the only writer: EOF when it dies
        self._running[job.task.id] = _Running(job, process, receiver)

    def finished(self, timeout: float) -> list[TaskResult]:
        self._reap()
        if not self._running:
            return []
        kills = [r.kill_at for r in self._running.values() if r.kill_at is not None]
        if kills:
            timeout = max(0.0, min(timeout, min(kills) - time.monotonic()))
        wait([r.results for r in self._running.values()], timeout)
        done = []
        for task_id, running in list(self._running.items()):
            result = self._collect(running)
            if result is not None:
                del self._running[task_id]
                done.append(result)
        return done

    def stop(self, task_id: str, subtype: str, message: str) -> None:
        running = self._running[task_id]
        running.stop = (subtype, message)
        running.kill_at = time.monotonic() + self._stop_grace
        _signal(running.process, signal.SIGTERM)

    def close(self) -> None:
        for running in self._running.values():
            _signal(running.process, signal.SIGTERM)
        deadline = time.monotonic() + self._stop_grace
        for running in self._running.values():
            _end(running.process, max(0.0, deadline - time.monotonic()))
            running.results.close()
        self._running.clear()
        self._reap(wait_all=True)
        self._lifeline_end.close()
        self._lifeline.close()

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _collect(self, running: _Running) -> TaskResult | None:
        """The job's result if it ended: what its process sent, or what it left on disk.
        A process that sent its result is left to exit on its own (reaped later), so the
        next task starts at once."""
        process, job = running.process, running.job
        result: TaskResult | None = None
        ended = False
        try:
            if running.results.poll():
                result = running.results.recv()
        except (EOFError, OSError):
            ended = True  # the process died before or while sending
        if result is not None:
            running.results.close()
            self._exiting.append((process, time.monotonic() + EXIT_GRACE_SECONDS))
            if running.stop is not None:
                result.subtype = running.stop[0]
                result.result = f"{running.stop[1]} ({result.result})"
            return result
        if not ended and process.is_alive():
            if running.kill_at is not None and time.monotonic() >= running.kill_at:
                _signal(process, signal.SIGKILL)
            return None
        _end(process, EXIT_GRACE_SECONDS)
        running.results.close()
        code = process.exitcode
        how = f"killed by {signal.Signals(-code).name}" if code and code < 0 else f"exit {code}"
        subtype, message = running.stop or (
            WORKER_DIED,
            f"the worker process (pid {process.pid}) died ({how}) before the task ended",
        )
        return salvaged_result(job.out_dir, job.task.id, job.task.kind, subtype, message)

    def _reap(self, wait_all: bool = False) -> None:
        """Join the processes that sent their results; kill one that lingers."""
        still = []
        for process, deadline in self._exiting:
            if wait_all:
                _end(process, max(0.0, deadline - time.monotonic()))
            elif process.is_alive() and time.monotonic() < deadline:
                still.append((process, deadline))
            else:
                _end(process, 0)
        self._exiting = still


def _end(process: BaseProcess, grace: float) -> None:
    """Wait up to ``grace`` seconds for ``process`` to exit, then kill it; reaps it."""
    process.join(grace)
    _signal(process, signal.SIGKILL)
    process.join()


def _signal(process: BaseProcess, signum: int) -> None:
    if process.pid is not None and process.exitcode is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signum)


def _work(job: Job, environment: dict[str, str], results: Connection, lifeline: Connection) -> None:
    """A task process: the batch's environment, its own session (so a Ctrl-C at the
    terminal reaches the batch, which stops tasks in order), output to worker.log, and a
    SIGTERM when the batch dies, however it dies."""
    from backend_agent.sessions.signals import terminate_on_signals

    threading.Thread(target=_stop_with_the_batch, args=(lifeline,), daemon=True).start()
    os.environ.clear()
    os.environ.update(environment)
    os.setsid()
    directory = job.task_dir
    directory.mkdir(parents=True, exist_ok=True)
    log_path = directory / "worker.log"
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    with terminate_on_signals():
        result = run_job(job)
    sys.stdout.flush()
    sys.stderr.flush()
    if log_path.stat().st_size == 0:
        log_path.unlink()
    with contextlib.suppress(OSError):  # the batch is gone: the task's files say what happened
        results.send(result)
    results.close()


def _stop_with_the_batch(lifeline: Connection) -> None:
    """Wait for the batch's end of the lifeline to close (the batch exited or was killed),
    then stop this task as a timeout would."""
    with contextlib.suppress(EOFError, OSError):
        lifeline.recv_bytes()
    os.kill(os.getpid(), signal.SIGTERM)
