"""Paging while objects are being added: by ``next`` and by ``added_after`` alone, no loop and no miss."""

from __future__ import annotations

import threading

from helpers import indicator, items

TYPE = {"match[type]": "indicator"}


def publish(taxii, org: str, n: int, tag: str) -> list[str]:
    objs = [indicator(f"{tag}-{i}.example", level="green") for i in range(n)]
    result = taxii.hub.ingest(taxii.hub.viewer_as(org), items(*objs), taxii.hub.options(via="test"))
    assert result.added == n
    return [o["id"] for o in objs]


def test_paging_by_next_is_stable_while_objects_are_added(taxii) -> None:
    before = publish(taxii, "Bank", 25, "before")
    seen: list[str] = []
    added_during: list[str] = []
    token = None
    for page_no in range(100):
        params = {**TYPE, "limit": 7, **({"next": token} if token else {})}
        body = taxii.get("police", taxii.url("all", "objects"), **params).json()
        seen.extend(o["id"] for o in body.get("objects", []))
        if page_no < 3:
            added_during += publish(taxii, "NCC", 4, f"during{page_no}")  # lands after the cursor
        if not body["more"]:
            break
        token = body["next"]
    else:
        raise AssertionError("paging by next did not end")
    assert len(seen) == len(set(seen)), "an object was returned twice"
    assert seen == before + added_during, "paging missed or reordered objects"


def test_paging_by_added_after_alone_never_loops_or_misses_under_concurrent_writes(taxii) -> None:
    """A client that only feeds X-TAXII-Date-Added-Last back as added_after, while others publish."""
    initial = publish(taxii, "Bank", 10, "initial")
    written: list[str] = []
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for batch in range(15):
                if stop.is_set():
                    return
                written.extend(publish(taxii, "NCC" if batch % 2 else "Bank", 3, f"w{batch}"))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    seen: list[str] = []
    after = None
    empty_after_writer = 0
    try:
        for _ in range(2000):
            params = {**TYPE, "limit": 4, **({"added_after": after} if after else {})}
            r = taxii.get("police", taxii.url("all", "objects"), **params)
            assert r.status_code == 200, r.text
            got = [o["id"] for o in r.json().get("objects", [])]
            seen.extend(got)
            assert r.headers["X-TAXII-Date-Added-Last"] >= (after or "")  # never goes backwards: no loop
            after = r.headers["X-TAXII-Date-Added-Last"]
            if not got and not thread.is_alive():
                empty_after_writer += 1
                if empty_after_writer == 2:
                    break
        else:
            raise AssertionError("added_after paging did not settle")
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not errors, errors
    assert not thread.is_alive()
    assert len(seen) == len(set(seen)), "an object was returned twice"
    assert set(seen) == set(initial) | set(written), "an object was missed"


def test_next_and_added_after_combine(taxii) -> None:
    ids = publish(taxii, "Bank", 9, "combo")
    url = taxii.url("all", "objects")
    start = taxii.get("police", url, **TYPE, limit=3)
    anchor = start.headers["X-TAXII-Date-Added-Last"]
    seen = []
    body = taxii.get("police", url, **TYPE, added_after=anchor, limit=2).json()
    seen += [o["id"] for o in body["objects"]]
    while body["more"]:
        body = taxii.get("police", url, **TYPE, added_after=anchor, limit=2, next=body["next"]).json()
        seen += [o["id"] for o in body["objects"]]
    assert seen == ids[3:]


def test_manifest_pages_like_objects(taxii) -> None:
    ids = publish(taxii, "Bank", 7, "man")
    records = taxii.all_pages("police", "all", "manifest", limit=3, **TYPE)
    assert [m["id"] for m in records] == ids
    assert [m["date_added"] for m in records] == sorted(m["date_added"] for m in records)
