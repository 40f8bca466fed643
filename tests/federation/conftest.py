"""Fixtures for the federation tests: Accord hubs served on 127.0.0.1 (in a thread, or as separate
``accord serve`` processes), static HTTP folders (MISP feeds), and medallion as a foreign TAXII peer.

Every wait is bounded; every server listens on a free port of 127.0.0.1 only.
"""

from __future__ import annotations

import functools
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from accord.api.app import create_app
from accord.config import Settings
from accord.hub import Hub

WAIT = 60  # seconds: upper bound for a server to start or stop


@pytest.fixture(autouse=True)
def feed_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Feed secrets are encrypted with a key outside the database; a PostgreSQL hub has no "beside the
    database", so each test names a key file of its own (``accord serve`` processes inherit it)."""
    monkeypatch.delenv("ACCORD_FEED_KEY", raising=False)
    path = tmp_path / "feed.key"
    monkeypatch.setenv("ACCORD_FEED_KEY_FILE", str(path))
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Any, what: str, timeout: float = WAIT, step: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(step)


@dataclass
class Partner:
    """A hub set up to share with partner hubs: a member org, a partner-hub org with a reader token,
    and a ``federation`` collection."""

    hub: Hub
    member: str  # the member organisation publishing here
    collection: str  # id of the federation collection
    tokens: dict[str, tuple[str, str]]  # partner name -> (email, token) for the partner hub's reader
    base: str = ""  # http://127.0.0.1:PORT once served

    @property
    def discovery(self) -> str:
        return f"{self.base}/taxii2/"

    def publish(self, objs: list[dict[str, Any]], audience: str = "federation") -> Any:
        return self.hub.ingest(self.hub.viewer_as(self.member), objs_items(objs), self.hub.options(audience=audience))


def objs_items(objs: list[dict[str, Any]]) -> list[Any]:
    from accord.stix.reader import Item

    return [Item(i, o) for i, o in enumerate(objs)]


def setup_partner(hub: Hub, name: str, partners: list[str]) -> Partner:
    """``name`` hub: member org ``NAME CERT``; one partner hub (``Hub X``, registered as a partner hub as
    ``accord partner add`` does) per partner, with a reader and its token."""
    from accord.federation import partners as partner_hubs

    op = hub.viewer_as(None)
    member = f"{name} CERT"
    hub.add_org(op, member, "government-national", "GB")
    hub.add_user(op, f"analyst@{name.lower()}.example", member, "analyst")
    tokens = {}
    for p in partners:
        email = f"pull@{p.lower()}.partner.example"
        out = partner_hubs.add(hub, op, f"Hub {p}", "FR", user=email)
        assert out["kind"] == "partner-hub" and out["user"] == email
        tokens[p] = (email, out["token"])
    coll = hub.add_collection(op, "Federation", scope="federation")["id"]
    return Partner(hub, member, coll, tokens)


def add_partner_org(hub: Hub, name: str, country: str = "GB") -> None:
    """The organisation standing for a partner hub on the pulling side (what its feed acts as)."""
    from accord.federation import partners as partner_hubs

    partner_hubs.add(hub, hub.viewer_as(None), name, country)


def sqlite_hub_at(path: Path) -> Hub:
    # Settings built here rather than with tests/conftest.py's helper: another folder's conftest module
    # (one not in a package) can shadow the name ``conftest``.
    base = Settings.from_env()
    h = Hub(Settings(**{**base.__dict__, "database_url": f"sqlite:///{path}"}))
    h.init()
    return h


@contextmanager
def served_in_thread(hub: Hub) -> Iterator[str]:
    """The hub's app served by uvicorn in a thread (lifespan off: no background pulls)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(hub), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), "uvicorn to start")
    assert thread.is_alive(), "the server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=WAIT)
        sock.close()


class AccordProcess:
    """``accord serve`` as a separate process on a free port, over the SQLite database at ``db``."""

    def __init__(self, db: Path, log: Path, *, feeds: bool = False, tick: float = 0.5) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "ACCORD_DATABASE_URL": f"sqlite:///{db}", "ACCORD_FEEDS": "on" if feeds else "off",
               "ACCORD_FEED_TICK": str(tick)}  # fmt: skip
        self.log = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "accord.cli.main", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_until(self._healthy, f"accord serve on port {self.port} (log: {log})")
        except BaseException:
            self.stop()
            raise

    def _healthy(self) -> bool:
        assert self.proc.poll() is None, f"accord serve exited with {self.proc.returncode}"
        try:
            return httpx.get(f"{self.base}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=WAIT)
        self.log.close()


@pytest.fixture
def processes() -> Iterator[list[AccordProcess]]:
    """Started processes are stopped at the end of the test, whatever happens."""
    started: list[AccordProcess] = []
    yield started
    for p in started:
        p.stop()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


@contextmanager
def static_http(folder: Path) -> Iterator[str]:
    """``folder`` served over HTTP on 127.0.0.1 by the standard library's server, in a thread."""
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join(timeout=WAIT)
        server.server_close()
