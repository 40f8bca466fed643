"""The demo community loads cleanly and gives each organisation its own picture."""

from __future__ import annotations

from accord.cli.demo import default_demo_dir, load, load_manifest
from accord.hub import Hub


def test_demo_loads_without_rejections_and_pictures_differ(sqlite_hub: Hub) -> None:
    summary = load(sqlite_hub, default_demo_dir(), quiet=True)
    assert summary["datasets"] and all(d["rejected"] == 0 for d in summary["datasets"])
    assert summary["collections"] == 3
    manifest = load_manifest(default_demo_dir())
    totals = {}
    for org in manifest["organisations"]:
        totals[org["name"]] = sqlite_hub.stats(sqlite_hub.viewer_as(org["name"]))["total"]
    assert len(set(totals.values())) == len(totals), totals
    everything = sqlite_hub.stats(sqlite_hub.viewer_as(None))["total"]
    assert all(t < everything for t in totals.values())
    red = sqlite_hub.search(sqlite_hub.viewer_as("Meridian Police Cyber Crime Unit"), tlp="red", limit=1000)
    telecom_ids = {o["id"] for o in sqlite_hub.search(sqlite_hub.viewer_as("Skylark Telecom"), limit=10000)}
    assert red and not ({o["id"] for o in red} & telecom_ids)
