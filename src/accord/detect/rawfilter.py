"""Find the lines of a raw JSON-lines buffer that can match any observation, without parsing the rest.

All observations' needles (see ``accord.detect.needles``) go into one Hyperscan literal database; one
pass over a multi-megabyte buffer reports where each needle occurs, and only those lines are parsed.
Lines holding a JSON escape that could hide a needle (``\\u``, ``\\/``), and lines that do not look
like one JSON object (so that broken lines are parsed, and counted), are candidates for *every*
observation, and lines holding one of the three characters that NFC turns into ASCII are candidates
for the LIKE / MATCHES observations.

Compiling a database of 100,000 literals takes Hyperscan seconds, so compiled databases are cached on
disk under ``ACCORD_CACHE_DIR`` (default ``~/.cache/accord``), keyed by a hash of the needles: a
second sweep with the same indicators loads it in milliseconds.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import unicodedata
import zlib
from collections.abc import Iterator
from pathlib import Path

import hyperscan

from accord.detect.needles import Needles

__all__ = ["RawFilter", "cache_dir", "wait_for_merges"]

# Non-ASCII characters whose NFC form contains ASCII (U+037E → ';', U+1FEF → '`', U+212A → 'K').
_NFC_TO_ASCII = tuple(
    chr(c).encode() for c in (0x37E, 0x1FEF, 0x212A) if any(ord(x) < 128 for x in unicodedata.normalize("NFC", chr(c)))
)

ALL = -1  # a line that is a candidate for every observation
#: A first compile of many literals builds this many small databases at once (compile time grows faster
#: than the number of literals), then one merged database in the background for the sweeps after it
#: (each database is a pass over the data, so one scans fastest). Fewer literals: one database at once.
SHARDS = 8
MERGE_MIN = 20_000

# A JSON escape that can spell a needle differently: backslash-u or backslash-slash preceded by an even
# number of backslashes (so not the tail of an escaped backslash, as in "C:\\\\Users\\\\u001").
_ESCAPE_REGEX = rb"(?:[^\\]|^)(?:\\\\)*\\[u/]"
# Lines that do not look like one JSON object ({…}) are parsed too, so broken lines are counted.
_NOT_AN_OBJECT_START = rb"(?:^|\n)[^{\n]"
_NOT_AN_OBJECT_END = rb"[^}\r\n]\r?\n"


def _compile(expressions: list[bytes], ids: list[int]) -> hyperscan.Database:
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    n = len(expressions)
    db.compile(expressions=expressions, ids=ids, elements=n, flags=[0] * n, literal=True)
    return db


def _write(db: hyperscan.Database, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(hyperscan.dumpb(db))
        os.replace(tmp, path)
    except OSError:
        pass  # caching is an optimisation; an unwritable cache only costs time


def _compile_to(expressions: list[bytes], ids: list[int], path: Path) -> None:
    """In a child process: compile and leave the database in the cache."""
    _write(_compile(expressions, ids), path)


def _load(path: Path) -> hyperscan.Database | None:
    if not path.exists():
        return None
    try:
        db = hyperscan.loadb(path.read_bytes(), hyperscan.HS_MODE_BLOCK)
        db.scratch = hyperscan.Scratch(db)  # a loaded database comes without one
        return db
    except (hyperscan.error, OSError, ValueError):
        return None  # a stale or truncated cache entry: compile afresh


def cache_dir() -> Path:
    base = os.environ.get("ACCORD_CACHE_DIR")
    return Path(base) if base else Path.home() / ".cache" / "accord"


def _cache_path(expressions: list[bytes], ids: list[int]) -> Path:
    digest = hashlib.sha256()
    digest.update(hyperscan.__version__.encode() + b"\0")
    for lit, ident in zip(expressions, ids, strict=True):
        digest.update(len(lit).to_bytes(4, "big") + ident.to_bytes(8, "big") + lit)
    return cache_dir() / "hyperscan" / f"{digest.hexdigest()}.hsdb"


#: Background merges started by this process (``wait_for_merges``).
_MERGES: list[subprocess.Popen[bytes]] = []
_MERGE_STALE = 600.0  # seconds after which another process's unfinished merge is taken over


def _merge_in_background(literals: list[bytes], path: Path) -> None:
    """Compile all literals into one database at ``path`` in a detached process (best effort)."""
    lock = path.with_suffix(".building")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if lock.exists() and time.time() - lock.stat().st_mtime < _MERGE_STALE:
            return  # another process is building it
        fd, listing = tempfile.mkstemp(dir=path.parent, suffix=".literals")
        with os.fdopen(fd, "wb") as fh:
            for lit in literals:
                fh.write(len(lit).to_bytes(4, "big") + lit)
        lock.write_bytes(b"")
        code = "import sys; from accord.detect.rawfilter import _merge_main; _merge_main(*sys.argv[1:])"
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-c", code, listing, str(path)], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        _MERGES.append(proc)
    except OSError:
        pass  # caching is an optimisation


def _merge_main(listing: str, out: str) -> None:
    """Entry point of the background merge: read the literals, compile, leave the database in the cache."""
    target = Path(out)
    try:
        data = Path(listing).read_bytes()
        literals, at = [], 0
        while at < len(data):
            n = int.from_bytes(data[at : at + 4], "big")
            literals.append(data[at + 4 : at + 4 + n])
            at += 4 + n
        _write(_compile(literals, list(range(len(literals)))), target)
    finally:
        for leftover in (Path(listing), target.with_suffix(".building")):
            leftover.unlink(missing_ok=True)


def wait_for_merges(timeout: float = 120.0) -> None:
    """Wait (at most ``timeout`` seconds) for the merged databases this process started building."""
    deadline = time.monotonic() + timeout
    for proc in _MERGES:
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return
    _MERGES.clear()


class RawFilter:
    """One Hyperscan database over the needles of a set of observations."""

    def __init__(self, needles: dict[int, Needles], *, use_cache: bool = True) -> None:
        by_literal: dict[bytes, list[int]] = {}
        nfc_obs: list[int] = []
        for obs_id, nd in needles.items():
            for lit in nd.values:
                by_literal.setdefault(lit, []).append(obs_id)
            if nd.needs_nfc:
                nfc_obs.append(obs_id)
        self.literals: list[bytes] = sorted(by_literal)
        # literal id -> observation ids; the special expressions' ids follow the literals
        self.targets: list[tuple[int, ...]] = [tuple(by_literal[lit]) for lit in self.literals]
        specials = [_ESCAPE_REGEX, _NOT_AN_OBJECT_START, _NOT_AN_OBJECT_END]
        self.targets.extend([(ALL,)] * 3)
        if nfc_obs:
            specials.extend(b"".join(b"\\x%02x" % byte for byte in seq) for seq in _NFC_TO_ASCII)
            self.targets.extend([tuple(nfc_obs)] * len(_NFC_TO_ASCII))
        self.expressions = self.literals
        self.compiled_from_cache = False
        self.dbs = self._databases(use_cache) if self.literals else []
        n = len(specials)
        self.special_db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self.special_db.compile(expressions=specials, ids=[len(self.literals) + k for k in range(n)], elements=n,
                                flags=[0] * n)  # fmt: skip

    def _databases(self, use_cache: bool) -> list[hyperscan.Database]:
        """The literals' databases: the merged one from the cache; else (many literals) ``SHARDS``
        databases split by a hash of each literal, built at once in child processes and cached (a changed
        indicator invalidates only its own shard), while the merged one is built in the background for
        the next sweep; else one database."""
        all_ids = list(range(len(self.literals)))
        merged = _cache_path(self.literals, all_ids)
        if use_cache:
            db = _load(merged)
            if db is not None:
                self.compiled_from_cache = True
                return [db]
        n = SHARDS if len(self.literals) >= MERGE_MIN else 1
        shards: list[tuple[list[bytes], list[int]]] = [([], []) for _ in range(n)]
        for ident, lit in enumerate(self.literals):
            exprs, ids = shards[zlib.crc32(lit) % n]
            exprs.append(lit)
            ids.append(ident)
        shards = [sh for sh in shards if sh[0]]
        paths = [_cache_path(*sh) for sh in shards] if n > 1 else [merged]
        dbs: list[hyperscan.Database | None] = [_load(p) for p in paths] if use_cache else [None] * len(paths)
        self.compiled_from_cache = all(db is not None for db in dbs)
        missing = [i for i, db in enumerate(dbs) if db is None]
        if use_cache and len(missing) > 1:
            # Hyperscan's compiler needs several times the finished database's memory, which the
            # allocator keeps after it returns: child processes pay that (two at a time) and leave files.
            try:
                paths[missing[0]].parent.mkdir(parents=True, exist_ok=True)
                ctx = multiprocessing.get_context("fork")
                with ctx.Pool(min(len(missing), os.cpu_count() or 1)) as pool:
                    pool.starmap(_compile_to, [(*shards[i], paths[i]) for i in missing])
            except OSError:
                pass
            for i in missing:
                dbs[i] = _load(paths[i])
        for i, db in enumerate(dbs):
            if db is None:
                dbs[i] = db = _compile(*shards[i])
                if use_cache:
                    _write(db, paths[i])
        if use_cache and n > 1:
            _merge_in_background(self.literals, merged)
        return [db for db in dbs if db is not None]

    def candidates(
        self, buf: bytes, start: int = 0, end: int | None = None, tally: list[int] | None = None
    ) -> Iterator[tuple[int, int, int, set[int]]]:
        """(line index within buf[start:end] (0-based), start, end, observation ids) for each candidate
        line, in order; positions are offsets in ``buf``. ``buf[start:end]`` holds whole lines (it is
        scanned in place, not copied); ``ALL`` in the ids means every observation. ``tally``, when
        given, receives ``[offset, newlines before it]``: how far the line count got, so the caller
        need only count the rest."""
        if end is None:
            end = len(buf)
        found: list[tuple[int, int]] = []
        append = found.append

        def on_match(ident: int, _from: int, to: int, _flags: int, _ctx: object) -> None:
            append((to, ident))

        view = memoryview(buf)[start:end] if start or end != len(buf) else buf
        for db in self.dbs:
            db.scan(view, match_event_handler=on_match)
        self.special_db.scan(view, match_event_handler=on_match)
        if tally is not None:
            tally[:] = [start, 0]
        if not found:
            return
        found.sort()
        targets = self.targets
        line_no = 0
        counted_to = start
        cur_start = -1
        cur_end = -1
        cur_ids: set[int] = set()
        cur_line = 0
        for to, ident in found:
            to += start
            if to - 1 > cur_end:  # the match ends on a later line (a line owns its newline)
                if cur_start >= 0:
                    yield cur_line, cur_start, cur_end, cur_ids
                line_start = buf.rfind(b"\n", start, to - 1) + 1 or start
                line_end = buf.find(b"\n", to - 1, end)
                if line_end < 0:
                    line_end = end
                line_no += buf.count(b"\n", counted_to, line_start)
                counted_to = line_start
                cur_line, cur_start, cur_end, cur_ids = line_no, line_start, line_end, set()
            cur_ids.update(targets[ident])
        if cur_start >= 0:
            yield cur_line, cur_start, cur_end, cur_ids
        if tally is not None:
            tally[:] = [counted_to, line_no]
