"""The ASGI application: health page, REST API and OpenAPI document on one FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from accord import __version__, web
from accord.api import actions as collective_action
from accord.api import admin, collections, errors, feeds, objects
from accord.api import spyware as spyware_api
from accord.hub import Hub
from accord.store.textindex import TextIndexer
from accord.taxii import routes as taxii


@asynccontextmanager
async def _text_indexer(app: FastAPI) -> AsyncIterator[None]:
    """Keep the SQLite text index caught up with what requests and feeds commit."""
    hub = app.state.hub
    indexer = TextIndexer(hub.engine, quiet=lambda: hub.seconds_since_write() >= 1.0)
    indexer.start()
    try:
        yield
    finally:
        indexer.stop()


def create_app(hub: Hub | None = None) -> FastAPI:
    app = FastAPI(
        lifespan=_text_indexer,
        title="Accord",
        version=__version__,
        description="Threat-intelligence sharing hub. Authenticate with `Authorization: Bearer <token>`.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.hub = hub or Hub()
    errors.install(app)
    taxii.install(app)  # ahead of every other route
    app.include_router(objects.router)
    app.include_router(admin.router)
    app.include_router(collections.router)
    app.include_router(collective_action.router)
    app.include_router(feeds.router)
    app.include_router(spyware_api.router)
    web.install(app)  # the web interface: /, /login, /search, /objects/…, /publish, /admin/…

    @app.get("/health", tags=["health"])
    def health(request: Request) -> JSONResponse:
        try:
            with request.app.state.hub.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            db_ok = True
        except Exception:  # noqa: BLE001 - any database failure means unhealthy
            db_ok = False
        return JSONResponse(
            {"status": "ok" if db_ok else "degraded", "database": "ok" if db_ok else "unreachable",
             "version": __version__},
            status_code=200 if db_ok else 503,
        )  # fmt: skip

    return app
