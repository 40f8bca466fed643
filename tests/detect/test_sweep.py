"""Sweeps find exactly what the reference matcher finds, event by event, on every path: the raw
pre-filter, parsing every line, several worker processes, and a tailed file."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import orjson
import pytest
from stix2matcher.matcher import Pattern as ReferencePattern

from accord.detect import compile as compile_matcher
from accord.detect.readers import sniff
from accord.detect.sweep import follow, sweep_file

ROOT = Path(__file__).resolve().parents[2]
MAP = ROOT / "bench" / "workload.map.toml"

IOC_DOMAINS = ["evil-one.example", "c2.bad.example", 'quote"d.example', "back\\slash.example", "ünïcode.example"]
IOC_IPS = ["203.0.113.7", "198.51.100.23"]
IOC_HASH = "a" * 64
IOC_URL = "http://dl.bad.example/x/payload.bin"


def _ind(n: int, pattern: str) -> dict:
    return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--00000000-0000-4000-8000-{n:012d}",
            "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z", "name": f"ind {n}",
            "pattern": pattern, "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z"}  # fmt: skip


def _q(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


SINGLE = [
    *[f"[domain-name:value = '{_q(d)}']" for d in IOC_DOMAINS],
    *[f"[ipv4-addr:value = '{ip}']" for ip in IOC_IPS],
    f"[file:hashes.'SHA-256' = '{IOC_HASH}']",
    f"[url:value = '{IOC_URL}']",
    "[ipv4-addr:value ISSUBSET '100.64.3.0/24']",
    "[network-traffic:dst_ref.value ISSUBSET '100.64.9.0/28' AND network-traffic:dst_port = 4444]",
    "[domain-name:value LIKE '%.likeme.ru']",
    "[url:value MATCHES '^https?://[a-z0-9.-]+/rx/[0-9a-f]{4}[.]bin$']",
    "[file:name = 'drop.exe' AND file:size > 100000]",
    "[domain-name:value = 'or-a.example' OR domain-name:value = 'or-b.example']",
    "[domain-name:value IN ('in-a.example', 'in-b.example')]",
]
NO_NEEDLE = ["[network-traffic:dst_port = 3389]", "[file:name != 'readme.txt' AND file:size > 4900000]"]
TEMPORAL = [
    "([domain-name:value = 'stage1.example'] FOLLOWEDBY [ipv4-addr:value = '192.0.2.99']) WITHIN 60 SECONDS",
    "[file:hashes.'SHA-256' = '" + "b" * 64 + "'] REPEATS 2 TIMES",
]


def _events(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    ts = 1_700_000_000_000
    out = []
    for _ in range(n):
        ts += rng.randint(1, 20_000)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts // 1000)) + f".{ts % 1000:03d}Z"
        kind = rng.choice(["dns", "http", "file", "flow"])
        ip = rng.choice(["8.8.8.8", "1.1.1.1", "100.64.3.77", "100.64.9.5", "100.64.9.99", *IOC_IPS, "192.0.2.99"])
        domain = rng.choice(["ok.example", "www.x.likeme.ru", "likeme.ru", "x" + IOC_DOMAINS[0], "or-b.example",
                             "in-a.example", "stage1.example", *IOC_DOMAINS])  # fmt: skip
        ev: dict = {"ts": stamp, "type": kind, "sensor": "ws-0001"}
        if kind == "dns":
            ev.update(src_ip="10.0.0.1", query=domain, qtype="A", answer=ip)
        elif kind == "http":
            url = rng.choice([IOC_URL, IOC_URL + "?q=1", "https://ok.example/rx/beef.bin", "https://a.b/rx/beefy.bin",
                              f"https://ok.example/redirect?to={IOC_DOMAINS[1]}"])  # fmt: skip
            ev.update(src_ip="10.0.0.2", dst_ip=ip, dst_port=rng.choice([80, 443, 4444]), method="GET", url=url,
                      http_host=domain, status=200, ua="Mozilla/5.0", bytes=1000)  # fmt: skip
        elif kind == "file":
            ev.update(path="C:\\Users\\u001\\Downloads", name=rng.choice(["drop.exe", "readme.txt", "a.dll"]),
                      size=rng.choice([5000, 200000, 4950000]), sha256=rng.choice([IOC_HASH, "b" * 64, "c" * 64]),
                      md5="d" * 32)  # fmt: skip
        else:
            ev.update(src_ip="10.0.0.3", src_port=50000, dst_ip=ip, dst_port=rng.choice([443, 4444, 3389]),
                      proto="tcp", bytes=40)  # fmt: skip
        out.append(ev)
    return out


def _write(path: Path, events: list[dict]) -> None:
    # mixed encoders: orjson (raw UTF-8), and ensure_ascii JSON with \\u escapes and escaped slashes
    import json

    with path.open("wb") as fh:
        for i, ev in enumerate(events):
            if i % 7 == 3:
                fh.write(json.dumps(ev).replace("/", "\\/").encode() + b"\n")
            else:
                fh.write(orjson.dumps(ev) + b"\n")


def _reference_single(indicators: list[dict], path: Path, parser) -> set[tuple[tuple[int, ...], str]]:
    compiled = [(ind["id"], ReferencePattern(ind["pattern"], "2.0")) for ind in indicators]
    found = set()
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            event = parser.parse(raw.rstrip(b"\n"), lineno)
            od = {"type": "observed-data", "id": "observed-data--00000000-0000-4000-8000-000000000000",
                  "first_observed": event.ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                  "last_observed": event.ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "number_observed": 1,
                  "objects": event.objects}  # fmt: skip
            for ind_id, pattern in compiled:
                if pattern.match([od]):
                    found.add(((lineno,), ind_id))
    return found


@pytest.fixture()
def workload(tmp_path, monkeypatch):
    monkeypatch.setenv("ACCORD_CACHE_DIR", str(tmp_path / "cache"))
    log = tmp_path / "events.jsonl"
    _write(log, _events(400, 11))
    return log


def _found(hits) -> set[tuple[tuple[int, ...], str]]:
    return {(tuple(h.lines), h.indicator) for h in hits}


def test_raw_prefilter_equals_reference(workload: Path) -> None:
    indicators = [_ind(i, p) for i, p in enumerate(SINGLE)]
    parser = sniff(workload, "jsonl", MAP)
    matcher = compile_matcher(indicators)
    assert not matcher.rejected
    assert matcher.raw_filter(parser.verbatim) is not None
    hits, stats = sweep_file(matcher, str(workload), parser)
    assert stats.prefiltered and stats.lines == 400 and stats.parsed < 400
    expected = _reference_single(indicators, workload, parser)
    assert expected, "the workload should plant hits"
    assert _found(hits) == expected


@pytest.mark.parametrize("block", [1, 50, 333, 4096])
def test_small_read_blocks_give_the_same_hits_and_counts(workload: Path, monkeypatch, block: int) -> None:
    """Lines cut by a read block's end (or longer than a block) are finished with the next block."""
    from accord.detect import sweep as sweep_mod

    indicators = [_ind(i, p) for i, p in enumerate(SINGLE)]
    parser = sniff(workload, "jsonl", MAP)
    matcher = compile_matcher(indicators)
    whole, stats = sweep_file(matcher, str(workload), parser)
    with workload.open("ab") as fh:
        fh.write(b'{"broken": ')  # a last line without its newline
    monkeypatch.setattr(sweep_mod, "_BLOCK", block)
    small, small_stats = sweep_file(matcher, str(workload), parser)
    assert _found(small) == _found(whole) and whole
    assert small_stats.lines == stats.lines + 1 and small_stats.malformed == stats.malformed + 1
    assert small_stats.bytes == workload.stat().st_size


