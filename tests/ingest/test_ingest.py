"""The single write path: input shapes, validation with per-object reasons, TLP and audience rules."""

from __future__ import annotations

import orjson
import pytest

from accord.errors import AudienceRefused, InvalidInput, PermissionDenied, TooLarge
from accord.hub import Hub
from accord.stix import tlp
from helpers import community, indicator, items, malware

SHAPES = ["bundle", "object", "array", "jsonl", "envelope"]


def encode(shape: str, objs: list[dict]) -> bytes:
    if shape == "bundle":
        return orjson.dumps({"type": "bundle", "id": "bundle--6b1e2b5e-4c1a-4f5e-9a57-2f3f4c4d5e6f", "objects": objs})
    if shape == "object":
        return orjson.dumps(objs[0])
    if shape == "array":
        return orjson.dumps(objs)
    if shape == "jsonl":
        return b"\n".join(orjson.dumps(o) for o in objs) + b"\n"
    return orjson.dumps({"objects": objs, "more": False})


@pytest.mark.parametrize("shape", SHAPES)
def test_every_input_shape_is_accepted(sqlite_hub: Hub, shape: str) -> None:
    v = community(sqlite_hub)
    objs = [indicator("shape.example")] if shape == "object" else [indicator("a.example"), malware()]
    r = sqlite_hub.ingest_bytes(v["NCC"], encode(shape, objs), sqlite_hub.options())
    assert r.added == len(objs) and r.rejected == 0


def test_invalid_objects_are_reported_one_by_one_and_valid_ones_stored(hub: Hub) -> None:
    v = community(hub)
    good = indicator("good.example")
    bad_pattern = indicator("x", pattern="[domain-name:value = 'unterminated]")
    no_type = {"id": "indicator--1c4e6d70-6b5f-4a53-9b7e-6f5b2b5a8f11"}
    bad_time = {**indicator("t.example"), "modified": "yesterday"}
    r = hub.ingest(v["NCC"], items(good, bad_pattern, no_type, bad_time, "junk"), hub.options())  # type: ignore[arg-type]
    assert r.added == 1 and r.rejected == 4
    reasons = {e.index: e.reason for e in r.errors}
    assert set(reasons) == {1, 2, 3, 4}
    assert "type" in reasons[2]
    assert all(reasons.values())
    assert hub.get(v["NCC"], good["id"])


def test_malformed_json_is_refused_with_a_clear_message(sqlite_hub: Hub) -> None:
    v = community(sqlite_hub)
    with pytest.raises(InvalidInput, match="not valid JSON"):
        sqlite_hub.ingest_bytes(v["NCC"], b'{"type": "bundle", "objects": [', sqlite_hub.options())
    with pytest.raises(InvalidInput, match="neither a STIX bundle"):
        sqlite_hub.ingest_bytes(v["NCC"], b'{"hello": "world"}', sqlite_hub.options())


def test_jsonl_reports_the_broken_line(sqlite_hub: Hub) -> None:
    v = community(sqlite_hub)
    data = orjson.dumps(indicator("l1.example")) + b"\n{not json\n" + orjson.dumps(indicator("l3.example")) + b"\n"
    r = sqlite_hub.ingest_bytes(v["NCC"], data, sqlite_hub.options())
    assert r.added == 2 and r.rejected == 1 and "line 2" in (r.errors[0].reason or "")


def test_size_limits(tmp_path, request) -> None:
    from conftest import make_hub

    h = make_hub("sqlite", tmp_path, request, max_bundle_bytes=2000, max_object_bytes=1500)
    v = community(h)
    with pytest.raises(TooLarge, match="ACCORD_MAX_BUNDLE_BYTES"):
        h.ingest_bytes(v["NCC"], encode("array", [indicator(f"{i}.example") for i in range(10)]), h.options())
    big = indicator("big.example", description="x" * 1600)
    r = h.ingest_bytes(v["NCC"], encode("array", [big]), h.options())
    assert r.rejected == 1 and "ACCORD_MAX_OBJECT_BYTES" in (r.errors[0].reason or "")


def test_stix20_is_upgraded(sqlite_hub: Hub) -> None:
    v = community(sqlite_hub)
    old = {
        "type": "indicator",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2016-04-06T20:03:48.000Z",
        "modified": "2016-04-06T20:03:48.000Z",
        "labels": ["malicious-activity"],
        "pattern": "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
        "valid_from": "2016-01-01T00:00:00Z",
    }
    r = sqlite_hub.ingest(v["NCC"], items(old), sqlite_hub.options())
    assert r.added == 1, r.as_dict()
    got = sqlite_hub.get(v["NCC"], old["id"])["object"]
    assert got["spec_version"] == "2.1" and got["pattern_type"] == "stix"


def test_unmarked_objects_get_the_default_tlp(hub: Hub) -> None:
    v = community(hub)
    obj = indicator("plain.example")
    hub.ingest(v["NCC"], items(obj), hub.options())
    got = hub.get(v["NCC"], obj["id"])
    assert got["tlp"] == tlp.AMBER
    assert tlp.TLP2_IDS[tlp.AMBER] in got["object"]["object_marking_refs"]
    assert got["audiences"][0]["audience"] == "community"


def test_tlp1_markings_map_onto_tlp2(hub: Hub) -> None:
    v = community(hub)
    obj = {**indicator("white.example"), "object_marking_refs": ["marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"]}
    hub.ingest(v["NCC"], items(obj), hub.options(audience="public"))
    assert hub.get(v["NCC"], obj["id"])["tlp"] == tlp.CLEAR


