"""JavaScript/TypeScript broker clients: amqplib, kafkajs, ioredis and node-redis (pub/sub and
streams), nats.js, NestJS microservice clients and message handlers, AWS SDK v2 and v3 SQS/SNS,
sqs-consumer and Google Pub/Sub."""

from __future__ import annotations

import json
from dataclasses import dataclass

from backend_agent.analysis.endpoints.javascript.facts import Value, describe
from backend_agent.analysis.queues.javascript.facts import JsCall, last_name
from backend_agent.analysis.queues.javascript.payloads import JsPayloads
from backend_agent.analysis.queues.javascript.values import JsValues
from backend_agent.analysis.queues.model import Payload, Resolution, Role, amqp_channel

# NestJS Transport members -> broker ids (TCP, gRPC and MQTT are no brokers of ours).
NEST_TRANSPORTS = {"KAFKA": "kafka", "RMQ": "rabbitmq", "REDIS": "redis-pubsub", "NATS": "nats"}
_COMMANDS: dict[str, tuple[Role, str, str]] = {
    "SendMessageCommand": ("produce", "sqs", "QueueUrl"),
    "SendMessageBatchCommand": ("produce", "sqs", "QueueUrl"),
    "ReceiveMessageCommand": ("consume", "sqs", "QueueUrl"),
    "PublishCommand": ("produce", "sns", "TopicArn"),
    "PublishBatchCommand": ("produce", "sns", "TopicArn"),
    "SubscribeCommand": ("consume", "sns", "TopicArn"),
}


@dataclass
class JsSite:
    """One call being classified, with what is needed to emit its events."""

    values: JsValues
    payloads: JsPayloads
    file: str
    call: JsCall
    out: Resolution

    def arg(self, index: int) -> Value | None:
        return self.call.args[index] if len(self.call.args) > index else None

    def field(self, value: Value | None, name: str) -> Value | None:
        """A field of an object argument (also through a variable holding the object)."""
        if value is None:
            return None
        thing = self.values.eval(self.file, value)
        if thing.kind == "obj":
            found: Value | None = dict(thing.value).get(name)
            return found
        return None

    def emit(
        self,
        role: Role,
        broker: str,
        value: Value | None,
        pattern: bool = False,
        payload: Payload | None = None,
    ) -> None:
        if value is None:
            self.emit_name(role, broker, None, "no name is given")
            return
        if value[0] == "regex":
            source = str(value[1]).strip("/").rsplit("/", 1)[0]
            self.emit_name(role, broker, source, pattern=True)
            return
        for text, why, item in self.values.texts(self.file, value):
            wild = (
                broker == "nats"
                and text is not None
                and ("*" in text.split(".") or text.endswith(">"))
            )
            self.emit_name(
                role, broker, text, why, describe(item), pattern=pattern or wild, payload=payload
            )

    def emit_name(
        self,
        role: Role,
        broker: str,
        name: str | None,
        why: str = "",
        fragment: str = "",
        **extra: object,
    ) -> None:
        self.out.add(
            role,
            broker,
            name,
            self.file,
            self.call.line,
            self.call.symbol,
            why=why,
            fragment=fragment,
            **extra,
        )


def broker_events(site: JsSite, kind: str | None, transports: list[str]) -> None:
    """Events of one call on a receiver of ``kind`` (or a constructor call)."""
    call = site.call
    if call.kind == "new":
        command = _COMMANDS.get(last_name(call.callee))
        if command is not None and call.args:
            role, broker, key = command
            site.emit(role, broker, site.field(call.args[0], key))
        return
    method = call.callee[2] if call.callee[0] == "member" else ""
    if method == "create" and last_name(call.callee[1]) == "Consumer" and call.args:
        queue_url = site.field(call.args[0], "queueUrl")
        if queue_url is not None:
            site.emit("consume", "sqs", queue_url)
        return
    handler = _HANDLERS.get(kind or "")
    if handler is not None:
        handler(site, method, transports)


def _amqp(site: JsSite, method: str, transports: list[str]) -> None:
    if method == "sendToQueue":
        site.emit("produce", "rabbitmq", site.arg(0), payload=_sent(site, 1))
    elif method == "publish" and len(site.call.args) >= 2:
        exchange, why = site.values.text(site.file, site.call.args[0])
        key, why_key = site.values.text(site.file, site.call.args[1])
        name = amqp_channel(exchange, key) if exchange is not None and key is not None else None
        fragment = f"{describe(site.call.args[0])}/{describe(site.call.args[1])}"
        site.emit_name(
            "produce", "rabbitmq", name, why or why_key, fragment, payload=_sent(site, 2)
        )
    elif method == "consume":
        site.emit("consume", "rabbitmq", site.arg(0))
    elif method == "bindQueue" and len(site.call.args) >= 2:
        queue, _ = site.values.text(site.file, site.call.args[0])
        exchange, why = site.values.text(site.file, site.call.args[1])
        key, _ = site.values.text(site.file, site.arg(2) or ("str", ""))
        if queue is not None:
            name = amqp_channel(exchange, key) if exchange is not None else None
            site.emit_name("bind", "rabbitmq", name, why, describe(site.call.args[1]), queue=queue)


def _kafka_producer(site: JsSite, method: str, transports: list[str]) -> None:
    record = site.arg(0)
    if method == "send":
        messages = site.field(record, "messages")
        site.emit("produce", "kafka", site.field(record, "topic"), payload=_message(site, messages))
    elif method == "sendBatch":
        batch = site.field(record, "topicMessages")
        thing = site.values.eval(site.file, batch) if batch is not None else None
        for item in thing.value if thing is not None and thing.kind == "arr" else ():
            site.emit("produce", "kafka", site.field(item, "topic"))


