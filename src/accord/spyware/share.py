"""Sharing what a device check found without exposing the person: only a sighting of each matched
indicator — which indicator, how many times, first and last time — and nothing else (no device
identifiers, no artefacts, no file names, no other matches, no name of the person).

Two ways, chosen by the person:

* ``--share-with ORG``: to one helpline organisation on the hub, published **TLP:RED** with audience
  ``org`` as that organisation, so only it can read them;
* ``--share-anonymously``: to the community, published **TLP:AMBER** with audience ``community`` by no
  organisation (the hub itself: no ``created_by_ref``, no grant naming who sent it), dates rounded to the
  day; the hub's audit log records the share as ``anonymous``.

``payload`` builds exactly what leaves the machine; ``send`` posts it to a hub
(``POST /api/v1/spyware/sightings``); ``sightings`` (hub side) checks it and builds the STIX sightings
that go through the one ingest path.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx

from accord.errors import AuthenticationFailed, InvalidInput, NotFound, PermissionDenied
from accord.stix import tlp as tlpmod
from accord.stix.timestamps import format_stix, now
from accord.stix.timestamps import parse as parse_ts

if TYPE_CHECKING:
    from accord.spyware.check import CheckResult

__all__ = ["payload", "send", "sightings", "ALLOWED_KEYS", "SIGHTING_KEYS", "MAX_SIGHTINGS"]

#: The only keys a share request has, and the only keys of each sighting in it.
ALLOWED_KEYS = frozenset({"sightings", "share_with", "anonymous"})
SIGHTING_KEYS = frozenset({"indicator", "count", "first_seen", "last_seen"})
MAX_SIGHTINGS = 1000
MAX_COUNT = 999_999_999


def payload(result: CheckResult, *, share_with: str | None = None, anonymous: bool = False) -> dict[str, Any]:
    """What a share sends: one sighting per matched indicator (counts and dates), and the recipient."""
    if (share_with is None) == (not anonymous):
        raise InvalidInput(
            "share either with one helpline organisation (--share-with ORG) or anonymously "
            "(--share-anonymously), not both and not neither"
        )
    if not result.findings:
        raise InvalidInput("nothing matched, so there is nothing to share")
    per: dict[str, dict[str, Any]] = {}
    for f in result.findings:
        for ind in f.indicators:
            s = per.setdefault(ind, {"indicator": ind, "count": 0, "first_seen": None, "last_seen": None})
            s["count"] += f.count
            if f.first_seen and (s["first_seen"] is None or parse_ts(f.first_seen) < parse_ts(s["first_seen"])):
                s["first_seen"] = f.first_seen
            if f.last_seen and (s["last_seen"] is None or parse_ts(f.last_seen) > parse_ts(s["last_seen"])):
                s["last_seen"] = f.last_seen
    items = []
    for s in per.values():
        item = {"indicator": s["indicator"], "count": s["count"]}
        for k in ("first_seen", "last_seen"):
            if s[k]:
                item[k] = _day(s[k]) if anonymous else s[k]
        items.append(item)
    out: dict[str, Any] = {"sightings": items[:MAX_SIGHTINGS]}
    if anonymous:
        out["anonymous"] = True
    else:
        out["share_with"] = share_with
    return out


def _day(stamp: str) -> str:
    return parse_ts(stamp).strftime("%Y-%m-%dT00:00:00.000Z")


def send(hub_url: str, token: str | None, body: dict[str, Any], *, timeout: float = 60.0) -> dict[str, Any]:
    """POST a share to a hub; the hub's answer (what it stored)."""
    url = hub_url.rstrip("/") + "/api/v1/spyware/sightings"
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        resp = httpx.post(url, json=body, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        raise InvalidInput(f"cannot reach {hub_url}: {exc}") from None
    try:
        answer = resp.json()
    except ValueError:
        answer = {}
    message = (answer.get("error") or {}).get("message") if isinstance(answer, dict) else None
    if resp.status_code == 401:
        raise AuthenticationFailed(message or f"{hub_url} refused the token (401)")
    if resp.status_code == 403:
        raise PermissionDenied(message or f"{hub_url}: not allowed (403)")
    if resp.status_code == 404:
        raise NotFound(message or f"{hub_url}: not found (404)")
    if resp.status_code >= 300:
        raise InvalidInput(message or f"{hub_url} answered {resp.status_code}")
    return answer


# --------------------------------------------------------------------------- hub side


def _stamp(value: Any, what: str) -> datetime:
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a timestamp like 2024-05-01T10:00:00Z")
    try:
        return parse_ts(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{what} is not a timestamp like 2024-05-01T10:00:00Z: {value!r}") from None


def sightings(body: dict[str, Any], *, anonymous: bool) -> list[dict[str, Any]]:
    """The STIX sightings for a share request, after checking that it holds nothing but what is allowed."""
    if not isinstance(body, dict):
        raise InvalidInput("a share is a JSON object with 'sightings'")
    extra = sorted(set(body) - ALLOWED_KEYS)
    if extra:
        raise InvalidInput(f"a share holds only sightings and its recipient; unexpected: {', '.join(extra)}")
    items = body.get("sightings")
    if not isinstance(items, list) or not items:
        raise InvalidInput("'sightings' must be a non-empty list")
    if len(items) > MAX_SIGHTINGS:
        raise InvalidInput(f"at most {MAX_SIGHTINGS} sightings in one share")
    stamp = format_stix(now())
    level = tlpmod.AMBER if anonymous else tlpmod.RED
    out = []
    for n, item in enumerate(items, 1):
        where = f"sighting {n}"
        if not isinstance(item, dict):
            raise InvalidInput(f"{where} must be a JSON object")
        extra = sorted(set(item) - SIGHTING_KEYS)
        if extra:
            raise InvalidInput(
                f"{where}: only indicator, count, first_seen and last_seen may be sent; unexpected: {', '.join(extra)}"
            )
        ind = item.get("indicator")
        if not isinstance(ind, str) or not ind.startswith("indicator--"):
            raise InvalidInput(f"{where}: 'indicator' must be an indicator id")
        count = item.get("count")
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_COUNT:
            raise InvalidInput(f"{where}: 'count' must be a whole number from 1 to {MAX_COUNT}")
        obj: dict[str, Any] = {
            "type": "sighting",
            "spec_version": "2.1",
            "id": f"sighting--{uuid.uuid4()}",
            "created": stamp,
            "modified": stamp,
            "sighting_of_ref": ind,
            "count": count,
            "object_marking_refs": [tlpmod.TLP2_IDS[level]],
        }
        first = _stamp(item["first_seen"], f"{where}: 'first_seen'") if "first_seen" in item else None
        last = _stamp(item["last_seen"], f"{where}: 'last_seen'") if "last_seen" in item else None
        if first and last and last < first:
            raise InvalidInput(f"{where}: 'last_seen' is before 'first_seen'")
        if anonymous:  # the community gets days, not times
            first = first.replace(hour=0, minute=0, second=0, microsecond=0) if first else None
            last = last.replace(hour=0, minute=0, second=0, microsecond=0) if last else None
        if first:
            obj["first_seen"] = format_stix(first)
        if last:
            obj["last_seen"] = format_stix(last)
        obj["description"] = "Seen on a device checked with Accord's device check (counts and dates only)."
        out.append(obj)
    return out
