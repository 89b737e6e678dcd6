"""Django migrations: the ``operations`` list, with each field's history for AlterField."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from backend_agent.analysis.database.model import (
    Dialect,
    Migration,
    Operation,
    OperationKind,
)
from backend_agent.analysis.database.python_ast import (
    argument,
    callee,
    flag,
    has_keyword,
    keyword_value,
    parse_migration,
    raw_sql,
    string_value,
)
from backend_agent.analysis.project import Project


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
    tree = parse_migration("django", project, path, dialect)
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
        name, line = callee(node), node.lineno
        model = string_value(argument(node, 0, "model_name")) or string_value(
            argument(node, 0, "name")
        )
        table = self.table(model)
        if name in ("CreateModel", "DeleteModel", "RenameModel", "AlterModelTable"):
            self.model_operation(name, node, table, line)
        elif name == "AddField":
            self.add_field(node, table, line)
        elif name == "RemoveField":
            self.add(
                "drop-column", line, table=table, column=string_value(argument(node, 1, "name"))
            )
        elif name == "RenameField":
            old, new = (
                string_value(argument(node, 1, "old_name")),
                string_value(argument(node, 2, "new_name")),
            )
            self.add("rename-column", line, table=table, column=old, new_name=new)
        elif name == "AlterField":
            self.alter_field(node, table, line)
        elif name in INDEX_OPERATIONS:
            self.index_operation(name, node, table, line)
        elif name == "RunSQL":
            self.run_sql(node, line)
        elif name == "RunPython":
            code = argument(node, 0, "code")
            self.add(
                "run-code", line, note=f"RunPython {ast.unparse(code) if code else ''}".strip()
            )
            if not has_keyword(node, "reverse_code") and len(node.args) < 2:
                self.irreversible_line = self.irreversible_line or line
        elif name == "SeparateDatabaseAndState":
            database = keyword_value(node, "database_operations")
            for element in database.elts if isinstance(database, (ast.List, ast.Tuple)) else []:
                self.read(element)

    def model_operation(self, name: str, node: ast.Call, table: str | None, line: int) -> None:
        if name == "CreateModel":
            self.add("create-table", line, table=table)
            fields = argument(node, 1, "fields")
            for element in fields.elts if isinstance(fields, (ast.List, ast.Tuple)) else []:
                if isinstance(element, ast.Tuple) and len(element.elts) == 2:
                    field_name = string_value(element.elts[0])
                    if field_name and isinstance(element.elts[1], ast.Call):
                        self.history[(table or "", field_name)] = _field_state(element.elts[1])
        elif name == "DeleteModel":
            self.add("drop-table", line, table=table)
        elif name == "RenameModel":
            old, new = (
                string_value(argument(node, 0, "old_name")),
                string_value(argument(node, 1, "new_name")),
            )
            self.add("rename-table", line, table=self.table(old), new_name=self.table(new))
        else:  # AlterModelTable
            new = string_value(argument(node, 1, "table"))
            if new and new != table:
                self.add("rename-table", line, table=table, new_name=new)

    def index_operation(self, name: str, node: ast.Call, table: str | None, line: int) -> None:
        """Indexes, constraints, unique_together/index_together."""
        concurrent = name.endswith("Concurrently")
        if name in ("AddIndex", "AddIndexConcurrently"):
            index = argument(node, 1, "index")
            index_name = (
                string_value(keyword_value(index, "name")) if isinstance(index, ast.Call) else None
            )
            self.add("add-index", line, table=table, name=index_name, concurrent=concurrent)
        elif name in ("RemoveIndex", "RemoveIndexConcurrently"):
            index_name = string_value(argument(node, 1, "name"))
            self.add("drop-index", line, table=table, name=index_name, concurrent=concurrent)
        elif name == "AddConstraint":
            self.add_constraint(node, table, line)
        elif name == "RemoveConstraint":
            self.add(
                "drop-constraint", line, table=table, name=string_value(argument(node, 1, "name"))
            )
        else:  # AlterUniqueTogether / AlterIndexTogether
            unique = name == "AlterUniqueTogether"
            together = argument(node, 1, "unique_together" if unique else "index_together")
            if isinstance(together, (ast.Set, ast.Tuple, ast.List)) and together.elts:
                if unique:
                    self.add("add-constraint", line, table=table, constraint="unique", unique=True)
                else:
                    self.add("add-index", line, table=table)

    def add_field(self, node: ast.Call, table: str | None, line: int) -> None:
        column = string_value(argument(node, 1, "name"))
        definition = argument(node, 2, "field")
        if not isinstance(definition, ast.Call) or column is None:
            return
        kind = callee(definition)
        state = _field_state(definition)
        self.history[(table or "", column)] = state
        if kind == "ManyToManyField":
            self.add("create-table", line, table=f"{table}_{column}")
            return
        relation = kind in ("ForeignKey", "OneToOneField")
        db_column = f"{column}_id" if relation else column
        has_default = has_keyword(definition, "default") or has_keyword(definition, "db_default")
        self.add(
            "add-column",
            line,
            table=table,
            column=db_column,
            type=kind,
            nullable=state.null,
            has_default=has_default,
        )
        if relation and flag(definition, "db_constraint") is not False:
            self.add(
                "add-constraint", line, table=table, column=db_column, constraint="foreign-key"
            )
        if kind == "OneToOneField" or flag(definition, "unique"):
            self.add(
                "add-constraint",
                line,
                table=table,
                column=db_column,
                constraint="unique",
                unique=True,
            )
        elif (relation and flag(definition, "db_index") is not False) or flag(
            definition, "db_index"
        ):
            self.add("add-index", line, table=table, column=db_column)

    def alter_field(self, node: ast.Call, table: str | None, line: int) -> None:
        column = string_value(argument(node, 1, "name"))
        definition = argument(node, 2, "field")
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
        constraint = argument(node, 1, "constraint")
        if not isinstance(constraint, ast.Call):
            return
        kind = {"UniqueConstraint": "unique", "CheckConstraint": "check"}.get(callee(constraint))
        if kind is None:
            return
        name = string_value(keyword_value(constraint, "name"))
        self.add(
            "add-constraint", line, table=table, name=name, constraint=kind, unique=kind == "unique"
        )

    def run_sql(self, node: ast.Call, line: int) -> None:
        sql = argument(node, 0, "sql")
        statements = sql.elts if isinstance(sql, (ast.List, ast.Tuple)) else [sql]
        for statement in statements:
            self.operations.extend(raw_sql(statement, line, self.dialect))
        if not has_keyword(node, "reverse_sql") and len(node.args) < 2:
            self.irreversible_line = self.irreversible_line or line


def _field_state(definition: ast.Call) -> FieldState:
    size = tuple(
        ast.unparse(value) if (value := keyword_value(definition, key)) is not None else None
        for key in ("max_length", "max_digits", "decimal_places")
    )
    return FieldState(callee(definition), size, bool(flag(definition, "null")))
