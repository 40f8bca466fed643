"""What a disruption action does to the intelligence it touches.

A takedown, domain or server seizure or sinkhole of infrastructure makes the indicators of that
infrastructure stale: detection should stop alerting on them, and partners should learn why. For each
such action stored by a batch, ``apply`` publishes a new version of every linked indicator — the
indicators named in ``target_refs`` and those that ``indicates`` a targeted infrastructure — with
``valid_until`` set to the action's date, a label saying why (``expired-takedown``,
``expired-server-seizure`` …) and ``x_accord_disruption_refs`` naming the action. The new version goes
through ingest in the same transaction, as the organisations that hold the indicator and to the same
audiences, so nobody sees more than before.

What the effect reveals is bounded by the action: only indicators the action's publisher can see are
touched; a planned action changes nothing; and an indicator is changed only when its TLP is at least as
strict as the action's (a TLP:RED takedown does not announce itself on a TLP:CLEAR indicator).

An action that is revoked, or whose new version says it was ``planned`` or ``cancelled`` after all, has its
effect undone: each indicator it expired gets a new version as it was before (unless another action
still holds it expired).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from accord.access.audience import GROUP, Audience
from accord.access.orgs import viewer_for
from accord.access.viewer import Viewer
from accord.access.visibility import visible
from accord.ingest import IngestOptions, IngestResult, ingest_items
from accord.stix import tlp as tlpmod
from accord.stix.extensions import DISRUPTION_ACTION, INFRASTRUCTURE_ACTIONS
from accord.stix.reader import Item
from accord.stix.timestamps import format_stix, now, parse, version_key
from accord.store import objects as store
from accord.store.schema import object_grant, organisation, sharing_group

#: The property of an indicator's new version that names the actions which expired it.
PROVENANCE = "x_accord_disruption_refs"
EVERYTHING = visible(Viewer(operator=True, source="system"))


class ActionTap:
    """Passes ingest items through unchanged, keeping the infrastructure-disrupting actions among them."""

    def __init__(self, items: Iterable[Item]) -> None:
        self._items = items
        self.actions: list[dict[str, Any]] = []

    def __iter__(self) -> Iterator[Item]:
        for item in self._items:
            obj = item.obj
            if isinstance(obj, dict) and obj.get("type") == DISRUPTION_ACTION:
                kinds = obj.get("action_types")
                if isinstance(kinds, list) and INFRASTRUCTURE_ACTIONS.intersection(map(str, kinds)):
                    self.actions.append(obj)  # revoked ones too: their effects are undone
            yield item


@dataclass
class Effect:
    action: str
    indicator: str
    outcome: str  # expired | restored | skipped
    reason: str = ""


@dataclass
class EffectsReport:
    effects: list[Effect] = field(default_factory=list)

    @property
    def expired(self) -> list[str]:
        return [e.indicator for e in self.effects if e.outcome == "expired"]

    def as_dict(self) -> dict[str, Any]:
        return {"expired": self.expired,
                "restored": [e.indicator for e in self.effects if e.outcome == "restored"],
                "skipped": [{"indicator": e.indicator, "action": e.action, "reason": e.reason}
                            for e in self.effects if e.outcome == "skipped"]}  # fmt: skip


def _reason_label(action: dict[str, Any]) -> str:
    kinds = [k for k in action.get("action_types") or () if k in INFRASTRUCTURE_ACTIONS]
    return f"expired-{kinds[0]}" if kinds else "expired-disruption"


def linked_indicators(conn: Connection, viewer: Viewer, action: dict[str, Any]) -> list[str]:
    """Indicators an action touches: targeted indicators, and indicators of targeted infrastructure."""
    vis = visible(viewer)
    out: list[str] = []
    for ref in action.get("target_refs") or ():
        if not isinstance(ref, str):
            continue
        if ref.startswith("indicator--"):
            out.append(ref)
        elif ref.startswith("infrastructure--"):
            for rel in store.relationships_of(conn, vis, ref, limit=10000):
                data = rel["data"]
                if (
                    rel["type"] == "relationship"
                    and data.get("relationship_type") == "indicates"
                    and data.get("target_ref") == ref
                    and str(data.get("source_ref")).startswith("indicator--")
                ):
                    out.append(data["source_ref"])  # fmt: skip
    return list(dict.fromkeys(out))


def _grants(conn: Connection, pk: int) -> list[tuple[int | None, str, str | None]]:
    """(org pk, audience kind, group name) of each grant on a version, the owner's first."""
    q = (
        select(object_grant.c.org_pk, object_grant.c.audience, sharing_group.c.name)
        .outerjoin(sharing_group, sharing_group.c.pk == object_grant.c.group_pk)
        .where(object_grant.c.object_pk == pk)
        .order_by(object_grant.c.pk)
    )
    return list(dict.fromkeys((r[0], r[1], r[2]) for r in conn.execute(q)))


