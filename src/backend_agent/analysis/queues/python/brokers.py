"""Python broker clients: which calls produce to or consume from which channel (kafka-python,
aiokafka, confluent-kafka, pika, aio-pika, kombu, boto3 SQS/SNS, redis-py, nats-py)."""

from __future__ import annotations

from dataclasses import dataclass

from backend_agent.analysis.endpoints.python.scan import Expr
from backend_agent.analysis.queues.model import Resolution, Role, amqp_channel
from backend_agent.analysis.queues.python.facts import PyCall
from backend_agent.analysis.queues.python.kinds import guess
from backend_agent.analysis.queues.python.payloads import payload_of
from backend_agent.analysis.queues.python.values import Kind, PyValues, render

_CONSTRUCTORS = ("KafkaConsumer", "AIOKafkaConsumer", "Consumer", "Queue")


@dataclass
class CallSite:
    """One call being classified, with what is needed to emit its events."""

    values: PyValues
    path: str
    call: PyCall
    out: Resolution

    @property
    def args(self) -> list[Expr]:
        args: list[Expr] = self.call.call[2]
        return args

    @property
    def line(self) -> int:
        return int(self.call.call[4])

    def arg(self, index: int, keyword: str) -> Expr | None:
        kwargs = self.call.call[3]
        if keyword in kwargs:
            found: Expr = kwargs[keyword]
            return found
        return self.args[index] if len(self.args) > index else None

    def emit(self, role: Role, broker: str, value: Expr | None, pattern: bool = False) -> None:
        """An event per string the value stands for (or an unresolved entry)."""
        if value is None:
            return
        for text, why, item in self.values.strings(self.path, self.call.scope, value):
            wild = pattern or _wildcard(broker, text)
            self.emit_text(role, broker, text, why, fragment=render(item), pattern=wild,
                           payload=self._payload(role))  # fmt: skip

    def emit_text(
        self, role: Role, broker: str, text: str | None, why: str = "", **extra: object
    ) -> None:
        """An event for a name already resolved (or None: unresolved, saying ``why``)."""
        fragment = str(extra.pop("fragment", ""))
        self.out.add(role, broker, text, self.path, self.line, self.call.symbol, why=why,
                     fragment=fragment, **extra)  # fmt: skip

    def string(self, value: Expr | None) -> tuple[str | None, str]:
        if value is None:
            return None, "no name is given"
        return self.values.string(self.path, self.call.scope, value)

    def _payload(self, role: Role) -> object:
        if role != "produce":
            return None
        value = self.arg(1, "value") or self.arg(1, "body") or self.arg(0, "MessageBody")
        return payload_of(self.values, self.path, self.call.scope, value) if value else None


def broker_events(site: CallSite, roots: list[str]) -> None:
    """Events of one call, if it is a broker operation."""
    func = site.call.call[1]
    method = func[2] if func[0] == "a" else func[1] if func[0] == "n" else ""
    values, scope = site.values, site.call.scope
    if method in _CONSTRUCTORS:
        made = values.kind(site.path, scope, site.call.call)
        if made is not None:
            _constructed(site, made)
        return
    if func[0] != "a":
        return
    kind = values.kind(site.path, scope, func[1])
    tag = kind.factory if kind is not None else guess(method, render(func[1]), roots)
    if tag is None:
        return
    handler = _HANDLERS.get(tag.split("-", 1)[0])
    if handler is not None:
        handler(site, tag, method, kind)


def _constructed(site: CallSite, made: Kind) -> None:
    if made.factory == "kafka-consumer":
        for topic in site.args:
            if topic[0] != "d":  # confluent's Consumer({...}) takes its configuration
                site.emit("consume", "kafka", topic)
        if "pattern" in site.call.call[3]:
            site.emit("consume", "kafka", site.call.call[3]["pattern"], pattern=True)
    elif made.factory == "kombu-consumer":
        queues = site.arg(1, "queues")
        items = queues[1] if queues is not None and queues[0] == "l" else [queues] if queues else []
        for item in items:
            text, why = _object_name(site, item)
            site.emit_text("consume", "rabbitmq", text, why, fragment=render(item))
    elif made.factory == "kombu-queue" and site.arg(1, "exchange") is not None:
        queue, why = site.string(site.arg(0, "name"))
        exchange, why_exchange = _object_name(site, site.arg(1, "exchange") or ("s", ""))
        key, _ = site.string(site.call.call[3].get("routing_key"))
        if queue is not None:
            site.emit_text(
                "bind",
                "rabbitmq",
                amqp_channel(exchange, key) if exchange else None,
                why_exchange,
                queue=queue,
            )


