"""Organisations, users, roles, tokens, sharing groups and the audit log."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from accord.errors import AlreadyExists, AuthenticationFailed, InvalidInput, PermissionDenied
from accord.hub import Hub
from accord.stix.timestamps import now
from accord.store.schema import api_token
from helpers import community


def login(hub: Hub, email: str) -> tuple[str, object]:
    token = hub.create_token(hub.viewer_as(None), email)["token"]
    return token, hub.authenticate(f"Bearer {token}")


def test_organisations_are_stix_identities(hub: Hub) -> None:
    v = community(hub)
    ident = hub.get(v["Uni"], v["NCC"].org_identity)["object"]
    assert ident["type"] == "identity" and ident["identity_class"] == "organization"
    assert ident["sectors"] == ["government-national"] and ident["x_accord_country"] == "GB"


def test_org_validation(hub: Hub) -> None:
    op = hub.viewer_as(None)
    with pytest.raises(InvalidInput, match="sector"):
        hub.add_org(op, "X", "spaceships", "GB")
    with pytest.raises(InvalidInput, match="country"):
        hub.add_org(op, "X", "cert", "Great Britain")
    hub.add_org(op, "X", "cert", "gb")
    with pytest.raises(AlreadyExists):
        hub.add_org(op, "X", "cert", "GB")


def test_tokens_are_stored_only_as_hashes(hub: Hub) -> None:
    community(hub)
    token, viewer = login(hub, "analyst@bank.example")
    assert viewer.org_name == "Bank" and viewer.role == "analyst"
    with hub.engine.connect() as conn:
        stored = [tuple(r) for r in conn.execute(select(api_token))]
    assert all(token not in str(row) for row in stored)


def test_basic_auth_with_user_and_token(hub: Hub) -> None:
    community(hub)
    token, _ = login(hub, "analyst@bank.example")
    good = base64.b64encode(f"analyst@bank.example:{token}".encode()).decode()
    assert hub.authenticate(f"Basic {good}").email == "analyst@bank.example"
    wrong_user = base64.b64encode(f"oa@police.example:{token}".encode()).decode()
    with pytest.raises(AuthenticationFailed):
        hub.authenticate(f"Basic {wrong_user}")
    with pytest.raises(AuthenticationFailed, match="base64"):
        hub.authenticate("Basic !!!")


def test_wrong_revoked_and_expired_tokens_are_refused(hub: Hub) -> None:
    community(hub)
    with pytest.raises(AuthenticationFailed, match="not valid"):
        hub.authenticate("Bearer acc_nope")
    with pytest.raises(AuthenticationFailed):
        hub.authenticate("Token abc")
    tok = hub.create_token(hub.viewer_as(None), "analyst@bank.example")
    hub.revoke_token(hub.viewer_as(None), tok["id"])
    with pytest.raises(AuthenticationFailed, match="revoked"):
        hub.authenticate(f"Bearer {tok['token']}")
    tok = hub.create_token(hub.viewer_as(None), "analyst@bank.example")
    with hub.engine.begin() as conn:
        conn.execute(update(api_token).where(api_token.c.pk == tok["id"]).values(expires_at=now() - timedelta(1)))
    with pytest.raises(AuthenticationFailed, match="expired"):
        hub.authenticate(f"Bearer {tok['token']}")


def test_org_admin_cannot_grant_more_than_they_hold_nor_touch_another_org(hub: Hub) -> None:
    community(hub)
    _, oa = login(hub, "oa@police.example")
    hub.add_user(oa, "new@police.example", "Police", "analyst")
    hub.add_user(oa, "oa2@police.example", "Police", "org-admin")
    with pytest.raises(PermissionDenied, match="above their own"):
        hub.add_user(oa, "boss@police.example", "Police", "admin")
    with pytest.raises(PermissionDenied, match="own organisation"):
        hub.add_user(oa, "spy@bank.example", "Bank", "reader")
    with pytest.raises(PermissionDenied):
        hub.create_token(oa, "analyst@bank.example")
    with pytest.raises(PermissionDenied):
        hub.add_org(oa, "Rogue", "cert", "GB")
    assert {u["org"] for u in hub.list_users(oa)} == {"Police"}


def test_analysts_and_readers_manage_nobody(hub: Hub) -> None:
    community(hub)
    _, analyst = login(hub, "analyst@bank.example")
    with pytest.raises(PermissionDenied):
        hub.add_user(analyst, "x@bank.example", "Bank", "reader")
    with pytest.raises(PermissionDenied):
        hub.add_group(analyst, "bankers", "Bank")
    own = hub.create_token(analyst, "analyst@bank.example")
    assert own["user"] == "analyst@bank.example"


def test_group_members_see_names_only_when_the_owner_allows(hub: Hub) -> None:
    v = community(hub)
    op = hub.viewer_as(None)
    hub.add_group(op, "open", "NCC", ["Bank", "Police"], members_visible=True)
    listed = {g["name"]: g for g in hub.list_groups(hub.viewer_as("Bank"))}
    assert listed["taskforce"]["members"] is None and listed["taskforce"]["member_count"] == 3
    assert listed["open"]["members"] == ["Bank", "NCC", "Police"]
    assert hub.list_groups(v["Uni"]) == []
    owner_view = {g["name"]: g for g in hub.list_groups(hub.viewer_as("NCC"))}
    assert owner_view["taskforce"]["members"] == ["Bank", "NCC", "Police"]


def test_org_admin_manages_only_groups_their_org_owns(hub: Hub) -> None:
    community(hub)
    _, oa = login(hub, "oa@police.example")
    hub.add_group(oa, "police-only", "Police", ["Uni"])
    hub.add_group_member(oa, "police-only", "Bank")
    hub.remove_group_member(oa, "police-only", "Uni")
    with pytest.raises(PermissionDenied):
        hub.add_group_member(oa, "taskforce", "Uni")
    with pytest.raises(PermissionDenied):
        hub.add_group(oa, "fake", "NCC")


def test_audit_log_records_writes_and_admin_changes(hub: Hub) -> None:
    community(hub)
    from helpers import indicator, items

    _, analyst = login(hub, "analyst@bank.example")
    hub.ingest(analyst, items(indicator()), hub.options(via="api"))
    entries = hub.audit(hub.viewer_as(None), limit=100)
    actions = [e["action"] for e in entries]
    for needed in ("org.add", "user.add", "group.add", "token.create", "objects.ingest"):
        assert needed in actions
    ingest = next(e for e in entries if e["action"] == "objects.ingest")
    assert ingest["actor"] == "analyst@bank.example" and ingest["detail"]["added"] == 1
    with pytest.raises(PermissionDenied):
        hub.audit(analyst)


def test_sign_in_works_while_a_long_write_holds_the_sqlite_lock(sqlite_hub: Hub) -> None:
    community(sqlite_hub)
    token = sqlite_hub.create_token(sqlite_hub.viewer_as(None), "analyst@bank.example")["token"]
    blocker = sqlite_hub.engine.raw_connection()
    try:
        blocker.execute("BEGIN IMMEDIATE")
        viewer = sqlite_hub.authenticate(f"Bearer {token}")
        assert viewer.email == "analyst@bank.example"
    finally:
        blocker.rollback()
        blocker.close()
    with sqlite_hub.engine.connect() as conn:
        assert conn.execute(select(api_token.c.last_used_at)).scalar() is None
    sqlite_hub.authenticate(f"Bearer {token}")
    with sqlite_hub.engine.connect() as conn:
        assert conn.execute(select(api_token.c.last_used_at)).scalar() is not None
