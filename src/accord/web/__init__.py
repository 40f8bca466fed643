"""The web interface: server-rendered pages over the same Hub methods as the REST API.

Pages (``/``, ``/search``, ``/objects/<id>``, ``/publish``, ``/detections``, ``/sightings``, ``/impact``,
``/norms``, ``/spyware``, ``/spyware/check``, ``/admin/…``, ``/account``, ``/login``)
take a server-side session's cookie or ``Authorization: Bearer <token>``. Every read goes through the Hub's
visibility-respecting methods; every write through ``Hub.ingest`` or the Hub's administration
methods. No page builds a query. ``install(app)`` adds the pages, the static files and the security
headers to the FastAPI app.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from accord.web import admin, capabilities, devicecheck, pages, publish
from accord.web.render import STATIC, SecurityHeaders
from accord.web.sessions import SessionPolicy, Signer, SignInThrottle, secret_from_env


def install(app: FastAPI) -> None:
    """Mount the web interface on ``app`` (whose ``state.hub`` is the Hub)."""
    app.state.web_signer = Signer(secret_from_env())
    app.state.web_sessions = SessionPolicy.from_env()
    app.state.web_throttle = SignInThrottle()
    app.include_router(pages.router)
    app.include_router(publish.router)
    app.include_router(admin.router)
    app.include_router(capabilities.router)
    app.include_router(devicecheck.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(SecurityHeaders)
