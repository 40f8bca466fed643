"""Seeding the spyware registry: vendors from the MISP galaxy ``surveillance-vendor`` cluster (with
known errors corrected), products, exploits, investigations and export controls from Accord's curated
``data/registry.json``, and the indicator files, each file's malware linked to its product and vendor.

Everything becomes STIX 2.1 with ids derived from what it stands for (the galaxy's uuids for vendors,
names for products), fixed ``created``/``modified`` stamps and the ``Accord project`` identity as
creator, so seeding twice is ``unchanged`` throughout — and the indicator files keep their own ids, so
importing the same file twice creates nothing new either. The model:

* vendor: ``identity`` (``identity_class`` organization, label ``surveillance-vendor``,
  ``x_accord_aliases``), vendor↔vendor ``relationship`` (``part-of``, ``allied-with``, …);
* product: ``malware`` (``malware_types`` [spyware], ``capabilities``, ``x_accord_platforms``)
  ``authored-by`` its vendor, ``exploits`` ``vulnerability`` objects (CVE ids);
* an indicator file's own ``malware`` is ``duplicate-of`` the registry product, so its indicators
  (``indicates`` that malware) point at the product and vendor;
* investigations: ``campaign`` (dated by its report, ``x_accord_reported``) ``uses`` the product and
  ``targets`` the groups of people it found targeted — ``identity`` objects of ``identity_class``
  class (label ``spyware-target-group``) whose ``sectors`` are Accord's sector vocabulary
  (``accord.access.orgs.SECTORS``), each ``targets`` link carrying the source that names the victims;
* infrastructure: per indicator file, an ``infrastructure`` the product ``uses``, which the file's
  network indicators (domains, IP addresses, URLs) ``indicate``; its ``infrastructure_types`` are what
  the source says the domains are for, else ``unknown`` (the description says why), and its sources
  are its external references. A takedown aimed at it expires those indicators (``accord.actions``);
* export controls: ``disruption-action`` (action type ``sanction``, authority US-BIS) targeting the
  vendor.

Dangling relationships in a file (an ``indicates`` whose indicator is in neither the file nor the hub)
are reported, not fatal.
"""

from __future__ import annotations

import gzip
import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from accord.access.orgs import SECTORS
from accord.access.viewer import Viewer
from accord.errors import InvalidInput, NotFound
from accord.stix import tlp as tlpmod
from accord.stix.extensions import ACCORD_IDENTITY_ID, DISRUPTION_EXTENSION_ID
from accord.stix.reader import Item, read_bytes

if TYPE_CHECKING:
    from accord.hub import Hub

__all__ = [
    "VENDOR_LABEL",
    "Galaxy",
    "SeedReport",
    "TARGET_LABEL",
    "curated",
    "file_links",
    "galaxy_from",
    "product_id",
    "registry_objects",
    "relationship",
    "seed",
    "shipped_files",
]

NS = uuid.UUID("d6a3c1f0-3b7e-5b54-8c2e-2f0b8f4a51c7")
VENDOR_LABEL = "surveillance-vendor"
TARGET_LABEL = "spyware-target-group"
#: Patterns whose value is a network location (correlation-key prefixes, ``accord.spyware.correlate``).
NETWORK_KEYS = ("domain-name:value=", "ipv4-addr:value=", "ipv6-addr:value=", "url:value=")
SPYWARE = "spyware"
CLEAR = tlpmod.TLP2_IDS[tlpmod.CLEAR]
GALAXY_SOURCE = "MISP galaxy surveillance-vendor"
_DATA = "data"
_REL_WORD = re.compile(r"[^a-z0-9-]+")


def _sid(kind: str, key: str) -> str:
    return f"{kind}--{uuid.uuid5(NS, key)}"


def product_id(vendor_uuid: str | None, name: str) -> str:
    """The registry id of a product (one per vendor and name: Cytrox's and Intellexa's Predator differ)."""
    return _sid("malware", f"product|{vendor_uuid or '-'}|{name.strip().lower()}")


