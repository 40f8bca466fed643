"""MISP event JSON through the one ingest path: every shape MISP produces, converted by misp-stix, with
TLP tags, distribution and every record accounted for."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from accord.errors import InvalidInput, NotFound
from accord.hub import Hub
from accord.stix import misp, reader
from accord.stix import tlp as tlpmod
from accord.stix.reader import read_bytes
from conftest import DATA
from helpers import community

MISP = DATA / "misp"
SAMPLES = sorted(p.name for p in MISP.glob("*.json"))
PYMISP = "pymisp-57c4445b-c548-4654-af0b-4be3950d210f.json"
CHROME = "chrome-mal-ids-049f01a5-7e01-559b-83e8-3a67738bbbe1.json"
CHROME2 = "chrome-mal-ids-14d81e68-c68b-5dd2-a7b3-6af53e7bdf58.json"
STALKERWARE = "stalkerware-50-objects.json"
TLP1 = set(tlpmod.TLP1_IDS)


def load(name: str) -> dict[str, Any]:
    return json.loads((MISP / name).read_text(encoding="utf-8"))


def event_of(doc: dict[str, Any]) -> dict[str, Any]:
    return doc.get("Event", doc)


def records(event: dict[str, Any]) -> tuple[list[dict], list[dict]]:
    return event.get("Attribute") or [], event.get("Object") or []


def converted(doc: Any) -> tuple[list[dict], list[str]]:
    got = list(read_bytes(orjson.dumps(doc)))
    return [i.obj for i in got if i.obj is not None], [i.error or "" for i in got if i.obj is None]


def stored_text(hub: Hub, viewer, uuid: str, ids: list[str]) -> str:
    """Every stored object made from one MISP record (its uuid in the STIX id), as lower-case JSON."""
    return json.dumps([hub.get(viewer, sid)["object"] for sid in ids if sid.endswith(uuid)]).lower()


def parts(value: Any) -> list[str]:
    """A MISP value as it reads in lower-case JSON, a composite one (``regkey|value``) part by part."""
    return [json.dumps(p)[1:-1] for p in str(value).lower().split("|")]


def with_tags(event: dict[str, Any], *names: str) -> dict[str, Any]:
    ev = copy.deepcopy(event)
    ev["Tag"] = [t for t in ev.get("Tag", []) if not t["name"].startswith("tlp:")] + [{"name": n} for n in names]
    return ev


@pytest.mark.parametrize("name", SAMPLES)
def test_each_real_sample_converts_and_is_stored_with_nothing_lost(sqlite_hub: Hub, name: str) -> None:
    v = community(sqlite_hub)
    doc = load(name)
    attributes, objects = records(event_of(doc))
    objs, errors = converted(doc)
    assert errors == []
    assert not any(o["type"] == "marking-definition" for o in objs)  # misp-stix's TLP 1.0 ones are dropped
    r = sqlite_hub.ingest_file(v["NCC"], MISP / name, sqlite_hub.options())
    assert (r.added, r.rejected) == (len(objs), 0), r.as_dict()["errors"][:3]
    ids = [o["id"] for o in objs]
    # In vs out, counted here independently of the converter's own accounting: every attribute and
    # object is in the store under its uuid, with every value it holds.
    for attribute in attributes:
        text = stored_text(sqlite_hub, v["NCC"], attribute["uuid"], ids)
        assert all(part in text for part in parts(attribute["value"])), attribute
    for obj in objects:
        text = stored_text(sqlite_hub, v["NCC"], obj["uuid"], ids)
        for a in obj["Attribute"]:
            assert all(part in text for part in parts(a["value"])), (obj["uuid"], a)
    assert len(ids) > len(attributes) + len(objects)  # observables, indicators, the report, …


def test_sample_counts_are_what_misp_stix_makes(sqlite_hub: Hub) -> None:
    objs, errors = converted(load(PYMISP))
    types = sorted(o["type"] for o in objs)
    assert errors == []
    assert types.count("report") == 1 and types.count("identity") == 1
    # 9 attributes: 2 links → url observed-data, 2 free texts → x-misp-attribute, 4 hashes/filename and
    # 1 registry key with to_ids → indicators (and the observables misp-stix adds for them).
    assert types.count("x-misp-attribute") == 2 and types.count("indicator") == 5
    objs, _ = converted(load(STALKERWARE))
    assert sum(o["type"] == "software" for o in objs) == 50


@pytest.mark.parametrize(
    ("tags", "level"),
    [
        (("tlp:white",), tlpmod.CLEAR),
        (("tlp:clear",), tlpmod.CLEAR),
        (("tlp:green",), tlpmod.GREEN),
        (("tlp:amber",), tlpmod.AMBER),
        (("tlp:amber+strict",), tlpmod.AMBER_STRICT),
        (("tlp:red",), tlpmod.RED),
        (("tlp:green", "tlp:amber+strict", "tlp:white"), tlpmod.AMBER_STRICT),
        (("TLP:AMBER", "tlp:ex:chr"), tlpmod.AMBER),
    ],
)
def test_tlp_tags_become_the_tlp_2_marking(sqlite_hub: Hub, tags: tuple[str, ...], level: str) -> None:
    v = community(sqlite_hub)
    ev = with_tags(event_of(load(PYMISP)), *tags)
    objs, _ = converted({"Event": ev})
    for o in objs:
        assert o["object_marking_refs"] == [tlpmod.TLP2_IDS[level]], o["id"]
    r = sqlite_hub.ingest_bytes(v["NCC"], orjson.dumps({"Event": ev}), sqlite_hub.options(audience="org"))
    assert r.rejected == 0
    assert {sqlite_hub.get(v["NCC"], o["id"])["tlp"] for o in objs} == {level}


def test_an_attribute_tlp_tag_stricter_than_the_event_wins_for_what_is_made_from_it(sqlite_hub: Hub) -> None:
    ev = with_tags(event_of(load(PYMISP)), "tlp:green")
    secret = next(a for a in ev["Attribute"] if a["type"] == "md5")
    secret["Tag"] = [{"name": "tlp:red"}]
    objs, _ = converted({"Event": ev})
    levels = {o["id"]: tlpmod.level_of(o) for o in objs}
    made = [sid for sid in levels if sid.endswith(secret["uuid"])]
    assert made and all(levels[sid] == tlpmod.RED for sid in made)
    based_on = [o for o in objs if o["type"] == "relationship" and o["source_ref"] in made]
    assert based_on and all(levels[o["id"]] == tlpmod.RED for o in based_on)
    assert levels[f"report--{ev['uuid']}"] == tlpmod.GREEN
    assert not any(ref in TLP1 for o in objs for ref in o.get("object_marking_refs", []))


def test_no_tlp_tag_leaves_the_hub_default(sqlite_hub: Hub) -> None:
    v = community(sqlite_hub)
    r = sqlite_hub.ingest_file(v["NCC"], MISP / "redblue232-6a10e5d8-f1cd-42b0-8240-a4650efd83d6.json",
                               sqlite_hub.options(tlp="green"))  # fmt: skip
    assert r.rejected == 0 and r.added > 0
    assert {row["tlp"] for row in sqlite_hub.search(v["NCC"], types=["indicator"], limit=1000)} == {tlpmod.GREEN}


def _event(event_distribution: Any, tlp: str | None, **attribute: Any) -> dict[str, Any]:
    ev = copy.deepcopy(event_of(load(CHROME)))
    ev["distribution"] = event_distribution
    ev["Tag"] = [{"name": tlp}] if tlp else []
    for a in ev["Attribute"]:
        a.update(attribute)
    return ev


@pytest.mark.parametrize(
    ("distribution", "tlp", "audience"),
    [
        ("0", "tlp:green", "org"),
        (1, "tlp:green", "community"),
        ("2", "tlp:green", "federation"),
        ("3", "tlp:clear", "public"),
        ("3", "tlp:green", "federation"),  # All communities, but TLP:GREEN may not be public: the widest allowed
        ("3", "tlp:amber", "community"),
        ("2", "tlp:red", "org"),
        ("4", "tlp:green", "org"),  # a MISP sharing group: the hub cannot know its members
    ],
)
def test_distribution_becomes_the_audience(hub: Hub, distribution: Any, tlp: str, audience: str) -> None:
    v = community(hub)
    ev = _event(distribution, tlp)
    r = hub.ingest_bytes(v["Bank"], orjson.dumps({"Event": ev}), hub.options())
    assert r.rejected == 0 and r.added > 0
    grouping = f"grouping--{ev['uuid']}"
    assert [a["audience"] for a in hub.get(v["Bank"], grouping)["audiences"]] == [audience]
    url = f"url--{ev['Attribute'][0]['uuid']}"
    if audience == "org":
        for other in ("NCC", "Police", "Uni"):
            with pytest.raises(NotFound):
                hub.get(v[other], url)
    else:
        assert hub.get(v["Uni"], url)["id"] == url


def test_attribute_distribution_narrows_and_5_inherits(sqlite_hub: Hub) -> None:
    v = community(sqlite_hub)
    ev = _event("1", "tlp:green", distribution="5")
    ev["Attribute"][0]["distribution"] = "0"
    ev["Attribute"][1]["distribution"] = "3"  # wider than its event: the event's wins
    r = sqlite_hub.ingest_bytes(v["Bank"], orjson.dumps({"Event": ev}), sqlite_hub.options())
    assert r.rejected == 0
    private, wide, inherit = (a["uuid"] for a in ev["Attribute"])
    with pytest.raises(NotFound):
        sqlite_hub.get(v["Uni"], f"url--{private}")
    assert sqlite_hub.get(v["Bank"], f"url--{private}")["audiences"][0]["audience"] == "org"
    assert sqlite_hub.get(v["Uni"], f"x-misp-attribute--{wide}")["audiences"][0]["audience"] == "community"
    assert sqlite_hub.get(v["Uni"], f"url--{inherit}")["audiences"][0]["audience"] == "community"


def test_an_explicit_audience_wins_over_distribution(sqlite_hub: Hub) -> None:
    v = community(sqlite_hub)
    ev = _event("0", "tlp:green")
    r = sqlite_hub.ingest_bytes(v["Bank"], orjson.dumps({"Event": ev}), sqlite_hub.options(audience="community"))
    assert r.rejected == 0
    assert sqlite_hub.get(v["Uni"], f"grouping--{ev['uuid']}")["audiences"][0]["audience"] == "community"


def test_rest_search_wrapper_and_a_list_of_events(hub: Hub) -> None:
    v = community(hub)
    a, b = event_of(load(CHROME)), event_of(load(CHROME2))
    single = {name: len(converted({"Event": e})[0]) for name, e in (("a", a), ("b", b))}
    r = hub.ingest_bytes(v["NCC"], orjson.dumps({"response": [{"Event": a}, {"Event": b}]}), hub.options())
    # Both events share their creator identity (same MISP Orgc and timestamp): stored once.
    assert (r.added, r.unchanged, r.rejected) == (single["a"] + single["b"] - 1, 1, 0)
    for ev in (a, b):
        assert hub.get(v["Uni"], f"grouping--{ev['uuid']}")
    r = hub.ingest_bytes(v["NCC"], orjson.dumps([{"Event": a}, {"Event": b}]), hub.options())
    assert (r.added, r.rejected) == (0, 0) and r.unchanged == single["a"] + single["b"]


def test_a_bare_event(sqlite_hub: Hub) -> None:
    v = community(sqlite_hub)
    bare = event_of(load(PYMISP))
    assert "Event" not in bare and misp.is_misp_document(bare)
    r = sqlite_hub.ingest_bytes(v["NCC"], orjson.dumps(bare), sqlite_hub.options())
    assert r.rejected == 0 and r.added == len(converted({"Event": bare})[0])
    assert sqlite_hub.get(v["Uni"], f"report--{bare['uuid']}")["object"]["name"] == "Ransomware - Xorist"


def test_a_broken_event_is_reported_and_the_others_are_stored(hub: Hub) -> None:
    v = community(hub)
    good = event_of(load(CHROME))
    damaged = copy.deepcopy(event_of(load(PYMISP)))
    bad_hash = next(a for a in damaged["Attribute"] if a["type"] == "md5")
    bad_hash["value"] = "not-a-hash"
    no_value = next(a for a in damaged["Attribute"] if a["type"] == "sha1")
    del no_value["value"]
    unloadable = {**copy.deepcopy(good), "uuid": "0f0b7c1e-6d7a-4b8e-9c61-3f1e2d4c5b6a", "timestamp": "garbage"}
    doc = [
        {"Event": good},
        {"Event": "garbage"},
        {"Event": damaged},
        {"Event": unloadable},
        {"info": "no uuid", "Attribute": []},
    ]
    r = hub.ingest_bytes(v["NCC"], orjson.dumps(doc), hub.options())
    reasons = [e.reason or "" for e in r.errors]
    assert r.rejected == len(reasons) == 5, reasons
    assert any("element 1" in x and "'Event' is a str" in x for x in reasons)
    lost_hash = next(x for x in reasons if bad_hash["uuid"] in x)
    assert damaged["uuid"] in lost_hash and "md5" in lost_hash and "not-a-hash" in lost_hash
    lost_value = next(x for x in reasons if no_value["uuid"] in x)
    assert "sha1" in lost_value and "required" in lost_value
    assert any(unloadable["uuid"] in x and "could not be converted" in x and "garbage" in x for x in reasons)
    assert any("no valid 'uuid'" in x for x in reasons)
    assert hub.get(v["Uni"], f"grouping--{good['uuid']}")
    assert hub.get(v["Uni"], f"report--{damaged['uuid']}")  # the rest of the damaged event is stored
    assert hub.get(v["Uni"], f"file--{next(a for a in damaged['Attribute'] if a['type'] == 'sha256')['uuid']}")


def test_reingesting_the_same_event_is_unchanged(hub: Hub) -> None:
    v = community(hub)
    first = hub.ingest_file(v["NCC"], MISP / PYMISP, hub.options())
    again = hub.ingest_file(v["NCC"], MISP / PYMISP, hub.options())
    assert first.added > 0 and first.rejected == 0
    assert (again.added, again.new_version, again.rejected, again.unchanged) == (0, 0, 0, first.added)


def test_records_without_timestamps_take_the_event_s(sqlite_hub: Hub) -> None:
    v = community(sqlite_hub)
    ev = copy.deepcopy(event_of(load(CHROME)))
    for a in ev["Attribute"]:
        a.pop("timestamp")
    objs, _ = converted({"Event": ev})
    assert {o["modified"] for o in objs if "modified" in o} == {"2026-05-29T21:57:46.000Z"}
    sqlite_hub.ingest_bytes(v["NCC"], orjson.dumps({"Event": ev}), sqlite_hub.options())
    again = sqlite_hub.ingest_bytes(v["NCC"], orjson.dumps({"Event": ev}), sqlite_hub.options())
    assert again.added == again.new_version == 0


def test_a_lost_object_attribute_is_reported(sqlite_hub: Hub) -> None:
    ev = copy.deepcopy(load(STALKERWARE))
    ev["Object"] = ev["Object"][:3]
    port = {
        "uuid": "5b0d2b8e-64c4-4f6e-a7f2-1d0b9d5c3e21",
        "type": "port",
        "object_relation": "dst-port",
        "value": "notaport",
    }
    ev["Object"].append({"uuid": "8c1f0c55-2f0e-4a3b-9a57-0b7d6c9e2f10", "name": "ip-port", "Attribute": [
        port, {"uuid": "0d4c7a9e-3b2f-4e8d-9c1a-5f6e7d8c9b0a", "type": "ip-dst", "object_relation": "ip", "value": "192.0.2.7"}]})  # fmt: skip
    objs, errors = converted(ev)
    assert len(errors) == 1 and port["uuid"] in errors[0] and "notaport" in errors[0] and "ip-port" in errors[0]
    assert any("192.0.2.7" in json.dumps(o) for o in objs)


def test_big_misp_files_stream_or_are_refused_clearly(sqlite_hub: Hub, tmp_path: Path, monkeypatch) -> None:
    v = community(sqlite_hub)
    monkeypatch.setattr(reader, "WHOLE_PARSE_LIMIT", 100)  # everything streams
    a, b = event_of(load(CHROME)), event_of(load(CHROME2))
    search = tmp_path / "search.json"
    search.write_bytes(orjson.dumps({"response": [{"Event": a}, {"Event": b}]}))
    r = sqlite_hub.ingest_file(v["NCC"], search, sqlite_hub.options())
    assert r.rejected == 0 and r.added > 0
    listed = tmp_path / "list.json"
    listed.write_bytes(orjson.dumps([{"Event": a}, {"Event": b}]))
    assert sqlite_hub.ingest_file(v["NCC"], listed, sqlite_hub.options()).added == 0
    for doc in ({"Event": a}, a):
        single = tmp_path / "single.json"
        single.write_bytes(orjson.dumps(doc))
        with pytest.raises(InvalidInput, match="single MISP event"):
            sqlite_hub.ingest_file(v["NCC"], single, sqlite_hub.options())


def test_a_misp_attribute_search_is_refused_with_the_way_out(sqlite_hub: Hub) -> None:
    v = community(sqlite_hub)
    doc = {"response": {"Attribute": event_of(load(CHROME))["Attribute"]}}
    with pytest.raises(InvalidInput, match="events/restSearch"):
        sqlite_hub.ingest_bytes(v["NCC"], orjson.dumps(doc), sqlite_hub.options())


def test_post_api_v1_objects_accepts_a_misp_event(sqlite_hub: Hub) -> None:
    from fastapi.testclient import TestClient

    from accord.api.app import create_app

    community(sqlite_hub)
    token = sqlite_hub.create_token(sqlite_hub.viewer_as(None), "analyst@bank.example")["token"]
    client = TestClient(create_app(sqlite_hub))
    body = (MISP / CHROME).read_bytes()
    r = client.post("/api/v1/objects", content=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    assert r.json()["added"] == len(converted(load(CHROME))[0]) and r.json()["rejected"] == 0
