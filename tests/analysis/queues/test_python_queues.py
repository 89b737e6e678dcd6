"""Python queues and jobs on the fixture shop: every producer, consumer, job, enqueue site and
schedule at its file:line, names from literals, constants, settings and .env files."""

from __future__ import annotations

from pathlib import Path

from queues_support import (
    FIXTURES,
    channel,
    expected,
    inventory_of,
    job,
    sites,
)

SHOP = FIXTURES / "python"


def test_inventory_is_exactly_the_expected_one() -> None:
    assert inventory_of(SHOP) == expected("python")


def test_kafka_topics_from_constants_settings_classes_and_concatenation() -> None:
    inventory = inventory_of(SHOP)
    orders = channel(inventory, "kafka", "orders.created")
    assert sites(orders["producers"]) == ["shop/events/kafka_bus.py:15"]
    assert orders["producers"][0]["symbol"] == "publish_order"
    assert sites(orders["consumers"]) == ["shop/events/kafka_bus.py:20"]
    assert orders["messages"][0]["name"] == "OrderCreated"
    assert orders["messages"][0]["schema"]["required"] == ["order_id", "customer_email", "total"]
    refunds = channel(inventory, "kafka", "refunds")  # Settings.refunds_topic default
    assert sites(refunds["producers"]) == [
        "shop/events/kafka_bus.py:24",
        "shop/events/kafka_bus.py:29",
    ]
    assert sites(refunds["consumers"]) == ["shop/events/kafka_bus.py:31"]
    assert channel(inventory, "kafka", "payments.settled")["producers"] == []


def test_rabbitmq_default_exchange_named_exchange_and_topic_binding() -> None:
    inventory = inventory_of(SHOP)
    shipped = channel(inventory, "rabbitmq", "shop-events/order.shipped")
    # the consumer of queue "audit", bound to shop-events with "order.*", consumes it too
    assert sites(shipped["consumers"]) == ["shop/events/rabbit.py:19"]
    assert sites(channel(inventory, "rabbitmq", "stock")["consumers"]) == [
        "shop/events/rabbit.py:26"
    ]
    assert sites(channel(inventory, "rabbitmq", "media/video")["producers"]) == [
        "shop/events/rabbit.py:37"
    ]


def test_sqs_and_sns_names_from_urls_arns_settings_and_dotenv() -> None:
    inventory = inventory_of(SHOP)
    shipping = channel(inventory, "sqs", "shipping")  # URL default of os.environ.get
    assert sites(shipping["producers"]) == ["shop/events/cloud.py:15"]
    assert sites(shipping["consumers"]) == ["shop/events/cloud.py:19"]
    # os.environ["NOTIFY_TOPIC_ARN"], the ARN in .env; the SMS publish is no topic
    notifications = channel(inventory, "sns", "customer-notifications")
    assert sites(notifications["producers"]) == ["shop/events/cloud.py:23"]


def test_redis_and_nats_patterns_consume_what_they_match() -> None:
    inventory = inventory_of(SHOP)
    stock = channel(inventory, "redis-pubsub", "stock-updates")
    assert sites(stock["consumers"]) == ["shop/events/cloud.py:34", "shop/events/cloud.py:35"]
    assert sites(channel(inventory, "redis-streams", "audit-log")["consumers"]) == [
        "shop/events/cloud.py:36"
    ]
    invoices = channel(inventory, "nats", "billing.invoices.created")
    assert sites(invoices["consumers"]) == ["shop/events/cloud.py:42"]


def test_celery_names_routes_default_queue_and_beat_schedules() -> None:
    inventory = inventory_of(SHOP)
    daily = job(inventory, "celery", "reports.daily")
    assert daily["queue"] == "reports"  # task_routes glob "reports.*"
    assert daily["schedule"] == "crontab(hour=3, minute=0)"
    assert daily["arguments"] == ["day", "*", "include_refunds=False"]  # bind=True: no self
    receipt = job(inventory, "celery", "shop.tasks.send_receipt")
    assert receipt["queue"] == "emails"
    assert sites(receipt["enqueued_at"]) == ["shop/views.py:6", "shop/views.py:7"]
    digest = job(inventory, "celery", "shop.tasks.send_digest")
    assert digest["queue"] == "default"  # CELERY_TASK_DEFAULT_QUEUE
    assert digest["enqueued_at"] == []  # the signature given to add_periodic_task schedules
    assert digest["schedules"] == [
        {"schedule": "crontab(day_of_week=1, hour=7)", "file": "shop/celery.py", "line": 12}
    ]
    export = job(inventory, "celery", "reports.export")
    assert export["defined_at"] is None and export["queue"] == "reports"


def test_rq_dramatiq_and_arq_jobs() -> None:
    inventory = inventory_of(SHOP)
    invoice = job(inventory, "rq", "shop.mail.render_invoice")
    assert invoice["defined_at"] == {"file": "shop/mail.py", "line": 1}
    assert invoice["queue"] == "high"
    assert invoice["schedule"] == "*/15 * * * *"
    assert job(inventory, "dramatiq", "purge_carts")["schedules"][0]["line"] == 19
    assert job(inventory, "dramatiq", "make_thumbnail")["queue"] == "thumbnails"
    cleanup = job(inventory, "arq", "cleanup_sessions")
    assert cleanup["queue"] == "arq:avatars"
    assert cleanup["schedule"] == "hour={2, 14}, minute=30"


def test_parameters_are_unresolved_not_guessed() -> None:
    unresolved = inventory_of(SHOP)["unresolved"]
    assert [(u["file"], u["line"], u["fragment"]) for u in unresolved] == [
        ("shop/events/cloud.py", 43, "dynamic_subject")
    ]


def test_names_change_with_the_dotenv_file(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "import os\nimport redis\n\nr = redis.Redis()\n\n"
        "def ping():\n    r.publish(os.environ['CHANNEL'], 'x')\n"
    )
    assert inventory_of(tmp_path)["unresolved"][0]["reason"].endswith(
        "environment variable CHANNEL is not set in any .env or compose file"
    )
    (tmp_path / ".env.example").write_text("CHANNEL=example-channel\n")
    assert channel(inventory_of(tmp_path), "redis-pubsub", "example-channel")
    (tmp_path / ".env").write_text("CHANNEL=real-channel\n")  # a real .env wins
    assert channel(inventory_of(tmp_path), "redis-pubsub", "real-channel")
