"""Walking tree-sitter trees: what the JS/TS, Ruby and Go readers share."""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node


def walk(node: Node) -> Iterator[Node]:
    """Every node under ``node``, parents before children, in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.named_children))


def node_text(node: Node | None) -> str:
    """The source text of a node ("" for None)."""
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def node_line(node: Node) -> int:
    """1-based line where the node starts."""
    return node.start_point[0] + 1
