"""REST for collective action and the UN norms: impact totals, per-actor timelines, the sanctions
import, Accord's extension definitions and schemas, the norms and incidents assessed against them.

The JSON here is also what charts are drawn from (the web UI): ``/api/v1/impact`` gives a series per
group and period, ``/api/v1/actions/timeline`` the dated actions of one actor.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from accord.access.viewer import Viewer
from accord.api.auth import hub_of, viewer
from accord.api.body import read_limited
from accord.cli.output import dumps
from accord.errors import NotFound
from accord.norms import reference
from accord.stix import extensions

router = APIRouter(prefix="/api/v1", tags=["collective action"])


def _json(value: Any, status: int = 200) -> Response:
    return Response(dumps(value, pretty=False), status_code=status, media_type="application/json")


@router.get("/impact", summary="Impact totals from the disruption actions you may see")
def impact(
    request: Request,
    who: Annotated[Viewer, Depends(viewer)],
    by: Annotated[str, Query(description="region, subregion, country, partner, actor or type")] = "type",
    period: Annotated[str, Query(description="year, quarter or all")] = "year",
) -> Response:
    return _json(hub_of(request).impact(who, by=by, period=period))


@router.get("/actions/timeline", summary="The disruption actions against one actor, oldest first")
def timeline(
    request: Request,
    who: Annotated[Viewer, Depends(viewer)],
    actor: Annotated[str, Query(description="Name, alias or STIX id of a threat actor, intrusion set or malware")],
) -> Response:
    return _json(hub_of(request).actor_timeline(who, actor))


@router.post("/sanctions/import", status_code=201, summary="Import OFAC SDN cyber designations (sdn.csv body)")
async def sanctions_import(
    request: Request,
    who: Annotated[Viewer, Depends(viewer)],
    date: Annotated[str | None, Query(description="The list's date, YYYY-MM-DD (default today, UTC)")] = None,
    audience: Annotated[str | None, Query(description="org, group:NAME, community, federation, public")] = None,
    partial: Annotated[bool, Query(description="Not the whole list: do not mark missing entries delisted")] = False,
) -> Response:
    hub = hub_of(request)
    body = await read_limited(request, hub.settings.max_bundle_bytes)
    list_date = date or datetime.now(UTC).strftime("%Y-%m-%d")
    out = await run_in_threadpool(
        lambda: hub.import_sanctions(
            who, body, list_date=list_date, source="api upload", audience=audience, full_list=not partial, via="api"
        )
    )
    return _json(out, 201 if (out["added"] or out["new_version"]) else 200)


@router.get("/extensions", summary="Accord's STIX extension definitions (no sign-in needed)")
def extension_definitions() -> Response:
    names = extensions.schema_names()
    schemas = {ext_id: f"/api/v1/extensions/{name}/schema" for ext_id, name in names.items()}
    return _json({"objects": extensions.definitions(), "schemas": schemas})


@router.get("/extensions/{name}/schema", summary="The JSON schema of one extension (by name or definition id)")
def extension_schema(name: str) -> Response:
    try:
        return Response(dumps(extensions.schema(name)), media_type="application/schema+json")
    except KeyError:
        raise NotFound(f"no extension {name!r}; known: {', '.join(extensions.schema_names().values())}") from None


@router.get("/norms", summary="The 11 UN GGE 2015 norms (no sign-in needed)")
def norms_reference() -> Response:
    return _json(reference.document())


@router.get("/norms/report", summary="Incidents per UN norm and per attributed state, from what you may see")
def norms_report(
    request: Request,
    who: Annotated[Viewer, Depends(viewer)],
    state: Annotated[str | None, Query(description="ISO 3166-1 alpha-2 code of an attributed state")] = None,
    norm: Annotated[str | None, Query(description="13a … 13k")] = None,
) -> Response:
    return _json(hub_of(request).norms_report(who, state=state, norm=norm))


@router.get("/incidents/{incident_id}/attributions", summary="An incident's attributions and assessments, side by side")
def incident_attributions(request: Request, incident_id: str, who: Annotated[Viewer, Depends(viewer)]) -> Response:
    return _json(hub_of(request).incident_attributions(who, incident_id))
