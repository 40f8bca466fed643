"""OFAC SDN cyber designations import: identities, links to actors, sanction actions, indicators; re-import."""

from __future__ import annotations

from pathlib import Path

import pytest
from actionkit import intrusion_set

from accord.actions import sanctions
from accord.errors import InvalidInput, PermissionDenied
from accord.hub import Hub
from helpers import community, items

SDN = Path(__file__).parents[1] / "data" / "sanctions" / "ofac-sdn-cyber-2024-05-03.csv"


def _rels(hub: Hub, viewer) -> set[tuple[str, str, str]]:
    return {
        (r["source_ref"], r["relationship_type"], r["target_ref"]) for r in hub.export(viewer, types=["relationship"])
    }


def test_parse_reads_remarks_and_drops_cut_off_items() -> None:
    entries, skipped = sanctions.parse_sdn(SDN.read_bytes())
    assert len(entries) == 243 and skipped == 0
    by_num = {e.ent_num: e for e in entries}
    sungatov = by_num["47680"]
    assert sungatov.emails[:2] == ["tkmegap@gmail.com", "imailo@ya.ru"]
    assert sungatov.wallets == [("XBT", "18gaXypKj9M23S2zT9qZfL9iPbLFM372Q5")]
    assert by_num["26663"].linked_to == ["EVIL CORP", "FEDERAL SECURITY SERVICE"] and by_num["26663"].aliases == [
        "AQUA"
    ]
    andreyev = by_num["29703"]  # remarks cut off by OFAC in the middle of an address
    assert andreyev.truncated == "Digital Currency Addres"
    assert all(len(addr) >= 26 for _, addr in andreyev.wallets)
    assert by_num["26664"].programs == ["CYBER2"] and by_num["21171"].programs[0] == "UKRAINE-EO13661"


def test_import_links_evil_corp_lockbit_intellexa_cytrox(hub: Hub) -> None:
    community(hub)
    lockbit = intrusion_set("LockBit")  # an actor the importer can see: links go to it, none is declared
    hub.ingest(hub.viewer_as("NCC"), items(lockbit), hub.options(audience="public"))
    out = hub.import_sanctions(hub.viewer_as("NCC"), SDN.read_bytes(), list_date="2024-05-03")
    assert out["rejected"] == 0 and out["entries"] == 243
    # 6 dated designations (30 entries) from Treasury releases, and one undated action for each of the
    # 213 other CYBER entries
    assert out["objects"]["identity"] == 243 and out["objects"]["disruption-action"] == 6 + 213
    assert sorted(out["actors_linked"]) == ["Evil Corp", "Intellexa Consortium", "LockBit"]
    assert out["unresolved_links"] == ["MESRI, Behzad (24003) → NET PEYGARD SAMAVAT COMPANY"]
    uni = hub.viewer_as("Uni")
    rels = _rels(hub, uni)
    ident = sanctions.identity_id
    evil = sanctions.actor_id("Evil Corp")
    intellexa = sanctions.actor_id("Intellexa Consortium")
    assert (ident("26664"), "related-to", evil) in rels  # EVIL CORP itself
    assert (ident("26663"), "related-to", ident("26664")) in rels  # Yakubets: Linked To: EVIL CORP
    assert (ident("26663"), "related-to", evil) in rels
    for num in ("47680", "47682", "41336"):  # LockBit affiliates → the visible LockBit intrusion set
        assert (ident(num), "related-to", lockbit["id"]) in rels
    assert sanctions.actor_id("LockBit") not in {o["id"] for o in hub.export(uni, types=["threat-actor"])}
    for num in ("48059", "48064", "48067", "48069", "48060", "48061", "48076"):  # Intellexa and Cytrox
        assert (ident(num), "related-to", intellexa) in rels
    cytrox = hub.get(uni, ident("48067"))["object"]
    assert cytrox["name"] == "CYTROX AD" and cytrox["identity_class"] == "organization"
    assert cytrox["x_accord_sanctions"][0] == {
        "authority": "US-OFAC",
        "programs": ["CYBER2"],
        "list_entry_id": "48067",
        "status": "listed",
    }
    action = hub.get(uni, sanctions.action_id("intellexa-2024-03"))["object"]
    assert action["action_types"] == ["sanction"] and action["action_date"] == "2024-03-05T00:00:00.000Z"
    assert intellexa in action["target_refs"] and ident("48069") in action["target_refs"]
    assert action["outcomes"] == {"designations": 7}
    assert action["external_references"][0]["url"].startswith("https://home.treasury.gov/")
    # Indicators: an address listed for two entries is one indicator linked to both.
    shared = [o for o in hub.export(uni, types=["indicator"]) if "1H939dom7i4WDLCKyGbXUp3fs9CSTNRzgL" in o["pattern"]]
    assert len(shared) == 1
    assert {t for s, _, t in rels if s == shared[0]["id"]} == {ident("38419"), ident("38420")}
    email = [
        o for o in hub.export(uni, types=["indicator"]) if o["pattern"] == "[email-addr:value = 'tkmegap@gmail.com']"
    ]
    assert len(email) == 1 and (email[0]["id"], "related-to", ident("47680")) in rels
    assert not [o for o in hub.export(uni, types=["indicator"]) if o["pattern"].endswith("Addres']")]


