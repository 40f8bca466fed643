"""Hits become STIX sightings: one per (organisation, indicator), updated in place.

A sweep that finds a million hits of one indicator publishes one ``sighting`` whose ``count``,
``first_seen`` and ``last_seen`` summarise them; the next sweep publishes a new version of the same
sighting (its id follows from the organisation and the indicator), adding to the count. A log file
swept again (the same path and the same first line: the same file, perhaps grown) replaces what it
counted before instead of adding to it — ``x_accord_counted`` keeps each file's count under an opaque
key (a hash: paths never leave the organisation); a stream (stdin) always adds. Sightings
name the organisation in ``where_sighted_refs`` and carry no observed data unless asked; they go
through the one ingest path, so other organisations see them exactly where they see the indicator.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson

from accord.detect.matcher import Hit
from accord.stix.timestamps import format_stix, version_key
from accord.stix.timestamps import parse as parse_ts

__all__ = ["Tally", "tally", "sighting_id", "sighting_objects", "source_key", "MAX_COUNT"]

SIGHTING_NAMESPACE = uuid.UUID("5b0c8c2e-6f57-4c4f-9a55-4d2f1f1b7a10")
SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")  # STIX 2.1's namespace for SCO ids
MAX_COUNT = 999_999_999  # the STIX 2.1 bound on sighting.count
_ONE_MS = timedelta(milliseconds=1)
#: Files whose counts a sighting keeps apart (``x_accord_counted``); older keys are dropped, their counts
#: staying in the total.
MAX_SOURCES = 500
_HEAD = 64 * 1024


def source_key(path: str, since: str | None = None) -> str | None:
    """An opaque key for "this log file" that stays the same as the file grows (its path and first line,
    hashed: a rotated file has another first line), or None for a stream (stdin) or what cannot be read.
    ``since`` is part of it: a sweep of part of a file counts apart from a sweep of all of it."""
    if path == "-":
        return None
    try:
        with open(path, "rb") as fh:
            head = fh.readline(_HEAD)
    except OSError:
        return None
    digest = hashlib.sha256(os.path.abspath(path).encode() + b"\0" + (since or "").encode() + b"\0" + head)
    return digest.hexdigest()[:24]


@dataclass(slots=True)
class Tally:
    count: int = 0
    first: str | None = None
    last: str | None = None
    events: list[tuple[str | None, dict[str, dict[str, Any]]]] = field(default_factory=list)
    #: hits per source_key (files); ``count`` minus their sum came from streams
    by_source: dict[str, int] = field(default_factory=dict)


def tally(hits: Iterable[Hit], keep: int = 0, sources: dict[str, str | None] | None = None) -> dict[str, Tally]:
    """Hits per indicator, with the earliest and latest observation time (and the first ``keep``
    events, where the hits carry them). ``sources`` maps a hit's ``file`` to its ``source_key``."""
    out: dict[str, Tally] = {}
    sources = sources or {}
    for hit in hits:
        t = out.setdefault(hit.indicator, Tally())
        t.count += 1
        key = sources.get(hit.file) if hit.file is not None else None
        if key is not None:
            t.by_source[key] = t.by_source.get(key, 0) + 1
        if hit.events and len(t.events) < keep:
            t.events.extend(hit.events[: keep - len(t.events)])
        if hit.first_observed and (t.first is None or version_key(hit.first_observed) < version_key(t.first)):
            t.first = hit.first_observed
        if hit.last_observed and (t.last is None or version_key(hit.last_observed) > version_key(t.last)):
            t.last = hit.last_observed
    return out


