"""Retries: which failures are retried, how long we wait, and the error after the last try."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from fakes.anthropic_server import AnthropicFake, ErrorReply, Reply, StreamErrorReply
from fakes.openai_server import ChatErrorReply, ChatReply, ChatStreamErrorReply
from fakes.server import Answer, Disconnect, RecordedRequest, StreamFault, sse
from hypothesis import given
from hypothesis import strategies as st

from backend_agent.errors import UserError
from backend_agent.messages import Message, ModelRequest, TextBlock
from backend_agent.models.anthropic import AnthropicModel
from backend_agent.models.base import ModelError
from backend_agent.models.config import ModelSettings, Timeouts
from backend_agent.models.openai import OpenAIModel
from backend_agent.models.retry import RetryPolicy, retry_after_seconds

HELLO = ModelRequest(system="", messages=[Message.user("hello")])


def anthropic_model(fake: AnthropicFake, policy: RetryPolicy) -> AnthropicModel:
    return AnthropicModel("claude-sonnet-5-5", api_key="k", base_url=fake.url, retry=policy)


@pytest.mark.parametrize(
    ("status", "kind", "headers", "expected_wait"),
    [
        (429, "rate_limit_error", {"retry-after": "7"}, 7.0),
        (529, "overloaded_error", {"retry-after-ms": "1500"}, 1.5),
        (500, "api_error", {}, 1.0 * 0.75),
        (502, "api_error", {}, 0.75),
        (503, "api_error", {"retry-after": "0.2"}, 0.2),
        (504, "api_error", {}, 0.75),
    ],
)
def test_transient_statuses_are_retried_honouring_retry_after(
    anthropic_fake, waits, status, kind, headers, expected_wait
):
    anthropic_fake.add(ErrorReply(status, kind, "try later", headers), Reply.of("recovered"))

    response = anthropic_model(anthropic_fake, waits.policy()).complete(HELLO)

    assert response.message.content == [TextBlock("recovered")]
    assert waits == [expected_wait]
    assert len(anthropic_fake.requests) == 2


def test_the_user_is_told_before_each_wait(anthropic_fake, waits):
    anthropic_fake.add(
        ErrorReply(429, "rate_limit_error", "slow down", {"retry-after": "7"}), Reply.of("ok")
    )

    anthropic_model(anthropic_fake, waits.policy()).complete(HELLO)

    assert waits.notices == [
        "Anthropic: HTTP 429 rate_limit_error: slow down; retrying in 7.0 s (try 2 of at most 4)"
    ]


def test_each_try_is_exactly_one_request(anthropic_fake, waits):
    anthropic_fake.add(*[ErrorReply(503, "api_error", "down")] * 3)

    with pytest.raises(ModelError):
        anthropic_model(anthropic_fake, waits.policy(max_retries=2)).complete(HELLO)

    assert len(anthropic_fake.requests) == 3 and len(waits) == 2


def test_after_the_last_try_the_error_is_one_line_with_status_message_and_advice(
    anthropic_fake, waits
):
    anthropic_fake.add(*[ErrorReply(529, "overloaded_error", "Overloaded")] * 4)

    with pytest.raises(ModelError) as caught:
        anthropic_model(anthropic_fake, waits.policy(max_retries=3)).complete(HELLO)

    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(
        f"Anthropic request to {anthropic_fake.url}/v1/messages failed after 4 tries: HTTP 529"
    )
    assert "overloaded_error: Overloaded" in message
    assert "try again later" in message
    assert waits == [0.75, 1.5, 3.0]


def test_a_rejected_key_fails_at_once_naming_the_variable(anthropic_fake, waits):
    anthropic_fake.add(ErrorReply(401, "authentication_error", "invalid x-api-key"))

    with pytest.raises(ModelError) as caught:
        anthropic_model(anthropic_fake, waits.policy()).complete(HELLO)

    assert "HTTP 401 authentication_error: invalid x-api-key" in str(caught.value)
    assert "ANTHROPIC_API_KEY" in str(caught.value)
    assert waits == [] and len(anthropic_fake.requests) == 1


def test_an_overloaded_error_inside_the_stream_is_retried(anthropic_fake, waits):
    anthropic_fake.add(StreamErrorReply("overloaded_error", "Overloaded"), Reply.of("second try"))

    response = anthropic_model(anthropic_fake, waits.policy()).complete(HELLO)

    assert response.message.text == "second try"
    assert len(waits) == 1


def test_a_stream_that_keeps_failing_ends_in_one_clear_line(anthropic_fake, waits):
    anthropic_fake.add(*[StreamErrorReply("overloaded_error", "Overloaded")] * 2)

    with pytest.raises(ModelError) as caught:
        anthropic_model(anthropic_fake, waits.policy(max_retries=1)).complete(HELLO)

    assert "failed after 2 tries: stream error overloaded_error: Overloaded; " in str(caught.value)


def test_an_api_error_inside_the_stream_is_retried_once(anthropic_fake, waits):
    anthropic_fake.add(*[StreamErrorReply("api_error", "Internal error")] * 3)

    with pytest.raises(ModelError, match="after 2 tries: stream error api_error"):
        anthropic_model(anthropic_fake, waits.policy(max_retries=5)).complete(HELLO)

    assert len(anthropic_fake.requests) == 2


def test_an_invalid_request_inside_the_stream_is_not_retried(anthropic_fake, waits):
    anthropic_fake.add(StreamErrorReply("invalid_request_error", "tool grammar failed"))

    with pytest.raises(ModelError, match="stream error invalid_request_error"):
        anthropic_model(anthropic_fake, waits.policy()).complete(HELLO)

    assert len(anthropic_fake.requests) == 1 and waits == []


def test_dropped_connections_are_retried(waits):
    class DroppingOnce(AnthropicFake):
        def answer(self, request: RecordedRequest) -> Answer:
            return Disconnect() if len(self.requests) == 1 else super().answer(request)

    with DroppingOnce() as fake:
        fake.add(Reply.of("after the drop"))
        response = anthropic_model(fake, waits.policy()).complete(HELLO)

    assert response.message.text == "after the drop"
    assert waits == [0.5]  # a connection error: a short wait, not the backoff


def test_a_connection_lost_midway_through_the_stream_is_retried(anthropic_fake, waits):
    anthropic_fake.add(StreamErrorReply(hang_up=True), Reply.of("complete"))

    response = anthropic_model(anthropic_fake, waits.policy()).complete(HELLO)

    assert response.message.text == "complete"
    assert len(waits) == 1 and "closed the connection" in waits.notices[0]


def test_a_connection_reset_midway_through_the_stream_is_retried(anthropic_fake, waits):
    anthropic_fake.add(StreamFault("reset"), Reply.of("complete"))

    response = anthropic_model(anthropic_fake, waits.policy()).complete(HELLO)

    assert response.message.text == "complete"
    assert "connection reset" in waits.notices[0]


def test_an_unreachable_server_fails_with_the_url_and_what_to_check(waits):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
        model = AnthropicModel(
            "claude-sonnet-5-5", api_key="k", base_url=url, retry=waits.policy(2)
        )

        with pytest.raises(ModelError) as caught:
            model.complete(HELLO)

    message = str(caught.value)
    assert message.startswith(f"Anthropic request to {url}/v1/messages failed after 3 tries")
    assert "connection refused" in message and "ANTHROPIC_BASE_URL" in message
    assert waits == [0.5, 1.0]


def test_a_host_that_does_not_resolve_is_named(waits):
    model = AnthropicModel(
        "claude-sonnet-5-5",
        api_key="k",
        base_url="http://no-such-host.invalid",
        retry=waits.policy(),
    )

    with pytest.raises(ModelError, match=r"cannot resolve host 'no-such-host\.invalid'"):
        model.complete(HELLO)
    assert len(waits) == 2


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("notaurl", "not a URL"),
        ("ftp://example.com", "scheme 'ftp' is not supported"),
        ("http://", "has no host"),
        ("http://example.com:99999", "is not valid"),
    ],
)
def test_an_unusable_base_url_fails_before_any_request(url, problem):
    with pytest.raises(UserError, match=problem) as caught:
        AnthropicModel("claude-sonnet-5-5", api_key="k", base_url=url)
    assert "--base-url or ANTHROPIC_BASE_URL" in str(caught.value)
    with pytest.raises(UserError, match=problem):
        OpenAIModel("gpt-5.5", api_key="k", base_url=url)


def stalling_model(fake: AnthropicFake, waits) -> AnthropicModel:  # waits: the fixture
    settings = ModelSettings(timeouts=Timeouts(idle=0.3))
    return AnthropicModel(
        "claude-sonnet-5-5", api_key="k", base_url=fake.url, settings=settings, retry=waits.policy()
    )


@pytest.mark.parametrize(
    "fault",
    [
        StreamFault("stall"),
        StreamFault("stall-keepalive"),  # Anthropic's ping events
        StreamFault("stall-keepalive", keepalive=b": keep-alive\n\n"),
    ],
    ids=["silent", "pings", "comments"],
)
def test_a_stalled_stream_is_abandoned_after_the_idle_timeout_and_retried_once(
    anthropic_fake, waits, fault
):
    anthropic_fake.add(fault, fault, Reply.of("never reached"))

    with pytest.raises(ModelError) as caught:
        stalling_model(anthropic_fake, waits).complete(HELLO)

    message = str(caught.value)
    assert "after 2 tries: the stream stalled: no content for 0.3 s" in message
    assert "BACKEND_AGENT_STREAM_IDLE_TIMEOUT" in message
    assert len(anthropic_fake.requests) == 2


def test_a_stall_then_a_good_answer_succeeds(anthropic_fake, waits):
    anthropic_fake.add(StreamFault("stall-keepalive"), Reply.of("recovered"))

    assert stalling_model(anthropic_fake, waits).complete(HELLO).message.text == "recovered"


def test_the_overall_deadline_ends_a_stream_that_keeps_sending_content(anthropic_fake, waits):
    dot = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "."}}
    anthropic_fake.add(StreamFault("stall-keepalive", keepalive=sse("content_block_delta", dot)))
    settings = ModelSettings(timeouts=Timeouts(idle=5, total=0.5))
    model = AnthropicModel(
        "claude-sonnet-5-5",
        api_key="k",
        base_url=anthropic_fake.url,
        settings=settings,
        retry=waits.policy(),
    )

    with pytest.raises(ModelError) as caught:
        model.complete(HELLO)
    assert "the answer took over 0.5 s; raise BACKEND_AGENT_REQUEST_TIMEOUT" in str(caught.value)
    assert len(anthropic_fake.requests) == 1


def test_malformed_events_are_retried_once_then_reported(anthropic_fake, waits):
    anthropic_fake.add(*[StreamFault("malformed")] * 3)

    with pytest.raises(
        ModelError, match="after 2 tries: malformed stream: an event's data is not JSON"
    ):
        anthropic_model(anthropic_fake, waits.policy()).complete(HELLO)
    assert len(anthropic_fake.requests) == 2


def test_retries_stop_when_the_time_budget_is_spent(anthropic_fake, waits):
    slow_down = ErrorReply(429, "rate_limit_error", "slow down", {"retry-after": "40"})
    anthropic_fake.add(slow_down, slow_down, Reply.of("too late"))

    with pytest.raises(ModelError) as caught:
        anthropic_model(anthropic_fake, waits.policy()).complete(HELLO)

    assert "after 2 tries (the 60 s retry budget is spent)" in str(caught.value)
    assert waits == [40.0] and len(anthropic_fake.requests) == 2


def test_a_prompt_too_long_for_the_context_points_at_the_settings(openai_fake, waits):
    openai_fake.add(
        ChatErrorReply(
            400,
            "the request exceeds the available context size, try increasing it",
            "exceed_context_size_error",
        )
    )
    model = OpenAIModel("local", base_url=openai_fake.url, retry=waits.policy())

    with pytest.raises(ModelError) as caught:
        model.complete(HELLO)

    message = str(caught.value)
    assert "--max-output-tokens (now 8192)" in message and "llama-server -c" in message
    assert waits == []


def test_openai_rate_limits_are_retried_with_the_servers_wait(openai_fake, waits):
    openai_fake.add(
        ChatErrorReply(429, "Rate limit reached", "rate_limit_exceeded", {"retry-after": "3"}),
        ChatReply("fine"),
    )
    model = OpenAIModel("gpt-5.5", api_key="k", base_url=openai_fake.url, retry=waits.policy())

    assert model.complete(HELLO).message.text == "fine"
    assert waits == [3.0] and len(openai_fake.requests) == 2


def test_openai_gives_up_with_one_line_after_the_last_try(openai_fake, waits):
    openai_fake.add(*[ChatErrorReply(500, "The server had an error")] * 3)
    model = OpenAIModel("gpt-5.5", api_key="k", base_url=openai_fake.url, retry=waits.policy(2))

    with pytest.raises(ModelError) as caught:
        model.complete(HELLO)

    assert str(caught.value).startswith(
        f"OpenAI request to {openai_fake.url}/chat/completions failed after 3 tries: "
        "HTTP 500 server_error: The server had an error"
    )
    assert len(openai_fake.requests) == 3


def test_an_openai_error_inside_the_stream_is_retried_then_reported(openai_fake, waits):
    openai_fake.add(ChatStreamErrorReply(), ChatReply("second try"))
    openai_fake.add(*[ChatStreamErrorReply("Model overloaded")] * 2)
    model = OpenAIModel("gpt-5.5", api_key="k", base_url=openai_fake.url, retry=waits.policy(1))

    assert model.complete(HELLO).message.text == "second try"
    with pytest.raises(ModelError) as caught:
        model.complete(HELLO)
    assert "after 2 tries: stream error server_error: Model overloaded" in str(caught.value)


def test_an_unknown_openai_model_is_not_retried_and_names_the_model(openai_fake, waits):
    openai_fake.add(ChatErrorReply(404, "The model does not exist", "invalid_request_error"))
    model = OpenAIModel("gpt-nope", api_key="k", base_url=openai_fake.url, retry=waits.policy())

    with pytest.raises(ModelError, match="'gpt-nope'"):
        model.complete(HELLO)
    assert waits == []


@given(
    retry=st.integers(min_value=1, max_value=12),
    jitter=st.floats(min_value=0.0, max_value=0.999),
    base=st.floats(min_value=0.001, max_value=5.0),
)
def test_backoff_doubles_within_jitter_and_is_capped(retry, jitter, base):
    policy = RetryPolicy(base_delay=base, max_delay=30.0, jitter=lambda: jitter)

    wait = policy.delay(retry, None)

    ceiling = min(30.0, base * 2 ** (retry - 1))
    assert ceiling / 2 <= wait <= ceiling


def test_retry_after_accepts_milliseconds_seconds_and_http_dates():
    now = datetime(2026, 11, 26, 20, 0, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)

    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after_seconds({"retry-after": "12"}) == 12.0
    assert retry_after_seconds({"retry-after": later}, now=now) == 30.0
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


def test_a_long_retry_after_is_capped_so_the_user_is_not_left_waiting():
    assert RetryPolicy().delay(1, 86_400) == 300.0


def test_the_policy_reads_its_limits_from_the_environment(monkeypatch):
    monkeypatch.setenv("BACKEND_AGENT_MAX_RETRIES", "2")
    monkeypatch.setenv("BACKEND_AGENT_RETRY_BASE_DELAY", "0.01")
    monkeypatch.setenv("BACKEND_AGENT_RETRY_BUDGET", "5")
    assert RetryPolicy.from_env() == RetryPolicy(max_retries=2, base_delay=0.01, budget=5)

    monkeypatch.setenv("BACKEND_AGENT_MAX_RETRIES", "many")
    with pytest.raises(UserError, match="BACKEND_AGENT_MAX_RETRIES must be a whole number"):
        RetryPolicy.from_env()
