"""Phase one for Python queues: one file's module facts (for ``Names``), the calls that may
produce, consume, define, enqueue or schedule, the receivers they are made on, job settings
dictionaries (beat schedules, task routes) and message models (pydantic, dataclasses).

Expressions use the endpoint scanner's tagged tuples (``endpoints.python.scan.expr``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tree_sitter import Node

from backend_agent.analysis.endpoints.python.scan import (
    Expr,
    constant_facts,
    expr,
    tree_facts,
)
from backend_agent.analysis.parsing import parse

# Calls worth keeping, by the last component of what they call.
CALLS = frozenset(
    {
        # celery, rq, rq-scheduler, dramatiq, arq
        "delay",
        "apply_async",
        "s",
        "si",
        "signature",
        "send_task",
        "add_periodic_task",
        "enqueue",
        "enqueue_call",
        "enqueue_in",
        "enqueue_at",
        "cron",
        "schedule",
        "send",
        "send_with_options",
        "enqueue_job",
        # kafka-python, aiokafka, confluent-kafka
        "send_and_wait",
        "send_batch",
        "produce",
        "subscribe",
        "KafkaConsumer",
        "AIOKafkaConsumer",
        # pika, aio-pika, kombu
        "basic_publish",
        "basic_consume",
        "basic_get",
        "queue_bind",
        "publish",
        "consume",
        "iterator",
        "bind",
        "Consumer",
        "Queue",
        # boto3
        "send_message",
        "send_message_batch",
        "receive_message",
        "receive_messages",
        "send_messages",
        "publish_batch",
        # redis-py, nats-py
        "psubscribe",
        "xadd",
        "xread",
        "xreadgroup",
        "request",
        "pull_subscribe",
    }
)
# Calls whose result is a client, channel, queue or exchange worth remembering by name.
FACTORIES = frozenset(
    {
        "KafkaProducer",
        "KafkaConsumer",
        "AIOKafkaProducer",
        "AIOKafkaConsumer",
        "Producer",
        "Consumer",
        "SerializingProducer",
        "DeserializingConsumer",
        "AvroProducer",
        "AvroConsumer",
        "client",
        "resource",
        "Queue",
        "Topic",
        "get_queue_by_name",
        "create_queue",
        "get_queue_url",
        "create_topic",
        "Redis",
        "StrictRedis",
        "from_url",
        "pubsub",
        "connect",
        "NATS",
        "Client",
        "jetstream",
        "BlockingConnection",
        "SelectConnection",
        "channel",
        "connect_robust",
        "declare_queue",
        "declare_exchange",
        "get_queue",
        "get_exchange",
        "Connection",
        "Exchange",
        "SimpleQueue",
        "Celery",
        "create_pool",
        "Scheduler",
        "default_exchange",
    }
)
# Module-level dictionaries that configure jobs: Celery beat schedules, routes, default queue.
SETTINGS = re.compile(
    r"(?:^|\.|_)(?:beat_schedule|BEAT_SCHEDULE|CELERYBEAT_SCHEDULE|task_routes|TASK_ROUTES|"
    r"CELERY_ROUTES|task_default_queue|TASK_DEFAULT_QUEUE|CELERY_DEFAULT_QUEUE)$"
)
_QUEUE_HINTS = re.compile(
    rb"celery|shared_task|\brq\b|dramatiq|\barq\b|kombu|pika|kafka|boto|sqs|sns|redis|nats|"
    rb"beat_schedule|BEAT_SCHEDULE|task_routes|TASK_ROUTES|DEFAULT_QUEUE|\.delay\(|apply_async|"
    rb"send_task|enqueue|WorkerSettings|\.publish\(|\.subscribe\(|@[\w.]*(?:task|actor|job)\b"
)
_NAME_HINTS = re.compile(
    rb"Settings|Config|settings|config|environ|getenv|BaseModel|dataclass|TypedDict|"
    # constants a literal-only read would miss: computed ones, and class/Enum members
    rb"^[A-Z][A-Z0-9_]*[ \t]*=[^\n]*[+%(]|^[ \t]+[A-Z][A-Z0-9_]*[ \t]*=[ \t]*[rRuUfF]?[\"']",
    re.MULTILINE,
)
# Top-level function signatures of files that are not parsed (RQ enqueues plain functions).
_DEF = re.compile(rb"^(?:async[ \t]+)?def[ \t]+(\w+)[ \t]*\(([^)]*)\)", re.MULTILINE)
_TEXT = 160


@dataclass(frozen=True)
class PyCall:
    """A call worth classifying: where it is, and its arguments as expressions and text."""

    call: Expr  # ("c", func, args, kwargs, line)
    symbol: str  # enclosing function, method (Class.method) or "<module>"
    scope: str  # the Names scope (innermost function name, "" at module level)
    texts: tuple[str, ...]  # positional arguments as written
    kw_texts: tuple[tuple[str, str], ...]
    # Keys of dictionary arguments (any expression, not only strings), by position or keyword.
    dict_keys: tuple[tuple[str, tuple[Expr, ...]], ...] = ()


@dataclass(frozen=True)
class Receiver:
    """``name = factory(...)`` (or a parameter annotated with a type): what ``name`` is."""

    scope: str
    name: str  # "producer", "self.producer"
    value: Expr  # the factory call, or ("n", type) for an annotation
    line: int


@dataclass(frozen=True)
class Signature:
    """A function's parameters as written (``order_id: int``, ``notify=False``, ``*args``)."""

    name: str  # "send_email", "Mailer.send"
    line: int
    params: tuple[str, ...]


