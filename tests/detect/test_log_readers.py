"""Log readers: every format against realistic sample logs, the workload mapping against the generator's
own STIX bundles and the reference matcher, the verbatim promise, compression, stdin and sniffing errors.

Run as a script (``python tests/detect/test_log_readers.py [EVENTS.jsonl]``) to measure parse() speed.
"""

from __future__ import annotations

import gzip
import json
import pickle
import select
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import zstandard
from stix2matcher.matcher import Pattern

from accord.detect.events import Event
from accord.detect.readers import (
    FORMATS,
    LineParser,
    MalformedLine,
    UnknownRecord,
    is_seekable,
    load_mapping,
    open_log,
    sniff,
)
from accord.detect.readers.mapping import Mapping, build_objects, split_object_path
from accord.errors import InvalidInput

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / "tests" / "data" / "logs"
WORKLOAD_MAP = ROOT / "bench" / "workload.map.toml"


def parse_all(parser: LineParser, path: Path) -> list[Event | None | MalformedLine]:
    """Every line's outcome: an Event, None (not an event) or the MalformedLine raised."""
    out: list[Event | None | MalformedLine] = []
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, 1):
            try:
                out.append(parser.parse(raw, n))
            except MalformedLine as e:
                out.append(e)
    return out


def by_type(ev: Event, stix_type: str) -> list[dict[str, Any]]:
    return [o for o in ev.objects.values() if o["type"] == stix_type]


def values_at(objects: dict[str, dict[str, Any]], path: str) -> list[Any]:
    """Every value an object path reaches in an Event's objects (a small evaluator for the tests:
    property steps, dictionary keys, list elements, ``_ref`` / ``_refs`` dereferencing)."""
    parsed = split_object_path(path)
    assert parsed is not None, path
    otype, steps = parsed
    found: list[Any] = []

    def walk(value: Any, rest: tuple[str, ...], owner_key: str | None) -> None:
        if isinstance(value, list):
            for v in value:
                walk(v, rest, owner_key)
            return
        if not rest:
            found.append(value)
            return
        if isinstance(value, dict):
            step = rest[0]
            if step not in value:
                return
            nxt = value[step]
            if step.endswith("_ref") or step.endswith("_refs"):
                targets = nxt if isinstance(nxt, list) else [nxt]
                for t in targets:
                    walk(objects[t], rest[1:], t)
                return
            walk(nxt, rest[1:], owner_key)

    for key, obj in objects.items():
        if obj["type"] == otype:
            walk(obj, steps, key)
    return found


# ------------------------------------------------------------------ the shared workload


def canonical(objects: dict[str, dict[str, Any]]) -> list[str]:
    """Order- and id-independent form of a set of SCOs: refs replaced by the referenced object's content."""

    def inline(obj: dict[str, Any], depth: int = 0) -> dict[str, Any]:
        assert depth < 5
        out = {}
        for k, v in obj.items():
            if k in ("id", "spec_version"):
                continue
            if k.endswith("_ref"):
                out[k] = inline(objects[v], depth + 1)
            elif k.endswith("_refs"):
                out[k] = sorted((inline(objects[x], depth + 1) for x in v), key=lambda d: json.dumps(d, sort_keys=True))
            else:
                out[k] = v
        return out

    return sorted(json.dumps(inline(o), sort_keys=True) for o in objects.values())


def bundle_objects(bundle: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    od = bundle["objects"][0]
    assert od["type"] == "observed-data"
    return od, {o["id"]: o for o in bundle["objects"][1:]}


@pytest.fixture(scope="module")
def workload() -> tuple[LineParser, list[bytes], list[dict[str, Any]]]:
    parser = sniff(LOGS / "workload-sample.jsonl", "jsonl", WORKLOAD_MAP)
    raws = (LOGS / "workload-sample.jsonl").read_bytes().splitlines(keepends=True)
    bundles = json.loads((LOGS / "workload-sample.bundles.json").read_text())
    assert len(raws) == len(bundles) == 50
    return parser, raws, bundles


def test_workload_map_builds_what_event_to_bundle_builds(workload):
    parser, raws, bundles = workload
    kinds = set()
    for n, (raw, bundle) in enumerate(zip(raws, bundles, strict=True), 1):
        ev = parser.parse(raw, n)
        assert ev is not None and ev.line == n
        od, expected = bundle_objects(bundle)
        assert canonical(ev.objects) == canonical(expected), raw
        assert len(ev.objects) == len(expected)
        assert ev.ts == datetime.fromisoformat(od["first_observed"])
        assert ev.source["format"] == "workload"
        kinds.add(json.loads(raw)["type"])
    assert kinds == {"dns", "http", "file", "flow"}


def to_observed_data_20(ev: Event) -> dict[str, Any]:
    ts = ev.ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        "type": "observed-data",
        "id": f"observed-data--00000000-0000-4000-8000-{ev.line:012d}",
        "first_observed": ts,
        "last_observed": ts,
        "number_observed": ev.number_observed,
        "objects": ev.objects,
    }


def extra_patterns(raws: list[bytes]) -> list[str]:
    """Patterns beyond the planted ones, built from the sample's own values (refs, extensions, lists)."""
    recs = [json.loads(r) for r in raws]
    http = next(r for r in recs if r["type"] == "http")
    dns = next(r for r in recs if r["type"] == "dns")
    flow = next(r for r in recs if r["type"] == "flow")
    f = next(r for r in recs if r["type"] == "file")
    return [
        f"[domain-name:resolves_to_refs[*].value = '{dns['answer']}']",
        f"[network-traffic:src_ref.value = '{http['src_ip']}' AND network-traffic:dst_port = {http['dst_port']}]",
        f"[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = '{http['ua']}']",
        "[network-traffic:extensions.'http-request-ext'.request_method = 'POST']",
        "[network-traffic:extensions.'http-request-ext'.request_value LIKE '/api/%']",
        f"[network-traffic:protocols[*] = '{flow['proto']}' AND network-traffic:src_port = {flow['src_port']}]",
        f"[network-traffic:src_byte_count = {flow['bytes']}]",
        f"[file:hashes.MD5 = '{f['md5']}' AND file:size = {f['size']}]",
        "[file:size > 4000000]",
        "[ipv4-addr:value ISSUBSET '10.0.0.0/8']",
        "[url:value MATCHES '^https://www[.]']",
        "[domain-name:value LIKE '%.de' OR url:value LIKE 'http://%']",
        "[network-traffic:dst_ref.value = '10.1.1.1']",
    ]


