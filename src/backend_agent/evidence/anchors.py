"""Anchors: what a report must name for an evidence item to count as mentioned, and how a
report's text is searched for them. Never wording: an HTTP method with a path, table and
column names, file names and rule ids.

Paths match whatever parameter syntax the report uses (``:slug``, ``{slug}``, ``<slug>``,
``<int:slug>``), with or without a trailing slash, and a path matches a longer one that ends
with it (a report may leave out a mount prefix such as ``/api/v1``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from backend_agent.analysis.endpoints.model import normalise_path

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_ANY_METHODS = frozenset({"ANY", "ALL", "*", "USE"})
_METHOD = re.compile(r"(?<![A-Za-z])(" + "|".join(HTTP_METHODS) + r")(?![A-Za-z])")
_PATH = re.compile(r"(?<![\w.~/:-])/[A-Za-z0-9_\-{}:<>.*~$@+/\[\]]*")
_FILE_SUFFIX = re.compile(r"\.(py|js|mjs|cjs|ts|tsx|jsx|go|rb|sql|json|ya?ml|md|txt|toml)$")
_PARAMETER = re.compile(r"\{[^/}]*\}")


def route_key(path: str) -> tuple[str, ...]:
    """A path's segments with every parameter, in any syntax, as ``{}``."""
    normal = _PARAMETER.sub("{}", normalise_path(path.strip().strip("`'\".,;)")))
    return tuple(part for part in normal.split("/") if part)


def same_route(claimed: tuple[str, ...], actual: tuple[str, ...]) -> bool:
    """Equal, or one ends with the other at a segment boundary (a prefix left out)."""
    if claimed == actual:
        return True
    shorter, longer = sorted((claimed, actual), key=len)
    return bool(shorter) and longer[-len(shorter) :] == shorter


def same_method(claimed: str, actual: str) -> bool:
    return claimed == actual or claimed in _ANY_METHODS or actual in _ANY_METHODS


@dataclass(frozen=True)
class Route:
    """An HTTP method with a path, as the inventory or a report has it."""

    method: str
    path: str

    @property
    def key(self) -> tuple[str, ...]:
        return route_key(self.path)

    def matches(self, other: Route) -> bool:
        return same_method(self.method, other.method) and same_route(self.key, other.key)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def routes_in(text: str) -> list[Route]:
    """Every route a text may name: each path on a line with each HTTP method on that line
    (generous, for finding mentions)."""
    found: list[Route] = []
    for line in text.splitlines():
        methods = [m.group(1) for m in _METHOD.finditer(line)]
        found += [Route(method, path) for _, path in _paths(line) for method in methods]
    return found


def claimed_routes(text: str) -> list[Route]:
    """The routes a text claims: each path with the method written closest before it (or,
    when none is, right after it). Strict, for claims the inventory must support."""
    found: list[Route] = []
    for line in text.splitlines():
        methods = [(m.start(), m.group(1)) for m in _METHOD.finditer(line)]
        for start, path in _paths(line):
            before = [method for at, method in methods if at < start]
            after = [method for at, method in methods if at > start]
            if before or after:
                found.append(Route(before[-1] if before else after[0], path))
    return found


def _paths(line: str) -> list[tuple[int, str]]:
    """The URL paths of one line with where they start (file paths and ``/`` left out)."""
    paths = []
    for match in _PATH.finditer(line):
        path = match.group(0).rstrip(".,;:)")
        while path.endswith("]") and path.count("[") < path.count("]"):
            path = path[:-1].rstrip(".,;:)")
        if not _FILE_SUFFIX.search(path) and path not in ("/", "//"):
            paths.append((match.start(), path))
    return paths


def routes_in_message(message: str) -> list[Route]:
    """The routes an engine message names (``rest GET /users/{id} removed``)."""
    return [route for route in routes_in(message) if route.key]


def names_word(text: str, word: str) -> bool:
    """``word`` appears in ``text`` on its own (not inside a longer identifier), any case."""
    if not word:
        return False
    pattern = r"(?<![\w])" + re.escape(word) + r"(?![\w])"
    return re.search(pattern, text, re.IGNORECASE) is not None


def file_names(path: str) -> tuple[str, ...]:
    """How a report may name a file: its path, its name, or its name without the suffix
    (when that stem is distinctive enough, four characters or more)."""
    pure = PurePosixPath(path)
    names = [path, pure.name]
    stem = pure.name.split(".", 1)[0]
    if len(stem) >= 4 and stem not in names:
        names.append(stem)
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class Anchors:
    """What counts as a mention of one item: any of the routes, or any of the words."""

    routes: tuple[Route, ...] = ()
    words: tuple[str, ...] = field(default=())

    def found_in(self, text: str, written: Iterable[Route] | None = None) -> bool:
        claimed = list(written) if written is not None else routes_in(text)
        if any(route.matches(mention) for route in self.routes for mention in claimed):
            return True
        return any(names_word(text, word) for word in self.words)
