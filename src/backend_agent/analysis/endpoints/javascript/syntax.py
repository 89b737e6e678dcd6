"""Small helpers over tree-sitter nodes shared by the JavaScript/TypeScript scanners."""

from __future__ import annotations

from tree_sitter import Node

from backend_agent.analysis.parsing import node_text

FUNCTIONS = {"arrow_function", "function_expression", "function", "generator_function"}


def line_of(node: Node) -> int:
    return node.start_point[0] + 1


def string_of(node: Node) -> str:
    """A string literal's content (quotes removed)."""
    return node_text(node)[1:-1]


def param_name(param: Node) -> str:
    if param.type == "identifier":
        return node_text(param)
    for field_name in ("pattern", "left", "name"):
        inner = param.child_by_field_name(field_name)
        if inner is not None and inner.type == "identifier":
            return node_text(inner)
    return ""


def first_param(function: Node) -> str | None:
    single = function.child_by_field_name("parameter")
    if single is not None:
        return node_text(single)
    params = function.child_by_field_name("parameters")
    if params is None or not params.named_children:
        return None
    return param_name(params.named_children[0]) or None


def decorator_name(source: str) -> str:
    """``@UseGuards(AuthGuard)`` -> ``UseGuards``."""
    return source.lstrip("@").split("(", 1)[0].strip()