def observed_data(
    when: str | None, objects: dict[str, dict[str, Any]], org_identity: str, fallback: str
) -> list[dict[str, Any]]:
    """One event as STIX 2.1: its SCOs (ids derived from their content, refs rewritten to ids) and
    an observed-data object referring to them."""
    ids: dict[str, str] = {}
    for key, obj in objects.items():
        content = {k: v for k, v in obj.items() if not k.endswith(("_ref", "_refs"))}
        canonical = orjson.dumps(content, option=orjson.OPT_SORT_KEYS).decode()
        ids[key] = f"{obj.get('type', 'x-unknown')}--{uuid.uuid5(SCO_NAMESPACE, canonical)}"

    def rewrite(value: Any, prop: str) -> Any:
        if prop.endswith("_ref") and isinstance(value, str):
            return ids.get(value, value)
        if prop.endswith("_refs") and isinstance(value, list):
            return [ids.get(v, v) if isinstance(v, str) else v for v in value]
        if isinstance(value, dict):
            return {k: rewrite(v, k) for k, v in value.items()}
        return value

    scos = [{**{k: rewrite(v, k) for k, v in obj.items()}, "id": ids[key], "spec_version": "2.1"}
            for key, obj in objects.items()]  # fmt: skip
    stamp = when or fallback
    body = {"first_observed": stamp, "last_observed": stamp, "number_observed": 1,
            "object_refs": [ids[k] for k in objects]}  # fmt: skip
    od_id = f"observed-data--{uuid.uuid5(SCO_NAMESPACE, org_identity + orjson.dumps(body).decode())}"
    od = {"type": "observed-data", "spec_version": "2.1", "id": od_id, "created": fallback, "modified": fallback,
          "created_by_ref": org_identity, **body}  # fmt: skip
    return [*scos, od]


def sighting_id(org_identity: str, indicator_id: str) -> str:
    return f"sighting--{uuid.uuid5(SIGHTING_NAMESPACE, org_identity + '|' + indicator_id)}"


def _earlier(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return a if version_key(a) <= version_key(b) else b


def _later(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return a if version_key(a) >= version_key(b) else b


def sighting_objects(
    tallies: dict[str, Tally],
    org_identity: str,
    current: Callable[[str], dict[str, Any] | None],
    at: datetime,
) -> list[dict[str, Any]]:
    """The sightings to publish: new ones, or new versions of the organisation's existing ones.
    ``current(sighting_id)`` returns the stored current version or None."""
    stamp = format_stix(at)
    out: list[dict[str, Any]] = []
    for indicator_id, t in sorted(tallies.items()):
        sid = sighting_id(org_identity, indicator_id)
        old = current(sid)
        count, first, last, created = t.count, t.first, t.last, stamp
        counted: dict[str, int] = {}
        if old is not None:
            held = old.get("x_accord_counted")
            counted = {k: v for k, v in held.items() if type(v) is int and v >= 0} if isinstance(held, dict) else {}
            # What the files swept again counted before is replaced by what they count now.
            count += max(0, int(old.get("count", 0)) - sum(counted.get(k, 0) for k in t.by_source))
            first = _earlier(first, old.get("first_seen"))
            last = _later(last, old.get("last_seen"))
            created = old.get("created", stamp)
            if version_key(old.get("modified", created)) >= version_key(stamp):
                stamp = format_stix(parse_ts(old["modified"]) + _ONE_MS)
        obj: dict[str, Any] = {
            "type": "sighting",
            "spec_version": "2.1",
            "id": sid,
            "created": created,
            "modified": stamp,
            "created_by_ref": org_identity,
            "sighting_of_ref": indicator_id,
            "where_sighted_refs": [org_identity],
            "count": min(count, MAX_COUNT),
        }
        if first:
            obj["first_seen"] = first
        if last:
            obj["last_seen"] = last
        counted = {k: v for k, v in counted.items() if k not in t.by_source} | t.by_source
        if counted:
            obj["x_accord_counted"] = dict(list(counted.items())[-MAX_SOURCES:])
        refs = list((old or {}).get("observed_data_refs") or [])  # earlier sweeps' evidence stays
        for when, objects in t.events:
            built = observed_data(when, objects, org_identity, stamp)
            out.extend(built)
            if built[-1]["id"] not in refs:
                refs.append(built[-1]["id"])
        if refs:
            obj["observed_data_refs"] = refs[-100:]
        out.append(obj)
        stamp = format_stix(at)
    return out
