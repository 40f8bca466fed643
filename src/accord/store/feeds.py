"""Feeds as rows: configuration, checkpoints (TAXII ``added_after``, MISP event timestamps), health and
the lease that lets only one process pull a feed at a time.

A checkpoint is written only after the objects it covers are stored (ingest commits first), so a
crash between the two replays a page that is then recognised as already held: no gap, no duplicate.
Who may manage feeds is decided in ``accord.federation.feeds``; this module only stores.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Connection, delete, or_, select, update

from accord.store.schema import (
    federation_feed,
    federation_feed_event,
    organisation,
    stix_object,
    taxii_collection,
)
from accord.store.statuses import worker_gone


class HeldVersion(NamedTuple):
    """A version this hub stores: its row, TLP and creator."""

    pk: int
    tlp: str
    created_by_ref: str | None


def insert(conn: Connection, **values: Any) -> int:
    """Insert one feed (health counters start at zero); returns its primary key."""
    row = {"failures": 0, "objects_pulled": 0, "enabled": True, **values}
    return conn.execute(federation_feed.insert().values(**row)).inserted_primary_key[0]


def _select() -> Any:
    return select(federation_feed, organisation.c.name.label("org_name"), organisation.c.identity_id).outerjoin(
        organisation, organisation.c.pk == federation_feed.c.org_pk
    )


def get(conn: Connection, name: str) -> dict[str, Any] | None:
    """One feed (with ``org_name``), or None."""
    row = conn.execute(_select().where(federation_feed.c.name == name)).first()
    return dict(row._mapping) if row is not None else None


def list_all(conn: Connection) -> list[dict[str, Any]]:
    """Every feed, by name."""
    return [dict(r._mapping) for r in conn.execute(_select().order_by(federation_feed.c.name))]


def due(conn: Connection, at: datetime) -> list[str]:
    """Names of enabled feeds whose next attempt is due at ``at`` (never attempted ones too)."""
    q = select(federation_feed.c.name).where(
        federation_feed.c.enabled,
        or_(federation_feed.c.next_attempt_at.is_(None), federation_feed.c.next_attempt_at <= at),
    )
    return [r.name for r in conn.execute(q.order_by(federation_feed.c.next_attempt_at, federation_feed.c.name))]


def remove(conn: Connection, name: str) -> bool:
    """Delete a feed and its MISP checkpoints (objects it brought in stay). False if there was none."""
    row = conn.execute(select(federation_feed.c.pk).where(federation_feed.c.name == name)).first()
    if row is None:
        return False
    conn.execute(delete(federation_feed_event).where(federation_feed_event.c.feed_pk == row.pk))
    conn.execute(delete(federation_feed).where(federation_feed.c.pk == row.pk))
    return True


def set_secret(conn: Connection, pk: int, secret: str | None) -> None:
    """Replace the stored secret (already encrypted by ``accord.federation.secrets``)."""
    conn.execute(update(federation_feed).where(federation_feed.c.pk == pk).values(secret=secret))


def set_credentials(conn: Connection, pk: int, *, auth: str, username: str | None, secret: str | None) -> None:
    """New credentials for a feed (the secret already encrypted)."""
    conn.execute(
        update(federation_feed).where(federation_feed.c.pk == pk).values(auth=auth, username=username, secret=secret)
    )


def collections_showing(conn: Connection, name: str) -> list[str]:
    """Ids of the TAXII collections of scope ``feed:NAME``."""
    q = select(taxii_collection.c.id).where(taxii_collection.c.scope == "feed", taxii_collection.c.feed_name == name)
    return [r.id for r in conn.execute(q)]


# -- the lease: one puller per feed across processes ---------------------------------------------


def acquire(conn: Connection, name: str, worker: str, at: datetime, hold: timedelta) -> bool:
    """Take the feed's lease for ``hold`` unless another live worker holds it. True when taken."""
    row = conn.execute(
        select(federation_feed.c.lease_owner, federation_feed.c.lease_until).where(federation_feed.c.name == name)
    ).first()
    if row is None:
        return False
    free = row.lease_owner is None or row.lease_owner == worker or row.lease_until is None or row.lease_until <= at
    if not free and not worker_gone(row.lease_owner):
        return False
    # Compare-and-set on the owner seen, so two processes racing for a free lease cannot both win.
    same_owner = (federation_feed.c.lease_owner.is_(None) if row.lease_owner is None
                  else federation_feed.c.lease_owner == row.lease_owner)  # fmt: skip
    done = conn.execute(
        update(federation_feed)
        .where(federation_feed.c.name == name, same_owner)
        .values(lease_owner=worker, lease_until=at + hold, last_attempt_at=at)
    )
    return done.rowcount == 1


