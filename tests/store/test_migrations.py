"""The Alembic migrations build exactly the schema that ``accord.store.schema`` declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from accord.hub import Hub
from accord.store.schema import metadata


def _schema_differences(hub: Hub) -> list[object]:
    with hub.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diffs = compare_metadata(ctx, metadata)
    # SQLite's FTS5 text index (object_text and its shadow tables) and PostgreSQL's trigram index are
    # made by migration 0001 on purpose and are not declared as SQLAlchemy tables.
    def declared(diff: object) -> bool:
        if isinstance(diff, tuple) and diff and diff[0] in ("remove_table", "remove_index"):
            name = getattr(diff[1], "name", "")
            return not (name.startswith("object_text") or "trgm" in name)
        return True

    return [d for d in diffs if declared(d)]


def test_migrations_match_declared_schema(hub: Hub) -> None:
    assert _schema_differences(hub) == []
