"""Administration → Organisations: registering a partner hub from the page (as ``accord partner add``), its
token shown once, partner hubs listed with their kind (SQLite and PostgreSQL, no browser)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from accord.api.app import create_app
from accord.hub import Hub
from helpers import community


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    community(hub)
    with TestClient(create_app(hub), base_url="https://127.0.0.1") as c:
        yield c


def bearer(hub: Hub, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {hub.create_token(hub.viewer_as(None), email)['token']}"}


def test_a_hub_admin_registers_a_partner_hub_and_sees_its_token_once(client: TestClient, hub: Hub) -> None:
    admin = bearer(hub, "admin@ncc.example")
    page = client.get("/admin/orgs", headers=admin).text
    assert "Register a partner hub" in page and "No partner hubs registered." in page

    r = client.post("/admin/orgs/partners", headers=admin,
                    data={"name": "Hub B", "country": "fr", "user": "pull@hub-b.example", "days": "30"})  # fmt: skip
    assert r.status_code == 200, r.text[-800:]
    assert "Registered the partner hub Hub B with its reader pull@hub-b.example." in r.text
    token = re.search(r'id="new-token" class="secret">(acc_[^<]+)<', r.text).group(1)
    # The token is the partner's: it reads over TAXII as partner hub Hub B, and is refused by the REST API.
    viewer = hub.authenticate(f"Bearer {token}", partner_ok=True)
    assert viewer.partner and viewer.org_name == "Hub B" and viewer.email == "pull@hub-b.example"
    assert client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {token}"}).status_code == 403
    (tok,) = hub.list_tokens(hub.viewer_as(None), "pull@hub-b.example")
    assert (tok["expires_at"] - tok["created_at"]).days == 30

    # Listed with its kind, in the organisations table and among the partner hubs; the token is not shown again.
    page = client.get("/admin/orgs", headers=admin).text
    assert token not in page and "new-token" not in page
    partners_table = page.split('id="h-partners"', 1)[1]
    assert re.search(r"<td>Hub B</td><td>partner-hub</td><td>FR</td><td>pull@hub-b.example</td>", partners_table)
    assert re.search(r"<td>Bank</td><td>member</td>", page)

    # Without a user: only the organisation; no token section.
    r = client.post("/admin/orgs/partners", headers=admin, data={"name": "Hub C", "country": "DE"})
    assert r.status_code == 200 and "Registered the partner hub Hub C." in r.text and "new-token" not in r.text
    assert {p["name"]: p["kind"] for p in hub.list_orgs(hub.viewer_as(None)) if p["kind"] == "partner-hub"} == {
        "Hub B": "partner-hub", "Hub C": "partner-hub"}  # fmt: skip
    assert [e["target"] for e in hub.audit(hub.viewer_as(None), limit=50) if e["action"] == "org.add"][:2] == [
        "Hub C", "Hub B"]  # fmt: skip


def test_bad_partner_forms_are_refused_with_the_reason(client: TestClient, hub: Hub) -> None:
    admin = bearer(hub, "admin@ncc.example")
    cases = [
        ({"name": "Hub B", "country": "France"}, 400, "country must be an ISO 3166-1 alpha-2 code"),
        ({"name": "Hub B", "country": "FR", "days": "0"}, 400, "1 to 3650 days"),
        ({"name": "Hub B", "country": "FR", "user": "not an address"}, 400, "is not an e-mail address"),
        ({"name": "Hub B", "country": "FR", "user": "analyst@bank.example"}, 409, "already exists"),
        ({"name": "Bank", "country": "FR"}, 409, "already exists"),
        ({"name": "Hub B", "country": "FR", "sector": "spaceships"}, 400, "unknown sector"),
    ]
    for form, status, message in cases:
        r = client.post("/admin/orgs/partners", headers=admin, data=form)
        assert r.status_code == status and message in r.text, (form, r.status_code, r.text[-600:])
    # Nothing half-made: no partner hub, no user.
    assert [o for o in hub.list_orgs(hub.viewer_as(None)) if o["kind"] == "partner-hub"] == []


def test_only_a_hub_admin_registers_partner_hubs(client: TestClient, hub: Hub) -> None:
    oa = bearer(hub, "oa@police.example")
    page = client.get("/admin/orgs", headers=oa).text
    assert "Register a partner hub" not in page and "/admin/orgs/partners" not in page
    r = client.post("/admin/orgs/partners", headers=oa, data={"name": "Hub B", "country": "FR"})
    assert r.status_code == 403 and "only a hub admin may register partner hubs" in r.text
    assert "Hub B" not in {o["name"] for o in hub.list_orgs(hub.viewer_as(None))}
