"""JavaScript/TypeScript queues and jobs: BullMQ, Bull, bee-queue, Agenda, node-cron, cron,
amqplib, kafkajs, AWS SDK SQS/SNS, sqs-consumer, ioredis, node-redis, nats.js, Google Pub/Sub
and NestJS (microservice handlers and clients, Bull processors, schedules)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from backend_agent.analysis.endpoints.javascript.facts import TsConfig
from backend_agent.analysis.parsing import language_for
from backend_agent.analysis.project import Project
from backend_agent.analysis.queues.config import (
    ConfigFacts,
    ConfigIndex,
    is_config_file,
    scan_config,
)
from backend_agent.analysis.queues.model import Resolution

_TEST_FILE = re.compile(
    r"(^|/)(__tests__|__mocks__|test|tests|spec|e2e|cypress|fixtures|\.[^/]+)/"
    r"|\.(test|spec|e2e-spec|d)\.[cm]?[jt]sx?$"
)
_TS_CONFIG = re.compile(r"(?:^|/)[tj]sconfig(?:\.[\w-]+)?\.json$")


class JavaScriptQueues:
    """Scans JavaScript/TypeScript sources (tests excluded), tsconfig and configuration files."""

    name = "javascript"
    version = 1

    def wants(self, path: str) -> bool:
        if _TS_CONFIG.search(path) or is_config_file(path):
            return True
        language = language_for(path)
        return language in ("javascript", "typescript", "tsx") and not _TEST_FILE.search(path)

    def scan(self, path: str, source: bytes) -> Any:
        from backend_agent.analysis.endpoints.javascript import ts_config
        from backend_agent.analysis.queues.javascript.scan import scan_queues

        if _TS_CONFIG.search(path):
            return ts_config(source)
        language = language_for(path)
        if language is None:
            return scan_config(path, source)
        return scan_queues(source, language)

    def resolve(self, facts: Mapping[str, Any], project: Project) -> Resolution:
        from backend_agent.analysis.queues.javascript.facts import JsQueueFacts
        from backend_agent.analysis.queues.javascript.resolve import resolve_javascript

        return resolve_javascript(
            {p: f for p, f in facts.items() if isinstance(f, JsQueueFacts)},
            {p: f for p, f in facts.items() if isinstance(f, TsConfig)},
            ConfigIndex({p: f for p, f in facts.items() if isinstance(f, ConfigFacts)}),
        )


extractor = JavaScriptQueues()
