"""OFAC SDN cyber designations → STIX: identities, threat-actor links, sanction actions and indicators.

``parse_sdn`` reads OFAC's ``sdn.csv`` (no header — a header row is tolerated —, ``-0-`` for null,
programs packed as ``CYBER2] [ELECTION-EO13848``, remarks packing aliases, e-mail addresses, digital
currency addresses and ``Linked To:`` separated by ``; ``) and keeps the CYBER-program entries and the
entries of other programs they are linked to. OFAC cuts long remarks off; the cut-off last item is
dropped (and reported) rather than turned into a wrong address.

``build`` turns the entries into STIX with ids derived from the SDN entry number (and from the address
for indicators), so importing a newer list gives new versions of what changed and never duplicates:

* an ``identity`` per entry (individual, organization; vessels and aircraft ``unspecified``), with
  its aliases, programs and SDN entry number (``external_references``);
* ``related-to`` relationships for ``Linked To:``;
* an ``indicator`` per digital-currency address (``cryptocurrency-wallet:value``) and e-mail address,
  ``related-to`` the entry (an address listed for two entries is one indicator with two links);
* for the designations in ``data/ofac-designations.json`` (Evil Corp, LockBit affiliates, the
  Intellexa consortium with Cytrox …: the list itself has no dates and no link to the groups), a
  ``related-to`` link from each designated entry to the threat actor — the ones the importer can
  already see by name or alias, else a threat-actor this importer declares — and a ``sanction``
  ``disruption-action`` with the designation date, legal basis and press-release source;
* for every other CYBER-program entry, a ``sanction`` ``disruption-action`` of its own, **undated**:
  the SDN list says who is designated, not when, so its ``action_date`` is the date of the earliest
  list Accord imported that holds the entry (designated on or before that day, never a guessed day),
  flagged ``x_accord_undated: true`` with ``x_accord_date_basis: "sdn-list-date"`` and the label
  ``undated``. Impact totals put such actions in the period ``undated``, not in the list's quarter.
  When a dated designation later covers the entry, the next import revokes its undated action.

``reconcile`` compares with what the hub holds: an unchanged object is sent as stored (ingest says
``unchanged``), a changed one gets a later ``modified``, and an entry that has left the list gets a new
version marked ``delisted``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from importlib import resources
from typing import Any

from accord.errors import InvalidInput
from accord.stix import tlp as tlpmod
from accord.stix.extensions import DISRUPTION_EXTENSION_ID
from accord.stix.timestamps import format_stix, parse, version_key

_NS = uuid.UUID("7c1b7f0e-5d3a-5b8e-9a51-4f6d2a9e0c11")
COLUMNS = ("ent_num", "SDN_Name", "SDN_Type", "Program", "Title", "Call_Sign", "Vess_type", "Tonnage", "GRT",
           "Vess_flag", "Vess_owner", "Remarks")  # fmt: skip
NULL = "-0-"
SDN_URL = "https://sanctionssearch.ofac.treas.gov/Details.aspx?id={}"
LIST_URL = "https://ofac.treasury.gov/specially-designated-nationals-and-blocked-persons-list-sdn-human-readable-lists"
LABEL = "ofac-sdn"
UNDATED = "undated"
#: ``x_accord_date_basis`` of an action dated by the list it was read from, not by its designation.
LIST_DATE_BASIS = "sdn-list-date"
#: Marks, in ``build``'s output, the undated action of an entry a dated designation now covers; ``reconcile``
#: revokes it if it is stored and drops the marker otherwise (never stored itself).
_SUPERSEDED = "_superseded_by"
CLEAR = tlpmod.TLP2_IDS[tlpmod.CLEAR]
#: Properties that do not make a new version by themselves.
_VOLATILE = ("created", "modified", "valid_from", "object_marking_refs", "created_by_ref")

_ALIAS = re.compile(r"^(?:a\.k\.a\.|f\.k\.a\.|n\.k\.a\.) '(.+)'$")
_EMAIL = re.compile(r"^Email Address (\S+@\S+)$")
_WALLET = re.compile(r"^Digital Currency Address - ([A-Z0-9]{2,6}) ([A-Za-z0-9:]+)$")
_LINKED = re.compile(r"^Linked To: (.+)$")
_WEBSITE = re.compile(r"^Website (\S+)$")
_NATIONALITY = re.compile(r"^(?:nationality|citizen) (.+)$")


@dataclass
class SdnEntry:
    ent_num: str
    name: str
    sdn_type: str | None
    programs: list[str]
    title: str | None
    aliases: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    wallets: list[tuple[str, str]] = field(default_factory=list)
    linked_to: list[str] = field(default_factory=list)
    websites: list[str] = field(default_factory=list)
    nationalities: list[str] = field(default_factory=list)
    truncated: str | None = None  # the cut-off remark that was dropped


def _null(value: str) -> str | None:
    value = value.strip()
    return None if value in ("", NULL) else value


def _remark_items(remarks: str) -> tuple[list[str], str | None]:
    """The remark items, without the last one when OFAC cut the remarks off mid-item."""
    text = remarks.strip()
    parts = [p.strip() for p in text.split("; ") if p.strip()]
    if parts and not text.endswith("."):
        return parts[:-1], parts[-1]
    if parts:
        parts[-1] = parts[-1][:-1].rstrip()
    return parts, None


def _parse_remarks(entry: SdnEntry, remarks: str | None) -> None:
    if not remarks:
        return
    items, entry.truncated = _remark_items(remarks)
    for raw in items:
        item = raw[5:] if raw.startswith("alt. ") else raw
        for pattern, target in ((_ALIAS, entry.aliases), (_EMAIL, entry.emails), (_LINKED, entry.linked_to),
                                (_WEBSITE, entry.websites), (_NATIONALITY, entry.nationalities)):  # fmt: skip
            m = pattern.match(item)
            if m:
                target.append(m.group(1).strip())
                break
        else:
            m = _WALLET.match(item)
            if m:
                entry.wallets.append((m.group(1), m.group(2)))


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # OFAC's files are Windows-1252


def _entry(row: list[str], ent_num: str, name: str, programs: list[str]) -> SdnEntry:
    entry = SdnEntry(ent_num, name, _null(row[2]), programs, _null(row[4]))
    _parse_remarks(entry, _null(row[11]))
    return entry


def _key(name: str) -> str:
    return name.upper().rstrip(".")


def parse_sdn(data: bytes) -> tuple[list[SdnEntry], int]:
    """The CYBER-program entries of an SDN CSV, plus the entries of other programs they are ``Linked To``
    (so a full list resolves links such as Evil Corp's leader to the FSB); and how many entries were left
    out."""
    entries: list[SdnEntry] = []
    others: dict[str, tuple[list[str], str, str, list[str]]] = {}
    seen: set[str] = set()
    for line_no, row in enumerate(csv.reader(io.StringIO(_decode(data))), start=1):
        if not row or (len(row) == 1 and row[0].strip() in ("", "\x1a")):
            continue  # blank lines and the DOS end-of-file mark OFAC's files end with
        if line_no == 1 and row[0].strip().lower() == "ent_num":
            continue
        if len(row) != len(COLUMNS):
            raise InvalidInput(f"line {line_no}: {len(row)} columns where an OFAC SDN row has {len(COLUMNS)} "
                               f"({', '.join(COLUMNS)}); is this sdn.csv?")  # fmt: skip
        ent_num = row[0].strip()
        if not ent_num.isdigit():
            raise InvalidInput(f"line {line_no}: ent_num {ent_num!r} is not a number; is this sdn.csv?")
        name = _null(row[1])
        if name is None:
            raise InvalidInput(f"line {line_no}: SDN entry {ent_num} has no name")
        if ent_num in seen:
            raise InvalidInput(f"line {line_no}: SDN entry {ent_num} appears twice")
        seen.add(ent_num)
        programs = [p.strip() for p in (_null(row[3]) or "").strip("[] ").split("] [") if p.strip()]
        if any(p.upper().startswith("CYBER") for p in programs):
            entries.append(_entry(row, ent_num, name, programs))
        else:
            others[_key(name)] = (row, ent_num, name, programs)
    if not entries:
        raise InvalidInput("no CYBER-program entries in this file; expected OFAC's sdn.csv (or its cyber rows)")
    cyber = {_key(e.name) for e in entries}
    linked = {_key(n) for e in entries for n in e.linked_to} - cyber
    entries += [_entry(*others[k]) for k in sorted(linked) if k in others]
    return entries, len(others) - len(linked & others.keys())


@cache
def curated() -> list[dict[str, Any]]:
    """The designations whose actor link and date come from Treasury press releases (package data)."""
    text = resources.files("accord.actions").joinpath("data/ofac-designations.json").read_text(encoding="utf-8")
    return json.loads(text)["designations"]


def _sid(kind: str, key: str) -> str:
    return f"{kind}--{uuid.uuid5(_NS, key)}"


def identity_id(ent_num: str) -> str:
    return _sid("identity", f"ofac-sdn:{ent_num}")


def actor_id(name: str) -> str:
    return _sid("threat-actor", f"ofac-actor:{name.lower()}")


def action_id(key: str) -> str:
    return _sid("disruption-action", f"ofac-designation:{key}")


def _rel(source: str, kind: str, target: str, description: str, stamp: str) -> dict[str, Any]:
    return {"type": "relationship", "spec_version": "2.1", "id": _sid("relationship", f"{source}|{kind}|{target}"),
            "created": stamp, "modified": stamp, "relationship_type": kind, "source_ref": source, "target_ref": target,
            "description": description, "labels": [LABEL], "object_marking_refs": [CLEAR]}  # fmt: skip


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _identity(e: SdnEntry, stamp: str) -> dict[str, Any]:
    cls = {"individual": "individual", None: "organization"}.get(e.sdn_type, "unspecified")
    obj: dict[str, Any] = {
        "type": "identity", "spec_version": "2.1", "id": identity_id(e.ent_num), "created": stamp, "modified": stamp,
        "name": e.name, "identity_class": cls, "labels": [LABEL, "sanctioned"],
        "description": f"OFAC SDN entry {e.ent_num}" + (f": {e.title}" if e.title else ""),
        "external_references": [{"source_name": "OFAC SDN", "external_id": e.ent_num,
                                 "url": SDN_URL.format(e.ent_num)}],
        "object_marking_refs": [CLEAR],
        "x_accord_sanctions": [{"authority": "US-OFAC", "programs": e.programs, "list_entry_id": e.ent_num,
                                "status": "listed"}],
    }  # fmt: skip
    if e.sdn_type not in ("individual", None):
        obj["x_accord_sdn_type"] = e.sdn_type
    for prop, values in (("x_accord_aliases", e.aliases), ("x_accord_nationalities", e.nationalities),
                         ("x_accord_websites", e.websites), ("x_accord_linked_to", e.linked_to)):  # fmt: skip
        if values:
            obj[prop] = list(dict.fromkeys(values))
    return obj


@dataclass
class Built:
    objects: list[dict[str, Any]]
    unresolved_links: list[str]
    truncated: list[str]
    actors_created: list[str]
    actors_linked: dict[str, list[str]]


def build(entries: list[SdnEntry], *, list_date: str, known_actors: dict[str, list[str]]) -> Built:
    """STIX for the entries. ``known_actors``: lower-case name or alias → ids of visible actors."""
    stamp = list_date
    by_name = {e.name.upper().rstrip("."): e for e in entries}
    by_num = {e.ent_num: e for e in entries}
    objs: list[dict[str, Any]] = [_identity(e, stamp) for e in entries]
    unresolved: list[str] = []
    for e in entries:
        for name in dict.fromkeys(e.linked_to):
            other = by_name.get(name.upper().rstrip("."))
            if other is None:
                unresolved.append(f"{e.name} ({e.ent_num}) → {name}")
                continue
            objs.append(_rel(identity_id(e.ent_num), "related-to", identity_id(other.ent_num),
                             f"OFAC SDN: {e.name} is linked to {other.name}", stamp))  # fmt: skip
    # Indicators: one per address, however many entries list it.
    owners: dict[tuple[str, str, str], list[SdnEntry]] = {}
    for e in entries:
        for ticker, addr in e.wallets:
            owners.setdefault(("wallet", ticker, addr), []).append(e)
        for mail in e.emails:
            owners.setdefault(("email", "", mail.lower()), []).append(e)
    for (kind, ticker, value), listed in owners.items():
        names = "; ".join(f"{o.name} (SDN {o.ent_num})" for o in listed)
        if kind == "wallet":
            ind_id = _sid("indicator", f"ofac-wallet:{ticker}:{value}")
            ind = {"name": f"{ticker} address {value} (OFAC SDN)",
                   "pattern": f"[cryptocurrency-wallet:value = '{_quote(value)}']",
                   "description": f"Digital currency address ({ticker}) OFAC lists for: {names}",
                   "labels": [LABEL, "sanctioned-address"], "x_accord_currency": ticker}  # fmt: skip
        else:
            ind_id = _sid("indicator", f"ofac-email:{value}")
            ind = {"name": f"e-mail {value} (OFAC SDN)", "pattern": f"[email-addr:value = '{_quote(value)}']",
                   "description": f"E-mail address OFAC lists for: {names}",
                   "labels": [LABEL, "sanctioned-contact"]}  # fmt: skip
        objs.append({"type": "indicator", "spec_version": "2.1", "id": ind_id, "created": stamp, "modified": stamp,
                     "indicator_types": ["attribution"], "pattern_type": "stix", "valid_from": stamp,
                     "object_marking_refs": [CLEAR], **ind})  # fmt: skip
        for o in listed:
            objs.append(_rel(ind_id, "related-to", identity_id(o.ent_num), f"listed by OFAC for {o.name}", stamp))
    # Designations with a known actor and date.
    created: list[str] = []
    linked: dict[str, list[str]] = {}
    dated: set[str] = set()  # entries whose designation a dated public source gives
    for d in curated():
        members = [by_num[n] for n in d["ent_nums"] if n in by_num]
        wanted = {n.upper() for n in d.get("linked_to", [])}
        members += [e for e in entries if wanted & {x.upper() for x in e.linked_to} and e not in members]
        if not members:
            continue
        ids = _actor_links(d, members, known_actors, stamp, objs, created, linked) if d.get("actor") else []
        targets = [*ids, *(identity_id(m.ent_num) for m in members)]
        act: dict[str, Any] = {
            "type": "disruption-action", "spec_version": "2.1", "id": action_id(d["key"]), "created": stamp,
            "modified": stamp, "name": d["title"], "action_types": ["sanction"], "action_date": d["date"],
            "status": "completed", "lead_countries": ["US"], "legal_basis": d.get("legal_basis", []),
            "target_refs": list(dict.fromkeys(targets)), "outcomes": {"designations": len(members)},
            "sanctions": [{"authority": "US-OFAC", "programs": m.programs, "list_entry_id": m.ent_num,
                           "designated_name": m.name, "designated_ref": identity_id(m.ent_num)} for m in members],
            "external_references": [d["source"], {"source_name": "OFAC SDN list", "url": LIST_URL}],
            "labels": [LABEL], "object_marking_refs": [CLEAR],
            "extensions": {DISRUPTION_EXTENSION_ID: {"extension_type": "new-sdo"}},
        }  # fmt: skip
        if d.get("operation_name"):
            act["operation_name"] = d["operation_name"]
        objs.append(act)
        dated.update(m.ent_num for m in members)
        objs += [{"type": "disruption-action", "id": action_id(f"sdn-entry:{m.ent_num}"), _SUPERSEDED: act["id"]}
                 for m in members]  # fmt: skip
    objs += [_undated_action(e, stamp) for e in entries if _is_cyber(e) and e.ent_num not in dated]
    truncated = [f"{e.name} ({e.ent_num}): dropped cut-off remark {e.truncated!r}" for e in entries if e.truncated]
    return Built(objs, unresolved, truncated, created, linked)


def _actor_links(
    d: dict[str, Any],
    members: list[SdnEntry],
    known_actors: dict[str, list[str]],
    stamp: str,
    objs: list[dict[str, Any]],
    created: list[str],
    linked: dict[str, list[str]],
) -> list[str]:
    """Link a curated designation's members to its threat actor (a visible one by name or alias, else one
    declared here); the actor ids."""
    actor = d["actor"]
    ids = sorted({i for n in [actor["name"], *actor.get("aliases", [])] for i in known_actors.get(n.lower(), [])})
    if not ids:
        aid = actor_id(actor["name"])
        ids = [aid]
        if aid not in created:
            created.append(aid)
            ta: dict[str, Any] = {"type": "threat-actor", "spec_version": "2.1", "id": aid, "created": stamp,
                                  "modified": stamp, "name": actor["name"], "aliases": actor.get("aliases", []),
                                  "labels": [LABEL], "object_marking_refs": [CLEAR],
                                  "description": f"Declared by OFAC import: {d['title']}"}  # fmt: skip
            if actor.get("threat_actor_types"):
                ta["threat_actor_types"] = actor["threat_actor_types"]
            objs.append(ta)
    linked.setdefault(actor["name"], [])
    day = parse(d["date"]).strftime("%d %b %Y")
    for m in members:
        linked[actor["name"]].append(m.name)
        for aid in ids:
            why = f"{m.name}: {d['role']} of {actor['name']} (OFAC designation, {day})"
            objs.append(_rel(identity_id(m.ent_num), "related-to", aid, why, stamp))
    return ids


def _is_cyber(e: SdnEntry) -> bool:
    return any(p.upper().startswith("CYBER") for p in e.programs)


def _undated_action(e: SdnEntry, stamp: str) -> dict[str, Any]:
    """The sanction action of a CYBER entry no dated public source covers: dated by the list, flagged so."""
    programs = ", ".join(e.programs)
    return {
        "type": "disruption-action", "spec_version": "2.1", "id": action_id(f"sdn-entry:{e.ent_num}"),
        "created": stamp, "modified": stamp, "name": f"OFAC SDN designation of {e.name} (date not published)",
        "description": (f"{e.name} (SDN entry {e.ent_num}) is on OFAC's Specially Designated Nationals list under "
                        f"{programs}. The list does not say when it was designated, and Accord holds no dated public "
                        "source for this entry, so action_date is the date of the earliest list imported that holds "
                        "it: designated on or before that day, not on it."),
        "action_types": ["sanction"], "action_date": stamp, "status": "completed", "lead_countries": ["US"],
        "legal_basis": [f"OFAC sanctions program {p} (as tagged on the SDN list)" for p in e.programs],
        "target_refs": [identity_id(e.ent_num)], "outcomes": {"designations": 1},
        "sanctions": [{"authority": "US-OFAC", "programs": e.programs, "list_entry_id": e.ent_num,
                       "designated_name": e.name, "designated_ref": identity_id(e.ent_num)}],
        "external_references": [{"source_name": "OFAC SDN", "external_id": e.ent_num, "url": SDN_URL.format(e.ent_num)},
                                {"source_name": "OFAC SDN list", "url": LIST_URL}],
        "labels": [LABEL, UNDATED], "object_marking_refs": [CLEAR],
        "x_accord_undated": True, "x_accord_date_basis": LIST_DATE_BASIS,
        "extensions": {DISRUPTION_EXTENSION_ID: {"extension_type": "new-sdo"}},
    }  # fmt: skip


def is_undated(action: dict[str, Any]) -> bool:
    """Whether an action's date is only a bound (the date of a list that holds it), not its own date."""
    return action.get("x_accord_undated") is True


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    strip = lambda o: {k: v for k, v in o.items() if k not in _VOLATILE}  # noqa: E731
    return strip(a) == strip(b)


