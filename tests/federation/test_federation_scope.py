"""What a federation collection hands partner hubs: only what may leave the hub, ends included."""

from __future__ import annotations

from fastapi.testclient import TestClient

from accord.api.app import create_app
from accord.hub import Hub
from accord.taxii.media import TAXII_MEDIA_TYPE
from helpers import indicator, malware, relationship

from .conftest import setup_partner


def test_relationships_leave_only_with_their_ends(hub: Hub) -> None:
    here = setup_partner(hub, "A", ["B"])
    op = hub.viewer_as(None)
    hub.add_group(op, "inner", here.member, ["Hub B"])  # the partner org sees the RED object here
    ind = indicator("fed-c2.example", level="green")
    hidden = malware("InnerOnly", level="red")
    shared = malware("SharedFamily", level="green")
    here.publish([ind, shared])
    here.publish([hidden], audience="group:inner")
    to_hidden = relationship(ind["id"], hidden["id"], level="green")
    to_shared = relationship(ind["id"], shared["id"], level="green")
    here.publish([to_hidden, to_shared])
    email, token = here.tokens["B"]
    client = TestClient(create_app(hub))
    r = client.get(f"/taxii2/api/collections/{here.collection}/objects/",
                   headers={"Accept": TAXII_MEDIA_TYPE, "Authorization": f"Bearer {token}"})  # fmt: skip
    assert r.status_code == 200, r.text
    ids = {o["id"] for o in r.json().get("objects", [])}
    assert {ind["id"], shared["id"], to_shared["id"]} <= ids
    assert hidden["id"] not in ids and to_hidden["id"] not in ids
