"""How the TAXII server answers quickly without changing what it answers: objects served from their stored
JSON text, callers' credentials and collections reused for a second at most, never across callers."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import orjson

from accord.hub import Hub
from accord.store.taxii_reads import Selection
from helpers import indicator, items, malware

ROOT = "/taxii2/api"


def until(call: Callable[[], Any], done: Callable[[Any], bool], seconds: float) -> list[Any]:
    """Every result of ``call`` (every 50 ms) up to the first that is ``done``, for at most ``seconds``."""
    seen = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen.append(call())
        if done(seen[-1]):
            break
        time.sleep(0.05)
    return seen


def test_objects_are_served_exactly_as_stored(taxii) -> None:
    odd = {**indicator("ünïcödé.example"), "description": 'quotes " and \\ backslashes, ☃ and \u2028',
           "labels": ["a", "b"], "confidence": 85, "x_nested": {"list": [1, 2.5, None, True], "e": {}}}  # fmt: skip
    plain = indicator("plain.example")
    assert taxii.post("bank", "all", [odd, plain]).json()["success_count"] == 2
    stored = {r["stix_id"]: r["data"] for r in taxii.hub.taxii_objects(
        taxii.hub.viewer_as("Bank"), taxii.colls["all"], Selection(ids=(odd["id"], plain["id"])), 10).rows}  # fmt: skip
    r = taxii.get("bank", taxii.url("all", "objects"), **{"match[id]": f"{odd['id']},{plain['id']}"})
    assert r.status_code == 200
    body = orjson.loads(r.content)
    assert set(body) == {"more", "objects"} and body["more"] is False
    assert {o["id"]: o for o in body["objects"]} == stored
    assert stored[odd["id"]]["description"] == odd["description"]
    one = taxii.get("bank", taxii.url("all", "objects", odd["id"])).json()
    assert one == {"more": False, "objects": [stored[odd["id"]]]}


def test_pages_of_text_carry_next_and_the_date_headers(taxii) -> None:
    posted = [indicator(f"page{i}.example") for i in range(5)]
    assert taxii.post("bank", "all", posted).json()["success_count"] == 5
    ids = ",".join(o["id"] for o in posted)
    first = taxii.get("bank", taxii.url("all", "objects"), limit=3, **{"match[id]": ids})
    body = first.json()
    assert body["more"] is True and len(body["objects"]) == 3 and body["next"]
    rest = taxii.get("bank", taxii.url("all", "objects"), limit=3, next=body["next"], **{"match[id]": ids})
    assert rest.json()["more"] is False and len(rest.json()["objects"]) == 2
    assert {o["id"] for o in body["objects"] + rest.json()["objects"]} == {o["id"] for o in posted}
    manifest = taxii.get("bank", taxii.url("all", "manifest"), **{"match[id]": ids}).json()["objects"]
    assert first.headers["X-TAXII-Date-Added-First"] == manifest[0]["date_added"]
    assert first.headers["X-TAXII-Date-Added-Last"] == manifest[2]["date_added"]
    assert rest.headers["X-TAXII-Date-Added-Last"] == manifest[4]["date_added"]


def test_a_revoked_token_stops_working_within_a_second(taxii) -> None:
    op = taxii.hub.viewer_as(None)
    tok = taxii.hub.create_token(op, "analyst@bank.example", label="soon revoked")
    headers = {**taxii.headers(None), "Authorization": f"Bearer {tok['token']}"}
    url = taxii.url("all", "objects")
    assert taxii.client.get(url, headers=headers).status_code == 200
    assert taxii.client.get(url, headers=headers).status_code == 200  # now answered from the cache
    taxii.hub.revoke_token(op, tok["id"])
    # Any process (this one's cache was not told) refuses it once its cached viewer is a second old.
    codes = until(lambda: taxii.client.get(url, headers=headers).status_code, lambda code: code == 401, seconds=10)
    assert codes[-1] == 401
    assert all(c == 200 for c in codes[:-1])
    time.sleep(0.1)
    assert taxii.client.get(url, headers=headers).status_code == 401
    assert "revoked" in taxii.client.get(url, headers=headers).json()["description"]


def test_cached_credentials_answer_only_for_the_same_caller(taxii) -> None:
    secret = indicator("bank-only.example", level="amber")
    taxii.hub.ingest(taxii.hub.viewer_as("Bank"), items(secret), taxii.hub.options(audience="org"))
    url = taxii.url("all", "objects", secret["id"])
    for _ in range(3):  # interleaved, each caller's viewer cached in turn
        assert taxii.get("bank", url).status_code == 200
        assert taxii.get("uni", url).status_code == 404
        assert taxii.get("police", url).status_code == 404
        assert taxii.get(None, url).status_code == 401
    # The same token under another user's name (HTTP Basic) is refused, although the token is cached.
    wrong = base64.b64encode(f"analyst@uni.example:{taxii.tokens['bank']}".encode()).decode()
    r = taxii.client.get(url, headers={**taxii.headers(None), "Authorization": f"Basic {wrong}"})
    assert r.status_code == 401
    right = base64.b64encode(f"analyst@bank.example:{taxii.tokens['bank']}".encode()).decode()
    assert taxii.client.get(url, headers={**taxii.headers(None), "Authorization": f"Basic {right}"}).status_code == 200


def test_a_removed_collection_stops_being_served(taxii) -> None:
    op = taxii.hub.viewer_as(None)
    here = taxii.hub.add_collection(op, "Removed here")["id"]
    assert taxii.get("bank", f"{ROOT}/collections/{here}/objects/").status_code == 200
    taxii.hub.remove_collection(op, here)
    assert taxii.get("bank", f"{ROOT}/collections/{here}/objects/").status_code == 404  # this process: at once
    elsewhere = taxii.hub.add_collection(op, "Removed by another process")["id"]
    url = f"{ROOT}/collections/{elsewhere}/objects/"
    assert taxii.get("bank", url).status_code == 200
    other = Hub(taxii.hub.settings, engine=taxii.hub.engine)  # another process's hub on the same database
    other.remove_collection(op, elsewhere)
    codes = until(lambda: taxii.get("bank", url).status_code, lambda code: code == 404, seconds=10)
    assert codes[-1] == 404


def test_several_ids_and_types_fill_their_slots(taxii) -> None:
    """match[id] and match[type] values fill power-of-two slots (3 ids in 4, 5 in 8): the spare slots
    repeat a value and never widen the match; several types never clash with the visibility clause."""
    inds = [indicator(f"slot{i}.example") for i in range(5)]
    mals = [malware(f"Slot {i}") for i in range(2)]
    assert taxii.post("bank", "all", [*inds, *mals]).json()["success_count"] == 7
    url = taxii.url("all", "objects")
    for wanted in (inds[:3], inds, [*inds[:2], mals[0]], [*inds, *mals]):
        got = taxii.get("bank", url, **{"match[id]": ",".join(o["id"] for o in wanted)}).json()["objects"]
        assert sorted(o["id"] for o in got) == sorted(o["id"] for o in wanted)
    ids = ",".join(o["id"] for o in [*inds, *mals])
    for types, expected in (("malware", mals), ("indicator,malware", [*inds, *mals]),
                            ("malware,report,indicator", [*inds, *mals]), ("report,tool", [])):  # fmt: skip
        body = taxii.get("bank", url, **{"match[id]": ids, "match[type]": types}).json()
        assert sorted(o["id"] for o in body.get("objects", [])) == sorted(o["id"] for o in expected), types


def test_concurrent_callers_with_the_same_credentials_share_one_authentication(taxii) -> None:
    """When a busy client's cached viewer expires, its concurrent requests wait for one lookup; a refusal
    reaches every one of them and is not kept."""
    import asyncio
    import threading

    from accord.api.auth import ViewerCache
    from accord.errors import AuthenticationFailed

    hub = taxii.hub
    calls: list[str] = []
    release = threading.Event()

    class CountingHub:
        def authenticate(self, header: str, source: str, *, partner_ok: bool = False):
            calls.append(header)
            release.wait(5)
            return hub.authenticate(header, source, partner_ok=partner_ok)

    async def burst(cache: ViewerCache, header: str) -> list[Any]:
        tasks = [asyncio.ensure_future(cache.viewer(CountingHub(), header, f"taxii 10.0.0.{i}")) for i in range(8)]
        await asyncio.sleep(0.05)  # every task is waiting on the lookup
        release.set()
        return await asyncio.gather(*tasks, return_exceptions=True)

    cache = ViewerCache(seconds=60)
    good = f"Bearer {taxii.tokens['bank']}"
    viewers = asyncio.run(burst(cache, good))
    assert len(calls) == 1
    assert {v.org_name for v in viewers} == {"Bank"}
    assert sorted(v.source for v in viewers) == sorted(f"taxii 10.0.0.{i}" for i in range(8))  # each its own

    calls.clear()
    release.clear()
    refused = asyncio.run(burst(cache, "Bearer not-a-token"))
    assert len(calls) == 1
    assert all(isinstance(r, AuthenticationFailed) for r in refused)
    release.set()
    with_bad = asyncio.run(burst(cache, "Bearer not-a-token"))  # a failure is never kept: asked again
    assert len(calls) == 2 and all(isinstance(r, AuthenticationFailed) for r in with_bad)
