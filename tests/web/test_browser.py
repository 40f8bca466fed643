"""The web interface in a real browser (Chromium through Playwright) against a real server."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from web.community import HOSTILE_ORG, PASSWORD, USERS
from web.conftest import Server

expect.set_options(timeout=10_000)


def sign_in(page: Page, server: Server, org: str) -> Page:
    page.goto(server.url + "/")
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("E-mail", exact=True).fill(USERS[org])
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("header .org")).to_have_text(org if org != "Evil" else HOSTILE_ORG)
    return page


@pytest.fixture
def context(browser: Any) -> Iterator[BrowserContext]:
    ctx = browser.new_context()
    yield ctx
    ctx.close()


@pytest.fixture
def bank(context: BrowserContext, server: Server) -> Page:
    return sign_in(context.new_page(), server, "Bank")


def test_sign_in_shows_organisation_and_role_and_sign_out_ends_it(context: BrowserContext, server: Server) -> None:
    page = sign_in(context.new_page(), server, "Bank")
    expect(page.locator("header .role")).to_have_text("analyst")
    expect(page.locator("header .email")).to_have_text("analyst@bank.example")
    cookie = next(c for c in context.cookies() if c["name"] == "accord_session")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    assert not [c for c in context.cookies() if c["name"] == "accord_session"]
    page.goto(server.url + "/search")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fsearch"))


def test_sign_in_with_a_token_and_wrong_password(context: BrowserContext, server: Server) -> None:
    page = context.new_page()
    page.goto(server.url + "/login")
    page.get_by_label("E-mail", exact=True).fill(USERS["Uni"])
    page.get_by_label("Password", exact=True).fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#login-error")).to_contain_text("not right")
    page.get_by_label("an API token").check()
    expect(page.get_by_label("E-mail", exact=True)).to_be_hidden()
    page.get_by_label("API token", exact=True).fill(server.community.tokens["Uni"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("header .org")).to_have_text("Uni")
    expect(page.locator("header .role")).to_have_text("reader")


def test_search_with_filters_and_paging(bank: Page, server: Server) -> None:
    page = bank
    page.get_by_role("link", name="Search", exact=True).click()
    page.get_by_label("Label").fill("bulk")
    page.get_by_label("TLP").select_option("green")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#result-count")).to_have_text("60 objects match.")
    expect(page.locator("table.results tbody tr")).to_have_count(50)
    first_page = set(page.locator("table.results tbody tr td:first-child").all_inner_texts())
    page.get_by_role("link", name=re.compile("Next 50")).click()
    expect(page.locator("table.results tbody tr")).to_have_count(10)
    second_page = set(page.locator("table.results tbody tr td:first-child").all_inner_texts())
    assert not first_page & second_page and len(first_page | second_page) == 60
    expect(page.get_by_label("Label")).to_have_value("bulk")
    page.get_by_role("link", name="First page").click()
    expect(page.locator("table.results tbody tr")).to_have_count(50)

    page.get_by_role("link", name="Clear").click()
    page.get_by_label("Text").fill("lockbit-c2")
    page.get_by_label("Type").fill("indicator")
    page.get_by_label("Source organisation").select_option("Bank")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#result-count")).to_have_text("1 object matches.")
    page.get_by_label("Source organisation").select_option("NCC")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#result-count")).to_have_text("0 objects match.")


def test_object_page_shows_fields_versions_relationships_and_json(bank: Page, server: Server) -> None:
    page = bank
    page.goto(server.url + "/search?q=lockbit-c2")
    page.get_by_role("link", name="LockBit C2 server").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("LockBit C2 server")
    badge = page.locator(".object-head .tlp")
    expect(badge).to_have_text("TLP:GREEN")
    assert badge.evaluate("e => getComputedStyle(e).color") == "rgb(51, 255, 0)"
    assert badge.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(0, 0, 0)"
    expect(page.locator("code.pattern")).to_have_text("[domain-name:value = 'lockbit-c2.example']")
    versions = page.locator("ol.versions > li")
    expect(versions).to_have_count(2)
    diff = versions.first.locator("table.diff")
    expect(diff.locator("tr.changed th")).to_contain_text(["description", "modified"])
    expect(diff.locator("tr.added th")).to_have_text(["labels"])
    rels = page.get_by_role("heading", name=re.compile("Relationships and sightings"))
    expect(rels).to_contain_text("(1)")
    expect(page.locator("figure.graph svg a")).to_have_count(1)
    expect(page.locator("table").filter(has_text="indicates")).to_contain_text("LockBit 3.0")
    stix = json.loads(page.locator("pre.json").inner_text())
    assert stix["id"] == server.community.ids["c2"] and stix["labels"] == ["ransomware"]
    expect(page.locator("dl.facts")).to_contain_text("Bank")
    page.locator("figure.graph svg a").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("LockBit 3.0")


def test_publish_an_indicator_with_live_pattern_validation(bank: Page, server: Server) -> None:
    page = bank
    page.get_by_role("link", name="Publish").click()
    status = page.locator("#pattern-status")
    page.get_by_label("Name", exact=True).fill("Phishing kit host")
    page.get_by_label("STIX pattern").fill("[domain-name:value = 'kit.example'")
    expect(status).to_have_class(re.compile("invalid"))
    page.get_by_label("STIX pattern").fill("[domain-name:value = 'kit.example']")
    expect(status).to_have_text("valid STIX 2.1 pattern")
    page.get_by_label("Labels (comma-separated)").fill("phishing, kit")
    page.get_by_label("TLP", exact=True).select_option("green")
    page.get_by_label("Audience", exact=True).select_option("group:taskforce")
    page.get_by_role("button", name="Publish the indicator").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Phishing kit host")
    expect(page.locator(".object-head .tlp")).to_have_text("TLP:GREEN")
    expect(page.locator("table").filter(has_text="Audience").first).to_contain_text("group: taskforce")
    stix = json.loads(page.locator("pre.json").inner_text())
    assert stix["labels"] == ["phishing", "kit"] and stix["created_by_ref"].startswith("identity--")

    # A pattern the hub refuses keeps the form filled and says why.
    page.goto(server.url + "/publish")
    page.get_by_label("Name", exact=True).fill("Broken")
    page.get_by_label("STIX pattern").fill("[file:hashes.'SHA-256' = 'abc']")
    page.get_by_label("TLP", exact=True).select_option("red")
    page.get_by_label("Audience", exact=True).select_option("community")
    page.get_by_role("button", name="Publish the indicator").click()
    expect(page.locator("#indicator-error")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Broken")


def test_upload_a_bundle_with_per_object_results(bank: Page, server: Server, tmp_path: Any) -> None:
    from helpers import indicator

    good = [indicator(f"upload-{i}.example", level="green") for i in range(3)]
    bad = {**indicator("bad.example"), "pattern": "[not a pattern"}
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps({"type": "bundle", "id": "bundle--6f3f0b0e-2d7e-4c1e-9d0a-4e7d2b1c0f11",
                                "objects": [*good, bad]}))  # fmt: skip
    page = bank
    page.goto(server.url + "/publish")
    page.get_by_label("File", exact=True).set_input_files(str(path))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Results for bundle.json")
    summary = page.locator("#upload-summary")
    expect(summary).to_contain_text("3 added")
    expect(summary).to_contain_text("1 rejected")
    rejected = page.locator("#upload-outcomes tr.rejected")
    expect(rejected).to_have_count(1)
    expect(rejected).to_contain_text(bad["id"])
    expect(page.locator("#upload-outcomes tr.added a")).to_have_count(3)


def test_manage_a_sharing_group_as_org_admin(context: BrowserContext, server: Server) -> None:
    page = sign_in(context.new_page(), server, "Police")
    page.get_by_role("link", name="Administration").click()
    page.get_by_role("link", name="Sharing groups").click()
    page.get_by_label("Name", exact=True).fill("fraud-cell")
    page.get_by_label("Owner", exact=True).select_option("Police")
    page.get_by_label("Members (Ctrl/Shift to choose several)").select_option(["Bank"])
    page.get_by_label("members see each other's names").check()
    page.get_by_role("button", name="Create group").click()
    expect(page.get_by_role("status")).to_have_text("Created the sharing group fraud-cell (2 members).")
    group = page.locator("section.group").filter(has=page.get_by_role("heading", name="fraud-cell"))
    expect(group.locator("ul.members li")).to_have_count(2)
    group.get_by_label("Add a member").select_option("Uni")
    group.get_by_role("button", name="Add").click()
    expect(page.get_by_role("status")).to_have_text("Added Uni to fraud-cell.")
    group = page.locator("section.group").filter(has=page.get_by_role("heading", name="fraud-cell"))
    group.get_by_role("button", name="Remove Uni from fraud-cell").click()
    expect(page.get_by_role("status")).to_have_text("Removed Uni from fraud-cell.")
    # The core's role rules: an org-admin cannot manage another organisation's group, nor add organisations.
    taskforce = page.locator("section.group").filter(has=page.get_by_role("heading", name="taskforce"))
    expect(taskforce.get_by_role("button")).to_have_count(0)
    page.get_by_role("link", name="Organisations").click()
    expect(page.get_by_role("button", name="Add organisation")).to_have_count(0)
    resp = page.request.post(server.url + "/admin/groups/taskforce/members",
                             form={"org": "Uni", "csrf": page.locator("input[name=csrf]").first.input_value()})  # fmt: skip
    assert resp.status == 403 and "owning organisation" in resp.text()


def test_two_organisations_see_different_pictures(browser: Any, server: Server) -> None:
    ids = server.community.ids
    pictures = {}
    for org in ("Bank", "Uni"):
        ctx = browser.new_context()
        try:
            page = sign_in(ctx.new_page(), server, org)
            page.goto(server.url + "/search?type=indicator&q=.example")
            total = int(page.locator("#result-count").inner_text().split()[0])
            private = page.goto(server.url + f"/objects/{ids['private']}")
            group = page.goto(server.url + f"/objects/{ids['taskforce']}")
            assert private is not None and group is not None
            pictures[org] = (total, private.status, group.status)
            if org == "Uni":
                expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
                expect(page.get_by_text("Taskforce")).to_have_count(0)
        finally:
            ctx.close()
    assert pictures["Bank"][1:] == (200, 200)
    assert pictures["Uni"][1:] == (404, 404)
    assert pictures["Bank"][0] > pictures["Uni"][0]


def test_hostile_content_never_runs(context: BrowserContext, server: Server) -> None:
    events: list[str] = []
    context.on("console", lambda msg: events.append(f"console {msg.type}: {msg.text}"))
    page = sign_in(context.new_page(), server, "NCC")
    page.on("dialog", lambda d: (events.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("pageerror", lambda e: events.append(f"pageerror: {e}"))
    urls = ["/", "/search?q=payload", "/search?q=%3Cscript%3E", "/search?type=malware", "/admin/users",
            "/admin/orgs", "/admin/groups", "/admin/audit", "/admin/tokens", "/admin/sessions", "/impact", "/norms",
            "/spyware?everything=1", "/spyware/check", "/detections?days=all", "/sightings", "/account"]  # fmt: skip
    urls += [f"/objects/{i}" for i in server.community.hostile_ids]
    for url in urls:
        resp = page.goto(server.url + url)
        assert resp is not None and resp.status == 200, url
        assert page.evaluate("window.__pwned") is None, url
        # Escaped, not merely blocked by the CSP: no element came from the data, and the text shows as text.
        assert (
            page.locator("main script, main iframe, main img, main svg:not(figure svg), main [onerror]").count() == 0
        ), url
        assert page.locator("main a[href^='javascript']").count() == 0, url
        # Every form control has an accessible name.
        unnamed = page.evaluate(
            """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
                .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
                .map(e => e.outerHTML.slice(0, 80))"""
        )
        assert not unnamed, (url, unnamed)
    page.goto(server.url + "/search?type=malware&q=payload")
    expect(page.locator("table.results")).to_contain_text("<script>window.__pwned='script'</script>")
    page.goto(server.url + "/admin/orgs")
    expect(page.locator("main table")).to_contain_text(HOSTILE_ORG)
    page.goto(server.url + "/detections?days=all")  # sighted hostile indicators, their malware, their reporter
    expect(page.locator("#detections")).to_contain_text("Indicator 0 <script>window.__pwned='script'</script>")
    expect(page.locator("#detections")).to_contain_text(HOSTILE_ORG)
    assert not [e for e in events if "Content Security Policy" in e or "dialog" in e or "pageerror" in e], events


def test_bearer_token_pages_headers_and_csrf(browser: Any, server: Server) -> None:
    ctx = browser.new_context(extra_http_headers={"Authorization": f"Bearer {server.community.tokens['Bank']}"})
    try:
        page = ctx.new_page()
        resp = page.goto(server.url + "/")
        assert resp is not None and resp.status == 200
        expect(page.locator("header .org")).to_have_text("Bank")
        expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
        headers = resp.headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "unsafe-inline" not in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
    finally:
        ctx.close()
    ctx = browser.new_context()
    try:
        page = sign_in(ctx.new_page(), server, "Bank")
        # A cookie-authenticated form post without the CSRF token is refused.
        resp = page.request.post(server.url + "/admin/tokens", form={"user": USERS["Bank"], "label": "csrf"})
        assert resp.status == 403 and "security token" in resp.text()
        resp = page.request.post(server.url + "/admin/tokens", form={"user": USERS["Bank"], "csrf": "forged"})
        assert resp.status == 403
    finally:
        ctx.close()


def test_keyboard_only_sign_in_and_navigation(context: BrowserContext, server: Server) -> None:
    page = context.new_page()
    page.goto(server.url + "/login")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.get_by_label("E-mail", exact=True).focus()
    page.keyboard.type(USERS["Bank"])
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("header .org")).to_have_text("Bank")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the skip link moves focus to the content
    expect(page).to_have_url(re.compile(r"#main$"))
    page.get_by_role("link", name="Search", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Search")
    page.get_by_label("Text").focus()
    page.keyboard.type("lockbit-c2")
    page.keyboard.press("Enter")
    expect(page.locator("#result-count")).to_have_text("1 object matches.")


def test_publish_a_sighting_and_a_report_from_an_object_page(bank: Page, server: Server) -> None:
    ids = server.community.ids
    page = bank
    page.goto(server.url + f"/objects/{ids['c2']}")
    page.get_by_role("link", name="Report a sighting of this").click()
    expect(page.get_by_label("What was sighted (STIX id)")).to_have_value(ids["c2"])
    page.get_by_label("How many times").fill("3")
    page.get_by_label("Sighting TLP").select_option("green")
    page.get_by_role("button", name="Publish the sighting").click()
    stix = json.loads(page.locator("pre.json").inner_text())
    assert stix["type"] == "sighting" and stix["count"] == 3 and stix["sighting_of_ref"] == ids["c2"]
    assert stix["where_sighted_refs"] == [stix["created_by_ref"]]
    page.goto(server.url + f"/objects/{ids['c2']}")
    expect(page.locator("table").filter(has_text="sighting ×3")).to_have_count(1)
    page.get_by_role("link", name="Sightings", exact=True).click()
    row = page.locator("#sightings tbody tr").filter(has_text="LockBit C2 server")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(1)).to_have_text("3")
    expect(row).to_contain_text("Bank")
    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("#chart-sightings")).to_contain_text("Sightings reported per day, last 30 days")
    assert page.locator("figure.chart").filter(has=page.locator("#chart-sightings")).locator("rect.bar").count() == 30
    expect(page.locator("figure.chart").filter(has=page.locator("#chart-active"))).to_contain_text("LockBit 3.0")

    page.goto(server.url + f"/objects/{ids['c2']}")

    page.get_by_role("link", name="Put it in a new report").click()
    page.get_by_label("Report name").fill("LockBit infrastructure, March")
    objects = page.get_by_label("Objects in the report (STIX ids, one per line)")
    objects.fill(objects.input_value() + "\nindicator--00000000-0000-4000-8000-000000000000")
    page.get_by_role("button", name="Publish the report").click()
    expect(page.locator("#report-error")).to_contain_text("no object indicator--00000000-0000-4000-8000-000000000000")
    objects = page.get_by_label("Objects in the report (STIX ids, one per line)")
    objects.fill(f"{ids['c2']}\n{ids['lockbit']}")
    page.get_by_role("button", name="Publish the report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("LockBit infrastructure, March")
    refs = page.locator("dl.fields dd").filter(has_text="LockBit C2 server")
    expect(refs.get_by_role("link")).to_have_text(["LockBit C2 server", "LockBit 3.0"])


def test_publish_a_disruption_action_that_counts_in_impact(context: BrowserContext, server: Server) -> None:
    page = sign_in(context.new_page(), server, "Police")
    page.goto(server.url + f"/objects/{server.community.ids['lockbit']}")
    page.get_by_role("link", name="Record a disruption action against it").click()
    targets = page.get_by_label("Targets (STIX ids of infrastructure, malware, actors…; one per line)")
    expect(targets).to_have_value(server.community.ids["lockbit"])
    page.get_by_label("Action name").fill("Operation Harbour: C2 takedown")
    page.get_by_label("Kinds of action (Ctrl/Shift to choose several)").select_option(["takedown", "arrest"])
    page.get_by_label("Date", exact=True).fill("2026-03-02")
    page.get_by_label("Lead countries (ISO codes, comma-separated)").fill("gb, fr")
    page.get_by_label("Regions (comma-separated)").fill("europe")
    page.get_by_label("arrests").fill("4")
    page.get_by_label("servers", exact=True).fill("12")
    page.get_by_label("Action TLP").select_option("green")
    page.get_by_role("button", name="Publish the action").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Operation Harbour: C2 takedown")
    stix = json.loads(page.locator("pre.json").inner_text())
    assert stix["type"] == "disruption-action" and stix["outcomes"] == {"arrests": 4, "servers": 12}
    assert stix["lead_countries"] == ["GB", "FR"] and sorted(stix["action_types"]) == ["arrest", "takedown"]
    page.goto(server.url + "/impact?by=region&period=year")
    expect(page.locator("table")).to_contain_text("4 arrests")
    expect(page.locator("#chart-impact")).to_contain_text("actions by region and year")
    page.get_by_role("link", name="Actions against one actor, over time").click()
    page.get_by_label("Actor, malware or campaign (name, alias or STIX id)").fill("LockBit 3.0")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#timeline li")).to_have_count(1)
    expect(page.locator("#timeline")).to_contain_text("2026-03-02 · Operation Harbour: C2 takedown")
    expect(page.locator("#timeline")).to_contain_text("4 arrests")
    # A bad outcome keeps the form filled and says why.
    page.goto(server.url + "/publish")
    page.get_by_label("Action name").fill("Broken action")
    page.get_by_label("Kinds of action (Ctrl/Shift to choose several)").select_option(["sinkhole"])
    page.get_by_label("Lead countries (ISO codes, comma-separated)").fill("Britain")
    page.get_by_role("button", name="Publish the action").click()
    expect(page.locator("#action-error")).to_be_visible()
    expect(page.get_by_label("Action name")).to_have_value("Broken action")


def test_org_admin_adds_a_user_sets_a_password_and_manages_tokens(browser: Any, server: Server) -> None:
    ctx = browser.new_context()
    try:
        page = sign_in(ctx.new_page(), server, "Police")
        page.goto(server.url + "/admin/users")
        # An org-admin adds to their own organisation only, and never above their own role.
        expect(page.get_by_label("Organisation")).to_have_text("Police")
        expect(page.get_by_label("Role").locator("option")).to_have_text(["reader", "analyst", "org-admin"])
        page.get_by_label("E-mail").fill("new.reader@police.example")
        page.get_by_label("Role").select_option("reader")
        page.get_by_role("button", name="Add user").click()
        expect(page.get_by_role("status")).to_have_text("Added new.reader@police.example (reader) to Police.")
        page.get_by_label("User", exact=True).select_option("new.reader@police.example")
        page.get_by_label("New password (at least 12 characters)").fill("a brand new passphrase")
        page.get_by_label("Again").fill("a brand new passphrase")
        page.get_by_role("button", name="Set password").click()
        expect(page.get_by_role("status")).to_have_text("Set a new password for new.reader@police.example.")
        page.get_by_role("link", name="Tokens").click()
        page.get_by_label("For", exact=True).select_option("new.reader@police.example")
        page.get_by_label("What it is for").fill("SIEM")
        page.get_by_role("button", name="Create token").click()
        token = page.locator("#new-token").inner_text()
        assert token.startswith("acc_")
        row = page.locator("tbody tr").filter(has_text="SIEM")
        row.get_by_role("button", name=re.compile("Revoke token")).click()
        expect(page.get_by_role("status")).to_contain_text("Revoked token")
        assert token not in page.content()  # shown once
    finally:
        ctx.close()
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.goto(server.url + "/login")
        page.get_by_label("an API token").check()
        page.get_by_label("API token", exact=True).fill(token)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#login-error")).to_contain_text("revoked")
        page.get_by_label("e-mail and password").check()
        page.get_by_label("E-mail", exact=True).fill("new.reader@police.example")
        page.get_by_label("Password", exact=True).fill("a brand new passphrase")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("header .role")).to_have_text("reader")
        expect(page.locator("header .org")).to_have_text("Police")
    finally:
        ctx.close()


def test_sessions_are_ended_from_another_browser_and_a_copied_cookie_dies_at_sign_out(browser: Any,
                                                                                        server: Server) -> None:  # fmt: skip
    op = server.hub.viewer_as(None)
    server.hub.add_user(op, "traveller@uni.example", "Uni", "reader")  # a user no other test signs in as
    server.hub.set_password(op, "traveller@uni.example", PASSWORD)

    def traveller(ctx: BrowserContext) -> Page:
        page = ctx.new_page()
        page.goto(server.url + "/login")
        page.get_by_label("E-mail", exact=True).fill("traveller@uni.example")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("header .email")).to_have_text("traveller@uni.example")
        return page

    laptop, phone, thief = browser.new_context(), browser.new_context(), browser.new_context()
    try:
        mine = traveller(laptop)
        other = traveller(phone)
        mine.get_by_role("link", name="Account").click()
        sessions = mine.locator("#sessions tbody tr")
        expect(sessions).to_have_count(2)
        expect(mine.locator("#sessions tr.current")).to_contain_text("this browser")
        phone_row = sessions.filter(has_not=mine.locator(".current")).filter(has_not_text="this browser")
        phone_row.get_by_role("button", name=re.compile(r"End session \d+$")).click()
        expect(mine.get_by_role("status")).to_contain_text("its browser must sign in again")
        expect(mine.locator("#sessions tbody tr")).to_have_count(1)
        other.goto(server.url + "/search")
        expect(other).to_have_url(re.compile(r"/login\?next=%2Fsearch"))
        # A cookie copied out of a browser stops working when that browser signs out.
        copied = [c for c in laptop.cookies() if c["name"] == "accord_session"]
        mine.get_by_role("button", name="Sign out").click()
        expect(mine).to_have_url(re.compile(r"/login$"))
        thief.add_cookies(copied)
        page = thief.new_page()
        page.goto(server.url + "/account")
        expect(page).to_have_url(re.compile(r"/login\?next=%2Faccount"))
    finally:
        for ctx in (laptop, phone, thief):
            ctx.close()


def test_detection_results_with_charts_and_a_time_window(context: BrowserContext, browser: Any,
                                                         server: Server) -> None:  # fmt: skip
    ids = server.community.ids
    page = sign_in(context.new_page(), server, "Uni")
    page.get_by_role("link", name="Detections").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Detection results")
    row = page.locator("#detections tbody tr").filter(has=page.locator(f"a[href='/objects/{ids['bulk0']}']"))
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(1)).to_contain_text("42")  # 40 from Police and 2 from the Bank
    expect(row).to_contain_text("Bank, Police")
    expect(row.get_by_role("link", name="LockBit 3.0")).to_have_count(1)
    # The Bank's org-only sighting of its private indicator is not Uni's to see; the old one is outside 30 days.
    expect(page.locator("#detections")).not_to_contain_text("payroll")
    expect(page.locator(f"#detections a[href='/objects/{ids['bulk1']}']")).to_have_count(0)
    for chart in ("#chart-first-seen", "#chart-last-seen"):
        figure = page.locator("figure.chart").filter(has=page.locator(chart))
        expect(figure.locator("rect.bar")).to_have_count(30)
    expect(page.locator("figure.chart").filter(has=page.locator("#chart-linked"))).to_contain_text("LockBit 3.0")
    page.get_by_label("Window").select_option("365")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(f"#detections a[href='/objects/{ids['bulk1']}']")).to_have_count(1)
    expect(page.locator("figure.chart").filter(has=page.locator("#chart-first-seen")).locator("rect.bar")).to_have_count(13)
    page.get_by_label("Whose sweeps").select_option("mine")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#detections-summary")).to_contain_text("0 indicators sighted")
    # The Bank sees its own private sighting too.
    other = browser.new_context()
    try:
        bank = sign_in(other.new_page(), server, "Bank")
        bank.goto(server.url + "/detections")
        expect(bank.locator("#detections")).to_contain_text("Bank only: payroll phishing domain")
    finally:
        other.close()


def test_device_check_upload_report_download_and_share(context: BrowserContext, spyware_server: Server,
                                                       tmp_path: Any) -> None:  # fmt: skip
    server = spyware_server
    import zipfile
    from pathlib import Path

    folder = Path(__file__).parent.parent / "data" / "mvt" / "ios-backup"
    archive = tmp_path / "phone.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, "mvt-results/" + f.name)
    errors: list[str] = []
    context.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page = sign_in(context.new_page(), server, "Uni")
    page.get_by_role("link", name="Spyware").click()
    page.get_by_role("link", name="Check a device for spyware").click()
    expect(page.get_by_role("heading", name="What happens to the phone's data")).to_be_visible()
    page.get_by_label("MVT results folder as a .zip, or an artefact list").set_input_files(str(archive))
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Device check report")
    expect(page.locator("#report .verdict.found")).to_contain_text("Signs of spyware were found")
    expect(page.locator("#report .finding").first).to_contain_text("Pegasus (NSO group)")
    assert page.locator("#report .finding.high").first.evaluate("e => getComputedStyle(e).borderLeftWidth") == "8px"
    with page.expect_download() as got:
        page.get_by_role("link", name="report as a web page").click()
    saved = tmp_path / "report.html"
    got.value.save_as(saved)
    assert "Signs of spyware were found" in saved.read_text() and got.value.suggested_filename == "device-check-report.html"
    rows = page.locator("#share-preview tbody tr").count()
    assert rows >= 1
    page.get_by_label(re.compile("OpenLine Helpline")).check()
    page.get_by_role("button", name="Share these sightings").click()
    expect(page.locator("#shared")).to_contain_text(f"Shared {rows} sighting")
    expect(page.locator("#shared")).to_contain_text("OpenLine Helpline (TLP:RED)")
    # A list that is not one is refused with the reason, on the form.
    page.goto(server.url + "/spyware/check")
    bad = tmp_path / "list.csv"
    bad.write_text("colour,size\nred,3\n")
    page.get_by_label("MVT results folder as a .zip, or an artefact list").set_input_files(str(bad))
    page.get_by_role("button", name="Check").click()
    expect(page.locator("#check-error")).to_contain_text("header naming the columns")
    assert not [e for e in errors if "Content Security Policy" in e], errors


CONTRAST = """() => {
  const parse = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0.99) return c;
    }
    return [255, 255, 255, 1];
  };
  const bad = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || !el || el.closest("svg")) continue;
    const s = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (s.visibility === "hidden" || s.display === "none" || box.width === 0 || box.left < -1000) continue;
    const fg = parse(s.color), bg = background(el);
    const [l1, l2] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    const size = parseFloat(s.fontSize), bold = parseInt(s.fontWeight, 10) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) bad.push(`${ratio.toFixed(2)} < ${need}: ${el.tagName}.${el.className} "${n.textContent.trim().slice(0, 40)}"`);
  }
  return bad;
}"""


def test_text_contrast_passes_wcag_aa_on_every_page(context: BrowserContext, server: Server) -> None:
    """WCAG 2.1 AA contrast (4.5:1, or 3:1 for large text) for every piece of text on the main pages,
    computed from the colours the browser applied (background found up the tree)."""
    page = sign_in(context.new_page(), server, "NCC")
    urls = ["/", "/search?q=lockbit", f"/objects/{server.community.ids['c2']}", "/publish", "/detections?days=all",
            "/sightings", "/impact", "/norms", "/spyware", "/spyware/check", "/account", "/admin/users",
            "/admin/sessions", "/admin/groups", "/admin/audit"]  # fmt: skip
    failures = {}
    for url in urls:
        page.goto(server.url + url)
        bad = page.evaluate(CONTRAST)
        if bad:
            failures[url] = bad[:5]
    fresh = context.browser.new_context()  # the sign-in page, from a browser that is not signed in
    try:
        login = fresh.new_page()
        login.goto(server.url + "/login")
        if bad := login.evaluate(CONTRAST):
            failures["/login"] = bad[:5]
    finally:
        fresh.close()
    assert not failures, failures
