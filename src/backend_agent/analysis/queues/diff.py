"""Queue and job contract changes between two revisions, each under a stable rule id.

Channels: ``channel-added`` (non-breaking), ``channel-removed`` and ``channel-renamed``
(breaking), ``producer-without-consumer`` and ``consumer-without-producer`` (breaking: the
channel had both in this repository and lost one side). Jobs: ``job-added`` (non-breaking),
``job-removed``, ``job-renamed``, ``job-queue-changed``, ``job-definition-removed`` (still
enqueued, nothing runs it), ``job-no-longer-enqueued`` and ``job-arguments-changed``
(breaking), ``job-arguments-extended`` (non-breaking: only optional parameters added),
``schedule-added`` (non-breaking), ``schedule-changed`` and ``schedule-removed``
(possibly-breaking)."""

from __future__ import annotations

from backend_agent.analysis.endpoints.model import Compatibility
from backend_agent.analysis.project import Project
from backend_agent.analysis.queues.inventory import queue_inventory
from backend_agent.analysis.queues.model import (
    Channel,
    Job,
    Location,
    QueueChange,
    QueueInventory,
    ScheduleSite,
)
from backend_agent.analysis.queues.signatures import compatibility

_ROLLOUT_ARGS = (
    "jobs already enqueued carry the old arguments: first deploy workers that accept both "
    "signatures (new parameters optional), let the queue drain, then change the enqueuing code"
)
_ROLLOUT_QUEUE = (
    "jobs already waiting on {old} are only processed while a worker still listens there: "
    "run workers on both queues until {old} is empty"
)
_ROLLOUT_NAME = (
    "messages and jobs already sent under the old name are not received under the new one: "
    "consume both names until the old one is drained, then stop producing to it"
)


def diff_queues(base: Project, head: Project) -> list[QueueChange]:
    """Every queue and job change from ``base`` to ``head`` (inventories come from caches)."""
    return queue_changes(queue_inventory(base), queue_inventory(head))


def queue_changes(before: QueueInventory, after: QueueInventory) -> list[QueueChange]:
    changes = _channel_changes(before.channels, after.channels)
    changes += _job_changes(before.jobs, after.jobs)
    return sorted(changes, key=lambda c: (c.file, c.line, c.rule, c.message))


def _channel_changes(before: list[Channel], after: list[Channel]) -> list[QueueChange]:
    old = {c.key: c for c in before}
    new = {c.key: c for c in after}
    removed = [c for k, c in old.items() if k not in new]
    added = [c for k, c in new.items() if k not in old]
    changes: list[QueueChange] = []
    for gone in removed:
        twin = _renamed_channel(gone, added)
        if twin is not None:
            added.remove(twin)
            message = f"{gone.broker} {gone.name} is now {twin.name}; {_ROLLOUT_NAME}"
            changes.append(_channel("channel-renamed", "breaking", message, twin))
        else:
            changes.append(_channel("channel-removed", "breaking", f"{_label(gone)} removed", gone))
    changes += [_channel("channel-added", "non-breaking", f"new {_label(c)}", c) for c in added]
    for key, channel in new.items():
        previous = old.get(key)
        if previous is None:
            continue
        if (
            previous.consumers
            and previous.producers
            and channel.producers
            and not channel.consumers
        ):
            message = f"{_label(channel)} is still produced to but nothing here consumes it"
            changes.append(_channel("producer-without-consumer", "breaking", message, channel))
        if (
            previous.producers
            and previous.consumers
            and channel.consumers
            and not channel.producers
        ):
            message = f"{_label(channel)} is still consumed but nothing here produces to it"
            changes.append(_channel("consumer-without-producer", "breaking", message, channel))
    return changes


def _job_changes(before: list[Job], after: list[Job]) -> list[QueueChange]:
    old = {j.key: j for j in before}
    new = {j.key: j for j in after}
    removed = [j for k, j in old.items() if k not in new]
    added = [j for k, j in new.items() if k not in old]
    changes: list[QueueChange] = []
    for gone in removed:
        twin = _renamed_job(gone, added)
        if twin is not None:
            added.remove(twin)
            message = f"{gone.framework} job {gone.name} is now {twin.name}; {_ROLLOUT_NAME}"
            changes.append(_job("job-renamed", "breaking", message, twin))
        else:
            message = f"{_job_label(gone)} removed; jobs already enqueued under it will fail"
            changes.append(_job("job-removed", "breaking", message, gone))
    changes += [_job("job-added", "non-breaking", f"new {_job_label(j)}", j) for j in added]
    for key, job in new.items():
        previous = old.get(key)
        if previous is not None:
            changes += _job_change(previous, job)
    return changes


