"""Take the README's screenshots of the web interface, over the demo community.

Loads the demo into a temporary SQLite hub, serves it on 127.0.0.1 and drives Debian's Chromium.

    .venv/bin/python docs/screenshots/take.py            # writes docs/screenshots/*.png
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from playwright.sync_api import sync_playwright  # noqa: E402

from accord.cli.demo import default_demo_dir, load  # noqa: E402
from accord.hub import Hub  # noqa: E402
from web.conftest import CHROMIUM, settings_for, start_server, stop_server  # noqa: E402

PASSWORD = "demo password for screenshots"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'accord.db'}"
        hub = Hub(settings_for(url))
        hub.init()
        load(hub, default_demo_dir(), quiet=True)
        op = hub.viewer_as(None)
        for email in ("soc@harbourside-bank.example", "admin@ncc.meridian.example"):
            hub.set_password(op, email, PASSWORD)
        lockbit = hub.search(hub.viewer_as("Harbourside Bank"), types=["malware"], text="lockbit", limit=1)
        base, proc = start_server(url, Path(tmp) / "server.log")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM)
                ctx = browser.new_context(viewport={"width": 1280, "height": 860})
                page = ctx.new_page()
                page.goto(base + "/login")
                page.screenshot(path=HERE / "login.png")
                page.get_by_label("E-mail", exact=True).fill("soc@harbourside-bank.example")
                page.get_by_label("Password", exact=True).fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_selector("header .org")
                page.screenshot(path=HERE / "dashboard.png", full_page=True)
                page.goto(base + "/search?q=lockbit")
                page.screenshot(path=HERE / "search.png", full_page=True)
                if lockbit:
                    page.goto(base + f"/objects/{lockbit[0]['id']}")
                    page.screenshot(path=HERE / "object.png", full_page=True)
                page.goto(base + "/sightings")
                page.screenshot(path=HERE / "sightings.png", full_page=True)
                page.goto(base + "/detections?days=all")
                page.screenshot(path=HERE / "detections.png", full_page=True)
                page.goto(base + "/impact")
                page.screenshot(path=HERE / "impact.png", full_page=True)
                page.goto(base + "/norms")
                page.screenshot(path=HERE / "norms.png", full_page=True)
                hub.spyware_seed(op)  # the shipped spyware registry and indicator files
                page.goto(base + "/spyware")
                page.screenshot(path=HERE / "spyware.png", full_page=True)
                page.goto(base + "/spyware/check")
                page.screenshot(path=HERE / "device-check.png", full_page=True)
                page.get_by_label("MVT results folder as a .zip, or an artefact list").set_input_files(
                    str(ROOT / "demo" / "device-check-sample.jsonl"))  # fmt: skip
                page.get_by_role("button", name="Check").click()
                page.wait_for_selector("#report")
                page.screenshot(path=HERE / "device-report.png", full_page=True)
                page.goto(base + "/account")
                page.screenshot(path=HERE / "account-sessions.png", full_page=True)
                page.goto(base + "/publish")
                page.get_by_label("Name", exact=True).fill("Harbourside phishing landing page")
                page.get_by_label("STIX pattern").fill("[url:value = 'https://harbourside-secure.example/login'")
                page.wait_for_selector("#pattern-status.invalid")
                page.screenshot(path=HERE / "publish.png", full_page=True)
                ctx.close()
                ctx = browser.new_context(viewport={"width": 1280, "height": 860})
                page = ctx.new_page()
                page.goto(base + "/login")
                page.get_by_label("E-mail", exact=True).fill("admin@ncc.meridian.example")
                page.get_by_label("Password", exact=True).fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_selector("header .org")
                page.goto(base + "/admin/groups")
                page.screenshot(path=HERE / "admin-groups.png", full_page=True)
                ctx.close()
                browser.close()
        finally:
            stop_server(proc)
            hub.engine.dispose()
    print("screenshots written to", HERE)


if __name__ == "__main__":
    main()
