"""Disabling and enabling users: who may, what stops (tokens, password, web sessions), the audit log, and
failed sign-ins recorded in the audit log (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from accord.access import users
from accord.api.app import create_app
from accord.cli.main import app as cli_app
from accord.errors import AuthenticationFailed, NotFound, PermissionDenied
from accord.federation import partners
from accord.hub import Hub
from accord.store.schema import audit_log, web_session
from helpers import community

PASSWORD = "correct horse battery staple"
DAY = timedelta(hours=12)


@pytest.fixture
def people(hub: Hub) -> dict:
    v = community(hub)
    op = hub.viewer_as(None)
    hub.add_user(op, "oa@bank.example", "Bank", "org-admin")
    hub.add_user(op, "oa2@police.example", "Police", "org-admin")
    hub.add_user(op, "analyst@police.example", "Police", "analyst")
    hub.add_user(op, "boss@police.example", "Police", "admin")
    for email in ("admin@ncc.example", "oa@police.example", "analyst@police.example", "analyst@bank.example"):
        hub.set_password(op, email, PASSWORD)
    return v


def as_user(hub: Hub, email: str):
    return hub.authenticate(f"Bearer {hub.create_token(hub.viewer_as(None), email)['token']}")


def entries(hub: Hub, action: str) -> list[dict]:
    return [e for e in hub.audit(hub.viewer_as(None), limit=1000) if e["action"] == action]


def test_a_disabled_users_tokens_password_and_sessions_stop(hub: Hub, people: dict) -> None:
    op = hub.viewer_as(None)
    token = hub.create_token(op, "analyst@police.example")["token"]
    assert hub.authenticate(f"Bearer {token}").email == "analyst@police.example"
    viewer, stamp = hub.authenticate_password("analyst@police.example", PASSWORD)
    session = hub.open_session(viewer, "password", stamp, lifetime=DAY)
    assert hub.session(session.id, idle=DAY)[0].email == "analyst@police.example"

    oa = as_user(hub, "oa@police.example")
    out = hub.set_user_disabled(oa, "analyst@police.example", True)
    assert out == {"email": "analyst@police.example", "org": "Police", "role": "analyst", "disabled": True,
                   "changed": True, "sessions_ended": 1}  # fmt: skip
    with pytest.raises(AuthenticationFailed, match="disabled"):
        hub.authenticate(f"Bearer {token}")
    with pytest.raises(AuthenticationFailed, match="disabled"):
        hub.authenticate_password("analyst@police.example", PASSWORD)
    with pytest.raises(AuthenticationFailed):
        hub.session(session.id, idle=DAY)
    assert [u["disabled"] for u in hub.list_users(op) if u["email"] == "analyst@police.example"] == [True]

    again = hub.set_user_disabled(oa, "analyst@police.example", True)
    assert again["changed"] is False and again["sessions_ended"] == 0

    back = hub.set_user_disabled(oa, "analyst@police.example", False)
    assert back["changed"] is True and back["disabled"] is False
    assert hub.authenticate(f"Bearer {token}").email == "analyst@police.example"  # the token works again
    with pytest.raises(AuthenticationFailed, match="ended"):  # the session does not come back
        hub.session(session.id, idle=DAY)
    with hub.engine.connect() as conn:
        row = conn.execute(select(web_session.c.revoked_at).where(web_session.c.pk == session.pk)).one()
    assert row.revoked_at is not None

    disabled = entries(hub, "user.disable")
    assert len(disabled) == 1 and disabled[0]["actor"] == "oa@police.example"
    assert disabled[0]["target"] == "analyst@police.example" and disabled[0]["detail"]["sessions_ended"] == 1
    enabled = entries(hub, "user.enable")
    assert len(enabled) == 1 and enabled[0]["actor"] == "oa@police.example"


def test_who_may_disable_whom(hub: Hub, people: dict) -> None:
    police_oa = as_user(hub, "oa@police.example")
    analyst = as_user(hub, "analyst@police.example")
    with pytest.raises(PermissionDenied, match="own organisation"):
        hub.set_user_disabled(police_oa, "analyst@bank.example", True)
    with pytest.raises(PermissionDenied, match="above their own"):
        hub.set_user_disabled(police_oa, "boss@police.example", True)
    with pytest.raises(PermissionDenied, match="only an admin or an org-admin"):
        hub.set_user_disabled(analyst, "oa@police.example", True)
    with pytest.raises(PermissionDenied, match="yourself"):
        hub.set_user_disabled(police_oa, "oa@police.example", True)
    admin = as_user(hub, "admin@ncc.example")
    with pytest.raises(PermissionDenied, match="yourself"):
        hub.set_user_disabled(admin, "admin@ncc.example", True)
    with pytest.raises(NotFound, match="no user"):
        hub.set_user_disabled(admin, "nobody@nowhere.example", True)
    # An org-admin may disable another org-admin of their organisation (same role, not stronger).
    assert hub.set_user_disabled(police_oa, "oa2@police.example", True)["changed"] is True
    # A hub admin may disable anyone, another admin included, and enable them again.
    assert hub.set_user_disabled(admin, "boss@police.example", True)["disabled"] is True
    assert hub.set_user_disabled(admin, "boss@police.example", False)["disabled"] is False
    assert hub.set_user_disabled(admin, "analyst@bank.example", True)["changed"] is True
    # A refused attempt changes nothing and is not audited.
    assert [e["target"] for e in entries(hub, "user.disable")] == ["analyst@bank.example", "boss@police.example",
                                                                    "oa2@police.example"]  # fmt: skip
    assert {u["email"] for u in hub.list_users(hub.viewer_as(None)) if u["disabled"]} == {
        "analyst@bank.example", "oa2@police.example"}  # fmt: skip


def test_a_partner_hubs_reader_can_be_disabled(hub: Hub, people: dict) -> None:
    op = hub.viewer_as(None)
    out = partners.add(hub, op, "Hub B", "FR", user="pull@hub-b.example")
    assert hub.authenticate(f"Bearer {out['token']}", partner_ok=True).partner
    hub.set_user_disabled(op, "pull@hub-b.example", True)
    with pytest.raises(AuthenticationFailed, match="disabled"):
        hub.authenticate(f"Bearer {out['token']}", partner_ok=True)


def test_failed_sign_ins_are_audited_without_the_secret(hub: Hub, people: dict) -> None:
    op = hub.viewer_as(None)
    hub.add_user(op, "nopass@bank.example", "Bank", "reader")
    tries = [
        ("Nobody@Nowhere.example", "whatever password 1"),
        ("analyst@bank.example", "the wrong password 2"),
        ("nopass@bank.example", "any password at all 3"),
        ("my secret password 4", "my secret password 4"),  # typed into the e-mail field by mistake
        ("x" * 300 + "@long.example", "long address pw 5"),
    ]
    for email, password in tries:
        with pytest.raises(AuthenticationFailed):
            hub.authenticate_password(email, password, source="web 192.0.2.7")
    hub.set_user_disabled(op, "analyst@police.example", True)
    with pytest.raises(AuthenticationFailed, match="disabled"):
        hub.authenticate_password("analyst@police.example", PASSWORD, source="web 192.0.2.8")
    with pytest.raises(AuthenticationFailed):
        hub.authenticate_password("analyst@police.example", "not it either 6", source="web 192.0.2.8")

    tok = hub.create_token(op, "analyst@bank.example")
    hub.revoke_token(op, tok["id"])
    for token in ("acc_not-a-token-7", tok["token"]):
        with pytest.raises(AuthenticationFailed):
            hub.authenticate_token(token, source="web 192.0.2.9")
    partner = partners.add(hub, op, "Hub B", "FR", user="pull@hub-b.example")["token"]
    with pytest.raises(AuthenticationFailed, match="partner hub"):
        hub.authenticate_token(partner, source="web 192.0.2.9")

    got = [(e["target"], e["source"], e["detail"]["method"], e["detail"]["reason"], e["actor"])
           for e in reversed(entries(hub, "session.sign-in-failed"))]  # fmt: skip
    assert got == [
        ("Nobody@Nowhere.example", "web 192.0.2.7", "password", "unknown user", "anonymous"),
        ("analyst@bank.example", "web 192.0.2.7", "password", "wrong password", "anonymous"),
        ("nopass@bank.example", "web 192.0.2.7", "password", "no password set", "anonymous"),
        ("(not an e-mail address: 20 characters)", "web 192.0.2.7", "password", "unknown user", "anonymous"),
        ("x" * 119 + "…", "web 192.0.2.7", "password", "unknown user", "anonymous"),
        ("analyst@police.example", "web 192.0.2.8", "password", "disabled", "anonymous"),
        ("analyst@police.example", "web 192.0.2.8", "password", "wrong password (user disabled)", "anonymous"),
        (None, "web 192.0.2.9", "token", "unknown token", "anonymous"),
        ("analyst@bank.example", "web 192.0.2.9", "token", "revoked token", "anonymous"),
        ("pull@hub-b.example", "web 192.0.2.9", "token", "partner hub", "anonymous"),
    ]
    # A known user's failures are the organisation's to see; an unknown one only the hub admins'.
    police_oa = as_user(hub, "oa@police.example")
    seen = [e for e in hub.audit(police_oa, limit=1000) if e["action"] == "session.sign-in-failed"]
    assert {e["target"] for e in seen} == {"analyst@police.example"}
    # No password and no token typed is anywhere in the log.
    with hub.engine.connect() as conn:
        log = " ".join(str(tuple(r)) for r in conn.execute(select(audit_log)))
    for secret in [p for _, p in tries] + [PASSWORD, "not it either 6", "acc_not-a-token-7", tok["token"], partner]:
        assert secret not in log
    # A successful sign-in records no failure.
    before = len(entries(hub, "session.sign-in-failed"))
    hub.authenticate_password("analyst@bank.example", PASSWORD)
    assert len(entries(hub, "session.sign-in-failed")) == before


def test_typed_email_for_the_log() -> None:
    assert users.typed_email(" a@b.example ") == "a@b.example"
    assert users.typed_email("a@b.example\x00") == "(not an e-mail address: 12 characters)"
    assert users.typed_email("") == "(not an e-mail address: 0 characters)"
    assert len(users.typed_email("a" * 500 + "@b.example")) == users.TYPED_EMAIL_MAX


def test_rest_disable_and_enable(hub: Hub, people: dict) -> None:
    op = hub.viewer_as(None)
    oa = {"Authorization": f"Bearer {hub.create_token(op, 'oa@police.example')['token']}"}
    target = hub.create_token(op, "analyst@police.example")["token"]
    with TestClient(create_app(hub)) as c:
        r = c.post("/api/v1/users/analyst@police.example/disable", headers=oa)
        assert r.status_code == 200 and r.json()["disabled"] is True and r.json()["changed"] is True
        assert c.get("/api/v1/whoami", headers={"Authorization": f"Bearer {target}"}).status_code == 401
        r = c.post("/api/v1/users/analyst@bank.example/disable", headers=oa)
        assert r.status_code == 403 and "own organisation" in r.json()["error"]["message"]
        r = c.post("/api/v1/users/oa@police.example/disable", headers=oa)
        assert r.status_code == 403 and "yourself" in r.json()["error"]["message"]
        assert c.post("/api/v1/users/ghost@police.example/enable", headers=oa).status_code == 404
        r = c.post("/api/v1/users/analyst@police.example/enable", headers=oa)
        assert r.status_code == 200 and r.json()["disabled"] is False
        assert c.get("/api/v1/whoami", headers={"Authorization": f"Bearer {target}"}).json()["user"] == (
            "analyst@police.example")  # fmt: skip
    assert [e["source"] for e in entries(hub, "user.disable")] == ["api testclient"]


def test_cli_disable_and_enable(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    assert runner.invoke(cli_app, ["init"]).exit_code == 0
    assert runner.invoke(cli_app, ["org", "add", "Org A", "--sector", "cert", "--country", "GB"]).exit_code == 0
    assert runner.invoke(cli_app, ["user", "add", "a@a.example", "--org", "Org A"]).exit_code == 0
    r = runner.invoke(cli_app, ["user", "disable", "a@a.example"])
    assert r.exit_code == 0 and "disabled a@a.example (Org A)" in r.stdout and "0 web session(s) ended" in r.stdout
    r = runner.invoke(cli_app, ["user", "disable", "a@a.example", "--json"])
    assert r.exit_code == 0 and '"changed": false' in r.stdout
    r = runner.invoke(cli_app, ["user", "enable", "a@a.example"])
    assert r.exit_code == 0 and "enabled a@a.example" in r.stdout
    assert "Example: accord user disable" in runner.invoke(cli_app, ["user", "disable", "--help"]).stdout
    r = runner.invoke(cli_app, ["user", "disable", "ghost@a.example"])
    assert r.exit_code != 0 and isinstance(r.exception, NotFound)
