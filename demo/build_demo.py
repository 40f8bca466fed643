#!/usr/bin/env python3
"""Build Accord's demo community: ``demo/manifest.json``, ``demo/data/*.json`` and ``demo/licenses/``.

Reads the public reference data in ``/work/shared/data`` (override with ``--shared DIR`` or the
``ACCORD_SHARED_DATA`` environment variable) and writes, next to this script:

* ``data/attack-evilcorp-lockbit.json``   - a subset of MITRE ATT&CK v18.1 (ids kept)
* ``data/misp-galaxy-lockbit-evilcorp.json`` - MISP galaxy clusters converted to STIX 2.1
* ``data/amnesty-nso-pegasus.json``       - Amnesty International's Pegasus indicators, byte for byte
* ``data/<member>-*.json``                - fictional exercise intelligence of the eight members
* ``manifest.json``                       - organisations, users, sharing groups, datasets
* ``licenses/*``                          - the licence texts and notices the sources require

Every fictional object is labelled ``exercise`` and says so in its description; fictional
indicators use only documentation address ranges (RFC 5737: 192.0.2.0/24, 198.51.100.0/24,
203.0.113.0/24) and the reserved ``.example`` / ``.invalid`` domains (RFC 2606).

The output is deterministic: ids are UUIDv5 and timestamps are fixed, so re-running the script
gives identical files and re-loading them gives "unchanged" objects. Standard library + orjson only.

    python demo/build_demo.py            # rebuild everything
    python demo/build_demo.py --check    # rebuild into memory and fail if a file would change
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import collective_action  # noqa: E402  (demo/collective_action.py: disruption actions, incidents, norms)
import spyware_registry  # noqa: E402  (demo/spyware_registry.py: the spyware registry's vendors and products)

HERE = Path(__file__).resolve().parent
DEFAULT_SHARED = Path(os.environ.get("ACCORD_SHARED_DATA", "/work/shared/data"))

# --- identifiers ------------------------------------------------------------------------------

#: Accord's fixed namespace for member identities (src/accord/access/orgs.py, ORG_NAMESPACE):
#: a member organisation's identity id is identity--uuid5(ORG_NAMESPACE, name).
ORG_NAMESPACE = uuid.UUID("8a1c6e0e-6f2b-4f57-9a43-5d0b1c2e7f10")
#: Namespace for the ids of the demo's own objects.
DEMO_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://accord.example/demo")

#: OASIS TLP 2.0 marking-definition ids (src/accord/stix/tlp.py, TLP2_IDS).
TLP = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}


def org_identity(name: str) -> str:
    return f"identity--{uuid.uuid5(ORG_NAMESPACE, name)}"


def demo_id(stix_type: str, key: str) -> str:
    return f"{stix_type}--{uuid.uuid5(DEMO_NAMESPACE, f'{stix_type}:{key}')}"


# --- sources (see /work/shared/data/README.md) ----------------------------------------------------

ATTACK_BUNDLE = "reference/mitre-attack-v18.1-groups-software.stix21.json"
ATTACK_LICENSE = "reference/mitre-attack-LICENSE.txt"
GALAXY_DIR = "reference/misp-galaxy"
PEGASUS = "spyware/amnesty-investigations/2021-07-18_nso/pegasus.stix2"
AMNESTY_README = "spyware/amnesty-investigations/README.md"

#: ATT&CK objects kept, by ATT&CK id (the STIX ids are kept as published).
ATTACK_IDS = {
    "G0119": "Indrik Spider (Evil Corp)",
    "S0384": "Dridex",
    "S0612": "WastedLocker",
    "S0570": "BitPaymer",
    "S1199": "LockBit 2.0",
    "S1202": "LockBit 3.0",
}

#: MISP galaxy clusters converted: (galaxy file, cluster uuid, STIX type).
GALAXY_CLUSTERS = [
    ("threat-actor", "c30fbdc8-b66d-4242-a02a-e01946bc86d8", "threat-actor"),  # Evil Corp
    ("threat-actor", "658314bc-3bb8-48d2-913a-c528607b75c8", "threat-actor"),  # INDRIK SPIDER
    ("threat-actor", "ecf4d7cb-9bf7-4d9d-8450-c99e885b9aac", "threat-actor"),  # BITWISE SPIDER (LockBit)
    ("ransomware", "8eda8bf1-db5a-412d-8511-45e2f7621d51", "malware"),  # LockBit
    ("ransomware", "c09f73fd-c3c3-42b1-b355-b03ca4941110", "malware"),  # Lockbit3
    ("ransomware", "c0091a62-b1cd-495d-898b-d2f3b5af601e", "malware"),  # Hades (Evil Corp)
]
#: The MISP galaxy has no timestamps; the converted objects carry this fixed conversion time.
GALAXY_CONVERTED = "2026-11-20T12:00:00.000Z"
GALAXY_IDENTITY = f"identity--{uuid.uuid5(uuid.NAMESPACE_URL, 'https://github.com/MISP/misp-galaxy')}"

# --- the community ---------------------------------------------------------------------------

NCC = "Meridian National Cyber Centre"
POLICE = "Meridian Police Cyber Crime Unit"
BANK = "Harbourside Bank"
TELECOM = "Skylark Telecom"
UNIV = "Northgate University Security Lab"
NGO = "OpenLine Digital Rights Helpline"
CERT_A = "CERT-Lowlands"
CERT_B = "Baltic Coast CERT"

ORGANISATIONS: list[dict[str, Any]] = [
    {"name": NCC, "sector": "government-national", "country": "GB", "users": [
        {"email": "analyst@ncc.meridian.example", "role": "analyst", "name": "Priya Natarajan"},
        {"email": "admin@ncc.meridian.example", "role": "org-admin", "name": "Tom Ashworth"},
        {"email": "duty-officer@ncc.meridian.example", "role": "reader", "name": "Duty Officer"}]},
    {"name": POLICE, "sector": "law-enforcement", "country": "GB", "users": [
        {"email": "di.okafor@pccu.meridian.example", "role": "org-admin", "name": "DI Grace Okafor"},
        {"email": "analyst@pccu.meridian.example", "role": "analyst", "name": "Sam Kerr"}]},
    {"name": BANK, "sector": "financial-services", "country": "GB", "users": [
        {"email": "soc@harbourside-bank.example", "role": "analyst", "name": "Harbourside SOC"},
        {"email": "ciso@harbourside-bank.example", "role": "org-admin", "name": "Lena Fischer"},
        {"email": "fraud-team@harbourside-bank.example", "role": "reader", "name": "Fraud Team"}]},
    {"name": TELECOM, "sector": "telecommunications", "country": "GB", "users": [
        {"email": "noc-security@skylark-telecom.example", "role": "analyst", "name": "Skylark NOC Security"},
        {"email": "security-admin@skylark-telecom.example", "role": "org-admin", "name": "Ravi Menon"}]},
    {"name": UNIV, "sector": "academia", "country": "GB", "users": [
        {"email": "seclab@northgate-uni.example", "role": "org-admin", "name": "Dr Aoife Brennan"},
        {"email": "phd.student@northgate-uni.example", "role": "reader", "name": "Jonas Weber"}]},
    {"name": NGO, "sector": "nonprofit", "country": "GB", "users": [
        {"email": "helpline@openline.example", "role": "analyst", "name": "OpenLine Helpline"},
        {"email": "director@openline.example", "role": "org-admin", "name": "Maya Haddad"}]},
    {"name": CERT_A, "sector": "cert", "country": "NL", "users": [
        {"email": "duty@cert-lowlands.example", "role": "analyst", "name": "CERT-Lowlands Duty Desk"},
        {"email": "coordinator@cert-lowlands.example", "role": "org-admin", "name": "Pieter de Vries"}]},
    {"name": CERT_B, "sector": "cert", "country": "EE", "users": [
        {"email": "incident@baltic-coast-cert.example", "role": "analyst", "name": "Baltic Coast CERT Incident Desk"},
        {"email": "head@baltic-coast-cert.example", "role": "org-admin", "name": "Kadri Tamm"},
        {"email": "liaison@baltic-coast-cert.example", "role": "reader", "name": "Partner Liaison"}]},
]  # fmt: skip

TASKFORCE = "ransomware-taskforce"
FINSECTOR = "financial-sector"
SPYWARE = "spyware-response"

GROUPS: list[dict[str, Any]] = [
    {"name": TASKFORCE, "owner": NCC, "members": [NCC, POLICE, CERT_A, CERT_B, BANK], "members_visible": True,
     "description": "Ransomware task force (exercise): national cyber centre, police, partner CERTs and the bank."},
    {"name": FINSECTOR, "owner": BANK, "members": [BANK, NCC, POLICE], "members_visible": False,
     "description": "Financial-sector fraud and intrusion sharing (exercise); membership is not shown to members."},
    {"name": SPYWARE, "owner": NGO, "members": [NGO, NCC, UNIV], "members_visible": False,
     "description": "Spyware response for people at risk (exercise); membership is kept confidential."},
]  # fmt: skip

EXERCISE = "EXERCISE DATA - fictional, for the Accord demo; not real intelligence."

# Well-known ids used by member intelligence.
ATT = {  # ATT&CK STIX ids (filled in from the bundle)
}
GALAXY = {  # MISP galaxy cluster uuid -> STIX id
}


# --- helpers -----------------------------------------------------------------------------------


def load_json(path: Path) -> Any:
    return orjson.loads(path.read_bytes())


def dump(obj: Any) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_INDENT_2) + b"\n"


def bundle(name: str, objects: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "bundle", "id": demo_id("bundle", name), "objects": objects}


class Member:
    """Builds the objects one member organisation publishes (created_by_ref is its identity)."""

    def __init__(self, org: str, tlp: str) -> None:
        self.org = org
        self.ident = org_identity(org)
        self.tlp = tlp

    def base(self, stix_type: str, key: str, when: str, **props: Any) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "type": stix_type,
            "spec_version": "2.1",
            "id": demo_id(stix_type, f"{self.org}/{key}"),
            "created_by_ref": self.ident,
            "created": when,
            "modified": when,
        }
        obj.update(props)
        obj.setdefault("labels", ["exercise"])
        obj["object_marking_refs"] = [TLP[self.tlp]]
        return obj

    def indicator(self, key: str, when: str, name: str, pattern: str, description: str,
                  types: list[str] | None = None) -> dict[str, Any]:  # fmt: skip
        return self.base(
            "indicator", key, when, name=name, description=f"{description}\n\n{EXERCISE}",
            indicator_types=types or ["malicious-activity"], pattern=pattern, pattern_type="stix",
            pattern_version="2.1", valid_from=when,
        )  # fmt: skip

    def rel(self, key: str, when: str, source: str, rtype: str, target: str, description: str) -> dict[str, Any]:
        return self.base(
            "relationship", key, when, relationship_type=rtype, source_ref=source, target_ref=target,
            description=f"{description} ({EXERCISE})",
        )  # fmt: skip

    def sighting(self, key: str, when: str, of: str, first: str, last: str, count: int,
                 description: str) -> dict[str, Any]:  # fmt: skip
        return self.base(
            "sighting", key, when, sighting_of_ref=of, where_sighted_refs=[self.ident], first_seen=first,
            last_seen=last, count=count, description=f"{description}\n\n{EXERCISE}",
        )  # fmt: skip

    def note(self, key: str, when: str, abstract: str, content: str, refs: list[str]) -> dict[str, Any]:
        return self.base("note", key, when, abstract=abstract, content=f"{content}\n\n{EXERCISE}", object_refs=refs)

    def report(self, key: str, when: str, name: str, description: str, refs: list[str],
               types: list[str] | None = None) -> dict[str, Any]:  # fmt: skip
        return self.base(
            "report", key, when, name=name, description=f"{description}\n\n{EXERCISE}",
            report_types=types or ["threat-report"], published=when, object_refs=refs,
        )  # fmt: skip


# --- reference data ----------------------------------------------------------------------------


def build_attack(shared: Path) -> list[dict[str, Any]]:
    """G0119 and the LockBit / Evil Corp software, the relationships among exactly those objects,
    and the ATT&CK identity and marking-definition they reference. Objects are copied unchanged."""
    objs = load_json(shared / ATTACK_BUNDLE)["objects"]
    by_attack_id: dict[str, dict[str, Any]] = {}
    for o in objs:
        for ref in o.get("external_references") or ():
            if ref.get("source_name") == "mitre-attack" and ref.get("external_id") in ATTACK_IDS:
                by_attack_id[ref["external_id"]] = o
    missing = set(ATTACK_IDS) - set(by_attack_id)
    if missing:
        raise SystemExit(f"ATT&CK objects not found: {sorted(missing)}")
    for attack_id, o in by_attack_id.items():
        ATT[attack_id] = o["id"]
    kept = {o["id"] for o in by_attack_id.values()}
    rels = [o for o in objs if o["type"] == "relationship" and o["source_ref"] in kept and o["target_ref"] in kept]
    chosen = [by_attack_id[k] for k in ATTACK_IDS] + sorted(rels, key=lambda o: o["id"])
    needed: set[str] = set()
    for o in chosen:
        if o.get("created_by_ref"):
            needed.add(o["created_by_ref"])
        needed.update(o.get("object_marking_refs") or ())
    support = [o for o in objs if o["id"] in needed]
    for o in support:  # the identity is itself marked with the ATT&CK statement
        needed.update(o.get("object_marking_refs") or ())
    support = sorted((o for o in objs if o["id"] in needed), key=lambda o: (o["type"] != "marking-definition", o["id"]))
    if {o["id"] for o in support} != needed:
        raise SystemExit(f"ATT&CK identity/marking missing: {needed - {o['id'] for o in support}}")
    return support + chosen


def _source_name(url: str) -> str:
    host = urlsplit(url).hostname or "reference"
    return host[4:] if host.startswith("www.") else host


def build_galaxy(shared: Path) -> list[dict[str, Any]]:
    """MISP galaxy clusters as STIX 2.1 threat-actor / malware objects with ids <type>--<galaxy uuid>,
    plus the galaxy's own relations among the converted clusters."""
    gdir = shared / GALAXY_DIR / "clusters"
    galaxies = {name: load_json(gdir / f"{name}.json") for name in {g for g, _, _ in GALAXY_CLUSTERS}}
    clusters: dict[str, tuple[str, dict[str, Any], str]] = {}
    for gname, cuuid, stype in GALAXY_CLUSTERS:
        found = [v for v in galaxies[gname]["values"] if v["uuid"] == cuuid]
        if len(found) != 1:
            raise SystemExit(f"MISP galaxy {gname}: cluster {cuuid} not found")
        clusters[cuuid] = (gname, found[0], stype)
        GALAXY[cuuid] = f"{stype}--{cuuid}"
    identity = {
        "type": "identity",
        "spec_version": "2.1",
        "id": GALAXY_IDENTITY,
        "created": GALAXY_CONVERTED,
        "modified": GALAXY_CONVERTED,
        "name": "MISP Project (misp-galaxy)",
        "description": "The MISP galaxy clusters (https://github.com/MISP/misp-galaxy), dual-licensed CC0-1.0 "
        "or BSD-2-Clause. Objects created by this identity were converted from galaxy clusters for the Accord "
        "demo; ids are <type>--<cluster uuid>.",
        "identity_class": "organization",
        "external_references": [{"source_name": "misp-galaxy", "url": "https://github.com/MISP/misp-galaxy"}],
    }
    out: list[dict[str, Any]] = [identity]
    for cuuid, (gname, cl, stype) in clusters.items():
        meta = cl.get("meta") or {}
        refs = [{"source_name": "misp-galaxy", "external_id": cuuid,
                 "url": f"https://github.com/MISP/misp-galaxy/blob/main/clusters/{gname}.json",
                 "description": f"MISP galaxy '{galaxies[gname]['name']}' cluster '{cl['value']}'"}]  # fmt: skip
        refs += [{"source_name": _source_name(u), "url": u} for u in dict.fromkeys(meta.get("refs") or ())]
        obj: dict[str, Any] = {
            "type": stype,
            "spec_version": "2.1",
            "id": GALAXY[cuuid],
            "created_by_ref": GALAXY_IDENTITY,
            "created": GALAXY_CONVERTED,
            "modified": GALAXY_CONVERTED,
            "name": cl["value"],
        }
        if cl.get("description"):
            obj["description"] = cl["description"]
        aliases = [s for s in meta.get("synonyms") or () if s != cl["value"]]
        if stype == "malware":
            obj["is_family"] = True
            obj["malware_types"] = ["ransomware"]
        if aliases:
            obj["aliases"] = aliases
        obj["external_references"] = refs
        out.append(obj)
    rels = []
    for cuuid, (_, cl, _) in clusters.items():
        for r in cl.get("related") or ():
            dest = r.get("dest-uuid")
            if dest not in clusters or dest == cuuid:
                continue
            rtype = r.get("type", "related-to")
            stix_type = {"similar": "related-to"}.get(rtype, rtype)
            tags = ", ".join(r.get("tags") or ())
            rels.append({
                "type": "relationship",
                "spec_version": "2.1",
                "id": f"relationship--{uuid.uuid5(DEMO_NAMESPACE, f'misp-galaxy:{cuuid}:{rtype}:{dest}')}",
                "created_by_ref": GALAXY_IDENTITY,
                "created": GALAXY_CONVERTED,
                "modified": GALAXY_CONVERTED,
                "relationship_type": stix_type,
                "source_ref": GALAXY[cuuid],
                "target_ref": GALAXY[dest],
                "description": f"MISP galaxy relation '{rtype}'" + (f" ({tags})" if tags else ""),
            })  # fmt: skip
    return out + sorted(rels, key=lambda o: o["id"])


