"""API tokens: random, shown once, stored only as a SHA-256 hash, with expiry and revocation."""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from accord.access import orgs, users
from accord.access.viewer import Viewer
from accord.errors import AuthenticationFailed, InvalidInput, NotFound
from accord.stix.timestamps import now
from accord.store.schema import api_token, app_user, organisation

PREFIX = "acc_"
_TOUCH_EVERY = timedelta(seconds=60)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(
    conn: Connection,
    actor: Viewer,
    email: str,
    *,
    label: str | None = None,
    expires_in_days: int | None = 90,
) -> dict[str, Any]:
    """Issue a token for a user. The plain token is in the result and nowhere else, ever."""
    user = users.get(conn, email)
    if actor.user_pk != user["pk"]:
        users.check_can_manage(actor, user["org_pk"], user["role"])
    if expires_in_days is not None and expires_in_days <= 0:
        raise InvalidInput("a token's lifetime must be at least one day")
    token = PREFIX + secrets.token_urlsafe(32)
    created = now()
    expires = created + timedelta(days=expires_in_days) if expires_in_days else None
    pk = conn.execute(
        api_token.insert().values(
            user_pk=user["pk"], token_hash=_hash(token), prefix=token[:12], label=label,
            created_at=created, expires_at=expires,
        )
    ).inserted_primary_key[0]  # fmt: skip
    return {"id": pk, "token": token, "user": user["email"], "org": user["org"], "expires_at": expires}


def revoke(conn: Connection, actor: Viewer, token_id: int) -> dict[str, Any]:
    row = conn.execute(
        select(api_token, app_user.c.org_pk, app_user.c.role, app_user.c.email)
        .join(app_user, app_user.c.pk == api_token.c.user_pk)
        .where(api_token.c.pk == token_id)
    ).first()
    if row is None:
        raise NotFound(f"no token #{token_id}")
    if actor.user_pk != row.user_pk:
        users.check_can_manage(actor, row.org_pk, row.role)
    conn.execute(api_token.update().where(api_token.c.pk == token_id).values(revoked_at=now()))
    return {"id": token_id, "user": row.email, "revoked": True}


def list_for(conn: Connection, actor: Viewer, email: str | None = None) -> list[dict[str, Any]]:
    q = (
        select(api_token.c.pk.label("id"), api_token.c.prefix, api_token.c.label, api_token.c.created_at,
               api_token.c.expires_at, api_token.c.revoked_at, api_token.c.last_used_at,
               app_user.c.email.label("user"), app_user.c.org_pk)
        .join(app_user, app_user.c.pk == api_token.c.user_pk)
        .order_by(api_token.c.pk)
    )  # fmt: skip
    if email:
        q = q.where(app_user.c.email == email.strip().lower())
    if not actor.is_hub_admin:
        if actor.role == "org-admin":
            q = q.where(app_user.c.org_pk == actor.org_pk)
        else:
            q = q.where(app_user.c.pk == actor.user_pk)
    return [dict(r._mapping) for r in conn.execute(q)]


def authenticate(
    conn: Connection,
    token: str,
    *,
    email: str | None = None,
    source: str = "api",
    touch: Callable[[int, datetime], None] | None = None,
) -> Viewer:
    """The viewer a bearer token (or HTTP Basic user + token) stands for.

    A token of a partner hub's user gives a partner viewer; the edges other than TAXII refuse it
    (``Hub.authenticate``).

    ``touch(token_pk, when)`` records use (at most once a minute per token); it runs outside the read.
    """
    if not token:
        raise AuthenticationFailed("no token given")
    row = conn.execute(
        select(api_token.c.pk, api_token.c.expires_at, api_token.c.revoked_at, api_token.c.last_used_at,
               app_user.c.pk.label("user_pk"), app_user.c.email, app_user.c.role, app_user.c.disabled,
               organisation.c.pk.label("org_pk"), organisation.c.name.label("org_name"),
               organisation.c.identity_id, organisation.c.kind.label("org_kind"))
        .join(app_user, app_user.c.pk == api_token.c.user_pk)
        .join(organisation, organisation.c.pk == app_user.c.org_pk)
        .where(api_token.c.token_hash == _hash(token))
    ).first()  # fmt: skip
    at = now()
    if row is None or (email is not None and row.email != email.strip().lower()):
        raise AuthenticationFailed("the token is not valid")
    if row.revoked_at is not None:
        raise AuthenticationFailed("the token has been revoked")
    if row.expires_at is not None and row.expires_at <= at:
        raise AuthenticationFailed("the token has expired")
    if row.disabled:
        raise AuthenticationFailed("the user is disabled")
    if touch is not None and (row.last_used_at is None or at - row.last_used_at > _TOUCH_EVERY):
        touch(row.pk, at)
    partner = row.org_kind == orgs.PARTNER_HUB
    return Viewer(
        org_pk=row.org_pk,
        org_name=row.org_name,
        org_identity=row.identity_id,
        user_pk=row.user_pk,
        email=row.email,
        role=row.role,
        group_pks=frozenset() if partner else orgs.group_pks_of(conn, row.org_pk),
        partner=partner,
        source=source,
    )


def parse_authorization(header: str | None) -> tuple[str | None, str | None]:
    """(email or None, token) from ``Bearer <token>`` or ``Basic base64(email:token)``."""
    if not header:
        return None, None
    scheme, _, value = header.strip().partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == "bearer" and value:
        return None, value
    if scheme == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise AuthenticationFailed("the Basic credentials are not valid base64 'user:token'") from None
        user, sep, password = decoded.partition(":")
        if not sep or not password:
            raise AuthenticationFailed("Basic credentials must be 'user:token'")
        return user, password
    raise AuthenticationFailed("use 'Authorization: Bearer <token>' or HTTP Basic with user and token")


def record_use(conn: Connection, token_pk: int, at: datetime) -> None:
    conn.execute(api_token.update().where(api_token.c.pk == token_pk).values(last_used_at=at))


def expired_before(conn: Connection, at: datetime) -> int:
    rows = conn.execute(select(api_token.c.pk).where(api_token.c.expires_at < at)).all()
    return len(rows)
