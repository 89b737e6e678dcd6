"""Go queues and jobs: sarama, segmentio/kafka-go, confluent-kafka-go, amqp091-go and
streadway/amqp, aws-sdk-go SQS/SNS, go-redis, nats.go, asynq, machinery, river, robfig/cron."""

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

_TESTS = re.compile(r"(?:^|/)(?:e2e|testdata|tests?|mocks?|\.[^/]+)/")


class GoQueues:
    """Scans ``.go`` files (tests excluded), ``go.mod`` and configuration files."""

    name = "go"
    version = 1

    def wants(self, path: str) -> bool:
        name = path.rsplit("/", 1)[-1]
        if name.endswith(".go"):
            return not name.endswith("_test.go") and _TESTS.search(path) is None
        return name == "go.mod" or is_config_file(path)

    def scan(self, path: str, source: bytes) -> Any:
        from backend_agent.analysis.queues.go.scan import scan_go, scan_go_mod

        if path.endswith("go.mod"):
            return scan_go_mod(source)
        return scan_go(source) if path.endswith(".go") else scan_config(path, source)

    def resolve(self, facts: Mapping[str, Any], project: Project) -> Resolution:
        from backend_agent.analysis.queues.go.brokers import GoSite, broker_events
        from backend_agent.analysis.queues.go.jobs import job_events
        from backend_agent.analysis.queues.go.scan import GoQueueFacts
        from backend_agent.analysis.queues.go.values import GoValues

        config = ConfigIndex({p: f for p, f in facts.items() if isinstance(f, ConfigFacts)})
        values = GoValues({p: f for p, f in facts.items() if isinstance(f, GoQueueFacts)}, config)
        out = Resolution()
        for path, file_facts in values.sources.items():
            for call in file_facts.calls:
                broker_events(GoSite(values, path, call, out))
        job_events(values, out)
        return out


extractor = GoQueues()