@pytest.mark.parametrize(
    ("level", "audience", "ok"),
    [
        ("red", "community", False), ("red", "org", True), ("red", "group:taskforce", True),
        ("amber+strict", "community", False), ("amber", "community", True), ("amber", "federation", False),
        ("green", "federation", True), ("green", "public", False), ("clear", "public", True),
    ],
)  # fmt: skip
def test_tlp_caps_the_audience(sqlite_hub: Hub, level: str, audience: str, ok: bool) -> None:
    v = community(sqlite_hub)
    obj = indicator("cap.example", level=level)
    r = sqlite_hub.ingest(v["NCC"], items(obj), sqlite_hub.options(audience=audience))
    assert (r.added == 1) is ok
    if not ok:
        reason = r.errors[0].reason or ""
        assert obj["id"] in reason and f"TLP:{level.upper()}" in reason and audience in reason


def test_group_audience_needs_membership(sqlite_hub: Hub) -> None:
    v = community(sqlite_hub)
    with pytest.raises(AudienceRefused, match="not a member"):
        sqlite_hub.ingest(v["Uni"], items(indicator()), sqlite_hub.options(audience="group:taskforce"))
    with pytest.raises(AudienceRefused, match="no sharing group"):
        sqlite_hub.ingest(v["NCC"], items(indicator()), sqlite_hub.options(audience="group:nope"))


def test_created_by_ref_is_set_and_cannot_claim_another_member(hub: Hub) -> None:
    v = community(hub)
    obj = indicator("mine.example")
    hub.ingest(v["Bank"], items(obj), hub.options())
    assert hub.get(v["Bank"], obj["id"])["object"]["created_by_ref"] == v["Bank"].org_identity
    forged = indicator("forged.example", created_by_ref=v["NCC"].org_identity)
    r = hub.ingest(v["Bank"], items(forged), hub.options())
    assert r.rejected == 1 and "NCC" in (r.errors[0].reason or "")
    external = indicator("mitre.example", created_by_ref="identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5")
    r = hub.ingest(v["Bank"], items(external), hub.options())
    assert r.added == 1
    assert hub.get(v["Bank"], external["id"])["object"]["created_by_ref"].startswith("identity--c78cb6e5")


def test_only_the_creator_may_version_an_object(hub: Hub) -> None:
    v = community(hub)
    obj = indicator("owned.example")
    hub.ingest(v["Bank"], items(obj), hub.options())
    hijack = {**obj, "modified": "2025-01-01T00:00:00.000Z", "name": "hijacked"}
    hijack.pop("created_by_ref", None)
    r = hub.ingest(v["NCC"], items(hijack), hub.options())
    reason = r.errors[0].reason or ""
    assert r.rejected == 1 and "only its creator" in reason and "Bank" not in reason
    assert hub.get(v["NCC"], obj["id"])["object"]["name"] != "hijacked"


def test_readers_may_not_publish(hub: Hub) -> None:
    community(hub)
    reader = hub.authenticate("Bearer " + hub.create_token(hub.viewer_as(None), "reader@uni.example")["token"])
    with pytest.raises(PermissionDenied, match="analyst"):
        hub.ingest(reader, items(indicator()), hub.options())


def test_big_files_stream(sqlite_hub: Hub, tmp_path, monkeypatch) -> None:
    from accord.stix import reader

    monkeypatch.setattr(reader, "WHOLE_PARSE_LIMIT", 1000)
    v = community(sqlite_hub)
    objs = [indicator(f"s{i}.example") for i in range(300)]
    bundle = tmp_path / "b.json"
    bundle.write_bytes(encode("bundle", objs))
    lines = tmp_path / "b.jsonl"
    lines.write_bytes(encode("jsonl", [indicator(f"t{i}.example") for i in range(300)]))
    seen: list[int] = []
    r = sqlite_hub.ingest_file(v["NCC"], bundle, sqlite_hub.options(), progress=seen.append)
    assert r.added == 300 and sum(seen) == 300
    assert sqlite_hub.ingest_file(v["NCC"], lines, sqlite_hub.options()).added == 300


def test_a_validation_worker_decides_exactly_as_inline(tmp_path, request) -> None:
    from conftest import make_hub

    results = []
    for workers in (0, 1):
        (tmp_path / f"w{workers}").mkdir()
        h = make_hub("sqlite", tmp_path / f"w{workers}", request)
        v = community(h)
        objs = []
        for i in range(5000):
            o = indicator(f"w{i}.example", stix_id=f"indicator--{i:08d}-0000-4000-8000-000000000000")
            if i % 97 == 0:
                o["pattern"] = "[broken"
            if i % 101 == 0:
                o = {"type": "indicator", "id": o["id"], "created": o["created"], "modified": o["modified"],
                     "labels": ["malicious-activity"], "pattern": "[url:value = 'http://x.example/']",
                     "valid_from": o["valid_from"]}  # STIX 2.0: upgraded in the worker too
            objs.append(o)
        r = h.ingest(v["NCC"], items(*objs), h.options(workers=workers))
        results.append((r.added, r.rejected, [(e.index, e.reason) for e in r.errors]))
        h.engine.dispose()
    assert results[0] == results[1]
    assert results[0][1] == len([i for i in range(5000) if i % 97 == 0 and i % 101 != 0])
