"""Figures (not a test; pytest does not collect it): 10,000 disruption actions from 5 organisations with
mixed audiences, then impact totals and an actor timeline as one of them.

Run: .venv/bin/python tests/actions/bench_impact.py
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    sys.path[:0] = [str(HERE.parent), str(HERE)]
    from actionkit import action, intrusion_set  # test helpers, found through sys.path

    from accord.hub import Hub
    from accord.stix.reader import Item
    from conftest import settings_for

    rng = random.Random(1)
    hub = Hub(settings_for(f"sqlite:///{tempfile.mkdtemp()}/bench.db"))
    hub.init()
    op = hub.viewer_as(None)
    orgs = [f"Org{i}" for i in range(5)]
    for org in orgs:
        hub.add_org(op, org, "government-national", "GB")
    actors = [intrusion_set(f"Actor {i}") for i in range(50)]
    hub.ingest(hub.viewer_as("Org0"), [Item(i, a) for i, a in enumerate(actors)], hub.options(audience="public"))
    kinds = ["arrest", "takedown", "sanction", "indictment", "asset-seizure"]
    start = time.perf_counter()
    for batch in range(10):
        objs = [
            action([rng.choice(actors)["id"]], types=(rng.choice(kinds),), level="amber",
                   date=f"20{rng.randint(18, 25)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T00:00:00.000Z",
                   lead_countries=[rng.choice(["GB", "US", "NG", "JP", "BR", "DE"])],
                   outcomes={"arrests": rng.randint(0, 50),
                             "assets_seized": [{"amount": rng.randint(1, 10**6),
                                                "currency": rng.choice(["USD", "EUR", "BTC"])}]})
            for _ in range(1000)
        ]  # fmt: skip
        hub.ingest(hub.viewer_as(orgs[batch % 5]), [Item(i, o) for i, o in enumerate(objs)],
                   hub.options(audience=rng.choice(["community", "org"])))  # fmt: skip
    print(f"ingest 10,000 actions (validation + target lookups): {10000 / (time.perf_counter() - start):,.0f}/s")
    viewer = hub.viewer_as("Org1")
    for by in ("region", "actor", "type"):
        times = []
        for _ in range(5):
            t = time.perf_counter()
            out = hub.impact(viewer, by=by, period="quarter")
            times.append(time.perf_counter() - t)
        print(f"impact --by {by} --period quarter ({out['total']['actions']:,} visible actions): "
              f"median {sorted(times)[2] * 1000:.0f} ms")  # fmt: skip
    times = []
    for _ in range(5):
        t = time.perf_counter()
        tl = hub.actor_timeline(viewer, "Actor 7")
        times.append(time.perf_counter() - t)
    print(f"timeline of one actor ({len(tl['actions'])} actions): median {sorted(times)[2] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
