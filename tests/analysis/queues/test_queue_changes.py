"""Queue and job contract changes between a git revision and the working tree: one test per
kind of change, on small real repositories."""

from __future__ import annotations

from pathlib import Path

import pytest
from queues_support import commit_all, init_repo

from backend_agent.analysis.project import Project
from backend_agent.analysis.queues.diff import diff_queues
from backend_agent.analysis.queues.signatures import compatibility

KAFKA = """\
from kafka import KafkaConsumer, KafkaProducer

producer = KafkaProducer()


def publish(order):
    producer.send({topic!r}, order)


def listen():
    return KafkaConsumer({consumed!r})
"""

CELERY = """\
from celery import shared_task


@shared_task(queue={queue!r})
def {name}({params}):
    pass


def checkout(order):
    {name}.delay(order.id)
"""


def changes(
    tmp_path: Path, files: dict[str, str], edited: dict[str, str | None]
) -> list[tuple[str, str, str]]:
    """(rule, compatibility, message) of the changes from ``files`` to ``files`` + ``edited``."""
    root = tmp_path / "repo"
    init_repo(root)
    for name, text in files.items():
        (root / name).write_text(text)
    commit_all(root, "base")
    for name, text in edited.items():
        if text is None:
            (root / name).unlink()
        else:
            (root / name).write_text(text)
    head = Project(root)
    return [(c.rule, c.compatibility, c.message) for c in diff_queues(head.at("HEAD"), head)]


