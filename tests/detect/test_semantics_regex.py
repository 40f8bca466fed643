"""Where accord.detect deliberately differs from stix2-matcher, and that the difference is exactly the
documented one: MATCHES runs on RE2 (linear time) where the reference uses Python's ``re``, and
ISSUBSET / ISSUPERSET also answer for IPv6, where the reference raises."""

from __future__ import annotations

import time

import pytest
from stix2matcher.matcher import match as reference_match

from accord.detect import MatchError, PatternError, matches

# the reference's Python re warns about "[[:alpha:]]" (a possible nested set): that is the point
pytestmark = pytest.mark.filterwarnings("ignore:Possible nested set:FutureWarning")


def observed(value: object) -> list[dict]:
    return [
        {
            "type": "observed-data",
            "first_observed": "2020-01-01T00:00:00Z",
            "last_observed": "2020-01-01T00:00:00Z",
            "number_observed": 1,
            "objects": {"0": {"type": "x", "v": value}},
        }
    ]


def reference(pattern: str, value: object) -> bool | str:
    try:
        return bool(reference_match(pattern, observed(value)))
    except Exception:
        return "raises"


# (pattern, value, Accord's answer, the reference's answer): RE2 vs Python re on regexes both accept
DIFFERENCES = [
    # $ is the very end in RE2; Python's $ also matches before a final newline
    ("[x:v MATCHES 'abc$']", "abc\n", False, True),
    # \d \w \b are ASCII in RE2, Unicode in Python
    ("[x:v MATCHES '^\\\\d+$']", "\u0663\u0664", False, True),
    ("[x:v MATCHES '\\\\w']", "\u00e9", False, True),
    ("[x:v MATCHES '\\\\bfoo']", "\u00e9foo", True, False),
    # case folding: Python folds U+0130 (capital I with dot) to i, RE2 does not
    ("[x:v MATCHES '(?i)\u0130']", "i", False, True),
    # POSIX classes: a class in RE2, a bracket set of the characters "[:alph" followed by "]" in Python
    ("[x:v MATCHES '[[:alpha:]]']", ":]", False, True),
    ("[x:v MATCHES '^[[:alpha:]]$']", "b", True, False),
    # IPv6: the reference knows only IPv4 and raises
    ("[x:v ISSUBSET '2001:db8::/32']", "2001:db8::1", True, "raises"),
    ("[x:v ISSUPERSET '2001:db8::1']", "2001:db8::/48", True, "raises"),
    ("[x:v ISSUBSET '2001:db8::/32']", "2001:db9::1", False, "raises"),
    ("[x:v ISSUBSET '10.0.0.0/8']", "::ffff:10.0.0.1", False, "raises"),  # mixed families: not contained
]

SAME = [
    # LIKE is built so that it keeps Python's $ (optional final newline) and . (no newline)
    ("[x:v LIKE 'abc']", "abc\n", True),
    ("[x:v LIKE 'a%c']", "a\nc", False),
    ("[x:v LIKE 'a_c']", "a\u00e9c", True),
    ("[x:v LIKE '%.%']", "", False),
    ("[x:v LIKE '%o%']", "foo\n", True),
    ("[x:v LIKE '%o']", "o\no", False),
    ("[x:v LIKE 'fo%']", "fo\n", True),
    ("[x:v MATCHES '^a.c']", "a\nc", False),
    ("[x:v MATCHES 'f\u00f6o']", "fo\u0308o", True),  # both sides NFC-normalised
    ("[x:v ISSUBSET '10.0.0.0/8']", "10.1.2.3", True),
    ("[x:v ISSUBSET '10.0.0.0/8']", "10.1", True),  # inet_aton's short forms, as the reference reads them
]


@pytest.mark.parametrize(("pattern", "value", "accord", "ref"), DIFFERENCES)
def test_documented_differences(pattern: str, value: str, accord: bool, ref: bool | str) -> None:
    assert reference(pattern, value) == ref
    assert matches(pattern, observed(value), "2.0") is accord


@pytest.mark.parametrize(("pattern", "value", "expected"), SAME)
def test_same_as_the_reference(pattern: str, value: str, expected: bool) -> None:
    assert reference(pattern, value) is expected
    assert matches(pattern, observed(value), "2.0") is expected


def test_what_re2_cannot_run_is_refused_by_name() -> None:
    for regex in ("(a)\\\\1", "(?=a)", "(?<!a)b", "a++"):
        with pytest.raises(PatternError, match="cannot run on RE2"):
            matches(f"[x:v MATCHES '{regex}']", observed("a"), "2.0")


def test_regexes_python_cannot_compile_fail_as_in_the_reference() -> None:
    for regex in ("\\\\pL", "\\\\z", "a{2,1}"):
        pattern = f"[x:v MATCHES '{regex}']"
        assert reference(pattern, "a") == "raises"
        with pytest.raises(MatchError):
            matches(pattern, observed("a"), "2.0")


def test_a_catastrophic_regex_for_python_is_linear_on_re2() -> None:
    value = "a" * 5000 + "!"
    started = time.perf_counter()
    assert matches("[x:v MATCHES '^(a+)+$']", observed(value), "2.0") is False
    assert time.perf_counter() - started < 1.0
