"""STIX object versions: writing new versions, and the reads every edge uses.

Every read takes a ``Visibility`` (from ``accord.access.visible``) and applies it; there is no read
here without one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Boolean, ColumnElement, Connection, Table, bindparam, func, select, update

from accord.store import textindex
from accord.store.schema import (
    UTCDateTime,
    hub_state,
    object_grant,
    object_label,
    object_ref,
    organisation,
    stix_object,
)

if TYPE_CHECKING:
    from accord.access.visibility import Visibility

CHUNK = 500
ONE_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class StoredVersion:
    pk: int
    stix_id: str
    version_key: str
    is_current: bool
    created_by_ref: str | None
    owner_org_pk: int | None
    revoked: bool


def chunks(seq: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


# --- writing ---------------------------------------------------------------------------------


def lock_clock(conn: Connection) -> datetime:
    """Take the hub's write lock (held to the end of the transaction); return the last date_added."""
    conn.execute(update(hub_state).where(hub_state.c.id == 1).values(clock=hub_state.c.clock))
    clock = conn.execute(select(hub_state.c.clock).where(hub_state.c.id == 1)).scalar_one_or_none()
    if clock is None:
        raise RuntimeError("the hub is not initialised: run 'accord init'")
    return clock


def save_clock(conn: Connection, clock: datetime) -> None:
    conn.execute(update(hub_state).where(hub_state.c.id == 1).values(clock=clock))


def existing_versions(conn: Connection, ids: Iterable[str]) -> dict[str, dict[str, StoredVersion]]:
    """stix_id → version_key → stored version, for every stored version of the given ids."""
    out: dict[str, dict[str, StoredVersion]] = {}
    id_list = sorted(set(ids))
    cols = (stix_object.c.pk, stix_object.c.stix_id, stix_object.c.version_key, stix_object.c.is_current,
            stix_object.c.created_by_ref, stix_object.c.owner_org_pk, stix_object.c.revoked)  # fmt: skip
    for part in chunks(id_list):
        for r in conn.execute(select(*cols).where(stix_object.c.stix_id.in_(part))):
            out.setdefault(r.stix_id, {})[r.version_key] = StoredVersion(*r)
    return out


def _sqlite_ts(value: datetime) -> str:
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


def _converter(table: Table, name: str, sqlite: bool) -> Any:
    """How one column's Python value becomes a driver value (None: passed as it is)."""
    t = table.c[name].type
    if name in ("data", "detail"):
        return lambda v: None if v is None else orjson.dumps(v).decode()
    if sqlite and isinstance(t, UTCDateTime):
        return lambda v: None if v is None else _sqlite_ts(v)
    if sqlite and isinstance(t, Boolean):
        return lambda v: None if v is None else (1 if v else 0)
    return None


