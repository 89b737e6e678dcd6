"""Reading Knex, TypeORM and Sequelize migrations with tree-sitter: literals, calls, options
objects, the ``up``/``down`` functions however they are declared, and the operation list."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tree_sitter import Node

from backend_agent.analysis.database.model import Dialect, Operation, OperationKind
from backend_agent.analysis.database.sql import sql_operations
from backend_agent.analysis.parsing import node_line, node_text, walk

FUNCTIONS = frozenset(
    {
        "function_expression",
        "function",
        "arrow_function",
        "function_declaration",
        "method_definition",
        "generator_function",
    }
)


def string_value(node: Node | None) -> str | None:
    """A string literal, or a template literal without substitutions."""
    if node is None:
        return None
    if node.type == "string":
        return "".join(
            node_text(c)
            for c in node.named_children
            if c.type in ("string_fragment", "escape_sequence")
        )
    if node.type == "template_string" and not any(
        c.type == "template_substitution" for c in node.named_children
    ):
        return node_text(node)[1:-1]
    return None


def call_args(call: Node) -> list[Node]:
    arguments = call.child_by_field_name("arguments")
    return [a for a in arguments.named_children if a.type != "comment"] if arguments else []


def callee(call: Node) -> tuple[str, Node | None]:
    """``obj.method(...)`` -> ("method", obj); ``fn(...)`` -> ("fn", None)."""
    function = call.child_by_field_name("function")
    if function is not None and function.type == "member_expression":
        prop = function.child_by_field_name("property")
        return (node_text(prop) if prop else "", function.child_by_field_name("object"))
    return (node_text(function) if function is not None else "", None)


def object_props(node: Node | None) -> dict[str, Node]:
    """``{a: 1, b: 'x'}`` (also inside ``new Table({...})``) as key -> value node."""
    if node is None:
        return {}
    if node.type == "new_expression":
        arguments = node.child_by_field_name("arguments")
        inner = arguments.named_children if arguments else []
        return object_props(inner[0]) if inner else {}
    if node.type != "object":
        return {}
    pairs = {}
    for pair in node.named_children:
        if pair.type == "pair":
            key, value = pair.child_by_field_name("key"), pair.child_by_field_name("value")
            if key is not None and value is not None:
                pairs[string_value(key) or node_text(key)] = value
    return pairs


def bool_value(node: Node | None) -> bool | None:
    if node is None:
        return None
    return {"true": True, "false": False}.get(node.type)


def migration_steps(root: Node) -> Iterator[tuple[str, Node]]:
    """The bodies of functions named up/down, however they are declared or exported."""
    for node in walk(root):
        name, function = None, None
        if node.type in ("method_definition", "function_declaration"):
            key = node.child_by_field_name("name")
            name, function = (node_text(key) if key else None), node
        elif node.type in ("pair", "variable_declarator", "assignment_expression"):
            key = (
                node.child_by_field_name("key")
                or node.child_by_field_name("name")
                or node.child_by_field_name("left")
            )
            value = node.child_by_field_name("value") or node.child_by_field_name("right")
            if key is not None and value is not None and value.type in FUNCTIONS:
                name = node_text(key).rsplit(".", 1)[-1]
                function = value
        if name in ("up", "down") and function is not None:
            body = function.child_by_field_name("body")
            if body is not None:
                yield name, body


def params(function: Node) -> list[str]:
    single = function.child_by_field_name("parameter")
    if single is not None:
        return [node_text(single)]
    params = function.child_by_field_name("parameters")
    names = []
    for param in params.named_children if params else []:
        ident = param.child_by_field_name("pattern") if param.type != "identifier" else param
        names.append(node_text(ident) if ident is not None else "")
    return names


@dataclass
class Reader:
    dialect: Dialect
    operations: list[Operation] = field(default_factory=list)

    def add(self, kind: OperationKind, node: Node, **values: Any) -> None:
        self.operations.append(Operation(kind, node_line(node), **values))

    def sql(self, node: Node, call: Node) -> None:
        text = string_value(node)
        if text is None:
            self.add("raw-sql", call, note="SQL built at run time", sql=short(node))
        else:
            self.operations.extend(sql_operations(text, self.dialect, node_line(node)))

    def column_constraints(
        self, call: Node, table: str | None, column: str | None, *, references: bool, unique: bool
    ) -> None:
        """The foreign key and unique constraint a column definition declares inline."""
        if references:
            self.add("add-constraint", call, table=table, column=column, constraint="foreign-key")
        if unique:
            self.add(
                "add-constraint", call, table=table, column=column, constraint="unique", unique=True
            )

    def sorted(self) -> list[Operation]:
        return sorted(self.operations, key=lambda op: op.line)


def short(node: Node | None) -> str | None:
    if node is None:
        return None
    flat = " ".join(node_text(node).split())
    return flat if len(flat) <= 200 else flat[:199] + "…"


def calls(body: Node) -> Iterator[tuple[Node, str, Node | None, list[Node]]]:
    for node in walk(body):
        if node.type == "call_expression":
            method, owner = callee(node)
            yield node, method, owner, call_args(node)
