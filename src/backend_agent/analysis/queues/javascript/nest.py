"""NestJS decorators: ``@Processor``/``@Process`` (Bull and BullMQ jobs), ``@MessagePattern``
and ``@EventPattern`` (consumers on the configured broker transport), ``@Cron`` and
``@Interval`` (``@nestjs/schedule`` jobs)."""

from __future__ import annotations

from collections.abc import Callable

from backend_agent.analysis.queues.javascript.brokers import (
    JsSite,
    nest_brokers,
    nest_pattern,
    nest_transport_reason,
)
from backend_agent.analysis.queues.javascript.facts import Decorated
from backend_agent.analysis.queues.javascript.jobs import BullJobs, Processor


def nest_decorated(
    items: list[Decorated],
    site_of: Callable[[Decorated], JsSite],
    framework: str,
    transports: list[str],
    jobs: BullJobs,
) -> None:
    """Events of one file's decorated classes and methods; ``framework`` is ``bull`` or
    ``bullmq`` (from the file's ``@nestjs/bull`` or ``@nestjs/bullmq`` import)."""
    for item in items:
        site = site_of(item)
        if item.decorator == "Processor":
            methods = [d for d in items if d.decorator == "Process" and d.cls == item.cls]
            _processor(item, methods, site, framework, jobs)
        elif item.decorator in ("MessagePattern", "EventPattern") and item.args:
            _handler(item, site, transports)
        elif item.decorator in ("Cron", "Interval"):
            _scheduled(item, site)


def _processor(
    item: Decorated, methods: list[Decorated], site: JsSite, framework: str, jobs: BullJobs
) -> None:
    first = item.args[0] if item.args else None
    queue_value = site.field(first, "name") if first is not None and first[0] == "obj" else first
    if queue_value is None:
        site.emit_name("define", framework, None, "the processor names no queue", "@Processor()")
        return
    queue, why = site.values.text(site.file, queue_value)
    if queue is None:
        site.emit_name("define", framework, None, why, item.texts[0] if item.texts else "")
        return
    for method in methods or [item]:
        name = None
        if method.decorator == "Process" and method.args:
            value = method.args[0]
            value = (site.field(value, "name") if value[0] == "obj" else value) or value
            name = site.values.text(site.file, value)[0]
        typed = method.params[0] if method.params else ""
        payload = site.payloads.of_type(site.file, typed) if typed else None
        jobs.processors.append(Processor(framework, queue, name, site.file, method.line, payload))


def _handler(item: Decorated, site: JsSite, transports: list[str]) -> None:
    brokers = nest_brokers(transports)
    fragment = item.texts[0] if item.texts else ""
    if not brokers:
        site.emit_name("consume", "kafka", None, nest_transport_reason(transports), fragment)
        return
    name, why = nest_pattern(site.values, site.file, item.args[0])
    typed = next(
        (p for p in item.params if p and not p.startswith(("KafkaContext", "RmqContext"))), ""
    )
    payload = site.payloads.of_type(site.file, typed) if typed else None
    for broker in brokers:
        site.emit_name("consume", broker, name, why, fragment, payload=payload)


def _scheduled(item: Decorated, site: JsSite) -> None:
    options = next((a for a in item.args if a[0] == "obj"), None)
    given = site.field(options, "name") if options is not None else None
    name = site.values.text(site.file, given)[0] if given is not None else None
    name = name or f"{item.cls}.{item.method}"
    if item.decorator == "Cron":
        value = item.args[0] if item.args else None
        text = site.values.text(site.file, value)[0] if value is not None else None
        schedule = text or (item.texts[0] if item.texts else "")
    else:
        schedule = f"every {item.texts[-1]} ms" if item.texts else ""
    site.emit_name("define", "@nestjs/schedule", name)
    site.emit_name("schedule", "@nestjs/schedule", name, schedule=schedule)