@cache
def curated() -> dict[str, Any]:
    """Accord's curated registry data (``data/registry.json``)."""
    text = resources.files(__package__).joinpath(_DATA, "registry.json").read_text(encoding="utf-8")
    return json.loads(text)


# --------------------------------------------------------------------------- the galaxy cluster


@dataclass
class Vendor:
    uuid: str
    name: str
    description: str = ""
    aliases: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)
    related: list[tuple[str, str]] = field(default_factory=list)  # (relationship type, vendor uuid)
    corrections: list[str] = field(default_factory=list)


@dataclass
class Galaxy:
    vendors: dict[str, Vendor]
    corrections: list[str]  # what was changed, and why
    dangling: list[str]  # related entries naming uuids the cluster does not hold


def _rel_type(text: str) -> str:
    return _REL_WORD.sub("-", text.strip().lower()).strip("-") or "related-to"


def galaxy_from(data: bytes | dict[str, Any]) -> Galaxy:
    """Vendors of a MISP galaxy ``surveillance-vendor`` cluster, with Accord's corrections applied."""
    try:
        doc = json.loads(data) if isinstance(data, bytes | bytearray) else data
    except ValueError as exc:  # not JSON, or not UTF-8
        raise InvalidInput(f"not a MISP galaxy cluster: the file is not JSON ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("values"), list):
        raise InvalidInput("not a MISP galaxy cluster: expected a JSON object with a 'values' list")
    if doc.get("type") not in (None, "surveillance-vendor"):
        raise InvalidInput(f"a {doc.get('type')!r} galaxy cluster, not 'surveillance-vendor'")
    vendors: dict[str, Vendor] = {}
    notes: list[str] = []
    for n, value in enumerate(doc["values"]):
        if not isinstance(value, dict) or not isinstance(value.get("uuid"), str) or not value.get("value"):
            raise InvalidInput(f"galaxy value {n + 1} has no 'uuid' and 'value'")
        meta = value.get("meta") or {}
        related = value.get("related") or []
        if not isinstance(meta, dict) or not isinstance(related, list) or not all(isinstance(r, dict) for r in related):
            raise InvalidInput(f"galaxy value {n + 1}: 'meta' must be an object and 'related' a list of objects")
        if any(not isinstance(meta.get(k) or [], list) for k in ("synonyms", "products", "refs", "official-refs")):
            raise InvalidInput(f"galaxy value {n + 1}: meta's synonyms, products, refs and official-refs must be lists")
        v = Vendor(
            uuid=value["uuid"].lower(),
            name=str(value["value"]).strip(),
            description=str(value.get("description") or ""),
            aliases=[str(s).strip() for s in meta.get("synonyms") or [] if str(s).strip()],
            products=[str(p).strip() for p in meta.get("products") or [] if str(p).strip()],
            refs=[str(r) for r in (meta.get("refs") or []) + (meta.get("official-refs") or []) if r],
        )
        for rel in related:
            raw = str(rel.get("type", "related-to"))
            kind = _rel_type(raw)
            if kind != raw:
                notes.append(f"{v.name}: relationship type {raw!r} normalised to {kind!r}")
            v.related.append((kind, str(rel.get("dest-uuid", "")).lower()))
        vendors[v.uuid] = v
    for added in curated()["added_vendors"]:
        vendors.setdefault(
            added["id"],
            Vendor(
                uuid=added["id"],
                name=added["name"],
                description=added["description"],
                aliases=list(added.get("aliases", [])),
                refs=list(added["refs"]),
            ),
        )
        notes.append(f"{added['name']}: added (the cluster has no entry for it)")
    for fix in curated()["corrections"]:
        v = vendors.get(fix["vendor"])
        if v is None:
            continue
        before = (list(v.products), list(v.aliases), list(v.related))
        v.products = [p for p in v.products if p not in fix.get("remove_products", [])]
        v.products += [p for p in fix.get("add_products", []) if p not in v.products]
        v.aliases = [a for a in v.aliases if a not in fix.get("remove_synonyms", [])]
        v.aliases += [a for a in fix.get("add_aliases", []) if a not in v.aliases]
        gone = {(r["type"], r["dest"]) for r in fix.get("remove_related", [])}
        v.related = [r for r in v.related if r not in gone]
        v.related += [
            (r["type"], r["dest"]) for r in fix.get("add_related", []) if (r["type"], r["dest"]) not in v.related
        ]
        if (v.products, v.aliases, v.related) != before:
            v.corrections.append(fix["reason"])
            notes.append(f"{v.name}: {fix['reason']}")
    dangling = [
        f"{v.name} ({v.uuid}) is '{kind}' {dest}, which the cluster does not hold"
        for v in vendors.values()
        for kind, dest in v.related
        if dest not in vendors
    ]
    for v in vendors.values():
        v.related = [(k, d) for k, d in v.related if d in vendors]
    return Galaxy(vendors, list(dict.fromkeys(notes)), dangling)


def shipped_galaxy() -> Galaxy:
    data = resources.files(__package__).joinpath(_DATA, "surveillance-vendor.json.gz").read_bytes()
    return galaxy_from(gzip.decompress(data))


def shipped_files() -> list[tuple[str, bytes]]:
    """The indicator files shipped with Accord: (file name, content)."""
    folder = resources.files(__package__).joinpath(_DATA, "indicators")
    out = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".stix2.gz"):
            out.append((entry.name[: -len(".gz")], gzip.decompress(entry.read_bytes())))
    return out


