"""Device-check benchmark: 100,000 device artefacts against every spyware indicator shipped with Accord
plus 100,000 other indicators, through the same path as ``accord check-device`` (artefact list read,
indicators compiled by ``accord.detect``, every artefact scanned, findings correlated, report built).

    .venv/bin/python bench/device_check.py                       # synthetic other indicators
    .venv/bin/python bench/device_check.py --workload /tmp/wl    # the shared workload's indicators

(``/tmp/wl`` made by ``python3 ../shared/bench/gen_workload.py --out /tmp/wl --seed 42 --n-atomic 100000
--n-rich 1000 --n-events 100000 --hit-rate 0.001``.) It prints figures; it asserts nothing. The aim is
under 5 seconds for the whole check (``device_check_total``, wall clock; ``device_check_cpu`` is the
processor time it used, which a busy machine does not inflate).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import orjson

from accord.spyware import check, report, seed
from accord.spyware.registry import Registry

STAMP = "2024-01-01T00:00:00.000Z"


def _other_indicators(workload: Path | None, n: int, rng: random.Random) -> list[dict]:
    out: list[dict] = []
    if workload is not None:
        with (workload / "indicators.jsonl").open("rb") as fh:
            for line in fh:
                if len(out) >= n:
                    break
                out.append(orjson.loads(line))
        return out
    for i in range(n):
        kind = i % 4
        if kind == 0:
            pattern = f"[domain-name:value = 'o{rng.getrandbits(48):x}.example']"
        elif kind == 1:
            pattern = f"[file:hashes.'SHA-256' = '{rng.getrandbits(256):064x}']"
        elif kind == 2:
            pattern = f"[ipv4-addr:value = '10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}']"
        else:
            pattern = f"[url:value = 'https://o{rng.getrandbits(40):x}.example/p']"
        out.append({"type": "indicator", "spec_version": "2.1", "id": f"indicator--{_uuid(rng)}", "created": STAMP,
                    "modified": STAMP, "pattern": pattern, "pattern_type": "stix", "valid_from": STAMP})  # fmt: skip
    return out


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"


def _registry_objects(others: list[dict], rng: random.Random) -> tuple[list[dict], list[str]]:
    """Every shipped registry object and indicator file (linked as ``accord spyware seed`` links them), and
    the other indicators pointing at one more product, so that all of them are compiled and scanned."""
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in seed.shipped_files():
            (Path(tmp) / name).write_bytes(data)
        reg, _names = check.offline_registry(Path(tmp), 10**9)
    objs = list(reg.bundle_objects()) + [v for v in reg.products.values() if v["id"] not in reg.malware]
    spy_values = [k.split("=", 1)[1] for k in reg.by_value if ":" in k and "=" in k]
    other = {"type": "malware", "spec_version": "2.1", "id": f"malware--{_uuid(rng)}", "created": STAMP,
             "modified": STAMP, "name": "Other intelligence (benchmark)", "is_family": True,
             "malware_types": ["spyware"]}  # fmt: skip
    objs.append(other)
    for ind in others:
        objs.append(ind)
        objs.append({"type": "relationship", "spec_version": "2.1", "id": f"relationship--{_uuid(rng)}",
                     "created": STAMP, "modified": STAMP, "relationship_type": "indicates", "source_ref": ind["id"],
                     "target_ref": other["id"]})  # fmt: skip
    return objs, spy_values


def _artefacts(path: Path, n: int, spy_values: list[str], other_values: list[str], rng: random.Random) -> int:
    """An artefact list of n records; about 1 in 1,000 holds a spyware value, 1 in 1,000 another one."""
    planted = 0
    with path.open("wb") as fh:
        for i in range(n):
            ts = f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z"
            r = rng.random()
            if r < 0.001 and spy_values:
                rec = {"value": rng.choice(spy_values), "timestamp": ts}  # its kind guessed, as for any list
                planted += 1
            elif r < 0.002 and other_values:
                rec = {"value": rng.choice(other_values), "timestamp": ts}
            else:
                k = i % 7
                host = f"h{rng.getrandbits(40):x}.example.net"
                rec = [
                    {"type": "url", "value": f"https://{host}/path/{i}", "timestamp": ts},
                    {"type": "domain", "value": host, "timestamp": ts},
                    {"type": "process", "value": f"proc{rng.getrandbits(20)}", "timestamp": ts},
                    {"type": "app", "value": f"com.vendor{rng.getrandbits(16)}.app", "timestamp": ts},
                    {"type": "file-path", "value": f"/data/local/tmp/f{rng.getrandbits(24)}", "timestamp": ts},
                    {"type": "sha256", "value": f"{rng.getrandbits(256):064x}", "timestamp": ts},
                    {"type": "email", "value": f"u{rng.getrandbits(24)}@mail.example", "timestamp": ts},
                ][k]
            fh.write(orjson.dumps(rec) + b"\n")
    return planted


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workload", type=Path, help="folder with indicators.jsonl (the shared workload)")
    ap.add_argument("--artefacts", type=int, default=100_000)
    ap.add_argument("--others", type=int, default=100_000, help="other (non-spyware) indicators")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    t = time.perf_counter()
    others = _other_indicators(args.workload, args.others, rng)
    objs, spy_values = _registry_objects(others, rng)
    other_values = [o["pattern"].split("'")[1] for o in others[:5000] if o["pattern"].count("'") == 2]
    print(f"set-up: {len(objs):,} registry objects ({len(others):,} other indicators) in "
          f"{time.perf_counter() - t:.1f} s", file=sys.stderr)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        lst = Path(tmp) / "artefacts.jsonl"
        planted = _artefacts(lst, args.artefacts, spy_values, other_values, rng)
        for run in range(1, args.runs + 1):
            t0 = time.perf_counter()
            reg = Registry.from_objects(objs)
            t1 = time.perf_counter()
            c1 = time.process_time()
            device = check.read_device(lst)
            t2 = time.perf_counter()
            result = check.run_check(device, reg, source="benchmark")
            t3 = time.perf_counter()
            doc = report.build(result, [])
            report.render_html(doc)
            t4 = time.perf_counter()
            c4 = time.process_time()
            spy = sum(1 for f in result.findings if not any(p["name"].startswith("Other") for p in f.products))
            print(json.dumps({
                "run": run, "artefacts": device.artefacts, "records": len(device.records),
                "indicators_known": result.indicators_known,
                "indicators_compiled": result.indicators_compiled, "findings": len(result.findings),
                "spyware_findings": spy, "planted_spyware_records": planted, "hits": result.hits,
                "seconds": {"registry": round(t1 - t0, 2), "read_artefacts": round(t2 - t1, 2),
                            "compile_and_scan": round(t3 - t2, 2), "report": round(t4 - t3, 2),
                            "device_check_total": round(t4 - t1, 2), "device_check_cpu": round(c4 - c1, 2)},
            }))  # fmt: skip


if __name__ == "__main__":
    main()
