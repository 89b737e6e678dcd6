"""``run_batch``: the tasks of a batch through an executor, with what a batch decides itself.

It skips what an earlier run finished (``resume``), starts tasks while the executor has room
and the total budget is not spent, never runs two tasks at once in the same work tree when
one of them may change it, stops tasks that outlive the timeout, and appends each result to
``DIR/results.jsonl`` the moment it arrives.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from backend_agent.batch.executor import Executor
from backend_agent.batch.results import RESULTS_FILE, TIMEOUT, ResultsLog, TaskResult
from backend_agent.batch.tasks import BatchDefaults, PromptTask, Task, is_git_url
from backend_agent.batch.worker import Job, task_dir
from backend_agent.errors import UserError

POLL_SECONDS = 0.5  # how often timeouts are checked while tasks run


@dataclass(frozen=True)
class BatchOptions:
    """Where results go, the defaults every task gets, and whether to continue a batch."""

    out_dir: Path
    defaults: BatchDefaults = field(default_factory=BatchDefaults)
    resume: bool = False  # skip the tasks results.jsonl has (ok, and failed unless retried)
    retry_failed: bool = False  # with resume: run the failed ones again


@dataclass
class BatchProgress:
    """Where the batch stands, handed to ``on_progress`` after every change."""

    total: int
    earlier: int  # tasks finished by an earlier run, skipped
    ok: int = 0
    failed: int = 0
    running: list[str] = field(default_factory=list)
    cost_usd: float = 0.0  # this run and the earlier ones
    elapsed: float = 0.0  # seconds since this run started
    finished_here: int = 0
    last: TaskResult | None = None  # the result that just arrived, if any

    @property
    def done(self) -> int:
        return self.ok + self.failed

    @property
    def eta_seconds(self) -> float | None:
        """Time left at this run's pace so far; None before the first task finishes."""
        if not self.finished_here:
            return None
        return (self.total - self.done) * self.elapsed / self.finished_here


@dataclass
class BatchOutcome:
    """Every task's latest result (this run's or an earlier one), in the tasks' order, and
    the tasks never started because the total budget was spent."""

    results: list[TaskResult]
    not_started: list[str]
    cost_usd: float

    @property
    def all_ok(self) -> bool:
        return not self.not_started and all(r.status == "ok" for r in self.results)


ProgressHandler = Callable[[BatchProgress], None]


def run_batch(
    tasks: list[Task],
    executor: Executor,
    options: BatchOptions,
    on_progress: ProgressHandler | None = None,
) -> BatchOutcome:
    """Run ``tasks`` (ids unique) and return the outcome; results are in
    ``options.out_dir/results.jsonl`` as they arrive. UserError when the directory holds
    another batch's results and ``resume`` is not set."""
    out_dir = options.out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive(out_dir):
        log = ResultsLog(out_dir)
        earlier = log.read()
        if earlier and not options.resume:
            raise UserError(
                f"{out_dir / RESULTS_FILE} holds results already: add --resume to continue "
                "that batch, or choose another --out"
            )
        return _Run(tasks, executor, options, out_dir, log, earlier, on_progress).run()


