"""check_object decides exactly as ``stix2.parse(obj, allow_custom=True)``, on real objects and mutants."""

from __future__ import annotations

import copy
import functools
import json
import warnings
from pathlib import Path

import pytest
import stix2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import accord.stix.validate as validate_module
from accord.stix.validate import FAST_TYPES, check_object

DATA = Path(__file__).resolve().parents[1] / "data" / "stix"

# stix2 warns about observed-data 'objects' (deprecated in 2.1) when it checks them.
pytestmark = pytest.mark.filterwarnings("ignore::stix2.exceptions.STIXDeprecationWarning")

U1 = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
U2 = "44af6c39-c09b-49c5-9de2-394224b04982"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA256 = "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"
TS = "2024-01-02T03:04:05.678Z"
TLP2_EXT = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"


def reference_ok(obj) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stix2.parse(obj, allow_custom=True)
    except Exception:
        return False
    return True


def in_scope(obj) -> bool:
    """STIX 2.1 objects, the domain on which check_object promises the reference's decision."""
    if type(obj) is not dict or type(obj.get("type")) is not str:
        return False
    if "spec_version" in obj:
        return obj["spec_version"] == "2.1"
    return "id" in obj and obj["type"] in stix2.v21.OBJ_MAP_OBSERVABLE


def assert_same(obj) -> str | None:
    reason = check_object(obj)
    if reason is not None:
        assert "\n" not in reason and "Traceback" not in reason, reason
    if in_scope(obj):
        assert (reason is None) == reference_ok(obj), (reason, obj)
    else:
        assert reason is not None, obj  # out of scope: always a reason (see the module docstring)
    return reason


def load(name: str) -> list[dict]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))["objects"]


@functools.cache
def _real_objects() -> tuple[dict, ...]:
    objs = []
    for path in sorted(DATA.iterdir()):
        if path.suffix in (".stix2", ".json"):
            objs += json.loads(path.read_text(encoding="utf-8"))["objects"]
    return tuple(objs)


def real_objects() -> list[dict]:
    return copy.deepcopy(list(_real_objects()))


# --------------------------------------------------------------------------- real objects


def test_real_objects_same_decision_as_reference() -> None:
    objs = real_objects()
    assert len(objs) > 900
    seen_types = set()
    for obj in objs:
        reason = assert_same(obj)
        if obj.get("spec_version") == "2.1":
            assert reason is None, reason
            seen_types.add(obj["type"])
    assert {"indicator", "relationship", "malware", "intrusion-set", "tool", "campaign", "identity",
            "marking-definition"} <= seen_types


def test_stix20_object_is_out_of_scope_with_a_reason() -> None:
    (obj,) = load("mitre-cti-G0119-indrik-spider.stix20.json")
    assert reference_ok(obj)  # stix2 parses it as STIX 2.0
    reason = check_object(obj)
    assert reason is not None and "spec_version" in reason


