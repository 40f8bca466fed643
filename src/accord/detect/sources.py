"""Where a sweep's indicators come from: the local hub (what an organisation may see), a remote hub
over TAXII 2.1, or a STIX file. Only indicators that are current, not revoked and inside their
validity window at the time of the sweep are used.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx

from accord.errors import AuthenticationFailed, InvalidInput, NotFound, PermissionDenied
from accord.stix.reader import read_stream
from accord.stix.timestamps import parse as parse_ts

__all__ = ["in_force", "from_file", "from_taxii"]

TAXII_ACCEPT = "application/taxii+json;version=2.1"


def in_force(indicators: Iterable[dict[str, Any]], at: datetime) -> Iterator[dict[str, Any]]:
    """Indicators usable at ``at``: not revoked, valid_from ≤ at < valid_until."""
    for ind in indicators:
        if ind.get("type") != "indicator" or ind.get("revoked"):
            continue
        try:
            if "valid_from" in ind and parse_ts(ind["valid_from"]) > at:
                continue
            if "valid_until" in ind and parse_ts(ind["valid_until"]) <= at:
                continue
        except (TypeError, ValueError):
            continue
        yield ind


def from_file(path: str | Path, max_bytes: int) -> Iterator[dict[str, Any]]:
    """Indicators from a STIX bundle, object array, JSON lines or TAXII envelope file; a line or
    object that is not JSON is an InvalidInput naming where it is."""
    p = Path(path)
    if not p.is_file():
        raise NotFound(f"no indicator file at {p}")
    with p.open("rb") as fh:
        try:
            for item in read_stream(fh, p.stat().st_size, max_bytes):
                if item.error:
                    raise InvalidInput(f"{p}: object {item.index + 1}: {item.error}")
                if isinstance(item.obj, dict):
                    yield item.obj
        except InvalidInput as exc:
            if exc.message.startswith(str(p)):
                raise
            raise type(exc)(f"{p}: {exc.message}") from None


def from_taxii(
    url: str, token: str | None, *, timeout: float = 60.0, max_pages: int = 100_000, client: httpx.Client | None = None
) -> Iterator[dict]:
    """Indicators from a TAXII 2.1 collection URL (``…/collections/<id>/``), paged with ``next``."""
    base = url if url.endswith("/") else url + "/"
    if "/collections/" not in base:
        raise InvalidInput(f"{url} is not a TAXII collection URL (…/<api-root>/collections/<id>/)")
    headers = {"Accept": TAXII_ACCEPT}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    params: dict[str, str] = {"match[type]": "indicator", "limit": "1000"}
    with client or httpx.Client(timeout=timeout) as http:
        for _ in range(max_pages):
            try:
                resp = http.get(urljoin(base, "objects/"), params=params, headers=headers)
            except httpx.HTTPError as exc:
                raise InvalidInput(f"cannot reach {base}: {exc}") from None
            if resp.status_code == 401:
                raise AuthenticationFailed(f"{base} refused the token (401)")
            if resp.status_code == 403:
                raise PermissionDenied(f"{base}: this token may not read the collection (403)")
            if resp.status_code == 404:
                raise NotFound(f"{base}: no such collection (404)")
            if resp.status_code != 200:
                raise InvalidInput(f"{base} answered {resp.status_code}: {resp.text[:200]}")
            try:
                envelope = resp.json()
            except ValueError:
                raise InvalidInput(f"{base} did not answer with JSON") from None
            yield from (o for o in envelope.get("objects", []) if isinstance(o, dict))
            if not envelope.get("more") or not envelope.get("next"):
                return
            params["next"] = str(envelope["next"])
