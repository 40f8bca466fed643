"""The spyware registry as one viewer sees it: vendors, products, exploits, investigations, regulatory
status, and the indicators that point at each product — correlated by value across sources.

Built from STIX objects only (``Registry.from_objects``), so the same code reads the local hub (through
``Hub.export`` / ``Hub.lookup``, which apply the visibility rule) and a bundle fetched from a remote hub.

* a **vendor** is an ``identity`` labelled ``surveillance-vendor``;
* a **product** is a ``malware`` with ``malware_types`` spyware, or one ``authored-by`` a vendor;
* an **indicator** belongs to a product when it ``indicates`` the product, or a malware that is
  ``duplicate-of`` the product (an indicator file's own malware object);
* **infrastructure**: ``infrastructure`` a product ``uses``, with the indicators that ``indicate`` it;
* **victimology**: the groups of people (``identity`` of class ``class``, label ``spyware-target-group``)
  that the product's investigations (``campaign`` ``uses`` product) ``targets``, by sector;
* **regulatory status**: ``disruption-action`` sanctions whose targets or designations name the vendor
  (by reference, or by a designated name that is the vendor's name or one of its aliases).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from accord.errors import NotFound
from accord.spyware.correlate import group_by_value
from accord.spyware.seed import SPYWARE, TARGET_LABEL, VENDOR_LABEL

if TYPE_CHECKING:
    from accord.access.viewer import Viewer
    from accord.hub import Hub

__all__ = ["Registry", "load", "REGISTRY_TYPES"]

REGISTRY_TYPES = (
    "identity",
    "malware",
    "relationship",
    "vulnerability",
    "campaign",
    "infrastructure",
    "disruption-action",
)
_WORDS = re.compile(r"[^a-z0-9]+")


def _norm(name: str) -> str:
    return _WORDS.sub(" ", name.lower()).strip()


@dataclass
class Registry:
    vendors: dict[str, dict[str, Any]] = field(default_factory=dict)
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    malware: dict[str, dict[str, Any]] = field(default_factory=dict)  # every malware seen (file malware too)
    authored: dict[str, list[str]] = field(default_factory=dict)  # product → vendors
    duplicate_of: dict[str, list[str]] = field(default_factory=dict)  # malware → products
    exploits: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # product → vulnerabilities
    campaigns: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # product → campaigns
    infrastructure: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # product → infrastructure
    infra_indicators: dict[str, list[str]] = field(default_factory=dict)  # infrastructure → indicators
    infra_objects: dict[str, dict[str, Any]] = field(default_factory=dict)  # infrastructure a product uses
    infra_relationships: list[dict[str, Any]] = field(default_factory=list)  # those 'uses' and 'indicates'
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # targeted groups of people
    targets: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = field(
        default_factory=dict
    )  # campaign → (group, rel)
    vendor_links: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    indicators: dict[str, dict[str, Any]] = field(default_factory=dict)
    indicates: dict[str, list[str]] = field(default_factory=dict)  # indicator → malware it indicates
    relationships: list[dict[str, Any]] = field(default_factory=list)  # the ones the registry uses
    by_value: dict[str, list[str]] = field(default_factory=dict)  # correlation key → indicator ids
    key_of: dict[str, str] = field(default_factory=dict)  # indicator id → correlation key

    # -- building ------------------------------------------------------------------------------

    @classmethod
    def from_objects(cls, objects: Iterable[dict[str, Any]]) -> Registry:
        """The registry in a set of STIX objects (the current versions; revoked ones are left out)."""
        reg = cls()
        rels: list[dict[str, Any]] = []
        others: dict[str, dict[str, Any]] = {}
        indicators: dict[str, dict[str, Any]] = {}
        for obj in objects:
            if not isinstance(obj, dict) or obj.get("revoked"):
                continue
            typ = obj.get("type")
            if typ == "relationship":
                rels.append(obj)
            elif typ == "indicator":
                indicators[obj["id"]] = obj
            elif typ == "identity" and VENDOR_LABEL in (obj.get("labels") or []):
                reg.vendors[obj["id"]] = obj
            elif typ == "identity" and TARGET_LABEL in (obj.get("labels") or []):
                reg.groups[obj["id"]] = obj
            elif typ == "malware":
                reg.malware[obj["id"]] = obj
            elif typ == "disruption-action" and "sanction" in (obj.get("action_types") or []):
                reg.actions.append(obj)
            elif typ in ("vulnerability", "campaign", "infrastructure"):
                others[obj["id"]] = obj
        for m in reg.malware.values():
            if SPYWARE in (m.get("malware_types") or []):
                reg.products[m["id"]] = m
        for r in rels:
            kind, src, dst = r.get("relationship_type"), r.get("source_ref"), r.get("target_ref")
            if kind == "authored-by" and src in reg.malware and dst in reg.vendors:
                reg.products.setdefault(src, reg.malware[src])
                reg.authored.setdefault(src, []).append(dst)
                reg.relationships.append(r)
            elif src in reg.vendors and dst in reg.vendors:
                reg.vendor_links.append(r)
                reg.relationships.append(r)
        for r in rels:
            kind, src, dst = r.get("relationship_type"), r.get("source_ref"), r.get("target_ref")
            if kind == "duplicate-of" and src in reg.malware and dst in reg.products:
                reg.duplicate_of.setdefault(src, []).append(dst)
                reg.relationships.append(r)
            elif kind == "exploits" and src in reg.products and dst in others:
                reg.exploits.setdefault(src, []).append(others[dst])
                reg.relationships.append(r)
            elif kind == "uses" and dst in reg.products and src in others:
                reg.campaigns.setdefault(dst, []).append(others[src])
                reg.relationships.append(r)
            elif kind == "uses" and src in reg.products and others.get(dst, {}).get("type") == "infrastructure":
                reg.infrastructure.setdefault(src, []).append(others[dst])
                reg.infra_objects[dst] = others[dst]
                reg.infra_relationships.append(r)
            elif kind == "targets" and src in others and dst in reg.groups:
                reg.targets.setdefault(src, []).append((reg.groups[dst], r))
        for r in rels:
            src, dst = r.get("source_ref"), r.get("target_ref")
            if r.get("relationship_type") == "indicates" and src in indicators and reg._points_at_product(dst):
                reg.indicates.setdefault(src, []).append(dst)
                reg.indicators[src] = indicators[src]
                reg.relationships.append(r)
            elif r.get("relationship_type") == "indicates" and src in indicators and dst in reg.infra_objects:
                reg.infra_indicators.setdefault(dst, []).append(src)
                reg.infra_relationships.append(r)
        reg.by_value = group_by_value(reg.indicators.values())
        reg.key_of = {i: k for k, ids in reg.by_value.items() for i in ids}
        return reg

    def _points_at_product(self, malware_id: Any) -> bool:
        return isinstance(malware_id, str) and (malware_id in self.products or malware_id in self.duplicate_of)

    # -- questions -----------------------------------------------------------------------------

    def products_of_malware(self, malware_id: str) -> list[str]:
        if malware_id in self.products:
            return [malware_id]
        return list(self.duplicate_of.get(malware_id, []))

    def correlated(self, indicator_id: str) -> list[str]:
        """The indicator and every other indicator with the same value, in a stable order."""
        key = self.key_of.get(indicator_id)
        return sorted(self.by_value.get(key, [indicator_id])) if key else [indicator_id]

    def products_of(self, indicator_ids: Iterable[str]) -> list[str]:
        """Products the indicators point at (directly or through an indicator file's malware)."""
        out: dict[str, None] = {}
        for ind in indicator_ids:
            for m in self.indicates.get(ind, []):
                out.update(dict.fromkeys(self.products_of_malware(m)))
        return list(out)

    def infrastructure_of(self, indicator_ids: Iterable[str]) -> list[dict[str, Any]]:
        """The infrastructure the indicators indicate (id, name, types), in a stable order."""
        wanted = set(indicator_ids)
        return [
            {"id": iid, "name": obj.get("name"), "infrastructure_types": obj.get("infrastructure_types", [])}
            for iid, obj in sorted(self.infra_objects.items())
            if wanted.intersection(self.infra_indicators.get(iid, ()))
        ]

    def vendors_of(self, product_ids: Iterable[str]) -> list[str]:
        out: dict[str, None] = {}
        for p in product_ids:
            out.update(dict.fromkeys(self.authored.get(p, [])))
        return list(out)

    def product_indicators(self, product_id: str) -> list[str]:
        return [i for i, ms in self.indicates.items() if any(product_id in self.products_of_malware(m) for m in ms)]

    def sanctions_of(self, vendor_id: str) -> list[dict[str, Any]]:
        vendor = self.vendors[vendor_id]
        names = {_norm(vendor.get("name", ""))} | {_norm(a) for a in vendor.get("x_accord_aliases") or []}
        names.discard("")
        out = []
        for action in self.actions:
            hit = vendor_id in (action.get("target_refs") or [])
            for s in action.get("sanctions") or []:
                if s.get("designated_ref") == vendor_id:
                    hit = True
                elif isinstance(s.get("designated_name"), str):
                    hit = hit or _norm(s["designated_name"]) in names
            if hit:
                out.append(action)
        return sorted(out, key=lambda a: a.get("action_date", ""))

    def find(self, name: str) -> list[tuple[str, str]]:
        """(kind, id) of every vendor and product whose id, name or alias is ``name`` (case-insensitive)."""
        key = name.strip()
        norm = _norm(key)
        found: list[tuple[str, str]] = []
        for kind, table, alias_prop in (
            ("vendor", self.vendors, "x_accord_aliases"),
            ("product", self.products, "aliases"),
        ):
            for oid, obj in table.items():
                names = [obj.get("name", ""), *(obj.get(alias_prop) or [])]
                if key == oid or norm in {_norm(n) for n in names if isinstance(n, str)}:
                    found.append((kind, oid))
        return found

    # -- views ---------------------------------------------------------------------------------

    def _ref(self, oid: str) -> dict[str, Any]:
        obj = self.vendors.get(oid) or self.products.get(oid) or self.malware.get(oid) or {}
        out = {"id": oid, "name": obj.get("name", oid)}
        if oid in self.products:
            vendors = self.authored.get(oid, [])
            out["vendors"] = [self.vendors[v].get("name") for v in vendors]
        return out

    def product_label(self, product_id: str) -> str:
        """'Predator (Cytrox)', or the name alone when no vendor is known."""
        ref = self._ref(product_id)
        vendors = ref.get("vendors") or []
        return f"{ref['name']} ({', '.join(vendors)})" if vendors else str(ref["name"])

    def summary(self) -> list[dict[str, Any]]:
        """One row per vendor (with its products), then products with no known vendor."""
        rows = []
        by_vendor: dict[str, list[str]] = {}
        for p, vs in self.authored.items():
            for v in vs:
                by_vendor.setdefault(v, []).append(p)
        counts = {p: len(self.product_indicators(p)) for p in self.products} if self.indicators else {}
        for vid, v in sorted(self.vendors.items(), key=lambda kv: kv[1].get("name", "").lower()):
            prods = sorted(by_vendor.get(vid, []), key=lambda p: self.products[p].get("name", ""))
            rows.append(
                {
                    "kind": "vendor",
                    "id": vid,
                    "name": v.get("name"),
                    "aliases": v.get("x_accord_aliases", []),
                    "products": [self.products[p].get("name") for p in prods],
                    "indicators": sum(counts.get(p, 0) for p in prods),
                    "sanctions": len(self.sanctions_of(vid)),
                    "targeted_sectors": [r["sector"] for r in self.victimology(prods)],
                }
            )
        for pid, p in sorted(self.products.items(), key=lambda kv: kv[1].get("name", "").lower()):
            if pid not in self.authored:
                rows.append(
                    {
                        "kind": "product",
                        "id": pid,
                        "name": p.get("name"),
                        "aliases": p.get("aliases", []),
                        "products": [p.get("name")],
                        "indicators": counts.get(pid, 0),
                        "sanctions": 0,
                        "targeted_sectors": [r["sector"] for r in self.victimology([pid])],
                    }
                )
        return rows

    def shared_with(self, product_id: str) -> list[dict[str, Any]]:
        """Other products that share indicator values with this one, and how many values."""
        mine = {self.key_of[i] for i in self.product_indicators(product_id) if i in self.key_of}
        counts: dict[str, int] = {}
        for key in mine:
            others = set(self.products_of(self.by_value[key])) - {product_id}
            for o in others:
                counts[o] = counts.get(o, 0) + 1
        return [
            {"product": self._ref(o), "label": self.product_label(o), "shared_values": n}
            for o, n in sorted(counts.items(), key=lambda kv: -kv[1])
        ]

    def product_view(self, product_id: str) -> dict[str, Any]:
        p = self.products[product_id]
        inds = self.product_indicators(product_id)
        sources = sorted({m for i in inds for m in self.indicates.get(i, [])})
        return {
            "kind": "product",
            "id": product_id,
            "name": p.get("name"),
            "label": self.product_label(product_id),
            "aliases": p.get("aliases", []),
            "description": p.get("description"),
            "malware_types": p.get("malware_types", []),
            "capabilities": p.get("capabilities", []),
            "platforms": p.get("x_accord_platforms", []),
            "unverified": bool(p.get("x_accord_unverified")),
            "vendors": [self._vendor_brief(v) for v in self.authored.get(product_id, [])],
            "exploits": sorted(v.get("name", "") for v in self.exploits.get(product_id, [])),
            "investigations": [self._campaign(c) for c in self.campaigns.get(product_id, [])],
            "victimology": self.victimology([product_id]),
            "infrastructure": [self._infrastructure(i) for i in self.infrastructure.get(product_id, [])],
            "indicators": len(inds),
            "indicator_sets": [
                {
                    "id": m,
                    "name": self.malware.get(m, {}).get("name"),
                    "description": self.malware.get(m, {}).get("description"),
                    "indicators": sum(1 for i in inds if m in self.indicates.get(i, [])),
                }
                for m in sources
            ],
            "shares_indicators_with": self.shared_with(product_id),
        }

    def _vendor_brief(self, vid: str) -> dict[str, Any]:
        return {"id": vid, "name": self.vendors[vid].get("name")}

    def _campaign(self, c: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": c.get("name"),
            "reported": c.get("x_accord_reported"),
            "unverified": bool(c.get("x_accord_unverified")),
            "targeted": [g.get("name") for g, _r in self.targets.get(c["id"], [])],
            "description": c.get("description"),
            "references": _urls(c),
        }

    def _infrastructure(self, infra: dict[str, Any]) -> dict[str, Any]:
        inds = self.infra_indicators.get(infra["id"], [])
        return {
            "id": infra["id"],
            "name": infra.get("name"),
            "infrastructure_types": infra.get("infrastructure_types", []),
            "description": infra.get("description"),
            "indicators": len(inds),
            "references": _urls(infra),
            "unverified": bool(infra.get("x_accord_unverified")),
        }

    def victimology(self, product_ids: Iterable[str]) -> list[dict[str, Any]]:
        """Per sector: the groups of people the products' investigations found targeted, with the
        investigations and the sources that name them (a claim no source confirms is marked unverified).
        A group's first sector is its sector in Accord's vocabulary; the others (the STIX open-vocabulary
        twin of an Accord value, such as non-profit for nonprofit) are listed as ``also``."""
        rows: dict[str, dict[str, Any]] = {}
        for pid in product_ids:
            for camp in self.campaigns.get(pid, []):
                for group, rel in self.targets.get(camp["id"], []):
                    sector, *also = group.get("sectors") or ["(no sector)"]
                    row = rows.setdefault(
                        sector,
                        {"sector": sector, "also": [], "groups": [], "investigations": [], "sources": [],
                         "unverified": False},
                    )  # fmt: skip
                    for key, values in (("also", also), ("groups", [group.get("name")]),
                                        ("investigations", [camp.get("name")]), ("sources", _urls(rel))):  # fmt: skip
                        row[key] += [v for v in values if v not in row[key]]
                    row["unverified"] = row["unverified"] or bool(rel.get("x_accord_unverified"))
        return [rows[k] for k in sorted(rows)]

    def vendor_view(self, vendor_id: str) -> dict[str, Any]:
        v = self.vendors[vendor_id]
        prods = [p for p, vs in self.authored.items() if vendor_id in vs]
        links = []
        for r in self.vendor_links:
            if r["source_ref"] == vendor_id:
                links.append({"relationship": r["relationship_type"], "vendor": self._vendor_brief(r["target_ref"])})
            elif r["target_ref"] == vendor_id:
                links.append(
                    {"relationship": f"{r['relationship_type']} (from)", "vendor": self._vendor_brief(r["source_ref"])}
                )
        return {
            "kind": "vendor",
            "id": vendor_id,
            "name": v.get("name"),
            "aliases": v.get("x_accord_aliases", []),
            "description": v.get("description"),
            "corrections": v.get("x_accord_corrections", []),
            "products": [self.product_view(p) for p in sorted(prods, key=lambda p: self.products[p].get("name", ""))],
            "victimology": self.victimology(prods),
            "related_vendors": links,
            "regulatory_status": [
                {
                    "id": a["id"],
                    "name": a.get("name"),
                    "date": a.get("action_date"),
                    "undated": a.get("x_accord_undated") is True,
                    "authorities": sorted({s.get("authority", "") for s in a.get("sanctions") or []} - {""}),
                    "legal_basis": a.get("legal_basis", []),
                    "description": a.get("description"),
                }
                for a in self.sanctions_of(vendor_id)
            ],
            "references": _urls(v),
        }

    def show(self, name: str) -> list[dict[str, Any]]:
        """Every vendor and product called ``name``; NotFound naming it when there is none."""
        found = self.find(name)
        if not found:
            raise NotFound(f"no spyware vendor or product called {name!r} that you can see (see 'accord spyware list')")
        return [self.vendor_view(i) if kind == "vendor" else self.product_view(i) for kind, i in found]

    def bundle_objects(self) -> Iterator[dict[str, Any]]:
        """What a device check needs: vendors, products, indicator-file malware, the links, indicators, and
        the infrastructure they indicate (so a finding can name it)."""
        yield from self.vendors.values()
        yield from self.malware.values()
        yield from self.relationships
        yield from self.indicators.values()
        yield from self.infra_objects.values()
        yield from self.infra_relationships


def _urls(obj: dict[str, Any]) -> list[str]:
    return [r["url"] for r in obj.get("external_references") or [] if r.get("url")]


def load(hub: Hub, viewer: Viewer, *, with_indicators: bool = True) -> Registry:
    """The registry the viewer may see on this hub."""
    objs: list[dict[str, Any]] = list(hub.export(viewer, types=REGISTRY_TYPES))
    if with_indicators:
        targets = {o["id"] for o in objs if o.get("type") == "malware"}
        wanted = sorted(
            {
                o["source_ref"]
                for o in objs
                if o.get("type") == "relationship"
                and o.get("relationship_type") == "indicates"
                and o.get("target_ref") in targets
                and str(o.get("source_ref", "")).startswith("indicator--")
            }
        )
        for start in range(0, len(wanted), 1000):
            found = hub.lookup(viewer, wanted[start : start + 1000])
            objs.extend(row["object"] for row in found.values())
    return Registry.from_objects(objs)
