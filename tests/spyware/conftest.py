"""Fixtures for the spyware tests: the real app served on 127.0.0.1 with every request recorded."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from accord.api.app import create_app
from accord.hub import Hub

WAIT = 30


@pytest.fixture
def served(sqlite_hub: Hub) -> Iterator[tuple[str, Hub, list[dict[str, Any]]]]:
    """The real app served by uvicorn on 127.0.0.1, with every request it receives recorded
    (method, path, query, body) so tests can prove what a device check sends."""
    seen: list[dict[str, Any]] = []
    inner = create_app(sqlite_hub)

    async def recording(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        seen.append({"method": scope["method"], "path": scope["path"], "query": scope["query_string"].decode(),
                     "body": body})  # fmt: skip
        done = False

        async def replay() -> dict[str, Any]:
            nonlocal done
            if not done:
                done = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await inner(scope, replay, send)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(recording, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", sqlite_hub, seen
    finally:
        server.should_exit = True
        thread.join(timeout=WAIT)
        sock.close()
