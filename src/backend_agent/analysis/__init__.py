"""The evidence engine: reads a repository (and its git history) with no model and no network.

It imports nothing from ``runtime/`` or ``models/`` and prints nothing: the agent and the
commands use it, never the reverse. The public entry points, imported on first use::

    from backend_agent.analysis import Project, build_report, render

    project = Project(".")
    print(render(build_report(project, base="main"), "md"))

- ``Project(root, rev=None)``: the files of a repository, at its working tree or a revision.
- ``detect_stack(project) -> Stack``: languages, frameworks, databases, test runners.
- ``inventory(project) -> Inventory``: every HTTP, GraphQL, gRPC and WebSocket endpoint.
- ``diff_contracts(base, head) -> list[ContractChange]``: contract changes between revisions.
- ``queue_inventory(project) -> QueueInventory``: broker channels with their producers and
  consumers, background jobs with their queues, enqueue sites and schedules.
- ``diff_queues(base, head) -> list[QueueChange]``: queue and job changes between revisions.
- ``database_impact(project, paths=None) -> DatabaseSection``: migrations, findings, rollback.
- ``security_findings(project, paths=None) -> list[Finding]``: the security rules' findings.
- ``build_report(project, base=None, ...) -> Report`` and ``render(report, fmt) -> str``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from backend_agent.analysis.endpoints.diff import diff_contracts
    from backend_agent.analysis.endpoints.inventory import build_inventory as inventory
    from backend_agent.analysis.findings import Finding, Severity
    from backend_agent.analysis.project import Note, Project
    from backend_agent.analysis.queues.diff import diff_queues
    from backend_agent.analysis.queues.inventory import queue_inventory
    from backend_agent.analysis.queues.model import QueueChange, QueueInventory
    from backend_agent.analysis.report import (
        Report,
        build_report,
        database_impact,
        render,
        security_findings,
    )
    from backend_agent.analysis.stack import Stack, detect_stack

__all__ = [
    "Finding",
    "Note",
    "Project",
    "QueueChange",
    "QueueInventory",
    "Report",
    "Severity",
    "Stack",
    "build_report",
    "database_impact",
    "detect_stack",
    "diff_contracts",
    "diff_queues",
    "inventory",
    "queue_inventory",
    "render",
    "security_findings",
]

# name -> (module, attribute): loaded on first use, so that importing one analysis module
# (the endpoint scanner in a worker process, say) does not import all of them.
_EXPORTS = {
    "Finding": ("findings", "Finding"),
    "Severity": ("findings", "Severity"),
    "Note": ("project", "Note"),
    "Project": ("project", "Project"),
    "Report": ("report", "Report"),
    "build_report": ("report", "build_report"),
    "database_impact": ("report", "database_impact"),
    "render": ("report", "render"),
    "security_findings": ("report", "security_findings"),
    "Stack": ("stack", "Stack"),
    "detect_stack": ("stack", "detect_stack"),
    "diff_contracts": ("endpoints.diff", "diff_contracts"),
    "inventory": ("endpoints.inventory", "build_inventory"),
    "queue_inventory": ("queues.inventory", "queue_inventory"),
    "diff_queues": ("queues.diff", "diff_queues"),
    "QueueInventory": ("queues.model", "QueueInventory"),
    "QueueChange": ("queues.model", "QueueChange"),
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = _EXPORTS[name]
    value = getattr(import_module(f"{__name__}.{module}"), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
