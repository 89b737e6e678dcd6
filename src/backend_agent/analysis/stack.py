"""What a repository is built with, read from its manifests, lockfiles and layout.

Every directory holding a manifest (package.json, pyproject.toml, requirements*.txt, Pipfile,
setup.cfg/setup.py, go.mod, Gemfile) is a *component*; a monorepo has several. Each fact
carries its evidence (``"package.json: express"``) so that a reader can check it.
"""

from __future__ import annotations

import configparser
import json
import re
import shlex
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from backend_agent.analysis.project import Project
from backend_agent.analysis.queues.catalog import job_framework

MANIFESTS = frozenset(
    {"package.json", "pyproject.toml", "Pipfile", "setup.cfg", "setup.py", "go.mod", "Gemfile"}
)
NODE_LOCKFILES = {
    "package-lock.json": "npm",
    "npm-shrinkwrap.json": "npm",
    "yarn.lock": "yarn",
    "pnpm-lock.yaml": "pnpm",
    "bun.lockb": "bun",
    "bun.lock": "bun",
}
NODE_MANAGERS = ("npm", "yarn", "pnpm", "bun")
PYTHON_LOCKFILES = {
    "poetry.lock": "poetry",
    "uv.lock": "uv",
    "Pipfile.lock": "pipenv",
    "pdm.lock": "pdm",
}

# What a dependency tells us, per ecosystem: package name -> (category, name shown).
Catalog = dict[str, tuple[str, str]]

NODE: Catalog = {
    "express": ("frameworks", "Express"),
    "@nestjs/core": ("frameworks", "NestJS"),
    "koa": ("frameworks", "Koa"),
    "fastify": ("frameworks", "Fastify"),
    "@hapi/hapi": ("frameworks", "hapi"),
    "next": ("frameworks", "Next.js"),
    "nuxt": ("frameworks", "Nuxt"),
    "nitropack": ("frameworks", "Nitro"),
    "h3": ("frameworks", "h3"),
    "@apollo/server": ("frameworks", "Apollo Server"),
    "apollo-server": ("frameworks", "Apollo Server"),
    "graphql-yoga": ("frameworks", "GraphQL Yoga"),
    "socket.io": ("frameworks", "Socket.IO"),
    "ws": ("frameworks", "ws"),
    "@grpc/grpc-js": ("frameworks", "gRPC"),
    "pg": ("databases", "PostgreSQL"),
    "postgres": ("databases", "PostgreSQL"),
    "mysql": ("databases", "MySQL"),
    "mysql2": ("databases", "MySQL"),
    "sqlite3": ("databases", "SQLite"),
    "better-sqlite3": ("databases", "SQLite"),
    "mongodb": ("databases", "MongoDB"),
    "mongoose": ("orms", "Mongoose"),
    "typeorm": ("orms", "TypeORM"),
    "sequelize": ("orms", "Sequelize"),
    "@prisma/client": ("orms", "Prisma"),
    "drizzle-orm": ("orms", "Drizzle"),
    "@mikro-orm/core": ("orms", "MikroORM"),
    "objection": ("orms", "Objection.js"),
    "knex": ("migration_tools", "Knex"),
    "prisma": ("migration_tools", "Prisma Migrate"),
    "sequelize-cli": ("migration_tools", "Sequelize"),
    "drizzle-kit": ("migration_tools", "Drizzle Kit"),
    "db-migrate": ("migration_tools", "db-migrate"),
    "node-pg-migrate": ("migration_tools", "node-pg-migrate"),
    "umzug": ("migration_tools", "Umzug"),
    "amqplib": ("queues", "RabbitMQ"),
    "amqp-connection-manager": ("queues", "RabbitMQ"),
    "@golevelup/nestjs-rabbitmq": ("queues", "RabbitMQ"),
    "redis": ("queues", "Redis"),
    "ioredis": ("queues", "Redis"),
    "bull": ("queues", "Redis"),
    "bullmq": ("queues", "Redis"),
    "bee-queue": ("queues", "Redis"),
    "@aws-sdk/client-sqs": ("queues", "SQS"),
    "aws-sdk": ("queues", "SQS"),
    "sqs-consumer": ("queues", "SQS"),
    "kafkajs": ("queues", "Kafka"),
    "node-rdkafka": ("queues", "Kafka"),
    "@confluentinc/kafka-javascript": ("queues", "Kafka"),
    "jest": ("test_runners", "jest"),
    "vitest": ("test_runners", "vitest"),
    "mocha": ("test_runners", "mocha"),
    "tap": ("test_runners", "tap"),
    "ava": ("test_runners", "ava"),
}

