"""The raw-line pre-filter never loses a line an observation could match (needles are complete), and
finds the right lines in a buffer."""

from __future__ import annotations

import json
import unicodedata

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.detect.ast import CompAnd, Comparison, CompOr, ObjectPath, Observation
from accord.detect.needles import observation_needles, regex_required_literal
from accord.detect.rawfilter import ALL, RawFilter

VALUE = ObjectPath("domain-name", ("value",), "domain-name:value")
PORT = ObjectPath("network-traffic", ("dst_port",), "network-traffic:dst_port")


def everything(_path: str) -> bool:
    return True


def obs(op: str, value: object, path: ObjectPath = VALUE, negated: bool = False) -> Observation:
    return Observation(Comparison(path, op, value, negated))  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ACCORD_CACHE_DIR", str(tmp_path / "cache"))


def test_equality_needle_is_the_json_string() -> None:
    nd = observation_needles(obs("=", 'evil"quote\\back.example'), everything)
    assert nd is not None and nd.values == {b'"evil\\"quote\\\\back.example"'}


def test_no_needle_where_values_are_not_verbatim_or_not_strings() -> None:
    assert observation_needles(obs("=", "a.example"), lambda p: False) is None
    assert observation_needles(obs("=", 443, PORT), everything) is None
    assert observation_needles(obs("=", "a.example", negated=True), everything) is None
    assert observation_needles(obs("!=", "a.example"), everything) is None


def test_and_takes_one_conjunct_or_needs_all() -> None:
    a, b = Comparison(VALUE, "=", "a.example"), Comparison(PORT, "=", 443)
    assert observation_needles(Observation(CompAnd((a, b))), everything).values == {b'"a.example"'}
    assert observation_needles(Observation(CompOr((a, b))), everything) is None
    c = Comparison(VALUE, "=", "c.example")
    assert observation_needles(Observation(CompOr((a, c))), everything).values == {b'"a.example"', b'"c.example"'}


def test_cidr_needle_is_the_fixed_octets() -> None:
    assert observation_needles(obs("ISSUBSET", "100.64.1.0/25"), everything).values == {b'"100.64.1.'}
    assert observation_needles(obs("ISSUBSET", "10.0.0.0/8"), everything).values == {b'"10.'}
    assert observation_needles(obs("ISSUBSET", "0.0.0.0/4"), everything) is None


def test_like_and_matches_needles_are_required_literals() -> None:
    like = observation_needles(obs("LIKE", "%.badtok.ru"), everything)
    assert like.values == {b".badtok.ru"} and like.needs_nfc
    assert regex_required_literal("^https?://[a-z0-9.-]+/tok/[0-9a-f]{8}[.]bin$") == "/tok/"
    assert regex_required_literal("(?i)abc") is None
    assert observation_needles(obs("MATCHES", "^(a|b)+$"), everything) is None


def lines_of(rf: RawFilter, buf: bytes) -> dict[int, set[int]]:
    return {index: ids for index, _s, _e, ids in rf.candidates(buf)}


def test_candidates_report_lines_and_escapes() -> None:
    observations = {0: obs("=", "evil.example"), 1: obs("LIKE", "%.badtok.ru")}
    rf = RawFilter({k: observation_needles(v, everything) for k, v in observations.items()}, use_cache=False)
    buf = b"\n".join([
        b'{"query":"fine.example"}',
        b'{"query":"evil.example","answer":"1.2.3.4"}',
        b'{"query":"x.evil.example"}',  # a decoy: the value is longer
        b'{"query":"\\u0065vil.example"}',  # escaped: must be parsed
        b'{"query":"a.badtok.ru"}',
        b'{"query":"a.badtok.\xe2\x84\xaau"}',  # KELVIN SIGN: NFC makes it ASCII K
    ]) + b"\n"  # fmt: skip
    found = lines_of(rf, buf)
    assert found == {1: {0}, 3: {ALL}, 4: {1}, 5: {1}}


def test_a_cached_database_finds_the_same_lines() -> None:
    needles = {0: observation_needles(obs("=", "evil.example"), everything)}
    buf = b'{"query":"fine.example"}\n{"query":"evil.example"}\n'
    first = RawFilter(needles)
    second = RawFilter(needles)
    assert not first.compiled_from_cache and second.compiled_from_cache
    assert lines_of(first, buf) == lines_of(second, buf) == {1: {0}}


value_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=value_text, like_cut=st.integers(0, 12), other=value_text)
def test_needles_are_complete(value: str, like_cut: int, other: str) -> None:
    """A line whose field holds a matching value (as any JSON encoder writes it) is always a candidate."""
    fragment = value[like_cut:] or value
    observations = {0: obs("=", value), 1: obs("LIKE", "%" + fragment + "%")}
    needles = {k: n for k, v in observations.items() if (n := observation_needles(v, everything)) is not None}
    if not needles:
        return
    rf = RawFilter(needles, use_cache=False)
    encodings = (
        orjson.dumps({"other": other, "query": value}),
        orjson.dumps({"query": value}).replace(b"/", b"\\/"),
        json.dumps({"query": value, "other": other}).encode(),  # ensure_ascii: \u escapes
    )
    for encoded in encodings:
        found = lines_of(rf, encoded + b"\n")
        ids = found.get(0, set())
        if 0 in needles:
            assert 0 in ids or ALL in ids
        if 1 in needles and unicodedata.normalize("NFC", fragment) in unicodedata.normalize("NFC", value):
            assert 1 in ids or ALL in ids


def test_many_literals_start_from_shards_and_sweep_later_with_one_merged_database(monkeypatch) -> None:
    """A first compile of many literals builds small databases at once and the merged one in the
    background; the next compile loads the merged one. Both find exactly the same lines."""
    from accord.detect import rawfilter

    monkeypatch.setattr(rawfilter, "MERGE_MIN", 10)
    monkeypatch.setattr(rawfilter, "SHARDS", 3)
    observations = {i: obs("=", f"host-{i}.example") for i in range(40)}
    needles = {k: observation_needles(v, everything) for k, v in observations.items()}
    buf = b"\n".join(b'{"query":"host-%d.example"}' % (i * 3) for i in range(20)) + b"\n"
    first = RawFilter(needles)
    assert len(first.dbs) == 3 and not first.compiled_from_cache
    rawfilter.wait_for_merges(timeout=60)
    merged = RawFilter(needles)
    assert len(merged.dbs) == 1 and merged.compiled_from_cache
    assert lines_of(first, buf) == lines_of(merged, buf) == {i: {i * 3} for i in range(14)}
    leftovers = [p.name for p in (rawfilter.cache_dir() / "hyperscan").iterdir() if p.suffix != ".hsdb"]
    assert leftovers == []
