"""What a failed model request means for the user and for the retry loop: one Failure per
error status, error event inside a stream, or transport problem, with what to check."""

from __future__ import annotations

import re
from collections.abc import Mapping

from backend_agent.models.config import Timeouts
from backend_agent.models.http import (
    ConnectFailed,
    DeadlineExceeded,
    MalformedStream,
    StreamBroken,
    StreamStalled,
    TransportError,
)
from backend_agent.models.retry import (
    NETWORK_RETRIES,
    RETRYABLE_STATUSES,
    Failure,
    retry_after_seconds,
)

# How providers and local servers word "the prompt does not fit the context" (Anthropic,
# OpenAI, vLLM, llama.cpp, LM Studio).
_CONTEXT_FULL = re.compile(
    r"context (length|size|window)|prompt is too long|exceed_context_size|"
    r"maximum context|too many tokens|context_length_exceeded",
    re.IGNORECASE,
)
OVERLOAD_WORDS = ("overload", "rate_limit", "rate limit", "capacity")


class StreamErrorEvent(Exception):
    """The server reported an error inside a 200 stream (an ``error`` event)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}" if kind else message)
        self.kind = kind
        self.message = message


def http_failure(
    status: int,
    error: str,
    headers: Mapping[str, str],
    *,
    key_variable: str,
    model_id: str,
    output_tokens: int,
) -> Failure:
    """Describe an HTTP error answer; ``error`` is the provider's type and message, joined."""
    retries: int | None = None if status in RETRYABLE_STATUSES else 0
    if status in (401, 403):
        advice = f"check {key_variable} (the key was rejected or lacks access)"
    elif status == 404:
        advice = f"check the model id {model_id!r} (--model) and the base URL"
    elif status == 429:
        advice = "rate limited: wait a minute, or raise BACKEND_AGENT_MAX_RETRIES"
    elif _CONTEXT_FULL.search(error) and status < 500:
        advice = context_advice(output_tokens)
        retries = 0
    elif status >= 500:
        advice = "the service is having trouble: try again later or pick another --model"
    else:
        advice = "the API rejected the request: rerun with --debug and report it"
    return Failure(
        message=f"HTTP {status} {error}".rstrip(),
        advice=advice,
        retries=retries,
        retry_after=retry_after_seconds(headers),
    )


def context_advice(output_tokens: int) -> str:
    return (
        "the conversation plus the output limit does not fit the model's context: lower "
        f"--max-output-tokens (now {output_tokens}) or give the server a larger context "
        "(e.g. llama-server -c, OLLAMA_CONTEXT_LENGTH, vLLM --max-model-len)"
    )


def stream_error_failure(kind: str, message: str, *, output_tokens: int) -> Failure:
    """An error event inside a 200 stream: an overload is retried like a 529, an invalid
    request never, anything else once (a local server's grammar failure repeats itself)."""
    text = f"stream error {kind}: {message}" if kind else f"stream error: {message}"
    lowered = f"{kind} {message}".lower()
    if any(word in lowered for word in OVERLOAD_WORDS):
        return Failure(
            text,
            "the service is overloaded: try again later or pick another --model",
            retries=None,
            kind="overload",
        )
    if _CONTEXT_FULL.search(lowered):
        return Failure(text, context_advice(output_tokens))
    if "invalid_request" in lowered:
        return Failure(text, "the server rejected the request: rerun with --debug and report it")
    return Failure(
        text,
        "the server failed while answering: try again, or pick another --model",
        retries=1,
        kind="stream-error",
    )


def transport_failure(
    error: TransportError, base_url: str, url_variable: str, timeouts: Timeouts
) -> Failure:
    """A request that got no usable answer: refused, unresolvable, reset, stalled, too slow."""
    where = f"the base URL {base_url} (--base-url or {url_variable})"
    if isinstance(error, ConnectFailed):
        if not error.retryable:
            return Failure(str(error), f"check the server (and its certificate), or {where}")
        return Failure(
            str(error),
            f"check that the server is running and reachable, your network, and {where}",
            retries=NETWORK_RETRIES,
            kind="network",
            quick=True,
        )
    if isinstance(error, StreamBroken):
        return Failure(
            str(error),
            f"check your network and the server's logs ({where})",
            retries=NETWORK_RETRIES,
            kind="network",
            quick=True,
        )
    if isinstance(error, StreamStalled):
        return Failure(
            f"the stream stalled: {error}",
            "the server stopped sending; check its load, or raise "
            f"BACKEND_AGENT_STREAM_IDLE_TIMEOUT (now {timeouts.idle:g} s)",
            retries=1,
            kind="stalled",
            quick=True,
        )
    if isinstance(error, MalformedStream):
        return Failure(
            f"malformed stream: {error}",
            f"check that {where} points at the provider's API and not at another service",
            retries=1,
            kind="malformed",
            quick=True,
        )
    if isinstance(error, DeadlineExceeded):
        return Failure(
            str(error),
            f"raise BACKEND_AGENT_REQUEST_TIMEOUT (now {timeouts.total:g} s) or lower "
            "--max-output-tokens",
        )
    return Failure(str(error), f"check {where}")