def test_every_line_path_and_workers_equal_reference(workload: Path) -> None:
    indicators = [_ind(i, p) for i, p in enumerate(SINGLE + NO_NEEDLE)]
    parser = sniff(workload, "jsonl", MAP)
    matcher = compile_matcher(indicators)
    assert matcher.raw_filter(parser.verbatim) is None  # `!=` and a bare port test have no needle
    expected = _reference_single(indicators, workload, parser)
    one, stats = sweep_file(matcher, str(workload), parser)
    assert not stats.prefiltered and stats.parsed == 400
    two, stats2 = sweep_file(matcher, str(workload), parser, workers=2, min_split_bytes=0)
    assert stats2.workers == 2
    assert _found(one) == expected == _found(two)


def test_temporal_patterns_across_worker_ranges(workload: Path) -> None:
    indicators = [_ind(100 + i, p) for i, p in enumerate(TEMPORAL)]
    parser = sniff(workload, "jsonl", MAP)
    matcher = compile_matcher(indicators)
    one, _ = sweep_file(matcher, str(workload), parser)
    two, _ = sweep_file(matcher, str(workload), parser, workers=2, min_split_bytes=0)
    assert _found(one) == _found(two)
    assert {h.indicator for h in one} == {ind["id"] for ind in indicators}
    for hit in one:
        assert len(hit.lines) == 2 and hit.first_observed <= hit.last_observed


