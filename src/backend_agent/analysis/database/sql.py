"""SQL text to schema operations: sqlglot where it understands, patterns where it does not.

Statements are split here (not by sqlglot) so that each keeps its line number and one that
sqlglot cannot parse does not hide the others.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from backend_agent.analysis.database.model import ConstraintKind, Dialect, Operation

# Statements that change nothing our rules look at.
_IGNORED = re.compile(
    r"^\s*(BEGIN|COMMIT|START\s+TRANSACTION|ROLLBACK|SET|RESET|SELECT|COMMENT|GRANT|REVOKE|"
    r"CREATE\s+(EXTENSION|TYPE|SEQUENCE|SCHEMA|DOMAIN|(OR\s+REPLACE\s+)?VIEW)|"
    r"ALTER\s+(TYPE|SEQUENCE|SCHEMA)|DROP\s+(TYPE|SEQUENCE|EXTENSION|VIEW)|PRAGMA|USE|LOCK)\b",
    re.IGNORECASE,
)
_DATA = re.compile(r"^\s*(INSERT|UPDATE|DELETE|MERGE|TRUNCATE|COPY)\b", re.IGNORECASE)
_NAME = r"(?:\"[^\"]+\"|`[^`]+`|[\w$]+)(?:\.(?:\"[^\"]+\"|`[^`]+`|[\w$]+))?"
_CREATE_INDEX = re.compile(
    rf"^\s*CREATE\s+(UNIQUE\s+)?INDEX\s+(CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?({_NAME})?\s*"
    rf"ON\s+(?:ONLY\s+)?({_NAME})",
    re.IGNORECASE,
)
_ALTER_TABLE = re.compile(
    rf"^\s*ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?({_NAME})\s+(.*)$",
    re.IGNORECASE | re.DOTALL,
)
_VALIDATE = re.compile(rf"^VALIDATE\s+CONSTRAINT\s+({_NAME})", re.IGNORECASE)
_UNIQUE_USING_INDEX = re.compile(
    rf"^ADD\s+CONSTRAINT\s+({_NAME})\s+(UNIQUE|PRIMARY\s+KEY)\s+USING\s+INDEX\s+({_NAME})",
    re.IGNORECASE,
)

_log = logging.getLogger("sqlglot")


class _QuietFallbacks(logging.Filter):
    """sqlglot warns for every statement it keeps as an opaque Command; we handle those."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Falling back to parsing as a 'Command'" not in record.getMessage()


_log.addFilter(_QuietFallbacks())


@dataclass(frozen=True)
class Statement:
    """One SQL statement of a file, with where it starts."""

    text: str
    line: int  # 1-based line of the statement's first character


def split_statements(sql: str, first_line: int = 1) -> list[Statement]:
    """Split on top-level semicolons, skipping quotes, comments and $tag$ bodies."""
    statements: list[Statement] = []
    start: int | None = None
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if sql.startswith("--", i) or (ch == "#" and start is None):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        if sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        if ch.isspace():
            i += 1
            continue
        if start is None:
            start = i
        if ch in "'\"`":
            i = _skip_quoted(sql, i, ch)
            continue
        if ch == "$":
            tag = re.match(r"\$[A-Za-z_]*\$", sql[i:])
            if tag:
                end = sql.find(tag.group(0), i + len(tag.group(0)))
                i = n if end < 0 else end + len(tag.group(0))
                continue
        if ch == ";":
            statements.append(_statement(sql, start, i, first_line))
            start = None
        i += 1
    if start is not None and sql[start:].strip():
        statements.append(_statement(sql, start, n, first_line))
    return statements


def _skip_quoted(sql: str, i: int, quote: str) -> int:
    i += 1
    while i < len(sql):
        if sql[i] == quote:
            if sql.startswith(quote * 2, i):
                i += 2
                continue
            return i + 1
        if sql[i] == "\\" and quote == "'":
            i += 1
        i += 1
    return i


def _statement(sql: str, start: int, end: int, first_line: int) -> Statement:
    return Statement(sql[start:end].strip(), first_line + sql.count("\n", 0, start))


def sql_operations(sql: str, dialect: Dialect, first_line: int = 1) -> list[Operation]:
    """Every schema operation in a SQL script, in order, each at its statement's line."""
    operations: list[Operation] = []
    for statement in split_statements(sql, first_line):
        operations.extend(statement_operations(statement, dialect))
    return operations


