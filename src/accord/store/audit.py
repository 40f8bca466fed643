"""The audit log: every write and administrative change (who, when, what, from where)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from accord.stix.timestamps import now
from accord.store.schema import audit_log


def record(
    conn: Connection,
    *,
    actor: str,
    action: str,
    target: str | None = None,
    org_pk: int | None = None,
    source: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        audit_log.insert().values(
            at=now(), actor=actor, org_pk=org_pk, action=action, target=target, source=source, detail=detail
        )
    )


def entries(
    conn: Connection, *, limit: int = 100, since: datetime | None = None, org_pk: int | None = None
) -> list[dict[str, Any]]:
    q = select(audit_log).order_by(audit_log.c.pk.desc()).limit(limit)
    if since is not None:
        q = q.where(audit_log.c.at > since)
    if org_pk is not None:
        q = q.where(audit_log.c.org_pk == org_pk)
    return [dict(r._mapping) for r in conn.execute(q)]
