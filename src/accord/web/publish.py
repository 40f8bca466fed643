"""Publishing from the browser: an indicator form (with live pattern validation) and bundle upload.

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
from accord.stix.patterns import check_pattern
from accord.stix.reader import Item
from accord.stix.timestamps import format_stix, now, parse
from accord.web.auth import Who, current, form_of, hub_of, text
from accord.web.render import WebRoute, page, redirect

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Me = Annotated[Who, Depends(current)]
MAX_PATTERN = 10_000
INDICATOR_TYPES = ("anomalous-activity", "anonymization", "benign", "compromised", "malicious-activity",
                   "attribution", "unknown")  # fmt: skip


def _audiences(request: Request, who: Who) -> list[str]:
    """'' (the default by TLP), then every audience the publisher may name; ingest still checks each."""
    groups = [g["name"] for g in hub_of(request).list_groups(who.viewer)]
    return ["", "org", *[f"group:{g}" for g in groups], "community", "federation", "public"]


def _form_page(request: Request, who: Who, status: int = 200, **ctx: Any) -> Response:
    values = {"name": "", "pattern": "", "description": "", "indicator_types": "malicious-activity",
              "labels": "", "valid_from": "", "tlp": "amber", "audience": "", **ctx.pop("values", {})}  # fmt: skip
    return page(request, who, "publish.html", status=status, values=values, audiences=_audiences(request, who),
                indicator_types=INDICATOR_TYPES, error=ctx.pop("error", ""), **ctx)  # fmt: skip


@router.get("/publish")
def publish_form(request: Request, who: Me) -> Response:
    return _form_page(request, who)


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
    valid_from = stamp
    if values["valid_from"]:
        raw = values["valid_from"]
        try:
            valid_from = format_stix(parse(raw if raw.endswith("Z") else raw + ":00Z" if len(raw) == 16 else raw + "Z"))
        except ValueError:
            raise InvalidInput(f"valid from must be a date and time like 2024-05-01T12:00, got {raw!r}") from None
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
    names = {}
    shown = [o for o in result.outcomes if o.id and o.status != "rejected"]
    if shown:
        names = hub.lookup(who.viewer, [o.id for o in shown[:1000] if o.id])
    return page(request, who, "publish_result.html", filename=upload.filename, result=result, names=names)
