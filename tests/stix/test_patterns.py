"""check_pattern decides exactly as the reference stix2-patterns validator, on real and generated patterns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stix2patterns.validator import validate

import accord.stix.patterns as patterns_module
from accord.stix.patterns import check_pattern

DATA = Path(__file__).resolve().parents[1] / "data" / "stix"


def reference_ok(pattern: str, version: str = "2.1") -> bool:
    """The reference decision; a pattern that makes the reference raise counts as invalid."""
    try:
        return validate(pattern, version, ret_errs=True, print_errs=False)[0]
    except Exception:
        return False


def assert_same(pattern: str) -> None:
    reason = check_pattern(pattern)
    assert (reason is None) == reference_ok(pattern), (pattern, reason)
    if reason is not None:
        assert "\n" not in reason and "Traceback" not in reason


def real_patterns() -> list[str]:
    found = []
    for path in sorted(DATA.iterdir()):
        if path.suffix not in (".stix2", ".json"):
            continue
        for obj in json.loads(path.read_text(encoding="utf-8")).get("objects", []):
            if obj.get("type") == "indicator":
                found.append(obj["pattern"])
    return found


def test_real_patterns_are_all_accepted_like_the_reference() -> None:
    pats = real_patterns()
    assert len(pats) > 250
    shapes = {p.split("=")[0] for p in pats}
    assert "[app:id" in shapes and "[file:hashes.sha256" in shapes  # the corpus has the MVT shapes
    for pattern in pats:
        assert check_pattern(pattern) is None, pattern
        assert reference_ok(pattern)


SHA256 = "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"

CORPUS = [
    # everyday shapes
    "[domain-name:value = 'example.com']",
    "[domain-name:value='example.com']",
    "[ipv4-addr:value = '198.51.100.7']",
    "[url:value = 'http://example.com/a?b=c']",
    f"[file:hashes.'SHA-256' = '{SHA256}']",
    f"[file:hashes.sha256 = '{SHA256}']",
    f"[file:hashes.MD5 = '{MD5}']",
    f"[file:hashes.'SHA-1' = '{SHA1}']",
    f"[file:hashes.'SHA-256' = '{SHA256}' OR file:hashes.MD5 = '{MD5}']",
    f"[file:name = 'a.exe' AND file:hashes.'SHA-256' = '{SHA256}']",
    "[app:id = 'com.foo']",
    "[app:cert.sha256 = 'abc']",
    "[file:hashes.IN = 'x']",
    "[file:hashes.sha256 = 'abc']",
    f"[file:hashes.'SHA-256' == '{SHA256}']",
    f"[file:hashes.'SHA-256' != '{SHA256[:-2]}']",
    "[file:hashes.'it\\'s' = 'x']",
    f"[x-y:hashes.MD5 = '{MD5}']",
    f"[file:hashes.md5 = '{MD5}{MD5}']",
    f"[file:hashes.MD5 = '{MD5}' ]",
    f"[file:hashes . MD5 = '{MD5}']",
    "[configuration-profile:id = 'x']",
    "[android-property:name = 'ro.x']",
    "[network-traffic:dst_ref.value ISSUBSET '100.64.0.0/24' AND network-traffic:dst_port = 443]",
    "[domain-name:value LIKE '%.zq.com']",
    "[url:value MATCHES '^https?://[a-z]+/x$']",
    "([domain-name:value = 'a'] FOLLOWEDBY [url:value = 'b']) WITHIN 60 SECONDS",
    "[file:name = 'a'] AND [file:name = 'b'] OR [file:name = 'c']",
    "[file:size > 100000 AND file:size <= 5]",
    "[file:name = 'a' AND (file:name = 'b' OR file:size < -1)]",
    "[x-custom:x_path.'with space'.y[*].z = 'v']",
    "[windows-registry-key:values[*].name = 'x']",
    "[file:extensions.'windows-pebinary-ext'.sections[0].entropy > 7.5]",
    "[email-message:from_ref.value = 'a@b.c']",
    "[process:name NOT = 'x']",
    "[process:name NOT IN ('a', 'b')]",
    "[a:b IN ()]",
    "[a:b IN ('a', 1, -2, 1.5, true, t'2020-01-01T00:00:00Z', h'0a', b'YQ==')]",
    "[a:b = true] [a:c = false]",
    "[EXISTS a:b]",
    "[a:b = 'it\\'s' AND a:c = 'back\\\\slash']",
    "[a:b = 'bad \\n escape']",
    "[a:b = t'2020-02-31T00:00:00Z']",
    "[a:b = t'2020-13-01T00:00:00Z']",
    "[a:b = t'2020-01-01T00:00:60.123Z']",
    "[a:b = t'2020-01-01T00:00:00']",
    "[a:b = h'0a0B']",
    "[a:b = h'0']",
    "[a:b = b'YWJj']",
    "[a:b = b'YQ']",
    "[a:b = b'']",
    "[a:b = +1] WITHIN +5 SECONDS",
    "[a:b = 1] WITHIN 5.5 SECONDS REPEATS 2 TIMES",
    "[a:b = 1] START t'2020-01-01T00:00:00Z' STOP t'2020-02-01T00:00:00Z'",
    "[a:b = 1] START '2020-01-01T00:00:00Z' STOP '2020-02-01T00:00:00Z'",
    "[a:b = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS",
    "([a:b = 1]) WITHIN 5 SECONDS WITHIN 6 SECONDS",
    "[a:b = 1] REPEATS 2 TIMES WITHIN 1 SECONDS REPEATS 3 TIMES",
    "([a:b = 1] WITHIN 1 SECONDS) WITHIN 2 SECONDS",
    "[a:b = 1] AND [c:d = 2] WITHIN 1 SECONDS",
    # hash inspections
    "[file:hashes.'SHA-256' = 'abc']",
    f"[file:hashes.'SHA-256' = '{SHA256.upper()}']",
    f"[file:hashes.'SHA-256' = '{SHA256}0']",
    f"[file:hashes.MD5 = '{SHA256}']",
    f"[file:hashes.'md5' = '{MD5}']",
    f"[file:hashes.'SHA-512' = '{SHA256}{SHA256}']",
    f"[file:hashes.'SHA3-256' = '{SHA256}']",
    "[file:hashes.SSDEEP = '3:a+b:c']",
    "[file:hashes.SSDEEP = 'not ssdeep!']",
    "[file:hashes.'x-custom' = 'anything']",
    f"[file:hashes.'SHA-256' IN ('{SHA256}')]",
    f"[file:hashes.'SHA-256' LIKE '{SHA256}']",
    "[file:hashes.'SHA-256' = 12]",
    "[file:hashes[*] = 'x']",
    "[file:hashes[0] = 'x']",
    "[file:hashes.MD5[0] = 'x']",
    f"[file:x.hashes.'SHA-1' = '{SHA1}']",
    f"[artifact:payload.hashes.'SHA-1' != '{SHA1[:-1]}']",
    "[a:b[-1] = 1]",
    "[EXISTS a:b[-1]]",
    # keywords, identifiers, literals at token boundaries
    "[AND:value = 'x']",
    "[true:value = 'x']",
    "[x:IN = 'x']",
    "[x:value = 'x' AND]",
    "[a:b = 5AND a:c = 1]",
    "[a:b = 01]",
    "[a:b = 1.]",
    "[a:b = .5]",
    "[a:b = -.5]",
    "[a:b = 1e5]",
    "[a:b = truex]",
    "[a:b = 'x'] and [a:c = 'y']",
    "[a:b.5 = 1]",
    "[a-b:c = 1]",
    "[a:b-c = 1]",
    "[_a:_b = 1]",
    "[a:'b' = 1]",
    "[a:b = 'x']//comment",
    "/* lead */ [a:b = 'x']",
    "[a:b /* in */ = 'x']",
    "\u00a0[a:b = 'x']",
    "[a:b\u2003= 'x']",
    "\t[a:b = 'x']\n",
    "  (  [a:b = 'x'] )  ",
    "(([a:b = 'x']))",
    # broken
    "",
    " ",
    "(",
    "[",
    "]",
    "[]",
    "[a:b = 'x'",
    "a:b = 'x']",
    "[a:b = 'x']]",
    "[[a:b = 'x']]",
    "[a:b = 'x')",
    "[a:b == 'x']",
    "[a:b <> 'x']",
    "[a:b =! 'x']",
    "[a:b => 'x']",
    "[a:b = 'x] ",
    "[a:b = 'x\\']",
    "[a:b 'x']",
    "[a b = 'x']",
    "[a:b = x]",
    "[a:b = \"x\"]",
    "[a:b = 'x'] FOLLOWEDBY",
    "[a:b = 'x'] WITHIN SECONDS",
    "[a:b = 'x'] WITHIN -5 SECONDS",
    "[a:b = 'x'] REPEATS 1.5 TIMES",
    "[a:b LIKE 5]",
    "[a:b ISSUBSET ('a')]",
    "[a:b > true]",
    "[a:b IN ('a',)]",
    "[a:b IN 'a']",
    "[a:b = 'x'] $",
    "[a:b = 'x'] +",
]


@pytest.mark.parametrize("pattern", CORPUS)
def test_corpus_same_decision_as_reference(pattern: str) -> None:
    assert_same(pattern)


def test_known_answers() -> None:
    # Fixed points, so a change in the reference itself shows up here too.
    assert check_pattern("[app:id = 'com.foo']") is None
    assert check_pattern(f"[file:hashes.'SHA-256' = '{SHA256}']") is None
    reason = check_pattern("[file:hashes.'SHA-256' = 'abc']")
    assert reason is not None and "SHA-256" in reason
    assert check_pattern("[a:b = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS") is not None
    assert check_pattern("[a:b = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS", "2.0") is None  # no such rule in 2.0
    assert check_pattern("[EXISTS a:b]", "2.0") is not None
    assert check_pattern("") is not None
    assert check_pattern("[a:b[-1] = 1]") is not None  # the reference raises on it
    assert check_pattern(None) is not None  # type: ignore[arg-type]


def test_deep_nesting_gives_an_answer_not_an_exception() -> None:
    for depth in (50, 3000):
        assert_same("(" * depth + "[a:b = 1]" + ")" * depth)
        assert_same("[" + "(" * depth + "a:b = 1" + ")" * depth + "]")


def test_common_shapes_do_not_need_the_antlr_validator(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path alone accepts the everyday shapes (without it, there is no speed-up)."""

    def refuse(*args, **kwargs):
        raise AssertionError("reference validator called")

    monkeypatch.setattr(patterns_module, "run_validator", refuse)
    for pattern in real_patterns() + [
        f"[file:hashes.'SHA-256' = '{SHA256}' OR file:hashes.MD5 = '{MD5}']",
        "[network-traffic:dst_ref.value = '198.18.0.1' AND network-traffic:dst_port = 8443]",
        "([url:value = 'http://a.example/x'] FOLLOWEDBY [file:name = 'b.exe']) WITHIN 300 SECONDS",
        "[ipv4-addr:value ISSUBSET '100.64.0.0/24']",
    ]:
        assert check_pattern(pattern) is None, pattern


