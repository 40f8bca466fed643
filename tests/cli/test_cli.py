"""The CLI: help with examples everywhere, --json output, one-line errors and non-zero exits."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from accord.cli.main import app, main
from helpers import indicator

runner = CliRunner()

def _all_commands() -> list[list[str]]:
    """Every command and sub-command the CLI registers (modules register theirs on import)."""
    from typer.main import get_command

    from accord.cli import actions, collections, demo, feeds, spyware, sweep  # noqa: F401

    def walk(command: object, path: list[str]) -> list[list[str]]:
        subs = getattr(command, "commands", None)
        if not subs:
            return [path]
        return [p for name, sub in sorted(subs.items()) for p in walk(sub, [*path, name])]

    return walk(get_command(app), [])


COMMANDS = _all_commands()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ACCORD_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    """Exit code, stdout, and the error message (Accord errors surface as exceptions under CliRunner)."""
    from accord.errors import AccordError

    result = runner.invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        assert isinstance(result.exception, AccordError), repr(result.exception)
        return result.exception.exit_code, result.stdout, result.exception.message
    return result.exit_code, result.stdout, result.stderr


def test_the_command_list_is_complete() -> None:
    names = {" ".join(c) for c in COMMANDS}
    assert {"sweep", "feed add", "spyware seed", "check-device", "sanctions import", "impact", "export"} <= names
    assert len(COMMANDS) >= 40


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(c))
def test_every_command_has_help_with_an_example(cmd: list[str]) -> None:
    result = runner.invoke(app, [*cmd, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.stdout


def test_a_session_from_the_shell(env: Path) -> None:
    assert run("init")[0] == 0
    assert run("org", "add", "NCC", "--sector", "government-national", "--country", "GB")[0] == 0
    assert run("org", "add", "Bank", "--sector", "financial-services", "--country", "FR")[0] == 0
    code, out, _ = run("user", "add", "a@bank.example", "--org", "Bank", "--role", "analyst", "--json")
    assert code == 0 and orjson.loads(out)["org"] == "Bank"
    code, out, _ = run("token", "create", "--user", "a@bank.example", "--json")
    assert code == 0 and orjson.loads(out)["token"].startswith("acc_")
    red = indicator("cli-red.example", level="red")
    f = env / "red.json"
    f.write_bytes(orjson.dumps({"type": "bundle", "id": "bundle--1b1e2b5e-4c1a-4f5e-9a57-2f3f4c4d5e6f", "objects": [red]}))
    code, out, _ = run("ingest", str(f), "--as", "Bank", "--audience", "org", "--json")
    assert code == 0 and orjson.loads(out)["added"] == 1
    code, out, _ = run("get", red["id"], "--as", "Bank", "--json")
    assert code == 0 and orjson.loads(out)["tlp"] == "red"
    code, _, err = run("get", red["id"], "--as", "NCC")
    assert code != 0 and "no object" in err
    code, out, _ = run("search", "--as", "NCC", "--type", "indicator", "--json")
    assert code == 0 and orjson.loads(out) == []
    code, out, _ = run("stats", "--as", "Bank", "--json")
    assert orjson.loads(out)["by_type"]["indicator"] == 1
    code, out, _ = run("export", "--as", "Bank", "--type", "indicator")
    assert [o["id"] for o in orjson.loads(out)["objects"]] == [red["id"]]
    code, out, _ = run("audit", "--json")
    assert any(e["action"] == "objects.ingest" for e in orjson.loads(out))


def test_errors_are_one_line_without_traceback(env: Path, capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    import sys

    monkeypatch.setattr(sys, "argv", ["accord", "init"])
    with pytest.raises(SystemExit):
        main()
    monkeypatch.setattr(sys, "argv", ["accord", "org", "add", "X", "--sector", "nope", "--country", "GB"])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code != 0
    err = capsys.readouterr().err
    assert "unknown sector" in err and "Traceback" not in err
    monkeypatch.setattr(sys, "argv", ["accord", "ingest", str(env / "missing.json"), "--as", "X"])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code != 0 and "Traceback" not in capsys.readouterr().err
    monkeypatch.setattr(sys, "argv", ["accord", "export", "--format", "csv", "--out", str(env / "no" / "x.csv")])
    with pytest.raises(SystemExit) as exc:
        main()
    err = capsys.readouterr().err
    assert exc.value.code == 74 and "No such file or directory" in err and "Traceback" not in err


def test_rejected_objects_make_ingest_exit_non_zero(env: Path) -> None:
    run("init")
    run("org", "add", "Bank", "--sector", "financial-services", "--country", "FR")
    f = env / "mixed.jsonl"
    f.write_bytes(orjson.dumps(indicator("ok.example")) + b"\n" + b'{"type": "indicator"}\n')
    code, out, _ = run("ingest", str(f), "--as", "Bank", "--json")
    assert code == 3
    report = orjson.loads(out)
    assert report["added"] == 1 and report["rejected"] == 1


def test_serve_with_several_workers_answers(env: Path) -> None:
    import os
    import socket
    import subprocess
    import sys
    import time

    import httpx

    run("init")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "accord.cli.main", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        env={**os.environ}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        answers = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(answers) < 5:
            try:
                answers.append(httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).json()["status"])
            except httpx.HTTPError:
                time.sleep(0.3)
        assert answers == ["ok"] * 5
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_database_without_the_schema_is_a_clear_error(env: Path) -> None:
    from accord.errors import ConfigError

    code, _, message = run("stats")
    assert code == ConfigError.exit_code and "accord init" in message
    assert run("init")[0] == 0
    assert run("stats")[0] == 0


def test_an_unreachable_database_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from accord.errors import DatabaseUnavailable

    monkeypatch.setenv("ACCORD_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/nothing")
    code, _, message = run("stats")
    assert code == DatabaseUnavailable.exit_code and "cannot reach the database" in message
