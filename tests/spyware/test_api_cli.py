"""``/api/v1/spyware/...`` and the ``accord spyware`` / ``accord check-device`` commands."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

import accord.cli.spyware  # noqa: F401  (registers the commands)
from accord.api.app import create_app
from accord.cli.main import app
from accord.hub import Hub

from .spyware_helpers import MVT, SPYWARE, people, seed_small


def test_api_registry_indicators_and_helplines(hub: Hub) -> None:
    seed_small(hub, ("cytrox.stix2", "predator.stix2"))
    tokens = people(hub)
    client = TestClient(create_app(hub))
    auth = {"Authorization": f"Bearer {tokens['journalist@news.example']}"}
    assert client.get("/api/v1/spyware").status_code == 401
    rows = client.get("/api/v1/spyware", headers=auth).json()
    assert {r["name"] for r in rows} >= {"Cytrox", "Intellexa", "NSO group"}
    shown = client.get("/api/v1/spyware/Predator", headers=auth).json()
    assert {v["label"] for v in shown} == {"Predator (Cytrox)", "Predator (Intellexa)"}
    assert client.get("/api/v1/spyware/Nothing", headers=auth).status_code == 404
    bundle = client.get("/api/v1/spyware/indicators", headers=auth).json()
    kinds = {o["type"] for o in bundle["objects"]}
    assert {"indicator", "malware", "identity", "relationship"} <= kinds
    assert sum(1 for o in bundle["objects"] if o["type"] == "indicator") == 343 + 585 + 7
    helplines = client.get("/api/v1/spyware/helplines", headers=auth).json()
    assert [h["name"] for h in helplines] == ["Helpline"]


def test_cli_seed_list_show(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ACCORD_DATABASE_URL", f"sqlite:///{tmp_path / 'a.db'}")
    runner = CliRunner()
    out = runner.invoke(app, ["spyware", "seed", str(SPYWARE / "cytrox.stix2"), str(SPYWARE / "wintego_helios.stix2"),
                              "--json"], catch_exceptions=False)  # fmt: skip
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)
    assert [f["product"] for f in report["files"]] == ["Predator", "Helios"]
    assert len(report["files"][1]["dangling"]) == 1
    again = json.loads(runner.invoke(app, ["spyware", "seed", str(SPYWARE / "cytrox.stix2"), "--json"]).stdout)
    assert again["files"][0]["added"] == 0 and again["registry"]["added"] == 0
    listed = json.loads(runner.invoke(app, ["spyware", "list", "--json"]).stdout)
    assert any(r["name"] == "Cytrox" and r["indicators"] == 343 for r in listed)
    assert not any(r["name"] == "1Byte" for r in listed)  # no products, indicators or sanctions: only with --all
    assert any(
        r["name"] == "1Byte" for r in json.loads(runner.invoke(app, ["spyware", "list", "--all", "--json"]).stdout)
    )
    text = runner.invoke(app, ["spyware", "show", "Cytrox"]).stdout
    assert "Predator (Cytrox)" in text and "DevilsTongue is Candiru" in text
    missing = runner.invoke(app, ["spyware", "show", "Nobody"])
    assert missing.exit_code != 0
    bad = runner.invoke(app, ["spyware", "seed", "--vendor", "Cytrox"])
    assert bad.exit_code != 0


def test_cli_check_device_offline(tmp_path: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["check-device", str(MVT / "androidqf"), "--offline-iocs", str(MVT / "hubtest.stix2"),
                              "--json", "--html", str(tmp_path / "r.html")], catch_exceptions=False)  # fmt: skip
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert [f["values"] for f in doc["findings"]] == [["com.malware.blah"]]
    assert doc["findings"][0]["products"][0]["name"] == "HubTestSpyware"
    assert "HubTestSpyware" in (tmp_path / "r.html").read_text()
    # Shipped files keep their registry meaning offline: a Cytrox value names both Predators.
    cytrox = json.loads((SPYWARE / "cytrox.stix2").read_text())
    ind = next(o for o in cytrox["objects"] if o["type"] == "indicator" and "domain-name" in o["pattern"])
    domain = ind["pattern"].split("'")[1]
    lst = tmp_path / "a.csv"
    lst.write_text(f"type,value,timestamp\ndomain,{domain},2022-01-01T00:00:00Z\n")
    iocs = tmp_path / "iocs"
    iocs.mkdir()
    for f in ("cytrox.stix2", "predator.stix2"):
        (iocs / f).write_bytes((SPYWARE / f).read_bytes())
    doc = json.loads(runner.invoke(app, ["check-device", str(lst), "--offline-iocs", str(iocs), "--json"]).stdout)
    assert {p["label"] for p in doc["findings"][0]["products"]} == {"Predator (Cytrox)", "Predator (Intellexa)"}
    text = runner.invoke(app, ["check-device", str(lst), "--offline-iocs", str(iocs)]).stdout
    assert "SIGNS OF SPYWARE FOUND" in text and "Access Now" in text
    both = runner.invoke(app, ["check-device", str(lst), "--offline-iocs", str(iocs), "--hub", "http://127.0.0.1:9"])
    assert both.exit_code != 0


def test_export_mvt_writes_one_file_per_product_and_says_what_it_left_out(sqlite_hub: Hub, tmp_path: Path) -> None:
    from accord.spyware import check, mvt_export
    from accord.stix.reader import Item

    hub = sqlite_hub
    seed_small(hub, ("cytrox.stix2", "predator.stix2"))
    op = hub.viewer_as(None)
    reg = hub.spyware_registry(op)
    pegasus = next(p for p in reg.products if reg.product_label(p) == "Pegasus (NSO group)")
    odd = {
        "like": "[url:value LIKE 'https://%.spy.example/%']",
        "equals": "[url:value = 'https://spy.example/?a=b']",
        "two": "[domain-name:value = 'a.example' OR domain-name:value = 'b.example']",
        "key": "[user-account:user_id = 'spy']",
        "hash": "[file:hashes.'SHA-256' = '" + "ab" * 32 + "']",
    }
    objs = []
    for n, (key, pattern) in enumerate(odd.items()):
        ind_id = f"indicator--00000000-0000-4000-8000-00000000000{n}"
        objs.append({"type": "indicator", "spec_version": "2.1", "id": ind_id, "created": "2024-01-01T00:00:00.000Z",
                     "modified": "2024-01-01T00:00:00.000Z", "pattern": pattern, "pattern_type": "stix",
                     "valid_from": "2024-01-01T00:00:00.000Z", "name": key})  # fmt: skip
        objs.append({"type": "relationship", "spec_version": "2.1", "id": f"relationship--00000000-0000-4000-8000-00000000001{n}",
                     "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                     "relationship_type": "indicates", "source_ref": ind_id, "target_ref": pegasus})  # fmt: skip
    assert not hub.ingest(op, [Item(i, o) for i, o in enumerate(objs)], hub.options(tlp="clear")).rejected
    out = tmp_path / "mvt"
    result = CliRunner().invoke(app, ["export", "--format", "mvt", "--out", str(out)], catch_exceptions=False,
                                env={"ACCORD_DATABASE_URL": str(hub.engine.url)})  # fmt: skip
    assert result.exit_code == 0, result.output
    left = [mvt_export.LeftOut(**x) for x in json.loads((out / "left-out.json").read_text())]
    files = sorted(p.name for p in out.glob("*.stix2"))
    assert files == ["pegasus-nso-group.stix2", "predator-cytrox.stix2", "predator-intellexa.stix2"]
    reasons = {x.indicator[-1]: x.reason for x in left}
    assert "MVT reads '=' only" in reasons["0"] and "'='" in reasons["1"] and "several comparisons" in reasons["2"]
    assert "not a key MVT checks" in reasons["3"] and "4" not in reasons
    for f in out.glob("*.stix2"):
        bundle = json.loads(f.read_text())
        assert sum(1 for o in bundle["objects"] if o["type"] == "malware") == 1
        for o in bundle["objects"]:
            if o["type"] == "indicator":
                key, value = o["pattern"].strip("[]").split("=")  # exactly how MVT cuts a pattern
                assert value.startswith("'") and value.endswith("'") and "'" not in value[1:-1]
    peg = json.loads((out / "pegasus-nso-group.stix2").read_text())
    assert f"[file:hashes.sha256='{'ab' * 32}']" in {o.get("pattern") for o in peg["objects"]}
    # The files read back as MVT would: a hubtest value still matches, named by its product.
    reg2, _names = check.offline_registry(out, 10**8)
    res = check.run_check(check.read_device(MVT / "androidqf"), reg2, source="export")
    assert [f.values for f in res.findings] == [["com.malware.blah"]]
    assert res.findings[0].products[0]["name"] == "Pegasus (NSO group)"