# --- member intelligence (fictional exercise data) ---------------------------------------------

HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_IMG = '"><img src=x onerror=alert(1)>'


def build_members(pegasus: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    files: dict[str, list[dict[str, Any]]] = {}
    peg_malware = next(o["id"] for o in pegasus["objects"] if o["type"] == "malware")
    peg_indicator = next(o["id"] for o in pegasus["objects"]
                         if o["type"] == "indicator" and "domain-name" in o["pattern"])  # fmt: skip

    # CERT-Lowlands: TLP:GREEN, federation - Evil Corp themed indicators.
    m = Member(CERT_A, "green")
    c1 = m.indicator("c1", "2026-10-06T08:15:00.000Z", "Exercise: WastedLocker-style C2 address 198.51.100.77",
                     "[ipv4-addr:value = '198.51.100.77']",
                     "Command-and-control address used in the national ransomware exercise scenario.")
    c2 = m.indicator("c2", "2026-10-06T08:15:01.000Z", "Exercise: fake browser-update lure domain",
                     "[domain-name:value = 'browser-update-check.example']",
                     "Drive-by 'browser update' lure in the style reported for Evil Corp intrusions.")
    c3 = m.indicator("c3", "2026-10-06T08:15:02.000Z", "Exercise: BitPaymer-style payload host 198.51.100.78",
                     "[ipv4-addr:value = '198.51.100.78'] OR [url:value = 'http://198.51.100.78/dl/invoice.exe']",
                     "Payload staging host in the exercise scenario.")
    r1 = m.rel("c1-wl", "2026-10-06T08:15:03.000Z", c1["id"], "indicates", ATT["S0612"],
               "Exercise link to WastedLocker")
    r2 = m.rel("c2-g0119", "2026-10-06T08:15:04.000Z", c2["id"], "indicates", ATT["G0119"],
               "Exercise link to Indrik Spider / Evil Corp")
    r3 = m.rel("c3-evilcorp", "2026-10-06T08:15:05.000Z", c3["id"], "indicates",
               GALAXY["c30fbdc8-b66d-4242-a02a-e01946bc86d8"], "Exercise link to Evil Corp (MISP galaxy)")
    r4 = m.rel("c3-bp", "2026-10-06T08:15:06.000Z", c3["id"], "indicates", ATT["S0570"], "Exercise link to BitPaymer")
    rep = m.report("bulletin", "2026-10-06T09:00:00.000Z",
                   "Exercise bulletin CERT-LL-2026-EX14: Evil Corp themed indicators",
                   "Indicators shared with partner hubs (federation) for the cross-border ransomware exercise.",
                   [c1["id"], c2["id"], c3["id"], r1["id"], r2["id"], r3["id"], r4["id"]])
    files["cert-lowlands-green-evilcorp.json"] = [c1, c2, c3, r1, r2, r3, r4, rep]

    # Police: TLP:RED, ransomware task force only - LockBit affiliate infrastructure.
    m = Member(POLICE, "red")
    infra = m.base("infrastructure", "affiliate-staging", "2026-10-08T14:00:00.000Z",
                   name="Exercise: LockBit affiliate staging and exfiltration server",
                   description="Server the exercise scenario's LockBit affiliate uses to stage tools and receive "
                   f"stolen data. Subject of an exercise police operation: do not act on it.\n\n{EXERCISE}",
                   infrastructure_types=["staging", "exfiltration"],
                   first_seen="2026-09-28T00:00:00.000Z")  # fmt: skip
    p1 = m.indicator("p1", "2026-10-08T14:00:01.000Z", "Exercise: affiliate exfiltration server 203.0.113.45",
                     "[ipv4-addr:value = '203.0.113.45']", "Exfiltration endpoint of the exercise affiliate.")
    p2 = m.indicator("p2", "2026-10-08T14:00:02.000Z", "Exercise: affiliate file-transfer domain",
                     "[domain-name:value = 'files.affiliate-transfer.invalid']",
                     "Domain the exercise affiliate resolves to reach its staging server.")
    p3 = m.indicator("p3", "2026-10-08T14:00:03.000Z", "Exercise: affiliate panel login URL",
                     "[url:value = 'https://203.0.113.46:8443/panel/login']",
                     "Affiliate panel seen in the exercise scenario.")
    pr = [
        m.rel("p1-infra", "2026-10-08T14:00:04.000Z", p1["id"], "indicates", infra["id"], "Exercise"),
        m.rel("p2-infra", "2026-10-08T14:00:05.000Z", p2["id"], "indicates", infra["id"], "Exercise"),
        m.rel("p3-lb3", "2026-10-08T14:00:06.000Z", p3["id"], "indicates", ATT["S1202"],
              "Exercise link to LockBit 3.0"),
        m.rel("infra-lb3", "2026-10-08T14:00:07.000Z", infra["id"], "hosts", ATT["S1202"],
              "Exercise: the staging server hosts LockBit 3.0 builds"),
        m.rel("bitwise-infra", "2026-10-08T14:00:08.000Z", GALAXY["ecf4d7cb-9bf7-4d9d-8450-c99e885b9aac"], "uses",
              infra["id"], "Exercise: attributed to a LockBit affiliate"),
    ]  # fmt: skip
    files["police-red-lockbit-affiliate.json"] = [infra, p1, p2, p3, *pr]
    police_infra = infra["id"]

    # Police: TLP:RED, own organisation only - a case note.
    m = Member(POLICE, "red")
    pc = m.indicator("suspect-host", "2026-10-09T10:29:00.000Z", "Exercise: suspect's hosting address 203.0.113.99",
                     "[ipv4-addr:value = '203.0.113.99']",
                     "Address tied to the exercise suspect; part of an open (fictional) investigation.")
    files["police-red-case-note.json"] = [
        pc,
        m.note("case-note", "2026-10-09T10:30:00.000Z", "Exercise case note: operation PAPER LANTERN",
               "Exercise case note for the task force's staging-server scenario. Evidence handling and "
               "de-confliction with partner agencies are recorded in the (fictional) case file PL-2026-EX-07.",
               [police_infra, pc["id"]])  # fmt: skip
    ]

    # Baltic Coast CERT: TLP:AMBER, ransomware task force - LockBit affiliate access indicators.
    m = Member(CERT_B, "amber")
    d1 = m.indicator("d1", "2026-10-10T07:45:00.000Z", "Exercise: RDP brute-force source 203.0.113.80",
                     "[ipv4-addr:value = '203.0.113.80']",
                     "Source of password-spraying against exposed RDP in the exercise scenario.")
    d2 = m.indicator("d2", "2026-10-10T07:45:01.000Z", "Exercise: LockBit negotiation panel domain",
                     "[domain-name:value = 'negotiation-panel.invalid']",
                     "Negotiation site linked from the exercise ransom note.")
    files["cert-baltic-amber-taskforce.json"] = [
        d1, d2,
        m.rel("d1-lb3", "2026-10-10T07:45:02.000Z", d1["id"], "indicates", ATT["S1202"],
              "Exercise link to LockBit 3.0"),
        m.rel("d2-lockbit", "2026-10-10T07:45:03.000Z", d2["id"], "indicates",
              GALAXY["8eda8bf1-db5a-412d-8511-45e2f7621d51"], "Exercise link to LockBit (MISP galaxy)"),
        m.rel("d1-infra", "2026-10-10T07:45:04.000Z", d1["id"], "related-to", police_infra,
              "Exercise: same operator as the police unit's staging server"),
    ]  # fmt: skip

    # Baltic Coast CERT: TLP:AMBER+STRICT, own organisation only.
    m = Member(CERT_B, "amber+strict")
    d3 = m.indicator("d3", "2026-10-10T11:55:00.000Z", "Exercise: second RDP brute-force source 203.0.113.81",
                     "[ipv4-addr:value = '203.0.113.81']", "Still under national triage; not yet shared with partners.")
    files["cert-baltic-amber-strict-triage.json"] = [
        d3,
        m.note("triage", "2026-10-10T12:00:00.000Z", "Exercise: national triage notes",
               "Which exercise constituents were notified about the RDP brute-force sources, and when.",
               [d1["id"], d3["id"]]),
    ]

    # Bank: TLP:AMBER, community - phishing indicators (one linked to the police's RED server).
    m = Member(BANK, "amber")
    b1 = m.indicator("b1", "2026-10-12T06:20:00.000Z", "Exercise: phishing domain imitating Harbourside Bank",
                     "[domain-name:value = 'harbourside-secure-login.example']",
                     "Credential-phishing domain sent to customers by e-mail in the exercise scenario.",
                     ["malicious-activity"])
    b2 = m.indicator("b2", "2026-10-12T06:20:01.000Z", "Exercise: phishing kit credential drop URL",
                     "[url:value = 'http://192.0.2.10/harbourside/verify.php']",
                     "The phishing kit posts captured credentials here. Its page source contains the injected "
                     f"markup {HOSTILE_SCRIPT} copied verbatim from the kit.")
    b3 = m.indicator("b3", "2026-10-12T06:20:02.000Z", "Exercise: phishing sender address",
                     "[email-addr:value = 'alerts@harbourside-secure-login.example']",
                     "Envelope sender of the exercise phishing e-mails.")
    files["bank-amber-phishing.json"] = [
        b1, b2, b3,
        m.rel("b1-dridex", "2026-10-12T06:20:03.000Z", b1["id"], "indicates", ATT["S0384"],
              "Exercise: the lure delivers a Dridex-style loader"),
        m.rel("b3-b1", "2026-10-12T06:20:04.000Z", b3["id"], "related-to", b1["id"], "Exercise: same campaign"),
        m.rel("b2-infra", "2026-10-12T06:20:05.000Z", b2["id"], "related-to", police_infra,
              "Exercise: the kit forwards credentials to the task force's (TLP:RED) affiliate staging server"),
    ]  # fmt: skip
    bank_b1 = b1["id"]

    # Bank: TLP:AMBER, financial-sector group - invoice-fraud senders.
    m = Member(BANK, "amber")
    f1 = m.indicator("f1", "2026-10-13T11:00:00.000Z", "Exercise: invoice-fraud sender",
                     "[email-addr:value = 'accounts-payable@supplier-payments.example']",
                     "Business e-mail compromise sender asking to change supplier bank details.")
    f2 = m.indicator("f2", "2026-10-13T11:00:01.000Z", "Exercise: look-alike supplier domain",
                     "[domain-name:value = 'supplier-payrnents.example']",
                     "Look-alike ('rn' for 'm') of a supplier's domain.")
    files["bank-amber-finsector.json"] = [
        f1, f2,
        m.rel("f1-f2", "2026-10-13T11:00:02.000Z", f1["id"], "related-to", f2["id"], "Exercise: same fraud attempt"),
    ]  # fmt: skip

    # Telecom: TLP:AMBER, community - sightings and a smishing indicator with hostile text.
    m = Member(TELECOM, "amber")
    t1 = m.indicator("t1", "2026-10-14T16:05:00.000Z", f"Exercise: smishing lure {HOSTILE_IMG}",
                     f"[url:value = 'http://198.51.100.23/track?id={HOSTILE_IMG}']",
                     f"SMS lure URL as received; the query string carries markup {HOSTILE_IMG} and {HOSTILE_SCRIPT}.")
    files["telecom-amber-sightings.json"] = [
        t1,
        m.rel("t1-b1", "2026-10-14T16:05:01.000Z", t1["id"], "related-to", bank_b1,
              "Exercise: the SMS lure redirects to the bank phishing domain"),
        m.sighting("s-b1", "2026-10-14T16:10:00.000Z", bank_b1, "2026-10-12T07:00:00.000Z",
                   "2026-10-14T15:59:00.000Z", 37, "DNS resolver look-ups of the bank phishing domain by customers."),
        m.sighting("s-c1", "2026-10-14T16:10:01.000Z", c1["id"], "2026-10-13T22:10:00.000Z",
                   "2026-10-14T03:40:00.000Z", 4, "NetFlow to the CERT-Lowlands C2 address from the exercise network."),
    ]  # fmt: skip

    # Telecom: TLP:AMBER+STRICT, own organisation only.
    m = Member(TELECOM, "amber+strict")
    t2 = m.indicator("t2", "2026-10-14T16:58:00.000Z", "Exercise: SMS gateway abuse source 203.0.113.150",
                     "[ipv4-addr:value = '203.0.113.150']", "Bulk-SMS account abused to send the smishing lure.")
    files["telecom-amber-strict-internal.json"] = [
        t2,
        m.note("filter", "2026-10-14T17:00:00.000Z", "Exercise: SMS firewall rule rollout",
               "Internal: the smishing URL and the abused bulk-SMS source were blocked on all exercise gateways.",
               [t1["id"], t2["id"]]),
    ]

    # National cyber centre: TLP:GREEN, community - advisory with mitigations.
    m = Member(NCC, "green")
    coas = [
        m.base("course-of-action", "backups", "2026-10-15T09:00:00.000Z", name="Keep offline, tested backups",
               description="Keep offline or immutable backups and rehearse restoring them."),
        m.base("course-of-action", "mfa", "2026-10-15T09:00:01.000Z", name="Enforce MFA on remote access",
               description="Require multi-factor authentication on VPN, RDP gateways and web mail."),
        m.base("course-of-action", "patch", "2026-10-15T09:00:02.000Z", name="Patch internet-facing systems quickly",
               description="Prioritise security updates for VPN appliances and other internet-facing systems."),
    ]  # fmt: skip
    mit = [
        m.rel(f"{c['id'][-6:]}-{t}", "2026-10-15T09:00:03.000Z", c["id"], "mitigates", ATT[t], "Exercise advisory")
        for c in coas
        for t in ("S1202", "S1199")
    ]
    adv = m.report("advisory", "2026-10-15T09:30:00.000Z",
                   "Exercise advisory: ransomware defensive priorities (LockBit, Evil Corp)",
                   "Defensive priorities for exercise participants against LockBit affiliates and Evil Corp "
                   "(Indrik Spider), drawing on the public ATT&CK entries.",
                   [ATT["S1202"], ATT["S1199"], ATT["G0119"], *(c["id"] for c in coas),
                    *(r["id"] for r in mit)])  # fmt: skip
    files["ncc-green-advisory.json"] = [*coas, *mit, adv]

    # National cyber centre: TLP:AMBER+STRICT, own organisation only.
    m = Member(NCC, "amber+strict")
    n1 = m.indicator("n1", "2026-10-16T13:00:00.000Z", "Exercise: supplier VPN login source 192.0.2.200",
                     "[ipv4-addr:value = '192.0.2.200']",
                     "Source of anomalous VPN log-ins at an exercise government supplier.")
    nr = m.rel("n1-g0119", "2026-10-16T13:00:01.000Z", n1["id"], "indicates", ATT["G0119"],
               "Exercise assessment: low confidence")
    files["ncc-amber-strict-assessment.json"] = [
        n1, nr,
        m.report("assessment", "2026-10-16T13:30:00.000Z",
                 "Exercise: internal assessment of ransomware exposure at critical suppliers",
                 "Internal assessment (not for onward sharing) of the exercise supplier intrusion.",
                 [n1["id"], nr["id"], ATT["G0119"]]),
    ]  # fmt: skip

    # University lab: TLP:GREEN, spyware-response group - triage method.
    m = Member(UNIV, "green")
    files["univ-green-spyware-triage.json"] = [
        m.report("triage", "2026-10-17T10:00:00.000Z",
                 "Exercise: lab triage workflow for suspected Pegasus infections",
                 "How the lab checks a consenting client's device backup with MVT against Amnesty International's "
                 "published Pegasus indicators, and what it hands back to the helpline.",
                 [peg_malware], ["attack-pattern", "malware"]),
    ]  # fmt: skip

    # NGO helpline: TLP:AMBER+STRICT, spyware-response group - a sighting of an Amnesty indicator.
    m = Member(NGO, "amber+strict")
    g1 = m.indicator("g1", "2026-10-18T14:55:00.000Z", "Exercise: SMS lure domain reported by a helpline client",
                     "[domain-name:value = 'parcel-redelivery-notice.example']",
                     "Link in a suspicious SMS a (fictional) helpline client forwarded. Not a real Pegasus indicator.")
    files["ngo-amber-strict-spyware-case.json"] = [
        g1,
        m.rel("g1-pegasus", "2026-10-18T14:55:01.000Z", g1["id"], "indicates", peg_malware,
              "Exercise scenario only: the lure is assumed to deliver Pegasus"),
        m.sighting("peg", "2026-10-18T15:00:00.000Z", peg_indicator, "2026-10-18T09:00:00.000Z",
                   "2026-10-18T09:00:00.000Z", 1,
                   "A simulated helpline case: an exercise test device's backup matched this Amnesty Pegasus "
                   "indicator. No real person or device is involved."),
        m.note("case", "2026-10-18T15:05:00.000Z", "Exercise: helpline case EX-19 referred to the lab",
               "Referred to the university lab for full triage; client contact goes only through the helpline.",
               [peg_malware]),
    ]  # fmt: skip

    # NGO helpline: TLP:RED, own organisation only.
    m = Member(NGO, "red")
    g2 = m.indicator("g2", "2026-10-18T15:58:00.000Z", "Exercise: sender address that contacted the client",
                     "[email-addr:value = 'support-verify@secure-messaging.invalid']",
                     "Kept inside the helpline: could identify the (fictional) client.")
    files["ngo-red-case-log.json"] = [
        g2,
        m.note("log", "2026-10-18T16:00:00.000Z", "Exercise: helpline case log (no personal data)",
               "Internal: case EX-19 opened, consent recorded, safety plan agreed. Never shared outside the helpline.",
               [peg_malware, g2["id"]]),
    ]
    return files


#: Manifest entries, in load order: (file, publisher, tlp, audience, description).
DATASETS: list[tuple[str, str, str | None, str | None, str]] = [
    ("attack-evilcorp-lockbit.json", NCC, "clear", "public",
     "MITRE ATT&CK v18.1: Indrik Spider (G0119, Evil Corp), Dridex, WastedLocker, BitPaymer, LockBit 2.0/3.0"),
    ("misp-galaxy-lockbit-evilcorp.json", UNIV, "clear", "public",
     "MISP galaxy clusters (Evil Corp, INDRIK SPIDER, BITWISE SPIDER, LockBit, Lockbit3, Hades) as STIX 2.1"),
    ("amnesty-nso-pegasus.json", NGO, "clear", "public",
     "Amnesty International (AmnestyTech/investigations 2021-07-18_nso): NSO Group Pegasus indicators, CC-BY 2.0"),
    ("cert-lowlands-green-evilcorp.json", CERT_A, "green", "federation",
     "Exercise: Evil Corp themed indicators shared with partner hubs"),
    ("police-red-lockbit-affiliate.json", POLICE, "red", f"group:{TASKFORCE}",
     "Exercise: LockBit affiliate infrastructure for the ransomware task force only"),
    ("police-red-case-note.json", POLICE, "red", "org", "Exercise: police-only case note"),
    ("cert-baltic-amber-taskforce.json", CERT_B, "amber", f"group:{TASKFORCE}",
     "Exercise: LockBit affiliate access indicators for the task force"),
    ("cert-baltic-amber-strict-triage.json", CERT_B, "amber+strict", "org", "Exercise: CERT-only triage notes"),
    ("bank-amber-phishing.json", BANK, "amber", "community",
     "Exercise: phishing indicators, one linked to the task force's TLP:RED server"),
    ("bank-amber-finsector.json", BANK, "amber", f"group:{FINSECTOR}", "Exercise: invoice-fraud indicators"),
    ("telecom-amber-sightings.json", TELECOM, "amber", "community",
     "Exercise: sightings of member indicators and a smishing URL (hostile markup in text)"),
    ("telecom-amber-strict-internal.json", TELECOM, "amber+strict", "org", "Exercise: telecom-only note"),
    ("ncc-green-advisory.json", NCC, "green", "community", "Exercise: advisory with mitigations"),
    ("ncc-amber-strict-assessment.json", NCC, "amber+strict", "org",
     "Exercise: internal assessment, cyber centre only"),
    ("univ-green-spyware-triage.json", UNIV, "green", f"group:{SPYWARE}", "Exercise: spyware triage workflow"),
    ("ngo-amber-strict-spyware-case.json", NGO, "amber+strict", f"group:{SPYWARE}",
     "Exercise: a simulated helpline case matching an Amnesty Pegasus indicator"),
    ("ngo-red-case-log.json", NGO, "red", "org", "Exercise: helpline-only case log"),
    ("collective-action-public.json", NCC, "clear", "public",
     "Accord's extension definitions; agencies; disruption actions (Operation Cronos phases 1-3, Evil Corp "
     "sanctions 2019 and 2024, Operation Endgame, INTERPOL Synergia II and Serengeti) with public sources; "
     "publicly attributed incidents with exercise UN-norm assessments"),
    ("cert-lowlands-green-notpetya-note.json", CERT_A, "green", "federation",
     "Exercise: CERT-Lowlands' own attribution of NotPetya, shown beside the governments' (never merged)"),
    ("police-red-exercise-seizure.json", POLICE, "red", f"group:{TASKFORCE}",
     "Exercise: seizure of the task force's affiliate server; its indicators expire (new versions)"),
    ("spyware-registry-public.json", NGO, "clear", "public",
     "Accord's spyware registry for nine vendors (MISP galaxy surveillance-vendor, corrected): products, exploits, "
     "investigations and the groups of people they found targeted (by sector), US Entity List export controls; "
     "Amnesty's Pegasus malware linked to NSO Group's Pegasus, and the Pegasus infrastructure its domains indicate"),
]  # fmt: skip


#: TAXII collections the demo creates (``accord demo load``).
COLLECTIONS: list[dict[str, str]] = [
    {
        "title": "Everything you can see",
        "scope": "all",
        "readers": "all",
        "writers": "all",
        "write_audience": "community",
        "description": "Every object the signed-in organisation may see; writes go to the whole community "
        "(capped by TLP)."
    },
    {
        "title": "Public (TLP:CLEAR)",
        "scope": "public",
        "readers": "all",
        "writers": "none",
        "description": "Objects shared publicly; readable without credentials."
    },
    {
        "title": "Ransomware task force",
        "scope": "group:ransomware-taskforce",
        "readers": "all",
        "writers": "all",
        "write_audience": "group:ransomware-taskforce",
        "description": "What the ransomware task force shares among its members."
    }
]


def build(shared: Path) -> dict[Path, bytes]:
    """Every output file (path relative to demo/) and its bytes."""
    out: dict[Path, bytes] = {}
    pegasus_bytes = (shared / PEGASUS).read_bytes()
    pegasus = orjson.loads(pegasus_bytes)
    out[Path("data/attack-evilcorp-lockbit.json")] = dump(bundle("attack", build_attack(shared)))
    out[Path("data/misp-galaxy-lockbit-evilcorp.json")] = dump(bundle("misp-galaxy", build_galaxy(shared)))
    out[Path("data/amnesty-nso-pegasus.json")] = pegasus_bytes  # as published, byte for byte
    for name, objects in build_members(pegasus).items():
        out[Path("data") / name] = dump(bundle(name, objects))
    for name, objects in collective_action.files().items():
        out[Path("data") / name] = dump(bundle(name, objects))
    for name, objects in spyware_registry.files(pegasus).items():
        out[Path("data") / name] = dump(bundle(name, objects))
    manifest = {
        "organisations": ORGANISATIONS,
        "groups": GROUPS,
        "datasets": [
            {"file": f"data/{f}", "as": who, **({"tlp": t} if t else {}), **({"audience": a} if a else {}),
             "description": d}
            for f, who, t, a, d in DATASETS
        ],
        "collections": COLLECTIONS,
    }  # fmt: skip
    listed = {Path(d["file"]) for d in manifest["datasets"]}
    built = {p for p in out if p.parts[0] == "data"}
    if listed != built:
        raise SystemExit(f"manifest and data files differ: {sorted(map(str, listed ^ built))}")
    out[Path("manifest.json")] = dump(manifest)
    out[Path("licenses/MITRE-ATTACK-LICENSE.txt")] = (shared / ATTACK_LICENSE).read_bytes()
    out[Path("licenses/MISP-GALAXY-LICENSE.md")] = (shared / GALAXY_DIR / "LICENSE.md").read_bytes()
    out[Path("licenses/AMNESTY-INVESTIGATIONS-README.md")] = (shared / AMNESTY_README).read_bytes()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared data folder")
    ap.add_argument("--out", type=Path, default=HERE, help="where to write (default: this script's folder)")
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 if any file would change")
    args = ap.parse_args(argv)
    files = build(args.shared)
    changed = [p for p, data in files.items() if not (args.out / p).is_file() or (args.out / p).read_bytes() != data]
    if args.check:
        for p in changed:
            print(f"would change: {p}")
        return 1 if changed else 0
    if (args.out / "data").is_dir():  # drop data files no longer built
        for stale in (args.out / "data").glob("*.json"):
            if Path("data") / stale.name not in files:
                stale.unlink()
    for p, data in files.items():
        (args.out / p).parent.mkdir(parents=True, exist_ok=True)
        (args.out / p).write_bytes(data)
    for p in sorted(files):
        print(f"{p}  {len(files[p]):>9,} B  sha256 {hashlib.sha256(files[p]).hexdigest()[:16]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
