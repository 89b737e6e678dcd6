"""Retries for model calls: exponential backoff with jitter, honouring the server's retry-after.

Both provider adapters disable their SDK's own retries and wrap each call in
:func:`call_with_retries`, so there is exactly one retry policy and one error message format.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from backend_agent.errors import UserError
from backend_agent.models.base import ModelError

T = TypeVar("T")

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 529})
"""Request timeout, rate limited, server errors and Anthropic's "overloaded"."""

MAX_RETRY_AFTER_SECONDS = 300.0
"""A server asking for a longer wait than this gets this much: the user is watching."""


@dataclass(frozen=True)
class Failure:
    """What went wrong with one attempt, in terms the retry loop and the user understand."""

    message: str
    """One line: what failed, e.g. ``HTTP 529 overloaded_error: Overloaded``."""
    advice: str
    """What the user can do about it, e.g. ``check ANTHROPIC_API_KEY``."""
    retryable: bool
    retry_after: float | None = None
    """Seconds the server asked us to wait, if it said."""


Classifier = Callable[[Exception], Failure | None]
"""Describes a provider exception; None means "not a provider failure", re-raised as is."""


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _env_number(name: str, default: float, *, whole: bool) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        value = -1
    if value < 0:
        kind = "a whole number" if whole else "a number of seconds"
        raise UserError(f"{name} must be {kind} ≥ 0, got {raw!r}")
    return value


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait; ``sleep`` and ``jitter`` are injectable for tests."""

    max_retries: int = 5
    """Retries after the first try, so at most ``max_retries + 1`` tries."""
    base_delay: float = 1.0
    max_delay: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    jitter: Callable[[], float] = field(default=random.random, compare=False)
    """Returns a number in [0, 1); the backoff is scaled into [50 %, 100 %] by it."""
    notify: Callable[[str], None] = field(default=_to_stderr, compare=False)
    """Told one line before each wait, so a user is not left staring at a silent terminal."""

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """``BACKEND_AGENT_MAX_RETRIES`` and ``BACKEND_AGENT_RETRY_BASE_DELAY`` (seconds)."""
        return cls(
            max_retries=int(_env_number("BACKEND_AGENT_MAX_RETRIES", 5, whole=True)),
            base_delay=_env_number("BACKEND_AGENT_RETRY_BASE_DELAY", 1.0, whole=False),
        )

    def delay(self, retry: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), MAX_RETRY_AFTER_SECONDS)
        backoff = min(self.max_delay, self.base_delay * 2.0 ** (retry - 1))
        return backoff * (0.5 + self.jitter() / 2)


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """The wait a response asks for: ``retry-after-ms``, else ``retry-after`` (seconds or date)."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return float(millis) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def http_failure(
    status: int,
    error: str,
    headers: Mapping[str, str],
    *,
    key_variable: str,
    model_id: str,
    retryable_in_stream: bool = False,
) -> Failure:
    """Describe an HTTP error answer; ``error`` is the provider's type and message, joined.

    ``retryable_in_stream`` marks an error event inside a 200 stream (e.g. "overloaded").
    """
    if status in (401, 403):
        advice = f"check {key_variable} (the key was rejected or lacks access)"
    elif status == 404:
        advice = f"check the model id {model_id!r} (--model) and the base URL"
    elif status == 429:
        advice = "rate limited: wait a minute, or raise BACKEND_AGENT_MAX_RETRIES"
    elif status >= 500 or retryable_in_stream:
        advice = "the service is having trouble: try again later or pick another --model"
    else:
        advice = "the API rejected the request: rerun with --debug and report it"
    where = f"HTTP {status}" if status >= 400 else "stream error"
    return Failure(
        message=f"{where} {error}".rstrip(),
        advice=advice,
        retryable=status in RETRYABLE_STATUSES or retryable_in_stream,
        retry_after=retry_after_seconds(headers),
    )


def connection_failure(base_url: str, cause: Exception, url_variable: str) -> Failure:
    """Describe a request that never got an answer (refused, reset, timed out)."""
    detail = str(cause) or type(cause).__name__
    return Failure(
        message=f"connection to {base_url} failed ({detail})",
        advice=f"check your network, or {url_variable} / --base-url",
        retryable=True,
    )


def call_with_retries(
    attempt: Callable[[], T], classify: Classifier, policy: RetryPolicy, provider: str
) -> T:
    """Run ``attempt`` until it succeeds, a failure is not retryable, or the tries run out.

    Raises ModelError with one line (provider, what failed, tries, what to do) at the end.
    """
    tries = policy.max_retries + 1
    number = 1
    while True:
        try:
            return attempt()
        except Exception as exc:
            failure = classify(exc)
            if failure is None:
                raise
            if not failure.retryable or number == tries:
                after = f" after {number} tries" if number > 1 else ""
                raise ModelError(
                    f"{provider} request failed{after}: {failure.message}; {failure.advice}"
                ) from exc
            wait = policy.delay(number, failure.retry_after)
            policy.notify(
                f"{provider}: {failure.message}; retrying in {wait:.1f} s "
                f"(try {number + 1} of {tries})"
            )
            policy.sleep(wait)
            number += 1
