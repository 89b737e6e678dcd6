"""JavaScript/TypeScript job frameworks: BullMQ and Bull (queues, workers, named processors,
``add``/``addBulk``, repeatable jobs and job schedulers, NestJS ``@Processor``/``@Process``),
bee-queue, Agenda, node-cron, cron (``CronJob``) and ``@nestjs/schedule``.

A Bull-family job is named by the name given to ``add`` (the queue's name when none is given);
a named processor defines the job of its name, a queue-level processor (``Worker``,
``process(fn)``, a ``@Processor`` class) defines every job of its queue."""

from __future__ import annotations

from dataclasses import dataclass, field

from backend_agent.analysis.endpoints.javascript.facts import Value, describe
from backend_agent.analysis.queues.javascript.brokers import JsSite
from backend_agent.analysis.queues.model import Payload, Resolution, Role

_BULL = {"bullmq": "bullmq", "bull": "bull", "bee-queue": "bee-queue"}
_REPEAT_KEYS = ("pattern", "cron", "every")


@dataclass(frozen=True)
class Processor:
    framework: str
    queue: str
    name: str | None  # None: every job of the queue
    file: str
    line: int
    payload: Payload | None = None


@dataclass(frozen=True)
class Added:
    framework: str
    queue: str
    name: str | None
    file: str
    line: int
    schedule: str | None = None


@dataclass
class BullJobs:
    """Processors and adds of the Bull family, joined into jobs once all files are read."""

    processors: list[Processor] = field(default_factory=list)
    added: list[Added] = field(default_factory=list)

    def emit(self, out: Resolution) -> None:
        queues = {(p.framework, p.queue) for p in self.processors} | {
            (a.framework, a.queue) for a in self.added
        }
        for framework, queue in sorted(queues):
            processors = [
                p for p in self.processors if (p.framework, p.queue) == (framework, queue)
            ]
            added = [a for a in self.added if (a.framework, a.queue) == (framework, queue)]
            names = {p.name for p in processors if p.name} | {a.name or queue for a in added}
            if any(p.name is None for p in processors) and not added:
                names.add(queue)
            for name in sorted(names):
                definer = next((p for p in processors if p.name == name), None)
                definer = definer or next((p for p in processors if p.name is None), None)
                if definer is not None:
                    out.add(
                        "define",
                        framework,
                        name,
                        definer.file,
                        definer.line,
                        queue=queue,
                        payload=definer.payload,
                    )
            for add in added:
                role: Role = "schedule" if add.schedule is not None else "enqueue"
                out.add(
                    role,
                    framework,
                    add.name or queue,
                    add.file,
                    add.line,
                    queue=queue,
                    schedule=add.schedule,
                )


def queue_call(site: JsSite, framework: str, queue: str, jobs: BullJobs) -> None:
    """``add``, ``addBulk``, ``process``, ``upsertJobScheduler``, ``createJob`` on a queue."""
    call, method = site.call, site.call.callee[2]
    args, file, line = call.args, site.file, call.line
    if method == "process":
        name = None
        if args and args[0][0] in ("str", "ref", "member", "import"):
            name, _ = site.values.text(file, args[0])
        jobs.processors.append(Processor(framework, queue, name, file, line))
    elif method == "add":
        named = framework == "bullmq" or (len(args) >= 2 and _stringish(site, args[0]))
        name = site.values.text(file, args[0])[0] if named and args else None
        options = (
            args[2] if named and len(args) > 2 else args[1] if not named and len(args) > 1 else None
        )
        jobs.added.append(Added(framework, queue, name, file, line, _repeat(site, options)))
    elif method == "addBulk" and args:
        thing = site.values.eval(file, args[0])
        for item in thing.value if thing.kind == "arr" else ():
            given = site.field(item, "name")
            text = site.values.text(file, given)[0] if given is not None else None
            jobs.added.append(Added(framework, queue, text, file, line))
    elif method == "upsertJobScheduler" and len(args) >= 2:
        template = site.field(args[2], "name") if len(args) > 2 else None
        name = site.values.text(file, template or args[0])[0]
        jobs.added.append(Added(framework, queue, name, file, line, _repeat(site, args[1], True)))
    elif method == "createJob":
        jobs.added.append(Added(framework, queue, None, file, line))


