"""The lean HTTP client under the adapters: event parsing, kept-alive connections, proxies."""

from __future__ import annotations

import pytest
from fakes.anthropic_server import AnthropicFake, Reply
from fakes.openai_server import ChatReply, OpenAIFake
from fakes.server import Answer, JSONAnswer, RecordedRequest
from hypothesis import given
from hypothesis import strategies as st

from backend_agent.messages import Message, ModelRequest
from backend_agent.models.anthropic import AnthropicModel
from backend_agent.models.base import ModelError
from backend_agent.models.http import ServerSentEvent, SSEParser
from backend_agent.models.openai import OpenAIModel

HELLO = ModelRequest(system="", messages=[Message.user("hello")])

FIELD_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=20
)
EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["", "message_start", "ping"]), st.lists(FIELD_TEXT, min_size=1, max_size=3)
    ),
    max_size=6,
)


def encode(events: list[tuple[str, list[str]]], newline: bytes, comments: bool) -> bytes:
    out = b""
    for name, data in events:
        if comments:
            out += b": keep-alive" + newline + newline
        if name:
            out += b"event: " + name.encode() + newline
        for line in data:
            out += b"data: " + line.encode() + newline
        out += newline
    return out


@given(
    events=EVENTS,
    newline=st.sampled_from([b"\n", b"\r\n", b"\r"]),
    comments=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=8),
)
def test_events_are_the_same_however_the_bytes_are_cut(
    events: list[tuple[str, list[str]]], newline: bytes, comments: bool, cuts: list[int]
) -> None:
    stream = encode(events, newline, comments)
    parser = SSEParser()
    parsed: list[ServerSentEvent] = []
    start = 0
    for cut in [*sorted({min(c, len(stream)) for c in cuts}), len(stream)]:
        parsed += parser.feed(stream[start:cut])
        start = cut
    parsed += parser.finish()

    expected = [ServerSentEvent(name or "message", "\n".join(data)) for name, data in events]
    assert parsed == expected


def test_requests_share_one_kept_alive_connection(anthropic_fake: AnthropicFake) -> None:
    anthropic_fake.add(Reply.of("one"), Reply.of("two"), Reply.of("three"))
    model = AnthropicModel("claude-sonnet-5-5", api_key="k", base_url=anthropic_fake.url)

    texts = [model.complete(HELLO).message.text for _ in range(3)]

    assert texts == ["one", "two", "three"]
    assert len({request.client_port for request in anthropic_fake.requests}) == 1


def test_a_stream_framed_by_content_length_is_sent_once_and_the_connection_kept(
    anthropic_fake: AnthropicFake,
) -> None:
    anthropic_fake.content_length = True
    anthropic_fake.add(Reply.of("one"), Reply.of("two"), Reply.of("three"))
    model = AnthropicModel("claude-sonnet-5-5", api_key="k", base_url=anthropic_fake.url)

    texts = [model.complete(HELLO).message.text for _ in range(3)]

    assert texts == ["one", "two", "three"]
    assert len(anthropic_fake.requests) == 3
    assert len({request.client_port for request in anthropic_fake.requests}) == 1


def test_a_connection_the_server_closed_meanwhile_is_reopened_without_a_retry(
    openai_fake: OpenAIFake, waits
) -> None:
    openai_fake.close_after_each = True
    openai_fake.add(ChatReply("one"), ChatReply("two"))
    model = OpenAIModel("gpt-5.5", api_key="k", base_url=openai_fake.url, retry=waits.policy())

    assert [model.complete(HELLO).message.text for _ in range(2)] == ["one", "two"]
    assert waits == [] and len(openai_fake.requests) == 2


def test_a_plain_http_proxy_gets_the_absolute_url(
    openai_fake: OpenAIFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{openai_fake.port}")
    openai_fake.add(ChatReply("through the proxy"))
    model = OpenAIModel("gpt-5.5", api_key="k", base_url="http://models.internal.test/v1")

    assert model.complete(HELLO).message.text == "through the proxy"
    assert openai_fake.requests[0].path == "http://models.internal.test/v1/chat/completions"


def test_no_proxy_and_local_hosts_connect_directly(
    openai_fake: OpenAIFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "example.org")
    openai_fake.add(ChatReply("direct"))
    model = OpenAIModel("gpt-5.5", api_key="k", base_url=openai_fake.url)

    assert model.complete(HELLO).message.text == "direct"
    assert openai_fake.requests[0].path == "/v1/chat/completions"


def test_an_answer_that_is_not_an_event_stream_is_named(openai_fake: OpenAIFake, waits) -> None:
    class Ignoring(OpenAIFake):
        def answer(self, request: RecordedRequest) -> Answer:
            return JSONAnswer(200, {"choices": [{"message": {"content": "not streamed"}}]})

    with Ignoring() as server:
        model = OpenAIModel("gpt-5.5", api_key="k", base_url=server.url, retry=waits.policy())
        with pytest.raises(ModelError) as caught:
            model.complete(HELLO)

    message = str(caught.value)
    assert "malformed stream: the answer is application/json, not an event stream" in message
    assert "not streamed" in message and len(waits) == 1
