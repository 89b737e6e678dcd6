"""The report's "Queues & Jobs" part under Endpoints/Contracts, and breaking queue changes
under Risks & Rollbacks, built from a real repository."""

from __future__ import annotations

import json
from pathlib import Path

from queues_support import commit_all, init_repo

from backend_agent.analysis.project import Project
from backend_agent.analysis.report import build_report, render

WORKER = """\
from celery import shared_task
from kafka import KafkaProducer

producer = KafkaProducer()


@shared_task(queue="{queue}")
def send_receipt(order_id):
    producer.send("receipts", order_id)


def checkout(order):
    send_receipt.delay(order.id)
"""


def test_whole_repository_report_lists_channels_and_jobs(tmp_path: Path) -> None:
    (tmp_path / "worker.py").write_text(WORKER.format(queue="emails"))
    report = build_report(Project(tmp_path))
    markdown = render(report, "md")
    endpoints = markdown.split("### Endpoints/Contracts")[1].split("###")[0]
    assert "- **Queues & Jobs** (2):" in endpoints
    assert (
        "  - channel · kafka · receipts · 1 producer(s), 0 consumer(s) (`worker.py:9`)" in endpoints
    )
    assert (
        "  - job · celery · worker.send_receipt · queue emails, enqueued at 1 site(s) "
        "(`worker.py:8`)" in endpoints
    )
    data = json.loads(render(report, "json"))
    assert [c["name"] for c in data["queues"]["channels"]] == ["receipts"]
    html = render(report, "html")
    assert "<h3>Queues &amp; Jobs</h3>" in html.split('id="endpoints"')[1].split("</section>")[0]


def test_a_breaking_queue_change_is_a_risk_with_its_roll_out(tmp_path: Path) -> None:
    init_repo(tmp_path)
    (tmp_path / "worker.py").write_text(WORKER.format(queue="emails"))
    commit_all(tmp_path)
    (tmp_path / "worker.py").write_text(WORKER.format(queue="mail"))
    report = build_report(Project(tmp_path), base="HEAD")
    markdown = render(report, "md")
    endpoints = markdown.split("### Endpoints/Contracts")[1].split("###")[0]
    assert "job · breaking · job-queue-changed · celery job worker.send_receipt moved" in endpoints
    risks = markdown.split("### Risks & Rollbacks")[1]
    assert "**HIGH** [queues] `job-queue-changed`" in risks
    assert "Rollback: jobs already waiting on emails are only processed while a worker" in risks
    data = json.loads(render(report, "json"))
    assert [c["rule"] for c in data["queues"]["changes"]] == ["job-queue-changed"]
    assert [r["category"] for r in data["risks"]] == ["queues"]


def test_no_queues_no_part(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("print('hello')\n")
    report = build_report(Project(tmp_path))
    assert "Queues & Jobs" not in render(report, "md")
    assert "queues" not in json.loads(render(report, "json"))
