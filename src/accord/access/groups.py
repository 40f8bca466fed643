"""Sharing groups: named lists of member organisations, owned by one of them."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, delete, select

from accord.access import orgs
from accord.access.viewer import Viewer
from accord.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied
from accord.stix.timestamps import now
from accord.store.schema import group_member, organisation, sharing_group

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._+-]{0,99}$")


def _check_manage(actor: Viewer, owner_org_pk: int) -> None:
    if actor.is_hub_admin:
        return
    if actor.role == "org-admin" and actor.org_pk == owner_org_pk:
        return
    raise PermissionDenied("only the owning organisation's org-admin (or a hub admin) may manage this group")


def get(conn: Connection, name: str) -> dict[str, Any]:
    row = conn.execute(select(sharing_group).where(sharing_group.c.name == name)).first()
    if row is None:
        raise NotFound(f"no sharing group named {name!r} (see 'accord group list')")
    return dict(row._mapping)


def member_pks(conn: Connection, group_pk: int) -> set[int]:
    """The organisations (primary keys) in a sharing group."""
    return set(conn.scalars(select(group_member.c.org_pk).where(group_member.c.group_pk == group_pk)))


def create(
    conn: Connection,
    actor: Viewer,
    name: str,
    owner: str,
    members: list[str] | None = None,
    *,
    members_visible: bool = False,
    description: str | None = None,
) -> dict[str, Any]:
    name = name.strip()
    if not _NAME.match(name):
        raise InvalidInput(
            f"group name {name!r} must be 1-100 letters, digits, spaces or ._+- and start with a letter or digit"
        )
    owner_org = orgs.get(conn, owner)
    _check_manage(actor, owner_org["pk"])
    if conn.execute(select(sharing_group.c.pk).where(sharing_group.c.name == name)).first():
        raise AlreadyExists(f"a sharing group named {name!r} already exists")
    pk = conn.execute(
        sharing_group.insert().values(
            name=name, owner_org_pk=owner_org["pk"], members_visible=members_visible,
            description=description, created_at=now(),
        )
    ).inserted_primary_key[0]  # fmt: skip
    member_orgs = [owner_org] + [orgs.get(conn, m) for m in (members or [])]
    for org in member_orgs:
        orgs.check_member(org, "partner hubs are never members of a sharing group (share with them through a "
                               "federation collection)")  # fmt: skip
    member_pks = {org["pk"] for org in member_orgs}
    conn.execute(group_member.insert(), [{"group_pk": pk, "org_pk": m} for m in sorted(member_pks)])
    return {"pk": pk, "name": name, "owner": owner_org["name"], "members": len(member_pks)}


def add_member(conn: Connection, actor: Viewer, name: str, org_name: str) -> dict[str, Any]:
    group = get(conn, name)
    _check_manage(actor, group["owner_org_pk"])
    org = orgs.get(conn, org_name)
    orgs.check_member(org, "partner hubs are never members of a sharing group (share with them through a "
                           "federation collection)")  # fmt: skip
    exists = conn.execute(
        select(group_member).where(group_member.c.group_pk == group["pk"], group_member.c.org_pk == org["pk"])
    ).first()
    if exists:
        raise AlreadyExists(f"{org['name']} is already a member of {name!r}")
    conn.execute(group_member.insert().values(group_pk=group["pk"], org_pk=org["pk"]))
    return {"group": name, "added": org["name"]}


def remove_member(conn: Connection, actor: Viewer, name: str, org_name: str) -> dict[str, Any]:
    group = get(conn, name)
    _check_manage(actor, group["owner_org_pk"])
    org = orgs.get(conn, org_name)
    if org["pk"] == group["owner_org_pk"]:
        raise InvalidInput(f"{org['name']} owns {name!r} and cannot be removed from it")
    result = conn.execute(
        delete(group_member).where(group_member.c.group_pk == group["pk"], group_member.c.org_pk == org["pk"])
    )
    if result.rowcount == 0:
        raise NotFound(f"{org['name']} is not a member of {name!r}")
    return {"group": name, "removed": org["name"]}


def list_for(conn: Connection, actor: Viewer) -> list[dict[str, Any]]:
    """Groups the viewer may know of, with member names only where the owner allows it."""
    owner = organisation.alias()
    rows = conn.execute(
        select(sharing_group, owner.c.name.label("owner"))
        .join(owner, owner.c.pk == sharing_group.c.owner_org_pk)
        .order_by(sharing_group.c.name)
    ).all()
    members: dict[int, list[str]] = {}
    for r in conn.execute(
        select(group_member.c.group_pk, organisation.c.name).join(
            organisation, organisation.c.pk == group_member.c.org_pk
        )
    ):
        members.setdefault(r.group_pk, []).append(r.name)
    out = []
    for r in rows:
        is_member = actor.org_pk is not None and r.pk in actor.group_pks
        is_owner = actor.org_pk == r.owner_org_pk
        sees_all = (actor.is_hub_admin and actor.org_pk is None) or actor.role == "admin"
        if not (is_member or is_owner or sees_all):
            continue
        names = sorted(members.get(r.pk, []))
        show = sees_all or is_owner or r.members_visible
        out.append(
            {
                "name": r.name,
                "owner": r.owner,
                "description": r.description,
                "members_visible": r.members_visible,
                "member_count": len(names),
                "members": names if show else None,
                "member": is_member,
            }
        )
    return out
