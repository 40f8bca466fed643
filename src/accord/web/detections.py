"""Detection results: what the organisation's and the community's sweeps found, one row per sighted
indicator (or other sighted object), from the sightings the viewer may see.

Everything comes from Hub read methods (``search_page``, ``lookup``, ``relationships``), so the one
visibility rule decides what is counted: a sighting the viewer may not see adds nothing, a reporting
organisation whose identity the viewer may not see is counted but not named, and a row whose sighted
object the viewer may not see is left out. The grouping and the charts are pure functions below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from accord.access.viewer import Viewer
from accord.errors import InvalidInput
from accord.hub import Hub
from accord.stix.timestamps import parse
from accord.web import present

#: Windows offered as links (days); ``all`` means no lower bound.
WINDOWS = ("7", "30", "90", "365", "all")
SCOPES = {"all": "everyone's", "mine": "your organisation's", "others": "other organisations'"}
SORTS = {"count": "most hits", "recent": "last seen", "reporters": "most organisations"}
#: At most this many sightings are read for one page (newest first); the page says when there were more.
MAX_SIGHTINGS = 5000
#: Rows shown (each row's links to actors and malware cost a read).
MAX_ROWS = 100
#: What a sighted indicator is linked to, one relationship away (and a malware's actor, one more).
LINKED_TYPES = ("threat-actor", "intrusion-set", "malware", "campaign", "tool")
SECOND_HOP = ("authored-by", "attributed-to", "duplicate-of", "variant-of")


@dataclass(frozen=True)
class Window:
    since: datetime | None
    until: datetime  # exclusive
    label: str
    days: str  # one of WINDOWS, or "" for a custom window


def window(days: str, since: str, until: str, today: date) -> Window:
    """The time window from the query: ``since``/``until`` dates (YYYY-MM-DD), else the last ``days`` days."""

    def day(value: str, name: str) -> date:
        try:
            return datetime.strptime(value, "%Y-%m-%d").date()
        except ValueError:
            raise InvalidInput(f"{name} must be a date like 2024-05-01, got {value!r}") from None

    def start(d: date) -> datetime:
        return datetime.combine(d, time(0), tzinfo=UTC)

    if since or until:
        lo = day(since, "from") if since else None
        hi = day(until, "until") if until else today
        if hi >= date.max:
            raise InvalidInput(f"until must be a date before {date.max.isoformat()}, got {until!r}")
        if lo is not None and lo > hi:
            raise InvalidInput(f"the window starts ({lo}) after it ends ({hi})")
        label = f"{lo.isoformat() if lo else 'the beginning'} to {hi.isoformat()}"
        return Window(start(lo) if lo else None, start(hi + timedelta(days=1)), label, "")
    days = days or "30"
    if days not in WINDOWS:
        raise InvalidInput(f"days must be one of {', '.join(WINDOWS)}, got {days!r}")
    end = start(today + timedelta(days=1))
    if days == "all":
        return Window(None, end, "all time", days)
    return Window(end - timedelta(days=int(days)), end, f"the last {days} days", days)


def _stamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse(value)
    except ValueError:
        return None


@dataclass
class Detection:
    """One sighted object and what the visible sightings of it add up to."""

    target: str
    hits: int = 0
    reports: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    reporters: list[str] = field(default_factory=list)
    unnamed_reporters: int = 0  # organisations whose identity the viewer may not see
    anonymous: int = 0  # reports sent without naming anyone (device-check shares)
    tlps: list[str] = field(default_factory=list)
    linked: list[dict[str, Any]] = field(default_factory=list)
    sightings: list[str] = field(default_factory=list)

    @property
    def organisations(self) -> int:
        return len(self.reporters) + self.unnamed_reporters


def seen_span(row: dict[str, Any]) -> tuple[datetime, datetime]:
    """When a sighting says it saw something (first/last seen; its creation time when it does not say).
    Worked out once per row (kept in the row as ``seen``)."""
    if "seen" in row:
        return row["seen"]
    row["seen"] = _span(row)
    return row["seen"]


def _span(row: dict[str, Any]) -> tuple[datetime, datetime]:
    obj = row["object"]
    added = row["date_added"] if isinstance(row["date_added"], datetime) else datetime.now(UTC)
    first = _stamp(obj.get("first_seen")) or _stamp(obj.get("last_seen")) or _stamp(obj.get("created")) or added
    last = _stamp(obj.get("last_seen")) or first
    return first, max(first, last)


def in_window(row: dict[str, Any], w: Window) -> bool:
    first, last = seen_span(row)
    return (w.since is None or last >= w.since) and first < w.until


def group(rows: list[dict[str, Any]], names: dict[str, dict[str, Any]]) -> dict[str, Detection]:
    """Sightings (Hub rows) per sighted object. ``names`` holds the visible objects among the sighted
    ones and the reporting identities; a row whose sighted object is not there is left out."""
    out: dict[str, Detection] = {}
    reporters: dict[str, set[str]] = {}
    for row in rows:
        obj = row["object"]
        target = obj.get("sighting_of_ref")
        if not isinstance(target, str) or target not in names:
            continue
        d = out.setdefault(target, Detection(target))
        who = reporters.setdefault(target, set())
        count = obj.get("count")
        d.hits += count if isinstance(count, int) and not isinstance(count, bool) else 1
        d.reports += 1
        first, last = seen_span(row)
        d.first_seen = first if d.first_seen is None else min(d.first_seen, first)
        d.last_seen = last if d.last_seen is None else max(d.last_seen, last)
        if row["tlp"] not in d.tlps:
            d.tlps.append(row["tlp"])
        d.sightings.append(row["id"])
        places = [r for r in obj.get("where_sighted_refs") or [] if isinstance(r, str)]
        if places:
            who.update(places)
        elif row.get("owner"):
            who.add("org:" + row["owner"])
        else:
            d.anonymous += 1
    for target, d in out.items():
        named = set()
        for ref in reporters[target]:
            if ref.startswith("org:"):
                named.add(ref[4:])
            elif ref in names:
                named.add(names[ref].get("name") or ref)
            else:
                d.unnamed_reporters += 1
        d.reporters = sorted(named)
    return out


def ordered(found: dict[str, Detection], sort: str) -> list[Detection]:
    if sort not in SORTS:
        raise InvalidInput(f"sort must be one of {', '.join(SORTS)}, got {sort!r}")
    oldest = datetime.min.replace(tzinfo=UTC)
    keys = {
        "count": lambda d: (-d.hits, -d.organisations, d.target),
        "recent": lambda d: (-(d.last_seen or oldest).timestamp(), -d.hits, d.target),
        "reporters": lambda d: (-d.organisations, -d.hits, d.target),
    }
    return sorted(found.values(), key=keys[sort])


def timeline(rows: list[dict[str, Any]], w: Window, which: str, today: date) -> present.ColumnChart:
    """Sightings per day (per month over windows longer than 92 days) by the day first or last seen."""
    stamps = [seen_span(r)[0 if which == "first" else 1] for r in rows]
    start = w.since.date() if w.since else min((s.date() for s in stamps), default=today)
    end = (w.until - timedelta(days=1)).date()
    if (end - start).days < 92:
        return present.per_day(stamps, end, days=(end - start).days + 1)
    return present.per_month(stamps, start, end)


# -- reading through the Hub -------------------------------------------------------------------


def _lookup(hub: Hub, viewer: Viewer, ids: set[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    wanted = sorted(ids)
    for i in range(0, len(wanted), 1000):  # Hub.lookup takes up to 1,000 ids at a time
        out.update(hub.lookup(viewer, wanted[i : i + 1000]))
    return out


def read(hub: Hub, viewer: Viewer, w: Window, scope: str) -> tuple[list[dict[str, Any]], bool]:
    """The visible sightings added since the window began (newest first), in the window; and whether the
    ``MAX_SIGHTINGS`` cap cut the list short."""
    if scope not in SCOPES:
        raise InvalidInput(f"scope must be one of {', '.join(SCOPES)}, got {scope!r}")
    if scope != "all" and viewer.org_name is None:
        raise InvalidInput(f"scope {scope!r} needs an organisation: act as one")
    owner = viewer.org_name if scope == "mine" else None
    # A sighting is reported after what it saw, so one seen in the window was added after it began.
    rows = hub.search(viewer, types=["sighting"], owner=owner, added_after=w.since, limit=MAX_SIGHTINGS + 1)
    cut = len(rows) > MAX_SIGHTINGS
    if scope == "others":
        rows = [r for r in rows if r["owner"] != viewer.org_name]
    return [r for r in rows[:MAX_SIGHTINGS] if in_window(r, w)], cut


def link(hub: Hub, viewer: Viewer, detections: list[Detection]) -> None:
    """Fill each detection's ``linked``: the visible actors, malware, campaigns and tools its sighted object
    points at through visible relationships, and, one step further, a malware's authors and actors."""
    edges: dict[str, list[tuple[str, str]]] = {}

    def outgoing(ids: set[str], kinds: tuple[str, ...] | None) -> None:
        for stix_id, rels in hub.relationships_many(viewer, ids - set(edges)).items():
            edges[stix_id] = [
                (str(r["object"].get("relationship_type")), r["object"]["target_ref"])
                for r in rels
                if r["type"] == "relationship" and r["object"].get("source_ref") == stix_id
                and isinstance(r["object"].get("target_ref"), str)
                and (kinds is None or r["object"].get("relationship_type") in kinds)
            ]  # fmt: skip

    outgoing({d.target for d in detections}, None)
    names = _lookup(hub, viewer, {t for pairs in edges.values() for _, t in pairs})
    first = {t for pairs in edges.values() for _, t in pairs if t in names and names[t]["type"] == "malware"}
    outgoing(first, SECOND_HOP)
    names.update(_lookup(hub, viewer, {t for m in first for _, t in edges.get(m, [])} - set(names)))
    for d in detections:
        seen: dict[str, dict[str, Any]] = {}
        for rel, target in edges.get(d.target, []):
            row = names.get(target)
            if row is None or row["type"] not in LINKED_TYPES:
                continue
            seen.setdefault(target, {"id": target, "name": row.get("name") or target, "type": row["type"], "via": rel})
            if row["type"] == "malware":
                for rel2, further in edges.get(target, []):
                    row2 = names.get(further)
                    if row2 is not None and row2["type"] in (*LINKED_TYPES, "identity"):
                        seen.setdefault(further, {"id": further, "name": row2.get("name") or further,
                                                  "type": row2["type"], "via": f"{rel2} (of {row.get('name')})"})
        d.linked = list(seen.values())


