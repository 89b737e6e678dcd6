"""socket.io events and ``ws`` servers: ``io.on('connection', s => s.on('event', ...))`` and
``new WebSocketServer({path})`` become ``websocket`` endpoints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from tree_sitter import Node

from backend_agent.analysis.endpoints.javascript.facts import FileFacts, SocketEvent
from backend_agent.analysis.endpoints.javascript.syntax import (
    FUNCTIONS,
    first_param,
    line_of,
    string_of,
)
from backend_agent.analysis.endpoints.javascript.values import Evaluator
from backend_agent.analysis.endpoints.model import Endpoint, normalise_path

if TYPE_CHECKING:
    from backend_agent.analysis.endpoints.javascript.facts import Value
    from backend_agent.analysis.endpoints.javascript.scan import Scanner

_LIFECYCLE = {"disconnect", "disconnecting", "error", "connect_error", "connection", "connect"}


def handler(scanner: Scanner, callee: Value, args_node: Node) -> str | None:
    """``io.on('connection', socket => ...)``: remember ``socket`` while the body is walked;
    ``socket.on('event', ...)`` inside it is an event. Returns the key to forget afterwards."""
    nodes = args_node.named_children
    if len(nodes) < 2 or nodes[0].type != "string":
        return None
    event = string_of(nodes[0])
    receiver = callee[1]
    if receiver[0] == "ref" and receiver[1] in scanner.socket_params:
        scanner.facts.sockets.append(
            SocketEvent(scanner.socket_params[receiver[1]], event, line_of(nodes[0]))
        )
        return None
    if event not in ("connection", "connect") or nodes[1].type not in FUNCTIONS:
        return None
    key = f"<fn@{line_of(nodes[1])}:{nodes[1].start_point[1]}>"
    param = first_param(nodes[1])
    if param is None:
        return None
    param_key = f"{key}/{param}"
    scanner.socket_params[param_key] = receiver
    scanner.facts.sockets.append(SocketEvent(receiver, "", line_of(nodes[0])))
    return param_key


def socket_endpoints(facts: Mapping[str, FileFacts], values: Evaluator) -> list[Endpoint]:
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
            if event.event in _LIFECYCLE:
                continue
            path, name = namespace, "connection"
            if event.event:
                path, name = f"{namespace}#{event.event}", event.event
            found.append(
                Endpoint("websocket", "WS", path, "unknown", "socket.io", name, file, event.line)
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
