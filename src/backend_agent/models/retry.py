"""Retries for model calls: which failures are retried, how often, how long we wait.

Both provider adapters wrap each request in :func:`call_with_retries`, so there is exactly one
retry policy and one error message format. Each kind of failure has its own allowance:
overloads and transient HTTP statuses get the policy's retries with backoff (honouring the
server's retry-after), connection errors a few quick retries, a stalled stream or an error
event inside a stream one; invalid requests none. All retries of one request share a time
budget.
"""

from __future__ import annotations

import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from backend_agent.models.base import ModelError, env_number

T = TypeVar("T")

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 529})
"""Request timeout, rate limited, server errors and Anthropic's "overloaded"."""

MAX_RETRY_AFTER_SECONDS = 300.0
"""A server asking for a longer wait than this gets this much: the user is watching."""

NETWORK_RETRIES = 2
"""Connection failures (refused, reset, DNS) are retried this often, after short waits."""


@dataclass(frozen=True)
class Failure:
    """What went wrong with one attempt, in terms the retry loop and the user understand."""

    message: str
    """One line: what failed, e.g. ``HTTP 529 overloaded_error: Overloaded``."""
    advice: str
    """What the user can do about it, e.g. ``check ANTHROPIC_API_KEY``."""
    retries: int | None = 0
    """How often a failure of this kind is retried: None as often as the policy allows."""
    retry_after: float | None = None
    """Seconds the server asked us to wait, if it said."""
    kind: str = "status"
    """Failures of one kind count against its own allowance."""
    quick: bool = False
    """Retry after a short, fixed wait instead of the exponential backoff."""

    @property
    def retryable(self) -> bool:
        return self.retries != 0


Classifier = Callable[[Exception], Failure | None]
"""Describes a provider exception; None means "not a provider failure", re-raised as is."""


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait; ``sleep``, ``jitter`` and ``clock`` are injectable."""

    max_retries: int = 5
    """Retries after the first try, so at most ``max_retries + 1`` tries."""
    base_delay: float = 1.0
    max_delay: float = 60.0
    budget: float = 60.0
    """Seconds from the first failure after which no retry is started."""
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    jitter: Callable[[], float] = field(default=random.random, compare=False)
    """Returns a number in [0, 1); the backoff is scaled into [50 %, 100 %] by it."""
    notify: Callable[[str], None] = field(default=_to_stderr, compare=False)
    """Told one line before each wait, so a user is not left staring at a silent terminal."""
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)

    @classmethod
    def from_env(cls, notify: Callable[[str], None] | None = None) -> RetryPolicy:
        """``BACKEND_AGENT_MAX_RETRIES``, ``BACKEND_AGENT_RETRY_BASE_DELAY`` and
        ``BACKEND_AGENT_RETRY_BUDGET`` (seconds); the notices go to ``notify`` (a session's
        warning sink), else to stderr."""
        return cls(
            max_retries=int(env_number("BACKEND_AGENT_MAX_RETRIES", 5, whole=True)),
            base_delay=env_number("BACKEND_AGENT_RETRY_BASE_DELAY", 1.0),
            budget=env_number("BACKEND_AGENT_RETRY_BUDGET", 60.0),
            notify=notify or _to_stderr,
        )

    def delay(self, retry: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), MAX_RETRY_AFTER_SECONDS)
        backoff = min(self.max_delay, self.base_delay * 2.0 ** (retry - 1))
        return backoff * (0.5 + self.jitter() / 2)

    def quick_delay(self, retry: int) -> float:
        """The short wait before a quick retry: half the base delay, then the base delay, …"""
        return min(self.max_delay, self.base_delay * 0.5 * retry)


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


def call_with_retries(
    attempt: Callable[[], T], classify: Classifier, policy: RetryPolicy, provider: str, url: str
) -> T:
    """Run ``attempt`` until it succeeds, its failure is not to be retried (any more), or the
    time budget is spent.

    Raises ModelError with one line at the end: provider, endpoint, tries, what failed and
    what to do.
    """
    seen: Counter[str] = Counter()
    number = 1
    first_failure: float | None = None
    while True:
        try:
            return attempt()
        except Exception as exc:
            failure = classify(exc)
            if failure is None:
                raise
            now = policy.clock()
            first_failure = now if first_failure is None else first_failure
            seen[failure.kind] += 1
            allowed = policy.max_retries if failure.retries is None else failure.retries
            allowed = min(allowed, policy.max_retries)
            if failure.quick:
                wait = policy.quick_delay(seen[failure.kind])
            else:
                wait = policy.delay(seen[failure.kind], failure.retry_after)
            spent = now - first_failure
            if seen[failure.kind] > allowed or spent + wait > policy.budget:
                after = f" after {number} tries" if number > 1 else ""
                if seen[failure.kind] <= allowed:
                    after += f" (the {policy.budget:g} s retry budget is spent)"
                raise ModelError(
                    f"{provider} request to {url} failed{after}: {failure.message}; "
                    f"{failure.advice}"
                ) from exc
            policy.notify(
                f"{provider}: {failure.message}; retrying in {wait:.1f} s "
                f"(try {number + 1} of at most {number + 1 + allowed - seen[failure.kind]})"
            )
            policy.sleep(wait)
            number += 1
