"""The Anthropic adapter against the fake Messages API (our client; the SDK comparison is in
test_sdk_conformance.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fakes.anthropic_server import (
    AnthropicFake,
    Reply,
    redacted_thinking,
    thinking,
    tool_use,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_strategies import TEXTS, TOOL_INPUTS

from backend_agent.errors import UserError
from backend_agent.messages import (
    ImageBlock,
    Message,
    ModelRequest,
    StreamEvent,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
)
from backend_agent.models.anthropic import AnthropicModel
from backend_agent.models.catalog import cost_usd

TOOLS = [
    ToolSpec(
        name,
        f"{name}: does what its name says, with a description as long as real ones are. " * 4,
        {
            "type": "object",
            "properties": {"file_path": {"type": "string", "description": "Absolute path."}},
            "required": ["file_path"],
        },
    )
    for name in ("Read", "Edit", "Write", "Bash", "Grep", "Glob")
]
SYSTEM = "You are the Backend Agent. Follow the workflow and report with evidence.\n" * 40


def model_for(fake: AnthropicFake, model_id: str = "claude-sonnet-5-5") -> AnthropicModel:
    return AnthropicModel(model_id, api_key="sk-ant-test", base_url=fake.url)


def request(*messages: Message) -> ModelRequest:
    return ModelRequest(system=SYSTEM, messages=list(messages), tools=TOOLS)


def breakpoints(body: dict[str, Any]) -> list[str]:
    """Where the request put cache_control, as readable labels."""
    found = [f"tool:{t['name']}" for t in body.get("tools", []) if "cache_control" in t]
    found += ["system" for b in body.get("system", []) if "cache_control" in b]
    for index, message in enumerate(body["messages"]):
        for number, block in enumerate(message["content"]):
            if "cache_control" in block:
                found.append(f"messages[{index}][{number}]")
    return found


def test_a_turn_streams_deltas_and_assembles_thinking_text_and_tool_calls(anthropic_fake):
    edit_input = {"file_path": "/srv/app/main.py", "old_string": "a = 1", "new_string": "a = 2"}
    anthropic_fake.add(
        Reply.of(
            thinking("The user wants a fix; read the file first.", "sig-123"),
            "I'll read the file, then edit it.",
            tool_use("Read", {"file_path": "/srv/app/main.py"}, id="toolu_read"),
            tool_use("Edit", edit_input, id="toolu_edit"),
        )
    )
    events: list[StreamEvent] = []

    response = model_for(anthropic_fake).complete(request(Message.user("fix it")), events.append)

    assert response.message.content == [
        ThinkingBlock("The user wants a fix; read the file first.", "sig-123"),
        TextBlock("I'll read the file, then edit it."),
        ToolUseBlock("toolu_read", "Read", {"file_path": "/srv/app/main.py"}),
        ToolUseBlock("toolu_edit", "Edit", edit_input),
    ]
    assert response.stop_reason == "tool_use"
    texts = [e.text for e in events if isinstance(e, TextDelta)]
    thoughts = [e.text for e in events if isinstance(e, ThinkingDelta)]
    assert len(texts) > 1 and "".join(texts) == "I'll read the file, then edit it."
    assert "".join(thoughts) == "The user wants a fix; read the file first."
    assert events.index(ThinkingDelta(thoughts[0])) < events.index(TextDelta(texts[0]))
    assert response.model == "claude-sonnet-5-5"
    assert response.usage.output_tokens > 0
    assert cost_usd(response.model, response.usage) > 0


@pytest.fixture(scope="module")
def shared_fake() -> Iterator[AnthropicFake]:
    with AnthropicFake() as fake:
        yield fake


@settings(max_examples=25, deadline=None)
@given(answer=TEXTS, tool_input=TOOL_INPUTS)
def test_streamed_text_and_tool_input_arrive_exactly_as_sent(shared_fake, answer, tool_input):
    shared_fake.add(Reply.of(answer, tool_use("Bash", tool_input, id="toolu_x")))
    events: list[StreamEvent] = []

    response = model_for(shared_fake).complete(request(Message.user("go")), events.append)

    assert response.message.content == [
        TextBlock(answer),
        ToolUseBlock("toolu_x", "Bash", tool_input),
    ]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == answer


def test_the_request_maps_every_block_and_caches_the_stable_prefix(anthropic_fake):
    anthropic_fake.add(Reply.of("done"))
    image = ImageBlock("aW1hZ2U=", "image/png")
    conversation = [
        Message.user("look at the screenshot"),
        Message(
            "assistant",
            [
                ThinkingBlock("need the page", "sig-a"),
                ThinkingBlock("", "opaque-redacted"),
                ToolUseBlock("toolu_1", "Bash", {"command": "curl -s localhost"}),
                ToolUseBlock("toolu_2", "Read", {"file_path": "/shot.png"}),
            ],
        ),
        Message(
            "user",
            [
                ToolResultBlock("toolu_1", "curl: (7) connection refused", is_error=True),
                ToolResultBlock("toolu_2", "the screenshot", images=(image,)),
            ],
        ),
    ]

    model_for(anthropic_fake).complete(request(*conversation))

    sent = anthropic_fake.requests[0]
    body = sent.body
    assert sent.headers["authorization"] == "Bearer sk-ant-test"
    assert body["tools"][0] == {
        "name": "Read",
        "description": TOOLS[0].description,
        "input_schema": TOOLS[0].input_schema,
    }
    assert body["messages"][1]["content"][:2] == [
        {"type": "thinking", "thinking": "need the page", "signature": "sig-a"},
        {"type": "redacted_thinking", "data": "opaque-redacted"},
    ]
    results = body["messages"][2]["content"]
    assert results[0] == {
        "type": "tool_result",
        "tool_use_id": "toolu_1",
        "content": "curl: (7) connection refused",
        "is_error": True,
    }
    assert results[1]["content"] == [
        {"type": "text", "text": "the screenshot"},
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": "aW1hZ2U="},
        },
    ]
    assert breakpoints(body) == ["tool:Glob", "system", "messages[0][0]", "messages[2][1]"]


def test_an_image_type_the_api_cannot_take_becomes_a_note(anthropic_fake):
    anthropic_fake.add(Reply.of(tool_use("Read", {"file_path": "/logo.svg"}, id="toolu_svg")))
    anthropic_fake.add(Reply.of("It is a logo."))
    model = model_for(anthropic_fake)
    first = model.complete(request(Message.user("what is this?")))
    svg = ImageBlock("PHN2Zz4=", "image/svg+xml")

    second = model.complete(
        request(
            Message.user("what is this?"),
            first.message,
            Message("user", [ToolResultBlock("toolu_svg", "an image", images=(svg,))]),
        )
    )

    assert second.message.text == "It is a logo."
    content = anthropic_fake.requests[1].body["messages"][-1]["content"][0]["content"]
    assert content[1]["type"] == "text" and "image/svg+xml image left out" in content[1]["text"]


def test_redacted_thinking_comes_back_as_a_signature_only_thinking_block(anthropic_fake):
    anthropic_fake.add(Reply.of(redacted_thinking("EnCrYpTeD"), "answer"))

    response = model_for(anthropic_fake).complete(request(Message.user("hi")))

    assert response.message.content == [ThinkingBlock("", "EnCrYpTeD"), TextBlock("answer")]


def run_agent_turns(model: AnthropicModel, fake: AnthropicFake, calls_per_turn: list[int]) -> None:
    """Drive a tool-using conversation: each turn calls tools, the results go back."""
    conversation = [Message.user("Add input validation to the orders endpoint.")]
    for turn, calls in enumerate(calls_per_turn):
        uses = [tool_use("Read", {"file_path": f"/src/t{turn}_{n}.py"}) for n in range(calls)]
        fake.add(Reply.of(f"Turn {turn}: reading {calls} files.", *uses))
        response = model.complete(request(*conversation))
        conversation.append(response.message)
        results = [
            ToolResultBlock(use.id, f"# contents of {use.input['file_path']}\n" + "x = 1\n" * 40)
            for use in response.message.tool_uses
        ]
        conversation.append(Message("user", results or [TextBlock("continue")]))


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(calls_per_turn=st.lists(st.integers(min_value=0, max_value=30), min_size=2, max_size=5))
def test_each_request_reads_everything_the_previous_one_sent_from_the_cache(calls_per_turn):
    """Also with more than 20 new blocks in a turn, beyond the API's cache lookback."""
    with AnthropicFake() as fake:
        run_agent_turns(model_for(fake), fake, calls_per_turn)

        for body in (r.body for r in fake.requests):
            assert len(breakpoints(body)) <= 4
        for before, after in zip(fake.usages, fake.usages[1:], strict=False):
            sent_before = (
                before.input_tokens
                + before.cache_creation_input_tokens
                + before.cache_read_input_tokens
            )
            assert after.cache_read_input_tokens == sent_before


