"""Shared fixtures: a fresh hub on SQLite and on PostgreSQL for every storage and access test.

PostgreSQL comes from ACCORD_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test).
Where it is unreachable the run says so in one line and uses SQLite only, unless
ACCORD_REQUIRE_POSTGRES=1 (set by .ci/run), which makes the run fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from accord.config import Settings
from accord.hub import Hub
from accord.store.db import make_engine
from accord.store.schema import metadata

PG_URL = os.environ.get("ACCORD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("ACCORD_REQUIRE_POSTGRES") == "1"
DATA = Path(__file__).parent / "data"

_pg_state: dict[str, object] = {}


def _pg_available() -> tuple[bool, str]:
    if "ok" not in _pg_state:
        try:
            engine = make_engine(PG_URL, connect_args={"connect_timeout": 5})
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
            _pg_state["ok"], _pg_state["why"] = True, ""
        except Exception as exc:  # noqa: BLE001 - report whatever went wrong
            _pg_state["ok"], _pg_state["why"] = False, str(exc).splitlines()[0]
    return bool(_pg_state["ok"]), str(_pg_state["why"])


def pytest_configure(config: pytest.Config) -> None:
    ok, why = _pg_available()
    if not ok:
        if REQUIRE_PG:
            raise pytest.UsageError(f"PostgreSQL is required (ACCORD_REQUIRE_POSTGRES=1) but {PG_URL} failed: {why}")
        config.issue_config_time_warning(
            pytest.PytestWarning(f"PostgreSQL unreachable at {PG_URL} ({why}): storage tests run on SQLite only"),
            stacklevel=2,
        )


def pytest_report_header(config: pytest.Config) -> str:
    ok, why = _pg_available()
    return f"accord storage back ends: sqlite, {'postgresql' if ok else 'postgresql UNREACHABLE: ' + why}"


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if _pg_available()[0] else ["sqlite"]


def settings_for(url: str, **overrides: object) -> Settings:
    base = Settings.from_env()
    return Settings(**{**base.__dict__, "database_url": url, **overrides})


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    """A private schema for this test session, dropped at the end."""
    schema = f"accord_test_{uuid.uuid4().hex[:10]}"
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield schema
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def _pg_hub(schema: str, **overrides: object) -> Hub:
    engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    hub = Hub(settings_for(PG_URL, **overrides), engine=engine)
    hub.init()
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    hub.init()
    return hub


def make_hub(backend: str, tmp_path: Path, request: pytest.FixtureRequest, **overrides: object) -> Hub:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'accord.db'}"
        hub = Hub(settings_for(url, **overrides))
        hub.init()
        return hub
    return _pg_hub(request.getfixturevalue("pg_schema"), **overrides)


@pytest.fixture(params=_backends())
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def hub(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Hub]:
    h = make_hub(backend, tmp_path, request)
    yield h
    h.engine.dispose()


@pytest.fixture
def sqlite_hub(tmp_path: Path) -> Iterator[Hub]:
    h = Hub(settings_for(f"sqlite:///{tmp_path / 'accord.db'}"))
    h.init()
    yield h
    h.engine.dispose()
