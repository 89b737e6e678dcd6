"""JavaScript/TypeScript endpoints: Express, NestJS, Koa, Fastify, Next.js, Nitro, socket.io,
ws and Apollo typeDefs."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from backend_agent.analysis.endpoints.javascript.facts import FileFacts, TsConfig
from backend_agent.analysis.endpoints.model import Endpoint, Inventory, normalise_path
from backend_agent.analysis.parsing import language_for
from backend_agent.analysis.project import Project

if TYPE_CHECKING:
    from backend_agent.analysis.endpoints.javascript.values import Evaluator

_TEST_FILE = re.compile(
    r"(^|/)(__tests__|__mocks__|test|tests|spec|e2e|cypress|fixtures)/|\.(test|spec|e2e-spec|d)\.[cm]?[jt]sx?$"
)
_NEXT_APP = re.compile(r"(?:^|/)app/((?:.*/)?)route\.[cm]?[jt]sx?$")
_NEXT_PAGES = re.compile(r"(?:^|/)pages/(api/.*?)(?:/index)?\.[cm]?[jt]sx?$")
_NITRO = re.compile(r"(?:^|/)server/(api|routes)/(.*?)\.[cm]?[jt]s$")
_TS_CONFIG = re.compile(r"(?:^|/)[tj]sconfig(?:\.[\w-]+)?\.json$")
# Strings are kept; // and /* */ comments are dropped (tsconfig files allow them).
_JSON_NOISE = re.compile(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*.*?\*/', re.DOTALL)
_FILE_ROUTE = re.compile(r"(?:^|/)(?:app/(?:.*/)?route|pages/api/|server/(?:api|routes)/)")
# Byte strings without which a file declares no route, mount, prefix, guard or auth middleware
# (path-like string literals cover prefix constants): other files are not parsed.
_HINTS = (
    b"Router", b"express", b"koa", b"astify", b"socket.io", b"WebSocket", b"@nestjs", b"gql",
    b"typeDefs", b"graphql", b".use(", b".register(", b".route(", b".get(", b".post(",
    b".put(", b".patch(", b".delete(", b".del(", b".all(", b".on(", b"jwt", b"Jwt",
    b"passport", b"auth", b"Auth", b"prefix", b"Prefix", b"'/", b'"/', b"`/",
    b"export {", b"export *", b"exports = require(", b"exports = {", b"export default {",
    # ^ barrels re-exporting routers
)  # fmt: skip
_VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_SOCKET_LIFECYCLE = {
    "disconnect",
    "disconnecting",
    "error",
    "connect_error",
    "connection",
    "connect",
}


class JavaScriptExtractor:
    """Routes of the Node.js frameworks, resolved across files (docs/endpoints-frameworks.md)."""

    name = "javascript"
    version = 10

    def wants(self, path: str) -> bool:
        if _TS_CONFIG.search(path):
            return True
        return language_for(path) in ("javascript", "typescript", "tsx") and not _TEST_FILE.search(
            path
        )

    def scan(self, path: str, source: bytes) -> FileFacts | TsConfig:
        from backend_agent.analysis.endpoints.javascript.scan import scan_source

        if _TS_CONFIG.search(path):
            return ts_config(source)
        language = language_for(path)
        assert language is not None
        if not _FILE_ROUTE.search(path) and not any(hint in source for hint in _HINTS):
            return FileFacts()  # cannot declare, mount or name a route: not worth parsing
        return scan_source(source, language)

    def resolve(self, facts: Mapping[str, Any], project: Project) -> Inventory:
        from backend_agent.analysis.endpoints.javascript.nest import nest_endpoints
        from backend_agent.analysis.endpoints.javascript.routers import RouterGraph
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
        endpoints += _file_routes(typed)
        endpoints += _websockets(typed, values)
        endpoints += _apollo(typed)
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


def _file_routes(facts: Mapping[str, FileFacts]) -> list[Endpoint]:
    """Next.js route handlers and API routes, Nitro/h3 server routes: the path is the file's."""
    found: list[Endpoint] = []
    for file, file_facts in facts.items():
        if match := _NEXT_APP.search(file):
            path = _segments(match.group(1).rstrip("/"))
            for verb in _VERBS:
                if verb in file_facts.exports:
                    found.append(Endpoint("rest", verb, path, "unknown", "nextjs", verb, file, 1))
        elif (match := _NEXT_PAGES.search(file)) and "default" in file_facts.exports:
            path = _segments(match.group(1))
            for verb in file_facts.request_methods or ("ANY",):
                found.append(Endpoint("rest", verb, path, "unknown", "nextjs", "default", file, 1))
        elif (match := _NITRO.search(file)) and "default" in file_facts.exports:
            name = match.group(2)
            method = "ANY"
            stem, dot, suffix = name.rpartition(".")
            if dot and suffix.upper() in _VERBS:
                name, method = stem, suffix.upper()
            if name == "index" or name.endswith("/index"):
                name = name[: -len("index")]
            base = "api/" if match.group(1) == "api" else ""
            path = _segments(base + name)
            found.append(Endpoint("rest", method, path, "unknown", "nitro", "default", file, 1))
    return found


def _segments(route: str) -> str:
    """File-system route segments as a normalised path: ``[id]`` -> ``{id}``, groups dropped."""
    parts = []
    for part in route.split("/"):
        if not part or (part.startswith("(") and part.endswith(")")) or part.startswith("@"):
            continue
        name = part.strip("[]").removeprefix("...")
        parts.append("{" + name + "}" if part.startswith("[") else part)
    return normalise_path("/".join(parts))


def _websockets(facts: Mapping[str, FileFacts], values: Evaluator) -> list[Endpoint]:
    found: list[Endpoint] = []
    for file, file_facts in facts.items():
        for event in file_facts.sockets:
            server = values.eval(file, event.server)
            if server.node is None or server.node.kind != "socket.io":
                continue
            namespace = "/"
            if server.kind == "nodeprop" and server.detail == "namespace" and server.name:
                namespace = normalise_path(server.name)
            elif server.kind != "node":
                continue
            if event.event in _SOCKET_LIFECYCLE:
                continue
            path, handler = namespace, "connection"
            if event.event:
                path, handler = f"{namespace}#{event.event}", event.event
            found.append(
                Endpoint("websocket", "WS", path, "unknown", "socket.io", handler, file, event.line)
            )
        for value, line in file_facts.constructions:
            server = values.eval(file, value)
            if server.kind != "node" or server.node is None or server.node.kind != "ws":
                continue
            options = values.eval(file, value[2][0]) if value[2] else None
            path = "/"
            if options is not None and options.kind == "obj":
                fields = dict(options.value)
                if "path" in fields:
                    strings = values.strings(options.file, fields["path"])
                    if not strings:
                        continue
                    path = strings[0]
            found.append(
                Endpoint(
                    "websocket",
                    "WS",
                    normalise_path(path),
                    "unknown",
                    "ws",
                    "WebSocketServer",
                    file,
                    line,
                )
            )
    return found


def _apollo(facts: Mapping[str, FileFacts]) -> list[Endpoint]:
    from backend_agent.analysis.endpoints.graphql import sdl_operations

    found: list[Endpoint] = []
    for file, file_facts in facts.items():
        for sdl, line in file_facts.graphql_sdl:
            for operation in sdl_operations(sdl):
                found.append(
                    Endpoint(
                        "graphql",
                        operation.method,
                        operation.name,
                        operation.auth,
                        "apollo",
                        operation.type_name,
                        file,
                        line + operation.line - 1,
                    )
                )
    return found


extractor = JavaScriptExtractor()
