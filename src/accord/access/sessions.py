"""Web sessions kept on the server (table ``web_session``): the browser holds a random id, the hub only
its SHA-256, so a copied cookie stops working the moment its row is revoked.

A session remembers how it was opened (password or token) and a stamp of that credential
(``accord.access.users.session_viewer``): a changed password, a revoked or expired token or a disabled
user ends it. Besides, it ends after ``idle`` without a request, at its absolute ``expires_at``, at
sign-out, and when its user, a hub admin or the org-admin of the user's organisation ends it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, delete, select

from accord.access import users
from accord.access.viewer import Viewer, role_rank
from accord.errors import AuthenticationFailed, NotFound, PermissionDenied
from accord.stix.timestamps import now
from accord.store.schema import app_user, organisation, web_session

#: How often a session's ``last_seen_at`` is written (the idle timeout is exact to this much).
TOUCH_EVERY = timedelta(seconds=60)
#: Ended sessions are kept this long (for the owner's list and investigations), then deleted.
KEEP_ENDED = timedelta(days=30)


def digest(session_id: str) -> str:
    """What the table stores for a session id (the id itself is never stored)."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def csrf_token(session_id: str) -> str:
    """The CSRF token of a session: keyed by the secret id, so only its holder can compute it, and
    unrelated to the stored digest, so reading the table does not give it away."""
    return hmac.new(session_id.encode(), b"accord-web-csrf", hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Session:
    """A live session as a request sees it (``id`` is the secret from the cookie, kept in memory only)."""

    pk: int
    id: str
    user_pk: int
    method: str  # password | token
    created_at: datetime
    expires_at: datetime

    @property
    def csrf(self) -> str:
        return csrf_token(self.id)


def open_session(
    conn: Connection,
    user_pk: int,
    method: str,
    stamp: str,
    *,
    lifetime: timedelta,
    client: str | None = None,
    user_agent: str | None = None,
) -> Session:
    """A new session with a fresh random id (256 bits); also deletes every row that ended long ago."""
    if method not in ("password", "token"):
        raise AuthenticationFailed(f"cannot open a session signed in with {method!r}")
    at = now()
    conn.execute(delete(web_session).where(web_session.c.expires_at < at - KEEP_ENDED))
    session_id = secrets.token_urlsafe(32)
    expires = at + lifetime
    pk = conn.execute(
        web_session.insert().values(
            session_hash=digest(session_id), user_pk=user_pk, method=method, stamp=stamp, created_at=at,
            last_seen_at=at, expires_at=expires, client=(client or "")[:200] or None,
            user_agent=(user_agent or "")[:300] or None,
        )
    ).inserted_primary_key[0]  # fmt: skip
    return Session(pk, session_id, user_pk, method, at, expires)


def _row(conn: Connection, session_id: str) -> Any:
    if not session_id or len(session_id) > 200:
        return None
    return conn.execute(select(web_session).where(web_session.c.session_hash == digest(session_id))).first()


def resolve(conn: Connection, session_id: str, *, idle: timedelta, source: str = "web") -> tuple[Viewer, Session, bool]:
    """The viewer and session for a cookie's id, and whether ``last_seen_at`` is due to be written.

    Raises ``AuthenticationFailed`` (saying why) for an unknown, ended, expired or idle session, or one
    whose credential no longer holds.
    """
    row = _row(conn, session_id)
    at = now()
    if row is None:
        raise AuthenticationFailed("your session is not known here; sign in again")
    if row.revoked_at is not None:
        raise AuthenticationFailed("your session was ended; sign in again")
    if row.expires_at <= at:
        raise AuthenticationFailed("your session has expired; sign in again")
    if at - row.last_seen_at > idle:
        raise AuthenticationFailed("your session ended after a time without use; sign in again")
    viewer = users.session_viewer(conn, row.user_pk, row.method, row.stamp, source)
    session = Session(row.pk, session_id, row.user_pk, row.method, row.created_at, row.expires_at)
    return viewer, session, at - row.last_seen_at >= TOUCH_EVERY


def touch(conn: Connection, pk: int) -> None:
    conn.execute(web_session.update().where(web_session.c.pk == pk).values(last_seen_at=now()))


def end(conn: Connection, pk: int) -> bool:
    """Revoke one session (True if it was live)."""
    done = conn.execute(
        web_session.update().where(web_session.c.pk == pk, web_session.c.revoked_at.is_(None)).values(revoked_at=now())
    )
    return bool(done.rowcount)


def end_by_id(conn: Connection, session_id: str) -> Any:
    """Revoke the session a cookie names; its row (None when unknown)."""
    row = _row(conn, session_id)
    if row is not None:
        end(conn, row.pk)
    return row


def _live(at: datetime, idle: timedelta) -> Any:
    c = web_session.c
    return and_(c.revoked_at.is_(None), c.expires_at > at, c.last_seen_at >= at - idle)


def _listing(conn: Connection, where: Any, idle: timedelta) -> list[dict[str, Any]]:
    q = (
        select(web_session.c.pk, web_session.c.user_pk, web_session.c.method, web_session.c.stamp,
               web_session.c.created_at, web_session.c.last_seen_at, web_session.c.expires_at, web_session.c.client,
               web_session.c.user_agent, app_user.c.email, app_user.c.role, organisation.c.name.label("org"))
        .join(app_user, app_user.c.pk == web_session.c.user_pk)
        .join(organisation, organisation.c.pk == app_user.c.org_pk)
        .where(where, _live(now(), idle))
        .order_by(web_session.c.last_seen_at.desc())
    )  # fmt: skip
    out = []
    for r in conn.execute(q):
        row = dict(r._mapping)
        try:  # a session whose password or token has changed is over, whatever its row says
            users.session_viewer(conn, row["user_pk"], row["method"], row.pop("stamp"))
        except AuthenticationFailed:
            continue
        out.append(row)
    return out


def list_own(conn: Connection, actor: Viewer, *, idle: timedelta) -> list[dict[str, Any]]:
    """The actor's live sessions, most recently used first."""
    if actor.user_pk is None:
        raise PermissionDenied("only a user has web sessions; sign in as one")
    return _listing(conn, web_session.c.user_pk == actor.user_pk, idle)


def list_managed(conn: Connection, actor: Viewer, *, idle: timedelta) -> list[dict[str, Any]]:
    """Live sessions of the users the actor manages: everyone for a hub admin, their organisation's for
    an org-admin (except users above their role)."""
    if actor.is_hub_admin:
        return _listing(conn, web_session.c.pk.is_not(None), idle)
    if actor.role != "org-admin" or actor.org_pk is None:
        raise PermissionDenied("only an admin or an org-admin may see other users' sessions")
    rows = _listing(conn, app_user.c.org_pk == actor.org_pk, idle)
    return [r for r in rows if role_rank(r["role"]) <= role_rank(actor.role) or r["user_pk"] == actor.user_pk]


def _owner(conn: Connection, user_pk: int) -> Any:
    return conn.execute(
        select(app_user.c.pk, app_user.c.email, app_user.c.role, app_user.c.org_pk).where(app_user.c.pk == user_pk)
    ).first()


def end_one(conn: Connection, actor: Viewer, pk: int) -> dict[str, Any]:
    """End one session: its own user, a hub admin, or the org-admin of the user's organisation."""
    row = conn.execute(select(web_session.c.pk, web_session.c.user_pk).where(web_session.c.pk == pk)).first()
    if row is None:
        raise NotFound(f"no session #{pk}")
    owner = _owner(conn, row.user_pk)
    if actor.user_pk != row.user_pk:
        try:
            users.check_can_manage(actor, owner.org_pk, owner.role)
        except PermissionDenied:
            raise NotFound(f"no session #{pk}") from None  # no oracle for others' session numbers
    return {"session": pk, "user": owner.email, "ended": end(conn, pk)}


def end_all(conn: Connection, actor: Viewer, email: str, *, keep: int | None = None) -> dict[str, Any]:
    """End every live session of a user (but ``keep``, the caller's own current one)."""
    user = users.get(conn, email)
    if actor.user_pk != user["pk"]:
        users.check_can_manage(actor, user["org_pk"], user["role"])
    q = web_session.update().where(web_session.c.user_pk == user["pk"], web_session.c.revoked_at.is_(None))
    if keep is not None:
        q = q.where(web_session.c.pk != keep)
    done = conn.execute(q.values(revoked_at=now()))
    return {"user": user["email"], "ended": done.rowcount}
