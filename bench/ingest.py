"""Ingest and visible-search benchmark for the hub core (prints figures; asserts nothing).

    python bench/ingest.py WORKLOAD_DIR [--objects 100000] [--postgres URL | --no-postgres]

WORKLOAD_DIR is made by ../shared/bench/gen_workload.py (its indicators.jsonl is used). For each back
end (SQLite in a temporary file, PostgreSQL in a temporary schema): 50 organisations and 10 sharing
groups are created, the indicators are ingested in batches of 2,000 by rotating publishers with mixed
TLPs and audiences (on SQLite the text index then catches up after commit, timed on its own), then
1,000 searches are timed for one organisation.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson
from sqlalchemy import text

from accord.config import Settings
from accord.hub import Hub
from accord.stix import tlp
from accord.stix.reader import Item
from accord.store.db import make_engine

# (TLP, audience kind) mixes, weighted towards what communities really share.
MIXES = [(tlp.AMBER, "community")] * 4 + [(tlp.GREEN, "federation")] * 2 + [(tlp.CLEAR, "public")] + [
    (tlp.RED, "group"),
    (tlp.AMBER_STRICT, "org"),
    (tlp.RED, "org"),
]


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def load_indicators(workload: Path, n: int) -> list[dict]:
    """The workload's indicators; past its size, copies with fresh ids and values (to reach 1,000,000)."""
    base = []
    with (workload / "indicators.jsonl").open("rb") as fh:
        for line in fh:
            base.append(orjson.loads(line))
            if len(base) >= n:
                return base
    out = list(base)
    rnd = 0
    while len(out) < n:
        rnd += 1
        for o in base:
            new_id = uuid.uuid5(uuid.NAMESPACE_URL, o["id"] + "/" + str(rnd))
            copy = {**o, "id": f"indicator--{new_id}"}
            if o.get("x_bench_class") == "atomic-domain":
                value = f"r{rnd}-{o['x_bench_value']}"
                copy["pattern"], copy["x_bench_value"] = f"[domain-name:value = '{value}']", value
            out.append(copy)
            if len(out) >= n:
                break
    return out


def run(hub: Hub, indicators: list[dict], label: str, seed: int = 7) -> None:
    rnd = random.Random(seed)
    op = hub.viewer_as(None)
    orgs = [f"Org {i:02d}" for i in range(50)]
    for name in orgs:
        hub.add_org(op, name, "cert", "GB")
    groups = []
    for g in range(10):
        members = rnd.sample(orgs, 6)
        hub.add_group(op, f"group-{g}", members[0], members[1:])
        groups.append((f"group-{g}", members))
    batch = 2000
    t0 = time.perf_counter()
    stored = 0
    for i in range(0, len(indicators), batch):
        publisher = orgs[(i // batch) % len(orgs)]
        level, kind = MIXES[(i // batch) % len(MIXES)]
        audience = kind
        if kind == "group":
            mine = [g for g, members in groups if publisher in members]
            audience = f"group:{mine[0]}" if mine else "org"
        chunk = [{**o, "object_marking_refs": [tlp.TLP2_IDS[level]]} for o in indicators[i : i + batch]]
        result = hub.ingest(hub.viewer_as(publisher), (Item(j, o) for j, o in enumerate(chunk)),
                            hub.options(audience=audience, via="bench"))  # fmt: skip
        stored += result.added
        if result.rejected:
            print(f"  {result.rejected} rejected, e.g. {result.errors[0].reason}", file=sys.stderr)
    elapsed = time.perf_counter() - t0
    print(f"[{label}] ingest: {stored:,} objects in {elapsed:.1f} s = {stored / elapsed:,.0f} objects/s")
    t1 = time.perf_counter()
    indexed = hub.index_text()
    lag = time.perf_counter() - t1
    if indexed:
        print(f"[{label}] text index caught up after commit: {indexed:,} rows in {lag:.1f} s "
              f"({indexed / lag:,.0f} rows/s); ingest and index together {stored / (elapsed + lag):,.0f} objects/s")

    viewer = hub.viewer_as(orgs[7])
    total_visible = hub.stats(viewer)["total"]
    values = [o.get("x_bench_value") or "" for o in indicators if o.get("x_bench_value")]
    kinds = {
        "type=indicator, newest 50": lambda: hub.search(viewer, types=["indicator"], limit=50),
        "text (a known value), 50": lambda: hub.search(viewer, text=rnd.choice(values)[:12], limit=50),
        "type + added_after, 50": lambda: hub.search(viewer, types=["indicator"], limit=50,
                                                     added_after=added_after),  # fmt: skip
        "get by id": lambda: hub.get(viewer, rnd.choice(ids)),
    }
    ids = [o["id"] for o in rnd.sample(indicators, 2000)]
    mid = hub.search(viewer, types=["indicator"], limit=1)[0]["date_added"]
    added_after = mid.replace(microsecond=0)
    timings: dict[str, list[float]] = {k: [] for k in kinds}
    names = list(kinds)
    for q in range(1000):
        name = names[q % len(names)]
        t = time.perf_counter()
        try:
            kinds[name]()
        except Exception:  # noqa: BLE001 - a hidden id is a NotFound; still a timed query
            pass
        timings[name].append((time.perf_counter() - t) * 1000)
    every = [x for v in timings.values() for x in v]
    print(f"[{label}] visible search for one of 50 organisations ({total_visible:,} objects visible to it):")
    print(f"  all 1,000 queries: p50 {statistics.median(every):.2f} ms, p99 {percentile(every, 99):.2f} ms")
    for name, v in timings.items():
        print(f"  {name:28s} p50 {statistics.median(v):7.2f} ms  p99 {percentile(v, 99):7.2f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workload", type=Path, help="folder made by gen_workload.py")
    ap.add_argument("--objects", type=int, default=100_000)
    ap.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--no-sqlite", action="store_true")
    args = ap.parse_args()
    indicators = load_indicators(args.workload, args.objects)
    print(f"{len(indicators):,} indicators from {args.workload}")
    base = Settings.from_env()
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            hub = Hub(Settings(**{**base.__dict__, "database_url": url}))
            hub.init()
            run(hub, indicators, "sqlite")
            hub.engine.dispose()
    if args.no_postgres:
        return
    schema = f"accord_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(args.postgres)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        engine = make_engine(args.postgres, connect_args={"options": f"-csearch_path={schema}"})
        hub = Hub(Settings(**{**base.__dict__, "database_url": args.postgres}), engine=engine)
        hub.init()
        run(hub, indicators, "postgresql")
        engine.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
