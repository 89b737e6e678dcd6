"""Knex, TypeORM and Sequelize migrations: the calls in their ``up``/``down``, via tree-sitter."""

from __future__ import annotations

from pathlib import PurePosixPath

from backend_agent.analysis.database import knex, sequelize, typeorm
from backend_agent.analysis.database.js_syntax import Reader, migration_steps
from backend_agent.analysis.database.model import Dialect, Migration, Tool
from backend_agent.analysis.parsing import language_for, node_line, node_text, parse, walk
from backend_agent.analysis.project import Project


def tool_of(text: str) -> Tool | None:
    """Which library a JS/TS migration file is written for, from what it calls."""
    if "MigrationInterface" in text or "queryRunner" in text:
        return "typeorm"
    if "queryInterface" in text:
        return "sequelize"
    return "knex" if "knex" in text.lower() else None


def js_migration(project: Project, path: str, tool: Tool, dialect: Dialect) -> Migration:
    """The up/down operations of one Knex, TypeORM or Sequelize migration file."""
    language = language_for(path) or "javascript"
    tree = parse(project.read_bytes(path), language)
    steps = dict(migration_steps(tree.root_node))
    reader = {"knex": knex.read, "typeorm": typeorm.read, "sequelize": sequelize.read}[tool]
    up = Reader(dialect)
    if "up" in steps:
        reader(up, steps["up"])
    down = Reader(dialect)
    has_down, irreversible_line = False, None
    if "down" in steps:
        reader(down, steps["down"])
        throws = [n for n in walk(steps["down"]) if n.type == "throw_statement"]
        irreversible_line = node_line(throws[0]) if throws else None
        has_down = bool(down.operations) or any(
            n.type in ("call_expression", "throw_statement")
            and not node_text(n).startswith("Promise.resolve")
            for n in walk(steps["down"])
        )
    name = PurePosixPath(path).name.split(".")[0]
    migration = Migration(tool, path, name, dialect, up.sorted(), down.sorted(), has_down)
    migration.irreversible_line = irreversible_line
    return migration