def test_reimport_updates_and_never_duplicates(hub: Hub, tmp_path: Path) -> None:
    community(hub)
    ncc = hub.viewer_as("NCC")
    first = hub.import_sanctions(ncc, SDN.read_bytes(), list_date="2024-05-03")
    total = hub.stats(ncc)["total"]
    again = hub.import_sanctions(ncc, SDN.read_bytes(), list_date="2024-05-03")
    assert again["added"] == again["new_version"] == 0 and again["unchanged"] == first["added"] - 3
    assert hub.stats(ncc)["total"] == total
    # A newer list: Sungatov gains an alias, Evil Corp's SHEVCHUK entry is gone.
    lines = SDN.read_text().splitlines()
    newer = []
    for line in lines:
        if line.startswith("26685,"):
            continue
        if line.startswith("47680,"):
            line = line.replace("Gender Male;", "Gender Male; a.k.a. 'SUNGATOV, Artur';")
        newer.append(line)
    out = hub.import_sanctions(ncc, "\n".join(newer).encode(), list_date="2024-06-01", source="sdn-2024-06-01.csv")
    assert out["added"] == 0 and out["rejected"] == 0
    assert out["new_version"] == 3  # Sungatov, the Evil Corp designation action (one member fewer), SHEVCHUK delisted
    assert out["delisted"] == ["SHEVCHUK, Tatiana"]
    assert hub.stats(ncc)["total"] == total
    got = hub.get(ncc, sanctions.identity_id("47680"), all_versions=True)
    assert "SUNGATOV, Artur" in got["object"]["x_accord_aliases"] and len(got["versions"]) == 2
    assert got["object"]["modified"] == "2024-06-01T00:00:00.000Z"
    gone = hub.get(ncc, sanctions.identity_id("26685"))["object"]
    assert gone["x_accord_sanctions"][0]["status"] == "delisted" and "delisted" in gone["labels"]


def test_import_respects_audience_and_refuses_other_files(hub: Hub) -> None:
    community(hub)
    out = hub.import_sanctions(hub.viewer_as("Bank"), SDN.read_bytes(), list_date="2024-05-03", audience="org")
    assert out["rejected"] == 0
    assert not hub.search(hub.viewer_as("Uni"), types=["identity"], text="evil corp", limit=5)
    assert hub.search(hub.viewer_as("Bank"), types=["identity"], text="evil corp", limit=5)
    with pytest.raises(InvalidInput, match="line 1: 3 columns"):
        hub.import_sanctions(hub.viewer_as("Bank"), b"a,b,c\n", list_date="2024-05-03")
    with pytest.raises(InvalidInput, match="not a date"):
        hub.import_sanctions(hub.viewer_as("Bank"), SDN.read_bytes(), list_date="May 2024")


