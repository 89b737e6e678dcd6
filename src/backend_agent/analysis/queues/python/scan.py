"""Phase one for Python queues: one file's module facts (for ``Names``), the calls that may
produce, consume, define, enqueue or schedule, the receivers they are made on, job settings
dictionaries (beat schedules, task routes) and message models (pydantic, dataclasses).

Expressions use the endpoint scanner's tagged tuples (``endpoints.python.scan.expr``)."""

from __future__ import annotations

import re

from tree_sitter import Node

from backend_agent.analysis.endpoints.python.scan import Expr, expr, tree_facts
from backend_agent.analysis.parsing import node_text, parse
from backend_agent.analysis.queues.python.facts import PyCall, PyQueueFacts, Receiver, Signature
from backend_agent.analysis.queues.python.lexical import lexical_facts

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
# Byte strings without which a file uses no queue library (checked with ``in``: fast).
_QUEUE_HINTS = (
    b"celery", b"shared_task", b"import rq", b"from rq", b"dramatiq", b"arq", b"kombu", b"pika",
    b"kafka", b"boto", b"sqs", b"sns", b"redis", b"nats", b"beat_schedule", b"BEAT_SCHEDULE",
    b"task_routes", b"TASK_ROUTES", b"DEFAULT_QUEUE", b".delay(", b"apply_async", b"send_task",
    b"enqueue", b"WorkerSettings", b".publish(", b".subscribe(", b".task", b"@task", b"actor",
    b"@job", b"_task(",
)  # fmt: skip
# Modules whose names say they define settings or names others import: always parsed.
_DEFINITIONS = re.compile(r"^(?:settings|config|conf|constants|topics|queues|events|names)\w*\.py$")
# Constants a lexical read would miss: computed module-level ones (concatenation, f-strings).
_COMPUTED = re.compile(rb"^[A-Z][A-Z0-9_]*[ \t]*=[^\n]*(?:[+%]|\bf[\"'])", re.MULTILINE)
_TEXT = 160


def scan_python(path: str, source: bytes) -> PyQueueFacts:
    """Facts of one file. Files that use no queue library are read lexically (constants,
    imports, signatures, models), unless they are named like settings or constants modules
    or compute their constants (those are parsed for ``Names``)."""
    queues = any(hint in source for hint in _QUEUE_HINTS)
    named = _DEFINITIONS.search(path.rsplit("/", 1)[-1]) is not None
    if not queues and not named and _COMPUTED.search(source) is None:
        return lexical_facts(source)
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
                name = node_text(node.child_by_field_name("name"))
                self._class(node, name)
                symbol = f"{symbol}.{name}" if symbol != "<module>" else name
            elif kind == "function_definition":
                name = node_text(node.child_by_field_name("name"))
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
        name = node_text(last)
        arguments = node.child_by_field_name("arguments")
        if name == "update" and node_text(func).endswith("conf.update") and arguments is not None:
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
                kw_texts.append((node_text(key), node_text(value)[:_TEXT]))
                where = node_text(key)
            elif arg.type != "comment":
                where = str(len(texts))
                texts.append(node_text(arg)[:_TEXT])
            if value is not None and value.type == "dictionary":
                keys.append((where, _dict_keys(value)))
        encoded = expr(node)
        encoded = (*encoded[:4], (last or node).start_point.row + 1)  # a chained `.delay(` line
        call = PyCall(encoded, symbol, scope, tuple(texts), tuple(kw_texts), tuple(keys))
        self.facts.calls.append(call)

    def _assignment(self, node: Node, scope: str) -> None:
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is None or right is None:
            return
        target = node_text(left)
        line = node.start_point.row + 1
        if SETTINGS.search(target) and right.type in ("dictionary", "list", "string"):
            self.facts.settings.append((scope, target, line, expr(right), _schedule_texts(right)))
        elif left.type == "subscript" and right.type == "dictionary":
            self._settings_entry(left, right, scope, line)
        value = _unwrap(right)
        if left.type in ("identifier", "attribute") and _factory(value):
            self.facts.receivers.append(
                Receiver(scope, target, expr(value), node.start_point.row + 1)
            )

    def _settings_entry(self, left: Node, right: Node, scope: str, line: int) -> None:
        """``CELERY_BEAT_SCHEDULE["name"] = {...}``: one more entry of a settings dict."""
        base = left.child_by_field_name("value")
        key = left.child_by_field_name("subscript")
        if base is None or key is None or not SETTINGS.search(node_text(base)):
            return
        name = expr(key)
        if name[0] != "s":
            return
        entry = ("d", {name[1]: expr(right)})
        schedule = next(
            (
                node_text(pair.child_by_field_name("value"))[:_TEXT]
                for pair in right.named_children
                if pair.type == "pair"
                and node_text(pair.child_by_field_name("key")).strip("'\"") == "schedule"
            ),
            None,
        )
        texts = ((name[1], schedule, line),) if schedule is not None else ()
        self.facts.settings.append((scope, node_text(base), line, entry, texts))

    def _settings_call(self, arguments: Node, scope: str) -> None:
        """``app.conf.update(beat_schedule={...}, task_routes={...})``."""
        for arg in arguments.named_children:
            key, value = arg.child_by_field_name("name"), arg.child_by_field_name("value")
            if arg.type != "keyword_argument" or key is None or value is None:
                continue
            if SETTINGS.search(node_text(key)):
                line = arg.start_point.row + 1
                texts = _schedule_texts(value)
                self.facts.settings.append((scope, node_text(key), line, expr(value), texts))

    def _as_pattern(self, node: Node, scope: str) -> None:
        value = _unwrap(node.named_children[0]) if node.named_children else None
        alias = node.child_by_field_name("alias")
        if value is not None and alias is not None and _factory(value):
            name = node_text(alias.named_children[0] if alias.named_children else alias)
            self.facts.receivers.append(
                Receiver(scope, name, expr(value), node.start_point.row + 1)
            )

    def _function(self, node: Node, qualified: str, name: str) -> None:
        params = node.child_by_field_name("parameters")
        texts: list[str] = []
        for param in params.named_children if params is not None else []:
            if param.type == "comment":
                continue
            texts.append(node_text(param))
            kind = param.child_by_field_name("type")
            first = param.named_children[0] if param.named_children else None
            if self.queues and kind is not None and first is not None:
                annotation = kind.named_children[0] if kind.named_children else kind
                if annotation.type in ("identifier", "attribute"):
                    self.facts.receivers.append(
                        Receiver(name, node_text(first), expr(annotation), node.start_point.row + 1)
                    )
        self.facts.signatures.append(Signature(qualified, node.start_point.row + 1, tuple(texts)))

    def _class(self, node: Node, name: str) -> None:
        bases = node.child_by_field_name("superclasses")
        base_names = tuple(
            node_text(b)
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
                fields.append((node_text(left), node_text(kind), required))
        if fields:
            self.facts.models[name] = tuple(fields)
            self.facts.model_bases[name] = base_names + (("dataclass",) if dataclass_like else ())


def _factory(node: Node) -> bool:
    if node.type == "attribute":
        return node_text(node.child_by_field_name("attribute")) == "default_exchange"
    if node.type != "call":
        return False
    func = node.child_by_field_name("function")
    if func is None:
        return False
    last = func.child_by_field_name("attribute") if func.type == "attribute" else func
    return node_text(last) in FACTORIES


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
            if node_text(inner_key).strip("'\"") == "schedule":
                entry = node_text(key).strip("'\"")
                found.append((entry, node_text(inner_value)[:_TEXT], pair.start_point.row + 1))
    return tuple(found)