def test_fast_types_do_not_need_stix2_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real objects of the fast types are decided without stix2.parse (the point of the module)."""

    def refuse(*args, **kwargs):
        raise AssertionError("stix2.parse called")

    monkeypatch.setattr(validate_module.stix2, "parse", refuse)
    count = 0
    for obj in real_objects() + [copy.deepcopy(o) for o in BASES]:
        if obj.get("spec_version") == "2.1" and obj["type"] in FAST_TYPES:
            assert check_object(obj) is None, obj
            count += 1
    assert count > 900


# --------------------------------------------------------------------------- hand-written bases

BASES: list[dict] = [
    {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{U1}", "created": TS, "modified": TS,
     "name": "bad domain", "indicator_types": ["malicious-activity"],
     "pattern": "[domain-name:value = 'example.com']", "pattern_type": "stix", "pattern_version": "2.1",
     "valid_from": "2024-01-01T00:00:00Z", "valid_until": "2025-01-01T00:00:00Z", "confidence": 80,
     "labels": ["x"], "lang": "en", "created_by_ref": f"identity--{U2}",
     "kill_chain_phases": [{"kill_chain_name": "lockheed", "phase_name": "c2"}],
     "external_references": [{"source_name": "r", "url": "https://r.example", "hashes": {"SHA-256": SHA256}}],
     "object_marking_refs": ["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"],
     "x_accord_note": {"free": ["form"]}},
    {"type": "relationship", "spec_version": "2.1", "id": f"relationship--{U1}", "created": TS, "modified": TS,
     "relationship_type": "indicates", "source_ref": f"indicator--{U1}", "target_ref": f"malware--{U2}",
     "start_time": "2024-01-01T00:00:00Z", "stop_time": "2024-02-01T00:00:00Z", "description": "d"},
    {"type": "sighting", "spec_version": "2.1", "id": f"sighting--{U1}", "created": TS, "modified": TS,
     "sighting_of_ref": f"indicator--{U1}", "count": 3, "first_seen": "2024-01-01T00:00:00Z",
     "last_seen": "2024-01-01T00:00:00Z", "where_sighted_refs": [f"identity--{U2}", f"location--{U2}"],
     "observed_data_refs": [f"observed-data--{U2}"], "summary": False},
    {"type": "malware", "spec_version": "2.1", "id": f"malware--{U1}", "created": TS, "modified": TS,
     "name": "Pegasus", "is_family": True, "malware_types": ["spyware"], "aliases": ["p"],
     "first_seen": "2016-01-01T00:00:00Z", "last_seen": "2024-01-01T00:00:00Z",
     "sample_refs": [f"file--{U2}"], "operating_system_refs": [f"software--{U2}"],
     "capabilities": ["exfiltrates-data"], "architecture_execution_envs": ["arm"]},
    {"type": "identity", "spec_version": "2.1", "id": f"identity--{U1}", "created": TS, "modified": TS,
     "name": "ACME", "identity_class": "organization", "sectors": ["technology"], "roles": ["x"],
     "contact_information": "a@b.c"},
    {"type": "intrusion-set", "spec_version": "2.1", "id": f"intrusion-set--{U1}", "created": TS, "modified": TS,
     "name": "APT", "first_seen": "2020-01-01T00:00:00Z", "goals": ["g"], "resource_level": "government",
     "primary_motivation": "ideology", "secondary_motivations": ["dominance"]},
    {"type": "threat-actor", "spec_version": "2.1", "id": f"threat-actor--{U1}", "created": TS, "modified": TS,
     "name": "TA", "threat_actor_types": ["nation-state"], "roles": ["agent"], "sophistication": "expert",
     "personal_motivations": ["revenge"], "last_seen": "2024-01-01T00:00:00Z"},
    {"type": "campaign", "spec_version": "2.1", "id": f"campaign--{U1}", "created": TS, "modified": TS,
     "name": "C", "objective": "o", "first_seen": "2020-01-01T00:00:00Z", "last_seen": "2021-01-01T00:00:00Z"},
    {"type": "tool", "spec_version": "2.1", "id": f"tool--{U1}", "created": TS, "modified": TS,
     "name": "psexec", "tool_types": ["remote-access"], "tool_version": "2"},
    {"type": "attack-pattern", "spec_version": "2.1", "id": f"attack-pattern--{U1}", "created": TS,
     "modified": TS, "name": "Spearphishing",
     "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "initial-access"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1566"}]},
    {"type": "report", "spec_version": "2.1", "id": f"report--{U1}", "created": TS, "modified": TS,
     "name": "R", "report_types": ["threat-report"], "published": TS,
     "object_refs": [f"indicator--{U1}", f"relationship--{U2}", f"file--{U2}", f"x-custom--{U2}"]},
    {"type": "observed-data", "spec_version": "2.1", "id": f"observed-data--{U1}", "created": TS,
     "modified": TS, "first_observed": TS, "last_observed": TS, "number_observed": 1,
     "object_refs": [f"ipv4-addr--{U1}", f"domain-name--{U2}", f"relationship--{U2}"]},
    {"type": "vulnerability", "spec_version": "2.1", "id": f"vulnerability--{U1}", "created": TS,
     "modified": TS, "name": "CVE-2021-1234",
     "external_references": [{"source_name": "cve", "external_id": "CVE-2021-1234"}]},
    {"type": "location", "spec_version": "2.1", "id": f"location--{U1}", "created": TS, "modified": TS,
     "name": "Belgrade", "latitude": 44.8, "longitude": 20.4, "precision": 1000.0, "country": "RS",
     "region": "southern-europe"},
    {"type": "note", "spec_version": "2.1", "id": f"note--{U1}", "created": TS, "modified": TS,
     "abstract": "a", "content": "c", "authors": ["me"], "object_refs": [f"malware--{U1}"]},
    {"type": "infrastructure", "spec_version": "2.1", "id": f"infrastructure--{U1}", "created": TS,
     "modified": TS, "name": "C2", "infrastructure_types": ["command-and-control"],
     "first_seen": "2020-01-01T00:00:00Z", "last_seen": "2020-01-01T00:00:00Z"},
    {"type": "marking-definition", "spec_version": "2.1",
     "id": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "created": "2017-01-20T00:00:00.000Z",
     "definition_type": "tlp", "name": "TLP:WHITE", "definition": {"tlp": "white"}},
    {"type": "marking-definition", "spec_version": "2.1", "id": f"marking-definition--{U1}", "created": TS,
     "definition_type": "statement", "definition": {"statement": "Copyright ACME"}},
    {"type": "marking-definition", "spec_version": "2.1",
     "id": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "created": "2022-10-01T00:00:00.000Z",
     "name": "TLP:GREEN",
     "extensions": {TLP2_EXT: {"extension_type": "property-extension", "tlp_2_0": "green"}}},
    {"type": "domain-name", "spec_version": "2.1", "id": f"domain-name--{U1}", "value": "example.com",
     "resolves_to_refs": [f"ipv4-addr--{U2}", f"domain-name--{U2}"]},
    {"type": "ipv4-addr", "id": f"ipv4-addr--{U1}", "value": "198.51.100.1"},
    {"type": "ipv6-addr", "spec_version": "2.1", "id": f"ipv6-addr--{U1}", "value": "2001:db8::1",
     "resolves_to_refs": [f"mac-addr--{U2}"]},
    {"type": "url", "spec_version": "2.1", "id": f"url--{U1}", "value": "http://example.com/", "defanged": False},
    {"type": "file", "spec_version": "2.1", "id": f"file--{U1}", "name": "a.exe", "size": 10,
     "hashes": {"MD5": MD5, "SHA-256": SHA256}, "mtime": TS, "parent_directory_ref": f"directory--{U2}"},
    {"type": "email-addr", "spec_version": "2.1", "id": f"email-addr--{U1}", "value": "a@b.c",
     "display_name": "A", "belongs_to_ref": f"user-account--{U2}"},
]


def test_bases_are_valid() -> None:
    for base in BASES:
        assert reference_ok(base), base
        assert check_object(base) is None, base


# --------------------------------------------------------------------------- mutants

ID_VALUES = [
    f"indicator--{U1}", f"indicator--{U1.upper()}", f"indicator--{{{U1}}}", f"indicator--{U1.replace('-', '')}",
    "indicator--8e2e2d2b-17d4-4cbf-138f-98ee46b3cd3f",  # variant bits not RFC 4122
    "indicator--8e2e2d2b-17d4-1cbf-938f-98ee46b3cd3f",  # a version 1 UUID (fine in 2.1)
    "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3", "indicator-8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
    f"identity--{U1}", f"malware--{U1}", f"marking-definition--{U1}", f"relationship--{U1}", f"sighting--{U1}",
    f"bundle--{U1}", f"language-content--{U1}", f"x-custom--{U1}", f"file--{U1}", f"ipv4-addr--{U1}",
    f"observed-data--{U1}", f"location--{U1}", f"software--{U1}", f"directory--{U1}", f"Foo Bar--{U1}",
    f"--{U1}", f"indicator--x--{U1}", f"mac-addr--{U1}", f"user-account--{U1}", f"artifact--{U1}",
]
TIMESTAMPS = [
    "2020-01-01T00:00:00Z", "2030-01-01T00:00:00.123456Z", "2020-02-30T00:00:00Z", "2020-01-01T00:00:60Z",
    "2020-1-1T0:0:0Z", "2020-01-01t00:00:00z", "2020-01-01T00:00:00.1234567Z", "2020-01-01T00:00:00.Z",
    "2020-01-01 00:00:00Z", "2020-01-01T00:00:00+00:00", "2020-01-01", "0000-01-01T00:00:00Z",
    "2020-01-01T24:00:00Z", "2017-01-20T00:00:00.000Z", "2017-01-20T00:00:00.0001Z",
]
PLAIN_VALUES = [
    None, [], {}, "", 0, -1, 1, 2, 101, 1.5, -0.0, True, False, "x", "true", "T", "0", "no", "1.5", " 7 ",
    ["x"], ["x", 1], [None], [[]], [{}], {"a": 1}, {"": 1}, {"bad key": 1}, {"MD5": MD5}, {"sha256": SHA256},
    {"SHA-256": SHA256.upper()}, {"SHA-256": "abc"}, {"FOO": "x"}, {"MD5": MD5 + "\n"}, "stix", "2.1", "2.0",
]
PATTERNS = [
    "[file:hashes.'SHA-256' = 'abc']", "[domain-name:value = 'x'", "[app:id = 'com.foo']",
    "[a:b = 1] WITHIN 5 SECONDS WITHIN 5 SECONDS", "[EXISTS a:b]", "[a:b[-1] = 1]", "",
    "([a:b = 'x']) AND [c:d = 1]", "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
]
CUSTOM_NAMES = ["x_ok", "xOK", "X_bad", "_bad", "1bad", "", "é", "with space", "a", "allow_custom", "self",
                "interoperability", "custom_properties", "_valid_refs", "extensions"]
EXTENSIONS = [
    {}, [], "x", {"x": 1}, {TLP2_EXT: {"extension_type": "property-extension", "tlp_2_0": "red"}},
    {TLP2_EXT: "not a dict"}, {"extension-definition--8e2e2d2b-17d4-4cbf-138f-98ee46b3cd3f": {}},
    {"extension-definition--not-a-uuid": {}}, {f"extension-definition--{U1.upper()}": {}},
    {"x-custom-ext": {"a": 1}}, {"archive-ext": {"contains_refs": [f"file--{U1}"]}},
    {"ntfs-ext": {"sid": "1"}}, {f"extension-definition--{U1}": {"extension_type": "toplevel-property-extension"}},
]
EXTERNAL_REFERENCES = [
    [{"source_name": "a"}], [{"source_name": "a", "url": None}], [{"source_name": "a", "description": ""}],
    [{"url": "u"}], [{"source_name": None, "url": "u"}], ["x"], {"source_name": "a", "url": "u"}, "x",
    [{"source_name": "a", "external_id": 5}], [{"source_name": "a", "url": "u", "hashes": {"MD5": MD5}}],
    [{"source_name": "a", "url": "u", "hashes": {"md5": MD5}}], [{"source_name": "a", "url": "u", "hashes": {}}],
    [{"source_name": "a", "url": "u", "hashes": {"SHA-384": "ab" * 48}}],
    [{"source_name": "a", "url": "u", "hashes": {"TLSH": "ab" * 35}}],
    [{"source_name": "a", "url": "u", "hashes": {"MD5": "x"}}], [{"source_name": "a", "url": "u", "X": 1}],
    [{"source_name": "a", "url": "u", "x_y": None}], [{"source_name": "a", "url": "u", "extensions": {}}],
    [{"source_name": "a", "url": "u", "allow_custom": True}], [{"source_name": "a", "url": "u"}, 5],
]
KILL_CHAIN_PHASES = [
    [{"kill_chain_name": "k"}], [{"kill_chain_name": "k", "phase_name": None}], [{"kill_chain_name": "k",
    "phase_name": 1}], [{"kill_chain_name": "k", "phase_name": "p", "X": 1}], ["k"], {"k": "p"},
    [{"kill_chain_name": "k", "phase_name": "p", "x_y": [1]}],
]
GRANULAR_MARKINGS = [
    [{"marking_ref": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "selectors": ["name"]}],
    [{"marking_ref": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "selectors": ["nope"]}],
    [{"lang": "en", "selectors": ["id"]}], [{"selectors": ["id"]}],
]


def _values_for(name: str) -> list:
    values = list(PLAIN_VALUES)
    if name in ("id",) or name.endswith("_ref") or name.endswith("_refs"):
        values += ID_VALUES + [[v] for v in ID_VALUES]
    if name in ("created", "modified", "valid_from", "valid_until", "first_seen", "last_seen", "start_time",
                "stop_time", "first_observed", "last_observed", "published", "mtime"):
        values += TIMESTAMPS
    if name == "pattern":
        values += PATTERNS
    if name == "external_references":
        values += EXTERNAL_REFERENCES
    if name == "kill_chain_phases":
        values += KILL_CHAIN_PHASES
    if name == "extensions":
        values += EXTENSIONS
    if name == "definition":
        values += [{"tlp": "green"}, {"tlp": "clear"}, {"tlp": "white", "x": 1}, {"statement": "s"}, {"tlp": 1},
                   '{"tlp": "white"}', {"tlp": None}]
    if name == "definition_type":
        values += ["tlp", "statement", "custom", "TLP"]
    if name in ("latitude", "longitude", "precision"):
        values += [90, 90.5, -180.0, "45", float("nan")]
    if name == "hashes":
        values += [{"SHA-1": "ab" * 20, "SSDEEP": "3:a:b"}, {"SHA3-256": "ab" * 32}, {"x-custom": "v"}]
    return values


def mutants(base: dict):
    """Every property dropped, every property set to each relevant odd value, custom names, extras."""
    for name in list(base):
        clone = dict(base)
        del clone[name]
        yield clone
    names = list(base) + [n for n in ("extensions", "external_references", "kill_chain_phases",
                                       "granular_markings", "object_marking_refs", "created_by_ref",
                                       "confidence", "revoked", "labels", "lang", "defanged")
                          if n not in base]
    for name in names:
        if name == "granular_markings":
            for value in GRANULAR_MARKINGS:
                yield {**base, name: value}
            continue
        for value in _values_for(name):
            yield {**base, name: copy.deepcopy(value)}
    for name in CUSTOM_NAMES:
        yield {**base, name: "v"}
        yield {**base, name: None}
    top = {f"extension-definition--{U1}": {"extension_type": "toplevel-property-extension"}}
    yield {**base, "extensions": top, "X_Upper": 1}
    yield {**base, "custom_properties": {"X": 1}}
    yield {**base, "custom_properties": {"x_ok": 1}}


def _mutant_cases():
    for i, base in enumerate(BASES):
        yield pytest.param(base, id=f"{i}-{base['type']}")


@pytest.mark.parametrize("base", list(_mutant_cases()))
def test_mutants_same_decision_as_reference(base: dict) -> None:
    rejected = accepted = 0
    for obj in mutants(base):
        if assert_same(obj) is None:
            accepted += 1
        else:
            rejected += 1
    assert rejected > 20 and accepted > 5  # the mutants do exercise both answers


def _pairs():
    """Object-level rules: ordering of timestamps, co-constraints, TLP, patterns per version."""
    ind, rel, sig, mal, loc, obs, mark, file_ = (
        BASES[0], BASES[1], BASES[2], BASES[3], BASES[13], BASES[11], BASES[16], BASES[23],
    )
    early, late = "2024-01-01T00:00:00Z", "2024-06-01T00:00:00.5Z"
    for a, b in ((early, late), (late, early), (early, early)):
        yield {**ind, "valid_from": a, "valid_until": b}
        yield {**rel, "start_time": a, "stop_time": b}
        yield {**sig, "first_seen": a, "last_seen": b}
        yield {**mal, "first_seen": a, "last_seen": b}
        yield {**obs, "first_observed": a, "last_observed": b}
        yield {**BASES[7], "first_seen": a, "last_seen": b}
        yield {**BASES[15], "first_seen": a, "last_seen": b}
        yield {**BASES[6], "first_seen": a, "last_seen": b}
        yield {**BASES[5], "first_seen": a, "last_seen": b}
        yield {**ind, "created": b, "modified": a}  # stix2 does not order created/modified
    for conf in (-1, 0, 100, 101, 150):
        yield {**ind, "confidence": conf}
    for version in ("2.1", "2.0", "", None, 2.1, "3.0"):
        for pattern in PATTERNS:
            yield {**ind, "pattern_version": version, "pattern": pattern}
    for ptype in ("stix", "sigma", "STIX", "", None):
        yield {**ind, "pattern_type": ptype, "pattern": "not a stix pattern"}
    yield {**ind, "pattern": ["[a:b = 1]"]}
    yield {**ind, "pattern": 0, "pattern_version": None}
    for is_family in (True, False, "true", "false", 1, 0, "yes", None):
        yield {**mal, "is_family": is_family}
        clone = {**mal, "is_family": is_family}
        del clone["name"]
        yield clone
    keys = ("latitude", "longitude", "precision", "region", "country")
    for mask in range(32):
        clone = dict(loc)
        for bit, key in enumerate(keys):
            if not mask & (1 << bit):
                del clone[key]
        yield clone
    clone = dict(obs)
    del clone["object_refs"]
    yield clone
    yield {**clone, "objects": {"0": {"type": "file", "name": "a"}}}
    yield {**obs, "objects": {"0": {"type": "file", "name": "a"}}}
    yield {**clone, "objects": {"0": {"type": "network-traffic", "src_ref": "1", "protocols": ["tcp"]},
                                "1": {"type": "ipv4-addr", "value": "198.51.100.1"}}}
    for color in ("white", "green", "amber", "red", "clear", "WHITE"):
        yield {**mark, "definition": {"tlp": color}}
    yield {**mark, "id": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"}
    yield {**mark, "created": "2017-01-20T00:00:00.001Z"}
    yield {**mark, "created": "2017-01-20T00:00:00Z"}
    clone = dict(mark)
    del clone["definition"]
    yield clone
    yield {**clone, "extensions": {TLP2_EXT: {"extension_type": "property-extension", "tlp_2_0": "clear"}}}
    yield {**clone, "definition_type": "x", "extensions": {TLP2_EXT: {}}}
    yield {**BASES[18], "extensions": {}}
    for drop in ("hashes", "name"):
        clone = dict(file_)
        del clone[drop]
        yield clone
    clone = dict(file_)
    del clone["hashes"], clone["name"]
    yield clone
    clone = dict(file_)
    del clone["id"]
    yield clone
    clone = dict(BASES[20])
    clone.pop("spec_version", None)
    yield clone
    yield {**BASES[20], "spec_version": "2.1"}


def test_object_rules_same_decision_as_reference() -> None:
    answers = [assert_same(obj) is None for obj in _pairs()]
    assert answers.count(True) > 30 and answers.count(False) > 30


def test_reasons_name_the_property() -> None:
    ind = BASES[0]
    reason = check_object({**ind, "valid_until": "2023-01-01T00:00:00Z"})
    assert reason is not None and reason.startswith(f"indicator--{U1}:") and "'valid_until'" in reason
    reason = check_object({**ind, "created": "2020-02-30T00:00:00Z"})
    assert reason is not None and "'created'" in reason
    reason = check_object({**ind, "pattern": "[file:hashes.'SHA-256' = 'abc']"})
    assert reason is not None and "'pattern'" in reason and "SHA-256" in reason
    reason = check_object({**ind, "created_by_ref": f"malware--{U1}"})
    assert reason is not None and "'created_by_ref'" in reason
    reason = check_object({k: v for k, v in ind.items() if k != "pattern"})
    assert reason is not None and "'pattern'" in reason
    reason = check_object({**ind, "X_bad": 1})
    assert reason is not None and "X_bad" in reason


def test_out_of_scope_inputs_get_a_reason() -> None:
    assert check_object([]) is not None  # type: ignore[arg-type]
    assert check_object({"spec_version": "2.1"}) is not None
    assert check_object({"type": 5, "spec_version": "2.1"}) is not None
    assert "spec_version" in (check_object({**BASES[0], "spec_version": "2.0"}) or "")
    no_version = {k: v for k, v in BASES[0].items() if k != "spec_version"}
    assert "spec_version" in (check_object(no_version) or "")


def test_custom_types_are_left_to_stix2() -> None:
    obj = {"type": "x-accord-action", "spec_version": "2.1", "id": f"x-accord-action--{U1}", "a": 1}
    assert check_object(obj) is None and reference_ok(obj)
    grouping = {"type": "grouping", "spec_version": "2.1", "id": f"grouping--{U1}", "created": TS,
                "modified": TS, "context": "suspicious-activity"}
    assert_same(grouping)
    assert_same({k: v for k, v in grouping.items() if k != "context"})


def test_strict_mode_adds_the_spec_rules_stix2_skips() -> None:
    ind = BASES[0]
    assert check_object(ind, strict=True) is None
    for obj in real_objects():
        if obj.get("spec_version") == "2.1":
            assert check_object(obj, strict=True) is None, obj["id"]
    backwards = {**ind, "created": "2024-02-01T00:00:00Z", "modified": "2024-01-01T00:00:00Z"}
    assert check_object(backwards) is None
    assert "'modified'" in (check_object(backwards, strict=True) or "")
    assert check_object({**ind, "confidence": 150}) is None
    assert "'confidence'" in (check_object({**ind, "confidence": 150}, strict=True) or "")
    no_id = {k: v for k, v in ind.items() if k != "id"}
    assert check_object(no_id) is None and check_object(no_id, strict=True) is not None
    no_created = {k: v for k, v in ind.items() if k != "created"}
    assert check_object(no_created) is None and check_object(no_created, strict=True) is not None
    assert check_object(BASES[16], strict=True) is None  # marking definitions have no 'modified'
    assert check_object(BASES[20], strict=True) is None  # SCOs have no created/modified


# --------------------------------------------------------------------------- hypothesis

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 200) | st.floats(allow_nan=False, width=32)
    | st.text(max_size=6) | st.sampled_from(ID_VALUES + TIMESTAMPS + PATTERNS + ["stix", "2.1", "tlp"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)
_NAMES = st.sampled_from(sorted({n for b in BASES for n in b} | {"extensions", "external_references",
                                                                 "granular_markings", "kill_chain_phases"}))


@st.composite
def _mutated(draw) -> dict:
    pool = BASES + [o for o in _real_objects()[::37] if o.get("spec_version") == "2.1"]
    obj = copy.deepcopy(draw(st.sampled_from(pool)))
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.integers(0, 3))
        if action == 0 and len(obj) > 1:
            del obj[draw(st.sampled_from(sorted(obj)))]
        elif action == 1:
            obj[draw(st.sampled_from(sorted(obj)))] = draw(_JSON)
        elif action == 2:
            obj[draw(_NAMES)] = draw(_JSON)
        else:
            obj[draw(st.text(min_size=0, max_size=4))] = draw(_JSON)
    return obj


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.data_too_large])
@given(_mutated())
def test_random_mutations_same_decision_as_reference(obj: dict) -> None:
    assert_same(obj)
