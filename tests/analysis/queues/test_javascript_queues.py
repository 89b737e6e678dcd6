"""JavaScript/TypeScript queues and jobs on the fixture shop: every producer, consumer, job,
enqueue site and schedule at its file:line; names from literals, enums, barrels, process.env
(with defaults and .env), node-config, NestJS decorators and injected queues."""

from __future__ import annotations

from queues_support import FIXTURES, channel, expected, inventory_of, job, sites

SHOP = FIXTURES / "javascript"


def test_inventory_is_exactly_the_expected_one() -> None:
    assert inventory_of(SHOP) == expected("javascript")


def test_kafkajs_and_nestjs_meet_on_one_topic() -> None:
    inventory = inventory_of(SHOP)
    created = channel(inventory, "kafka", "order.created")  # Topics.ORDER_CREATED via a barrel
    assert sites(created["producers"]) == ["src/kafka.ts:13"]
    assert sites(created["consumers"]) == [
        "src/kafka.ts:19",
        "src/kafka.ts:20",  # the /^order\..*/ subscription
        "src/nest/orders.controller.ts:8",  # @EventPattern on the Kafka transport
    ]
    assert {m["name"] for m in created["messages"]} == {"OrderCreated"}
    cancelled = channel(inventory, "kafka", "order.cancelled")  # ClientKafka.emit
    assert cancelled["producers"][0]["symbol"] == "PaymentsService.cancel"
    assert sites(channel(inventory, "kafka", "audit")["producers"]) == ["src/kafka.ts:14"]
    assert sites(channel(inventory, "kafka", "payments.v1")["producers"]) == ["src/kafka.ts:15"]


def test_amqplib_bindings_and_zod_payload() -> None:
    inventory = inventory_of(SHOP)
    signup = channel(inventory, "rabbitmq", "notifications/user.signup")
    assert sites(signup["consumers"]) == ["src/amqp.ts:11"]  # queue mailer bound with user.*
    refunds = channel(inventory, "rabbitmq", "refunds")
    assert refunds["messages"][0]["schema"]["required"] == ["orderId", "amount"]


def test_sqs_queue_from_dotenv_and_sqs_consumer() -> None:
    intake = channel(inventory_of(SHOP), "sqs", "orders-intake")
    assert sites(intake["producers"]) == ["src/aws.ts:9"]
    assert sites(intake["consumers"]) == ["src/aws.ts:10", "src/aws.ts:14"]


def test_bull_family_jobs_are_named_by_add_and_defined_by_processors() -> None:
    inventory = inventory_of(SHOP)
    welcome = job(inventory, "bullmq", "welcome")
    assert welcome["queue"] == "email"
    assert welcome["defined_at"] == {"file": "src/workers/email.worker.ts", "line": 9}
    assert sites(welcome["enqueued_at"]) == ["src/signup.ts:4"]
    assert job(inventory, "bullmq", "daily")["schedule"] == "0 6 * * *"
    assert job(inventory, "bullmq", "digest")["defined_at"]["file"] == "src/nest/mail.ts"
    resize = job(inventory, "bull", "resize")
    assert resize["defined_at"] == {"file": "src/legacy/bull.js", "line": 5}
    # a nameless add goes to Bull's default job, which no processor here handles
    assert job(inventory, "bull", "images")["defined_at"] is None


def test_agenda_cron_and_nest_schedules() -> None:
    inventory = inventory_of(SHOP)
    assert job(inventory, "agenda", "send newsletter")["schedule"] == "1 week"
    assert sites(job(inventory, "agenda", "purge sessions")["enqueued_at"]) == ["src/agenda.ts:10"]
    assert job(inventory, "node-cron", "rotateLogs")["schedule"] == "0 3 * * *"
    assert job(inventory, "cron", "cleanup")["schedule"] == "0 0 * * 0"
    assert job(inventory, "@nestjs/schedule", "morning-digest")["schedule"] == "0 8 * * 1-5"


def test_template_with_a_parameter_is_unresolved() -> None:
    assert [(u["file"], u["line"], u["fragment"]) for u in inventory_of(SHOP)["unresolved"]] == [
        ("src/kafka.ts", 24, "`tenant.${tenant}`")
    ]
