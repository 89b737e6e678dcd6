"""Python route handlers whose parameters are request data (FastAPI, Flask, Starlette routers),
and what shape the framework has already given each one."""

from __future__ import annotations

import re
from typing import Literal

from tree_sitter import Node

from backend_agent.analysis.parsing import node_text

Shape = Literal["converted", "validated", "loose"]

_ROUTE_DECORATOR = re.compile(
    r"@\s*[\w.]+\.(get|post|put|patch|delete|head|options|route|api_route|websocket)\s*\("
)
_INJECTED = re.compile(r"\b(Depends|Security)\s*\(")
_FRAMEWORK_TYPES = frozenset(
    {
        "Request", "Response", "BackgroundTasks", "WebSocket", "HTTPConnection",
        "SecurityScopes", "Session", "AsyncSession", "Connection",
    }
)  # fmt: skip
_CONVERTED_TYPES = frozenset(
    {"int", "float", "bool", "UUID", "uuid.UUID", "datetime", "date", "time", "Decimal"}
)
_PARAMETERS = frozenset(
    {"identifier", "typed_parameter", "default_parameter", "typed_default_parameter"}
)
_LOOSE_TYPES = re.compile(r"(dict|Dict|Any|Json|Mapping|typing\.Any)\b")
_FLASK_CONVERTED = re.compile(r"<(?:int|float|uuid):(\w+)>")


def route_parameters(function: Node) -> list[tuple[str, Node, Shape]]:
    """(name, parameter, shape) for each parameter of a route handler that comes from the
    request: FastAPI query/path/body parameters, Flask path variables. Not: dependencies
    (``Depends``/``Security``) and framework objects (``Request``, ``Session``).

    Shapes: ``converted`` to a number, date or UUID by the framework (``int``, ``<int:id>``),
    harmless anywhere; ``validated`` as a string or a model, which cannot smuggle a MongoDB
    operator; ``loose`` (``dict``, ``Any``), which can.
    """
    decorated = function.parent
    if decorated is None or decorated.type != "decorated_definition":
        return []
    routes = [
        node_text(d) for d in decorated.named_children if d.type == "decorator"
        if _ROUTE_DECORATOR.match(node_text(d))
    ]  # fmt: skip
    if not routes:
        return []
    converted = {m.group(1) for route in routes for m in _FLASK_CONVERTED.finditer(route)}
    found: list[tuple[str, Node, Shape]] = []
    parameters = function.child_by_field_name("parameters")
    for parameter in parameters.named_children if parameters is not None else []:
        if parameter.type not in _PARAMETERS:  # *args, **kwargs, the bare * and /
            continue
        name_node = parameter if parameter.type == "identifier" else parameter.named_children[0]
        name, annotation = node_text(name_node), _base_type(parameter.child_by_field_name("type"))
        if name_node.type != "identifier" or name in ("self", "cls"):
            continue
        if _INJECTED.search(node_text(parameter)) or annotation in _FRAMEWORK_TYPES:
            continue
        if name in converted or annotation in _CONVERTED_TYPES:
            found.append((name, parameter, "converted"))
        else:
            loose = _LOOSE_TYPES.match(annotation)
            found.append((name, parameter, "loose" if loose else "validated"))
    return found


def route_parameter_shape(value: Node) -> Shape | None:
    """The shape of the route handler parameter that ``value`` is (or is a field of)."""
    root = value
    while root.type == "attribute" and root.child_by_field_name("object") is not None:
        root = root.child_by_field_name("object") or root
    function = value.parent
    while function is not None and function.type != "function_definition":
        function = function.parent
    if root.type != "identifier" or function is None:
        return None
    name = node_text(root)
    return next((shape for n, _p, shape in route_parameters(function) if n == name), None)


def _base_type(annotation: Node | None) -> str:
    """``Annotated[str, Query()]`` and ``Optional[str]`` and ``str | None`` are ``str``."""
    value = re.sub(r"\s", "", node_text(annotation))
    value = re.sub(r"^(Annotated|Optional)\[([^,\]]+).*", r"\2", value)
    return value.removesuffix("|None")