def rules(found: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    return [(rule, compatibility) for rule, compatibility, _ in found]


def test_channel_added_and_removed(tmp_path: Path) -> None:
    base = {"bus.py": KAFKA.format(topic="orders", consumed="orders")}
    head = {
        "bus.py": None,
        "other.py": "import redis\n\nr = redis.Redis()\n\ndef f():\n    r.publish('pings', 1)\n",
    }
    assert sorted(rules(changes(tmp_path, base, head))) == [
        ("channel-added", "non-breaking"),
        ("channel-removed", "breaking"),
    ]


def test_renamed_topic(tmp_path: Path) -> None:
    base = {"bus.py": KAFKA.format(topic="orders", consumed="orders")}
    head = {"bus.py": KAFKA.format(topic="orders.v2", consumed="orders.v2")}
    found = changes(tmp_path, base, head)
    assert rules(found) == [("channel-renamed", "breaking")]
    assert "kafka orders is now orders.v2" in found[0][2]
    assert "consume both names" in found[0][2]


def test_producer_left_without_consumer_and_the_reverse(tmp_path: Path) -> None:
    base = {
        "bus.py": KAFKA.format(topic="orders", consumed="orders"),
        "pay.py": KAFKA.format(topic="payments", consumed="payments").replace("publish", "pay"),
    }
    head = {
        "bus.py": KAFKA.format(topic="orders", consumed="audit"),
        "pay.py": KAFKA.format(topic="refunds", consumed="payments").replace("publish", "pay"),
    }
    found = rules(changes(tmp_path, base, head))
    assert ("producer-without-consumer", "breaking") in found  # orders: nobody listens now
    assert ("consumer-without-producer", "breaking") in found  # payments: nobody sends now


def test_job_queue_changed(tmp_path: Path) -> None:
    base = {"tasks.py": CELERY.format(queue="emails", name="send", params="order_id")}
    head = {"tasks.py": CELERY.format(queue="mail", name="send", params="order_id")}
    found = changes(tmp_path, base, head)
    assert rules(found) == [("job-queue-changed", "breaking")]
    assert "from queue emails to mail" in found[0][2]
    assert "until emails is empty" in found[0][2]


def test_job_renamed_and_removed(tmp_path: Path) -> None:
    base = {
        "tasks.py": CELERY.format(queue="q", name="send", params="order_id"),
        "old.py": CELERY.format(queue="q", name="legacy", params="x"),
    }
    head = {
        "tasks.py": CELERY.format(queue="q", name="send_receipt", params="order_id"),
        "old.py": None,
    }
    found = rules(changes(tmp_path, base, head))
    assert ("job-renamed", "breaking") in found
    assert ("job-removed", "breaking") in found


def test_job_definition_removed_while_still_enqueued(tmp_path: Path) -> None:
    enqueue = (
        "from rq import Queue\n{imports}\nq = Queue('mail')\n\ndef go():\n    q.enqueue({job}, 1)\n"
    )
    base = {
        "mail.py": "def render(order_id):\n    pass\n",
        "app.py": enqueue.format(imports="from mail import render\n", job="render"),
    }
    head = {
        "mail.py": "def other():\n    pass\n",
        "app.py": enqueue.format(imports="", job="'mail.render'"),  # RQ also takes a dotted name
    }
    assert rules(changes(tmp_path, base, head)) == [("job-definition-removed", "breaking")]


def test_job_no_longer_enqueued(tmp_path: Path) -> None:
    base = {"tasks.py": CELERY.format(queue="q", name="send", params="order_id")}
    head = {
        "tasks.py": CELERY.format(queue="q", name="send", params="order_id").split(
            "\n\ndef checkout"
        )[0]
        + "\n"
    }
    assert rules(changes(tmp_path, base, head)) == [("job-no-longer-enqueued", "breaking")]


def test_job_arguments_changed_says_how_to_roll_out(tmp_path: Path) -> None:
    base = {"tasks.py": CELERY.format(queue="q", name="send", params="order_id")}
    head = {"tasks.py": CELERY.format(queue="q", name="send", params="order_id, email")}
    found = changes(tmp_path, base, head)
    assert rules(found) == [("job-arguments-changed", "breaking")]
    assert "(order_id) -> (order_id, email)" in found[0][2]
    assert "accept both signatures" in found[0][2]


def test_optional_argument_added_is_not_breaking(tmp_path: Path) -> None:
    base = {"tasks.py": CELERY.format(queue="q", name="send", params="order_id")}
    head = {"tasks.py": CELERY.format(queue="q", name="send", params="order_id, copy=False")}
    assert rules(changes(tmp_path, base, head)) == [("job-arguments-extended", "non-breaking")]


def test_schedule_changed_added_and_removed(tmp_path: Path) -> None:
    beat = "beat_schedule = {{'nightly': {{'task': 'tasks.{name}', 'schedule': {when}}}}}\n"
    task = "@shared_task\ndef {}():\n    pass\n\n"
    tasks = "from celery import shared_task\n\n" + task.format("a") + task.format("b")
    base = {"tasks.py": tasks, "celeryconfig.py": beat.format(name="a", when="300.0")}
    moved = beat.format(name="a", when="crontab(hour=2)")
    assert rules(changes(tmp_path / "1", base, {"celeryconfig.py": moved})) == [
        ("schedule-changed", "possibly-breaking")
    ]
    switched = beat.format(name="b", when="300.0")
    assert sorted(rules(changes(tmp_path / "2", base, {"celeryconfig.py": switched}))) == [
        ("schedule-added", "non-breaking"),
        ("schedule-removed", "possibly-breaking"),
    ]


@pytest.mark.parametrize(
    ("old", "new", "framework", "verdict"),
    [
        (("a", "b"), ("a", "b", "c=1"), "celery", "non-breaking"),
        (("a", "b"), ("b", "a"), "celery", "breaking"),  # positional order
        (("a", "b"), ("a",), "celery", "breaking"),  # old calls pass b
        (("a",), ("a", "*args"), "celery", "non-breaking"),
        (("a", "b"), ("*args", "**kwargs"), "celery", "non-breaking"),
        (("id",), ("id", "retry: 0"), "sidekiq", "non-breaking"),  # Ruby optional keyword
        (("id",), ("id", "retry:"), "activejob", "breaking"),  # Ruby required keyword
        (("order_id: int",), ("order_id: int", "email: str"), "celery", "breaking"),
        (("ids []string",), ("ids []string", "all bool"), "river", "possibly-breaking"),
    ],
)
def test_signature_compatibility(
    old: tuple[str, ...], new: tuple[str, ...], framework: str, verdict: str
) -> None:
    assert compatibility(old, new, framework) == verdict
