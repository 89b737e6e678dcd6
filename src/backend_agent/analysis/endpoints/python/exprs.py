"""Small readings of scanned Python expressions shared by the router, route-table and
dependency modules: paths joined, short human forms, literal booleans."""

from __future__ import annotations

from backend_agent.analysis.endpoints.python.scan import Expr


def join_paths(prefix: str | None, path: str | None) -> str | None:
    if prefix is None or path is None:
        return None
    if not prefix:
        return path
    if not path:
        return prefix
    return prefix.rstrip("/") + "/" + path.lstrip("/")


def fragment(prefix: str, path: str) -> str:
    return (prefix + path) or "/"


def show(value: Expr | None) -> str:
    """A short human form of an expression for fragments and handler names."""
    if value is None:
        return ""
    tag = value[0]
    if tag == "s":
        return str(value[1])
    if tag == "n":
        return str(value[1])
    if tag == "a":
        return f"{show(value[1])}.{value[2]}"
    if tag == "j":
        return "".join(show(p) if p[0] == "s" else "{" + show(p) + "}" for p in value[1])
    if tag == "c":
        return f"{show(value[1])}(...)"
    return "{?}"


def last_name(value: Expr) -> str:
    return str(value[1]) if value[0] == "n" else str(value[2]) if value[0] == "a" else ""


def truthy(value: Expr | None) -> bool:
    return value == ("k", "True")


def falsy(value: Expr | None) -> bool:
    return value == ("k", "False")
