"""Compaction in the agent loop: when it happens, what the compacted conversation holds, how a
"prompt is too long" error is recovered from, and how failures stop it from looping."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend_agent.definitions import AgentDefinition
from backend_agent.errors import UserError
from backend_agent.messages import (
    Message,
    ModelRequest,
    ModelResponse,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from backend_agent.models.base import EventSink, ModelError
from backend_agent.models.scripted import ScriptedModel
from backend_agent.runtime.agent import Agent
from backend_agent.runtime.compaction import (
    CONTEXT_TAG,
    REQUEST_TAG,
    CompactionError,
    Compactor,
    fit_prompts,
    kept_tail,
)
from backend_agent.runtime.context import ContextBudget, TokenGauge, messages_tokens
from backend_agent.runtime.events import AgentEvent, CompactionFailed, ContextCompacted
from backend_agent.tools import ToolSession

SUMMARY = "Read a.txt to e.txt; each holds a block of filler lines. Next: report."
BUDGET = ContextBudget(window=8_000, output_reserve=1_000)  # compacts past 5,600 tokens
FILLER = "".join(f"filler line {n:03d} of the file\n" for n in range(160))  # ~5 KB


def read(name: str) -> dict[str, Any]:
    return {"tool_calls": [{"name": "Read", "input": {"file_path": name}}]}


def build(
    session: ToolSession,
    turns: list[Any],
    *,
    summary: str | None = SUMMARY,
    budget: ContextBudget = BUDGET,
    sections: list[Any] | None = None,
) -> tuple[Agent, ScriptedModel]:
    model = ScriptedModel.from_data({"turns": turns, "summary": summary})
    definition = AgentDefinition(name="tester", description="d", prompt="You test.")
    compactor = Compactor(budget, sections=sections or [])
    return Agent(definition, model, session, compactor=compactor), model


def assert_valid(messages: list[Message]) -> None:
    """Starts with the user, roles alternate, every tool_use is answered next."""
    assert messages[0].role == "user"
    for before, after in itertools.pairwise(messages):
        assert before.role != after.role
        if before.role == "assistant" and before.tool_uses:
            answered = [b.tool_use_id for b in after.content if isinstance(b, ToolResultBlock)]
            assert answered == [c.id for c in before.tool_uses]


def turn_requests(model: ScriptedModel) -> list[ModelRequest]:
    return [r for r in model.requests if r.purpose == "turn"]


@pytest.fixture
def files(project: Path) -> Path:
    for name in "abcde":
        (project / f"{name}.txt").write_text(FILLER)
    return project


def test_the_conversation_is_compacted_before_a_request_would_pass_the_threshold(
    files: Path, session: ToolSession
):
    todo = "<todo-list>\n- [in_progress] report on the files\n</todo-list>"
    agent, model = build(
        session,
        [read("a.txt"), "Read a.", read("b.txt"), read("c.txt"), read("d.txt"), "All read."],
        sections=[lambda: todo],
    )
    events: list[AgentEvent] = []
    agent.run("First: read a.txt and stop.", events.append)
    result = agent.run("Now read b, c and d, then say so.", events.append)

    assert result.subtype == "success" and result.result == "All read."
    compactions = [e.compaction for e in events if isinstance(e, ContextCompacted)]
    assert len(compactions) == 1 and compactions[0].trigger == "auto"
    summary_calls = [r for r in model.requests if r.purpose == "summary"]
    assert len(summary_calls) == 1
    asked = summary_calls[0].messages[-1].content[-1]
    assert isinstance(asked, TextBlock) and REQUEST_TAG in asked.text
    gauge = TokenGauge()
    for request in turn_requests(model):
        assert gauge.estimate(request) <= BUDGET.threshold + 1_200  # one file past it at most
    after = next(
        r for r in turn_requests(model) if r.messages[0].text.startswith(f"<{CONTEXT_TAG}>")
    )
    opening = after.messages[0].text
    sent = "\n".join(
        b.text for m in after.messages if m.role == "user" for b in m.content
        if isinstance(b, TextBlock)
    )  # fmt: skip
    assert "First: read a.txt and stop." in opening
    assert "Now read b, c and d, then say so." in sent  # in the opening, or in a kept turn
    assert sent.count("Now read b, c and d, then say so.") == 1
    assert SUMMARY in opening and todo in opening
    assert_valid(after.messages)
    assert after.messages[1:] == compactions[0].messages[1:]  # the kept turns
    assert compactions[0].post_tokens < compactions[0].pre_tokens


def test_a_manual_compaction_gives_the_focus_to_the_summary_and_streams_nothing(
    files: Path, session: ToolSession
):
    roomy = ContextBudget(window=100_000, output_reserve=4_000)
    agent, model = build(session, [read("a.txt"), read("b.txt"), "Done."], budget=roomy)
    agent.run("read two files")
    seen: list[AgentEvent] = []
    agent.compact("the file names", seen.append)
    summary = [r for r in model.requests if r.purpose == "summary"][-1]
    asked = summary.messages[-1].content[-1]
    assert (
        isinstance(asked, TextBlock) and "Give special attention to: the file names" in asked.text
    )
    assert [type(e) for e in seen] == [ContextCompacted]  # no text deltas
    compaction = seen[0].compaction  # type: ignore[union-attr]
    assert compaction.trigger == "manual" and agent.messages == compaction.messages


def test_three_failed_compactions_in_a_row_stop_compacting_with_a_clear_message(
    files: Path, session: ToolSession
):
    turns = [read(f"{n}.txt") for n in "abcde"] + [read("a.txt"), read("b.txt"), "Done."]
    agent, model = build(session, turns, summary="")  # the model never gives a summary
    events: list[AgentEvent] = []
    result = agent.run("read everything", events.append)

    assert result.subtype == "success"
    failures = [e for e in events if isinstance(e, CompactionFailed)]
    assert len(failures) == 3
    assert [f.gave_up for f in failures] == [False, False, True]
    assert "stopped after 3 failed attempts" in failures[-1].message
    assert "answered without a summary" in failures[-1].message
    assert len([r for r in model.requests if r.purpose == "summary"]) == 3
    assert not any(isinstance(e, ContextCompacted) for e in events)


def test_a_successful_compaction_resets_the_count_of_failures(files: Path, session: ToolSession):
    agent, _ = build(session, [read("a.txt"), read("b.txt"), "Done."])
    agent.run("read two files")
    assert agent.compactor is not None
    agent.compactor.failures = 2
    agent.compact()
    assert agent.compactor.failures == 0 and not agent.compactor.gave_up


def test_a_manual_compaction_that_cannot_be_done_says_why(session: ToolSession):
    agent, _ = build(session, ["Hi."])
    with pytest.raises(UserError, match="no conversation to compact"):
        agent.compact()


class OverflowOnce:
    """A model that refuses the first request bigger than ``limit`` tokens, as the API does."""

    def __init__(self, inner: ScriptedModel, message: str, limit: int) -> None:
        self.inner, self.message, self.limit = inner, message, limit
        self.refused = 0

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    def complete(self, request: ModelRequest, on_event: EventSink | None = None) -> ModelResponse:
        if request.purpose == "turn" and TokenGauge().estimate(request) > self.limit:
            self.refused += 1
            raise ModelError(self.message)
        return self.inner.complete(request, on_event)


OFF = ContextBudget(window=8_000, output_reserve=1_000, auto_compact=True, compact_threshold=1.0)


@pytest.mark.parametrize(
    "message",
    [
        "Anthropic request failed: HTTP 400 invalid_request_error: prompt is too long: "
        "9100 tokens > 8000 maximum; the API rejected the request",
        "OpenAI request failed: HTTP 400 invalid_request_error: This model's maximum context "
        "length is 8000 tokens. However, your messages resulted in 9100 tokens.",
    ],
)
def test_a_prompt_too_long_error_leads_to_one_compaction_and_a_retry(
    files: Path, session: ToolSession, message: str
):
    agent, scripted = build(
        session, [read("a.txt"), read("b.txt"), read("c.txt"), "Done."], budget=OFF
    )
    model = OverflowOnce(scripted, message, limit=3_500)
    agent.model = model
    events: list[AgentEvent] = []
    result = agent.run("read three files", events.append)

    assert result.subtype == "success" and result.result == "Done."
    assert model.refused == 1
    assert [e.compaction.trigger for e in events if isinstance(e, ContextCompacted)] == ["auto"]
    retried = turn_requests(scripted)[-2]
    assert retried.messages[0].text.startswith(f"<{CONTEXT_TAG}>")


def test_an_output_limit_error_is_not_taken_for_an_overflow(files: Path, session: ToolSession):
    agent, scripted = build(session, [read("a.txt"), read("b.txt"), "Done."], budget=OFF)
    message = (
        "HTTP 400 invalid_request_error: max_tokens: 128000 > 64000, which is the maximum "
        "allowed number of output tokens"
    )
    agent.model = OverflowOnce(scripted, message, limit=1_000)
    result = agent.run("read two files")
    assert result.is_error and "max_tokens: 128000" in result.result
    assert not [r for r in scripted.requests if r.purpose == "summary"]


def test_with_compaction_off_an_overflow_ends_the_run(files: Path, session: ToolSession):
    off = ContextBudget(window=8_000, output_reserve=1_000, auto_compact=False)
    agent, scripted = build(session, [read("a.txt"), read("b.txt"), "Done."], budget=off)
    agent.model = OverflowOnce(scripted, "HTTP 400 prompt is too long: 9000 > 8000", 2_000)
    result = agent.run("read two files")
    assert result.is_error and "prompt is too long" in result.result
    assert not [r for r in scripted.requests if r.purpose == "summary"]


def test_the_output_limit_never_asks_for_more_than_the_window_has_left(
    files: Path, session: ToolSession
):
    agent, model = build(session, [read("a.txt"), "Done."])
    agent.max_tokens = 16_000
    agent.run("read a")
    for request in turn_requests(model):
        assert request.max_tokens + TokenGauge().estimate(request) <= BUDGET.window


# ---------------------------------------------------------------- the pieces


def test_a_compaction_that_would_not_shrink_the_context_fails():
    prompt = "Please do this: " + "x" * 6_000
    request = ModelRequest("system", [Message.user(prompt)])
    compactor = Compactor(BUDGET)

    def answer(summary_request: ModelRequest) -> ModelResponse:
        return ModelResponse(Message("assistant", [TextBlock(SUMMARY)]), "end_turn", *_usage())

    with pytest.raises(CompactionError, match="not smaller"):
        compactor.compact(request, [prompt], answer, TokenGauge(), trigger="manual")
    assert compactor.failures == 1


def _usage() -> tuple[Any, str]:
    from backend_agent.messages import Usage

    return Usage(), "scripted"


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 5_000), min_size=1, max_size=12),
    budget=st.integers(200, 20_000),
)
def test_prompts_are_cut_only_past_the_budget_and_short_ones_stay_whole(
    sizes: list[int], budget: int
):
    prompts = [f"{n}:" + "p" * size for n, size in enumerate(sizes)]
    fitted, cut = fit_prompts(prompts, budget)
    assert cut == (sum(map(len, prompts)) > budget)
    assert len(fitted) == len(prompts)
    if not cut:
        assert fitted == prompts
        return
    shown = 0
    for original, kept in zip(prompts, fitted, strict=True):
        if kept == original:
            shown += len(original)
            continue
        head, note = kept.rsplit("\n[… cut: ", 1)
        assert original.startswith(head) and note.endswith(" characters shown]")
        shown += len(head)
    assert shown <= budget


def conversation(turns: list[int]) -> list[Message]:
    """A prompt, then one assistant tool call and its result per entry (the result's size)."""
    messages = [Message.user("go")]
    for n, size in enumerate(turns):
        call = ToolUseBlock(f"t{n}", "Read", {"file_path": f"f{n}"})
        messages.append(Message("assistant", [TextBlock("reading"), call]))
        messages.append(Message("user", [ToolResultBlock(f"t{n}", "r" * size)]))
    return messages


@settings(max_examples=60, deadline=None)
@given(turns=st.lists(st.integers(0, 6_000), max_size=10), budget=st.integers(0, 5_000))
def test_the_kept_turns_are_recent_within_the_budget_and_cut_only_to_fit(
    turns: list[int], budget: int
):
    messages = conversation(turns)
    gauge = TokenGauge()
    tail = kept_tail(messages, budget, gauge)
    suffix = messages[len(messages) - len(tail) :]
    assert gauge.tokens(messages_tokens(tail)) <= budget
    if tail != suffix:  # long results cut to their ends, only because whole they do not fit
        assert gauge.tokens(messages_tokens(suffix)) > budget
        for kept, original in zip(tail, suffix, strict=True):
            for short, block in zip(kept.content, original.content, strict=True):
                if short != block:
                    assert isinstance(short, ToolResultBlock)
                    assert "characters left out" in short.content
                    assert block.content.startswith(short.content[:400])
    if tail:
        assert tail[0].role == "assistant"
        assert_valid([Message.user("context"), *tail])
        assert len(tail) <= 6


@settings(max_examples=40, deadline=None)
@given(turns=st.lists(st.integers(0, 9_000), min_size=2, max_size=14))
def test_a_compacted_conversation_is_always_one_the_api_accepts(turns: list[int]):
    messages = conversation(turns)
    request = ModelRequest("system", messages)
    compactor = Compactor(ContextBudget(window=20_000, output_reserve=2_000))

    def answer(summary_request: ModelRequest) -> ModelResponse:
        assert TokenGauge().estimate(summary_request) <= 20_000 - summary_request.max_tokens
        assert_valid(summary_request.messages)
        return ModelResponse(Message("assistant", [TextBlock(SUMMARY)]), "end_turn", *_usage())

    try:
        compaction = compactor.compact(request, ["go"], answer, TokenGauge(), trigger="auto")
    except CompactionError as error:
        assert "not smaller" in str(error)
        return
    assert_valid(compaction.messages)
    assert "go" in compaction.messages[0].text


def test_a_huge_write_is_kept_with_its_content_cut_so_the_model_sees_it_happened() -> None:
    """A 2 MB Write in the last turn: the summary request and the kept turn both carry it cut
    to its two ends, so the conversation still shows the file was written."""
    content = "".join(f"row {n:07d}\n" for n in range(180_000))
    call = ToolUseBlock("w1", "Write", {"file_path": "/w/big.py", "content": content})
    messages = [
        Message.user("write the big file"),
        Message("assistant", [call]),
        Message("user", [ToolResultBlock("w1", "File created successfully at: /w/big.py")]),
    ]
    request = ModelRequest("system", messages)
    compactor = Compactor(ContextBudget(window=200_000, output_reserve=32_000))
    asked: list[ModelRequest] = []

    def answer(summary_request: ModelRequest) -> ModelResponse:
        asked.append(summary_request)
        return ModelResponse(Message("assistant", [TextBlock(SUMMARY)]), "end_turn", *_usage())

    prompts = ["write the big file"]
    compaction = compactor.compact(request, prompts, answer, TokenGauge(), trigger="auto")
    assert TokenGauge().estimate(asked[0]) < 10_000
    kept_call = compaction.messages[1].tool_uses[0]
    assert kept_call.input["file_path"] == "/w/big.py"
    assert kept_call.input["content"].startswith("row 0000000")
    assert "characters left out" in kept_call.input["content"]
    assert compaction.messages[2].content[0] == messages[2].content[0]
    assert_valid(compaction.messages)