# --------------------------------------------------------------------------- STIX objects


def _common(stamp: str) -> dict[str, Any]:
    return {
        "spec_version": "2.1",
        "created": stamp,
        "modified": stamp,
        "created_by_ref": ACCORD_IDENTITY_ID,
        "object_marking_refs": [CLEAR],
    }


def _refs(urls: Iterable[str], source: str) -> list[dict[str, str]]:
    return [{"source_name": source, "url": u} for u in dict.fromkeys(urls) if u]


def _site_refs(urls: Iterable[str]) -> list[dict[str, str]]:
    """References named by the site that publishes them (``citizenlab.ca``)."""
    out = []
    for u in dict.fromkeys(urls):
        host = (urlsplit(u).hostname or "reference").removeprefix("www.")
        out.append({"source_name": host, "url": u})
    return out


def relationship(
    kind: str,
    source: str,
    target: str,
    stamp: str,
    description: str | None = None,
    references: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    rel: dict[str, Any] = {
        "type": "relationship",
        "id": _sid("relationship", f"{kind}|{source}|{target}"),
        **_common(stamp),
        "relationship_type": kind,
        "source_ref": source,
        "target_ref": target,
    }
    if description:
        rel["description"] = description
    if references:
        rel["external_references"] = references
    return rel


def target_group_id(key: str) -> str:
    return _sid("identity", f"target-group|{key.lower()}")


def target_groups() -> dict[str, dict[str, Any]]:
    """The curated groups of targeted people (key → entry), their sectors checked against Accord's vocabulary."""
    out: dict[str, dict[str, Any]] = {}
    for g in curated()["target_groups"]:
        bad = [s for s in g["sectors"] if s not in SECTORS]
        if bad:
            raise InvalidInput(
                f"registry.json: target group {g['key']!r} has sectors outside Accord's vocabulary: {bad}"
            )
        out[g["key"]] = g
    return out


def _target_group(g: dict[str, Any], stamp: str) -> dict[str, Any]:
    return {
        "type": "identity",
        "id": target_group_id(g["key"]),
        **_common(stamp),
        "name": g["name"],
        "identity_class": "class",
        "sectors": g["sectors"],
        "labels": [TARGET_LABEL],
        "description": f"{g['name']} as a class of people targeted by commercial spyware (Accord spyware "
        f"registry). Sector: {', '.join(g['sectors'])} — {g['basis']}",
    }


def _vendor_identity(v: Vendor, stamp: str) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "identity",
        "id": f"identity--{v.uuid}",
        **_common(stamp),
        "name": v.name,
        "identity_class": "organization",
        "labels": [VENDOR_LABEL],
    }
    if v.description:
        obj["description"] = v.description
    if v.aliases:
        obj["x_accord_aliases"] = v.aliases
    if v.products:
        obj["x_accord_products"] = v.products
    if v.corrections:
        obj["x_accord_corrections"] = v.corrections
    refs = [{"source_name": GALAXY_SOURCE, "external_id": v.uuid}, *_refs(v.refs, "reference")]
    obj["external_references"] = refs
    return obj


