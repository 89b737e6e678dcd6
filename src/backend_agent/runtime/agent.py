"""The agent loop: send the conversation, run the turn's tool calls, feed the results back, repeat.

A run ends when the model ends its turn without calling tools, or early: by one of the named
stops below (turn limit, budget, blocked prompt), a model failure, or Ctrl-C. Every permission
and hook decision goes through the run's Policy; every tool call goes through the tool
session, which never raises.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from backend_agent.definitions import AgentDefinition
from backend_agent.messages import (
    ContentBlock,
    Message,
    ModelRequest,
    ModelResponse,
    TextBlock,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
    Usage,
)
from backend_agent.models.base import Model, ModelError
from backend_agent.runtime.events import (
    AgentEvent,
    EventHandler,
    PromptSent,
    ToolEnd,
    ToolResultsSent,
    ToolStart,
    TurnEnd,
)
from backend_agent.runtime.policy import OpenPolicy, Policy
from backend_agent.tools.base import ToolResult

Subtype = Literal["success", "error_max_turns", "error_max_budget_usd", "error_during_execution"]

INTERRUPTED_NOTE = "[The user interrupted this turn.]"
CANCELLED = "cancelled by the user (Ctrl-C)"
MAX_STOP_HOOK_CONTINUATIONS = 8
CUT_OFF = (
    "the reply reached the output token limit (max_tokens) while writing it, so its input may "
    "be incomplete. Send it again with a smaller input: split a large Write or Edit into "
    "several smaller calls"
)
INVALID_INPUT = "{error}. Send it again with its input as one valid JSON object"
NOT_RUN = "This {name} call was not run: {problem}."


class Tools(Protocol):
    """What the loop needs from a tool session (``backend_agent.tools.ToolSession``)."""

    def call(self, name: str, input: dict[str, Any]) -> ToolResult: ...

    def specs(self, names: list[str] | None = None) -> list[ToolSpec]: ...

    def interrupt(self) -> None: ...


class StopRun(Exception):
    """Ends a run before the model finished; ``subtype`` is what the result reports."""

    subtype: Subtype = "error_during_execution"


class MaxTurnsReached(StopRun):
    subtype = "error_max_turns"


class BudgetExceeded(StopRun):
    subtype = "error_max_budget_usd"


class PromptBlocked(StopRun):
    """The policy (a UserPromptSubmit hook) refused to send the prompt."""


@dataclass
class RunResult:
    """The outcome of one prompt, with the fields of ``claude -p --output-format json``."""

    subtype: Subtype
    result: str  # the final answer, or what went wrong
    session_id: str
    num_turns: int
    duration_ms: int
    duration_api_ms: int
    usage: Usage
    total_cost_usd: float
    permission_denials: list[dict[str, Any]]
    cancelled: bool = False
    cost_known: bool = True  # False once a turn came from a model without a known price
    failure: Exception | None = field(default=None, repr=False, compare=False)
    """The unexpected exception that ended the run, for --debug."""

    @property
    def is_error(self) -> bool:
        return self.subtype != "success"


@dataclass
class _RunState:
    """Counters of the run in progress."""

    emit: EventHandler
    started: float = field(default_factory=time.monotonic)
    api_seconds: float = 0.0
    turns: int = 0
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    cost_known: bool = True
    denials: list[dict[str, Any]] = field(default_factory=list)


def _ignore(event: AgentEvent) -> None:
    """The event handler used when the caller gives none."""


class Agent:
    """One agent session: a definition run by a model with tools; keeps the conversation."""

    def __init__(
        self,
        definition: AgentDefinition,
        model: Model,
        tools: Tools,
        *,
        policy: Policy | None = None,
        system_prompt: str | None = None,
        max_turns: int | None = None,
        max_budget_usd: float | None = None,
        session_id: str | None = None,
        max_tokens: int | None = None,
    ) -> None:
        self.definition = definition
        self.model = model
        self.tools = tools
        self.policy: Policy = policy if policy is not None else OpenPolicy()
        self.max_turns = max_turns if max_turns is not None else definition.max_turns
        self.max_budget_usd = max_budget_usd
        self.session_id = session_id or str(uuid.uuid4())
        self.max_tokens = max_tokens
        self.messages: list[Message] = []
        self.total_cost_usd = 0.0
        self._base_prompt = definition.prompt if system_prompt is None else system_prompt
        self._system_prompt: str | None = None

    @property
    def system_prompt(self) -> str:
        """The prompt sent to the model, with what session-start hooks added once started."""
        return self._system_prompt if self._system_prompt is not None else self._base_prompt

    def _start_session(self) -> None:
        """Ask the policy's session-start hooks for context, once per session."""
        if self._system_prompt is None:
            context = self.policy.on_session_start().strip()
            base = self._base_prompt.rstrip()
            self._system_prompt = f"{base}\n\n{context}\n" if context else self._base_prompt

    def run(self, prompt: str, on_event: EventHandler | None = None) -> RunResult:
        """Send ``prompt`` and work until the model is done or a stop condition is reached."""
        state = _RunState(emit=on_event or _ignore)
        self._start_session()
        try:
            decision = self.policy.on_user_prompt(prompt)
            if decision.blocked:
                raise PromptBlocked(decision.reason or "the prompt was blocked by a hook")
            context = decision.additional_context
            text = f"{prompt}\n\n{context}" if context else prompt
            self._add_user_message([TextBlock(text)], state)
            answer = self._loop(state)
        except KeyboardInterrupt:
            self._close_interrupted_turn(state)
            return self._result(state, "error_during_execution", CANCELLED, cancelled=True)
        except StopRun as stop:
            return self._result(state, stop.subtype, str(stop))
        except ModelError as exc:
            return self._result(state, "error_during_execution", str(exc))
        except Exception as exc:  # unexpected: still report what the run did and cost
            text = f"{type(exc).__name__}: {exc}"
            return self._result(state, "error_during_execution", text, failure=exc)
        return self._result(state, "success", answer)

    def _loop(self, state: _RunState) -> str:
        stop_hook_rounds = 0
        while True:
            self._check_limits(state)
            response = self._call_model(state)
            calls = response.message.tool_uses
            if calls:
                self._run_tools(calls, state, cut_off=response.stop_reason == "max_tokens")
                continue
            feedback = self.policy.on_stop(response.message.text)
            if feedback and stop_hook_rounds < MAX_STOP_HOOK_CONTINUATIONS:
                stop_hook_rounds += 1
                self._add_user_message([TextBlock(feedback)], state)
                continue
            return response.message.text

    def _check_limits(self, state: _RunState) -> None:
        if self.max_turns is not None and state.turns >= self.max_turns:
            raise MaxTurnsReached(f"stopped after reaching the maximum of {self.max_turns} turns")
        if self.max_budget_usd is not None and self.total_cost_usd >= self.max_budget_usd:
            spent, budget = self.total_cost_usd, self.max_budget_usd
            raise BudgetExceeded(f"stopped: spent ${spent:.4f} of the ${budget:.4f} budget")

    def _call_model(self, state: _RunState) -> ModelResponse:
        request = ModelRequest(
            self.system_prompt, list(self.messages), self.tools.specs(), self.max_tokens
        )
        started = time.monotonic()
        try:
            response = self.model.complete(request, state.emit)
        finally:
            state.api_seconds += time.monotonic() - started
        self.messages.append(response.message)
        cost = response.cost_usd or 0.0
        state.cost_known = state.cost_known and response.cost_usd is not None
        state.turns += 1
        state.usage += response.usage
        state.cost_usd += cost
        self.total_cost_usd += cost
        state.emit(
            TurnEnd(
                response.message,
                response.stop_reason,
                response.model,
                response.usage,
                state.usage,
                state.cost_usd,
            )
        )
        return response

    def _run_tools(self, calls: list[ToolUseBlock], state: _RunState, *, cut_off: bool) -> None:
        """Run every call in order and send all results back in one user message; calls of a
        turn cut off by the output limit, or with unusable input, are answered, not run."""
        results: list[ContentBlock] = []
        try:
            for call in calls:
                results.append(self._run_tool(call, state, _unrunnable(call, cut_off)))
        except KeyboardInterrupt:
            self.tools.interrupt()
            self._add_results(results + self._unfinished(calls[len(results) :], state), state)
            raise
        self._add_results(results, state)

    def _run_tool(
        self, call: ToolUseBlock, state: _RunState, problem: str | None = None
    ) -> ToolResultBlock:
        state.emit(ToolStart(call))
        if problem is not None:
            refused = ToolResult.error(NOT_RUN.format(name=call.name, problem=problem))
            state.emit(ToolEnd(call, refused))
            return ToolResultBlock(call.id, refused.content, is_error=True)
        decision = self.policy.before_tool(call)
        if not decision.allowed:
            state.denials.append(
                {"tool_name": call.name, "tool_use_id": call.id, "tool_input": call.input}
            )
            denied = ToolResult.error(
                decision.message or f"Permission to use {call.name} was denied."
            )
            state.emit(ToolEnd(call, denied, denied=True))
            return ToolResultBlock(call.id, denied.content, is_error=True)
        if decision.updated_input is not None:
            call = ToolUseBlock(call.id, call.name, decision.updated_input)
        result = self.tools.call(call.name, call.input)
        context = self.policy.after_tool(call, result)
        state.emit(ToolEnd(call, result))
        content = f"{result.content}\n\n{context}" if context else result.content
        return ToolResultBlock(call.id, content, result.is_error, result.images)

    def _add_results(self, results: list[ContentBlock], state: _RunState) -> None:
        message = Message("user", results)
        self.messages.append(message)
        state.emit(ToolResultsSent(message))

    def _add_user_message(self, content: list[ContentBlock], state: _RunState) -> None:
        """Append user content; merged into the last message when that is a user one, so roles
        keep alternating (e.g. a new prompt after a cancelled or stopped turn)."""
        message = Message("user", content)
        if self.messages and self.messages[-1].role == "user":
            self.messages[-1].content.extend(content)
        else:
            self.messages.append(message)
        state.emit(PromptSent(message))

    def _close_interrupted_turn(self, state: _RunState) -> None:
        """After Ctrl-C: stop running commands and leave a conversation the model accepts, with
        every tool call answered and a note that the user interrupted."""
        self.tools.interrupt()
        last = self.messages[-1] if self.messages else None
        if last is not None and last.role == "assistant" and last.tool_uses:
            self._add_results(self._unfinished(last.tool_uses, state), state)
        if self.messages and self.messages[-1].role == "user":
            self.messages[-1].content.append(TextBlock(INTERRUPTED_NOTE))

    def _unfinished(self, calls: list[ToolUseBlock], state: _RunState) -> list[ContentBlock]:
        """Error results for calls that Ctrl-C stopped or kept from running."""
        results: list[ContentBlock] = []
        for call in calls:
            result = ToolResult.error(
                "Interrupted by the user (Ctrl-C); the call did not complete."
            )
            state.emit(ToolEnd(call, result))
            results.append(ToolResultBlock(call.id, result.content, is_error=True))
        return results

    def _result(
        self,
        state: _RunState,
        subtype: Subtype,
        text: str,
        *,
        cancelled: bool = False,
        failure: Exception | None = None,
    ) -> RunResult:
        return RunResult(
            subtype=subtype,
            result=text,
            session_id=self.session_id,
            num_turns=state.turns,
            duration_ms=round((time.monotonic() - state.started) * 1000),
            duration_api_ms=round(state.api_seconds * 1000),
            usage=state.usage,
            total_cost_usd=state.cost_usd,
            permission_denials=state.denials,
            cancelled=cancelled,
            cost_known=state.cost_known,
            failure=failure,
        )


def _unrunnable(call: ToolUseBlock, cut_off: bool) -> str | None:
    """Why a call must not run (its input cut off or unusable); None when it may."""
    if cut_off:
        return CUT_OFF
    return None if call.input_error is None else INVALID_INPUT.format(error=call.input_error)


def run(
    prompt: str,
    *,
    cwd: str | Path = ".",
    model: str | None = None,
    agent: str | None = None,
    agent_file: str | Path | None = None,
    max_turns: int | None = None,
    max_budget_usd: float | None = None,
    on_event: EventHandler | None = None,
) -> RunResult:
    """Run one prompt headless, assembled exactly as ``backend-agent -p`` would do it."""
    from backend_agent.runtime.assembly import assemble
    from backend_agent.runtime.options import RunOptions

    options = RunOptions(
        cwd=Path(cwd).resolve(),
        prompt=prompt,
        model=model,
        agent=agent,
        agent_file=Path(agent_file) if agent_file is not None else None,
        max_turns=max_turns,
        max_budget_usd=max_budget_usd,
    )
    assembled = assemble(options, interactive=False)
    try:
        return assembled.agent.run(prompt, on_event)
    finally:
        assembled.close()
