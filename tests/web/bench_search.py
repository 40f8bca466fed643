"""Time the web interface's search and dashboard pages at scale (prints figures; asserts nothing).

Fills a temporary SQLite hub with N indicators (default 100,000) from 20 organisations with mixed
TLPs and audiences, then times pages through the ASGI app as one organisation (Bearer token):

    .venv/bin/python tests/web/bench_search.py [--objects 100000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient  # noqa: E402

from accord.api.app import create_app  # noqa: E402
from accord.hub import Hub  # noqa: E402
from accord.stix.reader import Item  # noqa: E402
from web.conftest import settings_for  # noqa: E402

LEVELS = ("clear", "green", "amber", "red")
AUDIENCES = {"clear": "public", "green": "community", "amber": "community", "red": "org"}


def fill(hub: Hub, n: int, orgs: int = 20, batch: int = 2000) -> None:
    op = hub.viewer_as(None)
    for i in range(orgs):
        hub.add_org(op, f"Org {i:02d}", "cert", "GB")
    done = 0
    while done < n:
        org = f"Org {(done // batch) % orgs:02d}"
        level = LEVELS[(done // batch) % len(LEVELS)]
        objs = []
        for j in range(done, min(n, done + batch)):
            objs.append({
                "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
                "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                "name": f"host-{j}.example", "pattern": f"[domain-name:value = 'host-{j}.example']",
                "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00.000Z", "labels": [f"set-{j % 50}"],
            })  # fmt: skip
        hub.ingest(hub.viewer_as(org), [Item(k, o) for k, o in enumerate(objs)],
                   hub.options(tlp=level, audience=AUDIENCES[level], via="bench"))  # fmt: skip
        done += len(objs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objects", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        hub = Hub(settings_for(f"sqlite:///{Path(tmp) / 'accord.db'}"))
        hub.init()
        start = time.perf_counter()
        fill(hub, args.objects)
        print(f"filled {args.objects:,} indicators in {time.perf_counter() - start:.1f} s")
        op = hub.viewer_as(None)
        hub.add_user(op, "bench@org.example", "Org 03", "analyst")
        token = hub.create_token(op, "bench@org.example")["token"]
        visible = hub.stats(hub.viewer_as("Org 03"))["total"]
        print(f"Org 03 sees {visible:,} objects")
        client = TestClient(create_app(hub), base_url="https://127.0.0.1")
        client.headers["Authorization"] = f"Bearer {token}"
        first = client.get("/search?type=indicator").text
        after = first.split("after=")[1].split('"')[0].replace("&amp;", "&") if "after=" in first else ""
        pages = {
            "search, newest 50": "/search",
            "search, type=indicator": "/search?type=indicator",
            "search, free text (one hit)": "/search?q=host-77777.example",
            "search, free text (many hits)": "/search?q=host-1",
            "search, label + TLP": "/search?label=set-7&tlp=green",
            "search, second page": f"/search?type=indicator&after={after}",
            "dashboard": "/",
        }
        for label, url in pages.items():
            times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                resp = client.get(url)
                times.append((time.perf_counter() - t0) * 1000)
                assert resp.status_code == 200, (url, resp.status_code)
            times.sort()
            print(f"{label:32s} p50 {statistics.median(times):7.1f} ms   max {times[-1]:7.1f} ms")
        hub.engine.dispose()


if __name__ == "__main__":
    main()
