"""Fastify: ``route({...})`` declarations, hooks, ``register(plugin, options)`` and
``@fastify/autoload`` (phase one records them; ``register_plugin`` and ``autoload`` add them
to the router graph).

A plugin's options reach its second parameter, so ``options.prefix + 'articles'`` resolves
through the ``register`` call sites. Fastify applies a ``prefix`` option to the routes of an
encapsulated plugin; a ``fastify-plugin`` wrapper removes the encapsulation: the prefix is not
applied and the plugin's hooks act on the instance that registered it.
"""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING

from backend_agent.analysis.endpoints.javascript.express import middleware_values
from backend_agent.analysis.endpoints.javascript.facts import RouteCall, UseCall, Value, describe
from backend_agent.analysis.endpoints.javascript.values import (
    RouterNode,
    Thing,
    directory_of,
    join_paths,
)

if TYPE_CHECKING:
    from backend_agent.analysis.endpoints.javascript.routers import RouterGraph
    from backend_agent.analysis.endpoints.javascript.scan import Scanner

_AUTOLOAD = ("@fastify/autoload", "fastify-autoload")


def member_call(
    scanner: Scanner, callee: Value, args: tuple[Value, ...], line: int, order: int
) -> bool:
    """``receiver.route({...})``, ``receiver.register(...)``, ``receiver.addHook(name, fn)``."""
    receiver, prop = callee[1], callee[2]
    if prop == "route" and len(args) == 1 and args[0][0] == "obj":
        _route(scanner, receiver, args[0], line, order)
    elif prop == "register":
        scanner.facts.uses.append(UseCall(receiver, "register", args, line, order))
    elif prop == "addHook" and len(args) >= 2:
        scanner.facts.uses.append(UseCall(receiver, "hook", args[1:], line, order))
    else:
        return False
    return True


def _route(scanner: Scanner, receiver: Value, options: Value, line: int, order: int) -> None:
    fields = dict(options[1])
    method = fields.get("method")
    path = fields.get("url") or fields.get("path")
    if method is None or path is None:
        return
    methods = [method] if method[0] == "str" else list(method[1]) if method[0] == "arr" else []
    names = tuple(m[1].upper() for m in methods if m[0] == "str")
    if not names:
        return
    handler = describe(fields.get("handler", ("unknown", "")))
    hooks = tuple(middleware_values(options))
    scanner.facts.routes.append(
        RouteCall(receiver, names, path, hooks, handler, line, order, fields.get("config"))
    )


def register_plugin(
    graph: RouterGraph, file: str, node: RouterNode, args: tuple[Value, ...], order: int
) -> None:
    """``node.register(plugin, options)``: the plugin's instance is mounted under ``node``."""
    if not args:
        return
    values = graph.values
    plugin = values.eval(file, args[0])
    options = values.eval(file, args[1]) if len(args) > 1 else Thing("obj")
    fields = dict(options.value) if options.kind == "obj" else {}
    if plugin.kind == "fn":
        if len(args) > 1:  # the options object is the plugin's second parameter
            graph.pass_value(plugin.file, f"{plugin.name}#1", file, args[1])
        child = RouterNode(plugin.file, f"{plugin.name}#0", "param")
        if plugin.detail == "fastify-plugin":
            graph.unencapsulated(child, node, file, order)
            return
        prefix: str | None = ""
        if "prefix" in fields:
            prefixes = graph.strings(options.file, fields["prefix"])
            prefix = prefixes[0] if prefixes and len(prefixes) == 1 else None
        graph.mount(child, node, prefix, (), file, order)
    elif plugin.kind == "external" and plugin.name in _AUTOLOAD:
        _autoload_options(graph, file, node, fields, order)


def _autoload_options(
    graph: RouterGraph, file: str, node: RouterNode, fields: dict[str, Value], order: int
) -> None:
    directory = directory_of(fields.get("dir"), file)
    if directory is None:
        return
    prefix = ""
    options = graph.values.eval(file, fields["options"]) if "options" in fields else None
    if options is not None and options.kind == "obj":
        inner = dict(options.value)
        if "prefix" in inner:
            prefixes = graph.strings(options.file, inner["prefix"])
            if not prefixes or len(prefixes) != 1:
                return
            prefix = prefixes[0]
    folders = fields.get("dirNameRoutePrefix") != ("unknown", "false")
    params = fields.get("routeParams") == ("unknown", "true")
    for target in graph.facts:
        if not target.startswith(directory + "/"):
            continue
        plugin = graph.values.export(target, "default", 0)
        if plugin.kind != "fn":
            continue
        if "options" in fields:  # autoload passes `options` to every plugin it loads
            graph.pass_value(plugin.file, f"{plugin.name}#1", file, fields["options"])
        child = RouterNode(plugin.file, f"{plugin.name}#0", "param")
        if plugin.detail == "fastify-plugin":
            graph.unencapsulated(child, node, file, order)
            continue
        folder = posixpath.dirname(target[len(directory) + 1 :]) if folders else ""
        if params:  # routeParams: `_id` folders are `:id` parameters
            folder = re.sub(r"(^|/)_(\w+)", r"\1:\2", folder)
        auto_prefix = graph.facts[target].exports.get("autoPrefix")
        extra = graph.values.strings(target, auto_prefix) if auto_prefix else None
        path = join_paths(join_paths(prefix, folder), extra[0] if extra else "")
        graph.mount(child, node, path, (), file, order)
