"""The reads TAXII needs: object versions in ``date_added`` order, paged by a stable cursor, selected
by ``match[version]`` (first, last, all, a timestamp), through a collection's scope.

Every read takes a ``Visibility`` and applies ``vis.clause()`` to every version row it looks at,
including the rows used only to decide which version is "first" or "last" — so what is first or last
is decided among the versions the viewer may see, never among hidden ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    String,
    Text,
    and_,
    bindparam,
    cast,
    exists,
    false,
    not_,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.engine import Dialect
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
    """One page of versions. ``rows`` map ``stix_id``, ``version_key``, ``date_added`` (and ``data``);
    a page read with ``text`` holds only the objects' JSON texts (``texts``) and the first and last
    ``date_added``."""

    rows: list[Mapping[str, Any]]
    more: bool
    first_added: datetime | None = None
    last_added: datetime | None = None
    texts: list[str] | None = None

    def __post_init__(self) -> None:
        if self.rows and self.first_added is None:
            self.first_added, self.last_added = self.rows[0]["date_added"], self.rows[-1]["date_added"]

    def __len__(self) -> int:
        return len(self.texts) if self.texts is not None else len(self.rows)


def _stored_time(value: Any) -> datetime:
    """A ``date_added`` as the driver returns it without SQLAlchemy's processing (SQLite: its text)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


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


#: What a page selects: the TAXII metadata of each version, plus (``DATA``) the parsed object or
#: (``TEXT``) the object's stored JSON text, which an envelope can carry as it is, unparsed.
META, DATA, TEXT = "meta", "data", "text"
_COLUMNS = (
    stix_object.c.pk,
    stix_object.c.stix_id,
    stix_object.c.type,
    stix_object.c.spec_version,
    stix_object.c.version_key,
    stix_object.c.date_added,
)
_SELECTS: dict[str, tuple[Any, ...]] = {
    META: _COLUMNS,
    DATA: (*_COLUMNS, stix_object.c.data),
    # Neither column is processed by SQLAlchemy: only the page's first and last dates are ever parsed.
    TEXT: (type_coerce(stix_object.c.date_added, String), cast(stix_object.c.data, Text)),
}


def _slots(n: int) -> int:
    """Bind slots for ``n`` filter values: the next power of two, so that few statement shapes ever exist
    (the spare slots repeat the last value, which changes nothing in an ``IN``)."""
    return 1 << max(0, (n - 1).bit_length())


def _filled(prefix: str, values: tuple[str, ...]) -> dict[str, str]:
    padded = [*values, *[values[-1]] * (_slots(len(values)) - len(values))]
    return {f"{prefix}_{i}": v for i, v in enumerate(padded)}


def _slot(name: str, type_: Any = None) -> Any:
    """A bound parameter whose value comes with each execution."""
    return bindparam(name, value=None, type_=type_ or String())


@lru_cache(maxsize=4096)
def _statement(
    vis: Visibility, scope: Scope, versions: tuple[str, ...], spec_versions: tuple[str, ...], *,
    ids: int, types: int, after: bool, what: str,
) -> Select[Any]:  # fmt: skip
    """The page query for one viewer's visibility, scope and shape of filters, built once.

    The filter values (``ids`` and ``types`` slots, ``added_after``, the limit) are bound parameters, so
    one statement serves every request of that shape: building and compiling it cost more than running
    it. The statement holds the viewer's visibility clause, so it is only ever reused for a viewer with
    that very visibility.
    """
    o = stix_object.c
    q = select(*_SELECTS[what]).where(vis.clause(), _scope_clause(scope))
    if ids:
        q = q.where(o.stix_id.in_([_slot(f"match_id_{i}") for i in range(ids)]))
    if types:
        q = q.where(o.type.in_([_slot(f"match_type_{i}") for i in range(types)]))
    if spec_versions:
        q = q.where(o.spec_version.in_(spec_versions))
    if after:
        q = q.where(o.date_added > _slot("after", o.date_added.type))
    q = q.where(_cached_version_clause(vis, scope, versions, spec_versions))
    return q.order_by(o.date_added.asc()).limit(_slot("limit", Integer()))


