"""Text search is exact whatever the text index's progress; catching up never indexes a row twice."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest
from sqlalchemy import text

from accord.hub import Hub
from accord.stix import tlp
from accord.store import textindex
from helpers import community, indicator, items


def _integrity_ok(hub: Hub) -> None:
    if hub.engine.dialect.name != "sqlite":
        return
    with hub.engine.begin() as conn:
        # FTS5 raises "database disk image is malformed" when the index disagrees with its content.
        conn.execute(text("INSERT INTO object_text(object_text, rank) VALUES ('integrity-check', 1)"))
        indexed = conn.execute(text("SELECT count(*) FROM object_text_docsize")).scalar_one()
        with_text = conn.execute(
            text("SELECT count(*) FROM stix_object WHERE search_text IS NOT NULL AND search_text != ''")
        ).scalar_one()
    assert indexed == with_text


def _wait_until_indexed(hub: Hub) -> None:
    """Poll until the index holds every committed row (bounded: at most 10 s)."""
    for _ in range(200):
        with hub.engine.connect() as conn:
            if textindex.backlog(conn) == 0:
                return
        time.sleep(0.05)


def _ids(rows: list[dict]) -> list[str]:
    return sorted(r["id"] for r in rows)


def test_search_finds_fresh_objects_before_and_after_indexing(hub: Hub) -> None:
    orgs = community(hub)
    first = [indicator(f"alpha-{i}.example", level=tlp.GREEN) for i in range(30)]
    hub.ingest(orgs["NCC"], items(*first), hub.options())
    sqlite = hub.engine.dialect.name == "sqlite"
    assert hub.index_text() >= (30 if sqlite else 0)
    second = [indicator(f"alpha-late-{i}.example", level=tlp.GREEN) for i in range(20)]
    hidden = indicator("alpha-secret.example", level=tlp.RED)
    hub.ingest(orgs["NCC"], items(*second), hub.options())
    hub.ingest(orgs["NCC"], items(hidden), hub.options(audience="org"))
    with hub.engine.connect() as conn:
        assert textindex.backlog(conn) == (21 if sqlite else 0)

    # Before the second batch is indexed: old rows come from the index, new ones from the scan.
    before = _ids(hub.search(orgs["Bank"], text="alpha-", limit=500))
    assert before == _ids([*first, *second])  # not the RED one, and nothing twice
    assert _ids(hub.search(orgs["NCC"], text="alpha-secret", limit=10)) == [hidden["id"]]
    assert hub.search(orgs["Bank"], text="alpha-secret", limit=10) == []

    hub.index_text()
    with hub.engine.connect() as conn:
        assert textindex.backlog(conn) == 0
    assert _ids(hub.search(orgs["Bank"], text="alpha-", limit=500)) == before
    assert _ids(hub.search(orgs["NCC"], text="alpha-secret", limit=10)) == [hidden["id"]]
    _integrity_ok(hub)


def test_short_and_wildcard_needles_need_no_index(hub: Hub) -> None:
    orgs = community(hub)
    odd = indicator("x_y%z.example", level=tlp.GREEN)
    hub.ingest(orgs["NCC"], items(odd, indicator("xayz.example", level=tlp.GREEN)), hub.options())
    assert _ids(hub.search(orgs["Bank"], text="x_y%", limit=10)) == [odd["id"]]
    assert len(hub.search(orgs["Bank"], text="ay", limit=10)) == 1


def test_catching_up_twice_or_at_once_indexes_each_row_once(hub: Hub) -> None:
    orgs = community(hub)
    for batch in range(3):
        hub.ingest(orgs["NCC"], items(*[indicator(f"b{batch}-{i}.example", level=tlp.GREEN) for i in range(200)]),
                   hub.options())  # fmt: skip
    errors: list[BaseException] = []

    def run() -> None:
        try:
            hub.index_text()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert hub.index_text() == 0
    _integrity_ok(hub)
    assert len(hub.search(orgs["Bank"], text="b1-1", limit=500)) == 111  # b1-1, b1-10..19, b1-100..199


def test_background_indexer_catches_up(sqlite_hub: Hub) -> None:
    orgs = community(sqlite_hub)
    sqlite_hub.ingest(orgs["NCC"], items(*[indicator(f"bg-{i}.example") for i in range(50)]), sqlite_hub.options())
    indexer = textindex.TextIndexer(sqlite_hub.engine, tick=0.05)
    indexer.start()
    try:
        _wait_until_indexed(sqlite_hub)
    finally:
        indexer.stop()
    with sqlite_hub.engine.connect() as conn:
        assert textindex.backlog(conn) == 0
    _integrity_ok(sqlite_hub)


def test_background_indexer_waits_for_a_pause_in_writes(sqlite_hub: Hub) -> None:
    orgs = community(sqlite_hub)
    sqlite_hub.ingest(orgs["NCC"], items(*[indicator(f"busy-{i}.example") for i in range(20)]), sqlite_hub.options())
    busy = [True]
    indexer = textindex.TextIndexer(sqlite_hub.engine, tick=0.05, quiet=lambda: not busy[0])
    indexer.start()
    try:
        time.sleep(0.3)
        with sqlite_hub.engine.connect() as conn:
            assert textindex.backlog(conn) > 0  # still writing: the indexer waits
        busy[0] = False
        _wait_until_indexed(sqlite_hub)
    finally:
        indexer.stop()
    with sqlite_hub.engine.connect() as conn:
        assert textindex.backlog(conn) == 0
    assert sqlite_hub.seconds_since_write() < 60


def test_a_background_loop_outlives_a_failing_round() -> None:
    from accord.background import BackgroundLoop

    rounds: list[int] = []

    def work() -> bool:
        rounds.append(1)
        if len(rounds) == 1:
            raise RuntimeError("the first round fails")
        return False

    loop = BackgroundLoop("flaky", 0.01, work)
    loop.start()
    try:
        for _ in range(500):  # bounded: at most 5 s
            if len(rounds) >= 3:
                break
            time.sleep(0.01)
    finally:
        loop.stop()
    assert len(rounds) >= 3


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priorities are a Linux feature")
def test_a_background_loop_can_run_at_a_lower_priority_than_its_process() -> None:
    from accord.background import BackgroundLoop

    seen: list[int] = []

    def work() -> bool:
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return False

    loop = BackgroundLoop("niced", 0.01, work, nice=7)
    loop.start()
    try:
        for _ in range(500):  # bounded: at most 5 s
            if seen:
                break
            time.sleep(0.01)
    finally:
        loop.stop()
    process = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert seen and seen[0] == min(process + 7, 19)
    assert process == os.getpriority(os.PRIO_PROCESS, os.getpid())  # the serving thread keeps its priority
