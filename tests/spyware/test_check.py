"""The device check: MVT's own sample outputs match exactly what MVT matched, correlated indicators make
one finding naming both products, and the report is readable and escaped."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import accord.detect
from accord.hub import Hub
from accord.spyware import check, report
from accord.spyware.registry import Registry

from .spyware_helpers import MVT, SPYWARE, seed_small


def _mvt_matched(folder: Path) -> set[str]:
    alerts = json.loads((folder / "alerts.json").read_text())
    return {a["matched_indicator"]["value"] for a in alerts if a.get("matched_indicator")}


@pytest.mark.parametrize("name", ["ios-backup", "androidqf"])
def test_mvt_samples_match_what_mvt_matched(sqlite_hub: Hub, name: str) -> None:
    seed_small(sqlite_hub, ())
    reg = sqlite_hub.spyware_registry(sqlite_hub.viewer_as(None))
    result = check.run_check(check.read_device(MVT / name), reg, source="test")
    found = {v for f in result.findings for v in f.values}
    assert found == _mvt_matched(MVT / name)
    for f in result.findings:
        assert [p["label"] for p in f.products] == ["Pegasus (NSO group)"]
        assert [v["name"] for v in f.vendors] == ["NSO group"]
        assert f.confidence in ("high", "medium") and f.where
    process = next(f for f in result.findings if f.object_type == "process") if name == "ios-backup" else None
    if process:
        assert process.count == 2 and process.confidence == "medium"
        assert process.first_seen == "2019-08-29T23:07:42.743Z"


def test_one_finding_names_both_predators(sqlite_hub: Hub, tmp_path: Path) -> None:
    seed_small(sqlite_hub, ("cytrox.stix2", "predator.stix2"))
    reg = sqlite_hub.spyware_registry(sqlite_hub.viewer_as(None))
    bundle = json.loads((SPYWARE / "cytrox.stix2").read_text())
    domain = next(re.search(r"'(.+)'", o["pattern"]).group(1) for o in bundle["objects"]
                  if o["type"] == "indicator" and o["pattern"].startswith("[domain-name"))  # fmt: skip
    lst = tmp_path / "artefacts.jsonl"
    lst.write_text(json.dumps({"type": "url", "value": f"https://{domain}/x", "timestamp": "2023-05-01T08:00:00Z"})
                   + "\n" + json.dumps({"type": "domain", "value": "harmless.example"}) + "\n")  # fmt: skip
    result = check.run_check(check.read_device(lst), reg, source="test")
    assert len(result.findings) == 1
    f = result.findings[0]
    assert {p["label"] for p in f.products} == {"Predator (Cytrox)", "Predator (Intellexa)"}
    assert {v["name"] for v in f.vendors} == {"Cytrox", "Intellexa"}
    assert len(f.indicators) == 2 and f.values == [domain] and f.confidence == "high"
    assert f.first_seen == "2023-05-01T08:00:00.000Z" and f.seen == [f"https://{domain}/x"]
    # ... and both investigations' infrastructure, in the finding and the report
    assert {i["name"] for i in f.infrastructure} == {
        "Predator (Cytrox) infrastructure (Amnesty International, 2021)",
        "Predator (Intellexa) infrastructure (MVT indicators (Meta, Amnesty International, Citizen Lab, Cisco Talos, "
        "Inside Story, iVerify))",
    }
    page = report.render_html(report.build(result, [], can_share=False))
    assert "<th>Part of</th>" in page and "Predator (Cytrox) infrastructure" in page
    # A registry read from a bundle (what a remote hub serves) names the same infrastructure.
    remote = Registry.from_objects(reg.bundle_objects())
    again = check.run_check(check.read_device(lst), remote, source="test").findings[0]
    assert again.infrastructure == f.infrastructure


def test_the_check_goes_through_the_detection_engine(sqlite_hub: Hub, tmp_path: Path) -> None:
    """A pattern only the engine's evaluator decides (a LIKE over a URL) matches in a device check."""
    seed_small(sqlite_hub, ())
    ind = {"type": "indicator", "spec_version": "2.1", "id": "indicator--6a7d6b52-1c42-4d0c-9f6e-9a8a1c9f1a01",
           "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
           "pattern": "[url:value LIKE 'https://%.spy.example/%']", "pattern_type": "stix",
           "valid_from": "2024-01-01T00:00:00.000Z"}  # fmt: skip
    reg = sqlite_hub.spyware_registry(sqlite_hub.viewer_as(None))
    pegasus = next(p for p in reg.products if reg.product_label(p) == "Pegasus (NSO group)")
    reg.indicators[ind["id"]] = ind
    reg.indicates[ind["id"]] = [pegasus]
    lst = tmp_path / "a.csv"
    lst.write_text("type,value\nurl,https://cdn.spy.example/a\nurl,https://spy.example.org/a\n")
    result = check.run_check(check.read_device(lst), reg, source="test")
    assert [f.indicators for f in result.findings] == [[ind["id"]]]
    assert len(accord.detect.compile([ind])) == 1


