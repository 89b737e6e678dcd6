"""Phase two for JavaScript/TypeScript: each recorded call and decorator, its receiver
evaluated across files, dispatched to the broker, job or NestJS rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial

from backend_agent.analysis.endpoints.javascript.facts import TsConfig
from backend_agent.analysis.endpoints.javascript.values import Thing
from backend_agent.analysis.queues.config import ConfigIndex
from backend_agent.analysis.queues.javascript.brokers import JsSite, broker_events
from backend_agent.analysis.queues.javascript.facts import (
    Decorated,
    JsCall,
    JsQueueFacts,
    last_name,
)
from backend_agent.analysis.queues.javascript.jobs import (
    BullJobs,
    agenda_call,
    cron_job,
    flow,
    queue_call,
    worker,
)
from backend_agent.analysis.queues.javascript.kinds import guess, kind_of
from backend_agent.analysis.queues.javascript.nest import nest_decorated
from backend_agent.analysis.queues.javascript.payloads import JsPayloads
from backend_agent.analysis.queues.javascript.values import JsValues
from backend_agent.analysis.queues.model import Resolution

_AWS_COMMAND_MODULES = ("@aws-sdk/client-sqs", "@aws-sdk/client-sns")


def resolve_javascript(
    sources: Mapping[str, JsQueueFacts], configs: Mapping[str, TsConfig], config: ConfigIndex
) -> Resolution:
    values = JsValues({p: f.values for p, f in sources.items()}, configs, config)
    resolver = _Resolver(sources, values, JsPayloads(sources, values))
    resolver.run()
    return resolver.out


@dataclass
class _Resolver:
    sources: Mapping[str, JsQueueFacts]
    values: JsValues
    payloads: JsPayloads
    out: Resolution = field(default_factory=Resolution)
    jobs: BullJobs = field(default_factory=BullJobs)
    crons: dict[str, int] = field(default_factory=dict)  # file -> cron jobs seen so far

    def _ordinal(self, file: str) -> int:
        self.crons[file] = self.crons.get(file, 0) + 1
        return self.crons[file]

    def run(self) -> None:
        transports = sorted({t for f in self.sources.values() for t in f.transports})
        for file, facts in self.sources.items():
            for call in facts.calls:
                self._dispatch(self._site(file, call), facts, transports)
            if facts.decorated:
                framework = "bullmq" if "@nestjs/bullmq" in facts.imports else "bull"
                site_of = partial(self._decorator_site, file)
                nest_decorated(facts.decorated, site_of, framework, transports, self.jobs)
        self.jobs.emit(self.out)

    def _site(self, file: str, call: JsCall) -> JsSite:
        return JsSite(self.values, self.payloads, file, call, self.out)

    def _decorator_site(self, file: str, item: Decorated) -> JsSite:
        symbol = f"{item.cls}.{item.method}" if item.method else item.cls
        return self._site(file, JsCall("decorator", ("unknown", ""), item.args, item.line, symbol))

    def _dispatch(self, site: JsSite, facts: JsQueueFacts, transports: list[str]) -> None:
        call = site.call
        if call.kind == "new":
            module = _module(self.values.eval(site.file, call.callee))
            last = last_name(call.callee)
            if last == "Worker" and module == "bullmq":
                worker(site, self.jobs)
            elif last == "CronJob" and module == "cron":
                cron_job(site, "cron", None, site.arg(1), self._ordinal(site.file))
            elif module in _AWS_COMMAND_MODULES:
                broker_events(site, None, transports)
            return
        if call.callee[0] != "member":
            return
        method = call.callee[2]
        receiver = self.values.eval(site.file, call.callee[1])
        kind = kind_of(receiver) or self._inherited(receiver) or guess(method, facts.imports)
        if kind == "bull-queue":
            self._queue(site, receiver, method)
        elif kind == "bull-flow" and method == "add":
            flow(site, self.jobs)
        elif kind == "agenda":
            agenda_call(site)
        elif method == "schedule" and _module(receiver) == "node-cron":
            cron_job(site, "node-cron", site.arg(2), site.arg(1), self._ordinal(site.file))
        elif method == "from" and _module(receiver) == "cron" and call.args:
            options = call.args[0]
            cron_time = site.field(options, "cronTime") or ("str", "")
            text = self.values.text(site.file, cron_time)[0] or ""
            pseudo = JsCall(
                "call", call.callee, (cron_time,), call.line, call.symbol, (), (text,), call.offset
            )
            tick = site.field(options, "onTick")
            cron_job(self._site(site.file, pseudo), "cron", options, tick, self._ordinal(site.file))
        else:
            broker_events(site, kind, transports)

    def _inherited(self, receiver: Thing) -> str | None:
        """The kind of a repository class that extends a library client (``class
        RedisAdapter extends Redis``): its instances, static getters and methods."""
        if receiver.kind not in ("class", "instance", "fn") or receiver.file not in self.sources:
            return None
        owner = receiver.name.split(".", 1)[0]
        base = self.sources[receiver.file].extends.get(owner)
        return kind_of(self.values.eval(receiver.file, base)) if base is not None else None

    def _queue(self, site: JsSite, receiver: Thing, method: str) -> None:
        framework = receiver.name
        if framework == "@nestjs/bull":  # an @InjectQueue field: the module the file imports
            imports = self.sources[receiver.file].imports if receiver.file in self.sources else ()
            framework = "bullmq" if "@nestjs/bullmq" in imports else "bull"
        queue_value = receiver.value[0] if receiver.value else None
        queue, why = self.values.text(receiver.file, queue_value) if queue_value else (None, "")
        if queue is not None:
            queue_call(site, framework, queue, self.jobs)
        elif method in ("add", "addBulk", "process"):
            fragment = site.call.texts[0] if site.call.texts else ""
            site.emit_name("enqueue", framework, None, why or "the queue has no name", fragment)


def _module(thing: Thing) -> str:
    return thing.name if thing.kind == "external" else ""
