"""``orm-auto-sync``: schemas changed by the ORM at start-up instead of by a reviewed migration.

TypeORM ``synchronize: true``, Sequelize ``sync({ alter | force: true })`` and GORM
``AutoMigrate`` outside tests: each changes production tables with no migration to review or
roll back.
"""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node

from backend_agent.analysis.database.migrations import TEST_PATH
from backend_agent.analysis.database.rules import RULES
from backend_agent.analysis.findings import Finding
from backend_agent.analysis.parsing import language_for, node_text, parse, walk
from backend_agent.analysis.project import Project

FIX_TYPEORM = (
    "Set synchronize: false outside local development and generate migrations "
    "(typeorm migration:generate) so each schema change is reviewed and has a down step. "
    "There is no rollback for what synchronize already changed: restore from a backup."
)
FIX_SEQUELIZE = (
    "Remove sync({ alter/force }) from application start-up and use migrations "
    "(sequelize-cli / umzug); force: true drops and recreates every table."
)
FIX_GORM = (
    "Run AutoMigrate only in tests or a one-off command, and manage production schema with "
    "versioned migrations (golang-migrate, goose, Atlas) that have down steps."
)


def orm_auto_sync(project: Project) -> list[Finding]:
    """Every place the ORM is told to alter the schema by itself, outside test code."""
    findings: list[Finding] = []
    for path in project.files():
        language = language_for(path)
        if language is None or language in ("python", "ruby") or TEST_PATH.search(path):
            continue
        data = project.read_bytes(path)
        if language == "go":
            if b"AutoMigrate" in data and not path.endswith("_test.go"):
                findings.extend(_gorm(path, parse(data, "go").root_node))
        elif b"synchronize" in data or b".sync(" in data:
            findings.extend(_javascript(path, parse(data, language).root_node))
    return findings


def _finding(path: str, node: Node, message: str, fix: str) -> Finding:
    line = int(node.start_point[0]) + 1
    return Finding("orm-auto-sync", RULES["orm-auto-sync"], message, path, line, fix)


def _gorm(path: str, root: Node) -> Iterator[Finding]:
    for node in walk(root):
        if node.type != "call_expression":
            continue
        function = node.child_by_field_name("function")
        if function is not None and function.type == "selector_expression":
            field = function.child_by_field_name("field")
            if field is not None and node_text(field) == "AutoMigrate":
                yield _finding(
                    path, node, "GORM AutoMigrate changes the schema at start-up", FIX_GORM
                )


def _javascript(path: str, root: Node) -> Iterator[Finding]:
    for node in walk(root):
        if node.type == "pair":
            key, value = node.child_by_field_name("key"), node.child_by_field_name("value")
            if (
                key is not None
                and value is not None
                and value.type == "true"
                and node_text(key).strip("'\"") == "synchronize"
            ):
                yield _finding(
                    path,
                    node,
                    "TypeORM synchronize: true alters tables at start-up",
                    FIX_TYPEORM,
                )
        elif node.type == "call_expression":
            function = node.child_by_field_name("function")
            prop = function.child_by_field_name("property") if function is not None else None
            if function is None or function.type != "member_expression" or prop is None:
                continue
            if node_text(prop) != "sync":
                continue
            arguments = node_text(node.child_by_field_name("arguments") or node)
            flags = [flag for flag in ("force", "alter") if f"{flag}: true" in arguments]
            if flags:
                yield _finding(
                    path,
                    node,
                    f"Sequelize sync({{ {flags[0]}: true }}) alters tables at start-up",
                    FIX_SEQUELIZE,
                )