PYTHON: Catalog = {
    "fastapi": ("frameworks", "FastAPI"),
    "flask": ("frameworks", "Flask"),
    "django": ("frameworks", "Django"),
    "djangorestframework": ("frameworks", "Django REST framework"),
    "aiohttp": ("frameworks", "aiohttp"),
    "starlette": ("frameworks", "Starlette"),
    "tornado": ("frameworks", "Tornado"),
    "sanic": ("frameworks", "Sanic"),
    "litestar": ("frameworks", "Litestar"),
    "graphene": ("frameworks", "Graphene"),
    "strawberry-graphql": ("frameworks", "Strawberry"),
    "grpcio": ("frameworks", "gRPC"),
    "channels": ("frameworks", "Django Channels"),
    "psycopg": ("databases", "PostgreSQL"),
    "psycopg2": ("databases", "PostgreSQL"),
    "psycopg2-binary": ("databases", "PostgreSQL"),
    "asyncpg": ("databases", "PostgreSQL"),
    "pymysql": ("databases", "MySQL"),
    "mysqlclient": ("databases", "MySQL"),
    "aiomysql": ("databases", "MySQL"),
    "aiosqlite": ("databases", "SQLite"),
    "pymongo": ("databases", "MongoDB"),
    "motor": ("databases", "MongoDB"),
    "sqlalchemy": ("orms", "SQLAlchemy"),
    "sqlmodel": ("orms", "SQLModel"),
    "peewee": ("orms", "peewee"),
    "tortoise-orm": ("orms", "Tortoise ORM"),
    "alembic": ("migration_tools", "Alembic"),
    "yoyo-migrations": ("migration_tools", "yoyo"),
    "pika": ("queues", "RabbitMQ"),
    "aio-pika": ("queues", "RabbitMQ"),
    "kombu": ("queues", "RabbitMQ"),
    "redis": ("queues", "Redis"),
    "rq": ("queues", "Redis"),
    "celery": ("queues", "Celery"),
    "boto3": ("queues", "SQS"),
    "aiobotocore": ("queues", "SQS"),
    "confluent-kafka": ("queues", "Kafka"),
    "kafka-python": ("queues", "Kafka"),
    "aiokafka": ("queues", "Kafka"),
    "pytest": ("test_runners", "pytest"),
}

GO: Catalog = {
    "github.com/gin-gonic/gin": ("frameworks", "Gin"),
    "github.com/labstack/echo": ("frameworks", "Echo"),
    "github.com/go-chi/chi": ("frameworks", "Chi"),
    "github.com/gofiber/fiber": ("frameworks", "Fiber"),
    "github.com/gorilla/mux": ("frameworks", "gorilla/mux"),
    "github.com/gorilla/websocket": ("frameworks", "gorilla/websocket"),
    "github.com/99designs/gqlgen": ("frameworks", "gqlgen"),
    "google.golang.org/grpc": ("frameworks", "gRPC"),
    "github.com/lib/pq": ("databases", "PostgreSQL"),
    "github.com/jackc/pgx": ("databases", "PostgreSQL"),
    "gorm.io/driver/postgres": ("databases", "PostgreSQL"),
    "github.com/go-sql-driver/mysql": ("databases", "MySQL"),
    "gorm.io/driver/mysql": ("databases", "MySQL"),
    "github.com/mattn/go-sqlite3": ("databases", "SQLite"),
    "modernc.org/sqlite": ("databases", "SQLite"),
    "gorm.io/driver/sqlite": ("databases", "SQLite"),
    "go.mongodb.org/mongo-driver": ("databases", "MongoDB"),
    "gorm.io/gorm": ("orms", "GORM"),
    "github.com/jmoiron/sqlx": ("orms", "sqlx"),
    "entgo.io/ent": ("orms", "ent"),
    "github.com/golang-migrate/migrate": ("migration_tools", "golang-migrate"),
    "github.com/pressly/goose": ("migration_tools", "goose"),
    "ariga.io/atlas": ("migration_tools", "Atlas"),
    "github.com/rabbitmq/amqp091-go": ("queues", "RabbitMQ"),
    "github.com/streadway/amqp": ("queues", "RabbitMQ"),
    "github.com/redis/go-redis": ("queues", "Redis"),
    "github.com/go-redis/redis": ("queues", "Redis"),
    "github.com/hibiken/asynq": ("queues", "Redis"),
    "github.com/aws/aws-sdk-go-v2/service/sqs": ("queues", "SQS"),
    "github.com/aws/aws-sdk-go": ("queues", "SQS"),
    "github.com/IBM/sarama": ("queues", "Kafka"),
    "github.com/Shopify/sarama": ("queues", "Kafka"),
    "github.com/segmentio/kafka-go": ("queues", "Kafka"),
    "github.com/confluentinc/confluent-kafka-go": ("queues", "Kafka"),
}

