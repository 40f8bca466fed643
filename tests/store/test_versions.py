"""Versions: every version kept, idempotent re-ingest, older versions never current, revocation."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from accord.errors import NotFound
from accord.hub import Hub
from accord.store.schema import stix_object
from helpers import community, indicator, items

T1 = "2024-03-01T00:00:00.000Z"
T2 = "2024-04-01T00:00:00.000Z"


def test_new_modified_is_a_new_version_and_becomes_current(hub: Hub) -> None:
    v = community(hub)
    first = indicator("v.example")
    second = {**first, "modified": T2, "name": "second"}
    assert hub.ingest(v["NCC"], items(first), hub.options()).added == 1
    r = hub.ingest(v["NCC"], items(second), hub.options())
    assert (r.added, r.new_version) == (0, 1)
    got = hub.get(v["Bank"], first["id"], all_versions=True)
    assert got["object"]["name"] == "second"
    assert [x["current"] for x in got["versions"]] == [False, True]


def test_same_id_and_modified_is_a_no_op(hub: Hub) -> None:
    v = community(hub)
    obj = indicator("same.example")
    hub.ingest(v["NCC"], items(obj), hub.options())
    r = hub.ingest(v["NCC"], items(obj), hub.options())
    assert (r.added, r.new_version, r.unchanged, r.rejected) == (0, 0, 1, 0)
    with hub.engine.connect() as conn:
        n = conn.execute(select(func.count()).where(stix_object.c.stix_id == obj["id"])).scalar_one()
    assert n == 1


def test_older_version_is_stored_but_not_current(hub: Hub) -> None:
    v = community(hub)
    newer = indicator("old.example", modified=T2, name="newer")
    older = {**newer, "modified": T1, "name": "older"}
    hub.ingest(v["NCC"], items(newer), hub.options())
    r = hub.ingest(v["NCC"], items(older), hub.options())
    assert r.new_version == 1
    got = hub.get(v["NCC"], newer["id"], all_versions=True)
    assert got["object"]["name"] == "newer"
    assert [x["object"]["name"] for x in got["versions"]] == ["older", "newer"]


def test_several_versions_in_one_batch_keep_the_newest_current(hub: Hub) -> None:
    v = community(hub)
    a = indicator("batch.example", modified=T1, name="a")
    b = {**a, "modified": T2, "name": "b"}
    c = {**a, "modified": "2024-02-20T00:00:00.000Z", "name": "c"}
    r = hub.ingest(v["NCC"], items(b, a, c, b), hub.options())
    assert (r.added, r.new_version, r.unchanged) == (1, 2, 1)
    assert hub.get(v["NCC"], a["id"])["object"]["name"] == "b"
    with hub.engine.connect() as conn:
        n = conn.execute(
            select(func.count()).where(stix_object.c.stix_id == a["id"], stix_object.c.is_current)
        ).scalar_one()
    assert n == 1


def test_revoked_objects_stay_readable_and_get_no_new_versions(hub: Hub) -> None:
    v = community(hub)
    obj = indicator("rev.example")
    hub.ingest(v["NCC"], items(obj), hub.options())
    hub.revoke_object(v["NCC"], obj["id"])
    got = hub.get(v["Bank"], obj["id"])
    assert got["revoked"] is True and got["object"]["revoked"] is True
    r = hub.ingest(v["NCC"], items({**obj, "modified": "2030-01-01T00:00:00.000Z"}), hub.options())
    assert r.rejected == 1 and "revoked" in (r.errors[0].reason or "")


def test_date_added_strictly_increases_across_batches(hub: Hub) -> None:
    v = community(hub)
    for n in range(3):
        hub.ingest(v["NCC"], items(*(indicator(f"d{n}-{i}.example") for i in range(50))), hub.options())
    with hub.engine.connect() as conn:
        stamps = [r[0] for r in conn.execute(select(stix_object.c.date_added).order_by(stix_object.c.pk))]
    assert all(a < b for a, b in zip(stamps, stamps[1:], strict=False))
    assert any(s.microsecond for s in stamps)


def test_a_failure_mid_batch_leaves_nothing_behind(hub: Hub) -> None:
    v = community(hub)
    kept = indicator("kept.example")
    hub.ingest(v["NCC"], items(kept), hub.options())
    before = hub.stats(v["NCC"])["total"]

    def exploding():
        yield from items(*(indicator(f"boom{i}.example") for i in range(2500)))
        raise RuntimeError("the producer's connection dropped")

    with pytest.raises(RuntimeError):
        hub.ingest(v["NCC"], exploding(), hub.options())
    assert hub.stats(v["NCC"])["total"] == before
    assert hub.get(v["NCC"], kept["id"])["id"] == kept["id"]


def test_unknown_object_is_not_found(hub: Hub) -> None:
    v = community(hub)
    with pytest.raises(NotFound):
        hub.get(v["NCC"], "indicator--00000000-0000-4000-8000-000000000000")
