"""MISP feeds (``manifest.json`` plus ``<uuid>.json``) served over HTTP on 127.0.0.1 and pulled as feeds:
real feeds from two publishers, incremental by event timestamp, missing events reported, a bare event."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select

from accord.hub import Hub
from accord.store.schema import object_grant, stix_object

from .conftest import static_http

DATA = Path(__file__).parent.parent / "data"
FEEDS = DATA / "misp" / "feeds"
KEYS = ("pages", "received", "known", "added", "new_version", "rejected", "error")


def feed_folder(tmp: Path, name: str, *, trim: bool = True) -> Path:
    """A copy of a real feed; ``trim`` keeps in the manifest only the events whose files are here."""
    src = FEEDS / name
    out = tmp / name
    shutil.copytree(src, out)
    if trim:
        manifest = json.loads((src / "manifest.json").read_text())
        present = {p.stem for p in src.glob("*.json") if p.stem in manifest}
        (out / "manifest.json").write_text(json.dumps({k: v for k, v in manifest.items() if k in present}))
    return out


def pulling_hub(hub: Hub) -> Hub:
    hub.add_org(hub.viewer_as(None), "NCC", "government-national", "GB")
    return hub


def summary(report: dict[str, Any]) -> dict[str, Any]:
    return {k: report[k] for k in KEYS}


def grants_via(hub: Hub, stix_id: str) -> set[tuple[str, str]]:
    with hub.engine.connect() as conn:
        q = select(object_grant.c.via, object_grant.c.audience).join(
            stix_object, stix_object.c.pk == object_grant.c.object_pk
        )
        return {(r.via, r.audience) for r in conn.execute(q.where(stix_object.c.stix_id == stix_id))}


def test_a_misp_feed_is_pulled_incrementally_by_event_timestamp(hub: Hub, tmp_path: Path) -> None:
    target = pulling_hub(hub)
    folder = feed_folder(tmp_path, "chrome-mal-ids")
    events = sorted(p.stem for p in folder.glob("*-*-*.json"))
    assert len(events) == 4
    op = target.viewer_as(None)
    with static_http(folder) as base:
        target.add_feed(op, "chrome", f"{base}/", misp=True, as_org="NCC", audience="community")
        first = target.pull_feed(op, "chrome")
        assert first["error"] is None and first["pages"] == 4 and first["rejected"] == 0, summary(first)
        assert first["added"] > 20
        for uuid in events:
            grouping = target.get(target.viewer_as("NCC"), f"grouping--{uuid}")
            # The event's creator is kept; the feed's audience, not MISP's "all communities", applies.
            assert grouping["object"]["created_by_ref"] != target.viewer_as("NCC").org_identity
            assert grants_via(target, f"grouping--{uuid}") == {("feed:chrome", "community")}

        again = target.pull_feed(op, "chrome")
        assert (again["pages"], again["received"], again["error"]) == (0, 0, None)

        # The publisher updates one event: a newer timestamp in the event and in the manifest.
        changed = events[0]
        path = folder / f"{changed}.json"
        doc = json.loads(path.read_text())
        doc["Event"]["timestamp"] = str(int(doc["Event"]["timestamp"]) + 3600)
        doc["Event"]["info"] += " (updated)"
        path.write_text(json.dumps(doc))
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest[changed]["timestamp"] = doc["Event"]["timestamp"]
        (folder / "manifest.json").write_text(json.dumps(manifest))
        third = target.pull_feed(op, "chrome")
    assert third["pages"] == 1 and third["new_version"] >= 1 and third["error"] is None, summary(third)
    assert third["known"] >= 1  # its unchanged attributes are held already
    got = target.get(target.viewer_as("NCC"), f"grouping--{changed}", all_versions=True)
    assert got["object"]["name"].endswith("(updated)") and len(got["versions"]) == 2
    feed = target.get_feed(op, "chrome")
    assert feed["objects_pulled"] == first["added"] + third["added"] + third["new_version"]


def test_missing_events_are_reported_and_the_rest_stored(hub: Hub) -> None:
    target = pulling_hub(hub)
    op = target.viewer_as(None)
    with static_http(FEEDS / "chrome-mal-ids") as base:  # the real manifest: 79 events, 4 files here
        target.add_feed(op, "chrome", base, misp=True, as_org="NCC")
        first = target.pull_feed(op, "chrome")
        assert first["pages"] == 4 and first["added"] > 20, summary(first)
        assert first["error"].startswith("75 of 79 events could not be stored") and "HTTP 404" in first["error"]
        feed = target.get_feed(op, "chrome")
        # The feed works: it is pulled again at its interval, not backed off, and its error says what failed.
        assert feed["failures"] == 0 and feed["last_error"] == first["error"] and feed["last_success"] is not None
        second = target.pull_feed(op, "chrome")  # the stored four are not fetched again; the others are retried
    assert second["pages"] == 0 and second["error"].startswith("75 of 79")
    feed = target.get_feed(op, "chrome")
    assert feed["failures"] == 0 and feed["interval"] == "5m"
    assert (feed["next_attempt"] - feed["last_success"]).total_seconds() >= 299  # its interval, not 30 s


def test_misp_export_layout_and_a_bare_event_without_timestamps(hub: Hub, tmp_path: Path) -> None:
    target = pulling_hub(hub)
    op = target.viewer_as(None)
    feed_folder(tmp_path, "redblue232")  # served from tmp_path beside the bare event
    bare = tmp_path / "bare"
    bare.mkdir()
    event = json.loads((DATA / "misp" / "stalkerware-50-objects.json").read_text())
    shutil.copy(DATA / "misp" / "stalkerware-50-objects.json", bare / f"{event['uuid']}.json")
    (bare / "manifest.json").write_text(json.dumps({event["uuid"]: {"info": event["info"]}}))  # no timestamp
    with static_http(tmp_path) as base:
        target.add_feed(op, "redblue", f"{base}/redblue232/manifest.json", misp=True, as_org="NCC")
        target.add_feed(op, "stalkerware", f"{base}/bare", misp=True, as_org="NCC", audience="org")
        rb = target.pull_feed(op, "redblue")
        sw = target.pull_feed(op, "stalkerware")
    assert rb["error"] is None and rb["pages"] == 1 and rb["added"] >= 58, summary(rb)
    # Without "Event" wrapper, timestamps or Orgc: stored as the acting organisation's, audience as asked.
    assert sw["error"] is None and sw["pages"] == 1 and sw["added"] > 50, summary(sw)
    with target.engine.connect() as conn:
        got = list(conn.execute(select(object_grant.c.audience).where(object_grant.c.via == "feed:stalkerware")))
    assert len(got) == sw["added"] and {r.audience for r in got} == {"org"}
    assert target.search(target.viewer_as("NCC"), text="stalkerware", limit=5)


def test_an_unchanged_event_without_timestamps_is_not_stored_again(hub: Hub, tmp_path: Path) -> None:
    """An event with no timestamp anywhere is stamped with the time of ingest; pulled again unchanged, it
    used to be stored again at every pull (thousands of new versions every interval). Now the file's
    digest is compared: unchanged is skipped, even by a full re-read, and a changed file is stored."""
    target = pulling_hub(hub)
    op = target.viewer_as(None)
    event = json.loads((DATA / "misp" / "stalkerware-50-objects.json").read_text())
    assert not any(event.get(k) for k in ("timestamp", "publish_timestamp"))
    (tmp_path / f"{event['uuid']}.json").write_text(json.dumps(event))
    (tmp_path / "manifest.json").write_text(json.dumps({event["uuid"]: {"info": event["info"]}}))

    def versions() -> int:
        with target.engine.connect() as conn:
            q = select(stix_object.c.pk).where(stix_object.c.stix_id == f"grouping--{event['uuid']}")
            return len(list(conn.execute(q)))

    with static_http(tmp_path) as base:
        target.add_feed(op, "stalkerware", f"{base}/", misp=True, as_org="NCC", audience="org")
        first = target.pull_feed(op, "stalkerware")
        assert first["error"] is None and first["added"] > 50 and versions() == 1, summary(first)
        again = target.pull_feed(op, "stalkerware")
        full = target.pull_feed(op, "stalkerware", full=True)
        for report in (again, full):
            assert report["error"] is None and report["pages"] == 0 and report["new_version"] == 0, summary(report)
        assert versions() == 1
        event["info"] += " (updated)"
        event["timestamp"] = "1700000000"  # a version of its own (without it, one of the time of ingest)
        (tmp_path / f"{event['uuid']}.json").write_text(json.dumps(event))
        changed = target.pull_feed(op, "stalkerware")
    assert changed["error"] is None and changed["pages"] == 1 and changed["new_version"] >= 1, summary(changed)
    assert versions() == 2
