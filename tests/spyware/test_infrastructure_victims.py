"""Registry infrastructure (per indicator file, from its network indicators) and victimology by sector
(targeted groups of people as STIX identities with Accord's sectors, linked by ``targets``)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import accord.cli.spyware  # noqa: F401  (registers the commands)
from accord.access.orgs import SECTORS
from accord.api.app import create_app
from accord.cli.main import app
from accord.errors import InvalidInput
from accord.hub import Hub
from accord.spyware import seed
from accord.spyware.correlate import value_key
from accord.spyware.registry import Registry
from accord.stix.extensions import DISRUPTION_EXTENSION_ID
from accord.stix.reader import Item

from .spyware_helpers import SPYWARE, people, seed_small

PREDATOR_INTELLEXA = seed.product_id("1c909820-82eb-11ee-80c7-325096b39f47", "Predator")
PREDATOR_CYTROX = seed.product_id("4dbfa61e-0cf5-4142-babf-3cdce348568d", "Predator")


def _network_values(name: str) -> set[str]:
    objs = json.loads((SPYWARE / name).read_bytes())["objects"]
    keys = [value_key(o["pattern"]) for o in objs if o["type"] == "indicator"]
    return {k for k in keys if k and k.startswith(seed.NETWORK_KEYS)}


def test_each_file_gives_its_product_an_infrastructure_of_its_network_indicators(hub: Hub) -> None:
    seed_small(hub)
    viewer = hub.viewer_as(None)
    reg = hub.spyware_registry(viewer)
    for pid, file in ((PREDATOR_CYTROX, "cytrox.stix2"), (PREDATOR_INTELLEXA, "predator.stix2")):
        view = reg.product_view(pid)
        [infra] = view["infrastructure"]
        assert infra["infrastructure_types"] == ["unknown"]  # the source does not say what each domain is for
        assert "without saying what each one is for" in infra["description"]
        # exactly the file's domain indicators indicate it — no file paths or configuration profiles
        inds = reg.infra_indicators[infra["id"]]
        assert infra["indicators"] == len(inds) == len(_network_values(file))
        assert {value_key(reg.indicators[i]["pattern"]) for i in inds} == _network_values(file)
        assert infra["references"] and all(u.startswith("https://") for u in infra["references"])
    # The STIX objects: the product 'uses' the infrastructure, whose sources are external references.
    infra_objs = {o["id"]: o for o in hub.export(viewer, types=["infrastructure"])}
    rels = {
        (r["source_ref"], r["relationship_type"], r["target_ref"]) for r in hub.export(viewer, types=["relationship"])
    }
    for iid, obj in infra_objs.items():
        assert any(kind == "uses" and dst == iid and src.startswith("malware--") for src, kind, dst in rels)
        assert obj["x_accord_indicator_file"] in {"cytrox.stix2", "predator.stix2", "wintego_helios.stix2",
                                                 "rcs.stix2", "hubtest.stix2"}  # fmt: skip
    # a file named on the command line (hubtest.stix2, as Pegasus) names itself as the source
    hubtest = next(o for o in infra_objs.values() if o["x_accord_indicator_file"] == "hubtest.stix2")
    assert hubtest["external_references"] == [{"source_name": "indicator file", "external_id": "hubtest.stix2"}]
    # cellebrite.stix2 holds one app id and no network indicator: no infrastructure for it
    assert not [o for o in infra_objs.values() if o["x_accord_indicator_file"] == "cellebrite.stix2"]


def test_infrastructure_type_follows_the_source_where_it_says_so() -> None:
    entry = next(f for f in seed.curated()["files"] if f["file"] == "darksword.stix2")
    data = dict(seed.shipped_files())["darksword.stix2"]
    found = json.loads(data)["objects"]
    links = seed.file_links("darksword.stix2", found, entry, None)
    [infra] = [o for o in links if o["type"] == "infrastructure"]
    assert infra["infrastructure_types"] == ["command-and-control", "hosting-malware"]
    assert "C2 and delivery domains" in infra["description"]
    indicated = [o for o in links if o["type"] == "relationship" and o["relationship_type"] == "indicates"]
    assert len(indicated) == 13  # 10 domains and 3 IPv4 addresses; file paths, names and the hash are not


def test_seeding_again_keeps_infrastructure_unchanged(hub: Hub) -> None:
    seed_small(hub, ("cytrox.stix2",))
    again = seed_small(hub, ("cytrox.stix2",))
    assert again.files[0].added == 0 and again.files[0].new_version == 0 and again.files[0].infrastructure == 1


def test_a_takedown_of_spyware_infrastructure_expires_its_indicators(hub: Hub) -> None:
    seed_small(hub, ("cytrox.stix2",))
    op = hub.viewer_as(None)
    reg = hub.spyware_registry(op)
    [infra] = reg.product_view(PREDATOR_CYTROX)["infrastructure"]
    action = {"type": "disruption-action", "spec_version": "2.1", "id": "disruption-action--6c0b7a52-1f0e-4b8e-9a7e-"
              "3a5f2d1c0b9e", "created": "2026-11-27T00:00:00.000Z", "modified": "2026-11-27T00:00:00.000Z",
              "name": "Test takedown", "action_types": ["takedown"], "action_date": "2026-11-26T00:00:00.000Z",
              "status": "completed", "target_refs": [infra["id"]],
              "object_marking_refs": [seed.CLEAR],
              "extensions": {DISRUPTION_EXTENSION_ID: {"extension_type": "new-sdo"}}}  # fmt: skip
    res = hub.ingest(op, [Item(0, action)], hub.options(tlp="clear", audience="public"))
    assert res.rejected == 0
    one = reg.infra_indicators[infra["id"]][0]
    current = hub.get(op, one)["object"]
    assert current["valid_until"] == "2026-11-26T00:00:00.000Z" and "expired-takedown" in current["labels"]


def test_victims_are_groups_with_sectors_from_accords_vocabulary(hub: Hub) -> None:
    seed_small(hub, ("cytrox.stix2", "predator.stix2"))
    viewer = hub.viewer_as(None)
    groups = [o for o in hub.export(viewer, types=["identity"]) if seed.TARGET_LABEL in o.get("labels", [])]
    assert groups and all(o["identity_class"] == "class" for o in groups)
    assert all(o["sectors"] and set(o["sectors"]) <= set(SECTORS) for o in groups)
    by_name = {o["name"]: o for o in groups}
    assert by_name["Journalists"]["sectors"] == ["communications"]
    assert by_name["Human rights defenders"]["sectors"] == ["nonprofit", "non-profit"]
    reg = hub.spyware_registry(viewer)
    victims = {r["sector"]: r for r in reg.product_view(PREDATOR_INTELLEXA)["victimology"]}
    assert set(victims) == {"commercial", "communications", "government", "government-national"}
    assert victims["commercial"]["groups"] == ["Business people"]
    assert any("insidestory.gr" in u for u in victims["government-national"]["sources"])
    assert not any(r["unverified"] for r in victims.values())
    # The 'targets' relationships go from the investigation (campaign) to the group, with their source.
    rels = [r for r in hub.export(viewer, types=["relationship"]) if r["relationship_type"] == "targets"]
    assert rels and all(r["source_ref"].startswith("campaign--") and r["external_references"] for r in rels)
    pegasus = {r["sector"]: r for r in reg.show("Pegasus")[0]["victimology"]}
    assert set(pegasus) == {"communications", "nonprofit"}  # one row per Accord sector, its STIX twin beside it
    assert pegasus["nonprofit"]["also"] == ["non-profit"]
    assert pegasus["nonprofit"]["groups"] == ["Human rights defenders", "Activists"]
    cytrox = reg.show("Cytrox")[0]
    assert {r["sector"] for r in cytrox["victimology"]} == {"communications", "government"}


def test_every_targeted_group_of_the_curated_data_maps_onto_accords_sectors() -> None:
    groups = seed.target_groups()
    targeted = {k for f in seed.curated()["files"] for k in f.get("targeted", [])}
    assert targeted <= set(groups)
    for g in groups.values():
        assert set(g["sectors"]) <= set(SECTORS) and g["basis"]


def test_a_sector_outside_the_vocabulary_is_refused(monkeypatch: Any) -> None:
    bad = {**seed.curated(), "target_groups": [{"key": "x", "name": "X", "sectors": ["media"], "basis": "b"}]}
    monkeypatch.setattr(seed, "curated", lambda: bad)
    with pytest.raises(InvalidInput, match="'media'"):
        seed.target_groups()


def test_spyware_show_and_the_api_give_infrastructure_and_victims(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("ACCORD_DATABASE_URL", f"sqlite:///{tmp_path / 'a.db'}")
    runner = CliRunner()
    seeded = runner.invoke(app, ["spyware", "seed", str(SPYWARE / "cytrox.stix2")], catch_exceptions=False)
    assert seeded.exit_code == 0 and "groups of targeted people" in seeded.stdout
    out = runner.invoke(app, ["spyware", "show", "Cytrox"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert "victims, sector communications: Journalists" in out.stdout
    assert "infrastructure: Predator (Cytrox) infrastructure" in out.stdout and "336 indicators" in out.stdout
    shown = json.loads(runner.invoke(app, ["spyware", "show", "Predator", "--json"]).stdout)
    cytrox = next(v for v in shown if v["label"] == "Predator (Cytrox)")
    assert cytrox["infrastructure"][0]["indicators"] == 336
    assert {r["sector"] for r in cytrox["victimology"]} == {"communications", "government"}


def test_api_shows_infrastructure_and_victims(hub: Hub) -> None:
    seed_small(hub, ("cytrox.stix2",))
    tokens = people(hub)
    client = TestClient(create_app(hub))
    auth = {"Authorization": f"Bearer {tokens['journalist@news.example']}"}
    [vendor] = client.get("/api/v1/spyware/Cytrox", headers=auth).json()
    [product] = vendor["products"]
    assert product["infrastructure"][0]["infrastructure_types"] == ["unknown"]
    assert {r["sector"] for r in vendor["victimology"]} == {"communications", "government"}
    rows = client.get("/api/v1/spyware", headers=auth).json()
    assert next(r for r in rows if r["name"] == "Cytrox")["targeted_sectors"] == ["communications", "government"]


def test_exploits_are_cve_vulnerabilities_and_each_link_cites_its_source() -> None:
    objs = seed.registry_objects()
    vulns = {o["id"]: o for o in objs if o["type"] == "vulnerability"}
    assert vulns
    for v in vulns.values():
        [ref] = v["external_references"]
        assert ref["source_name"] == "cve" and re.fullmatch(r"CVE-\d{4}-\d{4,}", ref["external_id"])
        assert v["name"] == ref["external_id"]
    exploits = [o for o in objs if o["type"] == "relationship" and o["relationship_type"] == "exploits"]
    assert {r["target_ref"] for r in exploits} == set(vulns)
    assert all(r["external_references"][0]["url"].startswith("https://") for r in exploits)


def test_export_controls_are_dated_sanction_actions_with_sources() -> None:
    actions = {o["name"]: o for o in seed.registry_objects() if o["type"] == "disruption-action"}
    nso = actions["US Entity List: NSO Group and Candiru"]
    assert nso["action_date"] == "2021-11-03T00:00:00.000Z" and nso["action_types"] == ["sanction"]
    assert {s["designated_name"] for s in nso["sanctions"]} == {"NSO Group", "Candiru"}
    intellexa = actions["US Entity List: Intellexa and Cytrox"]
    assert intellexa["action_date"] == "2023-07-18T00:00:00.000Z" and "2023-15343" in intellexa["description"]
    assert any("2023-15343" in r["url"] for r in intellexa["external_references"])
    assert all(r["url"] for a in actions.values() for r in a["external_references"])


def test_a_victim_claim_no_source_confirms_is_shown_as_unverified() -> None:
    objs = seed.registry_objects()
    rel = next(o for o in objs if o["type"] == "relationship" and o["relationship_type"] == "targets")
    flagged = [{**o, "x_accord_unverified": True} if o["id"] == rel["id"] else o for o in objs]
    reg = Registry.from_objects(flagged)
    camp = rel["source_ref"]
    product = next(p for p, cs in reg.campaigns.items() if any(c["id"] == camp for c in cs))
    rows = reg.victimology([product])
    group = next(o for o in objs if o["id"] == rel["target_ref"])
    assert next(r for r in rows if r["sector"] == group["sectors"][0])["unverified"] is True
    assert not any(r["unverified"] for r in Registry.from_objects(objs).victimology([product]))


def test_unconfirmed_registry_claims_travel_with_their_stix_objects() -> None:
    reg = Registry.from_objects(seed.registry_objects())
    helios = next(p for p in reg.products.values() if p["name"] == "Helios")
    assert helios["x_accord_unverified"] is True and reg.product_view(helios["id"])["unverified"] is True
    [inv] = reg.product_view(PREDATOR_INTELLEXA)["investigations"]
    assert inv["unverified"] is True and inv["reported"].startswith("2026-02-17")
    assert not reg.product_view(PREDATOR_CYTROX)["investigations"][0]["unverified"]
