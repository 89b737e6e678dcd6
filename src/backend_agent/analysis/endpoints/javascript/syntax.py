"""Small helpers over tree-sitter nodes shared by the JavaScript/TypeScript scanners."""

from __future__ import annotations

from tree_sitter import Node

FUNCTIONS = {"arrow_function", "function_expression", "function", "generator_function"}


def text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def line_of(node: Node) -> int:
    return node.start_point[0] + 1


def string_of(node: Node) -> str:
    """A string literal's content (quotes removed)."""
    return text(node)[1:-1]


def param_name(param: Node) -> str:
    if param.type == "identifier":
        return text(param)
    for field_name in ("pattern", "left", "name"):
        inner = param.child_by_field_name(field_name)
        if inner is not None and inner.type == "identifier":
            return text(inner)
    return ""


def first_param(function: Node) -> str | None:
    single = function.child_by_field_name("parameter")
    if single is not None:
        return text(single)
    params = function.child_by_field_name("parameters")
    if params is None or not params.named_children:
        return None
    return param_name(params.named_children[0]) or None


def decorator_name(source: str) -> str:
    """``@UseGuards(AuthGuard)`` -> ``UseGuards``."""
    return source.lstrip("@").split("(", 1)[0].strip()
