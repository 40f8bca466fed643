"""accord.detect.matches gives stix2-matcher's answers on stix2-matcher's own test suite.

tests/data/detect/reference_cases.json holds every call the stix2-matcher 3.0.0 tests make to
``match`` (pattern, observed data, version) with the reference's outcome — match, no match, or an
exception — recorded by tests/data/detect/harvest_reference_cases.py. The cases are stix2-matcher's
(BSD-3-Clause, Copyright (c) 2016, OASIS Open; tests/data/detect/LICENSE-stix2-matcher.txt).

Accord's contract: the same truth value; PatternError where stix2-patterns' validator rejects the
pattern (the reference matcher skips the validator's checks, e.g. duplicate REPEATS qualifiers);
MatchError or PatternError where the reference raises.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from stix2patterns.validator import validate

from accord.detect import MatchError, PatternError, matches

CASES = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "detect" / "reference_cases.json").read_text("utf-8")
)


def validator_accepts(pattern: str, version: str) -> bool:
    try:
        return validate(pattern, version, ret_errs=True, print_errs=False)[0]
    except Exception:
        return False


def test_the_recorded_suite_is_complete_enough() -> None:
    outcomes = {c["outcome"] for c in CASES}
    assert len(CASES) > 800 and outcomes == {"match", "nomatch", "raise"}
    assert {c["stix_version"] for c in CASES} == {"2.0", "2.1"}


@pytest.mark.parametrize("case", CASES, ids=[f"{c['stix_version']}:{c['pattern'][:70]}" for c in CASES])
def test_same_outcome_as_the_reference(case: dict) -> None:
    pattern, data, version = case["pattern"], case["observed_data"], case["stix_version"]
    if not validator_accepts(pattern, version):
        with pytest.raises(PatternError):
            matches(pattern, data, version)
        return
    if case["outcome"] == "raise":
        with pytest.raises((MatchError, PatternError)):
            matches(pattern, data, version)
    else:
        assert matches(pattern, data, version) is (case["outcome"] == "match")
