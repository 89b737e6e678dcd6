"""What the queue analysis produces: channels, jobs, unresolved names and contract changes.

Phase two of every language yields ``Event`` records (one producer, consumer, job definition,
enqueue site, schedule or binding, its name resolved to a string); ``assemble`` joins the
events of all languages into one ``QueueInventory``, so a Python producer and a Go consumer of
the same Kafka topic meet in one channel.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from backend_agent.analysis.endpoints.model import Compatibility, Unresolved

Role = Literal["produce", "consume", "bind", "define", "enqueue", "schedule"]
BROKERS = (
    "kafka",
    "rabbitmq",
    "sqs",
    "sns",
    "redis-pubsub",
    "redis-streams",
    "nats",
    "google-pubsub",
)


@dataclass(frozen=True)
class Payload:
    """A message schema declared in code (pydantic, zod, a TS interface, a Go struct, ...)."""

    name: str
    schema_json: str  # a JSON Schema, serialised so that the record stays hashable

    @property
    def schema(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.schema_json)
        return loaded


@dataclass(frozen=True)
class Event:
    """One thing the code does with a queue, its name resolved.

    ``tech`` is a broker id for ``produce``/``consume``/``bind`` and a framework id (the
    lower-case package name) for ``define``/``enqueue``/``schedule``. A ``bind`` routes the
    channel ``name`` (an exchange, or ``exchange/routing-key``) to the queue ``queue``. A
    ``pattern`` consumer (``psubscribe``, NATS wildcards, AMQP topic bindings, Kafka regex
    subscriptions) consumes every channel its name matches.
    """

    role: Role
    tech: str
    name: str
    file: str
    line: int
    symbol: str = ""
    queue: str | None = None
    schedule: str | None = None
    arguments: tuple[str, ...] | None = None
    payload: Payload | None = None
    pattern: bool = False


@dataclass
class Resolution:
    """Phase-two result of one language: its events and what it could not resolve."""

    events: list[Event] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)

    def add(
        self,
        role: Role,
        tech: str,
        name: str | None,
        file: str,
        line: int,
        symbol: str = "",
        *,
        why: str = "",
        fragment: str = "",
        **fields: Any,
    ) -> None:
        """An event, or (``name`` None) an unresolved entry saying ``why``."""
        if name is None:
            reason = why or "the name is computed at run time"
            what = "channel" if role in ("produce", "consume", "bind") else "job"
            self.unresolved.append(Unresolved(file, line, fragment or "{?}", f"{what}: {reason}"))
            return
        if role in ("produce", "consume", "bind"):
            name = channel_name(tech, name)
        self.events.append(Event(role, tech, name, file, line, symbol, **fields))


def amqp_channel(exchange: str | None, key: str | None) -> str:
    """The channel of an AMQP publish or binding: the queue for the default exchange (the
    routing key is the queue's name), else ``exchange/routing-key``, or the exchange alone
    when there is no key (fanout)."""
    if not exchange:
        return key or ""
    return f"{exchange}/{key}" if key else exchange


def channel_name(broker: str, raw: str) -> str:
    """SQS queues by name (not URL or ARN), SNS topics by name (not ARN)."""
    if broker in ("sqs", "sns") and raw.startswith("arn:"):
        return raw.rsplit(":", 1)[-1]
    if broker == "sqs" and raw.startswith(("https://", "http://")):
        return raw.rstrip("/").rsplit("/", 1)[-1]
    return raw


@dataclass(frozen=True)
class Site:
    """A producer or consumer: where, and in which function, class or method."""

    file: str
    line: int
    symbol: str


@dataclass(frozen=True)
class Location:
    file: str
    line: int


@dataclass(frozen=True)
class ScheduleSite:
    """A declared schedule of a job: the cron expression or interval as written."""

    schedule: str
    file: str
    line: int


@dataclass(frozen=True)
class Message:
    """A payload schema seen at a producer or consumer of a channel, or on a job."""

    name: str
    schema: str  # JSON text
    file: str
    line: int


@dataclass
class Channel:
    """A broker channel (topic, queue, exchange/routing key, stream, subject, pub/sub channel)."""

    broker: str
    name: str
    producers: list[Site] = field(default_factory=list)
    consumers: list[Site] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return (self.broker, self.name)

    def as_dict(self) -> dict[str, Any]:
        return {
            "broker": self.broker,
            "name": self.name,
            "producers": [asdict(s) for s in self.producers],
            "consumers": [asdict(s) for s in self.consumers],
            "messages": [_message_dict(m) for m in self.messages],
        }


@dataclass
class Job:
    """A background job or task: where it is defined, enqueued and scheduled."""

    framework: str
    name: str
    queue: str | None = None
    defined_at: Location | None = None
    enqueued_at: list[Location] = field(default_factory=list)
    schedules: list[ScheduleSite] = field(default_factory=list)
    arguments: tuple[str, ...] | None = None  # the signature, when the definition shows it
    messages: list[Message] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return (self.framework, self.name)

    @property
    def schedule(self) -> str | None:
        """The first declared schedule (all of them are in ``schedules``)."""
        return self.schedules[0].schedule if self.schedules else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "framework": self.framework,
            "name": self.name,
            "queue": self.queue,
            "defined_at": asdict(self.defined_at) if self.defined_at else None,
            "enqueued_at": [asdict(e) for e in self.enqueued_at],
            "schedule": self.schedule,
            "schedules": [asdict(s) for s in self.schedules],
            "arguments": list(self.arguments) if self.arguments is not None else None,
        }


@dataclass
class QueueInventory:
    """Every channel and job of one revision of a repository."""

    channels: list[Channel] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "channels": [c.as_dict() for c in self.channels],
            "jobs": [j.as_dict() for j in self.jobs],
            "unresolved": [u.as_dict() for u in self.unresolved],
        }

    @property
    def brokers(self) -> list[str]:
        return sorted({c.broker for c in self.channels})

    @property
    def frameworks(self) -> list[str]:
        return sorted({j.framework for j in self.jobs})


@dataclass(frozen=True)
class QueueChange:
    """One difference between two revisions' queues and jobs, under a stable rule id."""

    rule: str  # e.g. "channel-removed", "job-arguments-changed"
    compatibility: Compatibility
    message: str
    file: str
    line: int
    kind: Literal["channel", "job"]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _message_dict(message: Message) -> dict[str, Any]:
    return {
        "name": message.name,
        "schema": json.loads(message.schema),
        "file": message.file,
        "line": message.line,
    }
