"""The Python extractor: FastAPI, Flask, Django/DRF, Starlette, aiohttp, graphene, strawberry."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from backend_agent.analysis.endpoints.model import Inventory
from backend_agent.analysis.endpoints.python.django import DjangoResolver
from backend_agent.analysis.endpoints.python.graphql import graphql_endpoints
from backend_agent.analysis.endpoints.python.names import Names
from backend_agent.analysis.endpoints.python.routers import RouterGraph
from backend_agent.analysis.endpoints.python.scan import scan_python
from backend_agent.analysis.project import Project

# Test suites declare throwaway apps and routes; they are not the service's endpoints.
_TEST_FILE = re.compile(r"(^|/)(tests?|testing)/|(^|/)(test_[^/]*|[^/]*_tests?|conftest)\.py$")


class PythonExtractor:
    """Scans ``.py`` files into facts; resolves routers, mounts, URLconfs and auth."""

    name = "python"
    version = 6

    def wants(self, path: str) -> bool:
        return path.endswith(".py") and not _TEST_FILE.search(path)

    def scan(self, path: str, source: bytes) -> Any:
        return scan_python(source)

    def resolve(self, facts: Mapping[str, Any], project: Project) -> Inventory:
        names = Names(facts)
        graph = RouterGraph(names)
        graph.collect()
        endpoints, unresolved = graph.endpoints()
        django = DjangoResolver(names)
        django.resolve()
        endpoints += django.endpoints + graphql_endpoints(names)
        return Inventory(endpoints, unresolved + django.unresolved)


extractor = PythonExtractor()
