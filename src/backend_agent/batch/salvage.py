"""The result of a task whose worker never returned one (killed, or stopped at its timeout):
made from what it left in its task directory, so its partial transcript and what it had
spent are not lost."""

from __future__ import annotations

import json
from pathlib import Path

from backend_agent.batch.results import TaskKind, TaskResult
from backend_agent.batch.worker import WORKER_FILE, task_dir
from backend_agent.messages import Usage
from backend_agent.sessions.store import JsonlFileStore, SessionNotFound


def salvaged_result(
    out_dir: Path, task_id: str, kind: TaskKind, subtype: str, message: str
) -> TaskResult:
    """A failed result naming the task's partial session, with the usage and cost its
    transcript records."""
    directory = task_dir(out_dir, task_id)
    result = TaskResult(task_id, kind, subtype, message)
    session_id = _session_of(directory)
    if session_id is None:
        return result
    try:
        entries = JsonlFileStore(directory, warn=lambda _: None).load(session_id)
    except SessionNotFound:
        return result
    except Exception as error:  # an unreadable transcript: still name it
        result.result += f" (its transcript cannot be read: {error})"
        entries = []
    result.session_id = session_id
    result.transcript = (directory / f"{session_id}.jsonl").relative_to(out_dir).as_posix()
    result.repo = next((str(e["cwd"]) for e in entries if e.get("subtype") == "init"), "")
    usage, cost, turns = _spent(entries)
    result.usage, result.cost_usd, result.num_turns = usage.as_dict(), cost, turns
    return result


def _session_of(directory: Path) -> str | None:
    """The session the worker noted as open, else the newest transcript in the directory."""
    try:
        noted = json.loads((directory / WORKER_FILE).read_text(encoding="utf-8"))
        if isinstance(noted.get("session_id"), str):
            return str(noted["session_id"])
    except (OSError, ValueError, AttributeError):
        pass
    transcripts = sorted(directory.glob("*.jsonl"), key=lambda p: p.stat().st_mtime)
    return transcripts[-1].stem if transcripts else None


def _spent(entries: list[dict[str, object]]) -> tuple[Usage, float, int]:
    """Tokens, cost and model calls recorded: the result entry's when the run ended, else
    the sum over the assistant messages written before the worker stopped."""
    from backend_agent.models.catalog import cost_usd

    finished = [e for e in entries if e.get("type") == "result"]
    if finished:
        last = finished[-1]
        usage = Usage(**_tokens(last.get("usage")))
        cost = last.get("total_cost_usd")
        turns = last.get("num_turns")
        return (
            usage,
            float(cost) if isinstance(cost, int | float) else 0.0,
            int(turns) if isinstance(turns, int) else 0,
        )
    usage, cost, turns = Usage(), 0.0, 0
    for entry in entries:
        message = entry.get("message")
        if entry.get("type") != "assistant" or not isinstance(message, dict):
            continue
        used = Usage(**_tokens(message.get("usage")))
        usage, turns = usage + used, turns + 1
        cost += cost_usd(str(message.get("model", "")), used)
    return usage, cost, turns


def _tokens(value: object) -> dict[str, int]:
    fields = Usage().as_dict()
    if not isinstance(value, dict):
        return {}
    return {k: int(v) for k, v in value.items() if k in fields and isinstance(v, int)}
