"""The two-phase extractor protocol: per-file facts (cacheable) then whole-repository resolution.

Phase one, ``scan``, is a pure function of one file's bytes: it records what the file
declares (routes, mounts, prefixes, middleware, handler names) as plain picklable data. It is
cached by the file's git blob id, so a second revision only re-scans the files that changed.
Phase two, ``resolve``, joins the facts of all files: mounts and prefixes across files and
through function parameters, then auth. It must be cheap (no parsing).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from backend_agent.analysis.endpoints.model import Inventory
from backend_agent.analysis.project import Project


class FileScanner(Protocol):
    """Phase one of any two-phase analysis: per-file facts, cached by blob id.

    Its module must expose the scanner as ``extractor`` (the process pool imports it there).
    """

    @property
    def name(self) -> str:
        """Stable id, part of the cache key (e.g. "python")."""
        ...

    @property
    def version(self) -> int:
        """Bump when ``scan`` output changes shape, so stale cache entries are ignored."""
        ...

    def wants(self, path: str) -> bool:
        """Whether ``scan`` should see this file (by name only, cheap)."""
        ...

    def scan(self, path: str, source: bytes) -> Any:
        """Facts about one file: picklable, deterministic, independent of other files."""
        ...


class EndpointExtractor(FileScanner, Protocol):
    """One family of extractors (e.g. all Python frameworks, or gRPC .proto files)."""

    def resolve(self, facts: Mapping[str, Any], project: Project) -> Inventory:
        """Endpoints from all files' facts (``facts`` maps path -> scan output)."""
        ...
