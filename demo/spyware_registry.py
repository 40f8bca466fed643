"""The demo's spyware registry: the part of Accord's registry (``accord.spyware.seed``) that concerns the
vendors with known products, indicator files or export controls, and the link from the Pegasus malware
of Amnesty's indicator file (already in the demo) to the registry's Pegasus product.

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


def objects() -> list[dict[str, Any]]:
    """Registry objects for the vendors that have curated products, files or export controls."""
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
    for o in every:
        if o["type"] == "disruption-action" and set(o["target_refs"]) <= vendors:
            keep.add(o["id"])
    pegasus = seed.product_id("49d8e89f-401d-4d3d-9155-5758a346a4a1", "Pegasus")
    link = seed.relationship("duplicate-of", AMNESTY_PEGASUS, pegasus, data["version"],
                             "The malware of indicator file pegasus.stix2")  # fmt: skip
    return [by_id[i] for i in sorted(keep, key=lambda i: (by_id[i]["type"], i))] + [link]


def files() -> dict[str, list[dict[str, Any]]]:
    return {FILE: objects()}
