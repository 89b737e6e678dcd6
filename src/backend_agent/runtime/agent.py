"""The agent loop: send the conversation, run the turn's tool calls, feed the results back, repeat.

A run ends when the model ends its turn without calling tools (and no stop hook or end-of-turn
check sends it back to work), or early: by one of the named stops of ``results`` (turn limit,
budget, blocked prompt), a model failure, or an interruption (Ctrl-C, ``interrupt()`` from
another thread, SIGTERM). Every permission and hook decision goes through the run's Policy;
every tool call goes through the tool session, which never raises. With a Compactor, the
conversation is compacted before a request that would pass its threshold, and once after a
"prompt is too long" error before the request is retried. The loop knows nothing of
transcripts or UIs: it reports what happens as events (``runtime.events``).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

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
from backend_agent.models.catalog import MIN_OUTPUT_TOKENS, default_output_tokens
from backend_agent.policy import OpenPolicy, Policy
from backend_agent.runtime.compaction import Compaction, CompactionError, Compactor, Trigger
from backend_agent.runtime.context import TokenGauge, is_context_overflow, stated_window
from backend_agent.runtime.events import (
    AgentEvent,
    CompactionFailed,
    ContextCompacted,
    EventHandler,
    PromptOrigin,
    PromptSent,
    ToolEnd,
    ToolResultsSent,
    ToolStart,
    TurnEnd,
)
from backend_agent.runtime.results import (
    BudgetExceeded,
    Interrupted,
    MaxTurnsReached,
    PromptBlocked,
    RunResult,
    StopRun,
    Subtype,
)
from backend_agent.tools.base import ToolResult

INTERRUPTED_NOTE = "[The user interrupted this turn.]"
MAX_STOP_HOOK_CONTINUATIONS = 8
CUT_OFF = (
    "the reply reached the output token limit (max_tokens) while writing it, so its input may "
    "be incomplete. Send it again with a smaller input: split a large Write or Edit into "
    "several smaller calls"
)
INVALID_INPUT = "{error}. Send it again with its input as one valid JSON object"
NOT_RUN = "This {name} call was not run: {problem}."

EndOfTurnCheck = Callable[[str], str]
"""Consulted with the final text when the model ends its turn: what it must still do ('' for
nothing). Non-empty feedback is sent to the model as a user message and the loop goes on."""


class Tools(Protocol):
    """What the loop needs from a tool session (``backend_agent.tools.ToolSession``)."""

    def call(self, name: str, input: dict[str, Any]) -> ToolResult: ...

    def specs(self, names: list[str] | None = None) -> list[ToolSpec]: ...

    def interrupt(self) -> None: ...


@dataclass
class _RunState:
    """Counters of the run in progress, and where its events go."""

    handler: EventHandler
    check: Callable[[], None]  # called after each event: raises to stop the run there
    started: float = field(default_factory=time.monotonic)
    api_seconds: float = 0.0
    turns: int = 0
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    cost_known: bool = True
    denials: list[dict[str, Any]] = field(default_factory=list)

    def emit(self, event: AgentEvent) -> None:
        self.handler(event)
        self.check()


def _ignore(event: AgentEvent) -> None:
    """The event handler used when the caller gives none."""


def _nothing() -> None:
    """The interruption check while an interrupted turn is being closed."""


class Agent:
    """One conversation's loop: a definition run by a model with tools; keeps the messages.

    ``messages`` may hold an earlier conversation to continue (a resumed session), with the
    ``prompts`` the user typed in it; a ``compactor`` keeps the conversation within the
    model's context (without one it only grows).
    """

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
        messages: list[Message] | None = None,
        prompts: list[str] | None = None,
        compactor: Compactor | None = None,
    ) -> None:
        self.definition = definition
        self.model = model
        self.tools = tools
        self.policy: Policy = policy if policy is not None else OpenPolicy()
        self.system_prompt = definition.prompt if system_prompt is None else system_prompt
        self.max_turns = max_turns if max_turns is not None else definition.max_turns
        self.max_budget_usd = max_budget_usd
        self.session_id = session_id or str(uuid.uuid4())
        self.max_tokens = max_tokens
        self.messages: list[Message] = list(messages or [])
        self.prompts: list[str] = list(prompts or [])  # as typed; compaction keeps them verbatim
        self.compactor = compactor
        self.gauge = TokenGauge()
        self.end_checks: list[EndOfTurnCheck] = []
        self.total_cost_usd = 0.0  # spent by this Agent, across prompts (the budget counts it)
        self.usage = Usage()  # summed over this Agent's model calls
        self.last_usage = Usage()  # of the latest model call
        self._last_failure = ""  # why the last compaction failed
        self._interrupt = threading.Event()

    def run(
        self, prompt: str, on_event: EventHandler | None = None, *, context: str = ""
    ) -> RunResult:
        """Send ``prompt`` (with ``context`` appended, if any) and work until the model is done
        or a stop condition is reached. Always returns a result; never raises for the run."""
        self._interrupt.clear()
        state = _RunState(on_event or _ignore, self._raise_if_interrupted)
        try:
            decision = self.policy.on_user_prompt(prompt)
            if decision.blocked:
                raise PromptBlocked(decision.reason or "the prompt was blocked by a hook")
            self.prompts.append(prompt)
            extra = "\n\n".join(part for part in (context, decision.additional_context) if part)
            text = f"{prompt}\n\n{extra}" if extra else prompt
            self._add_user_message([TextBlock(text)], state)
            answer = self._loop(state)
        except KeyboardInterrupt as stop:
            interruption = stop if isinstance(stop, Interrupted) else Interrupted()
            self._close_interrupted_turn(state)
            return self._result(
                state,
                "error_during_execution",
                interruption.message,
                cancelled=True,
                signum=interruption.signum,
            )
        except StopRun as stop:
            return self._result(state, stop.subtype, str(stop))
        except ModelError as exc:
            return self._result(state, "error_during_execution", str(exc))
        except Exception as exc:  # an unexpected failure still ends with a result and its counts
            message = f"{type(exc).__name__}: {exc}"
            return self._result(state, "error_during_execution", message, error=exc)
        return self._result(state, "success", answer)

    def compact(self, focus: str = "", on_event: EventHandler | None = None) -> Compaction:
        """Compact the conversation now (``/compact``), giving ``focus`` special attention in
        the summary; CompactionError (a UserError) when it cannot be done."""
        if self.compactor is None:
            raise CompactionError("this agent has no compactor: compaction is not set up")
        state = _RunState(on_event or _ignore, _nothing)
        compaction = self._compact(state, "manual", focus)
        if compaction is None:
            raise CompactionError(self._last_failure)
        return compaction

    def interrupt(self) -> None:
        """Cancel the running turn; safe from another thread. Running commands are killed at
        once; the loop stops at its next step (a streamed delta, a finished call)."""
        self._interrupt.set()
        self.tools.interrupt()

    def _loop(self, state: _RunState) -> str:
        feedback_rounds = 0
        while True:
            self._check_limits(state)
            response = self._call_model(state)
            calls = response.message.tool_uses
            if calls:
                self._run_tools(calls, state, cut_off=response.stop_reason == "max_tokens")
                continue
            feedback = self._review(response.message.text)
            if feedback and feedback_rounds < MAX_STOP_HOOK_CONTINUATIONS:
                feedback_rounds += 1
                self._add_user_message([TextBlock(feedback)], state, "feedback")
                continue
            return response.message.text

    def _review(self, final_text: str) -> str:
        """Stop hooks first, then the end-of-turn checks: the first feedback wins."""
        feedback = self.policy.on_stop(final_text)
        for check in self.end_checks:
            feedback = feedback or check(final_text)
        return feedback

    def _check_limits(self, state: _RunState) -> None:
        self._raise_if_interrupted()
        if self.max_turns is not None and state.turns >= self.max_turns:
            raise MaxTurnsReached(f"stopped after reaching the maximum of {self.max_turns} turns")
        if self.max_budget_usd is not None and self.total_cost_usd >= self.max_budget_usd:
            spent, budget = self.total_cost_usd, self.max_budget_usd
            raise BudgetExceeded(f"stopped: spent ${spent:.4f} of the ${budget:.4f} budget")

    def _call_model(self, state: _RunState) -> ModelResponse:
        request = self._request()
        compactor = self.compactor
        wanted = compactor is not None and compactor.wants(self.gauge.estimate(request))
        if wanted and self._compact(state, "auto") is not None:
            request = self._request()
        try:
            response = self._complete(request, state)
        except ModelError as error:
            if not self._recover_from_overflow(error, request, state):
                raise
            request = self._request()
            response = self._complete(request, state)
        self.gauge.observe(request, response.usage)
        self.messages.append(response.message)
        state.turns += 1
        self.last_usage = response.usage
        state.emit(
            TurnEnd(
                response.message,
                response.stop_reason,
                response.model,
                response.usage,
                state.usage,
                state.cost_usd,
                response.cost_usd,
            )
        )
        return response

    def _request(self) -> ModelRequest:
        """The next request; its output limit never asks for more than the window has left
        (what a small local window needs: prompt plus output must fit)."""
        request = ModelRequest(
            self.system_prompt, list(self.messages), self.tools.specs(), self.max_tokens
        )
        if self.compactor is None:
            return request
        room = self.compactor.budget.window - self.gauge.estimate(request)
        limit = request.max_tokens or default_output_tokens(self.model.model_id)
        if room < limit:
            request.max_tokens = max(MIN_OUTPUT_TOKENS, room)
        return request

    def _complete(self, request: ModelRequest, state: _RunState) -> ModelResponse:
        """One model call, timed and counted (usage, cost) for the run and the session; a
        summary request streams nothing to the UI."""
        started = time.monotonic()
        sink = state.emit if request.purpose == "turn" else None
        try:
            response = self.model.complete(request, sink)
        finally:
            state.api_seconds += time.monotonic() - started
        cost = response.cost_usd or 0.0
        state.cost_known = state.cost_known and response.cost_usd is not None
        state.usage += response.usage
        state.cost_usd += cost
        self.total_cost_usd += cost
        self.usage += response.usage
        return response

    def _recover_from_overflow(
        self, error: ModelError, request: ModelRequest, state: _RunState
    ) -> bool:
        """After a "prompt is too long" error: learn the model's real window (smaller than
        the budget said) and compact once, so the request can be retried."""
        compactor = self.compactor
        if compactor is None or not compactor.budget.auto_compact or compactor.gave_up:
            return False
        if not is_context_overflow(error):
            return False
        compactor.learn_window(self.gauge.estimate(request), stated_window(error))
        return self._compact(state, "auto") is not None

    def _compact(self, state: _RunState, trigger: Trigger, focus: str = "") -> Compaction | None:
        """Replace the conversation with a compacted one (None, and an event, on failure).
        PreCompact hooks may add instructions for the summary; PostCompact hooks see it."""
        assert self.compactor is not None
        request = self._request()
        extra = self.policy.before_compact(trigger, focus)
        instructions = "\n".join(part for part in (focus, extra) if part)
        try:
            compaction = self.compactor.compact(
                request,
                self.prompts,
                lambda summary: self._complete(summary, state),
                self.gauge,
                trigger=trigger,
                focus=instructions,
            )
        except CompactionError as failure:
            self._last_failure = str(failure)
            notice = self.compactor.failure_notice(str(failure))
            state.emit(CompactionFailed(notice, self.compactor.gave_up))
            return None
        self.messages = list(compaction.messages)
        self.system_prompt = compaction.system_prompt
        state.emit(ContextCompacted(compaction))
        self.policy.after_compact(trigger, compaction.summary)
        return compaction

    def _run_tools(self, calls: list[ToolUseBlock], state: _RunState, *, cut_off: bool) -> None:
        """Run every call in order and send all results back in one user message; calls of a
        turn cut off by the output limit, or with unusable input, are answered, not run."""
        results: list[ContentBlock] = []
        try:
            for call in calls:
                self._raise_if_interrupted()
                refusal = _unrunnable(call, cut_off) or self._unknown(call)
                results.append(self._run_tool(call, state, refusal))
        except KeyboardInterrupt:
            self.tools.interrupt()
            self._add_results(results + self._unfinished(calls[len(results) :], state), state)
            raise
        self._add_results(results, state)

    def _unknown(self, call: ToolUseBlock) -> ToolResult | None:
        """The answer to a call of a tool this agent does not have: an error naming the tools
        it has, before any permission question; None for a known tool."""
        names = [spec.name for spec in self.tools.specs()]
        if call.name in names:
            return None
        return ToolResult.error(f"No such tool: {call.name}. Available tools: {', '.join(names)}")

    def _run_tool(
        self, call: ToolUseBlock, state: _RunState, refusal: ToolResult | None = None
    ) -> ToolResultBlock:
        """Run one call. Its ToolEnd goes to the handler without the interruption check: the
        call has ended and its result is kept, an interruption takes effect before the next
        call, so that every call ends exactly once. A ``refusal`` is the answer to a call that
        must not run."""
        state.emit(ToolStart(call))
        if refusal is not None:
            state.handler(ToolEnd(call, refusal))
            return ToolResultBlock(call.id, refusal.content, is_error=True)
        decision = self.policy.before_tool(call)
        if not decision.allowed:
            state.denials.append(
                {"tool_name": call.name, "tool_use_id": call.id, "tool_input": call.input}
            )
            denied = ToolResult.error(
                decision.message or f"Permission to use {call.name} was denied."
            )
            state.handler(ToolEnd(call, denied, denied=True))
            return ToolResultBlock(call.id, denied.content, is_error=True)
        if decision.updated_input is not None:
            call = ToolUseBlock(call.id, call.name, decision.updated_input)
        result = self.tools.call(call.name, call.input)
        context = self.policy.after_tool(call, result)
        state.handler(ToolEnd(call, result))
        content = f"{result.content}\n\n{context}" if context else result.content
        return ToolResultBlock(call.id, content, result.is_error, result.images)

    def _add_results(self, results: list[ContentBlock], state: _RunState) -> None:
        message = Message("user", results)
        self.messages.append(message)
        state.emit(ToolResultsSent(message))

    def _add_user_message(
        self, content: list[ContentBlock], state: _RunState, origin: PromptOrigin = "prompt"
    ) -> None:
        """Append user content; merged into the last message when that is a user one, so roles
        keep alternating (e.g. a new prompt after a cancelled or stopped turn)."""
        if self.messages and self.messages[-1].role == "user":
            self.messages[-1].content.extend(content)
        else:
            self.messages.append(Message("user", list(content)))
        state.emit(PromptSent(Message("user", content), origin))

    def _close_interrupted_turn(self, state: _RunState) -> None:
        """After an interruption: stop running commands and leave a conversation the model
        accepts, with every tool call answered and a note that the user interrupted."""
        self.tools.interrupt()
        quiet = replace(state, check=_nothing)  # no second interruption while closing
        last = self.messages[-1] if self.messages else None
        if last is not None and last.role == "assistant" and last.tool_uses:
            self._add_results(self._unfinished(last.tool_uses, quiet), quiet)
        if self.messages and self.messages[-1].role == "user":
            self._add_user_message([TextBlock(INTERRUPTED_NOTE)], quiet, "interruption")

    def _unfinished(self, calls: list[ToolUseBlock], state: _RunState) -> list[ContentBlock]:
        """Error results for calls that an interruption stopped or kept from running."""
        results: list[ContentBlock] = []
        for call in calls:
            result = ToolResult.error("Interrupted by the user; the call did not complete.")
            state.emit(ToolEnd(call, result))
            results.append(ToolResultBlock(call.id, result.content, is_error=True))
        return results

    def _raise_if_interrupted(self) -> None:
        """Where ``interrupt()`` takes effect: after every event and before every call."""
        if self._interrupt.is_set():
            self._interrupt.clear()
            raise Interrupted()

    def _result(
        self,
        state: _RunState,
        subtype: Subtype,
        text: str,
        *,
        cancelled: bool = False,
        signum: int | None = None,
        error: BaseException | None = None,
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
            signum=signum,
            error=error,
            cost_known=state.cost_known,
        )


def _unrunnable(call: ToolUseBlock, cut_off: bool) -> ToolResult | None:
    """The answer to a call that must not run (its input cut off or unusable); None when it
    may."""
    if cut_off:
        problem = CUT_OFF
    elif call.input_error is not None:
        problem = INVALID_INPUT.format(error=call.input_error)
    else:
        return None
    return ToolResult.error(NOT_RUN.format(name=call.name, problem=problem))
