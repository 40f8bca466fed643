"""The detection-results page: sightings published the way ``accord sweep --report`` publishes them,
grouped per indicator, through the one visibility rule (SQLite and PostgreSQL for the reads)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from accord.api.app import create_app
from accord.detect.sightings import Tally, sighting_objects
from accord.errors import InvalidInput
from accord.hub import Hub
from accord.stix.timestamps import format_stix, now
from accord.web import detections, present
from helpers import community, indicator, items, malware, relationship


def ago(days: float) -> str:
    return format_stix(now() - timedelta(days=days))


def sweep_report(hub: Hub, org: str, found: dict[str, tuple[int, str, str]], audience: str | None = None,
                 level: str = "green") -> None:  # fmt: skip
    """Publish sightings as ``accord sweep --report`` does: indicator id → (hits, first seen, last seen)."""
    viewer = hub.viewer_as(org)
    tallies = {ind: Tally(count=n, first=first, last=last) for ind, (n, first, last) in found.items()}
    objs = sighting_objects(tallies, viewer.org_identity or "", lambda _sid: None, now())
    result = hub.ingest(viewer, items(*objs), hub.options(tlp=level, audience=audience, via="sweep"))
    assert result.rejected == 0, result.errors


def build_world(hub: Hub) -> dict:
    v = community(hub)
    op = hub.viewer_as(None)
    actor = {"type": "threat-actor", "spec_version": "2.1", "id": "threat-actor--7c1a0c35-3b0f-4c57-8a41-2f8ea7e0d001",
             "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
             "name": "Evil Corp <b>", "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]}  # fmt: skip
    lockbit = malware("LockBit 3.0", level="green")
    c2 = indicator("lockbit-c2.example", level="green")
    c2["name"] = "LockBit C2"
    old = indicator("old-campaign.example", level="green")
    private = indicator("bank-only.example", level="amber")
    hub.ingest(v["NCC"], items(actor, lockbit, c2, old, relationship(c2["id"], lockbit["id"], level="green"),
                               relationship(lockbit["id"], actor["id"], level="green",
                                            relationship_type="authored-by")),
               hub.options(via="cli"))  # fmt: skip
    hub.ingest(v["Bank"], items(private), hub.options(audience="org", via="cli"))
    sweep_report(hub, "Bank", {c2["id"]: (5, ago(3), ago(1)), private["id"]: (7, ago(2), ago(2))})
    sweep_report(hub, "Police", {c2["id"]: (3, ago(10), ago(4)), old["id"]: (4, ago(200), ago(100))})
    sweep_report(hub, "NCC", {c2["id"]: (2, ago(5), ago(5))}, audience="group:taskforce", level="amber")
    hub.add_user(op, "analyst2@bank.example", "Bank", "analyst")
    return {"v": v, "c2": c2["id"], "old": old["id"], "private": private["id"], "lockbit": lockbit["id"],
            "actor": actor["id"]}  # fmt: skip


@pytest.fixture
def world(hub: Hub) -> dict:
    return build_world(hub)


@pytest.fixture
def world_sqlite(sqlite_hub: Hub) -> dict:
    return build_world(sqlite_hub)


def page_for(hub: Hub, org: str, days: str = "30", scope: str = "all") -> dict:
    w = detections.window(days, "", "", now().date())
    return detections.results(hub, hub.viewer_as(org), w, scope, "count")


def row(result: dict, target: str) -> detections.Detection | None:
    return next((d for d in result["rows"] if d.target == target), None)


def test_each_organisation_counts_only_what_it_may_see(hub: Hub, world: dict) -> None:
    uni, bank = page_for(hub, "Uni"), page_for(hub, "Bank")
    c2_uni, c2_bank = row(uni, world["c2"]), row(bank, world["c2"])
    assert c2_uni is not None and c2_bank is not None
    assert (c2_uni.hits, c2_uni.reports, c2_uni.reporters) == (8, 2, ["Bank", "Police"])
    # The bank is in the taskforce group: it also sees NCC's group-only sighting.
    assert (c2_bank.hits, c2_bank.reports, c2_bank.reporters) == (10, 3, ["Bank", "NCC", "Police"])
    assert row(uni, world["private"]) is None and row(bank, world["private"]).hits == 7
    assert c2_uni.last_seen > c2_uni.first_seen and (now() - c2_uni.first_seen).days == 10
    linked = {x["name"]: x["type"] for x in c2_uni.linked}
    assert linked == {"LockBit 3.0": "malware", "Evil Corp <b>": "threat-actor"}
    assert uni["hits"] == 8 and bank["hits"] == 17 and uni["sightings"] == 2


def test_time_window_scope_and_order(hub: Hub, world: dict) -> None:
    assert row(page_for(hub, "Uni"), world["old"]) is None  # last seen 100 days ago
    year = page_for(hub, "Uni", days="365")
    assert row(year, world["old"]).hits == 4 and [d.target for d in year["rows"]][:2] == [world["c2"], world["old"]]
    mine = page_for(hub, "Police", scope="mine")
    assert [d.target for d in mine["rows"]] == [world["c2"]] and row(mine, world["c2"]).hits == 3
    others = page_for(hub, "Police", days="all", scope="others")
    assert row(others, world["old"]) is None and row(others, world["c2"]).reporters == ["Bank", "NCC"]
    w = detections.window("", "2020-01-01", "2020-12-31", now().date())
    assert detections.results(hub, hub.viewer_as("Uni"), w, "all", "recent")["rows"] == []
    with pytest.raises(InvalidInput, match="days must be one of"):
        detections.window("12", "", "", now().date())
    with pytest.raises(InvalidInput, match="starts"):
        detections.window("", "2024-05-02", "2024-05-01", now().date())
    with pytest.raises(InvalidInput, match="sort must be"):
        detections.results(hub, hub.viewer_as("Uni"), w, "all", "loudest")


def test_charts_over_time() -> None:
    w = detections.window("30", "", "", date(2026, 3, 10))
    rows = [{"object": {"first_seen": "2026-03-01T10:00:00Z", "last_seen": "2026-03-09T10:00:00Z"},
             "date_added": datetime(2026, 3, 9, tzinfo=UTC)}]  # fmt: skip
    first = detections.timeline(rows, w, "first", date(2026, 3, 10))
    last = detections.timeline(rows, w, "last", date(2026, 3, 10))
    assert len(first.columns) == 30 and first.columns[20].label == "01 Mar" and first.columns[20].value == 1
    assert last.columns[28].value == 1 and sum(c.value for c in last.columns) == 1
    year = detections.timeline(rows, detections.window("365", "", "", date(2026, 3, 10)), "first", date(2026, 3, 10))
    assert len(year.columns) == 13 and year.columns[-1].label == "Mar 2026" and year.columns[-1].value == 1
    months = present.per_month([datetime(2025, 12, 31, 23, tzinfo=UTC)], date(2025, 11, 5), date(2026, 1, 2))
    assert [(c.label, c.value) for c in months.columns] == [("Nov 2025", 0), ("Dec 2025", 1), ("Jan 2026", 0)]


def test_the_page(sqlite_hub: Hub, world_sqlite: dict) -> None:
    tok = sqlite_hub.create_token(sqlite_hub.viewer_as(None), "reader@uni.example")["token"]
    with TestClient(create_app(sqlite_hub), base_url="https://127.0.0.1") as c:
        c.headers["Authorization"] = f"Bearer {tok}"
        r = c.get("/detections")
        assert r.status_code == 200
        assert "1 indicator sighted, 8 hits in 2 sightings from 2 named organisations" in r.text
        assert "Evil Corp &lt;b&gt;" in r.text and "bank-only.example" not in r.text
        assert len(re.findall(r'<rect [^>]*class="bar"', r.text)) >= 60  # two 30-day column charts
        r = c.get("/detections?days=365&sort=recent&scope=others")
        assert r.status_code == 200 and "old-campaign.example" in r.text
        bad = c.get("/detections?since=2024-13-01")
        assert bad.status_code == 400 and "from must be a date" in bad.text
        assert c.get("/detections?scope=everyone").status_code == 400
