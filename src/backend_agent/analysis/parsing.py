"""Tree-sitter parsers for the four languages, from the per-language grammar wheels, and what
every reader of their trees needs: a node's text and line, and a walk over its descendants."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Literal

from tree_sitter import Language, Node, Parser, Tree

LanguageName = Literal["python", "javascript", "typescript", "tsx", "go", "ruby"]

_SUFFIXES: dict[str, LanguageName] = {
    ".py": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rb": "ruby",
    ".ru": "ruby",
    ".rake": "ruby",
}


def language_for(path: str) -> LanguageName | None:
    """The grammar for a file name, or None when it is not a source file we parse."""
    dot = path.rfind(".")
    return _SUFFIXES.get(path[dot:].lower()) if dot >= 0 else None


@cache
def grammar(name: LanguageName) -> Language:
    """The tree-sitter Language object for one of our grammars (loaded once)."""
    if name == "python":
        import tree_sitter_python as mod

        return Language(mod.language())
    if name in ("typescript", "tsx"):
        import tree_sitter_typescript as ts

        return Language(ts.language_typescript() if name == "typescript" else ts.language_tsx())
    if name == "javascript":
        import tree_sitter_javascript as js

        return Language(js.language())
    if name == "go":
        import tree_sitter_go as go

        return Language(go.language())
    import tree_sitter_ruby as rb

    return Language(rb.language())


@cache
def _parser(name: LanguageName) -> Parser:
    return Parser(grammar(name))


def parse(source: bytes, name: LanguageName) -> Tree:
    """Parse source bytes; tree-sitter never fails, errors become ERROR nodes."""
    return _parser(name).parse(source)


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
