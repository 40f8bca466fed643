"""The TAXII 2.1 endpoints under ``/taxii2/``: one API root at ``/taxii2/api/``.

Every response, errors included, is in ``application/taxii+json;version=2.1``. Each endpoint answers
with or without a trailing slash (clients differ: taxii2-client asks for statuses without one).
Anonymous callers may use discovery, the API root, the collection list (which then shows only
collections readable without signing in) and such public collections; everything else needs
credentials (Bearer token, or HTTP Basic with e-mail and token).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route, Router
from starlette.types import Receive, Scope, Send

from accord.access.viewer import Viewer
from accord.api.auth import ViewerCache
from accord.api.body import read_limited
from accord.hub import Hub
from accord.stix.reader import Item, element_item, exact_numbers, json_kind
from accord.store.taxii_reads import ALL, Page
from accord.taxii import errors, params, resources
from accord.taxii.errors import ProtocolError
from accord.taxii.media import TAXII_MEDIA_TYPE, accepts_taxii, is_taxii_content
from accord.taxii.pagination import encode

T = TypeVar("T")
Handler = Callable[..., Awaitable[Response]]
PREFIX = "/taxii2"
ROOT = "api"
#: How long an authenticated caller is reused without asking the database again: a revoked token stops
#: working within this many seconds.
VIEWER_SECONDS = 1.0
#: path (under PREFIX) -> method -> handler, filled by ``_route`` below and served by ``install``.
_ENDPOINTS: dict[str, dict[str, Handler]] = {}


def _route(path: str, methods: list[str]) -> Callable[[Handler], Handler]:
    """Register a handler for ``path`` (under ``PREFIX``), served with and without its trailing slash."""

    def register(fn: Handler) -> Handler:
        for method in methods:
            _ENDPOINTS.setdefault(path, {})[method] = fn
        return fn

    return register


class _Endpoint:
    """One path's ASGI endpoint, whatever the method: 405 for a method it lacks, content negotiation,
    and every exception turned into a TAXII error message."""

    def __init__(self, handlers: dict[str, Handler]) -> None:
        self.handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.respond(Request(scope, receive, send))
        await response(scope, receive, send)

    async def respond(self, request: Request) -> Response:
        head = request.method == "HEAD"
        handler = self.handlers.get("GET" if head else request.method)
        if handler is None:
            allowed = ", ".join([*self.handlers, *(["HEAD"] if "GET" in self.handlers else [])])
            return errors.error_response(405, f"{request.method} is not allowed on {request.url.path} (only {allowed})",
                                         "method-not-allowed", {"Allow": allowed})  # fmt: skip
        response = await self._answer(request, handler)
        if head:  # the GET's status and headers (Content-Length included), without its body
            return Response(b"", status_code=response.status_code, headers=dict(response.headers))
        return response

    async def _answer(self, request: Request, handler: Handler) -> Response:
        if not accepts_taxii(request.headers.get("accept")):
            return errors.error_response(406, f"this server answers only in {TAXII_MEDIA_TYPE} (or without a "
                                         "version: application/taxii+json)", "not-acceptable")  # fmt: skip
        try:
            return await handler(request, **request.path_params)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a TAXII error message
            return errors.from_exception(exc)


def _hub(request: Request) -> Hub:
    return request.app.state.hub


def _taxii(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=TAXII_MEDIA_TYPE, headers=headers)


_ANONYMOUS = Viewer(public=True, source="taxii anonymous")


def _viewers(request: Request) -> ViewerCache:
    """This app's cache of authenticated TAXII callers (a second's worth: see ``ViewerCache``)."""
    cache = getattr(request.app.state, "taxii_viewers", None)
    if cache is None:
        cache = request.app.state.taxii_viewers = ViewerCache(VIEWER_SECONDS)
    return cache


async def _viewer(request: Request) -> Viewer:
    """The caller: authenticated from its credentials, or anonymous (the public) without any."""
    header = request.headers.get("authorization")
    if not header:
        return _ANONYMOUS
    client = request.client.host if request.client else "unknown"
    # Partner hubs' tokens are served here (only): collections decide what they may read.
    return await _viewers(request).viewer(_hub(request), header, f"taxii {client}", partner_ok=True)


async def _read(request: Request, fn: Callable[[], T]) -> T:
    """Run a read of the database: in the event loop's own thread on SQLite, whose queries are work under
    the GIL either way (a hop to a worker thread and back costs more than a small query, and on a busy
    host far more); in a worker thread on other databases, which wait on the network."""
    if _hub(request).engine.dialect.name == "sqlite":
        return fn()
    return await run_in_threadpool(fn)


def _root_url(request: Request) -> str:
    return f"{str(request.base_url).rstrip('/')}{PREFIX}/{ROOT}/"


def _check_root(api_root: str) -> None:
    if api_root != ROOT:
        raise ProtocolError(404, f"no API root {api_root!r} on this server (see {PREFIX}/)", "not-found")


def _page_response(body: dict[str, Any] | bytes, page: Page, query: params.Query) -> Response:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return Response(content, media_type=TAXII_MEDIA_TYPE, headers=resources.date_headers(page, query.start))


def _next(page: Page, query: params.Query) -> str | None:
    return encode(page.last_added, query.fingerprint) if page.more and page.last_added is not None else None


# -- server information -----------------------------------------------------------------------------


@_route("/", ["GET"])
async def discovery(request: Request) -> Response:
    await _viewer(request)  # bad credentials are still refused
    return _taxii(resources.discovery(_root_url(request)))


@_route("/{api_root}/", ["GET"])
async def api_root(request: Request, api_root: str) -> Response:
    _check_root(api_root)
    await _viewer(request)
    return _taxii(resources.api_root(_hub(request).settings.max_bundle_bytes))


@_route("/{api_root}/status/{status_id}/", ["GET"])
async def get_status(request: Request, api_root: str, status_id: str) -> Response:
    _check_root(api_root)
    who = await _viewer(request)
    row = await run_in_threadpool(_hub(request).taxii_status, who, status_id)
    return _taxii(resources.status(row))


# -- collections ------------------------------------------------------------------------------------


@_route("/{api_root}/collections/", ["GET"])
async def get_collections(request: Request, api_root: str) -> Response:
    _check_root(api_root)
    who = await _viewer(request)
    hub = _hub(request)
    return _taxii(resources.collections(await _read(request, lambda: hub.taxii_collections(who))))


@_route("/{api_root}/collections/{collection_id}/", ["GET"])
async def get_collection(request: Request, api_root: str, collection_id: str) -> Response:
    _check_root(api_root)
    who = await _viewer(request)
    hub = _hub(request)
    return _taxii(resources.collection(await _read(request, lambda: hub.taxii_collection(who, collection_id))))


@_route("/{api_root}/collections/{collection_id}/manifest/", ["GET"])
async def get_manifest(request: Request, api_root: str, collection_id: str) -> Response:
    _check_root(api_root)
    who = await _viewer(request)
    query = params.parse_query(request.query_params, params.OBJECTS, endpoint=("manifest", collection_id))
    hub = _hub(request)

    def read() -> Response:
        page = hub.taxii_objects(who, collection_id, query.selection, query.limit, with_data=False)
        return _page_response(resources.manifest(page, _next(page, query)), page, query)

    return await _read(request, read)


@_route("/{api_root}/collections/{collection_id}/objects/", ["GET"])
async def get_objects(request: Request, api_root: str, collection_id: str) -> Response:
    _check_root(api_root)
    who = await _viewer(request)
    query = params.parse_query(request.query_params, params.OBJECTS, endpoint=("objects", collection_id))
    hub = _hub(request)

    def read() -> Response:
        page = hub.taxii_objects(who, collection_id, query.selection, query.limit, text=True)
        return _page_response(resources.envelope(page, _next(page, query)), page, query)

    return await _read(request, read)


#: JSON's names for what a request body may hold instead of an envelope.
@dataclass
class Refused(Item):
    """An element refused before ingest; ``sent`` is what it said it was, so the status names its id."""

    sent: dict[str, Any] | None = None


def _item(index: int, element: Any, exact: Any) -> Item:
    item = element_item(index, element, f"element {index}", exact)
    if item.obj is None and isinstance(element, dict):
        return Refused(index, None, item.error, sent=element)
    return item


def _envelope_items(body: bytes) -> list[Item]:
    """The objects of a TAXII envelope; 400 for what is not JSON, 422 for JSON that is not an envelope.

    An element that is not a STIX object (not a JSON object, nested too deeply to store, or holding an
    integer beyond STIX's range) is refused on its own, with the reason, in the status."""
    if not body.strip():
        raise ProtocolError(422, "the request body is empty; send a TAXII envelope {\"objects\": [...]}",
                            "not-an-envelope")  # fmt: skip
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(400, f"the request body is not valid JSON ({exc})", "invalid-json") from None
    if not isinstance(doc, dict) or "type" in doc:
        what = "a STIX object or bundle" if isinstance(doc, dict) else json_kind(doc)
        raise ProtocolError(422, f"the request body is {what}, not a TAXII envelope {{\"objects\": [...]}}",
                            "not-an-envelope")  # fmt: skip
    if "objects" not in doc:
        keys = ", ".join(repr(k) for k in list(doc)[:5]) or "none"
        raise ProtocolError(422, f"the envelope has no 'objects' (its keys: {keys}); send {{\"objects\": [...]}}",
                            "not-an-envelope")  # fmt: skip
    objects = doc["objects"]
    if not isinstance(objects, list):
        raise ProtocolError(422, f"the envelope's 'objects' is {json_kind(objects)}, not a list",
                            "not-an-envelope")  # fmt: skip
    exact = exact_numbers(body)
    twins = exact.get("objects") if isinstance(exact, dict) else None
    if not isinstance(twins, list) or len(twins) != len(objects):
        twins = [None] * len(objects)
    return [_item(i, o, twin) for i, (o, twin) in enumerate(zip(objects, twins, strict=True))]


@_route("/{api_root}/collections/{collection_id}/objects/", ["POST"])
async def add_objects(request: Request, api_root: str, collection_id: str) -> Response:
    _check_root(api_root)
    hub = _hub(request)
    who = await _viewer(request)
    await run_in_threadpool(hub.taxii_check_write, who, collection_id)
    if not is_taxii_content(request.headers.get("content-type")):
        raise ProtocolError(415, f"send the envelope as Content-Type: {TAXII_MEDIA_TYPE}", "unsupported-media-type")
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise ProtocolError(415, f"Content-Encoding {encoding!r} is not supported: send the envelope uncompressed",
                            "unsupported-media-type")  # fmt: skip
    body = await read_limited(request, hub.settings.max_bundle_bytes)
    items = await run_in_threadpool(_envelope_items, body)
    row = await run_in_threadpool(hub.taxii_add, who, collection_id, items, len(body))
    return _taxii(resources.status(row), 202)


@_route("/{api_root}/collections/{collection_id}/objects/{object_id}/", ["GET"])
async def get_object(request: Request, api_root: str, collection_id: str, object_id: str) -> Response:
    _check_root(api_root)
    who = await _viewer(request)
    query = params.parse_query(request.query_params, params.ONE_OBJECT, endpoint=("object", collection_id, object_id))
    hub = _hub(request)

    def read() -> Response:
        page = hub.taxii_object(who, collection_id, object_id, query.selection, query.limit, text=True)
        return _page_response(resources.envelope(page, _next(page, query)), page, query)

    return await _read(request, read)


@_route("/{api_root}/collections/{collection_id}/objects/{object_id}/", ["DELETE"])
async def delete_object(request: Request, api_root: str, collection_id: str, object_id: str) -> Response:
    _check_root(api_root)
    who = await _viewer(request)
    query = params.parse_query(request.query_params, params.ONE_OBJECT, endpoint=("delete", collection_id, object_id))
    await run_in_threadpool(_hub(request).taxii_delete, who, collection_id, object_id, query.selection)
    return Response(b"", status_code=200, media_type=TAXII_MEDIA_TYPE)


@_route("/{api_root}/collections/{collection_id}/objects/{object_id}/versions/", ["GET"])
async def get_versions(request: Request, api_root: str, collection_id: str, object_id: str) -> Response:
    _check_root(api_root)
    who = await _viewer(request)
    query = params.parse_query(request.query_params, params.VERSIONS, endpoint=("versions", collection_id, object_id),
                               default_version=ALL)  # fmt: skip
    hub = _hub(request)

    def read() -> Response:
        page = hub.taxii_object(who, collection_id, object_id, query.selection, query.limit, with_data=False)
        return _page_response(resources.versions(page, _next(page, query)), page, query)

    return await _read(request, read)


# -- serving -----------------------------------------------------------------------------------------


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    """Unknown TAXII paths get 404 as a TAXII error message."""
    path = Request(scope).url.path
    await errors.error_response(404, f"no TAXII endpoint at {path}", "not-found")(scope, receive, send)


def install(app: Starlette) -> None:
    """Serve TAXII under ``PREFIX`` on ``app``, ahead of its other routes: routes are matched in order, and
    TAXII clients poll most. Plain Starlette routes: FastAPI's matching and dependency solving cost more
    than a TAXII read."""
    paths = sorted(_ENDPOINTS, key=lambda p: not p.endswith("/objects/"))  # most of the traffic first
    routes: list[Route] = []
    for path in paths:
        endpoint = _Endpoint(_ENDPOINTS[path])
        routes.append(Route(path, endpoint))
        if path != "/":
            routes.append(Route(path.rstrip("/"), endpoint))
    taxii = Router(routes=routes, redirect_slashes=False, default=_not_found)
    mount = Mount(PREFIX, app=taxii)
    # Every path under PREFIX is TAXII's, a newline (%0A) in it too: Starlette's pattern stops at one.
    mount.path_regex = re.compile(mount.path_regex.pattern, re.DOTALL)
    app.router.routes[0:0] = [Route(PREFIX, _Endpoint(_ENDPOINTS["/"])), mount]
