"""What a finished task leaves behind: its ``TaskResult``, one line of ``DIR/results.jsonl``.

The file is appended one line per finished task, written at once (a killed batch leaves at
worst a torn last line, dropped on the next read), so a rerun with ``--resume`` knows what
is done. Paths in a result are relative to the batch's output directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from backend_agent.errors import UserError, warn_to_stderr
from backend_agent.sessions.store import CorruptSession, JsonlFileStore, Warn, parse_jsonl

Status = Literal["ok", "failed"]
TaskKind = Literal["prompt", "report"]
RESULTS_FILE = "results.jsonl"
# Besides the run subtypes (success, error_max_turns, error_max_budget_usd,
# error_during_execution): the task outlived --timeout, or its worker process died.
TIMEOUT = "error_timeout"
WORKER_DIED = "error_worker_died"


@dataclass
class TaskResult:
    """The outcome of one task, with the fields of its ``results.jsonl`` line."""

    id: str
    kind: TaskKind
    subtype: str  # "success" or an error_* subtype
    result: str  # the final answer, the report's summary, or what went wrong
    repo: str = ""  # the work tree the task ran in
    cost_usd: float = 0.0
    usage: dict[str, int] = field(default_factory=dict)
    num_turns: int = 0
    duration_ms: int = 0
    changed_files: list[str] = field(default_factory=list)
    report: str | None = None  # the report file, relative to the output directory
    session_id: str | None = None
    transcript: str | None = None  # the session's transcript, relative to the output directory
    permission_denials: int = 0
    finished_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    # The task directory's files, sent back by a worker on another machine (never written
    # to results.jsonl): name -> content.
    artifacts: dict[str, bytes] = field(default_factory=dict, repr=False)

    @property
    def status(self) -> Status:
        return "ok" if self.subtype == "success" else "failed"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "subtype": self.subtype,
            "result": self.result,
            "repo": self.repo,
            "cost_usd": self.cost_usd,
            "usage": self.usage,
            "num_turns": self.num_turns,
            "duration_ms": self.duration_ms,
            "changed_files": self.changed_files,
            "report": self.report,
            "session_id": self.session_id,
            "transcript": self.transcript,
            "permission_denials": self.permission_denials,
            "finished_at": self.finished_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TaskResult:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**fields)


class ResultsLog:
    """``DIR/results.jsonl``: appended as tasks finish, read back by ``--resume``."""

    def __init__(self, directory: Path, *, warn: Warn = warn_to_stderr) -> None:
        self.path = directory / RESULTS_FILE
        self._store = JsonlFileStore(directory, warn=warn)
        self._warn = warn

    def append(self, result: TaskResult) -> None:
        self._store.append(self.path.stem, [result.to_json()])

    def read(self) -> dict[str, TaskResult]:
        """The latest result of each task id (a rerun task's later line wins)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as error:
            raise UserError(f"{self.path}: cannot read ({error.strerror or error})") from error
        try:
            entries = parse_jsonl(raw, str(self.path), self._warn)
        except CorruptSession as error:
            line = str(error).split(";")[0]
            raise UserError(f"{line}; fix or delete that line to resume") from None
        results: dict[str, TaskResult] = {}
        for number, entry in enumerate(entries, 1):
            try:
                result = TaskResult.from_json(entry)
            except TypeError:
                raise UserError(
                    f"{self.path}:{number}: not a task result; fix or delete that line to resume"
                ) from None
            results[result.id] = result
        return results
