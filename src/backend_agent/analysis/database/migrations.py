"""Find the migrations of a repository, parse each with its tool's reader, and apply the rules."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath

from backend_agent.analysis.database import alembic, django, js_migrations, rails, sqlfiles
from backend_agent.analysis.database.dialects import DialectFinder
from backend_agent.analysis.database.model import Dialect, Migration, Tool
from backend_agent.analysis.database.rules import check
from backend_agent.analysis.project import Project

JS_SUFFIXES = (".js", ".ts", ".mjs", ".cjs", ".mts", ".cts")
JS_MIGRATION_DIRS = re.compile(r"(^|/)(migrations?|db/migrate)/")
NOT_SQL_DATABASES = frozenset({"clickhouse", "cassandra", "scylla", "scylladb", "mongodb"})
TEST_PATH = re.compile(r"(^|/)(tests?|spec|__tests__|fixtures|testdata)/|\.(test|spec)\.\w+$")


def classify(project: Project, path: str) -> Tool | None:
    """The migration tool a file belongs to, or None when it is not a migration."""
    if TEST_PATH.search(path):
        return None
    suffix = PurePosixPath(path).suffix.lower()
    if suffix == ".sql":
        if sqlfiles.PRISMA_FILE.search(path):
            return "prisma"
        if sqlfiles.GOLANG_MIGRATE_UP.search(path):
            return "golang-migrate"
        if sqlfiles.GOLANG_MIGRATE_DOWN.search(path):
            return None
        if sqlfiles.is_goose(project.read_text(path)):
            return "goose"
        if NOT_SQL_DATABASES.intersection(p.lower() for p in PurePosixPath(path).parts):
            return None  # ClickHouse, Cassandra...: not the SQL the rules are about
        return "sql" if sqlfiles.is_plain_sql_migration(path) else None
    if suffix == ".py":
        if "migrations" not in path and "versions" not in path and "alembic" not in path:
            return None
        text = project.read_text(path)
        if django.is_django(path, text):
            return "django"
        return "alembic" if alembic.is_alembic(text) else None
    if suffix == ".rb":
        if "migrat" not in path:
            return None
        return "rails" if rails.is_rails(path, project.read_text(path)) else None
    if suffix in JS_SUFFIXES and JS_MIGRATION_DIRS.search(path):
        return js_migrations.tool_of(project.read_text(path))
    return None


def analyze_migrations(project: Project, paths: Iterable[str] | None = None) -> list[Migration]:
    """Every migration in the project (or among ``paths``), parsed, with its findings.

    ``paths`` limits the analysis to some files, e.g. those a diff changed; a changed
    ``.down.sql`` brings in its ``.up.sql``. Results are sorted by file.
    """
    files = project.files()
    known = set(files)
    wanted = known if paths is None else {_up_file(p) for p in paths} & known
    migrations = []
    finder = DialectFinder(project)
    dialects: dict[str, tuple[Dialect, str]] = {}  # per folder
    # With every file analysed in order, each app's field history builds up as we go;
    # with a subset, each Django migration replays the app's earlier migrations.
    django_history: dict[str, django.DjangoHistory] = {}
    for path in sorted(wanted):
        tool = classify(project, path)
        if tool is None or not project.is_text(path):
            continue  # binary or not UTF-8: listed once in the project's notes
        folder = PurePosixPath(path).parent.as_posix()
        if folder not in dialects:
            dialects[folder] = finder.find(path)
        dialect, evidence = dialects[folder]
        if tool == "django":
            history = django_history.get(folder) if paths is None else None
            if history is None:
                history = _django_history_before(project, folder, path, files)
                django_history[folder] = history
            migration = django.django(project, path, dialect, history)
        else:
            migration = _read_migration(project, path, tool, dialect, known)
        migration.dialect_evidence = evidence
        if migration.previous is None:
            migration.previous = _previous_version(migration, files)
        migration.findings = check(migration)
        migrations.append(migration)
    return migrations


def _previous_version(migration: Migration, files: list[str]) -> str | None:
    """The version to roll back to for tools that migrate *to* a version (Django, golang-migrate,
    goose): the one before ``migration`` among its folder's files, or the tool's "before the
    first"."""
    pattern = _SEQUENCE.get(migration.tool)
    if pattern is None:
        return None
    path = PurePosixPath(migration.file)
    folder = path.parent.as_posix()
    earlier = sorted(
        PurePosixPath(f).name
        for f in files
        if PurePosixPath(f).parent.as_posix() == folder
        and pattern.match(PurePosixPath(f).name)
        and PurePosixPath(f).name < path.name
    )
    if not earlier:
        return _BEFORE_FIRST[migration.tool]
    match = pattern.match(earlier[-1])
    return match.group(1) if match else None


# How each tool names the migrations of one folder; group 1 is the version it rolls back to.
_SEQUENCE: dict[str, re.Pattern[str]] = {
    "django": re.compile(r"^(\d{4}_\w+)\.py$"),
    "golang-migrate": re.compile(r"^(\d+)_[^/]+\.up\.sql$"),
    "goose": re.compile(r"^(\d+)_[^/]+\.(?:sql|go)$"),
}
_BEFORE_FIRST = {"django": "zero", "golang-migrate": "0", "goose": "0"}


def _read_migration(
    project: Project, path: str, tool: Tool, dialect: Dialect, known: set[str]
) -> Migration:
    """One migration file read by its tool's reader (Django, which needs history, aside)."""
    if tool == "alembic":
        return alembic.alembic(project, path, dialect)
    if tool == "rails":
        return rails.rails(project, path, dialect)
    if tool in ("knex", "typeorm", "sequelize"):
        return js_migrations.js_migration(project, path, tool, dialect)
    if tool == "prisma":
        return sqlfiles.prisma(project, path, dialect)
    if tool == "golang-migrate":
        return sqlfiles.golang_migrate(project, path, dialect, known)
    if tool == "goose":
        return sqlfiles.goose(project, path, dialect)
    return sqlfiles.plain_sql(project, path, dialect)


def _up_file(path: str) -> str:
    return path[: -len(".down.sql")] + ".up.sql" if path.endswith(".down.sql") else path


def _django_history_before(
    project: Project, app_dir: str, path: str, files: list[str]
) -> django.DjangoHistory:
    """Field definitions from the app's earlier migrations, so AlterField can be compared."""
    history: django.DjangoHistory = {}
    earlier = sorted(
        f
        for f in files
        if PurePosixPath(f).parent.as_posix() == app_dir and f.endswith(".py") and f < path
    )
    for previous in earlier:
        if django.is_django(previous, project.read_text(previous)):
            django.django(project, previous, "postgres", history)
    return history
