"""Go queues and jobs on the fixture module: every producer, consumer, job, enqueue site and
schedule at its file:line; names from literals, package constants across packages,
fmt.Sprintf, os.Getenv (.env), config-struct fields (YAML) and declared queues."""

from __future__ import annotations

from queues_support import FIXTURES, channel, expected, inventory_of, job, sites

MODULE = FIXTURES / "go"


def test_inventory_is_exactly_the_expected_one() -> None:
    assert inventory_of(MODULE) == expected("go")


def test_kafka_clients_with_constants_sprintf_and_environment() -> None:
    inventory = inventory_of(MODULE)
    orders = channel(inventory, "kafka", "orders")  # events.TopicOrders, another package
    assert "internal/kafka/sarama.go:17" in sites(orders["producers"])
    assert sites(orders["consumers"]) == ["internal/kafka/sarama.go:23"]
    schema = orders["messages"][0]["schema"]  # json.Marshal(evt) of events.OrderCreated
    assert schema["required"] == ["id", "total", "lines", "created_at"]
    assert schema["properties"]["lines"]["items"]["title"] == "Line"
    assert sites(channel(inventory, "kafka", "shop.audit")["producers"]) == [
        "internal/kafka/kafkago.go:15"
    ]
    assert sites(channel(inventory, "kafka", "refunds.v2")["consumers"]) == [
        "internal/kafka/kafkago.go:19"
    ]
    shipments = channel(inventory, "kafka", "shipments")  # confluent, &topic
    assert sites(shipments["producers"]) == ["internal/kafka/confluent.go:9"]


def test_amqp_declared_queue_name_and_topic_binding() -> None:
    inventory = inventory_of(MODULE)
    jobs = channel(inventory, "rabbitmq", "jobs")  # q.Name of QueueDeclare("jobs")
    assert sites(jobs["producers"]) == ["internal/rabbit/amqp.go:16"]
    assert sites(jobs["consumers"]) == ["internal/rabbit/amqp.go:20"]
    created = channel(inventory, "rabbitmq", "events/user.created")
    assert sites(created["consumers"]) == ["internal/rabbit/amqp.go:19"]


def test_sqs_names_from_yaml_config_and_get_queue_url() -> None:
    inventory = inventory_of(MODULE)
    assert sites(channel(inventory, "sqs", "billing")["producers"]) == ["internal/cloud/aws.go:18"]
    assert sites(channel(inventory, "sqs", "invoices")["consumers"]) == ["internal/cloud/aws.go:27"]


def test_asynq_machinery_river_and_cron_jobs() -> None:
    inventory = inventory_of(MODULE)
    welcome = job(inventory, "asynq", "email:welcome")
    assert welcome["queue"] == "critical"
    assert sites(welcome["enqueued_at"]) == ["internal/tasks/asynq.go:22"]
    assert job(inventory, "asynq", "reports:refresh")["schedule"] == "@every 30m"
    add = job(inventory, "machinery", "add")
    assert add["queue"] == "math" and add["schedule"] == "0 6 * * *"
    sort = job(inventory, "river", "sort")
    assert sort["queue"] == "sorting"
    assert sort["arguments"] == ["strings []string", "reverse bool"]
    assert sort["defined_at"] == {"file": "internal/jobs/river.go", "line": 15}
    assert job(inventory, "cron", "cleanup")["schedule"] == "0 30 * * * *"
    assert job(inventory, "cron", "cmd/cron/main.go:cron#2")["schedule"] == "@hourly"


def test_a_wrapper_parameter_is_followed_to_its_callers() -> None:
    """``kafka.Send(p, topic, data)`` wraps the producer: each call names the topic."""
    inventory = inventory_of(MODULE)
    assert sites(channel(inventory, "kafka", "orders")["producers"]) == [
        "cmd/api/main.go:9",
        "internal/kafka/sarama.go:17",
    ]
    assert channel(inventory, "kafka", "invoices.paid")["producers"][0]["symbol"] == "notify"
    assert [(u["file"], u["line"], u["fragment"]) for u in inventory["unresolved"]] == [
        ("cmd/api/main.go", 11, "topic")  # the caller's own parameter
    ]
