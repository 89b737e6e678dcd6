"""The tasks of a batch, read from a JSONL or YAML file and validated with pydantic.

A task is a prompt to run in a repository (``PromptTask``) or a report to write on one
(``ReportTask``). Every error names the file and the line of the task at fault. Relative
paths (a local ``repo``, an agent file, a ``scripted:`` model) are relative to the file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from backend_agent.definitions import PERMISSION_MODES
from backend_agent.errors import UserError

PermissionMode = Literal["default", "acceptEdits", "plan", "bypassPermissions", "dontAsk"]
ReportFormat = Literal["md", "json", "sarif", "html"]
TaskId = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", strict=True)
]
Text = Annotated[str, StringConstraints(min_length=1, strict=True)]

# A git URL: a scheme git understands, or scp-like ``user@host:path``.
_GIT_URL = re.compile(r"^(?:(?:https?|ssh|git|file)://|[\w.-]+@[\w.-]+:)")
_TASK_FILE_SUFFIXES = (".jsonl", ".ndjson", ".yaml", ".yml", ".json")
M = TypeVar("M", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PromptTask(_Strict):
    """Run ``prompt`` in ``repo`` as one session (on ``branch``, created if given)."""

    id: TaskId
    repo: Text
    prompt: Text
    agent: Text | None = None  # a name, or a path to an agent .md file
    model: Text | None = None
    permission_mode: PermissionMode | None = None
    max_turns: Annotated[int, Field(gt=0, strict=True)] | None = None
    max_budget_usd: Annotated[float, Field(gt=0)] | None = None
    branch: Text | None = None

    @property
    def kind(self) -> Literal["prompt"]:
        return "prompt"


class ReportTask(_Strict):
    """Write the Backend Agent Report of ``repo`` (the change since ``base``, if given)."""

    id: TaskId
    repo: Text
    report: Literal[True]
    base: Text | None = None
    format: ReportFormat = "md"

    @property
    def kind(self) -> Literal["report"]:
        return "report"


Task = PromptTask | ReportTask


class BatchDefaults(_Strict):
    """What applies to every task unless the task says otherwise, and to the batch as a
    whole: the total budget, the per-task timeout (seconds) and how many tasks run at once."""

    permission_mode: PermissionMode | None = None
    max_budget_usd: Annotated[float, Field(gt=0)] | None = None
    max_turns: Annotated[int, Field(gt=0, strict=True)] | None = None
    model: Text | None = None
    agent: Text | None = None
    total_budget_usd: Annotated[float, Field(gt=0)] | None = None
    timeout: Annotated[float, Field(gt=0)] | None = None
    workers: Annotated[int, Field(gt=0, strict=True)] | None = None


@dataclass
class TaskFile:
    """The tasks of one file, in order, with the defaults it sets."""

    path: Path
    tasks: list[Task]
    defaults: BatchDefaults = field(default_factory=BatchDefaults)


def is_git_url(repo: str) -> bool:
    """Whether ``repo`` names a repository to clone rather than a local directory."""
    return bool(_GIT_URL.match(repo))


def load_tasks(path: Path) -> TaskFile:
    """Read and validate a tasks file (``.jsonl``, or ``.yaml``/``.yml``/``.json``: a list
    of tasks, or ``{defaults: {...}, tasks: [...]}``). UserError naming file:line."""
    if path.suffix not in _TASK_FILE_SUFFIXES:
        raise UserError(f"{path}: a tasks file is .jsonl, .yaml, .yml or .json")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise UserError(f"{path}: cannot read the tasks file ({reason or error})") from error
    if path.suffix in (".jsonl", ".ndjson"):
        items, defaults = _jsonl_items(text, path), BatchDefaults()
    else:
        items, defaults = _yaml_items(text, path)
    tasks: list[Task] = []
    seen: dict[str, int] = {}
    for line, data in items:
        task = _resolved(_task(data, path, line), path.parent)
        if task.id in seen:
            raise UserError(
                f"{path}:{line}: task id {task.id!r} is used twice (first on line {seen[task.id]})"
            )
        seen[task.id] = line
        tasks.append(task)
    if not tasks:
        raise UserError(f"{path}: no tasks")
    return TaskFile(path, tasks, _resolved_defaults(defaults, path.parent))


def _jsonl_items(text: str, path: Path) -> list[tuple[int, Any]]:
    items = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            items.append((number, json.loads(line)))
        except json.JSONDecodeError as error:
            raise UserError(f"{path}:{number}: not a JSON object ({error.msg})") from None
    return items


def _yaml_items(text: str, path: Path) -> tuple[list[tuple[int, Any]], BatchDefaults]:
    """The tasks (with their lines) and defaults of a YAML document."""
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(error, "problem", None) or error
        raise UserError(f"{where}: not valid YAML ({problem})") from None
    finally:
        loader.dispose()
    defaults = BatchDefaults()
    if isinstance(data, dict) and isinstance(node, yaml.MappingNode):
        keys = {str(k.value): (k, v) for k, v in node.value}
        unknown = sorted(set(data) - {"tasks", "defaults"})
        if unknown:
            line = keys[str(unknown[0])][0].start_mark.line + 1
            raise UserError(f"{path}:{line}: unknown key {unknown[0]!r} (expected tasks, defaults)")
        if "defaults" in data:
            line = keys["defaults"][1].start_mark.line + 1
            defaults = _validated(BatchDefaults, data["defaults"], path, line, "defaults")
        if "tasks" not in data:
            raise UserError(f"{path}: no 'tasks' list")
        data, node = data["tasks"], keys["tasks"][1]
    if not isinstance(data, list) or not isinstance(node, yaml.SequenceNode):
        raise UserError(f"{path}: expected a list of tasks, or a mapping with a 'tasks' list")
    return [(n.start_mark.line + 1, d) for n, d in zip(node.value, data, strict=True)], defaults


def _task(data: Any, path: Path, line: int) -> Task:
    if not isinstance(data, dict):
        raise UserError(f"{path}:{line}: a task is a mapping with id, repo and prompt or report")
    label = f"task {data['id']!r}" if isinstance(data.get("id"), str) else "task"
    if "report" in data and "prompt" in data:
        raise UserError(f"{path}:{line}: {label}: give either 'prompt' or 'report: true', not both")
    if "report" not in data and "prompt" not in data:
        raise UserError(f"{path}:{line}: {label}: needs 'prompt' (a task to run) or 'report: true'")
    model: type[Task] = ReportTask if "report" in data else PromptTask
    return _validated(model, data, path, line, label)


def _validated(model: type[M], data: Any, path: Path, line: int, label: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        problem = first["msg"]
        if first["type"] == "string_pattern_mismatch":
            problem = "letters, digits, '.', '_' and '-' only, starting with a letter or digit"
        if where == "report":
            problem = "must be true (a report task), or leave it out and give a prompt"
        if first["type"] == "literal_error" and where == "permission_mode":
            problem = f"expected one of {', '.join(PERMISSION_MODES)}"
        raise UserError(f"{path}:{line}: {label}: {where}: {problem}") from None


def _resolved(task: Task, base: Path) -> Task:
    """The task with its relative paths made absolute against the tasks file's directory."""
    changes: dict[str, Any] = {}
    if not is_git_url(task.repo):
        changes["repo"] = str((base / Path(task.repo).expanduser()).resolve())
    if isinstance(task, PromptTask):
        changes.update(_resolved_choices(task.model, task.agent, base))
    return task.model_copy(update=changes)


