"""``accord export --format mvt``: STIX2 files that MVT (``mvt-ios`` / ``mvt-android --iocs``) loads, one
per spyware product the viewer may see.

MVT reads an indicator file its own way: the first ``malware`` names the file's indicators, and each
pattern is cut at ``=`` into a key it knows (``domain-name:value``, ``process:name``, ``app:id`` …) and a
quoted value. So every exported file holds one malware (the product, named with its vendor) and the
product's indicators whose pattern is a single equality on a key MVT knows, rewritten in the one shape
MVT parses (``[key='value']``; ``file:hashes.'SHA-256'`` becomes ``file:hashes.sha256``). Everything else
is left out and reported with the reason: several comparisons or observations, another operator, a key
MVT does not check, a value holding ``=`` or a quote (MVT's parser would cut or mangle it), indicators
revoked or out of their validity.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from accord.detect.ast import Comparison, Observation
from accord.detect.parse import parse
from accord.detect.sources import in_force
from accord.errors import InvalidInput, PatternError
from accord.spyware.registry import Registry
from accord.stix.timestamps import now

__all__ = ["MVT_KEYS", "LeftOut", "export", "mvt_pattern"]

#: The pattern keys MVT checks (mvt.common.indicators).
MVT_KEYS = frozenset(
    {
        "domain-name:value",
        "url:value",
        "ipv4-addr:value",
        "process:name",
        "email-addr:value",
        "file:name",
        "file:path",
        "file:hashes.md5",
        "file:hashes.sha1",
        "file:hashes.sha256",
        "app:id",
        "app:cert.md5",
        "app:cert.sha1",
        "app:cert.sha256",
        "configuration-profile:id",
        "android-property:name",
    }
)
_HASH = {"sha-256": "sha256", "sha256": "sha256", "sha-1": "sha1", "sha1": "sha1", "md5": "md5"}
_NS = uuid.UUID("1b0a2b9e-3f1c-5d6e-8a7b-9c0d1e2f3a4b")
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass
class LeftOut:
    indicator: str
    product: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return dict(self.__dict__)


def mvt_pattern(pattern: str, spec_version: str = "2.1") -> tuple[str | None, str | None]:
    """(the pattern as MVT parses it, None) or (None, why MVT cannot use it)."""
    try:
        parsed = parse(pattern, "2.0" if spec_version.startswith("2.0") else "2.1")
    except PatternError as exc:
        return None, f"not a valid pattern ({exc.message})"
    root = parsed.root
    if not isinstance(root, Observation):
        return None, "several observations or a qualifier (MVT reads one comparison)"
    comp = root.expr
    if not isinstance(comp, Comparison):
        return None, "several comparisons (MVT reads one comparison)"
    if comp.op != "=" or comp.negated:
        return None, f"operator {'NOT ' if comp.negated else ''}{comp.op} (MVT reads '=' only)"
    if not isinstance(comp.value, str):
        return None, "a value that is not a string"
    steps = list(comp.path.steps)
    if len(steps) == 2 and steps[0] in ("hashes", "cert") and isinstance(steps[1], str):
        steps[1] = _HASH.get(steps[1].lower(), steps[1])
    key = f"{comp.path.object_type}:{'.'.join(str(s) for s in steps)}"
    if key not in MVT_KEYS:
        return None, f"{key} is not a key MVT checks"
    value = comp.value
    if not value:
        return None, "an empty value"
    if "=" in value:
        return None, "the value holds '=', where MVT's parser cuts patterns"
    if "'" in value or "\\" in value:
        return None, "the value holds a quote or backslash, which MVT's parser does not unescape"
    return f"[{key}='{value}']", None


def _slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-") or "spyware"


def export(
    registry: Registry, out_dir: Path, *, at: datetime | None = None
) -> tuple[list[dict[str, Any]], list[LeftOut]]:
    """Write one ``<product>.stix2`` per product with usable indicators; (files written, left out)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InvalidInput(f"{out_dir} is not a folder: --format mvt writes one file per spyware product")
    out_dir.mkdir(parents=True, exist_ok=True)
    when = at or now()
    written: list[dict[str, Any]] = []
    left: list[LeftOut] = []
    used_names: set[str] = set()
    for pid in sorted(registry.products, key=registry.product_label):
        label = registry.product_label(pid)
        ids = registry.product_indicators(pid)
        if not ids:
            continue
        inds = [registry.indicators[i] for i in ids]
        current = {i["id"] for i in in_force(inds, when)}
        product = registry.products[pid]
        malware = {
            "type": "malware",
            "spec_version": "2.1",
            "id": pid,
            "created": product.get("created"),
            "modified": product.get("modified"),
            "name": label,
            "is_family": True,
            "description": product.get("description") or f"Indicators of {label} (Accord)",
        }
        objects: list[dict[str, Any]] = [malware]
        for ind in sorted(inds, key=lambda i: i["id"]):
            if ind["id"] not in current:
                left.append(LeftOut(ind["id"], label, "revoked or outside its validity period"))
                continue
            if ind.get("pattern_type", "stix") != "stix" or not isinstance(ind.get("pattern"), str):
                left.append(LeftOut(ind["id"], label, f"a {ind.get('pattern_type')} pattern, not STIX"))
                continue
            pattern, why = mvt_pattern(ind["pattern"], str(ind.get("spec_version", "2.1")))
            if pattern is None:
                left.append(LeftOut(ind["id"], label, why or "unusable"))
                continue
            objects.append(
                {
                    "type": "indicator",
                    "spec_version": "2.1",
                    "id": ind["id"],
                    "created": ind["created"],
                    "modified": ind["modified"],
                    "indicator_types": ["malicious-activity"],
                    "pattern": pattern,
                    "pattern_type": "stix",
                    "pattern_version": "2.1",
                    "valid_from": ind["valid_from"],
                }
            )
            objects.append(
                {
                    "type": "relationship",
                    "spec_version": "2.1",
                    "id": f"relationship--{uuid.uuid5(_NS, ind['id'] + '|' + pid)}",
                    "created": ind["created"],
                    "modified": ind["modified"],
                    "relationship_type": "indicates",
                    "source_ref": ind["id"],
                    "target_ref": pid,
                }
            )
        count = (len(objects) - 1) // 2
        if not count:
            continue
        name = _slug(label)
        while name in used_names:
            name += "-2"
        used_names.add(name)
        path = out_dir / f"{name}.stix2"
        bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid5(_NS, 'bundle|' + pid)}", "objects": objects}
        path.write_text(json.dumps(bundle, indent=1) + "\n", encoding="utf-8")
        written.append({"file": path.name, "product": label, "indicators": count})
    return written, left