def test_full_list_keeps_cyber_entries_and_what_they_are_linked_to(hub: Hub) -> None:
    community(hub)
    extra = [
        '99001,NET PEYGARD SAMAVAT COMPANY,-0-,IRAN-HR,-0-,-0-,-0-,-0-,-0-,-0-,-0-,"Website peygard.example."',
        '99002,"SOMEONE, Unrelated",individual,SDGT,-0-,-0-,-0-,-0-,-0-,-0-,-0-,"DOB 1970."',
    ]
    data = (SDN.read_text().rstrip("\n") + "\n" + "\n".join(extra) + "\n\x1a").encode()
    entries, skipped = sanctions.parse_sdn(data)
    assert len(entries) == 244 and skipped == 1
    out = hub.import_sanctions(hub.viewer_as("NCC"), data, list_date="2024-05-03")
    assert out["unresolved_links"] == [] and out["rejected"] == 0
    rels = _rels(hub, hub.viewer_as("Uni"))
    assert (sanctions.identity_id("24003"), "related-to", sanctions.identity_id("99001")) in rels
    peygard = hub.get(hub.viewer_as("Uni"), sanctions.identity_id("99001"))["object"]
    assert peygard["x_accord_sanctions"][0]["programs"] == ["IRAN-HR"]
    with pytest.raises(InvalidInput, match="appears twice"):
        sanctions.parse_sdn(data + b"\n" + extra[0].encode())


def test_an_import_never_names_or_rewrites_another_orgs_private_import(hub: Hub) -> None:
    community(hub)
    ncc, uni = hub.viewer_as("NCC"), hub.viewer_as("Uni")
    hub.import_sanctions(ncc, SDN.read_bytes(), list_date="2024-05-03", audience="org")
    two_rows = b"".join(SDN.read_bytes().splitlines(keepends=True)[:2])
    assert b"YAKUBETS" not in two_rows
    out = hub.import_sanctions(uni, two_rows, list_date="2024-06-01")
    assert out["delisted"] == []  # NCC's private identities are not named, nor rewritten as Uni
    assert not any("NCC" in (e.get("reason") or "") for e in out.get("errors", []))
    assert hub.search(uni, types=["identity"], text="yakubets", limit=10) == []
    op = hub.viewer_as(None)
    hub.add_user(op, "r2@uni.example", "Uni", "reader")
    reader = hub.authenticate(f"Bearer {hub.create_token(op, 'r2@uni.example')['token']}")
    with pytest.raises(PermissionDenied):
        hub.import_sanctions(reader, two_rows, list_date="2024-06-01")


def test_every_cyber_entry_gets_a_sanction_action_dated_only_by_a_public_source(hub: Hub) -> None:
    community(hub)
    ncc = hub.viewer_as("NCC")
    hub.import_sanctions(ncc, SDN.read_bytes(), list_date="2024-05-03")
    entries, _ = sanctions.parse_sdn(SDN.read_bytes())
    actions = [a for a in hub.export(ncc, types=["disruption-action"]) if sanctions.LABEL in a.get("labels", [])]
    covering: dict[str, list[dict]] = {}
    for a in actions:
        assert a["action_types"] == ["sanction"]
        for s in a["sanctions"]:
            covering.setdefault(s["list_entry_id"], []).append(a)
    # every CYBER entry is designated by exactly one action
    assert {e.ent_num for e in entries} == set(covering) and all(len(v) == 1 for v in covering.values())
    dated = [a for a in actions if not sanctions.is_undated(a)]
    undated = [a for a in actions if sanctions.is_undated(a)]
    assert sorted(a["action_date"][:10] for a in dated) == [
        "2019-12-05", "2021-09-21", "2022-05-06", "2023-05-16", "2024-02-20", "2024-03-05"
    ]  # fmt: skip
    assert all(a["external_references"][0]["url"].startswith("https://") for a in dated)
    assert len(undated) == 213
    for a in undated:
        assert a["action_date"] == "2024-05-03T00:00:00.000Z"  # the list's date, flagged as such
        assert a["x_accord_date_basis"] == sanctions.LIST_DATE_BASIS and sanctions.UNDATED in a["labels"]
        assert "on or before that day" in a["description"] and a["outcomes"] == {"designations": 1}
        assert a["external_references"][0]["source_name"] == "OFAC SDN"
    # Dated designations keep their own action; their members get no undated one.
    assert covering["48067"][0]["id"] == sanctions.action_id("intellexa-2024-03")
    suex = covering["33151"][0]  # dated, and no threat actor is declared for an exchange
    assert suex["id"] == sanctions.action_id("suex-2021-09") and suex["target_refs"] == [sanctions.identity_id("33151")]
    assert "fraser.stlouisfed.org" in suex["external_references"][0]["url"]
    assert sanctions.is_undated(covering["24003"][0])  # MESRI, Behzad: no dated source in Accord