def bulk_insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Bulk insert straight on the driver (SQLite executemany, PostgreSQL COPY), without per-row ORM work.

    Values are converted as the column types would: UTC datetimes, JSON as text, booleans.
    """
    if not rows:
        return
    cols = list(rows[0].keys())
    sqlite = conn.dialect.name == "sqlite"
    convert = [(i, f) for i, c in enumerate(cols) if (f := _converter(table, c, sqlite)) is not None]
    sql = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})"
    get = itemgetter(*cols)
    if len(cols) == 1:
        out: list[Any] = [(row[cols[0]],) for row in rows]
    else:
        out = list(map(get, rows))
    if convert:
        for n, values in enumerate(out):
            values = list(values)
            for i, f in convert:
                values[i] = f(values[i])
            out[n] = values
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if sqlite:
            cursor.executemany(sql, out)
        else:
            with cursor.copy(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as copy:
                for values in out:
                    copy.write_row(values)
    finally:
        cursor.close()


def _inserted_pks_sqlite(conn: Connection, n: int) -> list[int] | None:
    """The keys of the last ``n`` rows this connection inserted into stix_object, when they are consecutive.

    Under the hub's write lock SQLite gives each new row the largest rowid plus one, so a bulk insert
    takes a consecutive range ending at ``last_insert_rowid()``; the count over that range proves it.
    """
    last = conn.exec_driver_sql("SELECT last_insert_rowid()").scalar_one()
    first = last - n + 1
    count = conn.exec_driver_sql(
        "SELECT count(*) FROM stix_object WHERE pk BETWEEN ? AND ?", (first, last)
    ).scalar_one()
    return list(range(first, last + 1)) if count == n else None


def insert_versions(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert version rows; returns their primary keys in the same order.

    The SQLite text index is filled after commit (``accord.store.textindex``). On SQLite the keys are
    the consecutive range the insert took. Otherwise, and as a fallback, rows carry unique
    ``date_added`` values (handed out under the hub lock), so the keys are read back by ``date_added``
    — one plain executemany, which is far faster than RETURNING row by row.
    """
    if not rows:
        return []
    bulk_insert(conn, stix_object, rows)
    sqlite = conn.dialect.name == "sqlite"
    pks = _inserted_pks_sqlite(conn, len(rows)) if sqlite else None
    if pks is None:
        stamps = [r["date_added"] for r in rows]
        found = {
            r.date_added: r.pk
            for r in conn.execute(
                select(stix_object.c.pk, stix_object.c.date_added).where(
                    stix_object.c.date_added >= min(stamps), stix_object.c.date_added <= max(stamps)
                )
            )
        }
        pks = [found[t] for t in stamps]
    return pks


def clear_current(conn: Connection, pks: Iterable[int]) -> None:
    pk_list = sorted(set(pks))
    for part in chunks(pk_list):
        conn.execute(update(stix_object).where(stix_object.c.pk.in_(part)).values(is_current=False))