def _job_change(before: Job, after: Job) -> list[QueueChange]:
    changes: list[QueueChange] = []
    label = _job_label(after)
    if before.queue and after.queue and before.queue != after.queue:
        rollout = _ROLLOUT_QUEUE.format(old=before.queue)
        message = f"{label} moved from queue {before.queue} to {after.queue}; {rollout}"
        changes.append(_job("job-queue-changed", "breaking", message, after))
    if before.defined_at is not None and after.defined_at is None and after.enqueued_at:
        message = f"{label} is still enqueued but no longer defined here: nothing runs it"
        changes.append(_job("job-definition-removed", "breaking", message, after))
    if (
        before.enqueued_at
        and not after.enqueued_at
        and not after.schedules
        and after.defined_at is not None
    ):
        message = f"{label} is defined but nothing here enqueues or schedules it any more"
        changes.append(_job("job-no-longer-enqueued", "breaking", message, after))
    if before.arguments is not None and after.arguments is not None:
        changes += _arguments(before, after, label)
    changes += _schedules(before, after, label)
    return changes


def _arguments(before: Job, after: Job, label: str) -> list[QueueChange]:
    if before.arguments == after.arguments or after.arguments is None:
        return []
    verdict = compatibility(before.arguments or (), after.arguments, after.framework)
    old, new = ", ".join(before.arguments or ()), ", ".join(after.arguments)
    if verdict == "non-breaking":
        message = f"{label} arguments ({old}) -> ({new}): only optional parameters were added"
        return [_job("job-arguments-extended", "non-breaking", message, after)]
    message = f"{label} arguments ({old}) -> ({new}); {_ROLLOUT_ARGS}"
    return [_job("job-arguments-changed", verdict, message, after)]


def _schedules(before: Job, after: Job, label: str) -> list[QueueChange]:
    old = [s.schedule for s in before.schedules]
    new = [s.schedule for s in after.schedules]
    if old == new:
        return []
    if old and new:
        message = f"{label} schedule {' | '.join(old)} -> {' | '.join(new)}"
        return [_job("schedule-changed", "possibly-breaking", message, after, after.schedules[0])]
    if new:
        message = f"{label} now runs on schedule {' | '.join(new)}"
        return [_job("schedule-added", "non-breaking", message, after, after.schedules[0])]
    message = f"{label} no longer runs on schedule {' | '.join(old)}"
    return [_job("schedule-removed", "possibly-breaking", message, after)]


def _renamed_channel(gone: Channel, added: list[Channel]) -> Channel | None:
    """The added channel of the same broker used by the same functions, if exactly one."""
    sites = {(s.file, s.symbol) for s in gone.producers + gone.consumers}
    twins = [
        c
        for c in added
        if c.broker == gone.broker
        and sites & {(s.file, s.symbol) for s in c.producers + c.consumers}
    ]
    return twins[0] if len(twins) == 1 else None


def _renamed_job(gone: Job, added: list[Job]) -> Job | None:
    """The added job of the same framework defined in the same file, if exactly one."""
    if gone.defined_at is None:
        return None
    twins = [
        j
        for j in added
        if j.framework == gone.framework
        and j.defined_at is not None
        and j.defined_at.file == gone.defined_at.file
    ]
    return twins[0] if len(twins) == 1 else None


def _label(channel: Channel) -> str:
    return f"{channel.broker} channel {channel.name}"


def _job_label(job: Job) -> str:
    return f"{job.framework} job {job.name}"


def _channel(
    rule: str, compatibility: Compatibility, message: str, channel: Channel
) -> QueueChange:
    site = (channel.producers + channel.consumers)[:1]
    file, line = (site[0].file, site[0].line) if site else ("", 0)
    return QueueChange(rule, compatibility, message, file, line, "channel")


def _job(
    rule: str,
    compatibility: Compatibility,
    message: str,
    job: Job,
    where: Location | ScheduleSite | None = None,
) -> QueueChange:
    sites: list[Location | ScheduleSite] = [*job.enqueued_at, *job.schedules]
    located = where or job.defined_at or (sites[0] if sites else None)
    file, line = (located.file, located.line) if located is not None else ("", 0)
    return QueueChange(rule, compatibility, message, file, line, "job")