# --------------------------------------------------------------------------- generated patterns

_SPACE = st.sampled_from(["", " ", " ", "  ", "\t", "\n", "\u00a0"])
_TYPES = st.sampled_from(["file", "domain-name", "ipv4-addr", "url", "x-foo", "app", "a", "t", "AND", "true", "x-"])
_FIRST = st.sampled_from(["value", "name", "hashes", "id", "extensions", "x_y", "IN", "'quoted key'", "'hashes'"])
_STEP = st.sampled_from(
    [".MD5", ".'SHA-256'", ".sha256", ".'SHA-1'", ".SHA512", ".'SHA3-256'", ".SSDEEP", ".'x'", ".y",
     "[*]", "[0]", "[12]", "[-1]", "[+1]", ".hashes", ".5", ". z"]
)
_HEXLEN = st.sampled_from([0, 1, 31, 32, 33, 40, 56, 64, 96, 128, 129])


@st.composite
def _string_literal(draw) -> str:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        body = "".join(draw(st.sampled_from("0123456789abcdefABCDEFg")) for _ in range(draw(_HEXLEN)))
    elif kind == 1:
        body = draw(st.text(st.sampled_from("ab.-_/%:?=* \\'\"\n"), max_size=12))
        body = body.replace("\\", "\\\\").replace("'", "\\'")
    elif kind == 2:
        body = draw(st.text(max_size=8))
    else:
        body = draw(st.sampled_from(["it\\'s", "a\\\\b", "bad\\n", "com.foo", "3:a+b:c", "x'y"]))
    return "'" + body + "'"