def results(hub: Hub, viewer: Viewer, w: Window, scope: str, sort: str) -> dict[str, Any]:
    """Everything the page shows."""
    rows, cut = read(hub, viewer, w, scope)
    wanted: set[str] = set()
    for r in rows:
        obj = r["object"]
        wanted.add(obj.get("sighting_of_ref") if isinstance(obj.get("sighting_of_ref"), str) else "")
        wanted.update(x for x in obj.get("where_sighted_refs") or [] if isinstance(x, str))
    names = _lookup(hub, viewer, wanted - {""})
    found = group(rows, names)
    rows = [r for r in rows if r["object"].get("sighting_of_ref") in found]
    shown = ordered(found, sort)[:MAX_ROWS]
    link(hub, viewer, shown)
    linked: dict[str, int] = {}
    for d in shown:
        for x in d.linked:
            if x["type"] != "identity":
                linked[x["name"]] = linked.get(x["name"], 0) + d.hits
    return {"rows": shown, "total_rows": len(found), "sightings": len(rows), "cut": cut, "names": names,
            "hits": sum(d.hits for d in found.values()), "sighting_rows": rows,
            "organisations": len({o for d in found.values() for o in d.reporters}),
            "linked_chart": present.bar_chart(linked, limit=10)}  # fmt: skip