RUBY: Catalog = {
    "rails": ("frameworks", "Rails"),
    "sinatra": ("frameworks", "Sinatra"),
    "grape": ("frameworks", "Grape"),
    "hanami": ("frameworks", "Hanami"),
    "roda": ("frameworks", "Roda"),
    "pg": ("databases", "PostgreSQL"),
    "mysql2": ("databases", "MySQL"),
    "sqlite3": ("databases", "SQLite"),
    "mongoid": ("databases", "MongoDB"),
    "activerecord": ("orms", "ActiveRecord"),
    "sequel": ("orms", "Sequel"),
    "bunny": ("queues", "RabbitMQ"),
    "sneakers": ("queues", "RabbitMQ"),
    "redis": ("queues", "Redis"),
    "sidekiq": ("queues", "Redis"),
    "resque": ("queues", "Redis"),
    "aws-sdk-sqs": ("queues", "SQS"),
    "shoryuken": ("queues", "SQS"),
    "ruby-kafka": ("queues", "Kafka"),
    "rdkafka": ("queues", "Kafka"),
    "karafka": ("queues", "Kafka"),
    "rspec": ("test_runners", "rspec"),
    "rspec-rails": ("test_runners", "rspec"),
    "rspec-core": ("test_runners", "rspec"),
    "minitest": ("test_runners", "minitest"),
}

# Container images in docker-compose files that name a database or broker.
IMAGES = {
    "postgres": ("databases", "PostgreSQL"),
    "postgis/postgis": ("databases", "PostgreSQL"),
    "mysql": ("databases", "MySQL"),
    "mariadb": ("databases", "MySQL"),
    "mongo": ("databases", "MongoDB"),
    "redis": ("databases", "Redis"),
    "rabbitmq": ("queues", "RabbitMQ"),
    "confluentinc/cp-kafka": ("queues", "Kafka"),
    "bitnami/kafka": ("queues", "Kafka"),
    "apache/kafka": ("queues", "Kafka"),
    "localstack/localstack": ("queues", "SQS"),
}

# Files and directories whose mere presence names a tool.
LAYOUT = [
    (re.compile(r"(^|/)alembic\.ini$"), "migration_tools", "Alembic"),
    (re.compile(r"(^|/)alembic/env\.py$"), "migration_tools", "Alembic"),
    (re.compile(r"(^|/)migrations/\d{4}_\w+\.py$"), "migration_tools", "Django migrations"),
    (re.compile(r"(^|/)prisma/schema\.prisma$"), "migration_tools", "Prisma Migrate"),
    (re.compile(r"(^|/)db/migrate/\d+_\w+\.rb$"), "migration_tools", "ActiveRecord migrations"),
    (re.compile(r"(^|/)\d+_[\w-]+\.(up|down)\.sql$"), "migration_tools", "golang-migrate"),
    (re.compile(r"(^|/)knexfile\.(js|ts|cjs|mjs)$"), "migration_tools", "Knex"),
    (re.compile(r"(^|/)\.sequelizerc$"), "migration_tools", "Sequelize"),
    (re.compile(r"(^|/)manage\.py$"), "frameworks", "Django"),
]
GOOSE_MARKER = re.compile(r"^--\s*\+goose\s+Up", re.MULTILINE | re.IGNORECASE)