def registry_objects(galaxy: Galaxy | None = None) -> list[dict[str, Any]]:
    """Every registry object (vendors, products, links, exploits, investigations, export controls)."""
    data = curated()
    stamp = data["version"]
    g = galaxy or shipped_galaxy()
    out: list[dict[str, Any]] = []
    for v in sorted(g.vendors.values(), key=lambda v: v.name.lower()):
        out.append(_vendor_identity(v, stamp))
    for v in g.vendors.values():
        for kind, dest in v.related:
            out.append(relationship(kind, f"identity--{v.uuid}", f"identity--{dest}", stamp))
    details = {(p["vendor"], p["name"].lower()): p for p in data["products"]}
    # Products: every product a vendor lists (as corrected), plus the curated ones (some have no vendor).
    wanted: dict[tuple[str | None, str], dict[str, Any]] = {}
    for v in g.vendors.values():
        for name in v.products:
            detail = details.get((v.uuid, name.lower())) or next(
                (p for p in data["products"] if p["vendor"] == v.uuid and p.get("galaxy_name") == name), None
            )
            key = (v.uuid, (detail or {}).get("name", name))
            wanted.setdefault(key, detail or {"vendor": v.uuid, "name": name})
    for p in data["products"]:
        if p["vendor"] is None or p["vendor"] in g.vendors:
            wanted.setdefault((p["vendor"], p["name"]), p)
    for (vendor, name), p in sorted(wanted.items(), key=lambda kv: kv[0][1].lower()):
        pid = product_id(vendor, name)
        # Products the galaxy lists without Accord knowing more are not all spyware (I-Soon sells DDoS).
        kinds = [SPYWARE] if p.get("platforms") else ["unknown"]
        obj: dict[str, Any] = {
            "type": "malware",
            "id": pid,
            **_common(stamp),
            "name": name,
            "is_family": True,
            "malware_types": kinds,
        }
        if p.get("aliases"):
            obj["aliases"] = p["aliases"]
        if p.get("capabilities"):
            obj["capabilities"] = p["capabilities"]
        if p.get("platforms"):
            obj["x_accord_platforms"] = p["platforms"]
        who = g.vendors[vendor].name if vendor else "an unknown developer"
        what = "Spyware" if kinds == [SPYWARE] else "Surveillance product"
        obj["description"] = f"{what} of {who} (Accord spyware registry)."
        if p.get("x_accord_unverified"):
            obj["x_accord_unverified"] = True
            obj["description"] += " Its platforms and capabilities could not be confirmed from public sources."
        out.append(obj)
        if vendor:
            out.append(relationship("authored-by", pid, f"identity--{vendor}", stamp))
        for ex in p.get("exploits", []):
            vid = _sid("vulnerability", ex["cve"])
            vuln = {
                "type": "vulnerability",
                "id": vid,
                **_common(stamp),
                "name": ex["cve"],
                "external_references": [{"source_name": "cve", "external_id": ex["cve"]}],
            }
            if ex.get("name"):
                vuln["description"] = f"Exploited as part of {ex['name']}."
            if vuln not in out:
                out.append(vuln)
            why = f"{name} used {ex['cve']} ({ex['ref']})"
            out.append(relationship("exploits", pid, vid, stamp, why, _site_refs([ex["ref"]])))
    groups = target_groups()
    for key in sorted({k for f in data["files"] for k in f.get("targeted", [])}):
        if key not in groups:
            raise InvalidInput(f"registry.json: targeted group {key!r} is not among the target_groups")
        out.append(_target_group(groups[key], stamp))
    for f in data["files"]:
        if f["vendor"] is not None and f["vendor"] not in g.vendors:
            continue
        pid = product_id(f["vendor"], f["product"])
        cid = _sid("campaign", f"investigation|{f['file']}")
        camp: dict[str, Any] = {
            "type": "campaign",
            "id": cid,
            **_common(stamp),
            "name": f["investigation"],
            "description": f"Investigation by {f['source']} (indicators: {f['file']}).",
            # The report's date, not the campaign's first sighting (which the reports do not all give).
            "x_accord_reported": f["published"],
        }
        if f.get("refs"):
            camp["external_references"] = _refs(f["refs"], f["source"])
        if f.get("x_accord_unverified"):
            camp["x_accord_unverified"] = True
            camp["description"] += " Its report date could not be confirmed from public sources."
        out.append(camp)
        out.append(relationship("uses", cid, pid, stamp))
        victim_refs = _site_refs(f.get("targeted_refs") or f.get("refs", []))
        for key in f.get("targeted", []):
            why = f"{f['investigation']} ({f['source']}) found {groups[key]['name'].lower()} targeted."
            rel = relationship("targets", cid, target_group_id(key), stamp, why, victim_refs)
            if f.get("targeted_unverified"):
                rel["x_accord_unverified"] = True
            out.append(rel)
    for ec in data["export_controls"]:
        targets = [t for t in ec["targets"] if t["vendor"] in g.vendors]
        if not targets:
            continue
        action = {
            "type": "disruption-action",
            "id": _sid("disruption-action", ec["key"]),
            **_common(stamp),
            "name": ec["name"],
            "description": ec["description"],
            "action_types": ["sanction"],
            "action_date": ec["date"],
            "status": "completed",
            "legal_basis": ec["legal_basis"],
            "target_refs": list(dict.fromkeys(f"identity--{t['vendor']}" for t in targets)),
            "sanctions": [
                {
                    "authority": ec["authority"],
                    "designated_name": t["designated_name"],
                    "designated_ref": f"identity--{t['vendor']}",
                }
                for t in targets
            ],
            "extensions": {DISRUPTION_EXTENSION_ID: {"extension_type": "new-sdo"}},
        }
        if ec.get("refs"):
            action["external_references"] = _site_refs(ec["refs"])
        out.append(action)
    return out