_LITERAL = st.one_of(
    _string_literal(),
    st.integers(-1000, 100000).map(str),
    st.sampled_from(["+1", "-0", "01", "1.5", "-.5", ".5", "1.", "true", "false", "True",
                     "t'2020-01-01T00:00:00Z'", "t'2020-02-30T23:59:60.5Z'", "t'2020-01-01T24:00:00Z'",
                     "h'0a'", "h'0'", "b'YQ=='", "b'YWJj'", "b''"]),
)
_OP = st.sampled_from(["=", "==", "!=", "<>", "<", "<=", ">", ">=", "NOT =", "LIKE", "MATCHES", "ISSUBSET",
                       "ISSUPERSET", "NOT LIKE", "IN", "NOT IN", "=<", "like"])


@st.composite
def _comparison(draw) -> str:
    sp = draw(_SPACE)
    path = draw(_TYPES) + ":" + draw(_FIRST) + "".join(draw(st.lists(_STEP, max_size=3)))
    if draw(st.integers(0, 12)) == 0:
        return f"EXISTS {path}"
    op = draw(_OP)
    if op.endswith("IN") and draw(st.booleans()):
        value = "(" + ", ".join(draw(st.lists(_LITERAL, max_size=3))) + ")"
    else:
        value = draw(_LITERAL)
    return f"{path}{sp}{op}{draw(_SPACE)}{value}"


