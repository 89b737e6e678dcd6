"""Phase one for Ruby: a file as a tree of DSL calls, classes, modules and method definitions.

Route DSLs (Rails ``routes.rb``, Sinatra, Grape, Hanami) and controller filters are all
calls with literal arguments and blocks, so one small generic tree serves every framework:

- ``Call(name, receiver, args, options, children, line, called)``: ``called`` lists the
  receiver-less method names used anywhere in the block (for auth helpers such as
  ``authenticate!``);
- ``ClassDef(name, superclass, children, line)``, ``ModuleDef(name, children, line)``;
- ``MethodDef(name, body, line)``: the first few hundred characters of the body.

Values are tuples: ``("sym", s)``, ``("str", s)``, ``("const", "A::B")``, ``("arr", items)``,
``("hash", ((key, value), ...))``, ``("nil",)``, ``("bool", "true")``, ``("call", Call)``,
``("other", text)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tree_sitter import Node

from backend_agent.analysis.parsing import node_text, parse

RbValue = tuple[Any, ...]
_BODY_CHARS = 600


@dataclass(frozen=True)
class Call:
    name: str
    receiver: str
    args: tuple[RbValue, ...]
    options: tuple[tuple[str, RbValue], ...]
    children: tuple[Item, ...]
    line: int
    called: tuple[str, ...]
    has_block: bool

    def option(self, key: str) -> RbValue | None:
        return next((v for k, v in self.options if k == key), None)


@dataclass(frozen=True)
class ClassDef:
    name: str
    superclass: str
    children: tuple[Item, ...]
    line: int


@dataclass(frozen=True)
class ModuleDef:
    name: str
    children: tuple[Item, ...]
    line: int


@dataclass(frozen=True)
class MethodDef:
    name: str
    body: str
    line: int


Item = Call | ClassDef | ModuleDef | MethodDef


def scan_ruby(source: bytes) -> tuple[Item, ...]:
    """The DSL tree of one Ruby file."""
    return _items(parse(source, "ruby").root_node)


def _items(node: Node) -> tuple[Item, ...]:
    found: list[Item] = []
    for child in node.named_children:
        item = _item(child)
        if item is not None:
            found.append(item)
        elif child.type not in ("comment", "string", "integer"):
            found.extend(_items(child))
    return tuple(found)


def _item(node: Node) -> Item | None:
    kind = node.type
    if kind == "call" or (kind == "identifier" and node.parent is not None and _statement(node)):
        return _call(node)
    if kind == "class":
        superclass = node.child_by_field_name("superclass")
        body = node.child_by_field_name("body")
        return ClassDef(
            node_text(node.child_by_field_name("name")),
            node_text(superclass).lstrip("<").strip() if superclass is not None else "",
            _items(body) if body is not None else (),
            node.start_point[0] + 1,
        )
    if kind == "module":
        body = node.child_by_field_name("body")
        return ModuleDef(
            node_text(node.child_by_field_name("name")),
            _items(body) if body is not None else (),
            node.start_point[0] + 1,
        )
    if kind in ("method", "singleton_method"):
        body = node.child_by_field_name("body")
        return MethodDef(
            node_text(node.child_by_field_name("name")),
            node_text(body)[:_BODY_CHARS],
            node.start_point[0] + 1,
        )
    return None


def _statement(node: Node) -> bool:
    """A bare identifier used as a statement is a method call (``authenticate!``)."""
    parent = node.parent
    return parent is not None and parent.type in ("body_statement", "block_body", "program")


def _call(node: Node) -> Call:
    if node.type == "identifier":
        return Call(node_text(node), "", (), (), (), node.start_point[0] + 1, (), False)
    receiver = node.child_by_field_name("receiver")
    method = node.child_by_field_name("method")
    arguments = node.child_by_field_name("arguments")
    block = node.child_by_field_name("block")
    args: list[RbValue] = []
    options: list[tuple[str, RbValue]] = []
    for arg in arguments.named_children if arguments is not None else []:
        if arg.type == "pair":
            options.append(_pair(arg))
        elif arg.type == "hash":
            options.extend(_pair(p) for p in arg.named_children if p.type == "pair")
        elif arg.type != "comment":
            args.append(value(arg))
    children: tuple[Item, ...] = ()
    called: tuple[str, ...] = ()
    if block is not None:
        body = next(
            (c for c in block.named_children if c.type in ("body_statement", "block_body")), None
        )
        if body is not None:
            children = _items(body)
            called = tuple(sorted(_called_names(body)))
    return Call(
        node_text(method),
        node_text(receiver),
        tuple(args),
        tuple(options),
        children,
        node.start_point[0] + 1,
        called,
        block is not None,
    )


def _called_names(node: Node) -> set[str]:
    names: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "call" and current.child_by_field_name("receiver") is None:
            names.add(node_text(current.child_by_field_name("method")))
        elif current.type == "identifier" and _statement(current):
            names.add(node_text(current))
        stack.extend(current.named_children)
    return names


def _pair(node: Node) -> tuple[str, RbValue]:
    key = node.child_by_field_name("key")
    key_value = value(key) if key is not None else ("nil",)
    name = key_value[1] if key_value[0] in ("sym", "str") else node_text(key).rstrip(":")
    if key is not None and key.type not in ("hash_key_symbol", "simple_symbol", "string"):
        name = "=>" + node_text(key)  # `get 'path' => 'c#a'` keeps the path as the key
    elif key is not None and key.type == "string" and node_text(node).find("=>") >= 0:
        name = "=>" + str(key_value[1])
    return name, value(node.child_by_field_name("value"))


def value(node: Node | None) -> RbValue:
    if node is None:
        return ("nil",)
    kind = node.type
    text = node_text(node)
    if kind == "simple_symbol":
        return ("sym", text[1:])
    if kind in ("hash_key_symbol", "bare_symbol", "identifier"):
        return ("sym", text) if kind != "identifier" else ("other", text)
    if kind == "delimited_symbol":
        return ("sym", text[2:-1])
    if kind == "string":
        if any(c.type == "interpolation" for c in node.named_children):
            return ("other", text)
        return ("str", "".join(node_text(c) for c in node.named_children))
    if kind in ("bare_string",):
        return ("str", text)
    if kind in ("constant", "scope_resolution"):
        return ("const", text.lstrip(":"))
    if kind in ("array", "symbol_array", "string_array"):
        return ("arr", tuple(value(c) for c in node.named_children if c.type != "comment"))
    if kind == "hash":
        return ("hash", tuple(_pair(p) for p in node.named_children if p.type == "pair"))
    if kind == "nil":
        return ("nil",)
    if kind in ("true", "false"):
        return ("bool", kind)
    if kind == "call":  # e.g. `run Rack::URLMap.new('/api' => Api)`
        return ("call", _call(node))
    return ("other", text[:120])
