"""Alembic and Django migrations, read with Python's own ``ast`` (exact, and fast)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from backend_agent.analysis.database.model import (
    ConstraintKind,
    Dialect,
    Migration,
    Operation,
    OperationKind,
    Tool,
)
from backend_agent.analysis.database.sql import sql_operations
from backend_agent.analysis.project import Project

# --- shared helpers --------------------------------------------------------------------------


def _string(node: ast.AST | None) -> str | None:
    """A literal string, also through ``sa.text("...")`` / ``text("...")``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Call) and _callee(node) == "text" and node.args:
        return _string(node.args[0])
    return None


def _callee(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _arg(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    return call.args[position] if len(call.args) > position else None


def _keyword(call: ast.Call, keyword: str) -> ast.expr | None:
    return next((kw.value for kw in call.keywords if kw.arg == keyword), None)


def _flag(call: ast.Call, keyword: str) -> bool | None:
    """The literal value of a boolean keyword, None when absent or not literal."""
    value = _keyword(call, keyword)
    if isinstance(value, ast.Constant) and isinstance(value.value, bool):
        return value.value
    return None


def _has(call: ast.Call, keyword: str) -> bool:
    value = _keyword(call, keyword)
    return value is not None and not (isinstance(value, ast.Constant) and value.value is None)


def _raw_sql(node: ast.expr | None, line: int, dialect: Dialect) -> list[Operation]:
    """Operations of a SQL literal, or one opaque raw-sql operation when it is not literal."""
    sql = _string(node)
    if sql is None:
        return [Operation("raw-sql", line, note="SQL built at run time")]
    start = node.lineno if node is not None else line
    return sql_operations(sql, dialect, start)


def _parse(tool: Tool, project: Project, path: str, dialect: Dialect) -> ast.Module | Migration:
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


def _trivial(body: list[ast.stmt]) -> bool:
    """``pass``, ``...`` or a docstring only."""
    return all(
        isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        for s in body
    )


# --- Alembic ---------------------------------------------------------------------------------

ALEMBIC_CONSTRAINTS: dict[str, ConstraintKind] = {
    "create_unique_constraint": "unique",
    "create_foreign_key": "foreign-key",
    "create_check_constraint": "check",
    "create_primary_key": "primary-key",
}


def is_alembic(text: str) -> bool:
    """An Alembic revision: an ``upgrade()`` in a file that names alembic or a down_revision."""
    return "def upgrade(" in text and ("alembic" in text or "down_revision" in text)


def alembic(project: Project, path: str, dialect: Dialect) -> Migration:
    """``upgrade()``/``downgrade()`` bodies of ``op.*`` calls, including batch_alter_table."""
    tree = _parse("alembic", project, path, dialect)
    if isinstance(tree, Migration):
        return tree
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    upgrade, downgrade = functions.get("upgrade"), functions.get("downgrade")
    up = _AlembicOps(dialect).collect(upgrade) if upgrade else []
    down = _AlembicOps(dialect).collect(downgrade) if downgrade else []
    irreversible_line = None
    if downgrade is not None:
        raised = [n.lineno for n in ast.walk(downgrade) if isinstance(n, ast.Raise)]
        irreversible_line = min(raised) if raised else None
    migration = Migration("alembic", path, _alembic_revision(tree, path), dialect, up, down)
    migration.has_down = downgrade is not None and not _trivial(downgrade.body)
    migration.irreversible_line = irreversible_line
    return migration


def _alembic_revision(tree: ast.Module, path: str) -> str:
    for node in tree.body:
        target, value = None, None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        if isinstance(target, ast.Name) and target.id == "revision":
            revision = _string(value)
            if revision:
                return revision
    return PurePosixPath(path).stem


@dataclass
class _AlembicOps:
    dialect: Dialect
    batches: dict[str, str] = field(default_factory=dict)  # batch_op alias -> table

    def collect(self, function: ast.FunctionDef) -> list[Operation]:
        for node in ast.walk(function):
            if isinstance(node, ast.With):
                for item in node.items:
                    call = item.context_expr
                    if (
                        isinstance(call, ast.Call)
                        and _callee(call) == "batch_alter_table"
                        and isinstance(item.optional_vars, ast.Name)
                    ):
                        table = _string(_arg(call, 0, "table_name"))
                        if table:
                            self.batches[item.optional_vars.id] = table
        found = [
            op
            for node in ast.walk(function)
            if isinstance(node, ast.Call)
            for op in self.call(node)
        ]
        return sorted(found, key=lambda op: op.line)

    def call(self, call: ast.Call) -> list[Operation]:
        func = call.func
        if not isinstance(func, ast.Attribute) or not isinstance(func.value, ast.Name):
            return []
        owner = func.value.id
        if owner in self.batches:
            # batch operations take the same arguments minus the table name
            return self.operation(func.attr, call, self.batches[owner], shift=-1)
        if owner == "op":
            return self.operation(func.attr, call, None, shift=0)
        return []

    def operation(
        self, method: str, call: ast.Call, batch: str | None, shift: int
    ) -> list[Operation]:
        """One ``op.<method>(...)``; ``shift`` is -1 for batch calls (no table argument)."""
        line = call.lineno
        if method in ("add_column", "drop_column", "alter_column"):
            return self.column_operation(
                method, call, batch or _string(_arg(call, 0, "table_name")), shift
            )
        if method in ("create_index", "drop_index"):
            return [self.index(method, call, batch, line)]
        if method in ALEMBIC_CONSTRAINTS:
            return [self.constraint(method, call, batch, line)]
        table = _string(_arg(call, 0, "table_name"))
        if method == "create_table":
            return [Operation("create-table", line, table=table)]
        if method == "drop_table":
            return [Operation("drop-table", line, table=table)]
        if method == "rename_table":
            old, new = (
                _string(_arg(call, 0, "old_table_name")),
                _string(_arg(call, 1, "new_table_name")),
            )
            return [Operation("rename-table", line, table=old, new_name=new)]
        if method == "drop_constraint":
            table = batch or _string(_arg(call, 1, "table_name"))
            name = _string(_arg(call, 0, "constraint_name"))
            return [Operation("drop-constraint", line, table=table, name=name)]
        if method == "execute":
            return _raw_sql(_arg(call, 0, "sqltext"), line, self.dialect)
        if method == "bulk_insert":
            return [Operation("raw-sql", line, note="changes data", sql="bulk_insert(...)")]
        return []

    def column_operation(
        self, method: str, call: ast.Call, table: str | None, shift: int
    ) -> list[Operation]:
        second = _arg(call, 1 + shift, "column" if method == "add_column" else "column_name")
        if method == "add_column":
            return [_sa_column(second, table, call.lineno)] if isinstance(second, ast.Call) else []
        if method == "drop_column":
            return [Operation("drop-column", call.lineno, table=table, column=_string(second))]
        return _alter_column(call, table, _string(second), call.lineno)

    def index(self, method: str, call: ast.Call, batch: str | None, line: int) -> Operation:
        return Operation(
            "add-index" if method == "create_index" else "drop-index",
            line,
            table=batch or _string(_arg(call, 1, "table_name")),
            name=_string(_arg(call, 0, "index_name")),
            unique=bool(_flag(call, "unique")),
            concurrent=bool(_flag(call, "postgresql_concurrently")),
        )

    def constraint(self, method: str, call: ast.Call, batch: str | None, line: int) -> Operation:
        kind = ALEMBIC_CONSTRAINTS[method]
        table = batch or _string(
            _arg(call, 1, "source_table" if kind == "foreign-key" else "table_name")
        )
        return Operation(
            "add-constraint",
            line,
            table=table,
            name=_string(_arg(call, 0, "constraint_name")),
            constraint=kind,
            unique=kind in ("unique", "primary-key"),
            not_valid=bool(_flag(call, "postgresql_not_valid")),
        )


def _sa_column(column: ast.Call, table: str | None, line: int) -> Operation:
    """``sa.Column("name", Type, nullable=..., server_default=...)`` as add-column."""
    nullable = _flag(column, "nullable")
    primary = _flag(column, "primary_key")
    type_node = column.args[1] if len(column.args) > 1 else None
    return Operation(
        "add-column",
        line,
        table=table,
        column=_string(column.args[0]) if column.args else None,
        type=ast.unparse(type_node) if type_node is not None else None,
        nullable=not (nullable is False or primary is True),
        has_default=_has(column, "server_default"),
    )


def _alter_column(
    call: ast.Call, table: str | None, column: str | None, line: int
) -> list[Operation]:
    operations = []
    type_node = _keyword(call, "type_")
    nullable = _flag(call, "nullable")
    if type_node is not None or nullable is False:
        operations.append(
            Operation(
                "alter-column",
                line,
                table=table,
                column=column,
                type=ast.unparse(type_node) if type_node is not None else None,
                nullable=False if nullable is False else None,
            )
        )
    new_name = _string(_keyword(call, "new_column_name"))
    if new_name:
        operations.append(
            Operation("rename-column", line, table=table, column=column, new_name=new_name)
        )
    return operations


# --- Django ----------------------------------------------------------------------------------


def is_django(path: str, text: str) -> bool:
    """A Django migration: a ``Migration`` class in a file directly under ``migrations/``."""
    parts = PurePosixPath(path).parts
    return (
        len(parts) >= 2
        and parts[-2] == "migrations"
        and "Migration" in text
        and ("migrations.Migration" in text or "from django.db" in text)
    )


@dataclass
class FieldState:
    """What earlier migrations declared for a field: enough to tell what AlterField changes."""

    type: str
    size: tuple[str | None, ...]  # max_length, max_digits, decimal_places
    null: bool

    def described(self) -> str:
        keys = ("max_length", "max_digits", "decimal_places")
        sizes = ", ".join(f"{k}={v}" for k, v in zip(keys, self.size, strict=True) if v)
        return f"{self.type}({sizes})"


DjangoHistory = dict[tuple[str, str], FieldState]  # (table, field) -> state
INDEX_OPERATIONS = frozenset(
    {
        "AddIndex",
        "AddIndexConcurrently",
        "RemoveIndex",
        "RemoveIndexConcurrently",
        "AddConstraint",
        "RemoveConstraint",
        "AlterUniqueTogether",
        "AlterIndexTogether",
    }
)


def django(project: Project, path: str, dialect: Dialect, history: DjangoHistory) -> Migration:
    """``operations = [...]`` of a Django migration; ``history`` is updated as we go."""
    tree = _parse("django", project, path, dialect)
    if isinstance(tree, Migration):
        return tree
    pure = PurePosixPath(path)
    app = pure.parent.parent.name
    reader = _DjangoOps(app, dialect, history)
    for element in _django_operations(tree):
        reader.read(element)
    migration = Migration("django", path, pure.stem, dialect, reader.operations, has_down=True)
    migration.irreversible_line = reader.irreversible_line
    return migration


def _django_operations(tree: ast.Module) -> Iterator[ast.expr]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for statement in node.body:
                if (
                    isinstance(statement, ast.Assign)
                    and any(
                        isinstance(t, ast.Name) and t.id == "operations" for t in statement.targets
                    )
                    and isinstance(statement.value, (ast.List, ast.Tuple))
                ):
                    yield from statement.value.elts


@dataclass
class _DjangoOps:
    app: str
    dialect: Dialect
    history: DjangoHistory
    operations: list[Operation] = field(default_factory=list)
    irreversible_line: int | None = None

    def table(self, model: str | None) -> str | None:
        return f"{self.app}_{model.lower()}" if model else None

    def add(self, kind: OperationKind, line: int, **values: Any) -> None:
        self.operations.append(Operation(kind, line, **values))

    def read(self, node: ast.expr) -> None:
        if not isinstance(node, ast.Call):
            return
        name, line = _callee(node), node.lineno
        model = _string(_arg(node, 0, "model_name")) or _string(_arg(node, 0, "name"))
        table = self.table(model)
        if name in ("CreateModel", "DeleteModel", "RenameModel", "AlterModelTable"):
            self.model_operation(name, node, table, line)
        elif name == "AddField":
            self.add_field(node, table, line)
        elif name == "RemoveField":
            self.add("drop-column", line, table=table, column=_string(_arg(node, 1, "name")))
        elif name == "RenameField":
            old, new = _string(_arg(node, 1, "old_name")), _string(_arg(node, 2, "new_name"))
            self.add("rename-column", line, table=table, column=old, new_name=new)
        elif name == "AlterField":
            self.alter_field(node, table, line)
        elif name in INDEX_OPERATIONS:
            self.index_operation(name, node, table, line)
        elif name == "RunSQL":
            self.run_sql(node, line)
        elif name == "RunPython":
            code = _arg(node, 0, "code")
            self.add(
                "run-code", line, note=f"RunPython {ast.unparse(code) if code else ''}".strip()
            )
            if not _has(node, "reverse_code") and len(node.args) < 2:
                self.irreversible_line = self.irreversible_line or line
        elif name == "SeparateDatabaseAndState":
            database = _keyword(node, "database_operations")
            for element in database.elts if isinstance(database, (ast.List, ast.Tuple)) else []:
                self.read(element)

    def model_operation(self, name: str, node: ast.Call, table: str | None, line: int) -> None:
        if name == "CreateModel":
            self.add("create-table", line, table=table)
            fields = _arg(node, 1, "fields")
            for element in fields.elts if isinstance(fields, (ast.List, ast.Tuple)) else []:
                if isinstance(element, ast.Tuple) and len(element.elts) == 2:
                    field_name = _string(element.elts[0])
                    if field_name and isinstance(element.elts[1], ast.Call):
                        self.history[(table or "", field_name)] = _field_state(element.elts[1])
        elif name == "DeleteModel":
            self.add("drop-table", line, table=table)
        elif name == "RenameModel":
            old, new = _string(_arg(node, 0, "old_name")), _string(_arg(node, 1, "new_name"))
            self.add("rename-table", line, table=self.table(old), new_name=self.table(new))
        else:  # AlterModelTable
            new = _string(_arg(node, 1, "table"))
            if new and new != table:
                self.add("rename-table", line, table=table, new_name=new)

    def index_operation(self, name: str, node: ast.Call, table: str | None, line: int) -> None:
        """Indexes, constraints, unique_together/index_together."""
        concurrent = name.endswith("Concurrently")
        if name in ("AddIndex", "AddIndexConcurrently"):
            index = _arg(node, 1, "index")
            index_name = _string(_keyword(index, "name")) if isinstance(index, ast.Call) else None
            self.add("add-index", line, table=table, name=index_name, concurrent=concurrent)
        elif name in ("RemoveIndex", "RemoveIndexConcurrently"):
            index_name = _string(_arg(node, 1, "name"))
            self.add("drop-index", line, table=table, name=index_name, concurrent=concurrent)
        elif name == "AddConstraint":
            self.add_constraint(node, table, line)
        elif name == "RemoveConstraint":
            self.add("drop-constraint", line, table=table, name=_string(_arg(node, 1, "name")))
        else:  # AlterUniqueTogether / AlterIndexTogether
            unique = name == "AlterUniqueTogether"
            together = _arg(node, 1, "unique_together" if unique else "index_together")
            if isinstance(together, (ast.Set, ast.Tuple, ast.List)) and together.elts:
                if unique:
                    self.add("add-constraint", line, table=table, constraint="unique", unique=True)
                else:
                    self.add("add-index", line, table=table)

    def add_field(self, node: ast.Call, table: str | None, line: int) -> None:
        column = _string(_arg(node, 1, "name"))
        definition = _arg(node, 2, "field")
        if not isinstance(definition, ast.Call) or column is None:
            return
        kind = _callee(definition)
        state = _field_state(definition)
        self.history[(table or "", column)] = state
        if kind == "ManyToManyField":
            self.add("create-table", line, table=f"{table}_{column}")
            return
        relation = kind in ("ForeignKey", "OneToOneField")
        db_column = f"{column}_id" if relation else column
        has_default = _has(definition, "default") or _has(definition, "db_default")
        self.add(
            "add-column",
            line,
            table=table,
            column=db_column,
            type=kind,
            nullable=state.null,
            has_default=has_default,
        )
        if relation and _flag(definition, "db_constraint") is not False:
            self.add(
                "add-constraint", line, table=table, column=db_column, constraint="foreign-key"
            )
        if kind == "OneToOneField" or _flag(definition, "unique"):
            self.add(
                "add-constraint",
                line,
                table=table,
                column=db_column,
                constraint="unique",
                unique=True,
            )
        elif (relation and _flag(definition, "db_index") is not False) or _flag(
            definition, "db_index"
        ):
            self.add("add-index", line, table=table, column=db_column)

    def alter_field(self, node: ast.Call, table: str | None, line: int) -> None:
        column = _string(_arg(node, 1, "name"))
        definition = _arg(node, 2, "field")
        if not isinstance(definition, ast.Call) or column is None:
            return
        state = _field_state(definition)
        before = self.history.get((table or "", column))
        self.history[(table or "", column)] = state
        if before is None:
            note = "previous definition not found in earlier migrations"
            self.add("alter-column", line, table=table, column=column, type=state.type, note=note)
            return
        type_changed = (before.type, before.size) != (state.type, state.size)
        set_not_null = before.null and not state.null
        if type_changed or set_not_null:
            self.add(
                "alter-column",
                line,
                table=table,
                column=column,
                type=state.described() if type_changed else None,
                nullable=False if set_not_null else None,
            )

    def add_constraint(self, node: ast.Call, table: str | None, line: int) -> None:
        constraint = _arg(node, 1, "constraint")
        if not isinstance(constraint, ast.Call):
            return
        kind = {"UniqueConstraint": "unique", "CheckConstraint": "check"}.get(_callee(constraint))
        if kind is None:
            return
        name = _string(_keyword(constraint, "name"))
        self.add(
            "add-constraint", line, table=table, name=name, constraint=kind, unique=kind == "unique"
        )

    def run_sql(self, node: ast.Call, line: int) -> None:
        sql = _arg(node, 0, "sql")
        statements = sql.elts if isinstance(sql, (ast.List, ast.Tuple)) else [sql]
        for statement in statements:
            self.operations.extend(_raw_sql(statement, line, self.dialect))
        if not _has(node, "reverse_sql") and len(node.args) < 2:
            self.irreversible_line = self.irreversible_line or line


def _field_state(definition: ast.Call) -> FieldState:
    size = tuple(
        ast.unparse(value) if (value := _keyword(definition, key)) is not None else None
        for key in ("max_length", "max_digits", "decimal_places")
    )
    return FieldState(_callee(definition), size, bool(_flag(definition, "null")))
