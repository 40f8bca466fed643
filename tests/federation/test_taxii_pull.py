"""Pulling a partner hub's federation collection over TAXII 2.1 (the source served on 127.0.0.1 in a
thread; the pulling hub on SQLite and PostgreSQL)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from accord.errors import AccordError, AlreadyExists, InvalidInput, NotFound, PermissionDenied
from accord.federation import taxii as taxii_source
from accord.hub import Hub
from accord.stix import tlp
from accord.stix.timestamps import now
from accord.store.schema import federation_feed, object_grant, stix_object
from helpers import indicator, items

from .conftest import Partner, add_partner_org, served_in_thread, setup_partner, sqlite_hub_at


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Partner]:
    """Hub A (SQLite, served in a thread) sharing with partner hub B."""
    hub = sqlite_hub_at(tmp_path / "a.db")
    partner = setup_partner(hub, "A", ["B"])
    with served_in_thread(hub) as base:
        partner.base = base
        yield partner
    hub.engine.dispose()


def pulling_hub(hub: Hub) -> Hub:
    op = hub.viewer_as(None)
    hub.add_org(op, "B CERT", "government-national", "DE")
    add_partner_org(hub, "Hub A")
    return hub


def add_feed(hub: Hub, src: Partner, name: str = "from-a", **kw: Any) -> dict[str, Any]:
    email, token = src.tokens["B"]
    opts = {"collection": src.collection, "user": email, "password": token, "as_org": "Hub A",
            "audience": "community", **kw}  # fmt: skip
    return hub.add_feed(hub.viewer_as(None), name, src.discovery, **opts)


def rows_of(hub: Hub, stix_id: str) -> list[Any]:
    with hub.engine.connect() as conn:
        return list(conn.execute(select(stix_object).where(stix_object.c.stix_id == stix_id)))


def grants_of(hub: Hub, stix_id: str) -> list[Any]:
    with hub.engine.connect() as conn:
        q = select(object_grant).join(stix_object, stix_object.c.pk == object_grant.c.object_pk)
        return list(conn.execute(q.where(stix_object.c.stix_id == stix_id)))


def test_pull_keeps_creator_markings_and_records_provenance(hub: Hub, source: Partner) -> None:
    target = pulling_hub(hub)
    green, clear = indicator("green.example", level="green"), indicator("clear.example", level="clear")
    amber, red = indicator("amber.example", level="amber"), indicator("red.example", level="red")
    source.publish([green])
    source.publish([clear], audience="public")
    source.publish([amber], audience="community")
    source.publish([red], audience="org")
    add_feed(target, source)
    report = target.pull_feed(target.viewer_as(None), "from-a")
    assert report["error"] is None, report
    assert report["added"] == 3 and report["rejected"] == 0  # with the identity created_by_ref names
    # The TLP marking definitions are public at the source and already held here: not ingested again.
    assert report["known"] == len(tlp.all_marking_definitions())

    creator = source.hub.viewer_as(source.member).org_identity
    for obj in (green, clear):
        got = target.get(target.viewer_as("B CERT"), obj["id"])
        assert got["object"]["created_by_ref"] == creator
        assert got["object"]["object_marking_refs"] == obj["object_marking_refs"]
        (grant,) = grants_of(target, obj["id"])
        assert grant.via == "feed:from-a" and grant.source == source.discovery and grant.audience == "community"
    for obj in (amber, red):  # never served by a federation collection
        assert rows_of(target, obj["id"]) == []

    feed = target.get_feed(target.viewer_as(None), "from-a")
    assert feed["objects_pulled"] == 3 and feed["last_success"] is not None and feed["failures"] == 0
    assert feed["last_error"] is None and feed["checkpoint"] == report["checkpoint"]
    assert feed["next_attempt"] > now() + timedelta(seconds=200)  # the 5 minute interval
    assert feed["auth"] == "basic (secret encrypted)" and all(source.tokens["B"][1] not in str(v) for v in feed.values())


def test_audience_is_capped_by_tlp_not_refused(hub: Hub, source: Partner) -> None:
    """A feed asking for 'public' gets it for CLEAR objects and the widest the TLP allows for the rest.

    AMBER comes only through a member's account on the source (a partner hub's token is never handed
    AMBER): here the source's own analyst reads an 'all' collection for this hub."""
    target = pulling_hub(hub)
    op = source.hub.viewer_as(None)
    everything = source.hub.add_collection(op, "All that A CERT may see", readers="A CERT")["id"]
    green, clear = indicator("g.example", level="green"), indicator("c.example", level="clear")
    amber = indicator("a.example", level="amber")
    source.publish([green, clear])
    source.publish([amber], audience="community")
    member_token = source.hub.create_token(op, "analyst@a.example")["token"]
    add_feed(target, source, collection=everything, audience="public", user="analyst@a.example",
             password=member_token)  # fmt: skip
    report = target.pull_feed(target.viewer_as(None), "from-a")
    assert report["error"] is None and report["rejected"] == 0, report
    got = {o["id"]: {g.audience for g in grants_of(target, o["id"])} for o in (green, clear, amber)}
    assert got == {clear["id"]: {"public"}, green["id"]: {"federation"}, amber["id"]: {"community"}}


