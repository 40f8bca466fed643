"""Objects, manifests and versions through TAXII: match filters, date headers, writes, deletes."""

from __future__ import annotations

from accord.stix.timestamps import parse
from helpers import indicator, malware

V1, V2, V3 = "2024-03-01T00:00:00.000Z", "2024-03-02T00:00:00.000Z", "2024-03-03T00:00:00.000Z"


def three_versions(taxii) -> str:
    sid = indicator()["id"]
    for v in (V1, V2, V3):
        r = taxii.post("bank", "all", [indicator("versioned.example", stix_id=sid, modified=v)])
        assert r.json()["success_count"] == 1
    return sid


def versions_of(envelope: dict) -> list[str]:
    return [o["modified"] for o in envelope.get("objects", [])]


def test_match_version_first_last_all_and_timestamps(taxii) -> None:
    sid = three_versions(taxii)
    url = taxii.url("all", "objects")

    def get(**q):
        return taxii.get("bank", url, **{"match[id]": sid, **q}).json()

    assert versions_of(get()) == [V3]  # default: last
    assert versions_of(get(**{"match[version]": "last"})) == [V3]
    assert versions_of(get(**{"match[version]": "first"})) == [V1]
    assert versions_of(get(**{"match[version]": "all"})) == [V1, V2, V3]
    assert versions_of(get(**{"match[version]": V2})) == [V2]
    assert versions_of(get(**{"match[version]": f"first,{V2}"})) == [V1, V2]
    assert get(**{"match[version]": "2020-01-01T00:00:00Z"}) == {"more": False}
    # The same on the object endpoint.
    one = taxii.get("bank", taxii.url("all", "objects", sid), **{"match[version]": "first,last"}).json()
    assert versions_of(one) == [V1, V3]


def test_versions_endpoint_and_manifest(taxii) -> None:
    sid = three_versions(taxii)
    r = taxii.get("bank", taxii.url("all", "objects", sid, "versions"))
    assert r.status_code == 200
    assert r.json() == {"more": False, "versions": [V1, V2, V3]}
    assert r.headers["X-TAXII-Date-Added-First"] < r.headers["X-TAXII-Date-Added-Last"]
    paged = taxii.get("bank", taxii.url("all", "objects", sid, "versions"), limit=2).json()
    assert paged["more"] and paged["versions"] == [V1, V2]
    rest = taxii.get("bank", taxii.url("all", "objects", sid, "versions"), limit=2, next=paged["next"]).json()
    assert rest == {"more": False, "versions": [V3]}
    man = taxii.get("bank", taxii.url("all", "manifest"), **{"match[id]": sid, "match[version]": "all"})
    records = man.json()["objects"]
    assert [m["version"] for m in records] == [V1, V2, V3]
    assert all(m["id"] == sid and m["media_type"] == "application/stix+json;version=2.1" for m in records)
    assert man.headers["X-TAXII-Date-Added-First"] == records[0]["date_added"]
    assert man.headers["X-TAXII-Date-Added-Last"] == records[-1]["date_added"]


def test_match_id_type_and_spec_version(taxii) -> None:
    a, b, m = indicator("a.example"), indicator("b.example"), malware("Loader")
    taxii.post("bank", "all", [a, b, m])
    url = taxii.url("all", "objects")

    def ids(**q):
        return {o["id"] for o in taxii.get("bank", url, **q).json().get("objects", [])}

    assert ids(**{"match[id]": f"{a['id']},{m['id']}"}) == {a["id"], m["id"]}
    assert ids(**{"match[type]": "malware"}) == {m["id"]}
    r = taxii.client.get(url, headers=taxii.headers("bank"), params=[("match[type]", "malware"),
                                                                     ("match[id]", a["id"]), ("match[id]", m["id"])])
    assert {o["id"] for o in r.json()["objects"]} == {m["id"]}  # filters AND, values OR
    assert {a["id"], b["id"], m["id"]} <= ids(**{"match[spec_version]": "2.1"})
    assert ids(**{"match[spec_version]": "2.0"}) == set()


def test_added_after_is_strict_and_headers_come_on_empty_pages_too(taxii) -> None:
    taxii.post("bank", "all", [indicator(f"h{i}.example") for i in range(3)])
    url = taxii.url("all", "objects")
    first = taxii.get("bank", url, **{"match[type]": "indicator"})
    objs = first.json()["objects"]
    last = first.headers["X-TAXII-Date-Added-Last"]
    after = taxii.get("bank", url, added_after=last, **{"match[type]": "indicator"})
    assert after.status_code == 200 and after.json() == {"more": False}  # strictly after: the last is not repeated
    assert after.headers["X-TAXII-Date-Added-First"] == after.headers["X-TAXII-Date-Added-Last"]
    assert parse(after.headers["X-TAXII-Date-Added-Last"]) == parse(last)
    middle = taxii.get("bank", url, added_after=first.headers["X-TAXII-Date-Added-First"],
                       **{"match[type]": "indicator"}).json()  # fmt: skip
    assert [o["id"] for o in middle["objects"]] == [o["id"] for o in objs[1:]]
    empty = taxii.get("bank", url, **{"match[type]": "no-such-type"})
    assert empty.json() == {"more": False}
    assert "X-TAXII-Date-Added-First" in empty.headers and "X-TAXII-Date-Added-Last" in empty.headers
    man = taxii.get("bank", taxii.url("all", "manifest"), added_after=last, **{"match[type]": "indicator"})
    assert man.json() == {"more": False} and parse(man.headers["X-TAXII-Date-Added-Last"]) == parse(last)


