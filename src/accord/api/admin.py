"""``/api/v1/orgs``, ``/users`` (``/users/{email}/disable`` and ``/enable``), ``/tokens``, ``/groups``, ``/audit``
and ``/whoami``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from accord.access.viewer import Viewer
from accord.api.auth import hub_of, viewer
from accord.api.objects import _json

router = APIRouter(prefix="/api/v1", tags=["administration"])
Who = Annotated[Viewer, Depends(viewer)]


class OrgIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    sector: str
    country: str = Field(min_length=2, max_length=2)


class UserIn(BaseModel):
    email: str
    org: str
    role: str = "analyst"
    name: str | None = None


class TokenIn(BaseModel):
    user: str
    label: str | None = None
    expires_in_days: int | None = Field(default=90, ge=1)


class GroupIn(BaseModel):
    name: str
    owner: str
    members: list[str] = []
    members_visible: bool = False
    description: str | None = None


class MemberIn(BaseModel):
    org: str


@router.get("/whoami")
def whoami(who: Who) -> Response:
    return _json({"user": who.email, "org": who.org_name, "org_identity": who.org_identity, "role": who.role})


@router.get("/orgs")
def list_orgs(request: Request, who: Who) -> Response:
    return _json(hub_of(request).list_orgs(who))


@router.post("/orgs", status_code=201)
def add_org(request: Request, who: Who, body: OrgIn) -> Response:
    return _json(hub_of(request).add_org(who, body.name, body.sector, body.country), 201)


@router.get("/users")
def list_users(request: Request, who: Who, org: str | None = None) -> Response:
    return _json(hub_of(request).list_users(who, org))


@router.post("/users", status_code=201)
def add_user(request: Request, who: Who, body: UserIn) -> Response:
    return _json(hub_of(request).add_user(who, body.email, body.org, body.role, body.name), 201)


@router.post("/users/{email}/disable")
def disable_user(request: Request, who: Who, email: str) -> Response:
    """Disable a user: tokens and password refused, web sessions ended (admins; org-admins for their own)."""
    return _json(hub_of(request).set_user_disabled(who, email, True))


@router.post("/users/{email}/enable")
def enable_user(request: Request, who: Who, email: str) -> Response:
    """Enable a disabled user again."""
    return _json(hub_of(request).set_user_disabled(who, email, False))


@router.get("/tokens")
def list_tokens(request: Request, who: Who, user: str | None = None) -> Response:
    return _json(hub_of(request).list_tokens(who, user))


@router.post("/tokens", status_code=201)
def create_token(request: Request, who: Who, body: TokenIn) -> Response:
    return _json(hub_of(request).create_token(who, body.user, body.label, body.expires_in_days), 201)


@router.delete("/tokens/{token_id}")
def revoke_token(request: Request, who: Who, token_id: int) -> Response:
    return _json(hub_of(request).revoke_token(who, token_id))


@router.get("/groups")
def list_groups(request: Request, who: Who) -> Response:
    return _json(hub_of(request).list_groups(who))


@router.post("/groups", status_code=201)
def add_group(request: Request, who: Who, body: GroupIn) -> Response:
    out = hub_of(request).add_group(who, body.name, body.owner, body.members, members_visible=body.members_visible,
                                    description=body.description)  # fmt: skip
    return _json(out, 201)


@router.post("/groups/{name}/members", status_code=201)
def add_member(request: Request, who: Who, name: str, body: MemberIn) -> Response:
    return _json(hub_of(request).add_group_member(who, name, body.org), 201)


@router.delete("/groups/{name}/members/{org}")
def remove_member(request: Request, who: Who, name: str, org: str) -> Response:
    return _json(hub_of(request).remove_group_member(who, name, org))


@router.get("/audit")
def audit(request: Request, who: Who, limit: int = 100) -> Response:
    return _json(hub_of(request).audit(who, limit=max(1, min(limit, 1000))))
