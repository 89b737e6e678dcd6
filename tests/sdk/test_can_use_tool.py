"""``can_use_tool``: asked exactly where the terminal would ask; its Allow and Deny reach the
run (and the model), and it can save rules as "yes, and don't ask again" does."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

import backend_agent
from backend_agent import Allow, Deny, PermissionContext
from backend_agent.events import Event, PermissionRequest, RunFinished, ToolEnd

from .conftest import Provider


def write(path: str, content: str) -> dict[str, Any]:
    return {"name": "Write", "input": {"file_path": path, "content": content}}


class Asked(list[tuple[str, dict[str, Any], PermissionContext]]):
    """Every call a can_use_tool function was asked about."""


def test_a_deny_reaches_the_model_as_an_error_result(project: Path, provider: Provider) -> None:
    asked = Asked()

    def only_src(name: str, tool_input: dict[str, Any], context: PermissionContext) -> Any:
        asked.append((name, tool_input, context))
        assert context.change is not None
        if context.change.path.is_relative_to(project / "src"):
            return Allow()
        return Deny("edits are allowed under src/ only")

    script = [
        {"tool_calls": [write("src/app.py", "app = 1\n"), write("setup.py", "evil = 1\n")]},
        "Wrote src/app.py; setup.py was refused.",
    ]
    with backend_agent.open_session(
        project, can_use_tool=only_src, **provider.options(script)
    ) as session:
        result = session.prompt("write the files")
    assert (project / "src" / "app.py").read_text() == "app = 1\n"
    assert not (project / "setup.py").exists()
    assert [name for name, _, _ in asked] == ["Write", "Write"]
    assert asked[1][2].reason.startswith("Write changes") and asked[1][2].suggestions
    (_, created_error), (refused, refused_error) = provider.played().results[1]
    assert not created_error and refused_error
    assert "edits are allowed under src/ only" in refused
    assert [d["tool_input"]["file_path"] for d in result.permission_denials] == ["setup.py"]


def test_allow_can_change_the_input(project: Path, scripted: Provider) -> None:
    def tidy(name: str, tool_input: dict[str, Any], context: PermissionContext) -> Allow:
        return Allow(updated_input={**tool_input, "content": tool_input["content"].upper()})

    script = [{"tool_calls": [write("src/a.txt", "quiet\n")]}, "Done."]
    with backend_agent.open_session(project, can_use_tool=tidy, **scripted.options(script)) as s:
        s.prompt("write")
    assert (project / "src" / "a.txt").read_text() == "QUIET\n"


@pytest.mark.parametrize(
    ("scope", "saved_in"),
    [
        ("session", None),
        ("local", ".claude/settings.local.json"),
        ("project", ".claude/settings.json"),
        ("user", "~/.claude/settings.json"),
    ],
)
def test_allow_with_rules_stops_asking_and_saves_them_in_the_scope(
    project: Path, scripted: Provider, scope: Any, saved_in: str | None
) -> None:
    asked = Asked()

    def always(name: str, tool_input: dict[str, Any], context: PermissionContext) -> Allow:
        asked.append((name, tool_input, context))
        return Allow(rules=context.suggestions, scope=scope)

    again = {"name": "Bash", "input": {"command": "echo again"}}
    script = [{"tool_calls": [again]}, {"tool_calls": [again]}, "Done."]
    with backend_agent.open_session(
        project, can_use_tool=always, sandbox="off", **scripted.options(script)
    ) as session:
        session.prompt("echo twice")
    assert len(asked) == 1
    assert asked[0][2].suggestions == ("Bash(echo again)",)
    files = [".claude/settings.local.json", ".claude/settings.json", "~/.claude/settings.json"]
    for name in files:
        path = Path(name).expanduser() if name.startswith("~") else project / name
        if name == saved_in:
            saved = json.loads(path.read_text())
            assert saved["permissions"]["allow"] == ["Bash(echo again)"]
        else:
            assert not path.exists()


def test_deny_with_interrupt_stops_the_run(project: Path, scripted: Provider) -> None:
    script = [{"tool_calls": [write("a.txt", "1"), write("b.txt", "2")]}, "Never sent."]

    def stop(name: str, tool_input: dict[str, Any], context: PermissionContext) -> Deny:
        return Deny("stop everything", interrupt=True)

    with backend_agent.open_session(project, can_use_tool=stop, **scripted.options(script)) as s:
        events = list(s.stream("write both"))
    result = events[-1].result if isinstance(events[-1], RunFinished) else None
    assert result is not None and result.cancelled and result.is_error
    assert len(scripted.played().tools) == 1  # the model was not called again
    denied = [e for e in events if isinstance(e, ToolEnd) and e.denied]
    assert len(denied) == 1 and "stop everything" in denied[0].result.content
    assert not (project / "a.txt").exists() and not (project / "b.txt").exists()


def test_each_question_is_an_event_before_the_answer(project: Path, scripted: Provider) -> None:
    seen: list[str] = []

    def answer(name: str, tool_input: dict[str, Any], context: PermissionContext) -> Allow:
        seen.append("asked")
        return Allow()

    def listen(event: Event) -> None:
        if isinstance(event, PermissionRequest):
            seen.append(f"event {event.tool} {event.suggestions}")
            assert event.tool_input["file_path"] == "src/x.py"
            assert event.reason.startswith("Write changes")

    script = [{"tool_calls": [write("src/x.py", "x = 1\n")]}, "Done."]
    with backend_agent.open_session(project, can_use_tool=answer, **scripted.options(script)) as s:
        s.prompt("write", on_event=listen)
    assert seen == ["event Write ('Edit(/src/x.py)',)", "asked"]


def test_an_async_callback_is_awaited(project: Path, scripted: Provider) -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    async def later(name: str, tool_input: dict[str, Any], context: PermissionContext) -> Deny:
        loops.append(asyncio.get_running_loop())
        await asyncio.sleep(0)
        return Deny("not today")

    script = [{"tool_calls": [write("a.txt", "1")]}, "ok", {"tool_calls": [write("a.txt", "1")]}]
    script.append("ok")
    options = scripted.options(script)

    async def main() -> None:
        with backend_agent.open_session(project, can_use_tool=later, **options) as session:
            session.prompt("sync prompt, from inside a running loop")
            async for _ in session.astream("async stream"):
                pass
            assert loops[1] is asyncio.get_running_loop()  # on the caller's loop

    asyncio.run(main())
    assert len(loops) == 2
    results = [r for r in scripted.played().results if r]
    assert all("not today" in text and error for ((text, error),) in results)


def test_without_a_callback_the_refusal_says_how_to_allow(
    project: Path, scripted: Provider
) -> None:
    script = [{"tool_calls": [write("a.txt", "1")]}, "Refused."]
    with backend_agent.open_session(project, **scripted.options(script)) as session:
        session.prompt("write")
    ((message, is_error),) = scripted.played().results[1]
    assert is_error and "Edit(/a.txt)" in message and "allowed_tools in Python" in message


def test_a_wrong_answer_ends_the_run_with_a_clear_error(project: Path, scripted: Provider) -> None:
    script = [{"tool_calls": [write("a.txt", "1")]}, "never"]
    with backend_agent.open_session(
        project, can_use_tool=lambda *_: True, **scripted.options(script)
    ) as session:
        result = session.prompt("write")
    assert result.subtype == "error_during_execution"
    assert "return backend_agent.Allow() or backend_agent.Deny(message)" in result.result
