"""Parse → validate → normalise → version → store, one transaction per batch.

Invalid objects are reported one by one with the reason; valid ones in the same batch are stored.
The caller owns the transaction: a failure before commit leaves nothing of the batch behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from accord.access.audience import (
    COMMUNITY,
    FEDERATION,
    GROUP,
    KINDS,
    ORG,
    PUBLIC,
    Audience,
    allowed,
    cap_for_tlp,
    default_audience,
    within_tlp,
)
from accord.access.viewer import Viewer
from accord.access.visibility import visible
from accord.errors import AudienceRefused, PermissionDenied
from accord.gcpause import gc_paused
from accord.ingest.validation import Validator, Verdict
from accord.stix import extensions
from accord.stix import tlp as tlpmod
from accord.stix.reader import Item
from accord.stix.timestamps import now, version_key
from accord.store import objects as store
from accord.store.schema import (
    group_member,
    object_grant,
    object_label,
    object_ref,
    organisation,
    sharing_group,
    stix_object,
)

BATCH = 2000
SEARCH_TEXT_LIMIT = 4000
#: Properties whose targets decide whether a relationship or sighting may be seen.
DEPENDENCY_REFS: dict[str, tuple[str, ...]] = {
    "relationship": ("source_ref", "target_ref"),
    "sighting": ("sighting_of_ref", "observed_data_refs", "where_sighted_refs"),
}


@dataclass(frozen=True)
class IngestOptions:
    """How a batch is published: TLP for unmarked objects, audience, and provenance."""

    tlp: str | None = None
    audience: Audience | None = None
    via: str = "cli"
    source: str | None = None
    default_tlp: str = tlpmod.AMBER
    max_object_bytes: int = 10 * 1024 * 1024
    keep_outcomes: bool = False
    #: Worker processes that validate while storing (big batches only); 0 validates inline.
    workers: int = 0


@dataclass
class Outcome:
    index: int
    id: str | None
    status: str  # added | new-version | unchanged | rejected
    reason: str | None = None
    version: str | None = None


@dataclass
class IngestResult:
    added: int = 0
    new_version: int = 0
    unchanged: int = 0
    rejected: int = 0
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.added + self.new_version + self.unchanged + self.rejected

    @property
    def errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "rejected"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "new_version": self.new_version,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "errors": [{"index": o.index, "id": o.id, "reason": o.reason} for o in self.errors],
        }


@dataclass
class _Candidate:
    index: int
    obj: dict[str, Any]
    stix_id: str
    key: str
    tlp: str
    hint: str | None = None  # the producer's audience kind (a MISP distribution), used without --audience


_TEXT_PROPS = ("name", "value", "abstract", "content", "description", "pattern", "relationship_type",
               "x_accord_country")  # fmt: skip
_TEXT_LISTS = ("aliases", "x_mitre_aliases", "labels", "indicator_types", "malware_types", "sectors")


def _search_text(obj: dict[str, Any]) -> str:
    get = obj.get
    parts = [v for v in map(get, _TEXT_PROPS) if type(v) is str]
    for v in map(get, _TEXT_LISTS):
        if v and type(v) is list:
            parts.extend(x for x in v if type(x) is str)
    refs = get("external_references")
    if refs and type(refs) is list:
        parts.extend(r["external_id"] for r in refs if type(r) is dict and type(r.get("external_id")) is str)
    return " ".join(parts).lower()[:SEARCH_TEXT_LIMIT]


def display_name(obj: dict[str, Any]) -> str:
    for prop in ("name", "value", "abstract", "pattern", "display_name", "relationship_type", "opinion"):
        v = obj.get(prop)
        if isinstance(v, str) and v:
            return v[:300]
    if obj.get("type") == "sighting":
        return f"sighting of {obj.get('sighting_of_ref', '?')}"
    return obj.get("id", "")


def _dependency_refs(obj: dict[str, Any]) -> set[str]:
    refs: set[str] = set()
    for prop in DEPENDENCY_REFS.get(obj["type"], ()):
        v = obj.get(prop)
        if isinstance(v, str):
            refs.add(v)
        elif isinstance(v, list):
            refs.update(x for x in v if isinstance(x, str))
    return refs


#: Grants ordered by how far they reach, a group above the organisation alone (``audience.REACH`` counts
#: both as named recipients, which is what TLP caps; here the widest of an object's grants is chosen).
_REACH = {ORG: 0, GROUP: 1, COMMUNITY: 2, FEDERATION: 3, PUBLIC: 4}


def _reaches_more(new: tuple[int | None, str, int | None], held: set[tuple[int | None, str, int | None]]) -> bool:
    """Whether a grant (org_pk, audience, group_pk) may reach readers the held grants do not (a group or
    an organisation under a community-wide grant reaches no one new)."""
    widest = max((_REACH.get(kind, 0) for _, kind, _ in held), default=-1)
    rank = _REACH.get(new[1], 0)
    return rank > widest or (widest < _REACH[COMMUNITY] and new not in held)


def _hinted(cand: _Candidate) -> Audience | None:
    """The producer's audience hint, narrowed to the widest the TLP allows rather than refused."""
    if cand.hint is None or cand.hint == GROUP or cand.hint not in KINDS:
        return None
    return Audience(within_tlp(cand.hint, cand.tlp))


