"""Phase one for JavaScript/TypeScript queues: the endpoint scanner's symbolic values
(bindings, exports; see ``endpoints.javascript.facts``) plus every call that may produce,
consume, define, enqueue or schedule, NestJS decorators, and declared payload types.

Additions to the value encoding: ``("or", left, right)`` for ``a || b`` and ``a ?? b`` (an
environment variable with a default), ``("enum", ((member, value), ...))`` is stored as an
``obj`` so that ``Queues.EMAIL`` evaluates like an object field."""

from __future__ import annotations

import re

from tree_sitter import Node

from backend_agent.analysis.endpoints.javascript.facts import UNKNOWN, Value
from backend_agent.analysis.endpoints.javascript.scan import Scanner
from backend_agent.analysis.parsing import LanguageName, node_text, parse
from backend_agent.analysis.queues.javascript.constants import lexical_facts
from backend_agent.analysis.queues.javascript.facts import (
    Decorated,
    JsCall,
    JsQueueFacts,
    last_name,
)

# Member calls worth keeping, by property name.
METHODS = frozenset(
    {
        # bullmq, bull, bee-queue, agenda
        "add",
        "addBulk",
        "process",
        "upsertJobScheduler",
        "define",
        "every",
        "schedule",
        "now",
        "create",
        "createJob",
        # amqplib, kafkajs, nest clients, ioredis/node-redis, nats, sqs/sns v2, pubsub
        "sendToQueue",
        "publish",
        "consume",
        "bindQueue",
        "send",
        "sendBatch",
        "subscribe",
        "psubscribe",
        "pSubscribe",
        "emit",
        "xadd",
        "xAdd",
        "xread",
        "xRead",
        "xreadgroup",
        "xReadGroup",
        "request",
        "sendMessage",
        "sendMessageBatch",
        "receiveMessage",
        "publishMessage",
        "on",
    }
)
# `new X(...)` worth keeping, by constructor name.
CONSTRUCTORS = frozenset(
    {
        "Worker",
        "Queue",
        "Bull",
        "CronJob",
        "SendMessageCommand",
        "SendMessageBatchCommand",
        "ReceiveMessageCommand",
        "PublishCommand",
        "PublishBatchCommand",
        "SubscribeCommand",
    }
)
_DECORATORS = frozenset(
    {"Processor", "Process", "MessagePattern", "EventPattern", "Cron", "Interval", "OnEvent"}
)
_TEXT = 160


_IMPORT = re.compile(rb"""(?:from\s*|require\(\s*|import\(\s*|import\s+)['"]([^'"]+)['"]""")
# Byte strings without which a file uses no queue library (checked with ``in``: fast).
_HINTS = (
    b"bullmq", b"bull", b"bee-queue", b"agenda", b"cron", b"amqp", b"kafkajs", b"client-sqs",
    b"client-sns", b"aws-sdk", b"sqs-consumer", b"redis", b"nats", b"@nestjs/microservices",
    b"@nestjs/bull", b"@nestjs/schedule", b"@google-cloud/pubsub", b".add(", b".sendToQueue(",
    b".publish(", b".subscribe(", b".emit(", b".process(", b".xadd(", b".xAdd(", b".now(",
    b".every(", b".createJob(",
    b"Queue", b"queue", b"roducer",  # queue factories and holders: createQueue(name), taskQueue()
)  # fmt: skip
# zod schemas need the parser even in files that use no queue library.
_DECLARES = re.compile(rb"z\.object\(")


def scan_queues(source: bytes, language: LanguageName) -> JsQueueFacts:
    """Facts of one file. Files that use no queue library (and declare no zod schema) are
    read lexically: exported constants, enums, interfaces (``constants``)."""
    imports = tuple(
        sorted({m.group(1).decode("utf-8", "replace") for m in _IMPORT.finditer(source)})
    )
    queues = any(hint in source for hint in _HINTS)
    if not queues and _DECLARES.search(source) is None:
        found = lexical_facts(source)
        found.imports = imports
        return found
    scanner = QueueScanner(queues)
    root = parse(source, language).root_node
    scanner.visit(root)
    if queues and language != "javascript":
        scanner.typed_names(root)
    scanner.facts_of.imports = imports
    return scanner.facts_of


