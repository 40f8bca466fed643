"""TAXII obeys the one visibility rule: nobody sees through TAXII what they cannot see elsewhere."""

from __future__ import annotations

from helpers import indicator, items, malware, relationship

ORGS = {"admin": "NCC", "police": "Police", "bank": "Bank", "uni": "Uni"}


def seed(taxii) -> dict[str, dict]:
    hub = taxii.hub
    bank = hub.viewer_as("Bank")
    objs = {
        "red": indicator("red.example", level="red"),
        "group": indicator("group.example", level="amber"),
        "community": indicator("community.example", level="green"),
        "public": indicator("public.example", level="clear"),
        "hidden-target": malware("Secret", level="red"),
    }
    objs["rel-hidden"] = relationship(objs["community"]["id"], objs["hidden-target"]["id"], level="green")
    hub.ingest(bank, items(objs["red"], objs["hidden-target"]), hub.options(audience="org"))
    hub.ingest(bank, items(objs["group"]), hub.options(audience="group:taskforce"))
    hub.ingest(bank, items(objs["community"], objs["rel-hidden"]), hub.options(audience="community"))
    hub.ingest(bank, items(objs["public"]), hub.options(audience="public"))
    # A second version with a narrower audience: viewers outside it still see the older one.
    newer = {**objs["community"], "modified": "2024-06-01T00:00:00.000Z", "name": "narrowed"}
    hub.ingest(bank, items(newer), hub.options(audience="org"))
    return objs


def taxii_ids(taxii, who, coll="all", **q) -> set[str]:
    return {o["id"] for o in taxii.all_pages(who, coll, **q)}


def test_each_org_sees_through_taxii_exactly_what_it_sees_elsewhere(taxii) -> None:
    seed(taxii)
    hub = taxii.hub
    for who, org in ORGS.items():
        viewer = hub.viewer_as(org)
        via_taxii = taxii_ids(taxii, who, **{"match[version]": "all"})
        for sid in via_taxii:
            vers = hub.get(viewer, sid, all_versions=True)["versions"]  # raises NotFound if not visible
            envelope = taxii.get(who, taxii.url("all", "objects", sid), **{"match[version]": "all"}).json()
            assert len(envelope["objects"]) == len(vers), (org, sid)
        exported = {o["id"] for o in hub.export(viewer)}
        assert exported <= via_taxii, org
        manifest = {m["id"] for m in taxii.all_pages(who, "all", "manifest", **{"match[version]": "all"})}
        assert manifest == via_taxii, org


def test_hidden_objects_are_404_exactly_like_absent_ones(taxii) -> None:
    objs = seed(taxii)
    absent = "indicator--00000000-0000-4000-8000-000000000000"
    for sid in (objs["red"]["id"], objs["group"]["id"], objs["rel-hidden"]["id"]):
        for suffix in ((), ("versions",)):
            hidden = taxii.get("uni", taxii.url("all", "objects", sid, *suffix))
            missing = taxii.get("uni", taxii.url("all", "objects", absent, *suffix))
            assert hidden.status_code == missing.status_code == 404
            assert hidden.json()["description"].replace(sid, "X") == missing.json()["description"].replace(absent, "X")
            assert set(hidden.headers) == set(missing.headers)
    uni = taxii_ids(taxii, "uni", **{"match[version]": "all"})
    assert objs["community"]["id"] in uni and objs["public"]["id"] in uni
    assert not {objs["red"]["id"], objs["group"]["id"], objs["rel-hidden"]["id"], objs["hidden-target"]["id"]} & uni
    # Police (taskforce) sees the group object, not Bank's own.
    police = taxii_ids(taxii, "police")
    assert objs["group"]["id"] in police and objs["red"]["id"] not in police


def test_last_means_the_last_version_the_viewer_may_see(taxii) -> None:
    objs = seed(taxii)
    sid = objs["community"]["id"]
    bank = taxii.get("bank", taxii.url("all", "objects", sid)).json()["objects"]
    uni = taxii.get("uni", taxii.url("all", "objects", sid)).json()["objects"]
    assert [o["name"] for o in bank] == ["narrowed"]
    assert [o["modified"] for o in uni] == [objs["community"]["modified"]]
    assert taxii.get("uni", taxii.url("all", "objects", sid, "versions")).json()["versions"] == [
        objs["community"]["modified"]
    ]