class _Batch:
    """State shared by the chunks of one ingest call."""

    def __init__(self, conn: Connection, publisher: Viewer, options: IngestOptions) -> None:
        self.conn = conn
        self.publisher = publisher
        self.options = options
        self.result = IngestResult()
        self.members = {
            r.identity_id: (r.pk, r.name) for r in conn.execute(select(organisation.c.identity_id, organisation.c.pk,
                                                                       organisation.c.name))
        }  # fmt: skip
        self.group_pk: int | None = None
        if options.audience is not None and options.audience.kind == GROUP:
            self.group_pk = self._resolve_group(options.audience.group or "")
        self._groups: dict[str, int | None] = {}  # sharing groups of audiences kept from earlier versions
        self.clock = store.lock_clock(conn)
        self.seen: set[tuple[str, str]] = set()
        #: Objects whose references may come later in the batch (``resolve_refs``).
        self.waiting: list[tuple[_Candidate, Audience]] = []

    def _resolve_group(self, name: str) -> int:
        row = self.conn.execute(select(sharing_group.c.pk).where(sharing_group.c.name == name)).first()
        if row is None:
            raise AudienceRefused(f"no sharing group named {name!r}")
        if self.publisher.org_pk is not None:
            member = self.conn.execute(
                select(group_member.c.org_pk).where(
                    group_member.c.group_pk == row.pk, group_member.c.org_pk == self.publisher.org_pk
                )
            ).first()
            if member is None:
                raise AudienceRefused(f"{self.publisher.org_name} is not a member of sharing group {name!r}")
        return row.pk

    def group_pk_of(self, name: str) -> int | None:
        """The pk of a sharing group the publisher's organisation is a member of, or None."""
        if name not in self._groups:
            try:
                self._groups[name] = self._resolve_group(name)
            except AudienceRefused:
                self._groups[name] = None
        return self._groups[name]

    def reject(self, index: int, stix_id: str | None, reason: str) -> None:
        self.result.rejected += 1
        self.result.outcomes.append(Outcome(index, stix_id, "rejected", reason))

    def ok(self, index: int, stix_id: str, status: str, key: str) -> None:
        if status == "added":
            self.result.added += 1
        elif status == "new-version":
            self.result.new_version += 1
        else:
            self.result.unchanged += 1
        if self.options.keep_outcomes:
            self.result.outcomes.append(Outcome(index, stix_id, status, None, key or None))

    def next_timestamp(self) -> datetime:
        t = now()
        self.clock = t if t > self.clock else self.clock + store.ONE_MICROSECOND
        return self.clock

    # -- per object -----------------------------------------------------------------------------

    def prepare(self, item: Item, judged: Verdict | None) -> _Candidate | None:
        obj = item.obj
        if not isinstance(obj, dict) or judged is None:
            self.reject(item.index, None, item.error or f"a {type(obj).__name__}, not a JSON object")
            return None
        stix_id = obj.get("id") if isinstance(obj.get("id"), str) else None
        if item.size > self.options.max_object_bytes:
            self.reject(item.index, stix_id, f"the object is {item.size:,} bytes; the per-object limit is "
                        f"{self.options.max_object_bytes:,} (ACCORD_MAX_OBJECT_BYTES)")  # fmt: skip
            return None
        obj, reason = judged
        if reason is not None:
            self.reject(item.index, stix_id, reason)
            return None
        stix_id = obj["id"]
        reason = extensions.check(obj)  # Accord's own extensions (disruption-action, incident norms)
        if reason is not None:
            self.reject(item.index, stix_id, f"{stix_id}: {reason}")
            return None
        is_tlp_def = tlpmod.is_tlp_marking_id(stix_id)
        level = tlpmod.CLEAR if is_tlp_def else tlpmod.level_of(obj)
        if level is None:
            level = self.options.tlp or self.options.default_tlp
            if obj["type"] != "marking-definition":
                obj = {**obj, "object_marking_refs": [*(obj.get("object_marking_refs") or []),
                                                       tlpmod.TLP2_IDS[level]]}  # fmt: skip
        if "created" in obj and not is_tlp_def:
            creator = obj.get("created_by_ref")
            own = self.publisher.org_identity
            if creator is None and own is not None:
                obj = {**obj, "created_by_ref": own}
            elif creator is not None and creator != own and creator in self.members:
                self.reject(item.index, stix_id, f"created_by_ref names {self.members[creator][1]}, another member "
                            "organisation; publish it as that organisation, or leave created_by_ref out")  # fmt: skip
                return None
        stamp = obj.get("modified") or obj.get("created")
        key = version_key(stamp) if isinstance(stamp, str) else ""
        return _Candidate(item.index, obj, stix_id, key, level, item.audience)

    def audience_for(self, cand: _Candidate, earlier: Audience | None = None) -> Audience | str:
        """The audience for one object, or the reason it cannot have the one asked for. Without an audience
        asked for (nor hinted by the producer), a new version keeps the one the publisher gave the version
        before it (``earlier``, see ``earlier_audiences``) where its TLP allows, else the TLP's default."""
        if tlpmod.is_tlp_marking_id(cand.stix_id):
            return Audience(PUBLIC)
        audience = self.options.audience or _hinted(cand)
        if audience is None:
            keep = earlier is not None and allowed(cand.tlp, earlier)
            if keep and earlier.kind == GROUP and self.group_pk_of(earlier.group or "") is None:  # type: ignore[union-attr]
                keep = False  # the publisher has left that group since
            audience = earlier if keep else default_audience(cand.tlp)  # type: ignore[assignment]
        if not allowed(cand.tlp, audience):
            return (f"{cand.stix_id} is TLP:{cand.tlp.upper()}, which may not be shared with audience "
                    f"'{audience}'; the widest allowed is '{cap_for_tlp(cand.tlp)}'")  # fmt: skip
        if audience.kind == ORG and self.publisher.org_pk is None:
            return "an organisation-only audience needs a publishing organisation (use --as ORG)"
        return audience

    # -- per chunk ------------------------------------------------------------------------------

    def earlier_audiences(self, ids: Iterable[str]) -> dict[str, Audience]:
        """id → the widest audience the publisher's organisation gave the latest version of it that it
        granted: what a new version published without an audience keeps. So a new version (or a revocation)
        of an object shared with partner hubs reaches them as the first did, not the TLP's default."""
        if self.publisher.org_pk is None:
            return {}
        latest: dict[str, tuple[str, list[Audience]]] = {}
        for part in store.chunks(sorted(set(ids))):
            q = (
                select(stix_object.c.stix_id, stix_object.c.version_key, object_grant.c.audience, sharing_group.c.name)
                .join(object_grant, object_grant.c.object_pk == stix_object.c.pk)
                .outerjoin(sharing_group, sharing_group.c.pk == object_grant.c.group_pk)
                .where(stix_object.c.stix_id.in_(part), object_grant.c.org_pk == self.publisher.org_pk)
            )
            for r in self.conn.execute(q):
                audience = Audience(GROUP, r.name) if r.audience == GROUP else Audience(r.audience)
                if r.audience == GROUP and r.name is None:
                    continue
                held = latest.get(r.stix_id)
                if held is None or r.version_key > held[0]:
                    latest[r.stix_id] = (r.version_key, [audience])
                elif r.version_key == held[0]:
                    held[1].append(audience)
        return {sid: max(auds, key=lambda a: _REACH.get(a.kind, 0)) for sid, (_, auds) in latest.items()}

    def store_chunk(self, items: list[Item], verdicts: list[Verdict | None]) -> None:
        cands: list[tuple[_Candidate, Audience]] = []
        prepared = [cand for item, judged in zip(items, verdicts, strict=True)
                    if (cand := self.prepare(item, judged)) is not None]  # fmt: skip
        inherit = self.options.audience is None
        earlier = self.earlier_audiences(c.stix_id for c in prepared if _hinted(c) is None) if inherit else {}
        for cand in prepared:
            audience = self.audience_for(cand, earlier.get(cand.stix_id))
            if isinstance(audience, str):
                self.reject(cand.index, cand.stix_id, audience)
                continue
            cands.append((cand, audience))
        self.store_candidates(self.resolve_refs(cands))

    def finish(self) -> None:
        """Store the objects that waited for references later in the batch, or refuse them now."""
        waiting, self.waiting = self.waiting, []
        self.store_candidates(self.resolve_refs(waiting, final=True))

    def store_candidates(self, cands: list[tuple[_Candidate, Audience]]) -> None:
        if not cands:
            return
        existing = store.existing_versions(self.conn, (c.stix_id for c, _ in cands))
        # The current version of each id: a stored one, or a row this chunk adds.
        current: dict[str, store.StoredVersion | int] = {}
        for sid, vers in existing.items():
            for v in vers.values():
                if v.is_current:
                    current[sid] = v
        new_rows: list[dict[str, Any]] = []
        new_meta: list[tuple[_Candidate, Audience]] = []
        uncurrent: set[int] = set()
        regrant: list[tuple[int, Audience, _Candidate]] = []
        for cand, audience in cands:
            vers = existing.get(cand.stix_id, {})
            pair = (cand.stix_id, cand.key)
            if cand.key in vers:
                regrant.append((vers[cand.key].pk, audience, cand))  # its outcome is decided below
                continue
            if pair in self.seen:
                self.ok(cand.index, cand.stix_id, "unchanged", cand.key)
                continue
            cur = current.get(cand.stix_id)
            if isinstance(cur, int):
                cur_key, cur_creator = new_rows[cur]["version_key"], new_rows[cur]["created_by_ref"]
            elif cur is not None:
                cur_key, cur_creator = cur.version_key, cur.created_by_ref
            else:
                cur_key, cur_creator = None, None
            known = cur is not None or bool(vers)
            if known and cur_creator in self.members and cur_creator != cand.obj.get("created_by_ref"):
                # The creator is not named: the publisher may not be allowed to see the object.
                self.reject(cand.index, cand.stix_id, f"{cand.stix_id} was created by another member "
                            "organisation; only its creator may publish new versions of it")  # fmt: skip
                continue
            if cur is not None and isinstance(cur, store.StoredVersion) and cur.revoked:
                self.reject(cand.index, cand.stix_id, f"{cand.stix_id} has been revoked; it cannot get new versions")
                continue
            is_current = cur_key is None or cand.key > cur_key
            if is_current:
                if isinstance(cur, int):
                    new_rows[cur]["is_current"] = False
                elif cur is not None:
                    uncurrent.add(cur.pk)
                current[cand.stix_id] = len(new_rows)
            self.seen.add(pair)
            obj = cand.obj
            new_rows.append(
                {
                    "stix_id": cand.stix_id,
                    "type": obj["type"],
                    "spec_version": obj.get("spec_version", "2.1"),
                    "version_key": cand.key,
                    "is_current": is_current,
                    "revoked": bool(obj.get("revoked", False)),
                    "tlp": cand.tlp,
                    "owner_org_pk": self.owner_for(vers),
                    "created_by_ref": obj.get("created_by_ref"),
                    "date_added": self.next_timestamp(),
                    "name": display_name(obj),
                    "search_text": _search_text(obj),
                    "data": obj,
                }
            )
            new_meta.append((cand, audience))
            self.ok(cand.index, cand.stix_id, "new-version" if known else "added", cand.key)
        store.clear_current(self.conn, uncurrent)
        pks = store.insert_versions(self.conn, new_rows)
        grants: list[dict[str, Any]] = []
        refs: list[dict[str, Any]] = []
        labels: list[dict[str, Any]] = []
        at = now()
        for pk, (cand, audience) in zip(pks, new_meta, strict=True):
            grants.append(self.grant_row(pk, audience, at))
            refs.extend({"object_pk": pk, "ref_id": r} for r in sorted(_dependency_refs(cand.obj)))
            lbls = cand.obj.get("labels")
            if isinstance(lbls, list):
                labels.extend({"object_pk": pk, "label": lb[:250]} for lb in sorted(set(lbls)) if isinstance(lb, str))
        if regrant:
            # Posting a stored version again adds the poster's audience only where the poster already
            # holds it — a version it may see, or one whose stored content it sent in full (the same
            # object from the same source) — and only as wide as the *stored* version's TLP allows.
            # Knowing an id and a timestamp must never open an object to anyone. A version another
            # organisation holds where the poster could not see it, and that the poster now may see (it
            # sent that very content), is reported "added", as it would be were it absent: the answer
            # does not tell that someone else held it.
            seen = store.visible_tlps(self.conn, visible(self.publisher), (pk for pk, _, _ in regrant))
            hidden = store.tlps_and_data(self.conn, (pk for pk, _, _ in regrant if pk not in seen))
            have = store.grants_of(self.conn, (pk for pk, _, _ in regrant))
            kept: list[tuple[int, Audience]] = []
            for pk, audience, cand in regrant:
                level = seen.get(pk) or (hidden[pk][0] if pk in hidden and hidden[pk][1] == cand.obj else None)
                opened = level is not None and allowed(level, audience)
                if opened:
                    kept.append((pk, audience))
                first = (cand.stix_id, cand.key) not in self.seen
                self.seen.add((cand.stix_id, cand.key))
                ours = any(sig[0] == self.publisher.org_pk for sig in have.get(pk, ()))
                news = opened and first and pk not in seen and not ours
                self.ok(cand.index, cand.stix_id, "added" if news else "unchanged", cand.key)
            widened: set[int] = set()
            for pk, audience in kept:
                row = self.grant_row(pk, audience, at)
                sig = (row["org_pk"], row["audience"], row["group_pk"])
                held = have.setdefault(pk, set())
                if sig not in held:
                    if _reaches_more(sig, held):
                        widened.add(pk)
                    held.add(sig)
                    grants.append(row)
            if widened:
                # A stored version that now reaches more readers is added again for them: it (and the
                # relationships and sightings pointing at it) takes a new date_added, so that a TAXII
                # client paging a collection with added_after receives it there.
                moved = widened | store.referrers(self.conn, widened)
                store.redate(self.conn, {pk: self.next_timestamp() for pk in sorted(moved)})
        creators = {str(c.obj.get("created_by_ref")) for c, a in new_meta if a.kind in (FEDERATION, PUBLIC)}
        if regrant:  # the stored version's creator (a poster's copy may lack created_by_ref, then given its own)
            stored_by = {v.pk: v.created_by_ref for vers in existing.values() for v in vers.values()}
            creators |= {str(stored_by.get(pk)) for pk, a in kept if a.kind in (FEDERATION, PUBLIC)}
        grants.extend(self.creators_along(creators, at))
        store.insert_many(self.conn, object_grant, grants)
        store.insert_many(self.conn, object_ref, refs)
        store.insert_many(self.conn, object_label, labels)

    def creators_along(self, creators: set[str], at: datetime) -> list[dict[str, Any]]:
        """Grants that send member organisations' identities to the federation with what they created and
        shared there, so that a partner hub holds the identity each object's ``created_by_ref`` names (the
        identity, TLP:GREEN, is shared with the community from the start). Its version takes a new
        ``date_added``, so partners paging with ``added_after`` receive it."""
        members = {c: self.members[c][0] for c in creators if c in self.members}
        if not members:
            return []
        rows = self.conn.execute(
            select(stix_object.c.pk, stix_object.c.stix_id, stix_object.c.tlp)
            .where(stix_object.c.stix_id.in_(sorted(members)), stix_object.c.is_current)
        ).all()
        have = store.grants_of(self.conn, (r.pk for r in rows))
        out: list[dict[str, Any]] = []
        for r in rows:
            reached = any(_REACH.get(kind, 0) >= _REACH[FEDERATION] for _, kind, _ in have.get(r.pk, ()))
            if reached or r.tlp not in (tlpmod.CLEAR, tlpmod.GREEN):
                continue
            out.append({"object_pk": r.pk, "org_pk": members[r.stix_id], "audience": FEDERATION, "group_pk": None,
                        "user_pk": None, "via": "system", "granted_at": at,
                        "source": "identity of the creator of objects shared with the federation"})  # fmt: skip
        if out:
            store.redate(self.conn, {g["object_pk"]: self.next_timestamp() for g in out})
        return out

    def resolve_refs(
        self, cands: list[tuple[_Candidate, Audience]], *, final: bool = False
    ) -> list[tuple[_Candidate, Audience]]:
        """Keep objects whose must-resolve references (``extensions.must_resolve``: an action's targets)
        name something in this batch or stored where the publisher can see it. An object whose
        references are missing waits for the rest of the batch (``finish``), then is refused."""
        wanted: dict[str, list[tuple[str, str]]] = {}
        for c, _ in cands:
            refs = extensions.must_resolve(c.obj)
            if refs:
                wanted[c.stix_id] = refs
        if not wanted:
            return cands
        needed = {ref for refs in wanted.values() for _, ref in refs}
        here = {c.stix_id for c, _ in cands} | {sid for sid, _ in self.seen}
        lookup = sorted(needed - here)
        vis = visible(self.publisher)
        found: set[str] = set()
        for part in store.chunks(lookup):
            rows = store.search(self.conn, vis, store.Filters(ids=tuple(part)), limit=len(part))
            found.update(r["stix_id"] for r in rows)
        kept = []
        for cand, audience in cands:
            missing = [(p, ref) for p, ref in wanted.get(cand.stix_id, ()) if ref not in here and ref not in found]
            if missing and not final:
                self.waiting.append((cand, audience))
            elif missing:
                prop, ref = missing[0]
                more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
                self.reject(cand.index, cand.stix_id, f"{cand.stix_id}: '{prop}' names {ref}, which is not in this "
                            f"batch nor stored where the publisher can see it{more}")  # fmt: skip
            else:
                kept.append((cand, audience))
        return kept

    def owner_for(self, vers: dict[str, store.StoredVersion]) -> int | None:
        for v in vers.values():
            if v.owner_org_pk is not None:
                return v.owner_org_pk
        return self.publisher.org_pk

    def grant_row(self, pk: int, audience: Audience, at: datetime) -> dict[str, Any]:
        return {
            "object_pk": pk,
            "org_pk": self.publisher.org_pk,
            "audience": audience.kind,
            "group_pk": (self.group_pk if self.options.audience is not None else self.group_pk_of(audience.group or ""))
            if audience.kind == GROUP else None,
            "user_pk": self.publisher.user_pk,
            "via": self.options.via,
            "source": self.options.source,
            "granted_at": at,
        }


