"""The one visibility rule: which stored object versions a viewer may see.

An object version is visible when some grant on it reaches the viewer (the viewer's own
organisation brought it in; or its audience is a group the viewer's organisation belongs to; or
the community, federation or public, as far as the viewer is entitled). Relationships and
sightings are visible only when every object they point at that the hub holds is visible too.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import ColumnElement, and_, exists, false, not_, or_, select, true
from sqlalchemy.sql.expression import FromClause

from accord.access.audience import COMMUNITY, FEDERATION, GROUP, PUBLIC
from accord.access.viewer import Viewer
from accord.store.schema import object_grant, object_ref, stix_object

_MEMBER_AUDIENCES = (COMMUNITY, FEDERATION, PUBLIC)
#: Types whose visibility also depends on the objects they point at (see ingest.DEPENDENCY_REFS).
DERIVED_TYPES = ("relationship", "sighting")


@dataclass(frozen=True)
class Visibility:
    """A viewer turned into SQL. Only ``visible()`` makes one."""

    everything: bool
    org_pk: int | None
    group_pks: frozenset[int]
    audiences: tuple[str, ...]

    def grant_reaches(self, grant: FromClause) -> ColumnElement[bool]:
        """SQL: this grant row reaches the viewer."""
        if self.everything:
            return true()
        terms: list[ColumnElement[bool]] = []
        if self.audiences:
            terms.append(grant.c.audience.in_(self.audiences))
        if self.org_pk is not None:
            terms.append(grant.c.org_pk == self.org_pk)
        if self.group_pks:
            terms.append(and_(grant.c.audience == GROUP, grant.c.group_pk.in_(sorted(self.group_pks))))
        return or_(*terms) if terms else false()

    def granted(self, obj: FromClause) -> ColumnElement[bool]:
        g = object_grant.alias()
        return exists(select(g.c.pk).where(g.c.object_pk == obj.c.pk, self.grant_reaches(g)))

    def clause(self, obj: FromClause | None = None) -> ColumnElement[bool]:
        """SQL: the object version row ``obj`` (default: ``stix_object``) is visible."""
        if obj is None:
            return _object_clause(self)
        return self._build(obj)

    def _build(self, obj: FromClause) -> ColumnElement[bool]:
        if self.everything:
            return true()
        ref = object_ref.alias()
        target = stix_object.alias()
        target_hidden = exists(
            select(target.c.pk).where(target.c.stix_id == ref.c.ref_id, target.c.is_current,
                                      not_(self.granted(target)))
        )  # fmt: skip
        hidden_target = and_(
            obj.c.type.in_(DERIVED_TYPES),
            exists(select(ref.c.ref_id).where(ref.c.object_pk == obj.c.pk, target_hidden)),
        )
        return and_(self.granted(obj), not_(hidden_target))


@lru_cache(maxsize=4096)
def _object_clause(vis: Visibility) -> ColumnElement[bool]:
    """Building the clause costs more than running it; each distinct viewer's is built once."""
    return vis._build(stix_object)


def visible(viewer: Viewer) -> Visibility:
    """Turn a viewer into the filter every read path applies."""
    if viewer.operator and viewer.org_pk is None:
        return Visibility(True, None, frozenset(), ())
    if viewer.public:
        return Visibility(False, None, frozenset(), (PUBLIC,))
    if viewer.partner:
        return Visibility(False, None, frozenset(), (FEDERATION, PUBLIC))
    if viewer.org_pk is None:
        return Visibility(False, None, frozenset(), ())
    return Visibility(False, viewer.org_pk, viewer.group_pks, _MEMBER_AUDIENCES)