def test_date_headers_only_reflect_visible_objects(taxii) -> None:
    objs = seed(taxii)
    r = taxii.get("uni", taxii.url("all", "objects"), **{"match[id]": objs["red"]["id"]})
    assert r.json() == {"more": False}
    assert r.headers["X-TAXII-Date-Added-Last"] == "1970-01-01T00:00:00.000000Z"
    visible = taxii.get("uni", taxii.url("all", "objects"), **{"match[type]": "indicator"})
    last = visible.headers["X-TAXII-Date-Added-Last"]
    dated = taxii.get("uni", taxii.url("all", "manifest"), **{"match[type]": "indicator"}).json()["objects"]
    assert last == dated[-1]["date_added"]


def test_collection_scopes(taxii) -> None:
    objs = seed(taxii)
    taxii.post("police", "all", [police_obj := indicator("police.example", level="green")])
    # org: what the viewer's own organisation brought in.
    assert objs["red"]["id"] in taxii_ids(taxii, "bank", "org")
    assert taxii_ids(taxii, "police", "org", **{"match[type]": "indicator"}) == {police_obj["id"]}
    # group: only what was shared with the taskforce.
    assert taxii_ids(taxii, "police", "group") == {objs["group"]["id"]}
    assert taxii_ids(taxii, "bank", "group") == {objs["group"]["id"]}
    # public: readable without credentials, only public grants.
    anon = taxii_ids(taxii, None, "public", **{"match[type]": "indicator"})
    assert anon == {objs["public"]["id"]}
    assert taxii_ids(taxii, "uni", "public", **{"match[type]": "indicator"}) == anon
    assert taxii.get(None, taxii.url("public", "objects", objs["community"]["id"])).status_code == 404


def test_statuses_are_only_for_their_organisation(taxii) -> None:
    status = taxii.post("bank", "all", [indicator("mine.example")]).json()
    url = f"/taxii2/api/status/{status['id']}/"
    assert taxii.get("bank", url).status_code == 200
    assert taxii.get("police", url).status_code == 404
    assert taxii.get(None, url).status_code == 401
    assert taxii.get("admin", url).status_code == 404  # a hub admin is a member like any other over TAXII


def test_posting_what_another_org_holds_hidden_answers_as_if_it_were_absent(taxii) -> None:
    """An observable's id is derived from its value: a partner who posts one must not learn from the status
    whether another organisation already holds it hidden. It is told "added", exactly as for an absent one,
    and may read back what it sent (nothing more: the stored copy is the same content)."""
    bank = taxii.hub.viewer_as("Bank")
    held = {"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd",
            "value": "198.51.100.3", "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]}
    absent = {**held, "id": "ipv4-addr--1f2b5e2c-4f43-5c1e-9b0c-8e6f7d5a4b3c", "value": "198.51.100.9"}
    taxii.hub.ingest(bank, items(held), taxii.hub.options(audience="org"))
    assert taxii.get("uni", taxii.url("all", "objects", held["id"])).status_code == 404

    def outcome(obj) -> list[tuple[str, str | None]]:
        status = taxii.post("uni", "all", [obj]).json()
        assert status["success_count"] == 1, status
        return [(s["message"], s.get("version")) for s in status["successes"]]

    assert [m for m, _ in outcome(held)] == [m for m, _ in outcome(absent)] == ["added"]
    for obj in (held, absent):
        got = taxii.get("uni", taxii.url("all", "objects", obj["id"])).json()["objects"]
        assert [o["value"] for o in got] == [obj["value"]]
    assert [m for m, _ in outcome(held)] == ["unchanged"]  # now it is Uni's to see: a re-post changes nothing
    assert taxii.get("bank", taxii.url("all", "objects", held["id"])).status_code == 200