LANGUAGE_SUFFIXES = {
    ".py": "Python",
    ".js": "JavaScript",
    ".mjs": "JavaScript",
    ".cjs": "JavaScript",
    ".jsx": "JavaScript",
    ".ts": "TypeScript",
    ".tsx": "TypeScript",
    ".mts": "TypeScript",
    ".cts": "TypeScript",
    ".go": "Go",
    ".rb": "Ruby",
}
CATEGORIES = (
    "languages",
    "frameworks",
    "package_managers",
    "databases",
    "orms",
    "migration_tools",
    "queues",
    "job_frameworks",
)
DEFAULT_NPM_TEST = "no test specified"
TEST_DATA_DIRS = frozenset({"fixtures", "testdata", "__fixtures__"})


@dataclass(frozen=True)
class TestRunner:
    """A test runner and the command that runs it, from the component's directory."""

    name: str  # pytest, jest, vitest, mocha, tap, ava, go test, rspec, minitest, unittest
    argv: tuple[str, ...]
    directory: str  # relative to the repository root, "." for the root
    evidence: str

    @property
    def command(self) -> str:
        return shlex.join(self.argv)

    def as_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "command": self.command,
            "directory": self.directory,
            "evidence": self.evidence,
        }


@dataclass
class Component:
    """One service or package of the repository: a directory with at least one manifest."""

    path: str  # relative to the root, "." for the root
    manifests: list[str] = field(default_factory=list)
    facts: dict[str, dict[str, str]] = field(default_factory=dict)  # category: name: evidence
    source_files: Counter[str] = field(default_factory=Counter)  # language: files
    test_runners: list[TestRunner] = field(default_factory=list)
    workspaces: list[str] = field(default_factory=list)
    scripts: dict[str, str] = field(default_factory=dict)  # package.json scripts

    def add(self, category: str, name: str, evidence: str) -> None:
        """Record a fact; the first evidence found for it is kept."""
        self.facts.setdefault(category, {}).setdefault(name, evidence)

    def names(self, category: str) -> list[str]:
        return sorted(self.facts.get(category, {}))

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": self.path, "manifests": self.manifests}
        for category in CATEGORIES:
            found = self.facts.get(category, {})
            data[category] = [{"name": k, "evidence": found[k]} for k in sorted(found)]
        data["test_runners"] = [runner.as_dict() for runner in self.test_runners]
        data["workspaces"] = self.workspaces
        return data


@dataclass
class Stack:
    """The whole repository: its components, and the union of what they use."""

    root: Path
    components: list[Component]

    def names(self, category: str) -> list[str]:
        return sorted({name for c in self.components for name in c.names(category)})

    @property
    def languages(self) -> list[str]:
        return self.names("languages")

    @property
    def frameworks(self) -> list[str]:
        return self.names("frameworks")

    @property
    def package_managers(self) -> list[str]:
        return self.names("package_managers")

    @property
    def databases(self) -> list[str]:
        return self.names("databases")

    @property
    def orms(self) -> list[str]:
        return self.names("orms")

    @property
    def migration_tools(self) -> list[str]:
        return self.names("migration_tools")

    @property
    def queues(self) -> list[str]:
        return self.names("queues")

    @property
    def job_frameworks(self) -> list[str]:
        return self.names("job_frameworks")

    @property
    def test_runners(self) -> list[TestRunner]:
        return [runner for c in self.components for runner in c.test_runners]

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"root": str(self.root)}
        for category in CATEGORIES:
            data[category] = self.names(category)
        data["test_runners"] = [runner.as_dict() for runner in self.test_runners]
        data["components"] = [c.as_dict() for c in self.components]
        return data


def detect_stack(root: Path | Project) -> Stack:
    """Read the manifests, lockfiles and layout of a repository (working tree or revision)."""
    project = root if isinstance(root, Project) else Project(Path(root))
    files = [f for f in project.files() if not _is_test_data(f)]
    components = {d: Component(d) for d in _component_dirs(files)}
    for path in files:
        _read_file(project, path, components)
    for component in components.values():
        for language, count in component.source_files.items():
            component.add("languages", language, f"{count} source files")
        _inherit_package_manager(component, components)
        component.test_runners = _test_runners(component, files)
    return Stack(project.root, [components[d] for d in sorted(components, key=_depth_then_name)])


