"""Rendering pages: the Jinja2 environment (autoescaping everything), the route class that turns
errors into HTML pages, and the security headers every page carries.

Threat data is hostile input: names, descriptions and patterns carry script tags in real feeds.
Templates never mark data as safe; links are built only from http(s) URLs and STIX ids.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import orjson
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.exc import DataError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accord import __version__
from accord.errors import AccordError, AuthenticationFailed, value_refused
from accord.stix import tlp as tlpmod
from accord.web.auth import SignInRequired, Who
from accord.web.sessions import SESSION_COOKIE

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

#: Paths the web interface serves (the security headers below go on these).
WEB_PREFIXES = (
    "/login",
    "/logout",
    "/search",
    "/objects",
    "/publish",
    "/admin",
    "/account",
    "/impact",
    "/norms",
    "/spyware",
    "/sightings",
    "/detections",
    "/static/",
)
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
TLP_LABELS = {tlpmod.CLEAR: "TLP:CLEAR", tlpmod.GREEN: "TLP:GREEN", tlpmod.AMBER: "TLP:AMBER",
              tlpmod.AMBER_STRICT: "TLP:AMBER+STRICT", tlpmod.RED: "TLP:RED"}  # fmt: skip


def is_web_path(path: str) -> bool:
    return path == "/" or path.startswith(WEB_PREFIXES)


class SecurityHeaders:
    """ASGI middleware: strict CSP, nosniff, Referrer-Policy and no framing on the web interface's paths."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_web_path(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in names]
                if not scope["path"].startswith("/static/") and b"cache-control" not in names:
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


# -- template helpers ---------------------------------------------------------------------------


def when(value: Any) -> str:
    """A UTC time as people read it."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return "" if value is None else str(value)


def number(value: Any) -> str:
    """A whole number with thousands separators (1,234)."""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def as_json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS, default=str).decode()


def object_url(stix_id: str) -> str:
    return "/objects/" + quote(stix_id, safe="-")


def safe_url(value: Any) -> str | None:
    """The URL when it is plain http(s), else None (``javascript:`` and friends are shown as text)."""
    if isinstance(value, str) and value.lower().startswith(("https://", "http://")) and len(value) < 2000:
        return value
    return None


def query(base: dict[str, Any], **changes: Any) -> str:
    """A query string from the current filters with some changed (None drops a parameter)."""
    merged = {**base, **changes}
    return urlencode([(k, v) for k, v in merged.items() if v not in (None, "")], doseq=True)


_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters.update(when=when, json=as_json, object_url=object_url, safe_url=safe_url, num=number)
_env.globals.update(version=__version__, tlp_labels=TLP_LABELS, tlp_levels=tlpmod.LEVELS, query=query)


def page(request: Request, who: Who | None, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = _env.get_template(template).render(request=request, who=who, path=request.url.path, **context)
    return HTMLResponse(html, status_code=status)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _next_for(request: Request, ended: bool = False) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    params = {"next": target} if target != "/" else {}
    if ended:
        params["ended"] = "1"
    return "/login?" + urlencode(params) if params else "/login"


def _forget_cookie(resp: Response) -> Response:
    """A session cookie the hub no longer honours is dropped from the browser too."""
    resp.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return resp


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    """An error as a page (with the navigation when the viewer is known: ``current`` keeps it on the request)."""
    who = getattr(request.state, "who", None) if status != 401 else None
    resp = page(request, who, "error.html", status=status, title=title, message=message)
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="accord"'
    return resp


class WebRoute(APIRoute):
    """Routes whose errors are HTML pages (the REST API's are JSON); no credentials → sign-in page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except SignInRequired as exc:
                if request.method == "GET":
                    resp = redirect(_next_for(request, ended=bool(exc.reason)))
                else:
                    resp = error_page(request, 401, "Sign in again",
                                      exc.reason or "Your session has ended; sign in again.")  # fmt: skip
                return _forget_cookie(resp) if exc.reason else resp
            except AuthenticationFailed as exc:
                return error_page(request, 401, "Not signed in", exc.message)
            except AccordError as exc:
                titles = {403: "Not allowed", 404: "Not found", 409: "Already exists", 413: "Too large"}
                return error_page(request, exc.http_status, titles.get(exc.http_status, "Cannot do that"), exc.message)
            except DataError as exc:  # a value the database would not take (a NUL, a number beyond 64 bits)
                refused = value_refused(exc)
                return error_page(request, refused.http_status, "Cannot do that", refused.message)
            except RequestValidationError as exc:
                parts = [f"{'.'.join(str(x) for x in e.get('loc', ())[1:])}: {e.get('msg')}" for e in exc.errors()]
                return error_page(request, 400, "Bad request", "; ".join(parts))

        return handler
