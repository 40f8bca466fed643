"""A real server and a real browser for the web interface tests.

The server is ``uvicorn accord.api.app:create_app`` in a subprocess on 127.0.0.1 (a free port), over a
temporary SQLite hub that the fixture fills first. The browser is Debian's Chromium
(``/usr/bin/chromium``, or ``ACCORD_TEST_CHROMIUM``) driven by Playwright; ``make test`` installs it
with apt where it is missing. Without it these tests fail (never skip) with a message saying so.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from accord.config import Settings
from accord.hub import Hub
from web.community import Community, build, seed_spyware

CHROMIUM = os.environ.get("ACCORD_TEST_CHROMIUM", "/usr/bin/chromium")
START_TIMEOUT = 30.0


def settings_for(url: str) -> Settings:
    """The environment's settings with another database (not imported from tests/conftest.py: a test
    folder's own conftest module may shadow that name)."""
    return Settings(**{**Settings.from_env().__dict__, "database_url": url})


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    hub: Hub
    community: Community
    process: subprocess.Popen[bytes]
    log: Path
    extra: dict[str, Any] = field(default_factory=dict)


def start_server(db_url: str, log: Path) -> tuple[str, subprocess.Popen[bytes]]:
    """Start ``uvicorn`` on a free loopback port; wait (bounded) until /health answers."""
    port = free_port()
    env = {**os.environ, "ACCORD_DATABASE_URL": db_url, "ACCORD_SECRET_KEY": "t" * 40}
    out = log.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "accord.api.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        env=env, stdout=out, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url + "/health", timeout=1.0).status_code == 200:
                return url, proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"the server did not answer within {START_TIMEOUT} s: {log.read_text()[-2000:]}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("web")
    db_url = f"sqlite:///{folder / 'accord.db'}"
    hub = Hub(settings_for(db_url))
    hub.init()
    community = build(hub)
    url, proc = start_server(db_url, folder / "server.log")
    try:
        yield Server(url, hub, community, proc, folder / "server.log")
    finally:
        stop_server(proc)
        hub.engine.dispose()


@pytest.fixture(scope="module")
def spyware_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own for the device check (the spyware registry's links would crowd the dashboard's
    charts that other tests read)."""
    folder = tmp_path_factory.mktemp("web-spyware")
    db_url = f"sqlite:///{folder / 'accord.db'}"
    hub = Hub(settings_for(db_url))
    hub.init()
    community = build(hub)
    seed_spyware(hub)
    url, proc = start_server(db_url, folder / "server.log")
    try:
        yield Server(url, hub, community, proc, folder / "server.log")
    finally:
        stop_server(proc)
        hub.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: the web tests need Debian's chromium "
                    "('make test' installs it with 'apt-get install -y chromium')", pytrace=False)  # fmt: skip
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--disable-gpu", "--disable-dev-shm-usage"])
        try:
            yield b
        finally:
            b.close()
