"""Go broker clients: sarama, segmentio/kafka-go, confluent-kafka-go, amqp091-go and
streadway/amqp, aws-sdk-go (v1 and v2) SQS/SNS, go-redis pub/sub and streams, nats.go."""

from __future__ import annotations

from dataclasses import dataclass

from backend_agent.analysis.endpoints.go.scan import Expr
from backend_agent.analysis.queues.go.payloads import payload_of
from backend_agent.analysis.queues.go.scan import GoCall
from backend_agent.analysis.queues.go.values import GoValues, render
from backend_agent.analysis.queues.model import Payload, Resolution, Role, amqp_channel

# Import path fragments -> library ids.
LIBRARIES = {
    "sarama": "sarama",
    "segmentio/kafka-go": "kafka-go",
    "confluent-kafka-go": "confluent",
    "amqp091-go": "amqp",
    "streadway/amqp": "amqp",
    "go-redis/redis": "redis",
    "redis/go-redis": "redis",
    "nats-io/nats.go": "nats",
    "aws-sdk-go": "aws",
}
# Methods each library offers (to tell a call's library among those the file imports).
_METHODS = {
    "sarama": {"ConsumePartition", "Consume"},
    "confluent": {"SubscribeTopics", "Subscribe"},
    "amqp": {"Publish", "PublishWithContext", "Consume", "QueueBind"},
    "redis": {"Publish", "Subscribe", "PSubscribe"},
    "nats": {
        "Publish",
        "PublishMsg",
        "PublishAsync",
        "Request",
        "Subscribe",
        "QueueSubscribe",
        "ChanSubscribe",
        "PullSubscribe",
    },
}


_SNS_INPUTS = ("PublishInput", "PublishBatchInput", "SubscribeInput")


@dataclass
class GoSite:
    """One call or literal being classified, with what is needed to emit its events."""

    values: GoValues
    path: str
    call: GoCall
    out: Resolution

    @property
    def args(self) -> list[Expr]:
        args: list[Expr] = self.call.expr[2] if self.call.expr[0] == "call" else []
        return args

    @property
    def fields(self) -> dict[str, Expr]:
        fields: dict[str, Expr] = self.call.expr[2] if self.call.expr[0] == "lit" else {}
        return fields

    def string(self, value: Expr) -> tuple[str | None, str]:
        return self.values.string(self.path, self.call.symbol, value)

    def emit(
        self, role: Role, broker: str, value: Expr | None, payload: Payload | None = None
    ) -> None:
        if value is None:
            return
        for text, why, fragment, at in self.expand(value):
            wild = text is not None and broker == "nats"
            wild = wild and ("*" in (text or "").split(".") or (text or "").endswith(">"))
            self.out.add(role, broker, text, at[0], at[1], at[2], why=why, fragment=fragment,
                         pattern=wild, payload=payload)  # fmt: skip

    def expand(self, value: Expr) -> list[tuple[str | None, str, str, tuple[str, int, str]]]:
        """(name, why, fragment, (file, line, symbol)) of a name value: here, or, when it is a
        parameter of the enclosing function, at each call passing it (a wrapper such as
        ``RegisterHandlers(taskName, ...)``)."""
        here = (self.path, self.call.line, self.call.symbol)
        index = self.values.parameter(self.path, self.call.symbol, value)
        callers = (
            self.values.callers(self.path, self.call.symbol, index) if index is not None else []
        )
        if not callers:
            return [
                (text, why, render(item), here)
                for text, why, item in self.values.strings(self.path, self.call.symbol, value)
            ]
        found = []
        for path, line, caller, arg in callers:
            text, why = self.values.string(path, caller, arg)
            found.append((text, why, render(arg), (path, line, caller)))
        return found

    def emit_name(self, role: Role, broker: str, name: str | None, why: str = "",
                  fragment: str = "", **extra: object) -> None:  # fmt: skip
        self.out.add(
            role,
            broker,
            name,
            self.path,
            self.call.line,
            self.call.symbol,
            why=why,
            fragment=fragment,
            **extra,
        )

    def payload(self, value: Expr | None) -> Payload | None:
        if value is None:
            return None
        return payload_of(self.values, self.path, self.call.symbol, value)

    def library(self, method: str) -> str | None:
        """Which imported library a method call belongs to (redis calls take a context)."""
        imported = {
            lib for fragment, lib in LIBRARIES.items() if self.values.imports(self.path, fragment)
        }
        candidates = [lib for lib in sorted(imported) if method in _METHODS.get(lib, ())]
        if len(candidates) > 1:
            first = render(self.args[0]) if self.args else ""
            context = "ctx" in first.lower() or first.startswith("context.")
            candidates = [c for c in candidates if (c == "redis") == context] or candidates
            if method == "Consume" and "amqp" in candidates and "sarama" in candidates:
                candidates = ["amqp"] if len(self.args) >= 7 else ["sarama"]
        return candidates[0] if len(candidates) == 1 else None


def broker_events(site: GoSite) -> None:
    """Events of one call or composite literal, if it is a broker operation."""
    if site.call.expr[0] == "lit":
        _literal(site, str(site.call.expr[1]).lstrip("&*"))
        return
    func = site.call.expr[1]
    if func[0] != "sel":
        return
    method = str(func[2])
    library = site.library(method)
    if library is not None:
        _CALLS[library](site, method)


