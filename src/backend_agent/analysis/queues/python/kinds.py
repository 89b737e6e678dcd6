"""What Python receivers are: factory names mapped to the client, channel, queue or exchange
kinds of each queue library (``kafka-producer``, ``pika-channel``, ``sqs-queue``, ...)."""

from __future__ import annotations

# (root module, last name of the factory) -> kind; "*" matches any last name.
CONSTRUCTORS: dict[tuple[str, str], str] = {
    ("kafka", "KafkaProducer"): "kafka-producer",
    ("kafka", "KafkaConsumer"): "kafka-consumer",
    ("aiokafka", "AIOKafkaProducer"): "kafka-producer",
    ("aiokafka", "AIOKafkaConsumer"): "kafka-consumer",
    ("confluent_kafka", "Producer"): "kafka-producer",
    ("confluent_kafka", "SerializingProducer"): "kafka-producer",
    ("confluent_kafka", "AvroProducer"): "kafka-producer",
    ("confluent_kafka", "Consumer"): "kafka-consumer",
    ("confluent_kafka", "DeserializingConsumer"): "kafka-consumer",
    ("confluent_kafka", "AvroConsumer"): "kafka-consumer",
    ("redis", "*"): "redis-client",
    ("aioredis", "*"): "redis-client",
    ("nats", "*"): "nats-client",
    ("pika", "BlockingConnection"): "pika-connection",
    ("pika", "SelectConnection"): "pika-connection",
    ("aio_pika", "connect"): "aiopika-connection",
    ("aio_pika", "connect_robust"): "aiopika-connection",
    ("kombu", "Connection"): "kombu-connection",
    ("kombu", "Producer"): "kombu-producer",
    ("kombu", "Exchange"): "kombu-exchange",
    ("kombu", "Queue"): "kombu-queue",
    ("kombu", "Consumer"): "kombu-consumer",
    ("celery", "Celery"): "celery-app",
    ("rq", "Queue"): "rq-queue",
    ("rq_scheduler", "Scheduler"): "rq-scheduler",
    ("arq", "create_pool"): "arq-pool",
    ("arq", "ArqRedis"): "arq-pool",
}
# (receiver kind, method) -> kind of what the method returns.
METHODS: dict[tuple[str, str], str] = {
    ("redis-client", "pubsub"): "redis-pubsub",
    ("nats-client", "jetstream"): "nats-client",
    ("pika-connection", "channel"): "pika-channel",
    ("aiopika-connection", "channel"): "aiopika-channel",
    ("aiopika-channel", "declare_queue"): "aiopika-queue",
    ("aiopika-channel", "get_queue"): "aiopika-queue",
    ("aiopika-channel", "declare_exchange"): "aiopika-exchange",
    ("aiopika-channel", "get_exchange"): "aiopika-exchange",
    ("aiopika-channel", "default_exchange"): "aiopika-exchange",
    ("kombu-connection", "Producer"): "kombu-producer",
    ("kombu-connection", "Consumer"): "kombu-consumer",
    ("kombu-connection", "channel"): "kombu-connection",
    ("sqs-resource", "get_queue_by_name"): "sqs-queue",
    ("sqs-resource", "create_queue"): "sqs-queue",
    ("sqs-resource", "Queue"): "sqs-queue",
    ("sns-resource", "Topic"): "sns-topic",
    ("sns-resource", "create_topic"): "sns-topic",
    ("celery-app", "control"): "celery-app",
}
# Without a known receiver, a method is read as this kind when the file imports the module.
GUESSES: dict[str, tuple[tuple[str, str], ...]] = {
    "basic_publish": (("pika", "pika-channel"),),
    "basic_consume": (("pika", "pika-channel"),),
    "basic_get": (("pika", "pika-channel"),),
    "queue_bind": (("pika", "pika-channel"),),
    "send_and_wait": (("aiokafka", "kafka-producer"),),
    "produce": (("confluent_kafka", "kafka-producer"),),
    "send_message": (("boto3", "sqs-client"), ("aioboto3", "sqs-client")),
    "send_message_batch": (("boto3", "sqs-client"), ("aioboto3", "sqs-client")),
    "receive_message": (("boto3", "sqs-client"), ("aioboto3", "sqs-client")),
    "xadd": (("redis", "redis-client"),),
    "xread": (("redis", "redis-client"),),
    "xreadgroup": (("redis", "redis-client"),),
    "psubscribe": (("redis", "redis-pubsub"),),
    "pull_subscribe": (("nats", "nats-client"),),
}
# Receiver names that say what an unknown receiver is, for generic methods (send, publish).
NAME_HINTS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "send": (("produc", "kafka", "kafka-producer"), ("produc", "aiokafka", "kafka-producer")),
    "subscribe": (
        ("consum", "kafka", "kafka-consumer"),
        ("consum", "aiokafka", "kafka-consumer"),
        ("consum", "confluent_kafka", "kafka-consumer"),
        ("sub", "redis", "redis-pubsub"),
        ("nc", "nats", "nats-client"),
        ("nats", "nats", "nats-client"),
        ("js", "nats", "nats-client"),
    ),
    "publish": (
        ("redis", "redis", "redis-client"),
        ("nc", "nats", "nats-client"),
        ("nats", "nats", "nats-client"),
        ("js", "nats", "nats-client"),
        ("sns", "boto3", "sns-client"),
        ("exchange", "aio_pika", "aiopika-exchange"),
        ("producer", "kombu", "kombu-producer"),
    ),
    "request": (("nc", "nats", "nats-client"), ("nats", "nats", "nats-client")),
}


def constructor_kind(dotted: str, service: str | None) -> str | None:
    """The kind a factory makes (``boto3.client('sqs')`` -> ``sqs-client``), or None."""
    root, _, rest = dotted.partition(".")
    last = dotted.rsplit(".", 1)[-1]
    if root in ("boto3", "aioboto3", "aiobotocore", "botocore") or last in ("client", "resource"):
        if service in ("sqs", "sns") and last in ("client", "resource", "create_client"):
            return f"{service}-{'resource' if last == 'resource' else 'client'}"
        return None
    if not rest:
        return None
    return CONSTRUCTORS.get((root, last)) or CONSTRUCTORS.get((root, "*"))


def method_kind(owner: str, method: str) -> str | None:
    return METHODS.get((owner, method))


def guess(method: str, receiver: str, roots: list[str]) -> str | None:
    """The kind of an unknown receiver from the method, the modules the file imports and the
    receiver's name (``producer.send`` in a file importing kafka)."""
    for module, kind in GUESSES.get(method, ()):
        if module in roots:
            return kind
    lowered = receiver.lower()
    for hint, module, kind in NAME_HINTS.get(method, ()):
        if module in roots and hint in lowered:
            return kind
    return None