def _kafka_consumer(site: JsSite, method: str, transports: list[str]) -> None:
    if method != "subscribe":
        return
    options = site.arg(0)
    topic = site.field(options, "topic")
    topics = site.field(options, "topics")
    if topic is not None:
        site.emit("consume", "kafka", topic)
    if topics is not None:
        thing = site.values.eval(site.file, topics)
        items = thing.value if thing.kind == "arr" else (topics,)
        for item in items:
            site.emit("consume", "kafka", item)


def _redis(site: JsSite, method: str, transports: list[str]) -> None:
    args = site.call.args
    if method == "publish" and args:
        site.emit("produce", "redis-pubsub", args[0])
    elif method in ("subscribe", "psubscribe", "pSubscribe"):
        for channel in args:
            if channel[0] in ("str", "ref", "member", "import", "tpl", "arr", "or"):
                site.emit("consume", "redis-pubsub", channel, pattern=method != "subscribe")
    elif method in ("xadd", "xAdd") and args:
        site.emit("produce", "redis-streams", args[0])
    elif method in ("xread", "xreadgroup"):
        texts = [site.values.text(site.file, a)[0] for a in args]
        upper = [t.upper() if t else "" for t in texts]
        if "STREAMS" in upper:
            start = upper.index("STREAMS") + 1
            keys = args[start : start + (len(args) - start) // 2]
            for key in keys:
                site.emit("consume", "redis-streams", key)
    elif method in ("xRead", "xReadGroup"):
        streams = site.arg(0 if method == "xRead" else 2)
        thing = site.values.eval(site.file, streams) if streams is not None else None
        items = thing.value if thing is not None and thing.kind == "arr" else (streams,)
        for item in items:
            if item is not None:
                site.emit("consume", "redis-streams", site.field(item, "key"))


def _nats(site: JsSite, method: str, transports: list[str]) -> None:
    if method in ("publish", "request"):
        site.emit("produce", "nats", site.arg(0), payload=_sent(site, 1))
    elif method == "subscribe":
        site.emit("consume", "nats", site.arg(0))


def _nest_client(site: JsSite, method: str, transports: list[str]) -> None:
    if method not in ("emit", "send") or not site.call.args:
        return
    brokers = nest_brokers(transports)
    if not brokers:
        reason = nest_transport_reason(transports)
        site.emit_name("produce", "kafka", None, reason, describe(site.call.args[0]))
        return
    name, why = nest_pattern(site.values, site.file, site.call.args[0])
    for broker in brokers:
        site.emit_name(
            "produce", broker, name, why, describe(site.call.args[0]), payload=_sent(site, 1)
        )


def _sqs_v2(site: JsSite, method: str, transports: list[str]) -> None:
    if method in ("sendMessage", "sendMessageBatch", "receiveMessage"):
        role: Role = "consume" if method == "receiveMessage" else "produce"
        site.emit(role, "sqs", site.field(site.arg(0), "QueueUrl"))


def _sns_v2(site: JsSite, method: str, transports: list[str]) -> None:
    if method in ("publish", "subscribe"):
        role: Role = "consume" if method == "subscribe" else "produce"
        site.emit(role, "sns", site.field(site.arg(0), "TopicArn"))


def _pubsub(site: JsSite, method: str, transports: list[str]) -> None:
    receiver = site.values.eval(site.file, site.call.callee[1])
    name_value = receiver.value[0] if receiver.value else None
    name, why = site.values.text(receiver.file, name_value) if name_value else (None, "no name")
    if method in ("publish", "publishMessage"):
        site.emit_name("produce", "google-pubsub", name, why)
    elif method == "on" and site.call.args and site.call.args[0] == ("str", "message"):
        site.emit_name("consume", "google-pubsub", name, why)


def nest_brokers(transports: list[str]) -> list[str]:
    return sorted({NEST_TRANSPORTS[t] for t in transports if t in NEST_TRANSPORTS})


def nest_transport_reason(transports: list[str]) -> str:
    if not transports:
        return "no NestJS broker transport (Transport.KAFKA, RMQ, REDIS, NATS) is configured"
    return f"NestJS transport {', '.join(sorted(set(transports)))} is not a message broker"


def nest_pattern(values: JsValues, file: str, value: Value) -> tuple[str | None, str]:
    """A NestJS message pattern: a string, or an object serialised as Nest does (JSON)."""
    thing = values.eval(file, value)
    if thing.kind == "obj":
        fields = {}
        for key, item in thing.value:
            text, why = values.text(thing.file, item)
            if text is None:
                return None, why
            fields[key] = text
        return json.dumps(fields, sort_keys=True, separators=(",", ":")), ""
    return values.text(file, value)


def _sent(site: JsSite, index: int) -> Payload | None:
    value = site.arg(index)
    return site.payloads.of_value(site.file, value) if value is not None else None


def _message(site: JsSite, messages: Value | None) -> Payload | None:
    thing = site.values.eval(site.file, messages) if messages is not None else None
    if thing is None or thing.kind != "arr" or not thing.value:
        return None
    value = site.field(thing.value[0], "value")
    return site.payloads.of_value(site.file, value) if value is not None else None


_HANDLERS = {
    "amqp-channel": _amqp,
    "kafka-producer": _kafka_producer,
    "kafka-consumer": _kafka_consumer,
    "redis": _redis,
    "nats": _nats,
    "nest-client": _nest_client,
    "sqs-v2": _sqs_v2,
    "sns-v2": _sns_v2,
    "pubsub-topic": _pubsub,
    "pubsub-subscription": _pubsub,
}
