"""Builders for the collective-action tests: disruption actions and the objects they target."""

from __future__ import annotations

import uuid
from typing import Any

from accord.stix import tlp
from accord.stix.extensions import DISRUPTION_EXTENSION_ID

T0 = "2024-02-19T10:00:00.000Z"


def action(targets: list[str], *, types: tuple[str, ...] = ("takedown",), date: str = "2024-02-20T00:00:00.000Z",
           level: str | None = None, **extra: Any) -> dict[str, Any]:  # fmt: skip
    obj: dict[str, Any] = {
        "type": "disruption-action",
        "spec_version": "2.1",
        "id": f"disruption-action--{uuid.uuid4()}",
        "created": T0,
        "modified": T0,
        "name": "Operation Test",
        "action_types": list(types),
        "action_date": date,
        "target_refs": targets,
        "extensions": {DISRUPTION_EXTENSION_ID: {"extension_type": "new-sdo"}},
        **extra,
    }
    if level:
        obj["object_marking_refs"] = [tlp.TLP2_IDS[level]]
    return obj


def infrastructure(name: str = "C2 server", level: str | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "infrastructure",
        "spec_version": "2.1",
        "id": f"infrastructure--{uuid.uuid4()}",
        "created": T0,
        "modified": T0,
        "name": name,
    }
    if level:
        obj["object_marking_refs"] = [tlp.TLP2_IDS[level]]
    return obj


def intrusion_set(name: str = "LockBit", level: str | None = "clear") -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "intrusion-set",
        "spec_version": "2.1",
        "id": f"intrusion-set--{uuid.uuid4()}",
        "created": T0,
        "modified": T0,
        "name": name,
    }
    if level:
        obj["object_marking_refs"] = [tlp.TLP2_IDS[level]]
    return obj
