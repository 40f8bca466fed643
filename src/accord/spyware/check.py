"""The device check: every artefact of a device re-checked against the spyware indicators, through the
detection engine (``accord.detect.compile`` and ``Matcher.scan``), and the hits turned into findings a
person can act on.

A **finding** is one indicator value seen on the device: the indicators from every source that carry
that value (correlated by value, so Cytrox's and Intellexa's Predator are one finding naming both
products), the products and vendors they point at, how often and when it was seen, where on the
device, and how confident the match is. Nothing here sends anything anywhere.

Confidence: a match on a domain, a URL, an e-mail address, an app id or certificate, a file hash or a
configuration profile is *high* (these are specific to the spyware's infrastructure); on a process
name, a file name or path, an IP address or a system property it is *medium* (such names can be
shared by legitimate software, addresses get reused). An indicator with its own ``confidence`` under
50 lowers its finding by one step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import accord.detect
from accord.detect.events import Event
from accord.detect.sources import in_force
from accord.errors import InvalidInput, NotFound
from accord.spyware import artefact_list, mvt
from accord.spyware.artefacts import Record, to_event
from accord.spyware.correlate import equality_value
from accord.spyware.registry import Registry
from accord.stix.timestamps import format_stix, now, version_key

__all__ = ["DeviceData", "Finding", "CheckResult", "read_device", "run_check", "LEVELS"]

LEVELS = ("low", "medium", "high")
_HIGH = ("domain-name:", "url:", "email-addr:", "app:", "configuration-profile:", "file:hashes")
_KIND_WORDS = {
    "domain-name": "an internet domain",
    "url": "a web link",
    "email-addr": "an e-mail address",
    "process": "the name of a running program",
    "app": "an installed app",
    "file": "a file",
    "configuration-profile": "a configuration profile",
    "android-property": "a system setting",
    "ipv4-addr": "an internet address",
    "ipv6-addr": "an internet address",
}


@dataclass
class DeviceData:
    kind: str  # "mvt" or "list"
    name: str
    records: list[Record]
    info: dict[str, Any] = field(default_factory=dict)
    notices: list[dict[str, Any]] = field(default_factory=list)
    mvt_matches: int = 0
    files_read: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def artefacts(self) -> int:
        return sum(len(r.artefacts) for r in self.records)


def read_device(path: Path) -> DeviceData:
    """An MVT results folder, or a JSON-lines / CSV artefact list."""
    if not path.exists():
        raise NotFound(f"nothing at {path}: give an MVT results folder or an artefact list (JSON lines or CSV)")
    if path.is_dir():
        folder = mvt.read_folder(path)
        return DeviceData(
            "mvt",
            path.name,
            folder.records,
            folder.info,
            folder.notices,
            folder.mvt_matches,
            folder.files_read,
            folder.skipped,
        )
    return DeviceData("list", path.name, artefact_list.read_list(path), files_read=[path.name])


@dataclass
class Finding:
    key: str
    object_type: str
    values: list[str]  # the indicator's value
    seen: list[str]  # what on the device held it (a URL, a path …) — stays in the local report
    indicators: list[str]
    products: list[dict[str, Any]]
    vendors: list[dict[str, Any]]
    sources: list[str]
    count: int
    first_seen: str | None
    last_seen: str | None
    where: list[str]
    modules: list[str]
    confidence: str
    why: str
    infrastructure: list[dict[str, Any]] = field(default_factory=list)  # what the matched indicators indicate

    @property
    def what(self) -> str:
        kind = _KIND_WORDS.get(self.object_type, "an artefact")
        names = ", ".join(p["label"] for p in self.products) or "known spyware"
        return f"{kind[0].upper()}{kind[1:]} on this device matches an indicator of {names}."

    def as_dict(self) -> dict[str, Any]:
        return {"what": self.what, **{k: v for k, v in self.__dict__.items() if k != "key"}}


@dataclass
class CheckResult:
    device: DeviceData
    findings: list[Finding]
    indicators_known: int  # spyware indicators the check knew (revoked and expired ones are never matched)
    indicators_compiled: int  # those that could match this device's data, compiled by accord.detect
    indicators_rejected: list[tuple[str, str]]
    source: str
    events: int
    hits: int
    seconds: float
    checked_at: str


def _confidence(object_type: str, key: str, indicators: list[dict[str, Any]]) -> tuple[str, str]:
    if key.startswith(_HIGH):
        level = 2
        why = "the value is specific to spyware infrastructure"
    else:
        level = 1
        why = "names like this can also belong to legitimate software, so a person should look at it"
    low = [i for i in indicators if isinstance(i.get("confidence"), int) and i["confidence"] < 50]
    if low and len(low) == len(indicators):
        level -= 1
        why += f"; the source gives its indicator a low confidence ({low[0]['confidence']}/100)"
    return LEVELS[max(level, 0)], why


def _held(events: list[Event]) -> set[str]:
    """Every string an event object holds (top-level properties and one level of dictionaries)."""
    out: set[str] = set()
    for e in events:
        for obj in e.objects.values():
            for v in obj.values():
                if isinstance(v, str):
                    out.add(v)
                elif isinstance(v, dict):
                    out.update(x for x in v.values() if isinstance(x, str))
    return out


def run_check(
    device: DeviceData, registry: Registry, *, source: str, at: datetime | None = None, prefilter: bool = True
) -> CheckResult:
    """Check every record against the registry's indicators in force now; findings, strongest first.

    With ``prefilter`` (the default), an indicator that is one ``=`` comparison with a string is compiled
    only when some event holds that string somewhere (it cannot match otherwise); every other indicator
    is always compiled. The engine decides every match either way — this only spares compiling
    indicators that cannot match this device (tests check both ways give the same findings).
    """
    started = time.perf_counter()
    when = at or now()
    events = [to_event(r, n + 1) for n, r in enumerate(device.records)]
    known = registry.indicators.values()
    if prefilter:
        held = _held(events)
        known = [i for i in known if _needed(i, held)]
    usable = list(in_force(known, when))
    matcher = accord.detect.compile(usable)
    groups: dict[str, dict[str, Any]] = {}
    hits = 0
    for hit in matcher.scan(events):
        hits += 1
        key = registry.key_of.get(hit.indicator, hit.indicator)
        g = groups.setdefault(key, {"lines": set(), "indicators": set(), "values": [], "first": None, "last": None})
        g["lines"].update(hit.lines)
        g["indicators"].add(hit.indicator)
        for v in hit.values:
            if v not in g["values"]:
                g["values"].append(v)
        if hit.first_observed and (g["first"] is None or version_key(hit.first_observed) < version_key(g["first"])):
            g["first"] = hit.first_observed
        if hit.last_observed and (g["last"] is None or version_key(hit.last_observed) > version_key(g["last"])):
            g["last"] = hit.last_observed
    findings = []
    for key, g in groups.items():
        # Every indicator with this value names its product, matched or not (e.g. outside its validity).
        ids = sorted(set(registry.correlated(next(iter(g["indicators"])))) | g["indicators"])
        prods = registry.products_of(ids)
        vendors = registry.vendors_of(prods)
        inds = [registry.indicators[i] for i in ids if i in registry.indicators]
        object_type = key.split(":", 1)[0] if ":" in key else "artefact"
        level, why = _confidence(object_type, key, inds)
        lines = sorted(g["lines"])
        records = [device.records[n - 1] for n in lines]
        sources = sorted(
            {
                registry.malware.get(m, {}).get("description") or registry.malware.get(m, {}).get("name", m)
                for i in ids
                for m in registry.indicates.get(i, [])
            }
        )
        value = key.split("=", 1)[1] if "=" in key and ":" in key else None
        shown = [value] if value else g["values"][:10]
        seen = list(
            dict.fromkeys(
                a.value for r in records for a in r.artefacts if value is None or value.lower() in a.value.lower()
            )
        )[:5]
        findings.append(
            Finding(
                key=key,
                object_type=object_type,
                values=shown,
                seen=seen,
                indicators=ids,
                products=[
                    {
                        "id": p,
                        "name": registry.products[p].get("name"),
                        "label": registry.product_label(p),
                        "vendors": [registry.vendors[v].get("name") for v in registry.authored.get(p, [])],
                    }
                    for p in prods
                ],
                vendors=[{"id": v, "name": registry.vendors[v].get("name")} for v in vendors],
                sources=sources,
                count=len(lines),
                first_seen=g["first"],
                last_seen=g["last"],
                where=[r.where for r in records[:20]],
                modules=sorted({r.module for r in records}),
                confidence=level,
                why=why,
                infrastructure=registry.infrastructure_of(ids),
            )
        )
    findings.sort(key=lambda f: (-LEVELS.index(f.confidence), f.first_seen or "", f.key))
    return CheckResult(
        device,
        findings,
        len(registry.indicators),
        len(matcher),
        list(matcher.rejected),
        source,
        len(events),
        hits,
        time.perf_counter() - started,
        format_stix(when),
    )


def _needed(indicator: dict[str, Any], held: set[str]) -> bool:
    pattern = indicator.get("pattern")
    if not isinstance(pattern, str) or indicator.get("pattern_type", "stix") != "stix":
        return True  # compile decides (and reports) what it cannot use
    value = equality_value(pattern, str(indicator.get("spec_version", "2.1")))
    return value is None or value in held


def offline_registry(path: Path, max_bytes: int) -> tuple[Registry, list[str]]:
    """A registry from STIX2 indicator files read as MVT reads them (a file, or every ``*.stix2`` and
    ``*.json`` file under a folder): Accord's shipped registry tells vendor and product for the files it
    knows; the malware of any other file is taken as the product its indicators point at."""
    from accord.detect.sources import from_file  # noqa: PLC0415
    from accord.spyware import seed as seedmod  # noqa: PLC0415

    if not path.exists():
        raise NotFound(f"no indicator file or folder at {path}")
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.suffix in (".stix2", ".json"))
    if not files:
        raise InvalidInput(f"{path} holds no .stix2 or .json indicator files")
    objs = seedmod.registry_objects()
    known = {o["id"] for o in objs}
    stamp = seedmod.curated()["version"]
    names = []
    for f in files:
        found = list(from_file(f, max_bytes))
        names.append(f.name)
        entry = next((e for e in seedmod.curated()["files"] if e["file"] == f.name), None)
        for o in found:
            if o.get("type") == "malware" and o["id"] not in known:
                if entry is not None:
                    objs.append(
                        seedmod.relationship(
                            "duplicate-of", o["id"], seedmod.product_id(entry["vendor"], entry["product"]), stamp
                        )
                    )
                elif "spyware" not in (o.get("malware_types") or []):
                    o = {**o, "malware_types": [*(o.get("malware_types") or []), "spyware"]}
            objs.append(o)
    return Registry.from_objects(objs), names
