"""CLI and REST faces of collective action: sanctions import, impact, timeline, extension schemas."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from accord.api.app import create_app
from accord.cli import actions  # noqa: F401  (registers the commands)
from accord.cli.main import app
from accord.errors import AccordError
from accord.hub import Hub
from helpers import community

SDN = Path(__file__).parents[1] / "data" / "sanctions" / "ofac-sdn-cyber-2024-05-03.csv"
runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        assert isinstance(result.exception, AccordError), repr(result.exception)
        return result.exception.exit_code, result.exception.message
    return result.exit_code, result.stdout


@pytest.mark.parametrize("cmd", [["sanctions", "import"], ["impact"], ["actions", "timeline"], ["actions", "schema"],
                                 ["actions", "install-extensions"]])  # fmt: skip
def test_commands_have_help_with_an_example(cmd: list[str]) -> None:
    result = runner.invoke(app, [*cmd, "--help"])
    assert result.exit_code == 0 and "Example:" in result.stdout


def test_cli_sanctions_impact_timeline(sqlite_hub: Hub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    community(sqlite_hub)
    monkeypatch.setenv("ACCORD_DATABASE_URL", sqlite_hub.settings.database_url)
    code, out = run("sanctions", "import", str(SDN), "--as", "NCC", "--json")
    assert code == 0
    summary = orjson.loads(out)
    assert summary["list_date"] == "2024-05-03" and summary["entries"] == 243 and summary["rejected"] == 0
    code, out = run("sanctions", "import", str(SDN), "--as", "NCC")
    assert code == 0 and "0 added, 0 new versions" in out and "Evil Corp: EVIL CORP, YAKUBETS" in out
    code, out = run("impact", "--by", "type", "--period", "year", "--as", "Uni", "--json")
    assert code == 0
    impact = orjson.loads(out)
    # 6 dated designations (18 Evil Corp, 2 + 1 LockBit, 7 Intellexa, SUEX, Blender.io) and 213 undated ones
    assert impact["total"]["actions"] == 6 + 213 and impact["total"]["counts"]["designations"] == 30 + 213
    assert sum(g["actions"] for g in impact["groups"] if g["period"] == "undated") == 213
    code, out = run("sanctions", "import", str(SDN), "--as", "NCC")
    assert "flagged undated" in out
    code, out = run("impact", "--by", "actor", "--as", "Uni")
    assert code == 0 and "Intellexa Consortium" in out
    code, out = run("actions", "timeline", "LockBit", "--as", "Uni", "--json")
    assert code == 0
    assert [e["date"][:10] for e in orjson.loads(out)["actions"]] == ["2023-05-16", "2024-02-20"]
    code, _ = run(
        "impact", "--by", "actor", "--as", "Uni", "--svg", str(tmp_path / "i.svg"), "--metric", "designations"
    )
    assert code == 0 and "Intellexa Consortium" in (tmp_path / "i.svg").read_text()
    code, _ = run("actions", "timeline", "LockBit", "--as", "Uni", "--svg", str(tmp_path / "t.svg"))
    assert code == 0 and "2024-02-20" in (tmp_path / "t.svg").read_text()
    code, out = run("actions", "timeline", "Nobody at all", "--as", "Uni")
    assert code == 66 and "no threat actor" in out
    code, out = run("impact", "--by", "colour")
    assert code == 65 and "unknown --by 'colour'" in out
    code, out = run("actions", "schema", "disruption-action")
    assert code == 0 and orjson.loads(out)["properties"]["type"] == {"const": "disruption-action"}


def test_rest_endpoints(sqlite_hub: Hub) -> None:
    hub = sqlite_hub
    community(hub)
    op = hub.viewer_as(None)
    ncc = {"Authorization": f"Bearer {hub.create_token(op, 'admin@ncc.example')['token']}"}
    uni = {"Authorization": f"Bearer {hub.create_token(op, 'reader@uni.example')['token']}"}
    client = TestClient(create_app(hub))
    assert client.get("/api/v1/impact").status_code == 401
    r = client.post("/api/v1/sanctions/import?date=2024-05-03&audience=org", content=SDN.read_bytes(), headers=ncc)
    assert r.status_code == 201 and r.json()["entries"] == 243
    assert client.post("/api/v1/sanctions/import", content=SDN.read_bytes(), headers=uni).status_code == 403
    # Imported for NCC only: Uni's totals are empty, NCC's are not.
    assert client.get("/api/v1/impact", headers=uni).json()["total"]["actions"] == 0
    body = client.get("/api/v1/impact?by=actor&period=quarter", headers=ncc).json()
    assert body["total"]["actions"] == 6 + 213
    assert {(g["actor"], g["period"]) for g in body["groups"]} >= {("Evil Corp", "2019-Q4"), ("LockBit", "2024-Q1")}
    assert client.get("/api/v1/impact?by=colour", headers=ncc).status_code == 400
    tl = client.get("/api/v1/actions/timeline", params={"actor": "Evil Corp"}, headers=ncc).json()
    assert [e["date"][:10] for e in tl["actions"]] == ["2019-12-05"]
    assert client.get("/api/v1/actions/timeline", params={"actor": "Evil Corp"}, headers=uni).status_code == 404
    defs = client.get("/api/v1/extensions").json()
    assert len(defs["objects"]) == 3
    for path in defs["schemas"].values():
        r = client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/schema+json")
    assert client.get("/api/v1/extensions/nothing/schema").status_code == 404
