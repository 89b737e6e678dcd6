"""Module structure of one JavaScript/TypeScript file: ``import`` and ``export`` statements
(CommonJS ``module.exports`` assignments are read by the scanner's assignments)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tree_sitter import Node

from backend_agent.analysis.endpoints.javascript.facts import UNKNOWN
from backend_agent.analysis.endpoints.javascript.syntax import string_of
from backend_agent.analysis.parsing import node_text

if TYPE_CHECKING:
    from backend_agent.analysis.endpoints.javascript.scan import Scanner


def export(scanner: Scanner, node: Node) -> None:
    """``export ...`` statements: what the file exports, by name (``default`` included)."""
    exports = scanner.facts.exports
    declaration = node.child_by_field_name("declaration")
    value_node = node.child_by_field_name("value")
    source = node.child_by_field_name("source")
    decorators = [d for d in node.named_children if d.type == "decorator"]
    if declaration is not None:
        if declaration.type in ("class_declaration", "abstract_class_declaration"):
            name = scanner.class_(declaration, decorators)
            exports[name] = ("class", name)
            if any(child.type == "default" for child in node.children):
                exports["default"] = ("class", name)  # export default class X
            return
        scanner.visit(declaration)
        for name in _declared_names(declaration):
            exports[name] = scanner.lookup(name)
        if any(child.type == "default" for child in node.children):
            names = _declared_names(declaration)
            exports["default"] = scanner.lookup(names[0]) if names else UNKNOWN
        return
    if value_node is not None:
        if value_node.type in ("class", "class_declaration"):
            exports["default"] = ("class", scanner.class_(value_node, decorators))
        else:
            exports["default"] = scanner.value(value_node, "default")
        return
    clause = next((c for c in node.named_children if c.type == "export_clause"), None)
    spec = string_of(source) if source is not None else None
    for item in clause.named_children if clause is not None else []:
        local = node_text(item.child_by_field_name("name"))
        alias = node_text(item.child_by_field_name("alias")) or local
        exports[alias] = ("import", spec, local) if spec else scanner.lookup(local)
    if clause is None and spec:  # export * from './x'
        exports.setdefault("*", ("import", spec, "*"))


def import_(scanner: Scanner, node: Node) -> None:
    """``import ... from '...'``: each imported name is bound to an ``import`` value."""
    source = node.child_by_field_name("source")
    if source is None:
        return
    spec = string_of(source)
    clause = next((c for c in node.named_children if c.type == "import_clause"), None)
    for part in clause.named_children if clause is not None else []:
        if part.type == "identifier":
            scanner.declare(node_text(part), ("import", spec, "default"))
        elif part.type == "namespace_import":
            for ident in part.named_children:
                scanner.declare(node_text(ident), ("import", spec, "*"))
        elif part.type == "named_imports":
            for item in part.named_children:
                if item.type != "import_specifier":
                    continue
                name = node_text(item.child_by_field_name("name"))
                alias = node_text(item.child_by_field_name("alias")) or name
                scanner.declare(alias, ("import", spec, name))


def _declared_names(declaration: Node) -> list[str]:
    if declaration.type in ("lexical_declaration", "variable_declaration"):
        return [
            node_text(d.child_by_field_name("name"))
            for d in declaration.named_children
            if d.type == "variable_declarator"
            and (n := d.child_by_field_name("name")) is not None
            and n.type == "identifier"
        ]
    name = declaration.child_by_field_name("name")
    return [node_text(name)] if name is not None else []
