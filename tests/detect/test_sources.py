"""A sweep's indicators: from a remote hub over TAXII 2.1 (paged, as the token's organisation sees
them) and only those in force."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from accord.api.app import create_app
from accord.detect.sources import from_taxii, in_force
from accord.errors import AuthenticationFailed, InvalidInput, NotFound
from accord.hub import Hub
from accord.stix.reader import Item
from helpers import community, indicator


def test_from_taxii_pages_and_respects_visibility(hub: Hub) -> None:
    community(hub)
    op = hub.viewer_as(None)
    green = [indicator(f"g{i}.example", level="green") for i in range(1100)]
    red = indicator("red.example", level="red")
    hub.ingest(hub.viewer_as("NCC"), [Item(i, o) for i, o in enumerate([*green, red])], hub.options())
    coll = hub.add_collection(op, "Everything you may see")["id"]
    token = hub.create_token(op, "analyst@bank.example")["token"]
    client = TestClient(create_app(hub))
    url = f"http://testserver/taxii2/api/collections/{coll}/"
    got = {o["id"] for o in from_taxii(url, token, client=client)}
    assert got == {o["id"] for o in green}
    with pytest.raises(AuthenticationFailed):
        list(from_taxii(url, "acc_wrong", client=TestClient(create_app(hub))))
    with pytest.raises(NotFound):
        list(from_taxii(url.replace(coll, "00000000-0000-4000-8000-000000000000"), token,
                        client=TestClient(create_app(hub))))  # fmt: skip
    with pytest.raises(InvalidInput):
        list(from_taxii("http://testserver/taxii2/api/", token, client=TestClient(create_app(hub))))


def test_in_force() -> None:
    at = datetime(2024, 6, 1, tzinfo=UTC)
    ok = indicator("ok.example")
    revoked = indicator("r.example", revoked=True)
    expired = indicator("e.example", valid_until="2024-05-01T00:00:00Z")
    future = indicator("f.example", valid_from="2025-01-01T00:00:00Z")
    broken = indicator("b.example", valid_from="not a time")
    assert [i["id"] for i in in_force([ok, revoked, expired, future, broken, {"type": "malware"}], at)] == [ok["id"]]