@st.composite
def _comparison_expression(draw) -> str:
    parts = [draw(_comparison())]
    for _ in range(draw(st.integers(0, 3))):
        parts.append(draw(st.sampled_from([" AND ", " OR ", " and ", "AND"])))
        parts.append(draw(_comparison()))
    text = "".join(parts)
    if draw(st.integers(0, 5)) == 0:
        text = f"({text})"
    return text


_QUALIFIER = st.sampled_from(
    ["", "", "", " WITHIN 60 SECONDS", " WITHIN 1.5 SECONDS", " REPEATS 2 TIMES",
     " START t'2020-01-01T00:00:00Z' STOP t'2020-01-02T00:00:00Z'", " WITHIN 5 SECONDS WITHIN 5 SECONDS"]
)


@st.composite
def _pattern(draw) -> str:
    observations = []
    for _ in range(draw(st.integers(1, 3))):
        obs = "[" + draw(_SPACE) + draw(_comparison_expression()) + draw(_SPACE) + "]" + draw(_QUALIFIER)
        if draw(st.integers(0, 4)) == 0:
            obs = "(" + obs + ")" + draw(_QUALIFIER)
        observations.append(obs)
    glue = draw(st.sampled_from([" AND ", " OR ", " FOLLOWEDBY "]))
    text = glue.join(observations)
    # Mutations: the broken patterns real feeds also contain.
    for _ in range(draw(st.integers(0, 2))):
        if not text:
            break
        at = draw(st.integers(0, len(text) - 1))
        action = draw(st.integers(0, 2))
        char = draw(st.sampled_from(list("[]()'\\:.=<>!,*+- aZ0_/\"")))
        if action == 0:
            text = text[:at] + text[at + 1:]
        elif action == 1:
            text = text[:at] + char + text[at:]
        else:
            text = text[:at] + char + text[at + 1:]
    return text


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_pattern())
def test_generated_patterns_same_decision_as_reference(pattern: str) -> None:
    assert_same(pattern)


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(list("[]()'\\:.=<>!,*+- abtZ01_/\"h")), max_size=30))
def test_random_text_same_decision_as_reference(text: str) -> None:
    assert_same(text)