def lease_holder(conn: Connection, name: str) -> str | None:
    row = conn.execute(select(federation_feed.c.lease_owner).where(federation_feed.c.name == name)).first()
    return row.lease_owner if row is not None else None


def renew(conn: Connection, pk: int, worker: str, until: datetime) -> None:
    conn.execute(
        update(federation_feed)
        .where(federation_feed.c.pk == pk, federation_feed.c.lease_owner == worker)
        .values(lease_until=until)
    )


# -- checkpoints and health ----------------------------------------------------------------------


def save_checkpoint(conn: Connection, pk: int, checkpoint: str, objects: int) -> None:
    """After a page is stored: where the next pull starts, and how many objects came in."""
    conn.execute(
        update(federation_feed)
        .where(federation_feed.c.pk == pk)
        .values(checkpoint=checkpoint, objects_pulled=federation_feed.c.objects_pulled + objects)
    )


def add_pulled(conn: Connection, pk: int, objects: int) -> None:
    conn.execute(
        update(federation_feed)
        .where(federation_feed.c.pk == pk)
        .values(objects_pulled=federation_feed.c.objects_pulled + objects)
    )


def finish(
    conn: Connection,
    pk: int,
    worker: str,
    *,
    at: datetime,
    next_attempt: datetime,
    objects: int,
    error: str | None,
    failures: int,
    succeeded: bool | None = None,
) -> None:
    """Record how a pull ended (success or error, or — ``succeeded`` with an error — a success that left
    something out), when the next one is due, and release the lease."""
    values: dict[str, Any] = {"next_attempt_at": next_attempt, "last_pull_objects": objects, "failures": failures}
    if error is None or succeeded:
        values.update(last_success_at=at, last_error=None, last_error_at=None)
    if error is not None:
        values.update(last_error=error[:2000], last_error_at=at)
    conn.execute(update(federation_feed).where(federation_feed.c.pk == pk).values(**values))
    conn.execute(
        update(federation_feed)
        .where(federation_feed.c.pk == pk, federation_feed.c.lease_owner == worker)
        .values(lease_owner=None, lease_until=None)
    )


class StoredEvent(NamedTuple):
    """MISP feeds: what was last stored of an event."""

    timestamp: int
    digest: str | None


def stored_events(conn: Connection, pk: int) -> dict[str, StoredEvent]:
    """MISP feeds: event uuid → the timestamp and file digest last stored."""
    q = select(
        federation_feed_event.c.event_uuid,
        federation_feed_event.c.event_timestamp,
        federation_feed_event.c.content_digest,
    ).where(federation_feed_event.c.feed_pk == pk)
    return {r.event_uuid: StoredEvent(r.event_timestamp, r.content_digest) for r in conn.execute(q)}


def save_event(conn: Connection, pk: int, event_uuid: str, timestamp: int, at: datetime, digest: str | None) -> None:
    """MISP feeds: after an event is stored, remember its timestamp and digest (insert or update)."""
    values = {"event_timestamp": timestamp, "pulled_at": at, "content_digest": digest}
    done = conn.execute(
        update(federation_feed_event)
        .where(federation_feed_event.c.feed_pk == pk, federation_feed_event.c.event_uuid == event_uuid)
        .values(**values)
    )
    if done.rowcount == 0:
        conn.execute(federation_feed_event.insert().values(feed_pk=pk, event_uuid=event_uuid, **values))


# -- loop prevention ------------------------------------------------------------------------------


def held(conn: Connection, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], HeldVersion]:
    """The (stix_id, version_key) pairs this hub already stores, whoever brought them in, with what a
    feed needs to decide whether its grant would open the version to more readers."""
    wanted = set(pairs)
    out: dict[tuple[str, str], HeldVersion] = {}
    ids = sorted({sid for sid, _ in pairs})
    for i in range(0, len(ids), 500):
        part = ids[i : i + 500]
        q = select(stix_object.c.pk, stix_object.c.stix_id, stix_object.c.version_key, stix_object.c.tlp,
                   stix_object.c.created_by_ref).where(stix_object.c.stix_id.in_(part))  # fmt: skip
        for r in conn.execute(q):
            if (r.stix_id, r.version_key) in wanted:
                out[(r.stix_id, r.version_key)] = HeldVersion(r.pk, r.tlp, r.created_by_ref)
    return out
