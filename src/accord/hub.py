"""The hub: one object that the CLI, the REST API, TAXII and the web UI all call.

Each method opens one transaction, checks who is asking through ``accord.access``, does its work
through ``accord.ingest`` or ``accord.store`` and writes the audit log.
"""

from __future__ import annotations

import copy
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import OperationalError

from accord.access import collections as rules
from accord.access import groups, orgs, sessions, tokens, users
from accord.access.audience import COMMUNITY, ORG, Audience, parse_audience
from accord.access.viewer import Viewer
from accord.access.visibility import visible
from accord.actions import effects, impact, sanctions
from accord.config import Settings
from accord.errors import (
    AccordError,
    AlreadyExists,
    AuthenticationFailed,
    FeedBusy,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from accord.federation import feeds as feedrules
from accord.federation import pull as federation
from accord.federation import secrets as feedsecrets
from accord.ingest import IngestOptions, IngestResult, ingest_items
from accord.ingest.validation import default_workers
from accord.norms import assessments as norm_assessments
from accord.spyware import helplines as spyware_helplines
from accord.spyware import registry as spyware_registry
from accord.spyware import seed as spyware_seed
from accord.spyware import share as spyware_share
from accord.stix import extensions as stix_extensions
from accord.stix import tlp as tlpmod
from accord.stix.reader import Item, read_bytes, read_stream
from accord.stix.timestamps import format_stix, now, version_key
from accord.store import audit, db, statuses, taxii_reads, textindex
from accord.store import collections as colls
from accord.store import feeds as feedstore
from accord.store import objects as store
from accord.store.objects import Filters
from accord.store.schema import hub_state, organisation
from accord.taxii import params as taxii_params

OPERATOR = Viewer(operator=True, source="cli")
#: After this many versions written (by this process), the planner's statistics are refreshed.
STATISTICS_AFTER = 5000
SYSTEM = Viewer(operator=True, source="system")


class Hub:
    def __init__(self, settings: Settings | None = None, engine: Engine | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.engine = engine or db.make_engine(self.settings.database_url)
        self._written = 0  # versions written since the planner statistics were last refreshed
        self._stats_cache: dict[Any, tuple[tuple[Any, ...], dict[str, Any]]] = {}
        self._last_write = 0.0  # time.monotonic() of this process's last ingest

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

    def authenticate(self, authorization: str | None, source: str = "api", *, partner_ok: bool = False) -> Viewer:
        """The viewer for an Authorization header. A partner hub's token is refused (403) unless the edge
        says it serves partner hubs (``partner_ok``: TAXII, where collections decide what they may read)."""
        email, token = tokens.parse_authorization(authorization)
        with self.engine.connect() as conn:
            viewer = tokens.authenticate(conn, token or "", email=email, source=source, touch=self._record_token_use)
        if viewer.partner and not partner_ok:
            raise PermissionDenied(f"{viewer.email} is a user of partner hub {viewer.org_name}: partner hubs may only "
                                   "read federation collections over TAXII (/taxii2/)")  # fmt: skip
        return viewer

    def _record_token_use(self, token_pk: int, at: datetime) -> None:
        """Best effort: a long ingest holding SQLite's write lock must not make sign-in wait or fail."""
        try:
            with self.engine.begin() as conn:
                if conn.dialect.name == "sqlite":
                    conn.exec_driver_sql("PRAGMA busy_timeout=50")
                try:
                    tokens.record_use(conn, token_pk, at)
                finally:
                    if conn.dialect.name == "sqlite":
                        conn.exec_driver_sql("PRAGMA busy_timeout=30000")
        except OperationalError:
            pass

    # -- organisations, users, tokens, groups ---------------------------------------------------

    def add_org(self, actor: Viewer, name: str, sector: str, country: str, kind: str = orgs.MEMBER) -> dict[str, Any]:
        """A member organisation, or (``kind="partner-hub"``) the organisation standing for a partner hub."""
        with self.engine.begin() as conn:
            org = orgs.create(conn, actor, name, sector, country, kind)
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
                         source=actor.source, detail={"sector": sector, "country": org["country"],
                                                      "kind": kind})  # fmt: skip
        return org

    def list_orgs(self, actor: Viewer) -> list[dict[str, Any]]:
        if actor.public:
            raise PermissionDenied("sign in to list organisations")
        with self.engine.connect() as conn:
            return [
                {k: r[k] for k in ("name", "identity_id", "sector", "country", "kind", "created_at")}
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

    def set_user_disabled(self, actor: Viewer, email: str, disabled: bool) -> dict[str, Any]:
        """Disable a user (tokens and password refused, web sessions ended) or enable them again; audited."""
        with self.engine.begin() as conn:
            out = users.set_disabled(conn, actor, email, disabled)
            if out["changed"] or out["sessions_ended"]:
                detail = {k: out[k] for k in ("org", "role", "sessions_ended")}
                audit.record(conn, actor=actor.label, org_pk=actor.org_pk, target=out["email"], source=actor.source,
                             action="user.disable" if disabled else "user.enable", detail=detail)  # fmt: skip
        return out

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

        return IngestOptions(
            tlp=tlpmod.parse_level(tlp) if tlp else None,
            audience=parse_audience(audience) if isinstance(audience, str) else audience,
            via=via,
            default_tlp=self.settings.default_tlp,
            max_object_bytes=self.settings.max_object_bytes,
            **{"workers": default_workers(), **kw},
        )

    def ingest(
        self,
        publisher: Viewer,
        items: Iterable[Item],
        options: IngestOptions,
        progress: Callable[[int], None] | None = None,
        before_commit: Callable[[Connection, IngestResult], None] | None = None,
    ) -> IngestResult:
        """One batch, one transaction: every valid object stored, every invalid one reported.
        ``before_commit`` writes what must commit with the batch (a TAXII status) in the same transaction."""
        with self.engine.begin() as conn:
            tap = effects.ActionTap(items)  # collective action: takedowns expire the indicators they touch
            result = ingest_items(conn, publisher, tap, options, progress)
            self._action_effects(conn, publisher, tap, result, options)
            audit.record(conn, actor=publisher.label, org_pk=publisher.org_pk, action="objects.ingest",
                         target=options.source, source=publisher.source,
                         detail={"via": options.via, "added": result.added, "new_version": result.new_version,
                                 "unchanged": result.unchanged, "rejected": result.rejected,
                                 "audience": str(options.audience) if options.audience else None})  # fmt: skip
            if before_commit is not None:
                before_commit(conn, result)
        self._written += result.added + result.new_version
        self._last_write = time.monotonic()
        if self._written >= STATISTICS_AFTER:
            self._written = 0
            db.refresh_statistics(self.engine)
        return result

    def seconds_since_write(self) -> float:
        """How long ago this process last ingested (the text indexer waits for a pause)."""
        return time.monotonic() - self._last_write

    def index_text(self, progress: Callable[[int], None] | None = None) -> int:
        """Bring the SQLite text index up to the last commit (``accord.store.textindex``); rows indexed.

        Searching is exact without it; this only makes substring searches over fresh objects fast.
        """
        return textindex.catch_up_all(self.engine, progress)

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
        got = self.get(publisher, stix_id)
        current = got["object"]
        if current.get("revoked"):
            raise InvalidInput(f"{stix_id} is already revoked")
        if "created" not in current:
            raise InvalidInput(f"{stix_id} is a cyber-observable; only SDOs and SROs can be revoked")
        stamp = format_stix(now())
        if version_key(stamp) <= version_key(current.get("modified") or current["created"]):
            raise InvalidInput(f"{stix_id} has a modified time in the future; cannot revoke it now")
        new = {**current, "modified": stamp, "revoked": True}
        # The revocation reaches whoever the publisher shared the object with (its widest own grant),
        # not the default audience for its TLP: through a group, a federation collection, a feed.
        reach = {"org": 0, "group": 0, "community": 1, "federation": 2, "public": 3}
        own = [a for a in got["audiences"] if publisher.org_name is not None and a["org"] == publisher.org_name]
        widest = max(own, key=lambda a: reach.get(a["audience"], 0), default=None)
        audience = Audience(widest["audience"], widest["group"]) if widest else None
        result = self.ingest(publisher, [Item(0, new)], self.options(audience=audience, via=via, source="revoke"))
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
        audience: str | None = None,
    ) -> list[dict[str, Any]]:
        if not 1 <= limit <= 10000:
            raise InvalidInput("limit must be between 1 and 10000")
        vis = visible(viewer)
        with self.engine.connect() as conn:
            f = self._search_filters(conn, viewer, types=types, text=text, label=label, tlp=tlp, owner=owner,
                                     added_after=added_after, audience=audience)  # fmt: skip
            names = self._org_names(conn)
            return [self._row_out(r, names) for r in store.search(conn, vis, f, limit=limit)]

    def export(self, viewer: Viewer, *, types: Iterable[str] = ()) -> Iterator[dict[str, Any]]:
        """Every current object the viewer may see, oldest first (streams)."""
        vis = visible(viewer)
        with self.engine.connect() as conn:
            for row in store.iter_current(conn, vis, Filters(types=tuple(types))):
                yield row["data"]

    def stats(self, viewer: Viewer) -> dict[str, Any]:
        """Counts of what the viewer may see by type and TLP. Counting a large hub takes a while, so
        counts are kept per visibility until the next write anywhere on the hub (``store.write_mark``)."""
        vis = visible(viewer)
        with self.engine.connect() as conn:
            mark = store.write_mark(conn)
            kept = self._stats_cache.get(vis)
            if kept is not None and kept[0] == mark:
                return copy.deepcopy(kept[1])
            counts = store.stats(conn, vis)
        if len(self._stats_cache) >= 1000:
            self._stats_cache.clear()
        self._stats_cache[vis] = (mark, counts)
        return copy.deepcopy(counts)

    def audit(self, actor: Viewer, *, limit: int = 100) -> list[dict[str, Any]]:
        if not (actor.is_hub_admin or actor.role == "org-admin"):
            raise PermissionDenied("only admins and org-admins may read the audit log")
        with self.engine.connect() as conn:
            org_pk = None if actor.is_hub_admin else actor.org_pk
            return audit.entries(conn, limit=limit, org_pk=org_pk)

    # -- web ------------------------------------------------------------------------------------
    # What the web pages (accord.web) need beyond the methods above: passwords, sessions checked
    # against the credential they were opened with, paged search with a total, and the objects around
    # one object. Every read takes the viewer's visibility, as everywhere else.

    def set_password(self, actor: Viewer, email: str, password: str) -> dict[str, Any]:
        """Set a user's password (argon2id): the user themself, or whoever may manage them."""
        with self.engine.begin() as conn:
            out = users.set_password(conn, actor, email, password)
            audit.record(conn, actor=actor.label, org_pk=actor.org_pk, action="user.password", target=out["email"],
                         source=actor.source)  # fmt: skip
        return out

    def authenticate_password(self, email: str, password: str, source: str = "web") -> tuple[Viewer, str]:
        """The viewer for an e-mail and password, and the stamp a session keeps (``session_viewer``).

        A refusal is audited (``session.sign-in-failed``: the e-mail as typed, where from, why; never the
        password)."""
        why: list[users.SignInFailure] = []
        with self.engine.connect() as conn:
            try:
                return users.verify_password(conn, email, password, source, failed=why.append)
            except AuthenticationFailed as exc:
                refused = exc
        self._sign_in_failed(why[0] if why else users.SignInFailure("password", users.typed_email(email),
                                                                     refused.message), source)  # fmt: skip
        raise refused

    def authenticate_token(self, token: str, source: str = "web") -> tuple[Viewer, str]:
        """The viewer for an API token, and the stamp a session keeps (the token's stored hash).

        A refusal is audited like a password's, naming the token's holder when the token is known (never
        the token)."""
        digest = tokens._hash(token.strip())
        try:
            viewer = self.authenticate(f"Bearer {token.strip()}", source, partner_ok=True)
            if viewer.partner:
                raise AuthenticationFailed(users.PARTNER_NO_SIGN_IN.format(email=viewer.email, org=viewer.org_name))
        except AuthenticationFailed:
            with self.engine.connect() as conn:
                why = users.token_failure(conn, digest) if token.strip() else users.SignInFailure(
                    "token", None, "no token given")  # fmt: skip
            self._sign_in_failed(why, source)
            raise
        return viewer, digest

    def _sign_in_failed(self, why: users.SignInFailure, source: str) -> None:
        with self.engine.begin() as conn:
            audit.record(conn, actor="anonymous", org_pk=why.org_pk, action="session.sign-in-failed",
                         target=why.tried, source=source[:200],
                         detail={"method": why.method, "reason": why.reason})  # fmt: skip

    def session_viewer(self, user_pk: int, method: str, stamp: str, source: str = "web") -> Viewer:
        """The viewer of a web session, while the password or token it was opened with still holds."""
        with self.engine.connect() as conn:
            return users.session_viewer(conn, user_pk, method, stamp, source)

    def open_session(self, viewer: Viewer, method: str, stamp: str, *, lifetime: timedelta, client: str | None = None,
                     user_agent: str | None = None) -> sessions.Session:  # fmt: skip
        """A server-side web session for a signed-in user (``accord.access.sessions``), audited."""
        if viewer.user_pk is None:
            raise AuthenticationFailed("only users can sign in")
        with self.engine.begin() as conn:
            out = sessions.open_session(conn, viewer.user_pk, method, stamp, lifetime=lifetime, client=client,
                                        user_agent=user_agent)  # fmt: skip
            audit.record(conn, actor=viewer.label, org_pk=viewer.org_pk, action="session.sign-in", target=viewer.email,
                         source=viewer.source, detail={"session": out.pk, "method": method})  # fmt: skip
        return out

    def session(self, session_id: str, *, idle: timedelta, source: str = "web") -> tuple[Viewer, sessions.Session]:
        """The viewer of a live web session; ``AuthenticationFailed`` saying why when it is over."""
        with self.engine.connect() as conn:
            try:
                viewer, out, due = sessions.resolve(conn, session_id, idle=idle, source=source)
            except AuthenticationFailed as exc:
                failed = exc
            else:
                failed = None
        if failed is not None:
            self.forget_session(session_id)
            raise failed
        if due:
            self._best_effort(lambda conn: sessions.touch(conn, out.pk))
        return viewer, out

    def forget_session(self, session_id: str) -> None:
        """Revoke a session that is over (expired, idle, credential changed, replaced by a new sign-in)."""
        self._best_effort(lambda conn: sessions.end_by_id(conn, session_id))

    def _best_effort(self, write: Callable[[Connection], Any]) -> None:
        """A small write that must not make a page wait behind a long ingest holding SQLite's lock."""
        try:
            with self.engine.begin() as conn:
                if conn.dialect.name == "sqlite":
                    conn.exec_driver_sql("PRAGMA busy_timeout=50")
                try:
                    write(conn)
                finally:
                    if conn.dialect.name == "sqlite":
                        conn.exec_driver_sql("PRAGMA busy_timeout=30000")
        except OperationalError:
            pass

    def close_session(self, viewer: Viewer, session: sessions.Session) -> None:
        """Sign-out: the session's row is revoked, so its cookie is worthless wherever it was copied."""
        with self.engine.begin() as conn:
            sessions.end(conn, session.pk)
            audit.record(conn, actor=viewer.label, org_pk=viewer.org_pk, action="session.sign-out",
                         target=viewer.email, source=viewer.source, detail={"session": session.pk})  # fmt: skip

    def list_sessions(self, actor: Viewer, *, idle: timedelta, managed: bool = False) -> list[dict[str, Any]]:
        """Live web sessions: the actor's own, or (``managed``) those of every user the actor manages."""
        with self.engine.connect() as conn:
            if managed:
                return sessions.list_managed(conn, actor, idle=idle)
            return sessions.list_own(conn, actor, idle=idle)

    def end_session(self, actor: Viewer, session_pk: int) -> dict[str, Any]:
        """End one web session: its user's own, or one of a user the actor manages (audited)."""
        with self.engine.begin() as conn:
            out = sessions.end_one(conn, actor, session_pk)
            audit.record(conn, actor=actor.label, org_pk=actor.org_pk, action="session.revoke", target=out["user"],
                         source=actor.source, detail={"session": session_pk})  # fmt: skip
        return out

    def end_sessions(self, actor: Viewer, email: str, *, keep: int | None = None) -> dict[str, Any]:
        """End every web session of a user (but ``keep``); the user, an admin or their org-admin (audited)."""
        with self.engine.begin() as conn:
            out = sessions.end_all(conn, actor, email, keep=keep)
            audit.record(conn, actor=actor.label, org_pk=actor.org_pk, action="session.revoke-all",
                         target=out["user"], source=actor.source,
                         detail={"ended": out["ended"], "kept": keep})  # fmt: skip
        return out

    #: How many hits a search page counts exactly; past this it says "more than".
    SEARCH_COUNT_CAP = 1000

    def search_page(
        self,
        viewer: Viewer,
        *,
        types: Iterable[str] = (),
        text: str | None = None,
        label: str | None = None,
        tlp: str | None = None,
        owner: str | None = None,
        added_after: datetime | None = None,
        added_before: datetime | None = None,
        cursor: datetime | None = None,
        limit: int = 50,
        audience: str | None = None,
    ) -> dict[str, Any]:
        """A page of current visible objects, newest first, and how many match (``None``: more than the cap).

        ``cursor`` is the ``date_added`` of the last hit of the previous page (``next`` in the answer).
        The first ``SEARCH_COUNT_CAP + 1`` hits are read once: they give the count and, usually, the page.
        """
        if not 1 <= limit <= 1000:
            raise InvalidInput("limit must be between 1 and 1000")
        vis = visible(viewer)
        cap = self.SEARCH_COUNT_CAP
        with self.engine.connect() as conn:
            f = self._search_filters(conn, viewer, types=types, text=text, label=label, tlp=tlp, owner=owner,
                                     added_after=added_after, added_before=added_before, audience=audience)  # fmt: skip
            window = store.search(conn, vis, f, limit=cap + 1)
            later = [r for r in window if cursor is None or r["date_added"] < cursor]
            if len(later) > limit or len(window) <= cap:
                rows = later[: limit + 1]
            else:  # the page lies beyond the counted window
                edge = cursor - timedelta(microseconds=1) if cursor else None
                before = min(edge, added_before) if (edge and added_before) else (edge or added_before)
                rows = store.search(conn, vis, replace(f, added_before=before), limit=limit + 1)
            names = self._org_names(conn)
            out = [self._row_out(r, names) for r in rows[:limit]]
        return {"objects": out, "total": len(window) if len(window) <= cap else None, "total_cap": cap,
                "next": out[-1]["date_added"] if len(rows) > limit else None}  # fmt: skip

    def _search_filters(
        self,
        conn: Connection,
        viewer: Viewer,
        *,
        types: Iterable[str],
        text: str | None,
        label: str | None,
        tlp: str | None,
        owner: str | None,
        added_after: datetime | None,
        added_before: datetime | None = None,
        audience: str | None = None,
    ) -> Filters:
        """The store filters for a search's parameters (search and search_page share them)."""
        return Filters(
            types=tuple(types), text=text, label=label, tlp=tlpmod.parse_level(tlp) if tlp else None,
            owner_org_pk=orgs.get(conn, owner)["pk"] if owner else None, added_after=added_after,
            added_before=added_before, audience=self._audience_filter(conn, viewer, audience),
        )  # fmt: skip

    @staticmethod
    def _audience_filter(conn: Connection, viewer: Viewer, audience: str | None) -> tuple[str, int | None] | None:
        """``org`` (held for the viewer's organisation only), ``group:NAME`` (a group the viewer is in),
        ``community``, ``federation`` or ``public`` — never another party's private grants."""
        if not audience:
            return None
        wanted = parse_audience(audience)
        if wanted.kind == "org":
            if viewer.org_pk is None:
                raise InvalidInput("audience 'org' means your organisation's own holdings: act as an organisation")
            return ("org", viewer.org_pk)
        if wanted.kind == "group":
            try:
                pk = groups.get(conn, wanted.group or "")["pk"]
            except NotFound:
                pk = None
            if pk is None or pk not in viewer.group_pks:
                raise NotFound(f"you are not in a sharing group named {wanted.group!r}")
            return ("group", pk)
        return (wanted.kind, None)

    def relationships(self, viewer: Viewer, stix_id: str, limit: int = 200) -> list[dict[str, Any]]:
        """Current visible relationships and sightings that point at or from an object, newest first."""
        vis = visible(viewer)
        with self.engine.connect() as conn:
            names = self._org_names(conn)
            return [self._row_out(r, names) for r in store.relationships_of(conn, vis, stix_id, limit=limit)]

    def relationships_many(
        self, viewer: Viewer, ids: Iterable[str], limit: int = 200
    ) -> dict[str, list[dict[str, Any]]]:
        """``relationships`` for several objects in one connection (up to 1,000 ids), keyed by id."""
        wanted = sorted({i for i in ids if isinstance(i, str)})[:1000]
        vis = visible(viewer)
        with self.engine.connect() as conn:
            names = self._org_names(conn)
            return {i: [self._row_out(r, names) for r in store.relationships_of(conn, vis, i, limit=limit)]
                    for i in wanted}  # fmt: skip

    def lookup(self, viewer: Viewer, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The current versions of the given ids that the viewer may see (absent ids are left out)."""
        wanted = sorted({i for i in ids if isinstance(i, str)})[:1000]
        if not wanted:
            return {}
        vis = visible(viewer)
        with self.engine.connect() as conn:
            names = self._org_names(conn)
            rows = store.search(conn, vis, Filters(ids=tuple(wanted)), limit=len(wanted))
            return {r["stix_id"]: self._row_out(r, names) for r in rows}

    # -- TAXII collections and statuses ---------------------------------------------------------
    # Collections are admin-configured views over the one store (accord.access.collections decides
    # who may read or write one and what it shows); reads go through the visibility rule AND the
    # collection's scope (accord.store.taxii_reads); writes go through ingest (via="taxii"). Each POST
    # gets a status stored in the database; big ones are ingested by a worker thread in this process.

    #: A POST with more objects, or a bigger body, than this is ingested in the background.
    TAXII_BACKGROUND_OBJECTS = 1000
    TAXII_BACKGROUND_BYTES = 1024 * 1024

    def add_collection(
        self,
        actor: Viewer,
        title: str,
        *,
        scope: str = "all",
        readers: str = "all",
        writers: str = "none",
        write_audience: str | None = None,
        description: str | None = None,
    ) -> dict[str, Any]:
        """Create a TAXII collection; returns its configuration (with its new ``id``)."""
        rules.check_manage(actor)
        title = (title or "").strip()
        if not 1 <= len(title) <= 200:
            raise InvalidInput("a collection needs a title of 1 to 200 characters")
        rules.check_text(title, description, scope, readers, writers, write_audience)
        spec = rules.parse_scope(scope)
        readers_kind, reader_names = rules.parse_org_list(readers, "--readers", ("all",))
        writers_kind, writer_names = rules.parse_org_list(writers, "--writers", ("none", "all"))
        rules.check_writers(spec, writers_kind)
        audience = (rules.check_write_audience(spec, write_audience) if write_audience
                    else rules.default_write_audience(spec))  # fmt: skip
        audience_group = audience[6:] if audience and audience.startswith("group:") else None
        with self.engine.begin() as conn:
            rules.check_unique_title(conn, title)
            group = groups.get(conn, spec.group) if spec.group else None
            writers_group = groups.get(conn, audience_group) if audience_group else None
            if spec.feed and feedstore.get(conn, spec.feed) is None:
                raise NotFound(f"no feed named {spec.feed!r} (see 'accord feed list')")
            reader_pks = rules.org_pks(conn, reader_names, writers=False, scope=spec, group=group)
            writer_pks = rules.org_pks(conn, writer_names, writers=True, group=writers_group or group)
            cid = str(uuid.uuid4())
            colls.insert(
                conn, collection_id=cid, title=title, description=description, scope=spec.kind,
                group_pk=group["pk"] if group else None, readers_all=readers_kind == "all", reader_org_pks=reader_pks,
                writers=writers_kind, writer_org_pks=writer_pks, write_audience=audience, created_at=now(),
                feed_name=spec.feed,
            )  # fmt: skip
            out = rules.describe(colls.get(conn, cid) or {})
            audit.record(conn, actor=actor.label, org_pk=actor.org_pk, action="collection.add", target=cid,
                         source=actor.source, detail={k: out[k] for k in ("title", "scope", "readers", "writers",
                                                                           "write_audience")})  # fmt: skip
        return out

    def list_collections(self, actor: Viewer) -> list[dict[str, Any]]:
        """Every collection's configuration (for administrators)."""
        rules.check_manage(actor)
        with self.engine.connect() as conn:
            return [rules.describe(c) for c in colls.list_all(conn)]

    def remove_collection(self, actor: Viewer, collection_id: str) -> dict[str, Any]:
        """Remove a collection's configuration; the objects it showed stay in the store."""
        rules.check_manage(actor)
        with self.engine.begin() as conn:
            # Only UUIDs are asked of the database (PostgreSQL refuses a NUL in a string outright).
            if not taxii_params.is_uuid(collection_id) or not colls.remove(conn, collection_id):
                raise NotFound(f"no collection {collection_id} (see 'accord collection list')")
            self.__dict__.get("_taxii_collections", {}).pop(collection_id, None)
            audit.record(conn, actor=actor.label, org_pk=actor.org_pk, action="collection.remove",
                         target=collection_id, source=actor.source)  # fmt: skip
        return {"id": collection_id, "removed": True}

    #: Seconds a process reuses a collection's configuration for TAXII requests (its removal by another
    #: process takes effect within that; in this process at once).
    TAXII_COLLECTION_SECONDS = 1.0

    def _taxii_collection_row(self, conn: Connection, collection_id: str) -> dict[str, Any]:
        cache: dict[str, tuple[float, dict[str, Any]]] = self.__dict__.setdefault("_taxii_collections", {})
        at = time.monotonic()
        hit = cache.get(collection_id)
        if hit is not None and at - hit[0] < self.TAXII_COLLECTION_SECONDS:
            return hit[1]
        # Only UUIDs are asked of the database (some, PostgreSQL, refuse a NUL in a string outright).
        coll = colls.get(conn, collection_id) if taxii_params.is_uuid(collection_id) else None
        if coll is None:
            cache.pop(collection_id, None)
            raise NotFound(f"no collection {collection_id}")
        if len(cache) >= 1024:
            cache.clear()
        cache[collection_id] = (at, coll)
        return coll

    def taxii_collections(self, viewer: Viewer) -> list[dict[str, Any]]:
        """The collections this viewer may read or write, each with ``can_read`` and ``can_write``."""
        with self.engine.connect() as conn:
            rows = colls.list_all(conn)
        out = []
        for c in rows:
            r, w = rules.can_read(viewer, c), rules.can_write(viewer, c)
            if r or w:
                out.append({**c, "can_read": r, "can_write": w})
        return out

    def taxii_collection(self, viewer: Viewer, collection_id: str) -> dict[str, Any]:
        """One collection with this viewer's ``can_read`` / ``can_write``; 403 if it may do neither."""
        with self.engine.connect() as conn:
            coll = self._taxii_collection_row(conn, collection_id)
        rules.check_known(viewer, coll)
        return {**coll, "can_read": rules.can_read(viewer, coll), "can_write": rules.can_write(viewer, coll)}

    def taxii_check_write(self, viewer: Viewer, collection_id: str) -> None:
        """Raise unless the viewer may write to the collection (checked before a body is read)."""
        with self.engine.connect() as conn:
            rules.check_write(viewer, self._taxii_collection_row(conn, collection_id))

    def taxii_objects(
        self, viewer: Viewer, collection_id: str, selection: Any, limit: int, *, with_data: bool = True,
        text: bool = False,
    ) -> Any:  # fmt: skip
        """A page of object versions through a collection (``accord.store.taxii_reads.Page``; ``text``:
        each object as its stored JSON text)."""
        with self.engine.connect() as conn:
            coll = self._taxii_collection_row(conn, collection_id)
            rules.check_read(viewer, coll)
            return taxii_reads.page(conn, visible(viewer), rules.scope_for(viewer, coll), selection, limit,
                                    with_data=with_data, text=text)  # fmt: skip

    def taxii_object(
        self, viewer: Viewer, collection_id: str, stix_id: str, selection: Any, limit: int, *, with_data: bool = True,
        text: bool = False,
    ) -> Any:  # fmt: skip
        """A page of one object's versions; NotFound when the viewer sees no version of it here."""
        with self.engine.connect() as conn:
            vis, scope = self._taxii_holding(conn, viewer, collection_id, stix_id, rules.check_read)
            sel = replace(selection, ids=(stix_id,))
            return taxii_reads.page(conn, vis, scope, sel, limit, with_data=with_data, text=text)

    def _taxii_holding(
        self, conn: Connection, viewer: Viewer, collection_id: str, stix_id: str, check: Callable[..., None]
    ) -> tuple[Any, Any]:
        """The viewer's visibility and scope in a collection that holds ``stix_id``; NotFound otherwise."""
        coll = self._taxii_collection_row(conn, collection_id)
        check(viewer, coll)
        vis, scope = visible(viewer), rules.scope_for(viewer, coll)
        if not taxii_params.is_stix_id(stix_id) or not taxii_reads.holds(conn, vis, scope, stix_id):
            raise NotFound(f"no object {stix_id} in collection {collection_id} that you can see")
        return vis, scope

    def taxii_delete(self, viewer: Viewer, collection_id: str, stix_id: str, selection: Any) -> dict[str, Any]:
        """TAXII delete: Accord never erases intelligence, so this revokes the object (creator only).

        A revoked new version is published, which travels to every consumer like any other version.
        """
        with self.engine.connect() as conn:
            vis, scope = self._taxii_holding(conn, viewer, collection_id, stix_id, rules.check_write)
            if not taxii_reads.page(conn, vis, scope, replace(selection, ids=(stix_id,)), 1, with_data=False).rows:
                raise NotFound(f"no version of {stix_id} matches the request")
            current = store.current(conn, vis, stix_id)
        if current is not None and current["revoked"]:
            return {"id": stix_id, "revoked": True, "changed": False}
        try:
            self.revoke_object(viewer, stix_id, via="taxii")
        except PermissionDenied as exc:
            raise PermissionDenied(f"you may not delete {stix_id}: a TAXII DELETE revokes the object, which only "
                                   f"its creator may do ({exc.message})") from None  # fmt: skip
        return {"id": stix_id, "revoked": True, "changed": True}

    def _taxii_jobs(self) -> Any:
        """The worker thread (one per hub; ingest is serialised by the hub lock anyway)."""
        jobs = self.__dict__.get("_taxii_executor")
        if jobs is None:
            jobs = self.__dict__.setdefault(
                "_taxii_executor", ThreadPoolExecutor(max_workers=1, thread_name_prefix="accord-taxii")
            )
        return jobs

    def taxii_add(self, viewer: Viewer, collection_id: str, items: list[Item], size: int) -> dict[str, Any]:
        """Ingest posted objects into a collection; returns the status (complete, or pending when big).

        Objects get the collection's write audience (capped by TLP in ingest, as on every path) and
        ``via="taxii"``. Each object's outcome, with ingest's reason for a failure, is in the status.
        """
        with self.engine.connect() as conn:
            coll = self._taxii_collection_row(conn, collection_id)
        rules.check_write(viewer, coll)
        background = len(items) > self.TAXII_BACKGROUND_OBJECTS or size > self.TAXII_BACKGROUND_BYTES
        status_id = str(uuid.uuid4())
        pendings = [self._taxii_detail(item) for item in items]
        with self.engine.begin() as conn:
            statuses.create(conn, status_id=status_id, collection_id=collection_id, org_pk=viewer.org_pk,
                            user_pk=viewer.user_pk, at=now(), pendings=pendings,
                            worker=statuses.this_worker())  # fmt: skip
        if background:
            self._taxii_jobs().submit(self._taxii_ingest, viewer, coll, items, status_id)
        else:
            self._taxii_ingest(viewer, coll, items, status_id)
        return self.taxii_status(viewer, status_id)

    @staticmethod
    def _taxii_detail(item: Item) -> dict[str, Any]:
        """TAXII status-details (id, version) for one posted element, as far as it can be told."""
        # An element the TAXII edge refused before ingest still tells what it was (``Refused.sent``).
        obj = item.obj if isinstance(item.obj, dict) else getattr(item, "sent", None) or {}
        sid = obj.get("id") if isinstance(obj.get("id"), str) else ""
        out: dict[str, Any] = {"id": sid}
        stamp = obj.get("modified") or obj.get("created")
        if isinstance(stamp, str):
            out["version"] = stamp
        return out

    def _taxii_ingest(self, viewer: Viewer, coll: dict[str, Any], items: list[Item], status_id: str) -> None:
        """Ingest a POST's objects and complete its status in the same transaction (one commit, so a
        burst of POSTs waits less for SQLite's write lock); on failure, the status says why."""

        def complete(conn: Connection, result: IngestResult) -> None:
            successes, failures = self._taxii_outcomes(conn, viewer, items, result)
            statuses.complete(conn, status_id, at=now(), successes=successes, failures=failures)

        try:
            opts = self.options(audience=rules.write_audience(coll), via="taxii", keep_outcomes=True,
                                source=f"taxii collection {coll['id']}")  # fmt: skip
            self.ingest(viewer, items, opts, before_commit=complete)
            return
        except AccordError as exc:
            failures = [{**self._taxii_detail(i), "message": exc.message} for i in items]
        except Exception:  # noqa: BLE001 - a worker must always complete its status
            logging.getLogger("accord.taxii").exception("TAXII ingest for status %s failed", status_id)
            failures = [{**self._taxii_detail(i), "message": "internal error; nothing of the request was stored"}
                        for i in items]  # fmt: skip
        with self.engine.begin() as conn:
            statuses.complete(conn, status_id, at=now(), successes=[], failures=failures)

    def _taxii_outcomes(
        self, conn: Connection, viewer: Viewer, items: list[Item], result: IngestResult
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """TAXII status details of each posted element: its outcome, or ingest's reason for refusing it."""
        successes: list[dict[str, Any]] = []
        failures: list[dict[str, Any]] = []
        by_index = {o.index: o for o in result.outcomes}
        dated = [o.id for o in result.outcomes if o.status != "rejected" and not o.version and o.id]
        added_at = taxii_reads.versionless_dates(conn, visible(viewer), dated) if dated else {}
        for item in items:
            detail = self._taxii_detail(item)
            o = by_index.get(item.index)
            if o is None:
                failures.append({**detail, "message": "the object was not processed"})
            elif o.status == "rejected":
                failures.append({**detail, "message": o.reason or "rejected"})
            else:
                if o.version:
                    detail["version"] = taxii_reads.version_string(o.version, now())
                elif o.id in added_at:
                    detail["version"] = taxii_reads.version_string("", added_at[o.id])
                successes.append({**detail, "message": o.status})
        return successes, failures

    def taxii_status(self, viewer: Viewer, status_id: str) -> dict[str, Any]:
        """A status the viewer's organisation created (NotFound for anyone else's: no oracle)."""
        if viewer.public:
            raise AuthenticationFailed("authentication required to read a status")
        with self.engine.connect() as conn:
            row = statuses.get(conn, status_id) if taxii_params.is_uuid(status_id) else None
        if row is None or not (row["org_pk"] == viewer.org_pk or (viewer.operator and viewer.org_pk is None)):
            raise NotFound(f"no status {status_id}")
        if row["status"] == statuses.PENDING and statuses.worker_gone(row["worker"]):
            with self.engine.begin() as conn:
                statuses.fail_lost(conn, row, now())
                row = statuses.get(conn, status_id) or row
        return row

    # -- federation -----------------------------------------------------------------------------
    # Feeds pull from partner hubs (TAXII 2.1) and MISP feeds (accord.federation); what they bring in
    # goes through ingest like everything else (via="feed:NAME"). Feeds are hub configuration: the
    # operator and hub admins manage and pull them. Their secrets are stored encrypted (federation.secrets).

    def add_feed(
        self,
        actor: Viewer,
        name: str,
        url: str,
        *,
        collection: str | None = None,
        misp: bool = False,
        token: str | None = None,
        user: str | None = None,
        password: str | None = None,
        as_org: str | None = None,
        audience: str | None = None,
        interval: str | int = feedrules.DEFAULT_INTERVAL,
    ) -> dict[str, Any]:
        """Define a feed ('accord serve' pulls it at once, then every interval); returns its description."""
        feedrules.check_manage(actor)
        spec = feedrules.make_spec(name, url, collection=collection, misp=misp, token=token, user=user,
                                   password=password, audience=audience, interval=interval)  # fmt: skip
        with self.engine.begin() as conn:
            if feedstore.get(conn, spec.name) is not None:
                raise AlreadyExists(f"a feed named {spec.name!r} exists (see 'accord feed list')")
            org = orgs.get(conn, as_org) if as_org else None
            parsed = parse_audience(spec.audience) if spec.audience else None
            if parsed is not None and parsed.kind == ORG and org is None:
                raise InvalidInput("audience 'org' needs the organisation the feed acts as (--as ORG)")
            if parsed is not None and parsed.group is not None:
                group = groups.get(conn, parsed.group)
                if org is None or group["pk"] not in orgs.group_pks_of(conn, org["pk"]):
                    raise InvalidInput(f"audience {spec.audience!r} needs a feed acting as a member of that group "
                                       "(--as ORG)")  # fmt: skip
            feedstore.insert(
                conn, name=spec.name, kind=spec.kind, url=spec.url, collection_id=spec.collection_id, auth=spec.auth,
                username=spec.username, secret=feedsecrets.seal(spec.secret, self.settings.database_url),
                org_pk=org["pk"] if org else None,
                audience=spec.audience, interval_seconds=spec.interval_seconds, created_at=now(),
            )  # fmt: skip
            out = feedrules.describe(feedstore.get(conn, spec.name) or {})
            audit.record(conn, actor=actor.label, org_pk=actor.org_pk, action="feed.add", target=spec.name,
                         source=actor.source, detail={k: out[k] for k in ("kind", "url", "collection", "as",
                                                                           "audience", "interval")})  # fmt: skip
        return out

    def list_feeds(self, actor: Viewer) -> list[dict[str, Any]]:
        """Every feed with its configuration and health (never its secret)."""
        feedrules.check_manage(actor)
        with self.engine.connect() as conn:
            return [feedrules.describe(r) for r in feedstore.list_all(conn)]

    def get_feed(self, actor: Viewer, name: str) -> dict[str, Any]:
        feedrules.check_manage(actor)
        with self.engine.connect() as conn:
            row = feedstore.get(conn, name)
        if row is None:
            raise NotFound(f"no feed named {name!r} (see 'accord feed list')")
        return feedrules.describe(row)

    def remove_feed(self, actor: Viewer, name: str) -> dict[str, Any]:
        """Remove a feed (the objects it brought in stay, with their provenance)."""
        feedrules.check_manage(actor)
        with self.engine.begin() as conn:
            showing = feedstore.collections_showing(conn, name)
            if showing:
                raise InvalidInput(f"collection(s) {', '.join(showing)} show feed {name!r}; remove them first")
            if not feedstore.remove(conn, name):
                raise NotFound(f"no feed named {name!r} (see 'accord feed list')")
            audit.record(conn, actor=actor.label, org_pk=actor.org_pk, action="feed.remove", target=name,
                         source=actor.source)  # fmt: skip
        return {"name": name, "removed": True}

    def pull_feed(
        self, actor: Viewer, name: str, progress: Callable[[Any], None] | None = None, *, full: bool = False
    ) -> dict[str, Any]:
        """Pull one feed now (whatever its schedule; ``full``: from the start); the report says what came in.

        ``progress`` is called with the running ``accord.federation.pull.PullReport`` after each page or event.
        """
        feedrules.check_manage(actor)
        report = federation.pull(self, name, progress=progress, full=full).as_dict()
        with self.engine.begin() as conn:
            keep = ("received", "known", "added", "new_version", "rejected", "error", "full")
            audit.record(conn, actor=actor.label, org_pk=actor.org_pk, action="feed.pull", target=name,
                         source=actor.source, detail={k: report[k] for k in keep})  # fmt: skip
        return report

    def pull_feeds(
        self, actor: Viewer, progress: Callable[[Any], None] | None = None, *, full: bool = False
    ) -> list[dict[str, Any]]:
        """Pull every enabled feed now, one after the other."""
        feedrules.check_manage(actor)
        with self.engine.connect() as conn:
            names = [r["name"] for r in feedstore.list_all(conn) if r["enabled"]]
        reports = []
        for n in names:
            try:
                reports.append(self.pull_feed(actor, n, progress, full=full))
            except (FeedBusy, NotFound) as exc:  # another process is pulling it, or it was removed meanwhile
                reports.append(federation.skipped(n, exc.message, full=full).as_dict())
        return reports

    def due_feeds(self) -> list[str]:
        """Names of the feeds whose next pull is due (for the scheduler)."""
        with self.engine.connect() as conn:
            return feedstore.due(conn, now())

    # -- collective action ----------------------------------------------------------------------
    # Disruption actions, sanctions, impact totals, timelines and UN norms (accord.actions,
    # accord.norms). Writes go through ingest; every read takes the viewer's visibility.

    def _action_effects(
        self, conn: Connection, publisher: Viewer, tap: effects.ActionTap, result: IngestResult, options: IngestOptions
    ) -> None:
        """Expire the indicators of infrastructure that a stored takedown or seizure put out of use."""
        report = effects.apply(conn, publisher, tap, result, options)
        if report.effects:
            audit.record(conn, actor=publisher.label, org_pk=publisher.org_pk, action="actions.effects",
                         target=options.source, source=publisher.source, detail=report.as_dict())  # fmt: skip

    def install_extensions(self) -> IngestResult:
        """Store Accord's extension definitions (and the identity that declares them) as public TLP:CLEAR."""
        items = [Item(i, o) for i, o in enumerate(stix_extensions.definitions())]
        opts = IngestOptions(audience=Audience("public"), via="system", default_tlp=tlpmod.CLEAR,
                             source="accord extension definitions")  # fmt: skip
        with self.engine.begin() as conn:
            return ingest_items(conn, SYSTEM, items, opts)

    def import_sanctions(
        self,
        actor: Viewer,
        data: bytes,
        *,
        list_date: str,
        source: str = "sdn.csv",
        audience: str | None = None,
        full_list: bool = True,
        via: str = "cli",
    ) -> dict[str, Any]:
        """Import OFAC's SDN cyber designations (``accord.actions.sanctions``) through ingest, as ``actor``."""
        entries, skipped = sanctions.parse_sdn(data)
        try:
            stamp = format_stix(datetime.strptime(list_date, "%Y-%m-%d").replace(tzinfo=UTC))
        except ValueError:
            raise InvalidInput(f"list date {list_date!r} is not a date like 2024-05-03") from None
        vis = visible(actor)
        with self.engine.connect() as conn:
            known: dict[str, list[str]] = {}
            for row in store.search(conn, vis, Filters(types=("threat-actor", "intrusion-set")), limit=10000):
                d = row["data"]
                for name in {d.get("name"), *(d.get("aliases") or ()), *(d.get("x_mitre_aliases") or ())}:
                    if isinstance(name, str):
                        known.setdefault(name.lower(), []).append(row["stix_id"])
            built = sanctions.build(entries, list_date=stamp, known_actors=known)
            ids = [o["id"] for o in built.objects]
            # Only what the importer may see is compared, and only its own earlier imports can be delisted:
            # another organisation's (or a hidden) import must neither shape this one nor be named by it.
            stored = {}
            for part in store.chunks(ids):
                for row in store.search(conn, vis, Filters(ids=tuple(part)), limit=len(part)):
                    stored[row["stix_id"]] = row["data"]
            before: list = []
            if full_list:
                listed = Filters(types=("identity",), label=sanctions.LABEL, owner_org_pk=actor.org_pk)
                before = [r["data"] for r in store.search(conn, vis, listed, limit=10000)]
        objs, delisted = sanctions.reconcile(built.objects, stored, stamp, before)
        if actor.user_pk is not None and not actor.has_role("analyst"):
            raise PermissionDenied(f"{actor.email} is a {actor.role}; importing sanctions needs the analyst role")
        self.install_extensions()
        opts = self.options(tlp="clear", audience=audience, via=via, source=f"sanctions import {source}")
        result = self.ingest(actor, [Item(i, o) for i, o in enumerate(objs)], opts)
        by_type: dict[str, int] = {}
        for o in objs:
            by_type[o["type"]] = by_type.get(o["type"], 0) + 1
        return {
            "list_date": list_date, "entries": len(entries), "skipped_other_programs": skipped, "objects": by_type,
            **result.as_dict(), "actors_linked": built.actors_linked, "actors_declared": built.actors_created,
            "unresolved_links": built.unresolved_links, "truncated_remarks": built.truncated, "delisted": delisted,
        }  # fmt: skip

    def impact(self, viewer: Viewer, *, by: str = "type", period: str = "year") -> dict[str, Any]:
        """Impact totals from the disruption actions the viewer can see (``accord.actions.impact``)."""
        with self.engine.connect() as conn:
            return impact.totals(conn, visible(viewer), by=by, period=period)

    def actor_timeline(self, viewer: Viewer, actor: str) -> dict[str, Any]:
        """The visible disruption actions against one actor, oldest first."""
        with self.engine.connect() as conn:
            return impact.timeline(conn, visible(viewer), actor)

    def norms_report(self, viewer: Viewer, *, state: str | None = None, norm: str | None = None) -> dict[str, Any]:
        """Incidents per UN norm and per attributed state, from what the viewer can see."""
        with self.engine.connect() as conn:
            return norm_assessments.report(conn, visible(viewer), state=state, norm=norm)

    def incident_attributions(self, viewer: Viewer, incident_id: str) -> dict[str, Any]:
        """One incident's attributions, responses and norm assessments, side by side (never merged)."""
        with self.engine.connect() as conn:
            return norm_assessments.incident(conn, visible(viewer), incident_id)

    # -- spyware --------------------------------------------------------------------------------
    # The commercial-spyware registry, helplines and device-check sightings (accord.spyware). Reads go
    # through export/lookup (the visibility rule); writes through ingest. A share stores only sightings.

    def spyware_seed(self, actor: Viewer, files: Any = None, **kw: Any) -> Any:
        """Store the registry and indicator files (the shipped ones without ``files``); hub admins only."""
        if not actor.is_hub_admin:
            raise PermissionDenied("only a hub admin may seed the spyware registry")
        report = spyware_seed.seed(self, actor, files, **kw)
        with self.engine.begin() as conn:
            audit.record(conn, actor=actor.label, org_pk=actor.org_pk, action="spyware.seed", source=actor.source,
                         detail={"files": [f.name for f in report.files], **report.registry})  # fmt: skip
        return report

    def spyware_registry(self, viewer: Viewer, *, with_indicators: bool = True) -> Any:
        """The spyware registry as this viewer may see it (``accord.spyware.registry.Registry``)."""
        return spyware_registry.load(self, viewer, with_indicators=with_indicators)

    def spyware_helplines(self, viewer: Viewer) -> list[dict[str, Any]]:
        """Helpline organisations a person may share a sighting with (any signed-in viewer may list them)."""
        if viewer.public:
            raise AuthenticationFailed("sign in to list the helplines")
        with self.engine.connect() as conn:
            rows = orgs.list_all(conn, kind=orgs.MEMBER)  # a partner hub is no helpline
        idents = self.lookup(viewer, [r["identity_id"] for r in rows])
        return spyware_helplines.select(rows, idents)

    def spyware_share(self, viewer: Viewer, body: dict[str, Any]) -> dict[str, Any]:
        """Store a device-check share: sightings only, TLP:RED to one helpline or anonymous to the community."""
        if viewer.public:
            raise AuthenticationFailed("sign in to share a sighting")
        anonymous = body.get("anonymous") is True if isinstance(body, dict) else False
        helpline = body.get("share_with") if isinstance(body, dict) else None
        if anonymous == (helpline is not None):
            raise InvalidInput("give either 'share_with' (a helpline organisation) or 'anonymous': true")
        objs = spyware_share.sightings(body, anonymous=anonymous)
        wanted = {o["sighting_of_ref"] for o in objs}
        seen = self.lookup(viewer, wanted)
        for ind in sorted(wanted):
            if ind not in seen:
                raise NotFound(f"no indicator {ind} that you can see")
        if anonymous:
            publisher = Viewer(operator=True, source="spyware-share")
            opts = self.options(tlp="amber", audience=COMMUNITY, via="spyware-share", source="device check")
            recipient = "the community (anonymous)"
        else:
            names = {h["name"] for h in self.spyware_helplines(viewer)}
            if not isinstance(helpline, str) or helpline not in names:
                raise NotFound(f"no helpline organisation named {helpline!r} on this hub "
                               f"(helplines: {', '.join(sorted(names)) or 'none'})")  # fmt: skip
            publisher = self.viewer_as(helpline, source="spyware-share")
            hidden = wanted - set(self.lookup(publisher, wanted))
            if hidden:
                raise PermissionDenied(f"{helpline} cannot see indicator {sorted(hidden)[0]}; choose another "
                                       "helpline or share anonymously")  # fmt: skip
            opts = self.options(tlp="red", audience=ORG, via="spyware-share", source="device check")
            recipient = helpline
        result = self.ingest(publisher, [Item(i, o) for i, o in enumerate(objs)], opts)
        if result.rejected:
            raise InvalidInput(f"the sightings could not be stored: {result.errors[0].reason}")
        with self.engine.begin() as conn:
            audit.record(conn, actor="anonymous" if anonymous else viewer.label,
                         org_pk=None if anonymous else viewer.org_pk, action="spyware.share", target=recipient,
                         source="anonymous" if anonymous else viewer.source,
                         detail={"sightings": len(objs)})  # fmt: skip
        return {"recipient": recipient, "tlp": opts.tlp, "audience": str(opts.audience),
                "sightings": [o["id"] for o in objs], "stored": result.added}  # fmt: skip
