"""medallion (the OASIS reference TAXII 2.1 server, memory back end) as a foreign peer Accord pulls from,
run as its own process on 127.0.0.1: paging by ``next`` through its small pages, incremental pulls,
a revocation made there arriving here, and TLP:RED never served by the feed's collection here."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from accord.hub import Hub
from accord.store.taxii_reads import Selection
from helpers import indicator, malware

from .conftest import WAIT, free_port, wait_until

COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
MEDIA = "application/taxii+json;version=2.1"
AUTH = ("accord", "medallion-test-password")


class Medallion:
    def __init__(self, base: str) -> None:
        self.base = base
        self.objects_url = f"{base}/api1/collections/{COLLECTION}/objects/"

    def post(self, objs: list[dict[str, Any]]) -> None:
        r = httpx.post(self.objects_url, json={"objects": objs}, auth=AUTH,
                       headers={"Accept": MEDIA, "Content-Type": MEDIA}, timeout=30)  # fmt: skip
        assert r.status_code == 202 and r.json()["success_count"] == len(objs), r.text


@pytest.fixture
def medallion(tmp_path: Path) -> Iterator[Medallion]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data = {
        "/discovery": {"title": "medallion peer", "default": f"{base}/api1/", "api_roots": [f"{base}/api1/"]},
        "api1": {
            "information": {"title": "api1", "versions": [MEDIA], "max_content_length": 9765625},
            "status": [],
            "collections": [
                {"id": COLLECTION, "title": "Partner indicators", "can_read": True, "can_write": True,
                 "media_types": ["application/stix+json;version=2.1"], "objects": [], "manifest": []}
            ],
        },
    }  # fmt: skip
    (tmp_path / "data.json").write_text(json.dumps(data))
    config = {
        "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                    "filename": str(tmp_path / "data.json")},
        "users": {AUTH[0]: AUTH[1]},
        "taxii": {"max_page_size": 3},
    }  # fmt: skip
    (tmp_path / "medallion.json").write_text(json.dumps(config))
    log = (tmp_path / "medallion.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "medallion.scripts.run", "--host", "127.0.0.1", "--port",
                             str(port), str(tmp_path / "medallion.json")], stdout=log, stderr=subprocess.STDOUT)  # fmt: skip

    def up() -> bool:
        assert proc.poll() is None, f"medallion exited: {(tmp_path / 'medallion.log').read_text()}"
        try:
            return httpx.get(f"{base}/taxii2/", auth=AUTH, headers={"Accept": MEDIA}, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(up, "medallion to start")
        yield Medallion(base)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=WAIT)
        log.close()


def test_accord_pulls_from_medallion(hub: Hub, medallion: Medallion) -> None:
    op = hub.viewer_as(None)
    hub.add_org(op, "Partner CERT", "government-national", "NL")
    hub.add_org(op, "Member", "financial-services", "NL")
    green = [indicator(f"m{i}.example", level="green") for i in range(7)]
    red = indicator("red.example", level="red")
    unmarked = indicator("unmarked.example")
    medallion.post([*green, red, unmarked])
    hub.add_feed(op, "medallion", f"{medallion.base}/taxii2/", collection=COLLECTION, user=AUTH[0],
                 password=AUTH[1], as_org="Partner CERT", audience="community")  # fmt: skip
    coll = hub.add_collection(op, "From medallion", scope="feed:medallion")["id"]

    first = hub.pull_feed(op, "medallion")
    assert first["error"] is None and first["added"] == 9 and first["rejected"] == 0, first
    assert first["pages"] >= 3  # medallion serves at most 3 objects a page: paged by its `next`
    assert first["checkpoint"]

    # RED came in for the acting organisation only, and the feed's collection never shows it.
    partner, member = hub.viewer_as("Partner CERT"), hub.viewer_as("Member")
    assert hub.get(partner, red["id"])["tlp"] == "red"
    seen = {r["stix_id"] for r in hub.taxii_objects(member, coll, Selection(), 100).rows}
    assert seen == {o["id"] for o in [*green, unmarked]}
    assert red["id"] not in {r["stix_id"] for r in hub.taxii_objects(partner, coll, Selection(), 100).rows}
    # An object without a marking gets the hub's default TLP (AMBER), which allows the community audience.
    assert hub.get(member, unmarked["id"])["tlp"] == "amber"

    later = [indicator(f"later{i}.example", level="clear") for i in range(2)]
    medallion.post(later)
    second = hub.pull_feed(op, "medallion")
    assert second["error"] is None and second["added"] == 2, second

    revoked = {**green[0], "modified": "2024-07-01T00:00:00.000Z", "revoked": True}
    medallion.post([revoked])
    third = hub.pull_feed(op, "medallion")
    assert third["new_version"] == 1 and third["error"] is None, third
    assert hub.get(member, green[0]["id"])["object"]["revoked"] is True
    assert hub.get_feed(op, "medallion")["objects_pulled"] == 12


def test_a_pull_stopped_mid_way_misses_nothing_medallion_dated_together(hub: Hub, medallion: Medallion) -> None:
    """medallion gives every object of one POST the same date_added. A pull that stops after a page
    (an error, a crash, medallion's ``next`` expiring) must not checkpoint past the objects of that
    date it has not yet received: the next pull, asking ``added_after`` the checkpoint, brings them."""
    op = hub.viewer_as(None)
    hub.add_org(op, "Partner CERT", "government-national", "NL")
    sent = [indicator(f"together{i}.example", level="green") for i in range(8)]
    medallion.post(sent)  # one POST: one date_added for all eight
    hub.add_feed(op, "medallion", f"{medallion.base}/taxii2/", collection=COLLECTION, user=AUTH[0],
                 password=AUTH[1], as_org="Partner CERT", audience="community")  # fmt: skip
    calls = []

    def stop_after_the_first_page(report: Any) -> None:
        calls.append(report.pages)
        if len(calls) == 2:  # the second page was read and stored; stop as a failure would
            raise RuntimeError("interrupted")

    first = hub.pull_feed(op, "medallion", stop_after_the_first_page)
    assert first["error"] and "interrupted" in first["error"], first
    assert 0 < first["added"] < len(sent)
    second = hub.pull_feed(op, "medallion")
    assert second["error"] is None, second
    partner = hub.viewer_as("Partner CERT")
    missing = [o["id"] for o in sent if hub.lookup(partner, [o["id"]]) == {}]
    assert missing == []


def test_a_sweep_takes_its_indicators_from_medallion_with_http_basic(medallion: Medallion) -> None:
    """`accord sweep --hub URL --user U --token P`: the current indicators of a foreign server's collection,
    paged by its `next` (medallion serves 3 objects a page), current versions only; wrong credentials and
    answers that are not TAXII are named errors, never a crash."""
    from accord.detect.sources import from_taxii
    from accord.errors import AuthenticationFailed, InvalidInput

    inds = [indicator(f"sweep{i}.example", level="green") for i in range(7)]
    newer = {**inds[0], "modified": "2024-07-01T00:00:00.000Z", "name": "newer"}
    medallion.post([*inds, newer, malware("NotAnIndicator", level="green")])
    url = f"{medallion.base}/api1/collections/{COLLECTION}/"
    got = list(from_taxii(url, AUTH[1], user=AUTH[0]))
    assert sorted(o["id"] for o in got) == sorted(o["id"] for o in inds)
    assert {o["id"]: o.get("name") for o in got}[inds[0]["id"]] == "newer"
    with pytest.raises(AuthenticationFailed, match="401"):
        list(from_taxii(url, "wrong-password", user=AUTH[0]))
    with pytest.raises(InvalidInput, match="not a TAXII collection URL"):
        list(from_taxii(f"{medallion.base}/taxii2/", AUTH[1], user=AUTH[0]))
