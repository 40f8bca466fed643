"""The one visibility rule, checked on every read function against an independent oracle."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.access.viewer import Viewer
from accord.errors import NotFound
from accord.hub import Hub
from accord.stix import tlp
from conftest import _backends, make_hub
from helpers import community, indicator, items, malware, relationship

AUDIENCES_FOR = {
    tlp.RED: ["org", "group"],
    tlp.AMBER_STRICT: ["org", "group"],
    tlp.AMBER: ["org", "group", "community"],
    tlp.GREEN: ["org", "group", "community", "federation"],
    tlp.CLEAR: ["org", "group", "community", "federation", "public"],
}
ORGS = ["O1", "O2", "O3", "O4"]
#: A partner hub (organisation kind partner-hub); it also publishes, as a feed acting as it does.
PARTNER = "P"
PUBLISHERS = [*ORGS, PARTNER]


@dataclass
class Planned:
    publisher: int
    level: str
    audience: str
    group: int
    kind: str  # indicator | relationship
    refs: tuple[int, int] = (0, 0)
    #: Grants the core never makes (a bug, a hand-edited database): (audience, org index or None).
    forced: list[tuple[str, int | None]] = field(default_factory=list)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[set[int]], list[Planned]]:
    groups = [draw(st.sets(st.integers(0, 3), min_size=1, max_size=4)) for _ in range(2)]
    plans: list[Planned] = []
    indicators: list[int] = []
    forced = st.tuples(st.sampled_from(["community", "federation", "public"]), st.none() | st.integers(0, 4))
    for i in range(draw(st.integers(3, 10))):
        level = draw(st.sampled_from(tlp.LEVELS))
        kind = "relationship" if i >= 2 and draw(st.booleans()) else "indicator"
        if kind == "indicator":
            indicators.append(i)
        plans.append(
            Planned(
                publisher=draw(st.integers(0, 4)),
                level=level,
                audience=draw(st.sampled_from(AUDIENCES_FOR[level])),
                group=draw(st.integers(0, 1)),
                kind=kind,
                refs=(draw(st.sampled_from(indicators)), draw(st.sampled_from(indicators)))
                if kind == "relationship" else (0, 0),
                forced=draw(st.lists(forced, max_size=1)) if draw(st.integers(0, 3)) == 0 else [],
            )
        )  # fmt: skip
    return groups, plans


def build(hub: Hub, groups: list[set[int]], plans: list[Planned]) -> tuple[dict[str, Viewer], list[dict], dict]:
    from dataclasses import replace

    from accord.federation import partners

    op = hub.viewer_as(None)
    for name in ORGS:
        hub.add_org(op, name, "cert", "GB")
    partner = partners.add(hub, op, PARTNER, "FR", sector="cert", user="pull@p.example")
    owners = []
    for gi, members in enumerate(groups):
        owner = min(members)
        owners.append(owner)
        hub.add_group(op, f"g{gi}", ORGS[owner], [ORGS[m] for m in sorted(members)])
    viewers = {name: hub.viewer_as(name) for name in ORGS}
    # The partner hub publishes as a feed acting as it does (not as a partner viewer, which never writes).
    publishers = {**viewers, PARTNER: replace(hub.viewer_as(PARTNER), partner=False)}
    viewers["partner-cli"] = hub.viewer_as(PARTNER)
    viewers["partner-token"] = hub.authenticate(f"Bearer {partner['token']}", partner_ok=True)
    assert viewers["partner-cli"].partner and viewers["partner-token"].partner
    objs: list[dict] = []
    meta: dict[str, tuple[Planned, str]] = {}
    for p in plans:
        members = groups[p.group]
        publisher = PUBLISHERS[p.publisher]
        audience = p.audience
        if audience == "group" and p.publisher not in members:
            audience = "org"
        aud = f"group:g{p.group}" if audience == "group" else audience
        if p.kind == "relationship":
            obj = relationship(objs[p.refs[0]]["id"], objs[p.refs[1]]["id"], level=p.level)
        else:
            obj = indicator(f"{uuid.uuid4().hex[:8]}.example", level=p.level)
        r = hub.ingest(publishers[publisher], items(obj), hub.options(audience=aud))
        assert r.added == 1, r.as_dict()
        if p.forced:
            force_grants(hub, obj["id"], p.forced)
        objs.append(obj)
        meta[obj["id"]] = (p, aud)
    return viewers, objs, meta


def force_grants(hub: Hub, stix_id: str, grants: list[tuple[str, int | None]]) -> None:
    from sqlalchemy import select

    from accord.access import orgs
    from accord.stix.timestamps import now
    from accord.store.schema import object_grant, stix_object

    with hub.engine.begin() as conn:
        pk = conn.execute(select(stix_object.c.pk).where(stix_object.c.stix_id == stix_id)).scalar_one()
        for audience, who in grants:
            org_pk = None if who is None else orgs.get(conn, PUBLISHERS[who])["pk"]
            conn.execute(object_grant.insert().values(object_pk=pk, org_pk=org_pk, audience=audience, via="test",
                                                      granted_at=now()))  # fmt: skip


def oracle(viewer: str, groups: list[set[int]], objs: list[dict], meta: dict) -> set[str]:
    """Which of the planned objects ``viewer`` (an org name, 'public' or a partner) may see.

    A partner hub sees only grants to the federation or the public, on CLEAR or GREEN versions; the
    public only grants to the public on CLEAR versions; whatever the grants say."""

    def grants(sid: str) -> list[tuple[str, int | None]]:
        p, aud = meta[sid]
        return [(aud, p.publisher), *p.forced]

    def granted(sid: str) -> bool:
        level = meta[sid][0].level
        if viewer == "public":
            return level == tlp.CLEAR and any(a == "public" for a, _ in grants(sid))
        if viewer.startswith("partner"):
            return level in (tlp.CLEAR, tlp.GREEN) and any(a in ("federation", "public") for a, _ in grants(sid))
        me = ORGS.index(viewer)
        for aud, who in grants(sid):
            if who == me or aud in ("community", "federation", "public"):
                return True
            if aud.startswith("group:") and me in groups[int(aud[-1])]:
                return True
        return False

    out = set()
    for o in objs:
        ok = granted(o["id"])
        if o["type"] == "relationship":
            ok = ok and granted(o["source_ref"]) and granted(o["target_ref"])
        if ok:
            out.add(o["id"])
    return out


def every_read(hub: Hub, viewer: Viewer, objs: list[dict]) -> dict[str, set[str]]:
    planned = {o["id"] for o in objs}
    reads: dict[str, set[str]] = {}
    reads["search"] = {r["id"] for r in hub.search(viewer, limit=10000)} & planned
    reads["search-type"] = {r["id"] for r in hub.search(viewer, types=["indicator", "relationship"], limit=10000)}
    by_text = hub.search(viewer, text="example", limit=10000) + hub.search(viewer, text="indicates", limit=10000)
    reads["search-text"] = {r["id"] for r in by_text} & planned
    reads["export"] = {o["id"] for o in hub.export(viewer)} & planned
    got = set()
    versions = set()
    for o in objs:
        try:
            got.add(hub.get(viewer, o["id"])["id"])
            versions.update(v["id"] for v in hub.get(viewer, o["id"], all_versions=True)["versions"])
        except NotFound:
            pass
    reads["get"] = got
    reads["versions"] = versions
    stats = hub.stats(viewer)["by_type"]
    reads["count"] = {f"n={stats.get('indicator', 0) + stats.get('relationship', 0)}"}
    return reads


@pytest.mark.parametrize("backend_name", _backends())
def test_no_read_returns_anything_outside_the_rule(
    backend_name: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> None:
    @settings(max_examples=15 if backend_name == "sqlite" else 8, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
    @given(scenarios())
    def check(scenario: tuple[list[set[int]], list[Planned]]) -> None:
        groups, plans = scenario
        hub = make_hub(backend_name, tmp_path_factory.mktemp("h"), request)
        try:
            viewers, objs, meta = build(hub, groups, plans)
            viewers = {**viewers, "public": Viewer(public=True), "partner": Viewer(partner=True)}
            assert {n for n in viewers if n.startswith("partner")} == {"partner", "partner-cli", "partner-token"}
            for name, viewer in viewers.items():
                expected = oracle(name, groups, objs, meta)
                for read, seen in every_read(hub, viewer, objs).items():
                    if read == "count":
                        assert seen == {f"n={len(expected)}"}, (name, read)
                    else:
                        assert seen == expected, (name, read, seen ^ expected)
        finally:
            hub.engine.dispose()

    check()


def test_relationship_to_a_hidden_object_is_hidden(hub: Hub) -> None:
    v = community(hub)
    secret = indicator("secret.example", level="red")
    lockbit = malware("LockBit", level="green")
    hub.ingest(v["NCC"], items(secret), hub.options(audience="group:taskforce"))
    hub.ingest(v["Uni"], items(lockbit), hub.options())
    rel = relationship(secret["id"], lockbit["id"], level="green")
    hub.ingest(v["Police"], items(rel), hub.options())
    assert hub.get(v["Bank"], rel["id"])
    for reader in (v["Uni"],):
        with pytest.raises(NotFound):
            hub.get(reader, rel["id"])
        with pytest.raises(NotFound):
            hub.get(reader, secret["id"])
        assert rel["id"] not in {r["id"] for r in hub.search(reader, types=["relationship"])}
        assert hub.get(reader, lockbit["id"])["relationships"] == 0
        assert hub.stats(reader)["by_type"].get("relationship", 0) == 0
    assert hub.get(v["Bank"], lockbit["id"])["relationships"] == 1


def test_re_import_by_another_org_adds_its_own_audience(hub: Hub) -> None:
    v = community(hub)
    attck = indicator("attck.example", created_by_ref="identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5", level="clear")
    hub.ingest(v["NCC"], items(attck), hub.options(audience="org"))
    with pytest.raises(NotFound):
        hub.get(v["Uni"], attck["id"])
    r = hub.ingest(v["Bank"], items(attck), hub.options(audience="community"))
    assert r.added == 1  # new to Bank, which could not see it: the answer does not tell NCC held it
    assert hub.get(v["Uni"], attck["id"])["id"] == attck["id"]
    again = hub.ingest(v["Bank"], items(attck), hub.options(audience="community"))
    assert again.unchanged == 1 and again.added == 0


def test_operator_without_org_sees_everything_and_public_sees_public_only(hub: Hub, tmp_path: Path) -> None:
    v = community(hub)
    red = indicator("r.example", level="red")
    clear = indicator("c.example", level="clear")
    hub.ingest(v["NCC"], items(red), hub.options(audience="org"))
    hub.ingest(v["NCC"], items(clear), hub.options(audience="public"))
    op = hub.viewer_as(None)
    assert hub.get(op, red["id"])
    public = Viewer(public=True)
    assert hub.get(public, clear["id"])
    with pytest.raises(NotFound):
        hub.get(public, red["id"])


def test_audience_filter_names_only_the_viewers_own_grants(hub: Hub) -> None:
    community(hub)
    ncc, bank, uni = hub.viewer_as("NCC"), hub.viewer_as("Bank"), hub.viewer_as("Uni")
    own = indicator("own.example", level="amber")
    grouped = indicator("grouped.example", level="amber")
    wide = indicator("wide.example", level="green")
    hub.ingest(bank, items(own), hub.options(audience="org"))
    hub.ingest(ncc, items(grouped), hub.options(audience="group:taskforce"))
    hub.ingest(ncc, items(wide), hub.options(audience="community"))
    # Uni re-imports the community object for itself only: Bank must not learn of that private holding
    hub.ingest(uni, items(wide), hub.options(audience="org"))

    def ids(viewer: Viewer, audience: str) -> set[str]:
        return {r["id"] for r in hub.search(viewer, audience=audience, limit=100)}

    assert ids(bank, "org") == {own["id"]}
    assert ids(bank, "group:taskforce") == {grouped["id"]}
    assert wide["id"] in ids(bank, "community") and own["id"] not in ids(bank, "community")
    assert ids(uni, "org") == {wide["id"]}
    with pytest.raises(NotFound):
        hub.search(uni, audience="group:taskforce")  # Uni is not in the task force
    with pytest.raises(NotFound):
        hub.search(bank, audience="group:no-such-group")
    page = hub.search_page(bank, audience="group:taskforce")
    assert [o["id"] for o in page["objects"]] == [grouped["id"]] and page["total"] == 1


def test_audience_filter_over_rest_and_web(hub: Hub) -> None:
    from fastapi.testclient import TestClient

    from accord.api.app import create_app

    community(hub)
    ncc = hub.viewer_as("NCC")
    grouped = indicator("grouped-rest.example", level="amber")
    hub.ingest(ncc, items(grouped), hub.options(audience="group:taskforce"))
    token = hub.create_token(hub.viewer_as(None), "analyst@bank.example")["token"]
    client = TestClient(create_app(hub))
    auth = {"Authorization": f"Bearer {token}"}
    r = client.get("/api/v1/objects", params={"audience": "group:taskforce"}, headers=auth)
    assert r.status_code == 200 and [o["id"] for o in r.json()["objects"]] == [grouped["id"]]
    assert client.get("/api/v1/objects", params={"audience": "group:nope"}, headers=auth).status_code == 404
    assert client.get("/api/v1/objects", params={"audience": "everyone"}, headers=auth).status_code == 400
    page = client.get("/search", params={"audience": "group:taskforce"}, headers=auth)
    assert page.status_code == 200 and "grouped-rest.example" in page.text
    assert 'name="audience"' in page.text and 'value="group:taskforce" selected' in page.text


def test_reposting_a_hidden_version_opens_nothing(hub: Hub) -> None:
    """Knowing an id and a modified time must not give access: the stored version stays as it was."""
    community(hub)
    secret = indicator("secret-c2.example", level="red", description="only NCC knows")
    hub.ingest(hub.viewer_as("NCC"), items(secret), hub.options(audience="org"))
    forged = {**secret, "pattern": "[domain-name:value = 'junk.example']", "description": "junk",
              "object_marking_refs": [tlp.TLP2_IDS["clear"]]}  # fmt: skip
    uni = hub.viewer_as("Uni")
    hub.ingest(uni, items(forged), hub.options(audience="public"))
    with pytest.raises(NotFound):
        hub.get(uni, secret["id"])
    assert hub.search(Viewer(public=True), text="secret-c2", limit=10) == []
    # a holder posting its own visible version again may widen it only as far as the stored TLP allows
    green = indicator("green-c2.example", level="green")
    bank = hub.viewer_as("Bank")
    hub.ingest(bank, items(green), hub.options(audience="org"))
    hub.ingest(bank, items({**green, "object_marking_refs": [tlp.TLP2_IDS["clear"]]}), hub.options(audience="public"))
    with pytest.raises(NotFound):
        hub.get(Viewer(public=True), green["id"])


def test_a_version_that_reaches_new_readers_is_added_again(hub: Hub) -> None:
    """When a second member shares a held version more widely, it (and what points at it) gets a new
    date_added, so TAXII readers paging with added_after receive it; sharing it again as before does not."""
    community(hub)
    ncc, bank = hub.viewer_as("NCC"), hub.viewer_as("Bank")
    ind = indicator("widened.example", level="green")
    mal = malware("Widened", level="green")
    rel = relationship(ind["id"], mal["id"], level="green")
    hub.ingest(ncc, items(ind, mal, rel), hub.options(audience="community"))
    before = {o["id"]: hub.get(ncc, o["id"])["date_added"] for o in (ind, mal, rel)}
    hub.ingest(bank, items(ind), hub.options(audience="community"))  # nothing new for anyone
    assert hub.get(ncc, ind["id"])["date_added"] == before[ind["id"]]
    hub.ingest(bank, items(ind), hub.options(audience="federation"))
    after = {o["id"]: hub.get(ncc, o["id"])["date_added"] for o in (ind, mal, rel)}
    assert after[ind["id"]] > before[rel["id"]] and after[rel["id"]] > after[ind["id"]]
    assert after[mal["id"]] == before[mal["id"]]
    newest = hub.search(ncc, added_after=before[rel["id"]], limit=10)
    # with the identity its created_by_ref names, which now goes to the federation with it
    assert {o["id"] for o in newest} == {ind["id"], rel["id"], ncc.org_identity}


def test_counts_follow_every_write(hub: Hub) -> None:
    """Hub.stats keeps counts between writes; a new object, a new grant and a revocation all show at once."""
    community(hub)
    ncc, bank = hub.viewer_as("NCC"), hub.viewer_as("Bank")
    ind = indicator("counted.example", level="green")
    hub.ingest(ncc, items(ind), hub.options(audience="org"))
    assert hub.stats(bank)["total"] == hub.stats(bank)["total"]
    before_bank, before_ncc = hub.stats(bank)["total"], hub.stats(ncc)["total"]
    hub.ingest(ncc, items(indicator("counted-2.example", level="green")), hub.options(audience="org"))
    assert hub.stats(ncc)["total"] == before_ncc + 1 and hub.stats(bank)["total"] == before_bank
    hub.ingest(ncc, items(ind), hub.options(audience="group:taskforce"))
    assert hub.stats(bank)["total"] == before_bank + 1  # a grant alone, no new version
    stats = hub.stats(bank)
    stats["total"] = -1  # callers get their own copy
    assert hub.stats(bank)["total"] == before_bank + 1


def test_a_new_version_without_an_audience_keeps_the_one_its_publisher_gave_before(hub: Hub) -> None:
    """Published to partner hubs (or a group), an object's next version goes to them too, unless another
    audience is asked for or its TLP no longer allows it: a correction must reach whoever holds the first."""
    from sqlalchemy import select

    from accord.store.schema import object_grant, sharing_group, stix_object

    v = community(hub)

    def audiences(sid: str, key: str) -> set[str]:
        with hub.engine.connect() as conn:
            rows = conn.execute(
                select(object_grant.c.audience, sharing_group.c.name, stix_object.c.data)
                .join(stix_object, stix_object.c.pk == object_grant.c.object_pk)
                .outerjoin(sharing_group, sharing_group.c.pk == object_grant.c.group_pk)
                .where(stix_object.c.stix_id == sid)
            ).all()
        return {f"group:{r.name}" if r.audience == "group" else r.audience for r in rows if r.data["modified"] == key}

    shared = indicator("shared.example", level="green")
    hub.ingest(v["NCC"], items(shared), hub.options(audience="federation"))
    v2 = {**shared, "modified": "2024-06-01T00:00:00.000Z", "name": "corrected"}
    hub.ingest(v["NCC"], items(v2), hub.options())
    assert audiences(shared["id"], v2["modified"]) == {"federation"}
    revoked = {**v2, "modified": "2024-07-01T00:00:00.000Z", "revoked": True}
    hub.ingest(v["NCC"], items(revoked), hub.options())
    assert audiences(shared["id"], revoked["modified"]) == {"federation"}

    grouped = indicator("grouped.example", level="amber")
    hub.ingest(v["NCC"], items(grouped), hub.options(audience="group:taskforce"))
    g2 = {**grouped, "modified": "2024-06-01T00:00:00.000Z"}
    hub.ingest(v["NCC"], items(g2), hub.options())
    assert audiences(grouped["id"], g2["modified"]) == {"group:taskforce"}
    with pytest.raises(NotFound):
        hub.get(v["Uni"], grouped["id"])  # outside the group: neither version
    assert hub.get(v["Police"], grouped["id"])["object"]["modified"] == g2["modified"]

    # An explicit audience wins; a TLP that no longer allows the earlier audience gets its own default.
    g3 = {**grouped, "modified": "2024-07-01T00:00:00.000Z"}
    hub.ingest(v["NCC"], items(g3), hub.options(audience="org"))
    assert audiences(grouped["id"], g3["modified"]) == {"org"}
    fresh = indicator("fresh.example", level="green")
    hub.ingest(v["NCC"], items(fresh), hub.options(audience="federation"))
    red = {**fresh, "modified": "2024-06-15T00:00:00.000Z", "object_marking_refs": [tlp.TLP2_IDS["red"]]}
    hub.ingest(v["NCC"], items(red), hub.options())
    assert audiences(fresh["id"], red["modified"]) == {"org"}