def test_post_reports_each_object_with_the_reason_from_ingest(taxii) -> None:
    good = indicator("good.example")
    bad = {**indicator("bad.example"), "pattern": "[nope"}
    r = taxii.post("bank", "all", [good, bad, "not an object"])
    assert r.status_code == 202
    status = r.json()
    assert status["status"] == "complete" and status["total_count"] == 3
    assert status["success_count"] == 1 and status["failure_count"] == 2 and status["pending_count"] == 0
    assert status["successes"] == [{"id": good["id"], "version": good["modified"], "message": "added"}]
    reasons = {f["id"]: f["message"] for f in status["failures"]}
    assert "pattern" in reasons[bad["id"]].lower()
    assert "not a STIX object" in reasons[""]


def test_reposting_an_identical_object_is_a_success(taxii) -> None:
    obj = indicator("again.example")
    assert taxii.post("bank", "all", [obj]).json()["success_count"] == 1
    again = taxii.post("bank", "all", [obj]).json()
    assert again["success_count"] == 1 and again["failure_count"] == 0
    assert again["successes"][0]["message"] == "unchanged"


def test_writes_get_the_collections_audience_capped_by_tlp(taxii) -> None:
    shared = indicator("taskforce.example", level="amber")
    assert taxii.post("bank", "group", [shared]).json()["success_count"] == 1
    # Shared with the taskforce: Police (member) sees it, Uni does not — through TAXII or elsewhere.
    assert taxii.get("police", taxii.url("all", "objects", shared["id"])).status_code == 200
    assert taxii.get("uni", taxii.url("all", "objects", shared["id"])).status_code == 404
    grants = taxii.hub.get(taxii.hub.viewer_as("Bank"), shared["id"])["audiences"]
    assert [(g["audience"], g["group"], g["via"]) for g in grants] == [("group", "taskforce", "taxii")]
    # A public collection takes only what TLP lets out: AMBER is refused, with ingest's reason.
    amber = indicator("not-public.example", level="amber")
    clear = indicator("public.example", level="clear")
    status = taxii.post("admin", "public", [amber, clear]).json()
    assert status["success_count"] == 1 and status["successes"][0]["id"] == clear["id"]
    assert "TLP:AMBER" in status["failures"][0]["message"] and "public" in status["failures"][0]["message"]
    anon = taxii.get(None, taxii.url("public", "objects"), **{"match[type]": "indicator"}).json()
    assert [o["id"] for o in anon["objects"]] == [clear["id"]]


def test_objects_without_modified_get_date_added_as_version(taxii) -> None:
    sco = {"type": "domain-name", "spec_version": "2.1", "id": "domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5",
           "value": "example.com"}  # fmt: skip
    status = taxii.post("bank", "all", [sco]).json()
    assert status["success_count"] == 1
    version = status["successes"][0]["version"]
    man = taxii.get("bank", taxii.url("all", "manifest"), **{"match[id]": sco["id"]}).json()["objects"]
    assert man[0]["version"] == man[0]["date_added"] == version
    by_version = taxii.get("bank", taxii.url("all", "objects"), **{"match[id]": sco["id"], "match[version]": version})
    assert [o["id"] for o in by_version.json()["objects"]] == [sco["id"]]


def test_delete_revokes_for_the_creator_only(taxii) -> None:
    obj = indicator("retract.example", level="green")
    taxii.post("bank", "all", [obj])
    url = taxii.url("all", "objects", obj["id"])
    assert taxii.client.delete(url, headers=taxii.headers("police")).status_code == 403  # not its creator
    hidden = indicator("hidden.example", level="red")
    taxii.post("bank", "org", [hidden])
    r = taxii.client.delete(taxii.url("all", "objects", hidden["id"]), headers=taxii.headers("police"))
    assert r.status_code == 404  # not visible to Police: absent, as far as it can tell
    r = taxii.client.delete(url, headers=taxii.headers("bank"))
    assert r.status_code == 200
    current = taxii.get("bank", url).json()["objects"][0]
    assert current["revoked"] is True
    assert taxii.client.delete(url, headers=taxii.headers("bank")).status_code == 200  # already revoked: done
    # Everyone who could see it sees the retraction.
    assert taxii.get("police", url).json()["objects"][0]["revoked"] is True
    assert taxii.client.delete(url, headers=taxii.headers("uni-reader")).status_code == 403
    r = taxii.client.delete(url, headers=taxii.headers("bank"), params={"match[version]": "2020-01-01T00:00:00Z"})
    assert r.status_code == 404
