"""Server-side web sessions: the table stores only a digest; sign-out, idle time, expiry, a changed
credential and an administrator each end a session; a copied cookie is refused afterwards; CSRF tokens
belong to one session; every sign-in, sign-out and revocation is in the audit log."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from accord.access import sessions
from accord.api.app import create_app
from accord.errors import AuthenticationFailed, NotFound, PermissionDenied
from accord.hub import Hub
from accord.store.schema import app_user, web_session
from accord.web.sessions import SESSION_COOKIE, SessionPolicy
from helpers import community

PASSWORD = "correct horse battery staple"
IDLE = timedelta(minutes=60)
DAY = timedelta(hours=12)


@pytest.fixture
def people(hub: Hub) -> dict:
    v = community(hub)
    op = hub.viewer_as(None)
    for email in ("admin@ncc.example", "oa@police.example", "analyst@bank.example", "reader@uni.example"):
        hub.set_password(op, email, PASSWORD)
    return v


def sign_in(hub: Hub, email: str) -> sessions.Session:
    viewer, stamp = hub.authenticate_password(email, PASSWORD)
    return hub.open_session(viewer, "password", stamp, lifetime=DAY, client="web 127.0.0.1", user_agent="pytest")


def shift(hub: Hub, pk: int, **columns: timedelta) -> None:
    """Move a session's times into the past (as if that much time had gone by)."""
    with hub.engine.begin() as conn:
        row = conn.execute(select(web_session).where(web_session.c.pk == pk)).one()
        conn.execute(web_session.update().where(web_session.c.pk == pk)
                     .values(**{k: getattr(row, k) - d for k, d in columns.items()}))  # fmt: skip


def test_the_table_holds_only_a_digest_and_sign_out_ends_the_session(hub: Hub, people: dict) -> None:
    s = sign_in(hub, "analyst@bank.example")
    assert len(s.id) >= 43  # 256 random bits
    with hub.engine.connect() as conn:
        row = conn.execute(select(web_session).where(web_session.c.pk == s.pk)).one()
    assert row.session_hash == sessions.digest(s.id) != s.id and s.id not in str(tuple(row))
    assert row.client == "web 127.0.0.1" and row.user_agent == "pytest" and row.method == "password"
    viewer, same = hub.session(s.id, idle=IDLE)
    assert viewer.email == "analyst@bank.example" and same.pk == s.pk
    hub.close_session(viewer, same)
    with pytest.raises(AuthenticationFailed, match="ended"):
        hub.session(s.id, idle=IDLE)  # the copied cookie is worthless now
    with pytest.raises(AuthenticationFailed, match="not known"):
        hub.session(s.id[:-1] + ("A" if s.id[-1] != "A" else "B"), idle=IDLE)
    actions = [e["action"] for e in hub.audit(hub.viewer_as(None))]
    assert "session.sign-in" in actions and "session.sign-out" in actions


def test_idle_time_and_absolute_expiry_end_a_session(hub: Hub, people: dict) -> None:
    idle = sign_in(hub, "analyst@bank.example")
    shift(hub, idle.pk, last_seen_at=timedelta(minutes=61))
    with pytest.raises(AuthenticationFailed, match="without use"):
        hub.session(idle.id, idle=IDLE)
    shift(hub, idle.pk, last_seen_at=timedelta(minutes=-61))  # back where it was: it stays ended
    with pytest.raises(AuthenticationFailed, match="ended"):
        hub.session(idle.id, idle=IDLE)

    old = sign_in(hub, "analyst@bank.example")
    shift(hub, old.pk, expires_at=DAY + timedelta(seconds=1))
    with pytest.raises(AuthenticationFailed, match="expired"):
        hub.session(old.id, idle=IDLE)
    shift(hub, old.pk, expires_at=sessions.KEEP_ENDED)  # a month later, the next sign-in clears it away
    sign_in(hub, "reader@uni.example")
    with hub.engine.connect() as conn:
        held = {r.session_hash for r in conn.execute(select(web_session.c.session_hash))}
    assert sessions.digest(old.id) not in held and sessions.digest(idle.id) in held

    used = sign_in(hub, "analyst@bank.example")
    shift(hub, used.pk, last_seen_at=timedelta(minutes=50))
    hub.session(used.id, idle=IDLE)  # a request keeps it alive: last_seen_at moves on
    shift(hub, used.pk, last_seen_at=timedelta(minutes=50))
    assert hub.session(used.id, idle=IDLE)[0].email == "analyst@bank.example"
    assert [s["pk"] for s in hub.list_sessions(hub.authenticate_password("analyst@bank.example", PASSWORD)[0],
                                               idle=IDLE)] == [used.pk]  # fmt: skip