def test_from_the_second_turn_most_input_tokens_are_cache_reads(anthropic_fake):
    run_agent_turns(model_for(anthropic_fake), anthropic_fake, [1, 2, 1, 3, 1])

    first, *later = anthropic_fake.usages
    assert first.cache_read_input_tokens == 0
    assert first.cache_creation_input_tokens > 0
    for usage in later:
        fresh = usage.input_tokens + usage.cache_creation_input_tokens
        assert usage.cache_read_input_tokens > fresh


def test_usage_reports_cache_reads_and_writes_from_the_api(anthropic_fake):
    model = model_for(anthropic_fake)
    anthropic_fake.add(Reply.of(tool_use("Read", {"file_path": "/a"})), Reply.of("done"))
    first = model.complete(request(Message.user("go")))
    conversation = [
        Message.user("go"),
        first.message,
        Message("user", [ToolResultBlock(first.message.tool_uses[0].id, "print('a')")]),
    ]

    second = model.complete(request(*conversation))

    reported = anthropic_fake.usages[1]
    assert second.usage.cache_read_input_tokens == reported.cache_read_input_tokens > 0
    assert second.usage.cache_creation_input_tokens == reported.cache_creation_input_tokens
    assert second.usage.input_tokens == reported.input_tokens
    cheaper = cost_usd("claude-sonnet-5-5", second.usage)
    uncached = second.usage.input_tokens + second.usage.cache_read_input_tokens
    assert cheaper < uncached * 2.0 / 1_000_000 + second.usage.output_tokens * 10.0 / 1_000_000


