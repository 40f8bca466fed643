"""STIX timestamps: parsing, a sortable canonical key, and the hub's own UTC clock format."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_TS = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z$")


def parse(value: str) -> datetime:
    """Parse a STIX timestamp (``YYYY-MM-DDTHH:MM:SS[.s+]Z``); ValueError if it is not one."""
    m = _TS.match(value) if isinstance(value, str) else None
    if not m:
        raise ValueError(f"not a STIX timestamp: {value!r}")
    frac = (m.group(7) or "").ljust(6, "0")[:6]
    return datetime(*(int(m.group(i)) for i in range(1, 7)), int(frac), tzinfo=UTC)


def version_key(value: str) -> str:
    """A key that sorts like the timestamp, keeping every digit (nanoseconds included)."""
    m = _TS.match(value)
    if not m:
        raise ValueError(f"not a STIX timestamp: {value!r}")
    frac = (m.group(7) or "").ljust(9, "0")
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}T{m.group(4)}:{m.group(5)}:{m.group(6)}.{frac}Z"


def format_stix(dt: datetime) -> str:
    """Millisecond precision, as Accord writes every timestamp it makes."""
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def format_micro(dt: datetime) -> str:
    """Microsecond precision (TAXII ``date_added`` and its headers)."""
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now() -> datetime:
    return datetime.now(UTC)
