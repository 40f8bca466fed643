"""``/api/v1/collections``: the TAXII collections this hub serves, managed like ``accord collection``.

Hub admins list every collection's configuration, add collections (the same fields as ``accord
collection add``) and remove them. Anyone else signed in lists the collections they may read or write
(the rule TAXII's collection list uses), each with ``can_read`` and ``can_write``, and without the
configuration (named readers and writers) that only admins see.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from accord.access.collections import describe
from accord.access.viewer import Viewer
from accord.api.auth import hub_of, viewer
from accord.api.objects import _json

router = APIRouter(prefix="/api/v1", tags=["collections"])
Who = Annotated[Viewer, Depends(viewer)]
#: What a collection's reader (not an admin) is shown: what TAXII's collection resource shows, and its scope.
_PUBLIC_FIELDS = ("id", "title", "description", "scope")


class CollectionIn(BaseModel):
    """The options of ``accord collection add``; ``readers`` and ``writers`` also take a list of names."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(description="1 to 200 characters")
    scope: str = Field(default="all", description="all, org, group:NAME, public, federation or feed:NAME")
    readers: str | list[str] = Field(default="all", description="all, or organisations (ORG,ORG,... or a list)")
    writers: str | list[str] = Field(default="none", description="none, all, or organisations")
    write_audience: str | None = Field(default=None, description="org, group:NAME, community, federation, public")
    description: str | None = None


def _names(value: str | list[str]) -> str:
    return ",".join(value) if isinstance(value, list) else value


def _flags(c: dict[str, Any]) -> dict[str, bool]:
    return {"can_read": c["can_read"], "can_write": c["can_write"]}


@router.get("/collections", summary="TAXII collections: every one for hub admins, else those you may read or write")
def list_collections(request: Request, who: Who) -> Response:
    hub = hub_of(request)
    mine = hub.taxii_collections(who)
    if not who.is_hub_admin:
        return _json([{**{k: describe(c)[k] for k in _PUBLIC_FIELDS}, **_flags(c)} for c in mine])
    flags = {c["id"]: _flags(c) for c in mine}
    none = {"can_read": False, "can_write": False}
    return _json([{**c, **flags.get(c["id"], none)} for c in hub.list_collections(who)])


@router.post("/collections", status_code=201, summary="Add a TAXII collection (hub admins)")
def add_collection(request: Request, who: Who, body: CollectionIn) -> Response:
    out = hub_of(request).add_collection(who, body.title, scope=body.scope, readers=_names(body.readers),
                                         writers=_names(body.writers), write_audience=body.write_audience,
                                         description=body.description)  # fmt: skip
    return _json(out, 201)


@router.delete("/collections/{collection_id}", summary="Remove a TAXII collection (hub admins; objects stay)")
def remove_collection(request: Request, who: Who, collection_id: str) -> Response:
    return _json(hub_of(request).remove_collection(who, collection_id))
