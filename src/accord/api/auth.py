"""Who is calling: Bearer tokens, or HTTP Basic with user e-mail and token as password."""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from accord.access.viewer import Viewer
from accord.errors import AuthenticationFailed
from accord.hub import Hub


def hub_of(request: Request) -> Hub:
    return request.app.state.hub


async def viewer(request: Request) -> Viewer:
    """FastAPI dependency: the authenticated viewer, or 401."""
    header = request.headers.get("authorization")
    if not header:
        raise AuthenticationFailed("authentication required: send 'Authorization: Bearer <token>'")
    client = request.client.host if request.client else "unknown"
    return await run_in_threadpool(hub_of(request).authenticate, header, f"api {client}")
