"""The official SDKs against the fake servers, beside our own client: the fakes speak the real
wire protocols (the SDKs parse them), and our adapters send and read exactly what the SDKs do.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest
from fakes.anthropic_server import AnthropicFake, Reply, redacted_thinking, thinking, tool_use
from fakes.openai_server import ChatReply, OpenAIFake
from hypothesis import given, settings
from model_strategies import TEXTS, TOOL_INPUTS

from backend_agent.messages import (
    ContentBlock,
    Message,
    ModelRequest,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
)
from backend_agent.models import anthropic as anthropic_adapter
from backend_agent.models import openai as openai_adapter
from backend_agent.models.anthropic import AnthropicModel
from backend_agent.models.openai import OpenAIModel

TOOL = ToolSpec("Bash", "Run a command.", {"type": "object", "properties": {}})
CONVERSATION = [
    Message.user("list the files"),
    Message(
        "assistant",
        [
            ThinkingBlock("ls is enough", "sig-1"),
            TextBlock("Listing."),
            ToolUseBlock("toolu_1", "Bash", {"command": "ls"}),
        ],
    ),
    Message("user", [ToolResultBlock("toolu_1", "a.py\nb.py")]),
]
REQUEST = ModelRequest("You are terse.", CONVERSATION, [TOOL], max_tokens=1234)


@pytest.fixture(scope="module")
def anthropic_server() -> Iterator[AnthropicFake]:
    with AnthropicFake() as fake:
        yield fake


@pytest.fixture(scope="module")
def openai_server() -> Iterator[OpenAIFake]:
    with OpenAIFake() as fake:
        yield fake


def sdk_blocks(message: Any) -> list[ContentBlock]:
    """The Anthropic SDK's final message in neutral blocks, the way our adapter keeps them."""
    blocks: list[ContentBlock] = []
    for block in message.content:
        if block.type == "text" and block.text:
            blocks.append(TextBlock(block.text))
        elif block.type == "thinking":
            blocks.append(ThinkingBlock(block.thinking, block.signature))
        elif block.type == "redacted_thinking":
            blocks.append(ThinkingBlock("", block.data))
        elif block.type == "tool_use":
            blocks.append(ToolUseBlock(block.id, block.name, dict(block.input)))
    return blocks


@settings(max_examples=20, deadline=None)
@given(thought=TEXTS, answer=TEXTS, tool_input=TOOL_INPUTS)
def test_anthropic_streams_read_the_same_as_with_the_sdk(
    anthropic_server: AnthropicFake, thought: str, answer: str, tool_input: dict[str, Any]
) -> None:
    reply = Reply.of(
        thinking(thought, "sig-x"),
        redacted_thinking("opaque"),
        answer,
        tool_use("Bash", tool_input, id="toolu_9"),
    )
    anthropic_server.add(reply, reply)
    client = anthropic.Anthropic(api_key="k", base_url=anthropic_server.url, max_retries=0)
    with client.messages.stream(
        model="claude-sonnet-5-5", max_tokens=100, messages=[{"role": "user", "content": "go"}]
    ) as stream:
        expected = stream.get_final_message()

    ours = AnthropicModel("claude-sonnet-5-5", api_key="k", base_url=anthropic_server.url)
    response = ours.complete(ModelRequest("", [Message.user("go")]))

    assert response.message.content == sdk_blocks(expected)
    assert response.stop_reason == expected.stop_reason == "tool_use"
    assert response.usage.output_tokens == expected.usage.output_tokens


def test_anthropic_requests_are_the_ones_the_sdk_sends(anthropic_server: AnthropicFake) -> None:
    anthropic_server.add(Reply.of("one"), Reply.of("two"))
    body = anthropic_adapter.request_body("claude-sonnet-5-5", REQUEST, 1234)
    client = anthropic.Anthropic(api_key="sk-same", base_url=anthropic_server.url, max_retries=0)
    with client.messages.stream(**{k: v for k, v in body.items() if k != "stream"}) as stream:
        stream.get_final_message()

    AnthropicModel("claude-sonnet-5-5", api_key="sk-same", base_url=anthropic_server.url).complete(
        REQUEST
    )

    by_sdk, by_us = anthropic_server.requests[-2:]
    assert by_us.path == by_sdk.path == "/v1/messages"
    assert by_us.body == by_sdk.body
    for header in ("authorization", "anthropic-version", "content-type", "accept"):
        assert by_us.headers[header] == by_sdk.headers[header], header


@settings(max_examples=20, deadline=None)
@given(answer=TEXTS, first=TOOL_INPUTS, second=TOOL_INPUTS)
def test_openai_streams_read_the_same_as_with_the_sdk(
    openai_server: OpenAIFake, answer: str, first: dict[str, Any], second: dict[str, Any]
) -> None:
    reply = ChatReply(answer, [("Bash", first), ("Read", second)])
    openai_server.add(reply, reply)
    client = openai.OpenAI(api_key="k", base_url=openai_server.url, max_retries=0)
    text, calls = "", {}
    for chunk in client.chat.completions.create(
        model="gpt-5.5",
        messages=[{"role": "user", "content": "go"}],
        stream=True,
        stream_options={"include_usage": True},
    ):
        for choice in chunk.choices:
            text += choice.delta.content or ""
            for call in choice.delta.tool_calls or []:
                name, arguments = calls.get(call.index, ("", ""))
                function = call.function
                calls[call.index] = (
                    name + (function.name or "" if function else ""),
                    arguments + (function.arguments or "" if function else ""),
                )

    ours = OpenAIModel("gpt-5.5", api_key="k", base_url=openai_server.url)
    response = ours.complete(ModelRequest("", [Message.user("go")]))

    assert response.message.text == text == answer
    assert [(u.name, u.input) for u in response.message.tool_uses] == [
        (name, json.loads(arguments)) for name, arguments in calls.values()
    ]


def test_openai_requests_are_the_ones_the_sdk_sends(openai_server: OpenAIFake) -> None:
    openai_server.add(ChatReply("one"), ChatReply("two"))
    body = openai_adapter.request_body("gpt-5.5", REQUEST)
    body["max_tokens"] = 1234
    client = openai.OpenAI(api_key="sk-same", base_url=openai_server.url, max_retries=0)
    for _ in client.chat.completions.create(**body):
        pass

    OpenAIModel("gpt-5.5", api_key="sk-same", base_url=openai_server.url).complete(REQUEST)

    by_sdk, by_us = openai_server.requests[-2:]
    assert by_us.path == by_sdk.path == "/v1/chat/completions"
    assert by_us.body == by_sdk.body
    for header in ("authorization", "content-type", "accept"):
        assert by_us.headers[header] == by_sdk.headers[header], header
