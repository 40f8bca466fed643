"""A takedown or seizure of infrastructure expires the linked indicators (new versions, same audiences)."""

from __future__ import annotations

from actionkit import action, infrastructure

from accord.actions.effects import PROVENANCE
from accord.hub import Hub
from helpers import community, indicator, items, relationship


def _setup(hub: Hub) -> dict:
    community(hub)
    infra = infrastructure("LockBit affiliate server", level="amber")
    ind1 = indicator("affiliate-panel.example", level="amber")
    ind2 = indicator("exfil.example", level="amber", valid_until="2030-01-01T00:00:00.000Z")
    late = indicator("new-server.example", level="amber", valid_from="2024-03-01T00:00:00.000Z")
    other = indicator("unrelated.example", level="amber")
    rels = [relationship(i["id"], infra["id"], level="amber") for i in (ind1, ind2, late)]
    police = hub.viewer_as("Police")
    res = hub.ingest(police, items(infra, ind1, ind2, late, other, *rels), hub.options(audience="group:taskforce"))
    assert res.added == 8
    return {"infra": infra, "ind1": ind1, "ind2": ind2, "late": late, "other": other}


def test_server_seizure_expires_linked_indicators_for_their_audience(hub: Hub) -> None:
    objs = _setup(hub)
    act = action([objs["infra"]["id"]], types=("server-seizure", "arrest"), date="2024-02-20T00:00:00.000Z",
                 level="amber")  # fmt: skip
    # NCC (in the taskforce) sees the infrastructure and publishes the seizure to the taskforce.
    res = hub.ingest(hub.viewer_as("NCC"), items(act), hub.options(audience="group:taskforce"))
    assert res.added == 1 and res.rejected == 0
    bank = hub.viewer_as("Bank")  # a taskforce member: sees the indicators and the new versions
    for key in ("ind1", "ind2"):
        got = hub.get(bank, objs[key]["id"], all_versions=True)
        obj = got["object"]
        assert obj["valid_until"] == "2024-02-20T00:00:00.000Z"
        assert "expired-server-seizure" in obj["labels"]
        assert obj[PROVENANCE] == [act["id"]]
        assert len(got["versions"]) == 2 and got["owner"] == "Police"
        assert {a["audience"] for a in got["audiences"]} == {"group"}
    # Valid only after the seizure (new infrastructure), and not linked: unchanged.
    assert "valid_until" not in hub.get(bank, objs["late"]["id"])["object"]
    assert "valid_until" not in hub.get(bank, objs["other"]["id"])["object"]
    # Uni (not in the taskforce) still sees nothing of it.
    uni = hub.viewer_as("Uni")
    assert not hub.search(uni, text="affiliate-panel", limit=10)
    # Ingesting the same action again changes nothing more.
    hub.ingest(hub.viewer_as("NCC"), items(act), hub.options(audience="group:taskforce"))
    assert len(hub.get(bank, objs["ind1"]["id"], all_versions=True)["versions"]) == 2


def test_non_infrastructure_actions_and_wider_tlp_change_nothing(hub: Hub) -> None:
    objs = _setup(hub)
    arrest = action([objs["infra"]["id"]], types=("arrest",), level="amber")
    hub.ingest(hub.viewer_as("NCC"), items(arrest), hub.options(audience="group:taskforce"))
    assert "valid_until" not in hub.get(hub.viewer_as("Police"), objs["ind1"]["id"])["object"]
    # A RED takedown does not announce itself on AMBER indicators.
    red = action([objs["infra"]["id"]], types=("takedown",), level="red")
    hub.ingest(hub.viewer_as("NCC"), items(red), hub.options(audience="org"))
    assert "valid_until" not in hub.get(hub.viewer_as("Police"), objs["ind1"]["id"])["object"]
    planned = action([objs["infra"]["id"]], types=("takedown",), level="amber", status="planned")
    hub.ingest(hub.viewer_as("NCC"), items(planned), hub.options(audience="group:taskforce"))
    assert "valid_until" not in hub.get(hub.viewer_as("Police"), objs["ind1"]["id"])["object"]


def test_targeted_indicator_is_expired_directly(hub: Hub) -> None:
    community(hub)
    ind = indicator("sinkholed.example", level="green")
    hub.ingest(hub.viewer_as("Bank"), items(ind), hub.options(audience="community"))
    act = action([ind["id"]], types=("sinkhole",), level="green")
    assert hub.ingest(hub.viewer_as("NCC"), items(act), hub.options(audience="community")).added == 1
    obj = hub.get(hub.viewer_as("Uni"), ind["id"])["object"]
    assert obj["valid_until"] == act["action_date"] and "expired-sinkhole" in obj["labels"]


def test_revoking_the_action_restores_the_indicators(hub: Hub) -> None:
    objs = _setup(hub)
    first = action([objs["infra"]["id"]], types=("takedown",), date="2024-02-20T00:00:00.000Z", level="amber")
    second = action([objs["ind2"]["id"]], types=("sinkhole",), date="2024-02-19T12:00:00.000Z", level="amber")
    ncc = hub.viewer_as("NCC")
    hub.ingest(ncc, items(first), hub.options(audience="group:taskforce"))
    hub.ingest(ncc, items(second), hub.options(audience="group:taskforce"))
    police = hub.viewer_as("Police")
    assert hub.get(police, objs["ind2"]["id"])["object"][PROVENANCE] == [first["id"], second["id"]]
    hub.revoke_object(ncc, first["id"])
    ind1 = hub.get(police, objs["ind1"]["id"], all_versions=True)
    assert len(ind1["versions"]) == 3
    restored = ind1["object"]
    assert "valid_until" not in restored and PROVENANCE not in restored and "labels" not in restored
    assert {k: v for k, v in restored.items() if k != "modified"} == {
        k: v for k, v in objs["ind1"].items() if k != "modified"
    } | {"created_by_ref": restored["created_by_ref"]}
    # ind2 is still held expired by the sinkhole, which was not revoked.
    ind2 = hub.get(police, objs["ind2"]["id"])["object"]
    assert ind2[PROVENANCE] == [second["id"]] and ind2["valid_until"] == "2024-02-19T12:00:00.000Z"
    assert hub.impact(police)["total"]["actions"] == 1


def test_an_action_hidden_from_some_holders_changes_nothing(hub: Hub) -> None:
    """A community-shared indicator is not rewritten to name an action only a group may see."""
    community(hub)
    ind = indicator("shared-c2.example", level="green")
    hub.ingest(hub.viewer_as("Uni"), items(ind), hub.options(audience="community"))
    act = action([ind["id"]], types=("takedown",), level="green")
    assert hub.ingest(hub.viewer_as("NCC"), items(act), hub.options(audience="group:taskforce")).added == 1
    obj = hub.get(hub.viewer_as("Uni"), ind["id"])["object"]
    assert "valid_until" not in obj and act["id"] not in str(obj)
    # shared as widely as the indicator, it does take effect
    wide = action([ind["id"]], types=("takedown",), level="green")
    hub.ingest(hub.viewer_as("NCC"), items(wide), hub.options(audience="community"))
    assert hub.get(hub.viewer_as("Uni"), ind["id"])["object"]["valid_until"] == wide["action_date"]