def test_reference_matcher_agrees_on_event_and_generator_bundle(workload):
    parser, raws, bundles = workload
    planted = json.loads((LOGS / "workload-sample.patterns.json").read_text())
    events = [parser.parse(raw, n) for n, raw in enumerate(raws, 1)]
    ours = [to_observed_data_20(ev) for ev in events]
    theirs = []
    for b in bundles:
        od, objs = bundle_objects(b)
        theirs.append({"type": "bundle", "id": b["id"], "objects": [od, *objs.values()]})
    positives = 0
    for entry in [*planted, *({"pattern": p} for p in extra_patterns(raws))]:
        p20 = Pattern(entry["pattern"], "2.0")
        p21 = Pattern(entry["pattern"], "2.1")
        if "lines" in entry and len(entry["lines"]) > 1:  # FOLLOWEDBY pairs: evaluated over the pair
            pair = [i - 1 for i in entry["lines"]]
            a = bool(p20.match([ours[i] for i in pair]))
            assert a == bool(p21.match([theirs[i] for i in pair])) and a, entry
            positives += 1
            continue
        matched = []
        for i in range(len(events)):
            a = bool(p20.match([ours[i]]))
            assert a == bool(p21.match([theirs[i]])), (entry["pattern"], raws[i])
            if a:
                matched.append(i + 1)
        if "lines" in entry:  # planted truth: hits exactly where planted (controls: nowhere)
            assert matched == entry["lines"] or set(entry["lines"]) <= set(matched), (entry, matched)
            if entry["class"].startswith("atomic"):
                assert matched == entry["lines"], (entry, matched)
            if "why" in entry:
                assert matched == [], entry
        positives += bool(matched)
    assert positives >= 30  # the comparison is not vacuous


def test_workload_verbatim_answers(workload):
    parser, raws, _ = workload
    assert parser.json_lines is True
    yes = [
        "domain-name:value",
        "ipv4-addr:value",
        "url:value",
        "file:hashes.'SHA-256'",
        "file:hashes.MD5",
        "file:name",
        "network-traffic:dst_ref.value",
        "network-traffic:src_ref.value",
        "domain-name:resolves_to_refs[*].value",
        "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'",
        "network-traffic:extensions.'http-request-ext'.request_method",
        "email-addr:value",  # never filled: vacuously true
    ]
    no = [
        "file:size",
        "network-traffic:dst_port",
        "network-traffic:protocols[*]",
        "network-traffic:extensions.'http-request-ext'.request_value",  # cut out of the url
        "network-traffic:dst_ref",  # a ref, not a value
        "file:hashes",  # a dict
        "network-traffic:extensions",
        "ipv4-addr:type",  # set by the mapping, not taken from the line
        "network-traffic:dst_ref.type",
        "not a path",
    ]
    for p in yes:
        assert parser.verbatim(p) is True, p
    for p in no:
        assert parser.verbatim(p) is False, p


def assert_verbatim_promise(parser: LineParser, path: Path, paths: list[str]) -> int:
    """For every path the parser calls verbatim, every value it builds there is a JSON string of the
    raw line, found by searching the raw bytes for its JSON encoding (what the sweep's pre-filter does)."""
    checked = 0
    for n, raw in enumerate(path.read_bytes().splitlines(), 1):
        try:
            ev = parser.parse(raw, n)
        except MalformedLine:
            continue
        if ev is None:
            continue
        for p in paths:
            if not parser.verbatim(p):
                continue
            for v in values_at(ev.objects, p):
                assert isinstance(v, str), (p, v)
                assert orjson.dumps(v) in raw, (p, v, raw)
                checked += 1
    return checked


COMMON_PATHS = [
    "domain-name:value",
    "ipv4-addr:value",
    "ipv6-addr:value",
    "url:value",
    "email-addr:value",
    "file:name",
    "file:hashes.'SHA-256'",
    "file:hashes.'SHA-1'",
    "file:hashes.MD5",
    "file:mime_type",
    "x509-certificate:hashes.'SHA-256'",
    "x509-certificate:hashes.'SHA-1'",
    "x509-certificate:subject",
    "x509-certificate:serial_number",
    "network-traffic:dst_ref.value",
    "network-traffic:src_ref.value",
    "domain-name:resolves_to_refs[*].value",
    "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'",
    "network-traffic:extensions.'http-request-ext'.request_value",
    "process:binary_ref.name",
    "process:name",
]


@pytest.mark.parametrize(
    "log, fmt, mapping",
    [
        ("workload-sample.jsonl", "jsonl", WORKLOAD_MAP),
        ("eve.json", "auto", None),
        ("ecs.ndjson", "auto", None),
        ("zeek-json/dns.log", "auto", None),
        ("zeek-json/mixed.log", "zeek", None),
    ],
)
def test_verbatim_promise_holds_on_every_sample_line(log, fmt, mapping):
    parser = sniff(LOGS / log, fmt, mapping)
    assert parser.json_lines
    assert assert_verbatim_promise(parser, LOGS / log, COMMON_PATHS) > 5


def test_verbatim_is_false_where_values_are_built():
    eve = sniff(LOGS / "eve.json")
    assert eve.verbatim("domain-name:value")  # rrname, CNAME rdata, hostname, sni: all unchanged strings
    assert not eve.verbatim("url:value")  # http://hostname + url
    assert not eve.verbatim("file:name")  # basename of fileinfo.filename
    assert not eve.verbatim("x509-certificate:hashes.'SHA-1'")  # colons removed
    assert sniff(LOGS / "zeek-json" / "mixed.log").format == "zeek"  # the name does not tell: every kind
    zeek_any = sniff(LOGS / "zeek-json" / "mixed.log", "zeek")
    assert not zeek_any.verbatim("url:value")
    zeek_dns = sniff(LOGS / "zeek-json" / "dns.log")
    assert zeek_dns.format == "zeek-dns" and zeek_dns.verbatim("domain-name:value")
    for tsv in ("conn.log", "dns.log"):
        p = sniff(LOGS / "zeek" / tsv)
        assert p.json_lines is False and p.verbatim("domain-name:value") is False
    assert sniff(LOGS / "proxy.csv", "csv", LOGS / "proxy.map.toml").verbatim("url:value") is False


# ------------------------------------------------------------------ Zeek


def events_of(results: list) -> list[Event]:
    return [r for r in results if isinstance(r, Event)]


def test_zeek_conn_tsv():
    parser = sniff(LOGS / "zeek" / "conn.log")
    assert parser.format == "zeek-conn" and parser.json_lines is False
    res = parse_all(parser, LOGS / "zeek" / "conn.log")
    assert res[:8] == [None] * 8 and res[-1] is None  # header and #close
    evs = events_of(res)
    assert len(evs) == 5
    first = evs[0]
    assert first.line == 9
    assert first.ts == datetime(2024, 3, 1, 10, 0, 0, 123456, tzinfo=UTC)
    nt = by_type(first, "network-traffic")[0]
    assert nt["src_port"] == 49822 and nt["dst_port"] == 80 and nt["protocols"] == ["tcp", "http"]
    assert nt["src_byte_count"] == 412 and nt["dst_byte_count"] == 482304
    assert first.objects[nt["src_ref"]]["value"] == "10.0.0.5"
    assert first.objects[nt["dst_ref"]] == {"type": "ipv4-addr", "value": "198.51.100.20"}
    assert by_type(evs[2], "network-traffic")[0]["protocols"] == ["tcp", "ssl", "http"]
    v6 = evs[3]
    assert [o["type"] for o in v6.objects.values()][:2] == ["ipv6-addr", "ipv6-addr"]
    assert "src_byte_count" not in by_type(v6, "network-traffic")[0]  # unset '-' is absent
    bad = [r for r in res if isinstance(r, MalformedLine)]
    assert len(bad) == 2
    assert "4 fields where the #fields header names 21" in str(bad[0])
    assert "'ts'" in str(bad[1])


