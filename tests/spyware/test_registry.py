"""The registry: seeded from the MISP galaxy (corrected) and indicator files, idempotent, correlated by
value, visible only where its objects are."""

from __future__ import annotations

import json

import pytest

from accord.errors import InvalidInput, NotFound, PermissionDenied
from accord.hub import Hub
from accord.spyware import seed
from accord.spyware.correlate import value_key
from accord.spyware.registry import Registry

from .spyware_helpers import SPYWARE, seed_small

CYTROX = "identity--4dbfa61e-0cf5-4142-babf-3cdce348568d"
CANDIRU = "identity--d8571c23-19f3-4f56-adf0-2676bff58108"
INTELLEXA = "identity--1c909820-82eb-11ee-80c7-325096b39f47"


def test_galaxy_corrections_are_applied_and_explained() -> None:
    g = seed.galaxy_from((SPYWARE / "misp-galaxy-surveillance-vendor.json").read_bytes())
    cytrox, candiru = g.vendors[CYTROX.split("--")[1]], g.vendors[CANDIRU.split("--")[1]]
    assert "DevilsTongue" not in cytrox.products and "Predator" in cytrox.products
    assert "DevilsTongue" in candiru.products
    intellexa = g.vendors[INTELLEXA.split("--")[1]]
    assert ("known-as", CYTROX.split("--")[1]) not in intellexa.related
    assert ("part-of", INTELLEXA.split("--")[1]) in cytrox.related  # the true link stays
    assert any("DevilsTongue is Candiru's" in c for c in g.corrections)
    nso = next(v for v in g.vendors.values() if v.name == "NSO group")
    assert "Circles" not in nso.aliases
    # The galaxy's own raw data says the opposite (the test would catch a galaxy without the error too).
    raw = json.loads((SPYWARE / "misp-galaxy-surveillance-vendor.json").read_bytes())
    assert next(v for v in raw["values"] if v["value"] == "Cytrox")["meta"]["products"] == ["DevilsTongue"]
    assert g.dangling and "I-Soon" in g.dangling[0]
    assert all("is-allied-with " not in k for v in g.vendors.values() for k, _ in v.related)


@pytest.mark.parametrize("bad", [b"[]", b'{"values": 3}', b'{"type": "ransomware", "values": []}',
                                 b'{"values": [{"value": "x"}]}', b"\xff\x00[", b"",
                                 b'{"values": [{"uuid": "u", "value": "x", "meta": [1]}]}',
                                 b'{"values": [{"uuid": "u", "value": "x", "related": ["y"]}]}',
                                 b'{"values": [{"uuid": "u", "value": "x", "meta": {"refs": "r", "official-refs": []}}]}'])  # fmt: skip
def test_bad_galaxy_is_refused_with_the_reason(bad: bytes) -> None:
    with pytest.raises(InvalidInput):
        seed.galaxy_from(bad)


def test_seed_twice_creates_nothing_new_and_reports_dangling(hub: Hub) -> None:
    first = seed_small(hub)
    total = hub.stats(hub.viewer_as(None))["total"]
    again = seed_small(hub)
    assert hub.stats(hub.viewer_as(None))["total"] == total
    assert again.registry["added"] == 0 and again.registry["new_version"] == 0
    assert all(f.added == 0 and f.new_version == 0 and not f.rejected for f in again.files)
    by_name = {f.name: f for f in first.files}
    # indicators, their relationships, malware, duplicate-of; an infrastructure, the product's 'uses' of it
    # and one 'indicates' from each of the 336 domain indicators
    assert by_name["cytrox.stix2"].added == 343 * 2 + 1 + 1 + 1 + 1 + 336
    assert by_name["cytrox.stix2"].infrastructure == 1 and by_name["cellebrite.stix2"].infrastructure == 0
    wintego = by_name["wintego_helios.stix2"]
    assert len(wintego.dangling) == 1 and "indicator--3eaf5002-09aa-476c-be2a-281a95b33f1a" in wintego.dangling[0]
    assert not wintego.rejected and wintego.vendor == "Wintego" and wintego.product == "Helios"
    assert by_name["predator.stix2"].shared_values == {"cytrox.stix2": 343}


def test_importing_the_same_file_twice_through_ingest_creates_nothing(hub: Hub) -> None:
    op = hub.viewer_as(None)
    opts = hub.options(tlp="clear", audience="public")
    first = hub.ingest_file(op, SPYWARE / "cytrox.stix2", opts)
    second = hub.ingest_file(op, SPYWARE / "cytrox.stix2", opts)
    assert first.added == 687 and second.added == 0 and second.unchanged == 687


