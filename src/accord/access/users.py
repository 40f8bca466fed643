"""People: each user belongs to one organisation and holds one role."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, select

from accord.access import orgs
from accord.access.viewer import ROLES, Viewer, role_rank
from accord.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied
from accord.stix.timestamps import now
from accord.store.schema import app_user, organisation

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
