"""Fake provider servers and a retry policy that records its waits instead of sleeping."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakes.anthropic_server import AnthropicFake
from fakes.openai_server import OpenAIFake

from backend_agent.models.retry import RetryPolicy

PROVIDER_VARIABLES = (
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "BACKEND_AGENT_MAX_RETRIES",
    "BACKEND_AGENT_RETRY_BASE_DELAY",
    "BACKEND_AGENT_RETRY_BUDGET",
    "BACKEND_AGENT_MAX_OUTPUT_TOKENS",
    "BACKEND_AGENT_STREAM_IDLE_TIMEOUT",
    "BACKEND_AGENT_REQUEST_TIMEOUT",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials from the developer's shell must not leak into the tests."""
    for name in PROVIDER_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def anthropic_fake() -> Iterator[AnthropicFake]:
    with AnthropicFake() as fake:
        yield fake


@pytest.fixture
def openai_fake() -> Iterator[OpenAIFake]:
    with OpenAIFake() as fake:
        yield fake


class Waits(list[float]):
    """The waits a retry policy asked for, in order, and the notices it gave before them;
    its clock advances by the waits, so time budgets apply without real sleeping."""

    def __init__(self) -> None:
        super().__init__()
        self.notices: list[str] = []

    def policy(self, max_retries: int = 3) -> RetryPolicy:
        return RetryPolicy(
            max_retries=max_retries,
            sleep=self.append,
            jitter=lambda: 0.5,
            notify=self.notices.append,
            clock=lambda: sum(self),
        )


@pytest.fixture
def waits() -> Waits:
    return Waits()