def test_zeek_dns_tsv_answers_and_escapes():
    res = parse_all(sniff(LOGS / "zeek" / "dns.log"), LOGS / "zeek" / "dns.log")
    evs = events_of(res)
    q = evs[0]
    dn = [o for o in by_type(q, "domain-name") if o.get("resolves_to_refs")][0]
    assert dn["value"] == "evil.example.com"
    resolved = sorted((q.objects[k]["type"], q.objects[k]["value"]) for k in dn["resolves_to_refs"])
    assert resolved == [("domain-name", "cdn.evil.example.net"), ("ipv4-addr", "203.0.113.7")]
    aaaa = evs[1]
    assert {"type": "ipv6-addr", "value": "2001:db8::10"} in aaaa.objects.values()
    nx = evs[2]
    assert by_type(nx, "domain-name") == [{"type": "domain-name", "value": "nonexistent.example.org"}]
    txt = evs[3]  # TXT answers are neither addresses nor names
    assert by_type(txt, "domain-name") == [{"type": "domain-name", "value": "example.com"}]
    escaped = evs[5]
    assert by_type(escaped, "domain-name")[0]["value"] == "odd\tname.example"
    assert "id.orig_p" in str([r for r in res if isinstance(r, MalformedLine)][0])


def test_zeek_http_files_ssl_x509_tsv():
    http = events_of(parse_all(sniff(LOGS / "zeek" / "http.log"), LOGS / "zeek" / "http.log"))
    assert by_type(http[0], "url")[0]["value"] == "http://download.example.net/files/setup.exe?id=42"
    ext = by_type(http[0], "network-traffic")[0]["extensions"]["http-request-ext"]
    assert ext["request_method"] == "GET" and ext["request_value"] == "/files/setup.exe?id=42"
    assert ext["request_header"]["User-Agent"].startswith("Mozilla/5.0 (Windows NT 10.0")
    assert by_type(http[1], "domain-name") == []  # Host is an IP literal
    assert by_type(http[1], "url")[0]["value"] == "http://192.0.2.10:8080/gate.php"
    assert by_type(http[2], "domain-name")[0]["value"] == "proxy.example.org"  # port stripped
    assert by_type(http[2], "url")[0]["value"] == "http://upstream.example.com/a.js"  # absolute-form URI

    files = events_of(parse_all(sniff(LOGS / "zeek" / "files.log"), LOGS / "zeek" / "files.log"))
    f = by_type(files[0], "file")[0]
    assert f == {
        "type": "file",
        "name": "setup.exe",
        "mime_type": "application/x-dosexec",
        "size": 482304,
        "hashes": {
            "MD5": "5d41402abc4b2a76b9719d911017c592",
            "SHA-1": "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d",
            "SHA-256": "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
        },
    }
    assert by_type(files[1], "file")[0]["size"] == 1302  # total_bytes unset: seen_bytes

    ssl = events_of(parse_all(sniff(LOGS / "zeek" / "ssl.log"), LOGS / "zeek" / "ssl.log"))
    assert by_type(ssl[0], "domain-name")[0]["value"] == "login.example.com"
    assert len(by_type(ssl[0], "x509-certificate")) == 2
    assert by_type(ssl[1], "x509-certificate") == [] and by_type(ssl[1], "domain-name") == []

    x509 = events_of(parse_all(sniff(LOGS / "zeek" / "x509.log"), LOGS / "zeek" / "x509.log"))
    cert = x509[1].objects["0"]
    assert cert["hashes"]["SHA-256"].startswith("67add116")
    assert cert["validity_not_before"] == "2020-09-04T00:00:00.000Z"
    assert cert["subject_public_key_exponent"] == 65537
    assert cert["issuer"] == "CN=ISRG Root X1,O=Internet Security Research Group,C=US"


def test_zeek_json_same_objects_as_tsv():
    tsv = events_of(parse_all(sniff(LOGS / "zeek" / "dns.log"), LOGS / "zeek" / "dns.log"))
    res = parse_all(sniff(LOGS / "zeek-json" / "dns.log"), LOGS / "zeek-json" / "dns.log")
    js = events_of(res)
    assert js[0].objects == tsv[0].objects and js[0].ts == tsv[0].ts
    assert js[1].objects == tsv[2].objects
    assert js[2].ts == datetime(2024, 3, 1, 10, 0, 3, 100000, tzinfo=UTC)  # ISO 8601 ts
    assert isinstance(res[3], MalformedLine) and "not JSON" in str(res[3])


def test_zeek_json_mixed_paths():
    parser = sniff(LOGS / "zeek-json" / "mixed.log", "zeek")
    res = parse_all(parser, LOGS / "zeek-json" / "mixed.log")
    kinds = [sorted({o["type"] for o in r.objects.values()}) for r in res if isinstance(r, Event)]
    assert kinds[0] == ["ipv4-addr", "network-traffic"]
    assert "url" in kinds[1] and "file" in kinds[2] and "x509-certificate" in kinds[3]
    assert kinds[4] == ["x509-certificate"]
    assert isinstance(res[5], UnknownRecord) and "'weird'" in str(res[5])
    tsv_cert = events_of(parse_all(sniff(LOGS / "zeek" / "x509.log"), LOGS / "zeek" / "x509.log"))[0]
    assert res[4].objects == tsv_cert.objects  # ISO validity and int version in JSON, epoch and text in TSV


def test_zeek_json_without_path_guesses_kind(tmp_path):
    recs = [json.loads(x) for x in (LOGS / "zeek-json" / "mixed.log").read_text().splitlines()]
    lines = []
    for r in recs[:5]:
        r.pop("_path")
        lines.append(json.dumps(r))
    log = tmp_path / "zeek.json"
    log.write_text("\n".join(lines) + "\n")
    parser = sniff(log)
    assert parser.format == "zeek"
    evs = events_of(parse_all(parser, log))
    assert "url" in {o["type"] for o in evs[1].objects.values()}
    assert "file" in {o["type"] for o in evs[2].objects.values()}


def test_zeek_tsv_with_fields_header_only_and_crlf(tmp_path):
    log = tmp_path / "dns.log"
    log.write_bytes(
        b"#fields\tts\tid.orig_h\tquery\tanswers\r\n"
        b"1709287201.004211\t10.0.0.5\tevil.example.com\t203.0.113.7,cdn.example.net\r\n"
    )
    parser = sniff(log)
    assert parser.format == "zeek-dns"  # kind from the file name, types default to string
    ev = parser.parse(log.read_bytes().splitlines(keepends=True)[1], 2)
    values = sorted(o["value"] for o in ev.objects.values() if "value" in o)
    assert values == ["10.0.0.5", "203.0.113.7", "cdn.example.net", "evil.example.com"]  # answers split


def test_json_byte_order_mark_and_crlf(tmp_path):
    log = tmp_path / "eve.json"
    lines = (LOGS / "eve.json").read_bytes().splitlines()[:2]
    log.write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(lines) + b"\r\n")
    parser = sniff(log)
    assert parser.format == "eve"
    evs = events_of(parse_all(parser, log))
    assert len(evs) == 2