def _depth_then_name(directory: str) -> tuple[int, str]:
    return (0 if directory == "." else directory.count("/") + 1, directory)


def _is_test_data(path: str) -> bool:
    """Files under fixtures/ or testdata/ describe other projects, not this one."""
    return any(part in TEST_DATA_DIRS for part in path.split("/")[:-1])


def _component_dirs(files: Iterable[str]) -> set[str]:
    dirs = set()
    for path in files:
        name = PurePosixPath(path).name
        if name in MANIFESTS or _is_requirements(path):
            dirs.add(_manifest_dir(path))
    return dirs or {"."}


def _is_requirements(path: str) -> bool:
    pure = PurePosixPath(path)
    return pure.suffix in (".txt", ".in") and (
        pure.name.startswith("requirements") or pure.parent.name == "requirements"
    )


def _manifest_dir(path: str) -> str:
    parent = PurePosixPath(path).parent
    if parent.name == "requirements" and not PurePosixPath(path).name.startswith("requirements"):
        parent = parent.parent
    return parent.as_posix()


def _owner(path: str, components: dict[str, Component]) -> Component:
    """The deepest component containing ``path``."""
    parent = PurePosixPath(_manifest_dir(path))
    for candidate in [parent, *parent.parents]:
        key = candidate.as_posix()
        if key in components:
            return components[key]
    return components.setdefault(".", Component("."))


def _read_file(project: Project, path: str, components: dict[str, Component]) -> None:
    name = PurePosixPath(path).name
    owner = _owner(path, components)
    language = LANGUAGE_SUFFIXES.get(PurePosixPath(path).suffix)
    if language and not _is_generated(path):
        owner.source_files[language] += 1
    for pattern, category, tool in LAYOUT:
        if pattern.search(path):
            owner.add(category, tool, path)
    reader = MANIFEST_READERS.get(name)
    if name in MANIFESTS:
        owner.manifests.append(path)
    if reader is not None:
        reader(project, path, owner)
    elif _is_requirements(path):
        owner.manifests.append(path)
        owner.add("package_managers", "pip", path)
        _add_dependencies(owner, PYTHON, _requirement_names(project.read_text(path)), path)
    elif name in NODE_LOCKFILES:
        owner.add("package_managers", NODE_LOCKFILES[name], path)
    elif name in PYTHON_LOCKFILES:
        owner.add("package_managers", PYTHON_LOCKFILES[name], path)
    elif name.startswith(("docker-compose", "compose")) and name.endswith((".yml", ".yaml")):
        _read_compose(project, path, owner)
    elif path.endswith(".sql") and GOOSE_MARKER.search(project.read_text(path)):
        owner.add("migration_tools", "goose", path)
    elif name == "schema.prisma":
        _read_prisma_schema(project, path, owner)


def _is_generated(path: str) -> bool:
    return path.endswith((".min.js", ".d.ts"))


def _add_dependencies(
    component: Component, catalog: Catalog, names: Iterable[str], manifest: str
) -> None:
    for name in names:
        framework = job_framework(name)
        if framework is not None:
            component.add("job_frameworks", framework, f"{manifest}: {name}")
        hit = catalog.get(name) or _prefix_hit(catalog, name)
        if hit is not None:
            category, shown = hit
            if category == "test_runners":
                component.add("test_tools", shown, f"{manifest}: {name}")
            else:
                component.add(category, shown, f"{manifest}: {name}")


def _prefix_hit(catalog: Catalog, name: str) -> tuple[str, str] | None:
    """Go modules carry major versions and subpackages (``.../echo/v4``): match by prefix."""
    if "/" not in name:
        return None
    for key, hit in catalog.items():
        if "/" in key and name.startswith(key + "/"):
            return hit
    return None


# --- Node.js -------------------------------------------------------------------------------


