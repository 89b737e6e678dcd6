"""How each language's tree-sitter grammar spells what the rules look at, and calls normalised.

A ``Grammar`` is a table of node types and field names. With it, one implementation of "the
value of a string literal", "is this a literal", "the callee of a call" serves every language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from tree_sitter import Node

from backend_agent.analysis.parsing import node_text
from backend_agent.analysis.security.engine import all_literal


@dataclass(frozen=True)
class Grammar:
    """The node types and fields of one language's grammar that the rules need."""

    scopes: frozenset[str]  # function-like nodes, each with its own variables
    identifiers: frozenset[str]  # names that can hold values
    calls: frozenset[str]  # call-like nodes (constructors included)
    strings: frozenset[str]  # string literal node types
    string_parts: frozenset[str]  # the literal pieces inside a string node
    interpolations: frozenset[str]  # ``{x}``, ``${x}``, ``#{x}`` inside strings
    binaries: frozenset[str]  # binary operator nodes (fields left, operator, right)
    parentheses: frozenset[str]
    literals: frozenset[str]  # numbers, booleans, null, symbols
    containers: frozenset[str]  # lists, tuples, operators: literal when all leaves are
    collections: frozenset[str]  # dictionary/object/hash/list literals
    functions: frozenset[str]  # function literals: code, not data
    commands: frozenset[str] = frozenset()  # string-like nodes that run a command (backticks)
    patterns: frozenset[str] = frozenset()  # names bound by destructuring (``{a, b} = …``)
    members: Mapping[str, str] = field(default_factory=dict)  # member type -> object field
    pairs: Mapping[str, str] = field(default_factory=dict)  # pair type -> value field
    concatenations: frozenset[str] = frozenset()  # Python's implicit "a" "b"
    conditionals: frozenset[str] = frozenset()  # ``a ? b : c``: the value is never ``a``
    format_operator: bool = False  # ``"…%s" % x`` builds a string (Python, Ruby)
    conversions: frozenset[str] = frozenset()  # Go's []byte("x") is as literal as "x"

    def string_value(self, node: Node | None) -> str | None:
        """The value of a string literal (escapes as written), or None when it is not one
        or interpolates anything."""
        if node is None:
            return None
        if node.type in self.conversions and node.named_children:
            node = node.named_children[-1]
        if node.type in self.concatenations:
            parts = [self.string_value(c) for c in node.named_children]
            return None if any(p is None for p in parts) else "".join(p or "" for p in parts)
        if node.type not in self.strings or any(
            c.type in self.interpolations for c in node.children
        ):
            return None
        return "".join(node_text(c) for c in node.children if c.type in self.string_parts)

    def literal(self, node: Node) -> bool:
        """A literal, or lists and operators made only of literals."""
        return all_literal(node, self._literal_leaf, self.containers)

    def _literal_leaf(self, node: Node) -> bool:
        return node.type in self.literals or self.string_value(node) is not None

    def stringy(self, node: Node) -> bool:
        return node.type in self.strings or node.type in self.concatenations

    def callee(self, call: Node) -> str:
        """``db.query``, ``requests.get``, ``JWT.decode``; Ruby's receiver and method."""
        method = call.child_by_field_name("method")
        if method is not None:
            receiver = call.child_by_field_name("receiver")
            return (
                f"{_squeeze(node_text(receiver))}.{node_text(method)}"
                if receiver
                else node_text(method)
            )
        function = call.child_by_field_name("function") or call.child_by_field_name("constructor")
        return _squeeze(node_text(function))


@dataclass(frozen=True)
class Call:
    """A call with its parts named the same in every language."""

    node: Node
    callee: str  # "requests.get", "db.query", "exec.Command", "JWT.decode"
    target: Node | None  # the object the method is called on, if any
    args: list[Node]  # positional arguments
    options: dict[str, Node]  # keyword arguments, Ruby hash arguments, a JS options object

    @property
    def name(self) -> str:
        return self.callee.rsplit(".", 1)[-1]

    @property
    def receiver(self) -> str:
        return self.callee.rsplit(".", 1)[0] if "." in self.callee else ""

    def argument(self, *where: int | str) -> Node | None:
        """The first of these that the call has: a position (negative from the end), an
        option name, or ``receiver``."""
        for spot in where:
            if spot == "receiver":
                if self.target is not None:
                    return self.target
            elif isinstance(spot, str):
                if spot in self.options:
                    return self.options[spot]
            elif -len(self.args) <= spot < len(self.args):
                return self.args[spot]
        return None


def _squeeze(callee: str) -> str:
    """Chained calls written over several lines read as one callee."""
    return re.sub(r"\s+", "", callee)
