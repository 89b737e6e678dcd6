"""The Go extractor: Gin, Echo, Chi, Fiber, gorilla/mux, net/http and gorilla/websocket."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backend_agent.analysis.endpoints.go.routers import GoResolver
from backend_agent.analysis.endpoints.go.scan import scan_go, scan_go_mod
from backend_agent.analysis.endpoints.model import Inventory
from backend_agent.analysis.project import Project


class GoExtractor:
    """Scans ``.go`` files into statement facts; interprets them to follow routers."""

    name = "go"
    version = 9

    def wants(self, path: str) -> bool:
        name = path.rsplit("/", 1)[-1]
        return name == "go.mod" or (name.endswith(".go") and not name.endswith("_test.go"))

    def scan(self, path: str, source: bytes) -> Any:
        return scan_go_mod(source) if path.endswith("go.mod") else scan_go(source)

    def resolve(self, facts: Mapping[str, Any], project: Project) -> Inventory:
        resolver = GoResolver(facts)
        resolver.run()
        endpoints, unresolved = resolver.endpoints()
        return Inventory(endpoints, unresolved)


extractor = GoExtractor()
