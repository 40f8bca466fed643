"""Hand-picked corners of stix2-matcher's meaning, each checked against the reference itself."""

from __future__ import annotations

import pytest
from test_semantics_differential import as_bundles, assert_same

from accord.detect import compile, events_from_observed_data


def od(objects: dict, first: str = "2020-01-01T00:00:00Z", last: str | None = None, n: int = 1, i: int = 0) -> dict:
    return {
        "type": "observed-data",
        "id": f"observed-data--00000000-0000-4000-8000-{i:012d}",
        "first_observed": first,
        "last_observed": last or first,
        "number_observed": n,
        "objects": objects,
    }


A = {"0": {"type": "a", "x": 1, "y": "foo", "r_ref": "1", "rs_refs": ["1", "9"]}, "1": {"type": "b", "y": "bar"}}

CASES_2_0 = [
    # EXISTS alone, and the reference's set/dict arithmetic when it is combined
    ("[EXISTS a:x]", [od(A)]),
    ("[EXISTS a:x AND a:y = 'foo']", [od(A)]),
    ("[EXISTS a:x OR a:y = 'foo']", [od(A)]),
    ("[a:y = 'foo' OR EXISTS a:x]", [od(A)]),
    ("[EXISTS a:x OR EXISTS a:y]", [od(A)]),
    ("[EXISTS a:x AND a:y = 'nope']", [od(A)]),
    ("[EXISTS a:x OR a:y = 'foo']", [od({"10": {"type": "a", "x": 1, "y": "foo"}})]),  # 2-character root id
    # references
    ("[a:r_ref.y = 'bar']", [od(A)]),
    ("[a:rs_refs[*].y = 'bar']", [od(A)]),
    ("[a:rs_refs[1].y = 'bar']", [od(A)]),  # the unresolved reference is dropped before indexing
    ("[a:rs_refs[0].y = 'bar']", [od({"0": {"type": "a", "rs_refs": ["9", "1"]}, "1": {"type": "b", "y": "bar"}})]),
    ("[a:r_ref NOT = 1]", [od({"0": {"type": "a", "r_ref": "1"}, "1": None})]),
    ("[a:r_ref[0] = 'x']", [od({"0": {"type": "a", "r_ref": "1"}, "1": ["x"]})]),
    ("[a:r_ref = 'x']", [od({"0": {"type": "a", "r_ref": "1"}, "1": "a type"})]),
    ("[a:r_ref.y = 'x']", [od({"0": {"type": "a", "r_ref": 5}})]),
    ("[a:rs_refs[*].y = 'x']", [od({"0": {"type": "a", "rs_refs": "1"}})]),
    # *_hex / *_bin
    ("[a:z_hex = h'0102']", [od({"0": {"type": "a", "z_hex": "0102"}})]),
    ("[a:z_hex = '\\u0001\\u0002']", [od({"0": {"type": "a", "z_hex": "0102"}})]),
    ("[a:z_hex = 'foo']", [od({"0": {"type": "a", "z_hex": "666f6f"}})]),  # the decoded bytes, as Latin-1
    ("[a:z_bin IN ('foo', 'bar')]", [od({"0": {"type": "a", "z_bin": "Zm9v"}})]),
    ("[a:z_bin = b'AQI=']", [od({"0": {"type": "a", "z_bin": "AQI="}})]),
    ("[a:z_hex = h'0102']", [od({"0": {"type": "a", "z_hex": "zz"}})]),
    ("[a:z_hex LIKE '%']", [od({"0": {"type": "a", "z_hex": "ff"}})]),  # not UTF-8
    ("[a:z_hex MATCHES 'o+']", [od({"0": {"type": "a", "z_hex": "666f6f"}})]),
    # type tables
    ("[a:x = true]", [od({"0": {"type": "a", "x": 1}})]),
    ("[a:x IN (true)]", [od({"0": {"type": "a", "x": 1}})]),
    ("[a:x = 1]", [od({"0": {"type": "a", "x": 1.0}})]),
    ("[a:x NOT < 'a']", [od({"0": {"type": "a", "x": 1}})]),
    ("[a:x IN (1, 'a')]", [od(A)]),
    ("[a:x NOT IN (1)]", [od({"0": {"type": "a", "x": [1]}})]),
    ("[a:y > t'2016-01-01T00:00:00Z']", [od({"0": {"type": "a", "y": "2017-01-01T00:00:00Z"}})]),
    ("[a:y > t'2016-01-01T00:00:00Z']", [od({"0": {"type": "a", "y": "soon"}})]),
    ("[a:y = t'2016-02-30T00:00:00Z']", [od(A)]),
    ("[a:y = 'foo'] WITHIN 0 SECONDS", [od(A)]),
    ("[a:y = 'foo'] REPEATS 0 TIMES", [od(A)]),
    ("[a:y ISSUBSET '1.2.3.0/24']", [od(A)]),
    ("[a:y ISSUBSET '1.2.3.0/33']", [od({"0": {"type": "a", "y": "1.2.3.4"}})]),
    ("[a:y ISSUPERSET '1.2.3.4']", [od({"0": {"type": "a", "y": "1.2.3.4"}})]),
    # an IPv4 operand the reference rejects fails also against an IPv6 one (not "mixed families")
    ("[a:y ISSUPERSET '0.0.0.0/0']", [od({"0": {"type": "a", "y": "2001:db8::/48"}})]),
    ("[a:y ISSUBSET '2001:db8::/32']", [od({"0": {"type": "a", "y": "1.2.3.4/0"}})]),
    # a value that is not a string where the pattern compares strings
    ("[a:y = 'foo']", [od({"0": {"type": "a", "y": "foo"}, "1": {"type": "a", "y": ["foo"]}})]),
    ("[a:y = 'foo'] AND [a:x = 1]", [od({"0": {"type": "a", "x": 1, "y": "foo"}, "1": {"type": "a", "y": {}}}, n=2)]),
    # in a 2.0 pattern an SDO type is a type like any other
    ("[note:y = 'foo']", [od({"0": {"type": "note", "y": "foo"}})]),
    ("[note:y != 'bar' AND note:y > 'a']", [od({"0": {"type": "note", "y": "foo"}})]),
    # instances and time
    ("[a:y = 'foo'] AND [a:y = 'foo']", [od(A, n=1)]),
    ("[a:y = 'foo'] AND [a:y = 'foo']", [od(A, n=2)]),
    ("[a:y = 'foo'] FOLLOWEDBY [a:y = 'foo']", [od(A, n=2)]),
    ("[a:y = 'foo'] REPEATS 3 TIMES", [od(A, n=2), od(A, n=1, i=1)]),
    (
        "[a:y = 'foo'] FOLLOWEDBY [b:y = 'bar'] WITHIN 5 SECONDS",
        [od(A, "2020-01-01T00:00:00Z"), od(A, "2020-01-01T00:00:10Z", "2020-01-01T00:00:12Z", i=1)],
    ),
    (
        "([a:y = 'foo'] FOLLOWEDBY [b:y = 'bar']) WITHIN 5 SECONDS",
        [od(A, "2020-01-01T00:00:00Z"), od(A, "2020-01-01T00:00:10Z", "2020-01-01T00:00:12Z", i=1)],
    ),
    ("[a:y = 'foo'] WITHIN 99999999999999 SECONDS", [od(A)]),
    ("[a:y = 'foo'] START t'2016-01-01T00:00:00Z' STOP t'2017-01-01T00:00:00Z'", [od(A)]),
]