def _kafka(site: CallSite, tag: str, method: str, kind: Kind | None) -> None:
    if tag == "kafka-producer" and method in ("send", "send_and_wait", "produce"):
        site.emit("produce", "kafka", site.arg(0, "topic"))
    elif tag == "kafka-producer" and method == "send_batch":
        site.emit("produce", "kafka", site.arg(1, "topic"))
    elif tag == "kafka-consumer" and method == "subscribe":
        if "pattern" in site.call.call[3]:
            site.emit("consume", "kafka", site.call.call[3]["pattern"], pattern=True)
        topics = site.arg(0, "topics")
        if topics is not None:
            site.emit("consume", "kafka", topics)


def _pika(site: CallSite, tag: str, method: str, kind: Kind | None) -> None:
    if method == "basic_publish":
        exchange, why = site.string(site.arg(0, "exchange"))
        key, why_key = site.string(site.arg(1, "routing_key"))
        name = amqp_channel(exchange, key) if exchange is not None and key is not None else None
        parts = (site.arg(0, "exchange") or ("s", ""), site.arg(1, "routing_key") or ("s", ""))
        fragment = "/".join(render(part) for part in parts)
        site.emit_text("produce", "rabbitmq", name, why or why_key, fragment=fragment)
        return
    if method in ("basic_consume", "basic_get"):
        queue = site.call.call[3].get("queue")
        if queue is None and site.args and site.string(site.args[0])[0] is not None:
            queue = site.args[0]
        site.emit("consume", "rabbitmq", queue) if queue is not None else site.emit_text(
            "consume", "rabbitmq", None, "the queue is not given", fragment=method
        )
    elif method == "queue_bind":
        _bind(site, site.arg(0, "queue"), site.arg(1, "exchange"), site.arg(2, "routing_key"))


def _aiopika(site: CallSite, tag: str, method: str, kind: Kind | None) -> None:
    made = kind.call if kind is not None else None
    if tag == "aiopika-exchange" and method == "publish":
        exchange, why = _made_name(site, kind)
        key, why_key = site.string(site.arg(1, "routing_key"))
        name = amqp_channel(exchange, key) if exchange is not None and key is not None else None
        site.emit_text(
            "produce",
            "rabbitmq",
            name,
            why or why_key,
            fragment=render(site.arg(1, "routing_key") or ("?",)),
        )
    elif tag == "aiopika-queue" and method in ("consume", "iterator", "get"):
        queue, why = _made_name(site, kind)
        site.emit_text(
            "consume",
            "rabbitmq",
            queue,
            why,
            fragment=render(made[2][0]) if made and made[2] else "",
        )
    elif tag == "aiopika-queue" and method == "bind":
        queue, _ = _made_name(site, kind)
        exchange, why = _object_name(site, site.arg(0, "exchange") or ("s", ""))
        key, _ = site.string(site.arg(1, "routing_key"))
        if queue is not None:
            site.emit_text(
                "bind",
                "rabbitmq",
                amqp_channel(exchange, key) if exchange is not None else None,
                why,
                queue=queue,
            )


def _kombu(site: CallSite, tag: str, method: str, kind: Kind | None) -> None:
    if tag == "kombu-producer" and method == "publish":
        exchange, why = _object_name(site, site.call.call[3].get("exchange") or ("s", ""))
        key, why_key = site.string(site.call.call[3].get("routing_key") or ("s", ""))
        name = amqp_channel(exchange, key) if exchange is not None and key is not None else None
        site.emit_text("produce", "rabbitmq", name, why or why_key, fragment="publish(...)")


def _sqs(site: CallSite, tag: str, method: str, kind: Kind | None) -> None:
    if tag == "sqs-client" and method in ("send_message", "send_message_batch", "receive_message"):
        role: Role = "consume" if method == "receive_message" else "produce"
        site.emit(role, "sqs", site.arg(0, "QueueUrl"))
    elif tag == "sqs-queue" and method in ("send_message", "send_messages", "receive_messages"):
        name, why = _made_name(site, kind)
        role = "consume" if method == "receive_messages" else "produce"
        site.emit_text(role, "sqs", name, why)


