"""Partner hubs: registering a federated hub on this one so its pulls use partner credentials.

A partner hub is an organisation of kind ``partner-hub`` (``accord.access.orgs``). Its users are
readers; a token of one of them is a partner viewer, which reads only the federation collections it is
a reader of (and public ones) over TAXII, sees only TLP:CLEAR and TLP:GREEN objects shared with the
federation or the public, never writes, and is refused by the REST API and the web interface.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from accord.access import orgs, users
from accord.access.viewer import Viewer
from accord.errors import InvalidInput, PermissionDenied
from accord.store import audit

if TYPE_CHECKING:
    from accord.hub import Hub

DEFAULT_SECTOR = "government-national"
#: A partner's pull token lives longer than a person's (90 days): it is configuration on the other hub.
DEFAULT_TOKEN_DAYS = 365


def add(
    hub: Hub,
    actor: Viewer,
    name: str,
    country: str,
    *,
    sector: str = DEFAULT_SECTOR,
    user: str | None = None,
    token_days: int | None = DEFAULT_TOKEN_DAYS,
) -> dict[str, Any]:
    """Register a partner hub; with ``user``, also its reader and a token for it (shown once, here only)."""
    if not actor.is_hub_admin:
        raise PermissionDenied("only a hub admin may register partner hubs")
    if token_days is not None and token_days <= 0:
        raise InvalidInput("a token's lifetime must be at least one day")
    if user is not None:
        with hub.engine.connect() as conn:
            user = users.check_new_email(conn, user)  # checked before anything is stored
    org = hub.add_org(actor, name, sector, country, kind=orgs.PARTNER_HUB)
    out: dict[str, Any] = {k: org[k] for k in ("name", "identity_id", "sector", "country", "kind")}
    out.update(user=None, token=None, token_expires_at=None)
    if user is not None:
        out["user"] = hub.add_user(actor, user, org["name"], "reader")["email"]
        tok = hub.create_token(actor, out["user"], label="partner hub pulls", expires_in_days=token_days)
        out["token"], out["token_expires_at"] = tok["token"], tok["expires_at"]
    return out


def convert(hub: Hub, actor: Viewer, name: str) -> dict[str, Any]:
    """Make an existing organisation a partner hub (for hubs set up before partner hubs existed); its
    tokens then read only what a partner hub may."""
    with hub.engine.begin() as conn:
        org = orgs.make_partner(conn, actor, name)
        audit.record(conn, actor=actor.label, org_pk=actor.org_pk, action="org.partner-hub", target=org["name"],
                     source=actor.source)  # fmt: skip
    return {k: org[k] for k in ("name", "identity_id", "sector", "country", "kind")}


def list_all(hub: Hub, actor: Viewer) -> list[dict[str, Any]]:
    """The partner hubs registered here, with their users."""
    if not actor.is_hub_admin:
        raise PermissionDenied("only a hub admin may list partner hubs")
    partners = [o for o in hub.list_orgs(actor) if o["kind"] == orgs.PARTNER_HUB]
    people: dict[str, list[str]] = {}
    for u in hub.list_users(actor):
        people.setdefault(u["org"], []).append(u["email"])
    return [{**p, "users": sorted(people.get(p["name"], []))} for p in partners]
