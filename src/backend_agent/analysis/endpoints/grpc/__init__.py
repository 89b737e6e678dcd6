"""gRPC: services and RPCs of ``.proto`` files (with ``google.api.http`` REST mappings), and
wire-compatibility diffs between two versions of a proto file (``compat``).

Files are read by ``reader`` (proto-schema-parser); this module only turns services into
endpoints.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backend_agent.analysis.endpoints.grpc.compat import proto_changes
from backend_agent.analysis.endpoints.grpc.model import ProtoFile, ProtoSyntaxError, http_path
from backend_agent.analysis.endpoints.grpc.reader import parse_proto
from backend_agent.analysis.endpoints.model import Endpoint, Inventory, Unresolved
from backend_agent.analysis.project import Project

# A service declaration at the start of a line; files without one are not parsed (parsing is
# the slow part of a cold scan, and most .proto files only define messages).
_SERVICE = re.compile(rb"^[ \t]*service[ \t]+\w+[ \t]*\{", re.MULTILINE)

__all__ = ["ProtoSyntaxError", "extractor", "http_path", "parse_proto", "proto_changes"]


@dataclass(frozen=True)
class ProtoFacts:
    proto: ProtoFile | None
    error: str


class GrpcExtractor:
    """gRPC services of .proto files, and the REST endpoints of their HTTP annotations."""

    name = "grpc"
    version = 3

    def wants(self, path: str) -> bool:
        return path.endswith(".proto")

    def scan(self, path: str, source: bytes) -> ProtoFacts:
        if _SERVICE.search(source) is None:  # messages and enums only: no endpoint to read
            return ProtoFacts(ProtoFile(), "")
        try:
            return ProtoFacts(parse_proto(source.decode("utf-8", "replace")), "")
        except ProtoSyntaxError as error:
            return ProtoFacts(None, str(error))

    def resolve(self, facts: Mapping[str, Any], project: Project) -> Inventory:
        endpoints: list[Endpoint] = []
        unresolved: list[Unresolved] = []
        for path, fact in facts.items():
            if not isinstance(fact, ProtoFacts):
                continue
            if fact.proto is None:
                where = re.match(r"line (\d+)", fact.error)
                line = int(where.group(1)) if where else 1
                reason = f"proto file not parsed: {fact.error}"
                unresolved.append(Unresolved(path, line, "", reason))
                continue
            package = f"{fact.proto.package}." if fact.proto.package else ""
            for service in fact.proto.services.values():
                for rpc in service.rpcs.values():
                    handler = f"{service.name}.{rpc.name}"
                    rpc_path = f"/{package}{service.name}/{rpc.name}"
                    endpoints.append(
                        Endpoint(
                            "grpc", "RPC", rpc_path, "unknown", "grpc", handler, path, rpc.line
                        )
                    )
                    for rule in rpc.http:
                        endpoints.append(
                            Endpoint(
                                "rest",
                                rule.method,
                                http_path(rule.path),
                                "unknown",
                                "grpc-gateway",
                                handler,
                                path,
                                rpc.line,
                            )
                        )
        return Inventory(endpoints, unresolved).sorted()


extractor = GrpcExtractor()
