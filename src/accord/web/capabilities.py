"""Pages for the hub's capabilities beyond sharing: detection results and sightings (what detection sweeps
found), collective impact of disruption actions, UN norms and attributions, and the commercial-spyware
registry. Each reads through Hub methods, as the viewer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from accord.actions.charts import metric_value
from accord.actions.impact import DIMENSIONS, PERIODS
from accord.errors import InvalidInput, NotFound
from accord.norms import reference
from accord.stix.timestamps import format_micro, now, parse
from accord.web import detections as detect_page
from accord.web import present
from accord.web.auth import Who, current, hub_of
from accord.web.render import WebRoute, page

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Me = Annotated[Who, Depends(current)]


def metrics_of(total: dict[str, Any]) -> list[str]:
    """What an impact chart can show: actions, each count present, each amount in each currency present."""
    amounts = [f"{kind}:{cur}" for kind, by_cur in total.get("amounts", {}).items() for cur in by_cur]
    return ["actions", *total.get("counts", {}), *amounts]


def impact_chart(result: dict[str, Any], metric: str, limit: int = 15) -> present.BarChart:
    by, period = result["by"], result["period"]
    values: dict[str, int] = {}
    for row in result["groups"]:
        label = str(row[by]) if period == "all" else f"{row[by]} · {row['period']}"
        values[label] = int(metric_value(row, metric))
    return present.bar_chart({k: v for k, v in values.items() if v}, limit=limit)


@router.get("/impact")
def impact(request: Request, who: Me, by: str = "region", period: str = "all", metric: str = "actions") -> Response:
    result = hub_of(request).impact(who.viewer, by=by, period=period)
    metrics = metrics_of(result["total"])
    if metric not in metrics:
        raise InvalidInput(f"unknown metric {metric!r}; use one of: {', '.join(metrics)}")
    return page(request, who, "impact.html", result=result, by=by, period=period, metric=metric, metrics=metrics,
                dimensions=DIMENSIONS, periods=PERIODS, chart=impact_chart(result, metric))  # fmt: skip


@router.get("/impact/timeline")
def timeline(request: Request, who: Me, actor: str = "") -> Response:
    """The visible disruption actions against one actor (by name, alias or id), oldest first."""
    result, error, status = None, "", 200
    if actor.strip():
        try:
            result = hub_of(request).actor_timeline(who.viewer, actor)
        except (NotFound, InvalidInput) as exc:
            error, status = exc.message, exc.http_status
    return page(request, who, "timeline.html", status=status, actor=actor.strip(), result=result, error=error)


@router.get("/sightings")
def sightings(request: Request, who: Me, mine: str = "", after: str = "") -> Response:
    """Sightings, newest first: what detection sweeps found (and what analysts reported), where and how often."""
    hub = hub_of(request)
    try:
        cursor = parse(after) if after else None
    except ValueError:
        raise InvalidInput(f"after={after!r} is not a page position; start from the first page") from None
    owner = who.viewer.org_name if mine else None
    result = hub.search_page(who.viewer, types=["sighting"], owner=owner, cursor=cursor, limit=50)
    wanted: set[str] = set()
    for r in result["objects"]:
        wanted |= present.referenced_ids(r["object"])
    nxt = format_micro(result["next"]) if result["next"] else None
    return page(request, who, "sightings.html", result=result, names=hub.lookup(who.viewer, wanted), mine=bool(mine),
                next_cursor=nxt, paged=cursor is not None)  # fmt: skip


@router.get("/detections")
def detections(request: Request, who: Me, days: str = "", since: str = "", until: str = "", scope: str = "all",
               sort: str = "count") -> Response:  # fmt: skip
    """What sweeps found, per sighted indicator: hits, first and last seen, who reported it, what it points at."""
    today = now().date()
    w = detect_page.window(days.strip(), since.strip(), until.strip(), today)
    out = detect_page.results(hub_of(request), who.viewer, w, scope, sort)
    rows = out.pop("sighting_rows")
    filters = {"days": w.days if not (since or until) else None, "since": since.strip() or None,
               "until": until.strip() or None, "scope": scope if scope != "all" else None,
               "sort": sort if sort != "count" else None}  # fmt: skip
    return page(request, who, "detections.html", window=w, scope=scope, sort=sort, filters=filters,
                windows=detect_page.WINDOWS, scopes=detect_page.SCOPES, sorts=detect_page.SORTS,
                first_chart=detect_page.timeline(rows, w, "first", today),
                last_chart=detect_page.timeline(rows, w, "last", today), max_rows=detect_page.MAX_ROWS,
                max_sightings=detect_page.MAX_SIGHTINGS, **out)  # fmt: skip


@router.get("/norms")
def norms(request: Request, who: Me, state: str = "", norm: str = "") -> Response:
    report = hub_of(request).norms_report(who.viewer, state=state.strip() or None, norm=norm.strip() or None)
    return page(request, who, "norms.html", report=report, state=state.strip().upper(), norm=norm.strip(),
                all_norms=reference.norms())  # fmt: skip


@router.get("/spyware")
def spyware(request: Request, who: Me, everything: str = "") -> Response:
    rows = hub_of(request).spyware_registry(who.viewer).summary()
    if not everything:
        rows = [r for r in rows if r["products"] or r["indicators"] or r["sanctions"]]
    return page(request, who, "spyware.html", rows=rows, everything=bool(everything))
