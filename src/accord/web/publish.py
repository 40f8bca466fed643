"""Publishing from the browser: an indicator (with live pattern validation), a report holding objects,
a sighting, a disruption action, and file upload.

Both go through ``Hub.ingest`` (``via="web"``), the one write path, so TLP caps, authorship and
validation are exactly those of every other producer.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from accord.errors import AccordError, InvalidInput, TooLarge
from accord.stix.extensions import ACTION_TYPES, COUNT_FIELDS, DISRUPTION_EXTENSION_ID
from accord.stix.patterns import check_pattern
from accord.stix.reader import Item
from accord.stix.timestamps import format_stix, now, parse
from accord.web.auth import Who, current, form_of, hub_of, text
from accord.web.render import WebRoute, page, redirect

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Me = Annotated[Who, Depends(current)]
MAX_PATTERN = 10_000
SHOWN_OUTCOMES = 1000
INDICATOR_TYPES = ("anomalous-activity", "anonymization", "benign", "compromised", "malicious-activity",
                   "attribution", "unknown")  # fmt: skip


def _audiences(request: Request, who: Who) -> list[str]:
    """'' (the default by TLP), then every audience the publisher may name; ingest still checks each."""
    groups = [g["name"] for g in hub_of(request).list_groups(who.viewer)]
    return ["", "org", *[f"group:{g}" for g in groups], "community", "federation", "public"]


REPORT_FIELDS = ("name", "description", "report_types", "published", "object_refs", "tlp", "audience")
ACTION_FIELDS = ("name", "description", "action_date", "status", "operation_name", "lead_countries", "regions",
                 "target_refs", "tlp", "audience", *COUNT_FIELDS)  # fmt: skip
#: Suggested for an action's regions (STIX region-ov and the groupings the impact totals use).
REGIONS = ("africa", "asia", "europe", "northern-america", "latin-america-caribbean", "oceania",
           "australia-and-new-zealand", "western-europe", "eastern-europe", "indo-pacific", "global")  # fmt: skip
SIGHTING_FIELDS = ("sighting_of_ref", "count", "first_seen", "last_seen", "here", "description", "tlp", "audience")


def _form_page(request: Request, who: Who, status: int = 200, **ctx: Any) -> Response:
    """The publish page; ``values``/``report``/``sighting`` refill a form, ``*error`` says what was wrong."""
    values = {"name": "", "pattern": "", "description": "", "indicator_types": "malicious-activity",
              "labels": "", "valid_from": "", "tlp": "amber", "audience": "", **ctx.pop("values", {})}  # fmt: skip
    report = {**dict.fromkeys(REPORT_FIELDS, ""), "report_types": "threat-report", "tlp": "amber",
              **ctx.pop("report", {})}  # fmt: skip
    sighting = {**dict.fromkeys(SIGHTING_FIELDS, ""), "count": "1", "here": "on", "tlp": "amber",
                **ctx.pop("sighting", {})}  # fmt: skip
    action = {**dict.fromkeys(ACTION_FIELDS, ""), "status": "completed", "tlp": "amber", "action_types": [],
              **ctx.pop("action", {})}  # fmt: skip
    errors = {k: ctx.pop(k, "") for k in ("error", "report_error", "sighting_error", "action_error", "upload_error")}
    return page(request, who, "publish.html", status=status, values=values, report=report, sighting=sighting,
                action=action, action_types=ACTION_TYPES, count_fields=COUNT_FIELDS, regions=REGIONS,
                audiences=_audiences(request, who), indicator_types=INDICATOR_TYPES, **errors, **ctx)  # fmt: skip


@router.get("/publish")
def publish_form(request: Request, who: Me, attach: str = "", sighting_of: str = "", target: str = "") -> Response:
    """The forms; ``?attach=ID`` starts a report holding that object, ``?sighting_of=ID`` a sighting of it,
    ``?target=ID`` a disruption action against it."""
    return _form_page(request, who, report={"object_refs": attach.strip()},
                      sighting={"sighting_of_ref": sighting_of.strip()},
                      action={"target_refs": target.strip()})  # fmt: skip


@router.get("/publish/check-pattern")
def check(request: Request, who: Me, pattern: str = "") -> Response:
    """Live validation for the indicator form: ``{"valid": bool, "message": str}``."""
    if not pattern.strip():
        return JSONResponse({"valid": False, "message": "enter a STIX pattern, e.g. [domain-name:value = 'x.example']"})
    if len(pattern) > MAX_PATTERN:
        return JSONResponse({"valid": False, "message": f"a pattern may have at most {MAX_PATTERN:,} characters"})
    problem = check_pattern(pattern)
    return JSONResponse({"valid": problem is None, "message": problem or "valid STIX 2.1 pattern"})


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def build_indicator(values: dict[str, str], stamp: str) -> dict[str, Any]:
    """A STIX 2.1 indicator from the form's fields (validation is ingest's job, as for any producer)."""
    if not values["name"]:
        raise InvalidInput("the indicator needs a name")
    if not values["pattern"]:
        raise InvalidInput("the indicator needs a STIX pattern")
    valid_from = _stamp(values["valid_from"], "valid from", stamp)
    obj: dict[str, Any] = {
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}", "created": stamp,
        "modified": stamp, "name": values["name"], "pattern": values["pattern"], "pattern_type": "stix",
        "valid_from": valid_from,
    }  # fmt: skip
    if values["description"]:
        obj["description"] = values["description"]
    if types := _split(values["indicator_types"]):
        obj["indicator_types"] = types
    if labels := _split(values["labels"]):
        obj["labels"] = labels
    return obj


@router.post("/publish/indicator")
async def publish_indicator(request: Request, who: Me) -> Response:
    form = await form_of(request, who)
    hub = hub_of(request)
    values = {k: text(form, k) for k in ("name", "pattern", "description", "indicator_types", "labels",
                                         "valid_from", "tlp", "audience")}  # fmt: skip
    try:
        obj = build_indicator(values, format_stix(now()))
        opts = hub.options(tlp=values["tlp"] or None, audience=values["audience"] or None, via="web",
                           source=who.viewer.source, keep_outcomes=True)  # fmt: skip
        result = await run_in_threadpool(hub.ingest, who.viewer, [Item(0, obj)], opts)
    except AccordError as exc:
        return _form_page(request, who, exc.http_status, values=values, error=exc.message)
    if result.rejected:
        return _form_page(request, who, 422, values=values, error=result.errors[0].reason or "rejected")
    return redirect(f"/objects/{obj['id']}")


def _stamp(raw: str, what: str, default: str | None) -> str | None:
    """A ``datetime-local`` value (UTC) as a STIX timestamp; ``default`` when empty."""
    if not raw:
        return default
    try:
        return format_stix(parse(raw if raw.endswith("Z") else raw + ":00Z" if len(raw) == 16 else raw + "Z"))
    except ValueError:
        raise InvalidInput(f"{what} must be a date and time like 2024-05-01T12:00, got {raw!r}") from None


def _visible_ids(request: Request, who: Who, ids: list[str], what: str) -> None:
    """Refuse references to objects the publisher cannot see (absent and hidden ones read the same)."""
    seen = hub_of(request).lookup(who.viewer, ids)
    missing = [i for i in ids if i not in seen]
    if missing:
        raise InvalidInput(f"{what}: no object {', '.join(missing[:5])} that you can see")


def build_report(values: dict[str, str], stamp: str) -> dict[str, Any]:
    if not values["name"]:
        raise InvalidInput("the report needs a name")
    refs = list(dict.fromkeys(r.strip() for r in values["object_refs"].replace(",", "\n").splitlines() if r.strip()))
    if not refs:
        raise InvalidInput("a report holds at least one object: give STIX ids, one per line")
    obj: dict[str, Any] = {
        "type": "report", "spec_version": "2.1", "id": f"report--{uuid.uuid4()}", "created": stamp,
        "modified": stamp, "name": values["name"], "published": _stamp(values["published"], "published", stamp),
        "object_refs": refs,
    }  # fmt: skip
    if values["description"]:
        obj["description"] = values["description"]
    if types := _split(values["report_types"]):
        obj["report_types"] = types
    return obj


def build_sighting(values: dict[str, str], stamp: str, own_identity: str | None) -> dict[str, Any]:
    if not values["sighting_of_ref"]:
        raise InvalidInput("say what was sighted: the STIX id of an indicator, malware, tool, …")
    raw = values["count"] or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= 999_999_999:
        raise InvalidInput(f"count must be a whole number from 1 to 999,999,999, got {raw!r}")
    obj: dict[str, Any] = {
        "type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}", "created": stamp,
        "modified": stamp, "sighting_of_ref": values["sighting_of_ref"], "count": int(raw),
    }  # fmt: skip
    first = _stamp(values["first_seen"], "first seen", None)
    last = _stamp(values["last_seen"], "last seen", None)
    if first and last and parse(last) < parse(first):
        raise InvalidInput("last seen is before first seen")
    obj.update({k: v for k, v in (("first_seen", first), ("last_seen", last)) if v})
    if values["here"] == "on" and own_identity:
        obj["where_sighted_refs"] = [own_identity]
    if values["description"]:
        obj["description"] = values["description"]
    return obj


def build_action(values: dict[str, Any], stamp: str) -> dict[str, Any]:
    """A ``disruption-action`` (Accord's extension SDO); ingest checks it against the extension's schema."""
    if not values["name"]:
        raise InvalidInput("the action needs a name")
    if not values["action_types"]:
        raise InvalidInput(f"choose at least one kind of action ({', '.join(ACTION_TYPES[:4])}, …)")
    when = values["action_date"]
    try:
        action_date = format_stix(parse(f"{when}T00:00:00Z")) if when else stamp
    except ValueError:
        raise InvalidInput(f"the action's date must look like 2024-05-01, got {when!r}") from None
    obj: dict[str, Any] = {
        "type": "disruption-action", "spec_version": "2.1", "id": f"disruption-action--{uuid.uuid4()}",
        "created": stamp, "modified": stamp, "name": values["name"], "action_types": values["action_types"],
        "action_date": action_date, "status": values["status"] or "completed",
        "extensions": {DISRUPTION_EXTENSION_ID: {"extension_type": "new-sdo"}},
    }  # fmt: skip
    for key in ("description", "operation_name"):
        if values[key]:
            obj[key] = values[key]
    if countries := [c.upper() for c in _split(values["lead_countries"])]:
        obj["lead_countries"] = countries
    if regions := [r.lower() for r in _split(values["regions"])]:
        obj["regions"] = regions
    if targets := _split(values["target_refs"].replace("\n", ",")):
        obj["target_refs"] = targets
    outcomes = {}
    for name in COUNT_FIELDS:
        raw = values[name]
        if raw:
            if not raw.isdigit():
                raise InvalidInput(f"{name.replace('_', ' ')} must be a whole number, got {raw!r}")
            outcomes[name] = int(raw)
    if outcomes:
        obj["outcomes"] = outcomes
    return obj


async def _publish_one(request: Request, who: Who, form_name: str, fields: tuple[str, ...], build: Any) -> Response:
    """Build one object from a posted form, check its references, ingest it, and show it (or the form again)."""
    form = await form_of(request, who)
    hub = hub_of(request)
    values: dict[str, Any] = {k: text(form, k) for k in fields}
    if form_name == "action":
        values["action_types"] = [t for t in form.getlist("action_types") if isinstance(t, str)]
    try:
        obj = build(values)
        if obj["type"] == "report":
            _visible_ids(request, who, obj["object_refs"], "object_refs")
        elif obj["type"] == "sighting":
            _visible_ids(request, who, [obj["sighting_of_ref"]], "sighting_of_ref")
        elif obj.get("target_refs"):
            _visible_ids(request, who, obj["target_refs"], "targets")
        opts = hub.options(tlp=values["tlp"] or None, audience=values["audience"] or None, via="web",
                           source=who.viewer.source, keep_outcomes=True)  # fmt: skip
        result = await run_in_threadpool(hub.ingest, who.viewer, [Item(0, obj)], opts)
    except AccordError as exc:
        return _form_page(request, who, exc.http_status, **{form_name: values, f"{form_name}_error": exc.message})
    if result.rejected:
        reason = result.errors[0].reason or "rejected"
        return _form_page(request, who, 422, **{form_name: values, f"{form_name}_error": reason})
    return redirect(f"/objects/{obj['id']}")


@router.post("/publish/report")
async def publish_report(request: Request, who: Me) -> Response:
    return await _publish_one(request, who, "report", REPORT_FIELDS, lambda v: build_report(v, format_stix(now())))


@router.post("/publish/sighting")
async def publish_sighting(request: Request, who: Me) -> Response:
    identity = who.viewer.org_identity
    return await _publish_one(request, who, "sighting", SIGHTING_FIELDS,
                              lambda v: build_sighting(v, format_stix(now()), identity))  # fmt: skip


@router.post("/publish/action")
async def publish_action(request: Request, who: Me) -> Response:
    return await _publish_one(request, who, "action", ACTION_FIELDS, lambda v: build_action(v, format_stix(now())))


@router.post("/publish/bundle")
async def publish_bundle(request: Request, who: Me) -> Response:
    hub = hub_of(request)
    limit = hub.settings.max_bundle_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise TooLarge(f"the upload is {int(declared):,} bytes; the limit is {limit:,} (ACCORD_MAX_BUNDLE_BYTES)")
    form = await form_of(request, who)
    upload = form.get("bundle")
    tlp, audience = text(form, "tlp"), text(form, "audience")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _form_page(request, who, 400, upload_error="choose a file to upload", upload_values={"tlp": tlp,
                          "audience": audience})  # fmt: skip
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"{upload.filename} is larger than the limit of {limit:,} bytes (ACCORD_MAX_BUNDLE_BYTES)")
    try:
        source = f"{who.viewer.source} upload {upload.filename}"[:300]
        opts = hub.options(tlp=tlp or None, audience=audience or None, via="web", source=source, keep_outcomes=True)
        result = await run_in_threadpool(hub.ingest_bytes, who.viewer, data, opts)
    except AccordError as exc:
        return _form_page(request, who, exc.http_status, upload_error=exc.message,
                          upload_values={"tlp": tlp, "audience": audience})  # fmt: skip
    # Every rejected object, and the first SHOWN_OUTCOMES of the others (a file may hold a million).
    stored = [o for o in result.outcomes if o.status != "rejected"]
    shown = sorted([*result.errors, *stored[:SHOWN_OUTCOMES]], key=lambda o: o.index)
    names = hub.lookup(who.viewer, [o.id for o in stored[:SHOWN_OUTCOMES] if o.id])
    return page(request, who, "publish_result.html", filename=upload.filename, result=result, names=names,
                shown=shown, hidden=len(stored) - min(len(stored), SHOWN_OUTCOMES))  # fmt: skip
