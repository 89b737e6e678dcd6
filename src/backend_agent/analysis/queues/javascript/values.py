"""Strings and receivers of JavaScript/TypeScript values, across files: the endpoint
evaluator (imports, exports, object fields, constructions) extended with ``a || b`` / ``a ??
b`` defaults, ``process.env`` (``.env`` and compose files), node-config and NestJS
``ConfigService`` keys, and NestJS ``@InjectQueue`` fields."""

from __future__ import annotations

from collections.abc import Mapping

from backend_agent.analysis.endpoints.javascript.facts import FileFacts, TsConfig, Value
from backend_agent.analysis.endpoints.javascript.values import UNKNOWN_THING, Evaluator, Thing
from backend_agent.analysis.queues.config import ConfigIndex

_MAX_DEPTH = 40
# Packages whose imports must never resolve to a same-named file under src/ (src/agenda.ts).
LIBRARIES = frozenset(
    {
        "bullmq",
        "bull",
        "bee-queue",
        "agenda",
        "node-cron",
        "cron",
        "amqplib",
        "amqplib/callback_api",
        "amqp-connection-manager",
        "kafkajs",
        "ioredis",
        "redis",
        "@redis/client",
        "nats",
        "nats.ws",
        "aws-sdk",
        "sqs-consumer",
        "config",
        "zod",
        "@aws-sdk/client-sqs",
        "@aws-sdk/client-sns",
        "@google-cloud/pubsub",
        "@nestjs/microservices",
        "@nestjs/bull",
        "@nestjs/bullmq",
        "@nestjs/schedule",
        "@nestjs/config",
    }
)
_CONFIG_GETTERS = ("get", "getOrThrow", "getString")


class JsValues(Evaluator):
    """The endpoint ``Evaluator`` with configuration and environment values."""

    def __init__(
        self,
        facts: Mapping[str, FileFacts],
        configs: Mapping[str, TsConfig],
        config: ConfigIndex,
    ) -> None:
        super().__init__(facts, configs)
        self.config = config
        self.why = ""  # why the last unknown string is unknown, for ``unresolved``
        # Arguments of the calls being evaluated, by function key: a factory's parameters
        # (``createQueue(name)``) take the values its caller passed.
        self._frames: dict[str, list[tuple[str, tuple[Value, ...]]]] = {}

    def module(self, importer: str, spec: str) -> str | None:
        return None if spec in LIBRARIES else super().module(importer, spec)

    def eval(self, file: str, value: Value, depth: int = 0) -> Thing:
        if depth > _MAX_DEPTH or not value:
            return UNKNOWN_THING
        kind = value[0]
        if kind == "or":
            left = self.eval(file, value[1], depth + 1)
            return left if left.kind == "str" else self.eval(file, value[2], depth + 1)
        if kind == "injectqueue":
            return Thing("external", file, "@nestjs/bull", "Queue()", value=value[1])
        if kind == "member" and _is_env(value[1]):
            found, why = self.config.env(str(value[2]))
            self.why = why
            return Thing("str", name=found) if found is not None else UNKNOWN_THING
        if kind == "call" and value[1][0] == "member" and value[1][2] in _CONFIG_GETTERS:
            configured = self._config_get(file, value, depth)
            if configured is not None:
                return configured
        if kind == "param":
            frames = self._frames.get(str(value[1]))
            if frames:
                caller, args = frames[-1]
                index = int(value[2])
                return (
                    self.eval(caller, args[index], depth + 1)
                    if index < len(args)
                    else UNKNOWN_THING
                )
        if kind == "call":
            return self._call(file, value, depth)
        if kind == "new":
            return self._settled(file, super().eval(file, value, depth), depth)
        return super().eval(file, value, depth)

    def _call(self, file: str, value: Value, depth: int) -> Thing:
        """A call of a repository function evaluates its return value with the parameters
        bound to the arguments; library constructions keep their string arguments."""
        callee = self.eval(file, value[1], depth + 1)
        if callee.kind != "fn":
            return self._settled(file, super().eval(file, value, depth), depth)
        frames = self._frames.setdefault(callee.name, [])
        if len(frames) > 3:  # recursion
            return UNKNOWN_THING
        frames.append((file, value[2]))
        try:
            return self._settled(file, super().eval(file, value, depth), depth)
        finally:
            frames.pop()

    def _settled(self, file: str, thing: Thing, depth: int) -> Thing:
        """A constructed library object with its string arguments evaluated now, while the
        parameters they may name are bound (``new Queue(name)`` inside a factory)."""
        if thing.kind != "external" or not thing.value:
            return thing
        args = tuple(
            ("str", found.name)
            if (found := self.eval(thing.file or file, a, depth + 1)).kind == "str"
            else a
            for a in thing.value
        )
        return Thing(thing.kind, thing.file, thing.name, thing.detail, args, thing.node)

    def text(self, file: str, value: Value) -> tuple[str | None, str]:
        """(text, "") or (None, why it cannot be known)."""
        self.why = ""
        thing = self.eval(file, value)
        if thing.kind == "str":
            return thing.name, ""
        if value[0] == "param":
            return None, "the name is a function parameter"
        return None, self.why or "the name is computed at run time"

    def texts(self, file: str, value: Value) -> list[tuple[str | None, str, Value]]:
        """Each element of an array value (or the value itself): (text, why, element)."""
        thing = self.eval(file, value)
        if thing.kind == "arr":
            return [(*self.text(thing.file, item), item) for item in thing.value]
        return [(*self.text(file, value), value)]

    def _config_get(self, file: str, value: Value, depth: int) -> Thing | None:
        """``config.get('kafka.topic')`` (node-config) and ``configService.get('TOPIC')``
        (NestJS): a configuration key, else an environment variable, else the default."""
        args: tuple[Value, ...] = value[2]
        if not args:
            return None
        key = self.eval(file, args[0], depth + 1)
        owner = self.eval(file, value[1][1], depth + 1)
        is_config = owner.kind == "external" and owner.name in ("config", "@nestjs/config")
        named = _text(value[1][1]).lower()
        if key.kind != "str" or not (is_config or "config" in named):
            return None
        found, why = self.config.key(key.name)
        if found is None:
            found, why = self.config.env(key.name)
        if found is None and len(args) > 1:
            default = self.eval(file, args[1], depth + 1)
            if default.kind == "str":
                return default
        self.why = why
        return Thing("str", name=found) if found is not None else UNKNOWN_THING


def _is_env(value: Value) -> bool:
    """``process.env`` (and ``import.meta.env``)."""
    return (
        value[0] == "member" and value[2] == "env" and _text(value[1]) in ("process", "import.meta")
    )


def _text(value: Value) -> str:
    if value[0] == "ref":
        return str(value[1]).rsplit("/", 1)[-1]
    if value[0] == "member":
        return f"{_text(value[1])}.{value[2]}"
    if value[0] == "import":
        return str(value[1])
    return ""
