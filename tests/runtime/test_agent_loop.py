"""The agent loop driven by scripted models against a real tool session."""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backend_agent.definitions import AgentDefinition
from backend_agent.messages import (
    Message,
    TextBlock,
    TextDelta,
    ToolResultBlock,
    ToolUseBlock,
)
from backend_agent.policy import OpenPolicy, PromptDecision, ToolDecision
from backend_agent.runtime.agent import INTERRUPTED_NOTE
from backend_agent.runtime.events import (
    AgentEvent,
    PromptSent,
    ToolEnd,
    ToolResultsSent,
    ToolStart,
    TurnEnd,
)
from backend_agent.tools.base import ToolResult

AgentFactory = Callable[..., Any]


def call(name: str, **tool_input: object) -> dict[str, object]:
    return {"name": name, "input": tool_input}


def assert_consistent(messages: list[Message]) -> None:
    """Roles alternate, and every tool_use is answered by a result in the next message."""
    assert [m.role for m in messages] == ["user", "assistant"] * (len(messages) // 2) + (
        ["user"] if len(messages) % 2 else []
    )
    for asked, answered in itertools.pairwise(messages):
        if asked.role == "assistant" and asked.tool_uses:
            result_ids = [b.tool_use_id for b in answered.content if isinstance(b, ToolResultBlock)]
            assert result_ids == [c.id for c in asked.tool_uses]


def test_runs_every_tool_call_of_a_turn_in_order_and_sends_results_in_one_message(
    make_agent: AgentFactory, project: Path
) -> None:
    (project / "a.txt").write_text("alpha\n")
    agent, model = make_agent(
        [
            {
                "text": "Reading and writing.",
                "tool_calls": [
                    call("Read", file_path="a.txt"),
                    call("Write", file_path="b.txt", content="beta\n"),
                    call("Bash", command="cat b.txt"),
                ],
            },
            "Both files are ready.",
        ]
    )
    events: list[AgentEvent] = []
    result = agent.run("make b.txt", events.append)

    assert result.subtype == "success" and not result.is_error
    assert result.result == "Both files are ready."
    assert result.num_turns == 2
    assert (project / "b.txt").read_text() == "beta\n"
    results = model.requests[1].messages[-1].content
    assert [b.tool_use_id for b in results if isinstance(b, ToolResultBlock)] == [
        "toolu_scripted_1_1",
        "toolu_scripted_1_2",
        "toolu_scripted_1_3",
    ]
    assert isinstance(results[0], ToolResultBlock) and "alpha" in results[0].content
    assert isinstance(results[2], ToolResultBlock) and results[2].content == "beta"
    tool_events = [
        (type(e).__name__, e.call.name) for e in events if isinstance(e, ToolStart | ToolEnd)
    ]
    assert tool_events == [
        ("ToolStart", "Read"),
        ("ToolEnd", "Read"),
        ("ToolStart", "Write"),
        ("ToolEnd", "Write"),
        ("ToolStart", "Bash"),
        ("ToolEnd", "Bash"),
    ]
    streamed = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert streamed == "Reading and writing.Both files are ready."
    assert sum(isinstance(e, ToolResultsSent) for e in events) == 1
    assert_consistent(agent.messages)


def test_tool_errors_are_fed_back_to_the_model(make_agent: AgentFactory) -> None:
    agent, model = make_agent(
        [
            {"tool_calls": [call("Read", file_path="missing.txt"), call("Bash", command="exit 4")]},
            "The file is missing.",
        ]
    )
    result = agent.run("read it")

    assert result.subtype == "success"
    read_result, bash_result = model.requests[1].messages[-1].content
    assert isinstance(read_result, ToolResultBlock) and read_result.is_error
    assert "missing.txt" in read_result.content
    assert isinstance(bash_result, ToolResultBlock) and bash_result.is_error
    assert bash_result.content.startswith("Exit code 4")


def test_max_turns_stops_a_model_that_keeps_calling_tools(make_agent: AgentFactory) -> None:
    busy_turn = {"tool_calls": [call("Bash", command="echo again")]}
    agent, model = make_agent([busy_turn] * 5, max_turns=2)
    result = agent.run("loop")

    assert result.subtype == "error_max_turns" and result.is_error
    assert result.num_turns == 2
    assert len(model.requests) == 2
    assert "2 turns" in result.result
    assert_consistent(agent.messages)


