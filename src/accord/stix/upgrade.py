"""Upgrade STIX 2.0 objects (SDOs, SROs, marking definitions) to STIX 2.1.

STIX 2.0 objects carry no ``spec_version``; 2.1 requires it. The changes the 2.1 specification makes
to the 2.0 types are mechanical:

* every object gets ``spec_version: "2.1"``;
* the 2.0 ``labels`` that were the type's vocabulary become the 2.1 ``*_types`` property
  (indicator → ``indicator_types``, malware → ``malware_types``, threat-actor →
  ``threat_actor_types``, tool → ``tool_types``, report → ``report_types``); other types keep
  ``labels``;
* an indicator gets ``pattern_type: "stix"``, and ``pattern_version`` "2.1" when its pattern is valid
  in the 2.1 pattern language, else "2.0" when it is valid 2.0 (e.g. ``[…] WITHIN 5 SECONDS WITHIN 6
  SECONDS``: 2.1 forbids repeating a qualifier, 2.0 did not), so the pattern keeps its meaning;
* a malware becomes ``is_family: true`` (2.0 malware described families);
* observed-data keeps ``objects`` (deprecated in 2.1, still valid).

The result is checked with ``accord.stix.validate.check_object``; anything that cannot be upgraded
to a valid 2.1 object raises ``accord.errors.InvalidStix`` saying why. Pure functions; the input is
not modified (the result is a new top-level dict that shares nested values with it).
"""

from __future__ import annotations

from stix2.v21 import OBJ_MAP_OBSERVABLE

from accord.errors import InvalidStix
from accord.stix.patterns import check_pattern
from accord.stix.validate import check_object

__all__ = ["needs_upgrade", "upgrade_object"]

#: 2.0 ``labels`` that 2.1 moved into a typed vocabulary property.
LABELS_TO_TYPES: dict[str, str] = {
    "indicator": "indicator_types",
    "malware": "malware_types",
    "threat-actor": "threat_actor_types",
    "tool": "tool_types",
    "report": "report_types",
}


def needs_upgrade(obj: dict) -> bool:
    """True for a STIX 2.0 SDO, SRO or marking definition: no ``spec_version`` (or "2.0")."""
    if not isinstance(obj, dict):
        return False
    obj_type = obj.get("type")
    if not isinstance(obj_type, str) or obj_type == "bundle" or obj_type in OBJ_MAP_OBSERVABLE:
        return False
    return obj.get("spec_version", "2.0") == "2.0"


def _name(obj: dict) -> str:
    oid = obj.get("id")
    return oid if isinstance(oid, str) and oid else str(obj.get("type", "object"))


def upgrade_object(obj: dict) -> dict:
    """A STIX 2.1 version of the STIX 2.0 object ``obj``; a 2.1 object is returned unchanged (a copy).

    Raises InvalidStix when ``obj`` is not a 2.0 SDO/SRO/marking definition or cannot become a valid
    2.1 object.
    """
    if not isinstance(obj, dict):
        raise InvalidStix(f"cannot upgrade {type(obj).__name__}: a STIX object is a JSON object")
    obj_type = obj.get("type")
    if not isinstance(obj_type, str) or not obj_type:
        raise InvalidStix("cannot upgrade an object without a 'type'")
    if obj.get("spec_version") == "2.1":
        return dict(obj)
    if obj_type == "bundle":
        raise InvalidStix("cannot upgrade a bundle: upgrade each object in its 'objects'")
    if obj_type in OBJ_MAP_OBSERVABLE:
        raise InvalidStix(
            f"{_name(obj)}: a cyber-observable; STIX 2.0 only has them inside observed-data 'objects'"
        )
    if not needs_upgrade(obj):
        raise InvalidStix(f"{_name(obj)}: spec_version {obj.get('spec_version')!r} is not STIX 2.0")

    new: dict = {"type": obj_type, "spec_version": "2.1"}
    for key, value in obj.items():
        if key not in new:
            new[key] = value

    types_property = LABELS_TO_TYPES.get(obj_type)
    if types_property is not None and "labels" in new:
        labels = new.pop("labels")
        if isinstance(labels, str):
            labels = [labels]
        if not isinstance(labels, list):
            raise InvalidStix(f"{_name(obj)}: 'labels' must be a list of strings")
        existing = new.get(types_property) or []
        if not isinstance(existing, list):
            raise InvalidStix(f"{_name(obj)}: '{types_property}' must be a list of strings")
        merged = list(existing) + [label for label in labels if label not in existing]
        if merged:
            new[types_property] = merged

    if obj_type == "indicator":
        new.setdefault("pattern_type", "stix")
        if new["pattern_type"] == "stix" and "pattern_version" not in new:
            pattern = new.get("pattern")
            if isinstance(pattern, str) and check_pattern(pattern) is None:
                new["pattern_version"] = "2.1"
            elif isinstance(pattern, str) and check_pattern(pattern, "2.0") is None:
                new["pattern_version"] = "2.0"
            else:
                reason = check_pattern(pattern, "2.0") if pattern is not None else "missing 'pattern'"
                raise InvalidStix(f"{_name(obj)}: cannot upgrade, its pattern is not valid STIX 2.0: {reason}")
    elif obj_type == "malware":
        new.setdefault("is_family", True)

    reason = check_object(new)
    if reason is not None:
        raise InvalidStix(f"cannot upgrade to STIX 2.1: {reason}")
    return new
