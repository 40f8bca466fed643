"""UN norms reference data; incidents with attributions side by side; the norms report respects visibility."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from accord.api.app import create_app
from accord.cli import actions  # noqa: F401  (registers the commands)
from accord.cli.main import app
from accord.errors import InvalidInput
from accord.hub import Hub
from accord.norms import reference
from accord.stix import tlp
from accord.stix.extensions import DISRUPTION_EXTENSION_ID, INCIDENT_EXTENSION_ID
from accord.stix.reader import Item
from helpers import community

DATA = Path(__file__).parents[1] / "data" / "norms" / "un-gge-2015-norms.json"
T = "2024-10-01T00:00:00.000Z"


def _ext(**body: Any) -> dict[str, Any]:
    return {INCIDENT_EXTENSION_ID: {"extension_type": "property-extension", **body}}


def _incident(name: str, level: str, **body: Any) -> dict[str, Any]:
    return {"type": "incident", "spec_version": "2.1", "id": f"incident--{uuid.uuid4()}", "created": T,
            "modified": T, "name": name, "object_marking_refs": [tlp.TLP2_IDS[level]],
            "external_references": [{"source_name": "NCSC", "url": "https://www.ncsc.gov.uk/news/example"}],
            "extensions": _ext(**body)}  # fmt: skip


def _note(about: str, level: str, **body: Any) -> dict[str, Any]:
    return {"type": "note", "spec_version": "2.1", "id": f"note--{uuid.uuid4()}", "created": T, "modified": T,
            "content": "Our assessment", "object_refs": [about], "object_marking_refs": [tlp.TLP2_IDS[level]],
            "extensions": _ext(**body)}  # fmt: skip


def _publish(hub: Hub, who: str, *objs: dict[str, Any], audience: str) -> None:
    res = hub.ingest(hub.viewer_as(who), [Item(i, o) for i, o in enumerate(objs)], hub.options(audience=audience))
    assert res.rejected == 0, res.errors


def test_reference_data_ships_the_eleven_norms() -> None:
    assert [n["letter"] for n in reference.norms()] == list("abcdefghijk")
    assert reference.norm("13f") == reference.norm("f") == reference.norm("un-gge-2015-13f")
    assert reference.norm("13f")["short_name"] == "Do not damage critical infrastructure"
    assert reference.document() == json.loads(DATA.read_text())  # the test copy is the shipped file
    with pytest.raises(InvalidInput, match="unknown norm '13z'"):
        reference.norm("13z")


def _world(hub: Hub) -> dict[str, Any]:
    community(hub)
    action = {"type": "disruption-action", "spec_version": "2.1", "id": f"disruption-action--{uuid.uuid4()}",
              "created": T, "modified": T, "name": "Sanctions on the operators", "action_types": ["sanction"],
              "action_date": T, "object_marking_refs": [tlp.TLP2_IDS["green"]],
              "extensions": {DISRUPTION_EXTENSION_ID: {"extension_type": "new-sdo"}}}  # fmt: skip
    _publish(hub, "NCC", action, audience="community")
    inc = _incident(
        "Hospital ransomware", "green",
        victims=[{"name": "Regional hospital", "sectors": ["healthcare"], "countries": ["GB"]}],
        attributions=[{"attributed_by": "GB", "state": "RU", "basis": ["political", "intelligence"], "confidence": 80,
                       "attributed_at": T, "statement_url": "https://www.gov.uk/example-statement"}],
        responses=[{"response_type": "sanction", "action_ref": action["id"], "by": "GB", "date": T}],
        norm_assessments=[{"norm": "un-gge-2015-13f", "assessment": "violated", "state": "RU",
                           "rationale": "Disrupted hospital services.", "assessor": "NCC"}],
    )  # fmt: skip
    _publish(hub, "NCC", inc, audience="community")
    # The bank attributes the same incident differently (to a criminal group, low confidence).
    bank = _note(inc["id"], "green", attributions=[{"attributed_by": "Bank CTI", "actor_ref": f"intrusion-set--{uuid.uuid4()}",
                                                    "basis": ["technical"], "confidence": 40, "attributed_at": T}],
                 norm_assessments=[{"norm": "un-gge-2015-13c", "assessment": "implicated", "state": "RU",
                                    "rationale": "Group operates freely from RU territory."}])  # fmt: skip
    _publish(hub, "Bank", bank, audience="community")
    # The police's own RED view: KP, norm 13c; nobody else may see it.
    police = _note(inc["id"], "red", attributions=[{"attributed_by": "Police", "state": "KP", "basis": ["judicial"],
                                                     "attributed_at": T}],
                   norm_assessments=[{"norm": "un-gge-2015-13c", "assessment": "violated", "state": "KP",
                                      "rationale": "Case file."}])  # fmt: skip
    _publish(hub, "Police", police, audience="org")
    return {"incident": inc, "action": action, "bank": bank, "police": police}


def test_attributions_side_by_side_never_merged(hub: Hub) -> None:
    w = _world(hub)
    out = hub.incident_attributions(hub.viewer_as("Uni"), w["incident"]["id"])
    by = [(a["attributed_by"], a.get("state"), a.get("confidence"), a["published_by"]) for a in out["attributions"]]
    assert by == [("GB", "RU", 80, "NCC"), ("Bank CTI", None, 40, "Bank")]
    assert [a["norm"] for a in out["norm_assessments"]] == ["un-gge-2015-13f", "un-gge-2015-13c"]
    assert out["responses"][0]["action"]["name"] == "Sanctions on the operators"
    assert out["victims"][0]["sectors"] == ["healthcare"]
    assert "https://www.gov.uk/example-statement" in out["sources"]
    police = hub.incident_attributions(hub.viewer_as("Police"), w["incident"]["id"])
    assert [a["attributed_by"] for a in police["attributions"]] == ["GB", "Bank CTI", "Police"]


def test_norms_report_per_norm_and_state_respects_visibility(hub: Hub) -> None:
    _world(hub)
    uni = hub.norms_report(hub.viewer_as("Uni"))
    assert [n["paragraph"] for n in uni["norms"]] == ["13c", "13f"]
    assert [s["state"] for s in uni["states"]] == ["RU"]
    assert uni["states"][0]["incidents"][0]["sources"][0] == "https://www.ncsc.gov.uk/news/example"
    c = hub.norms_report(hub.viewer_as("Uni"), norm="13c")["norms"][0]
    assert c["count"] == 1 and [a["published_by"] for a in c["incidents"][0]["assessments"]] == ["Bank"]
    assert hub.norms_report(hub.viewer_as("Uni"), state="KP") == {
        "filters": {"state": "KP", "norm": None},
        "norms": [],
        "states": [],
    }
    police = hub.norms_report(hub.viewer_as("Police"), state="KP")
    assert [s["state"] for s in police["states"]] == ["KP"] and police["norms"]
    assert hub.norms_report(hub.viewer_as("Uni"), norm="13k")["norms"][0]["count"] == 0


def test_norms_cli_and_rest(sqlite_hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    w = _world(sqlite_hub)
    monkeypatch.setenv("ACCORD_DATABASE_URL", sqlite_hub.settings.database_url)
    runner = CliRunner()
    res = runner.invoke(app, ["norms", "report", "--state", "RU", "--as", "Uni", "--json"])
    assert res.exit_code == 0 and orjson.loads(res.stdout)["states"][0]["count"] == 1
    res = runner.invoke(app, ["norms", "incident", w["incident"]["id"], "--as", "Uni"])
    assert res.exit_code == 0 and "Bank CTI" in res.stdout and "Hospital ransomware" in res.stdout
    res = runner.invoke(app, ["norms", "list"])
    assert res.exit_code == 0 and "13k" in res.stdout
    for cmd in (["norms", "list"], ["norms", "report"], ["norms", "incident"]):
        assert "Example:" in runner.invoke(app, [*cmd, "--help"]).stdout
    op = sqlite_hub.viewer_as(None)
    token = sqlite_hub.create_token(op, "reader@uni.example")["token"]
    client = TestClient(create_app(sqlite_hub))
    assert len(client.get("/api/v1/norms").json()["norms"]) == 11
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/norms/report?norm=13f", headers=auth).json()["norms"][0]["count"] == 1
    assert client.get("/api/v1/norms/report?norm=13q", headers=auth).status_code == 400
    r = client.get(f"/api/v1/incidents/{w['incident']['id']}/attributions", headers=auth)
    assert r.status_code == 200 and len(r.json()["attributions"]) == 2
    assert client.get(f"/api/v1/incidents/incident--{uuid.uuid4()}/attributions", headers=auth).status_code == 404
