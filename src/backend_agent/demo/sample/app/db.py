"""The database: one engine, a session per request."""

import os
from collections.abc import Iterator

from sqlalchemy import String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

engine = create_engine(os.environ.get("DATABASE_URL", "postgresql+psycopg://localhost/users"))


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    legacy_name: Mapped[str | None] = mapped_column(String(80))


def get_db() -> Iterator[Session]:
    with Session(engine) as session:
        yield session
