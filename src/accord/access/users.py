"""People: each user belongs to one organisation and holds one role; passwords (argon2) and web sessions."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, select

from accord.access import orgs
from accord.access.viewer import ROLES, Viewer, role_rank
from accord.errors import AlreadyExists, AuthenticationFailed, InvalidInput, NotFound, PermissionDenied
from accord.stix.timestamps import now
from accord.store.schema import api_token, app_user, organisation, web_session

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_can_manage(actor: Viewer, org_pk: int, role: str | None = None) -> None:
    """An admin manages anyone; an org-admin only their own organisation, never above their role."""
    if actor.is_hub_admin:
        return
    if actor.role != "org-admin":
        raise PermissionDenied("only an admin or an org-admin may manage users")
    if actor.org_pk != org_pk:
        raise PermissionDenied("an org-admin may only manage their own organisation's users")
    if role is not None and role_rank(role) > role_rank(actor.role):
        raise PermissionDenied(f"an org-admin may not grant the role {role!r}, which is above their own")


def check_new_email(conn: Connection, email: str) -> str:
    """The e-mail address, normalised, if it is one and no user has it yet."""
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise InvalidInput(f"{email!r} is not an e-mail address")
    if conn.execute(select(app_user.c.pk).where(app_user.c.email == email)).first():
        raise AlreadyExists(f"a user with e-mail {email!r} already exists")
    return email


def create(
    conn: Connection, actor: Viewer, email: str, org_name: str, role: str, name: str | None = None
) -> dict[str, Any]:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise InvalidInput(f"{email!r} is not an e-mail address")
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; use one of: {', '.join(ROLES)}")
    org = orgs.get(conn, org_name)
    check_can_manage(actor, org["pk"], role)
    if orgs.is_partner(org) and role != "reader":
        raise InvalidInput(f"{org['name']!r} is a partner hub: its users read federation collections and nothing "
                           f"else, so their role is 'reader', not {role!r}")  # fmt: skip
    if conn.execute(select(app_user.c.pk).where(app_user.c.email == email)).first():
        raise AlreadyExists(f"a user with e-mail {email!r} already exists")
    pk = conn.execute(
        app_user.insert().values(
            email=email, name=name, org_pk=org["pk"], role=role, disabled=False, created_at=now()
        )
    ).inserted_primary_key[0]
    return {"pk": pk, "email": email, "name": name, "org": org["name"], "role": role}


def get(conn: Connection, email: str) -> dict[str, Any]:
    row = conn.execute(
        select(app_user, organisation.c.name.label("org"))
        .join(organisation, organisation.c.pk == app_user.c.org_pk)
        .where(app_user.c.email == email.strip().lower())
    ).first()
    if row is None:
        raise NotFound(f"no user with e-mail {email!r} (see 'accord user list')")
    return dict(row._mapping)


def list_for(conn: Connection, actor: Viewer, org_name: str | None = None) -> list[dict[str, Any]]:
    q = (
        select(app_user.c.pk, app_user.c.email, app_user.c.name, app_user.c.role, app_user.c.disabled,
               app_user.c.created_at, organisation.c.name.label("org"))
        .join(organisation, organisation.c.pk == app_user.c.org_pk)
        .order_by(organisation.c.name, app_user.c.email)
    )  # fmt: skip
    if org_name:
        q = q.where(organisation.c.pk == orgs.get(conn, org_name)["pk"])
    if not actor.is_hub_admin:
        if actor.org_pk is None:
            raise PermissionDenied("sign in to list users")
        q = q.where(app_user.c.org_pk == actor.org_pk)
    return [dict(r._mapping) for r in conn.execute(q)]


def set_disabled(conn: Connection, actor: Viewer, email: str, disabled: bool) -> dict[str, Any]:
    """Disable (or enable again) a user: a hub admin for anyone, an org-admin for their own organisation's
    users up to their own role; nobody disables themselves.

    A disabled user's tokens are refused and their password too (both work again once enabled, unless
    revoked or expired meanwhile); their live web sessions are ended for good here, so enabling the user
    again does not bring them back. ``changed`` is False when the user already was in that state.
    """
    user = get(conn, email)
    if actor.user_pk == user["pk"]:
        if disabled:
            raise PermissionDenied("you cannot disable yourself; ask another admin")
    else:
        check_can_manage(actor, user["org_pk"], user["role"])
    changed = bool(user["disabled"]) != disabled
    ended = 0
    if changed:
        conn.execute(app_user.update().where(app_user.c.pk == user["pk"]).values(disabled=disabled))
    if disabled:
        ended = conn.execute(
            web_session.update().where(web_session.c.user_pk == user["pk"], web_session.c.revoked_at.is_(None))
            .values(revoked_at=now())
        ).rowcount  # fmt: skip
    return {"email": user["email"], "org": user["org"], "role": user["role"], "disabled": disabled,
            "changed": changed, "sessions_ended": ended}  # fmt: skip


# -- passwords and web sessions -----------------------------------------------------------------
# Passwords are hashed with argon2id at OWASP's recommended setting (19 MiB, 2 passes, 1 lane: about
# 50 ms on one core, which a small hub can afford at sign-in); only the hash is stored. A web session
# remembers how it was opened (password or token) and a stamp of that credential, so it ends when
# the password changes, the token is revoked or expires, or the user is disabled.

PASSWORD_MIN, PASSWORD_MAX = 12, 1024
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the e-mail is unknown, so a wrong address costs as long as a wrong password."""
    return _hasher.hash("accord: no such user, nothing to find here")


