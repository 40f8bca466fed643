"""Engines and schema migration: SQLite (WAL) by default, PostgreSQL in production."""

from __future__ import annotations

from pathlib import Path

import orjson
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DataError, OperationalError

from accord.errors import DatabaseUnavailable

MIGRATIONS = Path(__file__).parent / "migrations"


def _dumps(value: object) -> str:
    return orjson.dumps(value).decode()


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the psycopg 3 driver for them."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_overflow_is_data_error(context: ExceptionContext) -> None:
    """sqlite3 raises a bare ``OverflowError`` for an integer beyond 64 bits (an id in a URL, a limit in a
    form); raise it as the ``DataError`` PostgreSQL gives, which every entry point answers as an input error."""
    overflow = context.original_exception
    if isinstance(overflow, OverflowError):
        raise DataError(context.statement, context.parameters, overflow) from overflow


def make_engine(url: str, **kwargs: object) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            json_serializer=_dumps,
            json_deserializer=orjson.loads,
            connect_args={"timeout": 30},
            **kwargs,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA cache_size=-65536")
            cur.execute("PRAGMA wal_autocheckpoint=20000")
            cur.close()

        event.listen(engine, "handle_error", _sqlite_overflow_is_data_error)
        return engine
    return create_engine(
        url,
        json_serializer=_dumps,
        json_deserializer=orjson.loads,
        pool_pre_ping=True,
        **kwargs,
    )


def _alembic_config(engine: Engine):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (creates it on an empty database)."""
    from alembic import command

    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        raise DatabaseUnavailable(f"cannot reach the database {engine.url!r}: {exc.orig}") from None
    command.upgrade(_alembic_config(engine), "head")


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except OperationalError as exc:
        raise DatabaseUnavailable(f"cannot reach the database {engine.url!r}: {exc.orig}") from None


#: Tables whose statistics steer the visibility queries' plans.
_STAT_TABLES = ("stix_object", "object_grant", "object_ref", "object_label")


def refresh_statistics(engine: Engine) -> None:
    """Update planner statistics after a large write, so reads keep their index plans."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA analysis_limit=1000")
            conn.exec_driver_sql("ANALYZE")
        elif engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE " + ", ".join(_STAT_TABLES))
