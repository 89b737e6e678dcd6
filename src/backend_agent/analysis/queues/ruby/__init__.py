"""Ruby queues and jobs: Sidekiq, sidekiq-cron and sidekiq-scheduler, ActiveJob, Resque (and
resque-scheduler), GoodJob cron, whenever, Bunny, Sneakers, ruby-kafka, Karafka/WaterDrop,
Racecar, aws-sdk SQS/SNS, Shoryuken."""

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

_SKIPPED = re.compile(r"(^|/)(spec|test|features|\.[^/]+)/")


class RubyQueues:
    """Scans Ruby sources (tests excluded), ``schedule.rb`` and YAML configuration files."""

    name = "ruby"
    version = 1

    def wants(self, path: str) -> bool:
        if path.endswith((".rb", ".rake")):
            return _SKIPPED.search(path) is None
        return is_config_file(path)

    def scan(self, path: str, source: bytes) -> Any:
        from backend_agent.analysis.queues.ruby.scan import scan_ruby

        if path.endswith((".rb", ".rake")):
            return scan_ruby(source)
        return scan_config(path, source)

    def resolve(self, facts: Mapping[str, Any], project: Project) -> Resolution:
        from backend_agent.analysis.queues.ruby.brokers import broker_events, consumer_classes
        from backend_agent.analysis.queues.ruby.jobs import (
            definitions,
            enqueue,
            good_job_cron,
            schedules,
        )
        from backend_agent.analysis.queues.ruby.scan import RbQueueFacts
        from backend_agent.analysis.queues.ruby.schedules import yaml_schedules
        from backend_agent.analysis.queues.ruby.values import RbValues

        configs = {p: f for p, f in facts.items() if isinstance(f, ConfigFacts)}
        values = RbValues(
            {p: f for p, f in facts.items() if isinstance(f, RbQueueFacts)}, ConfigIndex(configs)
        )
        out = Resolution()
        definitions(values, out)
        consumer_classes(values, out)
        for path, file_facts in values.facts.items():
            for call in file_facts.calls:
                enqueue(values, path, call, out)
                schedules(values, path, call, out)
                broker_events(values, path, call, out)
            for target, held, line in file_facts.assignments:
                good_job_cron(values, path, target, held, line, out)
        for path, config in configs.items():
            yaml_schedules(path, config, out)
        return out


extractor = RubyQueues()