def _read_package_json(project: Project, path: str, component: Component) -> None:
    try:
        data = json.loads(project.read_text(path))
    except json.JSONDecodeError:
        return
    if not isinstance(data, dict):
        return
    deps: set[str] = set()
    for key in ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies"):
        section = data.get(key)
        if isinstance(section, dict):
            deps.update(section)
    component.add("languages", "JavaScript", path)
    if "typescript" in deps:
        component.add("languages", "TypeScript", f"{path}: typescript")
    _add_dependencies(component, NODE, sorted(deps), path)
    manager = data.get("packageManager")
    if isinstance(manager, str) and manager:
        component.add("package_managers", manager.split("@")[0], f"{path}: packageManager")
    workspaces = data.get("workspaces")
    if isinstance(workspaces, dict):
        workspaces = workspaces.get("packages")
    if isinstance(workspaces, list):
        component.workspaces = [w for w in workspaces if isinstance(w, str)]
    scripts = data.get("scripts")
    if isinstance(scripts, dict):
        component.scripts = {k: v for k, v in scripts.items() if isinstance(v, str)}


def _node_manager(component: Component) -> str:
    managers = [m for m in component.names("package_managers") if m in NODE_MANAGERS]
    return managers[0] if managers else "npm"


def _inherit_package_manager(component: Component, components: dict[str, Component]) -> None:
    """Workspace packages use the lockfile (package manager) of an enclosing component."""
    has_node = any(m.endswith("package.json") for m in component.manifests)
    has_manager = any(m in NODE_MANAGERS for m in component.names("package_managers"))
    if not has_node or has_manager:
        return
    parent = PurePosixPath(component.path)
    for candidate in parent.parents if component.path != "." else []:
        outer = components.get(candidate.as_posix())
        if outer is None:
            continue
        for name, evidence in outer.facts.get("package_managers", {}).items():
            if name in NODE_MANAGERS:
                component.add("package_managers", name, evidence)
                return
    manifest = next(m for m in component.manifests if m.endswith("package.json"))
    component.add("package_managers", "npm", manifest)


# --- Python --------------------------------------------------------------------------------

_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_names(text: str) -> list[str]:
    names = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = _REQUIREMENT.match(line)
        if match:
            names.append(_normalise(match.group(1)))
    return names


def _load_toml(project: Project, path: str) -> dict[str, Any]:
    try:
        return tomllib.loads(project.read_text(path))
    except tomllib.TOMLDecodeError:
        return {}


def _read_pyproject(project: Project, path: str, component: Component) -> None:
    data = _load_toml(project, path)
    tool = data.get("tool", {})
    requirements: list[str] = list(data.get("project", {}).get("dependencies", []))
    for group in data.get("project", {}).get("optional-dependencies", {}).values():
        requirements.extend(group)
    for group in data.get("dependency-groups", {}).values():
        requirements.extend(r for r in group if isinstance(r, str))
    names = _requirement_names("\n".join(r for r in requirements if isinstance(r, str)))
    poetry = tool.get("poetry", {})
    if poetry:
        component.add("package_managers", "poetry", f"{path}: [tool.poetry]")
        names += [_normalise(n) for n in poetry.get("dependencies", {})]
        for group in poetry.get("group", {}).values():
            names += [_normalise(n) for n in group.get("dependencies", {})]
        names += [_normalise(n) for n in poetry.get("dev-dependencies", {})]
    if "uv" in tool:
        component.add("package_managers", "uv", f"{path}: [tool.uv]")
    if "pdm" in tool:
        component.add("package_managers", "pdm", f"{path}: [tool.pdm]")
    if "pytest" in tool:
        component.add("test_tools", "pytest", f"{path}: [tool.pytest]")
    component.add("languages", "Python", path)
    if not poetry and "uv" not in tool and "pdm" not in tool:
        component.add("package_managers", "pip", path)
    _add_dependencies(component, PYTHON, names, path)


def _read_pipfile(project: Project, path: str, component: Component) -> None:
    data = _load_toml(project, path)
    names = [_normalise(n) for key in ("packages", "dev-packages") for n in data.get(key, {})]
    component.add("languages", "Python", path)
    component.add("package_managers", "pipenv", path)
    _add_dependencies(component, PYTHON, names, path)