@pytest.mark.parametrize(
    ("wire", "neutral"),
    [
        ("end_turn", "end_turn"),
        ("max_tokens", "max_tokens"),
        ("stop_sequence", "stop_sequence"),
        ("refusal", "refusal"),
        ("pause_turn", "end_turn"),
        ("model_context_window_exceeded", "max_tokens"),
    ],
)
def test_stop_reasons_map_to_the_neutral_ones(anthropic_fake, wire, neutral):
    anthropic_fake.add(Reply.of("partial answer", stop_reason=wire))

    response = model_for(anthropic_fake).complete(request(Message.user("hi")))

    assert response.stop_reason == neutral


def test_credentials_and_base_url_come_from_the_environment(anthropic_fake, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-from-env")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", anthropic_fake.url)
    anthropic_fake.add(Reply.of("hello"), Reply.of("hello again"))

    AnthropicModel("claude-haiku-5-5").complete(request(Message.user("hi")))
    AnthropicModel("claude-haiku-5-5", api_key="sk-explicit").complete(request(Message.user("hi")))

    keys = [r.headers["authorization"] for r in anthropic_fake.requests]
    assert keys == ["Bearer sk-from-env", "Bearer sk-explicit"]


def test_an_auth_token_serves_when_there_is_no_api_key(anthropic_fake, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "token-123")
    anthropic_fake.add(Reply.of("hello"))

    model = AnthropicModel("claude-haiku-5-5", base_url=anthropic_fake.url)
    model.complete(request(Message.user("hi")))

    assert anthropic_fake.requests[0].headers["authorization"] == "Bearer token-123"


def test_missing_credentials_name_the_variable_and_the_alternatives():
    with pytest.raises(UserError) as caught:
        AnthropicModel("claude-sonnet-5-5")

    message = str(caught.value)
    assert "\n" not in message
    for hint in (
        "ANTHROPIC_API_KEY",
        "--model openai:",
        "OPENAI_API_KEY",
        "--base-url",
        "scripted:",
    ):
        assert hint in message
