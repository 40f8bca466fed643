"""Audiences (who an object is shared with) and how TLP 2.0 caps them."""

from __future__ import annotations

from dataclasses import dataclass

from accord.errors import AudienceRefused, InvalidInput
from accord.stix import tlp

ORG, GROUP, COMMUNITY, FEDERATION, PUBLIC = "org", "group", "community", "federation", "public"
KINDS: tuple[str, ...] = (ORG, GROUP, COMMUNITY, FEDERATION, PUBLIC)
#: How far each kind reaches; org and group are both "named recipients only".
REACH = {ORG: 0, GROUP: 0, COMMUNITY: 1, FEDERATION: 2, PUBLIC: 3}
#: The widest reach each TLP level allows.
_TLP_CAP = {tlp.RED: 0, tlp.AMBER_STRICT: 0, tlp.AMBER: 1, tlp.GREEN: 2, tlp.CLEAR: 3}


@dataclass(frozen=True)
class Audience:
    kind: str
    group: str | None = None

    def __str__(self) -> str:
        return f"group:{self.group}" if self.kind == GROUP else self.kind


def parse_audience(text: str) -> Audience:
    """``org``, ``group:NAME``, ``community``, ``federation`` or ``public``."""
    value = text.strip()
    if value.startswith("group:"):
        name = value[6:].strip()
        if not name:
            raise InvalidInput("audience 'group:' needs a group name, e.g. group:ransomware-taskforce")
        return Audience(GROUP, name)
    if value in KINDS and value != GROUP:
        return Audience(value)
    raise InvalidInput(
        f"unknown audience {text!r}; use org, group:NAME, community, federation or public"
    )


def cap_for_tlp(level: str) -> str:
    """The widest audience kind a TLP level allows (``group`` reads as "org or group")."""
    reach = _TLP_CAP[level]
    return {0: GROUP, 1: COMMUNITY, 2: FEDERATION, 3: PUBLIC}[reach]


def allowed(level: str, audience: Audience) -> bool:
    return REACH[audience.kind] <= _TLP_CAP[level]


def check_allowed(level: str, audience: Audience, object_id: str) -> None:
    if not allowed(level, audience):
        raise AudienceRefused(
            f"{object_id} is TLP:{level.upper()}, which may not be shared with audience "
            f"'{audience}'; the widest allowed is '{cap_for_tlp(level)}'"
        )


def default_audience(level: str) -> Audience:
    """Community where TLP allows it, otherwise the owner organisation only."""
    return Audience(COMMUNITY) if _TLP_CAP[level] >= 1 else Audience(ORG)


def within_tlp(kind: str, level: str) -> str:
    """``kind`` (not a group), narrowed to the widest kind a TLP level allows rather than refused."""
    if REACH[kind] <= _TLP_CAP[level]:
        return kind
    cap = cap_for_tlp(level)
    return ORG if cap == GROUP else cap
