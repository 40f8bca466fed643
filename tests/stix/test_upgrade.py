"""STIX 2.0 → 2.1 upgrade: real MITRE 2.0 data and hand-written 2.0 objects become valid 2.1 objects."""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path

import pytest
import stix2

from accord.errors import InvalidStix
from accord.stix.upgrade import needs_upgrade, upgrade_object
from accord.stix.validate import check_object

DATA = Path(__file__).resolve().parents[1] / "data" / "stix"
U = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
T = "2016-04-06T20:03:48.000Z"
SHA256 = "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"

pytestmark = pytest.mark.filterwarnings("ignore::stix2.exceptions.STIXDeprecationWarning")


def parses_as_21(obj: dict) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = stix2.parse(obj, allow_custom=True)
    except Exception:
        return False
    return isinstance(parsed, (stix2.v21._STIXBase21, dict))  # custom types come back as dicts


def assert_valid_21(obj: dict) -> None:
    assert obj["spec_version"] == "2.1"
    assert check_object(obj) is None, check_object(obj)
    assert parses_as_21(obj)


def test_mitre_intrusion_set_from_stix20() -> None:
    (original,) = json.loads((DATA / "mitre-cti-G0119-indrik-spider.stix20.json").read_text())["objects"]
    before = copy.deepcopy(original)
    assert needs_upgrade(original)
    assert check_object(original) is not None  # not 2.1 as it stands
    upgraded = upgrade_object(original)
    assert original == before  # input untouched
    assert_valid_21(upgraded)
    assert list(upgraded)[:2] == ["type", "spec_version"]
    assert {k: v for k, v in upgraded.items() if k != "spec_version"} == original
    assert not needs_upgrade(upgraded)


def _v20(obj_type: str, **props) -> dict:
    return {"type": obj_type, "id": f"{obj_type}--{U}", "created": T, "modified": T, **props}


INDICATOR = _v20(
    "indicator", labels=["malicious-activity"], valid_from="2016-01-01T00:00:00Z",
    pattern=f"[file:hashes.'SHA-256' = '{SHA256}']",
    kill_chain_phases=[{"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": "delivery"}],
)


def test_indicator_labels_become_indicator_types() -> None:
    upgraded = upgrade_object(INDICATOR)
    assert_valid_21(upgraded)
    assert upgraded["indicator_types"] == ["malicious-activity"]
    assert "labels" not in upgraded
    assert upgraded["pattern_type"] == "stix" and upgraded["pattern_version"] == "2.1"
    assert "labels" in INDICATOR  # input untouched


def test_indicator_with_a_pattern_only_valid_in_stix20_keeps_saying_so() -> None:
    # STIX 2.1 forbids two qualifiers of one kind on an observation; the 2.0 validator does not.
    obj = {**INDICATOR, "pattern": "[file:name = 'a'] WITHIN 5 SECONDS WITHIN 6 SECONDS"}
    upgraded = upgrade_object(obj)
    assert upgraded["pattern_version"] == "2.0"
    assert_valid_21(upgraded)


def test_indicator_with_an_invalid_pattern_cannot_be_upgraded() -> None:
    with pytest.raises(InvalidStix, match="pattern"):
        upgrade_object({**INDICATOR, "pattern": "[file:hashes.'SHA-256' = 'abc']"})
    with pytest.raises(InvalidStix):
        upgrade_object({k: v for k, v in INDICATOR.items() if k != "pattern"})


@pytest.mark.parametrize(
    ("obj_type", "labels", "types_property", "extra"),
    [
        ("malware", ["ransomware"], "malware_types", {"name": "WastedLocker"}),
        ("threat-actor", ["crime-syndicate"], "threat_actor_types", {"name": "Evil Corp"}),
        ("tool", ["remote-access"], "tool_types", {"name": "Cobalt Strike"}),
        ("report", ["threat-report"], "report_types",
         {"name": "R", "published": T, "object_refs": [f"indicator--{U}"]}),
    ],
)
def test_labels_move_to_the_typed_vocabulary(obj_type, labels, types_property, extra) -> None:
    upgraded = upgrade_object(_v20(obj_type, labels=labels, **extra))
    assert_valid_21(upgraded)
    assert upgraded[types_property] == labels and "labels" not in upgraded
    if obj_type == "malware":
        assert upgraded["is_family"] is True


