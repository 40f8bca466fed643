"""The SQLite substring index, filled after commit rather than on the ingest path.

On SQLite, ``search_text`` is indexed by an FTS5 trigram table (``object_text``, made by migration
0001). Feeding it costs about as much as storing the object itself, so ingest commits objects
without it and ``catch_up`` indexes the rows committed since, in ``pk`` order, a bounded slice at a
time: ``accord serve`` runs it in a background thread (``TextIndexer``), ``accord ingest`` runs it
after committing, and ``Hub.index_text`` runs it on demand.

Searching is exact whatever the index's progress: a text filter takes the index's hits up to the
last indexed ``pk`` (the *watermark*, the largest rowid FTS5 holds) and scans ``search_text`` of the
rows above it (``text_clause``). The watermark lives in the index itself, so it commits atomically
with the rows it covers. Rows reach the index only after their own transaction committed, so the
index never holds a row that was rolled back. PostgreSQL keeps its pg_trgm index in step by itself.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import ColumnElement, Connection, Engine, column, literal_column, select, table, text, union_all

from accord.background import BackgroundLoop
from accord.store.schema import stix_object

#: Rows indexed per transaction: short enough that ingest waits little for the write lock.
SLICE = 5000

_FTS = table("object_text", column("rowid"), column("search_text"))
#: The largest pk the index holds (FTS5 keeps one docsize row per indexed document).
_WATERMARK = "(SELECT coalesce(max(id), 0) FROM object_text_docsize)"


def watermark(conn: Connection) -> int:
    return int(conn.execute(text(_WATERMARK[1:-1])).scalar_one())


def backlog(conn: Connection) -> int:
    """How many committed rows with text the index does not hold yet (SQLite; 0 elsewhere)."""
    if conn.dialect.name != "sqlite":
        return 0
    q = text(
        f"SELECT count(*) FROM stix_object WHERE pk > {_WATERMARK} "
        "AND search_text IS NOT NULL AND search_text != ''"
    )
    return int(conn.execute(q).scalar_one())


def catch_up(conn: Connection, limit: int = SLICE) -> int:
    """Index up to ``limit`` committed rows above the watermark; returns how many were indexed.

    Takes the hub's write lock first, so two indexers (threads or processes) never index one row
    twice. The caller commits.
    """
    if conn.dialect.name != "sqlite":
        return 0
    from accord.store.objects import lock_clock  # (objects imports this module for its text filter)

    lock_clock(conn)
    # One statement: SQLite copies the slice without the rows passing through Python (and without
    # holding the GIL, which the requests served meanwhile need).
    done = conn.execute(
        text(
            "INSERT INTO object_text(rowid, search_text) SELECT pk, search_text FROM stix_object "
            "WHERE pk > :mark AND search_text IS NOT NULL AND search_text != '' ORDER BY pk LIMIT :limit"
        ),
        {"mark": watermark(conn), "limit": limit},
    )
    return int(done.rowcount)


def catch_up_all(engine: Engine, progress: Callable[[int], None] | None = None) -> int:
    """Index every committed row the index lacks, one slice per transaction."""
    if engine.dialect.name != "sqlite":
        return 0
    total = 0
    while True:
        with engine.begin() as conn:
            done = catch_up(conn)
        total += done
        if progress and done:
            progress(done)
        if done < SLICE:
            return total


def text_clause(needle: str, escaped: str) -> ColumnElement[bool]:
    """``search_text`` contains ``needle`` (SQLite): index hits, plus a scan of the rows not indexed yet.

    ``needle`` must be plain (no LIKE wildcards) and at least three characters, as trigrams need.
    """
    indexed = select(_FTS.c.rowid).where(_FTS.c.search_text.like(f"%{needle}%"))
    fresh = select(stix_object.c.pk).where(
        stix_object.c.pk > literal_column(_WATERMARK),
        stix_object.c.search_text.like(f"%{escaped}%", escape="\\"),
    )
    return stix_object.c.pk.in_(union_all(indexed, fresh))


#: The indexer lets a burst of writes finish first, unless this many rows wait for it.
MAX_BACKLOG = 200_000
#: The indexer's thread runs at the lowest CPU priority, so that catching up after a bulk load does not
#: slow the requests served meanwhile (searches stay exact while it lags: see ``text_clause``), in
#: slices small enough that, starved of CPU by a busy server, it still holds the write lock briefly.
NICE = 19
BACKGROUND_SLICE = 1000


class TextIndexer:
    """Keeps the text index caught up from a daemon thread (``accord serve``) until ``stop()``.

    ``quiet()``, when given, says whether this process has stopped writing for a moment: the indexer
    waits for that (unless ``MAX_BACKLOG`` rows are waiting), so a burst of ingest does not queue
    behind it for the write lock."""

    def __init__(self, engine: Engine, tick: float = 1.0, quiet: Callable[[], bool] | None = None) -> None:
        self.engine = engine
        self.quiet = quiet
        self._loop = BackgroundLoop("accord-text-index", tick, self.round, nice=NICE)

    def start(self) -> None:
        if self.engine.dialect.name == "sqlite":  # PostgreSQL keeps its own index in step
            self._loop.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._loop.stop(timeout)

    def round(self) -> bool:
        """Index one slice if writes have paused; True when more is waiting."""
        if self.quiet is not None and not self.quiet():
            with self.engine.connect() as conn:
                if backlog(conn) < MAX_BACKLOG:
                    return False
        with self.engine.begin() as conn:
            return catch_up(conn, BACKGROUND_SLICE) >= BACKGROUND_SLICE
