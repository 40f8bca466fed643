"""Accord hubs as separate ``accord serve`` processes on 127.0.0.1 pulling from each other: no echo
between two hubs that pull both ways, a ring of three delivers each version exactly once per hub,
retraction travels, and ``accord serve`` pulls due feeds by itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import func, select

from accord.hub import Hub
from accord.store.schema import object_grant, stix_object
from helpers import indicator

from .conftest import AccordProcess, Partner, setup_partner, sqlite_hub_at, wait_until

NAMES = ("A", "B", "C")
#: The console script installed beside this interpreter.
ACCORD = Path(sys.executable).parent / "accord"


def versions(hub: Hub, stix_id: str) -> int:
    with hub.engine.connect() as conn:
        return conn.execute(select(func.count()).where(stix_object.c.stix_id == stix_id)).scalar_one()


def grants(hub: Hub, stix_id: str) -> list[tuple[str, str]]:
    with hub.engine.connect() as conn:
        q = select(object_grant.c.via, object_grant.c.audience).join(
            stix_object, stix_object.c.pk == object_grant.c.object_pk
        )
        return sorted((r.via, r.audience) for r in conn.execute(q.where(stix_object.c.stix_id == stix_id)))


def link(puller: Partner, source: Partner, source_name: str, puller_name: str, **kw: Any) -> str:
    """``puller`` pulls ``source``'s federation collection with partner-hub credentials, acting as the
    partner hub standing for the source hub."""
    email, token = source.tokens[puller_name]
    assert source.hub.authenticate(f"Bearer {token}", partner_ok=True).partner  # a partner hub's token
    name = f"from-{source_name.lower()}"
    puller.hub.add_feed(puller.hub.viewer_as(None), name, source.discovery, collection=source.collection,
                        user=email, password=token, as_org=f"Hub {source_name}", audience="federation",
                        **kw)  # fmt: skip
    return name


def cli_pull_all(db: Path) -> list[dict[str, Any]]:
    env = {**os.environ, "ACCORD_DATABASE_URL": f"sqlite:///{db}"}
    done = subprocess.run([str(ACCORD), "feed", "pull", "--all", "--json"], env=env,
                          capture_output=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    return orjson.loads(done.stdout)


def test_two_hubs_pulling_both_ways_do_not_echo(tmp_path: Path, processes: list[AccordProcess]) -> None:
    a = setup_partner(sqlite_hub_at(tmp_path / "a.db"), "A", ["B"])
    b = setup_partner(sqlite_hub_at(tmp_path / "b.db"), "B", ["A"])
    for partner, name in ((a, "a"), (b, "b")):
        proc = AccordProcess(tmp_path / f"{name}.db", tmp_path / f"{name}.log")
        processes.append(proc)
        partner.base = proc.base
    link(b, a, "A", "B")
    link(a, b, "B", "A")
    xa = [indicator(f"a{i}.example", level="green") for i in range(5)]
    xb = [indicator(f"b{i}.example", level="clear") for i in range(3)]
    a.publish(xa)
    b.publish(xb, audience="public")
    op_a, op_b = a.hub.viewer_as(None), b.hub.viewer_as(None)

    for _ in range(3):  # several rounds both ways
        b.hub.pull_feed(op_b, "from-a")
        a.hub.pull_feed(op_a, "from-b")
    # Serving side: B never hands A back what A fed in, so A's pulls from B only ever see B's own.
    again = a.hub.pull_feed(op_a, "from-b")
    assert again["received"] == 0 and again["error"] is None, again
    assert b.hub.pull_feed(op_b, "from-a")["received"] == 0
    for obj in xa:
        assert versions(a.hub, obj["id"]) == versions(b.hub, obj["id"]) == 1
        assert grants(a.hub, obj["id"]) == [("cli", "federation")]  # no grant from the echo
        assert grants(b.hub, obj["id"]) == [("feed:from-a", "federation")]
    for obj in xb:
        assert versions(a.hub, obj["id"]) == versions(b.hub, obj["id"]) == 1
        assert grants(b.hub, obj["id"]) == [("cli", "public")]
        assert grants(a.hub, obj["id"]) == [("feed:from-b", "federation")]  # the feed's audience, under CLEAR's cap


def test_a_ring_of_three_delivers_each_version_once_per_hub(tmp_path: Path, processes: list[AccordProcess]) -> None:
    hubs = {n: setup_partner(sqlite_hub_at(tmp_path / f"{n}.db"), n, [m for m in NAMES if m != n]) for n in NAMES}
    for n, partner in hubs.items():
        proc = AccordProcess(tmp_path / f"{n}.db", tmp_path / f"{n}.log")
        processes.append(proc)
        partner.base = proc.base
    # A -> B -> C -> A: each pulls the previous one.
    link(hubs["B"], hubs["A"], "A", "B")
    link(hubs["C"], hubs["B"], "B", "C")
    link(hubs["A"], hubs["C"], "C", "A")
    x = indicator("ring.example", level="green")
    hubs["A"].publish([x])

    def round_trip(cli: bool = False) -> dict[str, dict[str, Any]]:
        out = {}
        for n in ("B", "C", "A"):
            h = hubs[n].hub
            (report,) = cli_pull_all(tmp_path / f"{n}.db") if cli else h.pull_feeds(h.viewer_as(None))
            assert report["error"] is None, report
            out[n] = report
        return out

    first = round_trip(cli=True)
    assert first["B"]["added"] == 2 and first["C"]["added"] == 2  # x and the identity its created_by_ref names
    # A gets its own object back from C (C got it from B, not from A): held already, not ingested again.
    assert first["A"]["added"] == 0 and first["A"]["known"] >= 1
    for n in NAMES:
        assert versions(hubs[n].hub, x["id"]) == 1
    assert grants(hubs["A"].hub, x["id"]) == [("cli", "federation")]
    assert grants(hubs["C"].hub, x["id"]) == [("feed:from-b", "federation")]

    hubs["A"].hub.revoke_object(hubs["A"].hub.viewer_as(hubs["A"].member), x["id"])
    second = round_trip()
    assert second["B"]["new_version"] == 1 and second["C"]["new_version"] == 1 and second["A"]["new_version"] == 0
    for n in NAMES:
        h = hubs[n].hub
        assert versions(h, x["id"]) == 2
        assert h.get(h.viewer_as(hubs[n].member), x["id"])["object"]["revoked"] is True
    third = round_trip()
    assert all(r["added"] + r["new_version"] == 0 for r in third.values())


def test_accord_serve_pulls_due_feeds_in_the_background(tmp_path: Path, processes: list[AccordProcess]) -> None:
    a = setup_partner(sqlite_hub_at(tmp_path / "a.db"), "A", ["B"])
    b = setup_partner(sqlite_hub_at(tmp_path / "b.db"), "B", ["A"])
    proc_a = AccordProcess(tmp_path / "a.db", tmp_path / "a.log")
    processes.append(proc_a)
    a.base = proc_a.base
    link(b, a, "A", "B", interval="10s")
    first = indicator("first.example", level="green")
    a.publish([first])
    processes.append(AccordProcess(tmp_path / "b.db", tmp_path / "b.log", feeds=True, tick=0.3))
    b_view = b.hub.viewer_as(b.member)

    def has(obj: dict[str, Any]) -> bool:
        return bool(b.hub.search(b_view, text=obj["pattern"].split("'")[1]))

    def pulled(n: int) -> bool:
        # The objects are visible once their page commits; the feed's health is written when the pull ends.
        feed = b.hub.get_feed(b.hub.viewer_as(None), "from-a")
        return feed["last_success"] is not None and feed["objects_pulled"] >= n

    wait_until(lambda: has(first) and pulled(1), "the background puller to bring the first object in", timeout=60)
    assert b.hub.get_feed(b.hub.viewer_as(None), "from-a")["objects_pulled"] == 2  # and the creator's identity
    later = indicator("later.example", level="green")
    a.publish([later])
    wait_until(lambda: has(later) and pulled(3), "the next scheduled pull (interval 10 s)", timeout=60)
    assert b.hub.get_feed(b.hub.viewer_as(None), "from-a")["objects_pulled"] == 3


def test_a_pull_killed_midway_resumes_without_duplicates_or_gaps(
    tmp_path: Path, processes: list[AccordProcess]
) -> None:
    """``accord feed pull`` is killed (SIGKILL) after some pages were stored; the next pull takes over its
    lease (the process is gone) and ends with every object exactly once."""
    from accord.stix.reader import Item
    from accord.store.schema import federation_feed

    a = setup_partner(sqlite_hub_at(tmp_path / "a.db"), "A", ["B"])
    b = setup_partner(sqlite_hub_at(tmp_path / "b.db"), "B", ["A"])
    total = 20_000
    objs = [indicator(f"bulk{i}.example", level="green") for i in range(total)]
    viewer, opts = a.hub.viewer_as(a.member), a.hub.options(audience="federation")
    for i in range(0, total, 2000):
        a.hub.ingest(viewer, [Item(j, o) for j, o in enumerate(objs[i : i + 2000])], opts)
    proc = AccordProcess(tmp_path / "a.db", tmp_path / "a.log")
    processes.append(proc)
    a.base = proc.base
    link(b, a, "A", "B")
    env = {**os.environ, "ACCORD_DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}"}
    puller = subprocess.Popen([str(ACCORD), "feed", "pull", "from-a"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip

    def pulled() -> int:
        with b.hub.engine.connect() as conn:
            return conn.execute(select(federation_feed.c.objects_pulled)).scalar_one()

    try:
        wait_until(lambda: pulled() > 0 or puller.poll() is not None, "the first page to be stored", timeout=120,
                   step=0.02)  # fmt: skip
        puller.kill()
    finally:
        puller.wait(timeout=60)
    stored_before = pulled()
    assert 0 < stored_before < total, "the pull should have been killed part-way"
    held_before = indicators_at(b.hub)
    assert held_before >= stored_before  # a page may be stored and not yet check-pointed
    report = b.hub.pull_feed(b.hub.viewer_as(None), "from-a")
    assert report["error"] is None, report
    with b.hub.engine.connect() as conn:
        rows = conn.execute(
            select(stix_object.c.stix_id, func.count()).where(stix_object.c.type == "indicator")
            .group_by(stix_object.c.stix_id)
        ).all()  # fmt: skip
    assert len(rows) == total and all(n == 1 for _, n in rows)
    assert {sid for sid, _ in rows} == {o["id"] for o in objs}
    # a page stored but not check-pointed comes back as known; the creator's identity comes last
    assert report["added"] == total + 1 - held_before
    assert b.hub.get_feed(b.hub.viewer_as(None), "from-a")["objects_pulled"] == stored_before + report["added"]


def indicators_at(hub: Hub) -> int:
    with hub.engine.connect() as conn:
        return conn.execute(select(func.count()).where(stix_object.c.type == "indicator")).scalar_one()
