"""Ruby job frameworks: Sidekiq (``include Sidekiq::Job``, ``sidekiq_options queue:``,
``perform_async``/``perform_in``/``perform_at``, ``Sidekiq::Client.push``), ActiveJob
(``queue_as``, ``perform_later``, ``set(queue:)``, any adapter), Resque (``@queue``,
``Resque.enqueue*``), sidekiq-cron (``Sidekiq::Cron::Job.create``), GoodJob cron and the
``whenever`` schedule (``config/schedule.rb``)."""

from __future__ import annotations

from backend_agent.analysis.queues.model import Resolution
from backend_agent.analysis.queues.ruby.scan import RbCall, RbClass, RbValue
from backend_agent.analysis.queues.ruby.values import RbValues, Where

_SIDEKIQ = ("Sidekiq::Job", "Sidekiq::Worker")
_ACTIVEJOB = ("ActiveJob::Base", "ApplicationJob")
_SIDEKIQ_ENQUEUE = ("perform_async", "perform_in", "perform_at", "perform_bulk")
_RESQUE_CLASS_ARG = {"enqueue": 0, "enqueue_to": 1, "enqueue_in": 1, "enqueue_at": 1}
_WHENEVER_JOBS = ("runner", "rake", "command", "script")


def framework_of(values: RbValues, cls: RbClass) -> str | None:
    """sidekiq, activejob, resque or shoryuken for a job class; None for other classes."""
    if any(i in _SIDEKIQ for i in cls.includes):
        return "sidekiq"
    if "Shoryuken::Worker" in cls.includes:
        return "shoryuken"
    ancestors = values.ancestors(cls)
    if any(a in _ACTIVEJOB for a in ancestors):
        return "activejob"
    if cls.queue_ivar is not None and cls.class_perform:
        return "resque"
    return None


def job_queue(values: RbValues, path: str, cls: RbClass) -> tuple[str | None, str]:
    """A job class's queue: its own setting, else its superclasses', else the default."""
    current: RbClass | None = cls
    while current is not None:
        at = Where(path, (*current.namespace, current.name.rsplit("::", 1)[-1]), current.name)
        if current.queue_ivar is not None:
            return values.string(current.queue_ivar, at)
        for setting in current.settings:
            queue = _setting_queue(setting)
            if queue is not None:
                return values.string(queue, at)
        parent = values.cls(current.superclass, current.namespace) if current.superclass else None
        current = parent[1] if parent is not None else None
        path = parent[0] if parent is not None else path
    return "default", ""


def definitions(values: RbValues, out: Resolution) -> None:
    """Every job class; abstract bases (``ApplicationJob``: a superclass, no ``perform``) are
    not jobs."""
    parents = {cls.superclass.rsplit("::", 1)[-1] for _, cls in values.classes.values()}
    for name, (path, cls) in sorted(values.classes.items()):
        framework = framework_of(values, cls)
        if framework is None or framework == "shoryuken":
            continue
        if cls.perform is None and name.rsplit("::", 1)[-1] in parents:
            continue
        queue, why = job_queue(values, path, cls)
        if queue is None:
            out.add("define", framework, None, path, cls.line, why=why, fragment=f"{name} queue")
        arguments = cls.perform
        out.add("define", framework, name, path, cls.line, queue=queue, arguments=arguments)


