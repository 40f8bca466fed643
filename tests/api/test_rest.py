"""The REST API: authentication, the same visibility as every other path, JSON errors."""

from __future__ import annotations

import base64

import orjson
import pytest
from fastapi.testclient import TestClient

from accord.api.app import create_app
from accord.hub import Hub
from helpers import community, indicator


@pytest.fixture
def api(hub: Hub) -> tuple[TestClient, dict[str, str]]:
    community(hub)
    op = hub.viewer_as(None)
    tokens = {
        "admin": hub.create_token(op, "admin@ncc.example")["token"],
        "police": hub.create_token(op, "oa@police.example")["token"],
        "bank": hub.create_token(op, "analyst@bank.example")["token"],
        "uni": hub.create_token(op, "reader@uni.example")["token"],
    }
    return TestClient(create_app(hub)), tokens


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_health_and_openapi(api) -> None:
    client, _ = api
    assert client.get("/health").json()["status"] == "ok"
    doc = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/objects" in doc["paths"]


def test_requests_without_or_with_bad_credentials_get_401(api) -> None:
    client, _ = api
    r = client.get("/api/v1/objects")
    assert r.status_code == 401 and "WWW-Authenticate" in r.headers
    assert r.json()["error"]["code"] == "unauthenticated"
    assert client.get("/api/v1/objects", headers=auth("acc_wrong")).status_code == 401


def test_publish_and_read_through_the_visibility_rule(api) -> None:
    client, tok = api
    red = indicator("red.example", level="red")
    r = client.post("/api/v1/objects?audience=group:taskforce", content=orjson.dumps(red), headers=auth(tok["bank"]))
    assert r.status_code == 201, r.text
    assert r.json()["added"] == 1
    assert client.get(f"/api/v1/objects/{red['id']}", headers=auth(tok["police"])).status_code == 200
    hidden = client.get(f"/api/v1/objects/{red['id']}", headers=auth(tok["uni"]))
    assert hidden.status_code == 404
    absent = client.get("/api/v1/objects/indicator--00000000-0000-4000-8000-000000000000", headers=auth(tok["uni"]))
    assert absent.status_code == 404 and absent.json()["error"]["message"].startswith("no object")
    uni_ids = {o["id"] for o in client.get("/api/v1/objects?type=indicator", headers=auth(tok["uni"])).json()["objects"]}
    assert red["id"] not in uni_ids
    export = client.get("/api/v1/export", headers=auth(tok["uni"])).json()
    assert export["type"] == "bundle" and red["id"] not in {o["id"] for o in export["objects"]}
    assert client.get("/api/v1/stats", headers=auth(tok["uni"])).json()["by_type"].get("indicator", 0) == 0


def test_basic_auth(api) -> None:
    client, tok = api
    cred = base64.b64encode(f"analyst@bank.example:{tok['bank']}".encode()).decode()
    r = client.get("/api/v1/whoami", headers={"Authorization": f"Basic {cred}"})
    assert r.status_code == 200 and r.json()["org"] == "Bank"


def test_garbage_gets_clear_errors_and_loses_nothing(api) -> None:
    client, tok = api
    good = indicator("kept.example")
    client.post("/api/v1/objects", content=orjson.dumps(good), headers=auth(tok["bank"]))
    r = client.post("/api/v1/objects", content=b"{not json", headers=auth(tok["bank"]))
    assert r.status_code == 400 and "JSON" in r.json()["error"]["message"]
    r = client.post("/api/v1/objects", content=orjson.dumps({**indicator(), "pattern": "[nope"}), headers=auth(tok["bank"]))
    assert r.status_code == 422 and r.json()["errors"][0]["reason"]
    r = client.post("/api/v1/objects?tlp=purple", content=orjson.dumps(indicator()), headers=auth(tok["bank"]))
    assert r.status_code == 400 and "TLP" in r.json()["error"]["message"]
    r = client.get("/api/v1/objects?added_after=yesterday", headers=auth(tok["bank"]))
    assert r.status_code == 400 and "added_after" in r.json()["error"]["message"]
    r = client.get("/api/v1/objects?limit=0", headers=auth(tok["bank"]))
    assert r.status_code == 400
    assert client.get(f"/api/v1/objects/{good['id']}", headers=auth(tok["bank"])).status_code == 200


