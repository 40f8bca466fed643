"""The demo community carries collective action: public actions, an exercise seizure, incidents and norms."""

from __future__ import annotations

import json

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


def test_demo_data_covers_the_public_operations_each_with_its_source() -> None:
    data = json.loads((default_demo_dir() / "data" / "collective-action-public.json").read_text(encoding="utf-8"))
    actions = [o for o in data["objects"] if o["type"] == "disruption-action"]
    for a in actions:  # every public action names the release it comes from
        assert a["external_references"] and all(r["url"].startswith("https://") for r in a["external_references"])
    cronos = sorted((a for a in actions if a.get("operation_name") == "Operation Cronos"),
                    key=lambda a: a["operation_phase"])  # fmt: skip
    assert [(a["operation_phase"], a["action_date"][:10]) for a in cronos] == [
        (1, "2024-02-20"), (2, "2024-05-07"), (3, "2024-10-01")
    ]  # fmt: skip
    by_name = {a["name"]: a for a in actions}
    serengeti = by_name["Operation Serengeti"]
    assert serengeti["outcomes"]["arrests"] == 1006 and serengeti["outcomes"]["countries_involved"] == 19
    assert "interpol.int" in serengeti["external_references"][0]["url"]
    synergia = by_name["Operation Synergia II"]
    assert synergia["outcomes"]["arrests"] == 41 and "interpol.int" in synergia["external_references"][0]["url"]
    evil_corp = [a for a in actions if "Evil Corp" in a["name"] and "sanction" in a["action_types"]]
    assert sorted(a["action_date"][:10] for a in evil_corp) == ["2019-12-05", "2024-10-01"]
    incidents = [o for o in data["objects"] if o["type"] == "incident"]
    assessed = [i for i in incidents for ext in i.get("extensions", {}).values() if ext.get("norm_assessments")]
    assert len(assessed) >= 3
