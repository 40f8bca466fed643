"""Who is asking for a page: a ``Bearer`` token, or a server-side session's cookie; CSRF checks for forms.

Pages accept ``Authorization: Bearer <token>`` (scripts, tests): such a request carries no cookie
credential, so it needs no CSRF token. HTTP Basic is refused on pages, because a browser would
replay cached Basic credentials on a cross-site form post. A request with neither gets the sign-in
page. Every form a session posts must carry the session's CSRF token.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from accord.access.sessions import Session
from accord.access.viewer import Viewer
from accord.errors import AuthenticationFailed, PermissionDenied
from accord.hub import Hub
from accord.web.sessions import SESSION_COOKIE, SessionPolicy, Signer


class SignInRequired(Exception):
    """No valid credential: GET requests are sent to the sign-in page, others get 401."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Who:
    """The viewer behind a page request, and the session (None when it came with a Bearer token)."""

    viewer: Viewer
    session: Session | None
    csrf: str | None

    @property
    def can_publish(self) -> bool:
        return self.viewer.has_role("analyst")

    @property
    def can_administer(self) -> bool:
        return self.viewer.is_hub_admin or self.viewer.role == "org-admin"


def hub_of(request: Request) -> Hub:
    return request.app.state.hub


def signer_of(request: Request) -> Signer:
    return request.app.state.web_signer


def policy_of(request: Request) -> SessionPolicy:
    return request.app.state.web_sessions


def client_of(request: Request) -> str:
    return f"web {request.client.host if request.client else 'unknown'}"


async def current(request: Request) -> Who:
    """FastAPI dependency: the signed-in viewer of a page."""
    hub = hub_of(request)
    header = request.headers.get("authorization")
    if header:
        if not header.strip().lower().startswith("bearer "):
            raise AuthenticationFailed("pages accept 'Authorization: Bearer <token>' or a signed-in session")
        viewer = await run_in_threadpool(hub.authenticate, header, client_of(request))
        request.state.who = Who(viewer, None, None)
        return request.state.who
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise SignInRequired("")
    try:
        viewer, session = await run_in_threadpool(hub.session, cookie, idle=policy_of(request).idle,
                                                  source=client_of(request))  # fmt: skip
    except AuthenticationFailed as exc:
        raise SignInRequired(exc.message) from None
    request.state.who = Who(viewer, session, session.csrf)
    return request.state.who


async def form_of(request: Request, who: Who, *, max_size: int = 1024 * 1024) -> FormData:
    """The posted form, after checking its CSRF token when the request rests on a session cookie."""
    form = await request.form(max_files=1, max_fields=5000, max_part_size=max_size)
    if who.session is not None:
        token = form.get("csrf")
        if not isinstance(token, str) or not hmac.compare_digest(token, who.session.csrf):
            raise PermissionDenied("the form's security token is missing or out of date; reload the page and try again")
    return form


def text(form: FormData | dict[str, Any], name: str, default: str = "") -> str:
    """A form field as stripped text ('' when absent or a file)."""
    value = form.get(name, default)
    return value.strip() if isinstance(value, str) else default
