"""Job and scheduling frameworks by package name, for ``stack`` (brokers are in its own
catalog): npm, PyPI, Go module and gem names."""

from __future__ import annotations

JOB_FRAMEWORKS: dict[str, str] = {
    # npm
    "bullmq": "BullMQ", "bull": "Bull", "bee-queue": "Bee-Queue", "agenda": "Agenda",
    "node-cron": "node-cron", "cron": "cron", "@nestjs/bull": "Bull", "@nestjs/bullmq": "BullMQ",
    "@nestjs/schedule": "@nestjs/schedule",
    # PyPI
    "celery": "Celery", "rq": "RQ", "rq-scheduler": "rq-scheduler", "dramatiq": "Dramatiq",
    "arq": "arq", "django-rq": "RQ", "periodiq": "periodiq", "huey": "Huey",
    # Go modules (matched by prefix, major versions included)
    "github.com/hibiken/asynq": "asynq", "github.com/RichardKnop/machinery": "machinery",
    "github.com/riverqueue/river": "river", "github.com/robfig/cron": "robfig/cron",
    # gems
    "sidekiq": "Sidekiq", "sidekiq-cron": "sidekiq-cron", "sidekiq-scheduler": "sidekiq-scheduler",
    "resque": "Resque", "resque-scheduler": "resque-scheduler", "good_job": "GoodJob",
    "solid_queue": "Solid Queue", "whenever": "whenever", "delayed_job": "Delayed::Job",
    "shoryuken": "Shoryuken", "sneakers": "Sneakers", "karafka": "Karafka", "racecar": "Racecar",
}  # fmt: skip


def job_framework(package: str) -> str | None:
    """The job framework a dependency is, or None (Go modules match by path prefix)."""
    found = JOB_FRAMEWORKS.get(package)
    if found is not None or "/" not in package:
        return found
    return next((v for k, v in JOB_FRAMEWORKS.items() if package.startswith(k + "/")), None)