# --------------------------------------------------------------------------- indicator files


@dataclass
class FileReport:
    name: str
    indicators: int = 0
    malware: list[str] = field(default_factory=list)
    product: str | None = None
    vendor: str | None = None
    added: int = 0
    unchanged: int = 0
    new_version: int = 0
    rejected: list[str] = field(default_factory=list)
    dangling: list[str] = field(default_factory=list)
    infrastructure: int = 0  # infrastructure objects made for the file (0 or 1)
    shared_values: dict[str, int] = field(default_factory=dict)  # other file → indicators with the same value

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class SeedReport:
    registry: dict[str, int] = field(default_factory=dict)
    corrections: list[str] = field(default_factory=list)
    galaxy_dangling: list[str] = field(default_factory=list)
    files: list[FileReport] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "registry": self.registry,
            "corrections": self.corrections,
            "galaxy_dangling": self.galaxy_dangling,
            "files": [f.as_dict() for f in self.files],
        }


def _file_entry(name: str, vendor: str | None, product: str | None, g: Galaxy) -> dict[str, Any] | None:
    """What a file is about: given on the command line, else the curated entry for a shipped file name."""
    if product:
        vid = None
        if vendor:
            vid = vendor_uuid(g, vendor)
        return {"vendor": vid, "product": product}
    base = Path(name).name
    return next((f for f in curated()["files"] if f["file"] == base), None)


