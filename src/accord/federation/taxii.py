"""The TAXII 2.1 source of a feed: find the collection, then read its objects page by page.

The feed URL may be a discovery URL, an API root or a collection URL. Pages are asked for with
``added_after`` (the checkpoint) and ``match[version]=all`` (every version, so a revocation or a new
version made at the source arrives like any object), following ``next`` when the server gives one and
otherwise moving ``added_after`` to the page's ``X-TAXII-Date-Added-Last``. Where a server sends no
date headers, the page's manifest (same query) gives the ``date_added`` values.

Other servers than Accord may give several objects one ``date_added`` (medallion dates every object of
a POST alike), and ``added_after`` is strictly after: a position is therefore kept *just before* a
page's last ``date_added`` while more pages follow (``resume_point``), so objects of that date on
the next pages are never skipped; the few re-read are already held, and skipped by the puller.

httpx rather than the OASIS ``taxii2-client``: the client hands back only response bodies, and
``added_after`` checkpoints need the ``X-TAXII-Date-Added-Last`` header of every page.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urljoin

import httpx
import orjson

from accord.errors import FeedFailed
from accord.stix import timestamps

ACCEPT = "application/taxii+json;version=2.1"
#: Objects asked for per page (a server may send fewer; Accord serves up to 10,000).
PAGE = 2000
TIMEOUT = httpx.Timeout(120.0, connect=15.0)
MAX_PAGES = 100_000


@dataclass
class TaxiiPage:
    objects: list[dict[str, Any]]
    more: bool
    next: str | None
    #: The newest ``date_added`` of the page (the next ``added_after``), as the server wrote it.
    last_added: str | None
    #: The oldest ``date_added`` of the page (``X-TAXII-Date-Added-First``), when the server sent it.
    first_added: str | None = None

    def resume_point(self) -> str | None:
        """A checkpoint after this page that skips nothing: its last ``date_added`` when it is the end,
        else one microsecond before it (later pages may hold more objects of that date)."""
        if self.last_added is None or not self.more:
            return self.last_added
        return _just_before(self.last_added)

    def next_added_after(self) -> str | None:
        """``added_after`` for the next page of a server that gives no ``next``: as ``resume_point``,
        unless the whole page has one date (then moving to it is the only way on)."""
        last, first = self.last_added, self.first_added
        try:
            if last is not None and first is not None and timestamps.parse(first) >= timestamps.parse(last):
                return last
        except ValueError:
            return last
        return self.resume_point()


def _just_before(stamp: str) -> str:
    try:
        return timestamps.format_micro(timestamps.parse(stamp) - timedelta(microseconds=1))
    except ValueError:
        return stamp


def client_for(auth: str, username: str | None, secret: str | None) -> httpx.Client:
    """An HTTP client that authenticates as the feed says (Bearer token or HTTP Basic)."""
    headers = {"Accept": ACCEPT, "User-Agent": "accord-federation"}
    basic: tuple[str, str] | None = None
    if auth == "bearer" and secret:
        headers["Authorization"] = f"Bearer {secret}"
    elif auth == "basic" and username:
        basic = (username, secret or "")
    return httpx.Client(headers=headers, auth=basic, timeout=TIMEOUT, follow_redirects=True)


class SourceRefused(FeedFailed):
    """The source answered with an HTTP error (``status``)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _get(client: httpx.Client, url: str, params: Any = None) -> httpx.Response:
    try:
        resp = client.get(url, params=params)
    except httpx.HTTPError as exc:
        raise FeedFailed(f"cannot reach {url}: {exc.__class__.__name__}: {exc}") from None
    if resp.status_code != 200:
        detail = ""
        try:
            body = orjson.loads(resp.content)
            detail = body.get("description") or body.get("title") or ""
        except (orjson.JSONDecodeError, AttributeError):
            detail = resp.text[:200]
        raise SourceRefused(f"{url} answered HTTP {resp.status_code}{': ' + detail if detail else ''}",
                            resp.status_code)  # fmt: skip
    return resp


def _json(resp: httpx.Response) -> Any:
    try:
        return orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        raise FeedFailed(f"{resp.request.url} did not answer JSON") from None