def test_registry_names_both_predators_and_their_vendors(hub: Hub) -> None:
    seed_small(hub)
    reg = hub.spyware_registry(hub.viewer_as(None))
    views = reg.show("predator")
    labels = {v["label"] for v in views}
    assert labels == {"Predator (Cytrox)", "Predator (Intellexa)"}
    for v in views:
        assert [s["shared_values"] for s in v["shares_indicators_with"]] == [343]
    cytrox = reg.show("Cytrox")[0]
    assert cytrox["kind"] == "vendor"
    assert [p["name"] for p in cytrox["products"]] == ["Predator"]
    assert any(r["name"] == "US Entity List: Intellexa and Cytrox" for r in cytrox["regulatory_status"])
    assert any("DevilsTongue" in c for c in cytrox["corrections"])
    candiru = reg.show("Saito Tech")[0]  # an alias
    assert candiru["name"] == "Candiru" and [p["name"] for p in candiru["products"]] == ["DevilsTongue"]
    # Every one of the 343 Cytrox indicators is correlated with an Intellexa one by value.
    cyt = next(v for v in views if v["label"] == "Predator (Cytrox)")
    ind_ids = reg.product_indicators(cyt["id"])
    assert len(ind_ids) == 343
    assert all(len(reg.products_of(reg.correlated(i))) == 2 for i in ind_ids)
    with pytest.raises(NotFound):
        reg.show("NoSuchSpyware")


def test_an_organisation_only_seed_needs_an_organisation(hub: Hub) -> None:
    with pytest.raises(InvalidInput, match="organisation-only audience"):
        seed_small(hub, ("cytrox.stix2",), tlp="amber", audience="org")


def test_registry_as_an_organisation_is_seen_only_by_it(hub: Hub) -> None:
    op = hub.viewer_as(None)
    hub.add_org(op, "Helpline", "nonprofit", "GB")
    hub.add_org(op, "Bank", "financial-services", "FR")
    hub.spyware_seed(hub.viewer_as("Helpline"), [("cytrox.stix2", (SPYWARE / "cytrox.stix2").read_bytes())],
                     tlp="amber", audience="org")  # fmt: skip
    mine = hub.spyware_registry(hub.viewer_as("Helpline"))
    theirs = hub.spyware_registry(hub.viewer_as("Bank"))
    assert len(mine.indicators) == 343 and not theirs.indicators and not theirs.vendors


def test_only_hub_admins_seed(hub: Hub) -> None:
    op = hub.viewer_as(None)
    hub.add_org(op, "Bank", "financial-services", "FR")
    hub.add_user(op, "soc@bank.example", "Bank", "analyst")
    tok = hub.create_token(op, "soc@bank.example")["token"]
    with pytest.raises(PermissionDenied):
        hub.spyware_seed(hub.authenticate(f"Bearer {tok}"), [])


def test_value_keys_ignore_spacing_and_hash_names() -> None:
    h = "a" * 64
    assert value_key("[domain-name:value = 'x.example']") == value_key("[domain-name:value='x.example']")
    assert value_key(f"[file:hashes.'SHA-256' = '{h}']") == value_key(f"[file:hashes.sha256 = '{h}']")
    assert value_key("[domain-name:value = 'x.example']") != value_key("[domain-name:value = 'y.example']")
    assert value_key("not a pattern") is None


def test_seed_links_a_new_file_to_a_named_vendor(hub: Hub) -> None:
    report = seed_small(hub, ("rcs.stix2",))
    assert report.files[0].product == "Hermit" and report.files[0].vendor == "RCSLab"
    reg: Registry = hub.spyware_registry(hub.viewer_as(None))
    hubtest = [i for i, ms in reg.indicates.items() if any("e0bbe512" in m for m in ms)]
    assert len(hubtest) == 7 and {reg.product_label(p) for p in reg.products_of(hubtest)} == {"Pegasus (NSO group)"}
    with pytest.raises(NotFound):
        hub.spyware_seed(hub.viewer_as(None), [("x.stix2", (SPYWARE / "rcs.stix2").read_bytes())],
                         vendor="Nobody Inc", product="X")  # fmt: skip


def test_shipped_seed_links_every_file(sqlite_hub: Hub) -> None:
    report = sqlite_hub.spyware_seed(sqlite_hub.viewer_as(None))
    assert len(report.files) == 16
    assert all(f.product and not f.rejected for f in report.files)
    reg = sqlite_hub.spyware_registry(sqlite_hub.viewer_as(None))
    assert len(reg.indicators) == sum(f.indicators for f in report.files)
    pegasus = reg.show("Pegasus")[0]
    assert pegasus["vendors"][0]["name"] == "NSO group" and "CVE-2021-30860" in pegasus["exploits"]


def test_ofac_designations_from_the_sanctions_import_reach_the_vendors(sqlite_hub: Hub) -> None:
    hub = sqlite_hub
    seed_small(hub, ())
    csv = (SPYWARE.parent / "sanctions" / "ofac-sdn-cyber-2024-05-03.csv").read_bytes()
    hub.import_sanctions(hub.viewer_as(None), csv, list_date="2024-05-03")
    reg = hub.spyware_registry(hub.viewer_as(None))
    for vendor in ("Cytrox", "Intellexa"):
        status = reg.show(vendor)[0]["regulatory_status"]
        authorities = {a for r in status for a in r["authorities"]}
        assert {"US-OFAC", "US-BIS"} <= authorities, (vendor, status)
        assert any(r["date"].startswith("2024-03-05") for r in status)
    assert not [r for r in reg.show("NSO group")[0]["regulatory_status"] if "US-OFAC" in r["authorities"]]
