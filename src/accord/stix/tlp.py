"""TLP 2.0 levels and their OASIS marking-definition objects; TLP 1.0 ids map onto 2.0."""

from __future__ import annotations

from collections.abc import Iterable

from accord.errors import InvalidInput

CLEAR, GREEN, AMBER, AMBER_STRICT, RED = "clear", "green", "amber", "amber+strict", "red"

#: From least to most restrictive.
LEVELS: tuple[str, ...] = (CLEAR, GREEN, AMBER, AMBER_STRICT, RED)
_RANK = {level: i for i, level in enumerate(LEVELS)}

TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

#: OASIS TLP 2.0 marking-definition ids (cti-stix-common-objects, tlp-2.0 extension).
TLP2_IDS: dict[str, str] = {
    CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

#: STIX 2.1 predefined TLP 1.0 marking-definition ids, mapped onto TLP 2.0 (WHITE becomes CLEAR).
TLP1_IDS: dict[str, str] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": CLEAR,
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": RED,
}

LEVEL_BY_ID: dict[str, str] = {**{v: k for k, v in TLP2_IDS.items()}, **TLP1_IDS}

_ALIASES = {"white": CLEAR, "amber-strict": AMBER_STRICT, "amber_strict": AMBER_STRICT}


def parse_level(text: str) -> str:
    """Read a TLP level as a person writes it: ``amber+strict``, ``TLP:RED``, ``white``."""
    value = text.strip().lower()
    if value.startswith("tlp:"):
        value = value[4:]
    value = _ALIASES.get(value, value)
    if value not in _RANK:
        raise InvalidInput(f"unknown TLP level {text!r}; use one of: {', '.join(LEVELS)}")
    return value


def rank(level: str) -> int:
    return _RANK[level]


def most_restrictive(levels: Iterable[str]) -> str | None:
    found = [lv for lv in levels if lv in _RANK]
    return max(found, key=_RANK.__getitem__) if found else None


def level_of(obj: dict) -> str | None:
    """The TLP level an object's ``object_marking_refs`` give it (the strictest), or None."""
    refs = obj.get("object_marking_refs")
    if not refs:
        return None
    return most_restrictive(LEVEL_BY_ID.get(ref, "") for ref in refs)


def is_tlp_marking_id(stix_id: str) -> bool:
    return stix_id in LEVEL_BY_ID


def marking_definition(level: str) -> dict:
    """The OASIS TLP 2.0 marking-definition object for a level, exactly as published."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_IDS[level],
        "created": "2022-10-01T00:00:00.000Z",
        "name": "TLP:" + level.upper(),
        "extensions": {
            TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": level},
        },
    }


def tlp1_marking_definition(stix_id: str) -> dict:
    """The STIX 2.1 predefined TLP 1.0 marking-definition object for one of ``TLP1_IDS``."""
    level = TLP1_IDS[stix_id]
    name = "white" if level == CLEAR else level
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": stix_id,
        "created": "2017-01-20T00:00:00.000Z",
        "definition_type": "tlp",
        "name": "TLP:" + name.upper(),
        "definition": {"tlp": name},
    }


def all_marking_definitions() -> list[dict]:
    return [marking_definition(lv) for lv in LEVELS] + [tlp1_marking_definition(i) for i in TLP1_IDS]
