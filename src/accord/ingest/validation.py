"""One verdict per object (upgraded to 2.1 where needed, valid or why not), computed in a worker
process for big batches so validation overlaps with storing.

The worker only judges: it receives serialised objects and returns reasons (and upgraded objects),
so what is stored is decided in one place, the pipeline.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

import orjson

from accord.errors import InvalidStix
from accord.stix.upgrade import needs_upgrade, upgrade_object
from accord.stix.validate import check_object

Verdict = tuple[dict[str, Any], str | None]
#: U+0000 as orjson writes it: ``\u0000`` after an even number of backslashes (not an escaped backslash
#: followed by the text "u0000").
_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def basic_shape(obj: dict[str, Any]) -> str | None:
    """What every STIX object needs before anything else can be said about it."""
    typ, sid = obj.get("type"), obj.get("id")
    if not isinstance(typ, str) or not typ:
        return "the object has no 'type'"
    if typ == "bundle":
        return "a bundle inside a bundle is not allowed"
    if not isinstance(sid, str) or not sid.startswith(typ + "--"):
        return f"the {typ} object has no valid 'id' (expected '{typ}--<uuid>')"
    return None


def storable(obj: dict[str, Any]) -> str | None:
    """Why the object cannot be stored as it is on every database, or None: PostgreSQL keeps no NUL
    character (U+0000) in text or JSON, so the hub refuses it on every back end alike."""
    data = orjson.dumps(obj)
    if b"\\u0000" in data and _NUL.search(data):
        return "a string or key in the object holds the NUL character (U+0000), which the hub cannot store"
    return None


def verdict(obj: dict[str, Any]) -> Verdict:
    """The object (upgraded from STIX 2.0 if it was) and the reason it is invalid, or None."""
    try:
        if needs_upgrade(obj):
            obj = upgrade_object(obj)
    except InvalidStix as exc:
        return obj, exc.message
    return obj, basic_shape(obj) or storable(obj) or check_object(obj, strict=True)


def _verdicts(blobs: list[bytes]) -> list[tuple[bytes | None, str | None]]:
    out: list[tuple[bytes | None, str | None]] = []
    for blob in blobs:
        obj = orjson.loads(blob)
        new, reason = verdict(obj)
        out.append((orjson.dumps(new) if new is not obj else None, reason))
    return out


def default_workers() -> int:
    """ACCORD_INGEST_WORKERS (default 0: validate inline)."""
    raw = os.environ.get("ACCORD_INGEST_WORKERS", "0").strip()
    return int(raw) if raw.isdigit() else 0


class Validator:
    """Judges chunks of objects, inline or in a worker process started on first use."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def submit(
        self, objs: Sequence[dict[str, Any] | None], *, inline: bool = False
    ) -> Future[list[Verdict | None]] | list[Verdict | None]:
        """Start judging; pass the handle to ``collect``. Non-objects get no verdict (None)."""
        if self.workers <= 0 or inline:
            return [verdict(o) if isinstance(o, dict) else None for o in objs]
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        blobs = [orjson.dumps(o) for o in objs if isinstance(o, dict)]
        future = self._pool.submit(_verdicts, blobs)
        result: Future[list[Verdict | None]] = Future()

        def _done(f: Future[list[tuple[bytes | None, str | None]]]) -> None:
            try:
                raw = iter(f.result())
            except BaseException as exc:  # noqa: BLE001 - handed to whoever collects
                result.set_exception(exc)
                return
            out: list[Verdict | None] = []
            for o in objs:
                if not isinstance(o, dict):
                    out.append(None)
                    continue
                new, reason = next(raw)
                out.append((orjson.loads(new) if new is not None else o, reason))
            result.set_result(out)

        future.add_done_callback(_done)
        return result

    @staticmethod
    def collect(handle: Future[list[Verdict | None]] | list[Verdict | None]) -> list[Verdict | None]:
        return handle if isinstance(handle, list) else handle.result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
