"""Ruby queues and jobs on the fixture app: every producer, consumer, job, enqueue site and
schedule at its file:line; names from literals, symbols, module constants, ENV (.env),
config-gem settings, Bunny queue objects and YAML schedules."""

from __future__ import annotations

from queues_support import FIXTURES, channel, expected, inventory_of, job, sites

APP = FIXTURES / "ruby"


def test_inventory_is_exactly_the_expected_one() -> None:
    assert inventory_of(APP) == expected("ruby")


def test_sidekiq_jobs_enqueues_and_yaml_schedules() -> None:
    inventory = inventory_of(APP)
    hard = job(inventory, "sidekiq", "HardWorker")
    assert hard["queue"] == "critical"
    assert hard["arguments"] == ["name", "count"]
    assert sites(hard["enqueued_at"]) == [
        "app/controllers/orders_controller.rb:6",
        "app/controllers/orders_controller.rb:7",
    ]
    assert hard["schedules"] == [  # sidekiq-cron's config/schedule.yml
        {"schedule": "*/5 * * * *", "file": "config/schedule.yml", "line": 1}
    ]
    report = job(inventory, "sidekiq", "ReportWorker")  # Sidekiq::Client.push
    assert sites(report["enqueued_at"]) == ["app/controllers/orders_controller.rb:9"]
    assert report["schedules"] == [
        {"schedule": "every day at 3am", "file": "config/recurring.yml", "line": 2},  # Solid Queue
        {"schedule": "1h", "file": "config/sidekiq.yml", "line": 4},  # sidekiq-scheduler
    ]


def test_activejob_queue_from_a_module_constant_and_good_job_cron() -> None:
    inventory = inventory_of(APP)
    charge = job(inventory, "activejob", "Billing::ChargeJob")
    assert charge["queue"] == "billing"
    assert charge["arguments"] == ["order_id", "retry_count: 0"]
    assert charge["schedule"] == "0 * * * *"
    assert job(inventory, "activejob", "MailerJob")["queue"] == "default"  # from ApplicationJob
    assert not [j for j in inventory["jobs"] if j["name"] == "ApplicationJob"]


def test_a_chained_call_is_found_at_its_method_line() -> None:
    mailer = job(inventory_of(APP), "activejob", "MailerJob")
    assert sites(mailer["enqueued_at"]) == [
        "app/controllers/orders_controller.rb:5",
        "app/controllers/orders_controller.rb:15",  # `.perform_later` of a three-line chain
    ]


def test_solid_queue_commands_are_jobs_of_their_own() -> None:
    command = job(inventory_of(APP), "solid_queue", "SolidQueue::Job.clear_finished_in_batches")
    assert command["schedules"] == [
        {"schedule": "every hour", "file": "config/recurring.yml", "line": 5}
    ]


def test_resque_and_whenever() -> None:
    inventory = inventory_of(APP)
    serve = job(inventory, "resque", "FileServe")
    assert serve["queue"] == "file_serve"
    assert serve["schedule"] == "0 0 * * *"
    assert job(inventory, "whenever", "db:cleanup")["schedule"] == ':day, at: "4:30 am"'


def test_bunny_objects_bindings_and_sneakers() -> None:
    inventory = inventory_of(APP)
    tasks = channel(inventory, "rabbitmq", "tasks")  # routing_key: q.name
    assert sites(tasks["producers"]) == ["app/messaging/bunny_publisher.rb:8"]
    assert sites(tasks["consumers"]) == ["app/workers/tasks_worker.rb:3"]
    paid = channel(inventory, "rabbitmq", "shop.events/order.paid")  # ENV.fetch default
    assert sites(paid["consumers"]) == ["app/messaging/bunny_publisher.rb:12"]


def test_kafka_karafka_racecar_and_aws() -> None:
    inventory = inventory_of(APP)
    assert sites(channel(inventory, "kafka", "audit-log")["producers"]) == [
        "app/messaging/kafka_client.rb:5"
    ]
    orders = channel(inventory, "kafka", "orders")
    assert sites(orders["consumers"]) == ["karafka.rb:3"]
    assert sites(channel(inventory, "kafka", "payments")["consumers"]) == [
        "app/consumers/payments_consumer.rb:2"
    ]
    mailroom = channel(inventory, "sqs", "mailroom")  # get_queue_url(...).queue_url, Shoryuken
    assert sites(mailroom["consumers"]) == [
        "app/messaging/aws_client.rb:6",
        "app/workers/mailroom_worker.rb:1",
    ]
    assert sites(channel(inventory, "sns", "alerts")["producers"]) == [
        "app/messaging/aws_client.rb:8"
    ]


def test_interpolated_parameter_is_unresolved() -> None:
    assert [(u["file"], u["line"], u["fragment"]) for u in inventory_of(APP)["unresolved"]] == [
        ("app/messaging/kafka_client.rb", 11, "tenant.#{tenant}")
    ]
