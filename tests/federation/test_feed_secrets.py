"""Feed secrets are encrypted at rest with a key outside the database; clear ones of older versions keep
working and get encrypted; a lost or wrong key is an error naming the feed, never a traceback."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from accord.api.app import create_app
from accord.cli.main import app
from accord.errors import AccordError, ConfigError, InvalidInput
from accord.federation import secrets
from accord.hub import Hub
from accord.store.schema import audit_log, federation_feed
from helpers import indicator

from .conftest import Partner, add_partner_org, served_in_thread, setup_partner, sqlite_hub_at

runner = CliRunner()


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Partner]:
    hub = sqlite_hub_at(tmp_path / "a.db")
    partner = setup_partner(hub, "A", ["B"])
    partner.publish([indicator("secret-test.example", level="green")])
    with served_in_thread(hub) as base:
        partner.base = base
        yield partner
    hub.engine.dispose()


@pytest.fixture
def beside_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Hub, Path]]:
    """A SQLite hub whose feed key lives where it does by default: beside the database."""
    monkeypatch.delenv("ACCORD_FEED_KEY_FILE", raising=False)
    monkeypatch.delenv("ACCORD_FEED_KEY", raising=False)
    db = tmp_path / "b" / "hub.db"
    db.parent.mkdir()
    monkeypatch.setenv("ACCORD_DATABASE_URL", f"sqlite:///{db}")
    hub = sqlite_hub_at(db)
    add_partner_org(hub, "Hub A")
    yield hub, Path(f"{db}.feed-key")
    hub.engine.dispose()


def stored_secret(hub: Hub, name: str) -> str | None:
    with hub.engine.connect() as conn:
        return conn.execute(select(federation_feed.c.secret).where(federation_feed.c.name == name)).scalar_one()


def add(hub: Hub, src: Partner, name: str = "from-a", **kw: Any) -> dict[str, Any]:
    email, token = src.tokens["B"]
    opts = {"collection": src.collection, "user": email, "password": token, "as_org": "Hub A", **kw}
    return hub.add_feed(hub.viewer_as(None), name, src.discovery, **opts)


def cli(*args: str) -> tuple[int, str, str]:
    from accord.cli import feeds  # noqa: F401 - registers `accord feed`, as main() does

    result = runner.invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        assert isinstance(result.exception, AccordError), repr(result.exception)
        return result.exception.exit_code, result.stdout, result.exception.message
    return result.exit_code, result.stdout, result.stderr


def test_secrets_are_encrypted_beside_the_database_and_never_shown(
    beside_db: tuple[Hub, Path], source: Partner
) -> None:
    hub, key_file = beside_db
    _, token = source.tokens["B"]
    assert not key_file.exists()
    described = add(hub, source)
    assert token not in str(described) and described["auth"] == "basic (secret encrypted)"
    assert key_file.exists() and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    raw = stored_secret(hub, "from-a")
    assert raw is not None and raw.startswith("fernet:") and token not in raw
    with hub.engine.connect() as conn:
        assert all(token not in str(tuple(r)) for r in conn.execute(select(federation_feed)))
        assert all(token not in str(tuple(r)) for r in conn.execute(select(audit_log)))
    report = hub.pull_feed(hub.viewer_as(None), "from-a")
    assert report["error"] is None and report["added"] == 2, report  # the indicator and the identity its created_by_ref names
    code, out, err = cli("feed", "list", "--json")
    assert code == 0 and token not in out and orjson.loads(out)[0]["auth"] == "basic (secret encrypted)", err
    hub.add_org(hub.viewer_as(None), "NCC", "government-national", "GB")
    hub.add_user(hub.viewer_as(None), "admin@ncc.example", "NCC", "admin")
    admin = {"Authorization": f"Bearer {hub.create_token(hub.viewer_as(None), 'admin@ncc.example')['token']}"}
    client = TestClient(create_app(hub))
    assert token not in client.get("/api/v1/feeds", headers=admin).text
    assert token not in client.get("/api/v1/feeds/from-a", headers=admin).text
    assert token not in client.get("/api/v1/audit", headers=admin).text


def test_clear_secrets_of_older_versions_keep_working_and_get_encrypted(
    beside_db: tuple[Hub, Path], source: Partner
) -> None:
    hub, _ = beside_db
    _, token = source.tokens["B"]
    add(hub, source)
    add(hub, source, name="second")
    with hub.engine.begin() as conn:  # as an older version stored them
        conn.execute(update(federation_feed).values(secret=token))
    assert hub.get_feed(hub.viewer_as(None), "from-a")["auth"] == "basic (secret in clear: run 'accord feed rekey')"
    report = hub.pull_feed(hub.viewer_as(None), "from-a")
    assert report["error"] is None and report["added"] == 2, report  # the indicator and the identity its created_by_ref names
    assert secrets.is_sealed(stored_secret(hub, "from-a"))  # encrypted at its next pull
    assert stored_secret(hub, "second") == token
    code, out, err = cli("feed", "rekey", "--json")
    assert code == 0, err
    assert orjson.loads(out) == {"encrypted": ["second"], "re_encrypted": ["from-a"], "failed": []}
    assert secrets.is_sealed(stored_secret(hub, "second"))
    assert hub.pull_feed(hub.viewer_as(None), "second")["error"] is None


def test_a_lost_or_wrong_key_names_the_feed(beside_db: tuple[Hub, Path], source: Partner) -> None:
    hub, key_file = beside_db
    add(hub, source)
    key_file.write_text(Fernet.generate_key().decode() + "\n")
    report = hub.pull_feed(hub.viewer_as(None), "from-a")
    assert report["error"].startswith("feed 'from-a': its secret cannot be decrypted"), report
    assert "accord feed credentials from-a" in report["error"]
    feed = hub.get_feed(hub.viewer_as(None), "from-a")
    assert feed["last_error"] == report["error"] and feed["failures"] == 1
    code, out, err = cli("feed", "pull", "from-a")
    assert code == 1 and "error: feed 'from-a': its secret cannot be decrypted" in out and "Traceback" not in out
    code, out, _ = cli("feed", "rekey")
    assert code == 1 and "feed from-a: no feed key decrypts its secret" in out

    key_file.unlink()
    report = hub.pull_feed(hub.viewer_as(None), "from-a")
    assert "feed 'from-a': its secret is encrypted, but the feed key file" in report["error"]
    assert "does not exist" in report["error"]

    # New credentials make the feed work again (a new key file is made for them).
    email, token = source.tokens["B"]
    code, out, err = cli("feed", "credentials", "from-a", "--user", email, "--password", token)
    assert code == 0 and "credentials replaced" in out and token not in out, err
    assert hub.pull_feed(hub.viewer_as(None), "from-a")["error"] is None


def test_key_from_the_environment_rotation_and_refusals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: Partner
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("ACCORD_FEED_KEY", old)
    db = tmp_path / "env.db"
    monkeypatch.setenv("ACCORD_DATABASE_URL", f"sqlite:///{db}")
    hub = sqlite_hub_at(db)
    add_partner_org(hub, "Hub A")
    add(hub, source)
    assert not Path(f"{db}.feed-key").exists()  # the environment's key is used, no file is made
    first = stored_secret(hub, "from-a")
    monkeypatch.setenv("ACCORD_FEED_KEY", f"{new},{old}")
    code, out, err = cli("feed", "rekey", "--json")
    assert code == 0 and orjson.loads(out)["re_encrypted"] == ["from-a"], err
    assert stored_secret(hub, "from-a") != first
    monkeypatch.setenv("ACCORD_FEED_KEY", new)  # the old key may go now
    assert hub.pull_feed(hub.viewer_as(None), "from-a")["error"] is None
    monkeypatch.setenv("ACCORD_FEED_KEY", "not-a-key")
    with pytest.raises(ConfigError, match="ACCORD_FEED_KEY is not a Fernet key"):
        add(hub, source, name="other")
    report = hub.pull_feed(hub.viewer_as(None), "from-a")
    assert report["error"].startswith("feed 'from-a': its secret is encrypted, but key 1 of ACCORD_FEED_KEY")

    monkeypatch.delenv("ACCORD_FEED_KEY")
    key_file = tmp_path / "shared.key"
    key_file.write_text(new + "\n")
    os.chmod(key_file, 0o644)
    monkeypatch.setenv("ACCORD_FEED_KEY_FILE", str(key_file))
    report = hub.pull_feed(hub.viewer_as(None), "from-a")
    assert "may be read by other users (mode 0644)" in report["error"] and "chmod 600" in report["error"]
    os.chmod(key_file, 0o600)
    assert hub.pull_feed(hub.viewer_as(None), "from-a")["error"] is None
    with pytest.raises(InvalidInput, match="not in the feed URL"):
        hub.add_feed(hub.viewer_as(None), "inline", "https://pull:secret@hub.example/taxii2/", collection="c")


def test_a_postgresql_hub_needs_a_configured_key(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    """No "beside the database" for PostgreSQL: without ACCORD_FEED_KEY or a key file, storing a secret is
    refused with the reason (a SQLite hub makes its key file)."""
    monkeypatch.delenv("ACCORD_FEED_KEY_FILE", raising=False)
    url = "http://127.0.0.1:9/taxii2/"
    if hub.engine.dialect.name == "sqlite":
        hub.add_feed(hub.viewer_as(None), "f", url, collection="c", token="acc_x")
        assert secrets.is_sealed(stored_secret(hub, "f"))
        return
    with pytest.raises(ConfigError, match="set ACCORD_FEED_KEY"):
        hub.add_feed(hub.viewer_as(None), "f", url, collection="c", token="acc_x")
    hub.add_feed(hub.viewer_as(None), "open", url, collection="c")  # no secret, no key needed
    monkeypatch.setenv("ACCORD_FEED_KEY", secrets.new_key())
    hub.add_feed(hub.viewer_as(None), "f", url, collection="c", token="acc_x")
    assert secrets.is_sealed(stored_secret(hub, "f")) and "acc_x" not in str(stored_secret(hub, "f"))
