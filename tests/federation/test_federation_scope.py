"""What a federation collection hands out: only what may leave the hub, ends included — to a member
reading it (the scope's rule) and to a partner hub's token (the visibility rule for partner viewers)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from accord.api.app import create_app
from accord.hub import Hub
from accord.stix.timestamps import now
from accord.store.schema import object_grant, stix_object
from accord.taxii.media import TAXII_MEDIA_TYPE
from helpers import indicator, items, malware, relationship

from .conftest import setup_partner


def _force_grant(hub: Hub, stix_id: str, audience: str) -> None:
    """A grant the core never makes (a bug, a hand-edited database)."""
    with hub.engine.begin() as conn:
        pk = conn.execute(select(stix_object.c.pk).where(stix_object.c.stix_id == stix_id)).scalar_one()
        conn.execute(object_grant.insert().values(object_pk=pk, org_pk=None, audience=audience, via="test",
                                                  granted_at=now()))  # fmt: skip


def test_relationships_leave_only_with_their_ends(hub: Hub) -> None:
    here = setup_partner(hub, "A", ["B"])
    op = hub.viewer_as(None)
    hub.add_org(op, "Reader", "financial-services", "GB")
    hub.add_user(op, "reader@reader.example", "Reader", "reader")
    hub.add_group(op, "inner", here.member, ["Reader"])  # the member reader sees the RED object here
    ind = indicator("fed-c2.example", level="green")
    hidden = malware("InnerOnly", level="red")
    forced = malware("ForcedRed", level="red")
    amber = malware("CommunityOnly", level="amber")
    shared = malware("SharedFamily", level="green")
    here.publish([ind, shared])
    here.publish([hidden], audience="group:inner")
    here.publish([forced], audience="org")
    here.publish([amber], audience="community")
    _force_grant(hub, forced["id"], "federation")
    rels = {name: relationship(ind["id"], target["id"], level="green")
            for name, target in (("hidden", hidden), ("forced", forced), ("amber", amber), ("shared", shared))}  # fmt: skip
    here.publish(list(rels.values()))
    _, partner_token = here.tokens["B"]
    member_token = hub.create_token(op, "reader@reader.example")["token"]
    client = TestClient(create_app(hub))
    for who, token in (("member", member_token), ("partner", partner_token)):
        r = client.get(f"/taxii2/api/collections/{here.collection}/objects/",
                       headers={"Accept": TAXII_MEDIA_TYPE, "Authorization": f"Bearer {token}"})  # fmt: skip
        assert r.status_code == 200, r.text
        ids = {o["id"] for o in r.json().get("objects", [])}
        assert {ind["id"], shared["id"], rels["shared"]["id"]} <= ids, who
        for gone in (hidden, forced, amber, rels["hidden"], rels["forced"], rels["amber"]):
            assert gone["id"] not in ids, (who, gone.get("name") or gone["id"])


def test_the_creators_identity_goes_along_with_what_it_shared(hub: Hub) -> None:
    """A partner hub receives the identity that ``created_by_ref`` names on what a member shared with the
    federation — and no identity of a member that shared nothing there."""
    here = setup_partner(hub, "A", ["B"])
    op = hub.viewer_as(None)
    hub.add_org(op, "Quiet Bank", "financial-services", "GB")
    hub.add_user(op, "analyst@quiet.example", "Quiet Bank", "analyst")
    hub.ingest(hub.viewer_as("Quiet Bank"), items(indicator("community-only.example", level="green")),
               hub.options(audience="community"))
    _, partner_token = here.tokens["B"]
    client = TestClient(create_app(hub))

    def served() -> dict[str, dict]:
        r = client.get(f"/taxii2/api/collections/{here.collection}/objects/",
                       headers={"Accept": TAXII_MEDIA_TYPE, "Authorization": f"Bearer {partner_token}"})  # fmt: skip
        assert r.status_code == 200, r.text
        return {o["id"]: o for o in r.json().get("objects", [])}

    assert not [o for o in served().values() if o["type"] == "identity"]
    ind = indicator("fed-shared.example", level="green")
    here.publish([ind])
    got = served()
    creator = got[ind["id"]]["created_by_ref"]
    assert got[creator]["type"] == "identity" and got[creator]["name"] == here.member
    assert [o["name"] for o in got.values() if o["type"] == "identity"] == [here.member]  # not Quiet Bank's
