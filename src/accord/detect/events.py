"""What log readers hand to matchers: one event = one observed-data, held compactly.

``objects`` uses the STIX 2.0 observed-data shape that ``stix2-matcher`` also accepts: a dict of
string keys ("0", "1", …) to SCO dicts whose ``*_ref`` / ``*_refs`` properties name other keys of
the same dict. ``line`` is 1-based, as ``grep -n`` counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class Event:
    line: int
    ts: datetime | None
    objects: dict[str, dict[str, Any]]
    number_observed: int = 1
    last_ts: datetime | None = None  # None: same as ts
    source: dict[str, Any] = field(default_factory=dict)  # e.g. {"file": "...", "format": "zeek-dns"}
