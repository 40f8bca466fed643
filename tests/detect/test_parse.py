"""accord.detect.parse: the reference validator's decisions, the same AST from the fast path and from
the ANTLR path, and the speed of the common shapes."""

from __future__ import annotations

import importlib
import json
import random
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stix2patterns.validator import validate
from test_semantics_differential import patterns

from accord.detect import PatternError, ast, parse
from accord.detect.parse import _fast_parse, reference_parse

parse_module = importlib.import_module("accord.detect.parse")  # the package re-exports parse(), shadowing the module
DATA = Path(__file__).resolve().parents[1] / "data"
SPYWARE = json.loads((DATA / "detect" / "spyware_patterns.json").read_text("utf-8"))


def validator_accepts(pattern: str, version: str = "2.1") -> bool:
    try:
        return validate(pattern, version, ret_errs=True, print_errs=False)[0]
    except Exception:
        return False


def real_patterns() -> list[str]:
    found = [p for pats in SPYWARE.values() for p in pats]
    for path in sorted((DATA / "stix").iterdir()):
        if path.suffix in (".stix2", ".json"):
            found += [
                o["pattern"]
                for o in json.loads(path.read_text("utf-8")).get("objects", [])
                if o.get("type") == "indicator"
            ]
    return found


def assert_consistent(pattern: str, version: str = "2.1") -> None:
    """parse() raises exactly where the validator rejects; the fast path (when it answers) builds the
    AST the ANTLR path builds."""
    accepted = validator_accepts(pattern, version)
    if not accepted:
        with pytest.raises(PatternError):
            parse(pattern, version)
        assert version != "2.1" or _fast_parse(pattern) is None
        return
    reference = reference_parse(pattern, version)
    assert parse(pattern, version) == reference
    if version == "2.1":
        fast = _fast_parse(pattern)
        assert fast is None or fast == reference, (pattern, fast, reference)


def test_real_indicator_patterns() -> None:
    pats = real_patterns()
    assert len(pats) > 900
    fast = 0
    for pattern in pats:
        assert_consistent(pattern)
        fast += _fast_parse(pattern) is not None
    assert fast == len(pats)  # every real shape takes the fast path


