"""Go job frameworks: asynq (tasks, handlers, queues, the scheduler), machinery (registered
tasks, signatures, periodic tasks), river (job kinds, inserts, periodic jobs) and robfig/cron.

An asynq task is enqueued where it is built (``asynq.NewTask``), usually in a constructor
helper the enqueuing code calls; its queue comes from an ``asynq.Queue`` option there or on
the ``Enqueue`` call that sends it."""

from __future__ import annotations

from collections.abc import Iterable

from backend_agent.analysis.endpoints.go.scan import Expr
from backend_agent.analysis.queues.go.brokers import GoSite
from backend_agent.analysis.queues.go.payloads import payload_of, struct_fields
from backend_agent.analysis.queues.go.values import GoValues, render
from backend_agent.analysis.queues.model import Resolution


def job_events(values: GoValues, out: Resolution) -> None:
    """Every job event of the repository (river needs all files' methods first)."""
    kinds = _river_kinds(values, out)
    for path, facts in values.sources.items():
        queues = _enqueue_queues(values, path)
        scheduled = _scheduled_tasks(values, path)
        crons = 0
        for call in facts.calls:
            site = GoSite(values, path, call, out)
            if call.expr[0] == "lit":
                _signature(site)
                continue
            func = call.expr[1]
            method = str(func[2]) if func[0] == "sel" else str(func[1]) if func[0] == "id" else ""
            if values.imports(path, "hibiken/asynq") and call.line not in scheduled:
                _asynq(site, method, queues)
            if values.imports(path, "RichardKnop/machinery"):
                _machinery(site, method)
            if values.imports(path, "riverqueue/river"):
                _river(site, method, kinds)
            if method in ("AddFunc", "AddJob") and values.imports(path, "robfig/cron"):
                crons += 1
                _cron(site, crons)


def _asynq(site: GoSite, method: str, queues: dict[int, str]) -> None:
    args = site.args
    if method in ("NewTask", "NewTaskWithHeaders") and args and site.call.outer != "Register":
        options = args[3:] if method == "NewTaskWithHeaders" else args[2:]
        queue = _queue_option(site, options) or queues.get(site.call.line)
        if queue is None and all(o[0] == "call" for o in options):
            queue = "default"  # no option can name another queue
        body = args[1] if len(args) > 1 else None
        payload = payload_of(site.values, site.path, site.call.symbol, body) if body else None
        for name, why, fragment, at in site.expand(args[0]):
            site.out.add("enqueue", "asynq", name, at[0], at[1], at[2], why=why,
                         fragment=fragment, queue=queue, payload=payload)  # fmt: skip
    elif method in ("HandleFunc", "Handle") and len(args) == 2 and _is_mux(site):
        for name, why, fragment, at in site.expand(args[0]):
            site.out.add("define", "asynq", name, at[0], at[1], at[2], why=why, fragment=fragment)
    elif method == "Register" and len(args) >= 2:
        task = site.values.follow(site.path, site.call.symbol, args[1])[2]
        if task[0] == "call" and render(task[1]).endswith("NewTask") and task[2]:
            queue = _queue_option(site, [*task[2][2:], *args[2:]]) or "default"
            schedules = {at: text or written for text, _, written, at in site.expand(args[0])}
            for name, why, fragment, at in site.expand(task[2][0]):
                text = schedules.get(at) or site.string(args[0])[0] or site.call.texts[0]
                site.out.add("schedule", "asynq", name, at[0], at[1], at[2], why=why,
                             fragment=fragment, schedule=text, queue=queue)  # fmt: skip


def _is_mux(site: GoSite) -> bool:
    """``mux.HandleFunc`` on an ``asynq.NewServeMux()`` (not net/http's)."""
    receiver = site.values.follow(site.path, site.call.symbol, site.call.expr[1][1])[2]
    if receiver[0] == "call":
        return render(receiver[1]).endswith("asynq.NewServeMux")
    if receiver[0] == "type":
        return "asynq" in str(receiver[1])
    return not site.values.imports(site.path, "net/http")


def _queue_option(site: GoSite, options: Iterable[Expr]) -> str | None:
    for option in options:
        if option[0] == "call" and render(option[1]).endswith("asynq.Queue") and option[2]:
            return site.string(option[2][0])[0]
    return None


def _enqueue_queues(values: GoValues, path: str) -> dict[int, str]:
    """NewTask line -> the queue an ``Enqueue(task, asynq.Queue(...))`` call sends it to."""
    found: dict[int, str] = {}
    for call in values.sources[path].calls:
        if call.expr[0] != "call" or render(call.expr[1]).rsplit(".", 1)[-1] not in (
            "Enqueue",
            "EnqueueContext",
        ):
            continue
        site = GoSite(values, path, call, Resolution())
        args = call.expr[2][1:] if render(call.expr[1]).endswith("EnqueueContext") else call.expr[2]
        queue = _queue_option(site, args[1:])
        task = values.follow(path, call.symbol, args[0])[2] if args else ("?",)
        if queue is not None and task[0] == "call":
            found[int(task[3])] = queue
    return found


def _scheduled_tasks(values: GoValues, path: str) -> set[int]:
    """Lines of ``NewTask`` calls a scheduler registers through a variable (``task :=
    asynq.NewTask(...)`` then ``Register(spec, task)``): schedules, not enqueues."""
    found: set[int] = set()
    for call in values.sources[path].calls:
        if call.expr[0] != "call" or not render(call.expr[1]).endswith(".Register"):
            continue
        args = call.expr[2]
        held = values.follow(path, call.symbol, args[1])[2] if len(args) > 1 else ("?",)
        if held[0] == "call" and args[1][0] == "id":
            found.add(int(held[3]))
    return found


