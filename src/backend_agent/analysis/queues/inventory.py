"""The queue inventory of a project: every language's extractor, cached per file blob, joined
into one inventory (the entry point other analyses use)."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from backend_agent.analysis.endpoints.inventory import Extractor, Progress, run_extractors
from backend_agent.analysis.project import Project
from backend_agent.analysis.queues.assemble import assemble
from backend_agent.analysis.queues.model import QueueInventory, Resolution

# Modules under backend_agent.analysis.queues, each exposing ``extractor``.
EXTRACTOR_MODULES: tuple[str, ...] = ("python", "javascript", "go", "ruby")


def extractors() -> list[Extractor[Resolution]]:
    """The extractor of every module in EXTRACTOR_MODULES, in order."""
    found: list[Extractor[Resolution]] = []
    for name in EXTRACTOR_MODULES:
        module: Any = import_module(f"backend_agent.analysis.queues.{name}")
        found.append(module.extractor)
    return found


def queue_inventory(project: Project, progress: Progress | None = None) -> QueueInventory:
    """Every channel, job and unresolved name of the project at its revision."""
    events = []
    unresolved = []
    for resolution in run_extractors(project, extractors(), Resolution, "queues", progress):
        events.extend(resolution.events)
        unresolved.extend(resolution.unresolved)
    return assemble(events, unresolved)
