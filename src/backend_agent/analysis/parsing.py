"""Tree-sitter parsers for the four languages, from the per-language grammar wheels."""

from __future__ import annotations

from functools import cache
from typing import Literal

from tree_sitter import Language, Parser, Tree

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
