"""``stack`` lists job frameworks beside brokers, from every ecosystem's manifests."""

from __future__ import annotations

from pathlib import Path

from backend_agent.analysis.stack import detect_stack


def test_job_frameworks_with_evidence(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "package.json").write_text(
        '{"dependencies": {"bullmq": "^5", "kafkajs": "^2"}}'
    )
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "requirements.txt").write_text("celery[redis]==5.4\ndjango\n")
    (tmp_path / "worker").mkdir()
    (tmp_path / "worker" / "go.mod").write_text(
        "module x\n\nrequire github.com/hibiken/asynq v0.24.1\n"
    )
    (tmp_path / "rails").mkdir()
    (tmp_path / "rails" / "Gemfile").write_text("gem 'sidekiq'\ngem 'sidekiq-cron'\n")
    stack = detect_stack(tmp_path)
    assert stack.job_frameworks == ["BullMQ", "Celery", "Sidekiq", "asynq", "sidekiq-cron"]
    assert "Redis" in stack.queues and "Kafka" in stack.queues  # brokers stay where they were
    web = next(c for c in stack.as_dict()["components"] if c["path"] == "web")
    assert web["job_frameworks"] == [{"name": "BullMQ", "evidence": "web/package.json: bullmq"}]
