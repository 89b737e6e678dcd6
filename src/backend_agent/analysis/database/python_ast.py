"""What the Alembic and Django readers share: Python's ``ast`` and the literals in calls."""

from __future__ import annotations

import ast
from pathlib import PurePosixPath

from backend_agent.analysis.database.model import (
    Dialect,
    Migration,
    Operation,
    Tool,
)
from backend_agent.analysis.database.sql import sql_operations
from backend_agent.analysis.project import Project


def string_value(node: ast.AST | None) -> str | None:
    """A literal string, also through ``sa.text("...")`` / ``text("...")``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Call) and callee(node) == "text" and node.args:
        return string_value(node.args[0])
    return None


def callee(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    return call.args[position] if len(call.args) > position else None


def keyword_value(call: ast.Call, keyword: str) -> ast.expr | None:
    return next((kw.value for kw in call.keywords if kw.arg == keyword), None)


def flag(call: ast.Call, keyword: str) -> bool | None:
    """The literal value of a boolean keyword, None when absent or not literal."""
    value = keyword_value(call, keyword)
    if isinstance(value, ast.Constant) and isinstance(value.value, bool):
        return value.value
    return None


def has_keyword(call: ast.Call, keyword: str) -> bool:
    value = keyword_value(call, keyword)
    return value is not None and not (isinstance(value, ast.Constant) and value.value is None)


def raw_sql(node: ast.expr | None, line: int, dialect: Dialect) -> list[Operation]:
    """Operations of a SQL literal, or one opaque raw-sql operation when it is not literal."""
    sql = string_value(node)
    if sql is None:
        return [Operation("raw-sql", line, note="SQL built at run time")]
    start = node.lineno if node is not None else line
    return sql_operations(sql, dialect, start)


def parse_migration(
    tool: Tool, project: Project, path: str, dialect: Dialect
) -> ast.Module | Migration:
    """The module, or, when Python cannot parse it, a migration that says so (to be read by
    hand)."""
    try:
        return ast.parse(project.read_bytes(path))
    except SyntaxError as exc:
        line, detail = exc.lineno or 1, exc.msg
    except ValueError as exc:  # null bytes
        line, detail = 1, str(exc)
    op = Operation("raw-sql", line, note="the file does not parse", sql=detail)
    return Migration(tool, path, PurePosixPath(path).stem, dialect, [op], has_down=True)


def trivial(body: list[ast.stmt]) -> bool:
    """``pass``, ``...`` or a docstring only."""
    return all(
        isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        for s in body
    )
