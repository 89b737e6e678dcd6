"""What JavaScript/TypeScript receivers are: evaluated values (``Thing``) mapped to the queue,
client and channel kinds of each library, with a fallback on the file's imports."""

from __future__ import annotations

from backend_agent.analysis.endpoints.javascript.values import Thing

BULL_MODULES = ("bullmq", "bull", "bee-queue", "@nestjs/bull")
_REDIS = ("ioredis", "redis", "@redis/client")
_AMQP = ("amqplib", "amqplib/callback_api", "amqp-connection-manager")
_NATS = ("nats", "nats.ws", "@nats-io/transport-node")
# A method on an unknown receiver, read as a kind when the file imports exactly one of these.
_BY_METHOD: dict[str, tuple[tuple[str, str], ...]] = {
    "sendToQueue": tuple((m, "amqp-channel") for m in _AMQP),
    "bindQueue": tuple((m, "amqp-channel") for m in _AMQP),
    "consume": tuple((m, "amqp-channel") for m in _AMQP),
    "xadd": tuple((m, "redis") for m in _REDIS),
    "xAdd": tuple((m, "redis") for m in _REDIS),
    "xread": tuple((m, "redis") for m in _REDIS),
    "xRead": tuple((m, "redis") for m in _REDIS),
    "xreadgroup": tuple((m, "redis") for m in _REDIS),
    "xReadGroup": tuple((m, "redis") for m in _REDIS),
    "psubscribe": tuple((m, "redis") for m in _REDIS),
    "pSubscribe": tuple((m, "redis") for m in _REDIS),
    "publish": (
        *((m, "amqp-channel") for m in _AMQP),
        *((m, "redis") for m in _REDIS),
        *((m, "nats") for m in _NATS),
    ),
    "subscribe": (*((m, "redis") for m in _REDIS), *((m, "nats") for m in _NATS)),
}


def kind_of(thing: Thing) -> str | None:
    """The kind of an evaluated receiver, or None when it is no queue library object."""
    if thing.kind != "external":
        return None
    module, detail = thing.name, thing.detail
    if module in BULL_MODULES and detail in ("Queue()", "default()", "Bull()"):
        return "bull-queue"
    if module == "bullmq" and detail == "FlowProducer()":
        return "bull-flow"
    if module == "agenda" and detail in ("Agenda()", "default()"):
        return "agenda"
    if module == "kafkajs":
        if detail.endswith(("producer()", "Producer()")):
            return "kafka-producer"
        if detail.endswith(("consumer()", "Consumer()")):
            return "kafka-consumer"
        return None
    if module in _AMQP:
        channel = ("createChannel()", "createConfirmChannel()", "Channel()", "ChannelWrapper()")
        return "amqp-channel" if any(part in detail for part in channel) else None
    if module in _REDIS:
        return "redis"
    if module in _NATS:
        return "nats"
    if module == "@nestjs/microservices":
        return "nest-client"
    if module == "aws-sdk" or module.startswith("aws-sdk/clients/"):
        service = module.rsplit("/", 1)[-1] if "/" in module else detail.split("(")[0]
        return {"sqs": "sqs-v2", "SQS": "sqs-v2", "sns": "sns-v2", "SNS": "sns-v2"}.get(service)
    if module == "@google-cloud/pubsub":
        if detail.endswith("topic()"):
            return "pubsub-topic"
        if detail.endswith("subscription()"):
            return "pubsub-subscription"
    return None


def guess(method: str, imports: tuple[str, ...]) -> str | None:
    """The kind of an unknown receiver from the method and the file's only matching import."""
    kinds = {kind for module, kind in _BY_METHOD.get(method, ()) if module in imports}
    return kinds.pop() if len(kinds) == 1 else None
