"""Impact totals and per-actor timelines, computed only from the disruption actions a viewer can see.

``totals`` groups visible actions by region (as declared, else the continent-level UN M49 regions of
their countries), sub-region, country, partner, actor or action type, and by year or quarter, and adds
up their outcome counts. Amounts are kept per currency and per kind (assets seized,
rewards offered, losses prevented): different currencies are never added together. An action counts
once in each group it belongs to (an action led by GB and NL counts for both countries), so groups are
not additive; ``total`` counts every visible action once.

Names come only from what the viewer can see: a partner or actor the viewer cannot see is reported as
``(not visible to you)``, never by its name or id.

An action whose date is only a bound (``x_accord_undated``: an OFAC designation known from the SDN
list, which carries no dates, is dated by the list) falls in the period ``undated`` rather than in the
list's year or quarter, so it never inflates a period it may not belong to.

``timeline`` lists, oldest first, the visible actions that target an actor (found by id, name or alias)
or anything a visible relationship ties to it (its members, its malware, its infrastructure).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy import Connection

from accord.access.visibility import Visibility
from accord.errors import InvalidInput, NotFound
from accord.stix.extensions import AMOUNT_FIELDS, COUNT_FIELDS, DISRUPTION_ACTION
from accord.stix.timestamps import parse
from accord.store import objects as store

DIMENSIONS = ("region", "subregion", "country", "partner", "actor", "type")
PERIODS = ("year", "quarter", "all")
HIDDEN = "(not visible to you)"
UNSPECIFIED = "(unspecified)"
UNDATED = "undated"
ACTOR_TYPES = ("threat-actor", "intrusion-set", "malware", "campaign", "tool")
_READABLE = {
    "arrests": "arrests", "warrants": "warrants", "indictments": "indictments", "convictions": "convictions",
    "extraditions": "extraditions", "designations": "designations", "servers": "servers", "domains": "domains",
    "accounts": "accounts", "decryption_keys": "decryption keys", "victims_notified": "victims notified",
    "victims_identified": "victims identified", "networks_dismantled": "networks dismantled",
    "countries_involved": "countries involved",
}  # fmt: skip
_SINGULAR = {
    "arrests": "arrest", "warrants": "warrant", "indictments": "indictment", "convictions": "conviction",
    "extraditions": "extradition", "designations": "designation", "servers": "server", "domains": "domain",
    "accounts": "account", "decryption_keys": "decryption key", "victims_notified": "victim notified",
    "victims_identified": "victim identified", "networks_dismantled": "network dismantled",
    "countries_involved": "country involved",
}  # fmt: skip
_AMOUNT_WORDS = {"assets_seized": "seized", "rewards_offered": "offered in rewards", "losses_prevented": "prevented"}


def visible_actions(conn: Connection, vis: Visibility) -> list[dict[str, Any]]:
    """Every current, unrevoked disruption action the viewer can see."""
    f = store.Filters(types=(DISRUPTION_ACTION,), include_revoked=False)
    return [row["data"] for row in store.iter_current(conn, vis, f)]


def _names(conn: Connection, vis: Visibility, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """id → visible object, for the ids the viewer can see."""
    out: dict[str, dict[str, Any]] = {}
    for part in store.chunks(sorted(set(ids))):
        for row in store.search(conn, vis, store.Filters(ids=tuple(part)), limit=len(part)):
            out[row["stix_id"]] = row["data"]
    return out


def _undated(action: dict[str, Any]) -> bool:
    return action.get("x_accord_undated") is True


def period_of(stamp: str, period: str) -> str:
    dt = parse(stamp)
    if period == "year":
        return str(dt.year)
    if period == "quarter":
        return f"{dt.year}-Q{(dt.month - 1) // 3 + 1}"
    return "all"


@dataclass
class Total:
    actions: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    amounts: dict[str, dict[str, float]] = field(default_factory=dict)
    action_types: dict[str, int] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)

    def add(self, action: dict[str, Any]) -> None:
        self.actions += 1
        self.ids.append(action["id"])
        for kind in action.get("action_types") or ():
            self.action_types[kind] = self.action_types.get(kind, 0) + 1
        outcomes = action.get("outcomes") or {}
        for name in COUNT_FIELDS:
            if isinstance(outcomes.get(name), int):
                self.counts[name] = self.counts.get(name, 0) + outcomes[name]
        for name in AMOUNT_FIELDS:
            for amount in outcomes.get(name) or ():
                per = self.amounts.setdefault(name, {})
                per[amount["currency"]] = per.get(amount["currency"], 0) + amount["amount"]

    def summary(self) -> str:
        """'1,006 arrests, 3 networks dismantled, USD 1,200,000 seized' (non-zero figures only)."""
        parts = [f"{self.actions:,} action{'s' if self.actions != 1 else ''}"]
        parts += [
            f"{v:,} {_READABLE[k] if v != 1 else _SINGULAR.get(k, _READABLE[k])}" for k, v in self.counts.items() if v
        ]
        for kind, per in self.amounts.items():
            for cur, value in sorted(per.items()):
                shown = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.4f}".rstrip("0")
                parts.append(f"{cur} {shown} {_AMOUNT_WORDS[kind]}")
        return ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {"actions": self.actions, "counts": dict(sorted(self.counts.items())),
                "amounts": {k: dict(sorted(v.items())) for k, v in sorted(self.amounts.items())},
                "action_types": dict(sorted(self.action_types.items())), "summary": self.summary(),
                "action_ids": self.ids}  # fmt: skip


@cache
def country_regions() -> dict[str, list[str]]:
    """ISO 3166-1 alpha-2 → [sub-region, …, continent] as STIX region-ov values (package data from the MISP
    galaxy's UN M49 regions)."""
    text = resources.files("accord.actions").joinpath("data/country-regions.json").read_text(encoding="utf-8")
    return json.loads(text)["countries"]


def _country_regions(action: dict[str, Any]) -> list[list[str]]:
    table = country_regions()
    codes = dict.fromkeys([*(action.get("lead_countries") or ()), *(action.get("partner_countries") or ())])
    return [table[c] for c in codes if c in table]


def _keys(action: dict[str, Any], by: str, seen: dict[str, dict[str, Any]]) -> list[str]:
    """The groups one action belongs to along one dimension."""
    if by == "type":
        keys = list(action.get("action_types") or ())
    elif by == "region":  # as declared; else the continent-level regions of its countries
        keys = list(action.get("regions") or ()) or [r[-1] for r in _country_regions(action)]
    elif by == "subregion":  # the UN M49 sub-regions of its countries
        keys = [r[0] for r in _country_regions(action)]
    elif by == "country":
        keys = list(dict.fromkeys([*(action.get("lead_countries") or ()), *(action.get("partner_countries") or ())]))
    elif by == "partner":
        refs = [*(action.get("lead_refs") or ()), *(action.get("partner_refs") or ())]
        if not refs and action.get("created_by_ref"):
            refs = [action["created_by_ref"]]
        keys = [seen[r].get("name", r) if r in seen else HIDDEN for r in refs]
    else:  # actor
        keys = [seen[r].get("name", r) if r in seen else HIDDEN
                for r in action.get("target_refs") or () if r.split("--")[0] in ACTOR_TYPES]  # fmt: skip
    return list(dict.fromkeys(keys)) or [UNSPECIFIED]


def totals(conn: Connection, vis: Visibility, by: str = "type", period: str = "year") -> dict[str, Any]:
    """Impact totals along one dimension and period, from the actions visible through ``vis``."""
    if by not in DIMENSIONS:
        raise InvalidInput(f"unknown --by {by!r}; use one of: {', '.join(DIMENSIONS)}")
    if period not in PERIODS:
        raise InvalidInput(f"unknown --period {period!r}; use one of: {', '.join(PERIODS)}")
    actions = visible_actions(conn, vis)
    refs: set[str] = set()
    for a in actions:
        refs.update(a.get("lead_refs") or ())
        refs.update(a.get("partner_refs") or ())
        refs.update(a.get("target_refs") or ())
        if a.get("created_by_ref"):
            refs.add(a["created_by_ref"])
    seen = _names(conn, vis, refs) if by in ("partner", "actor") else {}
    groups: dict[tuple[str, str], Total] = {}
    grand = Total()
    for a in sorted(actions, key=lambda x: x["action_date"]):
        grand.add(a)
        when = UNDATED if _undated(a) and period != "all" else period_of(a["action_date"], period)
        for key in _keys(a, by, seen):
            groups.setdefault((key, when), Total()).add(a)
    rows = [{by: key, "period": when, **t.as_dict()} for (key, when), t in sorted(groups.items())]
    return {"by": by, "period": period, "groups": rows, "total": grand.as_dict()}


def _actor_ids(conn: Connection, vis: Visibility, actor: str) -> tuple[list[dict[str, Any]], set[str]]:
    """The visible objects that are the actor (by id, name or alias), and every id tied to them."""
    needle = actor.strip().lower()
    if not needle:
        raise InvalidInput("name an actor, e.g. LockBit or intrusion-set--…")
    if "--" in needle:
        rows = [r for r in store.search(conn, vis, store.Filters(ids=(actor.strip(),)), limit=1)]
    else:
        rows = []
        for row in store.search(conn, vis, store.Filters(types=(*ACTOR_TYPES, "identity"), text=needle), limit=2000):
            d = row["data"]
            names = {d.get("name"), *(d.get("aliases") or ()), *(d.get("x_mitre_aliases") or ()),
                     *(d.get("x_accord_aliases") or ())}  # fmt: skip
            if needle in {n.lower() for n in names if isinstance(n, str)}:
                rows.append(row)
    if not rows:
        raise NotFound(f"no threat actor, intrusion set, malware or identity named {actor!r} that you can see")
    core = {r["stix_id"] for r in rows}
    tied = set(core)
    for sid in core:
        for rel in store.relationships_of(conn, vis, sid, limit=10000):
            d = rel["data"]
            if rel["type"] == "relationship":
                tied.update(x for x in (d.get("source_ref"), d.get("target_ref")) if isinstance(x, str))
    return [r["data"] for r in rows], tied


def timeline(conn: Connection, vis: Visibility, actor: str) -> dict[str, Any]:
    """The visible actions against an actor (and what is tied to it), oldest first."""
    matched, tied = _actor_ids(conn, vis, actor)
    entries = []
    for a in sorted(visible_actions(conn, vis), key=lambda x: x["action_date"]):
        via = [r for r in a.get("target_refs") or () if r in tied]
        if not via:
            continue
        entries.append({
            "date": a["action_date"], "undated": _undated(a), "id": a["id"], "name": a.get("name"),
            "action_types": a.get("action_types"),
            "operation": a.get("operation_name"), "phase": a.get("operation_phase"),
            "summary": _one(a).summary(), "outcomes": a.get("outcomes") or {},
            "sources": [r.get("url") for r in a.get("external_references") or () if r.get("url")],
            "targets": via,
        })  # fmt: skip
    return {"actor": [{"id": m["id"], "type": m["type"], "name": m.get("name")} for m in matched],
            "actions": entries}  # fmt: skip


def _one(action: dict[str, Any]) -> Total:
    t = Total()
    t.add(action)
    return t
