"""``Session.stream`` and ``Session.astream``: the same events either way, the loop free while
the run works, and a run that stops when asked to — by ``interrupt()`` from another thread,
by leaving the loop, by cancelling the task."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import threading
import time
from pathlib import Path
from typing import Any

import backend_agent
from backend_agent.events import Event, RunFinished, TextDelta, ToolEnd, ToolStart, TurnEnd
from backend_agent.messages import ToolResultBlock

from .conftest import Provider

SCRIPT = [
    {
        "text": "Let me look.",
        "tool_calls": [
            {"name": "Read", "input": {"file_path": "notes.txt"}},
            {"name": "Bash", "input": {"command": "echo hi"}},
        ],
    },
    "The notes say hello and the shell says hi.",
]
VARYING = {"id", "tool_use_id", "session_id", "duration_ms", "duration_api_ms", "error"}
PRICED = {"usage", "total_usage", "total_cost_usd"}  # what the fake servers' caches change


def shape(event: Event, provider: str) -> tuple[str, Any]:
    """An event without what differs between two runs of one script (ids, timings; for the
    fake servers also the usage, which their prompt caches change from run to run)."""
    ignored = VARYING if provider == "scripted" else VARYING | PRICED

    def scrub(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: scrub(v) for k, v in value.items() if k not in ignored}
        if isinstance(value, list):
            return [scrub(item) for item in value]
        return value

    return type(event).__name__, scrub(dataclasses.asdict(event))


def options(project: Path, provider: Provider, turns: list[Any]) -> dict[str, Any]:
    return {
        "allowed_tools": ["Bash"],
        "sandbox": "off",
        "setting_sources": (),
        **provider.options(turns),
    }


def test_async_and_sync_streams_give_the_same_events(project: Path, provider: Provider) -> None:
    (project / "notes.txt").write_text("hello\n")
    with backend_agent.open_session(project, **options(project, provider, SCRIPT)) as session:
        sync_events = list(session.stream("what do the notes say?"))

    async def collect() -> list[Event]:
        with backend_agent.open_session(project, **options(project, provider, SCRIPT)) as s:
            return [event async for event in s.astream("what do the notes say?")]

    async_events = asyncio.run(collect())
    assert [shape(e, provider.name) for e in async_events] == [
        shape(e, provider.name) for e in sync_events
    ]
    kinds = [type(e).__name__ for e in sync_events]
    assert kinds[0] == "PromptSent" and kinds[-1] == "RunFinished"
    assert {"TextDelta", "TurnEnd", "ToolStart", "ToolEnd", "ToolResultsSent"} <= set(kinds)
    text = "".join(e.text for e in sync_events if isinstance(e, TextDelta))
    assert text == "Let me look.The notes say hello and the shell says hi."
    finished = sync_events[-1]
    assert isinstance(finished, RunFinished) and finished.result.num_turns == 2


LONG_CALL = {"name": "Bash", "input": {"command": "echo $$ > pid; sleep 60; touch finished"}}


def wait_for_pid(project: Path) -> int:
    while not (project / "pid").exists() or not (project / "pid").read_text().strip():
        time.sleep(0.02)
    return int((project / "pid").read_text())


def assert_gone(pid: int) -> None:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return
    raise AssertionError(f"the command's shell {pid} still runs")


def test_interrupt_from_another_thread_cancels_a_long_bash_call(
    project: Path, provider: Provider
) -> None:
    turns = [{"tool_calls": [LONG_CALL]}, "Stopped as you asked."]
    with backend_agent.open_session(project, **options(project, provider, turns)) as session:

        def interrupt_once_running() -> None:
            wait_for_pid(project)
            session.interrupt()

        helper = threading.Thread(target=interrupt_once_running)
        events = []
        for event in session.stream("run the long job"):
            events.append(event)
            if isinstance(event, ToolStart):
                helper.start()
        helper.join()
        finished = events[-1]
        assert isinstance(finished, RunFinished)
        assert finished.result.cancelled and finished.result.exit_code == 130
        assert_gone(int((project / "pid").read_text()))
        (ended,) = [e for e in events if isinstance(e, ToolEnd)]
        assert ended.result.is_error
        follow_up = session.prompt("what happened?")  # the conversation is still valid
        sent = session.messages[2].content  # what the model got back for the call
    assert follow_up.result == "Stopped as you asked."
    assert not (project / "finished").exists()
    assert isinstance(sent[0], ToolResultBlock) and sent[0].is_error


def test_leaving_a_stream_early_stops_the_run(project: Path, scripted: Provider) -> None:
    turns = [{"tool_calls": [LONG_CALL]}, "Next prompt's answer."]
    with backend_agent.open_session(project, **options(project, scripted, turns)) as session:
        for event in session.stream("run the long job"):
            if isinstance(event, ToolStart):
                pid = wait_for_pid(project)
                break  # the dropped generator closes, which interrupts the run
        assert_gone(pid)
        assert session.prompt("and now?").result == "Next prompt's answer."


def test_cancelling_the_consuming_task_stops_the_run(project: Path, scripted: Provider) -> None:
    turns = [{"tool_calls": [LONG_CALL]}, "Next prompt's answer."]

    async def main() -> None:
        with backend_agent.open_session(project, **options(project, scripted, turns)) as session:
            started = asyncio.Event()

            async def consume() -> None:
                async for event in session.astream("run the long job"):
                    if isinstance(event, ToolStart):
                        started.set()

            task = asyncio.create_task(consume())
            await started.wait()
            pid = await asyncio.to_thread(wait_for_pid, project)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            assert_gone(pid)
            answer = await asyncio.to_thread(session.prompt, "and now?")
            assert answer.result == "Next prompt's answer."

    asyncio.run(main())


def test_the_event_loop_stays_free_and_async_tools_run_on_it(
    project: Path, scripted: Provider
) -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    @backend_agent.tool
    async def where() -> str:
        """Say where this runs."""
        loops.append(asyncio.get_running_loop())
        return "here"

    turns = [{"tool_calls": [{"name": "mcp__sdk__where", "input": {}}]}, "Done."]
    ticks = 0

    async def main() -> None:
        nonlocal ticks

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.001)

        ticker = asyncio.create_task(tick())
        async for event in backend_agent.query(
            "where?",
            cwd=project,
            tools=[where],
            allowed_tools=["mcp__sdk__where"],
            **scripted.options(turns),
        ):
            if isinstance(event, TurnEnd):
                await asyncio.sleep(0.01)  # the run goes on meanwhile in its thread
        ticker.cancel()
        assert loops == [asyncio.get_running_loop()]

    asyncio.run(main())
    assert ticks > 0


def test_query_runs_one_prompt_and_records_it(project: Path, scripted: Provider) -> None:
    async def main() -> list[Event]:
        return [
            event
            async for event in backend_agent.query(
                "hello", cwd=project, **scripted.options(["Hello!"])
            )
        ]

    events = asyncio.run(main())
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.result.result == "Hello!"
    resumed = scripted.options(["Still here."])
    with backend_agent.open_session(
        project, resume=finished.result.session_id, **resumed
    ) as session:
        assert session.prompt("again").result == "Still here."
        assert [m.text for m in session.messages][:2] == ["hello", "Hello!"]
