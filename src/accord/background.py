"""A daemon thread that runs one round of work every few seconds until stopped (``accord serve``'s
feed scheduler and text indexer).

A round that fails is logged and tried again a tick later: the thread outlives any one failure. A loop
may run at a lower CPU priority than the requests its process serves (``nice``, on Linux, where each
thread has its own): the work still gets done, in the time requests leave.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable

log = logging.getLogger("accord")


class BackgroundLoop:
    """Runs ``work()`` in a daemon thread named ``name`` from ``start()`` until ``stop()``. ``work`` returns
    True when more is waiting (the next round starts at once), otherwise the thread waits ``tick`` seconds.
    ``nice`` (0 to 19) lowers the thread's CPU priority where the system allows it per thread (Linux)."""

    def __init__(self, name: str, tick: float, work: Callable[[], bool], nice: int = 0) -> None:
        self.name = name
        self.tick = tick
        self.work = work
        self.nice = nice
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None

    def _lower_priority(self) -> None:
        if self.nice > 0 and sys.platform.startswith("linux"):
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.nice)
            except OSError:
                log.warning("%s: could not lower this thread's priority; it runs at the process's", self.name)

    def _loop(self) -> None:
        self._lower_priority()
        while not self._stop.is_set():
            try:
                again = self.work()
            except Exception:  # noqa: BLE001 - the thread must outlive any one failure
                log.exception("%s: a round failed; trying again in %.1f s", self.name, self.tick)
                again = False
            if not again:
                self._stop.wait(self.tick)
