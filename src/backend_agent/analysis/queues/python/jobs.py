"""Python job frameworks: Celery (tasks, ``delay``/``apply_async``/``send_task``, beat
schedules in code and settings, ``task_routes``), RQ (and rq-scheduler), Dramatiq (with
periodiq and dramatiq-crontab schedules) and arq (``WorkerSettings``, ``enqueue_job``)."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from backend_agent.analysis.endpoints.python.scan import Expr
from backend_agent.analysis.queues.model import Resolution
from backend_agent.analysis.queues.python.facts import PyCall, PyQueueFacts
from backend_agent.analysis.queues.python.values import PyValues, render

_DEFAULT_QUEUES = {"celery": "celery", "rq": "default", "dramatiq": "default", "arq": "arq:queue"}
_ENQUEUE = {
    "delay": "",
    "apply_async": "",
    "s": "",
    "si": "",
    "signature": "",
    "send": "",
    "send_with_options": "",
}
_RQ_FUNC_ARG = {"enqueue": 0, "enqueue_call": 0, "enqueue_in": 1, "enqueue_at": 1}


@dataclass(frozen=True)
class JobDef:
    framework: str
    name: str
    queue: str | None
    explicit_queue: bool
    path: str
    line: int
    arguments: tuple[str, ...] | None


@dataclass
class PythonJobs:
    """Finds job definitions first (so enqueues can name them), then everything else."""

    values: PyValues
    out: Resolution
    defs: dict[tuple[str, str], JobDef] = field(default_factory=dict)  # (path, function)
    routes: list[tuple[str, str]] = field(default_factory=list)
    default_queue: str | None = None

    @property
    def facts(self) -> Mapping[str, PyQueueFacts]:
        return self.values.facts

    def run(self) -> None:
        self._settings()
        for path, facts in self.facts.items():
            for name, function in facts.names["functions"].items():
                self._definition(path, name, function)
            self._arq_settings(path, facts)
        for job in self.defs.values():
            queue = job.queue
            if job.framework == "celery":
                routed = next(
                    (q for pattern, q in self.routes if fnmatch.fnmatchcase(job.name, pattern)),
                    None,
                )
                queue = routed or (queue if job.explicit_queue else self.default_queue or queue)
            self.out.add(
                "define",
                job.framework,
                job.name,
                job.path,
                job.line,
                queue=queue,
                arguments=job.arguments,
            )
        for path, facts in self.facts.items():
            roots = facts.names["roots"]
            periodic = {c.call[4] for c in facts.calls if c.call[1][-1] == "add_periodic_task"}
            for call in facts.calls:
                signature = call.call[1][-1] in ("s", "si", "signature")
                if not (signature and call.call[4] in periodic):  # a schedule, not an enqueue
                    self._call(path, call, roots)

    # ---- definitions ----------------------------------------------------------------------

    def _definition(self, path: str, name: str, function: dict[str, Any]) -> None:
        scope = function.get("scope", "")
        schedule, schedule_line = None, function["line"]
        for decorator in function.get("decorators", []):
            func = decorator[1] if decorator[0] == "c" else decorator
            args, kwargs = (decorator[2], decorator[3]) if decorator[0] == "c" else ([], {})
            framework = self._decorator_framework(path, scope, func)
            if framework == "crontab" and args:
                schedule = self.values.names.string(path, scope, args[0])
                schedule_line = decorator[4]
                continue
            if framework is None:
                continue
            job_name, queue, explicit = self._named(path, scope, name, framework, args, kwargs)
            periodic = kwargs.get("periodic")
            if periodic is not None and periodic[0] == "c" and periodic[2]:
                schedule = self.values.names.string(path, scope, periodic[2][0])
                schedule_line = periodic[4]
            arguments = self._signature(path, function["line"], kwargs)
            self.defs[(path, name)] = JobDef(
                framework, job_name, queue, explicit, path, function["line"], arguments
            )
        if schedule is not None and (path, name) in self.defs:
            job = self.defs[(path, name)]
            self.out.add(
                "schedule", job.framework, job.name, path, schedule_line, schedule=schedule
            )

    def _decorator_framework(self, path: str, scope: str, func: Expr) -> str | None:
        target = self.values.names.target(path, scope, func)
        dotted = target.name if target is not None and target.kind == "external" else ""
        last = (
            dotted.rsplit(".", 1)[-1]
            if dotted
            else (func[2] if func[0] == "a" else func[1] if func[0] == "n" else "")
        )
        root = dotted.split(".", 1)[0]
        if last in ("shared_task", "task") and root == "celery":
            return "celery"
        if func[0] == "a" and func[2] == "task":
            kind = self.values.kind(path, scope, func[1])
            if kind is not None and kind.factory == "celery-app":
                return "celery"
            if kind is None and (
                "celery" in self.facts[path].names["roots"]
                or render(func[1]) in ("app", "celery", "celery_app")
            ):
                return "celery"
        if root == "rq" and last == "job":
            return "rq"
        if root == "dramatiq" and last == "actor":
            return "dramatiq"
        if last == "cron" and root in ("dramatiq_crontab", "django_dramatiq", "dramatiq_cron"):
            return "crontab"
        return None

    def _named(
        self,
        path: str,
        scope: str,
        name: str,
        framework: str,
        args: list[Expr],
        kwargs: dict[str, Expr],
    ) -> tuple[str, str | None, bool]:
        """(job name, queue, whether the queue was given) of a decorated function."""
        strings = self.values.names.string
        module = self.values.names.module_name(path)
        dotted = f"{module}.{name}" if module else name
        if framework == "celery":
            given = kwargs.get("name")
            job = strings(path, scope, given) if given is not None else None
            queue = strings(path, scope, kwargs["queue"]) if "queue" in kwargs else None
            return job or dotted, queue or _DEFAULT_QUEUES["celery"], queue is not None
        if framework == "rq":
            queue_value = kwargs.get("queue") or (args[0] if args else None)
            queue = strings(path, scope, queue_value) if queue_value is not None else None
            return dotted, queue or "default", queue is not None
        given = kwargs.get("actor_name")
        queue = strings(path, scope, kwargs["queue_name"]) if "queue_name" in kwargs else None
        job = strings(path, scope, given) if given is not None else None
        return job or name, queue or "default", queue is not None

    def _signature(self, path: str, line: int, kwargs: dict[str, Expr]) -> tuple[str, ...] | None:
        for signature in self.facts[path].signatures:
            if signature.line == line:
                params = signature.params
                bound = kwargs.get("bind")
                if params and (bound is not None and bound[1] == "True"):
                    params = params[1:]
                return params
        return None

    def _arq_settings(self, path: str, facts: PyQueueFacts) -> None:
        """arq's ``WorkerSettings``: ``functions``, ``cron_jobs`` and ``queue_name``."""
        if "arq" not in facts.names["roots"]:
            return
        for class_name, cls in facts.names["classes"].items():
            attrs = cls["attrs"]
            if "functions" not in attrs and "cron_jobs" not in attrs:
                continue
            queue = (
                self.values.names.string(path, "", attrs["queue_name"][0])
                if "queue_name" in attrs
                else None
            )
            for item in _items(attrs.get("functions", (("l", []), 0))[0]):
                func, given = (
                    (item[2][0], item[3].get("name"))
                    if item[0] == "c" and item[2]
                    else (item, None)
                )
                name = self.values.names.string(path, "", given) if given is not None else None
                where = self._function_at(path, func) or (path, attrs["functions"][1])
                job_name = name or (func[1] if func[0] == "n" else render(func))
                self.defs[(path, f"{class_name}.{job_name}")] = JobDef(
                    "arq",
                    job_name,
                    queue or _DEFAULT_QUEUES["arq"],
                    True,
                    where[0],
                    where[1],
                    self._arguments_at(where),
                )
            for item in _items(attrs.get("cron_jobs", (("l", []), 0))[0]):
                if item[0] != "c" or not item[2]:
                    continue
                func = item[2][0]
                name = func[1] if func[0] == "n" else render(func)
                where = self._function_at(path, func) or (path, item[4])
                self.defs.setdefault(
                    (path, f"{class_name}.{name}"),
                    JobDef(
                        "arq",
                        name,
                        queue or _DEFAULT_QUEUES["arq"],
                        True,
                        where[0],
                        where[1],
                        self._arguments_at(where),
                    ),
                )
                text = self._call_text(path, item[4], skip_first=True)
                self.out.add("schedule", "arq", name, path, item[4], schedule=text)

    def _function_at(self, path: str, func: Expr) -> tuple[str, int] | None:
        target = self.values.names.target(path, "", func)
        if target is None or target.kind != "func":
            return None
        function = self.facts[target.path].names["functions"].get(target.name)
        return (target.path, function["line"]) if function else None

    def _arguments_at(self, where: tuple[str, int]) -> tuple[str, ...] | None:
        facts = self.facts.get(where[0])
        for signature in facts.signatures if facts is not None else []:
            if signature.line == where[1]:
                return signature.params
        return None

    def _call_text(self, path: str, line: int, skip_first: bool = False) -> str:
        for call in self.facts[path].calls:
            if call.call[4] == line:
                texts = list(call.texts[1:] if skip_first else call.texts)
                texts += [f"{k}={v}" for k, v in call.kw_texts]
                return ", ".join(texts)
        return ""

    # ---- settings: routes, default queue, beat schedules ---------------------------------

    def _settings(self) -> None:
        for path, facts in self.facts.items():
            for scope, target, line, value, schedules in facts.settings:
                self._setting(path, scope, target, line, value, schedules)

    def _setting(
        self,
        path: str,
        scope: str,
        target: str,
        line: int,
        value: Expr,
        schedules: tuple[tuple[str, str, int], ...],
    ) -> None:
        lowered = target.rsplit(".", 1)[-1].lower()
        strings = self.values.names.string
        if lowered.endswith("default_queue") and value[0] == "s":
            self.default_queue = value[1]
        elif lowered.endswith(("task_routes", "celery_routes")) and value[0] == "d":
            for pattern, route in value[1].items():
                queue_value = route[1].get("queue") if route[0] == "d" else route
                queue = strings(path, scope, queue_value) if queue_value is not None else None
                if queue is not None:
                    self.routes.append((pattern, queue))
        elif "beat_schedule" in lowered and value[0] == "d":
            texts = {key: (as_written(text), entry_line) for key, text, entry_line in schedules}
            for key, entry in value[1].items():
                if entry[0] != "d" or "task" not in entry[1]:
                    continue
                task, why = self.values.string(path, scope, entry[1]["task"])
                text, entry_line = texts.get(key, (render(entry[1].get("schedule", ("?",))), line))
                self.out.add(
                    "schedule",
                    "celery",
                    task,
                    path,
                    entry_line,
                    why=why,
                    fragment=render(entry[1]["task"]),
                    schedule=text,
                )

    # ---- calls: enqueue sites and schedules in code --------------------------------------

    def _call(self, path: str, call: PyCall, roots: list[str]) -> None:
        func = call.call[1]
        if func[0] != "a":
            return
        method = func[2]
        args, kwargs, line = call.call[2], call.call[3], call.call[4]
        if method in _ENQUEUE:
            job = self._job_of(path, call.scope, func[1])
            if job is not None and (
                method not in ("send", "send_with_options") or job.framework == "dramatiq"
            ):
                queue = (
                    self.values.names.string(path, call.scope, kwargs["queue"])
                    if "queue" in kwargs
                    else None
                )
                self.out.add("enqueue", job.framework, job.name, path, line, queue=queue)
            elif job is None and method in ("delay", "apply_async"):
                self.out.add(
                    "enqueue",
                    "celery",
                    None,
                    path,
                    line,
                    why=_unknown_task(self.values.names.target(path, call.scope, func[1])),
                    fragment=f"{render(func[1])}.{method}",
                )
        elif method == "send_task" and args:
            name, why = self.values.string(path, call.scope, args[0])
            queue = (
                self.values.names.string(path, call.scope, kwargs["queue"])
                if "queue" in kwargs
                else None
            )
            self.out.add(
                "enqueue",
                "celery",
                name,
                path,
                line,
                why=why,
                fragment=render(args[0]),
                queue=queue,
            )
        elif method == "add_periodic_task" and len(args) >= 2:
            signature = args[1]
            task = signature[1][1] if signature[0] == "c" and signature[1][0] == "a" else None
            job = self._job_of(path, call.scope, task) if task is not None else None
            text = as_written(
                call.texts[0] if call.texts else dict(call.kw_texts).get("schedule", "")
            )
            self.out.add(
                "schedule",
                "celery",
                job.name if job else None,
                path,
                line,
                why="the task is not defined in this repository",
                fragment=render(signature),
                schedule=text,
            )
        elif method in _RQ_FUNC_ARG and ("rq" in roots or self._kind(path, call, "rq-queue")):
            self._rq_enqueue(path, call, method)
        elif method in ("cron", "schedule") and (
            "rq_scheduler" in roots or self._kind(path, call, "rq-scheduler")
        ):
            self._rq_schedule(path, call, method)
        elif method == "enqueue_job" and args:
            name, why = self.values.string(path, call.scope, args[0])
            queue = (
                self.values.names.string(path, call.scope, kwargs["_queue_name"])
                if "_queue_name" in kwargs
                else None
            )
            self.out.add(
                "enqueue", "arq", name, path, line, why=why, fragment=render(args[0]), queue=queue
            )

    def _kind(self, path: str, call: PyCall, wanted: str) -> bool:
        kind = self.values.kind(path, call.scope, call.call[1][1])
        return kind is not None and kind.factory == wanted

    def _job_of(self, path: str, scope: str, value: Expr) -> JobDef | None:
        target = self.values.names.target(path, scope, value)
        if target is not None and target.kind == "func":
            return self.defs.get((target.path, target.name))
        return None

    def _rq_enqueue(self, path: str, call: PyCall, method: str) -> None:
        args, kwargs = call.call[2], call.call[3]
        index = _RQ_FUNC_ARG[method]
        func = kwargs.get("f") or kwargs.get("func") or (args[index] if len(args) > index else None)
        if func is None:
            return
        kind = self.values.kind(path, call.scope, call.call[1][1])
        queue = _queue_of(
            self.values, kind.call if kind is not None else None, kind.path if kind else path
        )
        name, why = self._rq_name(path, call.scope, func)
        self.out.add(
            "enqueue", "rq", name, path, call.call[4], why=why, fragment=render(func), queue=queue
        )

    def _rq_schedule(self, path: str, call: PyCall, method: str) -> None:
        args, kwargs = call.call[2], call.call[3]
        func = kwargs.get("func") or (args[1] if method == "schedule" and len(args) > 1 else None)
        if func is None:
            return
        texts = dict(call.kw_texts)
        if method == "cron":
            text = as_written(call.texts[0] if call.texts else texts.get("cron_string", ""))
        else:
            text = (
                f"interval={texts['interval']}"
                if "interval" in texts
                else texts.get("scheduled_time", "")
            )
        name, why = self._rq_name(path, call.scope, func)
        self.out.add(
            "schedule",
            "rq",
            name,
            path,
            call.call[4],
            why=why,
            fragment=render(func),
            schedule=text,
        )

    def _rq_name(self, path: str, scope: str, func: Expr) -> tuple[str | None, str]:
        """RQ names a job by its function's dotted path (or the string given)."""
        if func[0] == "s":
            return str(func[1]), ""
        target = self.values.names.target(path, scope, func)
        if target is None:
            return None, "the job function comes from code this analysis cannot see"
        if target.kind == "func":
            job = self.defs.get((target.path, target.name))
            if job is not None:
                return job.name, ""
            module = self.values.names.module_name(target.path)
            name = f"{module}.{target.name}" if module else target.name
            function = self.facts[target.path].names["functions"].get(target.name, {})
            key = (target.path, target.name)
            self.defs[key] = JobDef(
                "rq",
                name,
                None,
                False,
                target.path,
                function.get("line", 1),
                self._arguments_at((target.path, function.get("line", 1))),
            )
            self.out.add(
                "define",
                "rq",
                name,
                target.path,
                function.get("line", 1),
                arguments=self.defs[key].arguments,
            )
            return name, ""
        if target.kind == "external":
            return target.name, ""
        return None, "the job function is computed at run time"


def _unknown_task(target: object) -> str:
    if target is None:
        return "the task object comes from a value this analysis cannot follow"
    return "the task is not defined in this repository"


def as_written(text: str) -> str:
    """A schedule as written: a string literal's content, other expressions verbatim."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _queue_of(values: PyValues, made: Expr | None, path: str) -> str | None:
    if made is None:
        return None
    value = made[3].get("name") or (made[2][0] if made[2] else None)
    return values.names.string(path, "", value) if value is not None else "default"


def _items(value: Expr) -> list[Expr]:
    return list(value[1]) if value[0] == "l" else []
