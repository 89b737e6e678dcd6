"""Joining the events of every language into channels and jobs."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable

from backend_agent.analysis.endpoints.model import Unresolved
from backend_agent.analysis.queues.model import (
    Channel,
    Event,
    Job,
    Location,
    Message,
    QueueInventory,
    ScheduleSite,
    Site,
)


def assemble(events: Iterable[Event], unresolved: Iterable[Unresolved]) -> QueueInventory:
    """One inventory: channels keyed by (broker, name), jobs by (framework, name), sorted."""
    channels: dict[tuple[str, str], Channel] = {}
    jobs: dict[tuple[str, str], Job] = {}
    patterns: list[Event] = []
    bindings: list[Event] = []
    later: list[Event] = []
    for event in sorted(set(events), key=lambda e: (e.file, e.line, e.role, e.name)):
        if event.role in ("produce", "consume"):
            if event.pattern:
                patterns.append(event)
            else:
                _add_site(_channel(channels, event.tech, event.name), event)
        elif event.role == "bind":
            bindings.append(event)
        elif event.role == "define":
            _define(jobs, event)
        else:
            later.append(event)
    for event in later:
        _attach(jobs, event)
    for binding in bindings:
        _bind(channels, binding)
    for event in patterns:
        matched = [c for c in channels.values() if _matches(event, c)]
        for channel in matched or [_channel(channels, event.tech, event.name)]:
            _add_site(channel, event)
    return QueueInventory(
        sorted(channels.values(), key=lambda c: c.key),
        sorted(jobs.values(), key=lambda j: j.key),
        sorted(set(unresolved), key=lambda u: (u.file, u.line, u.fragment)),
    )


def _channel(channels: dict[tuple[str, str], Channel], broker: str, name: str) -> Channel:
    found = channels.get((broker, name))
    if found is None:
        found = channels[(broker, name)] = Channel(broker, name)
    return found


def _add_site(channel: Channel, event: Event) -> None:
    sites = channel.producers if event.role == "produce" else channel.consumers
    site = Site(event.file, event.line, event.symbol)
    if site not in sites:
        sites.append(site)
        sites.sort(key=lambda s: (s.file, s.line))
    if event.payload is not None:
        message = Message(event.payload.name, event.payload.schema_json, event.file, event.line)
        if message not in channel.messages:
            channel.messages.append(message)


def _define(jobs: dict[tuple[str, str], Job], event: Event) -> None:
    job = jobs.get((event.tech, event.name))
    if job is None:
        job = jobs[(event.tech, event.name)] = Job(event.tech, event.name)
    if job.defined_at is None:
        job.defined_at = Location(event.file, event.line)
        job.queue = event.queue
        job.arguments = event.arguments
    if event.schedule is not None:
        job.schedules.append(ScheduleSite(event.schedule, event.file, event.line))
    if event.payload is not None:
        job.messages.append(
            Message(event.payload.name, event.payload.schema_json, event.file, event.line)
        )


def _attach(jobs: dict[tuple[str, str], Job], event: Event) -> None:
    """An enqueue or schedule joins its job: same framework and name, else the only defined
    job of that name (a sidekiq-cron entry naming a Sidekiq job), else a job of its own."""
    job = jobs.get((event.tech, event.name))
    if job is None:
        named = [j for j in jobs.values() if j.name == event.name and j.defined_at is not None]
        job = named[0] if len(named) == 1 else None
    if job is None:
        job = jobs[(event.tech, event.name)] = Job(event.tech, event.name, event.queue)
    if event.role == "enqueue":
        where = Location(event.file, event.line)
        if where not in job.enqueued_at:
            job.enqueued_at.append(where)
            job.enqueued_at.sort(key=lambda e: (e.file, e.line))
    elif event.schedule is not None:
        site = ScheduleSite(event.schedule, event.file, event.line)
        if site not in job.schedules:
            job.schedules.append(site)
            job.schedules.sort(key=lambda s: (s.file, s.line))
    if job.queue is None and event.queue is not None:
        job.queue = event.queue
    if event.payload is not None:
        message = Message(event.payload.name, event.payload.schema_json, event.file, event.line)
        if message not in job.messages:
            job.messages.append(message)


def _bind(channels: dict[tuple[str, str], Channel], binding: Event) -> None:
    """Consumers of the bound queue also consume the exchange channels the binding routes:
    an exact exchange/key, or (AMQP topic wildcards) every published key it matches."""
    queue = channels.get((binding.tech, binding.queue or ""))
    consumers = queue.consumers if queue is not None else []
    targets = [
        c
        for c in channels.values()
        if c.broker == binding.tech and c.producers and _routes(binding.name, c.name)
    ]
    if not targets and consumers:
        targets = [_channel(channels, binding.tech, binding.name)]
    for channel in targets:
        for site in consumers:
            if site not in channel.consumers:
                channel.consumers.append(site)
        channel.consumers.sort(key=lambda s: (s.file, s.line))


def _matches(event: Event, channel: Channel) -> bool:
    if channel.broker != event.tech or not channel.producers:
        return False
    if event.tech == "nats":
        return _nats(event.name).fullmatch(channel.name) is not None
    if event.tech == "kafka":
        try:
            return re.fullmatch(event.name, channel.name) is not None
        except re.error:
            return False
    if event.tech == "rabbitmq":
        return _routes(event.name, channel.name)
    return fnmatch.fnmatchcase(channel.name, event.name)


def _routes(binding: str, channel: str) -> bool:
    """Whether a RabbitMQ binding (``exchange`` or ``exchange/key``, AMQP topic wildcards in
    the key) routes what is published to ``channel`` (same forms)."""
    if binding == channel:
        return True
    exchange, _, key = binding.partition("/")
    published_exchange, _, published_key = channel.partition("/")
    if exchange != published_exchange or not ("*" in key or "#" in key):
        return False
    return _topic_match(key.split("."), published_key.split("."))


def _topic_match(pattern: list[str], words: list[str]) -> bool:
    """AMQP topic matching: ``*`` is exactly one word, ``#`` zero or more words."""
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_topic_match(rest, words[skip:]) for skip in range(len(words) + 1))
    if not words:
        return False
    return (head in ("*", words[0])) and _topic_match(rest, words[1:])


def _nats(subject: str) -> re.Pattern[str]:
    """A NATS subject with ``*`` (one token) and ``>`` (one or more trailing tokens)."""
    tokens = [
        r"[^.]+" if t == "*" else r".+" if t == ">" else re.escape(t) for t in subject.split(".")
    ]
    return re.compile(r"\.".join(tokens))