def file_links(
    name: str, found: list[dict[str, Any]], entry: dict[str, Any], vendor_name: str | None
) -> list[dict[str, Any]]:
    """What ties one indicator file to the registry: its malware ``duplicate-of`` the product, and — when it
    holds network indicators — an ``infrastructure`` the product ``uses`` and those indicators ``indicate``.

    ``entry`` is the curated entry of a shipped file, or ``{"vendor", "product"}`` for a file named on the
    command line (whose infrastructure then has type ``unknown`` and no source but the file)."""
    stamp = curated()["version"]
    base = Path(name).name
    pid = product_id(entry["vendor"], entry["product"])
    out = [
        relationship("duplicate-of", o["id"], pid, stamp, f"The malware of indicator file {base}")
        for o in found
        if o.get("type") == "malware"
    ]
    network = list(
        dict.fromkeys(
            o["id"]
            for o in found
            if o.get("type") == "indicator"
            and isinstance(o.get("pattern"), str)
            and (_pattern_key(o["pattern"], str(o.get("spec_version", "2.1"))) or "").startswith(NETWORK_KEYS)
        )
    )
    if not network:
        return out
    label = f"{entry['product']} ({vendor_name})" if vendor_name else entry["product"]
    role = entry.get("infrastructure") or {}
    types = role.get("types") or ["unknown"]
    if role:
        why = role["basis"]
    else:
        why = (
            f"The source publishes these domains and addresses as indicators of {label} without saying what "
            "each one is for (exploit delivery, installation, command and control), so the type is 'unknown'."
        )
    infra: dict[str, Any] = {
        "type": "infrastructure",
        "id": _sid("infrastructure", f"infrastructure|{base}|{pid}"),
        **_common(stamp),
        "name": f"{label} infrastructure ({entry.get('source') or base}"
        + (f", {entry['published'][:4]})" if entry.get("published") and not entry.get("x_accord_unverified") else ")"),
        "description": f"The network infrastructure behind {label} that indicator file {base} names "
        f"({len(network)} domains and addresses, each an indicator that 'indicates' this object). {why}",
        "infrastructure_types": types,
        "x_accord_indicator_file": base,
    }
    if entry.get("refs"):
        infra["external_references"] = _refs(entry["refs"], entry["source"])
    else:  # a file named on the command line: the file is the only source known
        infra["external_references"] = [{"source_name": "indicator file", "external_id": base}]
    out.append(infra)
    out.append(relationship("uses", pid, infra["id"], stamp, f"{label} uses the infrastructure {base} names"))
    out += [relationship("indicates", ind, infra["id"], stamp) for ind in network]
    return out


def vendor_uuid(g: Galaxy, name: str) -> str:
    """A vendor's uuid by name, alias or uuid (case-insensitive); NotFound naming what was asked."""
    key = name.strip().lower()
    for v in g.vendors.values():
        if key in (v.uuid, f"identity--{v.uuid}", v.name.lower()) or key in (a.lower() for a in v.aliases):
            return v.uuid
    raise NotFound(f"no surveillance vendor named {name!r} in the registry (see 'accord spyware list')")


def _pattern_key(pattern: str, spec: str) -> str | None:
    from accord.spyware.correlate import value_key  # noqa: PLC0415

    return value_key(pattern, spec)