def statement_operations(statement: Statement, dialect: Dialect) -> list[Operation]:
    """The schema operations of one statement; data changes and opaque SQL as ``raw-sql``."""
    text, line = statement.text, statement.line
    if _IGNORED.match(text):
        return []
    if _DATA.match(text):
        verb = text.split(None, 1)[0].upper()
        note = "deletes every row" if verb == "TRUNCATE" else "changes data"
        return [Operation("raw-sql", line, table=_data_table(text), sql=_short(text), note=note)]
    expression = _parse(text, dialect)
    if expression is not None:
        found = _from_expression(expression, line, text)
        if found is not None:
            return found
    return _from_patterns(text, line)


def _parse(text: str, dialect: Dialect) -> Any:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        expression = sqlglot.parse_one(text, read=dialect)
    except SqlglotError:
        return None
    return None if isinstance(expression, exp.Command) else expression


def _from_expression(expr: Any, line: int, text: str) -> list[Operation] | None:
    """Operations from a parsed statement; None when the statement is not one we model."""
    from sqlglot import exp

    if isinstance(expr, exp.Create):
        kind = str(expr.args.get("kind") or "").upper()
        if kind == "TABLE":
            return [Operation("create-table", line, table=_table_name(expr.this))]
        if kind == "INDEX":
            index = expr.this
            return [
                Operation(
                    "add-index",
                    line,
                    table=_table_name(index.args.get("table")),
                    name=index.name or None,
                    unique=bool(expr.args.get("unique")),
                    concurrent=bool(expr.args.get("concurrently")),
                )
            ]
        return None
    if isinstance(expr, exp.Drop):
        kind = str(expr.args.get("kind") or "").upper()
        names = [_table_name(t) for t in expr.args.get("tables") or [expr.this]]
        if kind == "TABLE":
            return [Operation("drop-table", line, table=name) for name in names]
        if kind == "INDEX":
            concurrent = bool(expr.args.get("concurrently"))
            return [Operation("drop-index", line, name=n, concurrent=concurrent) for n in names]
        return None
    if isinstance(expr, exp.Alter) and str(expr.args.get("kind") or "").upper() == "TABLE":
        table = _table_name(expr.this)
        not_valid = bool(expr.args.get("not_valid"))
        operations: list[Operation] = []
        for action in expr.args.get("actions") or []:
            found = _alter_action(action, table, line, not_valid)
            if found is None:
                return None
            operations.extend(found)
        return operations
    if isinstance(expr, exp.Comment):
        return []
    return None


def _alter_action(
    action: Any, table: str | None, line: int, not_valid: bool
) -> list[Operation] | None:
    from sqlglot import exp

    if isinstance(action, exp.ColumnDef):
        return _add_column(action, table, line, not_valid)
    if isinstance(action, exp.Drop):
        kind = str(action.args.get("kind") or "").upper()
        names = [t.name for t in action.args.get("tables") or []]
        if kind == "COLUMN":
            return [Operation("drop-column", line, table=table, column=n) for n in names]
        if kind == "INDEX":
            return [Operation("drop-index", line, table=table, name=n) for n in names]
        if kind in ("CONSTRAINT", "FOREIGN KEY", "PRIMARY KEY"):
            return [Operation("drop-constraint", line, table=table, name=n) for n in names]
        return None
    if isinstance(action, exp.RenameColumn):
        old, new = action.this.name, action.args["to"].name
        return [Operation("rename-column", line, table=table, column=old, new_name=new)]
    if isinstance(action, exp.AlterRename):
        return [Operation("rename-table", line, table=table, new_name=_table_name(action.this))]
    if isinstance(action, exp.AlterColumn):
        return [_alter_column(action, table, line)]
    if isinstance(action, exp.ModifyColumn):
        return _modify_column(action, table, line)
    if isinstance(action, exp.AddConstraint):
        return [_constraint(c, table, line, not_valid) for c in action.expressions]
    return None


def _add_column(column: Any, table: str | None, line: int, not_valid: bool) -> list[Operation]:
    from sqlglot import exp

    kinds = [c.args.get("kind") for c in column.args.get("constraints") or []]
    not_null = any(
        (isinstance(k, exp.NotNullColumnConstraint) and not k.args.get("allow_null"))
        or isinstance(k, exp.PrimaryKeyColumnConstraint)
        for k in kinds
    )
    has_default = any(isinstance(k, exp.DefaultColumnConstraint) for k in kinds)
    type_ = column.args.get("kind")
    type_text = type_.sql() if type_ is not None else None
    if type_text and type_text.upper() in ("SERIAL", "BIGSERIAL", "SMALLSERIAL"):
        has_default = True  # a sequence fills existing rows
    name = column.name
    operations = [
        Operation(
            "add-column",
            line,
            table=table,
            column=name,
            type=type_text,
            nullable=not not_null,
            has_default=has_default,
        )
    ]
    for kind in kinds:
        if isinstance(kind, exp.Reference):
            operations.append(
                Operation(
                    "add-constraint",
                    line,
                    table=table,
                    column=name,
                    constraint="foreign-key",
                    not_valid=not_valid,
                )
            )
        elif isinstance(kind, exp.UniqueColumnConstraint):
            operations.append(
                Operation(
                    "add-constraint",
                    line,
                    table=table,
                    column=name,
                    constraint="unique",
                    unique=True,
                )
            )
    return operations


