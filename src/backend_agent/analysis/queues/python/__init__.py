"""Python queues and jobs: Celery, RQ, Dramatiq, arq, kombu, pika, aio-pika, kafka-python,
aiokafka, confluent-kafka, boto3 SQS/SNS, redis-py pub/sub and streams, nats-py."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from backend_agent.analysis.project import Project
from backend_agent.analysis.queues.config import (
    ConfigFacts,
    ConfigIndex,
    is_config_file,
    scan_config,
)
from backend_agent.analysis.queues.model import Resolution

# Tests, and dot-directories (.github, .semgrep rule fixtures, ...), are no application code.
_TESTS = re.compile(
    r"(?:^|/)(?:tests?|testing|\.[^/]+)/|(?:^|/)(?:test_[^/]*|[^/]*_tests?|conftest)\.py$"
)


class PythonQueues:
    """Scans ``.py`` files (tests excluded) and configuration files; resolves names across
    modules, settings and the environment."""

    name = "python"
    version = 1

    def wants(self, path: str) -> bool:
        if path.endswith(".py"):
            return _TESTS.search(path) is None
        return is_config_file(path)

    def scan(self, path: str, source: bytes) -> Any:
        if not path.endswith(".py"):
            return scan_config(path, source)
        from backend_agent.analysis.queues.python.scan import scan_python

        return scan_python(path, source)

    def resolve(self, facts: Mapping[str, Any], project: Project) -> Resolution:
        from backend_agent.analysis.queues.python.brokers import CallSite, broker_events
        from backend_agent.analysis.queues.python.facts import PyQueueFacts
        from backend_agent.analysis.queues.python.jobs import PythonJobs
        from backend_agent.analysis.queues.python.values import PyValues

        sources = {p: f for p, f in facts.items() if isinstance(f, PyQueueFacts)}
        config = ConfigIndex({p: f for p, f in facts.items() if isinstance(f, ConfigFacts)})
        values = PyValues(sources, config)
        out = Resolution()
        PythonJobs(values, out).run()
        for path, file_facts in sources.items():
            roots = file_facts.names["roots"]
            for call in file_facts.calls:
                broker_events(CallSite(values, path, call, out), roots)
        return out


extractor = PythonQueues()