def test_malware_without_name_cannot_be_a_21_family() -> None:
    with pytest.raises(InvalidStix, match="name"):
        upgrade_object(_v20("malware", labels=["spyware"]))


@pytest.mark.parametrize(
    "obj",
    [
        _v20("identity", name="ACME", identity_class="organization", labels=["kept"]),
        _v20("intrusion-set", name="APT", aliases=["x"], labels=["kept"]),
        _v20("campaign", name="C", first_seen="2015-01-01T00:00:00Z"),
        _v20("attack-pattern", name="Phishing",
             external_references=[{"source_name": "capec", "external_id": "CAPEC-98"}]),
        _v20("course-of-action", name="Patch"),
        _v20("vulnerability", name="CVE-2016-1234"),
        _v20("relationship", relationship_type="uses", source_ref=f"intrusion-set--{U}",
             target_ref=f"malware--{U}"),
        _v20("sighting", sighting_of_ref=f"indicator--{U}", where_sighted_refs=[f"identity--{U}"], count=2),
        _v20("observed-data", first_observed=T, last_observed=T, number_observed=1,
             objects={"0": {"type": "file", "name": "a.exe", "hashes": {"SHA-256": SHA256}}}),
        {"type": "marking-definition", "id": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
         "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp", "definition": {"tlp": "white"}},
        {"type": "marking-definition", "id": f"marking-definition--{U}", "created": T,
         "definition_type": "statement", "definition": {"statement": "Copyright 2016 ACME"}},
        _v20("x-custom-thing", x_field=1),
    ],
    ids=lambda o: o["type"],
)
def test_other_types_only_gain_spec_version(obj: dict) -> None:
    upgraded = upgrade_object(obj)
    assert_valid_21(upgraded)
    assert {k: v for k, v in upgraded.items() if k != "spec_version"} == obj


def test_observed_data_with_20_local_references_cannot_be_upgraded() -> None:
    # 2.0 embedded observables refer to each other by dictionary key ("0"); 2.1 needs STIX ids.
    obj = _v20("observed-data", first_observed=T, last_observed=T, number_observed=1, objects={
        "0": {"type": "ipv4-addr", "value": "198.51.100.1"},
        "1": {"type": "network-traffic", "dst_ref": "0", "protocols": ["tcp"]},
    })
    with pytest.raises(InvalidStix, match="cannot upgrade"):
        upgrade_object(obj)


def test_needs_upgrade() -> None:
    assert needs_upgrade(INDICATOR)
    assert needs_upgrade({**INDICATOR, "spec_version": "2.0"})
    assert not needs_upgrade(upgrade_object(INDICATOR))
    assert not needs_upgrade({"type": "ipv4-addr", "id": f"ipv4-addr--{U}", "value": "198.51.100.1"})
    assert not needs_upgrade({"type": "bundle", "id": f"bundle--{U}", "objects": []})
    assert not needs_upgrade({"id": f"indicator--{U}"})
    assert not needs_upgrade(["not", "an", "object"])  # type: ignore[arg-type]


def test_21_objects_come_back_unchanged() -> None:
    upgraded = upgrade_object(INDICATOR)
    again = upgrade_object(upgraded)
    assert again == upgraded and again is not upgraded


@pytest.mark.parametrize(
    "obj",
    [
        ["not an object"],
        {"id": f"indicator--{U}"},
        {"type": "bundle", "id": f"bundle--{U}", "objects": []},
        {"type": "file", "id": f"file--{U}", "name": "a"},
        {**INDICATOR, "spec_version": "2.2"},
        _v20("relationship", relationship_type="uses", source_ref=f"intrusion-set--{U}"),
        {**INDICATOR, "labels": 5},
    ],
)
def test_what_cannot_be_upgraded_raises_invalid_stix(obj) -> None:
    with pytest.raises(InvalidStix) as raised:
        upgrade_object(obj)
    assert raised.value.message and "\n" not in raised.value.message