def _alter_column(action: Any, table: str | None, line: int) -> Operation:
    dtype = action.args.get("dtype")
    allow_null = action.args.get("allow_null")
    nullable = None if allow_null is None else bool(allow_null)
    return Operation(
        "alter-column",
        line,
        table=table,
        column=action.this.name,
        type=dtype.sql() if dtype is not None else None,
        nullable=nullable,
        has_default=action.args.get("default") is not None,
    )


def _modify_column(action: Any, table: str | None, line: int) -> list[Operation]:
    """MySQL MODIFY/CHANGE COLUMN: a full redefinition, possibly with a rename."""
    column = action.this
    operations = []
    old = action.args.get("rename_from")
    if old is not None and old.name != column.name:
        operations.append(
            Operation("rename-column", line, table=table, column=old.name, new_name=column.name)
        )
    type_ = column.args.get("kind")
    # MODIFY restates NOT NULL every time, so it says nothing about a nullability change.
    operations.append(
        Operation(
            "alter-column",
            line,
            table=table,
            column=column.name,
            type=type_.sql("mysql") if type_ is not None else None,
        )
    )
    return operations


def _constraint(node: Any, table: str | None, line: int, not_valid: bool) -> Operation:
    from sqlglot import exp

    name = node.name if isinstance(node, exp.Constraint) else None
    parts = node.expressions if isinstance(node, exp.Constraint) else [node]
    kind: ConstraintKind = "check"
    for part in parts:
        if isinstance(part, exp.ForeignKey):
            kind = "foreign-key"
        elif isinstance(part, exp.UniqueColumnConstraint):
            kind = "unique"
        elif isinstance(part, (exp.PrimaryKey, exp.PrimaryKeyColumnConstraint)):
            kind = "primary-key"
        elif isinstance(part, exp.IndexColumnConstraint):
            return Operation("add-index", line, table=table, name=part.name or None)
    return Operation(
        "add-constraint",
        line,
        table=table,
        name=name or None,
        constraint=kind,
        unique=kind in ("unique", "primary-key"),
        not_valid=not_valid,
    )


def _from_patterns(text: str, line: int) -> list[Operation]:
    """Fallbacks for statements sqlglot keeps opaque; anything else stays raw SQL."""
    index = _CREATE_INDEX.match(text)
    if index:
        return [
            Operation(
                "add-index",
                line,
                table=_unquote(index.group(4)),
                name=_unquote(index.group(3)) if index.group(3) else None,
                unique=bool(index.group(1)),
                concurrent=bool(index.group(2)),
            )
        ]
    alter = _ALTER_TABLE.match(text)
    if alter:
        table, rest = _unquote(alter.group(1)), alter.group(2).strip()
        validate = _VALIDATE.match(rest)
        if validate:
            name = _unquote(validate.group(1))
            return [Operation("validate-constraint", line, table=table, name=name)]
        using = _UNIQUE_USING_INDEX.match(rest)
        if using:
            kind: ConstraintKind = "unique" if using.group(2).upper() == "UNIQUE" else "primary-key"
            return [
                Operation(
                    "add-constraint",
                    line,
                    table=table,
                    name=_unquote(using.group(1)),
                    constraint=kind,
                    unique=True,
                    using_index=_unquote(using.group(3)),
                )
            ]
        return [Operation("raw-sql", line, table=table, sql=_short(text), note="not parsed")]
    return [Operation("raw-sql", line, sql=_short(text), note="not parsed")]


def _table_name(node: Any) -> str | None:
    if node is None:
        return None
    from sqlglot import exp

    table = node.this if isinstance(node, exp.Schema) else node
    return str(table.name) if table is not None and table.name else None


def _unquote(name: str) -> str:
    return name.split(".")[-1].strip('"`')


def _data_table(text: str) -> str | None:
    match = re.search(
        rf"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|MERGE\s+INTO|COPY)"
        rf"\s+(?:ONLY\s+)?({_NAME})",
        text,
        re.IGNORECASE,
    )
    return _unquote(match.group(1)) if match else None


def _short(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
