"""Statuses: stored in the database, background ingest for big envelopes, work lost to a stopped process."""

from __future__ import annotations

import socket
import subprocess
import threading
import time

from fastapi.testclient import TestClient

from accord.api.app import create_app
from accord.hub import Hub
from accord.stix.timestamps import now
from accord.store import statuses
from accord.store.db import make_engine
from helpers import indicator

WAIT = 60  # seconds: an upper bound for background work, never an expectation


def status_of(taxii, who: str, status_id: str) -> dict:
    r = taxii.get(who, f"/taxii2/api/status/{status_id}/")
    assert r.status_code == 200, r.text
    return r.json()


def test_a_status_survives_a_new_hub_on_the_same_database(taxii, backend, request) -> None:
    objs = [indicator("kept.example"), {**indicator("broken.example"), "pattern": "[nope"}]
    posted = taxii.post("bank", "all", objs).json()
    old = taxii.hub
    old.engine.dispose()
    if backend == "sqlite":
        engine = make_engine(old.settings.database_url)
    else:
        schema = request.getfixturevalue("pg_schema")
        engine = make_engine(old.settings.database_url, connect_args={"options": f"-csearch_path={schema}"})
    fresh = Hub(old.settings, engine=engine)  # as after a restart: new process state, same database
    try:
        client = TestClient(create_app(fresh))
        r = client.get(f"/taxii2/api/status/{posted['id']}", headers=taxii.headers("bank"))
        assert r.status_code == 200
        assert r.json() == posted
        assert r.json()["failures"][0]["id"] == objs[1]["id"]
    finally:
        engine.dispose()


def gate_ingest(hub: Hub) -> threading.Event:
    """Hold the hub's ingest until the returned event is set (bounded), to observe a pending status."""
    release = threading.Event()
    original = hub.ingest

    def held(*args, **kwargs):
        assert release.wait(WAIT), "the test never released ingest"
        return original(*args, **kwargs)

    hub.ingest = held  # type: ignore[method-assign]
    return release


def wait_complete(taxii, who: str, status_id: str) -> dict:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        body = status_of(taxii, who, status_id)
        if body["status"] == "complete":
            return body
        time.sleep(0.05)
    raise AssertionError("the status did not complete")


def test_a_big_envelope_is_ingested_in_the_background(taxii) -> None:
    n = taxii.hub.TAXII_BACKGROUND_OBJECTS + 1
    objs = [indicator(f"bulk{i}.example", level="green") for i in range(n)]
    release = gate_ingest(taxii.hub)
    try:
        r = taxii.post("bank", "all", objs)
        assert r.status_code == 202
        pending = r.json()
        assert pending["status"] == "pending"
        assert pending["total_count"] == pending["pending_count"] == n and pending["success_count"] == 0
        assert len(pending["pendings"]) == n and pending["pendings"][0]["id"] == objs[0]["id"]
        again = status_of(taxii, "bank", pending["id"])
        assert again["status"] == "pending"
    finally:
        release.set()
    done = wait_complete(taxii, "bank", pending["id"])
    assert done["success_count"] == n and done["failure_count"] == 0 and done["pending_count"] == 0
    assert "pendings" not in done
    got = taxii.get("police", taxii.url("all", "manifest"), **{"match[type]": "indicator", "limit": 5000}).json()
    assert {o["id"] for o in objs} <= {m["id"] for m in got["objects"]}


def test_a_big_body_goes_to_the_background_too(taxii) -> None:
    padding = "x" * (taxii.hub.TAXII_BACKGROUND_BYTES // 10)
    objs = [indicator(f"fat{i}.example", description=padding) for i in range(11)]
    release = gate_ingest(taxii.hub)
    try:
        pending = taxii.post("bank", "all", objs).json()
        assert pending["status"] == "pending" and pending["total_count"] == 11
    finally:
        release.set()
    assert wait_complete(taxii, "bank", pending["id"])["success_count"] == 11


def test_a_background_failure_completes_the_status_with_the_reason(taxii, monkeypatch) -> None:
    monkeypatch.setattr(taxii.hub, "TAXII_BACKGROUND_OBJECTS", 1)
    # Bank leaves the taskforce after the collection was chosen: ingest refuses the whole batch.
    objs = [indicator("late1.example"), indicator("late2.example")]
    release = gate_ingest(taxii.hub)
    try:
        pending = taxii.post("bank", "group", objs).json()
        assert pending["status"] == "pending"
        taxii.hub.remove_group_member(taxii.hub.viewer_as(None), "taskforce", "Bank")
    finally:
        release.set()
    done = wait_complete(taxii, "bank", pending["id"])
    assert done["failure_count"] == 2 and done["success_count"] == 0
    assert all("not a member" in f["message"] for f in done["failures"])


def test_work_lost_to_a_stopped_process_is_reported_not_left_pending(taxii) -> None:
    dead = subprocess.Popen(["true"])  # a process that has exited: its pid no longer runs
    dead.wait(timeout=WAIT)
    worker = f"{socket.gethostname()}:{dead.pid}:0123456789ab"
    bank = taxii.hub.viewer_as("Bank")
    obj = indicator("lost.example")
    with taxii.hub.engine.begin() as conn:
        statuses.create(conn, status_id="5b8d1c52-5b1e-4e59-8d3c-7d3d0c1b9a10", collection_id=taxii.colls["all"],
                        org_pk=bank.org_pk, user_pk=None, at=now(),
                        pendings=[{"id": obj["id"], "version": obj["modified"]}], worker=worker)  # fmt: skip
    body = status_of(taxii, "bank", "5b8d1c52-5b1e-4e59-8d3c-7d3d0c1b9a10")
    assert body["status"] == "complete" and body["failure_count"] == 1 and body["pending_count"] == 0
    assert body["failures"][0]["id"] == obj["id"] and "send it again" in body["failures"][0]["message"]
    # A status whose worker is alive (this process) stays pending.
    with taxii.hub.engine.begin() as conn:
        statuses.create(conn, status_id="6c9e2d63-6c2f-4f6a-9e4d-8e4e1d2cab21", collection_id=taxii.colls["all"],
                        org_pk=bank.org_pk, user_pk=None, at=now(), pendings=[{"id": obj["id"]}],
                        worker=statuses.this_worker())  # fmt: skip
    assert status_of(taxii, "bank", "6c9e2d63-6c2f-4f6a-9e4d-8e4e1d2cab21")["status"] == "pending"