@dataclass
class PyQueueFacts:
    names: dict[str, Any]  # endpoints.python.scan facts, for Names
    calls: list[PyCall] = field(default_factory=list)
    receivers: list[Receiver] = field(default_factory=list)
    settings: list[tuple[str, str, int, Expr, tuple[tuple[str, str, int], ...]]] = field(
        default_factory=list
    )  # (scope, target, line, value, schedule texts of dict entries (key, text, line))
    signatures: list[Signature] = field(default_factory=list)
    models: dict[str, tuple[tuple[str, str, bool], ...]] = field(default_factory=dict)
    model_bases: dict[str, tuple[str, ...]] = field(default_factory=dict)


def scan_python(source: bytes) -> PyQueueFacts:
    """Facts of one file. Files that mention no queue library are only read for the names and
    models others may import; files that mention neither keep their string constants only."""
    queues = _QUEUE_HINTS.search(source) is not None
    if not queues and _NAME_HINTS.search(source) is None:
        facts = PyQueueFacts(constant_facts(source))
        for match in _DEF.finditer(source):
            name = match.group(1).decode()
            line = source.count(b"\n", 0, match.start()) + 1
            params = tuple(
                p.strip() for p in match.group(2).decode("utf-8", "replace").split(",") if p.strip()
            )
            facts.names["functions"].setdefault(name, {"line": line, "decorators": []})
            facts.signatures.append(Signature(name, line, params))
        return facts
    root = parse(source, "python").root_node
    facts = PyQueueFacts(tree_facts(root, bodies=queues))
    _Walker(facts, queues).walk(root)
    return facts


