"""Administration → Users: disabling and enabling users from the page (CSRF-protected forms, the core's
role rules), and failed sign-ins at /login in the audit log (SQLite and PostgreSQL, no browser)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from accord.api.app import create_app
from accord.hub import Hub
from accord.web.sessions import SESSION_COOKIE
from helpers import community

PASSWORD = "correct horse battery staple"


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    community(hub)
    op = hub.viewer_as(None)
    hub.add_user(op, "analyst@police.example", "Police", "analyst")
    hub.add_user(op, "boss@police.example", "Police", "admin")
    for email in ("oa@police.example", "analyst@police.example"):
        hub.set_password(op, email, PASSWORD)
    with TestClient(create_app(hub), base_url="https://127.0.0.1") as c:
        yield c


def login(c: TestClient, email: str, password: str = PASSWORD) -> int:
    token = re.search(r'name="login_token" value="([^"]+)"', c.get("/login").text).group(1)
    return c.post("/login", data={"method": "password", "email": email, "password": password, "login_token": token},
                  follow_redirects=False).status_code  # fmt: skip


def csrf(c: TestClient, path: str = "/admin/users") -> str:
    return re.search(r'name="csrf" value="([^"]+)"', c.get(path).text).group(1)


def test_an_org_admin_disables_and_enables_a_user_from_the_users_page(client: TestClient, hub: Hub) -> None:
    assert login(client, "oa@police.example") == 303
    page = client.get("/admin/users").text
    # Offered for their own organisation's users up to their role; not for themselves or a stronger admin.
    assert 'aria-label="Disable analyst@police.example"' in page
    assert 'aria-label="Disable oa@police.example"' not in page
    assert 'aria-label="Disable boss@police.example"' not in page
    assert "analyst@bank.example" not in page

    with TestClient(create_app(hub), base_url="https://127.0.0.1") as victim:
        assert login(victim, "analyst@police.example") == 303
        assert victim.get("/", follow_redirects=False).status_code == 200

        token = csrf(client)
        assert client.post("/admin/users/disable", data={"email": "analyst@police.example"}).status_code == 403
        r = client.post("/admin/users/disable", data={"email": "analyst@police.example", "csrf": token})
        assert (
            r.status_code == 200 and "Disabled analyst@police.example" in r.text and "1 web session(s) ended" in r.text
        )
        assert 'aria-label="Enable analyst@police.example"' in r.text
        # The disabled user's browser session is over, and the password no longer signs in.
        assert victim.get("/", follow_redirects=False).headers["location"].startswith("/login")
        assert login(victim, "analyst@police.example") == 401

        # The core refuses what the page does not offer.
        r = client.post("/admin/users/disable", data={"email": "boss@police.example", "csrf": token})
        assert r.status_code == 403 and "above their own" in r.text
        r = client.post("/admin/users/disable", data={"email": "oa@police.example", "csrf": token})
        assert r.status_code == 403 and "yourself" in r.text
        r = client.post("/admin/users/disable", data={"email": "analyst@bank.example", "csrf": token})
        assert r.status_code == 403 and "own organisation" in r.text
        assert client.post("/admin/users/disable", data={"csrf": token}).status_code == 400

        r = client.post("/admin/users/enable", data={"email": "analyst@police.example", "csrf": token})
        assert r.status_code == 200 and "Enabled analyst@police.example" in r.text
        assert login(victim, "analyst@police.example") == 303
    log = [(e["action"], e["actor"], e["target"]) for e in hub.audit(hub.viewer_as(None), limit=100)
           if e["action"] in ("user.disable", "user.enable")]  # fmt: skip
    assert log == [("user.enable", "oa@police.example", "analyst@police.example"),
                   ("user.disable", "oa@police.example", "analyst@police.example")]  # fmt: skip


def test_readers_and_analysts_see_no_switch(client: TestClient) -> None:
    assert login(client, "analyst@police.example") == 303
    page = client.get("/admin/users").text
    assert "/admin/users/disable" not in page and "/admin/users/enable" not in page
    r = client.post("/admin/users/disable", data={"email": "oa@police.example", "csrf": csrf(client)})
    assert r.status_code == 403


def test_failed_sign_ins_at_the_login_page_are_audited(client: TestClient, hub: Hub) -> None:
    assert login(client, "oa@police.example", "not the password!") == 401
    assert login(client, "ghost@police.example", "whatever it was!!") == 401
    token = re.search(r'name="login_token" value="([^"]+)"', client.get("/login").text).group(1)
    r = client.post("/login", data={"method": "token", "token": "acc_typed-by-mistake", "login_token": token},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 401 and SESSION_COOKIE not in r.cookies
    failed = [(e["target"], e["source"], e["detail"]) for e in hub.audit(hub.viewer_as(None), limit=100)
              if e["action"] == "session.sign-in-failed"]  # fmt: skip
    assert failed == [
        (None, "web testclient", {"method": "token", "reason": "unknown token"}),
        ("ghost@police.example", "web testclient", {"method": "password", "reason": "unknown user"}),
        ("oa@police.example", "web testclient", {"method": "password", "reason": "wrong password"}),
    ]
    text = str(hub.audit(hub.viewer_as(None), limit=100))
    assert "not the password!" not in text and "acc_typed-by-mistake" not in text
