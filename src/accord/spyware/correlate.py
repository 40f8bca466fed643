"""Correlating indicators by value: two indicators whose patterns say the same thing are one piece of
evidence with two sources (``cytrox.stix2`` repeats all 343 of its patterns inside ``predator.stix2``
under other ids), so the registry and every device-check finding name both products.

The key of a pattern comes from the detection engine's parser (``accord.detect.parse``): for the
usual one-comparison patterns it is ``object-type:path=value`` with hash names normalised
(``hashes.'SHA-256'`` and ``hashes.sha256`` are the same hash); for anything else it is the parsed
pattern tree, so spacing and quoting never make two equal patterns differ.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from accord.detect.ast import Comparison, Observation
from accord.detect.parse import parse
from accord.errors import PatternError

__all__ = ["group_by_value", "value_key", "comparison_key", "equality_value"]

_HASH_NAMES = {
    "sha256": "SHA-256",
    "sha-256": "SHA-256",
    "sha1": "SHA-1",
    "sha-1": "SHA-1",
    "md5": "MD5",
    "sha512": "SHA-512",
    "sha-512": "SHA-512",
}


def _step(prev: Any, step: Any) -> str:
    if isinstance(step, str) and prev == "hashes":
        return _HASH_NAMES.get(step.lower(), step)
    return str(step)


def comparison_key(comp: Comparison) -> str:
    """``type:path=value`` of one equality comparison (hash names normalised)."""
    steps = comp.path.steps
    parts = [_step(steps[i - 1] if i else None, s) for i, s in enumerate(steps)]
    return f"{comp.path.object_type}:{'.'.join(parts)}={comp.value}"


@lru_cache(maxsize=400_000)
def _keys(pattern: str, spec_version: str) -> tuple[str | None, str | None]:
    try:
        parsed = parse(pattern, "2.0" if spec_version.startswith("2.0") else "2.1")
    except PatternError:
        return None, None
    root = parsed.root
    if (
        isinstance(root, Observation)
        and isinstance(root.expr, Comparison)
        and root.expr.op == "="
        and not root.expr.negated
    ):
        value = root.expr.value
        return comparison_key(root.expr), value if isinstance(value, str) else None
    return repr(root), None


def value_key(pattern: str, spec_version: str = "2.1") -> str | None:
    """The correlation key of a pattern, or None when it does not parse."""
    return _keys(pattern, spec_version)[0]


def equality_value(pattern: str, spec_version: str = "2.1") -> str | None:
    """The string a one-comparison ``=`` pattern needs an observation to hold, else None."""
    return _keys(pattern, spec_version)[1]


def group_by_value(indicators: Iterable[dict[str, Any]]) -> dict[str, list[str]]:
    """Correlation key → ids of the indicators with that value (indicators that do not parse are left out)."""
    out: dict[str, list[str]] = {}
    for ind in indicators:
        pattern = ind.get("pattern")
        if ind.get("type") != "indicator" or not isinstance(pattern, str) or ind.get("pattern_type", "stix") != "stix":
            continue
        key = value_key(pattern, str(ind.get("spec_version", "2.1")))
        if key is not None:
            out.setdefault(key, []).append(ind["id"])
    return out