_BREADTH = {"org": 0, "group": 1, "community": 2, "federation": 3, "public": 4}


def _action_reaches_every_holder(conn: Connection, action_id: str, action_pk: int, indicator_pk: int) -> bool:
    """Whether everyone who may see the indicator's current version may also see the action. A new
    indicator version names the action (id, date, kind), so it may only reach people the action reaches."""
    action_grants = _grants(conn, action_pk)
    for org_pk, kind, group in _grants(conn, indicator_pk):
        if kind == "org":
            ok = org_pk is None or _org_sees(conn, org_pk, action_id)
        elif kind == "group":
            ok = any(
                _BREADTH[k] >= _BREADTH["community"] or (k == "group" and g == group) for _o, k, g in action_grants
            )
        else:
            ok = any(_BREADTH[k] >= _BREADTH[kind] for _o, k, _g in action_grants)
        if not ok:
            return False
    return True


def _org_sees(conn: Connection, org_pk: int, action_id: str) -> bool:
    name = conn.execute(select(organisation.c.name).where(organisation.c.pk == org_pk)).scalar_one()
    return store.current(conn, visible(viewer_for(conn, name, operator=False)), action_id) is not None


def _publisher(conn: Connection, org_pk: int | None, action_id: str) -> Viewer:
    source = f"effect of {action_id}"
    if org_pk is None:
        return Viewer(operator=True, source=source)
    row = conn.execute(select(organisation.c.name, organisation.c.identity_id).where(organisation.c.pk == org_pk)).one()
    return Viewer(org_pk=org_pk, org_name=row.name, org_identity=row.identity_id, operator=True, source=source)


def _expire_one(conn: Connection, viewer: Viewer, action: dict[str, Any], indicator_id: str,
                options: IngestOptions) -> Effect:  # fmt: skip
    aid = action["id"]
    row = store.current(conn, visible(viewer), indicator_id)
    if row is None:
        return Effect(aid, indicator_id, "skipped", "not visible to the action's publisher")
    data = row["data"]
    when = action["action_date"]
    if row["revoked"]:
        return Effect(aid, indicator_id, "skipped", "revoked")
    if aid in (data.get(PROVENANCE) or ()):
        return Effect(aid, indicator_id, "skipped", "already expired by this action")
    action_tlp = tlpmod.level_of(action) or options.tlp or options.default_tlp
    if tlpmod.rank(row["tlp"]) < tlpmod.rank(action_tlp):
        return Effect(aid, indicator_id, "skipped", f"the indicator is TLP:{row['tlp'].upper()}, wider than the "
                      f"action's TLP:{action_tlp.upper()}")  # fmt: skip
    until = data.get("valid_until")
    if isinstance(until, str) and parse(until) <= parse(when):
        return Effect(aid, indicator_id, "skipped", "already no longer valid at the action's date")
    start = data.get("valid_from")
    if isinstance(start, str) and parse(start) >= parse(when):
        return Effect(aid, indicator_id, "skipped", "valid only from after the action (newer infrastructure?)")
    stamp = now()
    modified = data.get("modified") or data.get("created")
    if isinstance(modified, str) and version_key(format_stix(stamp)) <= version_key(modified):
        return Effect(aid, indicator_id, "skipped", "its current version is dated in the future")
    action_row = store.current(conn, EVERYTHING, aid)
    if action_row is None or not _action_reaches_every_holder(conn, aid, action_row["pk"], row["pk"]):
        return Effect(aid, indicator_id, "skipped", "the action's audience is narrower than the indicator's: a new "
                      "version naming the action would tell people who may not see it")  # fmt: skip
    label = _reason_label(action)
    new = {
        **data,
        "modified": format_stix(stamp),
        "valid_until": when,
        "labels": list(dict.fromkeys([*(data.get("labels") or ()), label])),
        PROVENANCE: [*(data.get(PROVENANCE) or ()), aid],
    }
    refused = _publish(conn, row, new, aid, f"{label} by {aid}", options)
    if refused:
        return Effect(aid, indicator_id, "skipped", refused)
    return Effect(aid, indicator_id, "expired", label)


