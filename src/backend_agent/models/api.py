"""One provider's API as an adapter uses it: a streamed request with retries, its failures
described for the user, and the answer priced (or not) for where it was served."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from backend_agent.messages import ModelResponse
from backend_agent.models.base import EventSink
from backend_agent.models.catalog import price_of
from backend_agent.models.config import ModelSettings
from backend_agent.models.failures import (
    StreamErrorEvent,
    http_failure,
    stream_error_failure,
    transport_failure,
)
from backend_agent.models.http import (
    Endpoint,
    HttpClient,
    HTTPStatusError,
    ServerSentEvent,
    TransportError,
)
from backend_agent.models.retry import Failure, RetryPolicy, call_with_retries


class TurnAssembler(Protocol):
    """Builds one answer from its events (raising on a broken stream)."""

    def add(self, event: ServerSentEvent, on_event: EventSink | None) -> None: ...

    def response(self, requested_model: str) -> ModelResponse: ...


@dataclass(frozen=True)
class ApiSpec:
    """What differs between providers' APIs, as far as requests and failures go."""

    provider: str  # "Anthropic", named in messages
    official_host: str  # where the catalog's prices apply
    key_variable: str
    url_variable: str
    error_detail: Callable[[Any], str]  # ``type: message`` from an error body
    is_final: Callable[[ServerSentEvent], bool]  # the event that ends an answer


class ProviderApi:
    """Sends one adapter's requests to its endpoint."""

    def __init__(
        self, spec: ApiSpec, endpoint: Endpoint, settings: ModelSettings, retry: RetryPolicy
    ) -> None:
        self.spec = spec
        self.endpoint = endpoint
        self.settings = settings
        self.retry = retry
        self.client = HttpClient(endpoint, settings.timeouts)

    @property
    def official(self) -> bool:
        """Whether this is the provider's own endpoint (and its prices apply)."""
        return self.endpoint.host == self.spec.official_host

    def stream(
        self,
        path: str,
        headers: dict[str, str],
        body: bytes,
        assembler: Callable[[], TurnAssembler],
        on_event: EventSink | None,
        *,
        model_id: str,
        output_tokens: int,
    ) -> ModelResponse:
        """POST ``body`` and build the answer with a fresh ``assembler()`` per try, passing
        deltas to ``on_event``; retries what is worth it."""

        def attempt() -> ModelResponse:
            turn = assembler()
            for event in self.client.stream(path, headers, body, is_final=self.spec.is_final):
                turn.add(event, on_event)
            response = turn.response(model_id)
            response.cost_usd = self.cost(response)
            return response

        return call_with_retries(
            attempt,
            lambda exc: self.describe(exc, model_id, output_tokens),
            self.retry,
            self.spec.provider,
            self.endpoint.url(path),
        )

    def cost(self, response: ModelResponse) -> float | None:
        """Settings prices apply anywhere; the catalog's only at the provider's endpoint."""
        price = price_of(response.model, self.settings.prices)
        if price is None and self.official:
            price = price_of(response.model)
        return None if price is None else price.cost(response.usage)

    def describe(self, exc: Exception, model_id: str, output_tokens: int) -> Failure | None:
        if isinstance(exc, HTTPStatusError):
            return http_failure(
                exc.status,
                self.spec.error_detail(exc.body) or str(exc.body)[:300],
                exc.headers,
                key_variable=self.spec.key_variable,
                model_id=model_id,
                output_tokens=output_tokens,
            )
        if isinstance(exc, StreamErrorEvent):
            return stream_error_failure(exc.kind, exc.message, output_tokens=output_tokens)
        if isinstance(exc, TransportError):
            return transport_failure(
                exc, self.endpoint.url(), self.spec.url_variable, self.settings.timeouts
            )
        return None