def test_zeek_tsv_with_a_byte_order_mark(tmp_path):
    # a log saved by a Windows editor: the BOM is before "#separator", and the header is still a header
    data = (LOGS / "zeek" / "dns.log").read_bytes()
    log = tmp_path / "dns.log"
    log.write_bytes(b"\xef\xbb\xbf" + data)
    parser = sniff(log)
    assert parser.format == "zeek-dns"
    with_bom, plain = parse_all(parser, log), parse_all(parser, LOGS / "zeek" / "dns.log")
    assert with_bom[0] is None
    assert [str(x) for x in with_bom if isinstance(x, MalformedLine)] == [
        str(x) for x in plain if isinstance(x, MalformedLine)
    ]  # the sample's one broken line only
    assert [e.objects for e in events_of(with_bom)] == [e.objects for e in events_of(plain)]


def test_a_first_record_longer_than_the_sniffed_head_is_read_to_its_end(tmp_path):
    log = tmp_path / "alerts.json"
    first = orjson.dumps({"@timestamp": "2024-05-01T00:00:00Z", "source": {"ip": "10.0.0.1"},
                          "user_agent": {"original": "A" * 200_000}})  # fmt: skip
    log.write_bytes(
        first + b"\n" + orjson.dumps({"@timestamp": "2024-05-01T00:00:01Z", "source": {"ip": "10.0.0.2"}}) + b"\n"
    )
    assert sniff(log).format == "ecs"
    gz = tmp_path / "alerts.json.gz"
    gz.write_bytes(gzip.compress(log.read_bytes()))
    assert sniff(gz).format == "ecs"


def test_bytes_that_are_not_utf8_spoil_one_value_not_the_line(tmp_path):
    # Latin-1 in a user agent: the line's addresses are still read, in JSON, Zeek TSV and CSV alike
    ecs = sniff(LOGS / "ecs.ndjson", "ecs")
    ev = ecs.parse(b'{"@timestamp": "2024-05-01T00:00:00Z", "source": {"ip": "203.0.113.9"}, '
                   b'"user_agent": {"original": "caf\xe9"}}', 1)  # fmt: skip
    assert [o["value"] for o in by_type(ev, "ipv4-addr")] == ["203.0.113.9"]
    with pytest.raises(MalformedLine, match="not JSON"):
        ecs.parse(b'{"@timestamp": "2024-05-01T00:00:00Z", "source": {"ip": "203.0.\xe9', 2)  # still broken JSON
    log = tmp_path / "dns.log"
    log.write_bytes(b"#fields\tts\tid.orig_h\tquery\n1709287201.0\t10.0.0.5\tcaf\xe9.example\n")
    ev = sniff(log).parse(log.read_bytes().splitlines()[1], 2)
    assert [o["value"] for o in by_type(ev, "ipv4-addr")] == ["10.0.0.5"]
    csv_log = tmp_path / "proxy.csv"
    lines = (LOGS / "proxy.csv").read_bytes().splitlines()
    csv_log.write_bytes(lines[0] + b"\n" + lines[1].replace(b"Mozilla", b"Mozill\xe0") + b"\n")
    parser = sniff(csv_log, mapping=LOGS / "proxy.map.toml")
    ev = parser.parse(csv_log.read_bytes().splitlines()[1], 2)
    assert [o["value"] for o in by_type(ev, "url")] == ["http://download.example.net/files/setup.exe?id=42"]
    assert sorted(o["value"] for o in by_type(ev, "ipv4-addr")) == ["10.0.0.5", "198.51.100.20"]


# ------------------------------------------------------------------ Suricata EVE


def test_eve():
    parser = sniff(LOGS / "eve.json")
    assert parser.format == "eve" and parser.json_lines
    res = parse_all(parser, LOGS / "eve.json")

    def domain(ev: Event) -> dict[str, Any]:
        return [
            o for o in by_type(ev, "domain-name") if "resolves_to_refs" in o or len(by_type(ev, "domain-name")) == 1
        ][0]

    def resolved(ev: Event) -> list[str]:
        return sorted(ev.objects[k]["value"] for k in domain(ev).get("resolves_to_refs", []))

    query, v2, v1, grouped, v3, http, http_ip, tls, fileinfo, flow, alert, ssh = res[:12]
    assert query.ts == datetime(2024, 3, 1, 10, 0, 1, 4211, tzinfo=UTC)
    assert domain(query)["value"] == "evil.example.com" and resolved(query) == []
    assert domain(v2)["value"] == "evil.example.com"
    assert resolved(v2) == ["203.0.113.7", "cdn.evil.example.net"]
    assert resolved(v1) == ["93.184.216.34"]
    assert resolved(grouped) == ["2001:db8::10"]
    assert domain(v3)["value"] == "v3.example.net" and resolved(v3) == ["198.51.100.33"]
    nt = by_type(query, "network-traffic")[0]
    assert nt["protocols"] == ["udp"] and nt["dst_port"] == 53

    assert by_type(http, "url")[0]["value"] == "http://download.example.net/files/setup.exe?id=42"
    ext = by_type(http, "network-traffic")[0]["extensions"]["http-request-ext"]
    assert ext["request_method"] == "GET" and ext["request_header"]["Referer"] == "http://www.example.com/"
    assert by_type(http_ip, "url")[0]["value"] == "http://192.0.2.10:8080/gate.php"
    assert by_type(http_ip, "domain-name") == []

    cert = by_type(tls, "x509-certificate")[0]
    assert cert["hashes"] == {"SHA-1": "3b45d90c6a1f228e90abcdef0123456789abcdef"}
    assert cert["validity_not_after"] == "2024-04-09T23:59:59.000Z"
    assert by_type(tls, "domain-name")[0]["value"] == "login.example.com"

    f = by_type(fileinfo, "file")[0]
    assert f["name"] == "setup.exe" and f["size"] == 482304 and len(f["hashes"]) == 3
    assert by_type(fileinfo, "url")[0]["value"].endswith("/files/setup.exe?id=42")

    nt = by_type(flow, "network-traffic")[0]
    assert (nt["src_byte_count"], nt["dst_byte_count"], nt["src_packets"], nt["dst_packets"]) == (1834, 6120, 12, 10)
    assert nt["protocols"] == ["tcp", "tls"]
    assert by_type(alert, "domain-name")[0]["value"] == "c2.badactor.cloud"
    assert {o["value"] for o in by_type(ssh, "ipv4-addr")} == {"10.0.0.9", "192.0.2.200"}  # other event types

    stats, trunc, array, badts, blank = res[12:]
    assert isinstance(stats, UnknownRecord)
    assert isinstance(trunc, MalformedLine) and not isinstance(trunc, UnknownRecord)
    assert "not a JSON object" in str(array)
    assert "unparseable timestamp 'yesterday'" in str(badts)
    assert blank is None


# ------------------------------------------------------------------ ECS


