"""The one visibility rule: which stored object versions a viewer may see.

An object version is visible when some grant on it reaches the viewer (the viewer's own
organisation brought it in; or its audience is a group the viewer's organisation belongs to; or
the community, federation or public, as far as the viewer is entitled). Relationships and
sightings are visible only when every object they point at that the hub holds is visible too.

Who is reached by what:

- a member organisation's viewer: its own grants, its groups', the community's, the federation's and
  the public's;
- a partner hub (``Viewer.partner``): only grants to the federation or the public, and only on TLP:CLEAR
  and TLP:GREEN versions — never its organisation's own grants, a group's or the community's, and never
  AMBER, AMBER+STRICT or RED whatever a grant says (TLP 2.0: AMBER stays within the community);
- the public (no credentials): only grants to the public on TLP:CLEAR versions.

The TLP condition is part of "a grant reaches the viewer", so a relationship or sighting pointing at a
held object that may not leave the hub is hidden from partner hubs too.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import ColumnElement, and_, exists, false, not_, or_, select, true
from sqlalchemy.sql.expression import FromClause

from accord.access.audience import COMMUNITY, FEDERATION, GROUP, PUBLIC
from accord.access.viewer import Viewer
from accord.stix import tlp
from accord.store.schema import object_grant, object_ref, stix_object

_MEMBER_AUDIENCES = (COMMUNITY, FEDERATION, PUBLIC)
#: What may leave the hub at all: TLP 2.0 keeps AMBER within the community, RED and AMBER+STRICT with
#: named recipients.
FEDERATABLE_TLPS: tuple[str, ...] = (tlp.CLEAR, tlp.GREEN)
PUBLIC_TLPS: tuple[str, ...] = (tlp.CLEAR,)
#: Types whose visibility also depends on the objects they point at (see ingest.DEPENDENCY_REFS).
DERIVED_TYPES = ("relationship", "sighting")


@dataclass(frozen=True)
class Visibility:
    """A viewer turned into SQL. Only ``visible()`` makes one."""

    everything: bool
    org_pk: int | None
    group_pks: frozenset[int]
    audiences: tuple[str, ...]
    #: When not empty, only versions of these TLP levels are visible, whatever the grants say.
    tlps: tuple[str, ...] = ()

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
        """SQL: some grant on the version row ``obj`` reaches the viewer (and its TLP may reach them)."""
        g = object_grant.alias()
        reached = exists(select(g.c.pk).where(g.c.object_pk == obj.c.pk, self.grant_reaches(g)))
        return and_(obj.c.tlp.in_(self.tlps), reached) if self.tlps else reached

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
        return Visibility(False, None, frozenset(), (PUBLIC,), PUBLIC_TLPS)
    if viewer.partner:
        # Never the partner organisation's own grants (what its feeds brought in), nor groups or community.
        return Visibility(False, None, frozenset(), (FEDERATION, PUBLIC), FEDERATABLE_TLPS)
    if viewer.org_pk is None:
        return Visibility(False, None, frozenset(), ())
    return Visibility(False, viewer.org_pk, viewer.group_pks, _MEMBER_AUDIENCES)
