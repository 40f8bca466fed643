"""``/api/v1/spyware/...`` and the ``accord spyware`` / ``accord check-device`` commands."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from spyware_helpers import MVT, SPYWARE, people, seed_small
from typer.testing import CliRunner

import accord.cli.spyware  # noqa: F401  (registers the commands)
from accord.api.app import create_app
from accord.cli.main import app
from accord.hub import Hub


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
