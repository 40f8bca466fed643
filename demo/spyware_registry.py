"""The demo's spyware registry: the part of Accord's registry (``accord.spyware.seed``) that concerns the
vendors with known products, indicator files or export controls (with the groups of people their
investigations found targeted), and what ties Amnesty's Pegasus indicator file (already in the demo) to
the registry: its malware ``duplicate-of`` the Pegasus product, and the Pegasus infrastructure its domain
indicators ``indicate`` (``accord.spyware.seed.file_links``, as ``accord spyware seed`` makes them).

The objects come from the MISP galaxy ``surveillance-vendor`` cluster shipped with Accord (corrected as
the registry corrects it) and Accord's curated ``registry.json``, with the registry's own ids and fixed
timestamps, so a demo hub and ``accord spyware seed`` agree object for object.
"""

from __future__ import annotations

from typing import Any

from accord.spyware import seed

#: The malware object of Amnesty's pegasus.stix2 (``data/amnesty-nso-pegasus.json``).
AMNESTY_PEGASUS = "malware--2e9d534b-2e11-4758-bdc5-9c3e1c100d4d"
FILE = "spyware-registry-public.json"


def objects(pegasus: dict[str, Any]) -> list[dict[str, Any]]:
    """Registry objects for the vendors that have curated products, files or export controls, and the links
    of Amnesty's Pegasus file (``pegasus``: the bundle as published)."""
    data = seed.curated()
    vendors = {f"identity--{p['vendor']}" for p in data["products"] if p["vendor"]}
    vendors |= {f"identity--{t['vendor']}" for ec in data["export_controls"] for t in ec["targets"]}
    every = seed.registry_objects()
    by_id = {o["id"]: o for o in every}
    keep: set[str] = set(vendors)
    products = {
        o["id"]
        for o in every
        if o["type"] == "malware" and "spyware" in o["malware_types"] and any(
            r["type"] == "relationship" and r["source_ref"] == o["id"] and r["target_ref"] in vendors
            and r["relationship_type"] == "authored-by" for r in every
        )
    }  # fmt: skip
    keep |= products
    for r in every:
        if r["type"] != "relationship":
            continue
        src, dst = r["source_ref"], r["target_ref"]
        if (src in vendors and dst in vendors) or (src in products and dst in vendors):
            keep.add(r["id"])
        elif src in products and r["relationship_type"] == "exploits":
            keep.update((r["id"], dst))
        elif dst in products and r["relationship_type"] == "uses":
            keep.update((r["id"], src))
    for r in every:  # the groups of people the kept investigations found targeted
        if r["type"] == "relationship" and r["relationship_type"] == "targets" and r["source_ref"] in keep:
            keep.update((r["id"], r["target_ref"]))
    for o in every:
        if o["type"] == "disruption-action" and set(o["target_refs"]) <= vendors:
            keep.add(o["id"])
    entry = next(f for f in data["files"] if f["file"] == "pegasus.stix2")
    links = seed.file_links("pegasus.stix2", pegasus["objects"], entry, "NSO group")
    if not any(o["type"] == "relationship" and o["source_ref"] == AMNESTY_PEGASUS for o in links):
        raise SystemExit(f"pegasus.stix2 no longer holds the malware {AMNESTY_PEGASUS}")
    return [by_id[i] for i in sorted(keep, key=lambda i: (by_id[i]["type"], i))] + links


def files(pegasus: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {FILE: objects(pegasus)}
