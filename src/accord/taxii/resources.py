"""TAXII 2.1 resources as JSON: discovery, API root, collections, envelope, manifest, versions, status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from accord.stix.timestamps import format_micro
from accord.store.taxii_reads import Page, version_string
from accord.taxii.media import STIX_MEDIA_TYPE, TAXII_MEDIA_TYPE

#: Date headers of an empty page that started from nowhere: any client feeding it back misses nothing.
EPOCH = "1970-01-01T00:00:00.000000Z"


def discovery(root_url: str) -> dict[str, Any]:
    return {
        "title": "Accord TAXII 2.1 server",
        "description": "Threat intelligence shared on this Accord hub. Every read obeys the hub's visibility rule.",
        "default": root_url,
        "api_roots": [root_url],
    }


def api_root(max_content_length: int) -> dict[str, Any]:
    return {
        "title": "Accord",
        "description": "Collections are views over the hub's one store: what you see is what you may see.",
        "versions": [TAXII_MEDIA_TYPE],
        "max_content_length": max_content_length,
    }


def collection(coll: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": coll["id"], "title": coll["title"]}
    if coll.get("description"):
        out["description"] = coll["description"]
    out.update(can_read=bool(coll["can_read"]), can_write=bool(coll["can_write"]), media_types=[STIX_MEDIA_TYPE])
    return out


def collections(colls: list[dict[str, Any]]) -> dict[str, Any]:
    # TAXII forbids empty lists: no readable collection means no "collections" property.
    return {"collections": [collection(c) for c in colls]} if colls else {}


def _paged(page: Page, key: str, items: list[Any], next_token: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"more": page.more}
    if page.more and next_token:
        out["next"] = next_token
    if items:
        out[key] = items
    return out


def envelope(page: Page, next_token: str | None) -> bytes:
    """The envelope's JSON, built around each object's stored JSON text (a page read with ``text``):
    the objects are never parsed and serialised again on their way out."""
    out = b'{"more":true' if page.more else b'{"more":false'
    if page.more and next_token:
        out += b',"next":' + orjson.dumps(next_token)
    if not page.texts:
        return out + b"}"
    return out + b',"objects":[' + ",".join(page.texts).encode() + b"]}"


def manifest(page: Page, next_token: str | None) -> dict[str, Any]:
    records = [
        {"id": r["stix_id"], "date_added": format_micro(r["date_added"]),
         "version": version_string(r["version_key"], r["date_added"]), "media_type": STIX_MEDIA_TYPE}
        for r in page.rows
    ]  # fmt: skip
    return _paged(page, "objects", records, next_token)


def versions(page: Page, next_token: str | None) -> dict[str, Any]:
    return _paged(page, "versions", [version_string(r["version_key"], r["date_added"]) for r in page.rows],
                  next_token)  # fmt: skip


def date_headers(page: Page, start: datetime | None) -> dict[str, str]:
    """``X-TAXII-Date-Added-First`` / ``-Last``: the page's first and last ``date_added``.

    An empty page repeats where it started (the ``added_after`` or cursor asked for), so a client that
    pages with ``added_after`` set to the last header stays where it is: no loop, no gap. Only dates of
    versions the viewer may see (or that the client sent) ever appear here.
    """
    if page.first_added is not None and page.last_added is not None:
        first, last = format_micro(page.first_added), format_micro(page.last_added)
    else:
        first = last = format_micro(start) if start is not None else EPOCH
    return {"X-TAXII-Date-Added-First": first, "X-TAXII-Date-Added-Last": last}


def status(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row["id"],
        "status": row["status"],
        "request_timestamp": format_micro(row["request_timestamp"]),
        "total_count": row["total_count"],
        "success_count": row["success_count"],
        "successes": row["successes"],
        "failure_count": row["failure_count"],
        "failures": row["failures"],
        "pending_count": row["pending_count"],
        "pendings": row["pendings"],
    }
    return {k: v for k, v in out.items() if v is not None and v != []}