def test_ecs_nested_and_dotted():
    parser = sniff(LOGS / "ecs.ndjson")
    assert parser.format == "ecs"
    res = parse_all(parser, LOGS / "ecs.ndjson")
    dns, web, endpoint, tls, mail, hostonly, strport, badts, nots, badport, trunc = res

    dn = [o for o in by_type(dns, "domain-name") if "resolves_to_refs" in o][0]
    assert dn["value"] == "evil.example.com"
    assert [dns.objects[k]["value"] for k in dn["resolves_to_refs"]] == ["203.0.113.7"]
    assert by_type(dns, "network-traffic")[0]["protocols"] == ["udp", "dns"]

    # dotted keys ("source.ip": …) read like nested objects
    assert web.ts == datetime(2024, 3, 1, 10, 0, 0, 337000, tzinfo=UTC)
    assert by_type(web, "url")[0]["value"] == "http://download.example.net/files/setup.exe?id=42"
    nt = by_type(web, "network-traffic")[0]
    assert nt["dst_port"] == 80
    assert nt["extensions"]["http-request-ext"]["request_header"]["User-Agent"].startswith("Mozilla/5.0")
    assert web.objects[nt["dst_ref"]]["value"] == "198.51.100.20"

    f = [o for o in by_type(endpoint, "file") if o["name"] == "setup.exe"][0]
    assert f["hashes"]["SHA-256"].startswith("2c26b46b") and f["size"] == 482304
    proc = by_type(endpoint, "process")[0]
    assert proc["pid"] == 4242 and endpoint.objects[proc["binary_ref"]]["name"] == "chrome.exe"

    assert by_type(tls, "ipv6-addr")[0]["value"] == "2001:db8::7"
    cert = by_type(tls, "x509-certificate")[0]
    assert cert["subject"] == "CN=login.example.com" and cert["hashes"]["SHA-1"].startswith("3b45")

    assert sorted(o["value"] for o in by_type(mail, "email-addr")) == [
        "alice@corp.example",
        "billing@invoices.example.biz",
        "bob@corp.example",
    ]
    assert isinstance(hostonly, UnknownRecord)
    assert by_type(strport, "network-traffic")[0]["dst_port"] == 3389  # "3389" as ECS writers sometimes do
    assert by_type(strport, "network-traffic")[0]["protocols"] == ["tcp"]
    assert "unparseable timestamp" in str(badts)
    assert "no timestamp" in str(nots)
    assert "dst_port" in str(badport)
    assert "not JSON" in str(trunc)


# ------------------------------------------------------------------ CSV


def test_csv_with_column_map():
    parser = sniff(LOGS / "proxy.csv", "csv", LOGS / "proxy.map.toml")
    assert parser.format == "csv" and parser.json_lines is False
    res = parse_all(parser, LOGS / "proxy.csv")
    header, first, second, connect, blank, short, badint = res
    assert header is None and blank is None
    assert by_type(first, "url")[0]["value"] == "http://download.example.net/files/setup.exe?id=42"
    ua = by_type(first, "network-traffic")[0]["extensions"]["http-request-ext"]["request_header"]["User-Agent"]
    assert ua.startswith("Mozilla/5.0 (Windows NT 10.0; Win64; x64)")  # quoted field holding commas
    assert by_type(second, "domain-name") == []  # not_ip: the host is an address
    assert by_type(connect, "url") == []  # empty cell: absent
    assert "6 columns where 10 are expected" in str(short)
    assert "dst_port" in str(badint)


def test_csv_without_header_uses_mapping_columns(tmp_path):
    log = tmp_path / "fw.csv"
    log.write_text("1709287200;10.0.0.5;203.0.113.9;443\n1709287201;10.0.0.6;bad\n")
    mp = tmp_path / "fw.map.toml"
    mp.write_text(
        'timestamp = "t"\n[csv]\ndelimiter = ";"\ncolumns = ["t", "src", "dst", "port"]\n'
        '[records.fw]\n[[records.fw.objects]]\nid = "d"\ntype = "ip-addr"\nvalue = "dst"\n'
        '[[records.fw.objects]]\ntype = "network-traffic"\ndst_ref = { ref = "d" }\n'
        'dst_port = { field = "port", type = "int" }\n'
    )
    parser = sniff(log, "auto", mp)
    assert parser.format == "csv"
    ev = parser.parse(log.read_bytes().splitlines()[0], 1)
    assert ev.ts == datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
    assert ev.objects == {
        "0": {"type": "ipv4-addr", "value": "203.0.113.9"},
        "1": {"type": "network-traffic", "dst_port": 443, "dst_ref": "0"},
    }
    with pytest.raises(MalformedLine, match="3 columns where 4"):
        parser.parse(b"1709287201;10.0.0.6;bad\n", 2)


def test_parse_time():
    from accord.detect.readers import parse_time

    t = datetime(2024, 3, 1, 10, 0, 0, 123000, tzinfo=UTC)
    assert parse_time("2024-03-01T10:00:00.123Z") == t
    assert parse_time("2024-03-01T10:00:00.123000+0000") == t  # Suricata
    assert parse_time("2024-03-01T11:00:00.123+01:00") == t
    assert parse_time("2024-03-01 10:00:00.123") == t  # naive: UTC
    assert parse_time(1709287200.123) == t
    assert parse_time("1709287200.123") == t
    assert parse_time(1709287200123) == t  # epoch milliseconds (Zeek JSON::TS_MILLIS)
    assert parse_time("1709287200123", "epoch_ms") == t
    for bad, how in [
        ("yesterday", "auto"),
        (True, "auto"),
        (None, "auto"),
        (1709287200, "iso8601"),
        ("2024-03-01", "epoch"),
    ]:
        with pytest.raises(ValueError):
            parse_time(bad, how)


# ------------------------------------------------------------------ mapping language


