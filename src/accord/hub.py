"""The hub: one object that the CLI, the REST API, TAXII and the web UI all call.

Each method opens one transaction, checks who is asking through ``accord.access``, does its work
through ``accord.ingest`` or ``accord.store`` and writes the audit log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select

from accord.access import groups, orgs, tokens, users
from accord.access.audience import COMMUNITY, Audience
from accord.access.viewer import Viewer
from accord.access.visibility import visible
from accord.config import Settings
from accord.errors import InvalidInput, NotFound, PermissionDenied
from accord.ingest import IngestOptions, IngestResult, ingest_items
from accord.stix import tlp as tlpmod
from accord.stix.reader import Item, read_bytes, read_stream
from accord.stix.timestamps import format_stix, now
from accord.store import audit, db
from accord.store import objects as store
from accord.store.objects import Filters
from accord.store.schema import hub_state, organisation

OPERATOR = Viewer(operator=True, source="cli")
SYSTEM = Viewer(operator=True, source="system")


class Hub:
    def __init__(self, settings: Settings | None = None, engine: Engine | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.engine = engine or db.make_engine(self.settings.database_url)

    # -- set-up ---------------------------------------------------------------------------------

    def init(self) -> bool:
        """Create or migrate the schema and seed the TLP marking definitions. True if it was new."""
        db.upgrade(self.engine)
        with self.engine.begin() as conn:
            if conn.execute(select(hub_state.c.id)).first() is not None:
                return False
            conn.execute(hub_state.insert().values(id=1, clock=datetime(2000, 1, 1, tzinfo=UTC)))
            items = [Item(i, m) for i, m in enumerate(tlpmod.all_marking_definitions())]
            opts = IngestOptions(audience=Audience("public"), via="system", default_tlp=tlpmod.CLEAR)
            ingest_items(conn, SYSTEM, items, opts)
            audit.record(conn, actor="operator", action="hub.init", source="cli")
        return True

    def is_empty(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(organisation.c.pk).limit(1)).first() is None

    # -- who is asking --------------------------------------------------------------------------

    def viewer_as(self, org_name: str | None, source: str = "cli") -> Viewer:
        """The operator; with an organisation, acting as it and seeing what its members see."""
        if org_name is None:
            return Viewer(operator=True, source=source)
        with self.engine.connect() as conn:
            return orgs.viewer_for(conn, org_name, source=source)

    def authenticate(self, authorization: str | None, source: str = "api") -> Viewer:
        email, token = tokens.parse_authorization(authorization)
        with self.engine.begin() as conn:
            return tokens.authenticate(conn, token or "", email=email, source=source)

    # -- organisations, users, tokens, groups ---------------------------------------------------

    def add_org(self, actor: Viewer, name: str, sector: str, country: str) -> dict[str, Any]:
        with self.engine.begin() as conn:
            org = orgs.create(conn, actor, name, sector, country)
            identity = org.pop("identity")
            as_org = Viewer(org_pk=org["pk"], org_name=org["name"], org_identity=org["identity_id"], operator=True,
                            source=actor.source)  # fmt: skip
            result = ingest_items(
                conn, as_org, [Item(0, identity)],
                IngestOptions(tlp=tlpmod.GREEN, audience=Audience(COMMUNITY), via="system", source="accord org add"),
            )  # fmt: skip
            if result.rejected:
                raise InvalidInput(f"could not store the organisation's identity: {result.errors[0].reason}")
            audit.record(conn, actor=actor.label, org_pk=actor.org_pk, action="org.add", target=org["name"],
                         source=actor.source, detail={"sector": sector, "country": org["country"]})  # fmt: skip
        return org

    def list_orgs(self, actor: Viewer) -> list[dict[str, Any]]:
        if actor.public:
            raise PermissionDenied("sign in to list organisations")
        with self.engine.connect() as conn:
            return [
                {k: r[k] for k in ("name", "identity_id", "sector", "country", "created_at")}
                for r in orgs.list_all(conn)
            ]

    def add_user(self, actor: Viewer, email: str, org: str, role: str, name: str | None = None) -> dict[str, Any]:
        with self.engine.begin() as conn:
            user = users.create(conn, actor, email, org, role, name)
            audit.record(conn, actor=actor.label, org_pk=actor.org_pk, action="user.add", target=user["email"],
                         source=actor.source, detail={"org": user["org"], "role": role})  # fmt: skip
        return user

    def list_users(self, actor: Viewer, org: str | None = None) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return users.list_for(conn, actor, org)

    def create_token(
        self, actor: Viewer, email: str, label: str | None = None, expires_in_days: int | None = 90
    ) -> dict[str, Any]:
        with self.engine.begin() as conn:
            tok = tokens.create(conn, actor, email, label=label, expires_in_days=expires_in_days)
            audit.record(conn, actor=actor.label, org_pk=actor.org_pk, action="token.create", target=tok["user"],
                         source=actor.source, detail={"token_id": tok["id"], "label": label})  # fmt: skip
        return tok

    def revoke_token(self, actor: Viewer, token_id: int) -> dict[str, Any]:
        with self.engine.begin() as conn:
            out = tokens.revoke(conn, actor, token_id)
            audit.record(conn, actor=actor.label, org_pk=actor.org_pk, action="token.revoke", target=out["user"],
                         source=actor.source, detail={"token_id": token_id})  # fmt: skip
        return out

    def list_tokens(self, actor: Viewer, email: str | None = None) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return tokens.list_for(conn, actor, email)

    def add_group(
        self,
        actor: Viewer,
        name: str,
        owner: str,
        members: list[str] | None = None,
        *,
        members_visible: bool = False,
        description: str | None = None,
    ) -> dict[str, Any]:
        with self.engine.begin() as conn:
            out = groups.create(conn, actor, name, owner, members, members_visible=members_visible,
                                description=description)  # fmt: skip
            audit.record(conn, actor=actor.label, org_pk=actor.org_pk, action="group.add", target=name,
                         source=actor.source, detail={"owner": owner, "members": members or []})  # fmt: skip
        return out

    def add_group_member(self, actor: Viewer, name: str, org: str) -> dict[str, Any]:
        with self.engine.begin() as conn:
            out = groups.add_member(conn, actor, name, org)
            audit.record(conn, actor=actor.label, org_pk=actor.org_pk, action="group.add-member", target=name,
                         source=actor.source, detail={"org": org})  # fmt: skip
        return out

    def remove_group_member(self, actor: Viewer, name: str, org: str) -> dict[str, Any]:
        with self.engine.begin() as conn:
            out = groups.remove_member(conn, actor, name, org)
            audit.record(conn, actor=actor.label, org_pk=actor.org_pk, action="group.remove-member", target=name,
                         source=actor.source, detail={"org": org})  # fmt: skip
        return out

    def list_groups(self, actor: Viewer) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return groups.list_for(conn, actor)

    # -- writing intelligence -------------------------------------------------------------------

    def options(
        self, tlp: str | None = None, audience: str | Audience | None = None, via: str = "cli", **kw: Any
    ) -> IngestOptions:
        from accord.access.audience import parse_audience

        return IngestOptions(
            tlp=tlpmod.parse_level(tlp) if tlp else None,
            audience=parse_audience(audience) if isinstance(audience, str) else audience,
            via=via,
            default_tlp=self.settings.default_tlp,
            max_object_bytes=self.settings.max_object_bytes,
            **kw,
        )

    def ingest(
        self,
        publisher: Viewer,
        items: Iterable[Item],
        options: IngestOptions,
        progress: Callable[[int], None] | None = None,
    ) -> IngestResult:
        """One batch, one transaction: every valid object stored, every invalid one reported."""
        with self.engine.begin() as conn:
            result = ingest_items(conn, publisher, items, options, progress)
            audit.record(conn, actor=publisher.label, org_pk=publisher.org_pk, action="objects.ingest",
                         target=options.source, source=publisher.source,
                         detail={"via": options.via, "added": result.added, "new_version": result.new_version,
                                 "unchanged": result.unchanged, "rejected": result.rejected,
                                 "audience": str(options.audience) if options.audience else None})  # fmt: skip
        return result

    def ingest_bytes(self, publisher: Viewer, data: bytes, options: IngestOptions) -> IngestResult:
        return self.ingest(publisher, read_bytes(data, self.settings.max_bundle_bytes), options)

    def ingest_file(
        self, publisher: Viewer, path: Path, options: IngestOptions, progress: Callable[[int], None] | None = None
    ) -> IngestResult:
        size = path.stat().st_size
        with path.open("rb") as fh:
            items = read_stream(fh, size, self.settings.max_bundle_bytes)
            return self.ingest(publisher, items, options, progress)

    def revoke_object(self, publisher: Viewer, stix_id: str, via: str = "cli") -> IngestResult:
        """Publish a revoked new version of an object the publisher's organisation created."""
        current = self.get(publisher, stix_id)["object"]
        if current.get("revoked"):
            raise InvalidInput(f"{stix_id} is already revoked")
        if "created" not in current:
            raise InvalidInput(f"{stix_id} is a cyber-observable; only SDOs and SROs can be revoked")
        stamp = format_stix(now())
        if stamp <= current.get("modified", ""):
            raise InvalidInput(f"{stix_id} has a modified time in the future; cannot revoke it now")
        new = {**current, "modified": stamp, "revoked": True}
        result = self.ingest(publisher, [Item(0, new)], self.options(via=via, source="revoke"))
        if result.rejected:
            raise PermissionDenied(result.errors[0].reason or f"cannot revoke {stix_id}")
        return result

    # -- reading --------------------------------------------------------------------------------

    def _org_names(self, conn: Connection) -> dict[int, str]:
        return {r.pk: r.name for r in conn.execute(select(organisation.c.pk, organisation.c.name))}

    def _row_out(self, row: dict[str, Any], names: dict[int, str]) -> dict[str, Any]:
        owner = names.get(row["owner_org_pk"]) if row["owner_org_pk"] is not None else None
        return {
            "id": row["stix_id"],
            "type": row["type"],
            "name": row["name"],
            "tlp": row["tlp"],
            "revoked": row["revoked"],
            "current": row["is_current"],
            "date_added": row["date_added"],
            "owner": owner,
            "object": row["data"],
        }

    def get(self, viewer: Viewer, stix_id: str, *, all_versions: bool = False) -> dict[str, Any]:
        """The current version (and optionally every version) the viewer may see; NotFound otherwise."""
        vis = visible(viewer)
        with self.engine.connect() as conn:
            row = store.current(conn, vis, stix_id)
            vers = store.versions(conn, vis, stix_id) if (all_versions or row is None) else []
            if row is None and not vers:
                raise NotFound(f"no object {stix_id} that you can see")
            names = self._org_names(conn)
            out = self._row_out(row or vers[-1], names)
            out["audiences"] = [
                {**a, "granted_at": a["granted_at"]} for a in store.audiences(conn, vis, (row or vers[-1])["pk"])
            ]
            if all_versions:
                out["versions"] = [self._row_out(v, names) for v in vers]
            out["relationships"] = len(store.relationships_of(conn, vis, stix_id))
        return out

    def search(
        self,
        viewer: Viewer,
        *,
        types: Iterable[str] = (),
        text: str | None = None,
        label: str | None = None,
        tlp: str | None = None,
        owner: str | None = None,
        added_after: datetime | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        if not 1 <= limit <= 10000:
            raise InvalidInput("limit must be between 1 and 10000")
        vis = visible(viewer)
        with self.engine.connect() as conn:
            owner_pk = orgs.get(conn, owner)["pk"] if owner else None
            f = Filters(types=tuple(types), text=text, label=label, tlp=tlpmod.parse_level(tlp) if tlp else None,
                        owner_org_pk=owner_pk, added_after=added_after)  # fmt: skip
            names = self._org_names(conn)
            return [self._row_out(r, names) for r in store.search(conn, vis, f, limit=limit)]

    def export(self, viewer: Viewer, *, types: Iterable[str] = ()) -> Iterator[dict[str, Any]]:
        """Every current object the viewer may see, oldest first (streams)."""
        vis = visible(viewer)
        with self.engine.connect() as conn:
            for row in store.iter_current(conn, vis, Filters(types=tuple(types))):
                yield row["data"]

    def stats(self, viewer: Viewer) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return store.stats(conn, visible(viewer))

    def audit(self, actor: Viewer, *, limit: int = 100) -> list[dict[str, Any]]:
        if not (actor.is_hub_admin or actor.role == "org-admin"):
            raise PermissionDenied("only admins and org-admins may read the audit log")
        with self.engine.connect() as conn:
            org_pk = None if actor.is_hub_admin else actor.org_pk
            return audit.entries(conn, limit=limit, org_pk=org_pk)
