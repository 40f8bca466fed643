"""Spyware indicators from another hub, for a device check run away from it.

``--hub URL --token T`` with the hub's base URL reads ``GET /api/v1/spyware/indicators`` (a STIX bundle
of the registry and the spyware indicators the token's organisation may see, public ones included) and
``GET /api/v1/spyware/helplines``. With a TAXII 2.1 collection URL (``…/collections/<id>/``) it reads the
collection's indicators, malware, identities and relationships over TAXII instead (paged with
``next``), and knows no helplines. Only these GET requests are made: nothing about the device is sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import httpx

from accord.errors import AuthenticationFailed, InvalidInput, NotFound, PermissionDenied

__all__ = ["fetch_registry_objects", "fetch_helplines", "is_taxii"]

TAXII_ACCEPT = "application/taxii+json;version=2.1"
TAXII_TYPES = "indicator,malware,identity,relationship,campaign,vulnerability"


def is_taxii(url: str) -> bool:
    return "/collections/" in url


def _check(resp: httpx.Response, url: str) -> Any:
    if resp.status_code == 401:
        raise AuthenticationFailed(f"{url} refused the token (401)")
    if resp.status_code == 403:
        raise PermissionDenied(f"{url}: this token may not read it (403)")
    if resp.status_code == 404:
        raise NotFound(f"{url}: not found (404); is it an Accord hub or a TAXII collection URL?")
    if resp.status_code != 200:
        raise InvalidInput(f"{url} answered {resp.status_code}: {resp.text[:200]}")
    try:
        return resp.json()
    except ValueError:
        raise InvalidInput(f"{url} did not answer with JSON") from None


def _get(client: httpx.Client, url: str, **params: str) -> Any:
    try:
        resp = client.get(url, params=params or None)
    except httpx.HTTPError as exc:
        raise InvalidInput(f"cannot reach {url}: {exc}") from None
    return _check(resp, url)


def _taxii(url: str, token: str | None, timeout: float, max_pages: int) -> Iterator[dict[str, Any]]:
    base = url if url.endswith("/") else url + "/"
    headers = {"Accept": TAXII_ACCEPT, **({"Authorization": f"Bearer {token}"} if token else {})}
    params = {"match[type]": TAXII_TYPES, "limit": "1000"}
    with httpx.Client(timeout=timeout, headers=headers) as client:
        for _ in range(max_pages):
            envelope = _get(client, urljoin(base, "objects/"), **params)
            if not isinstance(envelope, dict):
                raise InvalidInput(f"{base} did not answer with a TAXII envelope")
            yield from (o for o in envelope.get("objects", []) if isinstance(o, dict))
            if not envelope.get("more") or not envelope.get("next"):
                return
            params["next"] = str(envelope["next"])


def fetch_registry_objects(
    url: str, token: str | None, *, timeout: float = 120.0, max_pages: int = 10_000
) -> list[dict[str, Any]]:
    """The registry objects and spyware indicators this token may see on the hub at ``url``."""
    if not url.startswith(("http://", "https://")):
        raise InvalidInput(f"{url!r} is not an http(s) URL")
    if is_taxii(url):
        return list(_taxii(url, token, timeout, max_pages))
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(timeout=timeout, headers=headers) as client:
        doc = _get(client, url.rstrip("/") + "/api/v1/spyware/indicators")
    if not isinstance(doc, dict) or not isinstance(doc.get("objects"), list):
        raise InvalidInput(f"{url} did not answer with a STIX bundle of spyware indicators")
    return [o for o in doc["objects"] if isinstance(o, dict)]


def fetch_helplines(url: str, token: str | None, *, timeout: float = 30.0) -> list[dict[str, Any]]:
    """The helpline organisations of the hub at ``url`` (none for a bare TAXII collection)."""
    if is_taxii(url):
        return []
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(timeout=timeout, headers=headers) as client:
        doc = _get(client, url.rstrip("/") + "/api/v1/spyware/helplines")
    if not isinstance(doc, list):
        raise InvalidInput(f"{url} did not answer with a list of helplines")
    return [
        {"name": str(h.get("name")), "country": h.get("country"), "contact": h.get("contact"), "on_hub": True}
        for h in doc
        if isinstance(h, dict) and h.get("name")
    ]
