"""The MISP feed source: ``manifest.json`` (event uuid → metadata) and one ``<uuid>.json`` per event.

A pull reads the manifest, keeps the events whose ``timestamp`` is newer than the one last stored for
that uuid (or that were never stored), oldest first, and fetches each. Feeds differ in what the
manifest carries (MISP's own exports add ids, ``Org`` and full tags; static publishers write less) and
in ``hashes.csv`` (``uuid,md5`` or ``file,md5,sha1``); only the manifest and the event files matter
here, so every layout is accepted. An event listed in the manifest but missing on the server is
reported and retried at the next pull; the other events are stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from accord.errors import FeedFailed
from accord.federation.taxii import TIMEOUT

#: Largest event file fetched (a MISP event can be big; ingest has its own limits too).
MAX_EVENT_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class EventRef:
    uuid: str
    #: The manifest's timestamp (seconds since 1970); None when the manifest gives none.
    timestamp: int | None


def client_for(auth: str, username: str | None, secret: str | None) -> httpx.Client:
    headers = {"Accept": "application/json", "User-Agent": "accord-federation"}
    basic: tuple[str, str] | None = None
    if auth == "bearer" and secret:
        # MISP instances take the key as-is in Authorization; static hosts ignore it.
        headers["Authorization"] = secret
    elif auth == "basic" and username:
        basic = (username, secret or "")
    return httpx.Client(headers=headers, auth=basic, timeout=TIMEOUT, follow_redirects=True)


def _base(url: str) -> str:
    url = url.strip()
    if url.endswith("/manifest.json"):
        url = url[: -len("manifest.json")]
    return url if url.endswith("/") else url + "/"


def _epoch(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _fetch(client: httpx.Client, url: str) -> bytes:
    try:
        with client.stream("GET", url) as resp:
            if resp.status_code != 200:
                raise FeedFailed(f"{url} answered HTTP {resp.status_code}")
            chunks, size = [], 0
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > MAX_EVENT_BYTES:
                    raise FeedFailed(f"{url} is larger than {MAX_EVENT_BYTES:,} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.HTTPError as exc:
        raise FeedFailed(f"cannot reach {url}: {exc.__class__.__name__}: {exc}") from None


def manifest(client: httpx.Client, url: str) -> list[EventRef]:
    """The events the feed lists, oldest timestamp first (events without one last, by uuid)."""
    where = _base(url) + "manifest.json"
    data = _fetch(client, where)
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise FeedFailed(f"{where} is not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise FeedFailed(f"{where} is not a MISP manifest (expected an object of event uuid → metadata)")
    refs = []
    for uuid, meta in doc.items():
        if not isinstance(uuid, str) or not uuid or "/" in uuid or len(uuid) > 64:
            raise FeedFailed(f"{where} lists {uuid!r}, which is not an event uuid")
        refs.append(EventRef(uuid, _epoch(meta.get("timestamp")) if isinstance(meta, dict) else None))
    refs.sort(key=lambda r: (r.timestamp is None, r.timestamp or 0, r.uuid))
    return refs


def event(client: httpx.Client, url: str, uuid: str) -> bytes:
    """The event file's bytes (``{"Event": …}`` or a bare event; ingest reads both)."""
    return _fetch(client, f"{_base(url)}{uuid}.json")


def event_timestamp(data: bytes) -> int | None:
    """The event's own ``timestamp`` (for manifests that give none)."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if isinstance(doc, dict) and isinstance(doc.get("Event"), dict):
        doc = doc["Event"]
    return _epoch(doc.get("timestamp")) if isinstance(doc, dict) else None