def insert_many(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    bulk_insert(conn, table, rows)


def grants_of(conn: Connection, pks: Iterable[int]) -> dict[int, set[tuple[int | None, str, int | None]]]:
    """object pk → {(org_pk, audience, group_pk)} already granted."""
    out: dict[int, set[tuple[int | None, str, int | None]]] = {}
    for part in chunks(sorted(set(pks))):
        q = select(object_grant.c.object_pk, object_grant.c.org_pk, object_grant.c.audience, object_grant.c.group_pk)
        for r in conn.execute(q.where(object_grant.c.object_pk.in_(part))):
            out.setdefault(r.object_pk, set()).add((r.org_pk, r.audience, r.group_pk))
    return out


# --- reading ---------------------------------------------------------------------------------

_META = (
    stix_object.c.pk,
    stix_object.c.stix_id,
    stix_object.c.type,
    stix_object.c.version_key,
    stix_object.c.is_current,
    stix_object.c.revoked,
    stix_object.c.tlp,
    stix_object.c.date_added,
    stix_object.c.name,
    stix_object.c.owner_org_pk,
    stix_object.c.data,
)


@dataclass(frozen=True)
class Filters:
    types: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    text: str | None = None
    label: str | None = None
    tlp: str | None = None
    owner_org_pk: int | None = None
    added_after: datetime | None = None
    added_before: datetime | None = None
    include_revoked: bool = True
    #: Only objects held for this audience: (kind, org_pk for "org", group_pk for "group"). The caller
    #: names only grants the viewer is party to (its own org, its groups), so the filter reveals nothing.
    audience: tuple[str, int | None] | None = None


def _text_clause(needle: str, dialect: str) -> ColumnElement[bool]:
    """Substring match on search_text; on SQLite through the FTS5 trigram index where it can."""
    plain = not any(c in needle for c in "%_\\")
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if dialect == "sqlite" and plain and len(needle) >= 3:
        return textindex.text_clause(needle, escaped)
    return stix_object.c.search_text.like(f"%{escaped}%", escape="\\")


def _apply(q: Any, f: Filters, dialect: str = "") -> Any:
    if f.types:
        q = q.where(stix_object.c.type.in_(f.types))
    if f.ids:
        q = q.where(stix_object.c.stix_id.in_(f.ids))
    if f.text:
        q = q.where(_text_clause(f.text.lower(), dialect))
    if f.label:
        q = q.where(
            stix_object.c.pk.in_(select(object_label.c.object_pk).where(object_label.c.label == f.label))
        )
    if f.tlp:
        q = q.where(stix_object.c.tlp == f.tlp)
    if f.audience is not None:
        kind, party = f.audience
        held = select(object_grant.c.object_pk).where(object_grant.c.audience == kind)
        if kind == "org":
            held = held.where(object_grant.c.org_pk == party)
        elif kind == "group":
            held = held.where(object_grant.c.group_pk == party)
        q = q.where(stix_object.c.pk.in_(held))
    if f.owner_org_pk is not None:
        q = q.where(stix_object.c.owner_org_pk == f.owner_org_pk)
    if f.added_after is not None:
        q = q.where(stix_object.c.date_added > f.added_after)
    if f.added_before is not None:
        q = q.where(stix_object.c.date_added <= f.added_before)
    if not f.include_revoked:
        q = q.where(stix_object.c.revoked.is_(False))
    return q


def search(
    conn: Connection,
    vis: Visibility,
    filters: Filters = Filters(),
    *,
    limit: int = 50,
    newest_first: bool = True,
) -> list[dict[str, Any]]:
    """Current versions visible to the viewer, matching the filters."""
    q = select(*_META).where(stix_object.c.is_current, vis.clause())
    q = _apply(q, filters, conn.dialect.name)
    order = stix_object.c.date_added.desc() if newest_first else stix_object.c.date_added.asc()
    q = q.order_by(order).limit(limit)
    return [dict(r._mapping) for r in conn.execute(q)]


def count(conn: Connection, vis: Visibility, filters: Filters = Filters()) -> int:
    q = select(func.count()).select_from(stix_object).where(stix_object.c.is_current, vis.clause())
    return conn.execute(_apply(q, filters, conn.dialect.name)).scalar_one()


def write_mark(conn: Connection) -> tuple[Any, ...]:
    """Changes whenever what anyone may see could have changed: the hub clock (every new version, and
    every version re-dated for new readers) and the newest grant (every audience added)."""
    clock = conn.execute(select(hub_state.c.clock).where(hub_state.c.id == 1)).scalar_one_or_none()
    grant = conn.execute(select(func.max(object_grant.c.pk))).scalar_one_or_none()
    return (clock, grant)


def stats(conn: Connection, vis: Visibility) -> dict[str, Any]:
    """Counts of current visible objects by type and by TLP."""
    base = select(stix_object.c.type, stix_object.c.tlp, func.count().label("n")).where(
        stix_object.c.is_current, vis.clause()
    )
    by_type: dict[str, int] = {}
    by_tlp: dict[str, int] = {}
    for r in conn.execute(base.group_by(stix_object.c.type, stix_object.c.tlp)):
        by_type[r.type] = by_type.get(r.type, 0) + r.n
        by_tlp[r.tlp] = by_tlp.get(r.tlp, 0) + r.n
    return {"total": sum(by_type.values()), "by_type": dict(sorted(by_type.items())), "by_tlp": by_tlp}


def versions(conn: Connection, vis: Visibility, stix_id: str) -> list[dict[str, Any]]:
    """Every visible version of one object, oldest first."""
    q = (
        select(*_META)
        .where(stix_object.c.stix_id == stix_id, vis.clause())
        .order_by(stix_object.c.version_key.asc())
    )
    return [dict(r._mapping) for r in conn.execute(q)]


def visible_tlps(conn: Connection, vis: Visibility, pks: Iterable[int]) -> dict[int, str]:
    """pk → TLP of those stored versions (of any object) the viewer may see."""
    out: dict[int, str] = {}
    for part in chunks(sorted(set(pks))):
        q = select(stix_object.c.pk, stix_object.c.tlp).where(stix_object.c.pk.in_(part), vis.clause())
        out.update((r.pk, r.tlp) for r in conn.execute(q))
    return out


def referrers(conn: Connection, pks: Iterable[int]) -> set[int]:
    """Current relationships and sightings that point at the objects of these version rows."""
    out: set[int] = set()
    for part in chunks(sorted(set(pks))):
        ids = select(stix_object.c.stix_id).where(stix_object.c.pk.in_(part)).scalar_subquery()
        q = (
            select(object_ref.c.object_pk)
            .join(stix_object, stix_object.c.pk == object_ref.c.object_pk)
            .where(object_ref.c.ref_id.in_(ids), stix_object.c.is_current)
        )
        out.update(conn.execute(q).scalars())
    return out


def redate(conn: Connection, stamps: dict[int, datetime]) -> None:
    """Give version rows new ``date_added`` values (handed out under the hub lock, so unique)."""
    if stamps:
        q = update(stix_object).where(stix_object.c.pk == bindparam("row")).values(date_added=bindparam("at"))
        conn.execute(q, [{"row": pk, "at": at} for pk, at in stamps.items()])


def tlps_and_data(conn: Connection, pks: Iterable[int]) -> dict[int, tuple[str, Any]]:
    """pk → (TLP, data) of stored versions, for the ingest path's own comparisons (never shown to anyone)."""
    out: dict[int, tuple[str, Any]] = {}
    for part in chunks(sorted(set(pks))):
        q = select(stix_object.c.pk, stix_object.c.tlp, stix_object.c.data).where(stix_object.c.pk.in_(part))
        out.update((r.pk, (r.tlp, r.data)) for r in conn.execute(q))
    return out


def current(conn: Connection, vis: Visibility, stix_id: str) -> dict[str, Any] | None:
    q = select(*_META).where(stix_object.c.stix_id == stix_id, stix_object.c.is_current, vis.clause())
    row = conn.execute(q).first()
    return dict(row._mapping) if row else None


def iter_current(
    conn: Connection, vis: Visibility, filters: Filters = Filters(), *, batch: int = 1000
) -> Iterator[dict[str, Any]]:
    """Stream every current visible object (oldest first), in keyset-paged batches."""
    last: datetime | None = filters.added_after
    while True:
        f = Filters(**{**filters.__dict__, "added_after": last})
        rows = search(conn, vis, f, limit=batch, newest_first=False)
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1]["date_added"]


