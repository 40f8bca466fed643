"""TAXII collections as rows: a collection is configuration (scope, readers, writers, write audience),
never a copy of objects. Who may read or write one is decided in ``accord.access.collections``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select

from accord.store.schema import organisation, sharing_group, taxii_collection, taxii_collection_org

READ, WRITE = "read", "write"


def insert(
    conn: Connection,
    *,
    collection_id: str,
    title: str,
    description: str | None,
    scope: str,
    group_pk: int | None,
    readers_all: bool,
    reader_org_pks: list[int],
    writers: str,
    writer_org_pks: list[int],
    write_audience: str | None,
    created_at: datetime,
    feed_name: str | None = None,
) -> int:
    """Insert one collection with its named readers and writers; returns its primary key."""
    pk = conn.execute(
        taxii_collection.insert().values(
            id=collection_id, title=title, description=description, scope=scope, group_pk=group_pk,
            readers_all=readers_all, writers=writers, write_audience=write_audience, created_at=created_at,
            feed_name=feed_name,
        )
    ).inserted_primary_key[0]  # fmt: skip
    rows = [{"collection_pk": pk, "org_pk": o, "access": READ} for o in sorted(set(reader_org_pks))]
    rows += [{"collection_pk": pk, "org_pk": o, "access": WRITE} for o in sorted(set(writer_org_pks))]
    if rows:
        conn.execute(taxii_collection_org.insert(), rows)
    return pk


def _load(conn: Connection, rows: list[Any]) -> list[dict[str, Any]]:
    if not rows:
        return []
    pks = [r.pk for r in rows]
    named: dict[int, dict[str, list[tuple[int, str]]]] = {pk: {READ: [], WRITE: []} for pk in pks}
    q = (
        select(taxii_collection_org.c.collection_pk, taxii_collection_org.c.access, organisation.c.pk,
               organisation.c.name)
        .join(organisation, organisation.c.pk == taxii_collection_org.c.org_pk)
        .where(taxii_collection_org.c.collection_pk.in_(pks))
        .order_by(organisation.c.name)
    )  # fmt: skip
    for r in conn.execute(q):
        named[r.collection_pk][r.access].append((r.pk, r.name))
    out = []
    for r in rows:
        d = dict(r._mapping)
        d["reader_orgs"] = {pk: name for pk, name in named[r.pk][READ]}
        d["writer_orgs"] = {pk: name for pk, name in named[r.pk][WRITE]}
        out.append(d)
    return out


def _select() -> Any:
    return select(taxii_collection, sharing_group.c.name.label("group_name")).outerjoin(
        sharing_group, sharing_group.c.pk == taxii_collection.c.group_pk
    )


def get(conn: Connection, collection_id: str) -> dict[str, Any] | None:
    """One collection with ``reader_orgs`` and ``writer_orgs`` (org pk → name), or None."""
    row = conn.execute(_select().where(taxii_collection.c.id == collection_id)).first()
    return _load(conn, [row])[0] if row is not None else None


def list_all(conn: Connection) -> list[dict[str, Any]]:
    """Every collection, oldest first."""
    return _load(conn, list(conn.execute(_select().order_by(taxii_collection.c.pk))))


def remove(conn: Connection, collection_id: str) -> bool:
    """Delete a collection's configuration (objects stay in the store). False if there was none."""
    row = conn.execute(select(taxii_collection.c.pk).where(taxii_collection.c.id == collection_id)).first()
    if row is None:
        return False
    conn.execute(delete(taxii_collection_org).where(taxii_collection_org.c.collection_pk == row.pk))
    conn.execute(delete(taxii_collection).where(taxii_collection.c.pk == row.pk))
    return True
