"""``/api/v1/collections``: the REST face of ``accord collection add|list|remove``."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from accord.api.app import create_app
from accord.hub import Hub
from helpers import community

URL = "/api/v1/collections"


@pytest.fixture
def api(hub: Hub) -> tuple[TestClient, dict[str, str]]:
    community(hub)
    op = hub.viewer_as(None)
    hub.add_user(op, "analyst@uni.example", "Uni", "analyst")
    tokens = {
        "admin": hub.create_token(op, "admin@ncc.example")["token"],
        "police": hub.create_token(op, "oa@police.example")["token"],
        "bank": hub.create_token(op, "analyst@bank.example")["token"],
        "uni": hub.create_token(op, "analyst@uni.example")["token"],
        "uni-reader": hub.create_token(op, "reader@uni.example")["token"],
    }
    return TestClient(create_app(hub)), tokens


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_admin_creates_lists_and_deletes(api, hub: Hub) -> None:
    client, tok = api
    r = client.post(URL, json={"title": "Taskforce", "scope": "group:taskforce", "writers": "all",
                               "description": "Ransomware"}, headers=auth(tok["admin"]))  # fmt: skip
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["title"] == "Taskforce" and made["scope"] == "group:taskforce" and made["readers"] == "all"
    assert made["writers"] == "all" and made["write_audience"] == "group:taskforce"
    assert made["description"] == "Ransomware"
    r = client.post(URL, json={"title": "NCC only", "readers": ["NCC", "Police"], "writers": "NCC"},
                    headers=auth(tok["admin"]))  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["readers"] == ["NCC", "Police"] and r.json()["writers"] == ["NCC"]
    closed = r.json()["id"]

    listed = client.get(URL, headers=auth(tok["admin"]))
    assert listed.status_code == 200
    by_id = {c["id"]: c for c in listed.json()}
    assert set(by_id) == {made["id"], closed}
    assert by_id[closed]["readers"] == ["NCC", "Police"]  # admins see the configuration
    assert by_id[made["id"]]["can_read"] is True and by_id[made["id"]]["can_write"] is True  # NCC is in taskforce
    assert [c["id"] for c in hub.list_collections(hub.viewer_as(None))] == [made["id"], closed]  # same as the CLI

    r = client.delete(f"{URL}/{made['id']}", headers=auth(tok["admin"]))
    assert r.status_code == 200 and r.json() == {"id": made["id"], "removed": True}
    assert [c["id"] for c in client.get(URL, headers=auth(tok["admin"])).json()] == [closed]
    again = client.delete(f"{URL}/{made['id']}", headers=auth(tok["admin"]))
    assert again.status_code == 404 and again.json()["error"]["code"] == "not-found"


def test_non_admins_may_not_manage_collections(api, hub: Hub) -> None:
    client, tok = api
    cid = hub.add_collection(hub.viewer_as(None), "Everything", writers="all")["id"]
    for who in ("police", "bank", "uni-reader"):  # an org-admin, an analyst, a reader
        r = client.post(URL, json={"title": "Mine"}, headers=auth(tok[who]))
        assert r.status_code == 403, (who, r.text)
        assert r.json()["error"]["code"] == "forbidden" and "admin" in r.json()["error"]["message"]
        r = client.delete(f"{URL}/{cid}", headers=auth(tok[who]))
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    # no oracle: an unknown id is refused the same way
    assert client.delete(f"{URL}/00000000-0000-4000-8000-000000000000", headers=auth(tok["bank"])).status_code == 403
    assert [c["id"] for c in hub.list_collections(hub.viewer_as(None))] == [cid]
    r = client.get(URL)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
    assert client.post(URL, json={"title": "Anon"}).status_code == 401


@pytest.mark.parametrize(
    "body, words",
    [
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "Bad scope", "scope": "everything"}, "scope"),
        ({"title": "Bad group", "scope": "group:"}, "group"),
        ({"title": "Bad writers", "writers": ""}, "--writers"),
        ({"title": "Bad readers", "readers": []}, "--readers"),
        ({"title": "Public", "scope": "public", "write_audience": "community"}, "public"),
        ({"title": "Bad audience", "write_audience": "everyone"}, "audience"),
        ({"title": "Typo", "write-audience": "org"}, "write-audience"),
        ({"title": 5}, "title"),
    ],
)
def test_bad_input_is_a_400_with_the_json_error_body(api, hub: Hub, body, words) -> None:
    client, tok = api
    r = client.post(URL, json=body, headers=auth(tok["admin"]))
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert set(r.json()) == {"error"} and err["code"] == "invalid-input"
    assert words in err["message"], err["message"]
    assert hub.list_collections(hub.viewer_as(None)) == []


def test_unknown_group_or_organisation_is_not_found(api) -> None:
    client, tok = api
    r = client.post(URL, json={"title": "G", "scope": "group:nobody"}, headers=auth(tok["admin"]))
    assert r.status_code == 404 and "nobody" in r.json()["error"]["message"]
    r = client.post(URL, json={"title": "R", "readers": "NCC,Nowhere Ltd"}, headers=auth(tok["admin"]))
    assert r.status_code == 404 and "Nowhere Ltd" in r.json()["error"]["message"]


def test_not_json_is_a_400(api) -> None:
    client, tok = api
    r = client.post(URL, content=b"{nope", headers={**auth(tok["admin"]), "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid-input"


def test_a_viewer_sees_only_the_collections_it_may_use(api, hub: Hub) -> None:
    client, tok = api
    op = hub.viewer_as(None)
    ids = {
        "all": hub.add_collection(op, "Everything", writers="all")["id"],
        "group": hub.add_collection(op, "Taskforce", scope="group:taskforce", writers="all")["id"],
        "closed": hub.add_collection(op, "NCC only", readers="NCC", description="Briefings")["id"],
        "public": hub.add_collection(op, "Public", scope="public", writers="NCC")["id"],
        "drop": hub.add_collection(op, "Drop box", readers="NCC", writers="all")["id"],
    }

    def seen(who: str) -> dict[str, dict]:
        r = client.get(URL, headers=auth(tok[who]))
        assert r.status_code == 200, r.text
        return {c["id"]: c for c in r.json()}

    uni = seen("uni")  # Uni is not in the taskforce and not a reader of the NCC-only collections
    assert ids["closed"] not in uni and ids["group"] not in uni
    assert {k for k, v in ids.items() if v in uni} == {"all", "public", "drop"}
    assert uni[ids["all"]] == {"id": ids["all"], "title": "Everything", "description": None, "scope": "all",
                               "can_read": True, "can_write": True}  # fmt: skip
    # a collection it may only write to (like TAXII's collection list shows it), marked unreadable
    assert uni[ids["drop"]]["can_read"] is False and uni[ids["drop"]]["can_write"] is True
    assert uni[ids["public"]]["can_write"] is False
    for entry in uni.values():  # the configuration (named readers, writers) stays with admins
        assert "readers" not in entry and "writers" not in entry and "write_audience" not in entry

    reader = seen("uni-reader")  # a reader may write nowhere, so it sees only what it may read
    assert {k for k, v in ids.items() if v in reader} == {"all", "public"}
    assert all(c["can_read"] and not c["can_write"] for c in reader.values())

    bank = seen("bank")  # in the taskforce
    assert {k for k, v in ids.items() if v in bank} == {"all", "group", "public", "drop"}
    assert bank[ids["group"]]["scope"] == "group:taskforce" and bank[ids["group"]]["can_read"] is True

    police = seen("police")  # an org-admin is no hub admin: the same view as its organisation's members
    assert ids["closed"] not in police and "readers" not in police[ids["all"]]

    admin = seen("admin")  # the hub admin sees every collection, with its configuration
    assert set(admin) == set(ids.values())
    assert admin[ids["closed"]]["readers"] == ["NCC"] and admin[ids["closed"]]["can_read"] is True

    # and what the REST list shows a viewer is what TAXII shows it
    taxii = client.get("/taxii2/api/collections/", headers={**auth(tok["uni"]), "Accept": "application/taxii+json"})
    assert {c["id"] for c in taxii.json()["collections"]} == set(uni)


@pytest.mark.parametrize(
    "body, status, words",
    [
        # a write audience naming a group that does not exist: every write would fail
        ({"title": "W", "write_audience": "group:nobody"}, 404, "nobody"),
        # taskforce is NCC, Police, Bank: Uni could never read (or write) through a taskforce collection
        ({"title": "G", "scope": "group:taskforce", "readers": "NCC,Uni"}, 400, "Uni is not a member"),
        ({"title": "G", "scope": "group:taskforce", "writers": "Uni"}, 400, "Uni is not a member"),
        ({"title": "W", "writers": "Uni", "write_audience": "group:taskforce"}, 400, "Uni is not a member"),
        # a partner hub reads federation and public collections only
        ({"title": "P", "readers": "Hub B"}, 400, "partner hub"),
        ({"title": "P", "scope": "org", "readers": ["NCC", "Hub B"]}, 400, "partner hub"),
        # what PostgreSQL cannot store, and what a title should never hold
        ({"title": "Q\x00"}, 400, "control characters"),
        ({"title": "line\nbreak"}, 400, "control characters"),
        ({"title": "Q", "description": "a\x00b"}, 400, "NUL"),
        ({"title": "Q", "description": "x" * 10_001}, 400, "10,000"),
        ({"title": "Q", "readers": "NCC\x00"}, 400, "NUL"),
        ({"title": "Q", "scope": "group:\x00"}, 400, "NUL"),
        ({"title": "Q", "scope": "feed:\x00"}, 400, "NUL"),
        ({"title": "Q", "write_audience": "group:\x00"}, 400, "NUL"),
    ],
)
def test_a_collection_nobody_could_use_as_configured_is_refused(api, hub: Hub, body, status, words) -> None:
    client, tok = api
    hub.add_org(hub.viewer_as(None), "Hub B", "government-national", "FR", kind="partner-hub")
    r = client.post(URL, json=body, headers=auth(tok["admin"]))
    assert r.status_code == status, r.text
    assert words in r.json()["error"]["message"], r.json()
    assert hub.list_collections(hub.viewer_as(None)) == []


def test_members_of_the_group_and_partners_of_a_federation_collection_are_accepted(api, hub: Hub) -> None:
    client, tok = api
    hub.add_org(hub.viewer_as(None), "Hub B", "government-national", "FR", kind="partner-hub")
    for body in ({"title": "G", "scope": "group:taskforce", "readers": "NCC,Bank", "writers": ["Police"]},
                 {"title": "F", "scope": "federation", "readers": "Hub B,Uni"},
                 {"title": "P", "scope": "public", "readers": "Hub B"}):  # fmt: skip
        r = client.post(URL, json=body, headers=auth(tok["admin"]))
        assert r.status_code == 201, r.text


def test_a_second_collection_with_the_same_title_is_refused(api, hub: Hub) -> None:
    """TAXII clients pick a collection by title; running `collection add` twice made two alike."""
    client, tok = api
    first = client.post(URL, json={"title": "Everything"}, headers=auth(tok["admin"])).json()["id"]
    for title in ("Everything", " everything ", "EVERYTHING"):
        r = client.post(URL, json={"title": title, "scope": "public"}, headers=auth(tok["admin"]))
        assert r.status_code == 409 and r.json()["error"]["code"] == "already-exists", r.text
        assert first in r.json()["error"]["message"]
    assert [c["id"] for c in hub.list_collections(hub.viewer_as(None))] == [first]
    assert client.delete(f"{URL}/{first}", headers=auth(tok["admin"])).status_code == 200
    assert client.post(URL, json={"title": "Everything"}, headers=auth(tok["admin"])).status_code == 201


@pytest.mark.parametrize("cid", ["nope", "%00", "00000000-0000-4000-8000-000000000000"])
def test_removing_an_unknown_or_malformed_id_is_a_404(api, cid: str) -> None:
    client, tok = api
    r = client.delete(f"{URL}/{cid}", headers=auth(tok["admin"]))
    assert r.status_code == 404 and r.json()["error"]["code"] == "not-found", r.text
