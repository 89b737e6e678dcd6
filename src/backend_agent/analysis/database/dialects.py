"""Which SQL dialect a migration is written for, and why we think so.

In order: a folder named for the database (``migration/mysql/``, ``db/postgresql/``, as
projects supporting several keep them), the configuration closest to the migration (Prisma
datasource, migration_lock.toml, database.yml, Django settings, knexfile/ormconfig, compose
images, .env URLs), then the database drivers the enclosing component depends on (pg,
mysql2, psycopg, lib/pq, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from backend_agent.analysis.database.model import Dialect
from backend_agent.analysis.inputs import load_yaml
from backend_agent.analysis.project import Project

# Files that name the database: ORM and migration tool configuration, compose files, .env.
CONFIG_NAMES = re.compile(
    r"(^|/)(alembic\.ini|schema\.prisma|migration_lock\.toml|database\.ya?ml|knexfile\.\w+|"
    r"ormconfig\.\w+|data-?source\.\w+|config\.json|settings(/\w+)?\.py|settings\.py|"
    r"\.env(\.\w+)?|docker-compose[\w.-]*\.ya?ml|compose\.ya?ml|dbconfig\.yml|\.sequelizerc)$",
    re.IGNORECASE,
)
URL = re.compile(r"\b(postgres(?:ql)?|mysql|mariadb|sqlite3?)(?:\+\w+)?://", re.IGNORECASE)
# A setting naming the database; in database.yml the value may sit inside ERB
# (``adapter: <%= ENV.fetch("DB_ADAPTER", "postgresql") %>``).
SETTING = re.compile(
    r"\b(?:adapter|provider|type|client|dialect|driver|ENGINE)['\"]?\s*[:=]>?\s*"
    r"(?:<%=[^%\n]*?['\"])?['\"]?"
    r"(?:django\.db\.backends\.)?(postgresql|postgres|pg|mysql2?|mariadb|trilogy|sqlite3?|"
    r"better-sqlite3)\b",
    re.IGNORECASE,
)
FOLDER = re.compile(r"postgres(ql)?|pg|mysql|mariadb|sqlite3?", re.IGNORECASE)
IMAGE = re.compile(r"image:\s*['\"]?(postgres|postgis|mysql|mariadb)\b", re.IGNORECASE)
# The names detect_stack gives SQL databases, by dialect.
STACK_DATABASES: dict[str, Dialect] = {
    "PostgreSQL": "postgres",
    "MySQL": "mysql",
    "SQLite": "sqlite",
}
_YAML_CHECKED = frozenset({"database.yml", "database.yaml"})
_STRICTNESS: dict[Dialect, int] = {"postgres": 0, "mysql": 1, "sqlite": 2}


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


@dataclass
class DialectFinder:
    """Answers "which dialect?" for many migrations of one project, reading each input once."""

    project: Project
    configs: list[str] = field(default_factory=list)
    _drivers: dict[str, list[tuple[Dialect, str]]] | None = None
    _checked: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if not self.configs:
            self.configs = config_files(self.project)

    def find(self, migration: str) -> tuple[Dialect, str]:
        """The dialect of ``migration`` and the evidence for it; PostgreSQL when nothing says.

        PostgreSQL is the default because its rules (locks, CONCURRENTLY, NOT VALID) are the
        strictest: an unknown database is reviewed as if it were the most demanding one.
        """
        parts = PurePosixPath(migration).parts[:-1]
        for depth, folder in enumerate(parts):
            if FOLDER.fullmatch(folder):
                return dialect_of(folder), "/".join(parts[: depth + 1]) + "/: folder name"
        for path in _nearest_first(self.configs, migration):
            text = self._read(path)
            match = SETTING.search(text) or URL.search(text) or IMAGE.search(text)
            if match:
                line = text.count("\n", 0, match.start()) + 1
                return dialect_of(match.group(1)), f"{path}:{line}: {match.group(1)}"
        drivers = self._component_drivers(migration)
        if drivers:
            return drivers[0]
        return "postgres", "assumed: no database configuration or driver found"

    def _read(self, path: str) -> str:
        """A configuration's text; a database.yml that is not valid YAML gets a note."""
        if path not in self._checked and PurePosixPath(path).name in _YAML_CHECKED:
            load_yaml(self.project, path, erb=True)
        self._checked.add(path)
        return self.project.read_text(path)

    def _component_drivers(self, migration: str) -> list[tuple[Dialect, str]]:
        """The SQL database drivers of the deepest component containing the migration."""
        if self._drivers is None:
            from backend_agent.analysis.stack import detect_stack

            self._drivers = {}
            for component in detect_stack(self.project).components:
                found = component.facts.get("databases", {})
                sql = [(STACK_DATABASES[n], e) for n, e in found.items() if n in STACK_DATABASES]
                # Several (a test SQLite beside PostgreSQL, say): the strictest first.
                self._drivers[component.path] = sorted(sql, key=lambda d: _STRICTNESS[d[0]])
        for folder in PurePosixPath(migration).parents:
            drivers = self._drivers.get(folder.as_posix())
            if drivers:
                return drivers
        return []


def infer_dialect(project: Project, migration: str, configs: list[str] | None = None) -> Dialect:
    """The dialect of one migration (see DialectFinder.find)."""
    return DialectFinder(project, configs or []).find(migration)[0]


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
