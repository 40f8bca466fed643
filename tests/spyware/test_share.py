"""Privacy: a device check sends nothing about the device unless the person shares, and a share sends
only sightings (indicator, count, first and last time) — proved on the wire (every request the real app
served on 127.0.0.1 received) and in the store (what reached the hub through ingest)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from typer.testing import CliRunner

import accord.cli.spyware  # noqa: F401  (registers the commands)
from accord.cli.main import app
from accord.spyware import mvt
from accord.spyware.share import ALLOWED_KEYS, SIGHTING_KEYS

from .spyware_helpers import MVT, people, seed_small

STORED_KEYS = {"type", "spec_version", "id", "created", "modified", "sighting_of_ref", "count", "first_seen",
               "last_seen", "object_marking_refs", "created_by_ref", "description"}  # fmt: skip
RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"


def _device_strings(folder: Path) -> set[str]:
    """Everything device-specific a leak would show: artefacts, record places, identity fields."""
    out = {a.value for r in mvt.read_folder(folder).records for a in r.artefacts}
    out |= {r.where for r in mvt.read_folder(folder).records}
    info = folder / "backup_info.json"
    if info.is_file():
        out |= {str(v) for v in json.loads(info.read_text()).values() if isinstance(v, str) and len(v) > 3}
    return {s for s in out if len(s) > 3}


def _run(args: list[str]) -> dict:
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_check_without_sharing_sends_nothing_about_the_device(served, tmp_path: Path) -> None:
    base, hub, seen = served
    seed_small(hub, ())
    tokens = people(hub)
    doc = _run(["check-device", str(MVT / "ios-backup"), "--hub", base, "--token", tokens["journalist@news.example"],
                "--json", "--html", str(tmp_path / "r.html")])  # fmt: skip
    assert doc["verdict"]["spyware_found"] and len(doc["findings"]) == 5
    assert [h["name"] for h in doc["helplines"]] == ["Helpline"]
    assert [(r["method"], r["path"], r["query"], r["body"]) for r in seen] == [
        ("GET", "/api/v1/spyware/indicators", "", b""),
        ("GET", "/api/v1/spyware/helplines", "", b""),
    ]
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
    assert not [o for o in hub.export(hub.viewer_as(None), types=["sighting"])]


def test_share_with_a_helpline_sends_and_stores_only_sightings(served) -> None:
    base, hub, seen = served
    seed_small(hub, ())
    tokens = people(hub)
    before = {o["id"] for o in hub.export(hub.viewer_as(None))}
    doc = _run(["check-device", str(MVT / "ios-backup"), "--hub", base, "--token", tokens["journalist@news.example"],
                "--share-with", "Helpline", "--json"])  # fmt: skip
    posts = [r for r in seen if r["method"] == "POST"]
    assert len(posts) == 1 and posts[0]["path"] == "/api/v1/spyware/sightings" and posts[0]["query"] == ""
    assert all(r["body"] == b"" and r["query"] == "" for r in seen if r["method"] == "GET")
    body = json.loads(posts[0]["body"])
    assert set(body) == {"sightings", "share_with"} <= ALLOWED_KEYS and body["share_with"] == "Helpline"
    matched = {i for f in doc["findings"] for i in f["indicators"]}
    assert {s["indicator"] for s in body["sightings"]} == matched
    assert all(set(s) <= SIGHTING_KEYS and isinstance(s["count"], int) for s in body["sightings"])
    raw = posts[0]["body"].decode()
    leaked = [s for s in _device_strings(MVT / "ios-backup") if s in raw]
    assert leaked == []
    # What reached the hub: sightings only, TLP:RED, by and for the helpline.
    helpline = hub.viewer_as("Helpline")
    stored = list(hub.export(helpline, types=["sighting"]))
    assert len(stored) == len(body["sightings"])
    for s in stored:
        assert set(s) <= STORED_KEYS and s["object_marking_refs"] == [RED]
        assert s["created_by_ref"] == helpline.org_identity and "where_sighted_refs" not in s
        assert "observed_data_refs" not in s
    assert not list(hub.export(hub.viewer_as("Bank"), types=["sighting"]))
    assert not list(hub.export(hub.viewer_as("Newsroom"), types=["sighting"]))
    assert doc["shared"]["recipient"] == "Helpline"
    after = {o["id"]: o for o in hub.export(hub.viewer_as(None))}
    new = [o for i, o in after.items() if i not in before]
    assert new and all(o["type"] == "sighting" for o in new)
    text = json.dumps(new)
    assert [s for s in _device_strings(MVT / "ios-backup") if s in text] == []


def test_anonymous_share_names_nobody(served) -> None:
    base, hub, seen = served
    seed_small(hub, ())
    tokens = people(hub)
    _run(["check-device", str(MVT / "androidqf"), "--hub", base, "--token", tokens["journalist@news.example"],
          "--share-anonymously", "--json"])  # fmt: skip
    body = json.loads(next(r for r in seen if r["method"] == "POST")["body"])
    assert set(body) == {"sightings", "anonymous"} and body["anonymous"] is True
    stored = list(hub.export(hub.viewer_as("Bank"), types=["sighting"]))
    assert len(stored) == 1
    s = stored[0]
    assert "created_by_ref" not in s and s["object_marking_refs"] == [AMBER]
    got = hub.get(hub.viewer_as("Bank"), s["id"])
    assert got["owner"] is None and got["audiences"]
    assert all(a["org"] is None and a["audience"] == "community" for a in got["audiences"]), got["audiences"]
    assert "first_seen" not in s  # the matched app record has no time on it
    entries = [e for e in hub.audit(hub.viewer_as(None), limit=50) if e["action"] == "spyware.share"]
    assert entries and entries[0]["actor"] == "anonymous" and "127.0.0.1" not in json.dumps(entries[0], default=str)


def test_the_hub_refuses_anything_but_sightings(served) -> None:
    base, hub, _seen = served
    seed_small(hub, ())
    tokens = people(hub)
    reg = hub.spyware_registry(hub.viewer_as(None))
    ind = next(iter(reg.indicators))
    auth = {"Authorization": f"Bearer {tokens['journalist@news.example']}"}
    url = f"{base}/api/v1/spyware/sightings"
    ok = {"indicator": ind, "count": 2, "first_seen": "2024-01-01T00:00:00Z"}
    for bad, status in [
        ({"sightings": [ok], "share_with": "Helpline", "device": {"imei": "1"}}, 400),
        ({"sightings": [{**ok, "value": "badbadbad.example.org"}], "share_with": "Helpline"}, 400),
        ({"sightings": [ok], "share_with": "Helpline", "anonymous": True}, 400),
        ({"sightings": [ok], "share_with": "Bank"}, 404),  # not a helpline
        (
            {"sightings": [{**ok, "indicator": "indicator--00000000-0000-4000-8000-000000000000"}], "anonymous": True},
            404,
        ),
        ({"sightings": [{**ok, "count": 0}], "anonymous": True}, 400),
        ({"sightings": [], "anonymous": True}, 400),
    ]:
        resp = httpx.post(url, json=bad, headers=auth)
        assert resp.status_code == status, (bad, resp.text)
    assert httpx.post(url, json={"sightings": [ok], "anonymous": True}).status_code == 401
    assert not list(hub.export(hub.viewer_as(None), types=["sighting"]))
    assert httpx.post(url, json={"sightings": [ok], "share_with": "Helpline"}, headers=auth).status_code == 201


def test_sharing_needs_a_hub(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check-device", str(MVT / "androidqf"), "--offline-iocs",
                                      str(MVT / "hubtest.stix2"), "--share-anonymously"])  # fmt: skip
    assert result.exit_code != 0


def test_anonymous_sightings_carry_days_not_times() -> None:
    from accord.spyware.share import sightings

    body = {"sightings": [{"indicator": "indicator--6a7d6b52-1c42-4d0c-9f6e-9a8a1c9f1a01", "count": 3,
                           "first_seen": "2024-05-01T10:11:12.345Z", "last_seen": "2024-05-03T23:59:59Z"}],
            "anonymous": True}  # fmt: skip
    (anon,) = sightings(body, anonymous=True)
    assert (anon["first_seen"], anon["last_seen"]) == ("2024-05-01T00:00:00.000Z", "2024-05-03T00:00:00.000Z")
    (red,) = sightings({**{k: v for k, v in body.items() if k != "anonymous"}, "share_with": "H"}, anonymous=False)
    assert red["first_seen"] == "2024-05-01T10:11:12.345Z" and red["object_marking_refs"] == [RED]
    assert anon["id"] != red["id"] and "created_by_ref" not in anon


def test_check_reads_a_taxii_collection(served) -> None:
    base, hub, seen = served
    seed_small(hub, ())
    tokens = people(hub)
    coll = hub.add_collection(hub.viewer_as(None), "Everything")["id"]
    url = f"{base}/taxii2/api/collections/{coll}/"
    doc = _run(["check-device", str(MVT / "androidqf"), "--hub", url, "--token", tokens["journalist@news.example"],
                "--json"])  # fmt: skip
    assert [f["values"] for f in doc["findings"]] == [["com.malware.blah"]]
    assert doc["findings"][0]["products"][0]["label"] == "Pegasus (NSO group)"
    assert all(r["method"] == "GET" and r["body"] == b"" and r["path"].startswith("/taxii2/") for r in seen)