def _after(stamp: str, stored: str) -> str:
    """``stamp``, or just after ``stored`` when that is not earlier."""
    if version_key(stamp) > version_key(stored):
        return stamp
    return format_stix(parse(stored) + timedelta(milliseconds=1))


def reconcile(objs: list[dict[str, Any]], stored: dict[str, dict[str, Any]], list_date: str,
              listed_before: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:  # fmt: skip
    """Objects to ingest against the stored current versions; and the entries now delisted."""
    out: list[dict[str, Any]] = []
    for obj in objs:
        old = stored.get(obj["id"])
        if _SUPERSEDED in obj:
            # An entry that was undated and now has a dated designation: its undated action is revoked, so
            # the designation is counted once.
            if old is not None and not old.get("revoked"):
                out.append({**old, "modified": _after(list_date, old["modified"]), "revoked": True,
                            "x_accord_superseded_by": obj[_SUPERSEDED]})  # fmt: skip
            continue
        if (
            old is not None
            and is_undated(obj)
            and is_undated(old)
            and version_key(old["action_date"]) < version_key(obj["action_date"])
        ):
            # An undated designation keeps the earliest list that held it: the tighter 'on or before'.
            obj = {**obj, "action_date": old["action_date"]}
        if old is None:
            out.append(obj)
        elif _same(obj, old):
            out.append(old)  # unchanged: ingest adds the importer's grant if it is new
        else:
            new = {**obj, "created": old["created"], "modified": _after(list_date, old["modified"])}
            if "valid_from" in old and obj["type"] == "indicator":
                new["valid_from"] = old["valid_from"]
            out.append(new)
    present = {o["id"] for o in objs}
    delisted: list[str] = []
    for old in listed_before:
        sanctions = old.get("x_accord_sanctions") or []
        if old["id"] in present or not sanctions or sanctions[0].get("status") != "listed" or old.get("revoked"):
            continue
        delisted.append(old["name"])
        out.append({**old, "modified": _after(list_date, old["modified"]), "labels": [LABEL, "delisted"],
                    "x_accord_sanctions": [{**sanctions[0], "status": "delisted",
                                            "delisted_by_list_of": list_date}]})  # fmt: skip
    return out, delisted