def worker(site: JsSite, jobs: BullJobs) -> None:
    """``new Worker(queue, processor)`` (BullMQ)."""
    if not site.call.args:
        return
    queue, why = site.values.text(site.file, site.call.args[0])
    if queue is None:
        site.emit_name("define", "bullmq", None, why, describe(site.call.args[0]))
        return
    payload = (
        site.payloads.of_type(site.file, site.call.type_args[0]) if site.call.type_args else None
    )
    jobs.processors.append(Processor("bullmq", queue, None, site.file, site.call.line, payload))


def flow(site: JsSite, jobs: BullJobs) -> None:
    """``flowProducer.add({name, queueName, children: [...]})``."""
    pending = list(site.call.args[:1])
    while pending:
        node = pending.pop()
        name = site.field(node, "name")
        queue = site.field(node, "queueName")
        if name is not None and queue is not None:
            queue_text = site.values.text(site.file, queue)[0]
            if queue_text is not None:
                jobs.added.append(
                    Added(
                        "bullmq",
                        queue_text,
                        site.values.text(site.file, name)[0],
                        site.file,
                        site.call.line,
                    )
                )
        children = site.field(node, "children")
        thing = site.values.eval(site.file, children) if children is not None else None
        pending.extend(thing.value if thing is not None and thing.kind == "arr" else ())


def agenda_call(site: JsSite) -> None:
    """``define``, ``every``, ``schedule``, ``now``, ``create`` on an Agenda instance."""
    method, args = site.call.callee[2], site.call.args
    if method == "define" and args:
        site.emit("define", "agenda", args[0])
    elif method == "every" and len(args) >= 2:
        schedule = _as_written(site, 0)
        for text, why, item in site.values.texts(site.file, args[1]):
            site.emit_name("schedule", "agenda", text, why, describe(item), schedule=schedule)
    elif method == "schedule" and len(args) >= 2:
        site.emit("enqueue", "agenda", args[1])
    elif method in ("now", "create") and args:
        site.emit("enqueue", "agenda", args[0])


def cron_job(
    site: JsSite, framework: str, options: Value | None, callback: Value | None, ordinal: int
) -> None:
    """node-cron's ``cron.schedule(expr, fn, {name})`` and cron's ``new CronJob(expr, fn)``:
    named by the option, else the callback's name, else the variable holding the job, else
    the file and its ordinal among the file's cron jobs."""
    schedule = _as_written(site, 0)
    name = site.field(options, "name") if options is not None else None
    text = site.values.text(site.file, name)[0] if name is not None else None
    if text is None and callback is not None and callback[0] in ("ref", "member", "import"):
        text = describe(callback)
    if text is None:
        bindings = site.values.facts[site.file].bindings if site.file in site.values.facts else {}
        held = [k for k, v in bindings.items() if v[0] == "new" and v[3:4] == (site.call.offset,)]
        text = held[0].rsplit("/", 1)[-1] if held else f"{site.file}:cron#{ordinal}"
    site.emit_name("define", framework, text, schedule=schedule)
    site.emit_name("schedule", framework, text, schedule=schedule)


def _stringish(site: JsSite, value: Value) -> bool:
    return site.values.eval(site.file, value).kind == "str"


def _repeat(site: JsSite, options: Value | None, direct: bool = False) -> str | None:
    """The schedule of a repeatable job (``{repeat: {pattern | cron | every}}``) as written."""
    repeat = options if direct else site.field(options, "repeat")
    for key in _REPEAT_KEYS:
        value = site.field(repeat, key)
        if value is not None:
            text = site.values.text(site.file, value)[0]
            return f"every {value[1]} ms" if key == "every" and text is None else text
    return None


def _as_written(site: JsSite, index: int) -> str:
    texts = site.call.texts
    if index >= len(texts):
        return ""
    value = site.call.args[index] if len(site.call.args) > index else None
    text = site.values.text(site.file, value)[0] if value is not None else None
    return text if text is not None else texts[index]
