"""Device artefacts: MVT results folders (current and older layouts) and plain artefact lists."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from accord.errors import InvalidInput, NotFound
from accord.spyware import artefact_list, mvt
from accord.spyware.artefacts import Record, parse_time, to_event

from .spyware_helpers import MVT


def _values(records: list[Record]) -> set[tuple[str, str]]:
    return {(a.kind, a.value) for r in records for a in r.artefacts}


def test_ios_backup_records_hold_what_mvt_checks() -> None:
    folder = mvt.read_folder(MVT / "ios-backup")
    vals = _values(folder.records)
    assert ("url", "https://badbadbad.example.org/") in vals
    assert ("url", "https://en.wikipedia.org/wiki/NSO_Group") in vals
    assert ("email", "user@example.org") in vals
    assert ("process", "CumulativeUsageTracker") in vals
    assert ("file-name", "com.apple.CoreBrightness.plist") in vals  # only in manifest_detected.json / alerts.json
    assert ("app", "net.whatsapp.WhatsApp") in vals
    assert folder.info["mvt_version"] == "2026.10.26" and folder.mvt_matches == 6
    assert {n["message"] for n in folder.notices} >= {"Lockdown mode enabled"}
    # The SMS is in sms.json, sms_detected.json and alerts.json: read once.
    assert sum(1 for r in folder.records if r.module == "sms") == 1
    # Device identifiers in backup_info.json are never read.
    text = json.dumps([[a.value for a in r.artefacts] for r in folder.records])
    info = json.loads((MVT / "ios-backup" / "backup_info.json").read_text())
    for key in ("IMEI", "ICCID", "Serial Number", "GUID", "Unique Identifier", "Phone Number"):
        if info.get(key):
            assert str(info[key]) not in text, key
    # WhatsApp account ids look like e-mail addresses but are phone numbers: not taken as e-mail.
    assert not any(v.endswith("@s.whatsapp.net") for k, v in vals if k == "email")


def test_androidqf_records() -> None:
    folder = mvt.read_folder(MVT / "androidqf")
    vals = _values(folder.records)
    assert ("app", "com.malware.blah") in vals and ("file-path", "/system/bin/su") in vals
    assert ("android-property", "dalvik.vm.heapmaxfree") in vals
    pkg = next(r for r in folder.records if ("app", "com.malware.blah") in _values([r]))
    assert len(pkg.extra["app-cert"]) == 64
    event = to_event(pkg, 1)
    app = next(o for o in event.objects.values() if o["type"] == "app" and "id" in o)
    assert app["cert"]["sha256"] == pkg.extra["app-cert"].lower()
    assert any(n["level"] == "HIGH" and "root binary" in n["message"] for n in folder.notices)
    # The timeline repeats aqf_files: only what the module files lack is added.
    assert not any(r.module.startswith("timeline") and r.ts is None for r in folder.records)


def test_older_mvt_with_only_detected_files(tmp_path: Path) -> None:
    for f in (MVT / "ios-backup").glob("*_detected.json"):
        shutil.copy(f, tmp_path / f.name)
    folder = mvt.read_folder(tmp_path)
    vals = _values(folder.records)
    assert ("url", "https://badbadbad.example.org/") in vals and ("email", "user@example.org") in vals
    assert folder.info == {}


def test_not_an_mvt_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InvalidInput, match="not an MVT results folder"):
        mvt.read_folder(tmp_path)
    with pytest.raises(NotFound):
        mvt.read_folder(tmp_path / "missing")


def test_unreadable_module_file_is_reported_not_fatal(tmp_path: Path) -> None:
    shutil.copy(MVT / "ios-backup" / "sms_detected.json", tmp_path)
    (tmp_path / "calendar.json").write_text("{not json")
    folder = mvt.read_folder(tmp_path)
    assert folder.records and folder.skipped and "calendar.json" in folder.skipped[0]


def test_url_hosts_give_parent_domains_and_addresses() -> None:
    rec = Record("x", "m", None, [])
    rec.artefacts = [mvt.Artefact("url", "https://a.b.evil.example/x?y=1"), mvt.Artefact("url", "http://10.1.2.3/p")]
    objs = to_event(rec, 1).objects.values()
    domains = {o["value"] for o in objs if o["type"] == "domain-name"}
    assert {"a.b.evil.example", "b.evil.example", "evil.example", "10.1.2.3"} <= domains
    assert "example" not in domains
    assert {"type": "ipv4-addr", "value": "10.1.2.3"} in list(objs)


def test_jsonl_and_csv_lists(tmp_path: Path) -> None:
    jl = tmp_path / "a.jsonl"
    jl.write_text(
        '{"type": "domain", "value": "evil.example", "timestamp": "2024-05-01T10:00:00Z"}\n'
        '{"process": "bh", "url": "https://x.example/p", "time": "2024-05-02 11:00:00"}\n\n'
        '{"value": "com.example.app"}\n'
    )
    recs = artefact_list.read_list(jl)
    assert [r.where for r in recs] == ["a.jsonl (line 1)", "a.jsonl (line 2)", "a.jsonl (line 4)"]
    assert recs[0].ts == parse_time("2024-05-01T10:00:00Z") and recs[1].ts is not None
    assert {(a.kind, a.value) for a in recs[2].artefacts} == {("domain", "com.example.app"), ("app", "com.example.app")}
    csvf = tmp_path / "a.csv"
    csvf.write_text("type,value,timestamp,note\napp-id,com.malware.blah,2024-01-01,found\nsha256," + "A" * 64 + ",,\n")
    recs = artefact_list.read_list(csvf)
    assert recs[0].artefacts[0].kind == "app" and recs[1].artefacts[0].kind == "sha256" and recs[1].ts is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"type": "planet", "value": "mars"}\n', "unknown artefact type 'planet'"),
        ('{"type": "domain"}\n', "without a value"),
        ('{"type": "sha256", "value": "abc"}\n', "not a SHA-256"),
        ('{"domain": "x.example", "timestamp": "yesterday"}\n', "not a timestamp"),
        ('{"colour": "red"}\n', "no artefact in this line"),
        ("{broken\n", "line 1 is not JSON"),
        ("evil.example\nother.example\n", "header"),
        ('{"type": "url", "value": "not a url"}\n', "not a URL"),
    ],
)
def test_bad_lists_name_the_line_and_the_problem(tmp_path: Path, content: str, message: str) -> None:
    f = tmp_path / "bad.jsonl"
    f.write_text(content)
    with pytest.raises(InvalidInput, match=message):
        artefact_list.read_list(f)
