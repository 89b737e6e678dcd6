"""Read-only look at a live database: SQL schema through SQLAlchemy's inspector, or a Redis
keyspace summary through SCAN. Nothing here writes, and passwords never reach the output.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from backend_agent.errors import UserError

CONNECT_TIMEOUT = 5  # seconds
DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool
    default: str | None
    primary_key: bool


@dataclass(frozen=True)
class Index:
    name: str | None
    columns: list[str]
    unique: bool


@dataclass(frozen=True)
class ForeignKey:
    name: str | None
    columns: list[str]
    referred_table: str
    referred_columns: list[str]


@dataclass
class Table:
    name: str
    columns: list[Column] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)


@dataclass
class SqlSchema:
    """Tables of one schema (PostgreSQL ``public`` or the MySQL database by default)."""

    url: str  # password masked
    dialect: str
    schema: str | None
    tables: list[Table]

    def as_dict(self) -> dict[str, Any]:
        return {"kind": "sql", **asdict(self)}


@dataclass
class PrefixStats:
    """Keys sharing a prefix (the part before the first ``:``)."""

    prefix: str
    keys: int = 0
    types: Counter[str] = field(default_factory=Counter)
    with_ttl: int = 0
    ttl_seconds: list[float] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        ttls = self.ttl_seconds
        return {
            "prefix": self.prefix,
            "keys": self.keys,
            "types": dict(sorted(self.types.items())),
            "with_ttl": self.with_ttl,
            "without_ttl": self.keys - self.with_ttl,
            "ttl_min": min(ttls) if ttls else None,
            "ttl_max": max(ttls) if ttls else None,
            "ttl_median": statistics.median(ttls) if ttls else None,
        }


@dataclass
class RedisSummary:
    """A Redis keyspace by key prefix: counts, types and TTLs of the keys scanned."""

    url: str  # password masked
    db: int
    total_keys: int  # DBSIZE
    scanned: int  # keys looked at (capped by the limit)
    prefixes: list[PrefixStats]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": "redis",
            "url": self.url,
            "db": self.db,
            "total_keys": self.total_keys,
            "scanned": self.scanned,
            "complete": self.scanned >= self.total_keys,
            "prefixes": [p.as_dict() for p in self.prefixes],
        }


def mask_password(url: str) -> str:
    """The URL with its password replaced by ``***`` (user, host and path kept)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def _scrub(message: str, url: str) -> str:
    password = urlsplit(url).password
    first = message.strip().splitlines()[0] if message.strip() else "no detail"
    return first.replace(password, "***") if password else first


def inspect_url(
    url: str,
    schema: str | None = None,
    limit: int = 10_000,
    progress: Callable[[int], None] | None = None,
) -> SqlSchema | RedisSummary:
    """Describe the database at ``url``; a Redis URL gives a keyspace summary."""
    scheme = urlsplit(url).scheme.split("+")[0].lower()
    if scheme in ("redis", "rediss"):
        return inspect_redis(url, limit, progress)
    if scheme in ("postgresql", "postgres", "mysql", "mariadb", "sqlite"):
        return inspect_sql(url, schema)
    raise UserError(
        f"unsupported database URL scheme {scheme!r}: use postgresql://, mysql://, "
        "sqlite:///path or redis://"
    )


