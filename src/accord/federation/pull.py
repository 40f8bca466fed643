"""One pull of one feed: take the lease, read the source from the checkpoint, store through ingest,
move the checkpoint, record health, release the lease.

- **The one ingest path.** Each page (TAXII) or event (MISP) is one ``Hub.ingest`` call, published as
  the feed's acting organisation with ``via="feed:NAME"`` and the feed URL as ``source``. The acting
  organisation brings the objects in but does not become their creator: objects keep
  ``created_by_ref`` and markings as the source sent them.
- **Audience capped by TLP.** The feed's audience is asked for as a producer hint, so an object whose
  TLP does not allow it gets the widest audience its TLP allows instead of being refused (RED and
  AMBER+STRICT stay with the acting organisation). ``org`` and ``group:NAME`` are asked for outright.
  A MISP event's own distribution still applies: the narrower of the two wins.
- **Checkpoints after storage.** The checkpoint moves only after ingest has committed the page, so a
  crash in between replays the page, whose versions are then already held: no gap, no duplicate.
- **Loop prevention.** A version this hub already stores (same id and ``modified``), whoever brought
  it in, is not ingested again through a feed: no second grant, no echo of a hub's own objects coming
  back from a partner, and each hub of a chain or ring holds each version exactly once. Serving side,
  a ``federation`` collection never returns to an organisation what that organisation brought in
  through a feed (``accord.store.taxii_reads``).
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from accord.access import orgs
from accord.access.audience import (
    GROUP,
    KINDS,
    ORG,
    REACH,
    allowed,
    default_audience,
    parse_audience,
    within_tlp,
)
from accord.access.viewer import Viewer
from accord.errors import AccordError, FeedBusy, FeedFailed, NotFound
from accord.federation import feeds as rules
from accord.federation import misp, secrets, taxii
from accord.stix import timestamps
from accord.stix.reader import Item, element_item, read_bytes
from accord.stix.timestamps import format_micro, now, version_key
from accord.store import feeds as store
from accord.store import objects
from accord.store.statuses import this_worker

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from accord.hub import Hub

log = logging.getLogger("accord.federation")
LEASE = timedelta(minutes=15)
#: How many reasons for rejected objects a report keeps.
KEEP_ERRORS = 20
#: Feeds being pulled by this process (the database lease names the process, not the thread).
_ACTIVE: set[str] = set()
_ACTIVE_LOCK = threading.Lock()


@dataclass
class PullReport:
    """What one pull did (also what ``accord feed pull --json`` prints)."""

    feed: str
    kind: str
    started: datetime
    pages: int = 0
    received: int = 0
    #: Versions this hub already held (not ingested again): replays after a crash, echoes, other paths.
    known: int = 0
    added: int = 0
    new_version: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)
    checkpoint: str | None = None
    error: str | None = None
    next_attempt: datetime | None = None
    #: A full re-read (from the start, ignoring checkpoints; what is held is skipped).
    full: bool = False
    #: Why the feed was not pulled at all (another process was pulling it, or it was removed meanwhile).
    skipped: str | None = None

    @property
    def stored(self) -> int:
        return self.added + self.new_version

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "stored": self.stored}


def publisher_for(feed: dict[str, Any]) -> Viewer:
    """The acting organisation, without its identity: it brings objects in, it does not author them."""
    source = f"feed {feed['name']}"
    if feed["org_pk"] is None:
        return Viewer(operator=True, source=source)
    return Viewer(org_pk=feed["org_pk"], org_name=feed["org_name"], operator=True, source=source)


def _narrowest(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return a if REACH[a] <= REACH[b] else b


class _Run:
    """State of one pull."""

    def __init__(
        self,
        hub: Hub,
        feed: dict[str, Any],
        worker: str,
        progress: Callable[[PullReport], None] | None = None,
        full: bool = False,
    ) -> None:
        self.hub, self.feed, self.worker, self.progress, self.full = hub, feed, worker, progress, full
        self.publisher = publisher_for(feed)
        audience = parse_audience(feed["audience"]) if feed["audience"] else None
        # org and group are asked for outright (any TLP allows them); wider ones as a hint ingest caps by TLP.
        self.explicit = audience if audience is not None and audience.kind in (ORG, GROUP) else None
        self.hint = audience.kind if audience is not None and self.explicit is None else None
        self.options = hub.options(audience=self.explicit, via=f"feed:{feed['name']}", source=feed["url"][:300])
        self.report = PullReport(feed=feed["name"], kind=feed["kind"], started=now(), checkpoint=feed["checkpoint"],
                                 full=full)  # fmt: skip
        self.secret: str | None = None

    def open_secret(self) -> None:
        """Decrypt the feed's secret (ConfigError naming the feed if it cannot be); one stored in clear by an
        older version is encrypted now (best effort: the pull goes on with it either way)."""
        f, url = self.feed, self.hub.settings.database_url
        self.secret = secrets.unseal(f["secret"], f["name"], url)
        if self.secret and not secrets.is_sealed(f["secret"]):
            try:
                sealed = secrets.seal(self.secret, url)
                with self.hub.engine.begin() as conn:
                    store.set_secret(conn, f["pk"], sealed)
            except AccordError as exc:
                log.warning("feed %s: its secret is stored in clear and could not be encrypted: %s", f["name"],
                            exc.message)  # fmt: skip

    def store(self, items: list[Item]) -> None:
        """Ingest what this hub does not hold yet (loop prevention), as the feed's organisation."""
        self.report.received += sum(1 for it in items if it.obj is not None)
        pairs: dict[int, tuple[str, str]] = {}
        for it in items:
            obj = it.obj
            if isinstance(obj, dict) and isinstance(obj.get("id"), str):
                stamp = obj.get("modified") or obj.get("created")
                try:
                    pairs[it.index] = (obj["id"], version_key(stamp) if isinstance(stamp, str) else "")
                except ValueError:
                    pass  # ingest reports the bad timestamp
        with self.hub.engine.connect() as conn:
            held = store.held(conn, list(set(pairs.values())))
            widen = self.widening(conn, items, pairs, held) if held else set()
        fresh = []
        for it in items:
            if pairs.get(it.index) in held and it.index not in widen:
                self.report.known += 1
                continue
            if self.explicit is None:
                hint = _narrowest(self.hint, it.audience if it.audience in KINDS else None)
                it.audience = hint
            fresh.append(it)
        if fresh:
            self.ingest(fresh)
        if self.progress is not None:
            self.progress(self.report)

    def widening(
        self, conn: Connection, items: list[Item], pairs: dict[int, tuple[str, str]],
        held: dict[tuple[str, str], store.HeldVersion],
    ) -> set[int]:  # fmt: skip
        """Indexes of held versions the feed's grant would open to more readers than all the grants
        they have (say a member's private copy of what a partner shares with the federation): those go
        to ingest, which adds the feed's grant. Only for exactly the content stored (knowing an id and a
        timestamp must never open a version), and never for a member organisation's own objects (only
        it decides who they reach here)."""
        members = orgs.member_identity_ids(conn)
        wanted: dict[int, tuple[store.HeldVersion, int]] = {}
        for it in items:
            version = held.get(pairs[it.index]) if it.index in pairs else None
            if version is None or version.created_by_ref in members:
                continue
            kind = self.audience_kind(it, version.tlp)
            if kind is not None:
                wanted[it.index] = (version, REACH[kind])
        if not wanted:
            return set()
        grants = objects.grants_of(conn, {v.pk for v, _ in wanted.values()})
        wider = {i: v for i, (v, reach) in wanted.items()
                 if reach > max((REACH.get(kind, 0) for _, kind, _ in grants.get(v.pk, ())), default=-1)}  # fmt: skip
        if not wider:
            return set()
        stored = objects.tlps_and_data(conn, {v.pk for v in wider.values()})
        by_index = {it.index: it.obj for it in items}
        return {i for i, v in wider.items() if v.pk in stored and stored[v.pk][1] == by_index[i]}

    def audience_kind(self, it: Item, level: str) -> str | None:
        """The audience kind this feed gives an object of TLP ``level`` (as ingest will cap it)."""
        if self.explicit is not None:
            return self.explicit.kind if allowed(level, self.explicit) else None
        kind = _narrowest(self.hint, it.audience if it.audience in KINDS else None) or default_audience(level).kind
        return within_tlp(kind, level)

    def ingest(self, fresh: list[Item]) -> None:
        result = self.hub.ingest(self.publisher, fresh, self.options)
        self.report.added += result.added
        self.report.new_version += result.new_version
        self.report.unchanged += result.unchanged
        self.report.rejected += result.rejected
        for o in result.errors:
            if len(self.report.errors) < KEEP_ERRORS:
                self.report.errors.append(f"{o.id or 'element ' + str(o.index)}: {o.reason}")

    # -- TAXII ----------------------------------------------------------------------------------

    def taxii(self) -> None:
        f = self.feed
        with taxii.client_for(f["auth"], f["username"], self.secret) as client:
            coll_url = taxii.resolve_collection(client, f["url"], f["collection_id"])
            checkpoint = f["checkpoint"]
            for page in _prefetched(taxii.pages(client, coll_url, None if self.full else checkpoint)):
                self.report.pages += 1
                items = [element_item(i, o, f"element {i}") for i, o in enumerate(page.objects)]
                before = self.report.stored
                self.store(items)
                # Only now, with the page stored, does the checkpoint move past it (to just before its
                # last date_added while more pages follow: they may hold more objects of that date).
                point = page.resume_point()
                with self.hub.engine.begin() as conn:
                    if page.objects and point and _later(point, checkpoint):
                        store.save_checkpoint(conn, f["pk"], point, self.report.stored - before)
                        self.report.checkpoint = checkpoint = point
                    else:
                        store.add_pulled(conn, f["pk"], self.report.stored - before)
                    store.renew(conn, f["pk"], self.worker, now() + LEASE)

    # -- MISP -----------------------------------------------------------------------------------

    def misp(self) -> None:
        f = self.feed
        failed: list[str] = []
        with misp.client_for(f["auth"], f["username"], self.secret) as client:
            refs = misp.manifest(client, f["url"])
            with self.hub.engine.connect() as conn:
                stored = store.stored_events(conn, f["pk"])
            for ref in refs:
                last = stored.get(ref.uuid)
                if not self.full and ref.timestamp is not None and last is not None and ref.timestamp <= last.timestamp:
                    continue
                try:
                    data = misp.event(client, f["url"], ref.uuid)
                except FeedFailed as exc:
                    failed.append(f"{ref.uuid}: {exc.message}")
                    continue
                # The very file stored last time: nothing to do (an event without any timestamp would
                # otherwise be stamped with the time of ingest, a new version at every pull).
                digest = hashlib.sha256(data).hexdigest()
                if last is not None and last.digest == digest:
                    continue
                stamp = ref.timestamp if ref.timestamp is not None else misp.event_timestamp(data)
                if not self.full and ref.timestamp is None and stamp is not None and last is not None \
                        and last.timestamp == stamp:  # fmt: skip
                    continue
                self.report.pages += 1
                before = self.report.stored
                try:
                    items = list(read_bytes(data, self.hub.settings.max_bundle_bytes))
                except AccordError as exc:
                    failed.append(f"{ref.uuid}: {exc.message}")
                    continue
                self.store(items)
                with self.hub.engine.begin() as conn:
                    store.save_event(conn, f["pk"], ref.uuid, stamp if stamp is not None else 0, now(), digest)
                    store.add_pulled(conn, f["pk"], self.report.stored - before)
                    store.renew(conn, f["pk"], self.worker, now() + LEASE)
        if failed:
            shown = "; ".join(failed[:5]) + (f"; and {len(failed) - 5} more" if len(failed) > 5 else "")
            fault = EventsFailed if len(failed) < len(refs) else FeedFailed
            raise fault(f"{len(failed)} of {len(refs)} events could not be stored (the others were): {shown}")


