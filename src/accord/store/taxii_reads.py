"""The reads TAXII needs: object versions in ``date_added`` order, paged by a stable cursor, selected
by ``match[version]`` (first, last, all, a timestamp), through a collection's scope.

Every read takes a ``Visibility`` and applies ``vis.clause()`` to every version row it looks at,
including the rows used only to decide which version is "first" or "last" — so what is first or last
is decided among the versions the viewer may see, never among hidden ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Connection, and_, exists, false, not_, or_, select, true
from sqlalchemy.sql.expression import FromClause

from accord.stix.timestamps import format_micro, parse, version_key
from accord.store.objects import chunks
from accord.store.schema import object_grant, object_ref, stix_object

if TYPE_CHECKING:
    from accord.access.visibility import Visibility

FIRST, LAST, ALL = "first", "last", "all"
#: Scope kinds: everything visible, one organisation's own objects, one sharing group's, the public's.
SCOPE_ALL, SCOPE_ORG, SCOPE_GROUP, SCOPE_PUBLIC = "all", "org", "group", "public"
#: Federation scopes: what one feed brought in; what is shared with partner hubs. Neither ever shows
#: TLP:RED or TLP:AMBER+STRICT, whatever the grants say.
SCOPE_FEED, SCOPE_FEDERATION = "feed", "federation"
NEVER_FEDERATED = ("red", "amber+strict")
#: What may leave the hub at all (TLP 2.0: AMBER stays within the community).
FEDERATABLE = ("clear", "green")


def _targets_shareable(obj: FromClause) -> ColumnElement[bool]:
    """A relationship or sighting leaves the hub only with its ends: none of the objects it refers to
    may be held here without being shared beyond the hub (the derived object would reveal them)."""
    r, t, tg = object_ref.alias(), stix_object.alias(), object_grant.alias()
    held = exists(select(t.c.pk).where(t.c.stix_id == r.c.ref_id, t.c.is_current))
    shareable = exists(
        select(t.c.pk).join(tg, tg.c.object_pk == t.c.pk).where(
            t.c.stix_id == r.c.ref_id, t.c.is_current, t.c.tlp.in_(FEDERATABLE),
            tg.c.audience.in_(("federation", "public")),
        )
    )  # fmt: skip
    return not_(exists(select(r.c.object_pk).where(r.c.object_pk == obj.c.pk, held, not_(shareable))))


@dataclass(frozen=True)
class Scope:
    """Which stored versions a collection stands for (before the visibility rule)."""

    kind: str
    org_pk: int | None = None
    group_pk: int | None = None
    feed: str | None = None

    def clause(self, obj: FromClause) -> ColumnElement[bool]:
        """SQL: the version row ``obj`` belongs to this scope."""
        if self.kind == SCOPE_ALL:
            return true()
        if self.kind == SCOPE_ORG:
            return obj.c.owner_org_pk == self.org_pk if self.org_pk is not None else false()
        g = object_grant.alias()
        if self.kind == SCOPE_GROUP:
            if self.group_pk is None:
                return false()
            return exists(select(g.c.pk).where(g.c.object_pk == obj.c.pk, g.c.audience == "group",
                                               g.c.group_pk == self.group_pk))  # fmt: skip
        if self.kind == SCOPE_PUBLIC:
            public = exists(select(g.c.pk).where(g.c.object_pk == obj.c.pk, g.c.audience == "public"))
            return and_(obj.c.tlp == "clear", public)  # only CLEAR may be public, whatever a grant says
        if self.kind == SCOPE_FEED:
            if not self.feed:
                return false()
            return and_(
                obj.c.tlp.not_in(NEVER_FEDERATED),
                _targets_shareable(obj),
                exists(select(g.c.pk).where(g.c.object_pk == obj.c.pk, g.c.via == f"feed:{self.feed}")),
            )
        if self.kind == SCOPE_FEDERATION:
            shared = exists(select(g.c.pk).where(g.c.object_pk == obj.c.pk, g.c.audience.in_(("federation", "public"))))
            terms = [obj.c.tlp.in_(FEDERATABLE), shared, _targets_shareable(obj)]
            if self.org_pk is not None:
                # Loop prevention: never hand an organisation (a partner hub) back what it brought in by a feed.
                mine = object_grant.alias()
                terms.append(
                    not_(
                        exists(
                            select(mine.c.pk).where(
                                mine.c.object_pk == obj.c.pk, mine.c.org_pk == self.org_pk, mine.c.via.like("feed:%")
                            )
                        )
                    )
                )
            return and_(*terms)
        raise ValueError(f"unknown collection scope {self.kind!r}")


@dataclass(frozen=True)
class Selection:
    """The TAXII filters. ``versions`` holds first / last / all and STIX timestamps (ORed together)."""

    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[str, ...] = (LAST,)
    spec_versions: tuple[str, ...] = ()
    added_after: datetime | None = None


@dataclass
class Page:
    rows: list[dict[str, Any]]
    more: bool

    @property
    def first_added(self) -> datetime | None:
        return self.rows[0]["date_added"] if self.rows else None

    @property
    def last_added(self) -> datetime | None:
        return self.rows[-1]["date_added"] if self.rows else None


def version_string(key: str, date_added: datetime) -> str:
    """The TAXII ``version`` of a stored version: its modified (or created) time; else its date_added."""
    if not key:
        return format_micro(date_added)
    head, _, frac = key[:-1].partition(".")
    frac = frac.rstrip("0").ljust(3, "0")
    return f"{head}.{frac}Z"


def _in_view(vis: Visibility, scope: Scope, obj: FromClause, sel: Selection) -> ColumnElement[bool]:
    """SQL: the version row ``obj`` is visible, in the scope and of an asked-for spec version."""
    terms = [vis.clause(obj), scope.clause(obj)]
    if sel.spec_versions:
        terms.append(obj.c.spec_version.in_(sel.spec_versions))
    return and_(*terms)


def _version_clause(vis: Visibility, scope: Scope, sel: Selection) -> ColumnElement[bool]:
    return _cached_version_clause(vis, scope, sel.versions, sel.spec_versions)


@lru_cache(maxsize=4096)
def _scope_clause(scope: Scope) -> ColumnElement[bool]:
    """Building clauses costs more than running them: each scope's is built once."""
    return scope.clause(stix_object)