def _read_setup_cfg(project: Project, path: str, component: Component) -> None:
    parser = configparser.ConfigParser()
    try:
        parser.read_string(project.read_text(path))
    except configparser.Error:
        return
    text = parser.get("options", "install_requires", fallback="")
    for section in ("options.extras_require",):
        if parser.has_section(section):
            text += "\n" + "\n".join(v for _, v in parser.items(section))
    if parser.has_section("tool:pytest"):
        component.add("test_tools", "pytest", f"{path}: [tool:pytest]")
    if text.strip() or parser.has_section("metadata"):
        component.add("languages", "Python", path)
        component.add("package_managers", "pip", path)
    _add_dependencies(component, PYTHON, _requirement_names(text), path)


_SETUP_PY_REQUIRES = re.compile(r"(?:install_requires|tests_require)\s*=\s*\[([^\]]*)\]", re.S)


def _read_setup_py(project: Project, path: str, component: Component) -> None:
    quoted = re.compile(r"['\"]([^'\"]+)['\"]")
    lists = _SETUP_PY_REQUIRES.findall(project.read_text(path))
    names = _requirement_names("\n".join(m for block in lists for m in quoted.findall(block)))
    component.add("languages", "Python", path)
    component.add("package_managers", "pip", path)
    _add_dependencies(component, PYTHON, names, path)


# --- Go ------------------------------------------------------------------------------------

_GO_REQUIRE = re.compile(r"^\s*(?:require\s+)?([a-zA-Z0-9.\-_~]+\.[a-z]+/[^\s]+)\s+v", re.M)


def _read_go_mod(project: Project, path: str, component: Component) -> None:
    component.add("languages", "Go", path)
    component.add("package_managers", "go modules", path)
    _add_dependencies(component, GO, _GO_REQUIRE.findall(project.read_text(path)), path)


# --- Ruby ----------------------------------------------------------------------------------

_GEM = re.compile(r"""^\s*gem\s+['"]([\w.-]+)['"]""", re.M)
_LOCKED_GEM = re.compile(r"^    ([\w.-]+) \(", re.M)


def _read_gemfile(project: Project, path: str, component: Component) -> None:
    component.add("languages", "Ruby", path)
    component.add("package_managers", "bundler", path)
    _add_dependencies(component, RUBY, _GEM.findall(project.read_text(path)), path)


def _read_gemfile_lock(project: Project, path: str, component: Component) -> None:
    _add_dependencies(component, RUBY, _LOCKED_GEM.findall(project.read_text(path)), path)


# --- Layout --------------------------------------------------------------------------------

_IMAGE = re.compile(r"^\s*image:\s*['\"]?([\w./-]+)", re.M)
_PRISMA_PROVIDER = re.compile(r"provider\s*=\s*\"(postgresql|mysql|sqlite|sqlserver|mongodb)\"")
_PRISMA_DATABASES = {
    "postgresql": "PostgreSQL",
    "mysql": "MySQL",
    "sqlite": "SQLite",
    "mongodb": "MongoDB",
    "sqlserver": "SQL Server",
}


def _read_compose(project: Project, path: str, component: Component) -> None:
    for image in _IMAGE.findall(project.read_text(path)):
        repository = image.split(":")[0]
        hit = IMAGES.get(repository) or IMAGES.get(repository.removeprefix("library/"))
        if hit is not None:
            component.add(hit[0], hit[1], f"{path}: image {image}")


def _read_prisma_schema(project: Project, path: str, component: Component) -> None:
    for provider in _PRISMA_PROVIDER.findall(project.read_text(path)):
        component.add("databases", _PRISMA_DATABASES[provider], f"{path}: provider")


MANIFEST_READERS: dict[str, Callable[[Project, str, Component], None]] = {
    "package.json": _read_package_json,
    "pyproject.toml": _read_pyproject,
    "Pipfile": _read_pipfile,
    "setup.cfg": _read_setup_cfg,
    "setup.py": _read_setup_py,
    "go.mod": _read_go_mod,
    "Gemfile": _read_gemfile,
    "Gemfile.lock": _read_gemfile_lock,
}


# --- Test runners --------------------------------------------------------------------------


