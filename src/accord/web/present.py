"""Presentation helpers with no I/O: an object's fields as rows, differences between versions,
bar and column charts and a relationship graph laid out as SVG geometry (templates draw them; no
script), and the counts the dashboard charts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

#: Shown in the page's header block rather than among the fields.
HEADER_PROPS = frozenset({"type", "id", "spec_version", "name"})
_MISSING = object()


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # text | long | code | refs | list | json | links
    value: Any


def fields(obj: dict[str, Any]) -> list[Field]:
    """Each property of a STIX object as a row to render, in a stable, readable order."""
    out: list[Field] = []
    for key in sorted(obj, key=lambda k: (k in ("created", "modified"), k)):
        if key in HEADER_PROPS:
            continue
        value = obj[key]
        if key.endswith("_ref") and isinstance(value, str):
            out.append(Field(key, "refs", [value]))
        elif key.endswith("_refs") and isinstance(value, list) and all(isinstance(v, str) for v in value):
            out.append(Field(key, "refs", value))
        elif key == "external_references" and isinstance(value, list):
            out.append(Field(key, "links", [v for v in value if isinstance(v, dict)]))
        elif key == "pattern" and isinstance(value, str):
            out.append(Field(key, "code", value))
        elif isinstance(value, str):
            out.append(Field(key, "long" if len(value) > 120 or "\n" in value else "text", value))
        elif isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
            out.append(Field(key, "list", [str(v) for v in value]))
        elif isinstance(value, bool | int | float):
            out.append(Field(key, "text", str(value).lower() if isinstance(value, bool) else str(value)))
        else:
            out.append(Field(key, "json", value))
    return out


def referenced_ids(obj: dict[str, Any]) -> set[str]:
    """Every STIX id an object points to (``*_ref`` and ``*_refs``)."""
    ids: set[str] = set()
    for key, value in obj.items():
        if key.endswith("_ref") and isinstance(value, str):
            ids.add(value)
        elif key.endswith("_refs") and isinstance(value, list):
            ids.update(v for v in value if isinstance(v, str))
    return ids


@dataclass(frozen=True)
class Change:
    prop: str
    kind: str  # added | removed | changed
    old: Any
    new: Any


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Property-level differences between two versions of an object (``modified`` included)."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, _MISSING), new.get(key, _MISSING)
        if a == b:
            continue
        if a is _MISSING:
            out.append(Change(key, "added", None, b))
        elif b is _MISSING:
            out.append(Change(key, "removed", a, None))
        else:
            out.append(Change(key, "changed", a, b))
    return out


def version_history(versions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Versions newest first, each with its changes from the version before it (the oldest has none)."""
    out = []
    for i, v in enumerate(versions):
        changes = diff(versions[i - 1]["object"], v["object"]) if i else []
        out.append({**v, "changes": changes, "first": i == 0})
    return list(reversed(out))


# -- charts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: float
    width: float
    css: str  # a class name for the bar's colour


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    height: float
    label_width: float
    plot_width: float
    row: float


def bar_chart(counts: dict[str, int], *, css: dict[str, str] | None = None, limit: int = 12,
              plot_width: float = 360, row: float = 26, label_width: float = 190) -> BarChart:  # fmt: skip
    """Horizontal bars for the largest ``limit`` counts (label, value), scaled to the largest."""
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    top = max((v for _, v in items), default=0) or 1
    bars = [
        Bar(label, value, i * row, max(2.0, plot_width * value / top), (css or {}).get(label, "bar"))
        for i, (label, value) in enumerate(items)
    ]
    return BarChart(bars, len(bars) * row, label_width, plot_width, row)


# -- relationship graph -------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    type: str
    x: float
    y: float
    edge_label: str
    outgoing: bool  # the centre object is the source


def star_graph(centre_id: str, rels: list[dict[str, Any]], names: dict[str, dict[str, Any]], *,
               limit: int = 12, radius: float = 150, size: float = 420) -> list[Node]:  # fmt: skip
    """The objects related to ``centre_id`` on a circle around it (visible ones only, up to ``limit``)."""
    seen: dict[str, tuple[str, bool, dict[str, Any]]] = {}
    for r in rels:
        obj = r["object"]
        if obj.get("type") == "sighting":
            # The sighting itself is the neighbour (it points at the centre through sighting_of_ref).
            other, label, outgoing, row = r["id"], "sighting", False, r
        else:
            src, dst = obj.get("source_ref"), obj.get("target_ref")
            outgoing = src == centre_id
            other = dst if outgoing else src
            label = str(obj.get("relationship_type", "related-to"))
            row = names.get(other) if isinstance(other, str) else None
        if row is not None and isinstance(other, str) and other != centre_id and other not in seen:
            seen[other] = (label, outgoing, row)
        if len(seen) >= limit:
            break
    nodes = []
    for i, (other, (label, outgoing, row)) in enumerate(seen.items()):
        angle = 2 * math.pi * i / max(1, len(seen)) - math.pi / 2
        nodes.append(Node(other, row.get("name") or other.split("--")[0], row["type"],
                          size / 2 + radius * math.cos(angle), size / 2 + radius * math.sin(angle),
                          label, outgoing))  # fmt: skip
    return nodes


@dataclass(frozen=True)
class Column:
    label: str
    value: int
    x: float
    height: float


@dataclass(frozen=True)
class ColumnChart:
    columns: list[Column]
    width: float
    plot_height: float
    column: float
    top: int


def per_day(stamps: list[datetime], end: date, days: int = 30, *, plot_height: float = 150,
            column: float = 20) -> ColumnChart:  # fmt: skip
    """Counts per UTC day for the ``days`` days ending with ``end``, as columns (oldest on the left)."""
    start = end - timedelta(days=days - 1)
    counts = {start + timedelta(days=i): 0 for i in range(days)}
    for s in stamps:
        d = s.astimezone(UTC).date()
        if d in counts:
            counts[d] += 1
    top = max(counts.values(), default=0)
    cols = [
        Column(d.strftime("%d %b"), n, i * column, plot_height * n / top if top else 0.0)
        for i, (d, n) in enumerate(sorted(counts.items()))
    ]
    return ColumnChart(cols, days * column, plot_height, column, top)


def per_month(stamps: list[datetime], start: date, end: date, *, plot_height: float = 150,
              column: float = 20) -> ColumnChart:  # fmt: skip
    """Counts per UTC calendar month from ``start``'s month to ``end``'s, as columns (oldest on the left)."""
    months: dict[tuple[int, int], int] = {}
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        months[(y, m)] = 0
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    for s in stamps:
        d = s.astimezone(UTC)
        if (d.year, d.month) in months:
            months[(d.year, d.month)] += 1
    top = max(months.values(), default=0)
    cols = [
        Column(date(y, m, 1).strftime("%b %Y"), n, i * column, plot_height * n / top if top else 0.0)
        for i, ((y, m), n) in enumerate(sorted(months.items()))
    ]
    return ColumnChart(cols, len(cols) * column, plot_height, column, top)


def most_referenced(rows: list[dict[str, Any]], names: dict[str, dict[str, Any]], types: tuple[str, ...],
                    limit: int = 8) -> dict[str, int]:  # fmt: skip
    """How often relationships and sightings point at visible objects of ``types`` (name → count)."""
    counts: dict[str, int] = {}
    for r in rows:
        for ref in referenced_ids(r["object"]):
            target = names.get(ref)
            if target is not None and target["type"] in types:
                label = target.get("name") or ref
                counts[label] = counts.get(label, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit])
