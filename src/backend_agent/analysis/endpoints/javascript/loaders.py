"""Helpers that load every module of a directory and hand each to a callback, the way apps
mount routers they never import by name: ``require-directory`` with ``visit``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from backend_agent.analysis.endpoints.javascript.facts import CallSite
from backend_agent.analysis.endpoints.javascript.values import REQUIRE_DIRECTORY, directory_modules

if TYPE_CHECKING:
    from backend_agent.analysis.endpoints.javascript.routers import RouterGraph


def load_directories(graph: RouterGraph, file: str, call: CallSite) -> None:
    """``requireDirectory(module, dir, {visit, ...})``: ``visit``'s first parameter receives
    the default export of each module loaded."""
    callee = graph.values.eval(file, call.callee)
    if callee.kind != "external" or callee.name != REQUIRE_DIRECTORY or len(call.args) < 2:
        return
    options = graph.values.eval(file, call.args[-1])
    fields = dict(options.value) if options.kind == "obj" else {}
    visit = graph.values.eval(options.file, fields["visit"]) if "visit" in fields else None
    if visit is None or visit.kind != "fn":
        return
    for _name, spec in directory_modules(graph.values, file, call.args):
        graph.pass_value(visit.file, f"{visit.name}#0", file, ("import", spec, "default"))
