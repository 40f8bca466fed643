"""``/api/v1/objects``, ``/api/v1/export`` and ``/api/v1/stats``: intelligence in and out."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from accord.access.viewer import Viewer
from accord.api.auth import hub_of, viewer
from accord.api.body import read_limited
from accord.cli.output import dumps
from accord.errors import InvalidInput
from accord.stix.timestamps import parse

router = APIRouter(prefix="/api/v1", tags=["objects"])


def _ts(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse(value)
    except ValueError:
        raise InvalidInput(f"{name}={value!r} is not a timestamp like 2024-05-01T00:00:00Z") from None


def _json(value: Any, status: int = 200) -> Response:
    return Response(dumps(value, pretty=False), status_code=status, media_type="application/json")


@router.get("/objects", summary="Search current objects you may see, newest first")
def search_objects(
    request: Request,
    who: Annotated[Viewer, Depends(viewer)],
    type: Annotated[list[str] | None, Query(description="STIX type (repeatable)")] = None,
    text: str | None = None,
    label: str | None = None,
    tlp: str | None = None,
    owner: Annotated[str | None, Query(description="Owning organisation's name")] = None,
    added_after: str | None = None,
    audience: Annotated[
        str | None, Query(description="org (your organisation's own), group:NAME (a group you are in), community, "
                          "federation or public")  # fmt: skip
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> Response:
    rows = hub_of(request).search(who, types=type or (), text=text, label=label, tlp=tlp, owner=owner,
                                  added_after=_ts(added_after, "added_after"), limit=limit,
                                  audience=audience)  # fmt: skip
    return _json({"count": len(rows), "objects": rows})


@router.post("/objects", status_code=201, summary="Publish STIX content (bundle, object, array, JSON lines, envelope)")
async def post_objects(
    request: Request,
    who: Annotated[Viewer, Depends(viewer)],
    tlp: Annotated[str | None, Query(description="TLP for objects that carry none")] = None,
    audience: Annotated[str | None, Query(description="org, group:NAME, community, federation, public")] = None,
) -> Response:
    hub = hub_of(request)
    body = await read_limited(request, hub.settings.max_bundle_bytes)
    opts = hub.options(tlp=tlp, audience=audience, via="api", source=who.source)
    result = await run_in_threadpool(hub.ingest_bytes, who, body, opts)
    status = 201 if (result.added or result.new_version) else 200
    if result.rejected and not (result.added or result.new_version or result.unchanged):
        status = 422
    return _json(result.as_dict(), status)


@router.get("/objects/{stix_id}", summary="One object (with ?versions=all, every version you may see)")
def get_object(
    request: Request,
    stix_id: str,
    who: Annotated[Viewer, Depends(viewer)],
    versions: Annotated[str, Query(pattern="^(last|all)$")] = "last",
) -> Response:
    return _json(hub_of(request).get(who, stix_id, all_versions=versions == "all"))


@router.delete("/objects/{stix_id}", summary="Revoke an object your organisation created")
def revoke_object(request: Request, stix_id: str, who: Annotated[Viewer, Depends(viewer)]) -> Response:
    return _json(hub_of(request).revoke_object(who, stix_id, via="api").as_dict())


@router.get("/export", summary="A STIX 2.1 bundle of every current object you may see")
def export(
    request: Request,
    who: Annotated[Viewer, Depends(viewer)],
    type: Annotated[list[str] | None, Query(description="STIX type (repeatable)")] = None,
) -> StreamingResponse:
    hub = hub_of(request)

    def body() -> Iterator[bytes]:
        yield b'{"type":"bundle","id":"bundle--' + str(uuid.uuid4()).encode() + b'","objects":['
        first = True
        for obj in hub.export(who, types=type or ()):
            yield (b"" if first else b",") + dumps(obj, pretty=False)
            first = False
        yield b"]}"

    return StreamingResponse(body(), media_type="application/stix+json;version=2.1")


@router.get("/stats", summary="Counts of current objects you may see, by type and TLP")
def stats(request: Request, who: Annotated[Viewer, Depends(viewer)]) -> Response:
    return _json(hub_of(request).stats(who))