def test_revoked_or_expired_indicators_are_not_used(sqlite_hub: Hub, tmp_path: Path) -> None:
    seed_small(sqlite_hub, ())
    reg = sqlite_hub.spyware_registry(sqlite_hub.viewer_as(None))
    for ind in reg.indicators.values():
        ind["valid_until"] = "2024-01-01T00:00:00.000Z"
    result = check.run_check(check.read_device(MVT / "androidqf"), reg, source="test")
    assert result.findings == [] and result.indicators_compiled == 0 and result.indicators_known > 0


def test_html_report_escapes_everything(sqlite_hub: Hub, tmp_path: Path) -> None:
    seed_small(sqlite_hub, ())
    reg = sqlite_hub.spyware_registry(sqlite_hub.viewer_as(None))
    lst = tmp_path / "x<script>.jsonl"
    lst.write_text(json.dumps({"type": "url", "value": "https://badbadbad.example.org/<script>alert(1)</script>"})
                   + "\n")  # fmt: skip
    result = check.run_check(check.read_device(lst), reg, source="a <b>hub</b>")
    doc = report.build(result, [{"name": "Help <i>line</i>", "contact": "javascript:alert(1)", "country": "GB"}])
    html = report.render_html(doc)
    assert "<script" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "Help &lt;i&gt;line&lt;/i&gt;" in html
    assert not re.search(r"(src|href)=", html), "the page must load and link nothing"
    assert "default-src 'none'" in html
    assert doc["verdict"]["spyware_found"] and "Pegasus (NSO group)" in doc["verdict"]["summary"]
    assert any("helpline" in s.lower() for s in doc["next_steps"])


def test_clean_report_says_what_it_does_not_prove(sqlite_hub: Hub, tmp_path: Path) -> None:
    seed_small(sqlite_hub, ())
    reg = sqlite_hub.spyware_registry(sqlite_hub.viewer_as(None))
    lst = tmp_path / "clean.csv"
    lst.write_text("domain\nexample.com\n")
    doc = report.build(check.run_check(check.read_device(lst), reg, source="test"), [])
    assert not doc["verdict"]["spyware_found"] and doc["findings"] == []
    assert "not proof" in doc["next_steps"][0]
    assert doc["helplines"] == report.DEFAULT_HELPLINES


def test_prefilter_changes_nothing_but_speed(sqlite_hub: Hub, tmp_path: Path) -> None:
    """Compiling only the equality indicators whose value the device holds gives the same findings as
    compiling them all, on MVT's samples and on a list mixing hits, near misses and patterns of every shape."""
    seed_small(sqlite_hub, ("cytrox.stix2", "predator.stix2", "rcs.stix2"))
    reg = sqlite_hub.spyware_registry(sqlite_hub.viewer_as(None))
    pegasus = next(p for p in reg.products if reg.product_label(p) == "Pegasus (NSO group)")
    extra = {
        "like": "[url:value LIKE 'https://%.spy.example/%']",
        "or": "[domain-name:value = 'a.spy.example' OR domain-name:value = 'b.spy.example']",
        "in": "[process:name IN ('spyd', 'bh')]",
        "hash": "[file:hashes.'SHA-256' = '" + "cd" * 32 + "']",
    }
    for n, pattern in enumerate(extra.values()):
        ind_id = f"indicator--00000000-0000-4000-8000-0000000000a{n}"
        reg.indicators[ind_id] = {"type": "indicator", "spec_version": "2.1", "id": ind_id, "pattern": pattern,
                                  "pattern_type": "stix", "created": "2024-01-01T00:00:00.000Z",
                                  "modified": "2024-01-01T00:00:00.000Z", "valid_from": "2024-01-01T00:00:00.000Z"}  # fmt: skip
        reg.indicates[ind_id] = [pegasus]
    cytrox = json.loads((SPYWARE / "cytrox.stix2").read_text())
    values = [o["pattern"].split("'")[1] for o in cytrox["objects"] if o["type"] == "indicator"][:30]
    lines = [{"value": v} for v in values]
    lines += [{"value": "x" + v} for v in values]  # near misses
    lines += [{"type": "url", "value": "https://c.spy.example/p"}, {"type": "domain", "value": "b.spy.example"},
              {"type": "process", "value": "bh"}, {"type": "sha256", "value": "CD" * 32}]  # fmt: skip
    lst = tmp_path / "mix.jsonl"
    lst.write_text("".join(json.dumps(x) + "\n" for x in lines))
    for device in (check.read_device(lst), check.read_device(MVT / "ios-backup"), check.read_device(MVT / "androidqf")):
        fast = check.run_check(device, reg, source="t", prefilter=True)
        full = check.run_check(device, reg, source="t", prefilter=False)
        assert [f.as_dict() for f in fast.findings] == [f.as_dict() for f in full.findings]
        assert fast.indicators_known == full.indicators_known
    assert len(fast.findings) >= 1
    mixed = check.run_check(check.read_device(lst), reg, source="t")
    assert {tuple(f.values) for f in mixed.findings} >= {("cd" * 32,)} and len(mixed.findings) >= 30
