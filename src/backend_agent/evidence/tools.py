"""The evidence engine as four read-only tools (``endpoints``, ``database_impact``,
``security_scan``, ``project_facts``), answering in compact text.

The same tools are the in-process MCP server ``backend`` of every session (``inprocess``) and
the stdio server of ``backend-agent mcp serve`` (``serve``). A change is measured from the
session's start when there is a session (``since: "start"``, the default there), else from a
git revision (``HEAD`` by default: the uncommitted work).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from backend_agent.analysis.endpoints.model import Endpoint
from backend_agent.analysis.findings import Finding
from backend_agent.analysis.report.model import MigrationImpact
from backend_agent.errors import UserError
from backend_agent.evidence.source import ProjectEvidence

MAX_ROWS = 200


class ToolInputError(UserError):
    """Arguments a tool cannot use; the message says which and why."""


@dataclass(frozen=True)
class EvidenceTool:
    """One tool: what the model sees (name, description, input schema) and what runs."""

    name: str
    description: str
    input_schema: dict[str, Any]
    run: Callable[[ProjectEvidence, dict[str, Any]], str]


def call_tool(evidence: ProjectEvidence, name: str, arguments: dict[str, Any]) -> str:
    """Run tool ``name`` on ``evidence``'s project; UserError (ToolInputError for bad
    arguments) for what the caller must fix."""
    tool = TOOLS.get(name)
    if tool is None:
        raise ToolInputError(f"no tool named {name!r}; the tools are {', '.join(TOOLS)}")
    unknown = sorted(set(arguments) - set(tool.input_schema.get("properties", {})))
    if unknown:
        raise ToolInputError(f"{name}: unknown argument(s) {', '.join(unknown)}")
    return tool.run(evidence, arguments)


def _text(arguments: dict[str, Any], key: str) -> str | None:
    value = arguments.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ToolInputError(f"{key} must be a string")
    return value.strip() or None


# --- endpoints ----------------------------------------------------------------------------


def _endpoints(evidence: ProjectEvidence, arguments: dict[str, Any]) -> str:
    since = _text(arguments, "since")
    wanted_path = _text(arguments, "path")
    wanted_method = (_text(arguments, "method") or "").upper()

    def keep(endpoint: Endpoint) -> bool:
        if wanted_method and endpoint.method != wanted_method:
            return False
        return not wanted_path or wanted_path.lower() in endpoint.path.lower()

    if since is None:
        from backend_agent.analysis.endpoints.inventory import build_inventory
        from backend_agent.analysis.project import Project

        inventory = build_inventory(Project(evidence.root))
        shown = [e for e in inventory.endpoints if keep(e)]
        lines = [f"{len(shown)} endpoint(s){_filter_note(wanted_method, wanted_path)}"]
        lines += [_endpoint_line(e) for e in shown[:MAX_ROWS]]
        lines += _more(len(shown))
        lines += [
            f"unresolved {u.file}:{u.line} {u.fragment}: {u.reason}"
            for u in inventory.unresolved[:MAX_ROWS]
        ]
        return "\n".join(lines)
    change = evidence.change(since)
    report = evidence.measure(change)
    section = report.endpoints
    changes = [c for c in section.changes if c.rule not in ("endpoint-added", "endpoint-removed")]
    added = [e for e in section.added if keep(e)]
    removed = [e for e in section.removed if keep(e)]
    lines = [
        f"Since {change.base}: {len(added)} added, {len(removed)} removed, "
        f"{len(changes)} other contract change(s){_filter_note(wanted_method, wanted_path)}"
    ]
    lines += [f"- {_endpoint_line(e)}  [removed, breaking]" for e in removed]
    lines += [f"+ {_endpoint_line(e)}" for e in added]
    lines += [f"{c.compatibility} {c.rule}: {c.message} ({c.file}:{c.line})" for c in changes]
    for subsection in report.subsections:
        if subsection.key == "queues":
            lines += [
                f"queue {q['compatibility']} {q['rule']}: {q['message']} ({q['file']}:{q['line']})"
                for q in subsection.data.get("changes", [])
            ]
    return "\n".join(lines)


def _filter_note(method: str, path: str | None) -> str:
    parts = [f"method {method}" if method else "", f"path containing {path!r}" if path else ""]
    shown = " and ".join(part for part in parts if part)
    return f" ({shown})" if shown else ""


def _endpoint_line(endpoint: Endpoint) -> str:
    return (
        f"{endpoint.method} {endpoint.path}  auth={endpoint.auth}  {endpoint.framework}  "
        f"{endpoint.file}:{endpoint.line}"
    )


def _more(count: int) -> list[str]:
    if count <= MAX_ROWS:
        return []
    return [f"... and {count - MAX_ROWS} more: narrow the call (path, method, paths) to see them"]


# --- database_impact ----------------------------------------------------------------------


def _database_impact(evidence: ProjectEvidence, arguments: dict[str, Any]) -> str:
    change = evidence.change(_text(arguments, "since"))
    report = evidence.measure(change)
    migrations = report.database.migrations
    lines = [f"Since {change.base}: {len(migrations)} migration(s) added or edited"]
    for migration in migrations:
        lines += _migration_lines(migration)
    lines += [_finding_line(f) for f in report.database.findings]
    return "\n".join(lines)


def _migration_lines(migration: MigrationImpact) -> list[str]:
    down = "yes" if migration.has_down else "no"
    lines = [f"{migration.file} ({migration.tool} {migration.name}, down step: {down})"]
    for op in migration.operations:
        target = ".".join(str(op[k]) for k in ("table", "column") if op.get(k))
        lines.append(f"  {op.get('kind')} {target} (line {op.get('line')})".rstrip())
    lines += [f"  {_finding_line(f)}" for f in migration.findings]
    lines += [f"  rollback: {step}" for step in migration.rollback]
    return lines


def _finding_line(finding: Finding) -> str:
    line = (
        f"{finding.severity.value} {finding.rule} {finding.file}:{finding.line} {finding.message}"
    )
    return f"{line}\n    fix: {finding.fix}" if finding.fix else line


# --- security_scan ------------------------------------------------------------------------


def _security_scan(evidence: ProjectEvidence, arguments: dict[str, Any]) -> str:
    paths = arguments.get("paths")
    if paths is not None:
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise ToolInputError("paths must be a list of file paths")
        return _scan_paths(evidence.root, paths)
    change = evidence.change(_text(arguments, "since"))
    report = evidence.measure(change)
    findings = report.security
    lines = [
        f"Since {change.base}: {len(findings)} new finding(s) "
        f"in {len(change.present)} changed file(s)"
    ]
    lines += [_finding_line(f) for f in findings[:MAX_ROWS]]
    return "\n".join(lines + _more(len(findings)))


def _scan_paths(root: Path, paths: list[str]) -> str:
    from backend_agent.analysis.project import Project
    from backend_agent.analysis.security.analyzer import collect_findings, scan_files

    project = Project(root)
    wanted = [p.strip().strip("/") for p in paths if p.strip().strip("/")]
    chosen = [
        path
        for path in project.files()
        if any(path == w or path.startswith(w + "/") or w == "." for w in wanted)
    ]
    if not chosen:
        raise ToolInputError(f"no file of the project under {', '.join(paths) or '(nothing)'}")
    findings = collect_findings(scan_files(project, chosen))
    lines = [f"{len(findings)} finding(s) in {len(chosen)} file(s)"]
    lines += [_finding_line(f) for f in findings[:MAX_ROWS]]
    return "\n".join(lines + _more(len(findings)))


# --- project_facts ------------------------------------------------------------------------


def _project_facts(evidence: ProjectEvidence, arguments: dict[str, Any]) -> str:
    from backend_agent.analysis.database import classify
    from backend_agent.analysis.endpoints.inventory import build_inventory
    from backend_agent.analysis.project import Project
    from backend_agent.analysis.queues.inventory import queue_inventory
    from backend_agent.analysis.stack import CATEGORIES, detect_stack

    project = Project(evidence.root)
    stack = detect_stack(project)
    lines = []
    for component in stack.components:
        lines.append(f"[{component.path}] {', '.join(component.manifests) or 'no manifest'}")
        for category in CATEGORIES:
            names = component.names(category)
            if names:
                lines.append(f"  {category.replace('_', ' ')}: {', '.join(names)}")
        lines += [f"  test: {r.command} (in {r.directory})" for r in component.test_runners]
    inventory = build_inventory(project)
    routes = _places(e.file for e in inventory.endpoints)
    lines.append(f"routes: {len(inventory.endpoints)} endpoint(s){routes}")
    migrations = [p for p in project.files() if classify(project, p) is not None]
    lines.append(f"migrations: {len(migrations)} file(s){_places(migrations)}")
    queues = queue_inventory(project)
    sites = [s.file for c in queues.channels for s in c.producers + c.consumers]
    sites += [j.defined_at.file for j in queues.jobs if j.defined_at is not None]
    lines.append(
        f"queues: {len(queues.channels)} channel(s), {len(queues.jobs)} job(s){_places(sites)}"
    )
    return "\n".join(lines)


def _places(paths: Iterable[str]) -> str:
    """Where files are, by directory, busiest first: ``in app/api (12), app (2)``."""
    folders = Counter(PurePosixPath(path).parent.as_posix() for path in paths)
    if not folders:
        return ""
    shown = [f"{folder} ({count})" for folder, count in folders.most_common(8)]
    more = f", {len(folders) - 8} more" if len(folders) > 8 else ""
    return f" in {', '.join(shown)}{more}"


_SINCE = {"since": {"type": "string"}}

TOOLS: dict[str, EvidenceTool] = {
    tool.name: tool
    for tool in (
        EvidenceTool(
            "endpoints",
            "Endpoints (method, path, auth, file:line); filter by path substring or method. "
            'With since ("start" = session start, or a git rev): added/removed endpoints and '
            "contract changes, breaking first. Use before and after changing routes.",
            {
                "type": "object",
                "properties": {**_SINCE, "path": {"type": "string"}, "method": {"type": "string"}},
            },
            _endpoints,
        ),
        EvidenceTool(
            "database_impact",
            "Migrations added or edited since the session start (or git rev): "
            "operations, risky findings, rollback steps. Use after writing a migration.",
            {"type": "object", "properties": dict(_SINCE)},
            _database_impact,
        ),
        EvidenceTool(
            "security_scan",
            "Security findings introduced since the session start (or git rev), or all "
            "in paths. Use before reporting.",
            {
                "type": "object",
                "properties": {**_SINCE, "paths": {"type": "array", "items": {"type": "string"}}},
            },
            _security_scan,
        ),
        EvidenceTool(
            "project_facts",
            "Languages, frameworks, databases, test commands, where routes, migrations and "
            "queues live. Use first in an unfamiliar repository.",
            {"type": "object", "properties": {}},
            _project_facts,
        ),
    )
}