def test_hit_shape(workload: Path) -> None:
    parser = sniff(workload, "jsonl", MAP)
    matcher = compile_matcher([_ind(1, f"[ipv4-addr:value = '{IOC_IPS[0]}']")])
    hits, _ = sweep_file(matcher, str(workload), parser)
    hit = hits[0].to_json()
    assert hit["indicator"] == "indicator--00000000-0000-4000-8000-000000000001"
    assert hit["file"] == str(workload) and hit["name"] == "ind 1"
    assert hit["values"] == [IOC_IPS[0]] and hit["first_observed"].endswith("Z")  # only the equal value
    line = workload.read_bytes().split(b"\n")[hit["lines"][0] - 1]
    assert IOC_IPS[0].encode() in line


def test_bad_indicators_are_named_not_fatal() -> None:
    matcher = compile_matcher([
        _ind(1, "[domain-name:value = 'ok.example']"),
        _ind(2, "[domain-name:value = 'unterminated]"),
        _ind(3, "[url:value MATCHES '(a)\\\\1']"),  # a back-reference RE2 cannot run
        {**_ind(4, "alert tcp any any"), "pattern_type": "snort"},
    ])  # fmt: skip
    assert len(matcher) == 1
    rejected = dict(matcher.rejected)
    assert set(rejected) == {_ind(2, "")["id"], _ind(3, "")["id"]}
    assert all(ind_id in why for ind_id, why in matcher.rejected)
    assert matcher.skipped == [(_ind(4, "")["id"], "snort")]


def test_follow_reports_lines_as_they_arrive(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ACCORD_CACHE_DIR", str(tmp_path / "cache"))
    log = tmp_path / "live.jsonl"
    first = _events(50, 3)
    _write(log, first)
    parser = sniff(log, "jsonl", MAP)
    matcher = compile_matcher([_ind(1, "[domain-name:value = 'late.example']")])
    got: list = []
    done = threading.Event()
    result: dict = {}

    def run() -> None:
        result["stats"] = follow(matcher, str(log), parser, got.append, stop=done.is_set, poll=0.05)

    t = threading.Thread(target=run)
    t.start()
    try:
        late = {"ts": "2024-05-01T00:00:00.000Z", "type": "dns", "sensor": "s", "src_ip": "10.0.0.1",
                "query": "late.example", "qtype": "A", "answer": "1.2.3.4"}  # fmt: skip
        with log.open("ab") as fh:
            fh.write(orjson.dumps(late) + b"\n")
        for _ in range(200):
            if got:
                break
            time.sleep(0.05)
    finally:
        done.set()
        t.join(timeout=10)
    assert [h.lines for h in got] == [[51]]
    assert result["stats"].lines == 51


def test_broken_lines_are_counted_even_when_prefiltered(workload: Path) -> None:
    with workload.open("ab") as fh:
        fh.write(b'{"ts": "2024-05-01T00:00:00.000Z", "type": "dns", "query": "trunc\n')
        fh.write(b"this is not json\n")
        fh.write(b'{"ts": "2024-05-01T00:00:00.000Z", "type": "weird", "x": 1}\n')
    parser = sniff(workload, "jsonl", MAP)
    matcher = compile_matcher([_ind(1, f"[ipv4-addr:value = '{IOC_IPS[0]}']")])
    hits, stats = sweep_file(matcher, str(workload), parser)
    assert stats.prefiltered and stats.lines == 403
    assert stats.malformed == 2 and len(stats.problems) == 2 and "line 401" in stats.problems[0]
    assert hits


def test_a_worker_failure_reaches_the_caller(workload: Path, monkeypatch) -> None:
    """An exception in a forked worker is raised by sweep_file; a worker that dies is reported, not waited on."""
    import os

    from accord.detect import sweep as sweep_mod

    parser = sniff(workload, "jsonl", MAP)
    matcher = compile_matcher([_ind(1, "[domain-name:value = 'x.example']")])

    def boom(path: str, start: int, end: int) -> None:
        raise ValueError(f"cannot read {start}-{end}")

    monkeypatch.setattr(sweep_mod, "_worker", boom)
    with pytest.raises(ValueError, match="cannot read"):
        sweep_file(matcher, str(workload), parser, workers=2, min_split_bytes=0)

    def dies(path: str, start: int, end: int) -> None:
        os._exit(3)

    monkeypatch.setattr(sweep_mod, "_worker", dies)
    with pytest.raises(RuntimeError, match="ended without a result"):
        sweep_file(matcher, str(workload), parser, workers=2, min_split_bytes=0)