class _Walker:
    def __init__(self, facts: PyQueueFacts, queues: bool) -> None:
        self.facts = facts
        self.queues = queues

    def walk(self, root: Node) -> None:
        """Every node of a queue file; only definitions (models, signatures) of the others."""
        stack: list[tuple[Node, str, str]] = [(root, "<module>", "")]
        while stack:
            node, symbol, scope = stack.pop()
            kind = node.type
            if kind == "class_definition":
                name = _text(node.child_by_field_name("name"))
                self._class(node, name)
                symbol = f"{symbol}.{name}" if symbol != "<module>" else name
            elif kind == "function_definition":
                name = _text(node.child_by_field_name("name"))
                symbol = f"{symbol}.{name}" if symbol != "<module>" else name
                self._function(node, symbol, name)
                scope = name
            elif not self.queues:
                if kind not in ("module", "decorated_definition", "block"):
                    continue
            elif kind == "call":
                self._call(node, symbol, scope)
            elif kind == "assignment":
                self._assignment(node, scope)
            elif kind == "as_pattern":
                self._as_pattern(node, scope)
            stack.extend((c, symbol, scope) for c in reversed(node.named_children))

    def _call(self, node: Node, symbol: str, scope: str) -> None:
        func = node.child_by_field_name("function")
        if func is None:
            return
        last = func.child_by_field_name("attribute") if func.type == "attribute" else func
        name = _text(last)
        arguments = node.child_by_field_name("arguments")
        if name == "update" and _text(func).endswith("conf.update") and arguments is not None:
            self._settings_call(arguments, scope)
        if name not in CALLS:
            return
        texts: list[str] = []
        kw_texts: list[tuple[str, str]] = []
        keys: list[tuple[str, tuple[Expr, ...]]] = []
        for arg in arguments.named_children if arguments is not None else []:
            value: Node | None = arg
            if arg.type == "keyword_argument":
                key, value = arg.child_by_field_name("name"), arg.child_by_field_name("value")
                kw_texts.append((_text(key), _text(value)[:_TEXT]))
                where = _text(key)
            elif arg.type != "comment":
                where = str(len(texts))
                texts.append(_text(arg)[:_TEXT])
            if value is not None and value.type == "dictionary":
                keys.append((where, _dict_keys(value)))
        call = PyCall(expr(node), symbol, scope, tuple(texts), tuple(kw_texts), tuple(keys))
        self.facts.calls.append(call)

    def _assignment(self, node: Node, scope: str) -> None:
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is None or right is None:
            return
        target = _text(left)
        if SETTINGS.search(target) and right.type in ("dictionary", "list", "string"):
            self.facts.settings.append(
                (scope, target, node.start_point.row + 1, expr(right), _schedule_texts(right))
            )
        value = _unwrap(right)
        if left.type in ("identifier", "attribute") and _factory(value):
            self.facts.receivers.append(
                Receiver(scope, target, expr(value), node.start_point.row + 1)
            )

    def _settings_call(self, arguments: Node, scope: str) -> None:
        """``app.conf.update(beat_schedule={...}, task_routes={...})``."""
        for arg in arguments.named_children:
            key, value = arg.child_by_field_name("name"), arg.child_by_field_name("value")
            if arg.type != "keyword_argument" or key is None or value is None:
                continue
            if SETTINGS.search(_text(key)):
                line = arg.start_point.row + 1
                texts = _schedule_texts(value)
                self.facts.settings.append((scope, _text(key), line, expr(value), texts))

    def _as_pattern(self, node: Node, scope: str) -> None:
        value = _unwrap(node.named_children[0]) if node.named_children else None
        alias = node.child_by_field_name("alias")
        if value is not None and alias is not None and _factory(value):
            name = _text(alias.named_children[0] if alias.named_children else alias)
            self.facts.receivers.append(
                Receiver(scope, name, expr(value), node.start_point.row + 1)
            )

    def _function(self, node: Node, qualified: str, name: str) -> None:
        params = node.child_by_field_name("parameters")
        texts: list[str] = []
        for param in params.named_children if params is not None else []:
            if param.type == "comment":
                continue
            texts.append(_text(param))
            kind = param.child_by_field_name("type")
            first = param.named_children[0] if param.named_children else None
            if self.queues and kind is not None and first is not None:
                annotation = kind.named_children[0] if kind.named_children else kind
                if annotation.type in ("identifier", "attribute"):
                    self.facts.receivers.append(
                        Receiver(name, _text(first), expr(annotation), node.start_point.row + 1)
                    )
        self.facts.signatures.append(Signature(qualified, node.start_point.row + 1, tuple(texts)))

    def _class(self, node: Node, name: str) -> None:
        bases = node.child_by_field_name("superclasses")
        base_names = tuple(
            _text(b)
            for b in (bases.named_children if bases is not None else [])
            if b.type in ("identifier", "attribute")
        )
        parent = node.parent
        decorated = parent is not None and parent.type == "decorated_definition"
        dataclass_like = decorated and b"dataclass" in (parent.text or b"" if parent else b"")[:200]
        if not dataclass_like and not base_names:
            return
        fields: list[tuple[str, str, bool]] = []
        body = node.child_by_field_name("body")
        for child in body.named_children if body is not None else []:
            statement = child.named_children[0] if child.named_children else None
            if child.type != "expression_statement" or statement is None:
                continue
            if statement.type != "assignment":
                continue
            left, kind = (
                statement.child_by_field_name("left"),
                statement.child_by_field_name("type"),
            )
            if left is not None and left.type == "identifier" and kind is not None:
                required = statement.child_by_field_name("right") is None
                fields.append((_text(left), _text(kind), required))
        if fields:
            self.facts.models[name] = tuple(fields)
            self.facts.model_bases[name] = base_names + (("dataclass",) if dataclass_like else ())


def _factory(node: Node) -> bool:
    if node.type == "attribute":
        return _text(node.child_by_field_name("attribute")) == "default_exchange"
    if node.type != "call":
        return False
    func = node.child_by_field_name("function")
    if func is None:
        return False
    last = func.child_by_field_name("attribute") if func.type == "attribute" else func
    return _text(last) in FACTORIES


def _unwrap(node: Node) -> Node:
    """``await x`` and ``(x)`` are ``x``; ``x["QueueUrl"]`` keeps the subscript."""
    while node.type in ("await", "parenthesized_expression") and node.named_children:
        node = node.named_children[-1]
    return node


def _dict_keys(node: Node) -> tuple[Expr, ...]:
    return tuple(
        expr(key)
        for pair in node.named_children
        if pair.type == "pair" and (key := pair.child_by_field_name("key")) is not None
    )


def _schedule_texts(node: Node) -> tuple[tuple[str, str, int], ...]:
    """For a beat schedule dictionary: (entry key, its ``schedule`` value as written, line)."""
    found: list[tuple[str, str, int]] = []
    if node.type != "dictionary":
        return ()
    for pair in node.named_children:
        key, value = pair.child_by_field_name("key"), pair.child_by_field_name("value")
        if pair.type != "pair" or key is None or value is None or value.type != "dictionary":
            continue
        for inner in value.named_children:
            inner_key = inner.child_by_field_name("key")
            inner_value = inner.child_by_field_name("value")
            if inner.type != "pair" or inner_key is None or inner_value is None:
                continue
            if _text(inner_key).strip("'\"") == "schedule":
                entry = _text(key).strip("'\"")
                found.append((entry, _text(inner_value)[:_TEXT], pair.start_point.row + 1))
    return tuple(found)


def _text(node: Node | None) -> str:
    return (node.text or b"").decode("utf-8", "replace") if node is not None else ""
