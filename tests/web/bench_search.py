"""Time the web interface's search, dashboard and detection-results pages at scale (prints figures;
asserts nothing).

Fills a temporary SQLite hub with N indicators (default 100,000) from 20 organisations with mixed
TLPs and audiences, and S sightings of them (default 2,000, as sweeps publish them, from 5 of the
organisations), then times pages through the ASGI app as one organisation (Bearer token), and the
search once more through a signed-in session (a cookie, checked against the web_session table):

    .venv/bin/python tests/web/bench_search.py [--objects 100000] [--sightings 2000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient  # noqa: E402

from accord.api.app import create_app  # noqa: E402
from accord.detect.sightings import Tally, sighting_objects  # noqa: E402
from accord.hub import Hub  # noqa: E402
from accord.stix.reader import Item  # noqa: E402
from accord.stix.timestamps import format_stix, now  # noqa: E402
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


def sweep_sightings(hub: Hub, n: int, orgs: int = 5) -> None:
    """``n`` sightings of community indicators, spread over the last 60 days, from ``orgs`` organisations."""
    ids = [r["id"] for r in hub.search(hub.viewer_as("Org 01"), types=["indicator"], limit=max(n, 1))]
    for k in range(orgs):
        viewer = hub.viewer_as(f"Org {k:02d}")
        tallies = {}
        for j, ind in enumerate(ids[k::orgs][: n // orgs]):
            first = now() - timedelta(days=(j * 7 + k) % 60, hours=j % 24)
            tallies[ind] = Tally(count=1 + j % 50, first=format_stix(first), last=format_stix(first + timedelta(hours=5)))
        objs = sighting_objects(tallies, viewer.org_identity or "", lambda _sid: None, now())
        hub.ingest(viewer, [Item(i, o) for i, o in enumerate(objs)], hub.options(tlp="green", via="sweep"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objects", type=int, default=100_000)
    ap.add_argument("--sightings", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        hub = Hub(settings_for(f"sqlite:///{Path(tmp) / 'accord.db'}"))
        hub.init()
        start = time.perf_counter()
        fill(hub, args.objects)
        print(f"filled {args.objects:,} indicators in {time.perf_counter() - start:.1f} s")
        sweep_sightings(hub, args.sightings)
        hub.index_text()  # as 'accord serve' does in the background (the SQLite substring index catches up)
        op = hub.viewer_as(None)
        hub.add_user(op, "bench@org.example", "Org 03", "analyst")
        hub.set_password(op, "bench@org.example", "a bench password, long enough")
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
            "detections, last 30 days": "/detections",
            "detections, all time": "/detections?days=all",
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
        browser = TestClient(create_app(hub), base_url="https://127.0.0.1")
        form = browser.get("/login").text
        login_token = form.split('name="login_token" value="')[1].split('"')[0]
        browser.post("/login", data={"method": "password", "email": "bench@org.example", "login_token": login_token,
                                     "password": "a bench password, long enough"})  # fmt: skip
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            resp = browser.get("/search?type=indicator", follow_redirects=False)
            times.append((time.perf_counter() - t0) * 1000)
            assert resp.status_code == 200, resp.status_code
        times.sort()
        label = "search, signed-in session"
        print(f"{label:32s} p50 {statistics.median(times):7.1f} ms   max {times[-1]:7.1f} ms")
        hub.engine.dispose()


if __name__ == "__main__":
    main()