def test_objects_that_cannot_be_kept_exactly_fail_alone(api, tmp_path, monkeypatch) -> None:
    """An object nested deeper than can be stored, or holding an integer beyond STIX's range (which JSON
    parsing would turn into an approximate float), is refused with its reason on every path — the REST
    API, a JSON-lines upload and `accord ingest` — and the objects beside it are stored."""
    client, tok = api
    deep: object = "x"
    for _ in range(300):
        deep = {"a": deep}
    good = indicator("beside.example")
    nested = {**indicator("nested.example"), "x_deep": deep}
    big = {**indicator("big.example"), "x_count": 123456789012345678901234567890}
    near = {**indicator("near.example"), "x_count": 2**60}  # kept exactly by the parser, still beyond STIX
    bundle = {"type": "bundle", "id": "bundle--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "objects": [good, nested, big, near]}
    import json  # orjson does not write 300 levels

    for body in (json.dumps(bundle).encode(), "\n".join(json.dumps(o) for o in bundle["objects"]).encode()):
        r = client.post("/api/v1/objects", content=body, headers=auth(tok["bank"]))
        assert r.status_code in (200, 201), r.text  # the good one: added, then unchanged
        reasons = [e["reason"] for e in r.json()["errors"]]
        assert len(reasons) == 3, reasons
        assert "nested too deeply" in reasons[0] and nested["id"] in reasons[0]
        assert "123456789012345678901234567890" in reasons[1] and "integer range" in reasons[1]
        assert str(2**60) in reasons[2]
    assert client.get(f"/api/v1/objects/{good['id']}", headers=auth(tok["bank"])).status_code == 200
    for refused in (nested, big, near):
        assert client.get(f"/api/v1/objects/{refused['id']}", headers=auth(tok["bank"])).status_code == 404
    path = tmp_path / "deep.json"  # the file path `accord ingest` takes (streamed past 32 MiB, parsed whole here)
    path.write_text(json.dumps(bundle))
    hub = client.app.state.hub
    result = hub.ingest_file(hub.viewer_as("Bank"), path, hub.options())
    assert result.rejected == 3 and result.unchanged == 1
    from accord.errors import InvalidInput
    from accord.stix import reader

    monkeypatch.setattr(reader, "WHOLE_PARSE_LIMIT", 100)  # streamed, as a file past 32 MiB is
    path.write_text(json.dumps({**bundle, "objects": [good, nested, near]}))
    result = hub.ingest_file(hub.viewer_as("Bank"), path, hub.options())
    assert result.rejected == 2 and result.unchanged == 1
    path.write_text(json.dumps(bundle))  # the streaming parser cannot hold the 30-digit integer at all
    with pytest.raises(InvalidInput, match="after element 2.*integer overflow"):
        hub.ingest_file(hub.viewer_as("Bank"), path, hub.options())


def test_nul_characters_are_refused_by_name_never_a_500(api) -> None:
    """PostgreSQL keeps no U+0000 in text: an object holding one is refused on every back end, with the
    reason; any other value holding one is a 400 naming it where the database would refuse it."""
    client, tok = api
    good = indicator("kept.example")
    bad = indicator("nul.example", description="before\u0000after")
    escaped = indicator("escaped.example", description="a backslash then u0000: \\u0000")
    r = client.post("/api/v1/objects", content=orjson.dumps([good, bad, escaped]), headers=auth(tok["bank"]))
    assert r.status_code == 201, r.text
    (err,) = r.json()["errors"]
    assert err["id"] == bad["id"] and "NUL character (U+0000)" in err["reason"]
    assert client.get(f"/api/v1/objects/{escaped['id']}", headers=auth(tok["bank"])).status_code == 200
    admin = auth(tok["admin"])
    for path, body in (("/api/v1/orgs", {"name": "Nul\u0000Org", "sector": "cert", "country": "FR"}),
                       ("/api/v1/users", {"email": "a\u0000@bank.example", "org": "Bank", "role": "analyst"}),
                       ("/api/v1/tokens", {"user": "analyst@bank.example", "label": "l\u0000"})):  # fmt: skip
        r = client.post(path, json=body, headers=admin)
        assert r.status_code in (200, 201, 400), (path, r.status_code, r.text)
        if r.status_code == 400:
            assert "NUL" in r.json()["error"]["message"] or "e-mail" in r.json()["error"]["message"], r.text
    r = client.get("/api/v1/objects", params={"type": "indi\u0000cator"}, headers=admin)
    assert r.status_code in (200, 400), r.text
    assert client.get(f"/api/v1/objects/{good['id']}", headers=admin).status_code == 200


def test_oversized_requests_get_413(tmp_path, request) -> None:
    from conftest import make_hub

    hub = make_hub("sqlite", tmp_path, request, max_bundle_bytes=1000)
    community(hub)
    token = hub.create_token(hub.viewer_as(None), "analyst@bank.example")["token"]
    client = TestClient(create_app(hub))
    r = client.post("/api/v1/objects", content=b"[" + b" " * 2000 + b"]", headers=auth(token))
    assert r.status_code == 413 and "ACCORD_MAX_BUNDLE_BYTES" in r.json()["error"]["message"]

    def chunks():
        for _ in range(10):
            yield b" " * 200

    r = client.post("/api/v1/objects", content=chunks(), headers=auth(token))
    assert r.status_code == 413


def test_readers_cannot_publish_and_roles_apply(api) -> None:
    client, tok = api
    r = client.post("/api/v1/objects", content=orjson.dumps(indicator()), headers=auth(tok["uni"]))
    assert r.status_code == 403
    r = client.post("/api/v1/orgs", json={"name": "Rogue", "sector": "cert", "country": "GB"}, headers=auth(tok["bank"]))
    assert r.status_code == 403
    r = client.post("/api/v1/orgs", json={"name": "CERT-X", "sector": "cert", "country": "NL"}, headers=auth(tok["admin"]))
    assert r.status_code == 201


def test_token_lifecycle_over_the_api(api) -> None:
    client, tok = api
    r = client.post("/api/v1/tokens", json={"user": "oa@police.example", "label": "siem"}, headers=auth(tok["police"]))
    assert r.status_code == 201
    new = r.json()
    assert client.get("/api/v1/whoami", headers=auth(new["token"])).status_code == 200
    listed = client.get("/api/v1/tokens", headers=auth(tok["police"])).json()
    assert all("token" not in t for t in listed)
    assert client.delete(f"/api/v1/tokens/{new['id']}", headers=auth(tok["police"])).status_code == 200
    assert client.get("/api/v1/whoami", headers=auth(new["token"])).status_code == 401


def test_versions_and_revoke(api) -> None:
    client, tok = api
    obj = indicator("v.example")
    client.post("/api/v1/objects", content=orjson.dumps(obj), headers=auth(tok["bank"]))
    newer = {**obj, "modified": "2025-01-01T00:00:00.000Z"}
    r = client.post("/api/v1/objects", content=orjson.dumps(newer), headers=auth(tok["bank"]))
    assert r.json()["new_version"] == 1
    got = client.get(f"/api/v1/objects/{obj['id']}?versions=all", headers=auth(tok["police"])).json()
    assert len(got["versions"]) == 2
    assert client.delete(f"/api/v1/objects/{obj['id']}", headers=auth(tok["police"])).status_code in (403, 422)
    assert client.delete(f"/api/v1/objects/{obj['id']}", headers=auth(tok["bank"])).status_code == 200
    assert client.get(f"/api/v1/objects/{obj['id']}", headers=auth(tok["police"])).json()["revoked"] is True


@pytest.mark.parametrize("number", ["99999999999999999999999", "-9223372036854775809"])
def test_ids_beyond_64_bits_are_an_input_error_on_every_back_end(api, number: str) -> None:
    """SQLite's driver cannot bind an integer beyond 64 bits (it raised a bare OverflowError: a 500),
    PostgreSQL refuses it as out of range: on both the caller hears the same input error."""
    client, tok = api
    r = client.delete(f"/api/v1/tokens/{number}", headers=auth(tok["admin"]))
    assert r.status_code == 400, r.text
    assert r.json()["error"]["message"] == "a number is beyond the range the hub can store"
