"""The OpenAI adapter against the fake Chat Completions API (our client; the SDK comparison is
in test_sdk_conformance.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fakes.openai_server import ChatReply, OpenAIFake
from hypothesis import given, settings
from hypothesis import strategies as st
from model_strategies import JSON_VALUES, TEXTS

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
from backend_agent.models.openai import LOCAL_SERVER_KEY, OpenAIModel

READ = ToolSpec(
    "Read",
    "Read a file from the local filesystem.",
    {"type": "object", "properties": {"file_path": {"type": "string"}}, "required": ["file_path"]},
)


def model_for(fake: OpenAIFake, model_id: str = "gpt-5.5") -> OpenAIModel:
    return OpenAIModel(model_id, api_key="sk-test", base_url=fake.url)


def request(*messages: Message) -> ModelRequest:
    return ModelRequest(system="You are a backend agent.", messages=list(messages), tools=[READ])


def test_a_turn_streams_text_and_assembles_parallel_tool_calls_from_fragments(openai_fake):
    openai_fake.add(
        ChatReply(
            "Reading both files now.",
            [("Read", {"file_path": "/srv/api/orders.py"}), ("Read", {"file_path": "/srv/db.py"})],
            reasoning="Two files matter here.",
        )
    )
    events: list[StreamEvent] = []

    response = model_for(openai_fake).complete(request(Message.user("review")), events.append)

    thinking, text, first, second = response.message.content
    assert thinking == ThinkingBlock("Two files matter here.")
    assert text == TextBlock("Reading both files now.")
    assert isinstance(first, ToolUseBlock) and isinstance(second, ToolUseBlock)
    assert (first.name, first.input) == ("Read", {"file_path": "/srv/api/orders.py"})
    assert (second.name, second.input) == ("Read", {"file_path": "/srv/db.py"})
    assert first.id != second.id
    assert response.stop_reason == "tool_use"
    texts = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(texts) > 1 and "".join(texts) == "Reading both files now."
    assert "".join(e.text for e in events if isinstance(e, ThinkingDelta)) == (
        "Two files matter here."
    )


@pytest.fixture(scope="module")
def shared_fake() -> Iterator[OpenAIFake]:
    with OpenAIFake() as fake:
        yield fake


@settings(max_examples=25, deadline=None)
@given(
    answer=TEXTS,
    arguments=st.lists(st.dictionaries(TEXTS, JSON_VALUES, max_size=4), min_size=1, max_size=3),
)
def test_streamed_text_and_tool_arguments_arrive_exactly_as_sent(shared_fake, answer, arguments):
    shared_fake.add(ChatReply(answer, [("Bash", a) for a in arguments]))
    events: list[StreamEvent] = []

    response = model_for(shared_fake).complete(request(Message.user("go")), events.append)

    assert response.message.text == answer
    assert [use.input for use in response.message.tool_uses] == arguments
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == answer


def test_the_request_carries_tools_tool_messages_and_images(openai_fake):
    openai_fake.add(ChatReply("ok"))
    image = ImageBlock("cG5n", "image/png")
    conversation = [
        Message("user", [TextBlock("what is on this page?"), image]),
        Message(
            "assistant",
            [
                ThinkingBlock("private reasoning"),
                TextBlock("Checking."),
                ToolUseBlock("call_a", "Read", {"file_path": "/a"}),
                ToolUseBlock("call_b", "Read", {"file_path": "/b"}),
            ],
        ),
        Message(
            "user",
            [
                ToolResultBlock("call_a", "no such file", is_error=True),
                ToolResultBlock("call_b", "a screenshot", images=(image,)),
            ],
        ),
    ]

    model_for(openai_fake).complete(request(*conversation))

    sent = openai_fake.requests[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-test"
    body = sent.body
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["max_tokens"] == 32000  # the catalog's limit for gpt-5.5
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "Read",
                "description": READ.description,
                "parameters": READ.input_schema,
            },
        }
    ]
    data_url = {"type": "image_url", "image_url": {"url": "data:image/png;base64,cG5n"}}
    system, user, assistant, tool_a, tool_b, images = body["messages"]
    assert system == {"role": "system", "content": "You are a backend agent."}
    assert user == {
        "role": "user",
        "content": [{"type": "text", "text": "what is on this page?"}, data_url],
    }
    assert assistant["content"] == "Checking."
    assert [json.loads(c["function"]["arguments"]) for c in assistant["tool_calls"]] == [
        {"file_path": "/a"},
        {"file_path": "/b"},
    ]
    assert tool_a == {"role": "tool", "tool_call_id": "call_a", "content": "Error: no such file"}
    assert tool_b == {"role": "tool", "tool_call_id": "call_b", "content": "a screenshot"}
    assert images["role"] == "user" and images["content"][-1] == data_url


def test_usage_separates_cached_prompt_tokens(openai_fake):
    model = model_for(openai_fake)
    openai_fake.add(ChatReply("", [("Read", {"file_path": "/a"})]), ChatReply("done"))
    first = model.complete(request(Message.user("go")))
    use = first.message.tool_uses[0]

    second = model.complete(
        request(Message.user("go"), first.message, Message("user", [ToolResultBlock(use.id, "x")]))
    )

    assert first.usage.cache_read_input_tokens == 0 and first.usage.input_tokens > 0
    assert second.usage.cache_read_input_tokens > 0
    assert second.usage.output_tokens > 0
    prompt = second.usage.input_tokens + second.usage.cache_read_input_tokens
    assert prompt > first.usage.input_tokens


@pytest.mark.parametrize(
    ("finish", "neutral"),
    [("stop", "end_turn"), ("length", "max_tokens"), ("content_filter", "refusal")],
)
def test_finish_reasons_map_to_the_neutral_ones(openai_fake, finish, neutral):
    openai_fake.add(ChatReply("text", finish_reason=finish))

    assert model_for(openai_fake).complete(request(Message.user("hi"))).stop_reason == neutral


def test_a_local_server_needs_no_key_and_may_send_no_usage(openai_fake):
    """Ollama-style: no key, no usage chunk, and "stop" even though it called a tool."""
    openai_fake.add(
        ChatReply("", [("Read", {"file_path": "/x"})], finish_reason="stop", send_usage=False)
    )

    model = OpenAIModel("qwen3-coder:30b", base_url=openai_fake.url)
    response = model.complete(request(Message.user("hi")))

    assert openai_fake.requests[0].headers["authorization"] == f"Bearer {LOCAL_SERVER_KEY}"
    assert response.stop_reason == "tool_use"
    assert response.usage.input_tokens == response.usage.output_tokens == 0
    assert response.model == "qwen3-coder:30b"


def test_broken_tool_arguments_are_marked_instead_of_failing_the_turn(openai_fake):
    openai_fake.add(ChatReply("", [("Read", '{"file_path": "/x"')]))

    response = model_for(openai_fake).complete(request(Message.user("hi")))

    call = response.message.tool_uses[0]
    assert call.input == {} and call.name == "Read"
    assert call.input_error is not None and "not valid JSON" in call.input_error


def test_credentials_and_base_url_come_from_the_environment(openai_fake, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    monkeypatch.setenv("OPENAI_BASE_URL", openai_fake.url)
    openai_fake.add(ChatReply("one"), ChatReply("two"))

    OpenAIModel("gpt-5.5").complete(request(Message.user("hi")))
    OpenAIModel("gpt-5.5", api_key="sk-explicit").complete(request(Message.user("hi")))

    keys = [r.headers["authorization"] for r in openai_fake.requests]
    assert keys == ["Bearer sk-from-env", "Bearer sk-explicit"]


def test_missing_credentials_name_the_variable_and_the_alternatives():
    with pytest.raises(UserError) as caught:
        OpenAIModel("gpt-5.5")

    message = str(caught.value)
    assert "\n" not in message
    for hint in ("OPENAI_API_KEY", "--base-url", "OPENAI_BASE_URL", "scripted:"):
        assert hint in message
