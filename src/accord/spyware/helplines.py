"""Which organisations on a hub are helplines that people at risk can turn to after a device check.

By default the member organisations of sector ``nonprofit`` (digital-rights helplines, NGOs) and
``cert``; ``ACCORD_SPYWARE_HELPLINES`` (organisation names separated by commas) names them instead.
The contact shown is the ``contact_information`` of the organisation's own identity object, when it
has published one.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["HELPLINE_SECTORS", "configured", "select"]

HELPLINE_SECTORS = ("nonprofit", "cert")
ENV = "ACCORD_SPYWARE_HELPLINES"


def configured() -> list[str] | None:
    """The names set in ACCORD_SPYWARE_HELPLINES, or None when it is unset or empty."""
    raw = os.environ.get(ENV, "")
    names = [n.strip() for n in raw.split(",") if n.strip()]
    return names or None


def select(orgs: list[dict[str, Any]], identities: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The helplines among ``orgs`` (rows with name, identity_id, sector, country)."""
    names = configured()
    chosen = [o for o in orgs if (o["name"] in names if names else o.get("sector") in HELPLINE_SECTORS)]
    out = []
    for o in sorted(chosen, key=lambda o: (o.get("sector") != "nonprofit", o["name"])):
        ident = (identities.get(o["identity_id"]) or {}).get("object") or {}
        out.append(
            {
                "name": o["name"],
                "country": o.get("country"),
                "sector": o.get("sector"),
                "contact": ident.get("contact_information"),
                "identity": o["identity_id"],
            }
        )
    return out
