"""Helpers for the spyware tests: a hub with the registry, a few real indicator files, and the MVT test
indicators (``hubtest.stix2``, linked to Pegasus so that MVT's own sample outputs have something to match)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from accord.hub import Hub

DATA = Path(__file__).parent.parent / "data"
SPYWARE = DATA / "spyware"
MVT = DATA / "mvt"
FILES = ("cytrox.stix2", "predator.stix2", "wintego_helios.stix2", "rcs.stix2", "cellebrite.stix2")


def seed_small(hub: Hub, files: tuple[str, ...] = FILES, **kw: Any) -> Any:
    """The registry, the given test files, and hubtest.stix2 linked to NSO's Pegasus."""
    op = hub.viewer_as(None)
    report = hub.spyware_seed(op, [(f, (SPYWARE / f).read_bytes()) for f in files], **kw)
    hub.spyware_seed(op, [("hubtest.stix2", (MVT / "hubtest.stix2").read_bytes())], vendor="NSO group",
                     product="Pegasus", **kw)  # fmt: skip
    return report


def people(hub: Hub) -> dict[str, str]:
    """A helpline, a newsroom whose journalist checks a phone, and a bank; tokens by role."""
    op = hub.viewer_as(None)
    hub.add_org(op, "Helpline", "nonprofit", "GB")
    hub.add_org(op, "Newsroom", "communications", "GB")
    hub.add_org(op, "Bank", "financial-services", "FR")
    hub.add_user(op, "journalist@news.example", "Newsroom", "reader")
    hub.add_user(op, "desk@helpline.example", "Helpline", "analyst")
    hub.add_user(op, "soc@bank.example", "Bank", "analyst")
    return {e: hub.create_token(op, e)["token"] for e in ("journalist@news.example", "desk@helpline.example",
                                                           "soc@bank.example")}  # fmt: skip
