"""Job schedules declared in YAML: sidekiq-cron (``config/schedule.yml``), sidekiq-scheduler
(``:scheduler: :schedule:`` in ``config/sidekiq.yml``), resque-scheduler
(``resque_schedule.yml``) and Solid Queue recurring tasks (``config/recurring.yml``, by
environment); each entry names its job class (or, for Solid Queue, a command) and a cron
expression or an ``every``/``at``/``in``/``schedule`` interval."""

from __future__ import annotations

import re
from typing import Any

from backend_agent.analysis.queues.config import ConfigFacts
from backend_agent.analysis.queues.model import Resolution

SCHEDULE_FILE = re.compile(
    r"(?:^|/)config/(?:[\w.-]*schedul[\w.-]*|sidekiq[\w.-]*|cron[\w.-]*|recurring)\.ya?ml$"
)
_WHEN = ("cron", "every", "at", "in", "interval", "schedule")
# Environment sections of per-environment files (Solid Queue), the deployed one first.
_ENVIRONMENTS = ("production", "default", "development", "staging")


def yaml_schedules(path: str, facts: ConfigFacts, out: Resolution) -> None:
    """Schedule events of one YAML file (nothing for files that are not schedules)."""
    if not SCHEDULE_FILE.search(path) or facts.data is None:
        return
    lines = dict(facts.lines)
    name = path.rsplit("/", 1)[-1]
    framework = (
        "resque-scheduler"
        if "resque" in name
        else "sidekiq-scheduler"
        if name.startswith("sidekiq")
        else "solid_queue"
        if name.startswith("recurring")
        else "sidekiq-cron"
    )
    entries, prefix = _entries(facts.data)
    for key, entry, index in entries:
        where = f"{prefix}.{key}" if prefix and key else key or prefix
        line = (
            lines.get(where)
            or lines.get(f"{prefix}[{index}].name" if prefix else f"[{index}].name")
            or 1
        )
        job = entry.get("class") or entry.get("klass") or entry.get("job_class")
        if job is None and key and _looks_like_class(key):
            job = key  # sidekiq-scheduler allows the entry to be named after its class
        schedule = next((_text(entry[w]) for w in _WHEN if w in entry), "")
        if job is None and "command" in entry:  # a Solid Queue task that runs code
            out.add("define", framework, str(entry["command"]), path, line, schedule=schedule)
            continue
        out.add(
            "schedule",
            framework,
            str(job) if job else None,
            path,
            line,
            why="the entry names no job class",
            fragment=key or "",
            schedule=schedule,
        )


def _entries(data: Any) -> tuple[list[tuple[str, dict[str, Any], int]], str]:
    """(name, entry, index) of every schedule entry, and the dotted path they are under."""
    data = _plain_keys(data)
    if isinstance(data, dict):
        for environment in _ENVIRONMENTS:
            section = data.get(environment)
            if isinstance(section, dict) and _from_mapping(section):
                return _from_mapping(section), environment
        for path in (("scheduler", "schedule"), ("schedule",)):
            node: Any = data
            for part in path:
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, dict):
                return _from_mapping(node), ".".join(path)
        return _from_mapping(data), ""
    if isinstance(data, list):
        found = [
            (str(item.get("name", "")), item, index)
            for index, item in enumerate(data)
            if isinstance(item, dict)
        ]
        return found, ""
    return [], ""


def _from_mapping(data: dict[str, Any]) -> list[tuple[str, dict[str, Any], int]]:
    return [
        (key, entry, index)
        for index, (key, entry) in enumerate(data.items())
        if isinstance(entry, dict) and any(k in _WHEN for k in entry)
    ]


def _plain_keys(data: Any) -> Any:
    """Symbol-style keys (``:schedule:``) as plain names, at every level."""
    if isinstance(data, dict):
        return {str(k).strip(":"): _plain_keys(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain_keys(v) for v in data]
    return data


def _looks_like_class(text: str) -> bool:
    return bool(re.fullmatch(r"[A-Z]\w*(?:::[A-Z]\w*)*", text))


def _text(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)