def _resolved_defaults(defaults: BatchDefaults, base: Path) -> BatchDefaults:
    return defaults.model_copy(update=_resolved_choices(defaults.model, defaults.agent, base))


def _resolved_choices(model: str | None, agent: str | None, base: Path) -> dict[str, str]:
    changes = {}
    if model is not None and model.startswith("scripted:"):
        changes["model"] = "scripted:" + str(base / Path(model.removeprefix("scripted:")))
    if agent is not None and agent.endswith(".md"):
        changes["agent"] = str(base / Path(agent).expanduser())
    return changes


def report_tasks(repos: list[str], fmt: ReportFormat, base: str | None = None) -> list[Task]:
    """One report task per repository (``--report-all``), its id the repository's name
    (``-2``, ``-3``… when two share a name); local paths relative to the current directory."""
    tasks: list[Task] = []
    used: set[str] = set()
    for repo in repos:
        location = repo if is_git_url(repo) else str(Path(repo).expanduser().resolve())
        name = re.sub(r"\.git$", "", location.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1])
        stem = re.sub(r"[^A-Za-z0-9._-]", "-", name).lstrip(".-_") or "repo"
        task_id, number = stem[:120], 1
        while task_id in used:
            number += 1
            task_id = f"{stem[:120]}-{number}"
        used.add(task_id)
        tasks.append(ReportTask(id=task_id, repo=location, report=True, base=base, format=fmt))
    return tasks
