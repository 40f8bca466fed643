"""Disruption actions are validated on the one ingest path (CLI, REST and TAXII all reach it)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from actionkit import action, infrastructure, intrusion_set
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from accord.api.app import create_app
from accord.cli.main import app
from accord.hub import Hub
from accord.ingest import pipeline
from accord.stix import extensions
from accord.stix.validate import check_object
from helpers import community, items


def _publish(hub: Hub, who: str, *objs: dict, audience: str | None = None, tlp: str = "green") -> object:
    return hub.ingest(hub.viewer_as(who), items(*objs), hub.options(tlp=tlp, audience=audience))


def test_extension_definitions_are_valid_stix_and_schemas_ship() -> None:
    defs = extensions.definitions()
    assert [d["type"] for d in defs] == ["identity", "extension-definition", "extension-definition"]
    assert all(check_object(d, strict=True) is None for d in defs)
    assert extensions.schema("disruption-action")["properties"]["type"]["const"] == "disruption-action"
    assert "norm_assessment" in extensions.schema(extensions.INCIDENT_EXTENSION_ID)["$defs"]


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"action_types": ["takedown", "arest"]}, "unknown action type 'arest'"),
        ({"action_types": []}, "'action_types' must not be empty"),
        ({"outcomes": {"arrests": -3}}, "'outcomes.arrests' is -3; counts and amounts cannot be negative"),
        ({"outcomes": {"assets_seized": [{"amount": 1000}]}}, "amount without a currency"),
        ({"outcomes": {"assets_seized": [{"amount": -5, "currency": "USD"}]}}, "cannot be negative"),
        ({"outcomes": {"arests": 3}}, "unknown property 'arests' in 'outcomes'"),
        ({"action_date": "20 Feb 2024"}, "'action_date' is '20 Feb 2024'"),
        ({"end_date": "2024-01-01T00:00:00.000Z"}, "'end_date' (2024-01-01T00:00:00.000Z) is before 'action_date'"),
        ({"extensions": {}}, "must declare its extension"),
        ({"lead_countries": ["gb"]}, "'lead_countries[0]' is 'gb'"),
    ],
)
def test_bad_actions_are_refused_with_a_clear_reason(hub: Hub, change: dict, needle: str) -> None:
    community(hub)
    target = intrusion_set()
    bad = {**action([target["id"]]), **change}
    result = _publish(hub, "NCC", target, bad)
    assert result.added == 1 and result.rejected == 1
    assert needle in result.errors[0].reason and bad["id"] in result.errors[0].reason


def test_targets_must_exist_and_be_visible_to_the_publisher(hub: Hub) -> None:
    community(hub)
    hidden = infrastructure("police-only server", level="red")
    assert _publish(hub, "Police", hidden, audience="org").added == 1
    # The police see their own infrastructure; the bank does not, and nobody knows a made-up id.
    assert _publish(hub, "Police", action([hidden["id"]])).added == 1
    refused = _publish(hub, "Bank", action([hidden["id"]]))
    assert refused.rejected == 1 and "target_refs[0]" in refused.errors[0].reason
    assert "police" not in refused.errors[0].reason.lower()
    ghost = _publish(hub, "NCC", action(["intrusion-set--00000000-0000-4000-8000-000000000000"]))
    assert ghost.rejected == 1 and "not in this batch nor stored" in ghost.errors[0].reason
    # A target in the same batch (even after the action) is fine.
    target = intrusion_set()
    assert _publish(hub, "Bank", action([target["id"]]), target).added == 2


def test_targets_later_in_a_big_batch_are_found(hub: Hub) -> None:
    """An action first and its target thousands of objects later (another ingest chunk) is stored."""
    community(hub)
    target, ghost = intrusion_set(), "intrusion-set--00000000-0000-4000-8000-000000000001"
    first, refused = action([target["id"]]), action([ghost])
    filler = [infrastructure(f"server {i}") for i in range(pipeline.BATCH + 100)]
    result = _publish(hub, "NCC", first, refused, *filler, target)
    assert result.added == len(filler) + 2 and result.rejected == 1
    assert result.errors[0].id == refused["id"] and result.errors[0].index == 1
    assert hub.get(hub.viewer_as("NCC"), first["id"])["object"]["target_refs"] == [target["id"]]


def test_incident_extension_is_checked(hub: Hub) -> None:
    community(hub)
    inc = {
        "type": "incident", "spec_version": "2.1", "id": "incident--1bc5b566-bc13-5acb-9bb6-195e49dc8ed1",
        "created": "2024-02-20T00:00:00.000Z", "modified": "2024-02-20T00:00:00.000Z", "name": "Example",
        "extensions": {extensions.INCIDENT_EXTENSION_ID: {
            "extension_type": "property-extension",
            "norm_assessments": [{"norm": "un-gge-2015-13z", "assessment": "violated", "rationale": "r"}],
        }},
    }  # fmt: skip
    result = _publish(hub, "NCC", inc)
    assert result.rejected == 1 and "un-gge-2015-13z" in result.errors[0].reason
    inc["extensions"][extensions.INCIDENT_EXTENSION_ID]["norm_assessments"][0]["norm"] = "un-gge-2015-13f"
    inc["extensions"][extensions.INCIDENT_EXTENSION_ID]["responses"] = [
        {"response_type": "sanction", "action_ref": "disruption-action--00000000-0000-4000-8000-000000000000"}
    ]
    result = _publish(hub, "NCC", inc)
    assert result.rejected == 1 and "responses[0].action_ref" in result.errors[0].reason


def test_cli_rest_and_taxii_all_refuse_a_bad_action(sqlite_hub: Hub, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    hub = sqlite_hub
    community(hub)
    op = hub.viewer_as(None)
    token = hub.create_token(op, "admin@ncc.example")["token"]
    target = intrusion_set()
    _publish(hub, "NCC", target)
    bad = action([target["id"]], outcomes={"arrests": -1})
    # CLI
    monkeypatch.setenv("ACCORD_DATABASE_URL", hub.settings.database_url)
    path = tmp_path / "bad.json"
    path.write_bytes(orjson.dumps(bad))
    res = CliRunner().invoke(app, ["ingest", str(path), "--as", "NCC", "--json"])
    assert res.exit_code == 3 and "cannot be negative" in res.stdout
    # REST
    client = TestClient(create_app(hub))
    auth = {"Authorization": f"Bearer {token}"}
    r = client.post("/api/v1/objects", content=orjson.dumps(bad), headers=auth)
    assert r.status_code == 422 and "cannot be negative" in r.json()["errors"][0]["reason"]
    # TAXII
    coll = hub.add_collection(op, "All", writers="all")["id"]
    media = "application/taxii+json;version=2.1"
    r = client.post(f"/taxii2/api/collections/{coll}/objects/", content=orjson.dumps({"objects": [bad]}),
                    headers={**auth, "Accept": media, "Content-Type": media})  # fmt: skip
    assert r.status_code == 202
    status = r.json()
    assert status["failure_count"] == 1 and "cannot be negative" in status["failures"][0]["message"]
    good = action([target["id"]], outcomes={"arrests": 2})
    r = client.post("/api/v1/objects", content=orjson.dumps(good), headers=auth)
    assert r.status_code == 201
