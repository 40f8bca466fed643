"""The demo community carries collective action: public actions, an exercise seizure, incidents and norms."""

from __future__ import annotations

from accord.cli.demo import default_demo_dir, load
from accord.hub import Hub

AFFILIATE_INDICATOR = "indicator--2240398f-938a-534e-8ab3-aa95bb132254"  # police, TLP:RED, task force


def test_demo_collective_action(sqlite_hub: Hub) -> None:
    hub = sqlite_hub
    summary = load(hub, default_demo_dir(), quiet=True)
    assert all(d["rejected"] == 0 for d in summary["datasets"])
    telecom, bank = hub.viewer_as("Skylark Telecom"), hub.viewer_as("Harbourside Bank")
    regions = {(g["region"], g["period"]): g for g in hub.impact(telecom, by="region")["groups"]}
    assert regions[("africa", "2024")]["counts"]["arrests"] == 1006
    assert ("europe", "2026") not in regions  # the exercise seizure is the task force's only
    assert ("europe", "2026") in {(g["region"], g["period"]) for g in hub.impact(bank, by="region")["groups"]}
    phases = [e["phase"] for e in hub.actor_timeline(telecom, "LockBit")["actions"] if e["operation"]]
    assert phases == [1, 2, 3]
    expired = hub.get(bank, AFFILIATE_INDICATOR, all_versions=True)
    assert "expired-server-seizure" in expired["object"]["labels"] and len(expired["versions"]) == 2
    report = hub.norms_report(telecom, state="RU")
    assert {i["name"] for s in report["states"] for i in s["incidents"]} == {
        "NotPetya destructive attack (June 2017)",
        "Evil Corp operations tolerated by host state",
    }
    notpetya = next(i["id"] for s in report["states"] for i in s["incidents"] if i["name"].startswith("NotPetya"))
    by = [a["attributed_by"] for a in hub.incident_attributions(telecom, notpetya)["attributions"]]
    assert by == ["GB", "US", "CERT-Lowlands (exercise)"]