def test_common_shapes_do_not_touch_antlr(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("ANTLR was used")

    monkeypatch.setattr(parse_module, "_reference_tree", refuse)
    parse("[domain-name:value = 'example.com']")
    parse("[file:hashes.'SHA-256' = 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c']")
    parse(
        "([domain-name:value = 'a.example'] FOLLOWEDBY [network-traffic:dst_ref.value = '1.2.3.4']) WITHIN 60 SECONDS"
    )
    parse("[url:value MATCHES '^https?://[a-z0-9.-]+/x/[0-9a-f]{8}[.]bin$']")


KNOWN = [
    "[domain-name:value = 'example.com']",
    "[domain-name:value=='example.com']",
    "[domain-name:value != 'it\\'s \\\\ here']",
    "[file:hashes.'SHA-256' = 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c']",
    "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
    "[file:hashes.'SHA-256' = 'nothex']",
    "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e' ]",
    "[a:b[*].'c d'[3].e IN (1, 2.5, 'x', true, h'0a', b'AAAA', t'2016-01-01T00:00:00.123Z')]",
    "[a:b NOT < -5 AND (a:c > 2.5 OR a:d <= t'2016-01-01T00:00:00Z') AND EXISTS a:e]",
    "[a:b LIKE 'x%' OR a:b NOT MATCHES '^a' OR a:c ISSUBSET '10.0.0.0/8' OR a:c NOT ISSUPERSET '1.2.3.4']",
    "[a:b = 1] AND [a:c = 2] AND [a:d = 3] OR [a:e = 4] FOLLOWEDBY [a:f = 5]",
    "([a:b = 1] FOLLOWEDBY [a:c = 2]) WITHIN 5 SECONDS REPEATS 2 TIMES",
    "[a:b = 1] START t'2016-01-01T00:00:00Z' STOP t'2016-02-31T00:00:00Z'",
    "[a:b = 1] WITHIN 1.5 SECONDS",
    "[a:b = 1] REPEATS 2 TIMES REPEATS 3 TIMES",
    "[a:b = 1] WITHIN 0 SECONDS",
    "[a:b[-1] = 1]",
    "[a:b = 1",
    "a:b = 1",
    "[a:b = 'x'] // comment",
    "[a:b\u00a0= 'x']",
    "[AND:b = 1]",
    "[a:true = 1]",
    "[x-y:hashes.md5 = 'd41d8cd98f00b204e9800998ecf8427e']",
    "[a:b = 1] START t'2016-01-01T00:00:00Z' STOP t'2016-01-01T00:00:00Z' START t'2016-01-01T00:00:00Z' STOP t'2017-01-01T00:00:00Z'",
]


@pytest.mark.parametrize("pattern", KNOWN)
def test_known_patterns(pattern: str) -> None:
    assert_consistent(pattern)
    assert_consistent(pattern, "2.0")


def test_ast_shape() -> None:
    root = parse("[a:x = 1] FOLLOWEDBY [b:y = 2] WITHIN 60 SECONDS").root
    assert isinstance(root, ast.FollowedBy) and isinstance(root.items[1], ast.Within)  # WITHIN binds to [b]
    root = parse("[a:x = 1 AND a:y = 2 AND (a:z = 3 AND a:w = 4) OR a:v = 5]").root
    assert isinstance(root.expr, ast.CompOr)
    conj = root.expr.items[0]
    assert isinstance(conj, ast.CompAnd) and len(conj.items) == 3 and isinstance(conj.items[2], ast.CompAnd)
    comp = parse(
        "[file:extensions.'ntfs-ext'.alternate_data_streams[*].hashes.'SHA-256' != '" + "ab" * 32 + "']"
    ).root.expr
    assert comp.path.steps == ("extensions", "ntfs-ext", "alternate_data_streams", ast.STAR, "hashes", "SHA-256")
    assert comp.path.text == "file:extensions.'ntfs-ext'.alternate_data_streams[*].hashes.'SHA-256'"
    assert comp.op == "!=" and not comp.negated
    values = parse("[a:b IN (h'0a0b', b'AAE=', t'2016-01-01T00:00:00.5Z', -3, 2.5, false, 'it\\'s')]").root.expr.value
    assert values[:2] == (ast.Binary(b"\n\x0b"), ast.Binary(b"\x00\x01"))
    assert values[2].value == datetime(2016, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)
    assert values[3:] == (-3, 2.5, False, "it's")
    stop = parse("[a:b = 1] START t'2016-01-01T00:00:00Z' STOP t'2016-02-30T00:00:00Z'").root.stop
    assert stop.value is None and stop.text == "2016-02-30T00:00:00Z"  # grammar-valid, no such day


def test_messages_are_the_validators() -> None:
    with pytest.raises(PatternError, match="is not a valid SHA-256 hash"):
        parse("[file:hashes.'SHA-256' = 'zz']")
    with pytest.raises(PatternError, match="Duplicate qualifier type encountered: REPEATS"):
        parse("[a:b = 1] REPEATS 2 TIMES REPEATS 3 TIMES")
    with pytest.raises(PatternError, match="input is missing square brackets"):
        parse("a:b = 1")
    with pytest.raises(PatternError, match="must be a string"):
        parse(None)  # type: ignore[arg-type]
    # accepted by the validator, but Python cannot read the number (the reference fails when matching)
    with pytest.raises(PatternError, match="literal cannot be read"):
        parse("[a:b = " + "1" * 5000 + "]")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pattern=patterns("2.1"))
def test_generated_patterns_same_ast_both_paths(pattern: str) -> None:
    assert_consistent(pattern)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pattern=patterns("2.0"))
def test_generated_patterns_2_0(pattern: str) -> None:
    assert_consistent(pattern, "2.0")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pattern=patterns("2.1"), cut=st.integers(0, 400), junk=st.sampled_from(["", "]", "[", "(", ")", " ", "'", "AND",
                                                                              "=", "*", ".", "-", "1", "\t"]))  # fmt: skip
def test_damaged_patterns_same_decision_as_the_validator(pattern: str, cut: int, junk: str) -> None:
    cut = cut % (len(pattern) + 1)
    assert_consistent(pattern[:cut] + junk + pattern[cut + 1 :])


def test_the_common_shapes_parse_in_microseconds() -> None:
    rng = random.Random(7)
    pats = []
    for i in range(20_000):
        if i % 2:
            pats.append(f"[domain-name:value = '{rng.getrandbits(40):x}.example']")
        else:
            pats.append(f"[file:hashes.'SHA-256' = '{rng.getrandbits(256):064x}']")
    started = time.perf_counter()
    for p in pats:
        parse(p)
    per = (time.perf_counter() - started) / len(pats)
    assert per < 60e-6, f"{per * 1e6:.1f} µs per pattern"  # about 9 µs on the 2-core dev machine
