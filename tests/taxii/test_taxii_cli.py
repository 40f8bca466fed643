"""``accord collection add|list|remove``: help with examples, --json, one-line errors."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from accord.cli import collections  # noqa: F401  (registers `accord collection …`)
from accord.cli.main import app
from accord.errors import AccordError

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ACCORD_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        assert isinstance(result.exception, AccordError), repr(result.exception)
        return result.exception.exit_code, result.exception.message
    return result.exit_code, result.stdout


@pytest.mark.parametrize("cmd", [["collection", "add"], ["collection", "list"], ["collection", "remove"]])
def test_collection_commands_have_help_with_an_example(cmd: list[str]) -> None:
    result = runner.invoke(app, [*cmd, "--help"])
    assert result.exit_code == 0 and "Example:" in result.stdout


def test_add_list_remove(env: Path) -> None:
    assert run("init")[0] == 0
    assert run("org", "add", "NCC", "--sector", "government-national", "--country", "GB")[0] == 0
    assert run("group", "add", "taskforce", "--owner", "NCC")[0] == 0
    code, out = run("collection", "add", "Everything")
    assert code == 0
    plain_id = out.strip()
    assert len(plain_id) == 36
    code, out = run("collection", "add", "Taskforce", "--scope", "group:taskforce", "--readers", "NCC",
                    "--writers", "all", "--description", "Shared with the taskforce", "--json")  # fmt: skip
    assert code == 0
    added = orjson.loads(out)
    assert added["scope"] == "group:taskforce" and added["readers"] == ["NCC"] and added["writers"] == "all"
    assert added["write_audience"] == "group:taskforce"
    code, out = run("collection", "list", "--json")
    assert code == 0 and {c["id"] for c in orjson.loads(out)} == {plain_id, added["id"]}
    assert run("collection", "list")[0] == 0
    code, out = run("collection", "remove", plain_id, "--json")
    assert code == 0 and orjson.loads(out) == {"id": plain_id, "removed": True}
    assert [c["id"] for c in orjson.loads(run("collection", "list", "--json")[1])] == [added["id"]]


def test_errors_are_one_line_with_exit_codes(env: Path) -> None:
    assert run("init")[0] == 0
    assert run("collection", "remove", "00000000-0000-4000-8000-000000000000") == (
        66, "no collection 00000000-0000-4000-8000-000000000000 (see 'accord collection list')")
    code, message = run("collection", "add", "X", "--scope", "everything")
    assert code == 65 and "\n" not in message and "scope" in message
    code, message = run("collection", "add", "X", "--scope", "group:nope")
    assert code == 66 and "nope" in message
    code, message = run("collection", "add", "X", "--readers", "Nobody Inc")
    assert code == 66 and "Nobody Inc" in message
    code, message = run("collection", "add", "X", "--scope", "public", "--write-audience", "community")
    assert code == 65 and "public" in message
    code, message = run("collection", "add", "X", "--writers", "")
    assert code == 65