class EventsFailed(FeedFailed):
    """Some events of a MISP feed could not be stored, others could: the feed works (it is pulled again at
    its interval, not backed off, and counts as a success), and its last error says which failed."""


def _prefetched(pages: Iterator[taxii.TaxiiPage], depth: int = 2) -> Iterator[taxii.TaxiiPage]:
    """Fetch the next pages in a thread while the current one is being stored."""
    q: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        q.put(page, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(done)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            q.put(exc)

    thread = threading.Thread(target=produce, name="accord-feed-fetch", daemon=True)
    thread.start()
    try:
        while True:
            got = q.get()
            if got is done:
                return
            if isinstance(got, BaseException):
                raise got
            yield got
    finally:
        stop.set()
        while thread.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(timeout=0.2)


def _later(stamp: str, than: str | None) -> bool:
    """A full re-read never moves a checkpoint back."""
    if than is None:
        return True
    try:
        return timestamps.parse(stamp) > timestamps.parse(than)
    except ValueError:
        return True


def pull(
    hub: Hub,
    name: str,
    *,
    scheduled: bool = False,
    progress: Callable[[PullReport], None] | None = None,
    full: bool = False,
) -> PullReport:
    """Pull one feed now. FeedBusy if another process holds its lease; NotFound if there is no such feed.

    ``full`` re-reads the whole source, ignoring the checkpoint (what this hub holds is skipped, so it
    costs reading, not storing): it brings what a checkpoint cannot see, such as an object the source
    shared with the federation after the partner's checkpoint had passed the object's ``date_added``.

    Errors of the source or of ingest do not raise: they are recorded in the feed's health (with the
    back-off's next attempt) and in the report's ``error``.
    """
    with _ACTIVE_LOCK:
        if name in _ACTIVE:
            raise FeedBusy(f"feed {name!r} is being pulled by this process; try again when it is done")
        _ACTIVE.add(name)
    try:
        return _pull(hub, name, scheduled, progress, full)
    finally:
        with _ACTIVE_LOCK:
            _ACTIVE.discard(name)


def skipped(name: str, reason: str, *, full: bool = False) -> PullReport:
    """The report of a feed not pulled at all (another process was pulling it, or it was removed
    meanwhile): not an error of the feed, whose own pull records its health."""
    return PullReport(feed=name, kind="", started=now(), full=full, skipped=reason)


def _pull(
    hub: Hub, name: str, scheduled: bool, progress: Callable[[PullReport], None] | None, full: bool = False
) -> PullReport:
    worker = this_worker()
    with hub.engine.begin() as conn:
        feed = store.get(conn, name)
        if feed is None:
            raise NotFound(f"no feed named {name!r} (see 'accord feed list')")
        if not store.acquire(conn, name, worker, now(), LEASE):
            holder = store.lease_holder(conn, name)
            raise FeedBusy(f"feed {name!r} is being pulled by {holder}; try again when it is done")
    run = _Run(hub, feed, worker, progress, full)
    error: str | None = None
    partial = False
    try:
        run.open_secret()
        if feed["kind"] == rules.MISP:
            run.misp()
        else:
            run.taxii()
    except AccordError as exc:
        error = exc.message
        partial = isinstance(exc, EventsFailed)
    except Exception as exc:  # noqa: BLE001 - a pull must always record how it ended and free its lease
        log.exception("pulling feed %s failed", name)
        error = f"internal error: {exc.__class__.__name__}: {exc}"
    at = now()
    failures = 0 if error is None or partial else feed["failures"] + 1
    nxt = at + (timedelta(seconds=feed["interval_seconds"]) if failures == 0 else rules.backoff(failures))
    run.report.error, run.report.next_attempt = error, nxt
    with hub.engine.begin() as conn:
        store.finish(conn, feed["pk"], worker, at=at, next_attempt=nxt, objects=run.report.stored, error=error,
                     failures=failures, succeeded=error is None or partial)  # fmt: skip
    if error is not None:
        # A pull asked for (CLI, REST, web) reports its error to the asker; the background one only logs it.
        log.log(logging.WARNING if scheduled else logging.DEBUG, "feed %s: %s (next attempt %s)", name, error,
                format_micro(nxt))  # fmt: skip
    elif scheduled and run.report.stored:
        log.info("feed %s: %d objects stored", name, run.report.stored)
    return run.report