@pytest.mark.parametrize(("pattern", "data"), CASES_2_0)
def test_corner_2_0(pattern: str, data: list[dict]) -> None:
    assert_same(pattern, data, "2.0")


def _sco_only(data: list[dict]) -> bool:
    return all(isinstance(o, dict) for d in data for o in d["objects"].values()) and "10" not in data[0]["objects"]


@pytest.mark.parametrize(("pattern", "data"), [c for c in CASES_2_0 if _sco_only(c[1])])
def test_corner_2_1(pattern: str, data: list[dict]) -> None:
    assert_same(pattern, as_bundles(data), "2.1")


def test_2_1_shapes() -> None:
    bundle = as_bundles([od(A)])
    assert_same("[a:y = 'foo']", bundle, "2.1")
    assert_same("[a:y = 'foo']", bundle + bundle, "2.1")  # bundles are pooled
    no_id = as_bundles([od(A)])
    del no_id[0]["objects"][0]["id"]
    assert_same("[a:y = 'foo']", no_id, "2.1")
    assert_same("[indicator:name = 'foo']", no_id, "2.1")
    self_ref = as_bundles([od({"0": {"type": "a", "r_ref": "x"}})])
    self_ref[0]["objects"][1]["r_ref"] = self_ref[0]["objects"][0]["id"]
    assert_same("[a:r_ref.number_observed = 1]", self_ref, "2.1")  # a reference may land on the observed-data
    assert_same("[a:y = 'foo']", [{"type": "bundle"}], "2.1")
    missing = as_bundles([od(A)])
    del missing[0]["objects"][0]["object_refs"]
    assert_same("[a:y = 'foo']", missing, "2.1")


def test_one_observation_in_2_0_and_2_1_indicators() -> None:
    """The same ``[note:y = 'foo']`` in a 2.0 and a 2.1 indicator: the 2.0 one selects note objects,
    the 2.1 one never does (SDO types are not observable there), though Accord merges equal
    observations across indicators."""
    events = events_from_observed_data([od({"0": {"type": "note", "y": "foo"}})], "2.0")
    for pattern in ("[note:y = 'foo']", "[note:y LIKE 'f%']"):
        matcher = compile(
            [
                {"type": "indicator", "id": "indicator--20", "pattern": pattern, "spec_version": "2.0"},
                {"type": "indicator", "id": "indicator--21", "pattern": pattern, "spec_version": "2.1"},
            ]
        )
        assert [hit.indicator for hit in matcher.scan(events)] == ["indicator--20"]


def test_2_1_bundle_shapes_as_the_reference_merges_them() -> None:
    """Bundles are deep-merged as the reference merges them; an SCO id may be any JSON scalar."""
    bundle = as_bundles([od(A)])
    objects = bundle[0]["objects"]
    for data in (
        [{"type": "bundle", "objects": {}}],  # iterated: nothing in it
        [{"type": "bundle", "objects": ""}],
        [{"type": "bundle", "objects": "x"}],  # iterated: a member that is not an object
        [{"type": "bundle", "objects": None}],
        [*bundle, {"type": "bundle", "objects": {}}],  # mixed kinds: the later one wins
        [{"type": "bundle", "objects": {}}, *bundle],
        [{"type": "bundle", "objects": [*objects, {"type": "b", "id": None, "y": "bar"}]}],
        [{"type": "bundle", "objects": [*objects, {"type": "b", "id": 5}]}],
        [{"type": "bundle", "objects": [*objects, {"type": "b", "id": [5]}]}],
        [{"type": "bundle", "objects": [*objects, {"type": "b"}]}],
    ):
        assert_same("[a:y = 'foo']", data, "2.1")
