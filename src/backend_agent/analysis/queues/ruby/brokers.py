"""Ruby broker clients: Bunny (queues, exchanges, bindings), Sneakers, ruby-kafka,
WaterDrop/Karafka (producers and routes), Racecar, aws-sdk SQS/SNS and Shoryuken, redis."""

from __future__ import annotations

from backend_agent.analysis.queues.model import Resolution, Role, amqp_channel
from backend_agent.analysis.queues.ruby.jobs import framework_of
from backend_agent.analysis.queues.ruby.scan import RbCall, RbClass, RbValue
from backend_agent.analysis.queues.ruby.values import RbValues, Where

_PRODUCE = ("produce", "produce_sync", "produce_async", "deliver_message")


def broker_events(values: RbValues, path: str, call: RbCall, out: Resolution) -> None:
    at = Where(path, call.namespace, call.symbol)

    def emit(role: Role, broker: str, value: RbValue | None, **extra: object) -> None:
        name, why = values.string(value, at)
        out.add(
            role,
            broker,
            name,
            path,
            call.line,
            call.symbol,
            why=why,
            fragment=_render(value),
            **extra,
        )

    method = call.method
    bunny = values.bunny(call.receiver, at) if call.receiver is not None else None
    if bunny is not None:
        _bunny(values, at, call, bunny, out)
    elif method in _PRODUCE and call.option("topic") is not None:
        emit("produce", "kafka", call.option("topic"))
    elif (
        method in ("produce_many_sync", "produce_many_async")
        and call.args
        and call.args[0][0] == "arr"
    ):
        for item in call.args[0][1]:
            if item[0] == "hash" and "topic" in dict(item[1]):
                emit("produce", "kafka", dict(item[1])["topic"])
    elif method == "each_message" and call.option("topic") is not None:
        emit("consume", "kafka", call.option("topic"))
    elif method == "subscribe" and call.args and _mentions(values, path, "Kafka"):
        emit("consume", "kafka", call.args[0])
    elif method == "topic" and call.receiver is None and call.args:
        consumer = next((args for name, args, _ in call.block if name == "consumer"), None)
        if consumer is not None:
            emit("consume", "kafka", call.args[0])
    elif method in ("send_message", "send_message_batch", "receive_message") and call.option(
        "queue_url"
    ):
        emit(
            "consume" if method == "receive_message" else "produce", "sqs", call.option("queue_url")
        )
    elif method in ("publish", "subscribe") and call.option("topic_arn") is not None:
        emit("consume" if method == "subscribe" else "produce", "sns", call.option("topic_arn"))
    elif (
        method in ("publish", "subscribe", "psubscribe")
        and call.args
        and _mentions(values, path, "Redis")
    ):
        role: Role = "produce" if method == "publish" else "consume"
        for channel in call.args[:1] if method == "publish" else call.args:
            emit(role, "redis-pubsub", channel, pattern=method == "psubscribe")
    elif method == "perform_async" and call.receiver is not None and call.receiver[0] == "const":
        found = values.cls(str(call.receiver[1]), call.namespace)
        if found is not None and framework_of(values, found[1]) == "shoryuken":
            emit("produce", "sqs", _shoryuken_queue(found[1]))


def _bunny(
    values: RbValues, at: Where, call: RbCall, bunny: tuple[str, RbValue | None], out: Resolution
) -> None:
    kind, name_value = bunny
    name, why = values.string(name_value, at)
    if kind == "exchange" and call.method == "publish":
        key = call.option("routing_key")
        key_name, why_key = values.string(key, at) if key is not None else ("", "")
        channel = (
            amqp_channel(name, key_name) if name is not None and key_name is not None else None
        )
        out.add(
            "produce",
            "rabbitmq",
            channel,
            at.path,
            call.line,
            call.symbol,
            why=why or why_key,
            fragment=f"{_render(name_value)}/{_render(key)}",
        )
    elif kind == "queue" and call.method in ("subscribe", "pop"):
        out.add(
            "consume",
            "rabbitmq",
            name,
            at.path,
            call.line,
            call.symbol,
            why=why,
            fragment=_render(name_value),
        )
    elif kind == "queue" and call.method == "bind" and call.args and name is not None:
        exchange = values.bunny(call.args[0], at)
        exchange_value = exchange[1] if exchange is not None else call.args[0]
        exchange_name, why_exchange = values.string(exchange_value, at)
        key = call.option("routing_key")
        key_name = values.string(key, at)[0] if key is not None else ""
        channel = amqp_channel(exchange_name, key_name) if exchange_name is not None else None
        out.add(
            "bind",
            "rabbitmq",
            channel,
            at.path,
            call.line,
            call.symbol,
            why=why_exchange,
            fragment=_render(call.args[0]),
            queue=name,
        )


def consumer_classes(values: RbValues, out: Resolution) -> None:
    """Consumers declared by class: Sneakers ``from_queue``, Racecar ``subscribes_to``,
    Shoryuken ``shoryuken_options queue:``."""
    for name, (path, cls) in sorted(values.classes.items()):
        at = Where(path, (*cls.namespace, name.rsplit("::", 1)[-1]), name)
        for setting in cls.settings:
            if setting.method == "from_queue" and setting.args:
                queue, why = values.string(setting.args[0], at)
                out.add("consume", "rabbitmq", queue, path, setting.line, name, why=why)
            elif setting.method == "subscribes_to":
                for topic in setting.args:
                    text, why = values.string(topic, at)
                    out.add("consume", "kafka", text, path, setting.line, name, why=why)
        if framework_of(values, cls) == "shoryuken":
            queue, why = values.string(_shoryuken_queue(cls), at)
            out.add("consume", "sqs", queue, path, cls.line, name, why=why)


def _shoryuken_queue(cls: RbClass) -> RbValue | None:
    for setting in cls.settings:
        if setting.method == "shoryuken_options":
            return setting.option("queue")
    return None


def _mentions(values: RbValues, path: str, word: str) -> bool:
    """Whether the file's calls or locals mention a library (``Kafka.new``, ``Redis.new``)."""
    facts = values.facts.get(path)
    if facts is None:
        return False
    held = [str(c.receiver) for c in facts.calls] + [str(v) for v in facts.locals.values()]
    return any(word in text for text in held)


def _render(value: RbValue | None) -> str:
    if value is None:
        return ""
    if value[0] in ("str", "sym", "const", "id", "num"):
        return str(value[1])
    if value[0] == "tpl":
        return "".join(str(p[1]) if p[0] == "str" else "#{" + _render(p) + "}" for p in value[1])
    if value[0] == "env":
        return f"ENV[{_render(value[1])}]"
    if value[0] == "call":
        return f"{_render(value[1])}.{value[2]}" if value[1] is not None else str(value[2])
    return "{?}"