def test_a_changed_password_a_revoked_token_or_a_disabled_user_ends_it(hub: Hub, people: dict) -> None:
    s = sign_in(hub, "analyst@bank.example")
    op = hub.viewer_as(None)
    hub.set_password(op, "analyst@bank.example", "another long password")
    with pytest.raises(AuthenticationFailed, match="password has changed"):
        hub.session(s.id, idle=IDLE)

    tok = hub.create_token(op, "reader@uni.example")
    viewer, stamp = hub.authenticate_token(tok["token"])
    ts = hub.open_session(viewer, "token", stamp, lifetime=DAY)
    assert hub.session(ts.id, idle=IDLE)[0].org_name == "Uni"
    hub.revoke_token(op, tok["id"])
    with pytest.raises(AuthenticationFailed, match="revoked or has expired"):
        hub.session(ts.id, idle=IDLE)
    with pytest.raises(AuthenticationFailed, match="ended"):  # and it was revoked on the way
        hub.session(ts.id, idle=IDLE)

    police = sign_in(hub, "oa@police.example")
    with hub.engine.begin() as conn:  # no command disables a user yet; the column is what sessions check
        conn.execute(app_user.update().where(app_user.c.email == "oa@police.example").values(disabled=True))
    with pytest.raises(AuthenticationFailed, match="disabled"):
        hub.session(police.id, idle=IDLE)


def test_who_may_end_whose_sessions(hub: Hub, people: dict) -> None:
    bank = sign_in(hub, "analyst@bank.example")
    police = sign_in(hub, "oa@police.example")
    police_admin = hub.authenticate_password("oa@police.example", PASSWORD)[0]
    reader = hub.authenticate_password("reader@uni.example", PASSWORD)[0]
    # Another organisation's org-admin, or a plain user, cannot: the session's number tells them nothing.
    with pytest.raises(NotFound):
        hub.end_session(police_admin, bank.pk)
    with pytest.raises(NotFound):
        hub.end_session(reader, bank.pk)
    with pytest.raises(PermissionDenied):
        hub.end_sessions(reader, "analyst@bank.example")
    with pytest.raises(PermissionDenied):
        hub.list_sessions(reader, idle=IDLE, managed=True)
    assert {s["email"] for s in hub.list_sessions(police_admin, idle=IDLE, managed=True)} == {"oa@police.example"}
    hub.session(bank.id, idle=IDLE)
    # A hub admin can.
    admin = hub.authenticate_password("admin@ncc.example", PASSWORD)[0]
    assert {s["email"] for s in hub.list_sessions(admin, idle=IDLE, managed=True)} >= {
        "analyst@bank.example", "oa@police.example"}  # fmt: skip
    assert hub.end_session(admin, bank.pk) == {"session": bank.pk, "user": "analyst@bank.example", "ended": True}
    with pytest.raises(AuthenticationFailed, match="ended"):
        hub.session(bank.id, idle=IDLE)
    # The org-admin of the user's organisation can; so can the user, for their own.
    hub.add_user(hub.viewer_as(None), "officer@police.example", "Police", "analyst")
    hub.set_password(hub.viewer_as(None), "officer@police.example", PASSWORD)
    officer = [sign_in(hub, "officer@police.example") for _ in range(3)]
    assert hub.end_sessions(police_admin, "officer@police.example", keep=officer[0].pk)["ended"] == 2
    assert hub.session(officer[0].id, idle=IDLE)[0].email == "officer@police.example"
    me = hub.authenticate_password("officer@police.example", PASSWORD)[0]
    hub.end_session(me, officer[0].pk)
    with pytest.raises(AuthenticationFailed):
        hub.session(officer[0].id, idle=IDLE)
    assert hub.session(police.id, idle=IDLE)[0].email == "oa@police.example"
    actions = [e["action"] for e in hub.audit(hub.viewer_as(None), limit=500)]
    assert actions.count("session.revoke") == 2 and actions.count("session.revoke-all") == 1


