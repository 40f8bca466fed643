"""Builders for tests: STIX objects and a small community of organisations."""

from __future__ import annotations

import uuid
from typing import Any

from accord.hub import Hub
from accord.stix import tlp
from accord.stix.reader import Item

T0 = "2024-02-19T10:00:00.000Z"


def indicator(value: str = "evil.example", *, level: str | None = None, modified: str = T0,
              stix_id: str | None = None, **extra: Any) -> dict[str, Any]:  # fmt: skip
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": stix_id or f"indicator--{uuid.uuid4()}",
        "created": T0,
        "modified": modified,
        "name": f"Domain {value}",
        "pattern": f"[domain-name:value = '{value}']",
        "pattern_type": "stix",
        "valid_from": T0,
        **extra,
    }
    if level:
        obj["object_marking_refs"] = [tlp.TLP2_IDS[level]]
    return obj


def relationship(source: str, target: str, level: str | None = None, **extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "relationship",
        "spec_version": "2.1",
        "id": f"relationship--{uuid.uuid4()}",
        "created": T0,
        "modified": T0,
        "relationship_type": "indicates",
        "source_ref": source,
        "target_ref": target,
        **extra,
    }
    if level:
        obj["object_marking_refs"] = [tlp.TLP2_IDS[level]]
    return obj


def malware(name: str = "LockBit", level: str | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "malware",
        "spec_version": "2.1",
        "id": f"malware--{uuid.uuid4()}",
        "created": T0,
        "modified": T0,
        "name": name,
        "is_family": True,
    }
    if level:
        obj["object_marking_refs"] = [tlp.TLP2_IDS[level]]
    return obj


def items(*objs: dict[str, Any]) -> list[Item]:
    return [Item(i, o) for i, o in enumerate(objs)]


def community(hub: Hub) -> dict[str, Any]:
    """Four organisations, one group (ncc, police, bank), users with each role."""
    op = hub.viewer_as(None)
    hub.add_org(op, "NCC", "government-national", "GB")
    hub.add_org(op, "Police", "law-enforcement", "GB")
    hub.add_org(op, "Bank", "financial-services", "FR")
    hub.add_org(op, "Uni", "academia", "DE")
    hub.add_group(op, "taskforce", "NCC", ["Police", "Bank"])
    hub.add_user(op, "admin@ncc.example", "NCC", "admin")
    hub.add_user(op, "oa@police.example", "Police", "org-admin")
    hub.add_user(op, "analyst@bank.example", "Bank", "analyst")
    hub.add_user(op, "reader@uni.example", "Uni", "reader")
    return {name: hub.viewer_as(name) for name in ("NCC", "Police", "Bank", "Uni")}
