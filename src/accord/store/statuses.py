"""TAXII status resources as rows: created pending when objects are posted, completed when ingest ends.

They live in the database, so a status outlives the process that made it and any worker can answer
for it. A pending status records which process is working on it (``host:pid:boot``); when that process
is gone (a restart, a crash) the work is lost — ingest is one transaction, so nothing of it was stored —
and the status is completed with every pending object failed, saying so, rather than pending forever.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from accord.store.schema import taxii_status

PENDING, COMPLETE = "pending", "complete"
_BOOT = uuid.uuid4().hex[:12]
LOST_WORK = ("the server stopped before storing this object (nothing of the request was stored); "
             "send it again — re-sending an object already stored is harmless")  # fmt: skip


def this_worker() -> str:
    """Names this process: host, pid and a token that differs for each start."""
    return f"{socket.gethostname()}:{os.getpid()}:{_BOOT}"


def worker_gone(worker: str | None) -> bool:
    """True only when the worker is known to be gone (same host, process no longer running)."""
    if not worker:
        return False
    host, _, rest = worker.partition(":")
    pid_text, _, boot = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit() or os.name != "posix":
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return boot != _BOOT
    try:
        os.kill(pid, 0)  # signal 0: an existence check, nothing is sent
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def create(
    conn: Connection,
    *,
    status_id: str,
    collection_id: str,
    org_pk: int | None,
    user_pk: int | None,
    at: datetime,
    pendings: list[dict[str, Any]],
    worker: str | None,
) -> None:
    """A new pending status: every object counted as pending."""
    conn.execute(
        taxii_status.insert().values(
            id=status_id, collection_id=collection_id, org_pk=org_pk, user_pk=user_pk, status=PENDING,
            request_timestamp=at, updated_at=at, worker=worker, total_count=len(pendings), success_count=0,
            failure_count=0, pending_count=len(pendings), successes=None, failures=None, pendings=pendings or None,
        )
    )  # fmt: skip


def complete(
    conn: Connection,
    status_id: str,
    *,
    at: datetime,
    successes: list[dict[str, Any]],
    failures: list[dict[str, Any]],
    only_if_pending: bool = False,
) -> bool:
    """Record the outcome; the status becomes complete. False if nothing was updated."""
    q = update(taxii_status).where(taxii_status.c.id == status_id)
    if only_if_pending:
        q = q.where(taxii_status.c.status == PENDING)
    result = conn.execute(
        q.values(
            status=COMPLETE, updated_at=at, worker=None, success_count=len(successes), failure_count=len(failures),
            pending_count=0, successes=successes or None, failures=failures or None, pendings=None,
        )
    )  # fmt: skip
    return result.rowcount > 0


def fail_lost(conn: Connection, row: dict[str, Any], at: datetime) -> bool:
    """Complete a pending status whose worker is gone: every pending object failed, with the reason."""
    failures = [{**p, "message": LOST_WORK} for p in (row.get("pendings") or [])]
    return complete(conn, row["id"], at=at, successes=[], failures=failures, only_if_pending=True)


def get(conn: Connection, status_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(taxii_status).where(taxii_status.c.id == status_id)).first()
    return dict(row._mapping) if row is not None else None