def _machinery(site: GoSite, method: str) -> None:
    args = site.args
    if method == "RegisterTask" and args:
        name, why = site.string(args[0])
        site.emit_name("define", "machinery", name, why, render(args[0]))
    elif method == "RegisterTasks" and args:
        tasks = site.values.follow(site.path, site.call.symbol, args[0])[2]
        for key in tasks[2] if tasks[0] == "lit" else {}:
            site.emit_name("define", "machinery", key.strip('"`'))
    elif method == "RegisterPeriodicTask" and len(args) >= 3:
        signature = site.values.follow(site.path, site.call.symbol, args[2])[2]
        name_value = signature[2].get("Name") if signature[0] == "lit" else None
        name, why = site.string(name_value) if name_value is not None else (None, "no task name")
        schedule = site.string(args[0])[0] or site.call.texts[0]
        site.emit_name("schedule", "machinery", name, why, render(args[2]), schedule=schedule)


def _signature(site: GoSite) -> None:
    """``tasks.Signature{Name, RoutingKey}``: an enqueue (unless it is a periodic task's)."""
    kind = str(site.call.expr[1]).lstrip("&*")
    alias, _, name = kind.rpartition(".")
    if name != "Signature" or "machinery" not in site.values.import_path(site.path, alias):
        return
    if site.call.outer == "RegisterPeriodicTask":
        return
    fields = site.fields
    task, why = site.string(fields["Name"]) if "Name" in fields else (None, "no task name")
    queue = site.string(fields["RoutingKey"])[0] if "RoutingKey" in fields else None
    site.emit_name("enqueue", "machinery", task, why, "tasks.Signature{...}", queue=queue)


def _river_kinds(values: GoValues, out: Resolution) -> dict[tuple[str, str], str]:
    """(directory, args type) -> job kind, for every type with a ``Kind()`` method; each is
    a job defined at its ``Kind`` method."""
    kinds: dict[tuple[str, str], str] = {}
    for path, facts in values.sources.items():
        for method, (returned, line) in facts.methods.items():
            owner, _, name = method.rpartition(".")
            if name != "Kind":
                continue
            kind, why = values.string(path, method, returned)
            directory = path.rsplit("/", 1)[0] if "/" in path else ""
            if kind is not None:
                kinds[(directory, owner)] = kind
            opts = facts.methods.get(f"{owner}.InsertOpts")
            queue = None
            if opts is not None and opts[0][0] == "lit":
                queue_value = opts[0][2].get("Queue")
                queue = values.string(path, "", queue_value)[0] if queue_value else None
            arguments = struct_fields(values, path, owner)
            out.add(
                "define",
                "river",
                kind,
                path,
                line,
                why=why,
                fragment=f"{owner}.Kind()",
                queue=queue or "default",
                arguments=arguments,
            )
    return kinds


def _river(site: GoSite, method: str, kinds: dict[tuple[str, str], str]) -> None:
    args = site.args
    if method in ("Insert", "InsertTx", "InsertMany", "InsertManyTx"):
        for arg in args:
            literal = site.values.follow(site.path, site.call.symbol, arg)[2]
            kind = _kind_of(site, literal, kinds)
            if kind is not None:
                queue = _insert_queue(site, args)
                site.emit_name("enqueue", "river", kind, queue=queue)
    elif method == "NewPeriodicJob" and len(args) >= 2 and args[1][0] == "fn":
        returned = [s for s in args[1][2] if s[0] == "ret" and s[1]]
        kind = _kind_of(site, returned[0][1][0], kinds) if returned else None
        schedule = site.call.texts[0] if site.call.texts else ""
        site.emit_name(
            "schedule",
            "river",
            kind,
            "the periodic job's arguments are not a literal",
            "river.NewPeriodicJob(...)",
            schedule=schedule,
        )


def _kind_of(site: GoSite, literal: Expr, kinds: dict[tuple[str, str], str]) -> str | None:
    if literal[0] != "lit":
        return None
    kind = str(literal[1]).lstrip("&*")
    alias, _, name = kind.rpartition(".")
    files = (
        site.values.package_files(site.path, alias)
        if alias
        else site.values.package_files(site.path)
    )
    for file in files[:1]:
        directory = file.rsplit("/", 1)[0] if "/" in file else ""
        return kinds.get((directory, name))
    return None


def _insert_queue(site: GoSite, args: list[Expr]) -> str | None:
    for arg in args:
        held = site.values.follow(site.path, site.call.symbol, arg)[2]
        if (
            held[0] == "lit"
            and str(held[1]).lstrip("&*").endswith("InsertOpts")
            and "Queue" in held[2]
        ):
            return site.string(held[2]["Queue"])[0]
    return None


def _cron(site: GoSite, ordinal: int) -> None:
    args = site.args
    if len(args) < 2:
        return
    schedule = site.string(args[0])[0] or (site.call.texts[0] if site.call.texts else "")
    job = args[1]
    name = render(job) if job[0] in ("id", "sel") else f"{site.path}:cron#{ordinal}"
    site.emit_name("define", "cron", name, schedule=schedule)
    site.emit_name("schedule", "cron", name, schedule=schedule)
