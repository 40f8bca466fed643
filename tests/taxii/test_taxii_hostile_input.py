"""TAXII 2.1 against hostile or careless input: odd bytes in paths and parameters, bodies that are not
envelopes, objects nested too deeply or holding huge numbers, and HTTP details (HEAD, Allow, Accept q=0).
Every one gets a TAXII error or a per-object failure naming what was wrong, never a 500, and nothing
already stored is lost."""

from __future__ import annotations

import gzip

import orjson
import pytest
from starlette.requests import ClientDisconnect

from accord.taxii import errors
from accord.taxii.media import TAXII_MEDIA_TYPE, accepts_taxii
from helpers import indicator

ROOT = "/taxii2/api"
ABSENT_UUID = "00000000-0000-4000-8000-000000000000"


def error(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == TAXII_MEDIA_TYPE
    body = r.json()
    assert body["http_status"] == str(status) and body["description"]
    return body


def post_raw(taxii, body: bytes, who: str = "bank"):
    headers = taxii.headers(who, **{"Content-Type": TAXII_MEDIA_TYPE})
    return taxii.client.post(taxii.url("all", "objects"), content=body, headers=headers)


@pytest.mark.parametrize("path", [
    "status/{bad}/", "collections/{bad}/", "collections/{bad}/objects/", "collections/{bad}/manifest/",
    "collections/{all}/objects/indicator--{bad}/", "collections/{all}/objects/indicator--{bad}/versions/",
])  # fmt: skip
def test_a_nul_or_malformed_id_in_the_path_is_404_on_every_back_end(taxii, path) -> None:
    # PostgreSQL refuses a NUL in a string parameter: such ids must never reach the database.
    for bad in ("a%00b", "not-a-uuid", f"{ABSENT_UUID}%0A", "%0A"):
        url = f"{ROOT}/" + path.format(bad=bad, all=taxii.colls["all"])
        error(taxii.client.get(url, headers=taxii.headers("bank")), 404)
    url = f"{ROOT}/collections/{taxii.colls['all']}/objects/indicator--a%00b/"
    error(taxii.client.delete(url, headers=taxii.headers("bank")), 404)


def test_a_malformed_object_id_is_answered_like_an_absent_one(taxii) -> None:
    absent = taxii.get("bank", taxii.url("all", "objects", f"indicator--{ABSENT_UUID}"))
    malformed = taxii.get("bank", taxii.url("all", "objects", "indicator--nope"))
    assert absent.status_code == malformed.status_code == 404
    assert absent.json()["title"] == malformed.json()["title"]
    # Access is still checked first: anonymous callers are asked to sign in, whatever the id.
    error(taxii.get(None, taxii.url("all", "objects", "indicator--nope")), 401)


@pytest.mark.parametrize("limit", ["²", "٣", "１", "1e3", "0x10", " ", "+5"])
def test_a_limit_that_is_not_plain_ascii_digits_is_400(taxii, limit) -> None:
    body = error(taxii.get("bank", taxii.url("all", "objects"), limit=limit), 400)
    assert "limit" in body["description"]


@pytest.mark.parametrize("query", [
    {"match[id]x": "1"}, {"match[type": "indicator"}, {"match[type]\n": "indicator"},
    {"match[type]": ",".join(f"t{i}x" for i in range(1001))},
])  # fmt: skip
def test_match_keys_are_checked_whole_and_values_counted(taxii, query) -> None:
    error(taxii.get("bank", taxii.url("all", "objects"), **query), 400)


@pytest.mark.parametrize(("doc", "said"), [
    ({}, "no 'objects'"), ({"more": False}, "no 'objects'"), ({"indicators": [indicator()]}, "'indicators'"),
    ({"objects": None}, "JSON null, not a list"), ({"objects": "x"}, "a JSON string, not a list"),
    ([], "a JSON array"), (12, "a JSON number"), (None, "JSON null"), (True, "a JSON boolean"),
])  # fmt: skip
def test_a_body_that_is_no_envelope_is_422_naming_what_it_is(taxii, doc, said) -> None:
    body = error(post_raw(taxii, orjson.dumps(doc)), 422)
    assert said in body["description"], body


def test_elements_that_are_not_objects_fail_one_by_one_in_json_terms(taxii) -> None:
    good = indicator("fine.example")
    status = post_raw(taxii, orjson.dumps({"objects": [1, "x", None, [1], good]})).json()
    assert status["success_count"] == 1 and status["failure_count"] == 4
    said = [f["message"] for f in status["failures"]]
    assert said == ["element 0 is a JSON number, not a STIX object", "element 1 is a JSON string, not a STIX object",
                    "element 2 is JSON null, not a STIX object", "element 3 is a JSON array, not a STIX object"]  # fmt: skip


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_an_object_nested_too_deeply_to_store_fails_alone(taxii) -> None:
    kept = indicator("kept.example")
    assert taxii.post("bank", "all", [kept]).json()["success_count"] == 1
    good = indicator("beside.example")
    deep = indicator("deep.example")
    body = b'{"objects":[' + orjson.dumps(good) + b"," + orjson.dumps(deep)[:-1] + b',"x_deep":' + nested(600) + b"}]}"
    r = post_raw(taxii, body)
    assert r.status_code == 202, r.text
    status = r.json()
    assert status["success_count"] == 1 and status["successes"][0]["id"] == good["id"]
    assert status["failure_count"] == 1 and status["failures"][0]["id"] == deep["id"]
    assert "nested too deeply" in status["failures"][0]["message"]
    # Deeper than the parser goes at all: the whole body is refused as JSON, and nothing stored is lost.
    body = error(post_raw(taxii, b'{"objects":[' + nested(5000) + b"]}"), 400)
    assert "not valid JSON" in body["description"]
    assert taxii.get("bank", taxii.url("all", "objects", kept["id"])).status_code == 200


@pytest.mark.parametrize("literal", [b"123456789012345678901234567890", b"18446744073709551615", b"-9007199254740992"])
def test_an_integer_beyond_stix_range_fails_its_object_instead_of_being_altered(taxii, literal) -> None:
    good, big = indicator("small-number.example"), indicator("big-number.example")
    body = orjson.dumps({"objects": [good, {**big, "x_count": 0}]}).replace(b'"x_count":0', b'"x_count":' + literal)
    status = post_raw(taxii, body).json()
    assert status["success_count"] == 1 and status["successes"][0]["id"] == good["id"]
    assert status["failure_count"] == 1 and status["failures"][0]["id"] == big["id"]
    assert literal.decode()[:30] in status["failures"][0]["message"]
    error(taxii.get("bank", taxii.url("all", "objects", big["id"])), 404)  # not stored, not even as a float


def test_integers_within_stix_range_and_long_digit_strings_are_kept_exactly(taxii) -> None:
    obj = indicator("exact.example", x_count=9007199254740991, x_floats=[0.25, -2.5],
                    x_hash="1234567890123456789012345678901234567890")  # fmt: skip
    status = post_raw(taxii, orjson.dumps({"objects": [obj]})).json()
    assert status["success_count"] == 1, status
    got = taxii.get("bank", taxii.url("all", "objects", obj["id"])).json()["objects"][0]
    assert got["x_count"] == 9007199254740991 and got["x_floats"] == [0.25, -2.5] and got["x_hash"] == obj["x_hash"]


def test_head_answers_like_get_without_a_body(taxii) -> None:
    obj = indicator()
    taxii.post("bank", "all", [obj])
    for path in ("/taxii2/", f"{ROOT}/collections/", taxii.url("all", "objects"), taxii.url("all", "manifest"),
                 taxii.url("all", "objects", obj["id"], "versions")):  # fmt: skip
        got = taxii.client.get(path, headers=taxii.headers("bank"))
        head = taxii.client.head(path, headers=taxii.headers("bank"))
        assert head.status_code == got.status_code == 200, path
        assert head.content == b""
        assert head.headers["content-type"] == TAXII_MEDIA_TYPE
        assert head.headers["content-length"] == str(len(got.content))
        for h in ("x-taxii-date-added-first", "x-taxii-date-added-last"):
            assert head.headers.get(h) == got.headers.get(h)
    assert taxii.client.head(taxii.url("closed", "objects"), headers=taxii.headers("bank")).status_code == 403


def test_405_names_the_allowed_methods(taxii) -> None:
    r = taxii.client.put(taxii.url("all", "objects"), headers=taxii.headers("bank"))
    error(r, 405)
    assert set(r.headers["allow"].split(", ")) == {"GET", "POST", "HEAD"}
    r = taxii.client.post(f"{ROOT}/status/{ABSENT_UUID}/", headers=taxii.headers("bank"))
    error(r, 405)
    assert set(r.headers["allow"].split(", ")) == {"GET", "HEAD"}


@pytest.mark.parametrize(("accept", "ok"), [
    ("application/taxii+json;q=0, */*", False),
    ("application/taxii+json;version=2.1;q=0, application/*", False),
    ("*/*;q=0, application/taxii+json", True),
    ("application/taxii+json;version=2.1;q=0.5, application/taxii+json;q=0", True),
    ("application/taxii+json;version=2.0, */*", True),
    ("application/json, */*;q=0", False),
])  # fmt: skip
def test_accept_the_most_specific_range_decides(taxii, accept, ok) -> None:
    assert accepts_taxii(accept) is ok
    r = taxii.client.get(f"{ROOT}/collections/", headers={**taxii.headers("bank"), "Accept": accept})
    assert r.status_code == (200 if ok else 406)


def test_a_delete_by_someone_else_says_only_the_creator_may_delete(taxii) -> None:
    obj = indicator()
    taxii.post("bank", "all", [obj])
    body = error(taxii.client.delete(taxii.url("all", "objects", obj["id"]), headers=taxii.headers("police")), 403)
    assert "only its creator" in body["description"] and obj["id"] in body["description"]
    assert "revoked" not in taxii.get("bank", taxii.url("all", "objects", obj["id"])).json()["objects"][0]


def test_a_compressed_body_is_415_not_a_json_error(taxii) -> None:
    body = gzip.compress(orjson.dumps({"objects": [indicator()]}))
    headers = taxii.headers("bank", **{"Content-Type": TAXII_MEDIA_TYPE, "Content-Encoding": "gzip"})
    r = taxii.client.post(taxii.url("all", "objects"), content=body, headers=headers)
    assert "gzip" in error(r, 415)["description"]
    headers["Content-Encoding"] = "identity"
    plain = orjson.dumps({"objects": [indicator()]})
    r = taxii.client.post(taxii.url("all", "objects"), content=plain, headers=headers)
    assert r.status_code == 202 and r.json()["success_count"] == 1


def test_a_body_cut_short_by_the_client_is_a_400_not_a_logged_server_error(caplog) -> None:
    r = errors.from_exception(ClientDisconnect())
    assert r.status_code == 400 and orjson.loads(r.body)["error_code"] == "incomplete-body"
    assert not [rec for rec in caplog.records if rec.name == "accord.taxii"]