def seed(
    hub: Hub,
    publisher: Viewer,
    files: Iterable[tuple[str, bytes]] | None = None,
    *,
    galaxy: bytes | None = None,
    vendor: str | None = None,
    product: str | None = None,
    tlp: str = "clear",
    audience: str = "public",
) -> SeedReport:
    """Store the registry and the indicator files (the shipped ones when ``files`` is None)."""
    g = galaxy_from(galaxy) if galaxy is not None else shipped_galaxy()
    report = SeedReport(corrections=g.corrections, galaxy_dangling=g.dangling)
    hub.install_extensions()
    objs = registry_objects(g)
    opts = hub.options(tlp=tlp, audience=audience, via="spyware-seed", source="accord spyware registry")
    result = hub.ingest(publisher, [Item(i, o) for i, o in enumerate(objs)], opts)
    if result.rejected:
        first = result.errors[0]
        raise InvalidInput(f"the registry could not be stored: {first.id}: {first.reason}")
    counts: dict[str, int] = {}
    for o in objs:
        counts[o["type"]] = counts.get(o["type"], 0) + 1
    counts["target_groups"] = sum(1 for o in objs if TARGET_LABEL in o.get("labels", []))
    report.registry = {
        **counts,
        "added": result.added,
        "unchanged": result.unchanged,
        "new_version": result.new_version,
    }
    stamp = curated()["version"]
    keys_by_file: dict[str, set[str]] = {}
    for name, data in files if files is not None else shipped_files():
        fr = FileReport(name=name)
        report.files.append(fr)
        items = list(read_bytes(data, hub.settings.max_bundle_bytes))
        bad = [i for i in items if i.error or not isinstance(i.obj, dict)]
        if bad:
            raise InvalidInput(f"{name}: object {bad[0].index + 1}: {bad[0].error or 'not a JSON object'}")
        found = [i.obj for i in items]
        ids = {o.get("id") for o in found}
        malware = [o for o in found if o.get("type") == "malware"]
        fr.malware = [f"{m.get('name')} ({m['id']})" for m in malware]
        fr.indicators = sum(1 for o in found if o.get("type") == "indicator")
        keys = {
            k
            for o in found
            if o.get("type") == "indicator" and isinstance(o.get("pattern"), str)
            for k in [_pattern_key(o["pattern"], str(o.get("spec_version", "2.1")))]
            if k
        }
        for other, their in keys_by_file.items():
            common = len(keys & their)
            if common:
                fr.shared_values[other] = common
        keys_by_file[name] = keys
        refs = {
            r
            for o in found
            if o.get("type") == "relationship"
            for r in (o.get("source_ref"), o.get("target_ref"))
            if isinstance(r, str) and r not in ids
        }
        held = set(hub.lookup(publisher, refs)) if refs else set()
        for o in found:
            if o.get("type") != "relationship":
                continue
            for prop in ("source_ref", "target_ref"):
                ref = o.get(prop)
                if isinstance(ref, str) and ref not in ids and ref not in held:
                    fr.dangling.append(
                        f"{o.get('id')}: '{prop}' names {ref}, which is neither in the file nor on "
                        "the hub (stored anyway; it links nothing)"
                    )
        entry = _file_entry(name, vendor, product, g)
        links: list[dict[str, Any]] = []
        if entry is not None and malware and (entry["vendor"] is None or entry["vendor"] in g.vendors):
            pid = product_id(entry["vendor"], entry["product"])
            fr.product = entry["product"]
            fr.vendor = g.vendors[entry["vendor"]].name if entry["vendor"] else None
            if not any(o["id"] == pid for o in objs):
                # A product named on the command line that the registry does not hold yet.
                extra = {
                    "type": "malware",
                    "id": pid,
                    **_common(stamp),
                    "name": entry["product"],
                    "is_family": True,
                    "malware_types": [SPYWARE],
                }
                links.append(extra)
                if entry["vendor"]:
                    links.append(relationship("authored-by", pid, f"identity--{entry['vendor']}", stamp))
            links += file_links(name, found, entry, fr.vendor)
            fr.infrastructure = sum(1 for o in links if o["type"] == "infrastructure")
        res = hub.ingest(
            publisher,
            [*items, *(Item(len(items) + i, o) for i, o in enumerate(links))],
            hub.options(tlp=tlp, audience=audience, via="spyware-seed", source=Path(name).name),
        )
        fr.added, fr.unchanged, fr.new_version = res.added, res.unchanged, res.new_version
        fr.rejected = [f"{e.id}: {e.reason}" for e in res.errors]
    return report