def _publish(conn: Connection, row: dict[str, Any], new: dict[str, Any], aid: str, source: str,
             options: IngestOptions) -> str | None:  # fmt: skip
    """Ingest a new version for every holder of the indicator, to its audiences; why the owner's failed."""
    for org_pk, kind, group in _grants(conn, row["pk"]):
        who = _publisher(conn, org_pk, aid)
        opts = IngestOptions(audience=Audience(kind, group if kind == GROUP else None), via="effect", source=source,
                             default_tlp=options.default_tlp, max_object_bytes=options.max_object_bytes)  # fmt: skip
        result: IngestResult = ingest_items(conn, who, [Item(0, new)], opts)
        if result.rejected and org_pk == row["owner_org_pk"]:
            return result.errors[0].reason or "refused by ingest"
    return None


def _restore_one(conn: Connection, viewer: Viewer, action: dict[str, Any], indicator_id: str,
                 options: IngestOptions) -> Effect:  # fmt: skip
    """Undo what a (now revoked) action did to one indicator: a new version as it was before."""
    aid = action["id"]
    row = store.current(conn, visible(viewer), indicator_id)
    if row is None or row["revoked"] or aid not in (row["data"].get(PROVENANCE) or ()):
        return Effect(aid, indicator_id, "skipped", "not expired by this action")
    data = row["data"]
    before = None  # the last version before this action touched the indicator
    for version in store.versions(conn, visible(viewer), indicator_id):
        if aid in (version["data"].get(PROVENANCE) or ()):
            break
        before = version["data"]
    remaining = [r for r in data.get(PROVENANCE) or () if r != aid]
    new = {k: v for k, v in data.items() if k not in ("valid_until", PROVENANCE, "labels")}
    new["modified"] = format_stix(now())
    if version_key(new["modified"]) <= version_key(data.get("modified") or data["created"]):
        return Effect(aid, indicator_id, "skipped", "its current version is dated in the future")
    if remaining:  # another action still holds it expired
        new["valid_until"], new[PROVENANCE] = data["valid_until"], remaining
    elif before is not None and "valid_until" in before:
        new["valid_until"] = before["valid_until"]
    own = set((before or {}).get("labels") or ())
    labels = [lb for lb in data.get("labels") or () if not lb.startswith("expired-") or lb in own or remaining]
    if labels:
        new["labels"] = labels
    refused = _publish(conn, row, new, aid, f"restored: {aid} was revoked", options)
    return Effect(aid, indicator_id, "skipped", refused) if refused else Effect(aid, indicator_id, "restored")


def apply(conn: Connection, publisher: Viewer, tap: ActionTap, result: IngestResult,
          options: IngestOptions) -> EffectsReport:  # fmt: skip
    """Expire the indicators linked to each infrastructure-disrupting action that this batch stored."""
    report = EffectsReport()
    if not tap.actions:
        return report
    refused = {o.id for o in result.errors}
    for action in tap.actions:
        if action["id"] in refused:
            continue
        current = store.current(conn, visible(publisher), action["id"])
        if current is None or current["data"].get("modified") != action.get("modified"):
            continue  # an older version arriving late changes nothing
        undo = bool(action.get("revoked")) or action.get("status") in ("planned", "cancelled")
        for indicator_id in linked_indicators(conn, publisher, action):
            if undo:
                report.effects.append(_restore_one(conn, publisher, action, indicator_id, options))
            else:
                report.effects.append(_expire_one(conn, publisher, action, indicator_id, options))
    return report
