"""The hub the browser tests look at: four organisations (from tests/helpers.py), passwords and
tokens for their users, intelligence that each sees differently, and hostile content."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from accord.detect.sightings import Tally, sighting_objects
from accord.hub import Hub
from accord.stix.timestamps import format_stix, now
from helpers import community, indicator, items, malware, relationship

MVT = Path(__file__).parent.parent / "data" / "mvt"

PASSWORD = "correct horse battery staple"
USERS = {"NCC": "admin@ncc.example", "Police": "oa@police.example", "Bank": "analyst@bank.example",
         "Uni": "reader@uni.example"}  # fmt: skip
#: Markup that must come out as text. Each payload sets window.__pwned if it ever runs.
HOSTILE = [
    "<script>window.__pwned='script'</script>",
    '"><img src=x onerror="window.__pwned=\'img\'">',
    "'><svg onload=\"window.__pwned='svg'\"></svg>",
    "<a href=\"javascript:window.__pwned='href'\">click</a>",
    "{{ 7*7 }}<iframe srcdoc=\"<script>parent.__pwned='iframe'</script>\"></iframe>",
]
HOSTILE_ORG = "Evil <script>window.__pwned='org'</script> Org"
BULK = 60


@dataclass
class Community:
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    hostile_ids: list[str] = field(default_factory=list)


def build(hub: Hub) -> Community:
    v = community(hub)
    op = hub.viewer_as(None)
    out = Community()
    for org, email in USERS.items():
        hub.set_password(op, email, PASSWORD)
        out.tokens[org] = hub.create_token(op, email, label="browser tests")["token"]

    bank = hub.options(via="cli")
    lockbit = malware("LockBit 3.0", level="green")
    c2 = indicator("lockbit-c2.example", level="green", description="LockBit command and control")
    c2["name"] = "LockBit C2 server"
    private = indicator("payroll-phish.example", level="amber")
    private["name"] = "Bank only: payroll phishing domain"
    rel = relationship(c2["id"], lockbit["id"], level="green")
    hub.ingest(v["Bank"], items(lockbit, c2, rel), bank)
    hub.ingest(v["Bank"], items(private), hub.options(audience="org", via="cli"))
    c2_v2 = {**c2, "modified": "2024-03-01T09:00:00.000Z", "description": "LockBit C2, seen again in March",
             "labels": ["ransomware"]}  # fmt: skip
    hub.ingest(v["Bank"], items(c2_v2), bank)

    taskforce = indicator("ransom-negotiator.example", level="amber")
    taskforce["name"] = "Taskforce: ransom negotiation portal"
    hub.ingest(v["NCC"], items(taskforce), hub.options(audience="group:taskforce", via="cli"))
    bulk = [indicator(f"bulk-{i:03d}.example", level="green", labels=["bulk"]) for i in range(BULK)]
    hub.ingest(v["NCC"], items(*bulk), hub.options(via="cli"))
    hub.ingest(v["NCC"], items(relationship(bulk[0]["id"], lockbit["id"], level="green")), hub.options(via="cli"))
    # What sweeps found, published as 'accord sweep --report' publishes it.
    sweep(hub, "Police", {bulk[0]["id"]: (40, ago(6), ago(1)), bulk[1]["id"]: (3, ago(300), ago(200))})
    sweep(hub, "Bank", {bulk[0]["id"]: (2, ago(2), ago(2))})
    sweep(hub, "Bank", {private["id"]: (9, ago(3), ago(1))}, audience="org", level="amber")
    out.ids.update(bulk0=bulk[0]["id"], bulk1=bulk[1]["id"])
    out.ids.update(lockbit=lockbit["id"], c2=c2["id"], private=private["id"], taskforce=taskforce["id"], rel=rel["id"])

    # Hostile input: names, descriptions, patterns, labels, links and an organisation's name.
    hub.add_org(op, HOSTILE_ORG, "commercial", "US")
    hub.add_user(op, "mallory@evil.example", HOSTILE_ORG, "analyst", name=HOSTILE[0])
    hub.add_group(op, "hostile-group", "Police", ["Bank", HOSTILE_ORG], members_visible=True,
                  description=HOSTILE[1])  # fmt: skip
    evil: list[dict[str, Any]] = []
    for i, payload in enumerate(HOSTILE):
        m = malware(f"Payload {i} {payload}", level="green")
        m["description"] = payload
        m["labels"] = [payload]
        m["external_references"] = [{"source_name": payload, "url": f"javascript:window.__pwned='ref{i}'"}]
        ind = indicator(f"evil{i}.example", level="green", description=payload)
        ind["name"] = f"Indicator {i} {payload}"
        ind["pattern"] = f"[domain-name:value = '{payload.replace(chr(39), '')}.example']"
        evil += [m, ind, relationship(ind["id"], m["id"], level="green", description=payload)]
    hub.ingest(hub.viewer_as(HOSTILE_ORG), items(*evil), hub.options(via="cli"))
    out.hostile_ids = [o["id"] for o in evil]
    # ... and sighted, so the detection results show their names, their malware's and the organisation's.
    sweep(hub, HOSTILE_ORG, {o["id"]: (i + 1, ago(3), ago(1)) for i, o in enumerate(evil) if o["type"] == "indicator"})
    return out


def seed_spyware(hub: Hub) -> None:
    """The spyware registry with MVT's test indicators (linked to Pegasus), and a helpline."""
    op = hub.viewer_as(None)
    hub.spyware_seed(op, [("hubtest.stix2", (MVT / "hubtest.stix2").read_bytes())], vendor="NSO group",
                     product="Pegasus")  # fmt: skip
    hub.add_org(op, "OpenLine Helpline", "nonprofit", "GB")


def ago(days: float) -> str:
    return format_stix(now() - timedelta(days=days))


def sweep(hub: Hub, org: str, found: dict[str, tuple[int, str, str]], audience: str | None = None,
          level: str = "green") -> None:  # fmt: skip
    """Sightings as a sweep reports them: indicator id → (hits, first seen, last seen)."""
    viewer = hub.viewer_as(org)
    tallies = {ind: Tally(count=n, first=first, last=last) for ind, (n, first, last) in found.items()}
    objs = sighting_objects(tallies, viewer.org_identity or "", lambda _sid: None, now())
    hub.ingest(viewer, items(*objs), hub.options(tlp=level, audience=audience, via="sweep"))
