"""A starting ``AGENTS.md`` for a repository, written from what the evidence engine finds: the
stack of each component, the commands that run its tests, and its endpoints. No model is
involved, so every line can be checked against the code; the user edits it from there.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from backend_agent.analysis import Project, detect_stack, inventory
from backend_agent.analysis.endpoints.model import Endpoint, Inventory
from backend_agent.analysis.stack import Stack
from backend_agent.errors import UserError

FILE_NAME = "AGENTS.md"
MAX_ENDPOINTS = 40
_STACK_ROWS = (
    ("Languages", "languages"),
    ("Frameworks", "frameworks"),
    ("Package managers", "package_managers"),
    ("Databases", "databases"),
    ("ORMs", "orms"),
    ("Migrations", "migration_tools"),
    ("Queues", "queues"),
)


def write_agents_md(cwd: Path, *, force: bool = False) -> Path:
    """Write ``AGENTS.md`` in ``cwd``; UserError when one exists and ``force`` is not set."""
    target = cwd / FILE_NAME
    if target.exists() and not force:
        raise UserError(f"{target} exists; keep it, or add --force to replace it")
    target.write_text(agents_md(cwd), encoding="utf-8")
    return target


def agents_md(cwd: Path) -> str:
    """The text of a starting ``AGENTS.md`` for the repository at ``cwd``."""
    project = Project(cwd)
    stack = detect_stack(project)
    found = inventory(project)
    sections = [
        f"# {cwd.name}\n\nNotes for coding agents working in this repository. Written by "
        "`backend-agent init` from the code (stack, test commands, endpoints); edit freely, "
        "the agent reads this file at the start of every session.",
        _stack_section(stack),
        _tests_section(stack),
        _endpoints_section(found),
        "## Working here\n\n"
        "- Run the tests above before you call a change done, and say which ones you ran.\n"
        "- Keep changes small and in the style of the code around them.\n"
        "- A change to an endpoint or a migration is a contract change: say so in your report.",
    ]
    return "\n\n".join(section for section in sections if section) + "\n"


def _stack_section(stack: Stack) -> str:
    lines = []
    for component in stack.components:
        rows = [
            f"- {label}: {', '.join(component.names(key))}"
            for label, key in _STACK_ROWS
            if component.names(key)
        ]
        if not rows:
            continue
        if len(stack.components) > 1:
            title = "the root" if component.path == "." else f"`{component.path}`"
            lines.append(f"### {title}\n")
        lines += rows
        if len(stack.components) > 1:
            lines.append("")
    if not lines:
        return ""
    return "## Stack\n\n" + "\n".join(lines).rstrip()


def _tests_section(stack: Stack) -> str:
    runners = stack.test_runners
    if not runners:
        return "## Tests\n\nNo test runner was found; say how to run the tests here."
    lines = ["## Tests", ""]
    for runner in runners:
        where = "" if runner.directory == "." else f" (in `{runner.directory}`)"
        lines.append(f"- `{runner.command}`{where}: {runner.name}")
    return "\n".join(lines)


def _endpoints_section(found: Inventory) -> str:
    endpoints = found.endpoints
    if not endpoints:
        return ""
    kinds = Counter(endpoint.kind for endpoint in endpoints)
    summary = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    lines = [
        "## Endpoints",
        "",
        f"{len(endpoints)} endpoints ({summary}); `backend-agent endpoints` lists them all.",
        "",
        "| Method | Path | Auth | Handler |",
        "|---|---|---|---|",
    ]
    lines += [_endpoint_row(endpoint) for endpoint in endpoints[:MAX_ENDPOINTS]]
    if len(endpoints) > MAX_ENDPOINTS:
        lines.append(f"| … | {len(endpoints) - MAX_ENDPOINTS} more | | |")
    return "\n".join(lines)


def _endpoint_row(endpoint: Endpoint) -> str:
    handler = f"`{endpoint.file}:{endpoint.line}`"
    return f"| {endpoint.method} | `{endpoint.path}` | {endpoint.auth} | {handler} |"