def test_an_undated_designation_keeps_the_earliest_list_date(hub: Hub) -> None:
    community(hub)
    ncc = hub.viewer_as("NCC")
    hub.import_sanctions(ncc, SDN.read_bytes(), list_date="2024-05-03")
    later = hub.import_sanctions(ncc, SDN.read_bytes(), list_date="2024-07-01")
    assert later["new_version"] == 0 and later["added"] == 0
    action = hub.get(ncc, sanctions.action_id("sdn-entry:24003"))["object"]
    assert action["action_date"] == "2024-05-03T00:00:00.000Z"
    # Another organisation imports the entry from a later list: the earlier date it can see is kept.
    other = hub.viewer_as("Uni")
    row = [line for line in SDN.read_text().splitlines() if line.startswith("24003,")]
    hub.import_sanctions(other, row[0].encode(), list_date="2024-09-01", audience="org", full_list=False)
    assert hub.get(other, sanctions.action_id("sdn-entry:24003"))["object"]["action_date"].startswith("2024-05-03")


def test_impact_puts_undated_designations_in_their_own_period(hub: Hub) -> None:
    community(hub)
    ncc = hub.viewer_as("NCC")
    hub.import_sanctions(ncc, SDN.read_bytes(), list_date="2024-05-03")
    by_year = {g["period"]: g for g in hub.impact(ncc, by="type", period="year")["groups"] if g["type"] == "sanction"}
    assert by_year["undated"]["actions"] == 213 and by_year["undated"]["counts"]["designations"] == 213
    assert by_year["2024"]["actions"] == 2  # LockBit affiliates (Feb) and Intellexa (Mar); not the list's 213
    assert {"2019", "2021", "2022", "2023"} <= set(by_year)
    whole = hub.impact(ncc, by="type", period="all")["groups"]
    assert next(g for g in whole if g["type"] == "sanction")["actions"] == 219
    timeline = hub.actor_timeline(ncc, "MESRI, Behzad")["actions"]
    assert [e["undated"] for e in timeline] == [True]


def test_a_newly_dated_designation_replaces_the_undated_action(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    community(hub)
    ncc = hub.viewer_as("NCC")
    hub.import_sanctions(ncc, SDN.read_bytes(), list_date="2024-05-03")
    undated = sanctions.action_id("sdn-entry:24003")
    assert sanctions.is_undated(hub.get(ncc, undated)["object"])
    # A release for MESRI, Behzad is added to the table (a made-up one, for the test only).
    release = {"key": "test-mesri", "title": "Test designation", "date": "2020-01-01T00:00:00.000Z", "actor": None,
               "ent_nums": ["24003"], "linked_to": [], "legal_basis": ["test"],
               "source": {"source_name": "test", "url": "https://example.org/release"}}  # fmt: skip
    table = [*sanctions.curated(), release]
    monkeypatch.setattr(sanctions, "curated", lambda: table)
    out = hub.import_sanctions(ncc, SDN.read_bytes(), list_date="2024-06-01")
    assert out["rejected"] == 0
    gone = hub.get(ncc, undated)["object"]
    assert gone["revoked"] is True and gone["x_accord_superseded_by"] == sanctions.action_id("test-mesri")
    covering = [a for a in hub.export(ncc, types=["disruption-action"]) if not a.get("revoked")
                and any(s["list_entry_id"] == "24003" for s in a.get("sanctions", []))]  # fmt: skip
    assert [a["action_date"][:10] for a in covering] == ["2020-01-01"]
    assert hub.impact(ncc, by="type", period="all")["total"]["counts"]["designations"] == 243
    again = hub.import_sanctions(ncc, SDN.read_bytes(), list_date="2024-06-01")
    assert again["new_version"] == 0 and again["added"] == 0  # a revoked action is not revoked twice