def check_password_strength(password: str) -> None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise InvalidInput(f"a password needs {PASSWORD_MIN} to {PASSWORD_MAX} characters")
    if password.strip() != password or len(set(password)) < 5:
        raise InvalidInput("a password may not start or end with spaces and needs at least 5 different characters")


def set_password(conn: Connection, actor: Viewer, email: str, password: str) -> dict[str, Any]:
    """Set a user's password: the user themself, an admin, or an org-admin for their own organisation."""
    user = get(conn, email)
    if actor.user_pk != user["pk"]:
        check_can_manage(actor, user["org_pk"], user["role"])
    check_password_strength(password)
    conn.execute(app_user.update().where(app_user.c.pk == user["pk"]).values(password_hash=_hasher.hash(password)))
    return {"email": user["email"], "org": user["org"], "password_set": True}


def password_stamp(password_hash: str) -> str:
    """A short fingerprint of the stored hash: a session opened with a password ends when it changes."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:32]


def _viewer_row(conn: Connection, where: Any) -> Any:
    return conn.execute(
        select(app_user.c.pk, app_user.c.email, app_user.c.role, app_user.c.disabled, app_user.c.password_hash,
               organisation.c.pk.label("org_pk"), organisation.c.name.label("org_name"), organisation.c.identity_id,
               organisation.c.kind.label("org_kind"))
        .join(organisation, organisation.c.pk == app_user.c.org_pk)
        .where(where)
    ).first()  # fmt: skip


PARTNER_NO_SIGN_IN = ("{email} is a user of partner hub {org}: partner hubs read federation collections over "
                      "TAXII (/taxii2/) and cannot sign in to the web interface")  # fmt: skip


def _viewer(conn: Connection, row: Any, source: str) -> Viewer:
    return Viewer(org_pk=row.org_pk, org_name=row.org_name, org_identity=row.identity_id, user_pk=row.pk,
                  email=row.email, role=row.role, group_pks=orgs.group_pks_of(conn, row.org_pk),
                  source=source)  # fmt: skip


@dataclass(frozen=True)
class SignInFailure:
    """Why a sign-in was refused, for the audit log (the person signing in gets a vaguer message).

    ``tried`` is the e-mail as typed (``typed_email``) or the holder of a known token; never a password
    or a token. ``org_pk`` is the organisation of the user tried, when there is one.
    """

    method: str  # password | token
    tried: str | None
    reason: str
    org_pk: int | None = None


#: How much of a typed e-mail address the audit log keeps.
TYPED_EMAIL_MAX = 120


def typed_email(email: str | None) -> str:
    """What the audit log records of a typed e-mail: the address, truncated; anything that is not an
    address (a password typed into the wrong field, a pasted token) only as its length."""
    value = (email or "").strip()
    if not _EMAIL.match(value) or not value.isprintable():
        return f"(not an e-mail address: {len(value)} characters)"
    return value if len(value) <= TYPED_EMAIL_MAX else value[: TYPED_EMAIL_MAX - 1] + "…"


def verify_password(
    conn: Connection,
    email: str,
    password: str,
    source: str = "web",
    failed: Callable[[SignInFailure], None] | None = None,
) -> tuple[Viewer, str]:
    """The viewer and the session stamp for a correct e-mail and password; one vague error otherwise.

    ``failed`` is told why, before the error is raised (for the audit log).
    """
    row = _viewer_row(conn, app_user.c.email == (email or "").strip().lower())
    stored = row.password_hash if row is not None and row.password_hash else _dummy_hash()
    try:
        ok = _hasher.verify(stored, password or "")
    except (VerificationError, InvalidHashError):
        ok = False

    def refuse(reason: str, message: str) -> AuthenticationFailed:
        if failed is not None:
            failed(SignInFailure("password", typed_email(email), reason, row.org_pk if row is not None else None))
        return AuthenticationFailed(message)

    if row is None:
        raise refuse("unknown user", "the e-mail address or the password is not right")
    if not row.password_hash:
        raise refuse("no password set", "the e-mail address or the password is not right")
    if not ok:
        raise refuse("wrong password" + (" (user disabled)" if row.disabled else ""),
                     "the e-mail address or the password is not right")  # fmt: skip
    if row.disabled:
        raise refuse("disabled", "the user is disabled")
    if row.org_kind == orgs.PARTNER_HUB:
        raise refuse("partner hub", PARTNER_NO_SIGN_IN.format(email=row.email, org=row.org_name))
    return _viewer(conn, row, source), password_stamp(row.password_hash)


def token_failure(conn: Connection, token_hash: str) -> SignInFailure:
    """Why a token (given by its stored hash) did not sign in, and whose it is when it is known."""
    row = conn.execute(
        select(api_token.c.expires_at, api_token.c.revoked_at, app_user.c.email, app_user.c.disabled,
               app_user.c.org_pk, organisation.c.kind)
        .join(app_user, app_user.c.pk == api_token.c.user_pk)
        .join(organisation, organisation.c.pk == app_user.c.org_pk)
        .where(api_token.c.token_hash == token_hash)
    ).first()  # fmt: skip
    if row is None:
        return SignInFailure("token", None, "unknown token")
    if row.revoked_at is not None:
        reason = "revoked token"
    elif row.expires_at is not None and row.expires_at <= now():
        reason = "expired token"
    elif row.disabled:
        reason = "disabled"
    elif row.kind == orgs.PARTNER_HUB:
        reason = "partner hub"
    else:
        reason = "refused"
    return SignInFailure("token", row.email, reason, row.org_pk)


def session_viewer(conn: Connection, user_pk: int, method: str, stamp: str, source: str = "web") -> Viewer:
    """The viewer a web session stands for, if the credential it was opened with still holds.

    ``method`` is ``password`` (``stamp`` from ``password_stamp``) or ``token`` (``stamp`` is the
    token's stored SHA-256 hash, which is not itself a credential).
    """
    row = _viewer_row(conn, app_user.c.pk == user_pk)
    if row is None or row.disabled:
        raise AuthenticationFailed("the session's user no longer exists or is disabled; sign in again")
    if row.org_kind == orgs.PARTNER_HUB:
        raise AuthenticationFailed(PARTNER_NO_SIGN_IN.format(email=row.email, org=row.org_name))
    if method == "password":
        if not row.password_hash or not hmac.compare_digest(password_stamp(row.password_hash), stamp):
            raise AuthenticationFailed("the password has changed since you signed in; sign in again")
    elif method == "token":
        tok = conn.execute(
            select(api_token.c.expires_at, api_token.c.revoked_at)
            .where(api_token.c.token_hash == stamp, api_token.c.user_pk == user_pk)
        ).first()  # fmt: skip
        if tok is None or tok.revoked_at is not None or (tok.expires_at is not None and tok.expires_at <= now()):
            raise AuthenticationFailed("the token you signed in with has been revoked or has expired; sign in again")
    else:
        raise AuthenticationFailed("the session is not valid; sign in again")
    return _viewer(conn, row, source)
