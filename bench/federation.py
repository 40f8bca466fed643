"""Federation figure: one Accord hub pulling N objects from another over TAXII 2.1 (prints figures;
asserts nothing).

    .venv/bin/python bench/federation.py --objects 100000

What it does, in a temporary folder (``--keep`` keeps it):
  1. hub A (SQLite): a member organisation, partner hub B registered as ``accord partner add`` does (an
     organisation of kind ``partner-hub`` with a reader and its token: a partner viewer, which reads only
     federation collections and only TLP:CLEAR/GREEN versions shared with the federation), and a
     ``federation`` collection; N synthetic TLP:GREEN indicators (fresh ids, seeded) are published there
     with audience ``federation`` through ``Hub.ingest`` (not timed);
  2. hub A is served by ``accord serve`` in a subprocess on 127.0.0.1 at a free port;
  3. hub B (SQLite, this process) registers hub A as a partner hub (what its feed acts as), defines a feed
     on A's collection with the partner token, and pulls it once: the timed figure
     is objects stored / wall time of ``Hub.pull_feed`` (TAXII pages of ``--page`` over HTTP, each page
     checked against what B holds, ingested through ``Hub.ingest`` and check-pointed);
  4. ``--more`` objects are then published at A and pulled again (an incremental pull), and a pull with
     nothing new is timed too.

Both hubs run on the same machine (the serving process, this process, and the next page being fetched
in a thread while the previous one is stored), so on a small host they share the CPUs.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from accord.config import Settings
from accord.federation import partners
from accord.federation import taxii as taxii_source
from accord.hub import Hub
from accord.stix import tlp
from accord.stix.reader import Item

T0 = "2024-02-19T10:00:00.000Z"


def settings(db: Path) -> Settings:
    base = Settings.from_env()
    return Settings(**{**base.__dict__, "database_url": f"sqlite:///{db}"})


def indicators(n: int, rng: random.Random) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        value = f"{rng.getrandbits(48):012x}-{i}.example"
        sid = f"indicator--{uuid.UUID(int=rng.getrandbits(128), version=4)}"
        out.append({
            "type": "indicator", "spec_version": "2.1", "id": sid,
            "created": T0, "modified": T0, "name": f"Domain {value}", "pattern": f"[domain-name:value = '{value}']",
            "pattern_type": "stix", "valid_from": T0, "indicator_types": ["malicious-activity"],
            "object_marking_refs": [tlp.TLP2_IDS[tlp.GREEN]],
        })  # fmt: skip
    return out


def publish(hub: Hub, org: str, objs: list[dict[str, Any]], batch: int = 2000) -> None:
    viewer = hub.viewer_as(org)
    opts = hub.options(audience="federation", via="bench")
    for i in range(0, len(objs), batch):
        hub.ingest(viewer, [Item(j, o) for j, o in enumerate(objs[i : i + batch])], opts)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(db: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "ACCORD_DATABASE_URL": f"sqlite:///{db}", "ACCORD_FEEDS": "off"}
    accord = Path(sys.executable).parent / "accord"
    proc = subprocess.Popen([str(accord), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"accord serve exited; see {log}")
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"accord serve did not start within 120 s; see {log}")
        time.sleep(0.2)


def timed_pull(hub: Hub, name: str) -> tuple[dict[str, Any], float]:
    start = time.perf_counter()
    report = hub.pull_feed(hub.viewer_as(None), name)
    elapsed = time.perf_counter() - start
    if report["error"]:
        raise SystemExit(f"the pull failed: {report['error']}")
    return report, elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--objects", type=int, default=100_000, help="objects at hub A for the first pull")
    ap.add_argument("--more", type=int, default=1000, help="objects added at A before the incremental pull")
    ap.add_argument("--page", type=int, default=taxii_source.PAGE, help="TAXII page size the puller asks for")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (databases, server log)")
    args = ap.parse_args()
    taxii_source.PAGE = args.page
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="accord-federation-bench-"))
    proc = None
    try:
        a = Hub(settings(tmp / "a.db"))
        a.init()
        op = a.viewer_as(None)
        a.add_org(op, "A CERT", "government-national", "GB")
        token = partners.add(a, op, "Hub B", "FR", user="pull@b.example")["token"]
        if not a.authenticate(f"Bearer {token}", partner_ok=True).partner:
            raise SystemExit("the pulling token is not a partner hub's: the figure would not measure federation")
        coll = a.add_collection(op, "Federation", scope="federation")["id"]
        t = time.perf_counter()
        publish(a, "A CERT", indicators(args.objects, rng))
        print(f"hub A: {args.objects:,} objects published in {time.perf_counter() - t:.1f} s (setup, not the figure)")
        proc, base = serve(tmp / "a.db", tmp / "a.log")

        b = Hub(settings(tmp / "b.db"))
        b.init()
        opb = b.viewer_as(None)
        partners.add(b, opb, "Hub A", "GB")
        b.add_feed(opb, "from-a", f"{base}/taxii2/", collection=coll, user="pull@b.example", password=token,
                   as_org="Hub A", audience="federation")  # fmt: skip
        load = os.getloadavg()[0]
        report, elapsed = timed_pull(b, "from-a")
        print(f"full pull: {report['stored']:,} objects stored in {elapsed:.1f} s = "
              f"{report['stored'] / elapsed:,.0f} objects/s ({report['pages']} pages of up to {args.page:,}; "
              f"{report['known']} already held; load average before {load:.2f})")  # fmt: skip

        publish(a, "A CERT", indicators(args.more, rng))
        report, elapsed = timed_pull(b, "from-a")
        print(f"incremental pull: {report['stored']:,} new objects in {elapsed * 1000:.0f} ms "
              f"({report['stored'] / elapsed:,.0f} objects/s)")  # fmt: skip
        report, elapsed = timed_pull(b, "from-a")
        print(f"pull with nothing new: {elapsed * 1000:.0f} ms ({report['received']} objects received)")
        print(f"load average at the end: {os.getloadavg()[0]:.2f} (2-core machine shared with other work)")
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
