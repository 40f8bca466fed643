"""Who is calling: Bearer tokens, or HTTP Basic with user e-mail and token as password."""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import replace

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


class ViewerCache:
    """Viewers already authenticated, by their exact credentials, each for ``seconds`` at most.

    The key is a digest of the whole ``Authorization`` header, so only the very same credentials find
    a viewer, and never another caller's; failures are never kept. A revoked or expired token, a
    disabled user or a changed group membership takes effect within ``seconds`` in every process.
    """

    def __init__(self, seconds: float = 1.0, size: int = 4096) -> None:
        self.seconds = seconds
        self.size = size
        self._entries: dict[bytes, tuple[float, Viewer]] = {}
        self._pending: dict[bytes, asyncio.Task[Viewer]] = {}

    @staticmethod
    def _key(header: str) -> bytes:
        return hashlib.sha256(header.encode()).digest()

    def get(self, header: str, source: str) -> Viewer | None:
        """The viewer these credentials stood for less than ``seconds`` ago (with this ``source``)."""
        hit = self._entries.get(self._key(header))
        if hit is None or time.monotonic() - hit[0] >= self.seconds:
            return None
        return hit[1] if hit[1].source == source else replace(hit[1], source=source)

    def put(self, header: str, who: Viewer) -> None:
        if len(self._entries) >= self.size:
            now = time.monotonic()
            self._entries = {k: v for k, v in self._entries.items() if now - v[0] < self.seconds}
            if len(self._entries) >= self.size:
                self._entries.clear()
        self._entries[self._key(header)] = (time.monotonic(), who)

    def clear(self) -> None:
        self._entries.clear()

    async def viewer(self, hub: Hub, header: str, source: str, *, partner_ok: bool = False) -> Viewer:
        """The viewer for these credentials: from the cache, else authenticated (and then kept).

        Callers that miss the cache at once with the same credentials share one authentication: when the
        entry of a busy client expires, its concurrent requests wait for one database lookup instead of
        queueing one each."""
        who = self.get(header, source)
        if who is not None:
            return who
        key = self._key(header)
        task = self._pending.get(key)
        if task is None:
            task = self._pending[key] = asyncio.ensure_future(self._authenticate(hub, header, source, partner_ok))
            task.add_done_callback(lambda _t: self._pending.pop(key, None))
        who = await asyncio.shield(task)
        return who if who.source == source else replace(who, source=source)

    async def _authenticate(self, hub: Hub, header: str, source: str, partner_ok: bool) -> Viewer:
        who = await run_in_threadpool(lambda: hub.authenticate(header, source, partner_ok=partner_ok))
        self.put(header, who)
        return who
