"""Partner hubs: registered with ``accord partner add`` (or ``/api/v1/partners``), their tokens read the
federation collections they are readers of (and public ones) over TAXII and nothing else."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from accord.api.app import create_app
from accord.cli.main import app
from accord.errors import AccordError, AlreadyExists, AuthenticationFailed, InvalidInput, NotFound, PermissionDenied
from accord.federation import partners
from accord.hub import Hub
from accord.taxii.media import TAXII_MEDIA_TYPE
from helpers import indicator, items

from .conftest import setup_partner, sqlite_hub_at

TAXII = "/taxii2/api/collections/"


def taxii(client: TestClient, token: str | None, path: str, method: str = "GET", body: Any = None) -> Any:
    headers = {"Accept": TAXII_MEDIA_TYPE}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        headers["Content-Type"] = TAXII_MEDIA_TYPE
        return client.request(method, path, headers=headers, content=orjson.dumps(body))
    return client.request(method, path, headers=headers)


@pytest.fixture
def setting(hub: Hub) -> dict[str, Any]:
    """Hub A with member 'A CERT', member 'Bank', partner hub 'Hub B' and collections of every scope."""
    here = setup_partner(hub, "A", ["B"])
    op = hub.viewer_as(None)
    hub.add_org(op, "Bank", "financial-services", "GB")
    hub.add_user(op, "analyst@bank.example", "Bank", "analyst")
    hub.add_group(op, "inner", here.member, ["Bank"])
    objs = {
        "fed-green": indicator("fed-green.example", level="green"),
        "fed-clear": indicator("fed-clear.example", level="clear"),
        "public": indicator("public.example", level="clear"),
        "community": indicator("community.example", level="green"),
        "amber": indicator("amber.example", level="amber"),
        "group": indicator("group.example", level="red"),
    }
    here.publish([objs["fed-green"], objs["fed-clear"]])
    here.publish([objs["public"]], audience="public")
    here.publish([objs["community"], objs["amber"]], audience="community")
    here.publish([objs["group"]], audience="group:inner")
    colls = {
        "federation": here.collection,
        "federation-writable": hub.add_collection(op, "Fed writable", scope="federation", writers="all")["id"],
        "federation-bank-only": hub.add_collection(op, "Fed for Bank", scope="federation", readers="Bank")["id"],
        "federation-for-b": hub.add_collection(op, "Fed for B", scope="federation", readers="Hub B")["id"],
        "public": hub.add_collection(op, "Public", scope="public")["id"],
        "all": hub.add_collection(op, "Everything")["id"],  # readers all: Hub B among them, yet refused
        "org": hub.add_collection(op, "Own", scope="org")["id"],
        "group": hub.add_collection(op, "Inner", scope="group:inner")["id"],
    }
    _, token = here.tokens["B"]
    bank = hub.create_token(op, "analyst@bank.example")["token"]
    return {"hub": hub, "here": here, "objs": objs, "colls": colls, "token": token, "bank": bank,
            "client": TestClient(create_app(hub))}  # fmt: skip


def test_partner_token_reads_only_federation_and_public_collections(setting: dict[str, Any]) -> None:
    client, token, colls, objs = setting["client"], setting["token"], setting["colls"], setting["objs"]
    listed = taxii(client, token, TAXII)
    assert listed.status_code == 200
    seen = {c["id"]: (c["can_read"], c["can_write"]) for c in listed.json()["collections"]}
    assert set(seen) == {colls["federation"], colls["federation-writable"], colls["federation-for-b"], colls["public"]}
    assert all(r and not w for r, w in seen.values())  # reads, never writes

    fed = taxii(client, token, f"{TAXII}{colls['federation']}/objects/")
    assert fed.status_code == 200
    got = {o["id"] for o in fed.json()["objects"]}
    assert got >= {objs["fed-green"]["id"], objs["fed-clear"]["id"], objs["public"]["id"]}
    for hidden in ("community", "amber", "group"):
        assert objs[hidden]["id"] not in got, hidden
    public = {o["id"] for o in taxii(client, token, f"{TAXII}{colls['public']}/objects/").json()["objects"]}
    assert objs["public"]["id"] in public and objs["fed-green"]["id"] not in public

    for name in ("all", "org", "group", "federation-bank-only"):
        r = taxii(client, token, f"{TAXII}{colls[name]}/objects/")
        assert r.status_code == 403, (name, r.text)
        body = r.json()
        assert r.headers["content-type"].startswith("application/taxii+json") and body["http_status"] == "403"
        text = body.get("description", "") + body.get("title", "")
        assert "partner hub" in text and "federation collections" in text, (name, body)
        assert taxii(client, token, f"{TAXII}{colls[name]}/").status_code == 403
        why = "Hub B is not one of its readers" if name == "federation-bank-only" else "this one has scope"
        assert why in text, (name, text)
    # A community object stays hidden by id too, even through a collection the partner may read.
    r = taxii(client, token, f"{TAXII}{colls['federation']}/objects/{objs['community']['id']}/")
    assert r.status_code == 404


def test_partner_never_writes_nor_deletes(setting: dict[str, Any]) -> None:
    client, token, colls, objs = setting["client"], setting["token"], setting["colls"], setting["objs"]
    pushed = indicator("pushed-by-partner.example", level="green")
    r = taxii(client, token, f"{TAXII}{colls['federation-writable']}/objects/", "POST", {"objects": [pushed]})
    assert r.status_code == 403 and "partner hubs never write" in r.json()["description"], r.text
    r = taxii(client, token, f"{TAXII}{colls['federation-writable']}/objects/{objs['fed-green']['id']}/", "DELETE")
    assert r.status_code == 403
    hub = setting["hub"]
    with pytest.raises(NotFound):
        hub.get(hub.viewer_as(None), pushed["id"])
    # A member analyst may write there (the collection is writable: only partners are refused).
    r = taxii(client, setting["bank"], f"{TAXII}{colls['federation-writable']}/objects/", "POST", {"objects": [pushed]})
    assert r.status_code == 202 and r.json()["success_count"] == 1, r.text


def test_partner_token_is_refused_by_rest_and_web(setting: dict[str, Any]) -> None:
    client, token, hub = setting["client"], setting["token"], setting["hub"]
    email = setting["here"].tokens["B"][0]
    for path in ("/api/v1/objects", "/api/v1/stats", "/api/v1/whoami", "/api/v1/orgs",
                 f"/api/v1/objects/{setting['objs']['fed-green']['id']}"):  # fmt: skip
        r = client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 403, (path, r.text)
        assert "partner hub Hub B" in r.json()["error"]["message"] and "/taxii2/" in r.json()["error"]["message"]
    basic = base64.b64encode(f"{email}:{token}".encode()).decode()
    assert client.get("/api/v1/objects", headers={"Authorization": f"Basic {basic}"}).status_code == 403
    # The web interface: a Bearer page request is refused, and so is signing in with the token or a password.
    assert client.get("/", headers={"Authorization": f"Bearer {token}"}).status_code == 403
    with pytest.raises(AuthenticationFailed, match="cannot sign in to the web interface"):
        hub.authenticate_token(token)
    hub.set_password(hub.viewer_as(None), email, "a long enough partner password")
    with pytest.raises(AuthenticationFailed, match="cannot sign in to the web interface"):
        hub.authenticate_password(email, "a long enough partner password")
    with pytest.raises(AuthenticationFailed, match="cannot sign in"):
        hub.session_viewer(hub.authenticate(f"Bearer {token}", partner_ok=True).user_pk or 0, "token", "x")
    # TAXII is the one edge that takes it, and then as a partner viewer.
    viewer = hub.authenticate(f"Bearer {token}", partner_ok=True)
    assert viewer.partner and viewer.org_name == "Hub B" and viewer.group_pks == frozenset()


def test_partner_sees_neither_community_nor_its_own_grants(setting: dict[str, Any]) -> None:
    """Audience 'community' never includes partner hubs; nor does what a feed brought in as the partner's
    organisation (even for the community) reach the partner."""
    hub, objs = setting["hub"], setting["objs"]
    partner = hub.viewer_as("Hub B")
    assert partner.partner
    as_partner_org = hub.viewer_as("Hub B")
    from dataclasses import replace

    fed_in = indicator("brought-in-by-feed.example", level="green")
    hub.ingest(replace(as_partner_org, partner=False), items(fed_in), hub.options(audience="community",
                                                                                  via="feed:from-b"))  # fmt: skip
    seen = {r["id"] for r in hub.search(partner, limit=1000)}
    assert objs["fed-green"]["id"] in seen and objs["public"]["id"] in seen
    for hidden in (objs["community"], objs["amber"], objs["group"], fed_in):
        assert hidden["id"] not in seen
    # Members see what came in for the community.
    assert fed_in["id"] in {r["id"] for r in hub.search(hub.viewer_as("Bank"), limit=1000)}


def test_partner_hubs_are_not_members(setting: dict[str, Any]) -> None:
    hub = setting["hub"]
    op = hub.viewer_as(None)
    with pytest.raises(InvalidInput, match="role is 'reader'"):
        hub.add_user(op, "admin@hub-b.example", "Hub B", "admin")
    with pytest.raises(InvalidInput, match="never members of a sharing group"):
        hub.add_group_member(op, "inner", "Hub B")
    with pytest.raises(InvalidInput, match="never members of a sharing group"):
        hub.add_group(op, "with-partner", "Bank", ["Hub B"])
    with pytest.raises(InvalidInput, match="never write"):
        hub.add_collection(op, "Pushed", scope="federation", writers="Hub B")
    hub.add_user(op, "second@hub-b.example", "Hub B", "reader")
    # A partner hub of sector cert is no helpline for device-check shares.
    partners.add(hub, op, "Hub CERT", "NL", sector="cert")
    assert "Hub CERT" not in {h["name"] for h in hub.spyware_helplines(hub.viewer_as("Bank"))}
    kinds = {o["name"]: o["kind"] for o in hub.list_orgs(op)}
    assert kinds["Hub B"] == kinds["Hub CERT"] == "partner-hub" and kinds["Bank"] == "member"
    # Registering checks the user before anything is stored.
    with pytest.raises(AlreadyExists):
        partners.add(hub, op, "Hub D", "DE", user="second@hub-b.example")
    assert "Hub D" not in {o["name"] for o in hub.list_orgs(op)}
    with pytest.raises(PermissionDenied):
        partners.add(hub, hub.authenticate(f"Bearer {setting['bank']}"), "Hub E", "DE")


runner = CliRunner()


def cli(*args: str) -> tuple[int, str, str]:
    from accord.cli import feeds  # noqa: F401 - registers `accord partner`, as main() does

    result = runner.invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        assert isinstance(result.exception, AccordError), repr(result.exception)
        return result.exception.exit_code, result.stdout, result.exception.message
    return result.exit_code, result.stdout, result.stderr


def test_partner_cli_and_rest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "p.db"
    monkeypatch.setenv("ACCORD_DATABASE_URL", f"sqlite:///{db}")
    hub = sqlite_hub_at(db)
    code, out, err = cli("partner", "add", "Hub B", "--country", "FR", "--user", "pull@hub-b.example", "--json")
    assert code == 0, err
    added = orjson.loads(out)
    assert added["kind"] == "partner-hub" and added["user"] == "pull@hub-b.example"
    assert added["token"].startswith("acc_") and added["token_expires_at"]
    assert hub.authenticate(f"Bearer {added['token']}", partner_ok=True).partner
    code, out, err = cli("partner", "add", "Hub B", "--country", "FR")
    assert code != 0 and "already exists" in err
    code, out, err = cli("partner", "add", "Hub C", "--country", "France")
    assert code == 65 and "country" in err
    code, out, _ = cli("partner", "list", "--json")
    assert [(p["name"], p["users"]) for p in orjson.loads(out)] == [("Hub B", ["pull@hub-b.example"])]
    code, out, _ = cli("partner", "add", "Hub C", "--country", "DE")
    assert code == 0 and "added partner hub Hub C" in out and "token" not in out

    hub.add_org(hub.viewer_as(None), "NCC", "government-national", "GB")
    hub.add_user(hub.viewer_as(None), "admin@ncc.example", "NCC", "admin")
    hub.add_user(hub.viewer_as(None), "analyst@ncc.example", "NCC", "analyst")
    admin = {"Authorization": f"Bearer {hub.create_token(hub.viewer_as(None), 'admin@ncc.example')['token']}"}
    analyst = {"Authorization": f"Bearer {hub.create_token(hub.viewer_as(None), 'analyst@ncc.example')['token']}"}
    client = TestClient(create_app(hub))
    body = {"name": "Hub D", "country": "NL", "user": "pull@hub-d.example", "token_days": 30}
    assert client.post("/api/v1/partners", json=body, headers=analyst).status_code == 403
    r = client.post("/api/v1/partners", json=body, headers=admin)
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "partner-hub" and r.json()["token"].startswith("acc_")
    assert client.post("/api/v1/partners", json={**body, "name": "Hub E"}, headers=admin).status_code == 409
    assert client.post("/api/v1/partners", json={"name": "Hub F"}, headers=admin).status_code in (400, 422)
    names = [p["name"] for p in client.get("/api/v1/partners", headers=admin).json()]
    assert names == ["Hub B", "Hub C", "Hub D"]
    # The partner's own token gets nothing from REST.
    partner = {"Authorization": f"Bearer {r.json()['token']}"}
    assert client.get("/api/v1/partners", headers=partner).status_code == 403


def test_a_feed_with_partner_credentials_on_another_collection_says_why(tmp_path: Path) -> None:
    from .conftest import add_partner_org, served_in_thread

    source = sqlite_hub_at(tmp_path / "a.db")
    here = setup_partner(source, "A", ["B"])
    everything = source.add_collection(source.viewer_as(None), "Everything")["id"]
    target = sqlite_hub_at(tmp_path / "b.db")
    add_partner_org(target, "Hub A")
    email, token = here.tokens["B"]
    with served_in_thread(source) as base:
        op = target.viewer_as(None)
        target.add_feed(op, "wrong", f"{base}/taxii2/", collection=everything, user=email, password=token,
                        as_org="Hub A")  # fmt: skip
        report = target.pull_feed(op, "wrong")
        assert report["error"].startswith("these credentials may not read the collection"), report
        assert "HTTP 403" in report["error"] and "partner hub" in report["error"]
        target.add_feed(op, "right", f"{base}/taxii2/", collection=here.collection, user=email, password=token,
                        as_org="Hub A")  # fmt: skip
        assert target.pull_feed(op, "right")["error"] is None


def test_an_existing_organisation_becomes_a_partner_hub(hub: Hub) -> None:
    """Hubs set up before partner hubs existed stood for partners with member organisations."""
    op = hub.viewer_as(None)
    hub.add_org(op, "A CERT", "cert", "GB")
    hub.add_org(op, "Hub B", "government-national", "FR")  # as the README once said
    hub.add_user(op, "pull@hub-b.example", "Hub B", "reader")
    hub.add_user(op, "lead@hub-b.example", "Hub B", "analyst")
    hub.add_group(op, "pair", "A CERT", ["Hub B"])
    coll = hub.add_collection(op, "Pushed", scope="federation", writers="Hub B")["id"]
    token = hub.create_token(op, "pull@hub-b.example")["token"]
    assert not hub.authenticate(f"Bearer {token}").partner
    with pytest.raises(InvalidInput) as refused:
        partners.convert(hub, op, "Hub B")
    for reason in ("sharing group(s) pair", "lead@hub-b.example hold a role above reader", f"collection(s) {coll}"):
        assert reason in refused.value.message
    hub.remove_group_member(op, "pair", "Hub B")
    hub.remove_collection(op, coll)
    with hub.engine.begin() as conn:
        from sqlalchemy import delete

        from accord.store.schema import app_user

        conn.execute(delete(app_user).where(app_user.c.email == "lead@hub-b.example"))
    assert partners.convert(hub, op, "Hub B")["kind"] == "partner-hub"
    with pytest.raises(PermissionDenied):
        hub.authenticate(f"Bearer {token}")  # the same token is now a partner's: TAXII only
    assert hub.authenticate(f"Bearer {token}", partner_ok=True).partner
    with pytest.raises(AlreadyExists):
        partners.convert(hub, op, "Hub B")
    assert [a["action"] for a in hub.audit(op, limit=5)][0] == "org.partner-hub"
