"""Detection benchmark on the shared workload: compile time, sweep events/s (one process and all cores),
peak memory and exactness against truth.json, beside the anchors (grep -F -f, orjson parsing alone,
the OASIS reference matcher on a sample, extrapolated).

Make the workload first (../shared/bench/README.md):

    python3 ../shared/bench/gen_workload.py --out /tmp/wl --seed 42 --n-atomic 100000 --n-rich 1000 \\
        --n-events 1000000 --hit-rate 0.001
    .venv/bin/python bench/detect.py /tmp/wl

It prints figures; it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent


def rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_indicators(wl: Path) -> list[dict]:
    with open(wl / "indicators.jsonl", "rb") as fh:
        return [orjson.loads(line) for line in fh if line.strip()]


def expected(wl: Path) -> tuple[set, set, set]:
    truth = json.loads((wl / "truth.json").read_text())
    hits = {((line + 1,), ind) for line, ind in truth["atomic_hits"]}
    hits |= {(tuple(n + 1 for n in lines), ind) for ind, lines in truth["rich_hits"]}
    controls = {(tuple(n + 1 for n in lines), ind) for ind, lines, _why in truth["negative_controls"]}
    decoys = {line + 1 for line, _why, _v in truth["decoys"]}
    return hits, controls, decoys


def exactness(found: list, want: set, controls: set, decoys: set) -> dict:
    got = {(tuple(h.lines), h.indicator) for h in found}
    return {
        "planted": len(want),
        "found": len(got & want),
        "missed": len(want - got),
        "not_planted": len(got - want),
        "negative_controls_hit": len(got & controls),
        "decoys_hit": sum(1 for lines, _ in got if decoys.intersection(lines)),
        "exact": want <= got and not (got & controls) and not any(decoys.intersection(lines) for lines, _ in got),
    }


def anchor_grep(wl: Path, want: set, decoys: set) -> dict | None:
    grep = shutil.which("grep")
    if not grep:
        return None
    t = time.perf_counter()
    proc = subprocess.run([grep, "-n", "-F", "-f", str(wl / "ioc_values.txt"), str(wl / "events.jsonl")],
                          env={**os.environ, "LC_ALL": "C"}, capture_output=True, check=False)  # fmt: skip
    secs = time.perf_counter() - t
    lines = {int(x.split(b":", 1)[0]) for x in proc.stdout.splitlines() if x}
    planted_lines = {n for ls, _ in want for n in ls}
    return {"seconds": round(secs, 2), "lines_reported": len(lines), "decoys_reported": len(lines & decoys),
            "planted_lines_missed": len(planted_lines - lines)}  # fmt: skip


def anchor_orjson(wl: Path) -> float:
    t = time.perf_counter()
    n = 0
    with open(wl / "events.jsonl", "rb") as fh:
        for line in fh:
            orjson.loads(line)
            n += 1
    return n / (time.perf_counter() - t)


def anchor_reference(wl: Path, indicators: list[dict], sample: int, seed: int) -> dict | None:
    try:
        from stix2matcher.matcher import Pattern as RefPattern
    except ImportError:
        return None
    sys.path.insert(0, str(wl))
    gen = None
    for candidate in (wl / "gen_workload.py", HERE.parent.parent / "shared" / "bench" / "gen_workload.py"):
        if candidate.exists():
            import importlib.util

            spec = importlib.util.spec_from_file_location("gen_workload", candidate)
            gen = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(gen)  # type: ignore[union-attr]
            break
    if gen is None:
        return {"note": "gen_workload.py not found beside the workload: reference anchor skipped"}
    with open(wl / "events.jsonl", "rb") as fh:
        events = [orjson.loads(line) for _, line in zip(range(200_000), fh, strict=False)]
    rng = random.Random(seed)
    picks = rng.sample(range(len(events)), sample)
    t = time.perf_counter()
    compiled = [RefPattern(ind["pattern"], "2.1") for ind in indicators]
    parse_secs = time.perf_counter() - t
    t = time.perf_counter()
    for idx in picks:
        bundle = gen.event_to_bundle(events[idx], idx)
        for p in compiled:
            p.match([bundle])
    per_event = (time.perf_counter() - t) / sample
    return {"sample_events": sample, "parse_seconds": round(parse_secs, 1), "seconds_per_event": round(per_event, 2),
            "events_per_second_extrapolated": round(1 / per_event, 3)}  # fmt: skip


def synthetic_indicators(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    letters = "abcdefghijklmnopqrstuvwxyz0123456789"
    for i in range(n):
        kind = i % 4
        if kind == 0:
            name = "".join(rng.choices(letters, k=12))
            pat = f"[domain-name:value = '{name}.{rng.choice(['com', 'net', 'ru'])}']"
        elif kind == 1:
            pat = f"[ipv4-addr:value = '{'.'.join(str(rng.randint(1, 254)) for _ in range(4))}']"
        elif kind == 2:
            pat = f"[file:hashes.'SHA-256' = '{rng.getrandbits(256):064x}']"
        else:
            pat = f"[url:value = 'http://{''.join(rng.choices(letters, k=10))}.example/{rng.getrandbits(40)}']"
        out.append({"type": "indicator", "id": f"indicator--{i:08x}-0000-4000-8000-{i:012x}", "pattern": pat,
                    "pattern_type": "stix", "spec_version": "2.1"})  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workload", type=Path)
    ap.add_argument("--map", type=Path, default=HERE / "workload.map.toml")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes for the all-cores run")
    ap.add_argument("--reference-sample", type=int, default=2, help="events for the reference matcher (0: skip)")
    ap.add_argument("--no-grep", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="sweeps per configuration; the best is reported")
    ap.add_argument(
        "--memory-indicators",
        type=int,
        default=0,
        help="also compile this many synthetic atomic indicators and report memory (e.g. 1000000)",
    )
    a = ap.parse_args()

    from accord.detect import compile as compile_matcher
    from accord.detect.rawfilter import cache_dir, wait_for_merges
    from accord.detect.readers import sniff
    from accord.detect.sweep import sweep_file

    wl = a.workload
    indicators = load_indicators(wl)
    want, controls, decoys = expected(wl)
    events_path = str(wl / "events.jsonl")
    print(f"workload {wl}: {len(indicators):,} indicators, {os.path.getsize(events_path) / 1e6:,.0f} MB of events")

    with tempfile.TemporaryDirectory() as cold:
        os.environ["ACCORD_CACHE_DIR"] = cold
        gc.collect()
        t = time.perf_counter()
        matcher = compile_matcher(indicators)
        parser = sniff(events_path, "jsonl", a.map)
        rf = matcher.raw_filter(parser.verbatim)
        cold_secs = time.perf_counter() - t
        t = time.perf_counter()
        matcher_parse_only = compile_matcher(indicators)
        parse_secs = time.perf_counter() - t
        del matcher_parse_only
        t = time.perf_counter()
        wait_for_merges()  # the merged database a first compile builds in the background
        merge_secs = parse_secs + time.perf_counter() - t
    os.environ.pop("ACCORD_CACHE_DIR")
    compile_matcher(indicators).raw_filter(parser.verbatim)  # fill the user cache
    wait_for_merges()
    t = time.perf_counter()
    matcher = compile_matcher(indicators)
    rf = matcher.raw_filter(parser.verbatim)
    warm_secs = time.perf_counter() - t
    print(f"compile: {len(matcher):,} indicators ({len(matcher.observations):,} distinct observations, "
          f"{len(matcher.rejected)} rejected): parse+index {parse_secs:.2f} s; with the Hyperscan database "
          f"cold {cold_secs:.2f} s (its merged database ready {merge_secs:.1f} s later, in the background), "
          f"warm (cached in {cache_dir()}) {warm_secs:.2f} s; "
          f"pre-filter {'on' if rf is not None else 'off'}")  # fmt: skip
    print(f"memory after compile: RSS {rss_mib():,.0f} MiB")

    # Compiling Hyperscan databases takes gigabytes for a while, which can push the log out of the page
    # cache; read it once so the sweeps measure matching, not this machine's disk.
    with open(events_path, "rb") as fh:
        while fh.read(8 << 20):
            pass
    results = {}
    for label, workers in (("1 process", 1), (f"{a.workers} processes", a.workers)):
        rates = []
        for _ in range(a.repeat):
            t = time.perf_counter()
            hits, stats = sweep_file(matcher, events_path, parser, workers=workers)
            secs = time.perf_counter() - t
            rates.append(stats.lines / secs)
        ex = exactness(hits, want, controls, decoys)
        results[label] = (max(rates), ex)
        runs = ", ".join(f"{r:,.0f}" for r in rates)
        print(f"sweep, {label}: {stats.lines:,} events, best of {a.repeat} runs {max(rates):,.0f} events/s "
              f"(runs: {runs}); parsed {stats.parsed:,} candidate lines; hits {len(hits):,}; "
              f"exactness {ex}")  # fmt: skip
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory: this process {peak_mib():,.0f} MiB, largest worker {children:,.0f} MiB")

    print("anchors:")
    print(f"  orjson parsing alone: {anchor_orjson(wl):,.0f} events/s")
    if not a.no_grep:
        g = anchor_grep(wl, want, decoys)
        if g:
            print(f"  LC_ALL=C grep -F -f ioc_values.txt: {1_000_000 / g['seconds'] if g['seconds'] else 0:,.0f} "
                  f"events/s ({g})")  # fmt: skip
    if a.reference_sample:
        ref = anchor_reference(wl, indicators, a.reference_sample, 7)
        if ref:
            print(f"  stix2-matcher (reference), EXTRAPOLATED from {a.reference_sample} sampled events: {ref}")

    if a.memory_indicators:
        del matcher, rf
        gc.collect()
        base = rss_mib()
        synth = synthetic_indicators(a.memory_indicators, 1)
        with_list = rss_mib()
        t = time.perf_counter()
        big = compile_matcher(synth)
        big_rf = big.raw_filter(parser.verbatim)
        secs = time.perf_counter() - t
        print(f"{a.memory_indicators:,} synthetic indicators: compile {secs:.1f} s (cold database unless cached); "
              f"RSS {rss_mib():,.0f} MiB total, matcher alone ≈ {rss_mib() - with_list:,.0f} MiB "
              f"(indicator dicts {with_list - base:,.0f} MiB); pre-filter {'on' if big_rf else 'off'}")  # fmt: skip
        # Its merged database is built by a detached process; wait for it, so that a run started next does
        # not share the cores with it unawares.
        t = time.perf_counter()
        wait_for_merges(timeout=900)
        print(f"  its merged database was built in the background {secs + time.perf_counter() - t:.0f} s after "
              "the compile began")  # fmt: skip


if __name__ == "__main__":
    main()
