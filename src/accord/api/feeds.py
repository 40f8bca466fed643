"""``/api/v1/feeds``: feeds this hub pulls, managed like ``accord feed`` (hub admins only), the background
puller that runs while the server runs, and ``/api/v1/partners``: partner hubs registered here (like
``accord partner``).

The router's lifespan starts ``accord.federation.scheduler.FeedScheduler`` for the app's hub when the
server starts (unless ``ACCORD_FEEDS=off``) and stops it when the server stops.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from accord.access.viewer import Viewer
from accord.api.auth import hub_of, viewer
from accord.api.objects import _json
from accord.errors import InvalidInput
from accord.federation import partners, scheduler, secrets


@asynccontextmanager
async def _background_pulls(app: FastAPI) -> AsyncIterator[None]:
    puller = scheduler.FeedScheduler(app.state.hub) if scheduler.enabled() else None
    if puller is not None:
        puller.start()
    try:
        yield
    finally:
        if puller is not None:
            await run_in_threadpool(puller.stop)


router = APIRouter(prefix="/api/v1", tags=["feeds"], lifespan=_background_pulls)
Who = Annotated[Viewer, Depends(viewer)]


class FeedIn(BaseModel):
    """The options of ``accord feed add``: ``url`` with ``collection`` for TAXII, or ``misp_feed``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="1 to 27 letters, digits, '.', '_' or '-'")
    url: str | None = Field(default=None, description="TAXII discovery, API root or collection URL")
    collection: str | None = Field(default=None, description="the TAXII collection's id")
    misp_feed: str | None = Field(default=None, description="a MISP feed's URL (the folder of manifest.json)")
    token: str | None = Field(default=None, description="Bearer token (stored encrypted)")
    user: str | None = None
    password: str | None = None
    as_org: str | None = Field(default=None, alias="as", description="the organisation objects come in as")
    audience: str | None = Field(default=None, description="org, group:NAME, community, federation, public")
    interval: str = Field(default="5m", description="30s, 5m, 1h, 1d")


@router.get("/feeds", summary="Feeds with their health (hub admins)")
def list_feeds(request: Request, who: Who) -> Response:
    return _json(hub_of(request).list_feeds(who))


@router.post("/feeds", status_code=201, summary="Add a feed (hub admins)")
def add_feed(request: Request, who: Who, body: FeedIn) -> Response:
    if (body.url is None) == (body.misp_feed is None):
        raise InvalidInput("give exactly one of url (a TAXII server) or misp_feed (a MISP feed)")
    out = hub_of(request).add_feed(
        who, body.name, body.url or body.misp_feed or "", collection=body.collection, misp=body.misp_feed is not None,
        token=body.token, user=body.user, password=body.password, as_org=body.as_org, audience=body.audience,
        interval=body.interval,
    )  # fmt: skip
    return _json(out, 201)


@router.get("/feeds/{name}", summary="One feed with its health (hub admins)")
def get_feed(request: Request, who: Who, name: str) -> Response:
    return _json(hub_of(request).get_feed(who, name))


@router.post("/feeds/{name}/pull", summary="Pull a feed now (hub admins); the report says what came in or the error")
def pull_feed(request: Request, who: Who, name: str, full: bool = False) -> Response:
    report: dict[str, Any] = hub_of(request).pull_feed(who, name, full=full)
    return _json(report)


class CredentialsIn(BaseModel):
    """A feed's new credentials: ``token``, or ``user`` and ``password``; neither: none."""

    model_config = ConfigDict(extra="forbid")

    token: str | None = None
    user: str | None = None
    password: str | None = None


@router.put("/feeds/{name}/credentials", summary="Give a feed new credentials, stored encrypted (hub admins)")
def feed_credentials(request: Request, who: Who, name: str, body: CredentialsIn) -> Response:
    out = secrets.set_credentials(hub_of(request), who, name, token=body.token, user=body.user,
                                  password=body.password)  # fmt: skip
    return _json(out)


@router.post("/feeds/rekey", summary="Encrypt feed secrets stored in clear; re-encrypt the rest with the first key")
def feeds_rekey(request: Request, who: Who) -> Response:
    return _json(secrets.rekey(hub_of(request), who))


@router.delete("/feeds/{name}", summary="Remove a feed (hub admins; what it brought in stays)")
def remove_feed(request: Request, who: Who, name: str) -> Response:
    return _json(hub_of(request).remove_feed(who, name))


class PartnerIn(BaseModel):
    """The options of ``accord partner add``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="the partner hub's name on this hub")
    country: str = Field(description="ISO 3166-1 alpha-2 code, e.g. FR")
    sector: str = Field(default=partners.DEFAULT_SECTOR, description="STIX industry sector, or cert, …")
    user: str | None = Field(default=None, description="also add this reader and answer a token for it (once)")
    token_days: int = Field(default=partners.DEFAULT_TOKEN_DAYS, description="that token's lifetime in days")


@router.get("/partners", summary="Partner hubs registered here, with their users (hub admins)")
def list_partners(request: Request, who: Who) -> Response:
    return _json(partners.list_all(hub_of(request), who))


@router.post("/partners", status_code=201, summary="Register a partner hub (hub admins); with user, a token once")
def add_partner(request: Request, who: Who, body: PartnerIn) -> Response:
    out = partners.add(hub_of(request), who, body.name, body.country, sector=body.sector, user=body.user,
                       token_days=body.token_days)  # fmt: skip
    return _json(out, 201)


@router.post("/partners/{name}/convert", summary="Make an existing organisation a partner hub (hub admins)")
def convert_partner(request: Request, who: Who, name: str) -> Response:
    return _json(partners.convert(hub_of(request), who, name))
