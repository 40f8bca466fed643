"""The two thin faces of feeds: ``accord feed add|list|pull|remove`` and ``/api/v1/feeds``."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from accord.api.app import create_app
from accord.cli.main import app
from accord.errors import AccordError
from accord.hub import Hub
from helpers import community, indicator

from .conftest import Partner, add_partner_org, served_in_thread, setup_partner, sqlite_hub_at

runner = CliRunner()
URL = "/api/v1/feeds"


def run(*args: str) -> tuple[int, str, str]:
    """Exit code, stdout, and the error message (Accord errors surface as exceptions under CliRunner)."""
    from accord.cli import feeds  # noqa: F401 - registers `accord feed`, as main() does

    result = runner.invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        assert isinstance(result.exception, AccordError), repr(result.exception)
        return result.exception.exit_code, result.stdout, result.exception.message
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def source(tmp_path: Path):
    hub = sqlite_hub_at(tmp_path / "a.db")
    partner = setup_partner(hub, "A", ["B"])
    partner.publish([indicator("cli.example", level="green")])
    with served_in_thread(hub) as base:
        partner.base = base
        yield partner


def test_cli_add_list_pull_remove(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: Partner) -> None:
    db = tmp_path / "b.db"
    monkeypatch.setenv("ACCORD_DATABASE_URL", f"sqlite:///{db}")
    hub = sqlite_hub_at(db)
    add_partner_org(hub, "Hub A")
    email, token = source.tokens["B"]
    code, out, err = run("feed", "add", "from-a", "--url", source.discovery, "--collection", source.collection,
                         "--user", email, "--password", token, "--as", "Hub A", "--audience", "community",
                         "--interval", "1h", "--json")  # fmt: skip
    assert code == 0, err
    added = orjson.loads(out)
    assert added["name"] == "from-a" and added["interval"] == "1h" and added["as"] == "Hub A"
    assert token not in out

    code, out, err = run("feed", "add", "from-a", "--url", source.discovery, "--collection", "x")
    assert code != 0 and "exists" in err
    code, out, err = run("feed", "add", "both", "--url", source.discovery, "--misp-feed", "http://127.0.0.1:9/")
    assert code != 0 and "exactly one" in err

    code, out, err = run("feed", "pull", "from-a", "--json")
    assert code == 0, err
    report = orjson.loads(out)
    assert report["added"] == 2 and report["error"] is None  # the indicator and the identity its created_by_ref names
    code, out, _ = run("feed", "pull", "--all")
    assert code == 0 and "from-a: received 0" in out

    code, out, _ = run("feed", "list", "--json")
    (listed,) = orjson.loads(out)
    assert listed["objects_pulled"] == 2 and listed["last_success"] and listed["failures"] == 0
    code, out, _ = run("feed", "list")
    assert code == 0 and "Feeds" in out  # a table (folded to the test terminal's width)

    code, out, err = run("feed", "pull")
    assert code != 0 and "--all" in err
    run("feed", "add", "dead", "--url", "http://127.0.0.1:9/taxii2/", "--collection", "c")
    code, out, _ = run("feed", "pull", "dead")
    assert code == 1 and "error: cannot reach" in out

    code, out, _ = run("feed", "remove", "from-a")
    assert code == 0 and "removed feed from-a" in out
    code, out, err = run("feed", "remove", "from-a")
    assert code == 66 and "no feed" in err


def test_rest_is_for_hub_admins(hub: Hub, source: Partner) -> None:
    community(hub)
    op = hub.viewer_as(None)
    add_partner_org(hub, "Hub A")
    admin = {"Authorization": f"Bearer {hub.create_token(op, 'admin@ncc.example')['token']}"}
    analyst = {"Authorization": f"Bearer {hub.create_token(op, 'analyst@bank.example')['token']}"}
    client = TestClient(create_app(hub))
    email, token = source.tokens["B"]
    body = {"name": "from-a", "url": source.discovery, "collection": source.collection, "user": email,
            "password": token, "as": "Hub A", "audience": "community", "interval": "10m"}  # fmt: skip

    assert client.post(URL, json=body, headers=analyst).status_code == 403
    assert client.get(URL, headers=analyst).status_code == 403
    assert client.get(URL).status_code == 401
    r = client.post(URL, json=body, headers=admin)
    assert r.status_code == 201, r.text
    assert r.json()["interval"] == "10m" and token not in r.text
    assert client.post(URL, json=body, headers=admin).status_code == 409
    bad = client.post(URL, json={**body, "name": "other", "interval": "soon"}, headers=admin)
    assert bad.status_code == 400 and "interval" in bad.json()["error"]["message"]
    assert client.post(URL, json={"name": "n"}, headers=admin).status_code == 400

    assert client.post(f"{URL}/from-a/pull", headers=analyst).status_code == 403
    pulled = client.post(f"{URL}/from-a/pull", headers=admin)
    assert pulled.status_code == 200 and pulled.json()["added"] == 2  # and the creator's identity
    one = client.get(f"{URL}/from-a", headers=admin).json()
    assert one["objects_pulled"] == 2 and one["last_success"]
    assert [f["name"] for f in client.get(URL, headers=admin).json()] == ["from-a"]
    assert client.delete(f"{URL}/from-a", headers=analyst).status_code == 403
    assert client.delete(f"{URL}/from-a", headers=admin).json() == {"name": "from-a", "removed": True}
    assert client.get(f"{URL}/from-a", headers=admin).status_code == 404
