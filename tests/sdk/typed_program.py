"""A small program written against the public API, as a user would write it: ``mypy --strict``
must accept it (tests/sdk/test_public_api.py runs it), with every name typed, none ``Any``."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import backend_agent
from backend_agent import Allow, Deny, PermissionContext, RunResult, Session, SessionStore
from backend_agent.analysis import Project, build_report, inventory, render
from backend_agent.events import Event, RunFinished, TextDelta, ToolEnd, ToolStart


@backend_agent.tool
def count_lines(path: str, skip_blank: bool = True) -> int:
    """Count the lines of a file."""
    lines = Path(path).read_text().splitlines()
    return len([line for line in lines if line.strip() or not skip_blank])


def only_src(tool: str, tool_input: dict[str, Any], context: PermissionContext) -> Allow | Deny:
    if context.change is not None and "src" in context.change.path.parts:
        return Allow(rules=context.suggestions, scope="session")
    return Deny(f"{tool} may only change files under src/")


class ListStore:
    """A session store of the program's own."""

    def __init__(self) -> None:
        self.entries: dict[str, list[dict[str, Any]]] = {}

    def append(self, session_id: str, entries: Sequence[dict[str, Any]]) -> None:
        self.entries.setdefault(session_id, []).extend(entries)

    def load(self, session_id: str) -> list[dict[str, Any]]:
        return list(self.entries[session_id])

    def list(self) -> list[str]:
        return list(self.entries)


def describe(event: Event) -> str:
    if isinstance(event, TextDelta):
        return event.text
    if isinstance(event, ToolStart):
        return f"-> {event.call.name}"
    if isinstance(event, ToolEnd):
        return f"<- {event.result.content[:40]}"
    return ""


def converse(project: Path) -> RunResult:
    store: SessionStore = ListStore()
    session: Session
    with backend_agent.open_session(
        project,
        model="sonnet",
        permission_mode="default",
        can_use_tool=only_src,
        tools=[count_lines],
        hooks={"PreToolUse": [lambda event: None]},
        session_store=store,
        max_turns=10,
    ) as session:
        for event in session.stream("add a health check"):
            print(describe(event), end="")
        result = session.prompt("and a test")
        print(session.usage.input_tokens + session.usage.output_tokens)
    return result


async def once(project: Path) -> int:
    async for event in backend_agent.query("list the endpoints", cwd=project, max_turns=3):
        if isinstance(event, RunFinished):
            return event.result.num_turns
    return 0


def report(root: Path) -> str:
    project = Project(root)
    paths = [endpoint.path for endpoint in inventory(project).endpoints]
    return render(build_report(project, base="HEAD~1"), "md") + "\n".join(paths)


def main() -> None:
    result = converse(Path("."))
    as_json: dict[str, Any] = result.to_json()
    print(as_json["subtype"], result.total_cost_usd + 1.0, count_lines("README.md"))
    turns: int = asyncio.run(once(Path(".")))
    print(turns, report(Path(".")))


if __name__ == "__main__":
    main()
