"""``/api/v1/spyware``: the commercial-spyware registry, the indicators a device check needs, the helpline
organisations, and the privacy-preserving share of a device check's sightings."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from accord.access.viewer import Viewer
from accord.api.auth import hub_of, viewer
from accord.api.objects import _json

router = APIRouter(prefix="/api/v1/spyware", tags=["spyware"])
Who = Annotated[Viewer, Depends(viewer)]


class SightingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    indicator: str = Field(description="the matched indicator's id")
    count: int = Field(ge=1, le=999_999_999, description="how many times it was seen")
    first_seen: str | None = None
    last_seen: str | None = None


class ShareIn(BaseModel):
    """Only sightings (counts and dates) and the recipient: anything else is refused."""

    model_config = ConfigDict(extra="forbid")

    sightings: list[SightingIn] = Field(min_length=1, max_length=1000)
    share_with: str | None = Field(default=None, description="a helpline organisation (TLP:RED, only it sees them)")
    anonymous: bool | None = Field(default=None, description="true: to the community, anonymised (TLP:AMBER)")


@router.get("", summary="Surveillance vendors and spyware products you may see")
def list_registry(request: Request, who: Who) -> Response:
    return _json(hub_of(request).spyware_registry(who).summary())


@router.get("/indicators", summary="A STIX bundle of the registry and the spyware indicators you may see")
def indicators(request: Request, who: Who) -> Response:
    reg = hub_of(request).spyware_registry(who)
    return _json({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": list(reg.bundle_objects())})


@router.get("/helplines", summary="Helpline organisations a device check can share a sighting with")
def helplines(request: Request, who: Who) -> Response:
    return _json(hub_of(request).spyware_helplines(who))


@router.post("/sightings", status_code=201, summary="Share a device check's sightings (counts and dates only)")
def share(request: Request, who: Who, body: ShareIn) -> Response:
    data: dict[str, Any] = body.model_dump(exclude_none=True)
    data["sightings"] = [s.model_dump(exclude_none=True) for s in body.sightings]
    return _json(hub_of(request).spyware_share(who, data), 201)


@router.get("/{name}", summary="A vendor or product by name, alias or id (every match)")
def show(request: Request, who: Who, name: str) -> Response:
    return _json(hub_of(request).spyware_registry(who).show(name))