def _engine_url(url: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in DRIVERS:
        return urlunsplit(parts._replace(scheme=DRIVERS[scheme]))
    if scheme.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if not path or path == ":memory:":
            raise UserError("sqlite URL needs a file: sqlite:///path/to/file.db")
        return f"sqlite:///file:{path}?mode=ro&uri=true"
    return url


def inspect_sql(url: str, schema: str | None = None) -> SqlSchema:
    """Tables, columns, indexes and foreign keys, over a read-only session."""
    import sqlalchemy
    from sqlalchemy.exc import SQLAlchemyError

    engine = _read_only_engine(_engine_url(url))
    try:
        with engine.connect() as connection:
            inspector = sqlalchemy.inspect(connection)
            tables = [
                _table(inspector, name, schema)
                for name in sorted(inspector.get_table_names(schema=schema))
            ]
            dialect = engine.dialect.name
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        raise UserError(f"cannot read {mask_password(url)}: {_scrub(str(cause), url)}") from exc
    finally:
        engine.dispose()
    return SqlSchema(mask_password(url), dialect, schema, tables)


def _read_only_engine(engine_url: str) -> Any:
    import sqlalchemy

    backend = engine_url.split(":", 1)[0].split("+")[0]
    if backend == "postgresql":
        return sqlalchemy.create_engine(
            engine_url,
            connect_args={
                "connect_timeout": CONNECT_TIMEOUT,
                "options": "-c default_transaction_read_only=on -c statement_timeout=30000",
            },
        )
    if backend == "mysql":
        engine = sqlalchemy.create_engine(
            engine_url, connect_args={"connect_timeout": CONNECT_TIMEOUT}
        )

        @sqlalchemy.event.listens_for(engine, "connect")
        def _read_only(dbapi_connection: Any, _record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET SESSION TRANSACTION READ ONLY")

        return engine
    return sqlalchemy.create_engine(engine_url)


def _table(inspector: Any, name: str, schema: str | None) -> Table:
    primary = set(inspector.get_pk_constraint(name, schema=schema).get("constrained_columns") or [])
    columns = [
        Column(
            name=c["name"],
            type=str(c["type"]),
            nullable=bool(c.get("nullable", True)),
            default=None if c.get("default") is None else str(c["default"]),
            primary_key=c["name"] in primary,
        )
        for c in inspector.get_columns(name, schema=schema)
    ]
    indexes = [
        Index(
            i.get("name"), [str(c) for c in i.get("column_names") or [] if c], bool(i.get("unique"))
        )
        for i in inspector.get_indexes(name, schema=schema)
    ]
    known = {(i.name, tuple(i.columns)) for i in indexes}
    for unique in inspector.get_unique_constraints(name, schema=schema):
        key = (unique.get("name"), tuple(unique.get("column_names") or []))
        if key not in known and key[1]:
            indexes.append(Index(key[0], list(key[1]), True))
    foreign_keys = [
        ForeignKey(
            fk.get("name"),
            list(fk.get("constrained_columns") or []),
            fk.get("referred_table") or "",
            list(fk.get("referred_columns") or []),
        )
        for fk in inspector.get_foreign_keys(name, schema=schema)
    ]
    return Table(name, columns, sorted(indexes, key=lambda i: i.name or ""), foreign_keys)


def inspect_redis(
    url: str, limit: int = 10_000, progress: Callable[[int], None] | None = None
) -> RedisSummary:
    """Key counts, types and TTLs per prefix from SCAN (never KEYS), up to ``limit`` keys."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=30)
    db = int(client.connection_pool.connection_kwargs.get("db", 0))
    stats: dict[str, PrefixStats] = defaultdict(lambda: PrefixStats(""))
    scanned = 0
    try:
        total = int(client.dbsize())
        batch: list[bytes] = []
        for key in client.scan_iter(count=500):
            batch.append(key)
            if len(batch) >= 500 or scanned + len(batch) >= limit:
                scanned += _summarise(client, batch, stats)
                batch = []
                if progress is not None:
                    progress(scanned)
                if scanned >= limit:
                    break
        if batch:
            scanned += _summarise(client, batch, stats)
    except redis.RedisError as exc:
        raise UserError(f"cannot read {mask_password(url)}: {_scrub(str(exc), url)}") from exc
    finally:
        client.close()
    prefixes = sorted(stats.values(), key=lambda s: (-s.keys, s.prefix))
    return RedisSummary(mask_password(url), db, total, scanned, prefixes)


def _summarise(client: Any, keys: list[bytes], stats: dict[str, PrefixStats]) -> int:
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.type(key)
        pipe.pttl(key)
    replies = pipe.execute()
    for index, key in enumerate(keys):
        kind, pttl = replies[2 * index], replies[2 * index + 1]
        if kind in (b"none", "none"):
            continue  # expired between SCAN and TYPE
        prefix = _prefix(key.decode("utf-8", "replace"))
        entry = stats[prefix]
        entry.prefix = prefix
        entry.keys += 1
        entry.types[kind.decode() if isinstance(kind, bytes) else str(kind)] += 1
        if pttl is not None and pttl >= 0:
            entry.with_ttl += 1
            entry.ttl_seconds.append(pttl / 1000)
    return len(keys)


def _prefix(key: str) -> str:
    head, sep, _ = key.partition(":")
    return f"{head}:*" if sep else "(no prefix)"