def _sns(site: CallSite, tag: str, method: str, kind: Kind | None) -> None:
    if tag == "sns-client" and method in ("publish", "publish_batch", "subscribe"):
        arn = site.call.call[3].get("TopicArn") or site.call.call[3].get("TargetArn")
        if arn is None and "PhoneNumber" in site.call.call[3]:
            return  # an SMS, not a topic
        role: Role = "consume" if method == "subscribe" else "produce"
        site.emit(role, "sns", arn) if arn is not None else site.emit_text(
            role, "sns", None, "no TopicArn is given"
        )
    elif tag == "sns-topic" and method in ("publish", "subscribe"):
        name, why = _made_name(site, kind)
        site.emit_text("consume" if method == "subscribe" else "produce", "sns", name, why)


def _redis(site: CallSite, tag: str, method: str, kind: Kind | None) -> None:
    if tag == "redis-client" and method == "publish":
        site.emit("produce", "redis-pubsub", site.arg(0, "channel"))
    elif tag == "redis-client" and method == "xadd":
        site.emit("produce", "redis-streams", site.arg(0, "name"))
    elif tag == "redis-client" and method in ("xread", "xreadgroup"):
        position = "0" if method == "xread" else "2"
        keys = dict(site.call.dict_keys)
        streams = site.arg(int(position), "streams")
        found = keys.get(position, keys.get("streams"))
        if found is not None:
            for key in found:
                site.emit("consume", "redis-streams", key)
        elif streams is not None:
            site.emit_text(
                "consume",
                "redis-streams",
                None,
                "the streams are computed at run time",
                fragment=render(streams),
            )
    elif tag == "redis-pubsub" and method in ("subscribe", "psubscribe"):
        for channel in site.args:
            site.emit("consume", "redis-pubsub", channel, pattern=method == "psubscribe")
        for key in site.call.call[3]:
            site.emit_text("consume", "redis-pubsub", key)


def _nats(site: CallSite, tag: str, method: str, kind: Kind | None) -> None:
    if method in ("publish", "request"):
        site.emit("produce", "nats", site.arg(0, "subject"))
    elif method in ("subscribe", "pull_subscribe"):
        site.emit("consume", "nats", site.arg(0, "subject"))


def _bind(site: CallSite, queue: Expr | None, exchange: Expr | None, key: Expr | None) -> None:
    queue_name, _ = site.string(queue)
    exchange_name, why = site.string(exchange)
    key_name, _ = site.string(key) if key is not None else ("", "")
    if queue_name is not None:
        name = amqp_channel(exchange_name, key_name) if exchange_name is not None else None
        site.emit_text("bind", "rabbitmq", name, why, queue=queue_name)


def _made_name(site: CallSite, kind: Kind | None) -> tuple[str | None, str]:
    """The name given to the call that made a queue, exchange or topic object."""
    if kind is None:
        return None, "the queue object comes from code this analysis cannot see"
    if kind.call is None:
        return "", ""  # aio-pika's default exchange
    args, kwargs = kind.call[2], kind.call[3]
    value = (
        kwargs.get("name")
        or kwargs.get("QueueName")
        or kwargs.get("Name")
        or (args[0] if args else None)
    )
    if value is None:
        return None, "the queue is created without a name"
    return site.values.string(kind.path, kind.scope, value)


def _object_name(site: CallSite, value: Expr) -> tuple[str | None, str]:
    """A name given as a string, or as an Exchange/Queue object made with one."""
    text, why = site.string(value)
    if text is not None:
        return text, ""
    kind = site.values.kind(site.path, site.call.scope, value)
    if kind is not None and kind.factory in (
        "kombu-exchange",
        "kombu-queue",
        "aiopika-exchange",
        "aiopika-queue",
    ):
        return _made_name(site, kind)
    return None, why


def _wildcard(broker: str, name: str | None) -> bool:
    if name is None:
        return False
    if broker == "nats":
        return "*" in name.split(".") or name.endswith(">")
    return False


_HANDLERS = {
    "kafka": _kafka,
    "pika": _pika,
    "aiopika": _aiopika,
    "kombu": _kombu,
    "sqs": _sqs,
    "sns": _sns,
    "redis": _redis,
    "nats": _nats,
}