def test_session_policy_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from accord.errors import ConfigError

    assert SessionPolicy.from_env() == SessionPolicy(timedelta(hours=12), timedelta(minutes=60))
    monkeypatch.setenv("ACCORD_SESSION_IDLE_MINUTES", "15")
    monkeypatch.setenv("ACCORD_SESSION_HOURS", "8")
    assert SessionPolicy.from_env() == SessionPolicy(timedelta(hours=8), timedelta(minutes=15))
    monkeypatch.setenv("ACCORD_SESSION_IDLE_MINUTES", "soon")
    with pytest.raises(ConfigError, match="ACCORD_SESSION_IDLE_MINUTES must be a whole number"):
        SessionPolicy.from_env()


# -- through HTTP -------------------------------------------------------------------------------


@pytest.fixture
def client(sqlite_hub: Hub) -> Iterator[TestClient]:
    community(sqlite_hub)
    for email in ("analyst@bank.example", "oa@police.example"):
        sqlite_hub.set_password(sqlite_hub.viewer_as(None), email, PASSWORD)
    with TestClient(create_app(sqlite_hub), base_url="https://127.0.0.1") as c:
        yield c


def web_sign_in(c: TestClient, email: str = "analyst@bank.example") -> str:
    token = re.search(r'name="login_token" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"method": "password", "email": email, "password": PASSWORD, "login_token": token},
               follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    return r.cookies[SESSION_COOKIE]


def alive(c: TestClient, cookie: str) -> bool:
    """Whether a session cookie still opens a page (in a fresh client holding only that cookie)."""
    other = TestClient(c.app, base_url="https://127.0.0.1")
    other.cookies.set(SESSION_COOKIE, cookie)
    return other.get("/account", follow_redirects=False).status_code == 200


def csrf_of(c: TestClient, path: str = "/account") -> str:
    return re.search(r'name="csrf" value="([^"]+)"', c.get(path).text).group(1)


def test_a_cookie_copied_before_sign_out_is_refused_after_it(client: TestClient, sqlite_hub: Hub) -> None:
    cookie = web_sign_in(client)
    csrf = csrf_of(client)
    assert client.get("/account").status_code == 200
    assert client.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    thief = TestClient(client.app, base_url="https://127.0.0.1")
    thief.cookies.set(SESSION_COOKIE, cookie)
    r = thief.get("/account", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Faccount&ended=1"
    assert 'accord_session=""' in r.headers["set-cookie"]  # the dead cookie is dropped
    assert "Your session has ended" in thief.get(r.headers["location"]).text
    assert thief.post("/admin/tokens", data={"label": "x", "csrf": csrf}).status_code == 401


def test_csrf_tokens_belong_to_one_session(client: TestClient) -> None:
    web_sign_in(client)
    first = csrf_of(client)
    other = TestClient(client.app, base_url="https://127.0.0.1")
    web_sign_in(other)
    second = csrf_of(other)
    assert first != second
    assert client.post("/admin/tokens", data={"label": "x", "csrf": second}).status_code == 403
    assert client.post("/admin/tokens", data={"label": "x", "csrf": first}).status_code == 200


def test_a_new_sign_in_ends_the_browsers_previous_session(client: TestClient, sqlite_hub: Hub) -> None:
    old = web_sign_in(client)
    new = web_sign_in(client)
    assert old != new
    with pytest.raises(AuthenticationFailed):
        sqlite_hub.session(old, idle=IDLE)


def test_the_account_page_lists_sessions_and_ends_others(client: TestClient, sqlite_hub: Hub) -> None:
    cookie = web_sign_in(client)
    laptop = TestClient(client.app, base_url="https://127.0.0.1", headers={"User-Agent": "Laptop browser"})
    web_sign_in(laptop)
    page = client.get("/account").text
    assert page.count("/end\"") == 2 and "Laptop browser" in page and "this browser" in page
    pks = [int(x) for x in re.findall(r'action="/account/sessions/(\d+)/end"', page)]
    mine = int(re.search(r'<tr class="current"><td>(\d+)</td>', page).group(1))
    laptops = next(p for p in pks if p != mine)
    r = client.post(f"/account/sessions/{laptops}/end", data={"csrf": csrf_of(client)})
    assert r.status_code == 200 and f"Ended session #{laptops}" in r.text
    assert laptop.get("/account", follow_redirects=False).status_code == 303 and alive(client, cookie)
    # Someone else's session number is not yours to end.
    police = TestClient(client.app, base_url="https://127.0.0.1")
    web_sign_in(police, "oa@police.example")
    r = police.post(f"/account/sessions/{mine}/end", data={"csrf": csrf_of(police)})
    assert r.status_code == 404 and client.get("/account").status_code == 200
    # "End all other sessions" keeps this one.
    web_sign_in(laptop)
    r = client.post("/account/sessions/end-others", data={"csrf": csrf_of(client)})
    assert "Ended 1 other session(s)." in r.text
    assert laptop.get("/", follow_redirects=False).status_code == 303 and client.get("/").status_code == 200
    # Ending this browser's own session signs it out.
    r = client.post(f"/account/sessions/{mine}/end", data={"csrf": csrf_of(client)}, follow_redirects=False)
    assert r.status_code == 303 and not alive(client, cookie)


def test_an_org_admin_signs_a_user_out_from_the_admin_page(client: TestClient, sqlite_hub: Hub) -> None:
    op = sqlite_hub.viewer_as(None)
    sqlite_hub.add_user(op, "officer@police.example", "Police", "analyst")
    sqlite_hub.set_password(op, "officer@police.example", PASSWORD)
    officer = TestClient(client.app, base_url="https://127.0.0.1")
    web_sign_in(officer, "officer@police.example")
    web_sign_in(client)  # the bank's analyst: not theirs to manage
    web_sign_in(client, "oa@police.example")
    page = client.get("/admin/sessions").text
    assert "officer@police.example" in page and "analyst@bank.example" not in page
    r = client.post("/admin/sessions/end-user", data={"email": "officer@police.example",
                                                      "csrf": csrf_of(client, "/admin/sessions")})  # fmt: skip
    assert r.status_code == 200 and "Ended 1 session(s) of officer@police.example." in r.text
    assert officer.get("/", follow_redirects=False).status_code == 303
    r = client.post("/admin/sessions/end-user", data={"email": "analyst@bank.example",
                                                      "csrf": csrf_of(client, "/admin/sessions")})  # fmt: skip
    assert r.status_code == 403
    audit = client.get("/admin/audit").text
    assert "session.revoke-all" in audit and "session.sign-in" in audit


def test_changing_the_password_signs_this_browser_out(client: TestClient) -> None:
    cookie = web_sign_in(client)
    elsewhere = web_sign_in(TestClient(client.app, base_url="https://127.0.0.1"))
    r = client.post("/account/password", data={"csrf": csrf_of(client), "current_password": PASSWORD,
                                               "new_password": "a fresh long password",
                                               "new_password_again": "a fresh long password"})  # fmt: skip
    assert r.status_code == 200 and "Password changed" in r.text
    assert not alive(client, cookie) and not alive(client, elsewhere)