def test_agent_definition_max_turns_applies_when_no_limit_is_given(
    make_agent: AgentFactory,
) -> None:
    definition = AgentDefinition(name="short", description="d", prompt="p", max_turns=1)
    agent, model = make_agent(
        [{"tool_calls": [call("Bash", command="true")]}] * 3, definition=definition
    )
    assert agent.run("go").subtype == "error_max_turns"
    assert len(model.requests) == 1


def test_budget_stops_the_run_once_spent(make_agent: AgentFactory) -> None:
    expensive = {
        "tool_calls": [call("Bash", command="true")],
        "usage": {"input_tokens": 1_000_000, "output_tokens": 0},
    }
    agent, model = make_agent([expensive] * 3, model_id="claude-sonnet-4-5", max_budget_usd=1.0)
    result = agent.run("spend")

    assert result.subtype == "error_max_budget_usd" and result.is_error
    assert result.num_turns == 1 and len(model.requests) == 1
    assert result.total_cost_usd == pytest.approx(3.0)
    assert result.usage.input_tokens == 1_000_000


def test_usage_and_cost_are_summed_across_turns(make_agent: AgentFactory) -> None:
    agent, _ = make_agent(
        [
            {
                "tool_calls": [call("Bash", command="true")],
                "usage": {
                    "input_tokens": 100,
                    "output_tokens": 10,
                    "cache_creation_input_tokens": 50,
                },
            },
            {
                "text": "ok",
                "usage": {"input_tokens": 5, "output_tokens": 20, "cache_read_input_tokens": 150},
            },
        ],
        model_id="claude-sonnet-4-5",
    )
    result = agent.run("go")

    assert result.usage.as_dict() == {
        "input_tokens": 105,
        "output_tokens": 30,
        "cache_creation_input_tokens": 50,
        "cache_read_input_tokens": 150,
    }
    expected = (105 * 3 + 30 * 15 + 50 * 3.75 + 150 * 0.30) / 1_000_000
    assert result.total_cost_usd == pytest.approx(expected)


def test_a_script_that_runs_out_ends_the_run_with_a_clear_error(make_agent: AgentFactory) -> None:
    agent, _ = make_agent([{"tool_calls": [call("Bash", command="true")]}])
    result = agent.run("go")

    assert result.subtype == "error_during_execution"
    assert "has 1 turn(s)" in result.result and "turn 2" in result.result


def test_ctrl_c_during_a_tool_kills_it_and_answers_every_call(
    make_agent: AgentFactory, project: Path
) -> None:
    pid_file = project / "pid"
    agent, _ = make_agent(
        [
            {
                "tool_calls": [
                    call("Bash", command=f"echo $$ > {pid_file}; exec sleep 60"),
                    call("Write", file_path="never.txt", content="x"),
                ]
            },
            "unused",
        ]
    )

    def press_ctrl_c() -> None:
        while not pid_file.exists() or not pid_file.read_text().strip():
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=press_ctrl_c, daemon=True).start()
    result = agent.run("run it")

    assert result.cancelled and result.subtype == "error_during_execution"
    assert not (project / "never.txt").exists()
    sleeper = int(pid_file.read_text())
    assert not _alive(sleeper)
    assert_consistent(agent.messages)
    last = agent.messages[-1].content
    assert [b.is_error for b in last if isinstance(b, ToolResultBlock)] == [True, True]
    assert last[-1] == TextBlock(INTERRUPTED_NOTE)


def test_ctrl_c_while_the_model_streams_leaves_a_conversation_that_can_go_on(
    make_agent: AgentFactory,
) -> None:
    agent, model = make_agent(["This answer is cut short.", "Second answer."])

    def interrupt_on_text(event: AgentEvent) -> None:
        if isinstance(event, TextDelta):
            raise KeyboardInterrupt

    first = agent.run("first", interrupt_on_text)
    second = agent.run("second")

    assert first.cancelled and first.is_error
    assert second.subtype == "success" and second.result == "Second answer."
    sent = model.requests[1].messages
    assert [m.role for m in sent] == ["user"]
    assert [b.text for b in sent[0].content if isinstance(b, TextBlock)] == [
        "first",
        INTERRUPTED_NOTE,
        "second",
    ]


