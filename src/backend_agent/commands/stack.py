"""``backend-agent stack``: what a repository is built with, from its manifests and layout."""

from __future__ import annotations

import json
from pathlib import Path

from backend_agent.analysis import Project, Stack, detect_stack
from backend_agent.analysis.stack import CATEGORIES, Component
from backend_agent.commands.arguments import CommandParser, add_debug
from backend_agent.commands.notes import warn_unread


def main(argv: list[str]) -> int:
    parser = CommandParser(
        prog="backend-agent stack",
        description="Detect languages, frameworks, package managers, test runners (with the "
        "commands that run them), databases, ORMs, migration tools and message-queue clients "
        "of a repository, per component (monorepos list each service).",
    )
    parser.add_argument("path", nargs="?", default=".", help="repository root (default: .)")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    add_debug(parser)
    args = parser.parse_args(argv)
    project = Project(Path(args.path))
    stack = detect_stack(project)
    warn_unread(project)
    if args.format == "json":
        print(json.dumps(stack.as_dict(), indent=2))
    else:
        print(render_table(stack))
    return 0


def render_table(stack: Stack) -> str:
    """One block per component: a row per category that has something in it."""
    blocks = [_component_block(c) for c in stack.components]
    return "\n\n".join(blocks)


def _component_block(component: Component) -> str:
    title = "(root)" if component.path == "." else component.path
    rows: list[tuple[str, str]] = []
    for category in CATEGORIES:
        found = component.facts.get(category, {})
        if found:
            rows.append((category.replace("_", " "), ", ".join(sorted(found))))
    for runner in component.test_runners:
        rows.append(("tests", f"{runner.name}: {runner.command}"))
    if component.workspaces:
        rows.append(("workspaces", ", ".join(component.workspaces)))
    if not rows:
        rows.append(("", "nothing recognised"))
    width = max(len(label) for label, _ in rows)
    lines = [f"{title}"] + [f"  {label.ljust(width)}  {value}" for label, value in rows]
    return "\n".join(lines)
