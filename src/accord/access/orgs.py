"""Organisations: each is a STIX identity (identity_class organization) with sector and country.

An organisation is of one of two kinds: a ``member`` of this hub's community, or a ``partner-hub``
standing for a federated hub. A partner hub's users are readers whose tokens read federation
collections over TAXII and nothing else (``accord.access.collections``); they are never part of the
community, of a sharing group, or of any audience but ``federation`` and ``public``
(``accord.access.visibility``).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import Connection, select

from accord.access.viewer import Viewer
from accord.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied
from accord.stix.timestamps import format_stix, now
from accord.store.schema import (
    app_user,
    group_member,
    organisation,
    sharing_group,
    taxii_collection,
    taxii_collection_org,
)

#: STIX 2.1 industry-sector-ov plus the sectors a collective-defence hub needs.
SECTORS: tuple[str, ...] = (
    "agriculture", "aerospace", "automotive", "chemical", "commercial", "communications",
    "construction", "defense", "education", "energy", "entertainment", "financial-services",
    "government", "government-emergency-services", "government-local", "government-national",
    "government-public-services", "government-regional", "healthcare", "hospitality-leisure",
    "infrastructure", "dams", "nuclear", "water", "insurance", "manufacturing", "mining",
    "non-profit", "pharmaceuticals", "retail", "technology", "telecommunications",
    "transportation", "utilities",
    "law-enforcement", "academia", "nonprofit", "cert",
)  # fmt: skip
_COUNTRY = re.compile(r"^[A-Z]{2}$")
#: Fixed namespace so an organisation's identity id follows from its name on every hub.
ORG_NAMESPACE = uuid.UUID("8a1c6e0e-6f2b-4f57-9a43-5d0b1c2e7f10")
MEMBER, PARTNER_HUB = "member", "partner-hub"
KINDS: tuple[str, ...] = (MEMBER, PARTNER_HUB)


def is_partner(org: dict[str, Any]) -> bool:
    """True for an organisation that stands for a partner hub."""
    return org.get("kind") == PARTNER_HUB


def check_member(org: dict[str, Any], what: str) -> None:
    """Refuse a partner hub where only a member organisation makes sense (``what`` says where)."""
    if is_partner(org):
        raise InvalidInput(f"{org['name']!r} is a partner hub, not a member organisation: {what}")


def identity_id_for(name: str) -> str:
    return f"identity--{uuid.uuid5(ORG_NAMESPACE, name)}"


def validate(name: str, sector: str, country: str) -> tuple[str, str, str]:
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("an organisation needs a name of 1 to 200 characters")
    sector = sector.strip().lower()
    if sector not in SECTORS:
        raise InvalidInput(f"unknown sector {sector!r}; use one of: {', '.join(SECTORS)}")
    country = country.strip().upper()
    if not _COUNTRY.match(country):
        raise InvalidInput(f"country must be an ISO 3166-1 alpha-2 code such as GB or FR, got {country!r}")
    return name, sector, country


def identity_object(name: str, sector: str, country: str, identity_id: str, created: str) -> dict[str, Any]:
    """The STIX identity that stands for a member organisation."""
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": identity_id,
        "created": created,
        "modified": created,
        "name": name,
        "identity_class": "organization",
        "sectors": [sector],
        "x_accord_country": country,
    }


def create(conn: Connection, actor: Viewer, name: str, sector: str, country: str, kind: str = MEMBER) -> dict[str, Any]:
    """Insert the organisation row; returns it with the identity object the caller must ingest."""
    if not actor.is_hub_admin:
        raise PermissionDenied("only a hub admin may add organisations")
    if kind not in KINDS:
        raise InvalidInput(f"unknown organisation kind {kind!r}; use {' or '.join(KINDS)}")
    name, sector, country = validate(name, sector, country)
    if conn.execute(select(organisation.c.pk).where(organisation.c.name == name)).first():
        raise AlreadyExists(f"organisation {name!r} already exists")
    at = now()
    ident = identity_id_for(name)
    pk = conn.execute(
        organisation.insert().values(
            name=name, identity_id=ident, sector=sector, country=country, kind=kind, created_at=at
        )
    ).inserted_primary_key[0]
    return {
        "pk": pk,
        "name": name,
        "identity_id": ident,
        "sector": sector,
        "country": country,
        "kind": kind,
        "identity": identity_object(name, sector, country, ident, format_stix(at)),
    }


def get(conn: Connection, name_or_identity: str) -> dict[str, Any]:
    col = organisation.c.identity_id if name_or_identity.startswith("identity--") else organisation.c.name
    row = conn.execute(select(organisation).where(col == name_or_identity)).first()
    if row is None:
        raise NotFound(f"no organisation named {name_or_identity!r} (see 'accord org list')")
    return dict(row._mapping)


def make_partner(conn: Connection, actor: Viewer, name: str) -> dict[str, Any]:
    """Turn an existing member organisation into a partner hub (hubs set up before partner hubs existed
    stood for their partners with member organisations). Refused, with the reasons, while it is in a
    sharing group, has users above ``reader``, or may write to a collection."""
    if not actor.is_hub_admin:
        raise PermissionDenied("only a hub admin may register partner hubs")
    org = get(conn, name)
    if is_partner(org):
        raise AlreadyExists(f"{org['name']!r} is a partner hub already")
    why = []
    in_groups = [r.name for r in conn.execute(
        select(sharing_group.c.name).join(group_member, group_member.c.group_pk == sharing_group.c.pk)
        .where(group_member.c.org_pk == org["pk"]).order_by(sharing_group.c.name))]  # fmt: skip
    if in_groups:
        why.append(f"it is in sharing group(s) {', '.join(in_groups)} (accord group remove-member)")
    above = [r.email for r in conn.execute(
        select(app_user.c.email).where(app_user.c.org_pk == org["pk"], app_user.c.role != "reader")
        .order_by(app_user.c.email))]  # fmt: skip
    if above:
        why.append(f"its user(s) {', '.join(above)} hold a role above reader")
    writes = [r.id for r in conn.execute(
        select(taxii_collection.c.id).join(taxii_collection_org, taxii_collection_org.c.collection_pk ==
                                           taxii_collection.c.pk)
        .where(taxii_collection_org.c.org_pk == org["pk"], taxii_collection_org.c.access == "write"))]  # fmt: skip
    if writes:
        why.append(f"it may write to collection(s) {', '.join(writes)}")
    if why:
        raise InvalidInput(f"{org['name']!r} cannot become a partner hub while " + "; ".join(why))
    conn.execute(organisation.update().where(organisation.c.pk == org["pk"]).values(kind=PARTNER_HUB))
    return {**org, "kind": PARTNER_HUB}


def get_by_pk(conn: Connection, pk: int) -> dict[str, Any]:
    row = conn.execute(select(organisation).where(organisation.c.pk == pk)).first()
    if row is None:
        raise NotFound(f"no organisation #{pk}")
    return dict(row._mapping)


def list_all(conn: Connection, kind: str | None = None) -> list[dict[str, Any]]:
    """Every organisation by name (``kind``: only members, or only partner hubs)."""
    q = select(organisation).order_by(organisation.c.name)
    if kind is not None:
        q = q.where(organisation.c.kind == kind)
    return [dict(r._mapping) for r in conn.execute(q)]


def member_identity_ids(conn: Connection) -> dict[str, int]:
    """identity id → organisation pk, for every member organisation."""
    q = select(organisation.c.identity_id, organisation.c.pk).where(organisation.c.kind == MEMBER)
    return {r.identity_id: r.pk for r in conn.execute(q)}


def group_pks_of(conn: Connection, org_pk: int) -> frozenset[int]:
    rows = conn.execute(select(group_member.c.group_pk).where(group_member.c.org_pk == org_pk))
    return frozenset(r.group_pk for r in rows)


def viewer_for(conn: Connection, name: str, *, operator: bool = True, source: str = "cli") -> Viewer:
    """The operator acting as (and seeing exactly what is visible to) one organisation.

    For a partner hub that is what the partner's token would be handed: a partner viewer."""
    org = get(conn, name)
    partner = is_partner(org)
    return Viewer(
        org_pk=org["pk"],
        org_name=org["name"],
        org_identity=org["identity_id"],
        group_pks=frozenset() if partner else group_pks_of(conn, org["pk"]),
        operator=operator,
        partner=partner,
        source=source,
    )