def enqueue(values: RbValues, path: str, call: RbCall, out: Resolution) -> None:
    """``X.perform_async``, ``X.set(queue:).perform_later``, ``Resque.enqueue(X)``, ...."""
    at = Where(path, call.namespace, call.symbol)
    receiver, queue = call.receiver, None
    if receiver is not None and receiver[0] == "call" and receiver[2] == "set":
        queue = (
            values.string(dict(receiver[4]).get("queue"), at)[0]
            if dict(receiver[4]).get("queue")
            else None
        )
        receiver = receiver[1]
    if (
        call.method in (*_SIDEKIQ_ENQUEUE, "perform_later")
        and receiver is not None
        and receiver[0] == "const"
    ):
        default = "activejob" if call.method == "perform_later" else "sidekiq"
        _enqueue_class(values, at, str(receiver[1]), default, call.line, queue, out)
    elif call.method in _RESQUE_CLASS_ARG and receiver == ("const", "Resque"):
        index = _RESQUE_CLASS_ARG[call.method]
        job = call.args[index] if len(call.args) > index else None
        if call.method == "enqueue_to" and call.args:
            queue = values.string(call.args[0], at)[0]
        if job is not None and job[0] == "const":
            _enqueue_class(values, at, str(job[1]), "resque", call.line, queue, out)
    elif call.method in ("push", "push_bulk") and receiver == ("const", "Sidekiq::Client"):
        first = call.args[0] if call.args else None
        item = dict(first[1]) if first is not None and first[0] == "hash" else dict(call.options)
        job = item.get("class")
        queue = values.string(item.get("queue"), at)[0] if item.get("queue") else None
        if job is not None:
            name = str(job[1]) if job[0] == "const" else values.string(job, at)[0]
            if name is not None:
                _enqueue_class(values, at, name, "sidekiq", call.line, queue, out)


def _enqueue_class(values: RbValues, at: Where, name: str, default: str, line: int,
                   queue: str | None, out: Resolution) -> None:  # fmt: skip
    found = values.cls(name, at.namespace)
    framework = framework_of(values, found[1]) if found is not None else None
    qualified = found[1].name if found is not None else name
    if framework == "shoryuken":
        return  # a Shoryuken worker's perform_async sends an SQS message (see brokers)
    out.add("enqueue", framework or default, qualified, at.path, line, at.symbol, queue=queue)


def schedules(values: RbValues, path: str, call: RbCall, out: Resolution) -> None:
    """``Sidekiq::Cron::Job.create(name:, cron:, class:)`` and ``whenever``'s ``every``."""
    at = Where(path, call.namespace, call.symbol)
    if call.method == "create" and call.receiver == ("const", "Sidekiq::Cron::Job"):
        options = dict(call.options) or (
            dict(call.args[0][1]) if call.args and call.args[0][0] == "hash" else {}
        )
        job = options.get("class") or options.get("klass")
        cron = options.get("cron")
        name = (str(job[1]) if job[0] == "const" else values.string(job, at)[0]) if job else None
        schedule = values.string(cron, at)[0] if cron is not None else None
        out.add(
            "schedule",
            "sidekiq-cron",
            name,
            path,
            call.line,
            why="no job class is given",
            schedule=schedule or "",
        )
    elif call.method == "every" and call.receiver is None and path.endswith("schedule.rb"):
        schedule = ", ".join(call.texts)
        for method, args, line in call.block:
            if method in _WHENEVER_JOBS and args:
                name, why = values.string(args[0], at)
                out.add("define", "whenever", name, path, line, why=why, schedule=schedule)


def good_job_cron(values: RbValues, path: str, target: str, held: RbValue, line: int,
                  out: Resolution) -> None:  # fmt: skip
    """``config.good_job.cron = { key: { cron:, class:, set: { queue: } } }``."""
    if not target.endswith("good_job.cron") or held[0] != "hash":
        return
    at = Where(path, (), "<main>")
    for _, entry in held[1]:
        if entry[0] != "hash":
            continue
        fields = dict(entry[1])
        job = fields.get("class")
        name = (str(job[1]) if job[0] == "const" else values.string(job, at)[0]) if job else None
        schedule = values.string(fields.get("cron"), at)[0] or ""
        out.add(
            "schedule", "good_job", name, path, line, why="no job class is given", schedule=schedule
        )


def _setting_queue(setting: RbCall) -> RbValue | None:
    if setting.method == "queue_as" and setting.args:
        return setting.args[0]
    if setting.method == "sidekiq_options":
        return setting.option("queue")
    return None
