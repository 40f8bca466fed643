"""`accord sweep` and `accord export --format …` from the shell: indicators from the hub as an
organisation sees them, hits as JSON lines, sightings published and updated in place, and exports
that list what they cannot express."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from accord.cli import sweep as _sweep  # noqa: F401  (registers `accord sweep`)
from accord.cli.main import app
from accord.errors import AccordError
from helpers import indicator

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
MAP = str(ROOT / "bench" / "workload.map.toml")


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        assert isinstance(result.exception, AccordError), repr(result.exception)
        return result.exception.exit_code, result.stdout, result.exception.message
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ACCORD_DATABASE_URL", f"sqlite:///{tmp_path / 'hub.db'}")
    monkeypatch.setenv("ACCORD_CACHE_DIR", str(tmp_path / "cache"))
    assert run("init")[0] == 0
    for name, sector in (("Bank", "financial-services"), ("CERT", "cert"), ("Other", "academia")):
        assert run("org", "add", name, "--sector", sector, "--country", "FR")[0] == 0
    assert run("group", "add", "pair", "--owner", "CERT", "--member", "Bank")[0] == 0
    return tmp_path


def _publish(shell: Path, org: str, objs: list[dict], *extra: str) -> None:
    f = shell / f"pub-{len(list(shell.iterdir()))}.json"
    f.write_bytes(
        orjson.dumps({"type": "bundle", "id": "bundle--1b1e2b5e-4c1a-4f5e-9a57-2f3f4c4d5e6f", "objects": objs})
    )
    code, out, err = run("ingest", str(f), "--as", org, *extra)
    assert code == 0, err


def _log(shell: Path, queries: list[str]) -> Path:
    log = shell / "dns.jsonl"
    with log.open("wb") as fh:
        for i, q in enumerate(queries):
            fh.write(orjson.dumps({"ts": f"2024-05-01T00:00:{i:02d}.000Z", "type": "dns", "sensor": "s",
                                   "src_ip": "10.0.0.1", "query": q, "qtype": "A", "answer": "1.2.3.4"}) + b"\n")  # fmt: skip
    return log


def test_sweep_uses_what_the_org_may_see_and_reports_sightings(shell: Path) -> None:
    shared = indicator("shared.example", level="green")
    secret = indicator("secret.example", level="red")
    expired = indicator("old.example", level="green", valid_until="2024-03-01T00:00:00Z")
    _publish(shell, "CERT", [shared, expired], "--audience", "group:pair")
    _publish(shell, "Other", [secret])
    log = _log(shell, ["shared.example", "secret.example", "ok.example", "shared.example", "old.example"])
    out = shell / "hits.jsonl"
    code, stdout, err = run("sweep", str(log), "--format", "jsonl", "--map", MAP, "--as", "Bank", "--out", str(out),
                            "--report", "--json")  # fmt: skip
    assert code == 0, err
    hits = [orjson.loads(x) for x in out.read_bytes().splitlines()]
    assert sorted((h["indicator"], h["lines"][0]) for h in hits) == sorted([(shared["id"], 1), (shared["id"], 4)])
    summary = orjson.loads(stdout)
    assert summary["hits"] == 2 and summary["sightings"]["added"] == 1
    # the sighting, as the bank published it
    code, stdout, _ = run("search", "--as", "Bank", "--type", "sighting", "--json")
    rows = orjson.loads(stdout)
    assert len(rows) == 1
    sid = rows[0]["id"]
    code, stdout, _ = run("get", sid, "--as", "Bank", "--json")
    sighting = orjson.loads(stdout)["object"]
    assert sighting["count"] == 2 and sighting["sighting_of_ref"] == shared["id"]
    assert sighting["first_seen"] == "2024-05-01T00:00:00.000Z" and sighting["last_seen"] == "2024-05-01T00:00:03.000Z"
    # a second sweep updates the same sighting in place
    code, stdout, err = run("sweep", str(log), "--format", "jsonl", "--map", MAP, "--as", "Bank", "--out", str(out),
                            "--report", "--json")  # fmt: skip
    assert code == 0, err
    assert orjson.loads(stdout)["sightings"]["new_version"] == 1
    code, stdout, _ = run("get", sid, "--as", "Bank", "--json")
    again = orjson.loads(stdout)["object"]
    assert again["count"] == 2  # the same log swept again is not counted twice
    assert str(shell) not in stdout and list(again["x_accord_counted"].values()) == [2]  # keyed by a hash
    with log.open("ab") as fh:  # the log grows: its new line counts, its old ones still once
        fh.write(orjson.dumps({"ts": "2024-05-01T00:00:09.000Z", "type": "dns", "sensor": "s", "src_ip": "10.0.0.1",
                               "query": "shared.example", "qtype": "A", "answer": "1.2.3.4"}) + b"\n")  # fmt: skip
    assert run("sweep", str(log), "--format", "jsonl", "--map", MAP, "--as", "Bank", "--report", "--json",
               "--out", str(out))[0] == 0  # fmt: skip
    other = shell / "other.jsonl"  # another log adds its own
    other.write_bytes(log.read_bytes().splitlines(keepends=True)[0])
    assert run("sweep", str(other), "--format", "jsonl", "--map", MAP, "--as", "Bank", "--report", "--json",
               "--out", str(out))[0] == 0  # fmt: skip
    code, stdout, _ = run("get", sid, "--as", "Bank", "--json")
    latest = orjson.loads(stdout)["object"]
    assert latest["count"] == 4 and sorted(latest["x_accord_counted"].values()) == [1, 3]
    assert latest["last_seen"] == "2024-05-01T00:00:09.000Z"
    # the publisher of the indicator sees the sighting; an org that cannot see the indicator does not
    assert run("get", sid, "--as", "CERT", "--json")[0] == 0
    code, stdout, _ = run("search", "--as", "Other", "--type", "sighting", "--json")
    assert code == 0 and orjson.loads(stdout) == []
    assert run("get", sid, "--as", "Other", "--json")[0] != 0


def test_sweep_with_an_indicator_file_and_bad_input(shell: Path) -> None:
    log = _log(shell, ["a.example", "b.example"])
    bundle = shell / "iocs.json"
    bundle.write_bytes(orjson.dumps({"type": "bundle", "id": "bundle--1b1e2b5e-4c1a-4f5e-9a57-2f3f4c4d5e6f",
                                     "objects": [indicator("b.example"), indicator("x", pattern="[bad")]}))  # fmt: skip
    code, stdout, err = run("sweep", str(log), "--format", "jsonl", "--map", MAP, "--indicators", str(bundle))
    assert code == 0, err
    hits = [orjson.loads(x) for x in stdout.splitlines() if x.startswith("{")]
    assert [h["lines"] for h in hits] == [[2]]
    assert run("sweep", str(shell / "missing.log"), "--indicators", str(bundle))[0] != 0
    garbage = shell / "garbage.json"
    garbage.write_bytes(b"{not json")
    code, _, message = run("sweep", str(log), "--format", "jsonl", "--map", MAP, "--indicators", str(garbage))
    assert code != 0 and "garbage.json" in message
    code, _, message = run("sweep", str(log), "--format", "jsonl", "--map", MAP, "--indicators", str(bundle),
                           "--workers", "-1")  # fmt: skip
    assert code != 0 and "--workers" in message
    code, _, message = run("sweep", str(log), "--indicators", str(bundle), "--report", "--as", "Bank")
    assert code != 0 and "--report" in message


def test_export_formats_list_what_they_cannot_express(shell: Path) -> None:
    objs = [
        indicator("rule.example", level="green"),
        indicator("ip", level="green", pattern="[ipv4-addr:value = '203.0.113.9' OR ipv4-addr:value = '198.51.100.1']"),
        indicator("cidr", level="green", pattern="[network-traffic:dst_ref.value ISSUBSET '100.64.0.0/10']"),
        indicator("hash", level="green", pattern="[file:hashes.'SHA-256' = '" + "e" * 64 + "']"),
        indicator("url", level="green", pattern="[url:value = 'http://dl.example/a;b\"c.bin']"),
        indicator("seq", level="green", pattern="[domain-name:value = 'a.example'] FOLLOWEDBY [ipv4-addr:value = '1.2.3.4']"),
        indicator("like", level="green", pattern="[domain-name:value LIKE '%.evil']"),
    ]  # fmt: skip
    _publish(shell, "CERT", objs)
    code, rules, err = run("export", "--as", "Bank", "--format", "suricata")
    assert code == 0
    assert 'dns.query; content:"rule.example"' in rules and "[203.0.113.9]" in rules and "[198.51.100.1]" in rules
    assert "-> [100.64.0.0/10]" in rules
    assert 'content:"/a|3B|b|22|c.bin"' in rules  # ; and " escaped in content
    assert f"not expressible: {objs[5]['id']}" in rules and f"not expressible: {objs[6]['id']}" in rules
    assert f"not expressible: {objs[3]['id']}" in rules  # hashes need list files in Suricata
    code, intel, _ = run("export", "--as", "Bank", "--format", "zeek-intel")
    lines = intel.splitlines()
    assert lines[0].startswith("#fields\tindicator\tindicator_type")
    assert "e" * 64 + "\tIntel::FILE_HASH" in intel and 'dl.example/a;b"c.bin\tIntel::URL' in intel
    assert "100.64.0.0/10\tIntel::SUBNET" in intel
    code, table, _ = run("export", "--as", "Bank", "--format", "csv")
    assert table.splitlines()[0] == "indicator,name,kind,hash_type,value,valid_from,valid_until"
    assert run("export", "--as", "Bank", "--format", "yara")[0] != 0


def test_export_rules_match_the_whole_value_and_keep_alternatives(shell: Path) -> None:
    objs = [
        indicator("either", level="green",
                  pattern="[ipv4-addr:value = '198.51.100.78'] OR [url:value = 'http://198.51.100.78/dl/{sid}.exe']"),
        indicator("evil.example", level="green"),
        indicator("name", level="green", pattern="[file:name = 'invoice.exe']"),
    ]  # fmt: skip
    _publish(shell, "CERT", objs)
    code, rules, _ = run("export", "--as", "Bank", "--format", "suricata")
    assert code == 0 and "not expressible" not in rules  # [A] OR [B] is a rule for each
    body = [r for r in rules.splitlines() if r.startswith("alert ")]
    assert sum("alert ip any any <> [198.51.100.78] any" in r for r in body) == 1
    assert sum('http.host; content:"198.51.100.78"; nocase; bsize:13;' in r for r in body) == 1
    # a content alone would also fire on "notevil.example": the buffer's size pins the whole value
    assert 'dns.query; content:"evil.example"; nocase; bsize:12;' in rules
    assert 'tls.sni; content:"evil.example"; nocase; bsize:12;' in rules
    assert 'http.uri; content:"/dl/{sid}.exe"; bsize:13;' in rules  # a value holding "{sid}" is kept
    assert 'file.name; content:"invoice.exe"; bsize:11;' in rules
    sids = [r.rsplit("sid:", 1)[1].split(";")[0] for r in body]
    assert len(body) == 5 and len(set(sids)) == 5
    code, intel, _ = run("export", "--as", "Bank", "--format", "zeek-intel")
    assert "198.51.100.78\tIntel::ADDR" in intel and "198.51.100.78/dl/{sid}.exe\tIntel::URL" in intel
    code, table, err = run("export", "--as", "Bank", "--format", "csv")
    assert table.count(objs[0]["id"]) == 2


def test_sweep_lists_an_empty_log_and_refuses_a_directory(shell: Path) -> None:
    log = _log(shell, ["b.example"])
    empty = shell / "rotated.log"
    empty.write_bytes(b"")
    bundle = shell / "iocs.json"
    bundle.write_bytes(orjson.dumps([indicator("b.example")]))
    code, stdout, err = run("sweep", str(empty), str(log), "--map", MAP, "--indicators", str(bundle), "--json")
    assert code == 0, err
    assert [orjson.loads(x)["lines"] for x in stdout.splitlines()] == [[1]]
    files = orjson.loads(err)["files"]
    assert [(f["file"], f["format"], f["lines"]) for f in files] == [(str(empty), "empty", 0), (str(log), "workload", 1)]
    code, _, message = run("sweep", str(shell), "--indicators", str(bundle))
    assert code != 0 and "directory" in message


def test_report_with_observed_data_only_when_asked(shell: Path) -> None:
    shared = indicator("seen.example", level="green")
    _publish(shell, "CERT", [shared], "--audience", "group:pair")
    log = _log(shell, ["seen.example", "ok.example", "seen.example", "seen.example"])
    code, stdout, err = run("sweep", str(log), "--format", "jsonl", "--map", MAP, "--as", "Bank", "--report",
                            "--observed-data", "2", "--out", str(shell / "h.jsonl"), "--json")  # fmt: skip
    assert code == 0, err
    code, stdout, _ = run("search", "--as", "Bank", "--type", "sighting", "--json")
    sid = orjson.loads(stdout)[0]["id"]
    sighting = orjson.loads(run("get", sid, "--as", "Bank", "--json")[1])["object"]
    assert sighting["count"] == 3 and len(sighting["observed_data_refs"]) == 2
    od = orjson.loads(run("get", sighting["observed_data_refs"][0], "--as", "Bank", "--json")[1])["object"]
    assert od["type"] == "observed-data" and od["first_observed"] == "2024-05-01T00:00:00.000Z"
    refs = {}
    for ref in od["object_refs"]:
        sco = orjson.loads(run("get", ref, "--as", "Bank", "--json")[1])["object"]
        refs[sco["type"]] = sco
    assert refs["domain-name"]["value"] == "seen.example"
    assert all(r in od["object_refs"] for r in refs["domain-name"]["resolves_to_refs"])
    # without the option only counts and times leave the machine
    code, _, _ = run("sweep", str(log), "--format", "jsonl", "--map", MAP, "--as", "Bank", "--report",
                     "--out", str(shell / "h.jsonl"))  # fmt: skip
    again = orjson.loads(run("get", sid, "--as", "Bank", "--json")[1])["object"]
    assert again["count"] == 3 and again["observed_data_refs"] == sighting["observed_data_refs"]  # same log
    assert run("sweep", str(log), "--format", "jsonl", "--map", MAP, "--observed-data", "2")[0] != 0


def test_follow_stdin_reports_hits_while_the_stream_is_open(shell: Path) -> None:
    """`... | accord sweep --follow -`: every line counts (the ones read to recognise the format too), and a
    hit is written while the writer is still writing."""
    import os
    import select
    import subprocess
    import sys

    bundle = shell / "iocs.json"
    bundle.write_bytes(orjson.dumps({"type": "bundle", "id": "bundle--1b1e2b5e-4c1a-4f5e-9a57-2f3f4c4d5e6f",
                                     "objects": [indicator("live.example")]}))  # fmt: skip
    lines = _log(shell, ["first.example", "live.example", "third.example"]).read_bytes().splitlines(keepends=True)
    env = {**os.environ, "ACCORD_DATABASE_URL": f"sqlite:///{shell / 'hub.db'}", "ACCORD_CACHE_DIR": str(shell)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "accord", "sweep", "--follow", "-", "--format", "jsonl", "--map", MAP,
         "--indicators", str(bundle), "--json"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(lines[0] + lines[1])
        proc.stdin.flush()
        assert select.select([proc.stdout], [], [], 60)[0], "no hit while stdin stays open"
        hit = orjson.loads(proc.stdout.readline())
        assert hit["lines"] == [2] and hit["values"] == ["live.example"]
        out, err = proc.communicate(lines[2] + b"not json\n", timeout=60)  # then stdin ends
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert proc.returncode == 0, err
    assert out == b""  # the one hit came while the stream was open
    summary = orjson.loads(err[err.index(b"{\n"):])  # hits take stdout, so the summary is on stderr
    assert summary["hits"] == 1
    assert [(f["lines"], f["malformed"]) for f in summary["files"]] == [(4, 1)]