def _chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    chunk: list[Item] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _store(batch: _Batch, validator: Validator, pending: tuple[list[Item], Any],
           progress: Callable[[int], None] | None) -> None:  # fmt: skip
    chunk, handle = pending
    batch.store_chunk(chunk, validator.collect(handle))
    if progress:
        progress(len(chunk))


def ingest_items(
    conn: Connection,
    publisher: Viewer,
    items: Iterable[Item],
    options: IngestOptions,
    progress: Callable[[int], None] | None = None,
) -> IngestResult:
    """Store every valid object of ``items`` as ``publisher``; report the rest one by one."""
    if publisher.org_pk is None and not publisher.operator:
        raise PermissionDenied("publishing needs an organisation")
    if publisher.user_pk is not None and not publisher.has_role("analyst"):
        raise PermissionDenied(f"{publisher.email} is a {publisher.role}; publishing needs the analyst role or above")
    batch = _Batch(conn, publisher, options)
    validator = Validator(options.workers)
    pending: tuple[list[Item], Any] | None = None
    try:
        for chunk in _chunks(items, BATCH):
            # The first chunk is judged inline (small batches never start a worker); later ones are
            # judged in the worker while the previous chunk is being stored.
            with gc_paused():
                handle = validator.submit([it.obj for it in chunk], inline=pending is None)
                if pending is not None:
                    _store(batch, validator, pending, progress)
            pending = (chunk, handle)
        with gc_paused():
            if pending is not None:
                _store(batch, validator, pending, progress)
            batch.finish()
    finally:
        validator.close()
    store.save_clock(conn, batch.clock)
    batch.result.outcomes.sort(key=lambda o: o.index)
    return batch.result
