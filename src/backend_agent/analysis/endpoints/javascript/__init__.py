"""JavaScript/TypeScript endpoints: Express, NestJS, Koa, Fastify, Next.js, Nitro, socket.io,
ws and Apollo typeDefs."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from backend_agent.analysis.endpoints.javascript.facts import FileFacts, TsConfig
from backend_agent.analysis.endpoints.model import Inventory
from backend_agent.analysis.parsing import language_for
from backend_agent.analysis.project import Project

_TEST_FILE = re.compile(
    r"(^|/)(__tests__|__mocks__|test|tests|spec|e2e|cypress|fixtures)/|\.(test|spec|e2e-spec|d)\.[cm]?[jt]sx?$"
)
_TS_CONFIG = re.compile(r"(?:^|/)[tj]sconfig(?:\.[\w-]+)?\.json$")
# Strings are kept; // and /* */ comments are dropped (tsconfig files allow them).
_JSON_NOISE = re.compile(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*.*?\*/', re.DOTALL)
# Byte strings without which a file declares no route, mount, prefix, guard or auth middleware
# (path-like string literals cover prefix constants): other files are not parsed.
_HINTS = (
    b"Router", b"express", b"koa", b"astify", b"socket.io", b"WebSocket", b"@nestjs", b"gql",
    b"typeDefs", b"graphql", b".use(", b".register(", b".route(", b".get(", b".post(",
    b".put(", b".patch(", b".delete(", b".del(", b".all(", b".on(", b"jwt", b"Jwt",
    b"passport", b"auth", b"Auth", b"prefix", b"Prefix", b"'/", b'"/', b"`/",
    b"export {", b"export *", b"exports = require(", b"exports = {", b"export default {",
    b"require-directory",
    # ^ barrels re-exporting routers
)  # fmt: skip


class JavaScriptExtractor:
    """Routes of the Node.js frameworks, resolved across files (docs/endpoints-frameworks.md)."""

    name = "javascript"
    version = 11

    def wants(self, path: str) -> bool:
        if _TS_CONFIG.search(path):
            return True
        return language_for(path) in ("javascript", "typescript", "tsx") and not _TEST_FILE.search(
            path
        )

    def scan(self, path: str, source: bytes) -> FileFacts | TsConfig:
        from backend_agent.analysis.endpoints.javascript.files import FILE_ROUTE
        from backend_agent.analysis.endpoints.javascript.scan import scan_source

        if _TS_CONFIG.search(path):
            return ts_config(source)
        language = language_for(path)
        assert language is not None
        if not FILE_ROUTE.search(path) and not any(hint in source for hint in _HINTS):
            return FileFacts()  # cannot declare, mount or name a route: not worth parsing
        return scan_source(source, language)

    def resolve(self, facts: Mapping[str, Any], project: Project) -> Inventory:
        from backend_agent.analysis.endpoints.javascript.apollo import sdl_endpoints
        from backend_agent.analysis.endpoints.javascript.files import file_routes
        from backend_agent.analysis.endpoints.javascript.nest import nest_endpoints
        from backend_agent.analysis.endpoints.javascript.routers import RouterGraph
        from backend_agent.analysis.endpoints.javascript.sockets import socket_endpoints
        from backend_agent.analysis.endpoints.javascript.values import Evaluator

        typed: dict[str, FileFacts] = {p: f for p, f in facts.items() if isinstance(f, FileFacts)}
        configs = {p: f for p, f in facts.items() if isinstance(f, TsConfig)}
        values = Evaluator(typed, configs)
        graph = RouterGraph(typed, values)
        graph.build()
        endpoints, unresolved = graph.endpoints()
        nest, nest_unresolved = nest_endpoints(typed, values)
        endpoints += nest
        unresolved += nest_unresolved
        endpoints += file_routes(typed)
        endpoints += socket_endpoints(typed, values)
        endpoints += sdl_endpoints(typed)
        return Inventory(endpoints, unresolved).sorted()


def ts_config(source: bytes) -> TsConfig:
    """``compilerOptions.baseUrl`` and ``paths`` of a tsconfig (JSON with comments)."""
    text = _JSON_NOISE.sub(lambda m: m.group(1) or "", source.decode("utf-8", "replace"))
    try:
        options = json.loads(re.sub(r",(\s*[}\]])", r"\1", text)).get("compilerOptions") or {}
    except (ValueError, AttributeError):
        return TsConfig(None, ())
    paths = options.get("paths")
    paths = paths if isinstance(paths, dict) else {}
    base_url = options.get("baseUrl") if isinstance(options.get("baseUrl"), str) else None
    return TsConfig(
        base_url,
        tuple((str(k), tuple(str(t) for t in v)) for k, v in paths.items() if isinstance(v, list)),
    )


extractor = JavaScriptExtractor()