def test_incremental_pages_and_replay_after_a_crash(hub: Hub, source: Partner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(taxii_source, "PAGE", 4)
    target = pulling_hub(hub)
    first = [indicator(f"n{i}.example", level="green") for i in range(10)]
    source.publish(first)
    add_feed(target, source)
    op = target.viewer_as(None)
    seen: list[int] = []
    r1 = target.pull_feed(op, "from-a", progress=lambda r: seen.append(r.stored))
    assert r1["error"] is None and r1["added"] == 11 and r1["pages"] >= 4  # with the creator's identity
    assert seen == sorted(seen) and seen[-1] == 11 and len(seen) == r1["pages"]  # after each page
    checkpoint_after_first = r1["checkpoint"]

    more = [indicator(f"m{i}.example", level="green") for i in range(3)]
    source.publish(more)
    r2 = target.pull_feed(op, "from-a")
    assert (r2["received"], r2["added"], r2["known"]) == (3, 3, 0)

    # A crash after the objects were stored but before the checkpoint moved: the checkpoint is behind.
    with target.engine.begin() as conn:
        conn.execute(update(federation_feed).values(checkpoint=checkpoint_after_first))
    r3 = target.pull_feed(op, "from-a")
    assert (r3["received"], r3["added"], r3["known"]) == (3, 0, 3)
    for obj in first + more:
        assert len(rows_of(target, obj["id"])) == 1
    assert target.get_feed(op, "from-a")["objects_pulled"] == 14  # with the creator's identity


@contextmanager
def flaky_proxy(upstream: str, fail_after: int) -> Iterator[dict[str, Any]]:
    """Forwards GETs to ``upstream``; object pages after the first ``fail_after`` answer 503 while armed."""
    state = {"pages": 0, "armed": True}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            if "/objects/" in self.path:
                state["pages"] += 1
                if state["armed"] and state["pages"] > fail_after:
                    self.send_response(503)
                    self.end_headers()
                    return
            fwd = {k: v for k, v in self.headers.items() if k.lower() in ("accept", "authorization")}
            resp = httpx.get(upstream + self.path, headers=fwd, timeout=30)
            body = resp.content.replace(upstream.encode(), f"http://127.0.0.1:{self.server.server_address[1]}".encode())
            self.send_response(resp.status_code)
            for k, v in resp.headers.items():
                if k.lower() in ("content-type",) or k.lower().startswith("x-taxii"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state["base"] = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        thread.join(timeout=30)
        server.server_close()


def test_errors_back_off_and_the_next_pull_resumes_without_gaps(
    hub: Hub, source: Partner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(taxii_source, "PAGE", 3)
    target = pulling_hub(hub)
    objs = [indicator(f"f{i}.example", level="green") for i in range(10)]
    source.publish(objs)
    op = target.viewer_as(None)
    with flaky_proxy(source.base, fail_after=5) as proxy:  # 3 pages of TLP definitions, then objects
        email, token = source.tokens["B"]
        target.add_feed(op, "from-a", f"{proxy['base']}/taxii2/", collection=source.collection, user=email,
                        password=token, as_org="Hub A")  # fmt: skip
        r1 = target.pull_feed(op, "from-a")
        assert r1["error"] is not None and "503" in r1["error"]
        assert r1["added"] == 6  # two pages of three objects were stored before the failure
        feed = target.get_feed(op, "from-a")
        assert feed["failures"] == 1 and feed["last_error"] == r1["error"] and feed["last_success"] is None
        assert feed["next_attempt"] <= now() + timedelta(seconds=31)  # first back-off: 30 s
        assert target.pull_feed(op, "from-a")["error"] is not None
        assert target.get_feed(op, "from-a")["failures"] == 2
        proxy["armed"] = False
        r3 = target.pull_feed(op, "from-a")
    # With the creator's identity; the checkpoint stopped just before the last date_added stored (a
    # source may date several objects alike), so that one object is read again and known.
    assert r3["error"] is None and r3["added"] == 5 and r3["known"] == 1, r3
    for obj in objs:
        assert len(rows_of(target, obj["id"])) == 1
    feed = target.get_feed(op, "from-a")
    assert feed["failures"] == 0 and feed["last_error"] is None and feed["objects_pulled"] == 11


def test_retraction_and_new_versions_travel(hub: Hub, source: Partner) -> None:
    target = pulling_hub(hub)
    doomed, evolving = indicator("doomed.example", level="green"), indicator("evolving.example", level="green")
    source.publish([doomed, evolving])
    add_feed(target, source)
    op = target.viewer_as(None)
    assert target.pull_feed(op, "from-a")["added"] == 3  # with the creator's identity

    source.hub.revoke_object(source.hub.viewer_as(source.member), doomed["id"])
    newer = {**evolving, "modified": "2024-06-01T00:00:00.000Z", "name": "Domain evolving.example (confirmed)"}
    source.publish([newer])
    report = target.pull_feed(op, "from-a")
    assert report["new_version"] == 2 and report["error"] is None, report
    b = target.viewer_as("B CERT")
    assert target.get(b, doomed["id"])["object"]["revoked"] is True
    assert target.get(b, evolving["id"])["object"]["name"] == newer["name"]
    assert len(rows_of(target, doomed["id"])) == 2


def test_feed_collection_shows_what_the_feed_brought(hub: Hub, source: Partner) -> None:
    target = pulling_hub(hub)
    op = target.viewer_as(None)
    source.publish([indicator("fed.example", level="green")])
    own = indicator("own.example", level="green")
    target.ingest(target.viewer_as("B CERT"), items(own), target.options(audience="community"))
    add_feed(target, source)
    with pytest.raises(NotFound):
        target.add_collection(op, "Nope", scope="feed:nonexistent")
    with pytest.raises(InvalidInput, match="read-only"):
        target.add_collection(op, "Writable", scope="feed:from-a", writers="all")
    coll = target.add_collection(op, "From A", scope="feed:from-a")
    assert coll["scope"] == "feed:from-a"
    target.pull_feed(op, "from-a")
    from accord.store.taxii_reads import Selection

    page = target.taxii_objects(target.viewer_as("B CERT"), coll["id"], Selection(), 100)
    names = {r["data"]["name"] for r in page.rows}
    assert names == {"Domain fed.example", "A CERT"}  # with the identity its created_by_ref names
    with pytest.raises(InvalidInput, match="remove them first"):
        target.remove_feed(op, "from-a")


def test_feed_definitions_are_checked(hub: Hub) -> None:
    target = pulling_hub(hub)
    op = target.viewer_as(None)
    url = "http://127.0.0.1:9/taxii2/"
    bad: list[tuple[dict[str, Any], str]] = [
        ({"name": "x" * 28}, "feed name"),
        ({"name": "bad name"}, "feed name"),
        ({"url": "ftp://example.org/"}, "http"),
        ({"collection": None}, "--collection"),
        ({"interval": "5 minutes"}, "interval"),
        ({"interval": "1s"}, "between"),
        ({"token": "t", "user": "u", "password": "p"}, "either"),
        ({"user": "u"}, "go together"),
        ({"audience": "everyone"}, "unknown audience"),
        ({"audience": "org", "as_org": None}, "--as"),
        ({"audience": "group:nobody"}, "no sharing group"),
    ]
    for change, message in bad:
        kw = {"name": "ok", "url": url, "collection": "c1", "as_org": "Hub A", **change}
        with pytest.raises((InvalidInput, NotFound), match=message):
            target.add_feed(op, kw.pop("name"), kw.pop("url"), **kw)
    with pytest.raises(NotFound):
        target.add_feed(op, "ok", url, collection="c1", as_org="Nobody")
    target.add_feed(op, "ok", url, collection="c1", interval="90s")
    assert target.list_feeds(op)[0]["interval"] == "90s"
    with pytest.raises(AlreadyExists):
        target.add_feed(op, "ok", url, collection="c1")
    target.add_user(op, "analyst@b.example", "B CERT", "analyst")
    analyst = target.viewer_as("B CERT")
    analyst = analyst.__class__(**{**analyst.__dict__, "operator": False, "user_pk": 1, "role": "analyst"})
    for call in (lambda: target.list_feeds(analyst), lambda: target.pull_feed(analyst, "ok"),
                 lambda: target.remove_feed(analyst, "ok")):  # fmt: skip
        with pytest.raises(PermissionDenied):
            call()
    # An unreachable source is an error recorded in the feed's health, not an exception.
    report = target.pull_feed(op, "ok")
    assert report["error"] and "cannot reach" in report["error"]
    assert target.remove_feed(op, "ok") == {"name": "ok", "removed": True}
    assert target.list_feeds(op) == []
    with pytest.raises(NotFound):
        target.pull_feed(op, "ok")


def test_tlp_constants_are_the_ones_federation_excludes() -> None:
    from accord.store.taxii_reads import NEVER_FEDERATED

    assert set(NEVER_FEDERATED) == {tlp.RED, tlp.AMBER_STRICT}


def test_one_puller_per_feed(hub: Hub) -> None:
    """The lease: a live process holding it makes a pull refuse; a dead one's or an expired one is taken over."""
    import os
    import socket

    from accord.errors import FeedBusy

    target = pulling_hub(hub)
    op = target.viewer_as(None)
    target.add_feed(op, "f", "http://127.0.0.1:9/taxii2/", collection="c1")
    host = socket.gethostname()

    def lease(owner: str, until: Any) -> None:
        with target.engine.begin() as conn:
            conn.execute(update(federation_feed).values(lease_owner=owner, lease_until=until))

    lease(f"{host}:{os.getppid()}:elsewhere", now() + timedelta(minutes=5))  # a live process: our parent
    with pytest.raises(FeedBusy, match="being pulled"):
        target.pull_feed(op, "f")
    lease(f"{host}:{os.getppid()}:elsewhere", now() - timedelta(seconds=1))  # expired
    assert "cannot reach" in target.pull_feed(op, "f")["error"]
    lease(f"{host}:999999999:gone", now() + timedelta(minutes=5))  # its process no longer exists
    assert "cannot reach" in target.pull_feed(op, "f")["error"]
    with target.engine.connect() as conn:
        assert conn.execute(select(federation_feed.c.lease_owner)).scalar_one() is None  # released


def test_federation_collection_never_serves_red_or_amber_strict_whatever_the_grants(hub: Hub) -> None:
    from accord.store.taxii_reads import Selection

    op = hub.viewer_as(None)
    hub.add_org(op, "Member", "government-national", "GB")
    hub.add_org(op, "Reader", "government-national", "GB")
    add_partner_org(hub, "Hub B", "FR")
    objs = {level: indicator(f"{level}.example", level=level) for level in ("green", "amber+strict", "red")}
    hub.ingest(hub.viewer_as("Member"), items(objs["green"]), hub.options(audience="federation"))
    hub.ingest(hub.viewer_as("Member"), items(objs["amber+strict"], objs["red"]), hub.options(audience="org"))
    # Grants that the core would never make (a bug, a hand-edited database): federation on RED and AMBER+STRICT.
    with hub.engine.begin() as conn:
        for level in ("amber+strict", "red"):
            pk = conn.execute(select(stix_object.c.pk).where(stix_object.c.stix_id == objs[level]["id"])).scalar_one()
            conn.execute(object_grant.insert().values(object_pk=pk, org_pk=None, audience="federation", via="test",
                                                      granted_at=now()))  # fmt: skip
    coll = hub.add_collection(op, "Federation", scope="federation")
    assert coll["write_audience"] == "federation"
    # The scope's own rule holds for a member reading the collection, and the partner viewer's rule too.
    for reader in ("Reader", "Hub B"):
        served = {r["stix_id"] for r in hub.taxii_objects(hub.viewer_as(reader), coll["id"], Selection(), 100).rows}
        assert objs["green"]["id"] in served, reader
        assert objs["red"]["id"] not in served and objs["amber+strict"]["id"] not in served, reader
    assert hub.viewer_as("Hub B").partner
    with pytest.raises(InvalidInput, match="federation"):
        hub.add_collection(op, "Bad", scope="federation", write_audience="community")


def test_collection_url_bearer_token_and_unknown_collection(hub: Hub, source: Partner) -> None:
    target = pulling_hub(hub)
    op = target.viewer_as(None)
    source.publish([indicator("bearer.example", level="green")])
    _, token = source.tokens["B"]
    url = f"{source.base}/taxii2/api/collections/{source.collection}/"
    target.add_feed(op, "direct", url, token=token, as_org="Hub A")
    report = target.pull_feed(op, "direct")
    assert report["error"] is None and report["added"] == 2, report  # with the creator's identity
    target.add_feed(op, "wrong", source.discovery, collection="no-such-collection", token=token)
    assert "collection not found" in target.pull_feed(op, "wrong")["error"]
    target.add_feed(op, "badtoken", url, token="acc_not-a-token")
    assert "HTTP 401" in target.pull_feed(op, "badtoken")["error"]
    with pytest.raises(InvalidInput, match="names collection"):
        target.add_feed(op, "mismatch", url, collection="other", token=token)


def test_objects_created_by_a_member_of_this_hub_are_refused_with_the_reason(hub: Hub, source: Partner) -> None:
    """Organisation identities follow from names on every hub: 'A CERT' here is 'A CERT' there. Only that
    member may publish under its name here, so a feed's copies of its objects are refused, and reported."""
    target = pulling_hub(hub)
    target.add_org(target.viewer_as(None), "A CERT", "government-national", "GB")
    source.publish([indicator("theirs.example", level="green")])
    add_feed(target, source)
    report = target.pull_feed(target.viewer_as(None), "from-a")
    assert report["error"] is None and report["added"] == 0 and report["rejected"] == 2  # and A CERT's identity
    assert all("another member organisation" in e for e in report["errors"])


def test_a_full_re_read_brings_what_was_shared_after_the_checkpoint(
    hub: Hub, source: Partner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An object first held for the source's community and later also shared with the federation is added
    again for the federation (a new date_added at the source), so the next ordinary pull brings it. A full
    re-read (by hand, and the scheduler's periodic one) skips what is held and never moves the checkpoint
    back."""
    from accord.federation.scheduler import FeedScheduler

    target = pulling_hub(hub)
    op_src = source.hub.viewer_as(None)
    source.hub.add_org(op_src, "Bank", "financial-services", "GB")
    mitre = "identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5"
    attck = [indicator(f"attck{i}.example", level="clear", created_by_ref=mitre) for i in range(2)]
    source.hub.ingest(source.hub.viewer_as("Bank"), items(*attck), source.hub.options(audience="community"))
    source.publish([indicator("first.example", level="green")])
    add_feed(target, source)
    first = target.pull_feed(target.viewer_as(None), "from-a")
    assert first["error"] is None and first["added"] == 2, first  # with the creator's identity
    checkpoint = first["checkpoint"]
    # The member A CERT imports the same object later, for the federation: a new grant, the same version.
    shared = source.hub.ingest(source.hub.viewer_as(source.member), items(attck[0]),
                               source.hub.options(audience="federation"))  # fmt: skip
    assert shared.unchanged == 1
    again = target.pull_feed(target.viewer_as(None), "from-a")
    assert again["error"] is None and again["added"] == 1, again
    assert rows_of(target, attck[0]["id"]) and not rows_of(target, attck[1]["id"])
    checkpoint = target.get_feed(target.viewer_as(None), "from-a")["checkpoint"]
    assert checkpoint > first["checkpoint"]
    full = target.pull_feed(target.viewer_as(None), "from-a", full=True)
    assert full["error"] is None and full["full"] and full["added"] == 0 and full["known"] >= 2, full
    feed = target.get_feed(target.viewer_as(None), "from-a")
    assert feed["checkpoint"] == checkpoint  # nothing newer came: not moved back to the start

    # The background puller re-reads in full at its first pull of the feed, then every ACCORD_FEED_RESYNC hours.
    monkeypatch.setenv("ACCORD_FEED_RESYNC", "1")
    puller = FeedScheduler(target, tick=1)

    def due_now() -> None:
        with target.engine.begin() as conn:
            conn.execute(update(federation_feed).values(next_attempt_at=now()))

    source.hub.ingest(source.hub.viewer_as(source.member), items(attck[1]), source.hub.options(audience="federation"))
    due_now()
    assert puller.run_once() == 1 and rows_of(target, attck[1]["id"])
    late = indicator("late-attck.example", level="clear", created_by_ref=mitre)
    source.hub.ingest(source.hub.viewer_as("Bank"), items(late), source.hub.options(audience="community"))
    source.publish([indicator("newer.example", level="green")])
    due_now()
    assert puller.run_once() == 1  # an ordinary pull moves the checkpoint past 'late'
    source.hub.ingest(source.hub.viewer_as(source.member), items(late), source.hub.options(audience="federation"))
    due_now()
    # Within the hour no full re-read, and none needed: 'late' was added again for the federation.
    assert puller.run_once() == 1 and rows_of(target, late["id"])
    puller._last_full = {n: t - puller.resync for n, t in puller._last_full.items()}  # as if an hour had passed
    due_now()
    assert puller.run_once() == 1 and rows_of(target, late["id"])
    monkeypatch.setenv("ACCORD_FEED_RESYNC", "soon")
    with pytest.raises(AccordError, match="ACCORD_FEED_RESYNC"):
        FeedScheduler(target, tick=1)


def test_a_private_copy_here_does_not_keep_a_partners_share_from_the_community(hub: Hub, source: Partner) -> None:
    """A version a member holds privately here, which the partner shares with the federation, gets the
    feed's grant (it was counted 'known' and stayed private); a version whose content differs from the
    stored one is not opened, whatever its id and timestamp."""
    target = pulling_hub(hub)
    op = target.viewer_as(None)
    target.add_org(op, "Other", "financial-services", "NL")
    mitre = "identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5"
    same = indicator("same.example", level="green", created_by_ref=mitre)
    private = indicator("private.example", level="green", created_by_ref=mitre)
    held = target.ingest(target.viewer_as("B CERT"), items(same, private), target.options(audience="org"))
    assert held.added == 2
    forged = {**private, "name": "what the partner claims", "pattern": "[domain-name:value = 'x.example']"}
    source.publish([same, forged])
    add_feed(target, source)
    report = target.pull_feed(op, "from-a")
    assert report["error"] is None and report["rejected"] == 0, report
    assert {g.audience for g in grants_of(target, same["id"])} == {"org", "community"}
    (feed_grant,) = [g for g in grants_of(target, same["id"]) if g.via == "feed:from-a"]
    assert feed_grant.source == source.discovery
    assert target.get(target.viewer_as("Other"), same["id"])["object"]["name"] == same["name"]
    # The forged version (same id and modified, other content) is not opened to anyone.
    assert [g.audience for g in grants_of(target, private["id"])] == ["org"]
    with pytest.raises(NotFound):
        target.get(target.viewer_as("Other"), private["id"])
    # Pulled again in full: nothing more to open, so both are held ('known'), no second grant.
    again = target.pull_feed(op, "from-a", full=True)
    assert again["error"] is None and again["added"] == 0 and again["known"] >= 2, again
    assert len(grants_of(target, same["id"])) == 2


def test_pulling_every_feed_skips_one_another_process_is_pulling(hub: Hub) -> None:
    """'accord feed pull --all' beside a running server: a feed whose lease a live process holds is
    reported as skipped and the other feeds are still pulled (it used to stop at the busy one)."""
    import os
    import socket

    target = pulling_hub(hub)
    op = target.viewer_as(None)
    for name in ("busy", "next"):
        target.add_feed(op, name, "http://127.0.0.1:9/taxii2/", collection="c1")
    with target.engine.begin() as conn:
        conn.execute(update(federation_feed).where(federation_feed.c.name == "busy")
                     .values(lease_owner=f"{socket.gethostname()}:{os.getppid()}:elsewhere",
                             lease_until=now() + timedelta(minutes=5)))  # fmt: skip
    busy, following = target.pull_feeds(op)
    assert busy["feed"] == "busy" and "being pulled" in busy["skipped"] and busy["error"] is None
    assert following["feed"] == "next" and following["skipped"] is None and "cannot reach" in following["error"]
    assert target.get_feed(op, "busy")["failures"] == 0  # not this pull's to record