class RecordingPolicy(OpenPolicy):
    """A policy that denies Bash, rewrites Write's content and comments on every result."""

    def __init__(self, stop_feedback: list[str] | None = None) -> None:
        self.stop_feedback = stop_feedback or []
        self.prompts: list[str] = []

    def on_user_prompt(self, prompt: str) -> PromptDecision:
        self.prompts.append(prompt)
        if "forbidden" in prompt:
            return PromptDecision(blocked=True, reason="prompt blocked by policy")
        return PromptDecision(additional_context="Context added to the prompt.")

    def before_tool(self, call: ToolUseBlock) -> ToolDecision:
        if call.name == "Bash":
            return ToolDecision(allowed=False, message="Bash is not allowed here.")
        if call.name == "Write":
            return ToolDecision(
                allowed=True, updated_input={**call.input, "content": "rewritten\n"}
            )
        return ToolDecision(allowed=True)

    def after_tool(self, call: ToolUseBlock, result: ToolResult) -> str:
        return f"[checked {call.name}]"

    def on_stop(self, final_text: str) -> str:
        return self.stop_feedback.pop(0) if self.stop_feedback else ""


def test_policy_denials_rewrites_and_context_reach_the_model(
    make_agent: AgentFactory, project: Path
) -> None:
    agent, model = make_agent(
        [
            {
                "tool_calls": [
                    call("Bash", command="rm -rf /"),
                    call("Write", file_path="w.txt", content="original\n"),
                ]
            },
            "done",
        ],
        policy=RecordingPolicy(),
    )
    result = agent.run("do it")

    assert result.subtype == "success"
    assert result.permission_denials == [
        {
            "tool_name": "Bash",
            "tool_use_id": "toolu_scripted_1_1",
            "tool_input": {"command": "rm -rf /"},
        }
    ]
    assert (project / "w.txt").read_text() == "rewritten\n"
    first = model.requests[0]
    assert first.messages[0].text == "do it\n\nContext added to the prompt."
    denied, written = model.requests[1].messages[-1].content
    assert isinstance(denied, ToolResultBlock) and denied.is_error
    assert "Bash is not allowed here." in denied.content
    assert isinstance(written, ToolResultBlock) and written.content.endswith("[checked Write]")


def test_a_blocked_prompt_is_never_sent(make_agent: AgentFactory) -> None:
    agent, model = make_agent(["unused"], policy=RecordingPolicy())
    result = agent.run("something forbidden")

    assert result.is_error and result.result == "prompt blocked by policy"
    assert model.requests == []


def test_stop_feedback_keeps_the_model_working(make_agent: AgentFactory) -> None:
    policy = RecordingPolicy(stop_feedback=["Run the tests before stopping."])
    agent, model = make_agent(["first answer", "tests pass"], policy=policy)
    events: list[AgentEvent] = []
    result = agent.run("go", events.append)

    assert result.result == "tests pass" and result.num_turns == 2
    assert model.requests[1].messages[-1].text == "Run the tests before stopping."
    assert [e.message.text for e in events if isinstance(e, PromptSent)] == [
        "go\n\nContext added to the prompt.",
        "Run the tests before stopping.",
    ]


def test_turn_end_events_carry_usage_and_running_cost(make_agent: AgentFactory) -> None:
    agent, _ = make_agent(
        [{"text": "hi", "usage": {"input_tokens": 1_000_000, "output_tokens": 0}}],
        model_id="claude-sonnet-4-5",
    )
    events: list[AgentEvent] = []
    agent.run("go", events.append)
    (turn_end,) = [e for e in events if isinstance(e, TurnEnd)]
    assert turn_end.usage.input_tokens == 1_000_000
    assert turn_end.total_cost_usd == pytest.approx(3.0)
    assert turn_end.stop_reason == "end_turn"


def test_the_conversation_continues_across_prompts(make_agent: AgentFactory) -> None:
    agent, model = make_agent(["one", "two"])
    agent.run("first")
    agent.run("second")
    assert [m.text for m in model.requests[1].messages] == ["first", "one", "second"]


def _alive(pid: int) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.05)
    return True


def test_ctrl_c_between_the_answer_and_its_tool_calls_answers_them_all(
    make_agent: AgentFactory, project: Path
) -> None:
    agent, _ = make_agent(
        [
            {
                "tool_calls": [
                    call("Write", file_path="a.txt", content="a"),
                    call("Bash", command="true"),
                ]
            }
        ]
    )

    def interrupt_at_turn_end(event: AgentEvent) -> None:
        if isinstance(event, TurnEnd):
            raise KeyboardInterrupt

    result = agent.run("go", interrupt_at_turn_end)

    assert result.cancelled and "Ctrl-C" in result.result
    assert not (project / "a.txt").exists()
    assert_consistent(agent.messages)
    answered = agent.messages[-1].content
    assert [b.is_error for b in answered if isinstance(b, ToolResultBlock)] == [True, True]
    assert answered[-1] == TextBlock(INTERRUPTED_NOTE)