class QueueScanner(Scanner):
    """The endpoint scanner with its hooks filled in for queues."""

    def __init__(self, queues: bool) -> None:
        super().__init__()
        self.facts_of = JsQueueFacts(self.facts)
        self.queues = queues
        self.classes_seen: list[str] = []

    # ---- hooks --------------------------------------------------------------------------

    def on_call(self, kind: str, callee: Value, args: tuple[Value, ...], node: Node) -> None:
        if not self.queues:
            return
        for arg in args:
            if arg[0] == "obj":
                transport = dict(arg[1]).get("transport")
                if transport is not None and transport[0] == "member":
                    self.facts_of.transports.append(str(transport[2]))
        wanted = (
            (kind == "call" and callee[0] == "member" and callee[2] in METHODS)
            or (kind == "new" and last_name(callee) in CONSTRUCTORS)
            or (kind == "call" and callee[0] == "member" and callee[2] in ("create", "from"))
        )
        if not wanted:
            return
        type_args = node.child_by_field_name("type_arguments")
        arguments = node.child_by_field_name("arguments")
        texts = tuple(node_text(a)[:_TEXT] for a in arguments.named_children) if arguments else ()
        function = node.child_by_field_name("function")
        named = function.child_by_field_name("property") if function is not None else None
        self.facts_of.calls.append(
            JsCall(
                kind,
                callee,
                args,
                (named or node).start_point[0] + 1,  # a chained `.add(` is on its own line
                self.symbol(),
                tuple(node_text(t) for t in type_args.named_children) if type_args else (),
                texts,
                node.start_byte,
            )
        )

    def on_class(self, name: str, decorators: list[Node], node: Node) -> None:
        heritage = next((c for c in node.named_children if c.type == "class_heritage"), None)
        if heritage is not None:
            clause = next((c for c in heritage.named_children if c.type == "extends_clause"), None)
            extends = clause or heritage  # TypeScript wraps it in extends_clause, JS does not
            base = extends.named_children[0] if extends.named_children else None
            if base is not None and base.type != "implements_clause":
                self.facts_of.extends[name] = self.value(base)
        body = node.child_by_field_name("body")
        for decorator in decorators:
            self._decorator(decorator, name, "", ())
        pending: list[Node] = []
        for member in body.named_children if body is not None else []:
            if member.type == "decorator":
                pending.append(member)
                continue
            decorators_of = pending + [d for d in member.named_children if d.type == "decorator"]
            pending = []
            if member.type == "method_definition":
                method = node_text(member.child_by_field_name("name"))
                params = member.child_by_field_name("parameters")
                if method == "constructor" and params is not None:
                    self._constructor(name, params)
                types = tuple(_param_type(p) for p in params.named_children) if params else ()
                for decorator in decorators_of:
                    self._decorator(decorator, name, method, types)
            elif member.type in ("public_field_definition", "field_definition"):
                self._typed_field(name, member)

    def visit(self, node: Node) -> None:
        kind = node.type
        if kind == "enum_declaration":
            name = node_text(node.child_by_field_name("name"))
            body = node.child_by_field_name("body")
            members: list[tuple[str, Value]] = []
            for item in body.named_children if body is not None else []:
                if item.type == "enum_assignment":
                    value = item.child_by_field_name("value")
                    member = node_text(item.child_by_field_name("name"))
                    members.append((member, self.value(value) if value is not None else UNKNOWN))
                elif item.type == "property_identifier":
                    members.append((node_text(item), ("str", node_text(item))))
            self.facts.bindings[self.key(name)] = ("obj", tuple(members))
            self.scopes[-1][1].add(name)
            return
        if kind in ("interface_declaration", "type_alias_declaration"):
            self._type_declaration(node)
            return
        super().visit(node)

    def value(self, node: Node | None, name: str = "") -> Value:
        if node is not None and node.type == "assignment_expression" and self._resets(node):
            return UNKNOWN  # `this.client = null` on shutdown keeps what the client was
        if node is not None and node.type == "binary_expression":
            operator = node_text(node.child_by_field_name("operator"))
            if operator in ("||", "??"):
                left = self.value(node.child_by_field_name("left"))
                return ("or", left, self.value(node.child_by_field_name("right")))
        return super().value(node, name)

    def _resets(self, node: Node) -> bool:
        """An assignment of null/undefined to a field that already holds a value."""
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is None or right is None or right.type not in ("null", "undefined"):
            return False
        if left.type != "member_expression" or not self.classes:
            return False
        key = f"{self.classes[-1]}.{node_text(left.child_by_field_name('property'))}"
        return self.facts.bindings.get(key, UNKNOWN)[0] not in ("unknown",)

    def typed_names(self, root: Node) -> None:
        """Variables and parameters with a type annotation (by name, for payload types)."""
        stack = [root]
        while stack:
            node = stack.pop()
            if node.type == "variable_declarator":
                self._typed_name(node.child_by_field_name("name"), node.child_by_field_name("type"))
            elif node.type in ("required_parameter", "optional_parameter"):
                self._typed_name(
                    node.child_by_field_name("pattern"), node.child_by_field_name("type")
                )
            stack.extend(node.named_children)

    # ---- helpers ------------------------------------------------------------------------

    def symbol(self) -> str:
        """The enclosing function or method, anonymous functions skipped."""
        for scope, _ in reversed(self.scopes):
            parts = [p for p in scope.split("/") if p and not p.startswith("<")]
            if parts:
                return ".".join(parts)
        return "<module>"

    def _decorator(self, node: Node, cls: str, method: str, params: tuple[str, ...]) -> None:
        call = next((c for c in node.named_children if c.type == "call_expression"), None)
        target = call.child_by_field_name("function") if call is not None else None
        name = node_text(target if target is not None else node).lstrip("@").rsplit(".", 1)[-1]
        if name not in _DECORATORS:
            return
        arguments = call.child_by_field_name("arguments") if call is not None else None
        nodes = [a for a in arguments.named_children if a.type != "comment"] if arguments else []
        args = tuple(self.value(a) for a in nodes)
        texts = tuple(node_text(a)[:_TEXT] for a in nodes)
        line = node.start_point[0] + 1
        self.facts_of.decorated.append(Decorated(name, args, cls, method, line, texts, params))

    def _constructor(self, cls: str, params: Node) -> None:
        """Constructor parameter properties become class fields: ``@InjectQueue('email')
        private queue: Queue`` is a queue named 'email'; a typed one is its type's instance."""
        for param in params.named_children:
            pattern = param.child_by_field_name("pattern")
            if pattern is None or pattern.type != "identifier":
                continue
            key = f"{cls}.{node_text(pattern)}"
            inject = next((d for d in param.named_children if d.type == "decorator"), None)
            if inject is not None and "InjectQueue" in node_text(inject):
                call = next((c for c in inject.named_children if c.type == "call_expression"), None)
                arguments = call.child_by_field_name("arguments") if call is not None else None
                args = tuple(self.value(a) for a in arguments.named_children) if arguments else ()
                self.facts.bindings[key] = ("injectqueue", args)
                continue
            type_name = _param_type(param).split("<", 1)[0].strip()
            if type_name.isidentifier():
                self.facts.bindings[key] = ("new", self.lookup(type_name), (), param.start_byte)

    def _typed_field(self, cls: str, member: Node) -> None:
        name = member.child_by_field_name("name") or member.child_by_field_name("property")
        kind = member.child_by_field_name("type")
        if name is not None and kind is not None:
            fields = list(self.facts_of.types.get(cls, ()))
            optional = "?" in node_text(member).split(":", 1)[0]
            fields.append((node_text(name), _annotation(kind), not optional))
            self.facts_of.types[cls] = tuple(fields)

    def _type_declaration(self, node: Node) -> None:
        name = node_text(node.child_by_field_name("name"))
        body = node.child_by_field_name("body") or node.child_by_field_name("value")
        if body is None or body.type not in ("interface_body", "object_type"):
            return
        fields: list[tuple[str, str, bool]] = []
        for item in body.named_children:
            if item.type != "property_signature":
                continue
            kind = item.child_by_field_name("type")
            optional = any(c.type == "?" for c in item.children)
            field_name = node_text(item.child_by_field_name("name")).strip("'\"")
            fields.append((field_name, _annotation(kind) if kind else "", not optional))
        self.facts_of.types[name] = tuple(fields)

    def _typed_name(self, name: Node | None, kind: Node | None) -> None:
        if name is not None and kind is not None and name.type == "identifier":
            self.facts_of.typed[node_text(name)] = _annotation(kind)


def _param_type(param: Node) -> str:
    kind = param.child_by_field_name("type")
    return _annotation(kind) if kind is not None else ""


def _annotation(node: Node) -> str:
    """A type annotation as written, without its leading colon."""
    return node_text(node).lstrip(":").strip()
