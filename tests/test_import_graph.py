"""The package layering, read from the source: which package may import which.

Imports under ``if TYPE_CHECKING:`` are not run, so they count for layering (a package that
names another's types still depends on it) but not for cycles.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "backend_agent"


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module
    typing_only: bool


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    path = SRC.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports_of(path: Path) -> Iterator[Import]:
    source = module_name(path)
    package = source if path.name == "__init__.py" else source.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_blocks = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
    ]
    typing_nodes = {id(n) for block in typing_blocks for n in ast.walk(block)}
    for node in ast.walk(tree):
        typing_only = id(node) in typing_nodes
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(source, alias.name, typing_only)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield Import(source, full if is_module(full) else base, typing_only)


ALL_IMPORTS = [i for path in sorted(PACKAGE.rglob("*.py")) for i in imports_of(path)]


def imports_from(package: str) -> list[Import]:
    prefix = f"backend_agent.{package}"
    return [i for i in ALL_IMPORTS if i.source == prefix or i.source.startswith(prefix + ".")]


def reaches(imported: Import, package: str) -> bool:
    full = package if package in ("rich", "prompt_toolkit") else f"backend_agent.{package}"
    return imported.target == full or imported.target.startswith(full + ".")


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("permissions", ["runtime", "ui", "sessions", "commands", "rich", "prompt_toolkit"]),
        ("mcp", ["runtime", "ui", "sessions", "commands", "rich", "prompt_toolkit"]),
        ("tools", ["runtime", "ui", "sessions", "commands", "rich", "prompt_toolkit"]),
        ("models", ["runtime", "ui", "sessions", "commands", "rich", "prompt_toolkit"]),
        ("runtime", ["sessions", "ui", "commands", "rich", "prompt_toolkit"]),
        ("sessions", ["ui", "commands", "rich", "prompt_toolkit"]),
        ("analysis", ["runtime", "models", "ui", "sessions"]),
        ("batch", ["ui", "commands", "rich", "prompt_toolkit"]),
    ],
)
def test_a_package_never_imports_the_layers_above_it(package: str, forbidden: list[str]) -> None:
    wrong = [
        f"{i.source} imports {i.target}"
        for i in imports_from(package)
        for above in forbidden
        if reaches(i, above)
    ]
    assert wrong == []


def test_the_reader_sees_every_kind_of_import() -> None:
    session = {(i.target, i.typing_only) for i in imports_from("sessions.session")}
    assert ("backend_agent.runtime.agent", False) in session  # from a module import a name
    assert ("backend_agent.sessions.lookup", False) in session  # from a package import a module
    assert ("backend_agent.sessions.checkpoints", True) in session  # only for type checking
    lazy = {i.target for i in imports_from("sessions.rewind")}
    assert "backend_agent.sessions.checkpoints" in lazy  # inside a function


def test_the_runtime_has_no_import_cycle() -> None:
    edges: dict[str, set[str]] = {}
    for i in imports_from("runtime"):
        if not i.typing_only and i.target.startswith("backend_agent.runtime"):
            edges.setdefault(i.source, set()).add(i.target)
    cycle = _find_cycle(edges)
    assert cycle is None, " -> ".join(cycle or [])


def test_the_cycle_finder_finds_cycles() -> None:
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": {"c"}}) is None


def _find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A path that comes back to where it started, or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for target in sorted(edges.get(node, ())):
            found = visit(target, [*path, node])
            if found:
                return found
        done.add(node)
        return None

    for start in sorted(edges):
        found = visit(start, [])
        if found:
            return found
    return None