def _test_runners(component: Component, files: list[str]) -> list[TestRunner]:
    """The commands that run this component's tests, found from its manifests and layout."""
    inside = [f for f in files if _within(f, component.path)]
    runners: list[TestRunner] = []
    manifests = {PurePosixPath(m).name for m in component.manifests}
    if "package.json" in manifests:
        runners += _node_runners(component)
    python_manifests = manifests - {"package.json", "go.mod", "Gemfile"}
    if python_manifests or any(_is_requirements(m) for m in component.manifests):
        runners += _python_runners(component, inside)
    if "go.mod" in manifests and any(f.endswith("_test.go") for f in inside):
        runners.append(TestRunner("go test", ("go", "test", "./..."), component.path, "go.mod"))
    if "Ruby" in component.names("languages"):
        runners += _ruby_runners(component, inside)
    return runners


def _within(path: str, directory: str) -> bool:
    return directory == "." or path.startswith(directory + "/")


def _relative(path: str, directory: str) -> str:
    return path if directory == "." else path[len(directory) + 1 :]


_NODE_RUNNER_IN_SCRIPT = re.compile(r"\b(jest|vitest|mocha|tap|ava|node --test)\b")


def _node_runners(component: Component) -> list[TestRunner]:
    manifest = next(m for m in component.manifests if m.endswith("package.json"))
    manager = _node_manager(component)
    tools = component.names("test_tools")
    test_script = component.scripts.get("test", "")
    if test_script and DEFAULT_NPM_TEST not in test_script:
        found = _NODE_RUNNER_IN_SCRIPT.search(test_script)
        name = found.group(1) if found else (tools[0] if len(tools) == 1 else "script")
        name = "node:test" if name == "node --test" else name
        argv = ("bun", "run", "test") if manager == "bun" else (manager, "test")
        return [TestRunner(name, argv, component.path, f"{manifest}: scripts.test")]
    runners = []
    for tool in tools:
        if tool in ("jest", "vitest", "mocha", "tap", "ava"):
            argv = ("npx", "--no-install", tool, *(("run",) if tool == "vitest" else ()))
            runners.append(TestRunner(tool, argv, component.path, f"{manifest}: {tool}"))
    return runners


def _python_runners(component: Component, inside: list[str]) -> list[TestRunner]:
    managers = component.names("package_managers")
    prefix: tuple[str, ...] = ("python", "-m")
    for manager in ("poetry", "uv", "pipenv", "pdm"):
        if manager in managers:
            prefix = (manager, "run", "python", "-m")
            break
    rel = [_relative(f, component.path) for f in inside]
    has_pytest_layout = any(PurePosixPath(f).name in ("conftest.py", "pytest.ini") for f in rel)
    test_files = [f for f in rel if re.search(r"(^|/)(test_[^/]*|[^/]*_test)\.py$", f)]
    if "pytest" in component.names("test_tools") or has_pytest_layout:
        why = component.facts.get("test_tools", {}).get("pytest", "conftest.py/pytest.ini")
        return [TestRunner("pytest", (*prefix, "pytest"), component.path, why)]
    if "Django" in component.names("frameworks") and "manage.py" in rel:
        return [TestRunner("django", ("python", "manage.py", "test"), component.path, "manage.py")]
    if test_files:
        argv = (*prefix, "unittest", "discover", "-p", "test*.py")
        return [TestRunner("unittest", argv, component.path, test_files[0])]
    return []


def _ruby_runners(component: Component, inside: list[str]) -> list[TestRunner]:
    rel = [_relative(f, component.path) for f in inside]
    bundle: tuple[str, ...] = ("bundle", "exec") if "Gemfile" in rel else ()
    tools = component.names("test_tools")
    runners = []
    specs = [f for f in rel if f.endswith("_spec.rb")]
    if "rspec" in tools or ".rspec" in rel or specs:
        why = specs[0] if specs else ".rspec"
        runners.append(TestRunner("rspec", (*bundle, "rspec"), component.path, why))
    minitests = [f for f in rel if re.search(r"(^|/)test/.*_test\.rb$|(^|/)test_[^/]*\.rb$", f)]
    if minitests:
        if "Rails" in component.names("frameworks"):
            argv: tuple[str, ...] = ("bin/rails", "test")
        elif "Rakefile" in rel:
            argv = (*bundle, "rake", "test")
        else:
            loader = "ARGV.each { |f| require File.expand_path(f) }"
            argv = ("ruby", "-Itest", "-e", loader, *sorted(minitests))
        runners.append(TestRunner("minitest", argv, component.path, minitests[0]))
    return runners