class _Run:
    """One run of a batch: its queue, what runs, what it spent."""

    def __init__(
        self,
        tasks: list[Task],
        executor: Executor,
        options: BatchOptions,
        out_dir: Path,
        log: ResultsLog,
        earlier: dict[str, TaskResult],
        on_progress: ProgressHandler | None,
    ) -> None:
        self.tasks, self.executor, self.out_dir, self.log = tasks, executor, out_dir, log
        self.defaults = options.defaults
        ids = {task.id for task in tasks}
        self.results = {i: r for i, r in earlier.items() if i in ids}
        self.pending = [t for t in tasks if not _done(self.results.get(t.id), options)]
        self.running: dict[str, tuple[Task, float | None]] = {}  # id -> (task, deadline)
        self.start_times: dict[str, float] = {}
        self.stopped: set[str] = set()
        self.spent = sum(r.cost_usd for r in earlier.values())
        self.started = time.monotonic()
        self.on_progress = on_progress
        self.progress = BatchProgress(total=len(tasks), earlier=len(tasks) - len(self.pending))
        self._count()

    def run(self) -> BatchOutcome:
        self._report(None)
        while True:
            self._start_what_fits()
            if not self.running:
                break
            self._stop_overdue()
            for result in self.executor.finished(self._wait_seconds()):
                self._record(result)
        order = {task.id: n for n, task in enumerate(self.tasks)}
        return BatchOutcome(
            sorted(self.results.values(), key=lambda r: order[r.id]),
            [task.id for task in self.pending],
            self.spent,
        )

    def _start_what_fits(self) -> None:
        while len(self.running) < self.executor.capacity and not self._budget_spent():
            task = next((t for t in self.pending if self._may_start(t)), None)
            if task is None:
                return
            self.pending.remove(task)
            timeout = self.defaults.timeout
            deadline = time.monotonic() + timeout if timeout is not None else None
            self.executor.submit(Job(task, self.out_dir, self.defaults, self._budget_for(task)))
            self.running[task.id] = (task, deadline)
            self.start_times[task.id] = time.monotonic()
            self._report(None)

    def _may_start(self, task: Task) -> bool:
        """Whether ``task`` may run beside the running ones: a prompt task changes its work
        tree, so it shares a local repository with no other task."""
        tree = _local_tree(task)
        if tree is None:
            return True
        for other, _ in self.running.values():
            if _local_tree(other) == tree and (
                isinstance(task, PromptTask) or isinstance(other, PromptTask)
            ):
                return False
        return True

    def _budget_spent(self) -> bool:
        total = self.defaults.total_budget_usd
        return total is not None and self.spent >= total

    def _budget_for(self, task: Task) -> float | None:
        """The task's own budget, lowered to what is left of the total."""
        if not isinstance(task, PromptTask):
            return None
        limits = [task.max_budget_usd or self.defaults.max_budget_usd]
        if self.defaults.total_budget_usd is not None:
            limits.append(self.defaults.total_budget_usd - self.spent)
        known = [limit for limit in limits if limit is not None]
        return min(known) if known else None

    def _stop_overdue(self) -> None:
        now = time.monotonic()
        for task_id, (_, deadline) in self.running.items():
            if deadline is not None and now >= deadline and task_id not in self.stopped:
                self.stopped.add(task_id)
                message = f"stopped after the {self.defaults.timeout:g} s timeout"
                self.executor.stop(task_id, TIMEOUT, message)

    def _wait_seconds(self) -> float:
        deadlines = [d for t, (_, d) in self.running.items() if d and t not in self.stopped]
        if not deadlines:
            return POLL_SECONDS
        return max(0.0, min(POLL_SECONDS, min(deadlines) - time.monotonic()))

    def _record(self, result: TaskResult) -> None:
        started = self.start_times.pop(result.id, None)
        if not result.duration_ms and started is not None:  # a worker that never returned
            result.duration_ms = round((time.monotonic() - started) * 1000)
        if result.artifacts:
            _write_artifacts(task_dir(self.out_dir, result.id), result.artifacts)
        self.log.append(result)
        self.running.pop(result.id, None)
        self.stopped.discard(result.id)
        self.results[result.id] = result
        self.spent += result.cost_usd
        self.progress.finished_here += 1
        self._count()
        self._report(result)

    def _count(self) -> None:
        progress = self.progress
        progress.ok = sum(r.status == "ok" for r in self.results.values())
        progress.failed = len(self.results) - progress.ok

    def _report(self, last: TaskResult | None) -> None:
        progress = self.progress
        progress.running = list(self.running)
        progress.cost_usd = self.spent
        progress.elapsed = time.monotonic() - self.started
        progress.last = last
        if self.on_progress is not None:
            self.on_progress(progress)


def _done(result: TaskResult | None, options: BatchOptions) -> bool:
    if result is None:
        return False
    return result.status == "ok" or not options.retry_failed


def _local_tree(task: Task) -> str | None:
    return None if is_git_url(task.repo) else task.repo


def _write_artifacts(directory: Path, files: dict[str, bytes]) -> None:
    """Files a worker on another machine sent back, written where a local one puts them."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        path = directory / Path(name).name
        if path.is_file() and path.read_bytes() == data:
            continue
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(data)
        temporary.replace(path)


@contextmanager
def _exclusive(out_dir: Path) -> Iterator[None]:
    """Hold the output directory's lock: two batches never write the same results file."""
    lock = os.open(out_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"another batch is running with --out {out_dir}") from None
        yield
    finally:
        os.close(lock)
