"""TAXII 2.1 protocol behaviour: media types, negotiation, authentication and every error status."""

from __future__ import annotations

import base64
import dataclasses

import orjson
import pytest
from fastapi.testclient import TestClient

from accord.api.app import create_app
from accord.taxii.media import TAXII_MEDIA_TYPE
from helpers import community, indicator

ROOT = "/taxii2/api"


def assert_taxii_error(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == TAXII_MEDIA_TYPE
    body = r.json()
    assert body["http_status"] == str(status) and body["title"] and body["description"]
    return body


def test_discovery_and_api_root(taxii) -> None:
    r = taxii.get("bank", "/taxii2/")
    assert r.status_code == 200 and r.headers["content-type"] == TAXII_MEDIA_TYPE
    doc = r.json()
    assert doc["api_roots"] == ["http://testserver/taxii2/api/"] and doc["default"] == doc["api_roots"][0]
    root = taxii.get("bank", f"{ROOT}/").json()
    assert root["versions"] == [TAXII_MEDIA_TYPE]
    assert root["max_content_length"] == taxii.hub.settings.max_bundle_bytes
    # Without the trailing slash too (clients differ).
    assert taxii.get("bank", ROOT).status_code == 200


def test_collections_show_can_read_and_can_write_per_viewer(taxii) -> None:
    def listing(who):
        return {c["id"]: c for c in taxii.get(who, f"{ROOT}/collections/").json().get("collections", [])}

    bank, uni, reader, anon = listing("bank"), listing("uni"), listing("uni-reader"), listing(None)
    assert bank[taxii.colls["all"]]["can_read"] and bank[taxii.colls["all"]]["can_write"]
    assert bank[taxii.colls["public"]]["can_read"] and not bank[taxii.colls["public"]]["can_write"]
    assert taxii.colls["closed"] not in bank  # neither readable nor writable: not listed
    assert taxii.colls["group"] in bank and taxii.colls["group"] not in uni  # Uni is not in the taskforce
    assert not reader[taxii.colls["all"]]["can_write"]  # a reader may not publish
    assert set(anon) == {taxii.colls["public"]} and not anon[taxii.colls["public"]]["can_write"]
    one = taxii.get("bank", taxii.url("all")).json()
    assert one["id"] == taxii.colls["all"] and one["media_types"] == ["application/stix+json;version=2.1"]


@pytest.mark.parametrize("accept", [TAXII_MEDIA_TYPE, "application/taxii+json", "*/*", "application/*", None,
                                    "application/json, application/taxii+json;version=2.1;q=0.5",
                                    "application/taxii+json; version=2.1"])  # fmt: skip
def test_accept_headers_that_are_served(taxii, accept) -> None:
    headers = {"Authorization": f"Bearer {taxii.tokens['bank']}"}
    if accept is not None:
        headers["Accept"] = accept
    r = taxii.client.get(taxii.url("all", "objects"), headers=headers)
    assert r.status_code == 200 and r.headers["content-type"] == TAXII_MEDIA_TYPE


@pytest.mark.parametrize("accept", ["application/json", "application/taxii+json;version=2.0", "text/html",
                                    "application/taxii+json;q=0", "application/stix+json;version=2.1"])  # fmt: skip
def test_accept_headers_that_get_406(taxii, accept) -> None:
    r = taxii.client.get(taxii.url("all", "objects"), headers={"Authorization": f"Bearer {taxii.tokens['bank']}",
                                                               "Accept": accept})  # fmt: skip
    assert_taxii_error(r, 406)


@pytest.mark.parametrize("content_type", [None, "application/json", "application/stix+json;version=2.1",
                                          "application/taxii+json;version=2.0"])  # fmt: skip
def test_post_needs_the_taxii_content_type(taxii, content_type) -> None:
    headers = taxii.headers("bank")
    if content_type:
        headers["Content-Type"] = content_type
    r = taxii.client.post(taxii.url("all", "objects"), content=orjson.dumps({"objects": [indicator()]}),
                          headers=headers)  # fmt: skip
    assert_taxii_error(r, 415)


def test_unversioned_taxii_content_type_is_accepted(taxii) -> None:
    r = taxii.client.post(taxii.url("all", "objects"), content=orjson.dumps({"objects": [indicator()]}),
                          headers=taxii.headers("bank", **{"Content-Type": "application/taxii+json"}))  # fmt: skip
    assert r.status_code == 202 and r.json()["success_count"] == 1


def test_401_without_or_with_bad_credentials(taxii) -> None:
    body = assert_taxii_error(taxii.get(None, taxii.url("all", "objects")), 401)
    assert "WWW-Authenticate" in taxii.get(None, taxii.url("all", "objects")).headers
    assert body["title"]
    assert_taxii_error(taxii.get(None, taxii.url("all")), 401)
    assert_taxii_error(taxii.post(None, "public", [indicator(level="clear")]), 401)
    # Bad credentials are refused everywhere, discovery included.
    r = taxii.client.get("/taxii2/", headers={"Authorization": "Bearer acc_wrong"})
    assert_taxii_error(r, 401)
    assert "WWW-Authenticate" in r.headers
    r = taxii.client.get("/taxii2/", headers={"Authorization": "Basic !!!"})
    assert_taxii_error(r, 401)


def test_http_basic_with_email_and_token(taxii) -> None:
    cred = base64.b64encode(f"analyst@bank.example:{taxii.tokens['bank']}".encode()).decode()
    r = taxii.client.get(taxii.url("all"), headers={"Authorization": f"Basic {cred}", "Accept": TAXII_MEDIA_TYPE})
    assert r.status_code == 200 and r.json()["can_write"]


def test_403_for_collections_the_viewer_may_not_use(taxii) -> None:
    assert_taxii_error(taxii.get("bank", taxii.url("closed")), 403)
    assert_taxii_error(taxii.get("bank", taxii.url("closed", "objects")), 403)
    assert_taxii_error(taxii.get("bank", taxii.url("closed", "manifest")), 403)
    assert_taxii_error(taxii.post("bank", "closed", [indicator()]), 403)  # writers: none
    assert_taxii_error(taxii.post("bank", "public", [indicator(level="clear")]), 403)  # writers: NCC
    assert_taxii_error(taxii.get("uni", taxii.url("group", "objects")), 403)  # not a taskforce member
    body = assert_taxii_error(taxii.post("uni-reader", "all", [indicator()]), 403)
    assert "analyst" in body["description"]
    assert taxii.get("admin", taxii.url("closed", "objects")).status_code == 200


def test_404_for_unknown_roots_collections_and_objects(taxii) -> None:
    assert_taxii_error(taxii.get("bank", "/taxii2/other/"), 404)
    assert_taxii_error(taxii.get("bank", "/taxii2/other/collections/"), 404)
    assert_taxii_error(taxii.get("bank", f"{ROOT}/collections/00000000-0000-4000-8000-000000000000/"), 404)
    assert_taxii_error(taxii.get(None, f"{ROOT}/collections/00000000-0000-4000-8000-000000000000/objects/"), 404)
    absent = "indicator--00000000-0000-4000-8000-000000000000"
    assert_taxii_error(taxii.get("bank", taxii.url("all", "objects", absent)), 404)
    assert_taxii_error(taxii.get("bank", taxii.url("all", "objects", absent, "versions")), 404)
    assert_taxii_error(taxii.get("bank", f"{ROOT}/status/00000000-0000-4000-8000-000000000000/"), 404)
    assert_taxii_error(taxii.get("bank", "/taxii2/api/nothing-here/"), 404)


def test_405_for_a_method_an_endpoint_does_not_have(taxii) -> None:
    r = taxii.client.put(taxii.url("all", "objects"), headers=taxii.headers("bank"))
    assert_taxii_error(r, 405)


@pytest.mark.parametrize("query", [
    {"added_after": "garbage"}, {"added_after": "2024-01-01"}, {"limit": "0"}, {"limit": "-3"}, {"limit": "ten"},
    {"match[version]": "sometimes"}, {"match[version]": "last,"}, {"match[spec_version]": "two"},
    {"match[type]": "Not A Type"}, {"match[id]": "indicator-1"}, {"next": "garbage"}, {"match[colour]": "red"},
])  # fmt: skip
def test_malformed_query_parameters_are_400_with_a_taxii_error(taxii, query) -> None:
    body = assert_taxii_error(taxii.get("bank", taxii.url("all", "objects"), **query), 400)
    assert body["error_code"] == "invalid-input"
    assert_taxii_error(taxii.get("bank", taxii.url("all", "manifest"), **query), 400)


def test_filters_an_endpoint_does_not_support_are_400(taxii) -> None:
    obj = indicator()
    taxii.post("bank", "all", [obj])
    assert_taxii_error(taxii.get("bank", taxii.url("all", "objects", obj["id"], "versions"), **{"match[type]": "x"}),
                       400)  # fmt: skip
    assert_taxii_error(taxii.get("bank", taxii.url("all", "objects", obj["id"]), **{"match[id]": obj["id"]}), 400)


def test_a_next_token_only_works_with_its_own_query(taxii) -> None:
    taxii.post("bank", "all", [indicator(f"n{i}.example") for i in range(3)])
    first = taxii.get("bank", taxii.url("all", "objects"), limit=1, **{"match[type]": "indicator"}).json()
    assert first["more"] and first["next"]
    body = assert_taxii_error(taxii.get("bank", taxii.url("all", "objects"), limit=1, next=first["next"]), 400)
    assert "another query" in body["description"]


def test_422_for_bodies_that_are_not_envelopes(taxii) -> None:
    bundle = {"type": "bundle", "id": "bundle--1b1e2b5e-4c1a-4f5e-9a57-2f3f4c4d5e6f", "objects": [indicator()]}
    for doc in (bundle, [indicator()], indicator(), {"objects": {"not": "a list"}}, "text"):
        r = taxii.client.post(taxii.url("all", "objects"), content=orjson.dumps(doc),
                              headers=taxii.headers("bank", **{"Content-Type": TAXII_MEDIA_TYPE}))  # fmt: skip
        assert_taxii_error(r, 422)
    r = taxii.client.post(taxii.url("all", "objects"), content=b"{not json",
                          headers=taxii.headers("bank", **{"Content-Type": TAXII_MEDIA_TYPE}))  # fmt: skip
    assert_taxii_error(r, 400)


def test_an_empty_envelope_is_a_complete_status(taxii) -> None:
    r = taxii.post("bank", "all", [])
    assert r.status_code == 202
    assert r.json()["status"] == "complete" and r.json()["total_count"] == 0


def test_413_past_max_content_length_chunked_or_not(hub) -> None:
    hub.settings = dataclasses.replace(hub.settings, max_bundle_bytes=4000)
    community(hub)
    op = hub.viewer_as(None)
    token = hub.create_token(op, "analyst@bank.example")["token"]
    coll = hub.add_collection(op, "All", writers="all")["id"]
    client = TestClient(create_app(hub))
    headers = {"Authorization": f"Bearer {token}", "Accept": TAXII_MEDIA_TYPE, "Content-Type": TAXII_MEDIA_TYPE}
    assert client.get(f"{ROOT}/", headers=headers).json()["max_content_length"] == 4000
    big = orjson.dumps({"objects": [indicator(f"big{i}.example") for i in range(20)]})
    assert len(big) > 4000
    url = f"{ROOT}/collections/{coll}/objects/"
    assert_taxii_error(client.post(url, content=big, headers=headers), 413)

    def chunks():
        for i in range(0, len(big), 500):
            yield big[i : i + 500]

    assert_taxii_error(client.post(url, content=chunks(), headers=headers), 413)
    small = orjson.dumps({"objects": [indicator("small.example")]})
    r = client.post(url, content=iter([small[:50], small[50:]]), headers=headers)  # chunked, within the limit
    assert r.status_code == 202 and r.json()["success_count"] == 1


def test_every_taxii_response_uses_the_taxii_media_type(taxii) -> None:
    obj = indicator()
    status = taxii.post("bank", "all", [obj]).json()
    paths = ["/taxii2/", f"{ROOT}/", f"{ROOT}/collections/", taxii.url("all"), taxii.url("all", "objects"),
             taxii.url("all", "manifest"), taxii.url("all", "objects", obj["id"]),
             taxii.url("all", "objects", obj["id"], "versions"), f"{ROOT}/status/{status['id']}/"]  # fmt: skip
    for path in paths:
        r = taxii.get("bank", path)
        assert r.status_code == 200, path
        assert r.headers["content-type"] == TAXII_MEDIA_TYPE, path
