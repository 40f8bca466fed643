"""Impact totals count only what the viewer can see, never add currencies; per-actor timelines."""

from __future__ import annotations

import pytest
from actionkit import action, intrusion_set

from accord.errors import InvalidInput, NotFound
from accord.hub import Hub
from helpers import community, items, relationship


def _world(hub: Hub) -> dict:
    community(hub)
    lockbit = intrusion_set("LockBit")
    hidden_actor = intrusion_set("Secret Crew", level="red")
    hub.ingest(hub.viewer_as("NCC"), items(lockbit), hub.options(audience="public"))
    hub.ingest(hub.viewer_as("Police"), items(hidden_actor), hub.options(audience="org"))
    public = action([lockbit["id"]], types=("takedown", "arrest"), date="2024-02-20T00:00:00.000Z", level="green",
                    regions=["europe"], lead_countries=["GB"], partner_countries=["US", "FR"],
                    operation_name="Operation Cronos", operation_phase=1,
                    outcomes={"arrests": 2, "servers": 34, "assets_seized": [{"amount": 200, "currency": "BTC"}]},
                    external_references=[{"source_name": "NCA", "url": "https://www.nationalcrimeagency.gov.uk/"}])  # fmt: skip
    q3 = action([lockbit["id"]], types=("arrest",), date="2024-10-01T00:00:00.000Z", level="green",
                regions=["europe"], lead_countries=["GB"],
                outcomes={"arrests": 4, "assets_seized": [{"amount": 1000000, "currency": "USD"},
                                                           {"amount": 50, "currency": "BTC"}]})  # fmt: skip
    taskforce = action([lockbit["id"]], types=("server-seizure",), date="2024-05-07T00:00:00.000Z", level="amber",
                       regions=["europe"], lead_countries=["NL"], outcomes={"servers": 9, "arrests": 100})  # fmt: skip
    secret = action([hidden_actor["id"]], types=("arrest",), date="2024-06-01T00:00:00.000Z", level="red",
                    regions=["indo-pacific"], outcomes={"arrests": 1000})  # fmt: skip
    hub.ingest(hub.viewer_as("NCC"), items(public, q3), hub.options(audience="community"))
    hub.ingest(hub.viewer_as("NCC"), items(taskforce), hub.options(audience="group:taskforce"))
    hub.ingest(hub.viewer_as("Police"), items(secret), hub.options(audience="org"))
    return {"lockbit": lockbit, "public": public, "q3": q3, "taskforce": taskforce, "secret": secret}


def test_totals_only_count_visible_actions(hub: Hub) -> None:
    w = _world(hub)
    uni = hub.impact(hub.viewer_as("Uni"), by="region", period="year")
    assert uni["total"]["actions"] == 2 and uni["total"]["counts"]["arrests"] == 6
    assert [g["region"] for g in uni["groups"]] == ["europe"]
    assert (
        w["taskforce"]["id"] not in uni["total"]["action_ids"] and w["secret"]["id"] not in uni["total"]["action_ids"]
    )
    bank = hub.impact(hub.viewer_as("Bank"), by="region", period="year")  # taskforce member
    assert bank["total"]["actions"] == 3 and bank["total"]["counts"]["arrests"] == 106
    police = hub.impact(hub.viewer_as("Police"), by="region", period="year")
    assert police["total"]["counts"]["arrests"] == 1106
    assert {(g["region"], g["period"]) for g in police["groups"]} == {("europe", "2024"), ("indo-pacific", "2024")}
    operator = hub.impact(hub.viewer_as(None), by="type", period="all")
    assert operator["total"]["actions"] == 4


def test_currencies_are_never_added_together(hub: Hub) -> None:
    _world(hub)
    out = hub.impact(hub.viewer_as("Uni"), by="country", period="quarter")
    assert out["total"]["amounts"] == {"assets_seized": {"BTC": 250, "USD": 1000000}}
    gb = {g["period"]: g for g in out["groups"] if g["country"] == "GB"}
    assert gb["2024-Q1"]["amounts"]["assets_seized"] == {"BTC": 200}
    assert gb["2024-Q4"]["amounts"]["assets_seized"] == {"BTC": 50, "USD": 1000000}
    assert "USD 1,000,000 seized" in gb["2024-Q4"]["summary"] and "BTC 50 seized" in gb["2024-Q4"]["summary"]
    assert {g["country"] for g in out["groups"]} == {"GB", "US", "FR"}