def audiences(conn: Connection, vis: Visibility, pk: int) -> list[dict[str, Any]]:
    """The grants on one version that the viewer may know about (their own org's, or wide ones)."""
    from accord.store.schema import sharing_group

    q = (
        select(object_grant.c.audience, object_grant.c.via, object_grant.c.source, object_grant.c.granted_at,
               organisation.c.name.label("org"), sharing_group.c.name.label("group"))
        .outerjoin(organisation, organisation.c.pk == object_grant.c.org_pk)
        .outerjoin(sharing_group, sharing_group.c.pk == object_grant.c.group_pk)
        .where(object_grant.c.object_pk == pk, vis.grant_reaches(object_grant))
        .order_by(object_grant.c.pk)
    )  # fmt: skip
    return [dict(r._mapping) for r in conn.execute(q)]


def relationships_of(conn: Connection, vis: Visibility, stix_id: str, limit: int = 200) -> list[dict[str, Any]]:
    """Current visible relationships and sightings pointing at or from an object."""
    pks = [r[0] for r in conn.execute(select(object_ref.c.object_pk).where(object_ref.c.ref_id == stix_id))]
    out: list[dict[str, Any]] = []
    for part in chunks(pks):
        q = select(*_META).where(stix_object.c.pk.in_(part), stix_object.c.is_current, vis.clause())
        out.extend(dict(r._mapping) for r in conn.execute(q))
    out.sort(key=lambda r: r["date_added"], reverse=True)
    return out[:limit]
