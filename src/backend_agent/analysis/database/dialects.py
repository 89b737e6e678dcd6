"""Which SQL dialect a migration is written for, from the tool's configuration near it."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from backend_agent.analysis.database.model import Dialect
from backend_agent.analysis.project import Project

# Files that name the database: ORM and migration tool configuration, compose files, .env.
CONFIG_NAMES = re.compile(
    r"(^|/)(alembic\.ini|schema\.prisma|migration_lock\.toml|database\.ya?ml|knexfile\.\w+|"
    r"ormconfig\.\w+|data-?source\.\w+|config\.json|settings(/\w+)?\.py|settings\.py|"
    r"\.env(\.\w+)?|docker-compose[\w.-]*\.ya?ml|compose\.ya?ml|dbconfig\.yml|\.sequelizerc)$",
    re.IGNORECASE,
)
URL = re.compile(r"\b(postgres(?:ql)?|mysql|mariadb|sqlite3?)(?:\+\w+)?://", re.IGNORECASE)
SETTING = re.compile(
    r"\b(?:adapter|provider|type|client|dialect|driver|ENGINE)['\"]?\s*[:=]>?\s*['\"]?"
    r"(?:django\.db\.backends\.)?(postgresql|postgres|pg|mysql2?|mariadb|trilogy|sqlite3?|"
    r"better-sqlite3)\b",
    re.IGNORECASE,
)
IMAGE = re.compile(r"image:\s*['\"]?(postgres|postgis|mysql|mariadb)\b", re.IGNORECASE)


def dialect_of(word: str) -> Dialect:
    """The dialect a configuration word names (``pg``, ``mysql2``, ``sqlite3``, ...)."""
    word = word.lower()
    if word.startswith(("postgres", "pg", "postgis")):
        return "postgres"
    if word.startswith(("mysql", "mariadb", "trilogy")):
        return "mysql"
    return "sqlite"


def config_files(project: Project) -> list[str]:
    """The files that may name the database, to pass to ``infer_dialect`` for many calls."""
    return [f for f in project.files() if CONFIG_NAMES.search(f)]


def infer_dialect(project: Project, migration: str, configs: list[str] | None = None) -> Dialect:
    """The dialect named by the configuration closest to ``migration``; PostgreSQL if none.

    PostgreSQL is the default because its rules (locks, CONCURRENTLY, NOT VALID) are the
    strictest: an unknown database is reviewed as if it were the most demanding one.
    """
    candidates = config_files(project) if configs is None else configs
    for path in _nearest_first(candidates, migration):
        text = project.read_text(path)
        match = SETTING.search(text) or URL.search(text) or IMAGE.search(text)
        if match:
            return dialect_of(match.group(1))
    return "postgres"


def _nearest_first(configs: list[str], migration: str) -> list[str]:
    """Configs in the migration's folder or above it, the closest first."""
    folders = [p.as_posix() for p in PurePosixPath(migration).parents]

    def distance(path: str) -> tuple[int, str]:
        parent = PurePosixPath(path).parent.as_posix()
        shared = next((i for i, folder in enumerate(folders) if _inside(parent, folder)), 99)
        return (shared, path)

    return sorted((c for c in configs if distance(c)[0] < 99), key=distance)


def _inside(path: str, folder: str) -> bool:
    return folder == "." or path == folder or path.startswith(folder + "/")
