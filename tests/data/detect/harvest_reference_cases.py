"""Regenerate reference_cases.json: every call the stix2-matcher 3.0.0 test suite makes to
``stix2matcher.matcher.match`` (pattern, observed data, STIX version) with the reference's answer.

Run once, by hand, from the repository root: ``.venv/bin/python tests/data/detect/harvest_reference_cases.py``.
It runs the reference's own tests (shipped in the installed package) with ``match`` wrapped so that
each call is recorded; the tests in tests/detect replay the recorded cases through accord.detect
without importing the reference's test modules. The cases are stix2-matcher's (BSD-3-Clause,
Copyright (c) 2016, OASIS Open); see LICENSE-stix2-matcher.txt next to this file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import stix2matcher
import stix2matcher.matcher as matcher

HERE = Path(__file__).resolve().parent
cases: list[dict] = []
real_match = matcher.match


def recording_match(pattern, observed_data_sdos, verbose=False, stix_version=stix2matcher.DEFAULT_VERSION):
    case = {
        "pattern": pattern,
        "observed_data": json.loads(json.dumps(observed_data_sdos)),
        "stix_version": stix_version,
    }
    try:
        result = real_match(pattern, observed_data_sdos, verbose, stix_version)
    except Exception as exc:
        case["outcome"] = "raise"
        case["error"] = f"{type(exc).__name__}: {exc}"
        cases.append(case)
        raise
    case["outcome"] = "match" if result else "nomatch"
    cases.append(case)
    return result


class Recorder:
    def pytest_collection_modifyitems(self, items):
        for item in items:
            module = item.module
            if getattr(module, "match", None) is real_match:
                module.match = recording_match


if __name__ == "__main__":
    tests = Path(matcher.__file__).resolve().parent / "test"
    code = pytest.main(["-q", "-p", "no:cacheprovider", str(tests)], plugins=[Recorder()])
    unique = {json.dumps(c, sort_keys=True): c for c in cases}
    out = HERE / "reference_cases.json"
    out.write_text(json.dumps(list(unique.values()), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(unique)} cases written to {out} (pytest exit {code})")
    sys.exit(0)
