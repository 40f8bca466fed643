"""Disruption actions travel over TAXII like everything else, and a takedown posted there has its effect."""

from __future__ import annotations

import orjson
from actionkit import action, infrastructure
from fastapi.testclient import TestClient

from accord.api.app import create_app
from accord.hub import Hub
from accord.stix.extensions import DISRUPTION_EXTENSION_ID
from helpers import community, indicator, relationship

MEDIA = "application/taxii+json;version=2.1"


def test_takedown_over_taxii_expires_indicator_and_definitions_are_served(hub: Hub) -> None:
    community(hub)
    op = hub.viewer_as(None)
    token = hub.create_token(op, "admin@ncc.example")["token"]
    hub.install_extensions()
    coll = hub.add_collection(op, "All", writers="all")["id"]
    client = TestClient(create_app(hub))
    headers = {"Authorization": f"Bearer {token}", "Accept": MEDIA, "Content-Type": MEDIA}
    infra = infrastructure("botnet C2", level="green")
    ind = indicator("c2.example", level="green")
    rel = relationship(ind["id"], infra["id"], level="green")
    act = action([infra["id"]], types=("takedown",), level="green", date="2024-03-01T00:00:00.000Z")
    url = f"/taxii2/api/collections/{coll}/objects/"
    r = client.post(url, content=orjson.dumps({"objects": [infra, ind, rel, act]}), headers=headers)
    assert r.status_code == 202 and r.json()["success_count"] == 4, r.text
    versions = client.get(f"{url}{ind['id']}/versions/", headers=headers).json()["versions"]
    assert len(versions) == 2
    latest = client.get(f"{url}{ind['id']}/", headers=headers).json()["objects"][0]
    assert latest["valid_until"] == "2024-03-01T00:00:00.000Z" and "expired-takedown" in latest["labels"]
    got = client.get(url, params={"match[type]": "disruption-action,extension-definition"}, headers=headers).json()
    types = sorted(o["type"] for o in got["objects"])
    assert types == ["disruption-action", "extension-definition", "extension-definition"]
    assert DISRUPTION_EXTENSION_ID in {o["id"] for o in got["objects"]}
