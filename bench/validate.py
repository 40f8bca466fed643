"""Throughput of Accord's STIX validators against the references they must agree with.

Prints objects/s for ``accord.stix.validate.check_object`` vs ``stix2.parse(allow_custom=True)``, and
patterns/s for ``accord.stix.patterns.check_pattern`` vs the ANTLR validator of stix2-patterns, with
the number of accept/reject disagreements (expected: 0).

    PYTHONPATH=src .venv/bin/python bench/validate.py [FILE_OR_DIR ...] [--reference-sample N]

Inputs: STIX bundles (``.json``/``.stix2``), JSON lines (``.jsonl``, one object a line), or
directories of them; a workload directory from ``gen_workload.py`` is read through its
``indicators.jsonl``. Default: the real files in ``tests/data/stix``. The references are slow (about
a thousand objects/s); ``--reference-sample N`` times them and compares decisions on every k-th
object only (default: all objects).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import stix2
from stix2patterns.validator import run_validator

from accord.stix.patterns import check_pattern
from accord.stix.validate import check_object

DEFAULT_DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "stix"


def _objects_in(path: Path) -> list[dict]:
    if path.is_dir():
        if (path / "indicators.jsonl").is_file():
            return _objects_in(path / "indicators.jsonl")
        found: list[dict] = []
        for child in sorted(path.iterdir()):
            if child.suffix in (".json", ".stix2", ".jsonl"):
                found += _objects_in(child)
        return found
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as lines:
            return [json.loads(line) for line in lines if line.strip()]
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, list):
        return data
    return data.get("objects", [data]) if data.get("type") == "bundle" else [data]


def _in_scope(obj: dict) -> bool:
    """STIX 2.1 objects: where check_object promises stix2's decision (others always get a reason)."""
    if not isinstance(obj.get("type"), str):
        return False
    if "spec_version" in obj:
        return obj["spec_version"] == "2.1"
    return "id" in obj and obj["type"] in stix2.v21.OBJ_MAP_OBSERVABLE


def _reference_object(obj: dict) -> bool:
    try:
        stix2.parse(obj, allow_custom=True)
    except Exception:
        return False
    return True


def _reference_pattern(pattern: str) -> bool:
    try:
        return not run_validator(pattern, "2.1")
    except Exception:
        return False


def _timed(check, items: list, min_seconds: float = 1.0) -> tuple[list[bool], float]:
    """Decisions of ``check`` on ``items`` and its seconds per pass (passes repeated on small inputs)."""
    start = time.perf_counter()
    decisions = [check(item) is None for item in items]
    elapsed = time.perf_counter() - start
    passes = 1
    while elapsed < min_seconds and items:
        for item in items:
            check(item)
        passes += 1
        elapsed = time.perf_counter() - start
    return decisions, elapsed / passes


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>12,.0f}/s" if seconds > 0 else "         n/a"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", type=Path, help="files or directories (default: tests/data/stix)")
    parser.add_argument("--reference-sample", type=int, default=0, metavar="N",
                        help="run the slow references on about N objects only (default: all)")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")

    objects: list[dict] = []
    for path in args.paths or [DEFAULT_DATA]:
        objects += _objects_in(path)
    out_of_scope = sum(1 for o in objects if not (isinstance(o, dict) and _in_scope(o)))
    objects = [o for o in objects if isinstance(o, dict) and _in_scope(o)]
    patterns = [o["pattern"] for o in objects if o.get("type") == "indicator" and isinstance(o.get("pattern"), str)
                and o.get("pattern_type") == "stix"]
    step = max(1, len(objects) // args.reference_sample) if args.reference_sample else 1
    sample = objects[::step]
    pattern_step = max(1, len(patterns) // args.reference_sample) if args.reference_sample else 1
    pattern_sample = patterns[::pattern_step]
    print(f"{len(objects):,} STIX 2.1 objects ({out_of_scope:,} others skipped: STIX 2.0, not objects), "
          f"{len(patterns):,} STIX patterns; references run on {len(sample):,} objects, "
          f"{len(pattern_sample):,} patterns")

    ours, ours_s = _timed(check_object, objects)
    start = time.perf_counter()
    theirs = [_reference_object(o) for o in sample]
    theirs_s = time.perf_counter() - start
    disagree = [o for o, a, b in zip(sample, ours[::step], theirs, strict=True) if a != b]
    print(f"check_object   {_rate(len(objects), ours_s)}   accepted {sum(ours):,} of {len(objects):,}")
    print(f"stix2.parse    {_rate(len(sample), theirs_s)}   accepted {sum(theirs):,} of {len(sample):,}")
    print(f"object disagreements: {len(disagree)}")
    for obj in disagree[:5]:
        print("   ", obj.get("id"), check_object(obj))

    ours_p, ours_p_s = _timed(check_pattern, patterns)
    start = time.perf_counter()
    theirs_p = [_reference_pattern(p) for p in pattern_sample]
    theirs_p_s = time.perf_counter() - start
    disagree_p = [p for p, a, b in zip(pattern_sample, ours_p[::pattern_step], theirs_p, strict=True) if a != b]
    print(f"check_pattern  {_rate(len(patterns), ours_p_s)}   accepted {sum(ours_p):,} of {len(patterns):,}")
    print(f"ANTLR validate {_rate(len(pattern_sample), theirs_p_s)}   accepted {sum(theirs_p):,} "
          f"of {len(pattern_sample):,}")
    print(f"pattern disagreements: {len(disagree_p)}")
    for pattern in disagree_p[:5]:
        print("   ", pattern, check_pattern(pattern))
    return 1 if disagree or disagree_p else 0


if __name__ == "__main__":
    sys.exit(main())