def _literal(site: GoSite, kind: str) -> None:
    alias, _, name = kind.rpartition(".")
    path = site.values.import_path(site.path, alias)
    fields = site.fields
    if "sarama" in path and name == "ProducerMessage":
        site.emit("produce", "kafka", fields.get("Topic"), site.payload(fields.get("Value")))
    elif "segmentio/kafka-go" in path:
        if name in ("Writer", "WriterConfig", "Message") and "Topic" in fields:
            site.emit("produce", "kafka", fields["Topic"], site.payload(fields.get("Value")))
        elif name == "ReaderConfig":
            site.emit("consume", "kafka", fields.get("Topic"))
            site.emit("consume", "kafka", fields.get("GroupTopics"))
    elif "confluent-kafka-go" in path and name == "TopicPartition":
        site.emit("produce", "kafka", fields.get("Topic"))
    elif "aws-sdk-go" in path:
        _aws(site, path, name, fields)
    elif ("go-redis" in path or "redis/go-redis" in path) and name == "XAddArgs":
        site.emit("produce", "redis-streams", fields.get("Stream"))
    elif ("go-redis" in path or "redis/go-redis" in path) and name in (
        "XReadArgs",
        "XReadGroupArgs",
    ):
        streams = fields.get("Streams")
        held = site.values.follow(site.path, site.call.symbol, streams)[2] if streams else None
        if held is not None and held[0] == "lit":
            items = held[3]
            for stream in items[: len(items) // 2 or 1]:
                site.emit("consume", "redis-streams", stream)


def _aws(site: GoSite, path: str, name: str, fields: dict[str, Expr]) -> None:
    if path.endswith("/sqs") or "/service/sqs" in path:
        if name in ("SendMessageInput", "SendMessageBatchInput", "ReceiveMessageInput"):
            role: Role = "consume" if name == "ReceiveMessageInput" else "produce"
            body = site.payload(fields.get("MessageBody"))
            site.emit(role, "sqs", fields.get("QueueUrl"), body if role == "produce" else None)
    elif (path.endswith("/sns") or "/service/sns" in path) and name in _SNS_INPUTS:
        arn = fields.get("TopicArn") or fields.get("TargetArn")
        if arn is not None:
            site.emit("consume" if name == "SubscribeInput" else "produce", "sns", arn)


def _sarama(site: GoSite, method: str) -> None:
    if method == "ConsumePartition" and site.args:
        site.emit("consume", "kafka", site.args[0])
    elif method == "Consume" and len(site.args) >= 2:
        site.emit("consume", "kafka", site.args[1])


def _confluent(site: GoSite, method: str) -> None:
    if method in ("SubscribeTopics", "Subscribe") and site.args:
        site.emit("consume", "kafka", site.args[0])


def _amqp(site: GoSite, method: str) -> None:
    args = site.args
    if method in ("Publish", "PublishWithContext"):
        offset = 1 if method == "PublishWithContext" else 0
        if len(args) < offset + 2:
            return
        exchange, why = site.string(args[offset])
        key, why_key = site.string(args[offset + 1])
        name = amqp_channel(exchange, key) if exchange is not None and key is not None else None
        fragment = f"{render(args[offset])}/{render(args[offset + 1])}"
        message = args[offset + 4] if len(args) > offset + 4 else None
        body = site.values.follow(site.path, site.call.symbol, message)[2] if message else None
        payload = (
            site.payload(body[2].get("Body")) if body is not None and body[0] == "lit" else None
        )
        site.emit_name("produce", "rabbitmq", name, why or why_key, fragment, payload=payload)
    elif method == "Consume" and args:
        site.emit("consume", "rabbitmq", args[0])
    elif method == "QueueBind" and len(args) >= 3:
        queue, _ = site.string(args[0])
        key, _ = site.string(args[1])
        exchange, why = site.string(args[2])
        if queue is not None:
            name = amqp_channel(exchange, key) if exchange is not None else None
            site.emit_name("bind", "rabbitmq", name, why, render(args[2]), queue=queue)


def _redis(site: GoSite, method: str) -> None:
    args = site.args[1:]  # after the context
    if method == "Publish" and args:
        site.emit("produce", "redis-pubsub", args[0])
    elif method in ("Subscribe", "PSubscribe"):
        for channel in args:
            for text, why, item in site.values.strings(site.path, site.call.symbol, channel):
                site.emit_name(
                    "consume",
                    "redis-pubsub",
                    text,
                    why,
                    render(item),
                    pattern=method == "PSubscribe",
                )


def _nats(site: GoSite, method: str) -> None:
    args = site.args
    if method == "PublishMsg" and args:
        held = site.values.follow(site.path, site.call.symbol, args[0])[2]
        if held[0] == "lit":
            site.emit("produce", "nats", held[2].get("Subject"))
    elif method in ("Publish", "PublishAsync", "Request") and args:
        site.emit("produce", "nats", args[0], site.payload(args[1]) if len(args) > 1 else None)
    elif args:
        site.emit("consume", "nats", args[0])


_CALLS = {
    "sarama": _sarama,
    "confluent": _confluent,
    "amqp": _amqp,
    "redis": _redis,
    "nats": _nats,
}
