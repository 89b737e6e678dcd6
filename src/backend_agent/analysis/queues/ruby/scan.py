"""Phase one for Ruby queues: one file's constants (qualified by their modules), job and
consumer classes with their DSL settings, the calls that may produce, consume, enqueue or
schedule, and each method's local assignments.

Values are small tuples: ``("str", s)``, ``("sym", s)``, ``("const", "A::B")``,
``("tpl", parts)`` (interpolation), ``("env", key, default)``, ``("id", name)``,
``("call", receiver, method, args, options, line)``, ``("arr", items)``,
``("hash", ((key, value), ...))``, ``("num", text)``, ``("other", text)``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tree_sitter import Node

from backend_agent.analysis.parsing import node_text, parse

RbValue = tuple[Any, ...]
CALLS = frozenset(
    {
        # sidekiq, activejob, resque, sidekiq-cron, whenever
        "perform_async",
        "perform_in",
        "perform_at",
        "perform_bulk",
        "perform_later",
        "push",
        "push_bulk",
        "enqueue",
        "enqueue_to",
        "enqueue_in",
        "enqueue_at",
        "create",
        "every",
        "load_from_hash",
        # bunny, ruby-kafka, waterdrop/karafka, racecar, aws-sdk, redis
        "publish",
        "subscribe",
        "pop",
        "bind",
        "deliver_message",
        "produce",
        "produce_sync",
        "produce_async",
        "produce_many_sync",
        "produce_many_async",
        "each_message",
        "topic",
        "send_message",
        "send_message_batch",
        "receive_message",
        "psubscribe",
    }
)
_SETTINGS = frozenset(
    {"queue_as", "sidekiq_options", "from_queue", "subscribes_to", "shoryuken_options", "include"}
)
# Byte strings without which a file uses no queue library (checked with ``in``: fast).
_HINTS = (
    b"Sidekiq", b"ActiveJob", b"ApplicationJob", b"perform_", b"queue_as", b"Resque", b"@queue",
    b"Bunny", b"Kafka", b"Karafka", b"Racecar", b"WaterDrop", b"Aws::SQS", b"Aws::SNS",
    b"Shoryuken", b"Sneakers", b"from_queue", b"subscribes_to", b"good_job", b".publish",
    b".subscribe", b"every ", b"routes.draw",
)  # fmt: skip
_CONSTANTS = re.compile(rb"^\s*[A-Z][A-Z0-9_]*\s*=\s*['\"%]", re.MULTILINE)
_TEXT = 160


@dataclass(frozen=True)
class RbCall:
    method: str
    receiver: RbValue | None
    args: tuple[RbValue, ...]
    options: tuple[tuple[str, RbValue], ...]
    line: int
    symbol: str  # "Class#method", "Class.method" or the class/module/file level
    namespace: tuple[str, ...]  # enclosing modules and classes
    texts: tuple[str, ...] = ()  # arguments as written
    block: tuple[tuple[str, tuple[RbValue, ...], int], ...] = ()  # calls directly in its block

    def option(self, key: str) -> RbValue | None:
        return next((v for k, v in self.options if k == key), None)


@dataclass
class RbClass:
    name: str  # qualified: "Billing::ChargeJob"
    superclass: str
    line: int
    namespace: tuple[str, ...]
    includes: list[str] = field(default_factory=list)
    settings: list[RbCall] = field(default_factory=list)  # queue_as, sidekiq_options, ...
    queue_ivar: RbValue | None = None  # Resque's @queue
    perform: tuple[str, ...] | None = None  # perform's parameters
    class_perform: bool = False  # def self.perform (Resque)


@dataclass
class RbQueueFacts:
    constants: dict[str, RbValue] = field(default_factory=dict)
    classes: list[RbClass] = field(default_factory=list)
    calls: list[RbCall] = field(default_factory=list)
    locals: dict[str, dict[str, RbValue]] = field(default_factory=dict)
    assignments: list[tuple[str, RbValue, int]] = field(default_factory=list)


def scan_ruby(source: bytes) -> RbQueueFacts:
    """Facts of one Ruby file; files with neither queue hints nor constants are not parsed."""
    if not any(hint in source for hint in _HINTS) and _CONSTANTS.search(source) is None:
        return RbQueueFacts()
    facts = RbQueueFacts()
    _Walker(facts).body(parse(source, "ruby").root_node, (), "", None)
    return facts


class _Walker:
    def __init__(self, facts: RbQueueFacts) -> None:
        self.facts = facts

    def body(
        self, node: Node, namespace: tuple[str, ...], symbol: str, cls: RbClass | None
    ) -> None:
        for child in node.named_children:
            self.statement(child, namespace, symbol, cls)

    def statement(
        self, node: Node, namespace: tuple[str, ...], symbol: str, cls: RbClass | None
    ) -> None:
        kind = node.type
        if kind in ("module", "class"):
            name = node_text(node.child_by_field_name("name")).lstrip(":")
            inner = (*namespace, name)
            body = node.child_by_field_name("body")
            owner = cls
            if kind == "class":
                superclass = node.child_by_field_name("superclass")
                owner = RbClass(
                    "::".join(inner),
                    node_text(superclass).lstrip("<").strip() if superclass else "",
                    node.start_point[0] + 1,
                    namespace,
                )
                self.facts.classes.append(owner)
            if body is not None:
                self.body(body, inner, "::".join(inner), owner)
        elif kind in ("method", "singleton_method"):
            name = node_text(node.child_by_field_name("name"))
            singleton = kind == "singleton_method"
            qualified = f"{'::'.join(namespace)}{'.' if singleton else '#'}{name}"
            if cls is not None and name == "perform":
                cls.perform = _params(node.child_by_field_name("parameters"))
                cls.class_perform = cls.class_perform or singleton
            body = next((c for c in node.named_children if c.type == "body_statement"), None)
            if body is not None:
                self.walk(body, namespace, qualified, None)
        elif kind == "assignment":
            self._assignment(node, namespace, symbol, cls)
        elif (
            kind == "call"
            and cls is not None
            and node_text(node.child_by_field_name("method")) in _SETTINGS
        ):
            call = self.call(node, namespace, symbol)
            if call.method == "include":
                cls.includes.extend(str(a[1]) for a in call.args if a[0] == "const")
            else:
                cls.settings.append(call)
        else:
            self.walk(node, namespace, symbol, cls)

    def walk(
        self, node: Node, namespace: tuple[str, ...], symbol: str, cls: RbClass | None
    ) -> None:
        """Calls and assignments anywhere below ``node`` (nested definitions recurse)."""
        stack = [node]
        while stack:
            current = stack.pop()
            kind = current.type
            if kind in ("module", "class", "method", "singleton_method") and current is not node:
                self.statement(current, namespace, symbol, cls)
                continue
            if kind == "assignment" and current is not node:
                self._assignment(current, namespace, symbol, cls)
            elif kind == "call" and node_text(current.child_by_field_name("method")) in CALLS:
                self.facts.calls.append(self.call(current, namespace, symbol))
            stack.extend(reversed(current.named_children))

    def call(self, node: Node, namespace: tuple[str, ...], symbol: str) -> RbCall:
        receiver = node.child_by_field_name("receiver")
        arguments = node.child_by_field_name("arguments")
        args: list[RbValue] = []
        options: list[tuple[str, RbValue]] = []
        texts: list[str] = []
        for arg in arguments.named_children if arguments is not None else []:
            if arg.type == "comment":
                continue
            texts.append(node_text(arg)[:_TEXT])
            if arg.type == "pair":
                options.append(_pair(arg))
            elif arg.type == "hash" and not args:
                args.append(value(arg))
            else:
                args.append(value(arg))
        block = node.child_by_field_name("block")
        inner: list[tuple[str, tuple[RbValue, ...], int]] = []
        if block is not None:
            body = next(
                (c for c in block.named_children if c.type in ("body_statement", "block_body")),
                None,
            )
            for child in body.named_children if body is not None else []:
                if child.type == "call" and child.child_by_field_name("receiver") is None:
                    method = node_text(child.child_by_field_name("method"))
                    arguments = child.child_by_field_name("arguments")
                    items = arguments.named_children if arguments is not None else []
                    found = tuple(value(a) for a in items if a.type not in ("comment", "pair"))
                    inner.append((method, found, child.start_point[0] + 1))
                elif child.type == "identifier":
                    inner.append((node_text(child), (), child.start_point[0] + 1))
        named = node.child_by_field_name("method")
        return RbCall(
            node_text(named),
            value(receiver) if receiver is not None else None,
            tuple(args),
            tuple(options),
            (named or node).start_point[0] + 1,  # a chained `.perform_later` line
            symbol or "<main>",
            namespace,
            tuple(texts),
            tuple(inner),
        )

    def _assignment(
        self, node: Node, namespace: tuple[str, ...], symbol: str, cls: RbClass | None
    ) -> None:
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is None or right is None:
            return
        target = node_text(left)
        held = value(right)
        if left.type == "constant":
            self.facts.constants["::".join((*namespace, target))] = held
        elif left.type == "instance_variable" and target == "@queue" and cls is not None:
            cls.queue_ivar = held
        elif left.type == "identifier":
            self.facts.locals.setdefault(symbol or "<main>", {})[target] = held
        elif left.type == "call":
            self.facts.assignments.append((target, held, node.start_point[0] + 1))
        self.walk(right, namespace, symbol, cls)


def value(node: Node | None) -> RbValue:
    """The tuple form of an expression (see the module docstring)."""
    if node is None:
        return ("other", "")
    kind = node.type
    text = node_text(node)
    if kind == "string":
        parts: list[RbValue] = []
        for child in node.named_children:
            if child.type == "interpolation" and child.named_children:
                parts.append(value(child.named_children[0]))
            else:
                parts.append(("str", node_text(child)))
        if all(p[0] == "str" for p in parts):
            return ("str", "".join(p[1] for p in parts))
        return ("tpl", tuple(parts))
    if kind == "simple_symbol":
        return ("sym", text[1:])
    if kind in ("hash_key_symbol", "bare_symbol"):
        return ("sym", text)
    if kind == "delimited_symbol":
        return ("sym", text[2:-1])
    if kind in ("constant", "scope_resolution"):
        return ("const", text.lstrip(":"))
    if kind in ("identifier", "instance_variable"):
        return ("id", text)
    if kind in ("integer", "float"):
        return ("num", text)
    if kind in ("array", "string_array", "symbol_array"):
        return ("arr", tuple(value(c) for c in node.named_children if c.type != "comment"))
    if kind in ("bare_string",):
        return ("str", text)
    if kind == "hash":
        return ("hash", tuple(_pair(p) for p in node.named_children if p.type == "pair"))
    if kind == "element_reference":
        target = node.child_by_field_name("object")
        if target is not None and node_text(target) == "ENV" and len(node.named_children) > 1:
            return ("env", value(node.named_children[1]), None)
    if kind == "parenthesized_statements" and node.named_children:
        return value(node.named_children[0])
    if kind == "call":
        return _call_value(node)
    return ("other", text[:_TEXT])


def _call_value(node: Node) -> RbValue:
    receiver = node.child_by_field_name("receiver")
    method = node_text(node.child_by_field_name("method"))
    arguments = node.child_by_field_name("arguments")
    args: list[RbValue] = []
    options: list[tuple[str, RbValue]] = []
    for arg in arguments.named_children if arguments is not None else []:
        if arg.type == "pair":
            options.append(_pair(arg))
        elif arg.type != "comment":
            args.append(value(arg))
    if receiver is not None and node_text(receiver) == "ENV" and method == "fetch" and args:
        default = args[1] if len(args) > 1 else None
        block = node.child_by_field_name("block")
        if default is None and block is not None:
            body = next(
                (c for c in block.named_children if c.type in ("body_statement", "block_body")),
                None,
            )
            default = (
                value(body.named_children[0]) if body is not None and body.named_children else None
            )
        return ("env", args[0], default)
    held = value(receiver) if receiver is not None else None
    return ("call", held, method, tuple(args), tuple(options), node.start_point[0] + 1)


def _pair(node: Node) -> tuple[str, RbValue]:
    key = node.child_by_field_name("key")
    key_value = value(key)
    name = str(key_value[1]) if key_value[0] in ("sym", "str") else node_text(key).rstrip(":")
    return name, value(node.child_by_field_name("value"))


def _params(node: Node | None) -> tuple[str, ...]:
    return (
        tuple(node_text(p) for p in node.named_children if p.type != "comment")
        if node is not None
        else ()
    )
