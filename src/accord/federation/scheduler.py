"""The background puller ``accord serve`` runs: a thread that pulls each feed when it is due.

Every ``ACCORD_FEED_TICK`` seconds (default 5) it asks the database which enabled feeds are due (their
``next_attempt_at`` has passed: the interval after a success, the back-off after a failure) and pulls
them one after the other. Several server processes (``--workers``) may each run one: a feed's lease
in the database lets only one of them pull it at a time. ``ACCORD_FEEDS=off`` turns it off (for
example where a separate process or a cron job runs ``accord feed pull --all``).

A server process's first scheduled pull of each feed, and then one every ``ACCORD_FEED_RESYNC`` hours
(default 24; ``0``: never), is a full re-read instead (``accord.federation.pull.pull(full=True)``): it
brings what ``added_after`` cannot, such as an object the source shared with the federation after this
hub's checkpoint had passed it. The time of the last full re-read is kept per server process (so a
server restarted more often than the interval still re-reads at each start).
"""

from __future__ import annotations

import logging
import os
import time
from typing import TYPE_CHECKING

from accord.background import BackgroundLoop
from accord.errors import AccordError, FeedBusy

if TYPE_CHECKING:
    from accord.hub import Hub

log = logging.getLogger("accord.federation")


def enabled() -> bool:
    return os.environ.get("ACCORD_FEEDS", "on").strip().lower() not in ("off", "0", "no", "false")


def tick_seconds() -> float:
    raw = os.environ.get("ACCORD_FEED_TICK", "5")
    try:
        value = float(raw)
    except ValueError:
        raise AccordError(f"ACCORD_FEED_TICK={raw!r} is not a number of seconds") from None
    if not 0.1 <= value <= 3600:
        raise AccordError(f"ACCORD_FEED_TICK={raw!r} must be between 0.1 and 3600 seconds")
    return value


def resync_seconds() -> float:
    """``ACCORD_FEED_RESYNC`` hours as seconds (0: no full re-reads)."""
    raw = os.environ.get("ACCORD_FEED_RESYNC", "24")
    try:
        hours = float(raw)
    except ValueError:
        raise AccordError(f"ACCORD_FEED_RESYNC={raw!r} is not a number of hours") from None
    if hours < 0 or hours > 24 * 365:
        raise AccordError(f"ACCORD_FEED_RESYNC={raw!r} must be between 0 (never) and 8760 hours")
    return hours * 3600


class FeedScheduler:
    """Pulls due feeds in a daemon thread until ``stop()``."""

    def __init__(self, hub: Hub, tick: float | None = None) -> None:
        self.hub = hub
        self.tick = tick if tick is not None else tick_seconds()
        self.resync = resync_seconds()
        self._last_full: dict[str, float] = {}
        self._loop = BackgroundLoop("accord-feeds", self.tick, self._round)

    def start(self) -> None:
        self._loop.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._loop.stop(timeout)

    def _round(self) -> bool:
        self.run_once()
        return False  # the next round a tick later: feeds are due by the clock

    def run_once(self) -> int:
        """Pull every feed that is due now; returns how many pulls ran."""
        from accord.federation.pull import pull

        ran = 0
        for name in self.hub.due_feeds():
            if self._loop.stopping:
                break
            at = time.monotonic()
            last = self._last_full.get(name)
            full = self.resync > 0 and (last is None or at - last >= self.resync)
            try:
                report = pull(self.hub, name, scheduled=True, full=full)
                ran += 1
                if full and report.error is None:
                    self._last_full[name] = at
            except FeedBusy:
                continue  # another process is pulling it
            except AccordError as exc:  # removed meanwhile, database trouble: try again next tick
                log.warning("feed %s: %s", name, exc.message)
        return ran