@dataclass(frozen=True)
class _Prepared:
    """A statement compiled once for one dialect, run on the driver directly with each request's values."""

    sql: str
    #: Parameter names in the driver's positional order (SQLite), or None for named parameters.
    positions: tuple[str, ...] | None
    #: Every parameter's value: the statement's own, converted for the driver (per-request ones None).
    fixed: dict[str, Any]
    processors: dict[str, Callable[[Any], Any]]

    def run(self, conn: Connection, values: dict[str, Any]) -> list[Any]:
        merged = dict(self.fixed)
        for name, value in values.items():
            convert = self.processors.get(name)
            merged[name] = convert(value) if convert is not None else value
        params = tuple(merged[n] for n in self.positions) if self.positions is not None else merged
        return list(conn.exec_driver_sql(self.sql, params).all())


@lru_cache(maxsize=4096)
def _prepare(stmt: Select[Any], dialect: Dialect) -> _Prepared:
    """Compile once: SQLAlchemy's per-execution work (cache lookup, expanding ``IN`` lists of the
    visibility clause, result processing) cost more than SQLite's running of a small page."""
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    processors: dict[str, Callable[[Any], Any]] = {}
    for name in compiled.params:
        # An expanded IN list's values are named after its parameter: audience_1 -> audience_1_1, ...
        bind = compiled.binds.get(name)
        if bind is None:
            bind = compiled.binds.get(name.rsplit("_", 1)[0])
        convert = bind.type.dialect_impl(dialect).bind_processor(dialect) if bind is not None else None
        if convert is not None:
            processors[name] = convert
    fixed = {n: processors[n](v) if n in processors and v is not None else v for n, v in compiled.params.items()}
    positions = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
    return _Prepared(compiled.string, positions, fixed, processors)


def page(
    conn: Connection, vis: Visibility, scope: Scope, sel: Selection, limit: int, *, with_data: bool = True,
    text: bool = False,
) -> Page:  # fmt: skip
    """Up to ``limit`` matching versions after ``sel.added_after``, oldest ``date_added`` first.

    ``date_added`` is unique hub-wide and handed out in commit order, so a page that ends at a given
    ``date_added`` is a stable cursor: whatever is added later sorts after it. ``with_data`` adds each
    object; ``text`` gives each object's stored JSON text instead (``Page.texts``), for an envelope.
    """
    what = (TEXT if text else DATA) if with_data else META
    stmt = _statement(vis, scope, sel.versions, sel.spec_versions, ids=_slots(len(sel.ids)) if sel.ids else 0,
                      types=_slots(len(sel.types)) if sel.types else 0, after=sel.added_after is not None,
                      what=what)  # fmt: skip
    values: dict[str, Any] = {"limit": limit + 1}
    if sel.ids:
        values.update(_filled("match_id", sel.ids))
    if sel.types:
        values.update(_filled("match_type", sel.types))
    if sel.added_after is not None:
        values["after"] = sel.added_after
    if what != TEXT:
        rows = conn.execute(stmt, values).mappings().all()
        return Page(rows=list(rows[:limit]), more=len(rows) > limit)
    raw = _prepare(stmt, conn.dialect).run(conn, values)
    more = len(raw) > limit
    if more:
        del raw[limit:]
    if not raw:
        return Page(rows=[], more=more)
    return Page(rows=[], more=more, first_added=_stored_time(raw[0][0]), last_added=_stored_time(raw[-1][0]),
                texts=[r[1] for r in raw])  # fmt: skip


@lru_cache(maxsize=4096)
def _holds_statement(vis: Visibility, scope: Scope) -> Select[Any]:
    q = select(stix_object.c.pk).where(stix_object.c.stix_id == _slot("stix_id"), vis.clause(), _scope_clause(scope))
    return q.limit(1)


def holds(conn: Connection, vis: Visibility, scope: Scope, stix_id: str) -> bool:
    """True when the viewer can see some version of ``stix_id`` through this scope."""
    return bool(_prepare(_holds_statement(vis, scope), conn.dialect).run(conn, {"stix_id": stix_id}))


def versionless_dates(conn: Connection, vis: Visibility, ids: Iterable[str]) -> dict[str, datetime]:
    """stix_id → date_added, for objects without modified/created (their TAXII version) the viewer sees."""
    out: dict[str, datetime] = {}
    for part in chunks(sorted(set(ids))):
        q = select(stix_object.c.stix_id, stix_object.c.date_added).where(
            stix_object.c.stix_id.in_(part), stix_object.c.version_key == "", vis.clause()
        )
        out.update({r.stix_id: r.date_added for r in conn.execute(q)})
    return out