def write_map(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "m.map.toml"
    p.write_text(text)
    return p


def test_mapping_features(tmp_path):
    mp = write_map(
        tmp_path,
        """
select = "kind"
timestamp = "when"
timestamp_format = "epoch_ms"
[records.lookup]
when = ["lookup", "LOOKUP"]
[[records.lookup.objects]]
id = "ips"
type = "ip-addr"
each = "ips"
split = "|"
value = { item = true }
[[records.lookup.objects]]
type = "domain-name"
value = { field = "name", transform = ["strip", "lower"] }
resolves_to_refs = { refs = ["ips"] }
[[records.lookup.objects]]
type = "url"
value = { template = "https://{name}/{path}" }
[[records.lookup.objects]]
type = "x-custom"
tags = { field = "tags", split = "," }
score = { field = "score", type = "float" }
flag = { field = "flag", type = "bool" }
nested.deep.value = "n.a.b"
[records."*"]
[[records."*".objects]]
type = "ipv4-addr"
value = "ip"
""",
    )
    m = load_mapping(mp)
    assert m.name == "m"
    rec = {
        "kind": "LOOKUP",
        "when": 1709287200123,
        "ips": "198.51.100.1|2001:db8::1",
        "name": " Example.COM ",
        "path": "x",
        "tags": "a,b",
        "score": "0.5",
        "flag": "T",
        "n": {"a": {"b": 7}},
    }
    ev = m.event(rec, 3, {})
    assert ev.ts == datetime(2024, 3, 1, 10, 0, 0, 123000, tzinfo=UTC)
    objs = ev.objects
    assert objs["0"] == {"type": "ipv4-addr", "value": "198.51.100.1"}
    assert objs["1"] == {"type": "ipv6-addr", "value": "2001:db8::1"}
    assert objs["2"] == {"type": "domain-name", "value": "example.com", "resolves_to_refs": ["0", "1"]}
    assert objs["3"] == {"type": "url", "value": "https:// Example.COM /x"}
    assert objs["4"] == {
        "type": "x-custom",
        "tags": ["a", "b"],
        "score": 0.5,
        "flag": True,
        "nested": {"deep": {"value": 7}},
    }
    # no ips: the domain keeps no dangling refs; template with a missing field: no url
    ev = m.event({"kind": "lookup", "when": 0, "name": "a.example"}, 1, {})
    assert ev.objects == {"0": {"type": "domain-name", "value": "a.example"}}
    # the default kind "*"
    assert m.event({"kind": "other", "when": 0, "ip": "192.0.2.1"}, 1, {}).objects["0"]["value"] == "192.0.2.1"
    with pytest.raises(UnknownRecord):
        m.event({"kind": "other", "when": 0}, 1, {})
    with pytest.raises(MalformedLine, match="flag"):
        m.event({"kind": "lookup", "when": 0, "name": "a.example", "flag": "maybe"}, 1, {})
    assert not m.verbatim("ipv6-addr:value")  # split out of a string
    assert not m.verbatim("domain-name:value")  # transformed
    assert not m.verbatim("url:value")  # templated
    assert m.verbatim("x-custom:nested.deep.value")  # a field as it is


def test_workload_map_rejects_unknown_kind_and_missing_fields(workload):
    parser, raws, _ = workload
    with pytest.raises(UnknownRecord, match="'smtp'"):
        parser.parse(b'{"ts":"2024-03-01T00:00:00.000Z","type":"smtp"}', 1)
    with pytest.raises(UnknownRecord, match="no 'type' field"):
        parser.parse(b'{"ts":"2024-03-01T00:00:00.000Z"}', 1)
    with pytest.raises(MalformedLine, match="no timestamp"):
        parser.parse(b'{"type":"dns","query":"a.example"}', 1)
    ev = parser.parse(b'{"ts":"2024-03-01T00:00:00.000Z","type":"dns","query":"a.example"}', 7)
    assert ev.objects == {"0": {"type": "domain-name", "value": "a.example"}}
    assert parser.parse(b"\n", 2) is None and parser.parse(b"   \r\n", 3) is None


@pytest.mark.parametrize(
    "text, message",
    [
        ("records = 1", "records"),
        ('name = "x"', r"no \[records\.KIND\]"),
        ("[records.a]\n[[records.a.objects]]\ntype = 'ipv4-addr'\nvalue = 3", "const"),
        ("[records.a]\n[[records.a.objects]]\ntype = 'Bad Type'\nvalue = 'v'", "not a STIX object type"),
        ("[records.a]\n[[records.a.objects]]\ntype = 'url'\nvalue = { field = 'v', transform = 'rot13' }", "rot13"),
        ("[records.a]\n[[records.a.objects]]\ntype = 'url'\nvalue = { field = 'v', type = 'date' }", "'date'"),
        ("[records.a]\n[[records.a.objects]]\ntype = 'url'\nvalue = { ref = 'nope' }", "unknown object id 'nope'"),
        ("[records.a]\n[[records.a.objects]]\ntype = 'url'\nvalue = { item = true }", "each"),
        ("[records.a]\n[[records.a.objects]]\ntype = 'url'\nvalue = { field = 'a', const = 1 }", "exactly one"),
        (
            "[records.a]\n[[records.a.objects]]\ntype = 'url'\n[records.b]\n[[records.b.objects]]\ntype = 'url'",
            "no property",
        ),
        (
            "[records.a]\n[[records.a.objects]]\ntype='url'\nvalue='v'\n[records.b]\n[[records.b.objects]]\ntype='url'\nvalue='v'",
            "select",
        ),
        ("selec = 'type'\n[records.a]\n[[records.a.objects]]\ntype='url'\nvalue='v'", "selec"),
        ("timestamp_format = 'rfc'\n[records.a]\n[[records.a.objects]]\ntype='url'\nvalue='v'", "timestamp_format"),
        ("[csv]\ndelimiter = ';;'\n[records.a]\n[[records.a.objects]]\ntype='url'\nvalue='v'", "one character"),
        ("this is = not toml", "not valid TOML"),
    ],
)
def test_bad_mappings_are_refused_with_the_place(tmp_path, text, message):
    with pytest.raises(InvalidInput, match=message) as e:
        load_mapping(write_map(tmp_path, text))
    assert "m.map.toml" in str(e.value)


def test_missing_mapping_file():
    with pytest.raises(InvalidInput, match="does not exist"):
        load_mapping("/nonexistent/x.toml")


# ------------------------------------------------------------------ sniffing, compression, stdin


def test_sniff_errors(tmp_path):
    with pytest.raises(InvalidInput, match="--map"):
        sniff(LOGS / "workload-sample.jsonl")  # unknown JSON schema
    with pytest.raises(InvalidInput, match="needs a field mapping"):
        sniff(LOGS / "workload-sample.jsonl", "jsonl")
    with pytest.raises(InvalidInput, match="needs a field mapping"):
        sniff(LOGS / "proxy.csv", "csv")
    with pytest.raises(InvalidInput, match="cannot tell the format"):
        sniff(LOGS / "proxy.csv")
    with pytest.raises(InvalidInput, match="unknown log format 'syslog'"):
        sniff(LOGS / "proxy.csv", "syslog")
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    with pytest.raises(InvalidInput, match="empty"):
        sniff(empty)
    with pytest.raises(InvalidInput, match="does not exist"):
        sniff(tmp_path / "missing.log")
    notzeek = tmp_path / "x.log"
    notzeek.write_text("hello world\n")
    with pytest.raises(InvalidInput, match="Zeek"):
        sniff(notzeek, "zeek")
    assert set(FORMATS) == {"ecs", "zeek", "eve", "jsonl", "csv"}


def test_sniff_explicit_formats():
    assert sniff(LOGS / "ecs.ndjson", "ecs").format == "ecs"
    assert sniff(LOGS / "eve.json", "eve").format == "eve"
    assert sniff(LOGS / "zeek" / "ssl.log", "zeek").format == "zeek-ssl"
    assert sniff(LOGS / "workload-sample.jsonl", mapping=WORKLOAD_MAP).format == "workload"
    assert sniff(LOGS / "proxy.csv", mapping=LOGS / "proxy.map.toml").format == "csv"


@pytest.mark.parametrize("codec", ["gzip", "zstd"])
@pytest.mark.parametrize("name", ["eve.json", "zeek/dns.log", "zeek-json/dns.log", "ecs.ndjson"])
def test_compressed_logs(tmp_path, codec, name):
    plain = LOGS / name
    data = plain.read_bytes()
    target = tmp_path / (plain.name + (".gz" if codec == "gzip" else ".zst"))
    if codec == "gzip":
        # two members, as rotated and concatenated logs are
        half = len(data) // 2
        target.write_bytes(gzip.compress(data[:half]) + gzip.compress(data[half:]))
    else:
        target.write_bytes(zstandard.ZstdCompressor().compress(data))
    with open_log(target) as fh:
        assert fh.read() == data
    assert is_seekable(plain) and not is_seekable(target)
    p1, p2 = sniff(plain), sniff(target)
    assert p1.format == p2.format
    with open_log(target) as fh:
        got = []
        for n, raw in enumerate(fh, 1):
            try:
                ev = p2.parse(raw, n)
            except MalformedLine as e:
                got.append(type(e).__name__)
                continue
            got.append(ev.objects if ev else None)
    want = [
        type(r).__name__ if isinstance(r, MalformedLine) else (r.objects if r else None) for r in parse_all(p1, plain)
    ]
    assert got == want


@pytest.mark.parametrize("codec", ["gzip", "zstd"])
def test_cut_off_compressed_log_reads_up_to_the_cut(tmp_path, codec):
    data = b"".join(
        b'{"timestamp":"2024-03-01T10:00:00.000000+0000","event_type":"flow","src_ip":"10.0.%d.%d","n":%d}\n'
        % (i % 256, i % 250, i * 7919 % 100003)
        for i in range(50_000)
    )
    packed = gzip.compress(data) if codec == "gzip" else zstandard.ZstdCompressor().compress(data)
    log = tmp_path / "cut.log"
    log.write_bytes(packed[: len(packed) // 2])
    with open_log(log) as fh:
        lines = fh.read().split(b"\n")
        damage = fh.damage
    assert 1000 < len(lines) < 50_000
    assert all(x == y for x, y in zip(lines[:-1], data.split(b"\n"), strict=False))  # a prefix of the original
    if codec == "gzip":
        assert damage is not None and "gzip data ends early" in damage
    log.write_bytes(packed)
    with open_log(log) as fh:
        assert fh.read() == data and fh.damage is None


def test_is_seekable_stdin_and_pipes(tmp_path):
    assert is_seekable("-") is False
    assert is_seekable(tmp_path / "missing") is False
    assert is_seekable(tmp_path) is False  # a directory


@pytest.mark.parametrize("compress", [False, True])
def test_stdin(compress):
    data = (LOGS / "eve.json").read_bytes()
    if compress:
        data = gzip.compress(data)
    code = (
        "from accord.detect.readers import sniff, open_log, MalformedLine\n"
        "p = sniff('-')\n"
        "n = ok = 0\n"
        "for n, raw in enumerate(open_log('-'), 1):\n"
        "    try:\n"
        "        ok += p.parse(raw, n) is not None\n"
        "    except MalformedLine:\n"
        "        pass\n"
        "print(p.format, n, ok)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True, timeout=60, check=True)
    assert out.stdout.split() == [b"eve", b"17", b"12"]


def test_stdin_sniff_does_not_wait_for_more_than_one_line():
    code = (
        "from accord.detect.readers import sniff, open_log\n"
        "p = sniff('-')\n"
        "print(p.format, flush=True)\n"
        "print(sum(1 for _ in open_log('-')), flush=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        proc.stdin.write((LOGS / "eve.json").read_bytes().splitlines(keepends=True)[0])
        proc.stdin.flush()
        assert select.select([proc.stdout], [], [], 60)[0], "sniff('-') waited for more input"
        assert proc.stdout.readline() == b"eve\n"  # sniffed from one line while stdin stays open
        proc.stdin.write(b"{}\n")
        proc.stdin.close()
        assert select.select([proc.stdout], [], [], 60)[0]
        assert proc.stdout.readline() == b"2\n"  # the sniffed line is read again, then the rest
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_parsers_pickle_and_need_no_earlier_lines():
    cases = [
        (LOGS / "zeek" / "conn.log", "auto", None),
        (LOGS / "zeek" / "dns.log", "auto", None),
        (LOGS / "eve.json", "auto", None),
        (LOGS / "ecs.ndjson", "auto", None),
        (LOGS / "proxy.csv", "csv", LOGS / "proxy.map.toml"),
        (LOGS / "workload-sample.jsonl", "jsonl", WORKLOAD_MAP),
    ]
    for path, fmt, mp in cases:
        parser = sniff(path, fmt, mp)
        clone = pickle.loads(pickle.dumps(parser))
        forward = parse_all(parser, path)
        lines = path.read_bytes().splitlines(keepends=True)
        backward = []
        for n in range(len(lines), 0, -1):  # last line first, in a fresh copy
            try:
                backward.append(clone.parse(lines[n - 1], n))
            except MalformedLine as e:
                backward.append(e)
        backward.reverse()
        assert [_outcome(x) for x in forward] == [_outcome(x) for x in backward], path


def _outcome(x: Any) -> Any:
    if isinstance(x, Event):
        return (x.line, x.ts, x.objects, x.source)
    if isinstance(x, MalformedLine):
        return (type(x).__name__, str(x))
    return x


JSON_SAMPLES = [
    ("workload-sample.jsonl", "jsonl", WORKLOAD_MAP),
    ("eve.json", "auto", None),
    ("ecs.ndjson", "auto", None),
    ("zeek-json/dns.log", "auto", None),
    ("zeek-json/mixed.log", "zeek", None),
]


@pytest.mark.parametrize("log, fmt, mapping", JSON_SAMPLES)
def test_compiled_builders_equal_the_interpreter(log, fmt, mapping):
    parser = sniff(LOGS / log, fmt, mapping)
    compared = 0
    for raw in (LOGS / log).read_bytes().splitlines():
        try:
            rec = orjson.loads(raw)
            kind = parser.kind_of(rec) if parser.kind_of is not None else None
            r = parser.mapping.record_for(rec, kind)
        except (orjson.JSONDecodeError, MalformedLine, AttributeError):
            continue
        if r.prepare is not None:
            r.prepare(rec)
        assert _try(r.build, rec) == _try(build_objects, rec, r), raw
        compared += 1
    assert compared >= 3


def _try(f: Any, *args: Any) -> Any:
    try:
        return f(*args)
    except MalformedLine as e:
        return ("MalformedLine", str(e))


def test_compiled_builder_of_every_feature(tmp_path):
    m = load_mapping(
        write_map(
            tmp_path,
            """
[records.x]
[[records.x.objects]]
id = "a"
type = "ip-addr"
each = "ips"
value = { item = "addr" }
[[records.x.objects]]
id = "b"
type = "domain-name"
value = { field = ["name", "alt.name"] }
resolves_to_refs = { refs = ["a", "c"] }
[[records.x.objects]]
id = "c"
type = "domain-name"
value = "cname"
[[records.x.objects]]
type = "network-traffic"
dst_ref = { ref = "a" }
protocols = { const = ["tcp"] }
extensions.x-ext.deep.k = { field = "k", type = "int" }
[[records.x.objects]]
type = "x-only-const"
tag = { const = { k = [1, 2] } }
""",
        )
    )
    r = m.default
    for rec in [
        {"ips": [{"addr": "192.0.2.1"}, {"addr": "2001:db8::1"}, {"other": 1}], "alt": {"name": "n.example"}, "k": "5"},
        {"ips": {"addr": "192.0.2.9"}, "name": "", "alt.name": "dotted.example", "cname": "c.example"},
        {"name": "only.example"},
        {"k": 3},
        {"ips": [], "cname": "c.example"},
        {"k": "five"},
    ]:
        assert _try(r.build, dict(rec)) == _try(build_objects, dict(rec), r), rec
    objs = r.build({"ips": [{"addr": "192.0.2.1"}], "k": 5})
    assert objs["1"]["extensions"] == {"x-ext": {"deep": {"k": 5}}} and objs["1"]["dst_ref"] == "0"
    with pytest.raises(MalformedLine, match="extensions.x-ext.deep.k"):
        r.build({"k": "five"})


def test_zeek_tsv_fast_decoder_equals_the_written_out_one():
    for name in ("conn.log", "dns.log", "http.log", "files.log", "ssl.log", "x509.log"):
        parser = sniff(LOGS / "zeek" / name)
        for raw in (LOGS / "zeek" / name).read_text().splitlines():
            parts = raw.split("\t")
            if raw.startswith("#") or len(parts) != parser.n:
                continue
            try:
                fast = parser._decode(parts)
            except ValueError:
                with pytest.raises(MalformedLine):
                    parser._decode_slowly(parts)
                continue
            assert fast == parser._decode_slowly(parts), raw


def test_mapping_objects_are_picklable():
    m = load_mapping(WORKLOAD_MAP)
    assert isinstance(pickle.loads(pickle.dumps(m)), Mapping)


# ------------------------------------------------------------------ speed (run as a script)


def _bench(events: Path | None) -> None:
    import tempfile

    if events is not None and events.exists():
        p = sniff(events, "jsonl", WORKLOAD_MAP)
        with open(events, "rb") as fh:
            lines = fh.readlines()
        t = time.perf_counter()
        for raw in lines:
            orjson.loads(raw)
        dt = time.perf_counter() - t
        print(f"orjson.loads alone: {len(lines):,} lines in {dt:.2f} s = {len(lines) / dt:,.0f} lines/s")
        t = time.perf_counter()
        for n, raw in enumerate(lines, 1):
            p.parse(raw, n)
        dt = time.perf_counter() - t
        print(f"workload jsonl: {len(lines):,} lines in {dt:.2f} s = {len(lines) / dt:,.0f} lines/s")
    header = (LOGS / "zeek" / "conn.log").read_text().split("\n")[:8]
    row = (LOGS / "zeek" / "conn.log").read_text().split("\n")[8].split("\t")
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "conn.log"
        with open(path, "w") as fh:
            fh.write("\n".join(header) + "\n")
            for i in range(200_000):
                row[0] = f"{1709287200 + i * 0.01:.6f}"
                row[2] = f"10.{i % 32}.{(i >> 5) % 256}.{i % 250 + 1}"
                row[3] = str(1024 + i % 60000)
                fh.write("\t".join(row) + "\n")
        p = sniff(path)
        with open(path, "rb") as fh:
            lines = fh.readlines()
        t = time.perf_counter()
        n_ev = 0
        for n, raw in enumerate(lines, 1):
            n_ev += p.parse(raw, n) is not None
        dt = time.perf_counter() - t
        print(f"zeek conn TSV: {n_ev:,} events in {dt:.2f} s = {n_ev / dt:,.0f} lines/s")


if __name__ == "__main__":
    _bench(Path(sys.argv[1]) if len(sys.argv) > 1 else None)


def test_events_carry_when_they_ended(tmp_path):
    """Zeek's duration and ECS's event.end become Event.last_ts; an absent or unreadable one leaves an instant."""
    evs = events_of(parse_all(sniff(LOGS / "zeek" / "conn.log"), LOGS / "zeek" / "conn.log"))
    http, _, tls, v6 = evs[0], evs[1], evs[2], evs[3]
    assert (http.last_ts - http.ts).total_seconds() == pytest.approx(0.214331, abs=1e-6)
    assert (tls.last_ts - tls.ts).total_seconds() == pytest.approx(12.50012, abs=1e-6)
    assert v6.last_ts is None  # duration '-'

    ecs = tmp_path / "ecs.ndjson"
    base = {"source": {"ip": "10.0.0.5"}, "destination": {"ip": "203.0.113.50"}}
    ecs.write_text("\n".join(json.dumps({"@timestamp": ts, "event": ev, **base}) for ts, ev in [
        ("2024-03-01T10:00:00Z", {"end": "2024-03-01T10:00:30Z"}),
        ("2024-03-01T10:00:00Z", {"end": "not a time"}),
        ("2024-03-01T10:00:00Z", {"end": "2024-03-01T09:00:00Z"}),
    ]) + "\n")  # fmt: skip
    spanned, unreadable, backwards = events_of(parse_all(sniff(ecs), ecs))
    assert (spanned.last_ts - spanned.ts).total_seconds() == 30
    assert unreadable.last_ts is None and backwards.last_ts is None

    mp = write_map(tmp_path, 'timestamp = "t"\nduration = "ms"\nduration_unit = "ms"\n'
                   '[[records.x.objects]]\ntype = "ipv4-addr"\nvalue = "ip"\n')  # fmt: skip
    log = tmp_path / "d.jsonl"
    log.write_text('{"t": "2024-03-01T10:00:00Z", "ms": 1500, "ip": "10.1.1.1"}\n')
    (ev,) = events_of(parse_all(sniff(log, "jsonl", mp), log))
    assert (ev.last_ts - ev.ts).total_seconds() == 1.5


def test_a_connection_lasts_its_duration_for_within():
    """WITHIN looks for a window that touches every observation's interval (stix2-matcher): a TLS
    connection lasting 12.5 s overlaps a later event 1 s window; as an instant at its start it would not."""
    from dataclasses import replace

    from accord.detect import compile as compile_matcher

    evs = events_of(parse_all(sniff(LOGS / "zeek" / "conn.log"), LOGS / "zeek" / "conn.log"))
    ind = {"type": "indicator", "spec_version": "2.1", "id": "indicator--00000000-0000-4000-8000-000000000001",
           "created": "2024-01-01T00:00:00Z", "modified": "2024-01-01T00:00:00Z", "pattern_type": "stix",
           "valid_from": "2024-01-01T00:00:00Z",
           "pattern": "([ipv4-addr:value = '203.0.113.50'] AND [ipv6-addr:value = 'ff02::fb']) WITHIN 1 SECONDS"}  # fmt: skip
    assert len(list(compile_matcher([ind]).scan(evs))) == 1
    instants = [replace(e, last_ts=None) for e in evs]
    assert list(compile_matcher([ind]).scan(instants)) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('timestamp = "t"\nend = "e"\nduration = "d"\n', "give end or duration, not both"),
        ('end = "e"\n', "end and duration need a timestamp field"),
        ('timestamp = "t"\nduration = "d"\nduration_unit = "min"\n', "duration_unit 'min' is not one of"),
    ],
)
def test_bad_end_settings_are_refused(tmp_path, text, message):
    mp = write_map(tmp_path, text + '[[records.x.objects]]\ntype = "ipv4-addr"\nvalue = "ip"\n')
    with pytest.raises(InvalidInput, match=message):
        load_mapping(mp)