def test_actor_and_partner_names_respect_visibility(hub: Hub) -> None:
    w = _world(hub)
    # Police may see the RED action and its target; the name shows.
    assert "Secret Crew" in {g["actor"] for g in hub.impact(hub.viewer_as("Police"), by="actor")["groups"]}
    # An action visible to someone who cannot see its target: the target is not named.
    other = intrusion_set("Hidden Gang", level="amber")
    hub.ingest(hub.viewer_as("NCC"), items(other), hub.options(audience="group:taskforce"))
    act = action([other["id"]], types=("indictment",), level="amber", outcomes={"indictments": 1})
    hub.ingest(hub.viewer_as("NCC"), items(act), hub.options(audience="group:taskforce"))
    hub.add_group(hub.viewer_as(None), "wider", "NCC", ["Uni"])
    hub.ingest(hub.viewer_as("NCC"), items(act), hub.options(audience="group:wider"))  # the action, not its target
    groups = {g["actor"]: g for g in hub.impact(hub.viewer_as("Uni"), by="actor")["groups"]}
    assert "Hidden Gang" not in groups and groups["(not visible to you)"]["counts"] == {"indictments": 1}
    assert "LockBit" in groups and w["lockbit"]["id"] not in groups
    with pytest.raises(InvalidInput, match="unknown --by"):
        hub.impact(hub.viewer_as("Uni"), by="colour")


def test_actor_timeline(hub: Hub) -> None:
    w = _world(hub)
    tl = hub.actor_timeline(hub.viewer_as("Bank"), "lockbit")
    assert [e["date"][:10] for e in tl["actions"]] == ["2024-02-20", "2024-05-07", "2024-10-01"]
    first = tl["actions"][0]
    assert first["operation"] == "Operation Cronos" and first["phase"] == 1
    assert first["sources"] == ["https://www.nationalcrimeagency.gov.uk/"]
    assert "34 servers" in first["summary"]
    assert [e["date"][:10] for e in hub.actor_timeline(hub.viewer_as("Uni"), "LockBit")["actions"]] == [
        "2024-02-20",
        "2024-10-01",
    ]
    # Actions against something tied to the actor (its malware) belong to its timeline too.
    ransomware = {"type": "malware", "spec_version": "2.1", "id": "malware--a4578560-42cf-4075-9fa2-056f0058c881",
                  "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                  "name": "LockBit 3.0", "is_family": True}  # fmt: skip
    uses = relationship(w["lockbit"]["id"], ransomware["id"], relationship_type="uses")
    decryptor = action([ransomware["id"]], types=("decryptor-release",), date="2024-02-21T00:00:00.000Z")
    hub.ingest(hub.viewer_as("NCC"), items(ransomware, uses, decryptor), hub.options(tlp="clear", audience="public"))
    dates = [e["date"][:10] for e in hub.actor_timeline(hub.viewer_as("Uni"), "LockBit")["actions"]]
    assert dates == ["2024-02-20", "2024-02-21", "2024-10-01"]
    with pytest.raises(NotFound):
        hub.actor_timeline(hub.viewer_as("Uni"), "Secret Crew")


def test_regions_come_from_countries_when_not_declared(hub: Hub) -> None:
    community(hub)
    target = intrusion_set("Scam Ring")
    hub.ingest(hub.viewer_as("NCC"), items(target), hub.options(audience="public"))
    ng = action([target["id"]], types=("arrest",), level="green", lead_countries=["NG"], partner_countries=["KE", "GB"],
                outcomes={"arrests": 7})  # fmt: skip
    hub.ingest(hub.viewer_as("NCC"), items(ng), hub.options(audience="community"))
    regions = {g["region"]: g for g in hub.impact(hub.viewer_as("Uni"), by="region", period="all")["groups"]}
    assert set(regions) == {"africa", "europe"} and regions["africa"]["counts"] == {"arrests": 7}
    subs = {g["subregion"] for g in hub.impact(hub.viewer_as("Uni"), by="subregion", period="all")["groups"]}
    assert subs == {"western-africa", "eastern-africa", "northern-europe"}