def _slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def resolve_collection(client: httpx.Client, url: str, collection_id: str | None) -> str:
    """The collection's URL (ending in ``/``) from a discovery, API root or collection URL; checks it is readable."""
    url = _slash(url)
    if "/collections/" in url:
        head, _, tail = url.partition("/collections/")
        cid = tail.strip("/").split("/")[0]
        if collection_id and collection_id != cid:
            raise FeedFailed(f"the URL names collection {cid} but --collection is {collection_id}")
        candidates = [f"{head}/collections/{cid}/"]
    else:
        if not collection_id:
            raise FeedFailed("no collection id: give --collection ID")
        doc = _json(_get(client, url))
        if isinstance(doc, dict) and isinstance(doc.get("api_roots"), list):
            roots = [_slash(urljoin(url, r)) for r in doc["api_roots"] if isinstance(r, str)]
            default = doc.get("default")
            if isinstance(default, str):
                roots.insert(0, _slash(urljoin(url, default)))
        else:
            roots = [url]
        candidates = [f"{r}collections/{collection_id}/" for r in dict.fromkeys(roots)]
    failures: list[str] = []
    statuses: list[int] = []
    for candidate in candidates:
        try:
            coll = _json(_get(client, candidate))
        except FeedFailed as exc:
            failures.append(exc.message)
            if isinstance(exc, SourceRefused):
                statuses.append(exc.status)
            continue
        if isinstance(coll, dict) and coll.get("can_read") is False:
            raise SourceRefused(f"collection {candidate} exists but these credentials may not read it", 403)
        return candidate
    refused = next((code for code in (401, 403) if code in statuses), None)
    what = "these credentials may not read the collection" if refused else "collection not found"
    status = refused or (404 if statuses and set(statuses) == {404} else None)
    message = f"{what}: " + "; ".join(failures)
    raise SourceRefused(message, status) if status else FeedFailed(message)


def _last_from_manifest(client: httpx.Client, coll_url: str, params: dict[str, Any]) -> str | None:
    """Servers without date headers: the newest ``date_added`` of the same page's manifest."""
    body = _json(_get(client, coll_url + "manifest/", params))
    dates = [m.get("date_added") for m in body.get("objects") or [] if isinstance(m, dict)]
    dates = [d for d in dates if isinstance(d, str)]
    return max(dates, key=timestamps.parse) if dates else None


def fetch_page(
    client: httpx.Client, coll_url: str, added_after: str | None, next_token: str | None, limit: int | None = None,
    match: dict[str, str] | None = None,
) -> TaxiiPage:
    """One page of objects (by default every version: ``match`` replaces or adds ``match[...]`` filters)."""
    params: dict[str, Any] = {"limit": limit or PAGE, "match[version]": "all", **(match or {})}
    if added_after:
        params["added_after"] = added_after
    if next_token:
        params["next"] = next_token
    resp = _get(client, coll_url + "objects/", params)
    body = _json(resp)
    if not isinstance(body, dict):
        raise FeedFailed(f"{coll_url}objects/ did not answer a TAXII envelope")
    objects = body.get("objects") or []
    if not isinstance(objects, list):
        raise FeedFailed(f"{coll_url}objects/ answered an envelope whose 'objects' is not a list")
    last = resp.headers.get("X-TAXII-Date-Added-Last")
    first = resp.headers.get("X-TAXII-Date-Added-First") if last else None
    if not last and objects:
        last = _last_from_manifest(client, coll_url, params)
    if last:
        try:
            timestamps.parse(last)
        except ValueError:
            raise FeedFailed(f"{coll_url} sent X-TAXII-Date-Added-Last {last!r}, which is not a timestamp") from None
    nxt = body.get("next")
    return TaxiiPage(objects=objects, more=bool(body.get("more")), next=str(nxt) if nxt else None, last_added=last,
                     first_added=first)  # fmt: skip


def _moves_on(point: str | None, added_after: str | None) -> bool:
    if point is None:
        return False
    try:
        return added_after is None or timestamps.parse(point) > timestamps.parse(added_after)
    except ValueError:
        return point != added_after


def pages(
    client: httpx.Client, coll_url: str, checkpoint: str | None, limit: int | None = None,
    match: dict[str, str] | None = None,
) -> Iterator[TaxiiPage]:
    """Every page after ``checkpoint``: ``next`` when the server gives one, else ``added_after`` moves on."""
    added_after, token = checkpoint, None
    for _ in range(MAX_PAGES):
        page = fetch_page(client, coll_url, added_after, token, limit, match)
        yield page
        if not page.more or not page.objects:
            return
        if page.next:
            token = page.next
        elif _moves_on(page.next_added_after(), added_after):
            added_after, token = page.next_added_after(), None
        else:
            raise FeedFailed(f"{coll_url} says there is more but gives neither 'next' nor a newer date_added; "
                             "stopping rather than asking for the same page again")  # fmt: skip
    raise FeedFailed(f"{coll_url} kept answering 'more' after {MAX_PAGES:,} pages")
