"""Passwords, sessions, CSRF and the pages' HTTP behaviour, without a browser (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from accord.api.app import create_app
from accord.cli.main import app as cli_app
from accord.errors import AuthenticationFailed, InvalidInput, PermissionDenied
from accord.hub import Hub
from accord.web import present
from accord.web.sessions import SESSION_COOKIE, Signer
from helpers import community, indicator, items

PASSWORD = "correct horse battery staple"


@pytest.fixture
def people(hub: Hub) -> dict:
    v = community(hub)
    op = hub.viewer_as(None)
    for email in ("admin@ncc.example", "oa@police.example", "analyst@bank.example", "reader@uni.example"):
        hub.set_password(op, email, PASSWORD)
    return v


def viewer(hub: Hub, email: str):
    return hub.authenticate_password(email, PASSWORD)[0]


def test_passwords_follow_the_role_rules(hub: Hub, people: dict) -> None:
    reader = viewer(hub, "reader@uni.example")
    hub.set_password(reader, "reader@uni.example", "a new long password")  # oneself
    with pytest.raises(PermissionDenied):
        hub.set_password(reader, "analyst@bank.example", "taking over the bank")
    police_admin = viewer(hub, "oa@police.example")
    with pytest.raises(PermissionDenied, match="own organisation"):
        hub.set_password(police_admin, "analyst@bank.example", "taking over the bank")
    with pytest.raises(InvalidInput, match="12 to 1024"):
        hub.set_password(hub.viewer_as(None), "analyst@bank.example", "short")
    with pytest.raises(InvalidInput, match="5 different"):
        hub.set_password(hub.viewer_as(None), "analyst@bank.example", "aaaaaaaaaaaaaaaa")
    assert any(e["action"] == "user.password" for e in hub.audit(hub.viewer_as(None)))


def test_wrong_password_and_unknown_user_get_the_same_answer(hub: Hub, people: dict) -> None:
    v, stamp = hub.authenticate_password("Analyst@Bank.example ", PASSWORD)
    assert v.org_name == "Bank" and v.role == "analyst" and len(stamp) == 32
    answers = []
    for email, pw in (("analyst@bank.example", "wrong password!"), ("nobody@bank.example", PASSWORD)):
        with pytest.raises(AuthenticationFailed) as exc:
            hub.authenticate_password(email, pw)
        answers.append(exc.value.message)
    assert answers[0] == answers[1]
    hub.add_user(hub.viewer_as(None), "nopass@bank.example", "Bank", "reader")
    with pytest.raises(AuthenticationFailed):
        hub.authenticate_password("nopass@bank.example", "")


def test_a_session_ends_with_its_credential(hub: Hub, people: dict) -> None:
    v, stamp = hub.authenticate_password("analyst@bank.example", PASSWORD)
    assert hub.session_viewer(v.user_pk, "password", stamp).email == "analyst@bank.example"
    hub.set_password(hub.viewer_as(None), "analyst@bank.example", "a different password")
    with pytest.raises(AuthenticationFailed, match="password has changed"):
        hub.session_viewer(v.user_pk, "password", stamp)

    tok = hub.create_token(hub.viewer_as(None), "analyst@bank.example")
    tv, tstamp = hub.authenticate_token(tok["token"])
    assert tstamp != tok["token"] and hub.session_viewer(tv.user_pk, "token", tstamp).org_name == "Bank"
    with pytest.raises(AuthenticationFailed):
        hub.session_viewer(tv.user_pk + 1, "token", tstamp)  # someone else's user
    hub.revoke_token(hub.viewer_as(None), tok["id"])
    with pytest.raises(AuthenticationFailed, match="revoked or has expired"):
        hub.session_viewer(tv.user_pk, "token", tstamp)
    with pytest.raises(AuthenticationFailed):
        hub.session_viewer(tv.user_pk, "magic", tstamp)


def test_search_pages_cover_every_hit_once(hub: Hub, people: dict) -> None:
    objs = [indicator(f"page-{i}.example", level="green", labels=["paging"]) for i in range(23)]
    hub.ingest(people["Bank"], items(*objs), hub.options(via="cli"))
    for cap, total in ((1000, 23), (5, None)):  # counted exactly, and past the counted window
        hub.SEARCH_COUNT_CAP = cap
        seen, cursor, pages = [], None, 0
        while True:
            page = hub.search_page(people["Uni"], label="paging", cursor=cursor, limit=10)
            assert page["total"] == total
            seen += [r["id"] for r in page["objects"]]
            pages += 1
            cursor = page["next"]
            if cursor is None:
                break
        assert pages == 3 and sorted(seen) == sorted(o["id"] for o in objs)
    assert hub.lookup(people["Uni"], [objs[0]["id"], "indicator--00000000-0000-4000-8000-000000000000"]).keys() == {
        objs[0]["id"]
    }


def flip(text: str) -> str:
    """The same text with its last character changed."""
    return text[:-1] + ("B" if text[-1] == "A" else "A")


def test_the_sign_in_forms_token() -> None:
    signer, other = Signer(b"k" * 32), Signer(b"x" * 32)
    nonce = signer.login_nonce()
    token = signer.login_token(nonce)
    assert signer.check_login(nonce, token) and not signer.check_login(nonce, flip(token))
    assert not signer.check_login(None, token) and not signer.check_login(nonce, None)
    assert not other.check_login(nonce, token)  # another hub's secret


@pytest.fixture
def client(sqlite_hub: Hub) -> Iterator[TestClient]:
    community(sqlite_hub)
    sqlite_hub.set_password(sqlite_hub.viewer_as(None), "analyst@bank.example", PASSWORD)
    with TestClient(create_app(sqlite_hub), base_url="https://127.0.0.1") as c:
        yield c


def sign_in(c: TestClient, next_url: str = "/") -> str:
    form = c.get("/login").text
    token = re.search(r'name="login_token" value="([^"]+)"', form).group(1)
    r = c.post("/login", data={"method": "password", "email": "analyst@bank.example", "password": PASSWORD,
                               "login_token": token, "next": next_url}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    return r.headers["location"]


def test_sign_in_needs_the_login_form_token_and_never_redirects_off_site(client: TestClient) -> None:
    r = client.post("/login", data={"method": "password", "email": "analyst@bank.example", "password": PASSWORD})
    assert r.status_code == 400 and SESSION_COOKIE not in r.cookies
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        assert sign_in(client, target) == "/"
    assert sign_in(client, "/search?q=x") == "/search?q=x"


def test_forms_need_the_csrf_token(client: TestClient) -> None:
    sign_in(client)
    page = client.get("/admin/tokens").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    assert client.post("/admin/tokens", data={"label": "x"}).status_code == 403
    assert client.post("/admin/tokens", data={"label": "x", "csrf": csrf + "x"}).status_code == 403
    r = client.post("/admin/tokens", data={"label": "from the form", "csrf": csrf})
    assert r.status_code == 200 and re.search(r'id="new-token" class="secret">acc_', r.text)
    assert client.post("/logout", data={}).status_code == 403
    assert client.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303


def test_pages_take_bearer_tokens_not_basic_and_carry_security_headers(client: TestClient, sqlite_hub: Hub) -> None:
    tok = sqlite_hub.create_token(sqlite_hub.viewer_as(None), "analyst@bank.example")["token"]
    r = client.get("/search", headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code == 200 and "Bank" in r.text
    assert "script-src 'self'" in r.headers["content-security-policy"] and r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["referrer-policy"] == "same-origin"
    # A Bearer request needs no CSRF token: no cookie is involved.
    made = client.post("/admin/tokens", data={"label": "script"}, headers={"Authorization": f"Bearer {tok}"})
    assert made.status_code == 200 and "New token" in made.text
    import base64

    basic = base64.b64encode(f"analyst@bank.example:{tok}".encode()).decode()
    assert client.get("/", headers={"Authorization": f"Basic {basic}"}).status_code == 401
    assert client.get("/", headers={"Authorization": "Bearer acc_nope"}).status_code == 401
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    assert client.get("/objects/x", follow_redirects=False).headers["location"] == "/login?next=%2Fobjects%2Fx"
    # The REST API keeps its own behaviour (its docs page loads Swagger UI and is not under this CSP).
    assert "content-security-policy" not in client.get("/api/v1/openapi.json").headers
    css = client.get("/static/accord.css")
    assert css.status_code == 200 and css.headers["x-content-type-options"] == "nosniff"


def test_check_pattern_endpoint(client: TestClient) -> None:
    sign_in(client)
    ok = client.get("/publish/check-pattern", params={"pattern": "[ipv4-addr:value = '198.51.100.7']"}).json()
    bad = client.get("/publish/check-pattern", params={"pattern": "[ipv4-addr:value = "}).json()
    assert ok == {"valid": True, "message": "valid STIX 2.1 pattern"}
    assert bad["valid"] is False and bad["message"]


def test_present_diff_and_fields() -> None:
    old = {"name": "a", "labels": ["x"], "modified": "1"}
    new = {"name": "b", "description": "d", "modified": "2"}
    assert [(c.prop, c.kind) for c in present.diff(old, new)] == [
        ("description", "added"), ("labels", "removed"), ("modified", "changed"), ("name", "changed"),
    ]  # fmt: skip
    kinds = {f.name: f.kind for f in present.fields({"type": "t", "created_by_ref": "identity--1", "pattern": "[x]",
                                                     "external_references": [{"url": "u"}], "x": {"a": 1}})}  # fmt: skip
    assert kinds == {"created_by_ref": "refs", "pattern": "code", "external_references": "links", "x": "json"}


def test_cli_sets_a_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    assert runner.invoke(cli_app, ["init"]).exit_code == 0
    assert runner.invoke(cli_app, ["org", "add", "Org A", "--sector", "cert", "--country", "GB"]).exit_code == 0
    assert runner.invoke(cli_app, ["user", "add", "a@a.example", "--org", "Org A"]).exit_code == 0
    r = runner.invoke(cli_app, ["user", "password", "a@a.example", "--stdin"], input="a good long password\n")
    assert r.exit_code == 0 and "password set for a@a.example" in r.stdout
    r = runner.invoke(cli_app, ["user", "password", "a@a.example", "--stdin"], input="short\n")
    assert isinstance(r.exception, InvalidInput)
    hub = Hub()
    try:
        start = time.perf_counter()
        assert hub.authenticate_password("a@a.example", "a good long password")[0].org_name == "Org A"
        assert time.perf_counter() - start < 5
    finally:
        hub.engine.dispose()


def test_capability_pages(client: TestClient, sqlite_hub: Hub) -> None:
    sign_in(client)
    for path in ("/impact", "/impact?by=type&period=year", "/norms", "/norms?state=RU", "/spyware?everything=1"):
        r = client.get(path)
        assert r.status_code == 200, (path, r.text[:500])
    r = client.get("/impact?metric=bananas")
    assert r.status_code == 400 and "unknown metric" in r.text
    assert client.get("/impact?by=planet").status_code == 400
    assert client.get("/admin/feeds").status_code == 403  # feeds are hub configuration
    tok = sqlite_hub.create_token(sqlite_hub.viewer_as(None), "admin@ncc.example")["token"]
    r = client.get("/admin/feeds", headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code == 200 and "No feeds." in r.text
    home = client.get("/", headers={"Authorization": f"Bearer {tok}"}).text
    assert "No feeds from partner hubs yet" in home


def test_dashboard_counts() -> None:
    from datetime import UTC, date, datetime

    chart = present.per_day([datetime(2026, 3, 10, 23, 59, tzinfo=UTC), datetime(2026, 3, 10, 1, tzinfo=UTC),
                             datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)],
                            date(2026, 3, 10), days=10)  # fmt: skip
    assert [c.value for c in chart.columns] == [1, 0, 0, 0, 0, 0, 0, 0, 0, 2] and chart.top == 2
    assert chart.columns[-1].height == chart.plot_height and chart.columns[0].label == "01 Mar"
    rows = [{"object": {"type": "relationship", "source_ref": "indicator--1", "target_ref": "malware--1"}},
            {"object": {"type": "relationship", "source_ref": "indicator--2", "target_ref": "malware--1"}},
            {"object": {"type": "relationship", "source_ref": "malware--1", "target_ref": "threat-actor--1"}},
            {"object": {"type": "relationship", "source_ref": "indicator--3", "target_ref": "malware--hidden"}}]  # fmt: skip
    names = {"malware--1": {"type": "malware", "name": "LockBit"}, "threat-actor--1": {"type": "threat-actor",
             "name": "Evil Corp"}, "indicator--1": {"type": "indicator", "name": "x"}}  # fmt: skip
    assert present.most_referenced(rows, names, ("malware", "threat-actor")) == {"LockBit": 3, "Evil Corp": 1}


def test_feeds_can_be_added_pulled_and_removed_by_hub_admins(client: TestClient, sqlite_hub: Hub) -> None:
    tok = sqlite_hub.create_token(sqlite_hub.viewer_as(None), "admin@ncc.example")["token"]
    admin = {"Authorization": f"Bearer {tok}"}
    url = "http://127.0.0.1:9/taxii2/api/collections/5d0f4f41-5b9e-4f5c-9a55-111111111111/"  # nothing listens
    r = client.post("/admin/feeds", headers=admin, data={"name": "partner", "kind": "taxii", "url": url,
                                                         "as_org": "NCC", "interval": "5m"})  # fmt: skip
    assert r.status_code == 200 and "Added the feed partner" in r.text, r.text[-800:]
    bad = client.post("/admin/feeds", headers=admin, data={"name": "x", "kind": "taxii", "url": "ftp://x"})
    assert bad.status_code == 400
    start = time.perf_counter()
    r = client.post("/admin/feeds/partner/pull", headers=admin)
    assert r.status_code == 200 and "Pulled partner: failed" in r.text and time.perf_counter() - start < 60
    assert "failing (1×)" in client.get("/admin/feeds", headers=admin).text
    sign_in(client)  # an analyst may not touch feeds
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text).group(1)
    assert client.post("/admin/feeds/partner/remove", data={"csrf": csrf}).status_code == 403
    r = client.post("/admin/feeds/partner/remove", headers=admin)
    assert r.status_code == 200 and "Removed the feed partner" in r.text
    assert [f["name"] for f in sqlite_hub.list_feeds(sqlite_hub.viewer_as(None))] == []


def test_failed_sign_ins_are_throttled(client: TestClient) -> None:
    from accord.web.sessions import SignInThrottle

    client.app.state.web_throttle = SignInThrottle(limit=3, window=600)

    def attempt(password: str) -> int:
        token = re.search(r'name="login_token" value="([^"]+)"', client.get("/login").text).group(1)
        return client.post("/login", data={"method": "password", "email": "analyst@bank.example", "password": password,
                                           "login_token": token}, follow_redirects=False).status_code  # fmt: skip

    assert [attempt("wrong password!!") for _ in range(3)] == [401, 401, 401]
    assert attempt(PASSWORD) == 429  # even the right password waits
    throttle = SignInThrottle(limit=2, window=600)
    throttle.failed("ip:a", "user:x")
    throttle.failed("ip:a", "user:x")
    assert throttle.wait_for("ip:b", "user:x") > 0 and throttle.wait_for("ip:b", "user:y") == 0
    throttle.succeeded("user:x")
    assert throttle.wait_for("ip:b", "user:x") == 0 and throttle.wait_for("ip:a") > 0


def test_feed_health_shows_the_next_attempt_and_the_error_of_a_pull_that_still_counts_as_working(
    client: TestClient, sqlite_hub: Hub
) -> None:
    """A MISP feed some of whose events are missing records a success *and* an error naming them
    (accord.federation.pull): the page said only 'ok'; it now shows the error, its time and the next attempt."""
    from datetime import timedelta

    from accord.stix.timestamps import now
    from accord.store import feeds as feedstore

    op = sqlite_hub.viewer_as(None)
    sqlite_hub.add_feed(op, "chrome", "http://127.0.0.1:9/misp-feed/", misp=True, as_org="NCC")
    with sqlite_hub.engine.begin() as conn:  # what a pull with 2 missing events records
        pk = feedstore.get(conn, "chrome")["pk"]
        feedstore.finish(conn, pk, "nobody", at=now(), next_attempt=now() + timedelta(minutes=5), objects=4,
                         error="2 events could not be fetched: 5f3c…: HTTP 404", failures=0, succeeded=True)  # fmt: skip
    tok = sqlite_hub.create_token(op, "admin@ncc.example")["token"]
    page = client.get("/admin/feeds", headers={"Authorization": f"Bearer {tok}"}).text
    assert "Next attempt" in page and "ok, but: 2 events could not be fetched" in page
    row = page[page.index("<td>chrome</td>"):]
    assert row.count('class="when"') >= 2 and "never" not in row[: row.index("</tr>")]


@pytest.mark.parametrize("path", ["/search?until=9999-12-31", "/detections?until=9999-12-31",
                                  "/search?since=9999-12-31", "/detections?since=0001-01-01&until=9999-12-30"])  # fmt: skip
def test_dates_at_the_end_of_the_calendar_are_answered_not_500(client: TestClient, sqlite_hub: Hub, path) -> None:
    tok = sqlite_hub.create_token(sqlite_hub.viewer_as(None), "analyst@bank.example")["token"]
    r = client.get(path, headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code in (200, 400), (path, r.status_code)
    if r.status_code == 400:
        assert "until must be a date before 9999-12-31" in r.text


@pytest.mark.parametrize("path", ["/admin/tokens/99999999999999999999999/revoke",
                                  "/admin/sessions/-9223372036854775809/end",
                                  "/account/sessions/99999999999999999999999/end"])  # fmt: skip
def test_ids_beyond_64_bits_are_an_error_page_not_500(client: TestClient, sqlite_hub: Hub, path: str) -> None:
    tok = sqlite_hub.create_token(sqlite_hub.viewer_as(None), "admin@ncc.example")["token"]
    r = client.post(path, headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code in (400, 404), (path, r.status_code)
    assert "text/html" in r.headers["content-type"]
    if r.status_code == 400:
        assert "beyond the range the hub can store" in r.text