@lru_cache(maxsize=4096)
def _cached_version_clause(
    vis: Visibility, scope: Scope, versions: tuple[str, ...], spec_versions: tuple[str, ...]
) -> ColumnElement[bool]:
    sel = Selection(versions=versions, spec_versions=spec_versions)
    if ALL in sel.versions:
        return true()
    r = stix_object
    terms: list[ColumnElement[bool]] = []
    for v in sel.versions:
        other = stix_object.alias()
        same = and_(other.c.stix_id == r.c.stix_id, _in_view(vis, scope, other, sel))
        if v == LAST:
            newer = exists(select(other.c.pk).where(same, other.c.version_key > r.c.version_key))
            # The hub-wide current version is the newest there is; only older ones need the check.
            terms.append(or_(r.c.is_current, not_(newer)))
        elif v == FIRST:
            terms.append(not_(exists(select(other.c.pk).where(same, other.c.version_key < r.c.version_key))))
        else:
            terms.append(or_(r.c.version_key == version_key(v),
                             and_(r.c.version_key == "", r.c.date_added == parse(v))))  # fmt: skip
    return or_(*terms)


def _base(vis: Visibility, scope: Scope, sel: Selection, columns: Iterable[Any]) -> Any:
    q = select(*columns).where(vis.clause(), _scope_clause(scope))
    if sel.ids:
        q = q.where(stix_object.c.stix_id.in_(sel.ids))
    if sel.types:
        q = q.where(stix_object.c.type.in_(sel.types))
    if sel.spec_versions:
        q = q.where(stix_object.c.spec_version.in_(sel.spec_versions))
    if sel.added_after is not None:
        q = q.where(stix_object.c.date_added > sel.added_after)
    return q.where(_version_clause(vis, scope, sel))


_COLUMNS = (
    stix_object.c.pk,
    stix_object.c.stix_id,
    stix_object.c.type,
    stix_object.c.spec_version,
    stix_object.c.version_key,
    stix_object.c.date_added,
)


def page(
    conn: Connection, vis: Visibility, scope: Scope, sel: Selection, limit: int, *, with_data: bool = True
) -> Page:
    """Up to ``limit`` matching versions after ``sel.added_after``, oldest ``date_added`` first.

    ``date_added`` is unique hub-wide and handed out in commit order, so a page that ends at a given
    ``date_added`` is a stable cursor: whatever is added later sorts after it.
    """
    cols = (*_COLUMNS, stix_object.c.data) if with_data else _COLUMNS
    q = _base(vis, scope, sel, cols).order_by(stix_object.c.date_added.asc()).limit(limit + 1)
    rows = [dict(r._mapping) for r in conn.execute(q)]
    return Page(rows=rows[:limit], more=len(rows) > limit)


def holds(conn: Connection, vis: Visibility, scope: Scope, stix_id: str) -> bool:
    """True when the viewer can see some version of ``stix_id`` through this scope."""
    q = select(stix_object.c.pk).where(stix_object.c.stix_id == stix_id, vis.clause(), _scope_clause(scope))
    return conn.execute(q.limit(1)).first() is not None


def versionless_dates(conn: Connection, vis: Visibility, ids: Iterable[str]) -> dict[str, datetime]:
    """stix_id → date_added, for objects without modified/created (their TAXII version) the viewer sees."""
    out: dict[str, datetime] = {}
    for part in chunks(sorted(set(ids))):
        q = select(stix_object.c.stix_id, stix_object.c.date_added).where(
            stix_object.c.stix_id.in_(part), stix_object.c.version_key == "", vis.clause()
        )
        out.update({r.stix_id: r.date_added for r in conn.execute(q)})
    return out
