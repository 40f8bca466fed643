"""The OASIS client library (taxii2-client 2.3.0) drives Accord over a real socket on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from taxii2client.v21 import ApiRoot, Server, as_pages

from accord.api.app import create_app
from accord.hub import Hub
from helpers import community, indicator

WAIT = 30  # seconds: upper bound for the server to start or stop


@pytest.fixture
def served(hub: Hub) -> Iterator[tuple[str, Hub]]:
    """Accord served by uvicorn in a thread, on a socket bound to a free port of 127.0.0.1."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(hub), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", hub
    finally:
        server.should_exit = True
        thread.join(timeout=WAIT)
        sock.close()


def test_taxii2_client_end_to_end(served) -> None:
    base, hub = served
    community(hub)
    op = hub.viewer_as(None)
    token = hub.create_token(op, "analyst@bank.example")["token"]
    coll_id = hub.add_collection(op, "Everything", writers="all", description="All you may see")["id"]
    pub_id = hub.add_collection(op, "Public", scope="public")["id"]

    server = Server(f"{base}/taxii2/", user="analyst@bank.example", password=token)
    assert server.title and len(server.api_roots) == 1
    root = server.default
    assert root.url == f"{base}/taxii2/api/"
    assert root.max_content_length == hub.settings.max_bundle_bytes
    colls = {c.id: c for c in root.collections}
    coll = colls[coll_id]
    assert coll.can_read and coll.can_write and coll.description == "All you may see"
    assert not colls[pub_id].can_write

    objs = [indicator(f"client{i}.example", level="green") for i in range(7)]
    status = coll.add_objects({"objects": objs})
    assert status.status == "complete" and status.success_count == 7 and status.failure_count == 0
    again = root.get_status(status.id)
    assert again.id == status.id and again.success_count == 7

    seen = []
    for envelope in as_pages(coll.get_objects, per_request=3, type="indicator"):
        seen.extend(o["id"] for o in envelope.get("objects", []))
    assert seen == [o["id"] for o in objs]

    manifest = coll.get_manifest(type="indicator")
    assert [m["id"] for m in manifest["objects"]] == seen
    first = objs[0]
    newer = {**first, "modified": "2024-05-01T00:00:00.000Z"}
    assert coll.add_objects({"objects": [newer]}).success_count == 1
    assert coll.object_versions(first["id"])["versions"] == [first["modified"], newer["modified"]]
    assert coll.get_object(first["id"])["objects"][0]["modified"] == newer["modified"]
    assert len(coll.get_object(first["id"], version="all")["objects"]) == 2

    coll.delete_object(first["id"])
    assert coll.get_object(first["id"])["objects"][0]["revoked"] is True

    # Big envelopes go to the background; the client polls the status until it is complete.
    hub.TAXII_BACKGROUND_OBJECTS = 5  # this hub only
    bulk = [indicator(f"bulk{i}.example", level="green") for i in range(12)]
    done = coll.add_objects({"objects": bulk}, poll_interval=0.1, timeout=WAIT)
    assert done.status == "complete" and done.success_count == 12

    # Anonymous: the public collection only.
    anon = ApiRoot(f"{base}/taxii2/api/")
    assert [c.id for c in anon.collections] == [pub_id]
    public = anon.collections[0].get_objects(type="marking-definition")
    assert public["objects"]
