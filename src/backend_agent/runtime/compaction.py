"""Compaction: the conversation replaced by a smaller one that keeps what matters.

One model call summarises the conversation (the state of the work, files, decisions, errors and
their fixes, what remains). The new conversation is one user message holding every prompt the
user wrote, verbatim, the summary and the sections the session carries (the todo list), then
the last few turns: whole, or, when whole they would not fit, with long tool inputs and outputs
cut to their two ends (so the model still sees that a large Write happened). A compaction that
fails, or does not bring the context under the threshold, counts as a failure; after three in a
row the session stops compacting on its own and says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from backend_agent.errors import UserError
from backend_agent.messages import (
    ContentBlock,
    Message,
    ModelRequest,
    ModelResponse,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from backend_agent.models.base import ModelError
from backend_agent.runtime.context import (
    CHARS_PER_TOKEN,
    ContextBudget,
    TokenGauge,
    is_context_overflow,
    messages_tokens,
)

Trigger = Literal["auto", "manual"]
Section = Callable[[], str]
"""Text the session carries across compactions (e.g. the todo list); '' for nothing."""

MAX_FAILURES = 3
KEEP_TURNS = 3  # the most recent turns kept whole, if they fit TAIL_SHARE of the prompt
TAIL_SHARE = 8  # the kept turns take at most 1/8 of the usable window,
TAIL_OF_CONVERSATION = 3  # and a third of the conversation they come from
PROMPTS_SHARE = 4  # the user's messages are cut only past a quarter of the window
SUMMARY_TRIES = 3  # a summary request refused as too long is shrunk and sent again
ELIDED_KEEP = 400  # characters kept of each end of a long tool output or input string
ELIDED_LIMIT = 2 * ELIDED_KEEP + 100  # shorter ones are kept whole

LEFT_OUT_NOTE = "[Earlier turns were left out of this request to make it fit.]"
REQUEST_TAG = "compaction-request"
CONTEXT_TAG = "compacted-context"
SUMMARY_INSTRUCTIONS = f"""<{REQUEST_TAG}>
The conversation is about to be compacted to fit the model's context window. Write the summary
you will continue from: the earlier messages will be gone. The user's own messages are kept
word for word, so do not repeat them. Record:
1. State of the work: what is done, what is in progress, and the exact next step.
2. Files: each file read, created or changed, with what changed and why (exact paths).
3. Decisions: choices made and their reasons; constraints and preferences the user stated.
4. Errors: each error met, its cause, and how it was solved (or that it is still open).
5. Remaining: what is left to do, in order.
Keep names, commands, paths and numbers exact. Use at most about {{words}} words. Answer with
the summary only, as plain text, and call no tools.{{focus}}
</{REQUEST_TAG}>"""


class CompactionError(UserError):
    """A compaction that did not happen: the message says why, in one line."""


@dataclass(frozen=True)
class Compaction:
    """A compaction done: the conversation and system prompt that replace the old ones."""

    trigger: Trigger
    pre_tokens: int
    post_tokens: int
    summary: str
    messages: list[Message]
    system_prompt: str
    kept_messages: int  # how many of the last messages were kept whole
    prompts_cut: bool  # the user's messages had to be shortened to fit


@dataclass
class Compactor:
    """Compacts one session's conversation; counts failures and gives up after three in a row.

    ``refresh_system`` rebuilds the system prompt (memory files re-read); ``sections`` add
    what the session keeps across compactions (the todo list).
    """

    budget: ContextBudget
    refresh_system: Callable[[], str] | None = None
    sections: list[Section] = field(default_factory=list)
    failures: int = 0

    @property
    def gave_up(self) -> bool:
        return self.failures >= MAX_FAILURES

    def wants(self, estimated_tokens: int) -> bool:
        """Whether to compact on its own before sending a request of that many tokens."""
        return (
            self.budget.auto_compact
            and not self.gave_up
            and (estimated_tokens > self.budget.threshold)
        )

    def compact(
        self,
        request: ModelRequest,
        prompts: list[str],
        complete: Callable[[ModelRequest], ModelResponse],
        gauge: TokenGauge,
        *,
        trigger: Trigger,
        focus: str = "",
    ) -> Compaction:
        """Summarise ``request``'s conversation with ``complete`` and build the new one.
        CompactionError (counted) when the model gives no summary or nothing shrinks."""
        if not request.messages:
            raise CompactionError("there is no conversation to compact yet")
        try:
            result = self._compact(request, prompts, complete, gauge, trigger, focus)
        except CompactionError:
            self.failures += 1
            raise
        if result.post_tokens > self.budget.threshold:
            self.failures += 1  # applied (it helped), but the next request may compact again
        else:
            self.failures = 0
        return result

    def failure_notice(self, reason: str) -> str:
        """What the user is told about a failed compaction (and whether compaction stops)."""
        if not self.gave_up:
            return f"context compaction failed ({reason})"
        return (
            f"automatic context compaction stopped after {self.failures} failed attempts in a "
            f"row (last: {reason}); the conversation may outgrow the model's context window: "
            "/compact with a focus, or start a new session"
        )

    def _compact(
        self,
        request: ModelRequest,
        prompts: list[str],
        complete: Callable[[ModelRequest], ModelResponse],
        gauge: TokenGauge,
        trigger: Trigger,
        focus: str,
    ) -> Compaction:
        pre = gauge.estimate(request)
        summary = self._summarise(request, complete, gauge, focus)
        conversation = gauge.tokens(messages_tokens(request.messages))
        tail_budget = min(self.budget.usable // TAIL_SHARE, conversation // TAIL_OF_CONVERSATION)
        tail = kept_tail(request.messages, tail_budget, gauge)
        prompt_chars = self.budget.window // PROMPTS_SHARE * CHARS_PER_TOKEN
        listed, cut = fit_prompts(
            _not_in(prompts, tail), int(prompt_chars / max(gauge.scale, 0.25))
        )
        sections = [text.strip() for text in (section() for section in self.sections)]
        context = compacted_context(listed, cut, summary, [s for s in sections if s], bool(tail))
        messages = [Message.user(context), *tail]
        system = self.refresh_system() if self.refresh_system is not None else request.system
        post = gauge.estimate(replace(request, system=system, messages=messages))
        if post >= pre:
            raise CompactionError(
                f"the compacted context ({post:,} tokens) is not smaller than before ({pre:,})"
            )
        return Compaction(trigger, pre, post, summary, messages, system, len(tail), cut)

    def learn_window(self, refused_tokens: int, stated: int | None) -> None:
        """A request of ``refused_tokens`` was too long: the model's window is what the error
        ``stated``, else a little under that request; the budget shrinks to it."""
        window = max(1_024, stated if stated else refused_tokens * 9 // 10)
        if window < self.budget.window:
            reserve = min(self.budget.output_reserve, window // 4)
            self.budget = replace(self.budget, window=window, output_reserve=reserve)

    def _summarise(
        self,
        request: ModelRequest,
        complete: Callable[[ModelRequest], ModelResponse],
        gauge: TokenGauge,
        focus: str,
    ) -> str:
        """The model's summary of ``request``'s conversation. A summary request refused as too
        long is made smaller (by a quarter each time) and sent again, up to three times."""
        room = self.budget.window
        last: ModelError | None = None
        for _ in range(SUMMARY_TRIES):
            summary_request = self._summary_request(request, gauge, focus, room)
            try:
                answer = complete(summary_request)
            except ModelError as error:
                if not is_context_overflow(error):
                    raise CompactionError(f"the summary request failed: {error}") from error
                last = error
                room = gauge.estimate(summary_request) * 3 // 4
                continue
            text = answer.message.text.strip()
            if not text:
                raise CompactionError("the model answered without a summary")
            return text
        raise CompactionError(f"the summary request failed: {last}") from last

    def _summary_request(
        self, request: ModelRequest, gauge: TokenGauge, focus: str, window: int
    ) -> ModelRequest:
        """The conversation plus the summary instructions, within ``window`` with the summary:
        big tool results and then the oldest turns are left out when it would not fit."""
        words = max(150, min(3_000, self.budget.window // 40))
        output = min(self.budget.output_reserve, words * 2)
        focus_text = f"\nGive special attention to: {focus.strip()}" if focus.strip() else ""
        ask = TextBlock(SUMMARY_INSTRUCTIONS.format(words=words, focus=focus_text))
        room = window - output
        messages = _with_instructions(request.messages, ask)
        summary = replace(request, messages=messages, max_tokens=output, purpose="summary")
        if gauge.estimate(summary) > room:
            messages = _with_instructions(_elided(request.messages), ask)
            summary = replace(summary, messages=messages)
        while gauge.estimate(summary) > room:
            shorter = _without_oldest_turn(summary.messages)
            if shorter is None:
                break  # nothing more to leave out: the request fails, and that is counted
            summary = replace(summary, messages=shorter)
        return summary


def kept_tail(messages: list[Message], budget: int, gauge: TokenGauge) -> list[Message]:
    """The last turns (each starting with an assistant message) to keep: at most KEEP_TURNS,
    together within ``budget`` tokens, each suffix whole or else with long tool inputs and
    outputs cut to their ends (``_elided``); none when even the last one does not fit."""
    starts = [i for i, m in enumerate(messages) if m.role == "assistant" and i > 0]
    tail: list[Message] = []
    for start in reversed(starts[-KEEP_TURNS:]):
        candidate = messages[start:]
        if gauge.tokens(messages_tokens(candidate)) > budget:
            candidate = _elided(candidate)
            if gauge.tokens(messages_tokens(candidate)) > budget:
                break
        tail = candidate
    return tail


def fit_prompts(prompts: list[str], budget_chars: int) -> tuple[list[str], bool]:
    """The prompts whole when they fit ``budget_chars`` together; otherwise each is cut to an
    equal share (short ones stay whole, the longest are cut, each saying how much)."""
    total = sum(map(len, prompts))
    if total <= budget_chars:
        return list(prompts), False
    share = _fair_share([len(p) for p in prompts], budget_chars)
    fitted = []
    for text in prompts:
        if len(text) <= share:
            fitted.append(text)
        else:
            fitted.append(f"{text[:share]}\n[… cut: {share:,} of {len(text):,} characters shown]")
    return fitted, True


def _fair_share(sizes: list[int], budget: int) -> int:
    """The largest cap such that sum(min(size, cap)) fits ``budget`` (water-filling)."""
    remaining, left = budget, len(sizes)
    for size in sorted(sizes):
        cap = remaining // left
        if size > cap:
            return max(cap, 0)
        remaining -= size
        left -= 1
    return max(sizes, default=0)


def compacted_context(
    prompts: list[str], cut: bool, summary: str, sections: list[str], tail: bool
) -> str:
    """The user message that opens a compacted conversation."""
    parts = [
        f"<{CONTEXT_TAG}>",
        "This session's earlier conversation was compacted to fit the model's context window.",
    ]
    if prompts:
        note = (
            " (together they passed a quarter of the context window, so the longest were cut)"
            if cut
            else ""
        )
        parts.append(f"\nThe user's messages so far, word for word and in order{note}:")
        parts += [
            f'<user-message number="{n}">\n{text}\n</user-message>'
            for n, text in enumerate(prompts, 1)
        ]
    parts.append(f"\nSummary of the work so far:\n<summary>\n{summary}\n</summary>")
    parts += [f"\n{section}" for section in sections]
    ending = (
        "The most recent turns follow (tool inputs and outputs too long to keep whole are cut "
        "to their two ends)."
        if tail
        else "Continue from here."
    )
    parts += [f"\n{ending}", f"</{CONTEXT_TAG}>"]
    return "\n".join(parts)


def _not_in(prompts: list[str], tail: list[Message]) -> list[str]:
    """The prompts, less any the kept turns still hold (the latest prompt often is one)."""
    held = [b.text for m in tail if m.role == "user" for b in m.content if isinstance(b, TextBlock)]
    return [p for p in prompts if not any(t == p or t.startswith(p + "\n\n") for t in held)]


def _with_instructions(messages: list[Message], ask: TextBlock) -> list[Message]:
    """``messages`` with the instructions as (or appended to) the last user message."""
    if messages and messages[-1].role == "user":
        last = messages[-1]
        return [*messages[:-1], Message("user", [*last.content, ask])]
    return [*messages, Message("user", [ask])]


def _elided(messages: list[Message]) -> list[Message]:
    """Tool results and the long strings of tool inputs (a Write's content) cut to their two
    ends: what a summary, or a kept turn that must fit, needs of them."""
    return [
        Message(message.role, [_elided_block(block) for block in message.content])
        for message in messages
    ]


def _elided_block(block: ContentBlock) -> ContentBlock:
    if isinstance(block, ToolResultBlock) and len(block.content) > ELIDED_LIMIT:
        return replace(block, content=_two_ends(block.content), images=())
    if isinstance(block, ToolUseBlock):
        short = _elided_value(block.input)
        return block if short == block.input else replace(block, input=short)
    return block


def _elided_value(value: Any) -> Any:
    if isinstance(value, str):
        return _two_ends(value) if len(value) > ELIDED_LIMIT else value
    if isinstance(value, dict):
        return {key: _elided_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_elided_value(item) for item in value]
    return value


def _two_ends(text: str) -> str:
    hidden = len(text) - 2 * ELIDED_KEEP
    return f"{text[:ELIDED_KEEP]}\n… [{hidden:,} characters left out] …\n{text[-ELIDED_KEEP:]}"


def _without_oldest_turn(messages: list[Message]) -> list[Message] | None:
    """The opening user message, then the conversation from its second turn on (the first
    assistant message and the user message answering it are left out together); None when
    there is no second turn."""
    starts = [i for i, m in enumerate(messages) if m.role == "assistant" and i > 0]
    if len(starts) < 2:
        return None
    opening = messages[: starts[0]]
    note = TextBlock(LEFT_OUT_NOTE)
    kept = [b for b in opening[-1].content if b != note]
    return [*opening[:-1], Message("user", [*kept, note]), *messages[starts[1] :]]
