"""Tool calls the loop must not run (cut off by the output limit, or with unusable input), and
failures that still leave an honest account of the run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from backend_agent.definitions import AgentDefinition
from backend_agent.messages import (
    Message,
    ModelRequest,
    ModelResponse,
    ToolResultBlock,
    ToolUseBlock,
    Usage,
)
from backend_agent.models.base import EventSink
from backend_agent.models.scripted import ScriptedModel
from backend_agent.runtime.agent import Agent
from backend_agent.tools import ToolSession
from backend_agent.ui.render import run_summary

AgentFactory = Callable[..., Any]
DEFINITION = AgentDefinition(name="tester", description="d", prompt="You test.")


def last_results(agent: Agent) -> list[ToolResultBlock]:
    return [b for b in agent.messages[-2].content if isinstance(b, ToolResultBlock)]


def test_calls_of_a_turn_cut_off_by_max_tokens_are_answered_not_run(
    make_agent: AgentFactory, project: Path
) -> None:
    agent, _ = make_agent(
        [
            {
                "tool_calls": [
                    {"name": "Write", "input": {"file_path": "a.txt", "content": "whole"}},
                    {"name": "Write", "input": {"file_path": "b.txt", "content": "cut"}},
                ],
                "stop_reason": "max_tokens",
            },
            "I will send smaller calls.",
        ]
    )

    result = agent.run("write both")

    assert result.subtype == "success"
    assert list(project.iterdir()) == []
    results = [b for b in agent.messages[2].content if isinstance(b, ToolResultBlock)]
    assert [r.is_error for r in results] == [True, True]
    assert "output token limit (max_tokens)" in results[0].content
    assert "smaller" in results[0].content


class ScriptThenFail(ScriptedModel):
    """Plays its script, then fails the way a bug or an unexpected answer would."""

    def complete(self, request: ModelRequest, on_event: EventSink | None = None) -> ModelResponse:
        if len(self.requests) == len(self._turns):
            self.requests.append(request)
            raise ValueError("unexpected answer from the model")
        return super().complete(request, on_event)


def test_an_unexpected_error_keeps_the_turns_usage_and_cost_of_the_run(
    session: ToolSession,
) -> None:
    model = ScriptThenFail.from_data(
        {
            "model": "claude-sonnet-4-5",
            "turns": [
                {
                    "tool_calls": [{"name": "Bash", "input": {"command": "true"}}],
                    "usage": {"input_tokens": 1000, "output_tokens": 200},
                }
            ],
        }
    )
    agent = Agent(DEFINITION, model, session)

    result = agent.run("go")

    assert result.subtype == "error_during_execution"
    assert result.result == "ValueError: unexpected answer from the model"
    assert isinstance(result.error, ValueError)
    assert result.num_turns == 1
    assert result.usage == Usage(input_tokens=1000, output_tokens=200)
    assert result.total_cost_usd > 0


class Unpriced:
    """A model served where its price is unknown (a local server)."""

    model_id = "local"

    def complete(self, request: ModelRequest, on_event: EventSink | None = None) -> ModelResponse:
        if len(request.messages) == 1:
            call = ToolUseBlock("call_1", "Write", {}, input_error="its input is not valid JSON")
            return ModelResponse(Message("assistant", [call]), "tool_use", Usage(10, 5), "local")
        reply = Message("assistant", [])
        return ModelResponse(reply, "end_turn", Usage(20, 5), "local")


def test_invalid_input_is_answered_and_an_unknown_price_is_shown_as_unknown(
    session: ToolSession,
) -> None:
    agent = Agent(DEFINITION, Unpriced(), session)

    result = agent.run("go")

    [answer] = last_results(agent)
    assert answer.is_error and "not valid JSON" in answer.content
    assert "was not run" in answer.content
    assert result.total_cost_usd == 0 and result.cost_known is False
    assert run_summary(result).endswith("cost unknown")
