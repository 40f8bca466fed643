"""Where a sweep's indicators come from: the local hub (what an organisation may see), a remote hub
over TAXII 2.1, or a STIX file. Only indicators that are current, not revoked and inside their
validity window at the time of the sweep are used.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from accord.errors import AuthenticationFailed, FeedFailed, InvalidInput, NotFound, PermissionDenied
from accord.federation import taxii
from accord.stix.reader import read_stream
from accord.stix.timestamps import parse as parse_ts

__all__ = ["in_force", "from_file", "from_taxii"]

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
    url: str, token: str | None, *, user: str | None = None, client: httpx.Client | None = None
) -> Iterator[dict]:
    """The current indicators of a TAXII 2.1 collection (``…/collections/<id>/``) of any server, read as a
    feed reads (``accord.federation.taxii``: ``next`` or ``added_after`` paging, malformed answers named).
    ``token`` is sent as a Bearer token, or with ``user`` as HTTP Basic (user and password)."""
    base = url if url.endswith("/") else url + "/"
    if "/collections/" not in base:
        raise InvalidInput(f"{url} is not a TAXII collection URL (…/<api-root>/collections/<id>/)")
    http = client or taxii.client_for("basic" if user else "bearer", user, token)
    if client is not None:  # a client made elsewhere (tests): give it the same headers and credentials
        fresh = taxii.client_for("basic" if user else "bearer", user, token)
        client.headers.update(fresh.headers)
        client.auth = fresh.auth
        fresh.close()
    try:
        with http:
            coll = taxii.resolve_collection(http, base, None)
            for page in taxii.pages(http, coll, None, match={"match[type]": "indicator", "match[version]": "last"}):
                yield from (o for o in page.objects if isinstance(o, dict))
    except FeedFailed as exc:
        status = exc.status if isinstance(exc, taxii.SourceRefused) else None
        kind = {401: AuthenticationFailed, 403: PermissionDenied, 404: NotFound}.get(status or 0, InvalidInput)
        raise kind(f"--hub {url}: {exc.message}") from None
