"""CORS headers set by hand: ``*`` or the request's own Origin together with credentials."""

from __future__ import annotations

from collections.abc import Callable

from tree_sitter import Node

from backend_agent.analysis.parsing import node_text
from backend_agent.analysis.security.engine import descendants

HeaderSettings = Callable[[Node], list[tuple[str, Node]]]
"""A language's reading of one node as header assignments: (lower-case name, value) pairs."""


def hand_set_cors(
    node: Node,
    scope: Node,
    tainted: Callable[[Node], bool],
    headers: HeaderSettings,
    literal: Callable[[Node], str | None],
) -> str | None:
    """What is wrong with the ``Access-Control-Allow-Origin`` set at ``node`` (inside the
    function ``scope``), if anything: ``*`` or the request's own origin, while the same
    function allows credentials.

    A reflected origin is fine when the function tests it first (``if ALLOWED.has(origin)``).
    Both headers must be set together: not under separate conditions (``if allow_all: …``,
    ``if allow_credentials: …``), as configurable CORS middleware does.
    """
    for name, value in headers(node):
        if name != "access-control-allow-origin":
            continue
        any_origin = literal(value) == "*"
        if not any_origin and not tainted(value):
            continue
        if not any_origin and _tested(node, scope, node_text(value)):
            continue
        branches = _branches(node, scope)
        if any(
            header == "access-control-allow-credentials"
            and (literal(allowed) or node_text(allowed)).lower() == "true"
            and _together(branches, _branches(found, scope))
            for found in descendants(scope)
            for header, allowed in headers(found)
        ):
            origin = "'*'" if any_origin else "the request's Origin"
            return f"Access-Control-Allow-Origin is set to {origin} together with credentials"
    return None


def _branches(node: Node, scope: Node) -> set[tuple[int, int]]:
    """The conditional branches (``if`` bodies, ``else`` parts) that ``node`` runs under."""
    found: set[tuple[int, int]] = set()
    current = node
    while current.parent is not None and current != scope:
        if current.parent.child_by_field_name("condition") is not None:
            found.add((current.start_byte, current.end_byte))
        current = current.parent
    return found


def _together(first: set[tuple[int, int]], second: set[tuple[int, int]]) -> bool:
    """Whether code under one set of branches always runs with code under the other."""
    return first <= second or second <= first


def _tested(node: Node, scope: Node, expression: str) -> bool:
    """Whether a condition mentioning ``expression`` (an allow-list check) guards ``node``:
    it encloses ``node``, or comes before it (``if (!ALLOWED.has(origin)) return``)."""
    for found in descendants(scope):
        condition = found.child_by_field_name("condition")
        if condition is None or expression not in node_text(condition):
            continue
        encloses = found.start_byte <= node.start_byte and node.end_byte <= found.end_byte
        if encloses or found.end_byte <= node.start_byte:
            return True
    return False
